/*
 * acl_log.c: ACL LOG, the most recent denials (newest first, at most 128). A denial alike
 * to an entry younger than 60 s (same reason, context, object and user) bumps that entry's
 * count and moves it to the front, as Redis does. Denials are rare and off the fast path,
 * so one mutex guards the list; any worker may add.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acl_user.h"
#include "util.h"

#define ACL_LOG_MAX 128
#define ACL_LOG_GROUP_MS 60000

typedef struct acl_log_entry {
    long long count;
    int reason;
    const char *context;
    char *object, *username, *client_info;
    int64_t ctime_ms;
} acl_log_entry_t;

static acl_log_entry_t acl_log[ACL_LOG_MAX]; /* [0] newest */
static int acl_log_n;
static pthread_mutex_t acl_log_lock = PTHREAD_MUTEX_INITIALIZER;

static char *dupn(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void entry_free(acl_log_entry_t *e) {
    free(e->object);
    free(e->username);
    free(e->client_info);
}

/* Index of an entry like this one and young enough to group with, or -1. Under the lock. */
static int acl_log_find(int reason, const char *context, const char *object, size_t olen,
                        const char *user, size_t ulen, int64_t now) {
    for (int i = 0; i < acl_log_n; i++) {
        acl_log_entry_t *e = &acl_log[i];
        if (e->reason == reason && strcmp(e->context, context) == 0 &&
            strlen(e->object) == olen && memcmp(e->object, object, olen) == 0 &&
            strlen(e->username) == ulen && memcmp(e->username, user, ulen) == 0 &&
            now - e->ctime_ms < ACL_LOG_GROUP_MS)
            return i;
    }
    return -1;
}

void acl_log_add(int reason, const char *context, const char *object, size_t olen,
                 const char *username, size_t ulen, const char *client_info) {
    int64_t now = util_now_ms();
    pthread_mutex_lock(&acl_log_lock);
    int i = acl_log_find(reason, context, object, olen, username, ulen, now);
    acl_log_entry_t e;
    if (i >= 0) {
        e = acl_log[i];
        e.count++;
        e.ctime_ms = now;
        free(e.client_info);
        e.client_info = strdup(client_info);
    } else {
        e = (acl_log_entry_t){1, reason, context, dupn(object, olen), dupn(username, ulen),
                              strdup(client_info), now};
        if (acl_log_n == ACL_LOG_MAX) /* the oldest goes */
            entry_free(&acl_log[(i = ACL_LOG_MAX - 1)]);
        else
            i = acl_log_n++;
    }
    memmove(&acl_log[1], &acl_log[0], sizeof acl_log[0] * (size_t)i);
    acl_log[0] = e;
    pthread_mutex_unlock(&acl_log_lock);
}

static const char *acl_reason_name(int r) {
    switch (r) {
    case ACL_DENIED_CMD: return "command";
    case ACL_DENIED_KEY: return "key";
    case ACL_DENIED_CHANNEL: return "channel";
    default: return "auth";
    }
}

void acl__log_reply(dfm_ctx_t *ctx, long count) {
    pthread_mutex_lock(&acl_log_lock);
    int n = count < acl_log_n ? (int)count : acl_log_n;
    int64_t now = util_now_ms();
    reply_array(ctx, n);
    for (int i = 0; i < n; i++) {
        const acl_log_entry_t *e = &acl_log[i];
        reply_map(ctx, 7);
        reply_cstr(ctx, "count");
        reply_int(ctx, e->count);
        reply_cstr(ctx, "reason");
        reply_cstr(ctx, acl_reason_name(e->reason));
        reply_cstr(ctx, "context");
        reply_cstr(ctx, e->context);
        reply_cstr(ctx, "object");
        reply_cstr(ctx, e->object);
        reply_cstr(ctx, "username");
        reply_cstr(ctx, e->username);
        reply_cstr(ctx, "age-seconds");
        reply_double(ctx, (double)(now - e->ctime_ms) / 1000.0);
        reply_cstr(ctx, "client-info");
        reply_cstr(ctx, e->client_info);
    }
    pthread_mutex_unlock(&acl_log_lock);
}

void acl__log_reset(void) {
    pthread_mutex_lock(&acl_log_lock);
    for (int i = 0; i < acl_log_n; i++) entry_free(&acl_log[i]);
    memset(acl_log, 0, sizeof acl_log);
    acl_log_n = 0;
    pthread_mutex_unlock(&acl_log_lock);
}

void acl__log_free(void) { acl__log_reset(); }
