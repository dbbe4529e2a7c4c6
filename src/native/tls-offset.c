/*
 * Finds where a process's OpenTelemetry thread-context pointer lives: the
 * offset of the TLS symbol otel_thread_ctx_v1 from the thread pointer, for a
 * symbol defined in the main executable's static TLS block (x86_64, TLS
 * variant II: the block sits just below the thread pointer). Shared
 * libraries' TLS (dlopen, dynamic TLS) is not handled here. Reads only ELF
 * headers, program headers and symbol tables with pread; never maps the file.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

#define OTEL_SYMBOL "otel_thread_ctx_v1"

static int read_at(int fd, void *dst, size_t len, uint64_t off) {
  return pread(fd, dst, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

/* 1 and *value when a defined STT_TLS symbol of that name is in the table. */
static int find_tls_symbol(int fd, const Elf64_Shdr *tab, const Elf64_Shdr *strtab, uint64_t *value) {
  if (tab->sh_entsize != sizeof(Elf64_Sym) || tab->sh_size > (1u << 30) || strtab->sh_size > (1u << 30)) return 0;
  char *names = malloc(strtab->sh_size + 1);
  Elf64_Sym *syms = malloc(tab->sh_size);
  int found = 0;
  if (names && syms && read_at(fd, names, strtab->sh_size, strtab->sh_offset) == 0 &&
      read_at(fd, syms, tab->sh_size, tab->sh_offset) == 0) {
    names[strtab->sh_size] = 0;
    for (size_t i = 0; i < tab->sh_size / sizeof(Elf64_Sym); i++) {
      if (ELF64_ST_TYPE(syms[i].st_info) != STT_TLS || syms[i].st_shndx == SHN_UNDEF) continue;
      if (syms[i].st_name < strtab->sh_size && strcmp(names + syms[i].st_name, OTEL_SYMBOL) == 0) {
        *value = syms[i].st_value;
        found = 1;
        break;
      }
    }
  }
  free(names);
  free(syms);
  return found;
}

int find_otel_tls_offset(const char *path, int64_t *offset) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  Elf64_Ehdr eh;
  int result = -1;
  Elf64_Phdr *ph = NULL;
  Elf64_Shdr *sh = NULL;
  if (read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr))
    goto out;
  result = 0;
  ph = calloc(eh.e_phnum, sizeof(*ph));
  sh = calloc(eh.e_shnum, sizeof(*sh));
  if (!ph || !sh || read_at(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff) ||
      read_at(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff))
    goto out;
  const Elf64_Phdr *tls = NULL;
  for (int i = 0; i < eh.e_phnum; i++)
    if (ph[i].p_type == PT_TLS) tls = &ph[i];
  if (!tls) goto out;
  uint64_t value = 0;
  int found = 0;
  /* .dynsym first (small, survives stripping), then .symtab. */
  for (int pass = 0; pass < 2 && !found; pass++) {
    uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
    for (int i = 0; i < eh.e_shnum && !found; i++)
      if (sh[i].sh_type == want && sh[i].sh_link < eh.e_shnum)
        found = find_tls_symbol(fd, &sh[i], &sh[sh[i].sh_link], &value);
  }
  if (!found) goto out;
  /* glibc places the executable's block at tp - off, where off is the block
   * size rounded up to its alignment, keeping p_vaddr's misalignment
   * (firstbyte) so that addresses inside the block stay aligned. */
  uint64_t align = tls->p_align ? tls->p_align : 1;
  uint64_t firstbyte = (-tls->p_vaddr) & (align - 1);
  uint64_t block = ((tls->p_memsz - firstbyte + align - 1) / align) * align + firstbyte;
  *offset = (int64_t)value - (int64_t)block;
  result = 1;
out:
  free(ph);
  free(sh);
  close(fd);
  return result;
}
