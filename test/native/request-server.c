/* profctl ground-truth target for the sample<->span join: a thread-per-request
 * "server". Each worker thread runs requests one after another; a request has
 * a kind (sha, sort or parse) and burns CPU in that kind's own function
 * (kind_sha, kind_sort, kind_parse), after a short preamble in
 * request_prepare. Between requests a thread burns a little CPU in
 * between_requests (inside no span) and sleeps a little (off CPU).
 *
 * Every request is written, when it ends, as one OTLP JSON line (a TracesData
 * object, the Collector file exporter's format): resource service.name and
 * process.pid, a server span "GET /KIND" over the whole request and a child
 * span "KIND" over the burn, both with the attribute thread.id (gettid), times
 * in ns since the epoch (CLOCK_REALTIME) as strings. That file is the ground
 * truth of which thread ran which request when.
 *
 * Requests start at once: the sampler must know the process's TLS offset
 * by its first samples (it looks it up when the exec happens). Setting
 * REQUEST_SERVER_STARTUP_MS makes the main thread first spend that much CPU
 * in server_startup, as real servers do.
 *
 * Unless --no-context is given, the program also publishes the OpenTelemetry
 * thread context (TLS symbol otel_thread_ctx_v1) for the span each thread is
 * in, so a sampler that reads it tags samples with no span data at all.
 *
 * Work is measured in the thread's own CPU time, not wall time, so a request
 * burns the same CPU however loaded the machine is (its span just lasts
 * longer when the thread waits for a CPU).
 *
 * Usage: request-server THREADS REQUESTS_PER_THREAD SPANS_FILE [--no-context]
 * Build: cc -O1 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -pthread */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "otel-thread-ctx.h"

static int requests_per_thread;
static int publish_context = 1;
static FILE *spans_file;
static pthread_mutex_t spans_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *kind_names[] = { "sha", "sort", "parse" };

static uint64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* The three kinds of work, each until the thread's CPU clock reaches
 * until_ns. Each checks the clock only between rounds of a few hundred
 * microseconds, so almost every sample's leaf is the kind's own function. */
__attribute__((noinline)) static uint64_t kind_sha(uint64_t until_ns, uint64_t x) {
  uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  while (cpu_ns() < until_ns) {
    for (int r = 0; r < 20000; r++) {
      uint32_t t = h[7] + ((h[4] >> 6) | (h[4] << 26)) + ((h[4] & h[5]) ^ (~h[4] & h[6])) + (uint32_t)x + (uint32_t)r;
      uint32_t u = ((h[0] >> 2) | (h[0] << 30)) + ((h[0] & h[1]) ^ (h[0] & h[2]) ^ (h[1] & h[2]));
      h[7] = h[6]; h[6] = h[5]; h[5] = h[4]; h[4] = h[3] + t;
      h[3] = h[2]; h[2] = h[1]; h[1] = h[0]; h[0] = t + u;
    }
  }
  return x ^ h[0];
}

__attribute__((noinline)) static uint64_t kind_sort(uint64_t until_ns, uint64_t x) {
  uint32_t a[256];
  while (cpu_ns() < until_ns) {
    for (int i = 0; i < 256; i++) a[i] = (uint32_t)next_random(&x);
    for (int i = 1; i < 256; i++) { /* insertion sort: no library call */
      uint32_t v = a[i];
      int j = i - 1;
      while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
      a[j + 1] = v;
    }
    x += a[128];
  }
  return x;
}

__attribute__((noinline)) static uint64_t kind_parse(uint64_t until_ns, uint64_t x) {
  char text[4096];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (i % 7 == 6) ? ',' : (char)('0' + (i * 31 + x) % 10);
  while (cpu_ns() < until_ns) {
    for (int r = 0; r < 40; r++) {
      uint64_t field = 0;
      for (size_t i = 0; i < sizeof text; i++) {
        char c = text[i];
        if (c == ',') { x += field; field = 0; }
        else field = field * 10 + (uint64_t)(c - '0');
      }
      text[r] ^= 1;
    }
  }
  return x;
}

__attribute__((noinline)) static uint64_t request_prepare(uint64_t until_ns, uint64_t x) {
  while (cpu_ns() < until_ns)
    for (int i = 0; i < 20000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

__attribute__((noinline)) static uint64_t between_requests(uint64_t until_ns, uint64_t x) {
  while (cpu_ns() < until_ns)
    for (int i = 0; i < 20000; i++) x = x * 2862933555777941757ull + 3037000493ull;
  return x;
}

__attribute__((noinline)) static uint64_t server_startup(uint64_t until_ns, uint64_t x) {
  while (cpu_ns() < until_ns)
    for (int i = 0; i < 20000; i++) x = x * 3935559000370003845ull + 2691343689449507681ull;
  return x;
}

static void publish(struct otel_thread_ctx *ctx, const uint8_t trace[16], const uint8_t span[8]) {
  if (!publish_context) return;
  ctx->valid = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  memcpy(ctx->trace_id, trace, 16);
  memcpy(ctx->span_id, span, 8);
  ctx->trace_flags = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  ctx->valid = 1;
  __atomic_store_n(&otel_thread_ctx_v1, ctx, __ATOMIC_RELEASE);
}

static void unpublish(void) {
  if (publish_context) __atomic_store_n(&otel_thread_ctx_v1, NULL, __ATOMIC_RELEASE);
}

static void hex(char *out, const uint8_t *bytes, int n) {
  for (int i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", bytes[i]);
}

static void write_request(pid_t tid, int kind, const uint8_t trace[16], const uint8_t root[8], const uint8_t child[8],
                          uint64_t start, uint64_t child_start, uint64_t child_end, uint64_t end) {
  char t[33], r[17], c[17];
  hex(t, trace, 16);
  hex(r, root, 8);
  hex(c, child, 8);
  pthread_mutex_lock(&spans_lock);
  fprintf(spans_file,
          "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
          "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"request-server\"}},"
          "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"%d\"}}]},"
          "\"scopeSpans\":[{\"scope\":{\"name\":\"request-server\"},\"spans\":["
          "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"name\":\"GET /%s\",\"kind\":2,"
          "\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\","
          "\"attributes\":[{\"key\":\"thread.id\",\"value\":{\"intValue\":\"%d\"}},{\"key\":\"request.kind\",\"value\":{\"stringValue\":\"%s\"}}]},"
          "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\",\"name\":\"%s\",\"kind\":1,"
          "\"startTimeUnixNano\":\"%llu\",\"endTimeUnixNano\":\"%llu\","
          "\"attributes\":[{\"key\":\"thread.id\",\"value\":{\"intValue\":\"%d\"}}]}]}]}]}\n",
          (int)getpid(), t, r, kind_names[kind], (unsigned long long)start, (unsigned long long)end, (int)tid, kind_names[kind],
          t, c, r, kind_names[kind], (unsigned long long)child_start, (unsigned long long)child_end, (int)tid);
  pthread_mutex_unlock(&spans_lock);
}

static void *worker(void *arg) {
  (void)arg;
  struct otel_thread_ctx *ctx = calloc(1, sizeof(*ctx));
  pid_t tid = (pid_t)syscall(SYS_gettid);
  uint64_t seed = wall_ns() ^ ((uint64_t)tid << 32) ^ 0x9e3779b97f4a7c15ull, x = 1;
  for (int n = 0; n < requests_per_thread; n++) {
    uint64_t ids[4] = { next_random(&seed), next_random(&seed), next_random(&seed), next_random(&seed) };
    uint8_t trace[16], root[8], child[8];
    memcpy(trace, ids, 16);
    memcpy(root, ids + 2, 8);
    memcpy(child, ids + 3, 8);
    int kind = (int)(next_random(&seed) % 3);
    /* Mostly short requests, one in eight long: the longest traces stand out. */
    uint64_t burn_ms = next_random(&seed) % 8 == 0 ? 150 + next_random(&seed) % 150 : 10 + next_random(&seed) % 50;

    uint64_t start = wall_ns();
    publish(ctx, trace, root);
    x = request_prepare(cpu_ns() + 1000000ull, x);
    uint64_t child_start = wall_ns();
    publish(ctx, trace, child);
    uint64_t until = cpu_ns() + burn_ms * 1000000ull;
    if (kind == 0) x = kind_sha(until, x);
    else if (kind == 1) x = kind_sort(until, x);
    else x = kind_parse(until, x);
    publish(ctx, trace, root);
    uint64_t child_end = wall_ns();
    unpublish();
    uint64_t end = wall_ns();
    write_request(tid, kind, trace, root, child, start, child_start, child_end, end);

    x = between_requests(cpu_ns() + (1 + next_random(&seed) % 3) * 1000000ull, x);
    usleep(1000 + next_random(&seed) % 3000);
  }
  return (void *)(uintptr_t)(x & 1);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: request-server THREADS REQUESTS_PER_THREAD SPANS_FILE [--no-context]\n");
    return 2;
  }
  int threads = atoi(argv[1]);
  requests_per_thread = atoi(argv[2]);
  if (argc > 4 && strcmp(argv[4], "--no-context") == 0) publish_context = 0;
  spans_file = fopen(argv[3], "w");
  if (!spans_file || threads < 1 || threads > 64 || requests_per_thread < 1) return 2;
  const char *startup = getenv("REQUEST_SERVER_STARTUP_MS");
  uint64_t startup_ns = (startup ? strtoull(startup, 0, 10) : 0) * 1000000ull;
  if (server_startup(cpu_ns() + startup_ns, 1) == 42) fputc(' ', stderr);
  pthread_t t[64];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  fclose(spans_file);
  return 0;
}
