/*
 * pw_hostcalls_props.c — proxy_get_property / proxy_set_property (§2.6, §6.3).
 *
 * Path:      segments separated by NUL; a trailing NUL adds no segment; a
 *            single segment containing dots that is not found as-is is
 *            retried split on dots (reads only).
 * Order:     plugin_name, plugin_root_id, plugin_vm_id (every context),
 *            plugin_vm_memory (u64 LE); then the stream's filter state (keys
 *            set with proxy_set_property, raw path bytes); then request.*
 *            derived from the request map (path, url_path, host, scheme,
 *            method, headers (pair map, repeats comma-joined),
 *            headers.<name>, query, id, useragent, referer); then
 *            pw_stream_host.property with the dotted path; else NOT_FOUND.
 *            Stream attributes in a root context → NOT_FOUND.
 * Set:       needs a stream (NOT_FOUND otherwise) except wasm_need_rebuild,
 *            which marks the VM for a rebuild by its slot. Values stored as
 *            per-stream filter state, readable back.
 */
#include <stdlib.h>

#include "pw_int.h"

#define MAX_SEG 16

typedef struct seg {
    const char *p;
    size_t n;
} seg;

static size_t split(const char *p, size_t n, char sep, seg *out)
{
    size_t k = 0, i = 0;
    while (i < n && k < MAX_SEG) {
        size_t j = i;
        while (j < n && p[j] != sep)
            j++;
        out[k++] = (seg){p + i, j - i};
        i = j + 1;
    }
    return k;
}

static bool is(seg s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && !memcmp(s.p, lit, n);
}

static const pw_map_entry *hdr(pw_stream *s, const char *name)
{
    return pw_map_get(&s->maps[PW_MAP_REQUEST_HEADERS], name, strlen(name));
}

/* Comma-joined values of a header; false if absent. */
static bool joined(pw_stream *s, const char *name, size_t n, ut_buf *out)
{
    const pw_map *m = &s->maps[PW_MAP_REQUEST_HEADERS];
    bool any = false;
    for (size_t i = 0; i < m->n; i++) {
        if (!pw__key_eq(m->e[i].key, m->e[i].key_len, name, n))
            continue;
        if (any)
            ut_buf_putc(out, ',');
        ut_buf_append(out, m->e[i].value, m->e[i].value_len);
        any = true;
    }
    return any;
}

static pw_status request_prop(pw_stream *s, const seg *sg, size_t k, ut_buf *out)
{
    if (k < 2)
        return PW_NOT_FOUND;
    seg a = sg[1];
    const char *hname = NULL;
    if (is(a, "path") || is(a, "url_path") || is(a, "query")) {
        const pw_map_entry *e = hdr(s, ":path");
        if (!e)
            return PW_NOT_FOUND;
        const char *q = memchr(e->value, '?', e->value_len);
        if (is(a, "path")) {
            ut_buf_append(out, e->value, e->value_len);
        } else if (is(a, "url_path")) {
            ut_buf_append(out, e->value, q ? (size_t)(q - e->value) : e->value_len);
        } else {
            if (!q)
                return PW_OK; /* empty */
            q++;
            size_t rest = e->value_len - (size_t)(q - e->value);
            const char *h = memchr(q, '#', rest);
            ut_buf_append(out, q, h ? (size_t)(h - q) : rest);
        }
        return PW_OK;
    }
    if (is(a, "host"))
        hname = ":authority";
    else if (is(a, "scheme"))
        hname = ":scheme";
    else if (is(a, "method"))
        hname = ":method";
    else if (is(a, "id"))
        hname = "x-request-id";
    else if (is(a, "useragent"))
        hname = "user-agent";
    else if (is(a, "referer"))
        hname = "referer";
    if (hname) {
        if (k != 2)
            return PW_NOT_FOUND;
        const pw_map_entry *e = hdr(s, hname);
        if (!e)
            return PW_NOT_FOUND;
        ut_buf_append(out, e->value, e->value_len);
        return PW_OK;
    }
    if (is(a, "headers")) {
        if (k == 3)
            return joined(s, sg[2].p, sg[2].n, out) ? PW_OK : PW_NOT_FOUND;
        if (k != 2)
            return PW_NOT_FOUND;
        /* map of distinct non-pseudo names, repeats comma-joined */
        const pw_map *m = &s->maps[PW_MAP_REQUEST_HEADERS];
        pw_map tmp = {0};
        ut_buf v = {0};
        pw_status st = PW_OK;
        for (size_t i = 0; i < m->n && st == PW_OK; i++) {
            const pw_map_entry *e = &m->e[i];
            if (e->key_len && e->key[0] == ':')
                continue;
            if (pw_map_get(&tmp, e->key, e->key_len))
                continue;
            ut_buf_reset(&v);
            joined(s, e->key, e->key_len, &v);
            if (v.oom || !pw_map_add(&tmp, e->key, e->key_len, v.data ? v.data : "", v.len))
                st = PW_INTERNAL_FAILURE;
        }
        if (st == PW_OK && tmp.n) {
            size_t n = pw__map_serialized_size(&tmp);
            if (ut_buf_reserve(out, n)) {
                pw__map_serialize(&tmp, (uint8_t *)out->data + out->len);
                out->len += n;
            }
        }
        ut_buf_free(&v);
        pw_map_free(&tmp);
        return st;
    }
    return PW_NOT_FOUND;
}

static const pw__kv *fs_find(pw_stream *s, const char *k, size_t n)
{
    for (size_t i = 0; i < s->fs_n; i++)
        if (s->fs[i].key_len == n && !memcmp(s->fs[i].key, k, n))
            return &s->fs[i];
    return NULL;
}

static pw_status lookup(pw_vm *vm, const char *path, size_t n, const seg *sg, size_t k,
                        ut_buf *out)
{
    pw_stream *s = vm->eff.s;
    if (k == 1) {
        const pw_plugin *p = vm->plugin;
        const char *v = NULL;
        if (is(sg[0], "plugin_name"))
            v = p->name;
        else if (is(sg[0], "plugin_root_id"))
            v = p->roots[vm->eff.root < p->root_count ? vm->eff.root : 0].root_id;
        else if (is(sg[0], "plugin_vm_id"))
            v = p->vm_id;
        if (v) {
            ut_buf_puts(out, v);
            return PW_OK;
        }
        if (is(sg[0], "plugin_vm_memory")) {
            uint64_t m = pw_vm_memory_bytes(vm);
            uint8_t le[8];
            for (int i = 0; i < 8; i++)
                le[i] = (uint8_t)(m >> (8 * i));
            ut_buf_append(out, le, 8);
            return PW_OK;
        }
    }
    if (!s || !k)
        return PW_NOT_FOUND;
    const pw__kv *kv = fs_find(s, path, n);
    if (!kv && k == 1)
        kv = fs_find(s, sg[0].p, sg[0].n);
    if (kv) {
        ut_buf_append(out, kv->val, kv->val_len);
        return PW_OK;
    }
    if (is(sg[0], "request"))
        return request_prop(s, sg, k, out);
    if (!s->host.property)
        return PW_NOT_FOUND;
    /* dotted path for the embedder */
    char dotted[512];
    size_t dn = 0;
    for (size_t i = 0; i < k; i++) {
        if (dn + sg[i].n + 2 > sizeof dotted)
            return PW_NOT_FOUND;
        if (i)
            dotted[dn++] = '.';
        memcpy(dotted + dn, sg[i].p, sg[i].n);
        dn += sg[i].n;
    }
    dotted[dn] = '\0';
    return s->host.property(s->host.user, dotted, out);
}

static pw_status get_property(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *pp;
    uint32_t n = PW__A(1);
    if (!pw__rd(vm, PW__A(0), n, &pp))
        return PW_INVALID_MEMORY_ACCESS;
    if (n > 1024)
        return PW_NOT_FOUND;
    char path[1024];
    memcpy(path, pp, n); /* the guest may move memory when we allocate */
    seg sg[MAX_SEG] = {{0}};
    size_t k = split(path, n, '\0', sg);
    ut_buf *out = &vm->scratch;
    ut_buf_reset(out);
    pw_status st = lookup(vm, path, n, sg, k, out);
    if (st == PW_NOT_FOUND && k == 1 && memchr(sg[0].p, '.', sg[0].n)) {
        seg ds[MAX_SEG] = {{0}};
        size_t dk = split(sg[0].p, sg[0].n, '.', ds);
        ut_buf_reset(out);
        st = lookup(vm, path, n, ds, dk, out);
    }
    if (st)
        return st;
    if (out->oom)
        return PW_INTERNAL_FAILURE;
    return pw__ret_bytes(vm, PW__A(2), PW__A(3), out->data, out->len);
}

static pw_status set_property(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *kp, *vp;
    uint32_t kn = PW__A(1), vn = PW__A(3);
    if (!pw__rd(vm, PW__A(0), kn, &kp) || !pw__rd(vm, PW__A(2), vn, &vp))
        return PW_INVALID_MEMORY_ACCESS;
    /* a trailing NUL (C++ SDK path encoding) is not part of the key */
    if (kn && kp[kn - 1] == 0)
        kn--;
    static const char rebuild[] = "wasm_need_rebuild";
    if (kn == sizeof rebuild - 1 && !memcmp(kp, rebuild, kn)) {
        if (vn == 4 && !memcmp(vp, "true", 4))
            vm->need_rebuild = true;
        if (!vm->eff.s)
            return PW_OK;
    }
    pw_stream *s = vm->eff.s;
    if (!s)
        return PW_NOT_FOUND;
    uint8_t *val = malloc(vn ? vn : 1);
    if (!val)
        return PW_INTERNAL_FAILURE;
    if (vn)
        memcpy(val, vp, vn);
    pw__kv *kv = (pw__kv *)fs_find(s, (const char *)kp, kn);
    if (kv) {
        free(kv->val);
        kv->val = val;
        kv->val_len = vn;
        return PW_OK;
    }
    if (s->fs_n == s->fs_cap) {
        size_t cap = s->fs_cap ? s->fs_cap * 2 : 4;
        pw__kv *f = realloc(s->fs, cap * sizeof *f);
        if (!f) {
            free(val);
            return PW_INTERNAL_FAILURE;
        }
        s->fs = f;
        s->fs_cap = cap;
    }
    char *key = malloc(kn ? kn : 1);
    if (!key) {
        free(val);
        return PW_INTERNAL_FAILURE;
    }
    memcpy(key, kp, kn);
    s->fs[s->fs_n++] = (pw__kv){key, kn, val, vn};
    return PW_OK;
}

PW__HOSTCALL(get_property)
PW__HOSTCALL(set_property)

const pw__def pw__defs_props[] = {
    {"proxy_get_property", "iiii:i", h_get_property},
    {"proxy_set_property", "iiii:i", h_set_property},
    {NULL, NULL, NULL},
};
