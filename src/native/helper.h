/*
 * profctl-helper: shared declarations of the sampling helper.
 *
 * The helper is the only native code in profctl. It loads a BPF program
 * (built in bpf-program.c as a struct bpf_insn array, no clang, no libbpf),
 * attaches it to one cpu-clock perf event per online CPU, and streams raw
 * samples to its parent on stdout in the record format of protocol.md.
 * It must not symbolize (beyond asking the kernel for the names of its own
 * addresses, kernel-names.c), store or filter beyond what the BPF program
 * does: everything else is TypeScript.
 */
#ifndef PROFCTL_HELPER_H
#define PROFCTL_HELPER_H

#include <stdint.h>
#include <stddef.h>

/* Wire protocol (see protocol.md). Bump PROTO_VERSION on any change. */
#define PROTO_MAGIC 0x4c544350u /* "PCTL" little-endian */
#define PROTO_VERSION 7 /* 2 added PROCESS records, 3 KSYM records, 4 STACK, COMM and SAMPLE_REF, 5 the batch command, 6 SAMPLES, 7 EXIT; framing unchanged */
enum record_type {
  REC_READY = 1,  /* attached and sampling */
  REC_SAMPLE = 2, /* one sample with its stacks (versions 1-3; now SAMPLE_REF) */
  REC_STATS = 3,  /* cumulative counters, about once a second */
  REC_ERROR = 4,  /* fatal: stable code, errno, message; then exit */
  REC_TLS = 5,    /* a process's otel_thread_ctx_v1 TLS offset was found */
  REC_PROCESS = 6,/* a process's identity and executable mappings (process-table.c) */
  REC_KSYM = 7,   /* the kernel's name for a kernel address (kernel-names.c) */
  REC_STACK = 8,  /* a numbered stack (stack-table.c) */
  REC_COMM = 9,   /* a numbered thread name (stack-table.c) */
  REC_SAMPLE_REF = 10, /* one sample naming its stack and comm by number (version 4-5; now SAMPLES) */
  REC_SAMPLES = 11, /* a run of samples in columns, naming stacks and comms by number (version 6) */
  REC_EXIT = 12,    /* a process the helper had sent a PROCESS record for is gone (version 7) */
};
#define STACK_FLAG_RESET 1u /* numbering restarted: earlier STACK numbers are void */
#define STATS_FLAG_BATCH 1u /* STATS record flag: the answer to a `batch` command, after every sample read before it */
#define READY_FLAG_TLS 1u          /* trace-context reading is on */
#define READY_FLAG_KERNEL_NAMES 2u /* kernel frames come with KSYM records */

/* PROCESS record reasons and flags. */
enum process_reason { PROC_NEW = 1, PROC_EXEC = 2, PROC_MAPS_CHANGED = 3 };
#define PROC_FLAG_SAME_ROOT 1u /* the process sees the helper's root: its paths are host paths */

/* Stable failure codes: the helper's exit status and REC_ERROR's code. */
enum helper_error {
  ERR_NONE = 0,
  ERR_PERMISSION = 10,    /* EPERM/EACCES from bpf(2) or perf_event_open */
  ERR_BPF_DISABLED = 11,  /* bpf(2) is ENOSYS: kernel built without BPF */
  ERR_KERNEL_TOO_OLD = 12,/* a map type, program type or helper is missing */
  ERR_VERIFIER = 13,      /* the verifier rejected the program (log in msg) */
  ERR_PERF_EVENT = 14,    /* the cpu-clock event could not be opened */
  ERR_USAGE = 15,         /* bad command-line arguments */
  ERR_BTF = 16,           /* kernel BTF unreadable (only needed for TLS) */
  ERR_INTERNAL = 17,      /* anything else (I/O, mmap) */
};

/* Layout of the record the BPF program builds in its per-CPU scratch value
 * (BREC_SIZE bytes) and copies into the ring buffer, cut to what it holds:
 * the fixed part, then the kernel stack's BREC_KSTACK_RC bytes, then the user
 * stack's BREC_USTACK_RC bytes right after them (a negative rc: none). Most
 * stacks are far shorter than the maximum, so a record is a few hundred bytes
 * instead of BREC_SIZE. */
#define KSTACK_MAX 64
#define USTACK_MAX 127
#define BREC_TIME 0      /* u64 CLOCK_MONOTONIC ns */
#define BREC_TGID 8      /* u32 */
#define BREC_TID 12      /* u32 */
#define BREC_CPU 16      /* u32 */
#define BREC_USTACK_RC 20/* s32: bytes of user stack, or -errno */
#define BREC_KSTACK_RC 24/* s32: bytes of kernel stack, or -errno */
#define BREC_COMM 32     /* char[16] */
#define BREC_OTEL 48     /* trace_id[16] span_id[8] valid u8 flags u8 attrs u16 */
#define BREC_OTEL_LEN 28
#define BREC_OTEL_VALID (BREC_OTEL + 24)
#define BREC_KSTACK 80   /* first byte of the kernel stack, and the size of the fixed part */
#define BREC_SIZE (BREC_KSTACK + KSTACK_MAX * 8 + USTACK_MAX * 8)

/* Task events the tracepoint programs write into the same ring buffer
 * (told apart from samples by their size): u64 time, u32 tgid, u32 kind. */
#define TEV_SIZE 16
#define TEV_TGID 8
#define TEV_KIND 12
enum task_event_kind { TEV_EXEC = 1, TEV_EXIT = 2 };

/* Counters in the per-CPU array map, summed by user space. */
enum counter_index { CNT_EMITTED = 0, CNT_LOST = 1, CNT_FOLLOWED = 2, CNT_COUNT = 4 };

/* Config map value: one entry, written once before attaching. */
struct helper_config {
  uint32_t filter_by_tgid; /* 0: every process; 1: only tgids in targets */
  uint32_t fsbase_offset;  /* byte offset of thread.fsbase in task_struct */
  uint32_t tgid_offset;    /* byte offset of tgid in task_struct */
  uint32_t wake_bytes;     /* a known process's sample wakes the reader once the ring holds this much */
  uint32_t kernel_user_walk; /* 1: user stacks from bpf_get_stack even where the sampler can walk them itself */
};
#define TARGET_FOLLOW 1u /* targets value flag: add forked children too */

struct bpf_maps {
  int config, targets, tls, counters, events;
  int scratch; /* per-CPU BREC_SIZE bytes: a sample's record is built here, then copied out at its length */
  int pids; /* two bits per tgid (PID_BIT_*), 32 tgids to a u64 value at index tgid / 32 */
};
/* pctl_pids: an array, so that the sampler's lookup is inlined by the
 * verifier (a hash lookup cost about a microsecond a sample on a virtual
 * machine, and the sampler made two). Sized for PID_MAX_LIMIT on 64-bit
 * Linux (2^22): 1 MiB. */
#define PCTL_PID_LIMIT (1u << 22)
#define PID_BITS_WORDS (PCTL_PID_LIMIT / 32)
#define PID_BIT_KNOWN 1u /* the helper has seen the process: its samples need not wake it */
#define PID_BIT_TLS 2u   /* the process has an entry in pctl_tls */

struct loaded_programs {
  int sample_prog;  /* BPF_PROG_TYPE_PERF_EVENT */
  int newtask_prog; /* BPF_PROG_TYPE_RAW_TRACEPOINT on task_newtask */
  int exec_prog;    /* ... on sched_process_exec: a TEV_EXEC event */
  int exit_prog;    /* ... on sched_process_exit (the leader only): a TEV_EXIT event */
  int exit_group_prog; /* ... on sched_process_exit (its last thread, by group_dead): tried first */
};

/* The kernel namer: a syscall program run with BPF_PROG_TEST_RUN. */
#define KNAME_BATCH 16  /* addresses per run (the context: u64[KNAME_BATCH]) */
#define KNAME_SLOT 256  /* bytes of "%pS" text per address */
struct kernel_namer {
  int fmt_map, out_map, prog;
};

/* bpf-program.c */
int load_kernel_namer(struct kernel_namer *kn, char *msg, size_t msglen);
int create_maps(struct bpf_maps *maps, uint32_t ringbuf_bytes, char *msg, size_t msglen);
int load_programs(const struct bpf_maps *maps, struct loaded_programs *progs, char *msg, size_t msglen);
long sys_bpf(int cmd, void *attr, unsigned int size);
int errno_to_error(int err);

/* btf-offsets.c */
struct task_offsets {
  int64_t fsbase; /* task_struct.thread.fsbase, -1 if not found */
  int64_t tgid;   /* task_struct.tgid, -1 if not found */
};
int find_task_offsets(const char *btf_path, struct task_offsets *out, char *msg, size_t msglen);

/* kernel-names.c: KSYM records for the kernel addresses of samples */
int knames_init(char *msg, size_t msglen); /* 0: names on; else why not */
void knames_for_stack(const uint64_t *kstack, uint32_t n);
void knames_forget(void); /* names are sent again as they recur */

/* stack-table.c: numbers for stacks and comms (STACK and COMM records) */
void stacks_set_lifetime(uint64_t ms); /* how long numbers last before the tables start again */
void stacks_prepare(uint32_t frames, uint64_t now_ns); /* before a sample's numbers are taken */
uint32_t stacks_intern(uint32_t pid, uint32_t serial, const uint64_t *user, uint32_t nu, const uint64_t *kernel, uint32_t nk);
uint32_t comms_intern(const char comm[16]);

/* tls-offset.c: 1 found, 0 absent, -1 unreadable */
int find_otel_tls_offset(const char *elf_path, int64_t *offset);

/* How often a process's identity (start time, executable) and its TLS offset
 * are checked again, as a fallback for exec events: once a second, or every
 * 10 s when the exec events are attached (then it only covers an event lost
 * to a full ring). Defined in process-table.c, set by main. */
extern uint64_t exec_fallback_ns;

/* process-table.c: snapshots of sampled processes (PROCESS records) */
void procs_init(void);
/* Returns the process's serial: it changes whenever the meaning of its user
 * addresses may have (a PROCESS record went out, or the pid is a new process). */
uint32_t procs_on_sample(uint32_t pid, uint32_t tid, const char *comm, const uint64_t *ustack, uint32_t n_user,
                         uint64_t now_ns, int64_t wall_offset);
void procs_on_exec(uint32_t pid);
/* An exit event: the EXIT record waits for procs_send_exits. */
void procs_on_exit(uint32_t pid, uint64_t event_ns);
/* Sends the EXIT records of exit events fired by this time (CLOCK_MONOTONIC),
 * after every sample read so far. */
void procs_send_exits(uint64_t fired_by_ns);
void procs_sweep(void);
uint64_t procs_snapshots_sent(void);
uint32_t procs_tracked(void);

#endif
