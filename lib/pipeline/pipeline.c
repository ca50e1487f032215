/* pipeline.c — the switch's per-burst pipeline, in stages over the whole burst:
 *   [policer]  →  [rx stages: a mirror's rx side]  →  parse + ingress filter (runt, VLAN, source
 *   MAC)  →  one bulk FDB lookup of sources and destinations  →  learn [mac_limit]  →  forward
 *   (unicast, or [storm] flood; VLAN push/pop/rewrite per egress port). [..]: one branch each
 *   when not configured.
 * The result is that of processing the frames one by one (doc/semantics.md steps 4-5): each
 * frame's source is learned before its destination is resolved, so a MAC learned or moved by a
 * frame is seen by every later frame of the same burst (the bulk lookup's answers are fixed up).
 * The stages both paths share (parse and filter, policer, rx stages, unicast) are in
 * pipeline_private.h; a VM's own queue runs pipeline_owned.c instead (issue #18). */
#include "pipeline_private.h"

/* Stage 4: bulk lookup of the whole burst, as the FDB was when it began; stage_learn corrects
 * the destinations that the burst's own learning changes. A source pinned (static) to another port
 * is a spoof: the frame is marked with a NULL mbuf. */
/* always inline: an out-of-line lookup and learn cost the normal path 2 instructions per frame
 * (callgrind p2p-1) */
static inline __attribute__((always_inline)) void
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
static inline __attribute__((always_inline)) void
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

/* Storm control, only on a port with a "storm": may frame i be flooded (its kind's bucket)? */
static bool __attribute__((noinline))
storm_pass(struct ferry_port_policy *pol, const struct ferry_pkt *pk)
{
	struct ferry_bucket *bk = &pol->storm[pk->dst == MAC_BROADCAST ? FERRY_STORM_BROADCAST :
					      ferry_mac_is_group(pk->dst) ? FERRY_STORM_MULTICAST :
					      FERRY_STORM_UNKNOWN];

	return bk->cost == 0 || ferry_bucket_take(bk, NULL, 1) == 1;
}

/* Stages 4-5 and forwarding of b's frames (the normal path). */
static inline __attribute__((always_inline)) void
burst_forward(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in,
	      struct ferry_port_policy *pol)
{
	struct egress eg = EGRESS_INIT;

	stage_lookup(fw, b, in);
	stage_learn(fw, b, in, pol);
	for (uint16_t i = 0; i < b->n; i++) {
		if (b->m[i] == NULL)
			continue;
		if (b->dport[i] != FERRY_PORT_NONE)
			forward_unicast(fw, b, in, i, &eg);
		else if (unlikely(pol->controls & FERRY_CTL_STORM) && !storm_pass(pol, &b->pk[i]))
			drop(fw, b, in, b->m[i], FERRY_DROP_STORM);
		else
			forward_flood(fw, b, in, i);
	}
}

static inline __attribute__((always_inline)) void
pipeline_burst(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, struct rte_mbuf **pkts,
	       uint16_t n, struct ferry_port_pmd_stats *st)
{
	struct ferry_port_policy *pol = __atomic_load_n(&in->policy, __ATOMIC_ACQUIRE);
	struct ferry_qstats *qs = &in->rxq_stats[q];
	struct burst b;

	if ((n = burst_head(fw, in, pol, qs, pkts, n, st)) == 0)
		return;
	b.n = 0;
	b.n_drop = 0;
	stage_filter(fw, &b, in, pol, NULL, pkts, n);
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_INGRESS], __ATOMIC_RELAXED) != NULL))
		stage_attached(fw, &b, in);
	if (b.n != 0)
		burst_forward(fw, &b, in, pol);
	burst_free_drops(&b, qs);
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
