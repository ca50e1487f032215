/* pmd.c — the PMD thread loop: poll every assigned rx queue, run the pipeline (a VM's own queue:
 * its owned path), flush the tx buffers it filled, report a quiescent state; count burst sizes
 * and each queue's cycles. */
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include "ferry_pmd.h"
#include "ferry_pkt.h"
#include "ferry_zc.h"

struct ferry_pmd *
ferry_pmd_create(struct ferry_dp *dp, uint16_t idx, unsigned lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct ferry_pmd *pmd = rte_zmalloc_socket("pmd", sizeof(*pmd), RTE_CACHE_LINE_SIZE, socket);

	if (pmd == NULL)
		return NULL;
	pmd->lcore = lcore;
	pmd->socket = socket < 0 ? 0 : socket;
	ferry_fwd_init(&pmd->fwd, dp, idx, dp->pools[pmd->socket]);
	pmd->poll = rte_zmalloc("poll_list", sizeof(struct ferry_poll_list), 0);
	if (pmd->poll == NULL) {
		rte_free(pmd);
		return NULL;
	}
	return pmd;
}

void
ferry_pmd_free(struct ferry_pmd *pmd)
{
	if (pmd == NULL)
		return;
	rte_free(pmd->poll);
	rte_free(pmd);
}

void
ferry_pmd_set_poll(struct ferry_pmd *pmd, struct ferry_poll_list *pl)
{
	struct ferry_poll_list *old = pmd->poll;

	__atomic_store_n(&pmd->poll, pl, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(pmd->fwd.dp->qsv, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

/* A non-empty burst of n frames from r: the pipeline, then r's queue is charged the cycles since
 * the previous non-empty burst of the round ended (or the round began): its rx call and pipeline,
 * plus any empty rx calls just before it. One rdtsc per non-empty burst; that stamp is also the
 * TSC the next rx call's zero-copy dequeue uses (ferry_zc_batch_tsc: no rdtsc of its own). */
static inline void
run_burst(struct ferry_pmd *pmd, const struct ferry_rxq_ref *r, struct rte_mbuf **pkts, uint16_t n,
	  uint64_t *t)
{
	pmd->hist[rte_fls_u32(n)]++;
	if (likely(r->owner == FERRY_PORT_NONE))
		ferry_pipeline_run(&pmd->fwd, r->port, r->q, pkts, n);
	else   /* a VM's own queue (issue #18): one branch per burst */
		ferry_pipeline_run_owned(&pmd->fwd, r->port, r->q, r->owner, r->strict, pkts, n);
	uint64_t now = rte_rdtsc();
	ferry_zc_batch_tsc(now);
	pmd->rxq_cycles[r->port->idx][r->q] += now - *t;
	*t = now;
}

/* A port with g > 1 queues on this PMD: one budget of `burst` frames for all of them, the first
 * queue asked rotating every round so each is served in turn. Returns the frames taken. */
static uint32_t
poll_group(struct ferry_pmd *pmd, const struct ferry_rxq_ref *g0, uint16_t g, uint16_t burst,
	   struct rte_mbuf **pkts, uint64_t *t, uint16_t *empty)
{
	uint16_t left = burst, start = (uint16_t)(pmd->iterations % g);

	for (uint16_t j = 0; j < g && left != 0; j++) {
		const struct ferry_rxq_ref *r = &g0[(start + j) % g];
		uint16_t n = ferry_port_rx(r->port, r->q, pkts, left);
		if (n == 0) {
			(*empty)++;
			continue;
		}
		run_burst(pmd, r, pkts, n, t);
		left -= n;
	}
	return burst - left;
}

/* One round over the poll list, started at tsc t: each port's queues get one burst of frames in
 * all (poll_group). Empty rx calls are counted once per round (hist[0]). */
static uint32_t
poll_once(struct ferry_pmd *pmd, uint64_t t)
{
	const struct ferry_poll_list *pl = __atomic_load_n(&pmd->poll, __ATOMIC_ACQUIRE);
	struct rte_mbuf *pkts[FERRY_BURST];
	uint16_t burst = pmd->fwd.dp->burst, n_rxq = pl->n, empty = 0;
	uint32_t total = 0;

	for (uint16_t i = 0; i < n_rxq; ) {
		const struct ferry_rxq_ref *r = &pl->rxq[i];
		uint16_t g = r->group;
		if (unlikely(g > 1)) {
			total += poll_group(pmd, r, g, burst, pkts, &t, &empty);
			i += g;
			continue;
		}
		i++;
		uint16_t n = ferry_port_rx(r->port, r->q, pkts, burst);
		if (n == 0) {
			empty++;
			continue;
		}
		run_burst(pmd, r, pkts, n, &t);
		total += n;
	}
	pmd->hist[0] += empty;
	ferry_pipeline_flush(&pmd->fwd);
	ferry_zc_batch_flush();   /* lent buffers the transmits freed: back to their queues' owners */
	return total;
}

static int
pmd_main(void *arg)
{
	struct ferry_pmd *pmd = arg;
	struct rte_rcu_qsbr *qsv = pmd->fwd.dp->qsv;
	uint64_t t0 = rte_rdtsc(), t1;

	rte_rcu_qsbr_thread_register(qsv, pmd->fwd.pmd);
	rte_rcu_qsbr_thread_online(qsv, pmd->fwd.pmd);
	ferry_zc_batch_enable(true);
	ferry_zc_batch_tsc(t0);
	FERRY_LOG(INFO, "pmd %u running on lcore %u (socket %d)", pmd->fwd.pmd, pmd->lcore, pmd->socket);
	while (!pmd->stop) {
		uint32_t n = poll_once(pmd, t0);
		rte_rcu_qsbr_quiescent(qsv, pmd->fwd.pmd);
		t1 = rte_rdtsc();
		ferry_zc_batch_tsc(t1);
		if (n != 0) {
			pmd->busy_cycles += t1 - t0;
			pmd->pkts += n;
		} else {
			pmd->idle_cycles += t1 - t0;
		}
		pmd->iterations++;
		t0 = t1;
	}
	ferry_zc_batch_enable(false);
	rte_rcu_qsbr_thread_offline(qsv, pmd->fwd.pmd);
	rte_rcu_qsbr_thread_unregister(qsv, pmd->fwd.pmd);
	return 0;
}

int
ferry_pmd_launch(struct ferry_pmd *pmd)
{
	pmd->stop = 0;
	int rc = rte_eal_remote_launch(pmd_main, pmd, pmd->lcore);
	pmd->running = rc == 0;
	return rc;
}

void
ferry_pmd_join(struct ferry_pmd *pmd)
{
	if (!pmd->running)
		return;
	pmd->stop = 1;
	rte_eal_wait_lcore(pmd->lcore);
	pmd->running = false;
}
