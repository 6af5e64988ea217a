/*
 * supervise.c: see supervise.h. The systemd notification protocol is one datagram per
 * message on the unix socket named by $NOTIFY_SOCKET ('@' first: an abstract name); no
 * library is needed for it.
 */
#include "supervise.h"

#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "replica.h"

enum { SUP_UPSTART, SUP_SYSTEMD, SUP_AUTO, SUP_NO }; /* the order of config_compat's values */

/* The manager in use: SUP_SYSTEMD, SUP_UPSTART or SUP_NO. */
static int supervise_mode(void) {
    int m = (int)config_compat_num(C_SUPERVISED);
    if (m == SUP_AUTO) {
        if (getenv("UPSTART_JOB")) return SUP_UPSTART;
        if (getenv("NOTIFY_SOCKET")) return SUP_SYSTEMD;
        return SUP_NO;
    }
    return m;
}

/* Send msg to systemd; 0 sent, -1 not (logged once). */
static int supervise_systemd(const char *msg) {
    static atomic_int warned;
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = path ? strlen(path) : 0;
    if (!n || n >= sizeof sa.sun_path) {
        if (!atomic_exchange(&warned, 1))
            log_warning("systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!");
        return -1;
    }
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    ssize_t w = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    close(fd);
    if (w < 0 && !atomic_exchange(&warned, 1)) log_warning("Can't notify systemd on %s", path);
    return w < 0 ? -1 : 0;
}

void supervise_ready(void) {
    int m = supervise_mode();
    if (m == SUP_SYSTEMD) {
        supervise_systemd(replica_active()
                              ? "STATUS=Ready to accept connections in read-only mode. Waiting for "
                                "MASTER <-> REPLICA sync\n"
                              : "STATUS=Ready to accept connections\n");
        supervise_systemd("READY=1\n");
        log_notice("Supervised by systemd. Please make sure you set appropriate values for "
                   "TimeoutStartSec and TimeoutStopSec in your service unit.");
    } else if (m == SUP_UPSTART) {
        if (!getenv("UPSTART_JOB")) {
            log_warning("upstart supervision requested, but UPSTART_JOB not found!");
            return;
        }
        log_notice("supervised by upstart, will stop to signal readiness.");
        raise(SIGSTOP);
        unsetenv("UPSTART_JOB");
    }
}

void supervise_status(const char *status) {
    if (supervise_mode() != SUP_SYSTEMD) return;
    char msg[256];
    snprintf(msg, sizeof msg, "STATUS=%s\n", status);
    supervise_systemd(msg);
}

void supervise_stopping(void) {
    if (supervise_mode() == SUP_SYSTEMD) supervise_systemd("STOPPING=1\n");
}
