/* pipeline_private.h — the pipeline's stages shared by its two entries (not a public API):
 * pipeline.c (every shared rx queue) and pipeline_owned.c (a VM's own queue, issue #18). Static
 * inline, so each file's copy is compiled into its own loop as if it were written there. */
#ifndef FERRY_PIPELINE_PRIVATE_H
#define FERRY_PIPELINE_PRIVATE_H

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

/* A strict queue's frame, classified by its VM's VLANs rather than the port's: untagged (or
 * priority-tagged) frames are in the VM's untagged VLAN (an access VM's tag, a trunk's native),
 * tagged ones in their VID if the VM carries it; FERRY_VLAN_NONE, FERRY_VLAN_HOP otherwise. */
static inline uint16_t
owner_vlan(const struct ferry_vlan_policy *vp, bool tagged, uint16_t vid, bool inner_tag)
{
	uint16_t v;

	if (!tagged || vid == 0) {
		if (unlikely(inner_tag))
			return FERRY_VLAN_HOP;
		v = vp->untagged_vlan;
	} else {
		v = vid;
	}
	if (v == FERRY_VLAN_NONE || !ferry_vlan_member(vp, v))
		return FERRY_VLAN_NONE;
	return v;
}

/* Stages 1-3: keep the frames that belong to a VLAN of the port and have a legal source. ovp:
 * NULL (a constant: the normal path), or a strict queue's VM's VLANs, which then classify the
 * frames instead of the port's (owner_vlan; a VLAN the VM does not carry is `vm_vlan`). */
static inline __attribute__((always_inline)) void
stage_filter(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in,
	     const struct ferry_port_policy *pol, const struct ferry_vlan_policy *ovp,
	     struct rte_mbuf **pkts, uint16_t n)
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
		uint16_t vlan = ovp == NULL ?
			ferry_vlan_ingress(&pol->vlan, pk->tagged, pk->tci & 0xfff,
					   ferry_pkt_inner_tag(pk)) :
			owner_vlan(ovp, pk->tagged, pk->tci & 0xfff, ferry_pkt_inner_tag(pk));
		if (unlikely(vlan >= FERRY_VLAN_HOP)) {   /* FERRY_VLAN_HOP or FERRY_VLAN_NONE */
			drop(fw, b, in, m, vlan == FERRY_VLAN_HOP ? FERRY_DROP_VLAN_HOP :
					   ovp == NULL ? FERRY_DROP_VLAN : FERRY_DROP_VM_VLAN);
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
static __attribute__((noinline)) void
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

/* Does port p take frames of vlan? Returns its policy or NULL. */
static inline const struct ferry_port_policy *
egress_policy(const struct ferry_port *p, uint16_t vlan)
{
	const struct ferry_port_policy *pol = __atomic_load_n(&p->policy, __ATOMIC_ACQUIRE);

	if (pol->off || !ferry_vlan_member(&pol->vlan, vlan))
		return NULL;
	return pol;
}

/* The destination port of the burst's last unicast frame: its slot, the port there and its
 * policy (NULL: no port, or the ingress port), looked up again only when the slot changes — once
 * per burst for a burst to one port, as the ingress port's policy is. */
struct egress {
	uint16_t dport;   /* FERRY_PORT_NONE: none yet */
	const struct ferry_port_policy *pol;
};
#define EGRESS_INIT { .dport = FERRY_PORT_NONE, .pol = NULL }

static inline void
forward_unicast(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, uint16_t i,
		struct egress *eg)
{
	struct rte_mbuf *m = b->m[i];
	uint16_t vlan = b->vlan[i];

	if (b->dport[i] != eg->dport) {
		struct ferry_port *out = __atomic_load_n(&fw->dp->ports[b->dport[i]],
							 __ATOMIC_ACQUIRE);
		eg->dport = b->dport[i];
		eg->pol = out == NULL || out == in ? NULL :
			  __atomic_load_n(&out->policy, __ATOMIC_ACQUIRE);
	}
	const struct ferry_port_policy *pol = eg->pol;
	if (pol == NULL || pol->off || !ferry_vlan_member(&pol->vlan, vlan)) {
		drop(fw, b, in, m, FERRY_DROP_NO_DEST);
		return;
	}
	bool tag_out = ferry_vlan_egress_tagged(&pol->vlan, vlan);
	int rc = tag_out && ferry_pkt_tag_is(&b->pk[i], vlan) ? 0 :
		 ferry_pkt_vlan_edit(m, b->pk[i].tagged, tag_out, vlan);
	if (unlikely(rc != 0)) {   /* no headroom for the tag, or popping it would expose another */
		drop(fw, b, in, m,
		     rc == FERRY_PKT_EDIT_HOP ? FERRY_DROP_VLAN_HOP : FERRY_DROP_NO_MBUF);
		return;
	}
	queue_tx(fw, eg->dport, m);   /* the port's slot is its idx */
}

/* Stage 0, only on a port with a "policer": the frames over its rate (a suffix of the burst,
 * lib/police) are dropped as `policer` before anything looks at them. Returns the frames left. */
static __attribute__((noinline)) uint16_t
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
static __attribute__((noinline)) uint16_t
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

/* Counters, admin state, [policer], [rx stages]: what every burst goes through first. Returns
 * the frames left (0: nothing more to do). */
static inline __attribute__((always_inline)) uint16_t
burst_head(struct ferry_fwd *fw, struct ferry_port *in, struct ferry_port_policy *pol,
	   struct ferry_qstats *qs, struct rte_mbuf **pkts, uint16_t n,
	   struct ferry_port_pmd_stats *st)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	st->rx_pkts += n;
	st->rx_bytes += bytes;
	qs->pkts += n;
	qs->bytes += bytes;
	if (unlikely(pol->off & FERRY_PORT_OFF_RX)) {   /* admin down, or a mirror's output */
		ferry_port_count_drop(in, fw->pmd, pol->off & FERRY_PORT_OFF_ADMIN ?
				      FERRY_DROP_ADMIN_DOWN : FERRY_DROP_MIRROR_OUTPUT, n);
		qs->drops += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return 0;
	}
	if (unlikely(pol->controls & FERRY_CTL_POLICER) &&
	    (n = stage_police(fw, in, qs, pol, pkts, n)) == 0)
		return 0;
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_RX], __ATOMIC_RELAXED) != NULL) &&
	    (n = stage_rx(fw, in, qs, pkts, n)) == 0)
		return 0;
	return n;
}

/* The burst's dropped frames: counted on the queue, freed. */
static inline void
burst_free_drops(struct burst *b, struct ferry_qstats *qs)
{
	if (b->n_drop != 0) {
		qs->drops += b->n_drop;
		rte_pktmbuf_free_bulk(b->drop, b->n_drop);
	}
}

#endif
