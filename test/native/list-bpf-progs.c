/* profctl system-test tool: prints "ID NAME" for every BPF program loaded in
 * the kernel (BPF_PROG_GET_NEXT_ID + BPF_OBJ_GET_INFO_BY_FD), so a test can
 * check that the helper's programs are gone after it exits. Needs root. */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof(*a)); }

int main(void) {
  union bpf_attr a;
  unsigned id = 0;
  for (;;) {
    memset(&a, 0, sizeof(a));
    a.start_id = id;
    if (bpf(BPF_PROG_GET_NEXT_ID, &a)) break;
    id = a.next_id;
    memset(&a, 0, sizeof(a));
    a.prog_id = id;
    int fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &a);
    if (fd < 0) continue;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    memset(&a, 0, sizeof(a));
    a.info.bpf_fd = (unsigned)fd;
    a.info.info_len = sizeof(info);
    a.info.info = (unsigned long)&info;
    if (bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0)
      printf("%u %s %llu %llu\n", id, info.name, (unsigned long long)info.run_time_ns, (unsigned long long)info.run_cnt);
    close(fd);
  }
  return 0;
}
