// A program whose hot code is generated at run time, in anonymous executable
// memory, and named only by the perf map it writes as it exits — as a JVM
// does with -XX:+DumpPerfMapAtExit. Usage: jit-at-exit SECONDS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mono-clock.h"

#ifndef __x86_64__
#error "the generated code is x86-64 machine code"
#endif

int main(int argc, char **argv) {
  double end = now() + (argc > 1 ? atof(argv[1]) : 1.0);
  /* long count_down(long n) { do n--; while (n); return n; } */
  static const unsigned char code[] = {
      0x48, 0x89, 0xf8, /* mov rax, rdi */
      0x48, 0xff, 0xc8, /* dec rax */
      0x75, 0xfb,       /* jnz back to the dec */
      0xc3,             /* ret */
  };
  unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 2;
  /* Not at the page's start: the map must name the code's own range. */
  unsigned char *fn_at = mem + 64;
  memcpy(fn_at, code, sizeof code);
  long (*count_down)(long) = (long (*)(long))(void *)fn_at;
  long sink = 0;
  while (now() < end) sink += count_down(1000000);
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
  FILE *map = fopen(path, "w");
  if (!map) return 3;
  fprintf(map, "%lx %zx generated_count_down\n", (unsigned long)fn_at, sizeof code);
  fclose(map);
  printf("%d\n", (int)getpid());
  return (int)(sink & 0);
}
