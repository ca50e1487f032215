/* pipeline_owned.c — a burst from an rx queue that belongs to one VM (issue #18): a dpdk port
 * declared "vm" (strict) or a queue the NIC steers the VM's frames to (lenient). The head is the
 * normal path's (counters, admin, policer, rx stages, parse and source checks, ingress stages);
 * then one compare per frame of its destination MAC and VLAN with the VM's replaces the FDB: a
 * frame for the VM is queued to it directly (forward_unicast: its egress VLAN rules, its egress
 * stages and limits at tx), nothing is learned. What is not for the VM is dropped with a reason
 * (strict) or goes on through the normal path (lenient). */
#include "pipeline_private.h"

/* Is frame i of b the VM's (vpol)? FERRY_DROP_MAX if so, else why not. strict: b's VLANs are
 * already the VM's (stage_filter with its VLANs); a group destination is the VM's; a VM without
 * a MAC takes any unicast. lenient: the VLAN the port gave the frame must be one the VM carries,
 * and its destination one of the VM's MACs (broadcast, multicast: the normal path floods them). */
static inline enum ferry_drop
owner_match(const struct ferry_port_policy *vpol, const struct burst *b, uint16_t i, bool strict)
{
	uint64_t dst = b->pk[i].dst;

	if (!strict && !ferry_vlan_member(&vpol->vlan, b->vlan[i]))
		return FERRY_DROP_VM_VLAN;
	if (ferry_mac_is_group(dst))
		return strict ? FERRY_DROP_MAX : FERRY_DROP_VM_DST;
	if (strict && vpol->n_macs == 0)
		return FERRY_DROP_MAX;
	for (uint16_t k = 0; k < vpol->n_macs; k++)
		if (vpol->macs[k] == dst)
			return FERRY_DROP_MAX;
	return FERRY_DROP_VM_DST;
}

/* b's frames after the filter: the VM's to vm, the others dropped (strict) or kept in b, in
 * order, for the normal path (lenient). */
static void
owned_split(struct ferry_fwd *fw, struct burst *b, struct ferry_port *in, struct ferry_port *vm,
	    const struct ferry_port_policy *vpol, bool strict)
{
	uint16_t k = 0, n = b->n;

	for (uint16_t i = 0; i < n; i++) {
		enum ferry_drop why = owner_match(vpol, b, i, strict);
		if (why == FERRY_DROP_MAX) {
			b->dport[i] = vm->idx;
			forward_unicast(fw, b, in, i);
		} else if (strict) {
			drop(fw, b, in, b->m[i], why);
		} else {
			b->m[k] = b->m[i];
			b->pk[k] = b->pk[i];
			b->vlan[k++] = b->vlan[i];
		}
	}
	b->n = k;
}

static void
owned_burst(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, uint16_t owner, bool strict,
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
	if (vm == NULL && strict) {   /* the VM is gone (or never was): nowhere to go */
		ferry_port_count_drop(in, fw->pmd, FERRY_DROP_VM_ABSENT, n);
		qs->drops += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	if (vm != NULL)
		vpol = __atomic_load_n(&vm->policy, __ATOMIC_ACQUIRE);
	b.n = 0;
	b.n_drop = 0;
	if (strict)
		stage_filter(fw, &b, in, pol, &vpol->vlan, pkts, n);
	else
		stage_filter(fw, &b, in, pol, NULL, pkts, n);
	if (unlikely(__atomic_load_n(&in->stages[FERRY_STAGE_INGRESS], __ATOMIC_RELAXED) != NULL))
		stage_attached(fw, &b, in);
	if (b.n != 0 && vm != NULL)
		owned_split(fw, &b, in, vm, vpol, strict);
	if (!strict)
		pl_forward(fw, &b, in, pol);
	burst_free_drops(&b, qs);
}

/* The burst's counters on in are one write section, as on the normal path. */
void
ferry_pipeline_run_owned(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q, uint16_t owner,
			 uint8_t strict, struct rte_mbuf **pkts, uint16_t n)
{
	struct ferry_port_pmd_stats *st = &in->stats[fw->pmd];

	rte_seqcount_write_begin(&st->seq);
	owned_burst(fw, in, q, owner, strict != 0, pkts, n, st);
	rte_seqcount_write_end(&st->seq);
}
