/*
 * expire.c: active expiry. Each worker's cron (every 1000/hz ms) walks its shards' tables
 * with a persistent scan cursor and deletes keys whose time has passed, so keys that are
 * never read again still go. Like Redis's cycle it keeps going while a large share of the
 * keys it looks at turn out expired, within a time budget (25% of the cron period), and
 * stops early when expired keys are rare. Only the expire tag bit of each slot is read for
 * keys without a TTL, so walking them costs no entry dereference.
 */
#include <string.h>

#include "master.h"
#include "db.h"
#include "monitor.h"
#include "util.h"
#include "notify.h"

#define EXPIRE_BATCH_BUCKETS 256
#define EXPIRE_MAX_COLLECT 1024

typedef struct expire_scan {
    int64_t now;
    size_t ttl_seen;
    size_t n;
    entry_t *expired[EXPIRE_MAX_COLLECT];
    double ttl_sum; /* TTLs up to INT64_MAX ms: an integer sum could overflow */
} expire_scan_t;

static void expire_visit(void *arg, table_slot_t *slot) {
    expire_scan_t *st = arg;
    if (!slot_has_expire(*slot)) return;
    entry_t *e = slot_entry(*slot);
    int64_t at = entry_expire(e);
    st->ttl_seen++;
    if (at <= st->now) {
        if (st->n < EXPIRE_MAX_COLLECT) st->expired[st->n++] = e;
    } else {
        st->ttl_sum += (double)(at - st->now);
    }
}

/* Delete what one batch collected; returns how many went. */
static size_t expire_collected(shard_t *s, int dbi, expire_scan_t *st) {
    for (size_t i = 0; i < st->n; i++) {
        entry_t *e = st->expired[i];
        table_slot_t *slot = db_find_raw(s, dbi, entry_key(e), e->klen);
        if (!slot) continue;
        db_signal_modified(s, dbi, entry_key(e), e->klen);
        notify_key(dbi, "expired", entry_key(e), e->klen, 'x');
        master_journal_del(s->id, dbi, entry_key(e), e->klen);
        db_delete_slot(s, dbi, slot);
        s->stats.expired++;
    }
    return st->n;
}

static int expire_db(shard_t *s, int dbi, int64_t deadline) {
    db_t *d = &s->dbs[dbi];
    expire_scan_t st;
    for (;;) {
        st.now = util_now_ms();
        st.ttl_seen = st.n = 0;
        st.ttl_sum = 0;
        for (int b = 0; b < EXPIRE_BATCH_BUCKETS && st.n < EXPIRE_MAX_COLLECT - 64; b++) {
            d->expire_cursor = table_scan(d->t, d->expire_cursor, expire_visit, &st);
            if (d->expire_cursor == 0) break;
        }
        size_t gone = expire_collected(s, dbi, &st);
        if (st.ttl_seen > gone && st.ttl_seen)
            s->stats.avg_ttl_ms = (int64_t)(st.ttl_sum / (double)(st.ttl_seen - gone));
        if (d->nexpires == 0 || gone * 10 < st.ttl_seen || st.ttl_seen == 0) return 0;
        if (util_mono_us() >= deadline) return 1;
    }
}

/* Segments never merge, so a table that expiry emptied keeps its size: give it back. */
static void expire_release_empty(db_t *d) {
    if (table_size(d->t) != 0 || table_mem_usage(d->t) < 256 * 1024) return;
    if (table_snap_active(d->t)) return; /* a running snapshot holds it: next cycle */
    table_free(d->t, NULL, NULL);
    d->t = table_new();
    d->expire_cursor = 0;
}

void db_active_expire(shard_t *s, int64_t budget_us) {
    if (!s->active_expire) return;
    int64_t start = util_mono_us(), deadline = start + budget_us;
    s->stats.expire_cycles++;
    for (int i = 0; i < s->ndbs; i++) {
        if (s->dbs[i].nexpires == 0) continue;
        int out_of_time = expire_db(s, i, deadline);
        expire_release_empty(&s->dbs[i]);
        if (out_of_time) break;
    }
    if (g_config.latency_monitor_threshold > 0)
        latency_add_sample("expire-cycle", (uint64_t)(util_mono_us() - start) / 1000);
}
