/*
 * Process snapshots: the helper reads the ring buffer within milliseconds of
 * a sample, long before the TypeScript side gets to symbolize it, so it is the
 * one place that can still see a short-lived process's /proc entries. The
 * first time a process is sampled, after it execs, and when one of its stack
 * addresses falls outside every executable mapping it knows, the helper sends
 * a PROCESS record (protocol.md) just before the sample: the process's start
 * time, name, namespace pid, its executable mappings (the /proc/PID/maps
 * lines with 'x') and the host path of its perf map when there is one.
 *
 * Exec is seen three ways, best first: the sched_process_exec event from the
 * ring buffer (in order with the samples), a change of the main thread's comm,
 * and a check of start time and /proc/PID/exe once a second (every 10 s when
 * the exec events are attached: then it only covers an event lost to a full
 * ring). An exit event (sched_process_exit of the last thread, or of the
 * leader on kernels without group_dead) drops an entry once no sample of the
 * process can still come; a sweep drops the rest.
 *
 * It must not symbolize, filter samples or hold more than the address ranges
 * of each live process's executable mappings.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"
#include "output.h"

#define MS 1000000ull
#define COMM_CHECK_NS (10 * MS)        /* at most this often after a comm change */
#define REFRESH_MIN_NS (50 * MS)       /* maps re-read after an address outside them... */
#define REFRESH_MAX_NS (5000 * MS)     /* ...backing off while the maps stay the same */
#define MAX_RANGES 4096
#define MAX_MAPS_TEXT (512 * 1024)

struct proc_entry {
  uint32_t pid;   /* 0: free slot */
  uint8_t stale;  /* an exec was seen: snapshot again at the next sample */
  char comm[16];  /* main thread's comm at the last snapshot */
  uint64_t start_ticks, exe_dev, exe_ino;
  uint64_t checked_ns, refresh_after_ns, refresh_step_ns;
  uint64_t maps_hash;
  uint64_t exited_ns; /* time of its exit event, its EXIT record waiting; 0: alive */
  uint32_t serial;  /* changes with every PROCESS record: what the process's addresses mean */
  uint32_t nranges;
  uint64_t *ranges; /* start, end pairs, sorted by start */
};

static struct proc_entry *table;
static uint32_t table_size, table_used;
static uint64_t snapshots_sent;
static uint32_t last_serial;
uint64_t exec_fallback_ns = 1000 * MS; /* helper.h */
static struct stat self_root, self_pidns;
static int have_self_root, have_self_pidns;

static uint32_t slot_of(uint32_t pid) { return (pid * 2654435761u) & (table_size - 1); }

static struct proc_entry *lookup(uint32_t pid) {
  if (!table) return NULL;
  for (uint32_t i = slot_of(pid);; i = (i + 1) & (table_size - 1)) {
    if (table[i].pid == pid) return &table[i];
    if (table[i].pid == 0) return NULL;
  }
}

static void grow(void);

static struct proc_entry *insert(uint32_t pid) {
  if (!table || (table_used + 1) * 2 > table_size) grow();
  uint32_t i = slot_of(pid);
  while (table[i].pid != 0 && table[i].pid != pid) i = (i + 1) & (table_size - 1);
  if (table[i].pid == 0) {
    memset(&table[i], 0, sizeof(table[i]));
    table[i].pid = pid;
    table[i].serial = ++last_serial;
    table_used++;
  }
  return &table[i];
}

static void grow(void) {
  struct proc_entry *old = table;
  uint32_t old_size = table_size;
  table_size = old_size ? old_size * 2 : 1024;
  table = calloc(table_size, sizeof(*table));
  if (!table) _exit(ERR_INTERNAL);
  table_used = 0;
  for (uint32_t i = 0; i < old_size; i++) {
    if (!old[i].pid) continue;
    uint32_t j = slot_of(old[i].pid);
    while (table[j].pid) j = (j + 1) & (table_size - 1);
    table[j] = old[i];
    table_used++;
  }
  free(old);
}

/* Linear-probing delete: shift later entries of the cluster back. */
static void remove_entry(struct proc_entry *e) {
  free(e->ranges);
  uint32_t i = (uint32_t)(e - table);
  table[i].pid = 0;
  table[i].ranges = NULL;
  table_used--;
  for (uint32_t j = (i + 1) & (table_size - 1); table[j].pid; j = (j + 1) & (table_size - 1)) {
    uint32_t home = slot_of(table[j].pid);
    /* Move j into the hole at i when its home slot is not in (i, j]. */
    int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (between) continue;
    table[i] = table[j];
    table[j].pid = 0;
    table[j].ranges = NULL;
    i = j;
  }
}

/* Whole small /proc file into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  for (;;) {
    ssize_t got = read(fd, buf + n, cap - 1 - n);
    if (got <= 0) break;
    n += (size_t)got;
    if (n == cap - 1) break;
  }
  close(fd);
  buf[n] = 0;
  return (ssize_t)n;
}

/* Start time (field 22 of stat) and the comm in parentheses. */
static int read_identity(uint32_t pid, uint64_t *start_ticks, char comm[16]) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  if (read_small(path, buf, sizeof(buf)) <= 0) return -1;
  char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren || close_paren < open_paren) return -1;
  if (comm) {
    size_t len = (size_t)(close_paren - open_paren - 1);
    if (len > 15) len = 15;
    memset(comm, 0, 16);
    memcpy(comm, open_paren + 1, len);
  }
  /* After ") " come field 3 (state) onwards; field 22 is the 20th of those. */
  char *p = close_paren + 2;
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return -1;
  *start_ticks = strtoull(p, NULL, 10);
  return 0;
}

static void exe_identity(uint32_t pid, uint64_t *dev, uint64_t *ino) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%u/exe", pid);
  if (stat(path, &st) == 0) { *dev = st.st_dev; *ino = st.st_ino; }
  else { *dev = 0; *ino = 0; }
}

static uint32_t ns_pid(uint32_t pid) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%u/ns/pid", pid);
  if (have_self_pidns && stat(path, &st) == 0 && st.st_ino == self_pidns.st_ino && st.st_dev == self_pidns.st_dev) return pid;
  char buf[4096];
  snprintf(path, sizeof(path), "/proc/%u/status", pid);
  if (read_small(path, buf, sizeof(buf)) <= 0) return pid;
  char *line = strstr(buf, "\nNSpid:");
  if (!line) return pid;
  line += 7;
  char *end = strchr(line, '\n');
  if (end) *end = 0;
  char *last = strrchr(line, '\t');
  uint32_t v = (uint32_t)strtoul(last ? last + 1 : line, NULL, 10);
  return v ? v : pid;
}

static int same_root(uint32_t pid) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%u/root/", pid);
  return have_self_root && stat(path, &st) == 0 && st.st_ino == self_root.st_ino && st.st_dev == self_root.st_dev;
}

static char *maps_buf;
static size_t maps_cap;

/* Reads /proc/PID/maps and keeps only executable lines (in maps_buf) and their ranges. */
static ssize_t read_exec_maps(uint32_t pid, uint64_t **ranges, uint32_t *nranges, uint64_t *hash) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%u/maps", pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  if (!maps_buf) { maps_cap = 64 * 1024; maps_buf = malloc(maps_cap); if (!maps_buf) _exit(ERR_INTERNAL); }
  char line[4096 + 256];
  size_t len = 0;
  uint32_t n = 0, cap = 0;
  uint64_t *r = NULL, h = 1469598103934665603ull;
  int any = 0;
  while (fgets(line, sizeof(line), f)) {
    any = 1;
    unsigned long long start, end;
    char perms[5] = { 0 };
    if (sscanf(line, "%llx-%llx %4s", &start, &end, perms) != 3 || perms[2] != 'x') continue;
    size_t l = strlen(line);
    if (len + l <= MAX_MAPS_TEXT) {
      if (len + l > maps_cap) { maps_cap *= 2; maps_buf = realloc(maps_buf, maps_cap); if (!maps_buf) _exit(ERR_INTERNAL); }
      memcpy(maps_buf + len, line, l);
      len += l;
      for (size_t k = 0; k < l; k++) h = (h ^ (uint8_t)line[k]) * 1099511628211ull;
    }
    if (n < MAX_RANGES) {
      if (n == cap) { cap = cap ? cap * 2 : 32; r = realloc(r, cap * 2 * sizeof(uint64_t)); if (!r) _exit(ERR_INTERNAL); }
      r[2 * n] = start;
      r[2 * n + 1] = end;
      n++;
    }
  }
  fclose(f);
  /* An exited process (zombie) reads as empty: nothing to send. */
  if (!any) { free(r); return -1; }
  *ranges = r;
  *nranges = n;
  *hash = h;
  return (ssize_t)len;
}

static int outside_every_range(const struct proc_entry *e, uint64_t addr) {
  uint32_t lo = 0, hi = e->nranges;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (addr < e->ranges[2 * mid]) hi = mid;
    else if (addr >= e->ranges[2 * mid + 1]) lo = mid + 1;
    else return 0;
  }
  return 1;
}

/* Reads the process now and sends a PROCESS record; 0 when sent or unchanged, -1 when it is gone. */
static int snapshot(struct proc_entry *e, uint32_t reason, uint64_t now_ns, int64_t wall_offset) {
  uint64_t start_ticks;
  char comm[16];
  if (read_identity(e->pid, &start_ticks, comm) != 0) return -1;
  uint64_t *ranges = NULL, hash = 0;
  uint32_t nranges = 0;
  ssize_t len = read_exec_maps(e->pid, &ranges, &nranges, &hash);
  if (len < 0) return -1;
  int reused = e->start_ticks != 0 && start_ticks != e->start_ticks;
  if (reused && reason == PROC_MAPS_CHANGED) reason = PROC_NEW;
  int changed = reason != PROC_MAPS_CHANGED || hash != e->maps_hash;
  free(e->ranges);
  e->ranges = ranges;
  e->nranges = nranges;
  e->maps_hash = hash;
  e->start_ticks = start_ticks;
  memcpy(e->comm, comm, 16);
  exe_identity(e->pid, &e->exe_dev, &e->exe_ino);
  e->stale = 0;
  e->checked_ns = now_ns;
  /* Addresses outside the maps that re-reading does not explain (broken unwinds) back off. */
  e->refresh_step_ns = changed ? REFRESH_MIN_NS : (e->refresh_step_ns * 2 > REFRESH_MAX_NS ? REFRESH_MAX_NS : e->refresh_step_ns * 2);
  e->refresh_after_ns = now_ns + e->refresh_step_ns;
  if (!changed) return 0;
  uint32_t nspid = ns_pid(e->pid);
  char perf_map[96] = "";
  uint32_t flags = 0;
  if (same_root(e->pid)) {
    flags |= PROC_FLAG_SAME_ROOT;
    snprintf(perf_map, sizeof(perf_map), "/tmp/perf-%u.map", nspid);
    if (access(perf_map, R_OK) != 0) perf_map[0] = 0;
  }
  out_process(e->pid, reason, flags, start_ticks, now_ns + (uint64_t)wall_offset, nspid, comm, maps_buf, (size_t)len, perf_map);
  e->serial = ++last_serial;
  snapshots_sent++;
  return 0;
}

void procs_init(void) {
  have_self_root = stat("/", &self_root) == 0;
  have_self_pidns = stat("/proc/self/ns/pid", &self_pidns) == 0;
}

uint32_t procs_on_sample(uint32_t pid, uint32_t tid, const char *comm, const uint64_t *ustack, uint32_t n_user,
                         uint64_t now_ns, int64_t wall_offset) {
  if (pid == 0 || n_user == 0) { /* kernel threads have no maps */
    struct proc_entry *known = pid ? lookup(pid) : NULL;
    return known ? known->serial : 0;
  }
  struct proc_entry *e = lookup(pid);
  uint32_t reason = 0;
  if (!e) {
    e = insert(pid);
    reason = PROC_NEW;
  } else if (e->stale) {
    reason = PROC_EXEC;
  } else if ((tid == pid && strncmp(comm, e->comm, 16) != 0 && now_ns - e->checked_ns >= COMM_CHECK_NS) ||
             now_ns - e->checked_ns >= exec_fallback_ns) {
    uint64_t start_ticks, dev, ino;
    e->checked_ns = now_ns;
    if (read_identity(pid, &start_ticks, NULL) == 0) {
      exe_identity(pid, &dev, &ino);
      if (start_ticks != e->start_ticks) reason = PROC_NEW; /* the pid was reused */
      else if (dev != e->exe_dev || ino != e->exe_ino) reason = PROC_EXEC;
      else if (tid == pid) memcpy(e->comm, comm, 16); /* the thread renamed itself */
    }
  }
  if (!reason && now_ns >= e->refresh_after_ns) {
    for (uint32_t i = 0; i < n_user; i++) {
      if (ustack[i] && outside_every_range(e, i > 0 ? ustack[i] - 1 : ustack[i])) { reason = PROC_MAPS_CHANGED; break; }
    }
  }
  if (reason && snapshot(e, reason, now_ns, wall_offset) != 0 && reason == PROC_NEW) {
    /* Gone before we could look: keep a placeholder so its next samples do not retry each time. */
    e->checked_ns = now_ns;
    e->refresh_after_ns = now_ns + REFRESH_MAX_NS;
  }
  return e->serial;
}

void procs_on_exec(uint32_t pid) {
  struct proc_entry *e = lookup(pid);
  if (!e) return;
  e->stale = 1;
  /* Only the living exec: the leader's exit was a thread's exec taking its
   * place (kernels without group_dead tell of the leader's exit). */
  e->exited_ns = 0;
}

/* Exits wait until no sample of the process can still come: the kernel
 * fires the exit event before the process's last kernel work (unmapping its
 * memory, closing its files), which is sampled too, and other threads may
 * still be on their way out. In the order they came. */
static struct waiting_exit { uint32_t pid; uint64_t at; } *exits_waiting;
static size_t exits_waiting_n, exits_waiting_cap;

/* The reader forgets a process when told it is gone, instead of polling /proc for every process it knows. */
void procs_on_exit(uint32_t pid, uint64_t event_ns) {
  struct proc_entry *e = lookup(pid);
  if (!e || e->exited_ns) return;
  if (exits_waiting_n == exits_waiting_cap) {
    size_t cap = exits_waiting_cap ? exits_waiting_cap * 2 : 64;
    struct waiting_exit *grown = realloc(exits_waiting, cap * sizeof(*grown));
    if (!grown) { /* no room to wait: tell now */
      out_exit(e->pid, e->start_ticks);
      remove_entry(e);
      return;
    }
    exits_waiting = grown;
    exits_waiting_cap = cap;
  }
  e->exited_ns = event_ns ? event_ns : 1;
  exits_waiting[exits_waiting_n++] = (struct waiting_exit){ pid, e->exited_ns };
}

void procs_send_exits(uint64_t fired_by_ns) {
  size_t i = 0;
  for (; i < exits_waiting_n && exits_waiting[i].at <= fired_by_ns; i++) {
    struct proc_entry *e = lookup(exits_waiting[i].pid);
    /* Not when it exec'd since, or the sweep told of it already. */
    if (!e || e->exited_ns != exits_waiting[i].at) continue;
    out_exit(e->pid, e->start_ticks);
    remove_entry(e);
  }
  exits_waiting_n -= i;
  memmove(exits_waiting, exits_waiting + i, exits_waiting_n * sizeof(*exits_waiting));
}

/* Drops entries of processes that are gone (their exit event may have been lost). */
void procs_sweep(void) {
  for (uint32_t i = 0; i < table_size;) {
    struct proc_entry *e = &table[i];
    uint64_t start_ticks;
    if (e->pid && (read_identity(e->pid, &start_ticks, NULL) != 0 || start_ticks != e->start_ticks)) {
      out_exit(e->pid, e->start_ticks);
      remove_entry(e); /* a later entry may have moved into slot i: look at it again */
      continue;
    }
    i++;
  }
}

uint64_t procs_snapshots_sent(void) { return snapshots_sent; }
uint32_t procs_tracked(void) { return table_used; }
