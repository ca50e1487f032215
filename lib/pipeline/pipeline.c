/* pipeline.c — the switch's per-burst pipeline, in stages over the whole burst:
 *   [policer]  →  [rx stages: a mirror's rx side]  →  parse + ingress filter (runt, VLAN, source
 *   MAC)  →  one bulk FDB lookup of sources and destinations  →  learn [mac_limit]  →  forward
 *   (unicast, or [storm] flood; VLAN push/pop/rewrite per egress port). [..]: one branch each
 *   when not configured.
 * The result is that of processing the frames one by one (doc/semantics.md steps 4-5): each
 * frame's source is learned before its destination is resolved, so a MAC learned or moved by a
 * frame is seen by every later frame of the same burst (the bulk lookup's answers are fixed up). */
#define ALLOW_EXPERIMENTAL_API   /* rte_seqcount_* are experimental in DPDK 22.11 */
#include <rte_mbuf.h>
#include "ferry_pipeline.h"
#include "ferry_pkt.h"
#include "ferry_txbuf.h"
#include "ferry_offload.h"

#define MAC_BROADCAST FERRY_MAC_MASK   /* ferry_pkt form of ff:ff:ff:ff:ff:ff */

struct burst {
	struct rte_mbuf *m[FERRY_BURST];
	struct ferry_pkt pk[FERRY_BURST];
	uint16_t vlan[FERRY_BURST];
	uint16_t dport[FERRY_BURST];     /* FERRY_PORT_NONE: unknown / group destination */
	uint64_t key[2 * FERRY_BURST];   /* sources, then destinations */
	int32_t pos[2 * FERRY_BURST];
	uint16_t n;
	struct rte_mbuf *drop[FERRY_BURST];
	uint16_t n_drop;
};

/* Queue m for port slot idx in this PMD's tx buffers: flushed when full, else at the end of the
 * PMD's loop iteration (ferry_pipeline_flush). */
static inline void
queue_tx(struct ferry_fwd *fw, uint16_t idx, struct rte_mbuf *m)
{
	struct ferry_txbuf *tb = &fw->txb[idx];

	if (!tb->listed) {
		tb->listed = 1;
		fw->dirty[fw->n_dirty++] = idx;
	}
	if (ferry_txbuf_add(tb, m))
		ferry_txbuf_flush(tb, __atomic_load_n(&fw->dp->ports[idx], __ATOMIC_ACQUIRE),
				  &fw->txctx);
}

static inline void
drop(struct ferry_fwd *fw, struct burst *b, struct ferry_port *p, struct rte_mbuf *m,
     enum ferry_drop why)
{
	ferry_port_count_drop(p, fw->pmd, why, 1);
	b->drop[b->n_drop++] = m;
}

/* Stages 1-3: keep the frames that belong to a VLAN of the port and have a legal source. */
static void
stage_filter(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in,
	     const struct ferry_port_policy *pol, struct rte_mbuf **pkts, uint16_t n)
{
	const uint64_t slow = RTE_MBUF_F_RX_VLAN_STRIPPED | ferry_ol_bad_flag;   /* read once */

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ferry_pkt *pk = &b->pk[b->n];
		int bad;

		if (unlikely(m->ol_flags & slow)) {
			if (m->ol_flags & ferry_ol_bad_flag) {   /* a guest's bad virtio-net header */
				drop(fw, b, in, m, ferry_ol_bad_reason(m));
				continue;
			}
			if (ferry_pkt_unstrip(m) < 0) {
				drop(fw, b, in, m, FERRY_DROP_NO_MBUF);
				continue;
			}
		}
		bad = ferry_pkt_parse(m, pk);
		if (unlikely(bad)) {
			drop(fw, b, in, m, (enum ferry_drop)(bad - 1));
			continue;
		}
		uint16_t vlan = ferry_vlan_ingress(&pol->vlan, pk->tagged, pk->tci & 0xfff,
						   ferry_pkt_inner_tag(pk));
		if (unlikely(vlan >= FERRY_VLAN_HOP)) {   /* FERRY_VLAN_HOP or FERRY_VLAN_NONE */
			drop(fw, b, in, m,
			     vlan == FERRY_VLAN_HOP ? FERRY_DROP_VLAN_HOP : FERRY_DROP_VLAN);
			continue;
		}
		if (unlikely(ferry_mac_is_group(pk->src) || pk->src == 0)) {
			drop(fw, b, in, m, FERRY_DROP_INVALID_SRC);
			continue;
		}
		if (unlikely(!ferry_port_src_allowed(pol, pk->src))) {
			drop(fw, b, in, m, FERRY_DROP_SPOOF);
			continue;
		}
		b->vlan[b->n] = vlan;
		b->m[b->n++] = m;
	}
}

/* Stage 3b, only when the port has ingress stages attached (lib/stage: eBPF filters, ...): they
 * see the frames that passed 1-3, before the FDB; the ones they drop are counted as "filter". */
static void __attribute__((noinline))
stage_attached(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in)
{
	const struct ferry_stage_list *sl = __atomic_load_n(&in->stages[FERRY_STAGE_INGRESS],
							    __ATOMIC_ACQUIRE);
	if (sl == NULL || b->n == 0)   /* detached meanwhile */
		return;
	uint64_t keep = ferry_stage_run(sl, b->m, b->n, in->idx, fw->pmd, &fw->stx);
	uint16_t k = 0, n = b->n;

	if (keep == (n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1))
		return;   /* all kept: nothing moves */
	for (uint16_t i = 0; i < n; i++) {
		if (!(keep & (UINT64_C(1) << i))) {
			drop(fw, b, in, b->m[i], FERRY_DROP_FILTER);
			continue;
		}
		b->m[k] = b->m[i];
		b->pk[k] = b->pk[i];
		b->vlan[k++] = b->vlan[i];
	}
	b->n = k;
}

/* Stage 4: bulk lookup of the whole burst, as the FDB was when it began; stage_learn corrects
 * the destinations that the burst's own learning changes. A source pinned (static) to another port
 * is a spoof: the frame is marked with a NULL mbuf. */
static void
stage_lookup(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in)
{
	const struct ferry_fdb *fdb = fw->dp->fdb;
	uint16_t n = b->n;

	for (uint16_t i = 0; i < n; i++) {
		b->key[i] = ferry_fdb_key(b->pk[i].src, b->vlan[i]);
		b->key[n + i] = ferry_fdb_key(b->pk[i].dst, b->vlan[i]);
	}
	ferry_fdb_lookup_cached(fdb, &fw->fdb_cache, b->key, 2 * n, b->pos);
	for (uint16_t i = 0; i < n; i++) {
		int32_t sp = b->pos[i], dp = b->pos[n + i];
		b->dport[i] = dp >= 0 && !ferry_mac_is_group(b->pk[i].dst) ?
			ferry_fdb_entry(fdb, dp)->port : FERRY_PORT_NONE;
		if (sp >= 0) {
			const struct ferry_fdb_entry *e = ferry_fdb_entry(fdb, sp);
			if (unlikely(e->is_static && e->port != in->idx)) {
				drop(fw, b, in, b->m[i], FERRY_DROP_SPOOF);
				b->m[i] = NULL;
			}
		}
	}
}

/* Frame i's source was refused by the port's mac_limit: not learned, the frame dropped. */
static void
drop_limited(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint16_t i)
{
	drop(fw, b, in, b->m[i], FERRY_DROP_MAC_LIMIT);
	b->m[i] = NULL;
}

static void __attribute__((noinline))
count_learn(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint16_t i,
	    enum ferry_learn r)
{
	struct ferry_port_pmd_stats *st = &in->stats[fw->pmd];

	if (r == FERRY_LEARN_MOVED)
		st->mac_moves++;
	else if (r == FERRY_LEARN_FULL)
		st->learn_full++;
	else
		drop_limited(fw, b, in, i);
}

/* Learn frame i's source on `in`, counting moves and a full table; a source beyond the port's
 * mac_limit drops its frame (b->m[i] = NULL). */
static inline enum ferry_learn
learn_one(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint32_t limit,
	  uint16_t i, uint32_t now)
{
	enum ferry_learn r = ferry_fdb_learn(fw->dp->fdb, b->key[i], in->idx, b->pos[i], now, limit);

	if (unlikely(r >= FERRY_LEARN_MOVED))   /* MOVED, FULL or LIMIT */
		count_learn(fw, b, in, i, r);
	return r;
}

/* Is key one of the n keys this burst learned or moved (all now on the ingress port)? */
static inline bool
learned_has(const uint64_t *learned, uint16_t n, uint64_t key)
{
	for (uint16_t k = 0; k < n; k++)
		if (learned[k] == key)
			return true;
	return false;
}

/* The rest of stage_learn once frame `first` has learned or moved its source: from here on each
 * frame's destination is checked against the keys learned so far (its own source included). */
static void
learn_rest(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint32_t limit,
	   uint16_t first, uint32_t now)
{
	uint64_t learned[FERRY_BURST];
	uint16_t n_learned = 1, n = b->n;
	uint64_t last = b->key[first];

	learned[0] = last;
	for (uint16_t i = first; i < n; i++) {
		uint64_t key = b->key[i];

		if (b->m[i] == NULL)
			continue;
		/* a source learned earlier in the burst is on `in`: its burst-start pos is stale */
		if (key != last && !learned_has(learned, n_learned, key)) {
			last = key;
			enum ferry_learn r = learn_one(fw, b, in, limit, i, now);
			if (r == FERRY_LEARN_NEW || r == FERRY_LEARN_MOVED)
				learned[n_learned++] = key;
			if (unlikely(r == FERRY_LEARN_LIMIT)) {   /* dropped; its next frame tries again */
				last = 0;
				continue;
			}
		}
		/* frame i's destination as the FDB is now, whatever the burst-start lookup said; a
		 * group destination never matches (group sources are dropped before learning) */
		if (learned_has(learned, n_learned, b->key[n + i]))
			b->dport[i] = in->idx;
	}
}

/* Stage 5: learn sources in frame order (consecutive frames of one station learn once), each
 * before its own frame's destination is resolved, as if frames were switched one at a time.
 * Only the frames from the first new or moved MAC on can see a change (a failed learn changes
 * nothing): until then (usually the whole burst) this is the plain learning loop. A source the
 * port's mac_limit refuses drops its frames (doc/semantics.md step 5). */
static void
stage_learn(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in,
	    const struct ferry_port_policy *pol)
{
	uint32_t now = ferry_now_s, limit = pol->mac_limit;
	uint64_t last = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		if (b->m[i] == NULL || b->key[i] == last)
			continue;
		last = b->key[i];
		enum ferry_learn r = learn_one(fw, b, in, limit, i, now);
		if (unlikely(r == FERRY_LEARN_LIMIT))   /* dropped; its next frame tries again */
			last = 0;
		if (unlikely(r == FERRY_LEARN_NEW || r == FERRY_LEARN_MOVED)) {
			learn_rest(fw, b, in, limit, i, now);
			return;
		}
	}
}

/* Does port p take frames of vlan? Returns its policy or NULL. */
static inline const struct ferry_port_policy *
egress_policy(const struct ferry_port *p, uint16_t vlan)
{
	const struct ferry_port_policy *pol = __atomic_load_n(&p->policy, __ATOMIC_ACQUIRE);

	if (pol->off || !ferry_vlan_member(&pol->vlan, vlan))
		return NULL;
	return pol;
}

static void
forward_unicast(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint16_t i)
{
	struct ferry_port *out = __atomic_load_n(&fw->dp->ports[b->dport[i]], __ATOMIC_ACQUIRE);
	struct rte_mbuf *m = b->m[i];
	const struct ferry_port_policy *pol;

	if (out == NULL || out == in || (pol = egress_policy(out, b->vlan[i])) == NULL) {
		drop(fw, b, in, m, FERRY_DROP_NO_DEST);
		return;
	}
	int rc = ferry_pkt_vlan_edit(m, b->pk[i].tagged,
				     ferry_vlan_egress_tagged(&pol->vlan, b->vlan[i]), b->vlan[i]);
	if (unlikely(rc != 0)) {   /* no headroom for the tag, or popping it would expose another */
		drop(fw, b, in, m,
		     rc == FERRY_PKT_EDIT_HOP ? FERRY_DROP_VLAN_HOP : FERRY_DROP_NO_MBUF);
		return;
	}
	queue_tx(fw, out->idx, m);
}

/* Send one mbuf (already in the right encoding) to n ports: one reference each — on every
 * segment, since each port frees the whole chain (lent guest frames are always chained). */
static void
send_shared(struct ferry_fwd *fw, struct rte_mbuf *m, const uint16_t *ports, uint16_t n)
{
	if (n > 1)
		rte_pktmbuf_refcnt_update(m, (int16_t)(n - 1));
	for (uint16_t k = 0; k < n; k++)
		queue_tx(fw, ports[k], m);
}

/* Broadcast, multicast, unknown unicast: every other port of the VLAN. Ports wanting the frame
 * tagged share one mbuf, ports wanting it untagged share another (a copy): at most one copy.
 * A frame with an inner tag skips the untagged ports (popping its tag would expose the inner
 * one: FERRY_PKT_EDIT_HOP); if that leaves none, it is dropped as `vlan_hop`. */
static void
forward_flood(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint16_t i)
{
	struct ferry_dp *dp = fw->dp;
	uint16_t tagged[FERRY_MAX_PORTS], untagged[FERRY_MAX_PORTS], nt = 0, nu = 0;
	uint16_t vlan = b->vlan[i];
	struct rte_mbuf *m = b->m[i], *mu;
	bool hop = false;

	for (uint16_t j = 0; j < dp->n_slots; j++) {
		struct ferry_port *p = __atomic_load_n(&dp->ports[j], __ATOMIC_ACQUIRE);
		const struct ferry_port_policy *pol;
		if (p == NULL || p == in || (pol = egress_policy(p, vlan)) == NULL)
			continue;
		if (ferry_vlan_egress_tagged(&pol->vlan, vlan))
			tagged[nt++] = j;
		else if (likely(!ferry_pkt_inner_tag(&b->pk[i])))
			untagged[nu++] = j;
		else
			hop = true;
	}
	if (nt + nu == 0) {
		drop(fw, b, in, m, hop ? FERRY_DROP_VLAN_HOP : FERRY_DROP_NO_DEST);
		return;
	}
	mu = m;
	if (nt != 0 && nu != 0) {
		mu = rte_pktmbuf_copy(m, fw->pool, 0, UINT32_MAX);
		if (unlikely(mu == NULL)) {
			ferry_port_count_drop(in, fw->pmd, FERRY_DROP_NO_MBUF, nu);
			nu = 0;
		}
	}
	if (nu != 0 && ferry_pkt_vlan_edit(mu, b->pk[i].tagged, false, vlan) == 0)
		send_shared(fw, mu, untagged, nu);
	if (nt != 0) {
		if (ferry_pkt_vlan_edit(m, b->pk[i].tagged, true, vlan) == 0)
			send_shared(fw, m, tagged, nt);
		else
			drop(fw, b, in, m, FERRY_DROP_NO_MBUF);
	}
}

/* Stage 0, only on a port with a "policer": the frames over its rate (a suffix of the burst,
 * lib/police) are dropped as `policer` before anything looks at them. Returns the frames left. */
static uint16_t __attribute__((noinline))
stage_police(struct ferry_fwd *fw, struct ferry_port *in, struct ferry_qstats *qs,
	     struct ferry_port_policy *pol, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = ferry_bucket_take(&pol->policer, pkts, n);

	if (k < n) {
		ferry_port_count_drop(in, fw->pmd, FERRY_DROP_POLICER, n - k);
		qs->drops += n - k;
		rte_pktmbuf_free_bulk(pkts + k, n - k);
	}
	return k;
}

/* Stage 0b, only when the port has rx stages attached (a mirror's rx side): they see every frame
 * as it was received, before parse and the VLAN/source checks; what they drop is `filter`. */
static uint16_t __attribute__((noinline))
stage_rx(struct ferry_fwd *fw, struct ferry_port *in, struct ferry_qstats *qs,
	 struct rte_mbuf **pkts, uint16_t n)
{
	const struct ferry_stage_list *sl = __atomic_load_n(&in->stages[FERRY_STAGE_RX],
							    __ATOMIC_ACQUIRE);
	struct rte_mbuf *dropped[FERRY_BURST];
	uint16_t n_drop = 0, k;

	if (sl == NULL)   /* detached meanwhile */
		return n;
	k = ferry_stage_compact(pkts, n, ferry_stage_run(sl, pkts, n, in->idx, fw->pmd, &fw->stx),
				dropped, &n_drop);
	if (n_drop != 0) {
		ferry_port_count_drop(in, fw->pmd, FERRY_DROP_FILTER, n_drop);
		qs->drops += n_drop;
		rte_pktmbuf_free_bulk(dropped, n_drop);
	}
	return k;
}

/* Storm control, only on a port with a "storm": may frame i be flooded (its kind's bucket)? */
static bool __attribute__((noinline))
storm_pass(struct ferry_port_policy *pol, const struct ferry_pkt *pk)
{
	struct ferry_bucket *bk = &pol->storm[pk->dst == MAC_BROADCAST ? FERRY_STORM_BROADCAST :
					      ferry_mac_is_group(pk->dst) ? FERRY_STORM_MULTICAST :
					      FERRY_STORM_UNKNOWN];

	return bk->cost == 0 || ferry_bucket_take(bk, NULL, 1) == 1;
}

static inline __attribute__((always_inline)) void
pipeline_burst(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, struct rte_mbuf **pkts,
	       uint16_t n, struct ferry_port_pmd_stats *st)
{
	struct ferry_port_policy *pol = __atomic_load_n(&in->policy, __ATOMIC_ACQUIRE);
	struct ferry_qstats *qs = &in->rxq_stats[q];
	struct burst b;
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	st->rx_pkts += n;
	st->rx_bytes += bytes;
	qs->pkts += n;
	qs->bytes += bytes;
	if (unlikely(pol->off)) {   /* admin down, or a mirror's output: nothing it sends goes on */
		ferry_port_count_drop(in, fw->pmd, pol->off & FERRY_PORT_OFF_ADMIN ?
				      FERRY_DROP_ADMIN_DOWN : FERRY_DROP_MIRROR_OUTPUT, n);
		qs->drops += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	if (unlikely(pol->controls & FERRY_CTL_POLICER) &&
	    (n = stage_police(fw, in, qs, pol, pkts, n)) == 0)
		return;
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_RX], __ATOMIC_RELAXED) != NULL) &&
	    (n = stage_rx(fw, in, qs, pkts, n)) == 0)
		return;
	b.n = 0;
	b.n_drop = 0;
	stage_filter(fw, &b, in, pol, pkts, n);
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_INGRESS], __ATOMIC_RELAXED) != NULL))
		stage_attached(fw, &b, in);
	if (b.n != 0) {
		stage_lookup(fw, &b, in);
		stage_learn(fw, &b, in, pol);
		for (uint16_t i = 0; i < b.n; i++) {
			if (b.m[i] == NULL)
				continue;
			if (b.dport[i] != FERRY_PORT_NONE)
				forward_unicast(fw, &b, in, i);
			else if (unlikely(pol->controls & FERRY_CTL_STORM) && !storm_pass(pol, &b.pk[i]))
				drop(fw, &b, in, b.m[i], FERRY_DROP_STORM);
			else
				forward_flood(fw, &b, in, i);
		}
	}
	if (b.n_drop != 0) {
		qs->drops += b.n_drop;
		rte_pktmbuf_free_bulk(b.drop, b.n_drop);
	}
}

/* The burst's counters on in are one write section (ferry_port_pmd_stats.seq). */
void
ferry_pipeline_run(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q,
		   struct rte_mbuf **pkts, uint16_t n)
{
	struct ferry_port_pmd_stats *st = &in->stats[fw->pmd];

	rte_seqcount_write_begin(&st->seq);
	pipeline_burst(fw, in, q, pkts, n, st);
	rte_seqcount_write_end(&st->seq);
}

void
ferry_pipeline_flush(struct ferry_fwd *fw)
{
	for (uint16_t i = 0; i < fw->n_dirty; i++) {
		uint16_t idx = fw->dirty[i];
		ferry_txbuf_flush(&fw->txb[idx], __atomic_load_n(&fw->dp->ports[idx], __ATOMIC_ACQUIRE),
				  &fw->txctx);
		fw->txb[idx].listed = 0;
	}
	fw->n_dirty = 0;
}

/* A stage's own frames (a mirror's copies) join this PMD's tx buffer for the port. */
static void
stage_send(struct ferry_stage_tx *tx, uint16_t port, struct rte_mbuf **m, uint16_t n)
{
	struct ferry_fwd *fw = container_of(tx, struct ferry_fwd, stx);

	for (uint16_t i = 0; i < n; i++)
		queue_tx(fw, port, m[i]);
}

void
ferry_fwd_init(struct ferry_fwd *fw, struct ferry_dp *dp, uint16_t pmd, struct rte_mempool *pool)
{
	fw->pmd = pmd;
	fw->dp = dp;
	fw->pool = pool;
	fw->stx.send = stage_send;
	fw->txctx = (struct ferry_port_txctx){ .pmd = pmd, .n_pmds = dp->n_pmds, .pool = pool,
					       .stx = &fw->stx };
	ferry_fdb_cache_init(&fw->fdb_cache);
}
