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

/* 1 and *value when a defined STT_TLS symbol of that name is in the table.
 * The table is read in fixed-size chunks and only TLS symbols' names are read
 * (one pread each): node's .symtab and its string table are ~10 MB, which,
 * read whole, stayed in the helper's heap for its whole life. */
static int find_tls_symbol(int fd, const Elf64_Shdr *tab, const Elf64_Shdr *strtab, uint64_t *value) {
  if (tab->sh_entsize != sizeof(Elf64_Sym) || tab->sh_size > (1u << 30) || strtab->sh_size > (1u << 30)) return 0;
  enum { CHUNK = 512 };
  static Elf64_Sym syms[CHUNK];
  char name[sizeof(OTEL_SYMBOL)]; /* with its NUL: a longer name differs there */
  size_t total = tab->sh_size / sizeof(Elf64_Sym);
  for (size_t base = 0; base < total; base += CHUNK) {
    size_t n = total - base < CHUNK ? total - base : CHUNK;
    if (read_at(fd, syms, n * sizeof(Elf64_Sym), tab->sh_offset + base * sizeof(Elf64_Sym))) return 0;
    for (size_t i = 0; i < n; i++) {
      if (ELF64_ST_TYPE(syms[i].st_info) != STT_TLS || syms[i].st_shndx == SHN_UNDEF) continue;
      if (syms[i].st_name >= strtab->sh_size) continue;
      size_t want = sizeof(name);
      if (syms[i].st_name + want > strtab->sh_size) want = strtab->sh_size - syms[i].st_name;
      if (pread(fd, name, want, (off_t)(strtab->sh_offset + syms[i].st_name)) != (ssize_t)want) continue;
      if (want == sizeof(name) && memcmp(name, OTEL_SYMBOL, sizeof(OTEL_SYMBOL)) == 0) {
        *value = syms[i].st_value;
        return 1;
      }
    }
  }
  return 0;
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
