/* profctl system-test targets: seconds on the monotonic clock, for the
 * targets that burn the CPU for a given time. */
#ifndef PROFCTL_TEST_MONO_CLOCK_H
#define PROFCTL_TEST_MONO_CLOCK_H
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
