/* pmd.c — the PMD thread loop (poll every assigned rx queue, run the pipeline, flush tx buffers,
 * report a quiescent state) and the tx side: bursts to DPDK tx queues and guest RX rings. */
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_vhost.h>
#include "ferry_pmd.h"
#include "ferry_pipeline.h"
#include "ferry_pkt.h"
#include "ferry_zc.h"

struct ferry_pmd *
ferry_pmd_create(struct ferry_dp *dp, uint16_t idx, unsigned lcore)
{
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct ferry_pmd *pmd = rte_zmalloc_socket("pmd", sizeof(*pmd), RTE_CACHE_LINE_SIZE, socket);

	if (pmd == NULL)
		return NULL;
	pmd->idx = idx;
	pmd->dp = dp;
	pmd->lcore = lcore;
	pmd->socket = socket < 0 ? 0 : socket;
	pmd->pool = dp->pools[pmd->socket];
	ferry_fdb_cache_init(&pmd->fdb_cache);
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
	rte_rcu_qsbr_synchronize(pmd->dp->qsv, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

/* VLAN tags at the head of m (0x8100, 0x88a8, 0x9100), at most 2: what its egress limit allows
 * for beyond the untagged MTU + 14. */
static uint32_t
head_tags(const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (uint32_t off = 12; n < 2; off += 4, n++) {
		uint16_t be;
		const uint16_t *t = rte_pktmbuf_read(m, off, 2, &be);
		if (t == NULL || !ferry_ethertype_is_vlan(*t))
			break;
	}
	return n;
}

/* The slow path of tx_fit: m is longer than max_len untagged or has more than max_segs
 * segments. Too long even with its tags: dropped (mtu). Too many segments: copied into a fresh
 * chain when that has few enough (a lent guest frame of many pieces), else dropped (tx_segs).
 * Returns what to send, or NULL. */
static __rte_noinline struct rte_mbuf *
tx_fix(struct ferry_pmd *pmd, struct ferry_port *p, struct rte_mbuf *m, uint32_t max_len,
       uint16_t max_segs)
{
	struct rte_mbuf *c;

	if (m->pkt_len > max_len && m->pkt_len > max_len + 4 * head_tags(m)) {
		ferry_pmd_count_drop(pmd, p, FERRY_DROP_MTU, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	if (m->nb_segs <= max_segs)
		return m;
	c = rte_pktmbuf_copy(m, pmd->pool, 0, UINT32_MAX);
	if (c == NULL || c->nb_segs > max_segs) {
		rte_pktmbuf_free(c);
		ferry_pmd_count_drop(pmd, p, FERRY_DROP_TX_SEGS, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_free(m);
	return c;
}

/* Keep what port p can send out of m[0, n) (order kept) and take byte counts, before a burst:
 * once a driver has the mbufs it may free them at once. Per frame: one length and one segment
 * compare, the slow path only for frames beyond a limit. Returns how many remain. */
static uint16_t
tx_fit(struct ferry_pmd *pmd, struct ferry_port *p, struct rte_mbuf **m, uint16_t n,
       uint32_t max_len, uint16_t max_segs, uint32_t *len)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *x = m[i];
		if (unlikely((x->pkt_len > max_len) | (x->nb_segs > max_segs)) &&
		    (x = tx_fix(pmd, p, x, max_len, max_segs)) == NULL)
			continue;
		len[k] = x->pkt_len;
		m[k++] = x;
	}
	return k;
}

static void
tx_done(struct ferry_pmd *pmd, struct ferry_port *p, uint16_t q, const uint32_t *len,
	uint16_t n, uint16_t sent)
{
	struct ferry_port_pmd_stats *st = &p->stats[pmd->idx];
	struct ferry_qstats *qs = &p->txq_stats[pmd->idx * FERRY_MAX_QUEUES + q];
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < sent; i++)
		bytes += len[i];
	st->tx_pkts += sent;
	st->tx_bytes += bytes;
	qs->pkts += sent;
	qs->bytes += bytes;
	if (sent < n) {
		st->drops[FERRY_DROP_TX_FULL] += n - sent;
		qs->drops += n - sent;
	}
}

static void
flush_dpdk(struct ferry_pmd *pmd, struct ferry_port *p, struct rte_mbuf **m, uint16_t n)
{
	uint16_t q = pmd->idx % p->n_txq, sent;
	uint32_t len[FERRY_TXBUF_SIZE];

	n = tx_fit(pmd, p, m, n, __atomic_load_n(&p->tx_max_len, __ATOMIC_RELAXED), p->tx_max_segs,
		   len);
	if (n == 0)
		return;
	if (p->txq_shared)
		rte_spinlock_lock(&p->txq_lock[q]);
	sent = rte_eth_tx_burst(p->eth_port, q, m, n);
	if (sent < n)   /* one retry: the NIC may have freed descriptors meanwhile */
		sent += rte_eth_tx_burst(p->eth_port, q, m + sent, n - sent);
	if (p->txq_shared)
		rte_spinlock_unlock(&p->txq_lock[q]);
	tx_done(pmd, p, q, len, n, sent);
	if (sent < n)
		rte_pktmbuf_free_bulk(m + sent, n - sent);
}

/* The guest RX rings this PMD sends on: its share of the enabled ones, or all when too few. */
static unsigned
vhost_rings(const struct ferry_pmd *pmd, uint32_t on, uint16_t *rings)
{
	unsigned n_on = (unsigned)__builtin_popcount(on), n = 0, k = 0;
	uint16_t n_pmds = pmd->dp->n_pmds;

	while (on != 0) {
		uint16_t q = (uint16_t)__builtin_ctz(on);
		on &= on - 1;
		if (n_on < n_pmds || k++ % n_pmds == pmd->idx)
			rings[n++] = q;
	}
	return n;
}

/* m[i]'s length is len[i] (taken by tx_fit before the burst, as for a NIC). */
static void
enqueue_guest(struct ferry_pmd *pmd, struct ferry_port *p, int vid, uint16_t q,
	      struct rte_mbuf **m, const uint32_t *len, uint16_t n)
{
	uint16_t sent = 0, k;

	/* rte_vhost takes at most 32 per call */
	while (sent < n) {
		uint16_t chunk = RTE_MIN(n - sent, 32);
		k = rte_vhost_enqueue_burst(vid, 2 * q, m + sent, chunk);
		sent += k;
		if (k < chunk)
			break;
	}
	tx_done(pmd, p, q, len, n, sent);
}

/* A guest's egress limit: its MTU + 14 (+4 per tag) when it negotiated VIRTIO_NET_F_MTU (QEMU's
 * host_mtu), else none beyond what rte_vhost can enqueue (it copies chains of any length into
 * the guest's buffers). Read once per burst: a table lookup and a feature test. */
static uint32_t
vhost_max_len(int vid)
{
	uint16_t mtu;

	return rte_vhost_get_mtu(vid, &mtu) == 0 && mtu != 0 ? (uint32_t)mtu + RTE_ETHER_HDR_LEN :
	       UINT32_MAX;
}

static void
flush_vhost(struct ferry_pmd *pmd, struct ferry_port *p, struct rte_mbuf **m, uint16_t n)
{
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	uint32_t on = __atomic_load_n(&p->vq_tx_on, __ATOMIC_RELAXED);
	uint32_t len[FERRY_TXBUF_SIZE];
	uint16_t rings[FERRY_MAX_QUEUES];
	unsigned nr;

	if (vid >= 0 && on != 0)
		n = tx_fit(pmd, p, m, n, vhost_max_len(vid), UINT16_MAX, len);
	if (n == 0)
		return;
	if (vid < 0 || on == 0 || (nr = vhost_rings(pmd, on, rings)) == 0) {
		ferry_pmd_count_drop(pmd, p, FERRY_DROP_NOT_READY, n);
	} else if (nr == 1) {
		enqueue_guest(pmd, p, vid, rings[0], m, len, n);
	} else {
		/* spread by flow hash so a flow stays on one ring; group per ring, keep order */
		struct rte_mbuf *g[FERRY_TXBUF_SIZE];
		uint32_t glen[FERRY_TXBUF_SIZE];
		uint8_t ring_of[FERRY_TXBUF_SIZE];
		for (uint16_t i = 0; i < n; i++)
			ring_of[i] = (uint8_t)(ferry_pkt_flow_hash(m[i]) % nr);
		for (unsigned r = 0; r < nr; r++) {
			uint16_t k = 0;
			for (uint16_t i = 0; i < n; i++)
				if (ring_of[i] == r) {
					glen[k] = len[i];
					g[k++] = m[i];
				}
			if (k != 0)
				enqueue_guest(pmd, p, vid, rings[r], g, glen, k);
		}
	}
	rte_pktmbuf_free_bulk(m, n);   /* vhost copied what it took */
}

/* The port's egress stages (lib/stage) over the buffer, FERRY_BURST frames at a time; the frames
 * they drop are freed and counted as "filter". Returns how many remain (in order). */
static uint16_t
egress_stages(struct ferry_pmd *pmd, struct ferry_port *p, const struct ferry_stage_list *sl,
	      struct rte_mbuf **m, uint16_t n)
{
	struct rte_mbuf *drop[FERRY_TXBUF_SIZE];
	uint16_t k = 0, n_drop = 0;

	for (uint16_t i = 0; i < n; i += FERRY_BURST) {
		uint16_t c = RTE_MIN(n - i, FERRY_BURST);
		uint64_t keep = ferry_stage_run(sl, m + i, c, p->idx, pmd->idx);
		for (uint16_t j = 0; j < c; j++) {
			if (keep & (UINT64_C(1) << j))
				m[k++] = m[i + j];
			else
				drop[n_drop++] = m[i + j];
		}
	}
	if (n_drop != 0) {
		ferry_pmd_count_drop(pmd, p, FERRY_DROP_FILTER, n_drop);
		rte_pktmbuf_free_bulk(drop, n_drop);
	}
	return k;
}

void
ferry_pmd_flush(struct ferry_pmd *pmd, uint16_t port_idx)
{
	struct ferry_txbuf *tb = &pmd->txb[port_idx];
	struct ferry_port *p = __atomic_load_n(&pmd->dp->ports[port_idx], __ATOMIC_ACQUIRE);
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
	if (unlikely(sl != NULL) && (n = egress_stages(pmd, p, sl, tb->m, n)) == 0)
		return;
	if (p->type == FERRY_PORT_DPDK)
		flush_dpdk(pmd, p, tb->m, n);
	else
		flush_vhost(pmd, p, tb->m, n);
}

void
ferry_pmd_flush_all(struct ferry_pmd *pmd)
{
	for (uint16_t i = 0; i < pmd->n_dirty; i++) {
		uint16_t idx = pmd->dirty[i];
		ferry_pmd_flush(pmd, idx);
		pmd->txb[idx].listed = 0;
	}
	pmd->n_dirty = 0;
}

static uint32_t
poll_once(struct ferry_pmd *pmd)
{
	const struct ferry_poll_list *pl = __atomic_load_n(&pmd->poll, __ATOMIC_ACQUIRE);
	struct rte_mbuf *pkts[FERRY_BURST];
	uint16_t burst = pmd->dp->burst;
	uint32_t total = 0;

	for (uint16_t i = 0; i < pl->n; i++) {
		const struct ferry_rxq_ref *r = &pl->rxq[i];
		uint16_t n = ferry_port_rx(r->port, r->q, pkts, burst);
		if (n == 0)
			continue;
		ferry_pipeline_run(pmd, r->port, r->q, pkts, n);
		total += n;
	}
	ferry_pmd_flush_all(pmd);
	ferry_zc_batch_flush();   /* lent buffers the transmits freed: back to their queues' owners */
	return total;
}

static int
pmd_main(void *arg)
{
	struct ferry_pmd *pmd = arg;
	struct rte_rcu_qsbr *qsv = pmd->dp->qsv;
	uint64_t t0 = rte_rdtsc(), t1;

	rte_rcu_qsbr_thread_register(qsv, pmd->idx);
	rte_rcu_qsbr_thread_online(qsv, pmd->idx);
	ferry_zc_batch_enable(true);
	FERRY_LOG(INFO, "pmd %u running on lcore %u (socket %d)", pmd->idx, pmd->lcore, pmd->socket);
	while (!pmd->stop) {
		uint32_t n = poll_once(pmd);
		rte_rcu_qsbr_quiescent(qsv, pmd->idx);
		t1 = rte_rdtsc();
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
	rte_rcu_qsbr_thread_offline(qsv, pmd->idx);
	rte_rcu_qsbr_thread_unregister(qsv, pmd->idx);
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
