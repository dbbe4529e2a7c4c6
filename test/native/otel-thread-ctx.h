/* The OpenTelemetry thread-context record the profctl sampler reads from a
 * thread's memory at sample time, as the test programs publish it: the TLS
 * symbol otel_thread_ctx_v1 points at the record of the span the thread is
 * in (or is NULL / invalid between spans). */
#ifndef PROFCTL_TEST_OTEL_THREAD_CTX_H
#define PROFCTL_TEST_OTEL_THREAD_CTX_H
#include <stdint.h>

struct otel_thread_ctx {
  uint8_t trace_id[16];
  uint8_t span_id[8];
  uint8_t valid;
  uint8_t trace_flags;
  uint16_t attrs_size;
};

__attribute__((used)) __thread struct otel_thread_ctx *otel_thread_ctx_v1;

#endif
