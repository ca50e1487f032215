/* metrics.c — lib/metrics' public entry points (ferry_metrics.h): one snapshot hand-over shared
 * by the HTTP server (optional) and the telemetry commands. */
#include <stdio.h>
#include <stdlib.h>
#include "ferry_metrics.h"
#include "metrics_private.h"

struct ferry_metrics {
	struct ferry_snap *snap;
	struct ferry_http *http;   /* NULL without metrics.listen */
};

struct ferry_metrics *
ferry_metrics_create(const char *listen, char *err, size_t errlen)
{
	struct ferry_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->snap = ferry_snap_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(m);
		return NULL;
	}
	if (listen != NULL && listen[0] != '\0') {
		m->http = ferry_http_start(listen, m->snap, err, errlen);
		if (m->http == NULL) {
			ferry_snap_destroy(m->snap);
			free(m);
			return NULL;
		}
	}
	if (ferry_tel_register() < 0) {
		snprintf(err, errlen, "could not register the /ferry/ telemetry commands");
		ferry_metrics_destroy(m);
		return NULL;
	}
	ferry_tel_set_snap(m->snap);
	return m;
}

int
ferry_metrics_fd(const struct ferry_metrics *m)
{
	return ferry_snap_fd(m->snap);
}

void
ferry_metrics_process(struct ferry_metrics *m, struct ferry_switch *sw)
{
	ferry_snap_publish(m->snap, sw);
}

void
ferry_metrics_destroy(struct ferry_metrics *m)
{
	if (m == NULL)
		return;
	ferry_snap_close(m->snap);     /* waiting readers return at once */
	ferry_tel_set_snap(NULL);      /* after the telemetry thread's last reader */
	ferry_http_stop(m->http);      /* joins libmicrohttpd's thread */
	ferry_snap_destroy(m->snap);
	free(m);
}
