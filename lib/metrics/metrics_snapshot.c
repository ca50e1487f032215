/* metrics_snapshot.c — how the HTTP and telemetry threads read the switch without calling it: a
 * reader bumps the generation it wants and pokes an eventfd; the control loop (the only thread
 * that may call ferry_switch_*) builds the snapshot and publishes it under the mutex; the reader
 * renders it under the same mutex. The control thread never waits for a reader except for the
 * few microseconds a render holds the mutex; a PMD is never involved. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "ferry_switch.h"
#include "metrics_private.h"

struct ferry_snap {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC; signalled when done moves or on close */
	int efd;                 /* readers -> control thread */
	uint64_t asked, done;    /* generations asked for and answered */
	json_t *data;            /* the latest snapshot (owned), read under lock */
	int closed;
};

struct ferry_snap *
ferry_snap_create(void)
{
	struct ferry_snap *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (s == NULL)
		return NULL;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

void
ferry_snap_destroy(struct ferry_snap *s)
{
	if (s == NULL)
		return;
	close(s->efd);
	json_decref(s->data);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
ferry_snap_fd(const struct ferry_snap *s)
{
	return s->efd;
}

void
ferry_snap_close(struct ferry_snap *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void
deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
ferry_snap_read(struct ferry_snap *s, ferry_snap_fn fn, void *arg)
{
	const uint64_t one = 1;
	struct timespec until;
	uint64_t gen;
	int rc = 0;

	deadline(&until, FERRY_SNAP_WAIT_MS);
	pthread_mutex_lock(&s->lock);
	gen = ++s->asked;
	if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rc = -errno;
	while (rc == 0 && !s->closed && s->done < gen)
		rc = -pthread_cond_timedwait(&s->cond, &s->lock, &until);
	if (s->closed)
		rc = -ESHUTDOWN;
	else if (rc == 0)
		rc = fn(s->data, arg);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The switch's own JSON answers (the shapes of port.stats, pmd.list, switch.info, filter.list). */
static json_t *
build(struct ferry_switch *sw)
{
	json_t *stats = NULL, *filters = NULL;
	char err[128];

	if (ferry_switch_port_stats(sw, NULL, &stats, err, sizeof(err)) != 0)
		stats = json_array();
	if (ferry_switch_filter_list(sw, NULL, &filters, err, sizeof(err)) != 0)
		filters = json_array();
	return json_pack("{s:o, s:o, s:o, s:o}", "stats", stats, "pmds", ferry_switch_pmd_list(sw),
			 "info", ferry_switch_info(sw), "filters", filters);
}

void
ferry_snap_publish(struct ferry_snap *s, struct ferry_switch *sw)
{
	uint64_t n, want;
	json_t *data, *old;

	if (read(s->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&s->lock);
	want = s->asked;
	pthread_mutex_unlock(&s->lock);
	if (want == s->done || sw == NULL)   /* done is written by this thread only */
		return;
	data = build(sw);
	pthread_mutex_lock(&s->lock);
	old = s->data;
	s->data = data;
	s->done = want;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	json_decref(old);
}
