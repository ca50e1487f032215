/* port_tx.c — what every port type's tx does around its burst: the egress limits checked per
 * frame (length, segments: the slow path copies or drops, counted), and the tx counters. */
#define ALLOW_EXPERIMENTAL_API   /* rte_seqcount_* are experimental in DPDK 22.11 */
#include "port_private.h"
#include "ferry_pkt.h"
#include "ferry_offload.h"

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

/* The slow path of ferry_port_tx_fit: m is longer than max_len untagged or has more than
 * max_segs segments. Too long even with its tags: dropped (mtu) — unless it is a TCP segment the
 * port takes whole (ferry_ol_egress checked its segments' size). Too many segments: copied into a
 * fresh chain when that has few enough (a lent guest frame of many pieces), else dropped
 * (tx_segs). Returns what to send, or NULL. */
static struct rte_mbuf *
tx_fix(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf *m,
       uint32_t max_len, uint16_t max_segs)
{
	struct rte_mbuf *c;

	if (m->pkt_len > max_len && !(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) &&
	    m->pkt_len > max_len + 4 * head_tags(m)) {
		ferry_port_count_drop(p, t->pmd, FERRY_DROP_MTU, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	if (m->nb_segs <= max_segs)
		return m;
	c = rte_pktmbuf_copy(m, t->pool, 0, UINT32_MAX);
	if (c == NULL || c->nb_segs > max_segs) {
		rte_pktmbuf_free(c);
		ferry_port_count_drop(p, t->pmd, FERRY_DROP_TX_SEGS, 1);
		rte_pktmbuf_free(m);
		return NULL;
	}
	rte_pktmbuf_free(m);
	return c;
}

/* A frame with offload flags (a guest's checksum or TCP segment, lib/offload): what this port
 * takes of it. The frame itself when the port takes it as it is (its lengths recomputed: VLAN
 * edits moved l2_len), else its checksums are computed or it is cut into segments that fit the
 * port, sent at once through the port's own tx (after the frames accepted before it, m[0, *k),
 * so a flow keeps its order; the tx op calls ferry_port_tx_fit before taking any lock). Returns
 * the frame to go on with, or NULL. */
static struct rte_mbuf *
tx_offload(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf *x,
	   struct rte_mbuf **m, uint16_t *k, uint32_t max_len)
{
	struct ferry_ol_seg_state st = { 0 };
	struct rte_mbuf *out[FERRY_BURST];
	unsigned caps = __atomic_load_n(&p->tx_ol, __ATOMIC_RELAXED);
	enum ferry_drop why = FERRY_DROP_MAX;
	bool more;

	do {
		unsigned n = ferry_ol_egress(x, caps, max_len, t->pool, out, RTE_DIM(out), &st,
					     &more, &why);
		if (n == 1 && out[0] == x && !more)
			return x;
		if (n != 0) {
			if (*k != 0) {
				p->ops->tx(p, t, m, *k);
				*k = 0;
			}
			p->ops->tx(p, t, out, (uint16_t)n);
		}
	} while (more);
	if (why != FERRY_DROP_MAX)
		ferry_port_count_drop(p, t->pmd, why, 1);
	return NULL;
}

/* The slow path of ferry_port_tx_fit for x (beyond a limit, or with offload work): x (or what
 * replaces it) put at m[k] with its length; returns the new count of m (the frames before it may
 * have been sent already: then 0 or 1). */
static __rte_noinline uint16_t
tx_slow(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf *x,
	struct rte_mbuf **m, uint16_t k, uint32_t max_len, uint16_t max_segs, uint32_t *len)
{
	if ((x->ol_flags & FERRY_OL_TX_FLAGS) && (x = tx_offload(p, t, x, m, &k, max_len)) == NULL)
		return k;
	if (((x->pkt_len > max_len) | (x->nb_segs > max_segs)) &&
	    (x = tx_fix(p, t, x, max_len, max_segs)) == NULL)
		return k;
	len[k] = x->pkt_len;
	m[k] = x;
	return (uint16_t)(k + 1);
}

/* Per frame: one length, one segment and one flag compare, the slow path only for frames beyond
 * a limit or with offload work. */
uint16_t
ferry_port_tx_fit(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf **m,
		  uint16_t n, uint32_t max_len, uint16_t max_segs, uint32_t *len)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *x = m[i];
		if (unlikely(((x->pkt_len > max_len) | (x->nb_segs > max_segs)) ||
			     (x->ol_flags & FERRY_OL_TX_FLAGS) != 0)) {
			k = tx_slow(p, t, x, m, k, max_len, max_segs, len);
			continue;
		}
		len[k] = x->pkt_len;
		m[k++] = x;
	}
	return k;
}

static inline bool
tx_fits(const struct rte_mbuf *x, uint32_t max_len, uint16_t max_segs)
{
	return !((x->pkt_len > max_len) | (x->nb_segs > max_segs)) &&
	       (x->ol_flags & FERRY_OL_TX_FLAGS) == 0;
}

/* Usually every frame fits: one pass summing lengths, nothing stored per frame. Else the
 * general ferry_port_tx_fit over the burst (the frames before the first misfit fit again). */
uint16_t
ferry_port_tx_fit_sum(struct ferry_port *p, const struct ferry_port_txctx *t,
		      struct rte_mbuf **m, uint16_t n, uint32_t max_len, uint16_t max_segs,
		      uint64_t *bytes)
{
	uint32_t len[FERRY_PORT_TX_MAX];
	uint64_t b = 0;
	uint16_t i, k;

	for (i = 0; i < n; i++) {
		if (unlikely(!tx_fits(m[i], max_len, max_segs)))
			break;
		b += m[i]->pkt_len;
	}
	if (likely(i == n)) {
		*bytes = b;
		return n;
	}
	k = ferry_port_tx_fit(p, t, m, n, max_len, max_segs, len);
	for (b = 0, i = 0; i < k; i++)
		b += len[i];
	*bytes = b;
	return k;
}

static void
tx_count(struct ferry_port *p, const struct ferry_port_txctx *t, uint16_t q, uint64_t bytes,
	 uint16_t n, uint16_t sent)
{
	struct ferry_port_pmd_stats *st = &p->stats[t->pmd];
	struct ferry_qstats *qs = &p->txq_stats[t->pmd * FERRY_MAX_QUEUES + q];

	rte_seqcount_write_begin(&st->seq);
	st->tx_pkts += sent;
	st->tx_bytes += bytes;
	qs->pkts += sent;
	qs->bytes += bytes;
	if (sent < n) {
		st->drops[FERRY_DROP_TX_FULL] += n - sent;
		qs->drops += n - sent;
	}
	rte_seqcount_write_end(&st->seq);
}

void
ferry_port_tx_done(struct ferry_port *p, const struct ferry_port_txctx *t, uint16_t q,
		   const uint32_t *len, uint16_t n, uint16_t sent)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < sent; i++)
		bytes += len[i];
	tx_count(p, t, q, bytes, n, sent);
}

void
ferry_port_tx_done_sum(struct ferry_port *p, const struct ferry_port_txctx *t, uint16_t q,
		       struct rte_mbuf *const *m, uint16_t n, uint16_t sent, uint64_t bytes)
{
	for (uint16_t i = sent; i < n; i++)   /* not sent: still the caller's */
		bytes -= m[i]->pkt_len;
	tx_count(p, t, q, bytes, n, sent);
}
