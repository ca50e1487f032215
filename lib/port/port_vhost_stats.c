/* port_vhost_stats.c — the vhostuser type's members of port.stats: connections refused, and the
 * zero-copy report (lib/zc counters of the running queues plus those already stopped, minus the
 * stats.clear baseline). */
#include <stdio.h>
#include "port_vhost.h"

static json_t *
counts_json(const char *const *names, const uint64_t *v, unsigned n)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < n; i++)
		if (names[i] != NULL)
			json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
	return o;
}

/* Live queues plus those already stopped, minus the stats.clear baseline. */
static void
zc_sum(const struct ferry_port *p, struct ferry_zc_stats *t, uint32_t *inflight, uint32_t *held)
{
	const uint64_t *base = (const uint64_t *)&p->zc_base;
	uint64_t *w = (uint64_t *)t;

	*t = p->zc_total;
	*inflight = 0;
	*held = 0;
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		const struct ferry_zcq *zq = __atomic_load_n(&p->zcq[q], __ATOMIC_ACQUIRE);
		if (zq == NULL)
			continue;
		ferry_zc_stats_add(t, &zq->st);
		*inflight += __atomic_load_n(&zq->inflight, __ATOMIC_RELAXED);
		*held += __atomic_load_n(&zq->held, __ATOMIC_RELAXED);
	}
	for (size_t i = 0; i < offsetof(struct ferry_zc_stats, inflight_max) / sizeof(uint64_t); i++)
		w[i] -= base[i];
}

static void
zc_stats_clear(struct ferry_port *p)
{
	uint32_t inflight, held;

	memset(&p->zc_base, 0, sizeof(p->zc_base));
	zc_sum(p, &p->zc_base, &inflight, &held);
}

static json_t *
zc_stats_json(const struct ferry_port *p)
{
	struct ferry_zc_stats t;
	uint32_t inflight, held;

	zc_sum(p, &t, &inflight, &held);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I}",
			 "mode", ferry_zc_mode_names[p->conf.zero_copy],
			 "state", ferry_zc_state_names[p->zc_state],
			 "lent", (json_int_t)t.zc, "lent_bytes", (json_int_t)t.zc_bytes,
			 "copied", (json_int_t)t.copy, "copied_bytes", (json_int_t)t.copy_bytes,
			 "copy_reasons", counts_json(ferry_zc_why_names, t.why, FERRY_ZC_WHY_MAX),
			 "bad_descriptors", counts_json(ferry_vq_err_names + 1, t.bad + 1,
							 FERRY_VQ_ERR_MAX - 1),
			 "inflight", inflight, "inflight_max", t.inflight_max, "held", held,
			 "returned_early", (json_int_t)t.early, "forced_returns", (json_int_t)t.forced,
			 "no_mbuf", (json_int_t)t.no_mbuf,
			 "guest_calls", (json_int_t)t.calls, "announced", (json_int_t)t.announced,
			 "bad_ring", (json_int_t)t.bad_ring, "readdressed", (json_int_t)t.readdressed);
}

/* Receive queues (ferry's own enqueue): live plus stopped, minus the stats.clear baseline; rings
 * counts the guest RX rings ferry writes. */
static void
rx_sum(const struct ferry_port *p, struct ferry_rxq_stats *t, unsigned *rings)
{
	const uint64_t *base = (const uint64_t *)&p->rx_base;
	uint64_t *w = (uint64_t *)t;

	*t = p->rx_total;
	*rings = 0;
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		const struct ferry_rxq *rq = __atomic_load_n(&p->rxq[q], __ATOMIC_ACQUIRE);
		if (rq == NULL)
			continue;
		ferry_rxq_stats_add(t, &rq->st);
		*rings += !(__atomic_load_n(&rq->hold, __ATOMIC_RELAXED) & FERRY_ZCQ_BROKEN);
	}
	for (size_t i = 0; i < sizeof(*t) / sizeof(uint64_t); i++)
		w[i] -= base[i];
}

/* port.stats "enqueue": who writes the guest's receive rings and why (state, as zero_copy's:
 * "active" = ferry, else the reason rte_vhost does), per ring, and ferry's counters. */
static json_t *
rx_stats_json(const struct ferry_port *p)
{
	struct ferry_rxq_stats t;
	unsigned rings;
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	uint32_t on = __atomic_load_n(&p->vq_tx_on, __ATOMIC_RELAXED);
	json_t *per = json_object();

	rx_sum(p, &t, &rings);
	for (uint16_t q = 0; vid >= 0 && q < FERRY_MAX_QUEUES; q++) {
		const struct ferry_rxq *rq = __atomic_load_n(&p->rxq[q], __ATOMIC_ACQUIRE);
		char k[8];
		if (rq == NULL && !(on & (UINT32_C(1) << q)))
			continue;
		snprintf(k, sizeof(k), "%u", q);
		json_object_set_new(per, k, json_string(rq == NULL ? "rte_vhost" :
			(__atomic_load_n(&rq->hold, __ATOMIC_RELAXED) & FERRY_ZCQ_BROKEN) ? "refused" :
			"ferry"));
	}
	return json_pack("{s:s, s:s, s:o, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			 "mode", ferry_enq_mode_names[p->conf.enqueue],
			 "state", ferry_zc_state_names[p->rx_state],
			 "rings", per, "rings_ferry", (int)rings,
			 "frames", (json_int_t)t.frames, "bytes", (json_int_t)t.bytes,
			 "data_valid", (json_int_t)t.data_valid, "ring_full", (json_int_t)t.noroom,
			 "too_big", (json_int_t)t.too_big, "guest_calls", (json_int_t)t.calls,
			 "bad_ring", (json_int_t)t.bad_ring, "readdressed", (json_int_t)t.readdressed,
			 "bad_descriptors", counts_json(ferry_vq_err_names + 1, t.bad + 1,
							 FERRY_VQ_ERR_MAX - 1));
}

void
ferry_vhost_stats(const struct ferry_port *p, json_t *o)
{
	json_object_set_new(o, "enqueue", rx_stats_json(p));
	json_object_set_new(o, "connections_refused",
			    json_integer(ferry_vhost_refused_since_clear(p)));
	json_object_set_new(o, "zero_copy", zc_stats_json(p));
}

void
ferry_vhost_stats_clear(struct ferry_port *p)
{
	unsigned rings;

	zc_stats_clear(p);
	memset(&p->rx_base, 0, sizeof(p->rx_base));
	rx_sum(p, &p->rx_base, &rings);
	ferry_vhost_refused_clear(p);
}
