/*
 * The BPF side of profctl-helper: creates the maps and assembles, as plain
 * struct bpf_insn arrays, the two programs the helper loads with bpf(2):
 *
 *  - the sampler (BPF_PROG_TYPE_PERF_EVENT), run on every cpu-clock tick:
 *    drops the idle task and untracked processes, builds the sample's record
 *    in a per-CPU scratch value: time/pid/tid/cpu/comm, the kernel stack and,
 *    right after its used bytes, the user stack (walked here along the frame
 *    pointers for a 64-bit user-mode sample, else bpf_get_stack; no stack-id
 *    map, so no -EEXIST collisions), the OpenTelemetry thread context when
 *    user space registered a TLS offset for the process; then copies the
 *    record, cut to its length, into a BPF ring buffer (a fixed-size reserve
 *    wrote 1.6 KB of mostly unused, cache-cold ring memory per sample).
 *    A full ring buffer is counted as lost, never dropped silently.
 *  - the fork follower (BPF_PROG_TYPE_RAW_TRACEPOINT on task_newtask): when a
 *    tracked process with the follow flag creates a new process (not a
 *    thread), the child's tgid joins the targets map.
 *  - task-event programs (raw tracepoints on sched_process_exec and
 *    sched_process_exit) that put a 16-byte event into the samples' ring
 *    buffer, so the helper sees an exec in order with the samples around it
 *    (process-table.c). Exit comes in two forms: the last thread out, where
 *    the tracepoint passes group_dead (newer kernels), else the leader's exit.
 *  - the kernel namer (BPF_PROG_TYPE_SYSCALL, never attached: run on demand
 *    with BPF_PROG_TEST_RUN): formats KNAME_BATCH kernel addresses from its
 *    context with bpf_snprintf("%pS") into an array map (kernel-names.c).
 *
 * This file must not do I/O beyond bpf(2): attaching and reading live in
 * profctl-helper.c. Jumps are assembled with labels so offsets stay right.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

long sys_bpf(int cmd, void *attr, unsigned int size) {
  return syscall(__NR_bpf, cmd, attr, size);
}

int errno_to_error(int err) {
  if (err == EPERM || err == EACCES) return ERR_PERMISSION;
  if (err == ENOSYS) return ERR_BPF_DISABLED;
  if (err == EINVAL || err == EOPNOTSUPP || err == 524 /* kernel ENOTSUPP */) return ERR_KERNEL_TOO_OLD;
  return ERR_INTERNAL;
}

static int create_map_flags(int type, int key, int value, int entries, uint32_t flags, const char *name) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_type = type;
  a.map_flags = flags;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = entries;
  strncpy(a.map_name, name, sizeof(a.map_name) - 1);
  return (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
}
#define create_map(type, key, value, entries, name) create_map_flags(type, key, value, entries, 0, name)

int create_maps(struct bpf_maps *m, uint32_t ringbuf_bytes, char *msg, size_t msglen) {
  struct { int *fd; int type, key, value, entries; const char *name; } specs[] = {
    { &m->config, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct helper_config), 1, "pctl_config" },
    { &m->targets, BPF_MAP_TYPE_HASH, 4, 4, 65536, "pctl_targets" },
    { &m->tls, BPF_MAP_TYPE_HASH, 4, 8, 65536, "pctl_tls" },
    { &m->counters, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, CNT_COUNT, "pctl_counters" },
    { &m->events, BPF_MAP_TYPE_RINGBUF, 0, 0, (int)ringbuf_bytes, "pctl_events" },
    { &m->pids, BPF_MAP_TYPE_ARRAY, 4, 8, PID_BITS_WORDS, "pctl_pids" },
    { &m->scratch, BPF_MAP_TYPE_PERCPU_ARRAY, 4, BREC_SIZE, 1, "pctl_scratch" },
  };
  for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
    int fd = create_map(specs[i].type, specs[i].key, specs[i].value, specs[i].entries, specs[i].name);
    if (fd < 0) {
      int err = errno;
      snprintf(msg, msglen, "creating BPF map %s: %s", specs[i].name, strerror(err));
      return errno_to_error(err);
    }
    *specs[i].fd = fd;
  }
  return ERR_NONE;
}

/* ---- a tiny assembler: instructions plus label fix-ups ---- */

#define MAX_INSNS 3072
#define MAX_LABELS 24
#define MAX_FIXES 640
struct prog_buf {
  struct bpf_insn insn[MAX_INSNS];
  int n;
  int label_at[MAX_LABELS];
  int fix_at[MAX_FIXES], fix_label[MAX_FIXES], nfix;
  int overflow; /* more instructions or label fix-ups than the buffer holds */
};

static void emit(struct prog_buf *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n >= MAX_INSNS) { p->overflow = 1; return; } /* load_one refuses the program */
  struct bpf_insn *i = &p->insn[p->n++];
  memset(i, 0, sizeof(*i));
  i->code = code;
  i->dst_reg = dst;
  i->src_reg = src;
  i->off = off;
  i->imm = imm;
}
#define MOV64_REG(d, s) emit(p, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, v) emit(p, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, v)
#define ADD64_IMM(d, v) emit(p, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, v)
#define ADD64_REG(d, s) emit(p, BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define AND64_IMM(d, v) emit(p, BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, v)
#define RSH64_IMM(d, v) emit(p, BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, v)
#define RSH64_REG(d, s) emit(p, BPF_ALU64 | BPF_RSH | BPF_X, d, s, 0, 0)
#define LSH64_IMM(d, v) emit(p, BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0, v)
#define LDX(sz, d, s, o) emit(p, BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) emit(p, BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST_IMM(sz, d, o, v) emit(p, BPF_ST | BPF_MEM | (sz), d, 0, o, v)
#define CALL(fn) emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT() emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* Map fds go in as a two-slot BPF_LD_IMM64 with BPF_PSEUDO_MAP_FD. */
#define LD_MAP(d, fd) do { emit(p, BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd); emit(p, 0, 0, 0, 0, 0); } while (0)
/* r0 = the value of map fd under the key at stack slot key_slot, or NULL. Clobbers r1-r5. */
#define MAP_LOOKUP(fd, key_slot) do { LD_MAP(BPF_REG_1, fd); MOV64_REG(BPF_REG_2, BPF_REG_10); ADD64_IMM(BPF_REG_2, key_slot); CALL(BPF_FUNC_map_lookup_elem); } while (0)

static void jump(struct prog_buf *p, uint8_t op, uint8_t reg, int32_t imm, int label) {
  if (p->nfix >= MAX_FIXES) { p->overflow = 1; return; }
  p->fix_at[p->nfix] = p->n;
  p->fix_label[p->nfix++] = label;
  emit(p, BPF_JMP | op | BPF_K, reg, 0, 0, imm);
}
#define JEQ(r, v, l) jump(p, BPF_JEQ, r, v, l)
#define JNE(r, v, l) jump(p, BPF_JNE, r, v, l)
#define JGT(r, v, l) jump(p, BPF_JGT, r, v, l)
#define JA(l) jump(p, BPF_JA, 0, 0, l)
static void jump_reg(struct prog_buf *p, uint8_t op, uint8_t reg, uint8_t src, int label) {
  if (p->nfix >= MAX_FIXES) { p->overflow = 1; return; }
  p->fix_at[p->nfix] = p->n;
  p->fix_label[p->nfix++] = label;
  emit(p, BPF_JMP | op | BPF_X, reg, src, 0, 0);
}
#define JNE_REG(r, s, l) jump_reg(p, BPF_JNE, r, s, l)
#define JGT_REG(r, s, l) jump_reg(p, BPF_JGT, r, s, l)
#define MOV32_REG(d, s) emit(p, BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define LABEL(l) (p->label_at[l] = p->n)
/* The offset of a helper_config field in the config map's value. */
#define CONFIG_AT(field) ((int16_t)offsetof(struct helper_config, field))

static void resolve(struct prog_buf *p) {
  if (p->overflow) return;
  for (int i = 0; i < p->nfix; i++)
    p->insn[p->fix_at[i]].off = (int16_t)(p->label_at[p->fix_label[i]] - p->fix_at[i] - 1);
}

/* r0 = &counters[index] (this CPU) or jump to fail_label. Clobbers r1-r5. */
static void counter_add_one(struct prog_buf *p, const struct bpf_maps *m, int index, int fail_label) {
  ST_IMM(BPF_W, BPF_REG_10, -12, index);
  MAP_LOOKUP(m->counters, -12);
  JEQ(BPF_REG_0, 0, fail_label);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
  ADD64_IMM(BPF_REG_1, 1); /* per-CPU slot: the program cannot race itself */
  STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0);
}

enum { L_EXIT, L_PASS, L_HAVE, L_SUBMIT, L_WAKE, L_FORCE, L_KNONE, L_KLEN, L_LEN_KNONE, L_LEN_K, L_LEN_UNONE, L_LEN_U, L_SENT,
       L_UKERNEL, L_UDONE, L_UTASK, L_UWALK, L_KSTACK, L_KDONE, L_BITS };

/* r{reg} = the stack byte count stored at rc_off of the record (r9), or 0 when
 * negative (an error) or above max: bounds the verifier can follow. */
static void load_stack_len(struct prog_buf *p, int reg, int rc_off, int max, int none_label, int done_label) {
  LDX(BPF_W, reg, BPF_REG_9, rc_off); /* zero-extended: a negative rc is above max */
  JGT(reg, max, none_label);
  JA(done_label);
  LABEL(none_label);
  MOV64_IMM(reg, 0);
  LABEL(done_label);
}

/*
 * The user stack of a sample of 64-bit user code, walked along the frame
 * pointers here rather than by bpf_get_stack, which goes to L_UKERNEL for
 * every other sample (32-bit code, a kernel thread, config.kernel_user_walk
 * set, a machine other than x86-64). On entry the WALK_OUT slot points where
 * the stack goes, r6 is the context (the interrupted registers), r8 the
 * config, r9 the record; ends at L_UDONE with the stack's byte count in the
 * record's BREC_USTACK_RC. Clobbers r6.
 *
 * Why: the kernel's walk (perf_callchain_user) reads a frame at whatever the
 * last saved frame pointer holds, and that is 0 (glibc's _start clears it)
 * or garbage from code built without frame pointers, so nearly every walk
 * ends in a page fault that the uaccess fixup catches. On a virtual machine
 * that one fault was most of the sampler's cost: 6 of its 7 µs per sample,
 * measured with bpftrace's own programs (see bench/RESULTS.md). Here a frame
 * is read only where a frame can be: at or above the stack pointer, above
 * the last frame read, 8-byte aligned. That is what the kernel's newer
 * unwinder (kernel/unwind/user.c) asks of a frame too. It gives the same
 * stack as the kernel's walk while the chain is sound, and stops where that
 * walk would read a frame below the last: garbage, or a switch to a stack at
 * lower addresses (a coroutine's or sigaltstack's), whose frames are lost.
 * The same order as the kernel's: the sampled instruction pointer, then each
 * frame's return address (zero included), at most USTACK_MAX entries.
 */
#define PID_BITS_SLOT (-96) /* stack slot: the sampled process's pctl_pids bits, in the low two */
#define WALK_OUT (-88) /* stack slot: where the user stack goes in the record (build_sampler keeps it on every machine) */
#if defined(__x86_64__)
#define PT_REGS_BP 32   /* struct pt_regs (x86-64), the perf_event program's context */
#define PT_REGS_IP 128
#define PT_REGS_CS 136
#define PT_REGS_SP 152
#define USER_CS_64 0x33 /* __USER_CS: a 64-bit user-mode sample */
#define WALK_FP (-56)   /* stack slots: the next frame's address */
#define WALK_LO (-64)   /* the lowest address the next frame may have */
#define WALK_FRAME (-80) /* a frame read from user memory: saved frame pointer, return address */
#define PCTL_FUNC_GET_CURRENT_TASK_BTF 158 /* Linux 5.11 */
#define PCTL_FUNC_TASK_PT_REGS 175         /* Linux 5.15 */
/* The walk's start from the registers r{regs} points to: the leaf (ip) into the record, bp and sp into the walk's slots. */
static void walk_start(struct prog_buf *p, int regs) {
  LDX(BPF_DW, BPF_REG_2, BPF_REG_10, WALK_OUT);
  LDX(BPF_DW, BPF_REG_1, regs, PT_REGS_IP);
  STX(BPF_DW, BPF_REG_2, BPF_REG_1, 0);
  LDX(BPF_DW, BPF_REG_1, regs, PT_REGS_BP);
  STX(BPF_DW, BPF_REG_10, BPF_REG_1, WALK_FP);
  LDX(BPF_DW, BPF_REG_1, regs, PT_REGS_SP);
  STX(BPF_DW, BPF_REG_10, BPF_REG_1, WALK_LO);
}
/* kernel_mode: a sample taken in the kernel walks from the user registers
 * the task saved on entry (bpf_task_pt_regs), as the kernel's walk does; a
 * kernel thread or io_uring worker has none (its saved selector is 0) and
 * gets no user stack from bpf_get_stack either. */
static void walk_user_stack(struct prog_buf *p, int kernel_mode) {
  LDX(BPF_W, BPF_REG_1, BPF_REG_8, CONFIG_AT(kernel_user_walk));
  JNE(BPF_REG_1, 0, L_UKERNEL);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_6, PT_REGS_CS);
  AND64_IMM(BPF_REG_1, 0xffff); /* with FRED the word holds more than the selector */
  JNE(BPF_REG_1, USER_CS_64, kernel_mode ? L_UTASK : L_UKERNEL);
  walk_start(p, BPF_REG_6); /* the context's registers, a ctx access */
  if (kernel_mode) {
    JA(L_UWALK);
    LABEL(L_UTASK);
    CALL(PCTL_FUNC_GET_CURRENT_TASK_BTF);
    MOV64_REG(BPF_REG_1, BPF_REG_0);
    CALL(PCTL_FUNC_TASK_PT_REGS);
    LDX(BPF_DW, BPF_REG_1, BPF_REG_0, PT_REGS_CS);
    AND64_IMM(BPF_REG_1, 0xffff);
    JNE(BPF_REG_1, USER_CS_64, L_UKERNEL);
    walk_start(p, BPF_REG_0); /* a BTF pointer: the same loads, another instruction each */
    LABEL(L_UWALK);
  }
  LDX(BPF_DW, BPF_REG_6, BPF_REG_10, WALK_OUT);
  /* Unrolled: each step's slot is a constant offset, which the verifier
   * checks once per step without a loop to bound. */
  for (int k = 1; k < USTACK_MAX; k++) {
    ST_IMM(BPF_W, BPF_REG_9, BREC_USTACK_RC, k * 8); /* the stack's size if it ends here */
    LDX(BPF_DW, BPF_REG_3, BPF_REG_10, WALK_FP);
    LDX(BPF_DW, BPF_REG_1, BPF_REG_10, WALK_LO);
    JGT_REG(BPF_REG_1, BPF_REG_3, L_UDONE); /* below the stack pointer or the last frame (0 too) */
    MOV64_REG(BPF_REG_1, BPF_REG_3);
    AND64_IMM(BPF_REG_1, 7);
    JNE(BPF_REG_1, 0, L_UDONE);
    MOV64_REG(BPF_REG_1, BPF_REG_10);
    ADD64_IMM(BPF_REG_1, WALK_FRAME);
    MOV64_IMM(BPF_REG_2, 16);
    CALL(BPF_FUNC_probe_read_user); /* r3 = the frame */
    JNE(BPF_REG_0, 0, L_UDONE);
    LDX(BPF_DW, BPF_REG_1, BPF_REG_10, WALK_FRAME + 8);
    STX(BPF_DW, BPF_REG_6, BPF_REG_1, k * 8);
    LDX(BPF_DW, BPF_REG_1, BPF_REG_10, WALK_FP);
    ADD64_IMM(BPF_REG_1, 16);
    STX(BPF_DW, BPF_REG_10, BPF_REG_1, WALK_LO);
    LDX(BPF_DW, BPF_REG_1, BPF_REG_10, WALK_FRAME);
    STX(BPF_DW, BPF_REG_10, BPF_REG_1, WALK_FP);
  }
  ST_IMM(BPF_W, BPF_REG_9, BREC_USTACK_RC, USTACK_MAX * 8);
  JA(L_UDONE);
}
#else
static void walk_user_stack(struct prog_buf *p, int kernel_mode) { (void)p; (void)kernel_mode; }
#endif

static void build_sampler(struct prog_buf *p, const struct bpf_maps *m, int kernel_mode) {
  /* r6 = ctx, r7 = pid_tgid then tgid, r8 = config, r9 = record */
  MOV64_REG(BPF_REG_6, BPF_REG_1);
  CALL(BPF_FUNC_get_current_pid_tgid);
  MOV64_REG(BPF_REG_7, BPF_REG_0);
  MOV64_REG(BPF_REG_1, BPF_REG_7);
  RSH64_IMM(BPF_REG_1, 32);
  JEQ(BPF_REG_1, 0, L_EXIT); /* the idle task: not CPU anyone used */
  ST_IMM(BPF_W, BPF_REG_10, -4, 0);
  MAP_LOOKUP(m->config, -4);
  JEQ(BPF_REG_0, 0, L_EXIT);
  MOV64_REG(BPF_REG_8, BPF_REG_0);
  LDX(BPF_W, BPF_REG_1, BPF_REG_8, CONFIG_AT(filter_by_tgid));
  JEQ(BPF_REG_1, 0, L_PASS);
  MOV64_REG(BPF_REG_1, BPF_REG_7);
  RSH64_IMM(BPF_REG_1, 32);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -8);
  MAP_LOOKUP(m->targets, -8);
  JEQ(BPF_REG_0, 0, L_EXIT);
  LABEL(L_PASS);
  ST_IMM(BPF_W, BPF_REG_10, -12, 0);
  MAP_LOOKUP(m->scratch, -12);
  JNE(BPF_REG_0, 0, L_HAVE);
  JA(L_EXIT);
  LABEL(L_HAVE);
  MOV64_REG(BPF_REG_9, BPF_REG_0);
  CALL(BPF_FUNC_ktime_get_ns);
  STX(BPF_DW, BPF_REG_9, BPF_REG_0, BREC_TIME);
  STX(BPF_W, BPF_REG_9, BPF_REG_7, BREC_TID);
  RSH64_IMM(BPF_REG_7, 32);
  STX(BPF_W, BPF_REG_9, BPF_REG_7, BREC_TGID);
  CALL(BPF_FUNC_get_smp_processor_id);
  STX(BPF_W, BPF_REG_9, BPF_REG_0, BREC_CPU);
  MOV64_REG(BPF_REG_1, BPF_REG_9);
  ADD64_IMM(BPF_REG_1, BREC_COMM);
  MOV64_IMM(BPF_REG_2, 16);
  CALL(BPF_FUNC_get_current_comm);
#if defined(__x86_64__)
  /* A sample taken in user mode has no kernel stack (the kernel's walk adds
   * kernel frames only when !user_mode(regs)): the call, which costs about
   * as much as a map lookup, is skipped for it. */
  LDX(BPF_DW, BPF_REG_1, BPF_REG_6, PT_REGS_CS);
  AND64_IMM(BPF_REG_1, 3);
  JNE(BPF_REG_1, 3, L_KSTACK);
  MOV64_IMM(BPF_REG_0, 0);
  JA(L_KDONE);
  LABEL(L_KSTACK);
#endif
  MOV64_REG(BPF_REG_1, BPF_REG_6);
  MOV64_REG(BPF_REG_2, BPF_REG_9);
  ADD64_IMM(BPF_REG_2, BREC_KSTACK);
  MOV64_IMM(BPF_REG_3, KSTACK_MAX * 8);
  MOV64_IMM(BPF_REG_4, 0);
  CALL(BPF_FUNC_get_stack);
  LABEL(L_KDONE);
  STX(BPF_W, BPF_REG_9, BPF_REG_0, BREC_KSTACK_RC);
  /* The user stack goes right after the kernel stack's used bytes. */
  load_stack_len(p, BPF_REG_1, BREC_KSTACK_RC, KSTACK_MAX * 8, L_KNONE, L_KLEN);
  MOV64_REG(BPF_REG_2, BPF_REG_9);
  ADD64_REG(BPF_REG_2, BPF_REG_1);
  ADD64_IMM(BPF_REG_2, BREC_KSTACK);
  STX(BPF_DW, BPF_REG_10, BPF_REG_2, WALK_OUT);
  walk_user_stack(p, kernel_mode);
  LABEL(L_UKERNEL);
  LDX(BPF_DW, BPF_REG_2, BPF_REG_10, WALK_OUT);
  MOV64_REG(BPF_REG_1, BPF_REG_6);
  MOV64_IMM(BPF_REG_3, USTACK_MAX * 8);
  MOV64_IMM(BPF_REG_4, BPF_F_USER_STACK);
  CALL(BPF_FUNC_get_stack);
  STX(BPF_W, BPF_REG_9, BPF_REG_0, BREC_USTACK_RC);
  LABEL(L_UDONE);
  /* The scratch value keeps the last sample's bytes: clear the trace-context area. */
  MOV64_IMM(BPF_REG_1, 0);
  for (int o = BREC_OTEL; o < BREC_KSTACK; o += 8) STX(BPF_DW, BPF_REG_9, BPF_REG_1, o);
  /* The process's two bits in pctl_pids (an array lookup, which the verifier
   * inlines: no call): known to the helper, has a TLS offset. Kept at
   * PID_BITS_SLOT for the wakeup test below; 0 if the tgid is beyond the map. */
  ST_IMM(BPF_DW, BPF_REG_10, PID_BITS_SLOT, 0);
  MOV64_REG(BPF_REG_1, BPF_REG_7);
  RSH64_IMM(BPF_REG_1, 5);
  STX(BPF_W, BPF_REG_10, BPF_REG_1, -16);
  MAP_LOOKUP(m->pids, -16);
  JEQ(BPF_REG_0, 0, L_BITS);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
  MOV64_REG(BPF_REG_2, BPF_REG_7);
  AND64_IMM(BPF_REG_2, 31);
  LSH64_IMM(BPF_REG_2, 1);
  RSH64_REG(BPF_REG_1, BPF_REG_2);
  STX(BPF_DW, BPF_REG_10, BPF_REG_1, PID_BITS_SLOT);
  LABEL(L_BITS);
  /* OpenTelemetry thread context: *(fsbase + tls_offset) -> record, for a
   * process whose executable has one (a hash lookup costs a microsecond on
   * some virtual machines: only those processes pay it). */
  LDX(BPF_DW, BPF_REG_1, BPF_REG_10, PID_BITS_SLOT);
  AND64_IMM(BPF_REG_1, PID_BIT_TLS);
  JEQ(BPF_REG_1, 0, L_SUBMIT);
  STX(BPF_W, BPF_REG_10, BPF_REG_7, -16);
  MAP_LOOKUP(m->tls, -16);
  JEQ(BPF_REG_0, 0, L_SUBMIT);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
  STX(BPF_DW, BPF_REG_10, BPF_REG_1, -24);
  CALL(BPF_FUNC_get_current_task);
  LDX(BPF_W, BPF_REG_1, BPF_REG_8, CONFIG_AT(fsbase_offset));
  MOV64_REG(BPF_REG_3, BPF_REG_0);
  ADD64_REG(BPF_REG_3, BPF_REG_1);
  MOV64_REG(BPF_REG_1, BPF_REG_10);
  ADD64_IMM(BPF_REG_1, -32);
  MOV64_IMM(BPF_REG_2, 8);
  CALL(BPF_FUNC_probe_read_kernel);
  JNE(BPF_REG_0, 0, L_SUBMIT);
  LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -32);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_10, -24);
  ADD64_REG(BPF_REG_3, BPF_REG_1);
  MOV64_REG(BPF_REG_1, BPF_REG_10);
  ADD64_IMM(BPF_REG_1, -40);
  MOV64_IMM(BPF_REG_2, 8);
  CALL(BPF_FUNC_probe_read_user);
  JNE(BPF_REG_0, 0, L_SUBMIT);
  LDX(BPF_DW, BPF_REG_3, BPF_REG_10, -40);
  JEQ(BPF_REG_3, 0, L_SUBMIT); /* thread has no current context */
  MOV64_REG(BPF_REG_1, BPF_REG_9);
  ADD64_IMM(BPF_REG_1, BREC_OTEL);
  MOV64_IMM(BPF_REG_2, BREC_OTEL_LEN);
  CALL(BPF_FUNC_probe_read_user); /* zero-fills on failure: valid stays 0 */
  LABEL(L_SUBMIT);
  /* A process the helper already knows needs nothing from it right away: its
   * samples wait in the ring until the helper reads it for another reason
   * (one wakeup per sample was most of the helper's CPU and put a reschedule
   * in the sampled task's interrupt), or until the ring holds
   * config.wake_bytes, so that it never fills while the helper sleeps. A new
   * process wakes it, so that its maps are read while it is alive — with a
   * forced wakeup: the default (adaptive) one is skipped while unwoken
   * records wait in the ring. */
  LDX(BPF_DW, BPF_REG_1, BPF_REG_10, PID_BITS_SLOT);
  AND64_IMM(BPF_REG_1, PID_BIT_KNOWN);
  JEQ(BPF_REG_1, 0, L_FORCE);
  LD_MAP(BPF_REG_1, m->events);
  MOV64_IMM(BPF_REG_2, BPF_RB_AVAIL_DATA);
  CALL(BPF_FUNC_ringbuf_query);
  LDX(BPF_W, BPF_REG_1, BPF_REG_8, CONFIG_AT(wake_bytes));
  JGT_REG(BPF_REG_0, BPF_REG_1, L_FORCE);
  MOV64_IMM(BPF_REG_2, BPF_RB_NO_WAKEUP);
  JA(L_WAKE);
  LABEL(L_FORCE);
  MOV64_IMM(BPF_REG_2, BPF_RB_FORCE_WAKEUP);
  LABEL(L_WAKE);
  MOV64_REG(BPF_REG_4, BPF_REG_2);
  load_stack_len(p, BPF_REG_3, BREC_KSTACK_RC, KSTACK_MAX * 8, L_LEN_KNONE, L_LEN_K);
  load_stack_len(p, BPF_REG_5, BREC_USTACK_RC, USTACK_MAX * 8, L_LEN_UNONE, L_LEN_U);
  ADD64_REG(BPF_REG_3, BPF_REG_5);
  ADD64_IMM(BPF_REG_3, BREC_KSTACK);
  LD_MAP(BPF_REG_1, m->events);
  MOV64_REG(BPF_REG_2, BPF_REG_9);
  CALL(BPF_FUNC_ringbuf_output);
  JEQ(BPF_REG_0, 0, L_SENT);
  counter_add_one(p, m, CNT_LOST, L_EXIT); /* reader too slow: count it */
  JA(L_EXIT);
  LABEL(L_SENT);
  counter_add_one(p, m, CNT_EMITTED, L_EXIT);
  LABEL(L_EXIT);
  MOV64_IMM(BPF_REG_0, 0);
  EXIT();
  resolve(p);
}

static void build_newtask(struct prog_buf *p, const struct bpf_maps *m) {
  /* task_newtask(struct task_struct *task, u64 clone_flags); current = parent */
  MOV64_REG(BPF_REG_6, BPF_REG_1);
  LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 8);
  AND64_IMM(BPF_REG_1, CLONE_THREAD);
  JNE(BPF_REG_1, 0, L_EXIT); /* a thread shares its tgid: nothing to add */
  CALL(BPF_FUNC_get_current_pid_tgid);
  RSH64_IMM(BPF_REG_0, 32);
  STX(BPF_W, BPF_REG_10, BPF_REG_0, -4);
  MAP_LOOKUP(m->targets, -4);
  JEQ(BPF_REG_0, 0, L_EXIT);
  LDX(BPF_W, BPF_REG_1, BPF_REG_0, 0);
  AND64_IMM(BPF_REG_1, TARGET_FOLLOW);
  JEQ(BPF_REG_1, 0, L_EXIT);
  ST_IMM(BPF_W, BPF_REG_10, -4, 0);
  MAP_LOOKUP(m->config, -4);
  JEQ(BPF_REG_0, 0, L_EXIT);
  LDX(BPF_W, BPF_REG_3, BPF_REG_0, CONFIG_AT(tgid_offset));
  LDX(BPF_DW, BPF_REG_1, BPF_REG_6, 0);
  ADD64_REG(BPF_REG_3, BPF_REG_1);
  ST_IMM(BPF_W, BPF_REG_10, -8, 0);
  MOV64_REG(BPF_REG_1, BPF_REG_10);
  ADD64_IMM(BPF_REG_1, -8);
  MOV64_IMM(BPF_REG_2, 4);
  CALL(BPF_FUNC_probe_read_kernel);
  JNE(BPF_REG_0, 0, L_EXIT);
  ST_IMM(BPF_W, BPF_REG_10, -12, TARGET_FOLLOW);
  LD_MAP(BPF_REG_1, m->targets);
  MOV64_REG(BPF_REG_2, BPF_REG_10);
  ADD64_IMM(BPF_REG_2, -8);
  MOV64_REG(BPF_REG_3, BPF_REG_10);
  ADD64_IMM(BPF_REG_3, -12);
  MOV64_IMM(BPF_REG_4, BPF_ANY);
  CALL(BPF_FUNC_map_update_elem);
  counter_add_one(p, m, CNT_FOLLOWED, L_EXIT);
  LABEL(L_EXIT);
  MOV64_IMM(BPF_REG_0, 0);
  EXIT();
  resolve(p);
}

static void build_task_event(struct prog_buf *p, const struct bpf_maps *m, int kind, int by_group_dead) {
  if (by_group_dead) {
    /* sched_process_exit(task, group_dead): the process is gone when its last
     * thread is, whichever that is; a leader that left early is not its end.
     * A kernel whose tracepoint lacks the argument refuses to attach this. */
    LDX(BPF_DW, BPF_REG_2, BPF_REG_1, 8);
    JEQ(BPF_REG_2, 0, L_EXIT);
  }
  CALL(BPF_FUNC_get_current_pid_tgid);
  MOV64_REG(BPF_REG_6, BPF_REG_0);
  RSH64_IMM(BPF_REG_6, 32);   /* tgid */
  if (!by_group_dead) {
    /* current is the task: leaders only (an exec'ing thread has become the leader). */
    MOV32_REG(BPF_REG_1, BPF_REG_0); /* pid, zero-extended */
    JNE_REG(BPF_REG_1, BPF_REG_6, L_EXIT);
  }
  CALL(BPF_FUNC_ktime_get_ns);
  STX(BPF_DW, BPF_REG_10, BPF_REG_0, -TEV_SIZE);
  STX(BPF_W, BPF_REG_10, BPF_REG_6, -TEV_SIZE + TEV_TGID);
  ST_IMM(BPF_W, BPF_REG_10, -TEV_SIZE + TEV_KIND, kind);
  LD_MAP(BPF_REG_1, m->events);
  MOV64_REG(BPF_REG_2, BPF_REG_10);
  ADD64_IMM(BPF_REG_2, -TEV_SIZE);
  MOV64_IMM(BPF_REG_3, TEV_SIZE);
  /* An exec wakes the reader at once (it snapshots the new program's maps and
   * looks up its trace-context offset before its samples are named): forced,
   * since an adaptive wakeup is skipped while unwoken samples wait in the
   * ring. An exit can wait for the reader's next timed read. */
  MOV64_IMM(BPF_REG_4, kind == TEV_EXEC ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
  CALL(BPF_FUNC_ringbuf_output);
  LABEL(L_EXIT);
  MOV64_IMM(BPF_REG_0, 0);
  EXIT();
  resolve(p);
}

/* Not in every linux/bpf.h this may be built against (they are kernel ABI, stable). */
#define PCTL_PROG_TYPE_SYSCALL 31 /* BPF_PROG_TYPE_SYSCALL, Linux 5.14 */
#define PCTL_FUNC_SNPRINTF 165    /* BPF_FUNC_snprintf, Linux 5.13 */
#ifndef BPF_F_SLEEPABLE
#define BPF_F_SLEEPABLE (1U << 4)
#endif
#ifndef BPF_F_RDONLY_PROG
#define BPF_F_RDONLY_PROG (1U << 7)
#endif
#ifndef BPF_PSEUDO_MAP_VALUE
#define BPF_PSEUDO_MAP_VALUE 2
#endif
/* A pointer into an array map's only value, BPF_LD_IMM64 with BPF_PSEUDO_MAP_VALUE. */
#define LD_MAP_VALUE(d, fd, off) do { emit(p, BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_VALUE, 0, fd); emit(p, 0, 0, 0, 0, off); } while (0)

/*
 * For each i < KNAME_BATCH: snprintf(out + i*KNAME_SLOT, KNAME_SLOT, "%pS",
 * ctx[i]). The format must live in a frozen read-only map; the address goes
 * through the stack because bpf_snprintf takes an array of u64 arguments.
 */
static void build_kernel_namer(struct prog_buf *p, int fmt_map, int out_map) {
  MOV64_REG(BPF_REG_6, BPF_REG_1);
  for (int i = 0; i < KNAME_BATCH; i++) {
    LDX(BPF_DW, BPF_REG_0, BPF_REG_6, i * 8);
    STX(BPF_DW, BPF_REG_10, BPF_REG_0, -8);
    LD_MAP_VALUE(BPF_REG_1, out_map, i * KNAME_SLOT);
    MOV64_IMM(BPF_REG_2, KNAME_SLOT);
    LD_MAP_VALUE(BPF_REG_3, fmt_map, 0);
    MOV64_REG(BPF_REG_4, BPF_REG_10);
    ADD64_IMM(BPF_REG_4, -8);
    MOV64_IMM(BPF_REG_5, 8);
    CALL(PCTL_FUNC_SNPRINTF);
  }
  MOV64_IMM(BPF_REG_0, 0);
  EXIT();
}

static char verifier_log[65536];

/* Load; on failure load again with a log buffer so the verifier says why. */
static int load_one(int type, const struct prog_buf *p, const char *name, int *fd, char *msg, size_t msglen) {
  if (p->overflow) {
    snprintf(msg, msglen, "building BPF program %s: more than %d instructions or %d jumps", name, MAX_INSNS, MAX_FIXES);
    return ERR_INTERNAL;
  }
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = type;
  if (type == PCTL_PROG_TYPE_SYSCALL) a.prog_flags = BPF_F_SLEEPABLE; /* the kernel accepts no other kind */
  a.insns = (uint64_t)(uintptr_t)p->insn;
  a.insn_cnt = p->n;
  a.license = (uint64_t)(uintptr_t)"GPL"; /* get_stack, probe_read_* are GPL-only */
  strncpy(a.prog_name, name, sizeof(a.prog_name) - 1);
  *fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
  if (*fd >= 0) return ERR_NONE;
  int err = errno;
  if (err == EPERM || err == EACCES || err == ENOSYS) {
    snprintf(msg, msglen, "loading BPF program %s: %s", name, strerror(err));
    return errno_to_error(err);
  }
  verifier_log[0] = 0;
  a.log_buf = (uint64_t)(uintptr_t)verifier_log;
  a.log_size = sizeof(verifier_log);
  a.log_level = 1;
  int again = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
  if (again >= 0) { *fd = again; return ERR_NONE; }
  /* Keep the end of the log: that is where the verifier names the problem. */
  size_t len = strlen(verifier_log);
  const char *tail = len > msglen / 2 ? verifier_log + len - msglen / 2 : verifier_log;
  snprintf(msg, msglen, "loading BPF program %s (%d insns): %s; verifier log: %s", name, p->n, strerror(err), tail);
  return err == EINVAL && len == 0 ? ERR_KERNEL_TOO_OLD : ERR_VERIFIER;
}

int load_programs(const struct bpf_maps *m, struct loaded_programs *progs, char *msg, size_t msglen) {
  static struct prog_buf sampler, newtask, exec_ev, exit_ev, exit_group_ev;
  memset(&sampler, 0, sizeof(sampler));
  memset(&newtask, 0, sizeof(newtask));
  memset(&exec_ev, 0, sizeof(exec_ev));
  memset(&exit_ev, 0, sizeof(exit_ev));
  memset(&exit_group_ev, 0, sizeof(exit_group_ev));
  build_sampler(&sampler, m, 1);
  build_newtask(&newtask, m);
  build_task_event(&exec_ev, m, TEV_EXEC, 0);
  build_task_event(&exit_ev, m, TEV_EXIT, 0);
  build_task_event(&exit_group_ev, m, TEV_EXIT, 1);
  int rc = load_one(BPF_PROG_TYPE_PERF_EVENT, &sampler, "pctl_sample", &progs->sample_prog, msg, msglen);
  if (rc == ERR_VERIFIER || rc == ERR_KERNEL_TOO_OLD) {
    /* A kernel before 5.15 (no bpf_task_pt_regs): samples taken in the kernel keep the kernel's walk. */
    memset(&sampler, 0, sizeof(sampler));
    build_sampler(&sampler, m, 0);
    rc = load_one(BPF_PROG_TYPE_PERF_EVENT, &sampler, "pctl_sample", &progs->sample_prog, msg, msglen);
    if (!rc) fprintf(stderr, "profctl-helper: no bpf_task_pt_regs here: user stacks of samples taken in the kernel are walked by the kernel\n");
  }
  if (rc) return rc;
  rc = load_one(BPF_PROG_TYPE_RAW_TRACEPOINT, &newtask, "pctl_newtask", &progs->newtask_prog, msg, msglen);
  if (rc) return rc;
  rc = load_one(BPF_PROG_TYPE_RAW_TRACEPOINT, &exec_ev, "pctl_exec", &progs->exec_prog, msg, msglen);
  if (rc) return rc;
  rc = load_one(BPF_PROG_TYPE_RAW_TRACEPOINT, &exit_ev, "pctl_exit", &progs->exit_prog, msg, msglen);
  if (rc) return rc;
  return load_one(BPF_PROG_TYPE_RAW_TRACEPOINT, &exit_group_ev, "pctl_exit_group", &progs->exit_group_prog, msg, msglen);
}

int load_kernel_namer(struct kernel_namer *kn, char *msg, size_t msglen) {
  static struct prog_buf namer;
  kn->fmt_map = kn->out_map = kn->prog = -1;
  /* The format must be in a frozen map that programs can only read. */
  kn->fmt_map = create_map_flags(BPF_MAP_TYPE_ARRAY, 4, 8, 1, BPF_F_RDONLY_PROG, "pctl_kname_fmt");
  int fmt_ok = 0;
  if (kn->fmt_map >= 0) {
    char fmt[8] = "%pS";
    uint32_t zero = 0;
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)kn->fmt_map;
    a.key = (uint64_t)(uintptr_t)&zero;
    a.value = (uint64_t)(uintptr_t)fmt;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) == 0) {
      memset(&a, 0, sizeof(a));
      a.map_fd = (uint32_t)kn->fmt_map;
      fmt_ok = sys_bpf(BPF_MAP_FREEZE, &a, sizeof(a)) == 0;
    }
  }
  if (!fmt_ok) {
    snprintf(msg, msglen, "the format map for bpf_snprintf: %s", strerror(errno));
    return errno_to_error(errno);
  }
  kn->out_map = create_map(BPF_MAP_TYPE_ARRAY, 4, KNAME_BATCH * KNAME_SLOT, 1, "pctl_kname_out");
  if (kn->out_map < 0) {
    snprintf(msg, msglen, "the output map for kernel names: %s", strerror(errno));
    return errno_to_error(errno);
  }
  memset(&namer, 0, sizeof(namer));
  struct prog_buf *p = &namer;
  build_kernel_namer(p, kn->fmt_map, kn->out_map);
  return load_one(PCTL_PROG_TYPE_SYSCALL, &namer, "pctl_kname", &kn->prog, msg, msglen);
}
