/*
 * rdb_load.c: loading an RDB file (ours or Redis's, versions 1..11): at start-up and for a
 * replica's full sync.
 *
 * A loader thread (not a worker) maps the file and walks it with the same reader DUMP and
 * RESTORE use; value decoding is the types' (rdb_load_value). Keys whose expiry has passed
 * are skipped, as a Redis master does. Entries are built on the loader thread and posted in
 * batches to their shard's owner, which inserts them (at most 64 batches in flight). A
 * checksum mismatch, an unknown type or bad data stops the load: the caller then stops the
 * server (start-up) or drops the sync, rather than run with part of the data unnoticed.
 */
#include "rdb_load.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "api.h"
#include "config.h"
#include "crc64.h"
#include "db.h"
#include "dump.h"
#include "log.h"
#include "snapshot.h"
#include "util.h"
#include "worker.h"

typedef struct rdb_loader {
    dfm_rdb_t r;
    rdb_sink_fn sink;
    void *sink_arg;
    const unsigned char *base;
    size_t size;
    int version;
    int db;
    int64_t expire_ms;
    uint64_t loaded, expired;
    char err[160];
} rdb_loader_t;

static int load_fail(rdb_loader_t *l, const char *msg) {
    snprintf(l->err, sizeof l->err, "%s at offset %zu", msg, (size_t)(l->r.p - l->base));
    return -1;
}

/* "REDIS" and a 4-digit version we can read. */
static int load_header(rdb_loader_t *l) {
    char magic[10] = {0};
    if (rdb_load_raw(&l->r, magic, 9) < 0 || memcmp(magic, "REDIS", 5) != 0)
        return load_fail(l, "Wrong signature trying to load DB from file");
    l->version = atoi(magic + 5);
    if (l->version < 1 || l->version > 11)
        return load_fail(l, "Can't handle RDB format version");
    return 0;
}

/* Little-endian integer of n bytes. */
static int load_le(rdb_loader_t *l, int n, uint64_t *v) {
    unsigned char b[8];
    if (rdb_load_raw(&l->r, b, (size_t)n) < 0) return -1;
    *v = 0;
    for (int i = n - 1; i >= 0; i--) *v = (*v << 8) | b[i];
    return 0;
}

static int load_skip_string(rdb_loader_t *l) {
    size_t n;
    char *s = rdb_load_string(&l->r, &n);
    if (!s) return -1;
    df_free(s);
    return 0;
}

/* One key and value of RDB type `type`, inserted into its shard unless already expired. */
static int load_key(rdb_loader_t *l, int type) {
    if (!rdb_type_known(type)) {
        snprintf(l->err, sizeof l->err, "Unknown RDB value type %d (no module reads it)", type);
        return -1;
    }
    size_t klen;
    char *key = rdb_load_string(&l->r, &klen);
    if (!key || klen > UINT32_MAX) {
        df_free(key);
        return load_fail(l, "Short read or bad key");
    }
    entry_t *e = rdb_load_value(&l->r, type, key, klen, l->expire_ms);
    int64_t at = l->expire_ms;
    l->expire_ms = -1;
    if (!e) {
        df_free(key);
        return load_fail(l, "Bad value data");
    }
    if (at >= 0 && at <= util_now_ms()) {
        db_entry_free(e);
        l->expired++;
    } else {
        l->sink(l->sink_arg, l->db, e);
        l->loaded++;
    }
    df_free(key);
    return 0;
}

/* Everything after the header up to the EOF opcode. */
static int load_body(rdb_loader_t *l) {
    for (;;) {
        int op = rdb_load_type(&l->r);
        uint64_t v, v2;
        const dfm_rdb_aux_t *aux = op >= 0 ? api_rdb_aux_find(op) : NULL;
        if (aux) { /* a module's record (the scripting module's function libraries) */
            if (aux->load(&l->r) < 0) return load_fail(l, "Bad module record");
            continue;
        }
        switch (op) {
        case -1:
            return load_fail(l, "Short read (no EOF marker)");
        case RDB_OPCODE_EOF:
            return 0;
        case RDB_OPCODE_EXPIRETIME_MS:
            if (load_le(l, 8, &v) < 0) return load_fail(l, "Short read");
            l->expire_ms = (int64_t)v;
            break;
        case RDB_OPCODE_EXPIRETIME:
            if (load_le(l, 4, &v) < 0) return load_fail(l, "Short read");
            l->expire_ms = (int64_t)v * 1000;
            break;
        case RDB_OPCODE_SELECTDB:
            if (rdb_load_len(&l->r, &v) < 0) return load_fail(l, "Short read");
            if (v >= (uint64_t)g_shards[0].ndbs) {
                snprintf(l->err, sizeof l->err,
                         "FATAL: Data file was created with a Redis server configured to handle "
                         "more than %d databases. Exiting", g_shards[0].ndbs);
                return -1;
            }
            l->db = (int)v;
            break;
        case RDB_OPCODE_RESIZEDB:
            if (rdb_load_len(&l->r, &v) < 0 || rdb_load_len(&l->r, &v2) < 0)
                return load_fail(l, "Short read");
            break;
        case RDB_OPCODE_AUX:
            if (load_skip_string(l) < 0 || load_skip_string(l) < 0)
                return load_fail(l, "Short read in an AUX field");
            break;
        case RDB_OPCODE_IDLE:
            if (rdb_load_len(&l->r, &v) < 0) return load_fail(l, "Short read");
            break;
        case RDB_OPCODE_FREQ:
            if (load_le(l, 1, &v) < 0) return load_fail(l, "Short read");
            break;
        case RDB_OPCODE_FUNCTION2:
            if (load_skip_string(l) < 0) return load_fail(l, "Short read");
            log_warning("RDB: skipped a function library (no scripting module)");
            break;
        case RDB_OPCODE_MODULE_AUX:
            return load_fail(l, "Module auxiliary data is not supported");
        default:
            if (load_key(l, op) < 0) return -1;
        }
    }
}

/* Version 5+: the CRC-64 of everything before it (0 = not computed by the writer). */
static int load_checksum(rdb_loader_t *l) {
    if (l->version < 5) return 0;
    size_t upto = (size_t)(l->r.p - l->base);
    uint64_t want;
    if (load_le(l, 8, &want) < 0) return load_fail(l, "Short read (no checksum)");
    if (want && crc64(0, l->base, upto) != want) {
        snprintf(l->err, sizeof l->err, "Wrong RDB checksum. Aborting now.");
        return -1;
    }
    return 0;
}

int rdb_load_path(const char *path, rdb_sink_fn sink, void *arg, uint64_t *loaded,
                  uint64_t *expired, size_t *end, char *err, size_t errcap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        close(fd);
        snprintf(err, errcap, "%s is empty or unreadable", path);
        return -1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errcap, "cannot map %s: %s", path, strerror(errno));
        return -1;
    }
    madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    rdb_loader_t l = {.base = map, .size = (size_t)st.st_size, .expire_ms = -1,
                      .sink = sink, .sink_arg = arg};
    rdb_reader_init(&l.r, map, (size_t)st.st_size);
    api_rdb_aux_begin();
    int rc = load_header(&l);
    if (rc == 0) rc = load_body(&l);
    if (rc == 0) rc = load_checksum(&l);
    api_rdb_aux_end(rc == 0);
    if (end) *end = (size_t)(l.r.p - l.base);
    munmap(map, (size_t)st.st_size);
    if (rc < 0) {
        snprintf(err, errcap, "error loading %s: %s", path, l.err);
        return -1;
    }
    *loaded = l.loaded;
    *expired = l.expired;
    return 1;
}

/* ---- loading into running shards: batches posted to each shard's owner ---- */

#define LOAD_BATCH 256

typedef struct load_batch {
    int shard, n;
    int db[LOAD_BATCH];
    entry_t *e[LOAD_BATCH];
} load_batch_t;

static atomic_int load_pending;

static void load_apply(void *arg) {
    load_batch_t *b = arg;
    for (int i = 0; i < b->n; i++) db_set_entry(&g_shards[b->shard], b->db[i], b->e[i]);
    free(b);
    atomic_fetch_sub(&load_pending, 1);
}

static void load_post(load_batch_t **slot) {
    load_batch_t *b = *slot;
    *slot = NULL;
    if (!b) return;
    atomic_fetch_add(&load_pending, 1);
    worker_post(g_shards[b->shard].owner, load_apply, b);
}

/* rdb_sink_fn: batch per shard; a full batch goes to its owner. */
static void load_to_owner(void *arg, int db, entry_t *e) {
    load_batch_t **batches = arg;
    int sid = db_shard_of(entry_key(e), e->klen);
    if (!batches[sid]) {
        batches[sid] = malloc(sizeof **batches);
        batches[sid]->shard = sid;
        batches[sid]->n = 0;
    }
    load_batch_t *b = batches[sid];
    b->db[b->n] = db;
    b->e[b->n++] = e;
    if (b->n == LOAD_BATCH) load_post(&batches[sid]);
    while (atomic_load(&load_pending) > 64) usleep(200); /* bounded memory in flight */
}

int rdb_load_into_shards(const char *path, uint64_t *loaded, uint64_t *expired, size_t *end,
                         char *err, size_t errcap) {
    load_batch_t **batches = calloc((size_t)g_nshards, sizeof *batches);
    int rc = rdb_load_path(path, load_to_owner, batches, loaded, expired, end, err, errcap);
    for (int i = 0; i < g_nshards; i++) load_post(&batches[i]);
    free(batches);
    while (atomic_load(&load_pending) > 0) usleep(500);
    return rc;
}
