/* txbuf.c — flushing a tx buffer (ferry_txbuf.h): the port's egress stages, then its tx. */
#include "ferry_txbuf.h"

/* The port's egress stages (lib/stage) over the buffer, FERRY_BURST frames at a time; the frames
 * they drop are freed and counted as "filter". Returns how many remain (in order). */
static uint16_t
egress_stages(struct ferry_port *p, const struct ferry_port_txctx *t,
	      const struct ferry_stage_list *sl, struct rte_mbuf **m, uint16_t n)
{
	struct rte_mbuf *drop[FERRY_TXBUF_SIZE];
	uint16_t k = 0, n_drop = 0;

	for (uint16_t i = 0; i < n; i += FERRY_BURST) {
		uint16_t c = RTE_MIN(n - i, FERRY_BURST);
		uint64_t keep = ferry_stage_run(sl, m + i, c, p->idx, t->pmd, t->stx);
		for (uint16_t j = 0; j < c; j++) {
			if (keep & (UINT64_C(1) << j))
				m[k++] = m[i + j];
			else
				drop[n_drop++] = m[i + j];
		}
	}
	if (n_drop != 0) {
		ferry_port_count_drop(p, t->pmd, FERRY_DROP_FILTER, n_drop);
		rte_pktmbuf_free_bulk(drop, n_drop);
	}
	return k;
}

void
ferry_txbuf_flush(struct ferry_txbuf *tb, struct ferry_port *p, const struct ferry_port_txctx *t)
{
	uint16_t n = tb->n;

	if (n == 0)
		return;
	tb->n = 0;
	if (p == NULL) {
		rte_pktmbuf_free_bulk(tb->m, n);
		return;
	}
	const struct ferry_stage_list *sl = __atomic_load_n(&p->stages[FERRY_STAGE_EGRESS],
							    __ATOMIC_ACQUIRE);
	if (unlikely(sl != NULL) && (n = egress_stages(p, t, sl, tb->m, n)) == 0)
		return;
	ferry_port_tx(p, t, tb->m, n);
}
