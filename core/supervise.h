/*
 * supervise.h: Redis's `supervised` setting. With systemd (or auto, when NOTIFY_SOCKET is
 * set, as under a unit with Type=notify) the server tells the service manager it is ready
 * once its data is loaded, what it is doing, and that it stops; with upstart (or auto and
 * UPSTART_JOB) it stops itself with SIGSTOP when ready, as upstart's "expect stop" waits
 * for. The messages are Redis's, so units written for redis-server work unchanged.
 */
#ifndef DF_SUPERVISE_H
#define DF_SUPERVISE_H

/* Ready for clients, the data loaded (main or the loader thread, once). */
void supervise_ready(void);
/* A status line for the manager ("STATUS=..."): a replica's sync finished, say. Any thread. */
void supervise_status(const char *status);
/* Shutting down. */
void supervise_stopping(void);

#endif
