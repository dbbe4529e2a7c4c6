// Evaluates one SLO against one SLI source: burn rates over the seven alert
// windows, budget remaining over the SLO window, status, and since when the
// current page/ticket condition has held (stepping back through the source's
// history). A failing source becomes an `error` on that SLO's result, never
// an exception that would take the other SLOs down. Does not render.
import {
  alertRules,
  burnRate,
  burnRatesOf,
  burnWindowMs,
  burnWindows,
  budgetRemaining,
  firingRules,
  hasTraffic,
  severity,
  statusOf,
  stepBackWhile,
  type AlertRule,
  type BurnWindow,
  type EventCounts,
  type Status,
} from './burn-rate.js';
import type { SloDefinition } from './definition.js';

/** Where an SLI's good and bad events come from (local spans, Prometheus). */
export interface SliMeasure {
  /** Bad and total events in each window (ms) ending at atMs. */
  countsAt(windowsMs: number[], atMs: number): Promise<EventCounts[]>;
  /**
   * The same at each of the times fromMs, fromMs + stepMs, …, toMs:
   * counts[timeIndex][windowIndex]. toMs - fromMs is a multiple of stepMs.
   */
  history(windowsMs: number[], fromMs: number, toMs: number, stepMs: number): Promise<{ times: number[]; counts: EventCounts[][] }>;
}

export interface SloEvaluation {
  slo: SloDefinition;
  burnRates: Record<BurnWindow, number> | null;
  /** Windows that saw no request at all (their burn rate is 0). */
  noTraffic: BurnWindow[];
  budgetRemaining: number | null;
  status: Status;
  /** The alert conditions that fire now. */
  firing: AlertRule[];
  burningSinceMs: number | null;
  /** True when the condition held as far back as the search looked. */
  burningSinceAtLimit: boolean;
  error?: string;
}

// How far back, and how finely, to look for the start of a condition: fine
// steps over recent hours first, coarser ones only if it held all along.
function searchPhases(sloWindowMs: number): Array<{ spanMs: number; stepMs: number }> {
  const phases = [
    { spanMs: 6 * 3_600_000, stepMs: 60_000 },
    { spanMs: 3 * 86_400_000, stepMs: 10 * 60_000 },
  ];
  if (sloWindowMs > 3 * 86_400_000) phases.push({ spanMs: sloWindowMs, stepMs: Math.max(30 * 60_000, Math.ceil(sloWindowMs / 2000 / 60_000) * 60_000) });
  return phases;
}

export async function evaluateSlo(slo: SloDefinition, measure: SliMeasure, nowMs: number): Promise<SloEvaluation> {
  try {
    const windows = [...burnWindows.map((w) => burnWindowMs[w]), slo.windowMs];
    const counts = await measure.countsAt(windows, nowMs);
    const byWindow = {} as Record<BurnWindow, EventCounts>;
    burnWindows.forEach((w, i) => (byWindow[w] = counts[i]!));
    const burnRates = burnRatesOf(byWindow, slo.objective);
    const status = statusOf(burnRates, slo.windowMs);
    const result: SloEvaluation = {
      slo,
      burnRates,
      noTraffic: burnWindows.filter((w) => !hasTraffic(byWindow[w])),
      budgetRemaining: budgetRemaining(counts[burnWindows.length]!, slo.objective),
      status,
      firing: firingRules(burnRates, slo.windowMs),
      burningSinceMs: null,
      burningSinceAtLimit: false,
    };
    if (status !== 'ok') {
      const since = await findBurningSince(slo, measure, nowMs, status);
      result.burningSinceMs = since.sinceMs;
      result.burningSinceAtLimit = since.reachedLimit;
    }
    return result;
  } catch (e) {
    return {
      slo,
      burnRates: null,
      noTraffic: [],
      budgetRemaining: null,
      status: 'ok',
      firing: [],
      burningSinceMs: null,
      burningSinceAtLimit: false,
      error: (e as Error).message,
    };
  }
}

/** When the condition of at least the current severity started, stepping back through history. */
export async function findBurningSince(slo: SloDefinition, measure: SliMeasure, nowMs: number, current: Status): Promise<{ sinceMs: number; reachedLimit: boolean }> {
  const rules = alertRules.filter((r) => severity[r.status] >= severity[current]);
  const needed = burnWindows.filter((w) => rules.some((r) => r.long === w || r.short === w));
  const windowsMs = needed.map((w) => burnWindowMs[w]);
  let found = { sinceMs: nowMs, reachedLimit: true };
  for (const phase of searchPhases(slo.windowMs)) {
    const steps = Math.floor(phase.spanMs / phase.stepMs);
    const fromMs = nowMs - steps * phase.stepMs;
    const { times, counts } = await measure.history(windowsMs, fromMs, nowMs, phase.stepMs);
    const at = new Map<number, EventCounts[]>();
    times.forEach((t, i) => at.set(t, counts[i]!));
    const holds = (t: number): boolean => {
      const c = at.get(t);
      if (!c) return false;
      const rates = Object.fromEntries(burnWindows.map((w) => [w, 0])) as Record<BurnWindow, number>;
      needed.forEach((w, i) => (rates[w] = burnRate(c[i]!, slo.objective)));
      return severity[statusOf(rates, slo.windowMs)] >= severity[current];
    };
    found = stepBackWhile(nowMs, phase.stepMs, fromMs, holds);
    if (!found.reachedLimit) return found;
  }
  return found;
}
