/*
 * metrics.h: the Prometheus endpoint. With --metrics-port N, GET /metrics on every bind
 * address at port N answers the counters INFO reports, in Prometheus's text exposition
 * format (0.0.4); any other path is 404. Served by a thread of its own (see metrics.c).
 */
#ifndef DF_METRICS_H
#define DF_METRICS_H

/* Bind the metrics port (when metrics-port is not 0) and start the metrics thread. Returns
   0, or -1 after logging why (a port that cannot be bound fails start-up, like the main
   port). Main thread, after the workers exist (they may not run yet). */
int metrics_start(void);
/* Stop serving: answer the scrapes still away on the workers, then end the thread and free
   everything. Main thread, while the workers still run. No-op when not started. */
void metrics_stop(void);

#endif
