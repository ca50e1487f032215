/* capture_stage.c — the "capture" stage type: over each burst, the capture's filter (JIT'd code or
 * rte_bpf's interpreter) picks the frames to copy; each is copied up to snaplen into the capture's
 * pool and enqueued on its ring in one burst. Every frame is kept; a copy that finds no mbuf or no
 * room in the ring is freed and counted as dropped. No lock, no syscall, no wait. */
#include <stdio.h>
#include <stdlib.h>
#include <rte_cycles.h>
#include "capture_private.h"

#define ALL(n) ((n) >= 64 ? UINT64_MAX : (UINT64_C(1) << (n)) - 1)

static uint64_t
cap_burst(void *state, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	const struct cap_tap *t = state;
	struct ferry_capture *c = t->cap;
	struct cap_ctr *ctr = &c->ctr[ctx->pmd];
	struct rte_mbuf *copy[FERRY_BURST];
	uint64_t m = ferry_pcap_filter_match(&c->filter, pkts, n), tsc = rte_rdtsc();
	uint16_t k = 0, queued;
	uint8_t dir = t->hook == FERRY_STAGE_INGRESS ? FERRY_DIR_RX : FERRY_DIR_TX;

	ctr->seen += n;
	if (m == 0)
		return ALL(n);
	for (uint16_t i = 0; i < n; i++) {
		if (!(m & (UINT64_C(1) << i)))
			continue;
		struct rte_mbuf *mc = rte_pktmbuf_copy(pkts[i], c->pool, 0, c->conf.snaplen);
		if (unlikely(mc == NULL))
			continue;   /* counted below: matched but not queued */
		struct cap_meta *meta = rte_mbuf_to_priv(mc);
		meta->tsc = tsc;
		meta->orig_len = pkts[i]->pkt_len;
		meta->dir = dir;
		copy[k++] = mc;
	}
	queued = (uint16_t)rte_ring_mp_enqueue_burst(c->ring, (void **)copy, k, NULL);
	if (unlikely(queued < k))
		rte_pktmbuf_free_bulk(copy + queued, k - queued);
	uint16_t nm = (uint16_t)__builtin_popcountll(m);
	ctr->matched += nm;
	ctr->dropped += nm - queued;
	return ALL(n);
}

/* arg: the capture's id (the instance is made by ferry_capture_stage, which passes it). */
static int
cap_create(const char *arg, void **state, char *err, size_t errlen)
{
	unsigned id = 0, hook = 0;
	struct ferry_capture *c;
	struct cap_tap *t;

	if (sscanf(arg, "%u:%u", &id, &hook) != 2 || (c = ferry_capture_find(id)) == NULL ||
	    hook >= FERRY_STAGE_HOOKS) {
		snprintf(err, errlen, "no capture %s", arg);
		return -1;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->cap = c;
	t->hook = (int)hook;
	*state = t;
	return 0;
}

/* After a grace period (detached by the capture, or the port's lists freed with the port). */
static void
cap_destroy(void *state)
{
	struct cap_tap *t = state;

	t->cap->inst[t->hook] = NULL;
	free(t);
}

static void
cap_describe(void *state, json_t *o)
{
	const struct cap_tap *t = state;

	json_object_set_new(o, "capture", json_integer(t->cap->id));
	json_object_set_new(o, "filter", json_string(t->cap->conf.filter));
}

static const struct ferry_stage_ops cap_ops = {
	.type = "capture",
	.create = cap_create,
	.destroy = cap_destroy,
	.burst = cap_burst,
	.describe = cap_describe,
};

void
cap_stage_register(void)
{
	ferry_stage_register(&cap_ops);
}
