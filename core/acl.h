/*
 * acl.h: Redis 7.0 access control lists: users, their passwords, and what each may run
 * (commands by id, categories), touch (key patterns, read/write) and publish or subscribe to
 * (channel patterns).
 *
 * Threads. A user is a chain of immutable versions (acl_user_t). Every connection points at
 * its user's slot (acl_slot_t), which lives until shutdown; the slot's `cur` is the current
 * version. ACL SETUSER builds a new version from a copy and publishes it with one atomic
 * store; the old one is retired, not freed, until acl_free, so a worker that loaded it may
 * keep reading it. The check on every command is therefore one acquire load and one flag
 * test for a user allowed everything (ACL_U_FAST), with no lock. Writers (SETUSER, DELUSER,
 * LOAD, requirepass) are serialised by a mutex of their own; the user list is published the
 * same way (an immutable array swapped atomically).
 */
#ifndef DF_ACL_H
#define DF_ACL_H

#include <stdatomic.h>
#include <stdint.h>

#include "dispatch.h"

#define ACL_U_ON (1u << 0)
#define ACL_U_NOPASS (1u << 1)
#define ACL_U_ALLKEYS (1u << 2)
#define ACL_U_ALLCHANNELS (1u << 3)
#define ACL_U_SANITIZE (1u << 4)
#define ACL_U_SKIP_SANITIZE (1u << 5)
#define ACL_U_FAST (1u << 6) /* every command, key and channel: the check is skipped */

#define ACL_PERM_R 1u
#define ACL_PERM_W 2u

typedef struct acl_pat {
    char *pat;
    size_t len;
    unsigned perm; /* ACL_PERM_R | ACL_PERM_W */
} acl_pat_t;

/* One immutable version of a user. */
typedef struct acl_user {
    uint32_t flags;
    int npass;
    char (*pass)[65];   /* SHA-256 of each password, lower-case hex */
    int nkeys, nchans;
    acl_pat_t *keys;
    acl_pat_t *chans;   /* perm unused */
    uint64_t *bits;     /* allowed command ids; bit dispatch_nids() = "future commands" */
} acl_user_t;

/* A user's identity: stable for the life of the process (never freed before acl_free). cur is
   NULL once the user was deleted (its clients are then refused and disconnected). */
typedef struct acl_slot {
    _Atomic(const acl_user_t *) cur;
    char *name;
} acl_slot_t;

/* Denial reasons (ACL LOG's reason field). */
enum { ACL_OK = 0, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_CHANNEL, ACL_DENIED_AUTH };

/* Build the users after the command table is frozen and the configuration parsed: default
   (requirepass gives it that password), then the aclfile if set. 0, or -1 with *err (malloc'd). */
int acl_init(char **err);
/* Free every user, version and slot (shutdown, workers stopped). */
void acl_free(void);

/* The default user's slot (never changes). */
acl_slot_t *acl_default(void);
/* The slot of a user by exact name, or NULL. Any thread. */
acl_slot_t *acl_lookup(const char *name, size_t len);
/* 1 when a new (or RESET) connection starts authenticated: default is on and nopass. */
int acl_default_open(void);
/* requirepass changed (CONFIG SET): default gets "resetpass >pass", or "nopass" if empty. */
void acl_set_requirepass(const char *pass);

/* The user slot that name/pass authenticate as, or NULL (unknown, off, wrong password). Any
   thread. */
acl_slot_t *acl_authenticate(const char *name, size_t nlen, const char *pass, size_t plen);

static inline const acl_user_t *acl_current(acl_slot_t *s) {
    return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* May user u run cmd with these arguments? ACL_OK or a denial; *bad is the argv index of the
   refused key or channel (ACL_DENIED_KEY / _CHANNEL). u NULL (deleted) denies the command.
   Any thread; reads only. */
int acl_check(const acl_user_t *u, const cmd_t *cmd, int argc, const dfm_str_t *argv, int *bad);

/* Record a denial in ACL LOG (entries alike within 60 s are counted together). context:
   "toplevel" / "multi"; client_info: a CLIENT LIST line. Any thread (takes the log's lock). */
void acl_log_add(int reason, const char *context, const char *object, size_t olen,
                 const char *username, size_t ulen, const char *client_info);

/* Registration of the ACL command (cmd_acl.c). */
void cmd_acl_register(void);

#endif
