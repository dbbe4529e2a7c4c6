/* profctl system-test target: the main thread burns the CPU for a while and
 * then leaves with pthread_exit, while a second thread burns on for SECONDS:
 * the process lives on after its leader's exit. Usage: leader-exit SECONDS */
#include <pthread.h>
#include <stdlib.h>
#include "mono-clock.h"

static volatile unsigned long sink;

__attribute__((noinline)) static void burn_for(double seconds) {
  double end = now() + seconds;
  unsigned long x = 1;
  while (now() < end)
    for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  sink = x;
}

static void *survivor(void *arg) {
  burn_for(*(double *)arg);
  return NULL;
}

int main(int argc, char **argv) {
  static double seconds;
  seconds = argc > 1 ? atof(argv[1]) : 1;
  burn_for(0.3);
  pthread_t t;
  if (pthread_create(&t, NULL, survivor, &seconds) != 0) return 1;
  pthread_exit(NULL);
}
