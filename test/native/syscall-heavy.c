/* profctl system-test target: spends its time in the kernel (small writes to
 * /dev/null), so its samples carry kernel stacks. Usage: syscall-heavy SECONDS */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2;
  int fd = open("/dev/null", O_WRONLY);
  char buf[4096] = { 0 };
  time_t end = time(NULL) + (time_t)seconds + 1;
  struct timespec start, ts;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    for (int i = 0; i < 1000; i++) {
      if (write(fd, buf, sizeof(buf)) < 0) return 1;
      getppid();
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ts.tv_sec - start.tv_sec + (ts.tv_nsec - start.tv_nsec) / 1e9 > seconds || time(NULL) > end) break;
  }
  return 0;
}
