/* profctl system-test target: burns the CPU for SECONDS, then exits holding
 * MB megabytes of touched memory and as many open descriptors as it may
 * have, so that the kernel's work for its exit (unmapping, closing) is long
 * enough to be sampled after the process's exit event fired.
 * Usage: exit-tail SECONDS [MB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mono-clock.h"

__attribute__((noinline)) unsigned long tail_burn(unsigned long x) {
  for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  return x;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1;
  size_t bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 20;
  char *heap = malloc(bytes);
  if (heap) memset(heap, 1, bytes);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  for (int i = 0; i < 50000; i++) {
    int fds[2];
    if (pipe(fds) != 0) break;
  }
  double end = now() + seconds;
  unsigned long x = 1;
  while (now() < end) x = tail_burn(x);
  printf("%lu\n", x & 1);
  return 0;
}
