/* switch_zc.c — the switch's side of zero-copy (lib/zc): which DPDK ports lent guest frames may
 * reach (ferry_zc_env), freeing what lent buffers kept alive, and the per-port report. */
#include <unistd.h>
#include "switch_private.h"

/* A DPDK port is about to become visible: count what it needs, map guests for its DMA. */
void
sw_zc_port_join(struct ferry_switch *sw, struct ferry_port *p)
{
	if (p->type != FERRY_PORT_DPDK)
		return;
	if (p->zc_dma) {
		ferry_zc_mem_dma_retry();   /* its IOMMU domain now exists: map running guests */
		__atomic_add_fetch(&ferry_zc_env.dma_ports, 1, __ATOMIC_RELEASE);
	}
	if (p->zc_noseg) {
		__atomic_add_fetch(&ferry_zc_env.noseg_ports, 1, __ATOMIC_RELEASE);
		FERRY_LOG(INFO, "port %s cannot send chained buffers: guest frames are copied while "
			  "it is in the switch", p->conf.name);
	}
	/* no PMD still lends under the old rules once the port can receive frames */
	rte_rcu_qsbr_synchronize(sw->dp.qsv, RTE_QSBR_THRID_INVALID);
}

/* The port is gone from the datapath. */
void
sw_zc_port_leave(struct ferry_port *p)
{
	if (p->type != FERRY_PORT_DPDK)
		return;
	if (p->zc_dma)
		__atomic_sub_fetch(&ferry_zc_env.dma_ports, 1, __ATOMIC_RELEASE);
	if (p->zc_noseg)
		__atomic_sub_fetch(&ferry_zc_env.noseg_ports, 1, __ATOMIC_RELEASE);
}

/* Wait (bounded) until every lent buffer is back and every guest mapping released. */
void
sw_zc_drain(unsigned wait_ms)
{
	for (unsigned t = 0; ferry_zc_reap() != 0 && t < wait_ms; t++)
		usleep(1000);
}

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

void
sw_zc_stats_clear(struct ferry_port *p)
{
	uint32_t inflight, held;

	memset(&p->zc_base, 0, sizeof(p->zc_base));
	zc_sum(p, &p->zc_base, &inflight, &held);
}

json_t *
sw_zc_stats_json(const struct ferry_port *p)
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
