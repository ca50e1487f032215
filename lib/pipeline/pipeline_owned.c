/* pipeline_owned.c — a burst from an rx queue that belongs to one VM (issue #18): a dpdk port
 * declared "vm" (strict) or a queue the NIC steers the VM's frames to (lenient). The head is the
 * normal path's (counters, admin, policer, rx stages, parse and source checks, ingress stages);
 * then one compare per frame of its destination MAC and VLAN with the VM's replaces the FDB: a
 * frame for the VM is queued to it directly (forward_unicast: its egress VLAN rules, its egress
 * stages and limits at tx), nothing is learned; what is not for the VM is dropped with a reason.
 * A lenient queue's frames all take the normal path: a frame for the VM must still teach the FDB
 * its source (else the VM's replies to a host that only talks to it would be flooded once the
 * entry ages out), and learning needs the lookup of its source; the destination half of the same
 * bulk lookup is all a skip would save. The owner stays on the queue for receive zero-copy. */
#include "pipeline_private.h"

/* Is frame i of b the VM's (vpol)? FERRY_DROP_MAX if so, else why not. b's VLANs are already
 * the VM's (stage_filter with its VLANs); a group destination is the VM's; a VM without a MAC
 * takes any unicast. */
static inline enum ferry_drop
owner_match(const struct ferry_port_policy *vpol, const struct burst *b, uint16_t i)
{
	uint64_t dst = b->pk[i].dst;

	if (ferry_mac_is_group(dst) || vpol->n_macs == 0)
		return FERRY_DROP_MAX;
	for (uint16_t k = 0; k < vpol->n_macs; k++)
		if (vpol->macs[k] == dst)
			return FERRY_DROP_MAX;
	return FERRY_DROP_VM_DST;
}

/* b's frames after the filter: the VM's to vm, the others dropped. */
static void
owned_split(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, struct ferry_port *vm,
	    const struct ferry_port_policy *vpol)
{
	struct egress eg = EGRESS_INIT;

	for (uint16_t i = 0; i < b->n; i++) {
		enum ferry_drop why = owner_match(vpol, b, i);
		if (why == FERRY_DROP_MAX) {
			b->dport[i] = vm->idx;
			forward_unicast(fw, b, in, i, &eg);
		} else {
			drop(fw, b, in, b->m[i], why);
		}
	}
	b->n = 0;
}

static void
owned_burst(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, uint16_t owner,
	    struct rte_mbuf **pkts, uint16_t n, struct ferry_port_pmd_stats *st)
{
	struct ferry_port_policy *pol = __atomic_load_n(&in->policy, __ATOMIC_ACQUIRE);
	struct ferry_qstats *qs = &in->rxq_stats[q];
	const struct ferry_port_policy *vpol = NULL;
	struct ferry_port *vm = NULL;
	struct burst b;

	if ((n = burst_head(fw, in, pol, qs, pkts, n, st)) == 0)
		return;
	if (owner < FERRY_MAX_PORTS)
		vm = __atomic_load_n(&fw->dp->ports[owner], __ATOMIC_ACQUIRE);
	if (vm == NULL) {   /* the VM is gone (or never was): nowhere to go */
		ferry_port_count_drop(in, fw->pmd, FERRY_DROP_VM_ABSENT, n);
		qs->drops += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	b.n = 0;
	b.n_drop = 0;
	vpol = __atomic_load_n(&vm->policy, __ATOMIC_ACQUIRE);
	stage_filter(fw, &b, in, pol, &vpol->vlan, pkts, n);
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_INGRESS], __ATOMIC_RELAXED) != NULL))
		stage_attached(fw, &b, in);
	if (b.n != 0)
		owned_split(fw, &b, in, vm, vpol);
	burst_free_drops(&b, qs);
}

/* The burst's counters on in are one write section, as on the normal path. */
void
ferry_pipeline_run_owned(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, uint16_t owner,
			 uint8_t strict, struct rte_mbuf **pkts, uint16_t n)
{
	struct ferry_port_pmd_stats *st = &in->stats[fw->pmd];

	if (!strict) {   /* lenient: the normal path (see the top of the file) */
		ferry_pipeline_run(fw, in, q, pkts, n);
		return;
	}
	rte_seqcount_write_begin(&st->seq);
	owned_burst(fw, in, q, owner, pkts, n, st);
	rte_seqcount_write_end(&st->seq);
}
