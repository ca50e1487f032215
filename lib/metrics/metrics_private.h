/* metrics_private.h — the pieces of lib/metrics: the snapshot hand-over between the control thread
 * and the reader threads, the Prometheus renderer, the HTTP server, the telemetry commands. */
#ifndef FERRY_METRICS_PRIVATE_H
#define FERRY_METRICS_PRIVATE_H

#include <stddef.h>
#include <jansson.h>

struct ferry_switch;

/* metrics_snapshot.c. A snapshot is one JSON object built on the control thread from the switch's
 * own answers: {"stats": port.stats of every port, "pmds": pmd.list, "info": switch.info,
 * "filters": filter.list}. */
struct ferry_snap;
struct ferry_snap *ferry_snap_create(void);
void ferry_snap_destroy(struct ferry_snap *s);
int ferry_snap_fd(const struct ferry_snap *s);
/* Wake every waiting reader with -ESHUTDOWN and refuse new ones. */
void ferry_snap_close(struct ferry_snap *s);
/* Any thread but the control thread: ask for a fresh snapshot, wait for it (FERRY_SNAP_WAIT_MS at
 * most), and call fn on it while it cannot change. Returns fn's value, -ETIMEDOUT (the control
 * thread did not answer in time) or -ESHUTDOWN. */
#define FERRY_SNAP_WAIT_MS 2000
typedef int (*ferry_snap_fn)(json_t *snap, void *arg);
int ferry_snap_read(struct ferry_snap *s, ferry_snap_fn fn, void *arg);
/* Control thread: if a reader waits, build a snapshot of sw and hand it over. */
void ferry_snap_publish(struct ferry_snap *s, struct ferry_switch *sw);

/* metrics_prom.c: the Prometheus text format (0.0.4) of a snapshot; malloc'd, NUL-terminated. */
char *ferry_prom_render(json_t *snap, size_t *len);

/* metrics_http.c: GET /metrics on addr ("HOST:PORT"), libmicrohttpd's own thread. */
struct ferry_http;
struct ferry_http *ferry_http_start(const char *addr, struct ferry_snap *snap,
				    char *err, size_t errlen);
void ferry_http_stop(struct ferry_http *h);

/* metrics_telemetry.c: the /ferry/... commands answer from snap (NULL: they answer an error). */
int ferry_tel_register(void);
void ferry_tel_set_snap(struct ferry_snap *snap);

#endif
