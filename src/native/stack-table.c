/*
 * Interned stacks and thread names. A busy process repeats a handful of
 * stacks thousands of times; sending each sample's 30-odd addresses and its
 * 16-byte comm made the reader decode, compare and hash them once per sample,
 * which was most of the resident agent's CPU. So the helper numbers each
 * distinct stack (per process and process serial: an exec or new mappings
 * give the same addresses another meaning) and each distinct comm, sends a
 * STACK or COMM record the first time it uses a number, and samples carry the
 * two numbers (protocol.md, SAMPLE_REF).
 *
 * The tables start again every 10 minutes (--stack-table-ms) or when one would fill
 * (checked by stacks_prepare before a sample's numbers are taken, so both
 * numbers of a sample come from the same tables), so the reader's copy stays
 * small and stacks of processes long gone are dropped:
 * the first STACK record after a restart has STACK_FLAG_RESET set and
 * numbering restarts at 0. A record always precedes the first sample that
 * uses its number.
 *
 * It must not decide which samples to send or what they mean.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "output.h"

#define MAX_STACKS 8192u              /* distinct stacks per table lifetime */
#define MAX_WORDS (256u * 1024u)      /* 2 MiB of stack words */
#define MAX_COMMS 4096u
#define STACK_SLOTS (2 * MAX_STACKS) /* open addressing at most half full */
#define COMM_SLOTS (2 * MAX_COMMS)
static uint64_t lifetime_ns = 600ull * 1000000000ull; /* --stack-table-ms */

/* Open addressing; slot value 0 is empty, else 1 + the entry's index. */
static uint32_t *stack_slots, *comm_slots;
/* Per stack: its hash and where its words start; words: [pid][serial][nu | nk << 16][addresses...]. */
static uint64_t *stack_hash;
static uint32_t *stack_at;
static uint64_t *words;
static uint32_t nstacks, nwords, ncomms;
static char (*comm_text)[16];
static uint32_t words_cap;
static uint64_t table_born_ns;
static int reset_pending = 1;

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 32);
}

static void *zalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) _exit(ERR_INTERNAL);
  return p;
}

static void tables_clear(uint64_t now_ns) {
  free(stack_slots);
  free(comm_slots);
  free(stack_hash);
  free(stack_at);
  free(words);
  free(comm_text);
  stack_slots = zalloc(STACK_SLOTS, sizeof(uint32_t));
  comm_slots = zalloc(COMM_SLOTS, sizeof(uint32_t));
  stack_hash = zalloc(MAX_STACKS, sizeof(uint64_t));
  stack_at = zalloc(MAX_STACKS, sizeof(uint32_t));
  words = NULL; /* grown as stacks arrive: most machines never need the whole MAX_WORDS */
  words_cap = 0;
  comm_text = zalloc(MAX_COMMS, 16);
  nstacks = nwords = ncomms = 0;
  table_born_ns = now_ns;
  reset_pending = 1;
}

static uint64_t *take_words(uint32_t n) {
  if (nwords + n > words_cap) {
    uint32_t cap = words_cap ? words_cap * 2 : 4096;
    while (cap < nwords + n) cap *= 2;
    uint64_t *next = realloc(words, (size_t)cap * 8);
    if (!next) _exit(ERR_INTERNAL);
    words = next;
    words_cap = cap;
  }
  uint64_t *p = words + nwords;
  nwords += n;
  return p;
}

void stacks_set_lifetime(uint64_t ms) { lifetime_ns = ms * 1000000ull; }

void stacks_prepare(uint32_t frames, uint64_t now_ns) {
  if (!stack_slots || now_ns - table_born_ns >= lifetime_ns || nstacks + 1 > MAX_STACKS ||
      nwords + 3 + frames > MAX_WORDS || ncomms + 1 > MAX_COMMS) {
    tables_clear(now_ns);
  }
}

uint32_t stacks_intern(uint32_t pid, uint32_t serial, const uint64_t *user, uint32_t nu, const uint64_t *kernel, uint32_t nk) {
  uint64_t shape = (uint64_t)nu | (uint64_t)nk << 16;
  uint64_t h = mix(mix(mix(0, pid), serial), shape);
  for (uint32_t i = 0; i < nu; i++) h = mix(h, user[i]);
  for (uint32_t i = 0; i < nk; i++) h = mix(h, kernel[i]);
  for (uint32_t s = (uint32_t)h & (STACK_SLOTS - 1);; s = (s + 1) & (STACK_SLOTS - 1)) {
    uint32_t v = stack_slots[s];
    if (!v) break;
    uint32_t id = v - 1;
    if (stack_hash[id] != h) continue;
    const uint64_t *w = words + stack_at[id];
    if (w[0] == pid && w[1] == serial && w[2] == shape && memcmp(w + 3, user, 8ull * nu) == 0 &&
        memcmp(w + 3 + nu, kernel, 8ull * nk) == 0)
      return id;
  }
  uint32_t id = nstacks++;
  uint32_t at = nwords;
  uint64_t *w = take_words(3 + nu + nk);
  w[0] = pid;
  w[1] = serial;
  w[2] = shape;
  memcpy(w + 3, user, 8ull * nu);
  memcpy(w + 3 + nu, kernel, 8ull * nk);
  stack_hash[id] = h;
  stack_at[id] = at;
  uint32_t s = (uint32_t)h & (STACK_SLOTS - 1);
  while (stack_slots[s]) s = (s + 1) & (STACK_SLOTS - 1);
  stack_slots[s] = id + 1;
  out_stack(id, pid, reset_pending ? STACK_FLAG_RESET : 0, user, nu, kernel, nk);
  reset_pending = 0;
  return id;
}

uint32_t comms_intern(const char comm[16]) {
  char key[16];
  memset(key, 0, 16);
  strncpy(key, comm, 16);
  uint64_t a, b;
  memcpy(&a, key, 8);
  memcpy(&b, key + 8, 8);
  uint64_t h = mix(mix(1, a), b);
  for (uint32_t s = (uint32_t)h & (COMM_SLOTS - 1);; s = (s + 1) & (COMM_SLOTS - 1)) {
    uint32_t v = comm_slots[s];
    if (!v) {
      uint32_t id = ncomms++;
      memcpy(comm_text[id], key, 16);
      comm_slots[s] = id + 1;
      out_comm(id, key);
      return id;
    }
    if (memcmp(comm_text[v - 1], key, 16) == 0) return v - 1;
  }
}
