/*
 * set.c: the two encodings of the set value (see set.h).
 */
#include <stdio.h>
#include <string.h>

#include "sets.h"

int64_t sobj_max_intset = 512;

sobj_t *sobj_new(void) {
    sobj_t *s = ss_api->alloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->enc = SOBJ_INTSET;
    return s;
}

void sobj_free(sobj_t *s) {
    if (s == NULL) return;
    ss_api->free(s->is);
    sd_free(s->ht);
    ss_api->free(s);
}

sobj_t *sobj_copy(const sobj_t *s) {
    sobj_t *c = sobj_new();
    c->enc = s->enc;
    c->count = s->count;
    if (s->enc == SOBJ_HASHTABLE) {
        c->ht = sd_copy(s->ht);
    } else if (s->count) {
        c->is = ss_api->alloc(sizeof(int64_t) * s->count);
        memcpy(c->is, s->is, sizeof(int64_t) * s->count);
        c->cap = s->count;
    }
    return c;
}

size_t sobj_mem(const sobj_t *s) {
    size_t n = ss_api->usable_size((void *)(uintptr_t)s);
    if (s->ht) n += sd_mem(s->ht);
    if (s->is) n += ss_api->usable_size(s->is);
    return n;
}

/* ---------------------------------------------------------------- intset */

/* Index of v in the intset, or where it would go (*found says which). */
static size_t is_search(const sobj_t *s, int64_t v, int *found) {
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->is[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->count && s->is[lo] == v;
    return lo;
}

static int is_format(int64_t v, char *buf) { return snprintf(buf, SOBJ_BUF, "%lld", (long long)v); }

static void is_to_table(sobj_t *s) {
    sd_t *d = sd_new(s->count);
    char buf[SOBJ_BUF];
    for (size_t i = 0; i < s->count; i++) {
        int n = is_format(s->is[i], buf);
        sd_set(d, buf, (size_t)n, NULL, 0);
    }
    ss_api->free(s->is);
    s->is = NULL;
    s->cap = 0;
    s->ht = d;
    s->enc = SOBJ_HASHTABLE;
}

static int is_insert(sobj_t *s, int64_t v) {
    int found;
    size_t at = is_search(s, v, &found);
    if (found) return 0;
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->is = ss_api->realloc(s->is, sizeof(int64_t) * s->cap);
    }
    memmove(s->is + at + 1, s->is + at, sizeof(int64_t) * (s->count - at));
    s->is[at] = v;
    s->count++;
    return 1;
}

/* ---------------------------------------------------------------- operations */

int sobj_add(sobj_t *s, const dfm_str_t *m) {
    long long v;
    if (s->enc == SOBJ_INTSET) {
        if (ss_api->str_to_ll(m->ptr, m->len, &v) == 0) {
            if (!is_insert(s, v)) return 0;
            if (s->count > (size_t)sobj_max_intset) is_to_table(s);
            return 1;
        }
        is_to_table(s);
    }
    int added = sd_set(s->ht, m->ptr, m->len, NULL, 0);
    s->count = s->ht->count;
    return added;
}

int sobj_rem(sobj_t *s, const dfm_str_t *m) {
    long long v;
    int found;
    if (s->enc == SOBJ_HASHTABLE) {
        int gone = sd_del(s->ht, m->ptr, m->len);
        s->count = s->ht->count;
        return gone;
    }
    if (ss_api->str_to_ll(m->ptr, m->len, &v) < 0) return 0;
    size_t at = is_search(s, v, &found);
    if (!found) return 0;
    memmove(s->is + at, s->is + at + 1, sizeof(int64_t) * (s->count - at - 1));
    s->count--;
    return 1;
}

int sobj_has(const sobj_t *s, const dfm_str_t *m) {
    long long v;
    int found;
    if (s->enc == SOBJ_HASHTABLE) return sd_find(s->ht, m->ptr, m->len) != NULL;
    if (ss_api->str_to_ll(m->ptr, m->len, &v) < 0) return 0;
    is_search(s, v, &found);
    return found;
}

void sobj_iter_init(sobj_iter_t *it, const sobj_t *s) {
    it->s = s;
    it->i = 0;
    sd_iter_init(&it->it);
}

int sobj_iter_next(sobj_iter_t *it, dfm_str_t *out) {
    if (it->s->enc == SOBJ_HASHTABLE) {
        const sd_entry_t *e = sd_iter_next(it->s->ht, &it->it);
        if (e) *out = sd_key(e);
        return e != NULL;
    }
    if (it->i >= it->s->count) return 0;
    int n = is_format(it->s->is[it->i++], it->buf);
    *out = (dfm_str_t){it->buf, (size_t)n};
    return 1;
}

void sobj_random(const sobj_t *s, char *buf, dfm_str_t *out) {
    if (s->enc == SOBJ_HASHTABLE) {
        *out = sd_key(sd_random(s->ht));
        return;
    }
    int n = is_format(s->is[sd_rand() % s->count], buf);
    *out = (dfm_str_t){buf, (size_t)n};
}
