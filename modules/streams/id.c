/*
 * id.c: stream ids (two uint64: milliseconds and sequence): comparing, stepping, formatting
 * and parsing them exactly as Redis 7.0 does (string2ull's rules, "-" "+" "ms-*").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams.h"

const char *const XS_ERR_ID = "ERR Invalid stream ID specified as stream command argument";

int sid_cmp(const sid_t *a, const sid_t *b) {
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}

int sid_is_zero(const sid_t *id) { return id->ms == 0 && id->seq == 0; }

int sid_incr(sid_t *id) {
    if (id->seq < UINT64_MAX) {
        id->seq++;
    } else if (id->ms < UINT64_MAX) {
        id->ms++;
        id->seq = 0;
    } else {
        return -1;
    }
    return 0;
}

int sid_decr(sid_t *id) {
    if (id->seq > 0) {
        id->seq--;
    } else if (id->ms > 0) {
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        return -1;
    }
    return 0;
}

int sid_fmt(char *buf, size_t cap, const sid_t *id) {
    return snprintf(buf, cap, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

void xs_reply_id(dfm_ctx_t *ctx, const sid_t *id) {
    char buf[48];
    int n = sid_fmt(buf, sizeof buf, id);
    xs_api->reply_bulk(ctx, buf, (size_t)n);
}

/* Redis's string2ull on a NUL-terminated buffer: strict ll first, then strtoull. */
static int parse_ull(const char *s, unsigned long long *out) {
    long long ll;
    if (xs_api->str_to_ll(s, strlen(s), &ll) == 0) {
        if (ll < 0) return -1;
        *out = (unsigned long long)ll;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return -1;
    return 0;
}

int xs_arg_ull(const dfm_str_t *a, unsigned long long *out) {
    char buf[128];
    if (a->len >= sizeof buf || memchr(a->ptr, '\0', a->len)) return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    return parse_ull(buf, out);
}

int xs_parse_id_quiet(const dfm_str_t *a, sid_t *id, uint64_t missing_seq, int strict,
                      int *seq_given) {
    char buf[128];
    if (a->len > 127 || memchr(a->ptr, '\0', a->len)) return -1;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    if (seq_given) *seq_given = 1;
    if ((buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') {
        if (strict) return -1;
        *id = buf[0] == '-' ? (sid_t){0, 0} : (sid_t){UINT64_MAX, UINT64_MAX};
        return 0;
    }
    unsigned long long ms, seq;
    char *dash = strchr(buf, '-');
    if (dash) *dash = '\0';
    if (parse_ull(buf, &ms) < 0) return -1;
    if (!dash) {
        seq = missing_seq;
    } else if (seq_given && strcmp(dash + 1, "*") == 0) {
        seq = 0;
        *seq_given = 0;
    } else if (parse_ull(dash + 1, &seq) < 0) {
        return -1;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
}

int xs_parse_id(dfm_ctx_t *ctx, const dfm_str_t *a, sid_t *id, uint64_t missing_seq, int strict,
                int *seq_given) {
    if (xs_parse_id_quiet(a, id, missing_seq, strict, seq_given) == 0) return 0;
    xs_api->reply_error(ctx, XS_ERR_ID);
    return -1;
}
