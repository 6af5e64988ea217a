/*
 * move.c: LMOVE, RPOPLPUSH, BLMOVE and BRPOPLPUSH. Source and destination may live in
 * different shards, so these are dfm_multi_t commands (module.h) in three phases:
 *
 *   phase 0, on every shard with a key: is the source a non-empty list, missing, or of
 *            another type; is the destination of another type;
 *   phase 1, on the source's shard: pop the element into the state;
 *   phase 2, on the destination's shard: push it.
 *
 * The core holds both keys locked from phase 0 to the reply, so nobody sees the element in
 * neither list (or in both). A blocking form with nothing to move parks the client on the
 * source; a push there wakes it with DFM_UNBLOCK_RERUN and the core runs the command again,
 * which then moves the element under the same locks.
 */
#include "lists.h"

/* Where each command finds its arguments; 0 = fixed (RPOPLPUSH) or none. */
typedef struct move_kind {
    int dirs_at;    /* argv index of LEFT|RIGHT LEFT|RIGHT, 0: RIGHT LEFT */
    int timeout_at; /* argv index of the timeout, 0: does not block */
} move_kind_t;

typedef struct move_state {
    const char *err;     /* an error to reply (static string), or NULL */
    int from, to;        /* QL_HEAD / QL_TAIL */
    int64_t timeout_ms;  /* blocking forms, 0 = forever */
    int src;             /* 1 a non-empty list, 0 missing, -1 another type */
    int dst_wrong;       /* the destination holds another type */
    int popped;          /* value holds the element */
    dfm_str_t value;     /* owned copy */
} move_state_t;

/* LEFT -> QL_HEAD, RIGHT -> QL_TAIL, anything else -1. */
static int parse_dir(const dfm_str_t *a) {
    if (lst_api->arg_eq(a, "left")) return QL_HEAD;
    if (lst_api->arg_eq(a, "right")) return QL_TAIL;
    return -1;
}

/* Parse the arguments into a new state, in Redis's order (directions, then timeout). */
static move_state_t *move_parse(const move_kind_t *kind, const dfm_str_t *argv) {
    move_state_t *st = lst_api->alloc(sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->from = QL_TAIL;
    st->to = QL_HEAD;
    if (kind->dirs_at) {
        st->from = parse_dir(&argv[kind->dirs_at]);
        st->to = parse_dir(&argv[kind->dirs_at + 1]);
        if (st->from < 0 || st->to < 0) st->err = "ERR syntax error";
    }
    if (!st->err && kind->timeout_at) st->err = lst_parse_timeout(&argv[kind->timeout_at], &st->timeout_ms);
    return st;
}

/* Phase 0 on one shard: look at the keys it holds (argv[1] source, argv[2] destination). */
static void move_look(dfm_ctx_t *ctx, move_state_t *st, const dfm_str_t *argv, const int *keys,
                      int nkeys) {
    for (int i = 0; i < nkeys; i++) {
        ql_t *l;
        int found = lst_find(ctx, &argv[keys[i]], DFM_LOOKUP_WRITE, NULL, &l);
        if (keys[i] == 1)
            st->src = found < 0 ? -1 : (found > 0 && l->count > 0);
        else if (found < 0)
            st->dst_wrong = 1;
    }
}

/* Phase 1 on the source's shard: pop. What is left can serve the source's other waiters. */
static void move_pop(dfm_ctx_t *ctx, move_state_t *st, const dfm_str_t *argv) {
    dfm_key_t *k;
    ql_t *l;
    if (lst_find(ctx, &argv[1], DFM_LOOKUP_WRITE, &k, &l) <= 0) return;
    st->popped = lst_pop_copy(l, st->from, &st->value);
    if (l->count > 0) lst_api->signal_key_ready(ctx, &argv[1]);
    lst_changed(ctx, &argv[1], k, l, st->from == QL_HEAD ? "lpop" : "rpop");
}

/* Phase 2 on the destination's shard: push (creating the list). */
static void move_push(dfm_ctx_t *ctx, move_state_t *st, const dfm_str_t *argv) {
    ql_t *l;
    int found = lst_find(ctx, &argv[2], DFM_LOOKUP_WRITE, NULL, &l);
    if (found < 0) return; /* checked in phase 0, under the same locks */
    if (!found) {
        l = ql_new();
        lst_api->obj_set(ctx, &argv[2], lst_type_id, l, DFM_EXPIRE_NONE);
    }
    ql_push(l, st->to, st->value.ptr, st->value.len);
    lst_pushed(ctx, &argv[2], st->to == QL_HEAD ? "lpush" : "rpush");
}

static int move_phase(dfm_ctx_t *ctx, int phase, void **state, const dfm_str_t *argv,
                      const int *keys, int nkeys, const move_kind_t *kind) {
    move_state_t *st = *state;
    if (st == NULL) {
        *state = st = move_parse(kind, argv);
        if (st->err) return -1;
    }
    if (phase == 0) {
        move_look(ctx, st, argv, keys, nkeys);
        return 0;
    }
    if (st->src != 1 || st->dst_wrong) return -1; /* nothing to move */
    for (int i = 0; i < nkeys; i++) {
        if (phase == 1 && keys[i] == 1) move_pop(ctx, st, argv);
        if (phase == 2 && keys[i] == 2 && st->popped) move_push(ctx, st, argv);
    }
    return 0;
}

/* A push to the source of a parked BLMOVE: run the command again (the destination may be
   in another shard). Source's shard thread. */
static int move_ready(dfm_ctx_t *ctx, const dfm_str_t *key, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    ql_t *l;
    return lst_find(ctx, key, DFM_LOOKUP_WRITE, NULL, &l) > 0 && l->count > 0 ? DFM_UNBLOCK_RERUN
                                                                             : 0;
}

/* Reply the element, the error, null, or park the client on the source; frees the state.
   Client's thread. */
static void move_reply(dfm_ctx_t *ctx, void **state, const move_kind_t *kind) {
    move_state_t *st = *state;
    if (st == NULL) {
        lst_api->reply_null(ctx);
        return;
    }
    if (st->err) {
        lst_api->reply_error(ctx, st->err);
    } else if (st->src < 0 || (st->src == 1 && st->dst_wrong)) {
        lst_api->reply_wrongtype(ctx);
    } else if (st->popped) {
        lst_api->reply_bulk(ctx, st->value.ptr, st->value.len);
        lst_api->free((void *)(uintptr_t)st->value.ptr);
    } else if (kind->timeout_at && lst_api->can_block(ctx)) {
        static const int src_key[] = {1};
        lst_api->block_on_keys(ctx, src_key, 1, st->timeout_ms, move_ready);
    } else {
        lst_api->reply_null(ctx);
    }
    lst_api->free(st);
    *state = NULL;
}

#define MOVE_COMMAND(NAME, DIRS_AT, TIMEOUT_AT)                                                \
    static const move_kind_t NAME##_kind = {DIRS_AT, TIMEOUT_AT};                              \
    static int NAME##_phase(dfm_ctx_t *ctx, int phase, void **state, int argc,                 \
                            const dfm_str_t *argv, const int *keys, int nkeys) {               \
        (void)argc;                                                                            \
        return move_phase(ctx, phase, state, argv, keys, nkeys, &NAME##_kind);                 \
    }                                                                                          \
    static void NAME##_reply(dfm_ctx_t *ctx, void **state, int argc, const dfm_str_t *argv) {  \
        (void)argc, (void)argv;                                                                \
        move_reply(ctx, state, &NAME##_kind);                                                  \
    }                                                                                          \
    const dfm_multi_t lst_##NAME##_multi = {.nphases = 3, .phase = NAME##_phase,              \
                                            .reply = NAME##_reply};

MOVE_COMMAND(lmove, 3, 0)      /* LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
MOVE_COMMAND(rpoplpush, 0, 0)  /* RPOPLPUSH source destination */
MOVE_COMMAND(blmove, 3, 5)     /* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
MOVE_COMMAND(brpoplpush, 0, 3) /* BRPOPLPUSH source destination timeout */
