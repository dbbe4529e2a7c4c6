/*
 * Kernel frames named by the kernel itself. A BPF_PROG_TYPE_SYSCALL program
 * (bpf-program.c), run on demand with BPF_PROG_TEST_RUN, formats a batch of
 * addresses with bpf_snprintf("%pS"): the kernel's own symbol lookup, which
 * knows the modules and BPF programs loaded right now. Each distinct address
 * of the samples' kernel stacks is named once and sent as a KSYM record right
 * before the first sample that holds it, so profctl never reads
 * /proc/kallsyms: its ~120k symbols were the largest table the resident
 * agent kept, and loading them was most of its start-up peak. Needs Linux
 * 5.14 (syscall programs); without it the caller falls back to kallsyms.
 *
 * Addresses are named as a symbolizer looks them up: the leaf (the sampled
 * instruction) as it is, callers' return addresses minus one (a call as the
 * last instruction of a function would otherwise name the next function).
 * KSYM records carry that lookup address.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "output.h"

static struct kernel_namer namer = { -1, -1, -1 };
static int enabled;

/* Addresses already sent: open addressing, 0 is the empty slot (never a kernel address). */
static uint64_t *sent;
static uint32_t sent_cap, sent_count;
/* Beyond this many names the set starts again (a name is only resent when it recurs). */
#define SENT_MAX (1u << 20)

static uint32_t slot_of(uint64_t addr, uint32_t cap) {
  addr ^= addr >> 33;
  addr *= 0xff51afd7ed558ccdull;
  addr ^= addr >> 33;
  return (uint32_t)addr & (cap - 1);
}

static int seen_or_add(uint64_t addr) {
  if (sent_count * 2 >= sent_cap) {
    uint32_t cap = sent_cap ? sent_cap * 2 : 4096;
    if (sent_count >= SENT_MAX) { cap = 4096; sent_count = 0; free(sent); sent = NULL; sent_cap = 0; }
    uint64_t *next = calloc(cap, 8);
    if (!next) return 1; /* out of memory: name nothing new rather than fail sampling */
    for (uint32_t i = 0; i < sent_cap; i++) {
      if (!sent[i]) continue;
      uint32_t j = slot_of(sent[i], cap);
      while (next[j]) j = (j + 1) & (cap - 1);
      next[j] = sent[i];
    }
    free(sent);
    sent = next;
    sent_cap = cap;
  }
  uint32_t j = slot_of(addr, sent_cap);
  while (sent[j]) {
    if (sent[j] == addr) return 1;
    j = (j + 1) & (sent_cap - 1);
  }
  sent[j] = addr;
  sent_count++;
  return 0;
}

int knames_init(char *msg, size_t msglen) {
  int rc = load_kernel_namer(&namer, msg, msglen);
  if (rc == ERR_NONE) enabled = 1;
  return rc;
}

void knames_forget(void) {
  if (sent) memset(sent, 0, (size_t)sent_cap * 8);
  sent_count = 0;
}

static uint64_t hex_after(const char *s, const char *end) {
  if (end - s < 3 || s[0] != '0' || s[1] != 'x') return 0;
  return strtoull(s + 2, NULL, 16);
}

/* "name+0xoff/0xsize [module]" → a KSYM record; text that is not of that form (an address the kernel cannot name prints as "0x…") → an empty name. */
static void send_name(uint64_t addr, const char *text) {
  size_t len = strnlen(text, KNAME_SLOT - 1);
  const char *end = text + len;
  const char *plus = memchr(text, '+', len);
  if (!plus || plus == text) {
    out_ksym(addr, 0, "", 0, "", 0);
    return;
  }
  uint64_t offset = hex_after(plus + 1, end);
  const char *module = NULL;
  size_t module_len = 0;
  const char *open = memchr(plus, '[', (size_t)(end - plus));
  if (open) {
    const char *close = memchr(open, ']', (size_t)(end - open));
    if (close) { module = open; module_len = (size_t)(close - open + 1); }
  }
  out_ksym(addr, offset <= addr ? addr - offset : 0, text, (size_t)(plus - text), module ? module : "", module_len);
}

static void run_batch(const uint64_t *addrs, int n) {
  uint64_t ctx[KNAME_BATCH];
  memset(ctx, 0, sizeof(ctx));
  memcpy(ctx, addrs, (size_t)n * 8);
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.test.prog_fd = (uint32_t)namer.prog;
  a.test.ctx_in = (uint64_t)(uintptr_t)ctx;
  a.test.ctx_size_in = sizeof(ctx);
  static char out[KNAME_BATCH * KNAME_SLOT];
  uint32_t zero = 0;
  int ok = sys_bpf(BPF_PROG_TEST_RUN, &a, sizeof(a)) == 0;
  if (ok) {
    memset(&a, 0, sizeof(a));
    a.map_fd = (uint32_t)namer.out_map;
    a.key = (uint64_t)(uintptr_t)&zero;
    a.value = (uint64_t)(uintptr_t)out;
    ok = sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) == 0;
  }
  for (int i = 0; i < n; i++) {
    if (ok) send_name(addrs[i], out + i * KNAME_SLOT);
    else out_ksym(addrs[i], 0, "", 0, "", 0);
  }
}

void knames_for_stack(const uint64_t *kstack, uint32_t n) {
  if (!enabled) return;
  uint64_t batch[KNAME_BATCH];
  int k = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t addr = kstack[i];
    if (!addr) continue;
    if (i > 0) addr -= 1;
    if (seen_or_add(addr)) continue;
    batch[k++] = addr;
    if (k == KNAME_BATCH) { run_batch(batch, k); k = 0; }
  }
  if (k) run_batch(batch, k);
}
