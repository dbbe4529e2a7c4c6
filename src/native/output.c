/*
 * The helper's side of the wire protocol (protocol.md): frames records as
 * [u32 total length][u16 type][u16 flags][payload], little-endian host
 * order, into a buffer that out_flush() writes to stdout. Must not block on
 * anything but stdout and must not drop a record silently: if the parent
 * stops reading, the helper exits rather than buffering without bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "output.h"

static uint8_t *buf;
static size_t len, cap;

static uint8_t *reserve(size_t n) {
  if (len + n > cap) {
    size_t want = cap ? cap * 2 : 1 << 20;
    while (want < len + n) want *= 2;
    if (want > (256u << 20)) { /* parent stuck for a long time: give up */
      _exit(ERR_INTERNAL);
    }
    buf = realloc(buf, want);
    if (!buf) _exit(ERR_INTERNAL);
    cap = want;
  }
  uint8_t *p = buf + len;
  len += n;
  return p;
}

static uint8_t *frame(uint16_t type, uint16_t flags, size_t payload) {
  uint8_t *p = reserve(8 + payload);
  uint32_t total = (uint32_t)(8 + payload);
  memcpy(p, &total, 4);
  memcpy(p + 4, &type, 2);
  memcpy(p + 6, &flags, 2);
  return p + 8;
}

#define PUT(p, off, v) do { __typeof__(v) _v = (v); memcpy((p) + (off), &_v, sizeof(_v)); } while (0)

/*
 * Samples wait here, in columns, and go out as one SAMPLES record (version 6)
 * before any other record and at every write. The reader copies each column
 * into a typed array in one step: decoding a 32-byte record per sample, and
 * the objects it made, were most of what the agent spent per sample. Written
 * before any other record, the samples keep their place in the stream: a
 * PROCESS, EXIT or KSYM record still comes after the samples before it and
 * before the sample it is for.
 *
 * STACK and COMM records are the exception: they go out at once, ahead of
 * the samples waiting here. A definition only has to come before the first
 * sample that uses its number, and the waiting samples use numbers defined
 * earlier, which a new definition never changes. Ending the run at each new
 * stack split a busy machine's 10 s of samples into a dozen records and as
 * many batches for the reader. A restart of the numbering (the reset flag)
 * does end the run: the samples before it use the old numbers.
 */
#define COL_MAX 16384u /* 28 bytes a sample, 56 with a trace context: a record stays under the reader's 1 MiB */
#define TRACE_ENTRY 28u /* u32 index, trace_id[16], span_id[8] */
static uint32_t col_n, col_traced;
static double col_time[COL_MAX];
static uint32_t col_pid[COL_MAX], col_tid[COL_MAX], col_cpu[COL_MAX], col_stack[COL_MAX], col_comm[COL_MAX];
static uint8_t col_trace[COL_MAX][TRACE_ENTRY];

static void columns_emit(void) {
  if (!col_n) return;
  uint32_t n = col_n;
  size_t c = 4ull * n;
  uint8_t *p = frame(REC_SAMPLES, 0, 8 + 8ull * n + 5 * c + (size_t)col_traced * TRACE_ENTRY);
  PUT(p, 0, n);
  PUT(p, 4, col_traced);
  p += 8;
  memcpy(p, col_time, 8ull * n); p += 8ull * n;
  memcpy(p, col_pid, c); p += c;
  memcpy(p, col_tid, c); p += c;
  memcpy(p, col_cpu, c); p += c;
  memcpy(p, col_stack, c); p += c;
  memcpy(p, col_comm, c); p += c;
  memcpy(p, col_trace, (size_t)col_traced * TRACE_ENTRY);
  col_n = col_traced = 0;
}

/* Every record but a sample: the samples before it go first. */
static uint8_t *begin_flagged(uint16_t type, uint16_t flags, size_t payload) {
  columns_emit();
  return frame(type, flags, payload);
}

static uint8_t *begin(uint16_t type, size_t payload) { return begin_flagged(type, 0, payload); }

void out_header(void) {
  uint8_t *p = reserve(16);
  PUT(p, 0, (uint32_t)PROTO_MAGIC);
  PUT(p, 4, (uint16_t)PROTO_VERSION);
  PUT(p, 6, (uint16_t)16);
  PUT(p, 8, (uint32_t)getpid());
  PUT(p, 12, (uint32_t)0);
}

void out_ready(uint32_t hz, uint32_t cpus, int64_t wall_offset_ns, int32_t fsbase_offset, uint32_t flags) {
  uint8_t *p = begin(REC_READY, 32);
  PUT(p, 0, hz);
  PUT(p, 4, cpus);
  PUT(p, 8, wall_offset_ns);
  PUT(p, 16, fsbase_offset);
  PUT(p, 20, flags);
  PUT(p, 24, (uint32_t)USTACK_MAX);
  PUT(p, 28, (uint32_t)KSTACK_MAX);
}

void out_sample(const uint8_t *r, uint64_t wall_ns, uint32_t stack_id, uint32_t comm_id) {
  static const uint8_t zeros[16];
  if (col_n == COL_MAX) columns_emit();
  uint32_t i = col_n++;
  /* Milliseconds with the microseconds as the fraction, exact in a double until 2255. */
  col_time[i] = (double)(wall_ns / 1000) / 1000.0;
  memcpy(&col_pid[i], r + BREC_TGID, 4);
  memcpy(&col_tid[i], r + BREC_TID, 4);
  memcpy(&col_cpu[i], r + BREC_CPU, 4);
  col_stack[i] = stack_id;
  col_comm[i] = comm_id;
  if (r[BREC_OTEL_VALID] != 0 && memcmp(r + BREC_OTEL, zeros, 16) != 0) {
    uint8_t *t = col_trace[col_traced++];
    memcpy(t, &i, 4);
    memcpy(t + 4, r + BREC_OTEL, 24);
  }
}

void out_stack(uint32_t id, uint32_t pid, uint32_t flags, const uint64_t *user, uint32_t nu, const uint64_t *kernel, uint32_t nk) {
  size_t len = 16 + 8u * (nu + nk);
  uint8_t *p = (flags & STACK_FLAG_RESET) ? begin(REC_STACK, len) : frame(REC_STACK, 0, len);
  PUT(p, 0, id);
  PUT(p, 4, pid);
  PUT(p, 8, (uint16_t)nu);
  PUT(p, 10, (uint16_t)nk);
  PUT(p, 12, flags);
  memcpy(p + 16, user, 8u * nu);
  memcpy(p + 16 + 8u * nu, kernel, 8u * nk);
}

void out_comm(uint32_t id, const char comm[16]) {
  uint8_t *p = frame(REC_COMM, 0, 20); /* never ends the run: see columns_emit */
  PUT(p, 0, id);
  memcpy(p + 4, comm, 16);
}

void out_stats(uint64_t samples, uint64_t lost, uint64_t errors, uint64_t followed, uint64_t cpu_ns, uint64_t wall_ns, uint16_t flags) {
  uint8_t *p = begin_flagged(REC_STATS, flags, 48);
  PUT(p, 0, samples);
  PUT(p, 8, lost);
  PUT(p, 16, errors);
  PUT(p, 24, followed);
  PUT(p, 32, cpu_ns);
  PUT(p, 40, wall_ns);
}

void out_error(uint32_t code, int32_t err, const char *message) {
  size_t n = strlen(message);
  uint8_t *p = begin(REC_ERROR, 8 + n);
  PUT(p, 0, code);
  PUT(p, 4, err);
  memcpy(p + 8, message, n);
}

void out_tls(uint32_t pid, int64_t offset) {
  uint8_t *p = begin(REC_TLS, 16);
  PUT(p, 0, pid);
  PUT(p, 4, (uint32_t)0);
  PUT(p, 8, offset);
}

void out_exit(uint32_t pid, uint64_t start_ticks) {
  uint8_t *p = begin(REC_EXIT, 16);
  PUT(p, 0, pid);
  PUT(p, 4, (uint32_t)0);
  PUT(p, 8, start_ticks);
}

void out_process(uint32_t pid, uint32_t reason, uint32_t flags, uint64_t start_ticks, uint64_t wall_ns, uint32_t nspid,
                 const char comm[16], const char *maps, size_t maps_len, const char *perf_map) {
  size_t path_len = strlen(perf_map);
  uint8_t *p = begin(REC_PROCESS, 48 + maps_len + path_len);
  PUT(p, 0, pid);
  PUT(p, 4, (uint16_t)reason);
  PUT(p, 6, (uint16_t)flags);
  PUT(p, 8, start_ticks);
  PUT(p, 16, wall_ns);
  PUT(p, 24, nspid);
  PUT(p, 28, (uint32_t)maps_len);
  memcpy(p + 32, comm, 16);
  memcpy(p + 48, maps, maps_len);
  memcpy(p + 48 + maps_len, perf_map, path_len);
}

size_t out_pending(void) { return len + 28ull * col_n; }

int out_flush(void) {
  columns_emit();
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(1, buf + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break; /* keep the rest for the next turn */
      return -1;
    }
    done += (size_t)n;
  }
  memmove(buf, buf + done, len - done);
  len -= done;
  return 0;
}

void out_ksym(uint64_t addr, uint64_t start, const char *name, size_t name_len, const char *module, size_t module_len) {
  if (name_len > 0xffff) name_len = 0xffff;
  if (module_len > 0xffff) module_len = 0xffff;
  uint8_t *p = begin(REC_KSYM, 24 + name_len + module_len);
  PUT(p, 0, addr);
  PUT(p, 8, start);
  PUT(p, 16, (uint16_t)name_len);
  PUT(p, 18, (uint16_t)module_len);
  PUT(p, 20, (uint32_t)0);
  memcpy(p + 24, name, name_len);
  memcpy(p + 24 + name_len, module, module_len);
}
