/*
 * meta.c: the meta commands mg, ms and md (argv: name key <flags span> [data]), flags
 * checked by the parser. Supported: mg v f t s k c O q T; ms F T C M(E A P R S) q c k O (I is
 * accepted and ignored); md q C k O (I ignored). Returned flags follow the request's order.
 * Shard thread.
 */
#include <stdio.h>
#include <string.h>

#include "mc.h"

static void meta_num(dfm_ctx_t *ctx, char flag, const char *fmt, unsigned long long v, long long sv) {
    char buf[32];
    int n = strchr(fmt, 'u') ? snprintf(buf, sizeof buf, " %c%llu", flag, v)
                             : snprintf(buf, sizeof buf, " %c%lld", flag, sv);
    mc_api->reply_raw(ctx, buf, (size_t)n);
}

/* Append the requested return flags (f t s k c O), in request order, then "\r\n". */
static void meta_ret(dfm_ctx_t *ctx, dfm_str_t span, const dfm_str_t *key, uint32_t flags,
                     int64_t ttl, size_t vlen, uint64_t cas) {
    dfm_str_t tok;
    while (mc_meta_next(&span, &tok)) {
        switch (tok.ptr[0]) {
        case 'f': meta_num(ctx, 'f', "%u", flags, 0); break;
        case 't': meta_num(ctx, 't', "%d", 0, (long long)ttl); break;
        case 's': meta_num(ctx, 's', "%u", vlen, 0); break;
        case 'c': meta_num(ctx, 'c', "%u", cas, 0); break;
        case 'k':
            mc_api->reply_raw(ctx, " k", 2);
            mc_api->reply_raw(ctx, key->ptr, key->len);
            break;
        case 'O':
            mc_api->reply_raw(ctx, " ", 1);
            mc_api->reply_raw(ctx, tok.ptr, tok.len);
            break;
        default: break;
        }
    }
    mc_api->reply_raw(ctx, "\r\n", 2);
}

static void meta_code(dfm_ctx_t *ctx, const char *code, const dfm_str_t *argv, uint64_t cas) {
    mc_api->reply_raw(ctx, code, 2);
    meta_ret(ctx, argv[2], &argv[1], 0, -1, 0, cas);
}

static int64_t meta_int(dfm_str_t span, char flag, int64_t dflt) {
    dfm_str_t tok;
    int64_t v;
    if (!mc_meta_has(span, flag, &tok) || mc_parse_i64(&tok, &v) < 0) return dflt;
    return v;
}

/* mg key flags: VA <len> <flags>\r\n<data>\r\n with v, HD <flags> without, EN on a miss. */
void mc_cmd_mg(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_stats_t *st = mc_stats_here();
    mc_count(&st->cmd_get);
    int touch = mc_meta_has(argv[2], 'T', NULL);
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], touch ? DFM_LOOKUP_WRITE : DFM_LOOKUP_READ);
    if (!k) {
        mc_count(&st->get_misses);
        if (!mc_meta_has(argv[2], 'q', NULL)) mc_reply(ctx, "EN");
        return;
    }
    mc_count(&st->get_hits);
    int64_t at = touch ? mc_expire_ms(meta_int(argv[2], 'T', 0)) : mc_api->expire_get(k);
    int gone = touch && mc_expired(at);
    if (touch && !gone) mc_api->expire_set(ctx, &k, at);
    uint32_t flags = 0;
    uint64_t cas = 0;
    if (!mc_api->str_meta(k, &flags, &cas) && mc_meta_has(argv[2], 'c', NULL)) {
        cas = mc_next_cas(ctx);
        mc_api->str_meta_set(ctx, &k, 0, cas);
    }
    dfm_str_t v;
    mc_api->str_value(k, &v);
    int with_v = mc_meta_has(argv[2], 'v', NULL);
    char head[32];
    int n = with_v ? snprintf(head, sizeof head, "VA %zu", v.len) : snprintf(head, sizeof head, "HD");
    mc_api->reply_raw(ctx, head, (size_t)n);
    int64_t ttl = at < 0 ? -1 : (at - mc_api->now_ms() + 999) / 1000;
    meta_ret(ctx, argv[2], &argv[1], flags, ttl, v.len, cas);
    if (with_v) {
        mc_api->reply_raw(ctx, v.ptr, v.len);
        mc_api->reply_raw(ctx, "\r\n", 2);
    }
    if (gone) mc_remove(ctx, &argv[1]);
}

/* The value ms stores: data, or the old value with data around it (append/prepend). */
static char *meta_value(dfm_key_t *k, char mode, const dfm_str_t *data, size_t *len,
                        uint32_t *flags) {
    dfm_str_t old = {"", 0};
    uint64_t cas;
    if (mode == 'A' || mode == 'P') {
        mc_api->str_value(k, &old);
        mc_api->str_meta(k, flags, &cas);
    }
    *len = old.len + data->len;
    char *buf = mc_api->alloc(*len ? *len : 1);
    const dfm_str_t *first = mode == 'P' ? data : &old, *second = mode == 'P' ? &old : data;
    memcpy(buf, first->ptr, first->len);
    memcpy(buf + first->len, second->ptr, second->len);
    return buf;
}

/* NS / NF / EX before storing, or NULL to go on. */
static const char *meta_refuse(dfm_key_t *k, char mode, const dfm_str_t *span) {
    dfm_str_t tok;
    uint64_t want, have;
    uint32_t flags;
    if ((mode == 'E' && k) || (mode != 'S' && mode != 'E' && !k)) return "NS";
    if (!mc_meta_has(*span, 'C', &tok)) return NULL;
    mc_parse_u64(&tok, &want);
    if (!k) return "NF";
    return mc_api->str_meta(k, &flags, &have) && have == want ? NULL : "EX";
}

/* ms key flags data: HD (quiet with q), NS, NF, EX. */
void mc_cmd_ms(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_count(&mc_stats_here()->cmd_set);
    dfm_str_t tok;
    char mode = mc_meta_has(argv[2], 'M', &tok) ? (char)(tok.ptr[0] & ~0x20) : 'S';
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], DFM_LOOKUP_WRITE);
    const char *refused = meta_refuse(k, mode, &argv[2]);
    if (refused) {
        meta_code(ctx, refused, argv, 0);
        return;
    }
    uint32_t flags = (uint32_t)meta_int(argv[2], 'F', 0);
    int keep = mode == 'A' || mode == 'P';
    int64_t at = keep ? DFM_EXPIRE_KEEP : mc_expire_ms(meta_int(argv[2], 'T', 0));
    uint64_t cas = 0;
    if (!keep && mc_expired(at)) {
        mc_remove(ctx, &argv[1]);
    } else {
        size_t len;
        char *val = meta_value(k, mode, &argv[3], &len, &flags);
        if (mc_too_big(len, argv[1].len)) { /* append/prepend past the item limit */
            mc_api->free(val);
            static const char err[] = "SERVER_ERROR out of memory storing object\r\n";
            mc_api->reply_raw(ctx, err, sizeof err - 1);
            return;
        }
        cas = mc_next_cas(ctx);
        mc_api->str_set_meta(ctx, &argv[1], val, len, at, flags, cas);
        mc_api->signal_modified(ctx, &argv[1]);
        mc_api->notify(ctx, "set", &argv[1], '$');
        mc_api->free(val);
    }
    if (!mc_meta_has(argv[2], 'q', NULL)) meta_code(ctx, "HD", argv, cas);
}

/* md key flags: HD (quiet with q), NF, EX. */
void mc_cmd_md(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    mc_stats_t *st = mc_stats_here();
    dfm_key_t *k = mc_lookup_str(ctx, &argv[1], DFM_LOOKUP_WRITE | DFM_LOOKUP_NOTOUCH);
    const char *refused = k ? meta_refuse(k, 'S', &argv[2]) : "NF";
    if (refused) {
        mc_count(k ? &st->delete_hits : &st->delete_misses);
        meta_code(ctx, refused, argv, 0);
        return;
    }
    mc_count(&st->delete_hits);
    mc_remove(ctx, &argv[1]);
    if (!mc_meta_has(argv[2], 'q', NULL)) meta_code(ctx, "HD", argv, 0);
}
