/*
 * Reads the kernel's BTF (/sys/kernel/btf/vmlinux) just far enough to find two
 * byte offsets the BPF programs need and cannot know at build time:
 * task_struct.thread.fsbase (the x86_64 thread pointer, base of a thread's
 * TLS, for the OpenTelemetry thread context) and task_struct.tgid (for the
 * fork follower). It must not grow into a general BTF library.
 */
#include <errno.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

struct btf_view {
  const char *types, *strs;
  uint32_t types_len, strs_len;
  const struct btf_type **by_id; /* index: type id -> header */
  uint32_t count;
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

static const char *name_of(const struct btf_view *v, uint32_t off) {
  return off < v->strs_len ? v->strs + off : "";
}

static const struct btf_type *resolve(const struct btf_view *v, uint32_t id) {
  while (id > 0 && id < v->count) {
    const struct btf_type *t = v->by_id[id];
    int kind = BTF_INFO_KIND(t->info);
    if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE &&
        kind != BTF_KIND_RESTRICT && kind != BTF_KIND_TYPE_TAG)
      return t;
    id = t->type;
  }
  return NULL;
}

/* Byte offset of member `name` in struct t, looking inside anonymous
 * structs/unions (randomized or grouped layouts); -1 if absent. */
static int64_t member_offset(const struct btf_view *v, const struct btf_type *t, const char *name, uint32_t *type_out) {
  int kind = BTF_INFO_KIND(t->info);
  if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION) return -1;
  const struct btf_member *m = (const struct btf_member *)(t + 1);
  for (uint16_t i = 0; i < BTF_INFO_VLEN(t->info); i++) {
    uint32_t bits = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
    if (m[i].name_off == 0) {
      const struct btf_type *inner = resolve(v, m[i].type);
      int64_t off = inner ? member_offset(v, inner, name, type_out) : -1;
      if (off >= 0) return bits / 8 + off;
    } else if (strcmp(name_of(v, m[i].name_off), name) == 0) {
      if (type_out) *type_out = m[i].type;
      return bits / 8;
    }
  }
  return -1;
}

static const struct btf_type *find_struct(const struct btf_view *v, const char *name) {
  for (uint32_t id = 1; id < v->count; id++) {
    const struct btf_type *t = v->by_id[id];
    if (BTF_INFO_KIND(t->info) == BTF_KIND_STRUCT && BTF_INFO_VLEN(t->info) > 0 &&
        strcmp(name_of(v, t->name_off), name) == 0)
      return t;
  }
  return NULL;
}

int find_task_offsets(const char *path, struct task_offsets *out, char *msg, size_t msglen) {
  out->fsbase = out->tgid = -1;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, msglen, "reading kernel BTF %s: %s", path, strerror(errno));
    return ERR_BTF;
  }
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
    len += n;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  const struct btf_header *h = (const struct btf_header *)buf;
  if (!buf || len < sizeof(*h) || h->magic != BTF_MAGIC ||
      (size_t)h->hdr_len + h->type_off + h->type_len > len || (size_t)h->hdr_len + h->str_off + h->str_len > len) {
    snprintf(msg, msglen, "%s is not BTF this helper can read", path);
    free(buf);
    return ERR_BTF;
  }
  struct btf_view v = { buf + h->hdr_len + h->type_off, buf + h->hdr_len + h->str_off, h->type_len, h->str_len, NULL, 1 };
  size_t cap_ids = 1 << 17;
  v.by_id = calloc(cap_ids, sizeof(*v.by_id));
  for (uint32_t pos = 0; v.by_id && pos + sizeof(struct btf_type) <= v.types_len;) {
    const struct btf_type *t = (const struct btf_type *)(v.types + pos);
    if (v.count == cap_ids) v.by_id = realloc(v.by_id, (cap_ids *= 2) * sizeof(*v.by_id));
    v.by_id[v.count++] = t;
    pos += sizeof(*t) + extra_bytes(t);
  }
  const struct btf_type *task = find_struct(&v, "task_struct");
  if (task) {
    uint32_t thread_type = 0;
    int64_t thread = member_offset(&v, task, "thread", &thread_type);
    const struct btf_type *ts = thread >= 0 ? resolve(&v, thread_type) : NULL;
    int64_t fsbase = ts ? member_offset(&v, ts, "fsbase", NULL) : -1;
    if (fsbase >= 0) out->fsbase = thread + fsbase;
    out->tgid = member_offset(&v, task, "tgid", NULL);
  }
  free(v.by_id);
  free(buf);
  if (out->tgid < 0) {
    snprintf(msg, msglen, "kernel BTF has no task_struct.tgid");
    return ERR_BTF;
  }
  return ERR_NONE;
}
