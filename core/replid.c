/*
 * replid.c: the replication ids (see replid.h).
 */
#include "replid.h"

#include <pthread.h>
#include <string.h>

#include "util.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_id[REPLID_LEN + 1];  /* "" until first asked: a random one then */
static char g_id2[REPLID_LEN + 1] = "0000000000000000000000000000000000000000";
static long long g_second = -1;

static void replid__random(char *out) {
    for (int i = 0; i < REPLID_LEN; i++) out[i] = "0123456789abcdef"[util_rand64() & 15];
    out[REPLID_LEN] = '\0';
}

/* Under g_mu: the current id, made at first use. */
static const char *replid__cur(void) {
    if (!g_id[0]) replid__random(g_id);
    return g_id;
}

static void replid__clear2(void) {
    memset(g_id2, '0', REPLID_LEN);
    g_id2[REPLID_LEN] = '\0';
    g_second = -1;
}

void replid_get(char id[REPLID_LEN + 1], char id2[REPLID_LEN + 1], long long *second) {
    pthread_mutex_lock(&g_mu);
    if (id) memcpy(id, replid__cur(), REPLID_LEN + 1);
    if (id2) memcpy(id2, g_id2, REPLID_LEN + 1);
    if (second) *second = g_second;
    pthread_mutex_unlock(&g_mu);
}

void replid_set(const char *id) {
    pthread_mutex_lock(&g_mu);
    memcpy(g_id, id, REPLID_LEN);
    g_id[REPLID_LEN] = '\0';
    replid__clear2();
    pthread_mutex_unlock(&g_mu);
}

void replid_shift(const char *id, long long offset) {
    pthread_mutex_lock(&g_mu);
    memcpy(g_id2, replid__cur(), REPLID_LEN + 1);
    g_second = offset + 1;
    if (id) {
        memcpy(g_id, id, REPLID_LEN);
        g_id[REPLID_LEN] = '\0';
    } else {
        replid__random(g_id);
    }
    pthread_mutex_unlock(&g_mu);
}

void replid_reset(void) {
    pthread_mutex_lock(&g_mu);
    replid__random(g_id);
    replid__clear2();
    pthread_mutex_unlock(&g_mu);
}

int replid_accepts(const char *id, long long psync_offset) {
    pthread_mutex_lock(&g_mu);
    int ok = strcmp(id, replid__cur()) == 0 ||
             (g_second >= 0 && strcmp(id, g_id2) == 0 && psync_offset <= g_second);
    pthread_mutex_unlock(&g_mu);
    return ok;
}
