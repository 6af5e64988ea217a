/*
 * lazyfree.c: see lazyfree.h. Producers push onto a lock-free stack and write an eventfd;
 * the thread sleeps in read(2) on it and frees whatever it takes off the stack.
 */
#include "lazyfree.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"
#include "util.h"

typedef struct lf_item {
    struct lf_item *next;
    const dfm_type_t *type;
    void *obj; /* NULL: stop */
} lf_item_t;

static _Atomic(lf_item_t *) lf_head;
static atomic_long lf_queued;
static int lf_efd = -1;
static pthread_t lf_tid;
static int lf_running;

long lazyfree_pending(void) { return atomic_load(&lf_queued); }

static void lf_push(lf_item_t *it) {
    LIFO_PUSH(lf_item_t, &lf_head, it, it);
    uint64_t one = 1;
    ssize_t n = write(lf_efd, &one, sizeof one);
    (void)n;
}

/* Free everything queued, oldest first; 1 if a stop request was in it. */
static int lf_free_all(void) {
    lf_item_t *rev = LIFO_TAKE_ALL(lf_item_t, &lf_head);
    int stop = 0;
    while (rev) {
        lf_item_t *next = rev->next;
        if (rev->obj) {
            rev->type->free(rev->obj);
            atomic_fetch_sub(&lf_queued, 1);
        } else {
            stop = 1;
        }
        df_free(rev);
        rev = next;
    }
    return stop;
}

static void *lf_main(void *arg) {
    (void)arg;
    for (;;) {
        uint64_t v;
        ssize_t n = read(lf_efd, &v, sizeof v);
        (void)n;
        int stop = lf_free_all();
        df_thread_flush();
        if (stop) return NULL;
    }
}

int lazyfree_start(void) {
    lf_efd = eventfd(0, EFD_CLOEXEC);
    if (lf_efd < 0) return -1;
    if (pthread_create(&lf_tid, NULL, lf_main, NULL) != 0) return -1;
    lf_running = 1;
    return 0;
}

void lazyfree_stop(void) {
    if (!lf_running) return;
    lf_item_t *it = df_calloc(sizeof *it);
    lf_push(it);
    pthread_join(lf_tid, NULL);
    lf_free_all(); /* anything pushed after the stop */
    close(lf_efd);
    lf_running = 0;
}

void lazyfree_object(const dfm_type_t *t, void *obj) {
    if (!t || !t->free) return;
    if (!lf_running || !t->mem_usage || t->mem_usage(obj) < LAZYFREE_THRESHOLD) {
        t->free(obj);
        return;
    }
    lf_item_t *it = df_malloc(sizeof *it);
    it->type = t;
    it->obj = obj;
    atomic_fetch_add(&lf_queued, 1);
    lf_push(it);
}
