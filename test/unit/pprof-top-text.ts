// Reads what `go tool pprof -top` and `-tags` print, so tests can compare
// profctl's numbers with pprof's, function by function.

export interface PprofTopLine {
  name: string;
  flat: string;
  cum: string;
}

/** The rows of `go tool pprof -top` text: name (without the (inline) note) and the printed flat/cum values. */
export function parsePprofTop(text: string): PprofTopLine[] {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%/.test(l));
  if (head < 0) throw new Error('no pprof -top header found');
  const rows: PprofTopLine[] = [];
  for (const line of lines.slice(head + 1)) {
    const m = /^\s*(\S+)\s+\S+%\s+\S+%\s+(\S+)\s+\S+%\s+(.+?)(?: \((?:partial-)?inline\))?$/.exec(line);
    if (m) rows.push({ flat: m[1]!, cum: m[2]!, name: m[3]! });
  }
  return rows;
}

const SCALE: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** Does our raw value (ns or bytes or count) print as pprof's text does? Compared at pprof's precision. */
export function samePrinted(ours: number, printed: string): boolean {
  if (printed === '0') return ours === 0;
  const m = /^(-?[\d.]+)([a-zµA-Z]*)$/.exec(printed);
  if (!m) throw new Error(`cannot read pprof value ${printed}`);
  const scale = m[2] === '' ? 1 : SCALE[m[2]!];
  if (scale === undefined) throw new Error(`unknown unit in ${printed}`);
  const decimals = m[1]!.includes('.') ? m[1]!.split('.')[1]!.length : 0;
  return (ours / scale).toFixed(decimals) === Number(m[1]).toFixed(decimals);
}

/** `go tool pprof -tags` text: key → value → printed amount. */
export function parsePprofTags(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const key = /^\s*(\S+): Total/.exec(line);
    if (key) {
      current = new Map();
      out.set(key[1]!, current);
      continue;
    }
    const val = /^\s*(\S+) \(\s*[\d.]+%\): (.+)$/.exec(line);
    if (val && current) current.set(val[2]!, val[1]!);
  }
  return out;
}
