/*
 * profctl-helper: samples on-CPU stacks with a BPF program and streams them to
 * its parent. Usage (the TypeScript side in src/capture/ is the only caller):
 *
 *   profctl-helper [--hz N] [--pid P]... [--follow P]... [--ringbuf-mb N]
 *                  [--no-tls] [--no-kernel-names] [--kernel-user-walk] [--stats-ms N] [--flush-ms N]
 *
 * stdout carries the binary record stream of protocol.md; stderr is for
 * notes. Commands arrive as lines on stdin ("pid P", "follow P",
 * "tls P OFFSET"). The helper exits when its parent dies, on SIGTERM/SIGINT,
 * on stdin EOF-less pipe errors, and on any setup failure (after an ERROR
 * record whose code is also the exit status). Closing its fds detaches
 * everything, so even a SIGKILL leaves nothing attached.
 * Before the first sample of a process (and after an exec), it sends the
 * process's executable mappings (process-table.c), read within milliseconds
 * of the sample, so processes that exit right away can still be symbolized.
 * It must not symbolize, aggregate or store: raw samples only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "output.h"

static volatile sig_atomic_t stopping;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static struct bpf_maps maps = { -1, -1, -1, -1, -1, -1, -1 };
static int tls_enabled = 1;
static int kernel_user_walk = 0; /* --kernel-user-walk: user stacks from bpf_get_stack always */
static int kernel_names = 1; /* KSYM records (kernel-names.c) unless --no-kernel-names */

static void fail(int code, const char *fmt, const char *detail) {
  int err = errno;
  char msg[8192];
  snprintf(msg, sizeof(msg), fmt, detail);
  fprintf(stderr, "profctl-helper: %s\n", msg);
  out_error(code, err, msg);
  out_flush();
  exit(code);
}

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* realtime - monotonic, from the tightest of a few bracketed readings. */
static int64_t wall_offset_ns(void) {
  int64_t best = 0;
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    uint64_t m1 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME), m2 = clock_ns(CLOCK_MONOTONIC);
    if (m2 - m1 < best_gap) { best_gap = m2 - m1; best = (int64_t)(r - (m1 + (m2 - m1) / 2)); }
  }
  return best;
}

static int map_update(int fd, const void *key, const void *value) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_fd = fd;
  a.key = (uint64_t)(uintptr_t)key;
  a.value = (uint64_t)(uintptr_t)value;
  a.flags = BPF_ANY;
  return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a));
}

static void map_delete(int fd, const void *key) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.map_fd = fd;
  a.key = (uint64_t)(uintptr_t)key;
  sys_bpf(BPF_MAP_DELETE_ELEM, &a, sizeof(a));
}

static void add_target(uint32_t pid, uint32_t flags) { map_update(maps.targets, &pid, &flags); }

/* ---- processes whose samples need not wake the helper ---- */

/* The helper's copy of pctl_pids: only the helper writes the map (the
 * programs read it), so a bit that is already as wanted costs no system call.
 * Pages of it are touched only for the tgids in use. */
static uint64_t pid_bits[PID_BITS_WORDS];

static void set_pid_bit(uint32_t pid, uint64_t bit, int on) {
  if (pid >= PCTL_PID_LIMIT) return; /* its samples always wake the helper and carry no context */
  uint32_t word = pid / 32;
  uint64_t mask = bit << (pid % 32 * 2);
  uint64_t v = on ? pid_bits[word] | mask : pid_bits[word] & ~mask;
  if (v != pid_bits[word] && map_update(maps.pids, &word, &v) == 0) pid_bits[word] = v;
}

static void mark_known(uint32_t pid) { set_pid_bit(pid, PID_BIT_KNOWN, 1); }

/* An exec or an exit: the pid's next sample (a new program, or a reused pid)
 * wakes the helper again so that its maps are read at once. */
static void forget_known(uint32_t pid) { set_pid_bit(pid, PID_BIT_KNOWN, 0); }

/* ---- per-process OpenTelemetry TLS offsets ---- */

#define TLS_CACHE 8192
struct tls_entry { uint32_t pid; uint64_t dev, ino, checked_ns; };
static struct tls_entry tls_cache[TLS_CACHE];

/* The offset goes in before the bit that sends the sampler to it, and the
 * bit goes out before the offset. */
static void set_tls_offset(uint32_t pid, int64_t offset) {
  map_update(maps.tls, &pid, &offset);
  set_pid_bit(pid, PID_BIT_TLS, 1);
  out_tls(pid, offset);
}

static void clear_tls_offset(uint32_t pid) {
  set_pid_bit(pid, PID_BIT_TLS, 0);
  map_delete(maps.tls, &pid);
}

/* Called for every sampled tgid; looks at /proc/PID/exe at most once per
 * exec_fallback_ns per process, and at once after an exec event. */
static void check_tls(uint32_t pid, uint64_t now_ns) {
  if (!tls_enabled) return;
  struct tls_entry *e = &tls_cache[pid % TLS_CACHE];
  if (e->pid == pid && now_ns - e->checked_ns < exec_fallback_ns) return;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%u/exe", pid);
  struct stat st;
  if (stat(path, &st) != 0) return;
  int same = e->pid == pid && e->dev == st.st_dev && e->ino == st.st_ino;
  e->pid = pid;
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  e->checked_ns = now_ns;
  if (same) return;
  /* Many processes run one executable: remember the answer per file. */
  static struct { uint64_t dev, ino; int found; int64_t offset; } by_file[64];
  static unsigned next_slot;
  int64_t offset = 0;
  int found = -2;
  for (unsigned i = 0; i < 64; i++)
    if (by_file[i].ino == st.st_ino && by_file[i].dev == st.st_dev && st.st_ino) { found = by_file[i].found; offset = by_file[i].offset; }
  if (found == -2) {
    found = find_otel_tls_offset(path, &offset);
    unsigned k = next_slot++ % 64;
    by_file[k].dev = st.st_dev; by_file[k].ino = st.st_ino; by_file[k].found = found; by_file[k].offset = offset;
  }
  if (found == 1) {
    set_tls_offset(pid, offset);
  } else {
    clear_tls_offset(pid); /* exec'd into something else */
  }
}

/* ---- following a command's descendants that already exist ---- */

static void add_existing_descendants(uint32_t root) {
  /* Two passes over /proc: a child forked during the first is seen by the
   * second, and forks after the follower attached are caught in the kernel. */
  for (int pass = 0; pass < 2; pass++) {
    DIR *d = opendir("/proc");
    if (!d) return;
    for (struct dirent *de; (de = readdir(d));) {
      uint32_t pid = (uint32_t)strtoul(de->d_name, NULL, 10);
      if (!pid) continue;
      for (uint32_t cur = pid, depth = 0; cur > 1 && depth < 64; depth++) {
        if (cur == root) { add_target(pid, TARGET_FOLLOW); break; }
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%u/stat", cur);
        FILE *f = fopen(path, "r");
        if (!f) break;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *close_paren = strrchr(buf, ')');
        if (!close_paren || sscanf(close_paren + 2, "%*c %u", &cur) != 1) break;
      }
    }
    closedir(d);
  }
}

/* `batch` commands not yet answered (the reader waits for each answer). */
static unsigned batches_asked;

static void handle_command(char *line) {
  unsigned pid;
  long long offset;
  if (!strcmp(line, "batch")) batches_asked++;
  else if (sscanf(line, "tls %u %lld", &pid, &offset) == 2) set_tls_offset(pid, offset);
  else if (sscanf(line, "follow %u", &pid) == 1) { add_target(pid, TARGET_FOLLOW); add_existing_descendants(pid); }
  else if (sscanf(line, "pid %u", &pid) == 1) add_target(pid, 0);
  else fprintf(stderr, "profctl-helper: ignoring command: %s\n", line);
}

/* ---- the ring buffer ---- */

struct ringbuf {
  volatile uint64_t *consumer, *producer;
  const uint8_t *data;
  uint64_t mask;
};

static void read_counters(uint64_t totals[CNT_COUNT], int ncpu) {
  uint64_t *values = calloc((size_t)ncpu, 8);
  for (uint32_t k = 0; k < CNT_COUNT; k++) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_fd = maps.counters;
    a.key = (uint64_t)(uintptr_t)&k;
    a.value = (uint64_t)(uintptr_t)values;
    totals[k] = 0;
    if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == 0)
      for (int c = 0; c < ncpu; c++) totals[k] += values[c];
  }
  free(values);
}

static uint64_t samples_written, sample_errors;

/* Reads what the ring holds; 0 when it stopped at a record still being written. */
static int drain(struct ringbuf *rb, int64_t wall_offset) {
  uint64_t cons = *rb->consumer;
  uint64_t prod = __atomic_load_n(rb->producer, __ATOMIC_ACQUIRE);
  while (cons < prod) {
    const uint8_t *hdr = rb->data + (cons & rb->mask);
    uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT) return 0; /* reserved, not yet submitted */
    uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT) && size == TEV_SIZE) {
      const uint8_t *r = hdr + BPF_RINGBUF_HDR_SZ;
      uint32_t tgid, kind;
      memcpy(&tgid, r + TEV_TGID, 4);
      memcpy(&kind, r + TEV_KIND, 4);
      if (kind == TEV_EXEC) {
        forget_known(tgid);
        procs_on_exec(tgid);
        /* Learn the new program's trace-context offset now, before its first
         * sample, not at the once-a-second recheck. */
        tls_cache[tgid % TLS_CACHE].checked_ns = 0;
        check_tls(tgid, clock_ns(CLOCK_MONOTONIC));
      }
      else if (kind == TEV_EXIT) {
        uint64_t fired;
        memcpy(&fired, r, 8);
        forget_known(tgid);
        procs_on_exit(tgid, fired);
      }
    } else if (!(len & BPF_RINGBUF_DISCARD_BIT) && size >= BREC_KSTACK) {
      const uint8_t *r = hdr + BPF_RINGBUF_HDR_SZ;
      int32_t urc, krc;
      uint32_t tgid;
      memcpy(&urc, r + BREC_USTACK_RC, 4);
      memcpy(&krc, r + BREC_KSTACK_RC, 4);
      memcpy(&tgid, r + BREC_TGID, 4);
      if (urc < 0 && krc < 0) sample_errors++;
      uint64_t mono;
      memcpy(&mono, r + BREC_TIME, 8);
      uint32_t tid;
      memcpy(&tid, r + BREC_TID, 4);
      /* Names of its kernel addresses and the process's maps go out before
       * the sample: the reader needs them first. */
      uint32_t nu = urc > 0 ? (uint32_t)urc / 8 : 0, nk = krc > 0 ? (uint32_t)krc / 8 : 0;
      if (nu > USTACK_MAX || nk > KSTACK_MAX || BREC_KSTACK + 8 * (nk + nu) > size) nu = nk = 0, sample_errors++; /* never: the program cuts the record to them */
      /* The user stack follows the kernel stack's used bytes. */
      const uint64_t *kstack = (const uint64_t *)(r + BREC_KSTACK), *ustack = kstack + nk;
      uint64_t now = clock_ns(CLOCK_MONOTONIC);
      if (nk) knames_for_stack(kstack, nk);
      uint32_t serial = procs_on_sample(tgid, tid, (const char *)r + BREC_COMM, ustack, nu, now, wall_offset);
      /* The stack's and the thread name's numbers (and their records, when new) go out before the sample too. */
      stacks_prepare(nu + nk, now);
      uint32_t stack_id = stacks_intern(tgid, serial, ustack, nu, kstack, nk);
      uint32_t comm_id = comms_intern((const char *)r + BREC_COMM);
      out_sample(r, mono + (uint64_t)wall_offset, stack_id, comm_id);
      samples_written++;
      check_tls(tgid, mono);
      mark_known(tgid); /* after its snapshot went out */
    }
    cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
    __atomic_store_n(rb->consumer, cons, __ATOMIC_RELEASE);
  }
  return 1;
}

/* A process's exit event fires before the kernel's last work for it
 * (unmapping, closing, other threads leaving), and that work is sampled too:
 * 10-30 ms for a process with a large heap. Its EXIT record goes out once the
 * ring has been read whole past this much after the event. */
#define EXIT_GRACE_NS (1000 * 1000000ull)

/* Cumulative counters; the helper's own CPU time lets callers show its cost. */
static void emit_stats(uint64_t wall_ns, uint16_t flags) {
  uint64_t totals[CNT_COUNT];
  static int ncpu_conf; /* sysconf reads /sys for this on every call */
  if (!ncpu_conf) ncpu_conf = (int)sysconf(_SC_NPROCESSORS_CONF);
  read_counters(totals, ncpu_conf);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  uint64_t cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
                    ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
  out_stats(samples_written, totals[CNT_LOST], sample_errors, totals[CNT_FOLLOWED], cpu_ns, wall_ns, flags);
}

/* The ring only has to hold what arrives between its reaching a quarter full
 * (which wakes the helper) and the helper reading it, longer when a /proc
 * read or a busy machine delays the read.
 * Two seconds of every CPU sampling at full rate, at least 1 MiB: 1 MiB on a
 * small machine at 99 Hz, where a fixed 8 MiB was 16 MiB of the helper's RSS
 * (the kernel maps the data pages twice). Losses are counted either way. */
static unsigned default_ringbuf_mb(unsigned ncpu, unsigned hz) {
  uint64_t want = (uint64_t)ncpu * hz * (BREC_SIZE + 8) * 2;
  unsigned mb = 1;
  while (((uint64_t)mb << 20) < want && mb < 256) mb *= 2;
  return mb;
}

static int open_cpu_clock(int cpu, unsigned hz) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.freq = 1;
  attr.sample_freq = hz;
  return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int main(int argc, char **argv) {
  unsigned hz = 99, ringbuf_mb = 0, stats_ms = 1000, flush_ms = 100;
  uint32_t pids[1024], follows[1024];
  int npids = 0, nfollows = 0;
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) return 0; /* parent already gone */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  out_header();
  for (int i = 1; i < argc; i++) {
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--no-tls")) { tls_enabled = 0; continue; }
    if (!strcmp(argv[i], "--no-kernel-names")) { kernel_names = 0; continue; }
    if (!strcmp(argv[i], "--kernel-user-walk")) { kernel_user_walk = 1; continue; }
    if (!next) fail(ERR_USAGE, "option %s needs a value", argv[i]);
    unsigned long v = strtoul(next, NULL, 10);
    if (!strcmp(argv[i], "--hz") && v > 0 && v <= 10000) hz = (unsigned)v;
    else if (!strcmp(argv[i], "--pid") && v > 0 && npids < 1024) pids[npids++] = (uint32_t)v;
    else if (!strcmp(argv[i], "--follow") && v > 0 && nfollows < 1024) follows[nfollows++] = (uint32_t)v;
    else if (!strcmp(argv[i], "--ringbuf-mb") && v > 0 && v <= 1024 && !(v & (v - 1))) ringbuf_mb = (unsigned)v;
    else if (!strcmp(argv[i], "--stats-ms") && v >= 10) stats_ms = (unsigned)v;
    else if (!strcmp(argv[i], "--flush-ms") && v <= 600000) flush_ms = (unsigned)v;
    else if (!strcmp(argv[i], "--stack-table-ms") && v >= 10) stacks_set_lifetime(v);
    else fail(ERR_USAGE, "bad option or value: %s", argv[i]);
    i++;
  }
  if (!ringbuf_mb) ringbuf_mb = default_ringbuf_mb((unsigned)sysconf(_SC_NPROCESSORS_CONF), hz);
  procs_init();
  char msg[8192];
  struct task_offsets offs;
  int rc = find_task_offsets("/sys/kernel/btf/vmlinux", &offs, msg, sizeof(msg));
  if (rc) fail(rc, "%s", msg);
  if (offs.fsbase < 0) { tls_enabled = 0; fprintf(stderr, "profctl-helper: no task_struct.thread.fsbase in BTF: trace context off\n"); }
  rc = create_maps(&maps, ringbuf_mb << 20, msg, sizeof(msg));
  if (rc) fail(rc, "%s", msg);
  /* A quarter of the ring: the reader wakes long before it could fill. */
  struct helper_config cfg = { npids + nfollows > 0, (uint32_t)(offs.fsbase < 0 ? 0 : offs.fsbase), (uint32_t)offs.tgid, (ringbuf_mb << 20) / 4, (uint32_t)kernel_user_walk };
  uint32_t zero = 0;
  if (map_update(maps.config, &zero, &cfg)) fail(ERR_INTERNAL, "writing BPF config map: %s", strerror(errno));
  for (int i = 0; i < npids; i++) add_target(pids[i], 0);
  for (int i = 0; i < nfollows; i++) add_target(follows[i], TARGET_FOLLOW);
  struct loaded_programs progs;
  rc = load_programs(&maps, &progs, msg, sizeof(msg));
  if (rc) fail(rc, "%s", msg);
  union bpf_attr ra;
  memset(&ra, 0, sizeof(ra));
  ra.raw_tracepoint.name = (uint64_t)(uintptr_t)"task_newtask";
  ra.raw_tracepoint.prog_fd = (uint32_t)progs.newtask_prog;
  if (sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &ra, sizeof(ra)) < 0)
    fail(errno_to_error(errno), "attaching the fork follower to task_newtask: %s", strerror(errno));
  for (int i = 0; i < nfollows; i++) add_existing_descendants(follows[i]);
  /* Exec and exit events are an optimization: without them exec is found by
   * the once-a-second check, so a kernel lacking them only loses precision. */
  /* The exit by group_dead first; a kernel whose tracepoint lacks it takes the leader's. */
  struct { const char *name; int prog; } task_events[] = {
    { "sched_process_exec", progs.exec_prog }, { "sched_process_exit", progs.exit_group_prog }, { "sched_process_exit", progs.exit_prog } };
  int attached = 0;
  for (int i = 0; i < 3; i++) {
    memset(&ra, 0, sizeof(ra));
    ra.raw_tracepoint.name = (uint64_t)(uintptr_t)task_events[i].name;
    ra.raw_tracepoint.prog_fd = (uint32_t)task_events[i].prog;
    if (sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &ra, sizeof(ra)) >= 0) {
      attached++;
      if (i == 1) close(task_events[++i].prog); /* the leader's exit is not needed: unload it */
    } else if (i == 1) close(task_events[i].prog);
    else fprintf(stderr, "profctl-helper: cannot attach to %s (%s): exec is detected once a second instead\n", task_events[i].name, strerror(errno));
  }
  /* Exec and exit come as events: the per-process checks and the sweep of /proc
   * only cover an event the ring lost (it was full), so they are rare. Each
   * costs /proc reads per known process: at 10 s they were most of the
   * helper's CPU on a machine with hundreds of processes. */
  uint64_t sweep_ns = 10000 * 1000000ull;
  if (attached == 2) exec_fallback_ns = sweep_ns = 60000 * 1000000ull;

  long pagesz = sysconf(_SC_PAGESIZE);
  struct ringbuf rb;
  void *cons = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE, MAP_SHARED, maps.events, 0);
  void *prod = mmap(NULL, (size_t)pagesz + 2 * ((size_t)ringbuf_mb << 20), PROT_READ, MAP_SHARED, maps.events, pagesz);
  if (cons == MAP_FAILED || prod == MAP_FAILED) fail(ERR_INTERNAL, "mapping the ring buffer: %s", strerror(errno));
  rb.consumer = cons;
  rb.producer = prod;
  rb.data = (const uint8_t *)prod + pagesz;
  rb.mask = ((uint64_t)ringbuf_mb << 20) - 1;

  int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
  int *events = calloc((size_t)ncpu, sizeof(int));
  int opened = 0;
  for (int cpu = 0; cpu < ncpu; cpu++) {
    events[cpu] = open_cpu_clock(cpu, hz);
    if (events[cpu] < 0) {
      if (errno == ENODEV || errno == ENOENT) continue; /* offline CPU */
      int err = errno;
      fail(err == EACCES || err == EPERM ? ERR_PERMISSION : ERR_PERF_EVENT, "opening the cpu-clock event: %s", strerror(err));
    }
    if (ioctl(events[cpu], PERF_EVENT_IOC_SET_BPF, progs.sample_prog) < 0)
      fail(errno_to_error(errno), "attaching the BPF program to the cpu-clock event: %s", strerror(errno));
    if (ioctl(events[cpu], PERF_EVENT_IOC_ENABLE, 0) < 0)
      fail(ERR_PERF_EVENT, "enabling the cpu-clock event: %s", strerror(errno));
    opened++;
  }
  if (!opened) fail(ERR_PERF_EVENT, "%s", "no online CPU accepted a cpu-clock event");
  if (kernel_names && knames_init(msg, sizeof(msg)) != ERR_NONE) {
    /* Linux before 5.14 has no syscall programs: the reader uses /proc/kallsyms. */
    fprintf(stderr, "profctl-helper: kernel frames are not named here (%s)\n", msg);
    kernel_names = 0;
  }
  int64_t wall_offset = wall_offset_ns();
  out_ready(hz, (uint32_t)opened, wall_offset, (int32_t)offs.fsbase,
            (tls_enabled ? READY_FLAG_TLS : 0) | (kernel_names ? READY_FLAG_KERNEL_NAMES : 0));
  for (int i = 0; i < npids; i++) check_tls(pids[i], clock_ns(CLOCK_MONOTONIC));
  out_flush();

  char line[256];
  size_t line_len = 0;
  int stdin_open = 1;
  uint64_t next_stats = clock_ns(CLOCK_MONOTONIC) + stats_ms * 1000000ull;
  /* A new process's first sample wakes the helper (its snapshot cannot wait);
   * the rest are read when it wakes anyway or the ring is a quarter full, and
   * written in batches: one write per --flush-ms or `batch` command, stats
   * included, keeps the reader's wakeups, its main cost, low. */
  uint64_t next_flush = clock_ns(CLOCK_MONOTONIC) + flush_ms * 1000000ull;
  uint64_t next_sweep = clock_ns(CLOCK_MONOTONIC) + sweep_ns;
  uint64_t next_knames_forget = clock_ns(CLOCK_MONOTONIC) + 600000 * 1000000ull;
  while (!stopping) {
    struct pollfd fds[2] = { { maps.events, POLLIN, 0 }, { 0, POLLIN, 0 } };
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    /* Samples of known processes do not wake the helper until the ring is a
     * quarter full: it sleeps until a timer is due, a command comes, a new
     * process is sampled or the ring fills that far. */
    uint64_t due = next_stats < next_flush ? next_stats : next_flush;
    if (next_sweep < due) due = next_sweep;
    /* Rounded up: a wait rounded down to 0 ms spun on poll() until the deadline. */
    int wait_ms = now >= due ? 0 : (int)((due - now + 999999) / 1000000);
    int n = poll(fds, stdin_open ? 2 : 1, wait_ms);
    if (n < 0 && errno != EINTR) break;
    if (getppid() != parent) break; /* parent died (PDEATHSIG may fire on a thread) */
    uint64_t read_from = clock_ns(CLOCK_MONOTONIC);
    if (drain(&rb, wall_offset) && read_from > EXIT_GRACE_NS) procs_send_exits(read_from - EXIT_GRACE_NS);
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(0, line + line_len, sizeof(line) - 1 - line_len);
      if (got <= 0) stdin_open = 0;
      else {
        line_len += (size_t)got;
        char *nl;
        while ((nl = memchr(line, '\n', line_len))) {
          *nl = 0;
          handle_command(line);
          line_len -= (size_t)(nl + 1 - line);
          memmove(line, nl + 1, line_len);
        }
        if (line_len == sizeof(line) - 1) line_len = 0; /* overlong line: drop */
      }
    }
    now = clock_ns(CLOCK_MONOTONIC);
    int answered = batches_asked > 0;
    if (answered) {
      /* The reader wants everything sampled so far, now (the agent, before it
       * writes a segment): the ring was read this turn; answer with a flagged
       * stats record after its samples and write at once. */
      for (; batches_asked; batches_asked--) emit_stats(now + (uint64_t)wall_offset, STATS_FLAG_BATCH);
      next_stats = now + stats_ms * 1000000ull;
      next_flush = now; /* written below */
    }
    int writing = now >= next_flush || out_pending() > (1u << 20);
    /* Stats due before the next write ride on this one: no write of their own. */
    if (!answered && (now >= next_stats || (writing && next_stats - now < flush_ms * 1000000ull))) {
      emit_stats(now + (uint64_t)wall_offset, 0);
      next_stats = now + stats_ms * 1000000ull;
    }
    if (now >= next_sweep) {
      procs_sweep();
      /* Every 10 minutes kernel names are sent again as they recur: a
       * module or BPF program loaded since may have taken an address. */
      if (now >= next_knames_forget) {
        knames_forget();
        next_knames_forget = now + 600000 * 1000000ull;
      }
      next_sweep = now + sweep_ns;
    }
    if (writing) {
      if (out_flush() < 0) break; /* the reader went away */
      next_flush = now + flush_ms * 1000000ull;
    }
  }
  /* Closing the event fds detaches the program; the maps go with the last fd. */
  for (int cpu = 0; cpu < ncpu; cpu++)
    if (events[cpu] >= 0) close(events[cpu]);
  drain(&rb, wall_offset);
  procs_send_exits(UINT64_MAX); /* nothing is sampled any more */
  emit_stats(clock_ns(CLOCK_REALTIME), 0);
  out_flush();
  return 0;
}
