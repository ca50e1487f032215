/* ferry_metrics.h — the switch's counters for tools people already run: Prometheus (GET /metrics
 * over HTTP, libmicrohttpd, when metrics.listen is set) and DPDK telemetry (/ferry/... commands
 * for dpdk-telemetry.py).
 *
 * Both are served on threads of their own (libmicrohttpd's, DPDK's telemetry thread), never on a
 * PMD. The switch's API belongs to the control thread, so those threads never call it: they ask
 * the control thread for a snapshot (ferry_metrics_fd becomes readable, the control loop calls
 * ferry_metrics_process) and render it once it is there. */
#ifndef FERRY_METRICS_H
#define FERRY_METRICS_H

#include <stddef.h>

struct ferry_switch;
struct ferry_metrics;

/* After rte_eal_init, on the main lcore's thread (the HTTP thread inherits its CPU affinity).
 * Registers the /ferry/... telemetry commands and, if listen is a non-empty "HOST:PORT", binds it
 * and serves /metrics. NULL with err on failure ("127.0.0.1:9465: Address already in use"). */
struct ferry_metrics *ferry_metrics_create(const char *listen, char *err, size_t errlen);
/* Readable when a reader waits for a snapshot; then call ferry_metrics_process. */
int ferry_metrics_fd(const struct ferry_metrics *m);
/* Control thread: answer the waiting readers with a snapshot of sw. */
void ferry_metrics_process(struct ferry_metrics *m, struct ferry_switch *sw);
/* Stops serving (waiting readers get an error); NULL is a no-op. */
void ferry_metrics_destroy(struct ferry_metrics *m);

#endif
