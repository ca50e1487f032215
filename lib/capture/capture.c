/* capture.c — capture objects: the table of running captures, the filter (capture_filter.c),
 * the ring and pool of copies, draining into the pcapng
 * output, the end (statistics block, close, free) and the listing. Control thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include "capture_private.h"

#define OUT_BUF      (1u << 20)   /* pcapng bytes buffered for a slow output */
#define DRAIN_BUDGET 8192         /* frames written per capture per ferry_capture_drain */
#define POOL_CACHE   32
#define WAIT_BUSY_MS 5            /* the control loop's wake while captured frames arrive */
#define WAIT_IDLE_MS 50           /* ... and without captures (ferryd's idle wake) */
#define CLOSE_WAIT_S 10           /* an ended capture's output gets this long to take the rest */

static struct ferry_capture *table[FERRY_CAPTURE_MAX];
static unsigned next_id;

/* Ring and pool of copies; the pool's data room holds a whole snaplen up to a standard frame
 * (longer ones are copied into chained mbufs). */
static int
make_ring_pool(struct ferry_capture *c, char *err, size_t errlen)
{
	const char *env = getenv("FERRY_TEST_CAPTURE_RING");
	unsigned n = env != NULL && atoi(env) > 0 ? (unsigned)atoi(env) : FERRY_CAPTURE_RING;
	uint32_t room = RTE_MIN(c->conf.snaplen, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM);
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "fcap_r%u", c->id);
	c->ring = rte_ring_create(name, n, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "fcap_p%u", c->id);
	c->pool = rte_pktmbuf_pool_create(name, n + 2 * POOL_CACHE * 4, n >= 1024 ? POOL_CACHE : 0,
					  RTE_ALIGN(sizeof(struct cap_meta), RTE_MBUF_PRIV_ALIGN),
					  (uint16_t)(RTE_PKTMBUF_HEADROOM + room), SOCKET_ID_ANY);
	c->ctr = rte_zmalloc("ferry_capture", sizeof(*c->ctr) * FERRY_MAX_PMDS, RTE_CACHE_LINE_SIZE);
	if (c->ring == NULL || c->pool == NULL || c->ctr == NULL) {
		snprintf(err, errlen, "out of memory for the capture's ring and mbufs: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void
free_capture(struct ferry_capture *c)
{
	struct rte_mbuf *m[FERRY_BURST];
	unsigned n;

	while (c->ring != NULL && (n = rte_ring_sc_dequeue_burst(c->ring, (void **)m, FERRY_BURST,
								 NULL)) > 0)
		rte_pktmbuf_free_bulk(m, n);
	rte_ring_free(c->ring);
	rte_mempool_free(c->pool);
	ferry_pcap_filter_free(&c->filter);
	rte_free(c->ctr);
	free(c->out.buf);
	free(c);
}

struct ferry_capture *
ferry_capture_create(const struct ferry_capture_conf *cc, char *err, size_t errlen)
{
	struct ferry_capture *c;
	unsigned slot;

	for (slot = 0; slot < FERRY_CAPTURE_MAX && table[slot] != NULL; slot++)
		;
	if (slot == FERRY_CAPTURE_MAX) {
		snprintf(err, errlen, "%d captures are running already", FERRY_CAPTURE_MAX);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->id = ++next_id;
	c->conf = *cc;
	if (ferry_pcap_filter_compile(&c->filter, c->conf.filter, c->conf.snaplen, err, errlen) < 0 || make_ring_pool(c, err, errlen) < 0 ||
	    cap_out_open(&c->out, -1, OUT_BUF) < 0 || cap_out_header(&c->out, cc) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		free_capture(c);
		return NULL;
	}
	c->out.fd = cc->fd;
	c->start_ns = c->out.start_ns;
	cap_out_flush(&c->out, 0);
	cap_stage_register();
	table[slot] = c;
	return c;
}

struct ferry_stage_inst *
ferry_capture_stage(struct ferry_capture *c, int hook, char *err, size_t errlen)
{
	char name[FERRY_NAME_MAX], arg[32];
	struct ferry_stage_inst *si;

	snprintf(name, sizeof(name), "capture:%u", c->id);   /* ':' is in no filter's name */
	snprintf(arg, sizeof(arg), "%u:%d", c->id, hook);
	si = ferry_stage_create("capture", name, hook, arg, err, errlen);
	if (si != NULL) {
		c->inst[hook] = si;
		c->had_inst = true;
	}
	return si;
}

struct ferry_stage_inst *
ferry_capture_inst(const struct ferry_capture *c, int hook)
{
	return c->inst[hook];
}

static bool
count_reached(const struct ferry_capture *c)
{
	return c->conf.count != 0 && c->captured >= c->conf.count;
}

static unsigned drained_since_wait;   /* frames written since the last ferry_capture_wait_ms */

/* Up to budget frames from the ring into the output (which takes what it can). */
static void
drain(struct ferry_capture *c, unsigned budget)
{
	struct rte_mbuf *m[FERRY_BURST];
	size_t one = cap_out_packet_size(c->conf.snaplen);

	while (budget > 0 && !c->out.failed) {
		unsigned want = RTE_MIN(budget, (unsigned)FERRY_BURST), n, i;
		if (c->out.len > c->out.cap / 2)
			cap_out_flush(&c->out, 0);
		while (want > 1 && !cap_out_reserve(&c->out, want * one))
			want /= 2;
		if (!cap_out_reserve(&c->out, one))
			break;   /* the output is slow: the frames wait in the ring */
		n = rte_ring_sc_dequeue_burst(c->ring, (void **)m, want, NULL);
		for (i = 0; i < n; i++) {
			if (!count_reached(c)) {   /* beyond COUNT: copied before the end, not written */
				const struct cap_meta *meta = rte_mbuf_to_priv(m[i]);
				cap_out_packet(&c->out, m[i], meta);
				c->captured++;
				c->bytes += meta->orig_len;
			}
		}
		rte_pktmbuf_free_bulk(m, n);
		drained_since_wait += n;
		budget -= n;
		if (n < want)
			break;
	}
	cap_out_flush(&c->out, 0);
}

void
ferry_capture_drain(struct ferry_capture *c)
{
	drain(c, DRAIN_BUDGET);
}

bool
ferry_capture_done(const struct ferry_capture *c, const char **why)
{
	if (count_reached(c))
		*why = "count reached";
	else if (c->out.failed)
		*why = "the output failed (reader gone?)";
	else if (c->had_inst && c->inst[FERRY_STAGE_INGRESS] == NULL &&
		 c->inst[FERRY_STAGE_EGRESS] == NULL)
		*why = "its port was removed";
	else
		return false;
	return true;
}

static void
totals(const struct ferry_capture *c, struct cap_ctr *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned p = 0; p < FERRY_MAX_PMDS; p++) {
		t->seen += __atomic_load_n(&c->ctr[p].seen, __ATOMIC_RELAXED);
		t->matched += __atomic_load_n(&c->ctr[p].matched, __ATOMIC_RELAXED);
		t->dropped += __atomic_load_n(&c->ctr[p].dropped, __ATOMIC_RELAXED);
	}
}

json_t *
ferry_capture_json(const struct ferry_capture *c)
{
	struct cap_ctr t;

	totals(c, &t);
	return json_pack("{s:i, s:s, s:s, s:s, s:i, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:I}",
			 "id", (int)c->id, "port", c->conf.port, "direction",
			 ferry_dirs_name(c->conf.dirs), "filter", c->conf.filter,
			 "snaplen", (int)c->conf.snaplen, "count", (json_int_t)c->conf.count,
			 "path", c->conf.path, "jit", c->filter.jit != NULL || c->filter.bpf == NULL,
			 "seen", (json_int_t)t.seen, "matched", (json_int_t)t.matched,
			 "captured", (json_int_t)c->captured, "dropped", (json_int_t)t.dropped,
			 "bytes", (json_int_t)c->bytes);
}

/* Captures that ended, their last bytes not yet taken by the output. */
static struct ferry_capture *closing;

json_t *
ferry_capture_finish(struct ferry_capture *c)
{
	struct cap_ctr t;
	json_t *j;

	c->out.grow = true;   /* all that the PMDs queued before the grace period, in memory */
	while (!c->out.failed && !count_reached(c) && rte_ring_count(c->ring) > 0)
		drain(c, UINT32_MAX);
	totals(c, &t);
	cap_out_stats(&c->out, c->start_ns, t.seen, t.matched, t.dropped, c->captured);
	j = ferry_capture_json(c);
	for (unsigned i = 0; i < FERRY_CAPTURE_MAX; i++)
		if (table[i] == c)
			table[i] = NULL;
	c->close_deadline_tsc = rte_rdtsc() + CLOSE_WAIT_S * rte_get_tsc_hz();
	c->closing_next = closing;
	closing = c;
	ferry_capture_flush_closing(0);
	return j;
}

void
ferry_capture_flush_closing(int wait_ms)
{
	struct ferry_capture **pp = &closing;

	while (*pp != NULL) {
		struct ferry_capture *c = *pp;
		cap_out_flush(&c->out, wait_ms);
		if (c->out.len > 0 && !c->out.failed && rte_rdtsc() < c->close_deadline_tsc) {
			pp = &c->closing_next;
			continue;
		}
		if (c->out.len > 0)
			FERRY_LOG(WARNING, "capture %u: %zu bytes not taken by %s: closed", c->id,
				  c->out.len, c->conf.path);
		*pp = c->closing_next;
		cap_out_close(&c->out);
		free_capture(c);
	}
}

int
ferry_capture_wait_ms(void)
{
	static unsigned quiet;   /* drains in a row that found no frame */

	if (closing == NULL && ferry_capture_next(NULL) == NULL) {
		quiet = 0;
		return WAIT_IDLE_MS;
	}
	if (closing != NULL || drained_since_wait > 0)
		quiet = 0;
	else if (quiet < 4)
		quiet++;
	drained_since_wait = 0;
	return RTE_MIN(WAIT_BUSY_MS << quiet, WAIT_IDLE_MS);
}

unsigned
ferry_capture_id(const struct ferry_capture *c)
{
	return c->id;
}

const char *
ferry_capture_port(const struct ferry_capture *c)
{
	return c->conf.port;
}

const void *
ferry_capture_owner(const struct ferry_capture *c)
{
	return c->conf.owner;
}

struct ferry_capture *
ferry_capture_next(struct ferry_capture *prev)
{
	unsigned i = 0;

	if (prev != NULL) {
		while (i < FERRY_CAPTURE_MAX && table[i] != prev)
			i++;
		i++;
	}
	for (; i < FERRY_CAPTURE_MAX; i++)
		if (table[i] != NULL)
			return table[i];
	return NULL;
}

struct ferry_capture *
ferry_capture_find(unsigned id)
{
	for (unsigned i = 0; i < FERRY_CAPTURE_MAX; i++)
		if (table[i] != NULL && table[i]->id == id)
			return table[i];
	return NULL;
}
