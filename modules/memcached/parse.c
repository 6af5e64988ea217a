/*
 * parse.c: memcached's text protocol, turned into the module's internal commands.
 *
 * One call of mc_parse yields at most one command. A request line is split on spaces; the
 * storage commands wait for their data block (line, <bytes>, "\r\n") and point into the
 * input buffer (zero copy). A multi-key get becomes one "mc.get key" per key (each runs on
 * its key's shard; the core keeps their replies in order) and a final "mc.text END": the
 * parser keeps its place in the line as an offset and consumes the line with the last one.
 * Errors found here become "mc.text <line>" commands, so they too keep their place among
 * the replies. memcached's limits: keys up to 250 bytes, items up to 1 MB (a larger value
 * is swallowed and refused), a line without '\n' longer than 2048 bytes closes the
 * connection unless it is a get. The meta commands mg, ms, md and mn (a subset of their flags)
 * become "mc.mg key <flags>" and so on, the flags checked here. The binary protocol is not served: a request starting with
 * its magic byte closes the connection at once. Runs on the connection's thread.
 */
#include <stdlib.h>
#include <string.h>

#include "mc.h"

#define MC_MAX_TOKENS 8
#define MC_LINE_MAX 2048            /* longer lines without '\n': only gets may wait */
#define MC_GET_LINE_MAX (1024 * 1024)
#define S(lit) ((dfm_str_t){lit, sizeof(lit) - 1})

typedef struct mc_parser {
    dfm_str_t argv[MC_MAX_TOKENS];
    size_t get_next;  /* in a multi-key get: offset of the next key, 0 otherwise */
    size_t get_end;   /* its line's end (offset after '\n') and the end of its keys */
    size_t get_kend;
    size_t get_exp_off, get_exp_len; /* gat's exptime (offsets: buf may move between calls) */
    dfm_str_t get_cmd;
    size_t swallow;   /* bytes of a refused value still to skip */
} mc_parser_t;

typedef struct mc_line {
    dfm_str_t tok[MC_MAX_TOKENS];
    int ntok;         /* tokens found (more than MC_MAX_TOKENS: MC_MAX_TOKENS + 1) */
    size_t len;       /* the line with its '\n' */
} mc_line_t;

void *mc_conn_new(void) {
    mc_parser_t *p = mc_api->alloc(sizeof *p);
    memset(p, 0, sizeof *p);
    atomic_fetch_add(&mc_curr_conns, 1);
    atomic_fetch_add(&mc_total_conns, 1);
    return p;
}

void mc_conn_free(void *state) {
    atomic_fetch_sub(&mc_curr_conns, 1);
    mc_api->free(state);
}

static int emit(mc_parser_t *p, dfm_request_t *req, size_t used, int argc) {
    req->used = used;
    req->argc = argc;
    req->argv = p->argv;
    return DFM_PARSE_OK;
}

/* A reply line that needs no shard (an error, VERSION, OK). */
static int emit_text(mc_parser_t *p, dfm_request_t *req, size_t used, dfm_str_t text) {
    p->argv[0] = S("mc.text");
    p->argv[1] = text;
    return emit(p, req, used, 2);
}

static void tokenize(char *buf, size_t len, mc_line_t *l) {
    size_t end = len - 1; /* the '\n' */
    if (end > 0 && buf[end - 1] == '\r') end--;
    l->ntok = 0;
    l->len = len;
    for (size_t i = 0; i < end;) {
        while (i < end && buf[i] == ' ') i++;
        size_t s = i;
        while (i < end && buf[i] != ' ') i++;
        if (i == s) break;
        if (l->ntok == MC_MAX_TOKENS) {
            l->ntok++;
            return;
        }
        l->tok[l->ntok++] = (dfm_str_t){buf + s, i - s};
    }
}

static int tok_is(const dfm_str_t *t, const char *word) {
    size_t n = strlen(word);
    return t->len == n && memcmp(t->ptr, word, n) == 0;
}

/* memcached's safe_strtoul/strtol ranges: flags 32-bit unsigned, exptime and bytes 32-bit. */
static int parse_u32(const dfm_str_t *s, uint64_t *out) {
    return mc_parse_u64(s, out) == 0 && *out <= UINT32_MAX ? 0 : -1;
}
static int parse_i32(const dfm_str_t *s, int64_t *out) {
    return mc_parse_i64(s, out) == 0 && *out >= INT32_MIN && *out <= INT32_MAX ? 0 : -1;
}

/* The item's size as memcached counts it (header, key, flags, value + "\r\n", CAS). */
static int too_large(size_t klen, uint64_t flags, int64_t vlen) {
    return 48 + klen + 1 + (flags ? 4 : 0) + (uint64_t)vlen + 2 + 8 > MC_ITEM_MAX;
}

#define BAD_FORMAT S("CLIENT_ERROR bad command line format")

/* set/add/replace/append/prepend/cas: "<cmd> key flags exptime bytes [cas] [noreply]". */
static int parse_store(mc_parser_t *p, char *buf, size_t len, mc_line_t *l, dfm_request_t *req,
                       dfm_str_t name, int is_cas) {
    int want = is_cas ? 6 : 5;
    if (l->ntok != want && l->ntok != want + 1) return emit_text(p, req, l->len, S("ERROR"));
    int noreply = l->ntok == want + 1 && tok_is(&l->tok[want], "noreply");
    uint64_t flags, cas;
    int64_t exptime, vlen;
    if (l->tok[1].len > MC_KEY_MAX || parse_u32(&l->tok[2], &flags) < 0 ||
        parse_i32(&l->tok[3], &exptime) < 0 || parse_i32(&l->tok[4], &vlen) < 0 ||
        (is_cas && mc_parse_u64(&l->tok[5], &cas) < 0) || vlen < 0 || vlen > INT32_MAX - 2)
        return noreply ? emit(p, req, l->len, 0) : emit_text(p, req, l->len, BAD_FORMAT);
    if (too_large(l->tok[1].len, flags, vlen)) {
        p->swallow = (size_t)vlen + 2;
        p->argv[0] = S("mc.toolarge");
        p->argv[1] = l->tok[1];
        p->argv[2] = tok_is(&name, "mc.set") ? S("set") : S("");
        p->argv[3] = noreply ? S("noreply") : S("");
        return emit(p, req, l->len, 4);
    }
    size_t total = l->len + (size_t)vlen + 2;
    if (len < total) {
        req->need = total;
        return DFM_PARSE_MORE;
    }
    char *data = buf + l->len;
    if (data[vlen] != '\r' || data[vlen + 1] != '\n')
        return noreply ? emit(p, req, total, 0)
                       : emit_text(p, req, total, S("CLIENT_ERROR bad data chunk"));
    p->argv[0] = name;
    p->argv[1] = l->tok[1];
    p->argv[2] = l->tok[2];
    p->argv[3] = l->tok[3];
    p->argv[4] = (dfm_str_t){data, (size_t)vlen};
    p->argv[5] = noreply ? S("noreply") : S("");
    p->argv[6] = is_cas ? l->tok[5] : S("0");
    return emit(p, req, total, 7);
}

/* The next command of a multi-key get: one key, or the END that closes the line. */
static int get_next(mc_parser_t *p, char *buf, dfm_request_t *req) {
    size_t i = p->get_next;
    while (i < p->get_kend && buf[i] == ' ') i++;
    size_t s = i;
    while (i < p->get_kend && buf[i] != ' ') i++;
    size_t end = p->get_end;
    if (i == s) { /* no more keys */
        p->get_next = 0;
        return emit_text(p, req, end, S("END"));
    }
    p->get_next = i;
    p->argv[0] = p->get_cmd;
    p->argv[1] = (dfm_str_t){buf + s, i - s};
    p->argv[2] = p->get_exp_len ? (dfm_str_t){buf + p->get_exp_off, p->get_exp_len} : S("0");
    return emit(p, req, 0, 3);
}

/* 1 if every space-separated key in keys[0..len) is short enough. */
static int keys_fit(const char *keys, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = keys[i] == ' ' ? 0 : run + 1;
        if (run > MC_KEY_MAX) return 0;
    }
    return 1;
}

/* get/gets "key*", gat/gats "exptime key*": start walking the keys. */
static int parse_get(mc_parser_t *p, char *buf, mc_line_t *l, dfm_request_t *req,
                     dfm_str_t name, int touch) {
    if (l->ntok < 2) return emit_text(p, req, l->len, S("ERROR"));
    int64_t exptime = 0;
    if (touch && parse_i32(&l->tok[1], &exptime) < 0)
        return emit_text(p, req, l->len, S("CLIENT_ERROR invalid exptime argument"));
    if (l->ntok == 1 + touch) return emit_text(p, req, l->len, S("END")); /* gat <exptime> */
    p->get_cmd = name;
    p->get_exp_off = touch ? (size_t)(l->tok[1].ptr - buf) : 0;
    p->get_exp_len = touch ? l->tok[1].len : 0;
    p->get_end = l->len;
    p->get_kend = l->len - 1 - (l->len >= 2 && buf[l->len - 2] == '\r');
    p->get_next = (size_t)(l->tok[1 + touch].ptr - buf);
    if (!keys_fit(buf + p->get_next, p->get_kend - p->get_next)) { /* nothing but the error */
        p->get_next = 0;
        return emit_text(p, req, l->len, BAD_FORMAT);
    }
    return get_next(p, buf, req);
}

/* Commands with a key and fixed arguments: delete, incr/decr, touch. */
static int parse_keyed(mc_parser_t *p, mc_line_t *l, dfm_request_t *req, dfm_str_t name,
                       int nargs) {
    if (l->ntok != 2 + nargs && l->ntok != 3 + nargs) return emit_text(p, req, l->len, S("ERROR"));
    int noreply = l->ntok == 3 + nargs && tok_is(&l->tok[2 + nargs], "noreply");
    if (l->tok[1].len > MC_KEY_MAX)
        return noreply ? emit(p, req, l->len, 0) : emit_text(p, req, l->len, BAD_FORMAT);
    p->argv[0] = name;
    p->argv[1] = l->tok[1];
    p->argv[2] = nargs ? l->tok[2] : S("");
    p->argv[3] = noreply ? S("noreply") : S("");
    return emit(p, req, l->len, 4);
}

static int parse_delete(mc_parser_t *p, mc_line_t *l, dfm_request_t *req) {
    /* "delete key [0] [noreply]": a time other than 0 is refused, as memcached does */
    int extra = l->ntok - 2;
    if (extra < 0 || extra > 2) return emit_text(p, req, l->len, S("ERROR"));
    int noreply = extra > 0 && tok_is(&l->tok[l->ntok - 1], "noreply");
    if (extra - noreply > 1 || (extra - noreply == 1 && !tok_is(&l->tok[2], "0")))
        return emit_text(p, req, l->len,
                         S("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"));
    if (l->tok[1].len > MC_KEY_MAX)
        return noreply ? emit(p, req, l->len, 0) : emit_text(p, req, l->len, BAD_FORMAT);
    p->argv[0] = S("mc.delete");
    p->argv[1] = l->tok[1];
    p->argv[2] = S("");
    p->argv[3] = noreply ? S("noreply") : S("");
    return emit(p, req, l->len, 4);
}

static int parse_incr(mc_parser_t *p, mc_line_t *l, dfm_request_t *req, dfm_str_t name) {
    uint64_t delta;
    if ((l->ntok == 3 || l->ntok == 4) && mc_parse_u64(&l->tok[2], &delta) < 0)
        return emit_text(p, req, l->len, S("CLIENT_ERROR invalid numeric delta argument"));
    return parse_keyed(p, l, req, name, 1);
}

static int parse_touch(mc_parser_t *p, mc_line_t *l, dfm_request_t *req) {
    int64_t exptime;
    if ((l->ntok == 3 || l->ntok == 4) && parse_i32(&l->tok[2], &exptime) < 0)
        return emit_text(p, req, l->len, S("CLIENT_ERROR invalid exptime argument"));
    return parse_keyed(p, l, req, S("mc.touch"), 1);
}

/* flush_all [delay] [noreply] */
static int parse_flush(mc_parser_t *p, mc_line_t *l, dfm_request_t *req) {
    if (l->ntok > 3) return emit_text(p, req, l->len, S("ERROR"));
    int noreply = l->ntok > 1 && tok_is(&l->tok[l->ntok - 1], "noreply");
    int64_t delay = 0;
    if (l->ntok - noreply == 2 && parse_i32(&l->tok[1], &delay) < 0)
        return noreply ? emit(p, req, l->len, 0)
                       : emit_text(p, req, l->len, S("CLIENT_ERROR invalid exptime argument"));
    p->argv[0] = S("mc.flush_all");
    p->argv[1] = noreply ? S("noreply") : S("");
    return emit(p, req, l->len, 2);
}

static int parse_verbose(mc_parser_t *p, mc_line_t *l, dfm_request_t *req) {
    if (l->ntok < 2 || l->ntok > 3) return emit_text(p, req, l->len, S("ERROR"));
    if (tok_is(&l->tok[l->ntok - 1], "noreply")) return emit(p, req, l->len, 0);
    return emit_text(p, req, l->len, S("OK"));
}

static int parse_stats(mc_parser_t *p, mc_line_t *l, dfm_request_t *req) {
    if (l->ntok == 1) {
        p->argv[0] = S("mc.stats");
        return emit(p, req, l->len, 1);
    }
    if (tok_is(&l->tok[1], "reset")) return emit_text(p, req, l->len, S("RESET"));
    /* the item and slab breakdowns have nothing to report here */
    if (tok_is(&l->tok[1], "items") || tok_is(&l->tok[1], "slabs") || tok_is(&l->tok[1], "sizes") ||
        tok_is(&l->tok[1], "conns"))
        return emit_text(p, req, l->len, S("END"));
    return emit_text(p, req, l->len, S("ERROR"));
}

/* Meta commands: which flags each takes, and whether a flag's token checks out. */
static const char *meta_allowed(char cmd) {
    return cmd == 'g' ? "vftskcOqT" : cmd == 's' ? "FTCqMckOI" : "qCOkI";
}

static int meta_token_ok(char f, const dfm_str_t *rest) {
    uint64_t u;
    int64_t i;
    switch (f) {
    case 'T': return parse_i32(rest, &i) == 0;
    case 'F': return parse_u32(rest, &u) == 0;
    case 'C': return mc_parse_u64(rest, &u) == 0;
    case 'M': return rest->len == 1 && strchr("EAPRSeaprs", rest->ptr[0]) != NULL;
    case 'O': return rest->len <= 32;
    default: return rest->len == 0;
    }
}

/* Check the flags in span for command cmd; NULL, or the error line. */
static const char *meta_check(dfm_str_t span, char cmd) {
    dfm_str_t tok;
    while (mc_meta_next(&span, &tok)) {
        dfm_str_t rest = {tok.ptr + 1, tok.len - 1};
        if (!strchr(meta_allowed(cmd), tok.ptr[0])) return "CLIENT_ERROR invalid flag";
        if (tok.ptr[0] == 'M' && !meta_token_ok('M', &rest)) return "CLIENT_ERROR invalid mode for ms STORE";
        if (!meta_token_ok(tok.ptr[0], &rest)) return "CLIENT_ERROR bad token in command line format";
    }
    return NULL;
}

/* The flags of a meta line: what follows token `after`, up to the line's end. */
static dfm_str_t meta_span(char *buf, mc_line_t *l, int after) {
    const char *start = l->tok[after].ptr + l->tok[after].len;
    size_t end = l->len - 1 - (l->len >= 2 && buf[l->len - 2] == '\r');
    return (dfm_str_t){start, (size_t)(buf + end - start)};
}

/* ms key datalen flags*: like the storage commands, the data block follows. */
static int parse_ms(mc_parser_t *p, char *buf, size_t len, mc_line_t *l, dfm_request_t *req) {
    int64_t vlen;
    if (l->ntok < 3 || parse_i32(&l->tok[2], &vlen) < 0 || vlen < 0 || l->tok[1].len > MC_KEY_MAX)
        return emit_text(p, req, l->len, BAD_FORMAT);
    const char *err = meta_check(meta_span(buf, l, 2), 's');
    if (err || too_large(l->tok[1].len, 1, vlen)) { /* the data is swallowed */
        p->swallow = (size_t)vlen + 2;
        if (err) return emit_text(p, req, l->len, (dfm_str_t){err, strlen(err)});
        return emit_text(p, req, l->len, S("SERVER_ERROR object too large for cache"));
    }
    size_t total = l->len + (size_t)vlen + 2;
    if (len < total) {
        req->need = total;
        return DFM_PARSE_MORE;
    }
    if (buf[l->len + vlen] != '\r' || buf[l->len + vlen + 1] != '\n')
        return emit_text(p, req, total, S("CLIENT_ERROR bad data chunk"));
    p->argv[0] = S("mc.ms");
    p->argv[1] = l->tok[1];
    p->argv[2] = meta_span(buf, l, 2);
    p->argv[3] = (dfm_str_t){buf + l->len, (size_t)vlen};
    return emit(p, req, total, 4);
}

/* mn, mg key flags*, md key flags*, ms (above). */
static int parse_meta(mc_parser_t *p, char *buf, size_t len, mc_line_t *l, dfm_request_t *req,
                      char cmd) {
    if (cmd == 'n') return emit_text(p, req, l->len, S("MN"));
    if (cmd == 's') return parse_ms(p, buf, len, l, req);
    if (l->ntok < 2) return emit_text(p, req, l->len, S("ERROR"));
    if (l->tok[1].len > MC_KEY_MAX) return emit_text(p, req, l->len, BAD_FORMAT);
    const char *err = meta_check(meta_span(buf, l, 1), cmd);
    if (err) return emit_text(p, req, l->len, (dfm_str_t){err, strlen(err)});
    p->argv[0] = cmd == 'g' ? S("mc.mg") : S("mc.md");
    p->argv[1] = l->tok[1];
    p->argv[2] = meta_span(buf, l, 1);
    return emit(p, req, l->len, 3);
}

/* One complete request line (with its data block, for storage commands). */
static int parse_line(mc_parser_t *p, char *buf, size_t len, mc_line_t *l, dfm_request_t *req) {
    if (l->ntok == 0) return emit_text(p, req, l->len, S("ERROR"));
    const dfm_str_t *c = &l->tok[0];
    if (tok_is(c, "get")) return parse_get(p, buf, l, req, S("mc.get"), 0);
    if (tok_is(c, "gets")) return parse_get(p, buf, l, req, S("mc.gets"), 0);
    if (tok_is(c, "gat")) return parse_get(p, buf, l, req, S("mc.gat"), 1);
    if (tok_is(c, "gats")) return parse_get(p, buf, l, req, S("mc.gats"), 1);
    if (c->len == 2 && c->ptr[0] == 'm' && strchr("gsdn", c->ptr[1]))
        return parse_meta(p, buf, len, l, req, c->ptr[1]);
    if (l->ntok > MC_MAX_TOKENS) return emit_text(p, req, l->len, S("ERROR"));
    if (tok_is(c, "set")) return parse_store(p, buf, len, l, req, S("mc.set"), 0);
    if (tok_is(c, "add")) return parse_store(p, buf, len, l, req, S("mc.add"), 0);
    if (tok_is(c, "replace")) return parse_store(p, buf, len, l, req, S("mc.replace"), 0);
    if (tok_is(c, "append")) return parse_store(p, buf, len, l, req, S("mc.append"), 0);
    if (tok_is(c, "prepend")) return parse_store(p, buf, len, l, req, S("mc.prepend"), 0);
    if (tok_is(c, "cas")) return parse_store(p, buf, len, l, req, S("mc.cas"), 1);
    if (tok_is(c, "delete")) return parse_delete(p, l, req);
    if (tok_is(c, "incr")) return parse_incr(p, l, req, S("mc.incr"));
    if (tok_is(c, "decr")) return parse_incr(p, l, req, S("mc.decr"));
    if (tok_is(c, "touch")) return parse_touch(p, l, req);
    if (tok_is(c, "flush_all")) return parse_flush(p, l, req);
    if (tok_is(c, "version")) return emit_text(p, req, l->len, S("VERSION " MC_VERSION));
    if (tok_is(c, "verbosity")) return parse_verbose(p, l, req);
    if (tok_is(c, "stats")) return parse_stats(p, l, req);
    if (tok_is(c, "quit")) {
        req->used = l->len;
        return DFM_PARSE_CLOSE;
    }
    return emit_text(p, req, l->len, S("ERROR"));
}

/* Swallowing a refused value, or waiting for a line: see the file comment. */
int mc_parse(void *state, char *buf, size_t len, dfm_request_t *req) {
    mc_parser_t *p = state;
    if (p->swallow) {
        size_t n = len < p->swallow ? len : p->swallow;
        p->swallow -= n;
        if (n == 0) return DFM_PARSE_MORE;
        return emit(p, req, n, 0);
    }
    if (p->get_next) return get_next(p, buf, req);
    if (len > 0 && (unsigned char)buf[0] == 0x80) return DFM_PARSE_CLOSE; /* binary: not served */
    char *nl = memchr(buf, '\n', len);
    if (!nl) {
        size_t skip = 0;
        while (skip < len && buf[skip] == ' ') skip++;
        int is_get = skip <= 100 && len - skip >= 4 &&
                     (memcmp(buf + skip, "get ", 4) == 0 || (len - skip >= 5 && memcmp(buf + skip, "gets ", 5) == 0));
        if (len > (is_get ? MC_GET_LINE_MAX : MC_LINE_MAX)) return DFM_PARSE_CLOSE;
        return DFM_PARSE_MORE;
    }
    mc_line_t l;
    tokenize(buf, (size_t)(nl - buf) + 1, &l);
    return parse_line(p, buf, len, &l, req);
}
