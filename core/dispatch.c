/*
 * dispatch.c: the command table (see dispatch.h). Top-level commands live in an array and
 * an open-addressing index keyed by the lower-case name; lookups lower-case at most 47 bytes
 * on the stack and probe once or twice.
 */
#include "dispatch.h"

#include "alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DISPATCH_INDEX 2048

static cmd_t **cmds; /* after dispatch_freeze: the listed ones, then the "protocol" ones */
static int ncmds, capcmds, nlisted;
static cmd_t *dispatch_index[DISPATCH_INDEX];
static cmd_t *dispatch_pindex[DISPATCH_INDEX]; /* "protocol" commands: request protocols only */

static const struct {
    const char *word;
    uint32_t bit;
} flag_words[] = {
    {"write", CMD_WRITE},         {"readonly", CMD_READONLY},     {"denyoom", CMD_DENYOOM},
    {"fast", CMD_FAST},           {"admin", CMD_ADMIN},           {"pubsub", CMD_PUBSUB},
    {"noscript", CMD_NOSCRIPT},   {"blocking", CMD_BLOCKING},     {"loading", CMD_LOADING},
    {"stale", CMD_STALE},         {"skip_monitor", CMD_SKIP_MONITOR}, {"no_auth", CMD_NO_AUTH},
    {"may_replicate", CMD_MAY_REPLICATE}, {"allow_busy", CMD_ALLOW_BUSY},
    {"no_multi", CMD_NO_MULTI},   {"skip_slowlog", CMD_SKIP_SLOWLOG},
    {"@allshards", CMD_ALL_SHARDS}, {"@conn", CMD_CONN},
    {"@multiok", CMD_MULTI_OK},   {"@monitorself", CMD_MONITOR_SELF},
    {"protocol", CMD_PROTO},        {"allshards", CMD_ALL_SHARDS},
    {"no_mandatory_keys", CMD_NO_MANDATORY_KEYS},
};

int dispatch_parse_flags(const char *s, uint32_t *out, char *bad, size_t badcap) {
    *out = 0;
    while (s && *s) {
        while (*s == ' ') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (e == s) break;
        size_t n = (size_t)(e - s), i;
        for (i = 0; i < sizeof flag_words / sizeof flag_words[0]; i++)
            if (strlen(flag_words[i].word) == n && memcmp(flag_words[i].word, s, n) == 0) break;
        if (i == sizeof flag_words / sizeof flag_words[0]) {
            snprintf(bad, badcap, "%.*s", (int)n, s);
            return -1;
        }
        *out |= flag_words[i].bit;
        s = e;
    }
    return 0;
}

static uint32_t dispatch_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static cmd_t *dispatch_find_top(const char *lname) {
    for (int i = 0; i < ncmds; i++)
        if (strcmp(cmds[i]->name, lname) == 0) return cmds[i];
    return NULL;
}

static cmd_t *dispatch_new_cmd(const char *lname) {
    cmd_t *c = calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", lname);
    /* calloc leaves fresh pages untouched: only the workers that run exist in memory */
    c->stats_mem = calloc(1, CMD_MAX_WORKERS * sizeof *c->stats + 64);
    c->stats = (cmd_stats_t *)(((uintptr_t)c->stats_mem + 63) & ~(uintptr_t)63);
    return c;
}

/* The container for "parent|sub" names (CONFIG, CLIENT, OBJECT...). */
static cmd_t *dispatch_container(const char *pname, const char *owner) {
    cmd_t *p = dispatch_find_top(pname);
    if (p) return p;
    p = dispatch_new_cmd(pname);
    p->arity = -2;
    p->module = owner;
    p->fullname = strdup(pname);
    if (ncmds == capcmds) {
        capcmds = capcmds ? capcmds * 2 : 256;
        cmds = realloc(cmds, (size_t)capcmds * sizeof *cmds);
    }
    cmds[ncmds++] = p;
    return p;
}

static void dispatch_fill(cmd_t *c, const dfm_command_t *d, uint32_t flags, const char *owner) {
    c->arity = d->arity;
    c->flags = flags;
    c->first_key = d->first_key;
    c->last_key = d->last_key;
    c->key_step = d->key_step ? d->key_step : 1;
    c->keynum_index = d->keynum_index;
    c->key_keyword = d->key_keyword;
    c->acl = d->acl_categories;
    c->summary = d->summary;
    c->since = d->since;
    c->group = d->group;
    c->complexity = d->complexity;
    c->args_doc = d->args_doc;
    c->handler = d->handler;
    c->multi = d->multi;
    c->module = owner;
}

int dispatch_register(const dfm_command_t *d, const char *owner, char **err) {
    char lname[48], bad[64];
    uint32_t flags;
    if (!d->name || strlen(d->name) >= sizeof lname || (!d->handler && !d->multi)) {
        asprintf(err, "module %s: invalid command descriptor '%s'", owner, d->name ? d->name : "");
        return -1;
    }
    util_lower(lname, sizeof lname, d->name, strlen(d->name));
    if (dispatch_parse_flags(d->flags, &flags, bad, sizeof bad) < 0) {
        asprintf(err, "module %s: command '%s' has unknown flag '%s'", owner, lname, bad);
        return -1;
    }
    char *bar = strchr(lname, '|');
    if (bar) {
        *bar = '\0';
        cmd_t *p = dispatch_container(lname, owner);
        if (dispatch_lookup_sub(p, bar + 1, strlen(bar + 1))) {
            asprintf(err, "module %s: command '%s|%s' is already registered by module %s", owner,
                     lname, bar + 1, p->module);
            return -1;
        }
        cmd_t *c = dispatch_new_cmd(bar + 1);
        dispatch_fill(c, d, flags, owner);
        c->parent = p;
        asprintf(&c->fullname, "%s|%s", lname, bar + 1);
        p->subs = realloc(p->subs, (size_t)(p->nsubs + 1) * sizeof *p->subs);
        p->subs[p->nsubs++] = c;
        return 0;
    }
    cmd_t *c = dispatch_find_top(lname);
    if (c) {
        asprintf(err, "module %s: command '%s' is already registered by module %s", owner, lname,
                 c->module);
        return -1;
    }
    c = dispatch_container(lname, owner);
    dispatch_fill(c, d, flags, owner);
    return 0;
}

static void dispatch_index_add(cmd_t **index, cmd_t *c) {
    uint32_t h = dispatch_hash(c->name, strlen(c->name)) & (DISPATCH_INDEX - 1);
    while (index[h]) h = (h + 1) & (DISPATCH_INDEX - 1);
    index[h] = c;
}

static int dispatch_ids;

int dispatch_nids(void) { return dispatch_ids; }

/* Dense ids over commands and subcommands (ACL bitmaps index by them). */
static void dispatch_number(void) {
    dispatch_ids = 0;
    for (int i = 0; i < ncmds; i++) {
        cmds[i]->id = dispatch_ids++;
        for (int s = 0; s < cmds[i]->nsubs; s++) cmds[i]->subs[s]->id = dispatch_ids++;
    }
}

/* Protocol commands move behind the listed ones: dispatch_count/at (COMMAND, INFO) skip them. */
void dispatch_freeze(void) {
    memset(dispatch_index, 0, sizeof dispatch_index);
    memset(dispatch_pindex, 0, sizeof dispatch_pindex);
    cmd_t **sorted = malloc((size_t)(ncmds ? ncmds : 1) * sizeof *sorted);
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ncmds; i++) {
            int proto = (cmds[i]->flags & CMD_PROTO) != 0;
            if (proto != pass) continue;
            sorted[n++] = cmds[i];
            dispatch_index_add(proto ? dispatch_pindex : dispatch_index, cmds[i]);
        }
        if (pass == 0) nlisted = n;
    }
    memcpy(cmds, sorted, (size_t)ncmds * sizeof *cmds);
    free(sorted);
    dispatch_number();
}

static const cmd_t *dispatch_find(cmd_t *const *index, const char *name, size_t len) {
    char lname[48];
    if (len >= sizeof lname) return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        lname[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    lname[len] = '\0';
    uint32_t h = dispatch_hash(lname, len) & (DISPATCH_INDEX - 1);
    while (index[h]) {
        if (memcmp(index[h]->name, lname, len + 1) == 0) return index[h];
        h = (h + 1) & (DISPATCH_INDEX - 1);
    }
    return NULL;
}

const cmd_t *dispatch_lookup(const char *name, size_t len) {
    return dispatch_find(dispatch_index, name, len);
}

const cmd_t *dispatch_lookup_proto(const char *name, size_t len) {
    return dispatch_find(dispatch_pindex, name, len);
}

const cmd_t *dispatch_lookup_sub(const cmd_t *p, const char *name, size_t len) {
    for (int i = 0; i < p->nsubs; i++)
        if (util_eq_nocase(name, len, p->subs[i]->name)) return p->subs[i];
    return NULL;
}

/* keyword form: keys start after the first argument equal to the keyword. */
static int dispatch_keys_keyword(const cmd_t *c, int argc, const dfm_str_t *argv, int *idx,
                                 int max) {
    int start = c->first_key > 0 ? c->first_key : 1;
    for (int i = start; i < argc; i++) {
        if (!util_eq_nocase(argv[i].ptr, argv[i].len, c->key_keyword)) continue;
        int n = 0;
        for (int k = i + 1; k < argc && n < max; k += c->key_step) idx[n++] = k;
        return n;
    }
    return 0;
}

int dispatch_keys(const cmd_t *c, int argc, const dfm_str_t *argv, int *idx, int max) {
    if (c->keys_fn) return c->keys_fn(argc, argv, idx, max);
    if (c->key_keyword) return dispatch_keys_keyword(c, argc, argv, idx, max);
    if (c->keynum_index > 0) {
        long long nk;
        if (c->keynum_index >= argc ||
            util_str2ll(argv[c->keynum_index].ptr, argv[c->keynum_index].len, &nk) < 0 ||
            nk <= 0 || nk > argc - c->keynum_index - 1)
            return -1;
        int n = 0;
        /* A destination before the count (ZUNIONSTORE dst numkeys k...) is a key too. */
        if (c->first_key > 0 && c->first_key < c->keynum_index && n < max) idx[n++] = c->first_key;
        for (int k = c->keynum_index + 1; k <= c->keynum_index + nk && n < max; k++) idx[n++] = k;
        return n;
    }
    if (c->first_key <= 0) return 0;
    int last = c->last_key < 0 ? argc + c->last_key : c->last_key;
    if (last >= argc) last = argc - 1;
    int n = 0;
    for (int k = c->first_key; k <= last && n < max; k += c->key_step) idx[n++] = k;
    return n;
}

/* The top-level command `name` if owner registered it (for what, a registration call's
   name); NULL with *err. */
static cmd_t *dispatch_owned(const char *name, const char *owner, const void *fn,
                             const char *what, char **err) {
    char lname[48];
    if (!name || !fn || strlen(name) >= sizeof lname) {
        asprintf(err, "module %s: %s needs a command name and a function", owner, what);
        return NULL;
    }
    util_lower(lname, sizeof lname, name, strlen(name));
    cmd_t *c = dispatch_find_top(lname);
    if (!c || (!c->handler && !c->multi) || strcmp(c->module, owner) != 0) {
        asprintf(err, "module %s: %s: '%s' is not a command of this module", owner, what, lname);
        return NULL;
    }
    return c;
}

int dispatch_set_keys_fn(const char *name, const char *owner, dfm_keys_fn fn, char **err) {
    cmd_t *c = dispatch_owned(name, owner, (const void *)fn, "set_command_keys", err);
    if (!c) return -1;
    c->keys_fn = fn;
    return 0;
}

int dispatch_set_route_fn(const char *name, const char *owner, dfm_keys_fn fn, char **err) {
    cmd_t *c = dispatch_owned(name, owner, (const void *)fn, "set_command_route", err);
    if (!c) return -1;
    c->route_fn = fn;
    return 0;
}

int dispatch_set_await(const char *name, cmd_await_fn fn, int after, char **err) {
    cmd_t *c = dispatch_owned(name, "core", (const void *)fn, "set_await", err);
    if (!c) return -1;
    if (!c->multi || after < 0 || after >= c->multi->nphases) {
        asprintf(err, "set_await: '%s' has no phase after %d", c->name, after);
        return -1;
    }
    c->await = fn;
    c->await_after = after;
    return 0;
}

int dispatch_route_keys(const cmd_t *c, int argc, const dfm_str_t *argv, int *idx, int max) {
    int n = dispatch_keys(c, argc, argv, idx, max);
    if (n > 0 || !c->route_fn) return n;
    return c->route_fn(argc, argv, idx, max);
}

int dispatch_count(void) { return nlisted; }
const cmd_t *dispatch_at(int i) { return cmds[i]; }

static void dispatch_free_cmd(cmd_t *c) {
    for (int i = 0; i < c->nsubs; i++) dispatch_free_cmd(c->subs[i]);
    free(c->subs);
    for (int w = 0; w < CMD_MAX_WORKERS; w++) df_free(atomic_load(&c->stats[w].hist));
    free(c->stats_mem);
    free(c->fullname);
    free(c);
}

void dispatch_free(void) {
    for (int i = 0; i < ncmds; i++) dispatch_free_cmd(cmds[i]);
    free(cmds);
    cmds = NULL;
    ncmds = capcmds = nlisted = 0;
}
