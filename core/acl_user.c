/*
 * acl_user.c: command categories and user versions: a new user, a copy, and Redis 7.0's rule
 * words applied to a draft (ACL SETUSER, ACL LOAD). A draft belongs to the writer holding
 * the ACL write lock; acl.c publishes it and never changes it afterwards.
 *
 * Memory: versions and categories use libc (they outlive any worker's accounting and are
 * freed on the main thread at shutdown); out of memory aborts.
 */
#include "acl_user.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* --- categories -------------------------------------------------------------------- */

static const char *const acl_cat_names[] = {
    "keyspace", "read",  "write",     "set",        "sortedset", "list",     "hash",
    "string",   "bitmap", "hyperloglog", "geo",      "stream",    "pubsub",   "admin",
    "fast",     "slow",  "blocking",  "dangerous",  "connection", "transaction", "scripting",
};
#define ACL_NCATS ((int)(sizeof acl_cat_names / sizeof acl_cat_names[0]))

static uint32_t *acl_cats;      /* by command id */
static const cmd_t **acl_cmds;  /* by command id */
static int acl_nids, acl_words;

int acl__ncats(void) { return ACL_NCATS; }
const char *acl__cat_name(int i) { return acl_cat_names[i]; }
uint32_t acl__cmd_cats(int id) { return acl_cats[id]; }
const cmd_t *acl__cmd_at(int id) { return acl_cmds[id]; }
int acl__nwords(void) { return acl_words; }

int acl__cat_find(const char *name, size_t len) {
    for (int i = 0; i < ACL_NCATS; i++)
        if (util_eq_nocase(name, len, acl_cat_names[i])) return i;
    return -1;
}

static void *acl__alloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) abort();
    return p;
}

static char *acl__strndup(const char *s, size_t n) {
    char *p = acl__alloc(n + 1);
    memcpy(p, s, n);
    return p;
}

/* The command's declared categories ("@read @fast") plus those Redis derives from flags. */
static uint32_t acl_cats_of(const cmd_t *c) {
    uint32_t m = 0;
    for (const char *s = c->acl; s && *s;) {
        while (*s == ' ' || *s == '@') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        int i = acl__cat_find(s, (size_t)(e - s));
        if (i >= 0) m |= 1u << i;
        s = e;
    }
    if (c->flags & CMD_WRITE) m |= 1u << 2;
    if ((c->flags & CMD_READONLY) && !(m & (1u << 20))) m |= 1u << 1;
    if (c->flags & CMD_ADMIN) m |= (1u << 13) | (1u << 17);
    if (c->flags & CMD_PUBSUB) m |= 1u << 12;
    if (c->flags & CMD_FAST) m |= 1u << 14;
    if (c->flags & CMD_BLOCKING) m |= 1u << 16;
    if (!(c->flags & CMD_FAST)) m |= 1u << 15;
    return m;
}

void acl__cats_init(void) {
    acl_nids = dispatch_nids();
    acl_words = (acl_nids + 1 + 63) / 64;
    acl_cats = acl__alloc(sizeof *acl_cats * (size_t)(acl_nids + 1));
    acl_cmds = acl__alloc(sizeof *acl_cmds * (size_t)(acl_nids + 1));
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        acl_cmds[c->id] = c;
        acl_cats[c->id] = acl_cats_of(c);
        for (int s = 0; s < c->nsubs; s++) {
            acl_cmds[c->subs[s]->id] = c->subs[s];
            acl_cats[c->subs[s]->id] = acl_cats_of(c->subs[s]);
        }
    }
}

void acl__cats_free(void) {
    free(acl_cats);
    free(acl_cmds);
    acl_cats = NULL;
    acl_cmds = NULL;
}

/* --- versions ---------------------------------------------------------------------- */

acl_user_t *acl__user_new(void) {
    acl_user_t *u = acl__alloc(sizeof *u);
    u->bits = acl__alloc(sizeof(uint64_t) * (size_t)acl_words);
    return u;
}

static acl_pat_t *acl_pats_dup(const acl_pat_t *p, int n) {
    acl_pat_t *q = acl__alloc(sizeof *q * (size_t)n);
    for (int i = 0; i < n; i++) {
        q[i] = p[i];
        q[i].pat = acl__strndup(p[i].pat, p[i].len);
    }
    return q;
}

acl_user_t *acl__user_dup(const acl_user_t *u) {
    acl_user_t *d = acl__user_new();
    d->flags = u->flags;
    memcpy(d->bits, u->bits, sizeof(uint64_t) * (size_t)acl_words);
    d->npass = u->npass;
    d->pass = acl__alloc(sizeof *d->pass * (size_t)u->npass);
    if (u->npass) memcpy(d->pass, u->pass, sizeof *d->pass * (size_t)u->npass);
    d->nkeys = u->nkeys;
    d->keys = acl_pats_dup(u->keys, u->nkeys);
    d->nchans = u->nchans;
    d->chans = acl_pats_dup(u->chans, u->nchans);
    return d;
}

static void acl_pats_clear(acl_pat_t **p, int *n) {
    for (int i = 0; i < *n; i++) free((*p)[i].pat);
    free(*p);
    *p = NULL;
    *n = 0;
}

void acl__user_free(acl_user_t *u) {
    if (!u) return;
    acl_pats_clear(&u->keys, &u->nkeys);
    acl_pats_clear(&u->chans, &u->nchans);
    free(u->pass);
    free(u->bits);
    free(u);
}

void acl__sha256_hex(const char *p, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    out[64] = '\0';
}

void acl__user_finish(acl_user_t *u) {
    int all = 1;
    for (int id = 0; id < acl_nids && all; id++) all = (u->bits[id / 64] >> (id % 64)) & 1;
    u->flags &= ~ACL_U_FAST;
    if (all && (u->flags & ACL_U_ALLKEYS) && (u->flags & ACL_U_ALLCHANNELS)) u->flags |= ACL_U_FAST;
}

static int acl_rule_word(acl_user_t *u, const char *op, size_t len);

/* --- rules: passwords ------------------------------------------------------------- */

static const char *const acl_why_hash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
static const char *const acl_why_nopass =
    "The password you are trying to remove from the user does not exist";

static int acl_pass_find(const acl_user_t *u, const char *hex) {
    for (int i = 0; i < u->npass; i++)
        if (memcmp(u->pass[i], hex, 64) == 0) return i;
    return -1;
}

static int acl_hex_ok(const char *p, size_t len) {
    if (len != 64) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
    return 1;
}

/* '>' '#' add, '<' '!' remove a password (clear text or hash). */
static int acl_rule_pass(acl_user_t *u, const char *op, size_t len, const char **why) {
    char hex[65];
    if (op[0] == '>' || op[0] == '<') {
        acl__sha256_hex(op + 1, len - 1, hex);
    } else {
        if (!acl_hex_ok(op + 1, len - 1)) {
            *why = acl_why_hash;
            return -1;
        }
        memcpy(hex, op + 1, 64);
        hex[64] = '\0';
    }
    int at = acl_pass_find(u, hex);
    if (op[0] == '>' || op[0] == '#') {
        if (at < 0) {
            u->pass = realloc(u->pass, sizeof *u->pass * (size_t)(u->npass + 1));
            if (!u->pass) abort();
            memcpy(u->pass[u->npass++], hex, 65);
        }
        u->flags &= ~ACL_U_NOPASS;
        return 0;
    }
    if (at < 0) {
        *why = acl_why_nopass;
        return -1;
    }
    memmove(&u->pass[at], &u->pass[at + 1], sizeof *u->pass * (size_t)(u->npass - at - 1));
    u->npass--;
    return 0;
}

/* --- rules: key and channel patterns ---------------------------------------------- */

static const char *const acl_why_syntax = "Syntax error";
static const char *const acl_why_allkeys =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
    "have any effect. Try 'resetkeys' to start with an empty list of patterns";
static const char *const acl_why_allchans =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
    "not have any effect. Try 'resetchannels' to start with an empty list of channels";

static void acl_pat_add(acl_pat_t **p, int *n, const char *s, size_t len, unsigned perm) {
    for (int i = 0; i < *n; i++) {
        if ((*p)[i].len == len && memcmp((*p)[i].pat, s, len) == 0) {
            (*p)[i].perm |= perm;
            return;
        }
    }
    *p = realloc(*p, sizeof **p * (size_t)(*n + 1));
    if (!*p) abort();
    (*p)[*n].pat = acl__strndup(s, len);
    (*p)[*n].len = len;
    (*p)[(*n)++].perm = perm;
}

/* "~pat", "%R~pat", "%W~pat", "%RW~pat". */
static int acl_rule_key(acl_user_t *u, const char *op, size_t len, const char **why) {
    if (len == 2 && op[0] == '~' && op[1] == '*') return acl_rule_word(u, "allkeys", 7) ? 0 : -1;
    if (u->flags & ACL_U_ALLKEYS) {
        *why = acl_why_allkeys;
        return -1;
    }
    unsigned perm = ACL_PERM_R | ACL_PERM_W;
    size_t off = 1;
    if (op[0] == '%') {
        perm = 0;
        for (; off < len && op[off] != '~'; off++) {
            unsigned bit = toupper((unsigned char)op[off]) == 'R'   ? ACL_PERM_R
                           : toupper((unsigned char)op[off]) == 'W' ? ACL_PERM_W
                                                                    : 0;
            if (!bit || (perm & bit)) break;
            perm |= bit;
        }
        if (off >= len || op[off] != '~' || !perm) {
            *why = acl_why_syntax;
            return -1;
        }
        off++;
    }
    if (acl_bad_token(op + off, len - off)) {
        *why = acl_why_syntax;
        return -1;
    }
    if (len - off == 1 && op[off] == '*' && perm == (ACL_PERM_R | ACL_PERM_W)) {
        acl_pats_clear(&u->keys, &u->nkeys);
        u->flags |= ACL_U_ALLKEYS;
        return 0;
    }
    acl_pat_add(&u->keys, &u->nkeys, op + off, len - off, perm);
    return 0;
}

static int acl_rule_chan(acl_user_t *u, const char *op, size_t len, const char **why) {
    if (len == 2 && op[1] == '*') return acl_rule_word(u, "allchannels", 11) ? 0 : -1;
    if (u->flags & ACL_U_ALLCHANNELS) {
        *why = acl_why_allchans;
        return -1;
    }
    if (acl_bad_token(op + 1, len - 1)) {
        *why = acl_why_syntax;
        return -1;
    }
    acl_pat_add(&u->chans, &u->nchans, op + 1, len - 1, 0);
    return 0;
}

/* --- rules: commands -------------------------------------------------------------- */

static const char *const acl_why_unknown = "Unknown command or category name in ACL";

static void acl_bit(acl_user_t *u, int id, int on) {
    if (on)
        u->bits[id / 64] |= 1ull << (id % 64);
    else
        u->bits[id / 64] &= ~(1ull << (id % 64));
}

/* A command and, for a container, all its subcommands. */
static void acl_bit_cmd(acl_user_t *u, const cmd_t *c, int on) {
    acl_bit(u, c->id, on);
    for (int s = 0; s < c->nsubs; s++) acl_bit(u, c->subs[s]->id, on);
}

static void acl_all_cmds(acl_user_t *u, int on) {
    memset(u->bits, on ? 0xff : 0, sizeof(uint64_t) * (size_t)acl_words);
}

/* "+cmd", "-cmd", "+cmd|sub", "-cmd|sub", "+@cat", "-@cat". */
static int acl_rule_cmd(acl_user_t *u, const char *op, size_t len, const char **why) {
    int on = op[0] == '+';
    const char *name = op + 1;
    size_t nlen = len - 1;
    *why = acl_why_unknown;
    if (nlen && name[0] == '@') {
        if (util_eq_nocase(name + 1, nlen - 1, "all")) {
            acl_all_cmds(u, on);
            return 0;
        }
        int cat = acl__cat_find(name + 1, nlen - 1);
        if (cat < 0) return -1;
        for (int id = 0; id < acl_nids; id++)
            if (acl_cats[id] & (1u << cat)) acl_bit(u, id, on);
        return 0;
    }
    const char *bar = memchr(name, '|', nlen);
    const cmd_t *c = dispatch_lookup(name, bar ? (size_t)(bar - name) : nlen);
    if (!c) return -1;
    if (bar) {
        if (!c->nsubs) return -1; /* first-arg rules (SELECT|0) are not supported */
        c = dispatch_lookup_sub(c, bar + 1, nlen - (size_t)(bar - name) - 1);
        if (!c) return -1;
    }
    acl_bit_cmd(u, c, on);
    return 0;
}

/* --- one rule word ------------------------------------------------------------------ */

/* Rules that are a word, not a prefix: 1 if op was one of them. */
static int acl_rule_word(acl_user_t *u, const char *op, size_t len) {
    static const struct {
        const char *w;
        uint32_t set, clear;
        int what; /* 1 passwords, 2 keys, 3 channels, 4 all commands, 5 no commands, 6 reset */
    } words[] = {
        {"on", ACL_U_ON, 0, 0},
        {"off", 0, ACL_U_ON, 0},
        {"nopass", ACL_U_NOPASS, 0, 1},
        {"resetpass", 0, ACL_U_NOPASS, 1},
        {"skip-sanitize-payload", ACL_U_SKIP_SANITIZE, ACL_U_SANITIZE, 0},
        {"sanitize-payload", ACL_U_SANITIZE, ACL_U_SKIP_SANITIZE, 0},
        {"allkeys", ACL_U_ALLKEYS, 0, 2},
        {"resetkeys", 0, ACL_U_ALLKEYS, 2},
        {"allchannels", ACL_U_ALLCHANNELS, 0, 3},
        {"resetchannels", 0, ACL_U_ALLCHANNELS, 3},
        {"allcommands", 0, 0, 4},
        {"nocommands", 0, 0, 5},
        {"reset", ACL_U_SANITIZE, ACL_U_ON | ACL_U_NOPASS | ACL_U_ALLKEYS | ACL_U_ALLCHANNELS |
                                      ACL_U_SKIP_SANITIZE, 6},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!util_eq_nocase(op, len, words[i].w)) continue;
        int what = words[i].what;
        if (what == 1 || what == 6) {
            free(u->pass);
            u->pass = NULL;
            u->npass = 0;
        }
        if (what == 2 || what == 6) acl_pats_clear(&u->keys, &u->nkeys);
        if (what == 3 || what == 6) acl_pats_clear(&u->chans, &u->nchans);
        if (what == 4 || what == 5 || what == 6) acl_all_cmds(u, what == 4);
        u->flags = (u->flags & ~words[i].clear) | words[i].set;
        return 1;
    }
    return 0;
}

int acl__user_apply(acl_user_t *u, const char *op, size_t len, const char **why) {
    *why = acl_why_syntax;
    if (len == 0) return -1;
    if (acl_rule_word(u, op, len)) return 0;
    switch (op[0]) {
    case '>': case '<': case '#': case '!':
        return acl_rule_pass(u, op, len, why);
    case '~': case '%':
        return acl_rule_key(u, op, len, why);
    case '&':
        return acl_rule_chan(u, op, len, why);
    case '+': case '-':
        return acl_rule_cmd(u, op, len, why);
    default:
        return -1;
    }
}
