// The ring-buffer store: where the agent and `record` put samples and spans,
// and where every reading command finds them when no --input is given.
// It must not sample, symbolize or render; it keeps what it is handed.
//
// LOCATION
//   resolveStoreDir(flag?) → `--store DIR`, else $PROFCTL_STORE, else
//   /var/lib/profctl. Directories are created 0755 and files 0644 whatever the
//   umask: root writes, everyone reads, nothing is world-writable. A reader
//   that cannot read gets a UserError saying why (owner, mode) and what to do.
//
//   DIR/segments/<UTC hour of toMs>/<fromMs>-<toMs>-g<gen>-<rand>.seg
//                                                    one per flush window, in a
//                                                    directory per hour (2026-11-28T14)
//   DIR/tables/g<gen>.frames, g<gen>.stacks          shared, append-only
//   DIR/agent-status.json                             rewritten every flush
//   DIR/writer.lock                                   symlink to the pid of the one writer
//
// WRITING (one writer per store; a second gets a UserError naming the first)
//   const w = openStoreWriter(dir, { maxSizeBytes, retentionMs, onWarning });
//   w.appendSegment({ startMs, endMs, profile, spans })   // or samples: StoredSample[] + sampleTypes
//     → { file, bytes, samples, spans, newFrames, newStacks, generation }
//   w.enforceBounds()   // call after each append: retention, then the cap
//   w.close()
//   Each append writes new frames/stacks to the tables (fsync) and then the
//   segment (temp file, fsync, rename, fsync dir): a crash loses at most the
//   current window, and no segment ever names a table entry not on disk.
//   A segment keeps every sample's time (1 ms; `timeResolutionUs`), pid, tid,
//   thread, process, labels (trace_id/span_id…), stack and values, and the
//   window's spans. Bounds: whole segments are deleted, oldest first (no
//   downsampling); tables start a new generation daily or when they pass 1/8
//   of the cap and are deleted with the last segment that uses them.
//
// READING (no locks, nothing written; many readers alongside the writer)
//   const r = openStoreReader(dir, { onWarning });
//   r.segments(fromMs, toMs)            // from names only, oldest first; hour
//                                       // directories over before fromMs unread
//   await r.readProfile({ fromMs, toMs, pids, comms, services, aggregate })
//     aggregate: false (default) → one Sample per stored sample, with
//       timeMs, pid, tid, thread, process and labels (for span joins);
//     aggregate: true → samples summed per (pid, tid, thread, process,
//       labels, stack), no timeMs: what top/flame/export want, fast over days.
//   await r.readSpans({ fromMs, toMs, services, traceIds })  // overlapping spans
//   r.stats() → { path, sizeBytes, segments, tablesBytes, oldestMs, newestMs, gaps }
//   Only segments whose names overlap the range are opened. A truncated,
//   corrupt or unknown-version segment is skipped and named in onWarning;
//   reads never throw for a segment's contents.
//
// AGENT STATUS
//   writeAgentStatus(dir, status) / readAgentStatus(dir) → status + running.

export { resolveStoreDir, DEFAULT_STORE_DIR } from './layout.js';
export { openStoreWriter } from './writer.js';
export type { StoreWriter, StoreWriterOptions, SegmentData, StoredSample, AppendResult, BoundsResult } from './writer.js';
export { openStoreReader } from './reader.js';
export type { StoreReader, StoreReaderOptions, ProfileQuery, SpanQuery, SegmentInfo, StoreStats } from './reader.js';
export { writeAgentStatus, readAgentStatus } from './agent-status.js';
export type { AgentStatus, AgentStatusRead } from './agent-status.js';
