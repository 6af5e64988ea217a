/*
 * xgroup.c: XGROUP CREATE / DESTROY / SETID / CREATECONSUMER / DELCONSUMER, each a
 * subcommand with its key at argv[2] and the group name at argv[3]. Shard thread.
 */
#include <string.h>

#include "streams.h"

#define NEED_KEY                                                                              \
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want " \
    "to use the MKSTREAM option to create an empty stream automatically."

static int subcommand_error(dfm_ctx_t *ctx, const dfm_str_t *argv) {
    xs_api->reply_errorf(ctx, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                              "Try XGROUP HELP.", (int)argv[1].len, argv[1].ptr);
    return -1;
}

/* [ENTRIESREAD n] and (CREATE) [MKSTREAM] from argv[5]; replies and returns -1 on error. */
static int parse_group_opts(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv, int create,
                            int *mkstream, long long *read) {
    *read = XS_INVALID_READ;
    for (int i = 5; i < argc;) {
        if (create && xs_api->arg_eq(&argv[i], "mkstream")) {
            *mkstream = 1;
            i++;
        } else if (xs_api->arg_eq(&argv[i], "entriesread") && i + 1 < argc) {
            if (xs_api->arg_ll(ctx, &argv[i + 1], read) < 0) return -1;
            if (*read < 0 && *read != XS_INVALID_READ) {
                xs_api->reply_error(ctx, "ERR value for ENTRIESREAD must be positive or -1");
                return -1;
            }
            i += 2;
        } else {
            return subcommand_error(ctx, argv);
        }
    }
    return 0;
}

/* The stream at argv[2] (must exist) and, when want_group, its group argv[3]. */
static int group_lookup(dfm_ctx_t *ctx, const dfm_str_t *argv, stream_t **s, xgroup_t **g,
                        int want_group) {
    int found = xs_lookup(ctx, &argv[2], DFM_LOOKUP_WRITE, s, 1);
    if (found < 0) return -1;
    if (found == 0) {
        xs_api->reply_error(ctx, NEED_KEY);
        return -1;
    }
    *g = xg_find(*s, &argv[3]);
    if (want_group && !*g) {
        xs_api->reply_errorf(ctx, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                             (int)argv[3].len, argv[3].ptr, (int)argv[2].len, argv[2].ptr);
        return -1;
    }
    return 0;
}

/* "$" or an id; CREATE parses strictly, SETID also takes "-" and "+" (Redis 7.0). */
static int group_id(dfm_ctx_t *ctx, const stream_t *s, const dfm_str_t *a, sid_t *id,
                    int strict) {
    if (a->len == 1 && a->ptr[0] == '$') {
        *id = s ? s->last_id : (sid_t){0, 0};
        return 0;
    }
    return xs_parse_id(ctx, a, id, 0, strict, NULL);
}

static void group_changed(dfm_ctx_t *ctx, const dfm_str_t *key, const char *event) {
    xs_api->signal_modified(ctx, key);
    xs_api->notify(ctx, event, key, 't');
}

/* XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read] */
void xs_cmd_xgroup_create(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int mkstream = 0;
    long long read;
    stream_t *s;
    sid_t id;
    if (parse_group_opts(ctx, argc, argv, 1, &mkstream, &read) < 0) return;
    if (argc > 8) {
        subcommand_error(ctx, argv);
        return;
    }
    int found = xs_lookup(ctx, &argv[2], DFM_LOOKUP_WRITE, &s, 1);
    if (found < 0) return;
    if (!found && !mkstream) {
        xs_api->reply_error(ctx, NEED_KEY);
        return;
    }
    if (group_id(ctx, s, &argv[4], &id, 1) < 0) return;
    if (!s) {
        s = stream_new();
        xs_api->obj_set(ctx, &argv[2], xs_type_id, s, DFM_EXPIRE_NONE);
    }
    if (!xg_create(s, &argv[3], &id, read)) {
        xs_api->reply_error(ctx, "BUSYGROUP Consumer Group name already exists");
        return;
    }
    group_changed(ctx, &argv[2], "xgroup-create");
    xs_api->reply_ok(ctx);
}

/* XGROUP DESTROY key group */
void xs_cmd_xgroup_destroy(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    xgroup_t *g;
    if (group_lookup(ctx, argv, &s, &g, 0) < 0) return;
    if (!g) {
        xs_api->reply_int(ctx, 0);
        return;
    }
    size_t i = 0;
    while (s->groups[i] != g) i++;
    memmove(&s->groups[i], &s->groups[i + 1], sizeof(xgroup_t *) * (s->ngroups - i - 1));
    s->ngroups--;
    xg_free(g);
    group_changed(ctx, &argv[2], "xgroup-destroy");
    xs_api->signal_key_ready(ctx, &argv[2]); /* its blocked readers get NOGROUP */
    xs_api->reply_int(ctx, 1);
}

/* XGROUP SETID key group id|$ [ENTRIESREAD entries-read] */
void xs_cmd_xgroup_setid(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    int mk = 0;
    long long read;
    stream_t *s;
    xgroup_t *g;
    sid_t id;
    if (parse_group_opts(ctx, argc, argv, 0, &mk, &read) < 0) return;
    if (argc > 7) {
        subcommand_error(ctx, argv);
        return;
    }
    if (group_lookup(ctx, argv, &s, &g, 1) < 0 || group_id(ctx, s, &argv[4], &id, 0) < 0) return;
    g->last_id = id;
    g->entries_read = read;
    group_changed(ctx, &argv[2], "xgroup-setid");
    xs_api->reply_ok(ctx);
}

/* XGROUP CREATECONSUMER key group consumer */
void xs_cmd_xgroup_createconsumer(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    xgroup_t *g;
    int created;
    if (group_lookup(ctx, argv, &s, &g, 1) < 0) return;
    xg_consumer_add(g, &argv[4], &created);
    if (created) group_changed(ctx, &argv[2], "xgroup-createconsumer");
    xs_api->reply_int(ctx, created);
}

/* XGROUP DELCONSUMER key group consumer */
void xs_cmd_xgroup_delconsumer(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    stream_t *s;
    xgroup_t *g;
    if (group_lookup(ctx, argv, &s, &g, 1) < 0) return;
    xcons_t *c = xg_consumer(g, &argv[4]);
    long long pending = 0;
    if (c) {
        pending = xg_consumer_del(g, c);
        group_changed(ctx, &argv[2], "xgroup-delconsumer");
    }
    xs_api->reply_int(ctx, pending);
}
