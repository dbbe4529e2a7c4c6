// pprof (profile.proto) reading and writing: the reader lives in
// pprof-decode.ts, the writer in pprof-encode.ts, the wire primitives in
// pprof-wire.ts. This module is the stable import path for both.
export { decodePprof, frameKindOf, PID_LABEL, TID_LABEL, PROCESS_LABEL, THREAD_LABEL, TIMESTAMP_LABEL } from './pprof-decode.js';
export { encodePprof, type EncodePprofOptions } from './pprof-encode.js';
