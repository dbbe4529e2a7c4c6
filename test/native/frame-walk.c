/* profctl system-test target for the sampler's own user-stack walk.
 *   frame-walk deep SECONDS DEPTH: burns the CPU at the bottom of DEPTH
 *     nested calls of walk_down (each keeps a frame: -O0
 *     -fno-omit-frame-pointer), deeper than the 127 entries a walk takes
 *     when DEPTH is large.
 *   frame-walk wide SECONDS DEPTH: the same at the bottom of DEPTH nested
 *     calls of walk_wide, each keeping 64 to 1,072 bytes on the stack, so
 *     that frames are near and far apart, across pages, at many offsets in
 *     a page.
 *   frame-walk below SECONDS: burns the CPU in walk_below with its frame
 *     pointer aimed at a well-formed frame in static memory, below the stack
 *     pointer: saved frame pointer 0, return address inside walk_decoy. A
 *     walk that follows it (the kernel's does) reports walk_decoy as the
 *     caller; one that reads only frames at or above the stack pointer
 *     stops at the leaf.
 *   frame-walk below-syscalls SECONDS: the same frame pointer, in a loop of
 *     getpid system calls, so that most samples are taken in the kernel and
 *     their user stacks start from the registers saved on entry.
 * x86-64 only (walk_below and walk_below_syscalls set %rbp in assembly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mono-clock.h"

static volatile unsigned long sink;

__attribute__((noinline)) void walk_decoy(void) { sink++; sink++; }

static unsigned long decoy_frame[2];

__attribute__((noinline)) void walk_below(double end) {
  while (now() < end) {
    unsigned long n = 20000000;
    __asm__ volatile(
        "mov %%rbp, %%r12\n\t"
        "mov %1, %%rbp\n\t"
        "1: dec %0\n\t"
        "jnz 1b\n\t"
        "mov %%r12, %%rbp\n\t"
        : "+r"(n)
        : "r"(decoy_frame)
        : "r12", "memory", "cc");
  }
}

__attribute__((noinline)) void walk_below_syscalls(double end) {
  while (now() < end) {
    unsigned long n = 20000;
    __asm__ volatile(
        "mov %%rbp, %%r12\n\t"
        "mov %1, %%rbp\n\t"
        "1: mov $39, %%eax\n\t" /* getpid */
        "syscall\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "mov %%r12, %%rbp\n\t"
        : "+r"(n)
        : "r"(decoy_frame)
        : "rax", "rcx", "r11", "r12", "memory", "cc");
  }
}

__attribute__((noinline)) unsigned long walk_down(int depth, double end) {
  if (depth > 1) return walk_down(depth - 1, end) + 1;
  unsigned long x = 1;
  while (now() < end)
    for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  return x;
}

__attribute__((noinline)) unsigned long walk_wide(int depth, double end) {
  volatile char *pad = __builtin_alloca(64 + 16 * (depth * 37 % 64));
  pad[0] = (char)depth;
  if (depth > 1) return walk_wide(depth - 1, end) + pad[0];
  return walk_down(1, end);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  double end = now() + atof(argv[2]);
  if (!strcmp(argv[1], "deep")) {
    printf("%lu\n", walk_down(argc > 3 ? atoi(argv[3]) : 200, end) & 1);
  } else if (!strcmp(argv[1], "wide")) {
    printf("%lu\n", walk_wide(argc > 3 ? atoi(argv[3]) : 40, end) & 1);
  } else if (!strcmp(argv[1], "below") || !strcmp(argv[1], "below-syscalls")) {
    decoy_frame[0] = 0;
    decoy_frame[1] = (unsigned long)walk_decoy + 1; /* a return address inside walk_decoy */
    if (!strcmp(argv[1], "below")) walk_below(end);
    else walk_below_syscalls(end);
  } else {
    return 2;
  }
  return 0;
}
