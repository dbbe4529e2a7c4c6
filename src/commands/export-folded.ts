// The folded-stacks options of `profctl export` (and `flame --format
// folded`): stackcollapse-perf's --pid is the bare flag, while `--pid 1234`
// is the shared pid filter; --tid is always the bare flag. The export command
// turns them into exportFolded's options (src/profile/folded.ts), and
// select-profile.ts into the perf script reader's naming options.

/** stackcollapse-perf's --pid is `--pid` without a value; `--pid 1234` filters instead. */
export function foldedPrefixMode(options: Record<string, unknown>): { pid: boolean; tid: boolean } {
  return { pid: options.pid === true, tid: options.tid === true };
}
