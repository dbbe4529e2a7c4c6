/* profctl system-test target: a thread-per-worker "server" that publishes the
 * OpenTelemetry thread context (TLS symbol otel_thread_ctx_v1) for the
 * request each thread is working on, burns CPU for the request, and logs
 * which thread ran which trace when, as ground truth:
 *   tls OFFSET                       (its own &otel_thread_ctx_v1 - thread pointer)
 *   req TID TRACE_HEX SPAN_HEX START_NS END_NS   (CLOCK_REALTIME)
 * Between requests each thread also burns CPU with no context published, so
 * a sample there must carry no trace id.
 * Usage: otel-requests THREADS SECONDS LOGFILE */
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

static double seconds;
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t burn(uint64_t until_ns, uint64_t x) {
  while (wall_ns() < until_ns)
    for (int i = 0; i < 20000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *worker(void *arg) {
  (void)arg;
  struct otel_thread_ctx *ctx = calloc(1, sizeof(*ctx));
  pid_t tid = (pid_t)syscall(SYS_gettid);
  uint64_t seed = wall_ns() ^ ((uint64_t)tid << 32) ^ 0x9e3779b97f4a7c15ull, x = 1;
  uint64_t end = wall_ns() + (uint64_t)(seconds * 1e9);
  while (wall_ns() < end) {
    uint64_t ids[3] = { next_random(&seed), next_random(&seed), next_random(&seed) };
    ctx->valid = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    memcpy(ctx->trace_id, ids, 16);
    memcpy(ctx->span_id, ids + 2, 8);
    ctx->trace_flags = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    ctx->valid = 1;
    uint64_t start = wall_ns();
    __atomic_store_n(&otel_thread_ctx_v1, ctx, __ATOMIC_RELEASE);
    x = burn(start + (20 + next_random(&seed) % 60) * 1000000ull, x);
    __atomic_store_n(&otel_thread_ctx_v1, NULL, __ATOMIC_RELEASE);
    uint64_t stop = wall_ns();
    pthread_mutex_lock(&log_lock);
    fprintf(log_file, "req %d ", tid);
    for (int i = 0; i < 16; i++) fprintf(log_file, "%02x", ctx->trace_id[i]);
    fputc(' ', log_file);
    for (int i = 0; i < 8; i++) fprintf(log_file, "%02x", ctx->span_id[i]);
    fprintf(log_file, " %llu %llu\n", (unsigned long long)start, (unsigned long long)stop);
    pthread_mutex_unlock(&log_lock);
    x = burn(wall_ns() + 5000000ull, x); /* work outside any request */
  }
  return (void *)(uintptr_t)(x & 1);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: otel-requests THREADS SECONDS LOGFILE\n"); return 2; }
  int threads = atoi(argv[1]);
  seconds = atof(argv[2]);
  log_file = fopen(argv[3], "w");
  if (!log_file || threads < 1 || threads > 64) return 2;
  fprintf(log_file, "tls %ld\n", (long)((char *)&otel_thread_ctx_v1 - (char *)__builtin_thread_pointer()));
  pthread_t t[64];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  fclose(log_file);
  return 0;
}
