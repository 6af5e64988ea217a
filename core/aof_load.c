/*
 * aof_load.c: loading the AOF at start-up (a loader thread; workers running; clients get
 * LOADING). The base goes in like an RDB file (or, without the "REDIS" magic, as commands);
 * each incr file's commands are written into one end of a socket pair whose other end is a
 * client of worker 0 that runs them like our master's stream (conn_adopt_aof): the normal
 * command path, across shards, in order, unanswered. Each file starts in db 0.
 *
 * Only whole commands are sent: a command cut short at the end of the last file (a crash
 * mid-write) is dropped and the file truncated before it when aof-load-truncated is yes
 * (else the load fails), and so is a MULTI without its EXEC. Anything else malformed fails
 * the load, as in Redis.
 */
#include "aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "rdb_load.h"
#include "util.h"
#include "worker.h"

#define AOF_READ_CHUNK (256 * 1024)

/* The client of worker 0 that runs the commands, and the loader's end of its socket. */
typedef struct feed {
    int fd;
    uint64_t id;      /* worker 0's client, found by id: once closed it is freed */
    long long sent;   /* bytes written into fd */
    atomic_int state; /* posted checks: 0 waiting, 1 yes, 2 no, 3 the client closed */
} feed_t;

/* The client, or NULL once it closed (a protocol error in the file). Worker 0. */
static conn_t *feed_conn(const feed_t *f) {
    for (conn_t *c = tl_worker->conns; c; c = c->next)
        if (c->id == f->id) return (c->flags & CONN_CLOSING) ? NULL : c;
    return NULL;
}

static void feed_adopt(void *arg) {
    feed_t *f = arg;
    int fds = f->fd; /* the worker's end, handed over in fd for this call */
    f->id = conn_adopt_aof(tl_worker, fds)->id;
    atomic_store(&f->state, 1);
}

static void feed_check(void *arg) {
    feed_t *f = arg;
    conn_t *c = feed_conn(f);
    atomic_store(&f->state, !c ? 3 : conn_aof_idle(c, f->sent) ? 1 : 2);
}

static void feed_close(void *arg) {
    feed_t *f = arg;
    conn_t *c = feed_conn(f);
    if (c) conn_close(c);
    atomic_store(&f->state, 1);
}

/* Run fn on worker 0 and wait for its answer in state. */
static int feed_post(feed_t *f, void (*fn)(void *)) {
    atomic_store(&f->state, 0);
    worker_post(0, fn, f);
    int s;
    while ((s = atomic_load(&f->state)) == 0) usleep(200);
    return s;
}

static int feed_open(feed_t *f) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    f->sent = 0;
    f->fd = sv[1];
    feed_post(f, feed_adopt);
    f->fd = sv[0];
    return 0;
}

static int feed_send(feed_t *f, const char *p, size_t n) {
    if (!n) return 0;
    if (util_write_all(f->fd, p, n) < 0) return -1;
    f->sent += (long long)n;
    return 0;
}

/* Wait until every command sent has run; then close the client. -1 if it closed first (not
   everything ran). */
static int feed_finish(feed_t *f) {
    int s;
    while ((s = feed_post(f, feed_check)) == 2) usleep(1000);
    feed_post(f, feed_close);
    close(f->fd);
    return s == 1 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------ */
/* One file of commands                                                                   */

typedef struct scan {
    char *buf;
    size_t len, cap;
    size_t cmd;       /* where the command being walked starts */
    size_t safe;      /* the end of the last whole command outside MULTI */
    long long base;   /* file offset of buf[0] */
    int in_multi;
    aof_walk_t w;
} scan_t;

/* Walk the commands buffered: 0, -1 malformed, -2 an unknown command (its name in
   unknown, as Redis refuses the file for it). */
static int scan_walk(scan_t *s, char *unknown, size_t cap) {
    size_t len;
    int r;
    while ((r = aof_walk(&s->w, s->buf + s->cmd, s->len - s->cmd, &len)) == 1) {
        const char *name = s->buf + s->cmd + s->w.name_off;
        size_t nl = s->w.name_len;
        if (nl && !dispatch_lookup(name, nl)) { /* the table is read-only once running */
            snprintf(unknown, cap, "%.*s", (int)(nl < 64 ? nl : 64), name);
            return -2;
        }
        if (util_eq_nocase(name, nl, "multi")) s->in_multi = 1;
        else if (util_eq_nocase(name, nl, "exec") || util_eq_nocase(name, nl, "discard")) s->in_multi = 0;
        s->cmd += len;
        if (!s->in_multi) s->safe = s->cmd;
    }
    return r < 0 ? -1 : 0;
}

/* Send the whole commands and keep the rest at the buffer's start. */
static int scan_flush(scan_t *s, feed_t *f) {
    if (feed_send(f, s->buf, s->safe) < 0) return -1;
    memmove(s->buf, s->buf + s->safe, s->len - s->safe);
    s->len -= s->safe;
    s->cmd -= s->safe;
    s->base += (long long)s->safe;
    s->safe = 0;
    return 0;
}

/* The file ended inside a command (or a MULTI): drop it, or fail. */
static int scan_truncated(scan_t *s, const char *path, int last, int fd, char *err, size_t cap) {
    long long valid = s->base + (long long)s->safe;
    if (!last || !g_config.aof_load_truncated) {
        snprintf(err, cap, "Unexpected end of file reading the append only file %s. You can: "
                 "1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
                 "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
                 "configuration option to yes and restart the server.", path);
        return -1;
    }
    log_warning("!!! Warning: short read while loading the AOF file %s!!!", path);
    if (ftruncate(fd, valid) < 0) {
        snprintf(err, cap, "Error truncating the AOF file %s: %s", path, strerror(errno));
        return -1;
    }
    log_warning("AOF %s loaded anyway because aof-load-truncated is enabled", path);
    return 0;
}

/* Replay the commands of the file at path from offset start (the last file when last). 0,
   or -1 (err). */
static int replay_file(feed_t *f, const char *path, int last, long long start, char *err, size_t cap) {
    int fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || lseek(fd, start, SEEK_SET) < 0) {
        snprintf(err, cap, "Can't open the append-only file %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    static const char select0[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";
    scan_t s = {.base = start};
    aof_walk_init(&s.w);
    int rc = feed_send(f, select0, sizeof select0 - 1);
    for (ssize_t got = 1; rc == 0 && got > 0;) {
        size_t want = s.cap - s.len < AOF_READ_CHUNK ? AOF_READ_CHUNK : s.cap - s.len;
        if (s.cap - s.len < want) {
            s.cap = s.len + want;
            s.buf = df_realloc(s.buf, s.cap);
        }
        got = read(fd, s.buf + s.len, want);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            snprintf(err, cap, "Error reading the append-only file %s: %s", path, strerror(errno));
            rc = -1;
        } else if (got > 0) {
            s.len += (size_t)got;
            char unknown[80];
            int w = scan_walk(&s, unknown, sizeof unknown);
            if (w == -2) {
                snprintf(err, cap, "Unknown command '%s' reading the append only file %s", unknown, path);
                rc = -1;
            } else if (w < 0) {
                snprintf(err, cap, "Bad file format reading the append only file %s: make a backup of "
                         "your AOF file, then use ./redis-check-aof --fix <filename.manifest>", path);
                rc = -1;
            } else {
                rc = scan_flush(&s, f);
            }
        }
    }
    if (rc == 0 && s.len > 0) rc = scan_truncated(&s, path, last, fd, err, cap);
    if (rc < 0 && !err[0]) snprintf(err, cap, "Can't run the commands of %s: the loading client closed", path);
    df_free(s.buf);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* The manifest's files                                                                   */

int aof_exists(void) {
    char *p = aof_manifest_path(""), *old = aof_legacy_path();
    struct stat st;
    int yes = (p && access(p, F_OK) == 0) || (old && stat(old, &st) == 0 && S_ISREG(st.st_mode));
    free(p);
    free(old);
    return yes;
}

/* Redis 7.0's upgrade of a single-file AOF: moved into the AOF directory as the base of a
   new manifest. 1 done, 0 there is none, -1 error (err). */
static int upgrade_legacy(aof_manifest_t *m, char *err, size_t cap) {
    char *old = aof_legacy_path(), *dir = aof_dir_path(), *to = aof_file_path(g_config.appendfilename);
    struct stat st;
    int rc = 0;
    if (old && dir && to && stat(old, &st) == 0 && S_ISREG(st.st_mode)) {
        rc = -1;
        if ((mkdir(dir, 0755) == 0 || errno == EEXIST) && rename(old, to) == 0) {
            memset(m, 0, sizeof *m);
            m->base = (aof_file_t){strdup(g_config.appendfilename), 1};
            m->base_seq = 1;
            rc = aof_manifest_save(m) == 0 ? 1 : -1;
            if (rc < 0) aof_manifest_free(m);
        }
        if (rc < 0) snprintf(err, cap, "Can't upgrade the append-only file %s: %s", old, strerror(errno));
        else log_notice("Successfully migrated an old-style AOF into the AOF directory %s", dir);
    }
    free(old);
    free(dir);
    free(to);
    return rc;
}

/* 1 if the file at path starts with the RDB magic. */
static int is_rdb(const char *path) {
    char magic[5] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
    if (fd >= 0) close(fd);
    return n == 5 && memcmp(magic, "REDIS", 5) == 0;
}

/* The base: an RDB file, maybe followed by commands (a Redis 6 AOF with an RDB preamble),
   or commands alone. */
static int load_base(feed_t *f, const char *name, int last, char *err, size_t cap) {
    char *path = aof_file_path(name);
    size_t end = 0;
    int rc = 0;
    if (is_rdb(path)) {
        uint64_t loaded = 0, expired = 0;
        rc = rdb_load_into_shards(path, &loaded, &expired, &end, err, cap) < 0 ? -1 : 0;
        if (rc == 0) log_notice("DB loaded from base file %s (%llu keys)", name, (unsigned long long)loaded);
    }
    struct stat st;
    if (rc == 0 && stat(path, &st) == 0 && (long long)st.st_size > (long long)end)
        rc = replay_file(f, path, last, (long long)end, err, cap);
    free(path);
    return rc;
}

int aof_load(aof_manifest_t *m, char *err, size_t cap) {
    int rc = aof_manifest_load(m, err, cap);
    if (rc == 0) rc = upgrade_legacy(m, err, cap);
    if (rc <= 0) return rc;
    feed_t f = {0};
    err[0] = '\0';
    if (feed_open(&f) < 0) {
        snprintf(err, cap, "Can't load the AOF: socketpair: %s", strerror(errno));
        aof_manifest_free(m);
        return -1;
    }
    int64_t t0 = util_now_ms();
    rc = m->base.name ? load_base(&f, m->base.name, m->nincr == 0, err, cap) : 0;
    for (int i = 0; rc == 0 && i < m->nincr; i++) {
        char *path = aof_file_path(m->incr[i].name);
        rc = replay_file(&f, path, i == m->nincr - 1, 0, err, cap);
        if (rc == 0) log_notice("DB loaded from incr file %s", m->incr[i].name);
        free(path);
    }
    if (feed_finish(&f) < 0 && rc == 0) {
        snprintf(err, cap, "Can't run the commands of the append only file: the loading client closed");
        rc = -1;
    }
    if (rc < 0) {
        aof_manifest_free(m);
        return -1;
    }
    log_notice("DB loaded from append only file: %.3f seconds", (double)(util_now_ms() - t0) / 1000.0);
    return 1;
}
