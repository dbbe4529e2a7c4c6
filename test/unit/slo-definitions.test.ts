// SLO definitions: the native form, OpenSLO v1 (inline indicator,
// indicatorRef, DataSource), multi-document YAML, the lookup order, and
// messages that name the file, the line, the SLO and the field.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSloDefinitions, readSloDefinitions, findConfigFile, configCandidates } from '../../src/slo/config-file.js';
import { windowedQuery } from '../../src/slo/openslo-form.js';
import { fillWindow } from '../../src/slo/definition.js';
import { parseDurationMs, formatDuration, formatRoughDuration } from '../../src/slo/duration.js';
import { BadInputError, UserError } from '../../src/errors.js';

const fixtures = join(__dirname, '../fixtures/slo');
const day = 86_400_000;

describe('durations', () => {
  it('parse Prometheus and OpenSLO spellings', () => {
    expect(parseDurationMs('300ms')).toBe(300);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('4w')).toBe(28 * day);
    expect(parseDurationMs('1M')).toBe(30 * day);
    expect(parseDurationMs('30')).toBe(30_000);
    expect(parseDurationMs('5 minutes')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });
  it('format as Prometheus ranges', () => {
    expect(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d', '1h30m'].map((d) => formatDuration(parseDurationMs(d)!))).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d', '1h30m']);
  });
  it('format ages and uptimes to two units at most', () => {
    const ms = [0, 961, 6980, 59_999, 750_400, 18_061_000, 3 * day + 5 * 3_600_000 + 61_000, 7 * day];
    expect(ms.map(formatRoughDuration)).toEqual(['0ms', '961ms', '6.98s', '1m', '12m30s', '5h1m', '3d5h', '7d']);
  });
});

describe('native form', () => {
  it('reads latency and Prometheus availability SLOs', () => {
    const slos = readSloDefinitions(join(fixtures, 'native.yaml'));
    expect(slos).toHaveLength(2);
    expect(slos[0]).toMatchObject({ name: 'checkout-latency', service: 'checkout', objective: 99, latencyMs: 300, windowMs: 30 * day, sli: { kind: 'spans' }, line: 3 });
    expect(slos[1]).toMatchObject({
      name: 'api-availability',
      objective: 99.9,
      windowMs: 7 * day,
      sli: { kind: 'prometheus', url: 'http://127.0.0.1:9090', timeoutMs: 3000, good: 'sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))' },
    });
    expect(slos[1]!.latencyMs).toBeUndefined();
    expect(fillWindow((slos[1]!.sli as { total: string }).total, '5m')).toBe('sum(rate(http_requests_total[5m]))');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['objective above 100', 'slos:\n  - name: a\n    service: s\n    objective: 101\n', /^x\.yaml:4: SLO "a": objective: must be a percentage/],
    ['objective as a string', 'slos:\n  - name: a\n    service: s\n    objective: "99"\n', /x\.yaml:4: SLO "a": objective:/],
    ['missing service', 'slos:\n  - name: a\n    objective: 99\n', /x\.yaml:2: SLO "a": service: is required/],
    ['bad latency', 'slos:\n  - name: a\n    service: s\n    objective: 99\n    latency: fast\n', /x\.yaml:5: SLO "a": latency: must be a duration/],
    ['a typo', 'slos:\n  - name: a\n    service: s\n    objetive: 99\n', /x\.yaml:4: SLO "a": objetive: unknown field/],
    ['no name', 'slos:\n  - service: s\n    objective: 99\n', /x\.yaml:2: slos\[0\]\.name: is required/],
    ['query without window', 'slos:\n  - name: a\n    service: s\n    objective: 99\n    prometheus:\n      url: http://p:9090\n      good: sum(rate(x[5m]))\n      total: sum(rate(y[{{.window}}]))\n', /x\.yaml:7: SLO "a": prometheus\.good: must contain \{\{\.window\}\}/],
    ['good and bad', 'slos:\n  - name: a\n    service: s\n    objective: 99\n    prometheus:\n      url: http://p:9090\n      good: a[{{.window}}]\n      bad: b[{{.window}}]\n      total: c[{{.window}}]\n', /SLO "a": prometheus\.good: give exactly one of good or bad/],
    ['no url', 'slos:\n  - name: a\n    service: s\n    objective: 99\n    prometheus:\n      good: a[{{.window}}]\n      total: c[{{.window}}]\n', /SLO "a": prometheus\.url: must be an http\(s\) URL/],
    ['duplicate names', 'slos:\n  - {name: a, service: s, objective: 99}\n  - {name: a, service: t, objective: 99}\n', /x\.yaml:3: SLO "a": name: defined twice \(first at line 2\)/],
    ['no SLOs', 'other: setting\n', /x\.yaml: defines no SLOs/],
    ['broken YAML', 'slos:\n  - name: [a\n', /x\.yaml:\d+: invalid YAML/],
  ];
  for (const [what, text, message] of bad) {
    it(`names the file, SLO and field: ${what}`, () => {
      let err: unknown;
      try {
        parseSloDefinitions('x.yaml', text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
      expect((err as BadInputError).exitCode).toBe(2);
    });
  }
});

describe('OpenSLO v1', () => {
  it('reads inline indicators, indicatorRef, DataSource URLs and several objectives', () => {
    const slos = readSloDefinitions(join(fixtures, 'openslo.yaml'));
    expect(slos.map((s) => [s.name, s.service, s.objective, s.windowMs / day])).toEqual([
      ['web-availability', 'web', 99.5, 28],
      ['search/fast-lane', 'search', 99, 30],
      ['search/strict', 'search', 99.9, 30],
    ]);
    expect(slos[0]!.sli).toEqual({
      kind: 'prometheus',
      url: 'http://prometheus.internal:9090',
      bad: 'sum(increase(http_requests_total{job="web",code=~"5.."}[{{.window}}]))',
      total: 'sum(increase(http_requests_total{job="web"}[{{.window}}]))',
      timeoutMs: 10_000,
    });
    expect(slos[1]!.sli).toMatchObject({ url: 'http://127.0.0.1:9091', good: 'sum(rate(search_requests_total{outcome="ok"}[{{.window}}]))' });
  });

  it('mixes with the native form in one multi-document file', () => {
    const text = `slos:\n  - {name: local, service: s, objective: 99, latency: 1s}\n---\n${'apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: o}\nspec:\n  service: s\n  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {type: Prometheus, spec: {url: "http://p:9090", query: "sum(rate(ok[{{.window}}]))"}}}\n        total: {metricSource: {type: Prometheus, spec: {url: "http://p:9090", query: "sum(rate(all[{{.window}}]))"}}}\n  objectives: [{target: 0.99}]\n'}`;
    expect(parseSloDefinitions('m.yaml', text).map((s) => s.name)).toEqual(['local', 'o']);
  });

  it('wraps window-less queries: counters in increase(), gauges in avg_over_time()', () => {
    expect(windowedQuery('x_total', true)).toBe('sum(increase(x_total[{{.window}}]))');
    expect(windowedQuery('sum(x_total{a="b"})', true)).toBe('sum(increase((sum(x_total{a="b"}))[{{.window}}:]))');
    expect(windowedQuery('queue_ok', false)).toBe('sum(avg_over_time(queue_ok[{{.window}}]))');
    expect(windowedQuery('sum(rate(x[{{.window}}]))', true)).toBe('sum(rate(x[{{.window}}]))');
  });

  const openBase = (indicator: string, extra = '') => `apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: o\nspec:\n  service: s\n${indicator}  objectives:\n    - target: 0.99\n${extra}`;
  const bad: Array<[string, string, RegExp]> = [
    ['no indicator', openBase(''), /SLO "o": spec\.indicator: is required/],
    ['threshold metric', openBase('  indicator:\n    spec:\n      thresholdMetric:\n        metricSource: {type: Prometheus, spec: {query: x}}\n'), /o\.yaml:9: SLO "o": spec\.indicator\.spec\.thresholdMetric: is not supported/],
    ['not Prometheus', openBase('  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {type: Datadog, spec: {query: x}}}\n        total: {metricSource: {type: Datadog, spec: {query: y}}}\n'), /SLO "o": spec\.indicator\.spec\.ratioMetric\.good\.metricSource\.type: only Prometheus/],
    ['no URL', openBase('  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {type: Prometheus, spec: {query: x}}}\n        total: {metricSource: {type: Prometheus, spec: {query: y}}}\n'), /SLO "o": spec\.indicator\.spec\.ratioMetric\.total\.metricSource: no Prometheus URL/],
    ['unknown DataSource', openBase('  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {metricSourceRef: nope, spec: {query: x}}}\n        total: {metricSource: {metricSourceRef: nope, spec: {query: y}}}\n'), /metricSourceRef: no kind: DataSource named "nope"/],
    ['unknown SLI', openBase('  indicatorRef: missing\n'), /o\.yaml:7: SLO "o": spec\.indicatorRef: no kind: SLI named "missing"/],
    ['target out of range', openBase('  indicatorRef: x\n').replace('target: 0.99', 'target: 99') + '---\napiVersion: openslo/v1\nkind: SLI\nmetadata: {name: x}\nspec:\n  ratioMetric:\n    good: {metricSource: {type: Prometheus, spec: {url: "http://p:1", query: a}}}\n    total: {metricSource: {type: Prometheus, spec: {url: "http://p:1", query: b}}}\n', /SLO "o": spec\.objectives\[0\]\.target: must be target in \(0, 1\)/],
    ['v1alpha', 'apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: o}\nspec: {}\n', /o\.yaml:1: apiVersion: "openslo\/v1alpha" is not supported/],
  ];
  for (const [what, text, message] of bad) {
    it(`names the file, SLO and field: ${what}`, () => {
      expect(() => parseSloDefinitions('o.yaml', text)).toThrow(message);
    });
  }
});

describe('lookup order', () => {
  const root = mkdtempSync(join(tmpdir(), 'profctl-slo-lookup-'));
  const cwd = join(root, 'work');
  const xdg = join(root, 'xdg');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(join(xdg, 'profctl'), { recursive: true });
  mkdirSync(join(home, '.config', 'profctl'), { recursive: true });

  it('lists ./profctl.yaml, then $XDG_CONFIG_HOME/profctl/config.yaml, else ~/.config', () => {
    expect(configCandidates({ cwd, env: { XDG_CONFIG_HOME: xdg }, home })).toEqual([join(cwd, 'profctl.yaml'), join(xdg, 'profctl', 'config.yaml')]);
    expect(configCandidates({ cwd, env: {}, home })[1]).toBe(join(home, '.config', 'profctl', 'config.yaml'));
  });

  it('takes --config first, then the first file that exists', () => {
    expect(() => findConfigFile({ cwd, env: { XDG_CONFIG_HOME: xdg }, home })).toThrow(UserError);
    expect(() => findConfigFile({ cwd, env: { XDG_CONFIG_HOME: xdg }, home })).toThrow(/no SLO definitions found/);
    writeFileSync(join(home, '.config', 'profctl', 'config.yaml'), 'slos: []\n');
    expect(findConfigFile({ cwd, env: {}, home })).toBe(join(home, '.config', 'profctl', 'config.yaml'));
    writeFileSync(join(xdg, 'profctl', 'config.yaml'), 'slos: []\n');
    expect(findConfigFile({ cwd, env: { XDG_CONFIG_HOME: xdg }, home })).toBe(join(xdg, 'profctl', 'config.yaml'));
    writeFileSync(join(cwd, 'profctl.yaml'), 'slos: []\n');
    expect(findConfigFile({ cwd, env: { XDG_CONFIG_HOME: xdg }, home })).toBe(join(cwd, 'profctl.yaml'));
    expect(findConfigFile({ cwd, config: join(fixtures, 'native.yaml') })).toBe(join(fixtures, 'native.yaml'));
    expect(() => findConfigFile({ cwd, config: 'missing.yaml' })).toThrow(/not found: missing\.yaml/);
  });
});
