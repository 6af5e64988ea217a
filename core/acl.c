/*
 * acl.c: the user registry and the permission check (see acl.h for the threading model).
 *
 * Publishing: a writer (holding acl_wlock) builds a new version or a new user list, stores
 * it with release ordering, and retires what it replaced; retired memory is freed only by
 * acl_free at shutdown, so readers on any worker never take a lock and never see freed
 * memory. The default user's slot is created once and never replaced (ACL LOAD copies the
 * file's default into it, as Redis does), so its clients survive a LOAD.
 */
#include "acl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl_user.h"
#include "config.h"
#include "glob.h"
#include "util.h"

static _Atomic(const acl_reg_t *) acl_cur_reg;
static acl_slot_t *acl_default_slot;
static pthread_mutex_t acl_wlock = PTHREAD_MUTEX_INITIALIZER;

/* Retired memory, freed at acl_free (writers only, under acl_wlock). */
typedef struct acl_retired {
    void *p;
    int kind; /* 0 version, 1 registry, 2 slot */
} acl_retired_t;
static acl_retired_t *acl_retired;
static size_t acl_nretired, acl_capretired;

static void acl_retire(void *p, int kind) {
    if (!p) return;
    if (acl_nretired == acl_capretired) {
        acl_capretired = acl_capretired ? acl_capretired * 2 : 64;
        acl_retired = realloc(acl_retired, acl_capretired * sizeof *acl_retired);
        if (!acl_retired) abort();
    }
    acl_retired[acl_nretired].p = p;
    acl_retired[acl_nretired++].kind = kind;
}

static void acl_publish(acl_slot_t *s, acl_user_t *u) {
    if (u) acl__user_finish(u);
    const acl_user_t *old = atomic_exchange_explicit(&s->cur, u, memory_order_acq_rel);
    acl_retire((void *)old, 0);
}

static acl_slot_t *acl_slot_new(const char *name, size_t len, acl_user_t *u) {
    acl_slot_t *s = calloc(1, sizeof *s);
    if (!s || !(s->name = malloc(len + 1))) abort();
    memcpy(s->name, name, len);
    s->name[len] = '\0';
    acl_publish(s, u);
    return s;
}

const acl_reg_t *acl__reg(void) { return atomic_load_explicit(&acl_cur_reg, memory_order_acquire); }
acl_slot_t *acl_default(void) { return acl_default_slot; }

static int acl_reg_find(const acl_reg_t *r, const char *name, size_t len, int *at) {
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const char *m = r->slots[mid]->name;
        size_t ml = strlen(m);
        int c = memcmp(m, name, ml < len ? ml : len);
        if (c == 0) c = ml < len ? -1 : ml > len;
        if (c == 0) {
            *at = mid;
            return 1;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *at = lo;
    return 0;
}

acl_slot_t *acl_lookup(const char *name, size_t len) {
    const acl_reg_t *r = acl__reg();
    int at;
    return acl_reg_find(r, name, len, &at) ? r->slots[at] : NULL;
}

/* A copy of the current list with slot s inserted at `at` (del 0) or removed (del 1). */
static void acl_reg_change(int at, acl_slot_t *s, int del) {
    const acl_reg_t *old = acl__reg();
    acl_reg_t *r = calloc(1, sizeof *r);
    if (!r || !(r->slots = calloc((size_t)old->n + 1, sizeof *r->slots))) abort();
    for (int i = 0; i < old->n; i++) {
        if (del && i == at) continue;
        if (!del && i == at) r->slots[r->n++] = s;
        r->slots[r->n++] = old->slots[i];
    }
    if (!del && at == old->n) r->slots[r->n++] = s;
    atomic_store_explicit(&acl_cur_reg, r, memory_order_release);
    acl_retire((void *)old, 1);
}

int acl_default_open(void) {
    const acl_user_t *u = acl_current(acl_default_slot);
    return (u->flags & (ACL_U_ON | ACL_U_NOPASS)) == (ACL_U_ON | ACL_U_NOPASS);
}

/* *err = the formatted message (aborts if it cannot be built, as allocation failures do). */
static void DFM_PRINTF(2, 3) acl_errf(char **err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0) abort();
    va_end(ap);
}

/* --- SETUSER / DELUSER ------------------------------------------------------------- */

/* Apply ops to a copy of base (or a new user); NULL with *err on a bad rule. */
static acl_user_t *acl_build(const acl_user_t *base, int nops, const dfm_str_t *ops, char **err) {
    acl_user_t *u = base ? acl__user_dup(base) : acl__user_new();
    for (int i = 0; i < nops; i++) {
        const char *why;
        if (acl__user_apply(u, ops[i].ptr, ops[i].len, &why) < 0) {
            acl_errf(err, "ERR Error in ACL SETUSER modifier '%.*s': %s", (int)ops[i].len,
                     ops[i].ptr, why);
            acl__user_free(u);
            return NULL;
        }
    }
    return u;
}

int acl__setuser(const char *name, size_t nlen, int nops, const dfm_str_t *ops, char **err) {
    if (acl_bad_token(name, nlen)) { /* a name is one word of an ACL file line */
        *err = strdup("ERR Usernames can't contain spaces or null characters");
        return -1;
    }
    pthread_mutex_lock(&acl_wlock);
    int at, found = acl_reg_find(acl__reg(), name, nlen, &at);
    acl_slot_t *s = found ? acl__reg()->slots[at] : NULL;
    acl_user_t *u = acl_build(s ? acl_current(s) : NULL, nops, ops, err);
    if (u && s) acl_publish(s, u);
    if (u && !s) acl_reg_change(at, acl_slot_new(name, nlen, u), 0);
    pthread_mutex_unlock(&acl_wlock);
    return u ? 0 : -1;
}

int acl__deluser(int n, const dfm_str_t *names, char **err) {
    for (int i = 0; i < n; i++) {
        if (names[i].len == 7 && memcmp(names[i].ptr, "default", 7) == 0) {
            *err = strdup("ERR The 'default' user cannot be removed");
            return -1;
        }
    }
    int deleted = 0;
    pthread_mutex_lock(&acl_wlock);
    for (int i = 0; i < n; i++) {
        int at;
        if (!acl_reg_find(acl__reg(), names[i].ptr, names[i].len, &at)) continue;
        acl_slot_t *s = acl__reg()->slots[at];
        acl_reg_change(at, NULL, 1);
        acl_publish(s, NULL); /* its clients are refused from now on */
        acl_retire(s, 2);
        deleted++;
    }
    pthread_mutex_unlock(&acl_wlock);
    return deleted;
}

void acl_set_requirepass(const char *pass) {
    dfm_str_t ops[2] = {{"resetpass", 9}, {NULL, 0}};
    char *rule = NULL, *err = NULL;
    if (pass && pass[0]) {
        if (asprintf(&rule, ">%s", pass) < 0) abort();
        ops[1].ptr = rule;
        ops[1].len = strlen(rule);
    } else {
        ops[1].ptr = "nopass";
        ops[1].len = 6;
    }
    if (acl__setuser("default", 7, 2, ops, &err) < 0) free(err);
    free(rule);
}

/* --- AUTH -------------------------------------------------------------------------- */

acl_slot_t *acl_authenticate(const char *name, size_t nlen, const char *pass, size_t plen) {
    acl_slot_t *s = acl_lookup(name, nlen);
    const acl_user_t *u = s ? acl_current(s) : NULL;
    if (!u || !(u->flags & ACL_U_ON)) return NULL;
    if (u->flags & ACL_U_NOPASS) return s;
    char hex[65];
    acl__sha256_hex(pass, plen, hex);
    for (int i = 0; i < u->npass; i++) {
        unsigned diff = 0; /* no early exit: constant time per stored hash */
        for (int j = 0; j < 64; j++) diff |= (unsigned)(u->pass[i][j] ^ hex[j]);
        if (!diff) return s;
    }
    return NULL;
}

/* --- the check --------------------------------------------------------------------- */

/* Which arguments of a pub/sub command are channels: 0 none, 1 argv[1], 2 argv[1..],
   3 argv[1..] as patterns (PSUBSCRIBE: the pattern itself must be allowed, literally). */
static int acl_chan_kind(const cmd_t *c) {
    if (!(c->flags & CMD_PUBSUB)) return 0;
    if (!strcmp(c->name, "publish") || !strcmp(c->name, "spublish")) return 1;
    if (!strcmp(c->name, "subscribe") || !strcmp(c->name, "ssubscribe")) return 2;
    if (!strcmp(c->name, "psubscribe")) return 3;
    return 0;
}

static int acl_chan_ok(const acl_user_t *u, const dfm_str_t *ch, int literal) {
    for (int i = 0; i < u->nchans; i++) {
        const acl_pat_t *p = &u->chans[i];
        if (literal ? (p->len == ch->len && memcmp(p->pat, ch->ptr, ch->len) == 0)
                    : glob_match(p->pat, p->len, ch->ptr, ch->len, 0))
            return 1;
    }
    return 0;
}

static int acl_key_ok(const acl_user_t *u, const dfm_str_t *key, unsigned need) {
    for (int i = 0; i < u->nkeys; i++) {
        const acl_pat_t *p = &u->keys[i];
        if ((p->perm & need) == need && glob_match(p->pat, p->len, key->ptr, key->len, 0)) return 1;
    }
    return 0;
}

static int acl_check_keys(const acl_user_t *u, const cmd_t *cmd, int argc, const dfm_str_t *argv,
                          int *bad) {
    int stack[64];
    int *idx = argc <= 64 ? stack : malloc(sizeof(int) * (size_t)argc);
    if (!idx) abort();
    int nk = dispatch_keys(cmd, argc, argv, idx, argc);
    unsigned need = (cmd->flags & CMD_WRITE) ? ACL_PERM_W : (cmd->flags & CMD_READONLY) ? ACL_PERM_R : 0;
    int rc = ACL_OK;
    for (int i = 0; i < nk && rc == ACL_OK; i++) {
        if (idx[i] < argc && !acl_key_ok(u, &argv[idx[i]], need)) {
            *bad = idx[i];
            rc = ACL_DENIED_KEY;
        }
    }
    if (idx != stack) free(idx);
    return rc;
}

int acl_check(const acl_user_t *u, const cmd_t *cmd, int argc, const dfm_str_t *argv, int *bad) {
    if (!u) return ACL_DENIED_CMD;
    if ((u->flags & ACL_U_FAST) || (cmd->flags & CMD_NO_AUTH)) return ACL_OK;
    if (!((u->bits[cmd->id / 64] >> (cmd->id % 64)) & 1)) return ACL_DENIED_CMD;
    if (!(u->flags & ACL_U_ALLKEYS)) {
        int rc = acl_check_keys(u, cmd, argc, argv, bad);
        if (rc != ACL_OK) return rc;
    }
    int kind = (u->flags & ACL_U_ALLCHANNELS) ? 0 : acl_chan_kind(cmd);
    for (int i = 1; kind && i < argc && (kind != 1 || i == 1); i++) {
        if (!acl_chan_ok(u, &argv[i], kind == 3)) {
            *bad = i;
            return ACL_DENIED_CHANNEL;
        }
    }
    return ACL_OK;
}

/* --- ACL LOAD / SAVE --------------------------------------------------------------- */

/* Split line into words (spaces); at most cap. */
static int acl_split(char *line, dfm_str_t *w, int cap) {
    int n = 0;
    for (char *p = strtok(line, " \t\r\n"); p && n < cap; p = strtok(NULL, " \t\r\n")) {
        w[n].ptr = p;
        w[n++].len = strlen(p);
    }
    return n;
}

/* The file's users as a new list (default included); NULL with *err. */
static acl_reg_t *acl_read_file(FILE *f, const char *path, char **err) {
    acl_reg_t *r = calloc(1, sizeof *r);
    if (!r) abort();
    char line[8192];
    dfm_str_t w[512];
    for (int ln = 1; fgets(line, sizeof line, f); ln++) {
        if (!strchr(line, '\n') && !feof(f)) {
            acl_errf(err, "ERR %s:%d: line too long", path, ln);
            goto fail;
        }
        int n = acl_split(line, w, 512);
        if (n == 512) { /* more rules than we read: refuse rather than drop some */
            acl_errf(err, "ERR %s:%d: too many rules on one line", path, ln);
            goto fail;
        }
        if (n == 0 || w[0].ptr[0] == '#') continue;
        int at;
        if (n < 2 || strcmp(w[0].ptr, "user") != 0) {
            acl_errf(err, "ERR %s:%d: line should start with user keyword", path, ln);
            goto fail;
        }
        if (acl_reg_find(r, w[1].ptr, w[1].len, &at)) {
            acl_errf(err, "ERR %s:%d: Duplicate user '%s' found", path, ln, w[1].ptr);
            goto fail;
        }
        char *why = NULL;
        acl_user_t *u = acl_build(NULL, n - 2, w + 2, &why);
        if (!u) {
            acl_errf(err, "ERR %s:%d: %s", path, ln, why + 4);
            free(why);
            goto fail;
        }
        r->slots = realloc(r->slots, sizeof *r->slots * (size_t)(r->n + 1));
        if (!r->slots) abort();
        memmove(r->slots + at + 1, r->slots + at, sizeof *r->slots * (size_t)(r->n - at));
        r->slots[at] = acl_slot_new(w[1].ptr, w[1].len, u);
        r->n++;
    }
    return r;
fail:
    for (int i = 0; i < r->n; i++) {
        acl__user_free((acl_user_t *)acl_current(r->slots[i]));
        free(r->slots[i]->name);
        free(r->slots[i]);
    }
    free(r->slots);
    free(r);
    return NULL;
}

/* Replace the list with r: default keeps its slot (takes the file's version or a fresh
   default), every other old slot dies (its clients are disconnected). Under acl_wlock. */
static void acl_install(acl_reg_t *r) {
    int at;
    acl_user_t *def;
    if (acl_reg_find(r, "default", 7, &at)) {
        def = (acl_user_t *)acl_current(r->slots[at]);
        atomic_store(&r->slots[at]->cur, NULL);
        acl_retire(r->slots[at], 2);
    } else {
        def = acl__user_new();
        for (const char *const *w = (const char *const[]){"on", "nopass", "~*", "&*", "+@all", NULL}; *w; w++) {
            const char *why;
            acl__user_apply(def, *w, strlen(*w), &why);
        }
        r->slots = realloc(r->slots, sizeof *r->slots * (size_t)(r->n + 1));
        if (!r->slots) abort();
        memmove(r->slots + at + 1, r->slots + at, sizeof *r->slots * (size_t)(r->n - at));
        r->n++;
    }
    r->slots[at] = acl_default_slot;
    acl_publish(acl_default_slot, def);
    const acl_reg_t *old = acl__reg();
    for (int i = 0; old && i < old->n; i++) {
        if (old->slots[i] == acl_default_slot) continue;
        acl_publish(old->slots[i], NULL);
        acl_retire(old->slots[i], 2);
    }
    atomic_store_explicit(&acl_cur_reg, r, memory_order_release);
    acl_retire((void *)old, 1);
}

static const char acl_nofile[] =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";

int acl__load_file(char **err) {
    const char *path = g_config.aclfile;
    if (!path || !path[0]) {
        *err = strdup(acl_nofile);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        acl_errf(err, "ERR Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&acl_wlock);
    acl_reg_t *r = acl_read_file(f, path, err);
    if (r) acl_install(r);
    pthread_mutex_unlock(&acl_wlock);
    fclose(f);
    return r ? 0 : -1;
}

int acl__save_file(char **err) {
    const char *path = g_config.aclfile;
    if (!path || !path[0]) {
        *err = strdup(acl_nofile);
        return -1;
    }
    rbuf_t text = {0};
    pthread_mutex_lock(&acl_wlock);
    const acl_reg_t *r = acl__reg();
    for (int i = 0; i < r->n; i++) {
        rbuf_append(&text, "user ", 5);
        rbuf_append(&text, r->slots[i]->name, strlen(r->slots[i]->name));
        rbuf_append(&text, " ", 1);
        acl__describe(acl_current(r->slots[i]), &text);
        rbuf_append(&text, "\n", 1);
    }
    pthread_mutex_unlock(&acl_wlock);
    static atomic_uint acl_saves; /* two SAVEs at once must not share a temporary file */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%u", path, (int)getpid(), atomic_fetch_add(&acl_saves, 1));
    FILE *f = fopen(tmp, "w");
    int ok = f && fwrite(text.data ? text.data : "", 1, text.len, f) == text.len;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) {
        unlink(tmp);
        acl_errf(err, "ERR There was an error trying to save the ACLs. Please check the server logs for more information");
    }
    rbuf_free(&text);
    return ok ? 0 : -1;
}

/* --- start and end ----------------------------------------------------------------- */

int acl_init(char **err) {
    acl__cats_init();
    acl_reg_t *r = calloc(1, sizeof *r);
    if (!r) abort();
    atomic_store(&acl_cur_reg, r);
    acl_default_slot = acl_slot_new("default", 7, acl__user_new());
    pthread_mutex_lock(&acl_wlock);
    acl_install(calloc(1, sizeof(acl_reg_t)));
    pthread_mutex_unlock(&acl_wlock);
    if (g_config.requirepass && g_config.requirepass[0]) acl_set_requirepass(g_config.requirepass);
    if (g_config.aclfile && g_config.aclfile[0] && acl__load_file(err) < 0) {
        char *e = *err;
        if (asprintf(err, "%s", strncmp(e, "ERR ", 4) == 0 ? e + 4 : e) < 0) abort();
        free(e);
        return -1;
    }
    return 0;
}

void acl_free(void) {
    const acl_reg_t *r = acl__reg();
    for (int i = 0; r && i < r->n; i++) acl_retire(r->slots[i], 2);
    acl_retire((void *)r, 1);
    for (size_t i = 0; i < acl_nretired; i++) {
        void *p = acl_retired[i].p;
        if (acl_retired[i].kind == 0) {
            acl__user_free(p);
        } else if (acl_retired[i].kind == 1) {
            free(((acl_reg_t *)p)->slots);
            free(p);
        } else {
            acl__user_free((acl_user_t *)acl_current(p));
            free(((acl_slot_t *)p)->name);
            free(p);
        }
    }
    free(acl_retired);
    acl_retired = NULL;
    acl_nretired = acl_capretired = 0;
    atomic_store(&acl_cur_reg, NULL);
    acl__cats_free();
    acl__log_free();
}
