/*
 * tracking_int.h: what the tracking files share (tracking.c: shard tables, prefixes and the
 * per-thread outbox; tracking_deliver.c: the client side of delivery; cmd_tracking.c: the
 * CLIENT subcommands). Not for anyone else.
 *
 * A record is an invalidation on its way to one client, in a byte buffer:
 *   track_rec_t, then nkeys x { uint64 writer, uint32 len, len bytes } (memcpy'd, unaligned).
 */
#ifndef DF_TRACKING_INT_H
#define DF_TRACKING_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "reply.h"
#include "tracking.h"

enum {
    TREC_KEYS,   /* default mode: one push per key */
    TREC_BCAST,  /* BCAST: one push with every key */
    TREC_NULL,   /* FLUSHALL: one push with null */
    TREC_FWD,    /* to a REDIRECT client: render as `mode` says */
    TREC_BROKEN, /* to a tracking client: its REDIRECT client (`origin`) is gone */
};

#define TREC_NULL_KEYS UINT32_MAX /* nkeys of a TREC_FWD carrying a null */

typedef struct track_rec {
    uint8_t kind;
    uint8_t mode;           /* TREC_FWD: TREC_KEYS, TREC_BCAST or TREC_NULL */
    uint16_t origin_worker; /* TREC_FWD: the tracking client's worker */
    uint32_t nkeys;
    uint64_t target; /* the client on the receiving worker */
    uint64_t origin; /* TREC_FWD: the tracking client; TREC_BROKEN: the redirect id */
} track_rec_t;

typedef struct track_ref {
    uint64_t id;
    int worker;
} track_ref_t;

/* A prefix of this worker's copy of the BCAST registrations, and who registered it. */
typedef struct track_prefix {
    char *p;
    size_t len;
    int n, cap;
    track_ref_t *refs;
} track_prefix_t;

/* BCAST keys gathered for one client during this iteration. */
typedef struct track_pend {
    uint64_t id;
    int worker;
    uint32_t nkeys;
    rbuf_t keys; /* { writer, len, bytes } as in a record */
} track_pend_t;

/* One slot of a worker's id index (open addressing; id 0 is empty). */
typedef struct track_slot {
    uint64_t id;
    conn_t *c;
} track_slot_t;

/* Per worker; only that worker's thread touches it. */
typedef struct track_thread {
    rbuf_t *out; /* [g_nworkers]: records for each worker, sent at the iteration's end */
    track_pend_t *pend;
    int npend, cappend;
    track_prefix_t *pfx;
    int npfx, cappfx;
    track_slot_t *map; /* clients that track or receive redirected invalidations */
    size_t mapcap, mapn;
} track_thread_t;

/* A client's tracking state beyond conn_t.track (its own thread). */
typedef struct track_client {
    uint64_t redir; /* REDIRECT client id, 0 for none */
    int redir_worker;
    int indexed; /* in its worker's id index */
    int npfx, cappfx;
    dfm_str_t *pfx; /* BCAST prefixes, in Redis's (sorted) order; bytes owned */
} track_client_t;

extern track_thread_t *tracking__threads;
extern atomic_long tracking__nclients;

/* tracking.c */
track_thread_t *tracking__me(void);
/* Append a record header (and the keys, if given as a record body of nkeys) for worker w. */
void tracking__out(int w, const track_rec_t *h, const void *body, size_t blen);
/* One key of a record body. */
void tracking__put_key(rbuf_t *b, uint64_t writer, const char *key, size_t klen);
/* Apply / drop a BCAST registration on this worker (copies of the prefix). */
void tracking__prefix_add(const char *p, size_t len, uint64_t id, int worker);
void tracking__prefix_drop(uint64_t id);

/* tracking_deliver.c */
void tracking__deliver(const char *p, size_t len);
void tracking__deliver_exit(void); /* worker exit */
void tracking__index(conn_t *c);
conn_t *tracking__lookup(uint64_t id);
/* Every tracking client of this worker gets a null invalidation (FLUSHALL). */
void tracking__null_all(void);

#endif
