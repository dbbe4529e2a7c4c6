/* profctl symbolization test program: a known call chain that burns CPU for
   argv[1] milliseconds (default 50), then exits. Functions are kept out of
   line so every one has its own symbol. */
#include <stdlib.h>
#include <time.h>

volatile unsigned long symbolize_sink;

__attribute__((noinline)) static unsigned long burn_inner_static(unsigned long n) {
  unsigned long x = n;
  for (unsigned long i = 0; i < 100000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  return x;
}

__attribute__((noinline)) unsigned long burn_outer(long ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  unsigned long acc = 0;
  do {
    acc += burn_inner_static(acc);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L < ms);
  return acc;
}

int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 50;
  symbolize_sink = burn_outer(ms);
  return 0;
}
