/*
 * server.h: process-wide state and the life cycle: start-up (listeners, shards, workers),
 * the per-worker cron, running one command with its bookkeeping, and graceful shutdown.
 */
#ifndef DF_SERVER_H
#define DF_SERVER_H

/* The Redis version we answer as (INFO, HELLO, LOLWUT, RDB aux field). */
#define DF_REDIS_VERSION "7.0.15"

#include <stdatomic.h>
#include <stdint.h>

#include "dispatch.h"
#include "util.h"
#include "worker.h"

struct conn;
struct shard;

/* Why clients are paused (server_pause): CLIENT PAUSE, a FAILOVER, the final save. */
enum { SERVER_PAUSE_CLIENT, SERVER_PAUSE_FAILOVER, SERVER_PAUSE_SHUTDOWN, SERVER_PAUSE_RELOAD,
       SERVER_PAUSE_N };

typedef struct server_state {
    int64_t start_ms;
    int pid;
    char run_id[41];
    char executable[1024];
    char config_file[1024];
    atomic_int shutting_down;
    int exit_code;
    _Atomic int64_t now_ms;   /* cached clock, refreshed by cron */
    atomic_uint lru_clock;
    _Atomic uint64_t stat_numcommands_base;
    _Atomic int64_t peak_memory;
    int tcp_port;
    atomic_int shutdown_save; /* SHUTDOWN's choice: -1 the save config decides, 0 NOSAVE, 1 SAVE */
    atomic_int quiesced;      /* workers that closed their listeners and clients */
    atomic_int loading;       /* a dump (start-up) or a full sync (replica) is being loaded */
    atomic_int skip_final_save; /* the start-up load failed: never overwrite the file */
    _Atomic int64_t pause_until_ms; /* the latest end of the pauses below (0: none) */
    _Atomic int64_t pause_end[SERVER_PAUSE_N]; /* per purpose: clients' commands wait until then */
    atomic_int pause_all[SERVER_PAUSE_N];      /* ALL (1) or WRITE (0) */
    atomic_int shutdown_force;      /* SHUTDOWN FORCE: exit even when the final save fails */
    atomic_int shutdown_now;        /* SHUTDOWN NOW: no waiting for lagging replicas */
    atomic_int shutdown_waiting;    /* the shutdown waits for replicas (SHUTDOWN ABORT may stop it) */
    atomic_int shutdown_abort;      /* SHUTDOWN ABORT asked */
    _Atomic(struct conn *) shutdown_client; /* the client waiting in SHUTDOWN (its worker's) */
} server_state_t;

extern server_state_t g_server;

int server_main(int argc, char **argv);
/* Hold clients' commands (every one with all, else those that may write) for a purpose until
   until_ms, as Redis's pause purposes: a second pause of a purpose keeps the later end and
   the stricter mode; unpausing one purpose leaves the others. Any thread. */
void server_pause(int purpose, int64_t until_ms, int all);
void server_unpause(int purpose);
/* Worker thread hooks (worker.c). */
void server_worker_init(worker_t *w);
void server_worker_exit(worker_t *w);
void server_worker_cron(worker_t *w);

/* Look up argv[0], check arity, auth and MULTI queueing; replies itself and returns NULL
   when the command must not run. Client's thread. */
const cmd_t *server_prepare(struct conn *c, int argc, dfm_str_t *argv);
const cmd_t *server_peek(struct conn *c, int argc, const dfm_str_t *argv);
/* Run a command inline on the client's thread (shard: its keys' shard, local; or NULL). */
void server_call(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv, struct shard *s);
/* Per-thread command clock: set when a client's input starts being processed, advanced by
   each command run inline (its cost in INFO commandstats includes its parsing). */
extern _Thread_local uint64_t tl_cmd_clock;
static inline int64_t server_now_ms(void) { return atomic_load_explicit(&g_server.now_ms, memory_order_relaxed); }
static inline uint16_t server_lru_clock(void) { return (uint16_t)atomic_load_explicit(&g_server.lru_clock, memory_order_relaxed); }
/* Same, with the reply written to `out` instead of the client's output buffer. */
struct rbuf;
void server_call_into(struct conn *c, const cmd_t *cmd, int argc, dfm_str_t *argv,
                      struct shard *s, struct rbuf *out);
/* SHUTDOWN from client c (its thread): c waits; it is answered only if the server stays up
   (the final save failed: Redis's error), else closed with everyone. */
void server_shutdown_from(struct conn *c, int save, int force, int now);
/* SHUTDOWN ABORT: 0 if a shutdown waiting for replicas is told to stop, -1 if none waits. */
int server_shutdown_abort(void);
/* Ask the process to stop (SIGTERM, SHUTDOWN). */
void server_request_shutdown(int exit_code);
void server_unwatch_all(struct conn *c);

/* Protocol listeners registered by modules. */
int server_add_protocol(const dfm_protocol_t *p);
void server_proto_write(dfm_conn_t *c, const void *p, size_t len);
void server_proto_close(dfm_conn_t *c);
/* A request protocol (api register_request_protocol): listened on at start-up, its port
   permitting. Main thread, module init. 0 or -1 (too many). */
int server_add_request_protocol(const dfm_request_protocol_t *p);
uint64_t server_total_commands(void);
/* Plain listening sockets (no SO_REUSEPORT) on every address of `bind` at port, for a
   listener with its own thread (metrics). Fills fds (up to max) and returns how many, or
   -1 after logging which address failed, naming the listener `what`. Main thread. */
int server_listen_plain(int port, const char *what, int *fds, int max);

#endif
