/* port_vhost_stats.c — the vhostuser type's members of port.stats: connections refused, and the
 * zero-copy report (lib/zc counters of the running queues plus those already stopped, minus the
 * stats.clear baseline). */
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

void
ferry_vhost_stats(const struct ferry_port *p, json_t *o)
{
	json_object_set_new(o, "connections_refused",
			    json_integer(ferry_vhost_refused_since_clear(p)));
	json_object_set_new(o, "zero_copy", zc_stats_json(p));
}

void
ferry_vhost_stats_clear(struct ferry_port *p)
{
	zc_stats_clear(p);
	ferry_vhost_refused_clear(p);
}
