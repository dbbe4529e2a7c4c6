/*
 * Reads the kernel's BTF (/sys/kernel/btf/vmlinux) just far enough to find two
 * byte offsets the BPF programs need and cannot know at build time:
 * task_struct.thread.fsbase (the x86_64 thread pointer, base of a thread's
 * TLS, for the OpenTelemetry thread context) and task_struct.tgid (for the
 * fork follower). It must not grow into a general BTF library.
 *
 * The file (5.5 MB here) is streamed, never held: one pass over the string
 * section finds where the few names it needs are stored, one pass over the
 * type section records where each type starts (4 bytes per type), and the
 * handful of types it then follows are read with pread. Held whole, the file
 * was most of the helper's peak memory, for a lookup done once at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

enum { NAME_TASK_STRUCT, NAME_THREAD, NAME_FSBASE, NAME_TGID, NAME_COUNT, MAX_COPIES = 4 };
static const char *const wanted_names[NAME_COUNT] = { "task_struct", "thread", "fsbase", "tgid" };

struct btf_file {
  int fd;
  uint64_t types_at, strs_at; /* file offsets of the sections */
  uint32_t types_len, strs_len;
  uint32_t *type_pos; /* index: type id -> offset in the type section */
  uint32_t count;
  /* Where each wanted name is stored in the string section (deduplicated: usually once). */
  uint32_t name_offs[NAME_COUNT][MAX_COPIES];
  int name_copies[NAME_COUNT];
};

static size_t extra_bytes(const struct btf_type *t) {
  uint16_t vlen = BTF_INFO_VLEN(t->info);
  switch (BTF_INFO_KIND(t->info)) {
  case BTF_KIND_INT: return 4;
  case BTF_KIND_ARRAY: return sizeof(struct btf_array);
  case BTF_KIND_STRUCT:
  case BTF_KIND_UNION: return vlen * sizeof(struct btf_member);
  case BTF_KIND_ENUM: return vlen * sizeof(struct btf_enum);
  case BTF_KIND_FUNC_PROTO: return vlen * sizeof(struct btf_param);
  case BTF_KIND_VAR: return sizeof(struct btf_var);
  case BTF_KIND_DATASEC: return vlen * sizeof(struct btf_var_secinfo);
  case BTF_KIND_DECL_TAG: return sizeof(struct btf_decl_tag);
  case BTF_KIND_ENUM64: return vlen * sizeof(struct btf_enum64);
  default: return 0; /* PTR, FWD, TYPEDEF, qualifiers, FUNC, FLOAT, TYPE_TAG */
  }
}

/* sysfs hands out at most a page per read: loop until len bytes came. */
static int read_at(int fd, void *dst, size_t len, uint64_t off) {
  for (size_t done = 0; done < len;) {
    ssize_t n = pread(fd, (char *)dst + done, len - done, (off_t)(off + done));
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

static int is_name(const struct btf_file *b, uint32_t off, int which) {
  for (int i = 0; i < b->name_copies[which]; i++)
    if (b->name_offs[which][i] == off) return 1;
  return 0;
}

/* One pass over the string section: the offsets of the wanted names. */
static int scan_strings(struct btf_file *b) {
  char chunk[1 << 16], cur[32];
  size_t cur_len = 0;
  int too_long = 0;
  uint32_t start = 0;
  for (uint32_t pos = 0; pos < b->strs_len;) {
    uint32_t n = b->strs_len - pos < sizeof(chunk) ? b->strs_len - pos : (uint32_t)sizeof(chunk);
    if (read_at(b->fd, chunk, n, b->strs_at + pos)) return -1;
    for (uint32_t i = 0; i < n; i++) {
      if (chunk[i] == 0) {
        for (int w = 0; w < NAME_COUNT && !too_long; w++)
          if (strlen(wanted_names[w]) == cur_len && memcmp(cur, wanted_names[w], cur_len) == 0 && b->name_copies[w] < MAX_COPIES)
            b->name_offs[w][b->name_copies[w]++] = start;
        cur_len = 0;
        too_long = 0;
        start = pos + i + 1;
      } else if (cur_len < sizeof(cur)) cur[cur_len++] = chunk[i];
      else too_long = 1;
    }
    pos += n;
  }
  return 0;
}

/* One pass over the type section: where each type starts; and task_struct's id. */
static int scan_types(struct btf_file *b, uint32_t *task_id) {
  uint8_t chunk[1 << 16];
  uint64_t chunk_at = 0; /* section offset of chunk[0] */
  uint32_t chunk_len = 0, cap = 1 << 17;
  b->type_pos = malloc(cap * sizeof(uint32_t));
  b->count = 1; /* id 0 is void */
  *task_id = 0;
  for (uint64_t pos = 0; b->type_pos && pos + sizeof(struct btf_type) <= b->types_len;) {
    if (pos + sizeof(struct btf_type) > chunk_at + chunk_len) {
      chunk_at = pos;
      chunk_len = b->types_len - pos < sizeof(chunk) ? (uint32_t)(b->types_len - pos) : (uint32_t)sizeof(chunk);
      if (read_at(b->fd, chunk, chunk_len, b->types_at + chunk_at)) return -1;
    }
    struct btf_type t;
    memcpy(&t, chunk + (pos - chunk_at), sizeof(t));
    if (b->count == cap) {
      uint32_t *grown = realloc(b->type_pos, (cap *= 2) * sizeof(uint32_t));
      if (!grown) return -1;
      b->type_pos = grown;
    }
    if (!*task_id && BTF_INFO_KIND(t.info) == BTF_KIND_STRUCT && BTF_INFO_VLEN(t.info) > 0 && is_name(b, t.name_off, NAME_TASK_STRUCT))
      *task_id = b->count;
    b->type_pos[b->count++] = (uint32_t)pos;
    pos += sizeof(t) + extra_bytes(&t);
  }
  return b->type_pos ? 0 : -1;
}

static int read_type(const struct btf_file *b, uint32_t id, struct btf_type *t) {
  if (id == 0 || id >= b->count) return -1;
  return read_at(b->fd, t, sizeof(*t), b->types_at + b->type_pos[id]);
}

/* Follows typedefs and qualifiers; the id of the type underneath, or 0. */
static uint32_t resolve(const struct btf_file *b, uint32_t id) {
  struct btf_type t;
  for (int hops = 0; hops < 64 && read_type(b, id, &t) == 0; hops++) {
    int kind = BTF_INFO_KIND(t.info);
    if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE &&
        kind != BTF_KIND_RESTRICT && kind != BTF_KIND_TYPE_TAG)
      return id;
    id = t.type;
  }
  return 0;
}

/* Byte offset of member `which` in struct/union `id`, looking inside anonymous
 * structs/unions (randomized or grouped layouts); -1 if absent. */
static int64_t member_offset(const struct btf_file *b, uint32_t id, int which, uint32_t *type_out, int depth) {
  struct btf_type t;
  if (depth > 8 || read_type(b, id, &t)) return -1;
  int kind = BTF_INFO_KIND(t.info);
  if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION) return -1;
  uint16_t vlen = BTF_INFO_VLEN(t.info);
  struct btf_member *m = malloc((vlen ? vlen : 1) * sizeof(*m));
  int64_t result = -1;
  if (m && read_at(b->fd, m, vlen * sizeof(*m), b->types_at + b->type_pos[id] + sizeof(t)) == 0) {
    for (uint16_t i = 0; i < vlen && result < 0; i++) {
      uint32_t bits = BTF_INFO_KFLAG(t.info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
      if (m[i].name_off == 0) {
        uint32_t inner = resolve(b, m[i].type);
        int64_t off = inner ? member_offset(b, inner, which, type_out, depth + 1) : -1;
        if (off >= 0) result = bits / 8 + off;
      } else if (is_name(b, m[i].name_off, which)) {
        if (type_out) *type_out = m[i].type;
        result = bits / 8;
      }
    }
  }
  free(m);
  return result;
}

int find_task_offsets(const char *path, struct task_offsets *out, char *msg, size_t msglen) {
  out->fsbase = out->tgid = -1;
  struct btf_file b;
  memset(&b, 0, sizeof(b));
  b.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (b.fd < 0) {
    snprintf(msg, msglen, "reading kernel BTF %s: %s", path, strerror(errno));
    return ERR_BTF;
  }
  struct btf_header h;
  struct stat st;
  int64_t size = fstat(b.fd, &st) == 0 ? (int64_t)st.st_size : -1;
  if (read_at(b.fd, &h, sizeof(h), 0) || h.magic != BTF_MAGIC || size < 0 ||
      (uint64_t)h.hdr_len + h.type_off + h.type_len > (uint64_t)size || (uint64_t)h.hdr_len + h.str_off + h.str_len > (uint64_t)size) {
    snprintf(msg, msglen, "%s is not BTF this helper can read", path);
    close(b.fd);
    return ERR_BTF;
  }
  b.types_at = (uint64_t)h.hdr_len + h.type_off;
  b.strs_at = (uint64_t)h.hdr_len + h.str_off;
  b.types_len = h.type_len;
  b.strs_len = h.str_len;
  uint32_t task = 0;
  if (scan_strings(&b) == 0 && b.name_copies[NAME_TASK_STRUCT] > 0 && scan_types(&b, &task) == 0 && task) {
    uint32_t thread_type = 0;
    int64_t thread = member_offset(&b, task, NAME_THREAD, &thread_type, 0);
    uint32_t ts = thread >= 0 ? resolve(&b, thread_type) : 0;
    int64_t fsbase = ts ? member_offset(&b, ts, NAME_FSBASE, NULL, 0) : -1;
    if (fsbase >= 0) out->fsbase = thread + fsbase;
    out->tgid = member_offset(&b, task, NAME_TGID, NULL, 0);
  }
  free(b.type_pos);
  close(b.fd);
  if (out->tgid < 0) {
    snprintf(msg, msglen, "kernel BTF has no task_struct.tgid");
    return ERR_BTF;
  }
  return ERR_NONE;
}
