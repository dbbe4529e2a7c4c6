/*
 * Writers of the helper's record stream (protocol.md): one buffered stdout,
 * flushed once per loop turn so a batch of samples is one write(2).
 * Must not decide anything about what to send; profctl-helper.c does.
 */
#ifndef PROFCTL_OUTPUT_H
#define PROFCTL_OUTPUT_H
#include <stdint.h>

void out_header(void);
void out_ready(uint32_t hz, uint32_t cpus, int64_t wall_offset_ns, int32_t fsbase_offset, uint32_t flags);
/* A sample, numbered stack and thread name: buffered in columns, written as part of a SAMPLES record. */
void out_sample(const uint8_t *bpf_record, uint64_t wall_ns, uint32_t stack_id, uint32_t comm_id);
void out_stack(uint32_t id, uint32_t pid, uint32_t flags, const uint64_t *user, uint32_t nu, const uint64_t *kernel, uint32_t nk);
void out_comm(uint32_t id, const char comm[16]);
void out_stats(uint64_t samples, uint64_t lost, uint64_t errors, uint64_t followed, uint64_t cpu_ns, uint64_t wall_ns, uint16_t flags);
void out_error(uint32_t code, int32_t err, const char *message);
void out_tls(uint32_t pid, int64_t offset);
void out_exit(uint32_t pid, uint64_t start_ticks);
void out_process(uint32_t pid, uint32_t reason, uint32_t flags, uint64_t start_ticks, uint64_t wall_ns, uint32_t nspid,
                 const char comm[16], const char *maps, size_t maps_len, const char *perf_map);
void out_ksym(uint64_t addr, uint64_t start, const char *name, size_t name_len, const char *module, size_t module_len);
size_t out_pending(void); /* bytes buffered, not yet written */
int out_flush(void); /* -1 when stdout is gone */
#endif
