/*
 * cmd_command.c: COMMAND and its subcommands (COUNT, LIST, INFO, DOCS, GETKEYS,
 * GETKEYSANDFLAGS, HELP), answered from the frozen dispatch table in Redis 7.0's reply shapes.
 *
 * Redis clients depend on these replies: redis-py and go-redis read COMMAND INFO for key
 * positions, redis-cli builds its argument hints from COMMAND DOCS. The table only carries a
 * usage string per command (args_doc, e.g. "key value [NX|XX]"), so COMMAND DOCS parses it
 * into Redis's argument specification (name, type, token, optional/multiple, nested blocks
 * and one-of groups) on the fly.
 *
 * "command" is registered as a top-level command with its own handler (so a bare COMMAND
 * works) and also gets the subcommands, which that handler routes itself: the dispatcher
 * only routes subcommands of containers without a handler. Everything runs on the client's
 * thread and reads only the immutable table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "cmdtab.h"
#include "dispatch.h"
#include "glob.h"
#include "info.h"
#include "reply.h"
#include "util.h"

/* ------------------------------------------------------------------------------------ */
/* Lookup, flags and ACL categories                                                        */

/* Find "name" or "parent|sub" (any case). NULL if unknown. */
static const cmd_t *command_find(const char *p, size_t len) {
    const char *bar = memchr(p, '|', len);
    if (!bar) return dispatch_lookup(p, len);
    const cmd_t *parent = dispatch_lookup(p, (size_t)(bar - p));
    if (!parent) return NULL;
    return dispatch_lookup_sub(parent, bar + 1, len - (size_t)(bar - p) - 1);
}

static const char *command_name(const cmd_t *c) { return c->fullname ? c->fullname : c->name; }

static int command_is_container(const cmd_t *c) { return c->nsubs > 0 && !c->handler && !c->multi; }

static int command_movablekeys(const cmd_t *c) {
    return c->keynum_index > 0 || c->key_keyword || c->keys_fn;
}

static const struct {
    uint32_t bit;
    const char *word;
} command_flag_words[] = {
    {CMD_WRITE, "write"},       {CMD_READONLY, "readonly"},         {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},       {CMD_PUBSUB, "pubsub"},             {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},           {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"}, {CMD_FAST, "fast"},         {CMD_NO_AUTH, "no_auth"},
    {CMD_MAY_REPLICATE, "may_replicate"}, {CMD_NO_MULTI, "no_multi"},
    {CMD_ALLOW_BUSY, "allow_busy"}, {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
};
#define COMMAND_NFLAGS ((int)(sizeof command_flag_words / sizeof command_flag_words[0]))

/* Redis's ACL categories, in the order Redis lists them. */
static const char *const command_acl_names[] = {
    "keyspace", "read",   "write",     "set",       "sortedset", "list",       "hash",
    "string",   "bitmap", "hyperloglog", "geo",     "stream",    "pubsub",     "admin",
    "fast",     "slow",   "blocking",  "dangerous", "connection", "transaction", "scripting",
};
#define COMMAND_NACL ((int)(sizeof command_acl_names / sizeof command_acl_names[0]))

/* 1 if the space-separated list (words with or without '@') names category cat. */
static int command_acl_listed(const char *list, const char *cat) {
    size_t n = strlen(cat);
    for (const char *p = list; p && *p;) {
        while (*p == ' ') p++;
        if (*p == '@') p++;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if ((size_t)(e - p) == n && strncasecmp(p, cat, n) == 0) return 1;
        p = e;
    }
    return 0;
}

/* Categories of c as a bitmask over command_acl_names: declared ones plus those implied by
   the flags, as Redis's setImplicitACLCategories does. */
static uint32_t command_acl_mask(const cmd_t *c) {
    uint32_t m = 0;
    for (int i = 0; i < COMMAND_NACL; i++)
        if (c->acl && command_acl_listed(c->acl, command_acl_names[i])) m |= 1u << i;
    if (c->flags & CMD_WRITE) m |= 1u << 2;
    if (c->flags & CMD_READONLY) m |= 1u << 1;
    if (c->flags & CMD_ADMIN) m |= (1u << 13) | (1u << 17);
    if (c->flags & CMD_PUBSUB) m |= 1u << 12;
    if (c->flags & CMD_FAST) m |= 1u << 14;
    if (c->flags & CMD_BLOCKING) m |= 1u << 16;
    if (!(m & (1u << 14))) m |= 1u << 15; /* not fast: slow */
    if (command_is_container(c)) m = 1u << 15;
    return m;
}

static int command_has_acl(const cmd_t *c, const char *cat) {
    uint32_t m = command_acl_mask(c);
    for (int i = 0; i < COMMAND_NACL; i++)
        if ((m & (1u << i)) && strcasecmp(command_acl_names[i], cat) == 0) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* COMMAND INFO                                                                           */

static void command_reply_flags(dfm_ctx_t *ctx, const cmd_t *c) {
    const char *words[COMMAND_NFLAGS + 1];
    int n = 0;
    for (int i = 0; i < COMMAND_NFLAGS && !command_is_container(c); i++)
        if (c->flags & command_flag_words[i].bit) words[n++] = command_flag_words[i].word;
    if (command_movablekeys(c)) words[n++] = "movablekeys";
    reply_set(ctx, n);
    for (int i = 0; i < n; i++) reply_simple(ctx, words[i]);
}

static void command_reply_acl(dfm_ctx_t *ctx, const cmd_t *c) {
    uint32_t m = command_acl_mask(c);
    reply_set(ctx, __builtin_popcount(m));
    for (int i = 0; i < COMMAND_NACL; i++) {
        if (!(m & (1u << i))) continue;
        char word[32];
        snprintf(word, sizeof word, "@%s", command_acl_names[i]);
        reply_simple(ctx, word);
    }
}

/* The legacy (first, last, step) triple, as Redis 7 derives it from the key specs: only keys
   at fixed positions count, so a keynum command reports its fixed destination if it has one
   (ZUNIONSTORE: 1 1 1) and 0 0 0 otherwise (ZUNION, LMPOP); keyword commands 0 0 0. */
static void command_key_triple(const cmd_t *c, int *first, int *last, int *step) {
    *first = c->first_key;
    *last = c->last_key;
    *step = c->key_step;
    if (c->keynum_index > 0) {
        int dst = c->first_key > 0 && c->first_key < c->keynum_index;
        *first = *last = *step = dst ? c->first_key : 0;
        if (dst) *step = 1;
    } else if (c->key_keyword || c->first_key <= 0) {
        *first = *last = *step = 0;
    }
}

static void command_reply_keyspec_flags(dfm_ctx_t *ctx, const cmd_t *c) {
    if (c->flags & CMD_WRITE) {
        reply_set(ctx, 2);
        reply_simple(ctx, "RW");
        reply_simple(ctx, "update");
    } else {
        reply_set(ctx, 2);
        reply_simple(ctx, "RO");
        reply_simple(ctx, "access");
    }
}

static void command_reply_begin_search(dfm_ctx_t *ctx, const cmd_t *c) {
    reply_cstr(ctx, "begin_search");
    reply_map(ctx, 2);
    reply_cstr(ctx, "type");
    if (c->key_keyword) {
        reply_cstr(ctx, "keyword");
        reply_cstr(ctx, "spec");
        reply_map(ctx, 2);
        reply_cstr(ctx, "keyword");
        reply_cstr(ctx, c->key_keyword);
        reply_cstr(ctx, "startfrom");
        reply_int(ctx, c->first_key > 0 ? c->first_key : 1);
        return;
    }
    reply_cstr(ctx, "index");
    reply_cstr(ctx, "spec");
    reply_map(ctx, 1);
    reply_cstr(ctx, "index");
    reply_int(ctx, c->keynum_index > 0 ? c->keynum_index : c->first_key);
}

static void command_reply_find_keys(dfm_ctx_t *ctx, const cmd_t *c) {
    reply_cstr(ctx, "find_keys");
    reply_map(ctx, 2);
    reply_cstr(ctx, "type");
    if (c->keynum_index > 0) {
        reply_cstr(ctx, "keynum");
        reply_cstr(ctx, "spec");
        reply_map(ctx, 3);
        reply_cstr(ctx, "keynumidx");
        reply_int(ctx, 0);
        reply_cstr(ctx, "firstkey");
        reply_int(ctx, 1);
        reply_cstr(ctx, "keystep");
        reply_int(ctx, c->key_step);
        return;
    }
    reply_cstr(ctx, "range");
    reply_cstr(ctx, "spec");
    reply_map(ctx, 3);
    reply_cstr(ctx, "lastkey");
    if (c->key_keyword || c->last_key < 0)
        reply_int(ctx, c->key_keyword ? -1 : c->last_key);
    else
        reply_int(ctx, c->last_key - c->first_key);
    reply_cstr(ctx, "keystep");
    reply_int(ctx, c->key_step);
    reply_cstr(ctx, "limit");
    reply_int(ctx, 0);
}

/* Key specs (Redis 7): one spec describing the command's key positions, or none. */
static void command_reply_keyspecs(dfm_ctx_t *ctx, const cmd_t *c) {
    if (c->first_key <= 0 && c->keynum_index <= 0 && !c->key_keyword) {
        reply_array(ctx, 0);
        return;
    }
    reply_array(ctx, 1);
    reply_map(ctx, 3);
    reply_cstr(ctx, "flags");
    command_reply_keyspec_flags(ctx, c);
    command_reply_begin_search(ctx, c);
    command_reply_find_keys(ctx, c);
}

/* One COMMAND INFO entry: [name, arity, flags, first, last, step, acl, tips, keyspecs, subs]. */
static void command_reply_info(dfm_ctx_t *ctx, const cmd_t *c) {
    int first, last, step;
    command_key_triple(c, &first, &last, &step);
    reply_array(ctx, 10);
    reply_cstr(ctx, command_name(c));
    reply_int(ctx, c->arity);
    command_reply_flags(ctx, c);
    reply_int(ctx, first);
    reply_int(ctx, last);
    reply_int(ctx, step);
    command_reply_acl(ctx, c);
    reply_set(ctx, 0); /* tips */
    command_reply_keyspecs(ctx, c);
    reply_array(ctx, c->nsubs);
    for (int i = 0; i < c->nsubs; i++) command_reply_info(ctx, c->subs[i]);
}

/* ------------------------------------------------------------------------------------ */
/* COMMAND DOCS: the argument specification parsed from args_doc                         */

typedef struct docarg {
    char name[64];
    const char *type;
    char token[48];
    int optional, multiple, key_spec_index;
    struct docarg *subs;
    int nsubs;
} docarg_t;

typedef struct doclex {
    char **tok;
    int n, pos;
    int next_key_spec;
} doclex_t;

/* Split a usage string into words and the punctuation [ ] ( ) | as separate tokens. */
static void doc_lex(doclex_t *lx, const char *s) {
    lx->tok = NULL;
    lx->n = lx->pos = lx->next_key_spec = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        size_t len = strchr("[]()|", *s) ? 1 : strcspn(s, " []()|");
        lx->tok = df_realloc(lx->tok, sizeof(char *) * (size_t)(lx->n + 1));
        lx->tok[lx->n++] = df_memdup(s, len);
        s += len;
    }
}

static void doc_lex_free(doclex_t *lx) {
    for (int i = 0; i < lx->n; i++) df_free(lx->tok[i]);
    df_free(lx->tok);
}

static int doc_is_token(const char *w) {
    int letters = 0;
    for (; *w; w++) {
        if (islower((unsigned char)*w)) return 0;
        if (isupper((unsigned char)*w)) letters++;
    }
    return letters > 0;
}

static int doc_is_word(const char *w) { return !strchr("[]()|", w[0]) && strcmp(w, "...") != 0; }

/* The argument type Redis would give a parameter called name. */
static const char *doc_type_of(const char *name) {
    static const char *const ints[] = {
        "seconds", "milliseconds", "count", "numkeys", "offset", "start", "end", "index",
        "increment", "decrement", "db", "limit", "port", "len", "ttl", "numreplicas", "timeout",
        "protover", "id", "client-id", "samples", "bit", "pos", "max", "min", "destination-db",
        "numlocal", "numslots", "time", "hash-slot", "cursor",
    };
    size_t n = strlen(name);
    if (strcmp(name, "key") == 0 || (n > 3 && strcmp(name + n - 3, "key") == 0) ||
        strcmp(name, "destination") == 0 || strcmp(name, "source") == 0)
        return "key";
    if (strncmp(name, "unix-time", 9) == 0) return "unix-time";
    if (strcmp(name, "pattern") == 0) return "pattern";
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strcmp(name, ints[i]) == 0) return "integer";
    return "string";
}

static docarg_t *doc_push(docarg_t **v, int *n) {
    *v = df_realloc(*v, sizeof(docarg_t) * (size_t)(*n + 1));
    docarg_t *a = &(*v)[(*n)++];
    memset(a, 0, sizeof *a);
    a->key_spec_index = -1;
    return a;
}

static void doc_lower(char *dst, size_t cap, const char *src) {
    util_lower(dst, cap, src, strlen(src));
}

static void doc_free_args(docarg_t *v, int n) {
    for (int i = 0; i < n; i++) doc_free_args(v[i].subs, v[i].nsubs);
    df_free(v);
}

static void doc_parse_seq(doclex_t *lx, docarg_t **out, int *nout);

/* Wrap args into one: itself when there is one, else a block named after its members. */
static void doc_wrap(docarg_t *dst, docarg_t *args, int n) {
    if (n == 1) {
        *dst = args[0];
        df_free(args);
        return;
    }
    memset(dst, 0, sizeof *dst);
    dst->key_spec_index = -1;
    dst->type = "block";
    int nested = 0;
    for (int i = 0; i < n; i++) nested |= args[i].nsubs > 0 || args[i].optional;
    for (int i = 0; i < n && !nested; i++) {
        size_t l = strlen(dst->name);
        snprintf(dst->name + l, sizeof dst->name - l, "%s%s", i ? "_" : "", args[i].name);
    }
    if (nested) snprintf(dst->name, sizeof dst->name, "arguments");
    dst->subs = args;
    dst->nsubs = n;
}

/* Name of a one-of group: Redis's usual names for its two common shapes. */
static void doc_oneof_name(docarg_t *a) {
    int pure = 1, expiry = 0;
    for (int i = 0; i < a->nsubs; i++) {
        if (strcmp(a->subs[i].type, "pure-token") != 0) pure = 0;
        if (strcmp(a->subs[i].token, "EX") == 0 || strcmp(a->subs[i].token, "PX") == 0) expiry = 1;
    }
    if (expiry)
        snprintf(a->name, sizeof a->name, "expiration");
    else if (pure)
        snprintf(a->name, sizeof a->name, "condition");
    else
        snprintf(a->name, sizeof a->name, "%s", a->subs[0].name);
}

/* "name ... [name ...]": 1 if the group's words repeat the last args (then merge them). */
static int doc_merge_repeat(doclex_t *lx, int start, int end, docarg_t **out, int *nout) {
    int nw = end - start - 1; /* words before the "..." */
    if (nw < 1 || nw > *nout || strcmp(lx->tok[end - 1], "...") != 0) return 0;
    for (int i = 0; i < nw; i++) {
        const docarg_t *a = &(*out)[*nout - nw + i];
        if (!doc_is_word(lx->tok[start + i]) || a->token[0] || a->nsubs ||
            strcmp(a->name, lx->tok[start + i]) != 0)
            return 0;
    }
    docarg_t *members = df_malloc(sizeof(docarg_t) * (size_t)nw);
    memcpy(members, &(*out)[*nout - nw], sizeof(docarg_t) * (size_t)nw);
    *nout -= nw;
    docarg_t *a = doc_push(out, nout);
    doc_wrap(a, members, nw);
    a->multiple = 1;
    return 1;
}

/* '[' or '(' already consumed: parse alternatives up to the closing bracket into one arg. */
static void doc_parse_group(doclex_t *lx, int optional, docarg_t **out, int *nout) {
    int start = lx->pos;
    docarg_t *alts = NULL;
    int nalts = 0;
    for (;;) {
        docarg_t *seq = NULL;
        int nseq = 0;
        doc_parse_seq(lx, &seq, &nseq);
        if (nseq) doc_wrap(doc_push(&alts, &nalts), seq, nseq);
        else df_free(seq);
        if (lx->pos < lx->n && strcmp(lx->tok[lx->pos], "|") == 0) {
            lx->pos++;
            continue;
        }
        break;
    }
    int end = lx->pos;
    if (lx->pos < lx->n) lx->pos++; /* the closing bracket */
    if (nalts == 1 && optional && doc_merge_repeat(lx, start, end, out, nout)) {
        doc_free_args(alts, nalts);
        return;
    }
    if (nalts == 0) {
        df_free(alts);
        return;
    }
    docarg_t *a = doc_push(out, nout);
    if (nalts == 1) {
        *a = alts[0];
        df_free(alts);
    } else {
        a->type = "oneof";
        a->subs = alts;
        a->nsubs = nalts;
        doc_oneof_name(a);
    }
    if (optional) a->optional = 1;
}

/* TOKEN followed by parameter words: "EX seconds" or a block "AUTH username password". */
static void doc_parse_token(doclex_t *lx, docarg_t **out, int *nout) {
    const char *tok = lx->tok[lx->pos++];
    int nw = 0;
    while (lx->pos + nw < lx->n && doc_is_word(lx->tok[lx->pos + nw]) &&
           !doc_is_token(lx->tok[lx->pos + nw]))
        nw++;
    docarg_t *a = doc_push(out, nout);
    snprintf(a->token, sizeof a->token, "%s", tok);
    if (nw == 0) {
        doc_lower(a->name, sizeof a->name, tok);
        a->type = "pure-token";
        return;
    }
    if (nw == 1) {
        snprintf(a->name, sizeof a->name, "%s", lx->tok[lx->pos]);
        a->type = doc_type_of(a->name);
        if (strcmp(a->type, "key") == 0) a->key_spec_index = lx->next_key_spec++;
        lx->pos++;
        return;
    }
    a->type = "block";
    for (int i = 0; i < nw; i++) {
        const char *w = lx->tok[lx->pos++];
        size_t l = strlen(a->name);
        snprintf(a->name + l, sizeof a->name - l, "%s%s", i ? "_" : "", w);
        docarg_t *s = doc_push(&a->subs, &a->nsubs);
        snprintf(s->name, sizeof s->name, "%s", w);
        s->type = doc_type_of(w);
    }
}

/* A sequence of items up to '|', ']', ')' or the end. */
static void doc_parse_seq(doclex_t *lx, docarg_t **out, int *nout) {
    while (lx->pos < lx->n) {
        const char *t = lx->tok[lx->pos];
        if (!strcmp(t, "|") || !strcmp(t, "]") || !strcmp(t, ")")) return;
        if (!strcmp(t, "[") || !strcmp(t, "(")) {
            lx->pos++;
            doc_parse_group(lx, t[0] == '[', out, nout);
        } else if (!strcmp(t, "...")) {
            lx->pos++;
            if (*nout) (*out)[*nout - 1].multiple = 1;
        } else if (doc_is_token(t)) {
            doc_parse_token(lx, out, nout);
        } else {
            docarg_t *a = doc_push(out, nout);
            snprintf(a->name, sizeof a->name, "%s", t);
            a->type = doc_type_of(t);
            if (strcmp(a->type, "key") == 0) a->key_spec_index = lx->next_key_spec++;
            lx->pos++;
        }
    }
}

static void doc_reply_args(dfm_ctx_t *ctx, const docarg_t *v, int n);

static void doc_reply_arg(dfm_ctx_t *ctx, const docarg_t *a) {
    int nflags = a->optional + a->multiple;
    long fields = 2 + (a->key_spec_index >= 0) + (a->token[0] != 0) + (nflags > 0) + (a->nsubs > 0);
    reply_map(ctx, fields);
    reply_cstr(ctx, "name");
    reply_cstr(ctx, a->name);
    reply_cstr(ctx, "type");
    reply_cstr(ctx, a->type);
    if (a->key_spec_index >= 0) {
        reply_cstr(ctx, "key_spec_index");
        reply_int(ctx, a->key_spec_index);
    }
    if (a->token[0]) {
        reply_cstr(ctx, "token");
        reply_cstr(ctx, a->token);
    }
    if (nflags) {
        reply_cstr(ctx, "flags");
        reply_set(ctx, nflags);
        if (a->optional) reply_simple(ctx, "optional");
        if (a->multiple) reply_simple(ctx, "multiple");
    }
    if (a->nsubs) {
        reply_cstr(ctx, "arguments");
        doc_reply_args(ctx, a->subs, a->nsubs);
    }
}

static void doc_reply_args(dfm_ctx_t *ctx, const docarg_t *v, int n) {
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) doc_reply_arg(ctx, &v[i]);
}

/* The docs map of one command (with its subcommands'). */
static void command_reply_docs(dfm_ctx_t *ctx, const cmd_t *c) {
    docarg_t *args = NULL;
    int nargs = 0;
    if (c->args_doc && c->args_doc[0]) {
        doclex_t lx;
        doc_lex(&lx, c->args_doc);
        while (lx.pos < lx.n) {
            doc_parse_seq(&lx, &args, &nargs);
            if (lx.pos < lx.n) lx.pos++; /* stray closing bracket or '|' */
        }
        doc_lex_free(&lx);
    }
    const cmd_t *first = c->nsubs ? c->subs[0] : c;
    char summary[160];
    snprintf(summary, sizeof summary, "A container for %s commands", c->name);
    reply_map(ctx, 4 + (nargs > 0) + (c->nsubs > 0));
    reply_cstr(ctx, "summary");
    reply_cstr(ctx, c->summary ? c->summary : summary);
    reply_cstr(ctx, "since");
    reply_cstr(ctx, c->since ? c->since : (first->since ? first->since : "1.0.0"));
    reply_cstr(ctx, "group");
    reply_cstr(ctx, c->group ? c->group : (first->group ? first->group : "server"));
    reply_cstr(ctx, "complexity");
    reply_cstr(ctx, c->complexity ? c->complexity : "Depends on subcommand.");
    if (nargs) {
        reply_cstr(ctx, "arguments");
        doc_reply_args(ctx, args, nargs);
    }
    doc_free_args(args, nargs);
    if (c->nsubs) {
        reply_cstr(ctx, "subcommands");
        reply_map(ctx, c->nsubs);
        for (int i = 0; i < c->nsubs; i++) {
            reply_cstr(ctx, command_name(c->subs[i]));
            command_reply_docs(ctx, c->subs[i]);
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* Subcommands                                                                            */

static void command_count_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    reply_int(ctx, dispatch_count());
}

static void command_all(dfm_ctx_t *ctx) {
    int n = dispatch_count();
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) command_reply_info(ctx, dispatch_at(i));
}

static void command_info_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc == 2) {
        command_all(ctx);
        return;
    }
    reply_array(ctx, argc - 2);
    for (int i = 2; i < argc; i++) {
        const cmd_t *c = command_find(argv[i].ptr, argv[i].len);
        if (c)
            command_reply_info(ctx, c);
        else
            reply_null_array(ctx);
    }
}

static void command_docs_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc == 2) {
        int n = dispatch_count();
        reply_map(ctx, n);
        for (int i = 0; i < n; i++) {
            reply_cstr(ctx, command_name(dispatch_at(i)));
            command_reply_docs(ctx, dispatch_at(i));
        }
        return;
    }
    const cmd_t **found = df_malloc(sizeof(cmd_t *) * (size_t)argc);
    int n = 0;
    for (int i = 2; i < argc; i++)
        if ((found[n] = command_find(argv[i].ptr, argv[i].len))) n++;
    reply_map(ctx, n);
    for (int i = 0; i < n; i++) {
        reply_cstr(ctx, command_name(found[i]));
        command_reply_docs(ctx, found[i]);
    }
    df_free(found);
}

/* COMMAND LIST filter: 0 none, 1 module, 2 aclcat, 3 pattern. */
static int command_list_match(const cmd_t *c, int kind, const dfm_str_t *arg) {
    char buf[128];
    switch (kind) {
    case 1: return c->module && util_eq_nocase(arg->ptr, arg->len, c->module);
    case 2:
        snprintf(buf, sizeof buf, "%.*s", (int)(arg->len < 100 ? arg->len : 100), arg->ptr);
        return command_has_acl(c, buf);
    case 3: {
        const char *nm = command_name(c);
        return glob_match(arg->ptr, arg->len, nm, strlen(nm), 1);
    }
    default: return 1;
    }
}

static void command_list_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int kind = 0;
    if (argc != 2) {
        if (argc != 5 || !util_eq_nocase(argv[2].ptr, argv[2].len, "filterby")) {
            reply_syntax_error(ctx);
            return;
        }
        if (util_eq_nocase(argv[3].ptr, argv[3].len, "module")) kind = 1;
        else if (util_eq_nocase(argv[3].ptr, argv[3].len, "aclcat")) kind = 2;
        else if (util_eq_nocase(argv[3].ptr, argv[3].len, "pattern")) kind = 3;
        else {
            reply_syntax_error(ctx);
            return;
        }
    }
    const dfm_str_t *arg = kind ? &argv[4] : NULL;
    rbuf_t body = {0};
    dfm_ctx_t sub = *ctx;
    sub.out = &body;
    long n = 0;
    for (int i = 0; i < dispatch_count(); i++) {
        const cmd_t *c = dispatch_at(i);
        if (command_list_match(c, kind, arg)) {
            reply_cstr(&sub, command_name(c));
            n++;
        }
        for (int s = 0; s < c->nsubs; s++) {
            if (!command_list_match(c->subs[s], kind, arg)) continue;
            reply_cstr(&sub, command_name(c->subs[s]));
            n++;
        }
    }
    reply_array(ctx, n);
    reply_raw(ctx, body.data, body.len);
    rbuf_free(&body);
}

/* Resolve the command of a GETKEYS call; replies the error and returns NULL if unusable. */
static const cmd_t *command_getkeys_target(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    const cmd_t *c = dispatch_lookup(argv[2].ptr, argv[2].len);
    if (!c) {
        reply_error(ctx, "ERR Invalid command specified");
        return NULL;
    }
    if (command_is_container(c) && argc > 3) {
        const cmd_t *s = dispatch_lookup_sub(c, argv[3].ptr, argv[3].len);
        if (!s) {
            reply_error(ctx, "ERR Invalid command specified");
            return NULL;
        }
        c = s;
    }
    int n = argc - 2;
    if ((c->arity > 0 && n != c->arity) || n < -c->arity) {
        reply_error(ctx, "ERR Invalid number of arguments specified for command");
        return NULL;
    }
    return c;
}

static void command_getkeys_generic(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int flags) {
    const cmd_t *c = command_getkeys_target(ctx, argc, argv);
    if (!c) return;
    int *idx = df_malloc(sizeof(int) * (size_t)argc);
    int n = dispatch_keys(c, argc - 2, argv + 2, idx, argc);
    if (n <= 0 && (c->flags & CMD_NO_MANDATORY_KEYS)) {
        reply_array(ctx, 0);
        df_free(idx);
        return;
    }
    if (n <= 0) {
        reply_error(ctx, n < 0 ? "ERR Invalid arguments specified for command"
                               : "ERR The command has no key arguments");
        df_free(idx);
        return;
    }
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) {
        const dfm_str_t *k = &argv[2 + idx[i]];
        if (!flags) {
            reply_bulk(ctx, k->ptr, k->len);
            continue;
        }
        reply_array(ctx, 2);
        reply_bulk(ctx, k->ptr, k->len);
        command_reply_keyspec_flags(ctx, c);
    }
    df_free(idx);
}

static void command_getkeys_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    command_getkeys_generic(ctx, argc, argv, 0);
}

static void command_getkeysandflags_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    command_getkeys_generic(ctx, argc, argv, 1);
}

/* Redis's addReplyHelp (see info.h). */
void command_reply_help(dfm_ctx_t *ctx, const char *name, const char *const *lines) {
    int n = 0;
    while (lines[n]) n++;
    char head[160];
    snprintf(head, sizeof head, "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", name);
    reply_array(ctx, n + 3);
    reply_simple(ctx, head);
    for (int i = 0; i < n; i++) reply_simple(ctx, lines[i]);
    reply_simple(ctx, "HELP");
    reply_simple(ctx, "    Prints this help.");
}

static void command_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL,
    };
    command_reply_help(ctx, "COMMAND", help);
}

/* COMMAND [subcommand ...]: routes to the registered subcommands (arity checked here). */
static void command_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    if (argc == 1) {
        command_all(ctx);
        return;
    }
    const cmd_t *self = dispatch_lookup("command", 7);
    const cmd_t *sub = self ? dispatch_lookup_sub(self, argv[1].ptr, argv[1].len) : NULL;
    if (!sub) {
        reply_errorf(ctx, "ERR unknown subcommand '%.*s'. Try COMMAND HELP.",
                     (int)(argv[1].len < 128 ? argv[1].len : 128), argv[1].ptr);
        return;
    }
    if ((sub->arity > 0 && argc != sub->arity) || argc < -sub->arity) {
        reply_errorf(ctx, "ERR wrong number of arguments for '%s' command", sub->fullname);
        return;
    }
    sub->handler(ctx, argc, argv);
}

#define COMMAND_DOC(n, s, a) .summary = s, .since = n, .group = "server", .complexity = a

static const dfm_command_t command_cmds[] = {
    {.name = "command", .arity = -1, .flags = "loading stale",
     .acl_categories = "@slow @connection", .summary = "Returns detailed information about all commands.",
     .since = "2.8.13", .group = "server", .complexity = "O(N) where N is the total number of Redis commands",
     .handler = command_cmd},
    {.name = "command|count", .arity = 2, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("2.8.13", "Returns a count of commands.", "O(1)"), .handler = command_count_cmd},
    {.name = "command|list", .arity = -2, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("7.0.0", "Returns a list of command names.", "O(N) where N is the total number of Redis commands"),
     .args_doc = "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]", .handler = command_list_cmd},
    {.name = "command|info", .arity = -2, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("2.8.13", "Returns information about one, multiple or all commands.",
                 "O(N) where N is the number of commands to look up"),
     .args_doc = "[command-name ...]", .handler = command_info_cmd},
    {.name = "command|docs", .arity = -2, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("7.0.0", "Returns documentary information about one, multiple or all commands.",
                 "O(N) where N is the number of commands to look up"),
     .args_doc = "[command-name ...]", .handler = command_docs_cmd},
    {.name = "command|getkeys", .arity = -4, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("2.8.13", "Extracts the key names from an arbitrary command.",
                 "O(N) where N is the number of arguments to the command"),
     .args_doc = "command [arg ...]", .handler = command_getkeys_cmd},
    {.name = "command|getkeysandflags", .arity = -4, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("7.0.0", "Extracts the key names and access flags for an arbitrary command.",
                 "O(N) where N is the number of arguments to the command"),
     .args_doc = "command [arg ...]", .handler = command_getkeysandflags_cmd},
    {.name = "command|help", .arity = 2, .flags = "loading stale", .acl_categories = "@slow @connection",
     COMMAND_DOC("5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
     .handler = command_help_cmd},
};

void cmd_command_register(void) { cmdtab_register(command_cmds, CMDTAB_COUNT(command_cmds)); }
