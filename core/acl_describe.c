/*
 * acl_describe.c: a user version as Redis 7.0 writes it (ACL LIST, ACL GETUSER, ACL SAVE).
 *
 * Commands are described from the bitmap, the way Redis 7.0 does: "+@all" or "-@all", then
 * greedily the category that best fits the bits still unexplained (more commands in common
 * than different, fewest differences), then single commands (and "cmd|sub") for what is
 * left. Reading the text back as rules gives the same bitmap. Single commands come in our
 * table's order (Redis's follows its hash table, so no client can depend on it).
 * Runs on any thread over a published (immutable) version.
 */
#include <stdlib.h>
#include <string.h>

#include "acl_user.h"

static void out_str(rbuf_t *out, const char *s) { rbuf_append(out, s, strlen(s)); }

static int bit_get(const uint64_t *b, int id) { return (int)((b[id / 64] >> (id % 64)) & 1); }

static void bit_set(uint64_t *b, int id, int on) {
    if (on)
        b[id / 64] |= 1ull << (id % 64);
    else
        b[id / 64] &= ~(1ull << (id % 64));
}

/* Commands of category cat set (*on) and clear (*off) in bits. */
static void count_cat(const uint64_t *bits, int cat, int nids, long *on, long *off) {
    *on = *off = 0;
    for (int id = 0; id < nids; id++) {
        if (!(acl__cmd_cats(id) & (1u << cat))) continue;
        if (bit_get(bits, id))
            (*on)++;
        else
            (*off)++;
    }
}

static void apply_cat(uint64_t *bits, int cat, int nids, int on) {
    for (int id = 0; id < nids; id++)
        if (acl__cmd_cats(id) & (1u << cat)) bit_set(bits, id, on);
}

/* The category that best explains temp's bits (additive: set bits), or -1. */
static int best_cat(const uint64_t *temp, const char *applied, int additive, int nids) {
    int best = -1;
    long mindiff = 1L << 30, maxsame = 0;
    for (int c = 0; c < acl__ncats(); c++) {
        if (applied[c]) continue;
        long on, off;
        count_cat(temp, c, nids, &on, &off);
        long diff = additive ? off : on, same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
            best = c;
            mindiff = diff;
            maxsame = same;
        }
    }
    return best;
}

/* Single commands where fake still differs from the user. */
static void describe_singles(const uint64_t *bits, uint64_t *fake, int nids, rbuf_t *out) {
    for (int id = 0; id < nids; id++) {
        const cmd_t *c = acl__cmd_at(id);
        int want = bit_get(bits, id);
        if (want == bit_get(fake, id)) continue;
        out_str(out, want ? "+" : "-");
        out_str(out, c->fullname ? c->fullname : c->name);
        out_str(out, " ");
        bit_set(fake, id, want);
        for (int s = 0; s < c->nsubs; s++) bit_set(fake, c->subs[s]->id, want);
    }
}

void acl__describe_cmds(const acl_user_t *u, rbuf_t *out) {
    int nids = dispatch_nids(), words = acl__nwords();
    int additive = !bit_get(u->bits, nids); /* the "future commands" bit: +@all */
    uint64_t *fake = calloc((size_t)words, sizeof *fake), *temp = calloc((size_t)words, sizeof *temp);
    char *applied = calloc((size_t)acl__ncats(), 1);
    if (!fake || !temp || !applied) abort();
    if (!additive) memset(fake, 0xff, sizeof *fake * (size_t)words);
    memcpy(temp, u->bits, sizeof *temp * (size_t)words);
    size_t start = out->len;
    out_str(out, additive ? "-@all " : "+@all ");
    int c;
    while ((c = best_cat(temp, applied, additive, nids)) >= 0) {
        out_str(out, additive ? "+@" : "-@");
        out_str(out, acl__cat_name(c));
        out_str(out, " ");
        apply_cat(fake, c, nids, additive);
        apply_cat(temp, c, nids, !additive);
        applied[c] = 1;
    }
    describe_singles(u->bits, fake, nids, out);
    if (out->len > start) out->len--; /* the last space */
    free(fake);
    free(temp);
    free(applied);
}

static void describe_pat(const acl_pat_t *p, rbuf_t *out) {
    if (p->perm == ACL_PERM_R)
        out_str(out, "%R~");
    else if (p->perm == ACL_PERM_W)
        out_str(out, "%W~");
    else
        out_str(out, "~");
    rbuf_append(out, p->pat, p->len);
}

void acl__describe_keys(const acl_user_t *u, rbuf_t *out) {
    if (u->flags & ACL_U_ALLKEYS) {
        out_str(out, "~*");
        return;
    }
    for (int i = 0; i < u->nkeys; i++) {
        if (i) out_str(out, " ");
        describe_pat(&u->keys[i], out);
    }
}

/* for_list: ACL LIST's form, which says "resetchannels" before the patterns. */
void acl__describe_chans(const acl_user_t *u, rbuf_t *out, int for_list) {
    if (u->flags & ACL_U_ALLCHANNELS) {
        out_str(out, "&*");
        return;
    }
    if (for_list) out_str(out, u->nchans ? "resetchannels " : "resetchannels");
    for (int i = 0; i < u->nchans; i++) {
        if (i) out_str(out, " ");
        out_str(out, "&");
        rbuf_append(out, u->chans[i].pat, u->chans[i].len);
    }
}

void acl__describe(const acl_user_t *u, rbuf_t *out) {
    out_str(out, (u->flags & ACL_U_ON) ? "on " : "off ");
    if (u->flags & ACL_U_NOPASS) out_str(out, "nopass ");
    if (u->flags & ACL_U_SKIP_SANITIZE) out_str(out, "skip-sanitize-payload ");
    if (u->flags & ACL_U_SANITIZE) out_str(out, "sanitize-payload ");
    for (int i = 0; i < u->npass; i++) {
        out_str(out, "#");
        rbuf_append(out, u->pass[i], 64);
        out_str(out, " ");
    }
    size_t before = out->len;
    acl__describe_keys(u, out);
    if (out->len > before) out_str(out, " ");
    acl__describe_chans(u, out, 1);
    out_str(out, " ");
    acl__describe_cmds(u, out);
}
