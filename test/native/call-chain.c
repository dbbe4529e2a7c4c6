/* profctl system-test target: a known call chain main -> chain_alpha ->
 * chain_beta -> chain_leaf, where chain_leaf burns the CPU. Built with
 * -O0 -fno-omit-frame-pointer so every function keeps a frame and a
 * frame-pointer unwinder sees the whole chain. Usage: call-chain SECONDS [DEPTHS]
 * With DEPTHS, the chain runs below chain_deep nested 1, 2, ... DEPTHS times
 * in turn, 10 ms at each depth: a new stack every 10 ms. */
#include <stdio.h>
#include <stdlib.h>
#include "mono-clock.h"

__attribute__((noinline)) unsigned long chain_leaf(unsigned long x) {
  for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  return x;
}
__attribute__((noinline)) unsigned long chain_beta(unsigned long x) { return chain_leaf(x) + 1; }
__attribute__((noinline)) unsigned long chain_alpha(unsigned long x) { return chain_beta(x) + 1; }

__attribute__((noinline)) unsigned long chain_deep(int depth, double until, unsigned long x) {
  if (depth > 1) return chain_deep(depth - 1, until, x) + 1;
  while (now() < until) x = chain_alpha(x);
  return x;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2;
  int depths = argc > 2 ? atoi(argv[2]) : 0;
  double end = now() + seconds;
  unsigned long x = 1;
  for (int k = 0; depths > 0 && now() < end; k++) x = chain_deep(1 + k % depths, now() + 0.01, x);
  while (now() < end) x = chain_alpha(x);
  printf("%lu\n", x & 1);
  return 0;
}
