/* switch_vm.c — rx queues that belong to one VM (issue #18): which vhostuser port owns each rx
 * queue in the PMDs' poll lists (struct ferry_rxq_ref.owner), and keeping that true as ports
 * come and go. Two sources: a dpdk port declared "vm" (every queue strict: its frames are that
 * VM's or dropped) and ferry_port.rxq_vm (a queue the NIC steers a VM's frames to, lenient: set
 * by steering through ferry_switch_rxq_own). A VM that is not there: a strict queue drops
 * everything (vm_absent), a lenient one is shared again. */
#include <stdio.h>
#include <string.h>
#include "switch_private.h"

void
sw_rxq_owner(struct ferry_switch *sw, const struct ferry_port *p, uint16_t q,
	     struct ferry_rxq_ref *r)
{
	const struct ferry_port *vm;

	r->owner = FERRY_PORT_NONE;
	r->strict = 0;
	if (p->conf.type == FERRY_PORT_DPDK && p->conf.vm[0] != '\0') {
		vm = sw_port_by_name(sw, p->conf.vm);
		r->owner = vm != NULL && vm->conf.type == FERRY_PORT_VHOST ? vm->idx :
			   FERRY_RXQ_VM_ABSENT;
		r->strict = 1;
		return;
	}
	uint16_t s = p->rxq_vm[q];
	if (s < FERRY_MAX_PORTS && (vm = sw->dp.ports[s]) != NULL && vm->conf.type == FERRY_PORT_VHOST)
		r->owner = s;
}

uint32_t
sw_vm_pmds(struct ferry_switch *sw, const struct ferry_port *vm)
{
	uint32_t m = 0;

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->ctl[i];
		if (p == NULL || p == vm)
			continue;
		bool all = p->conf.type == FERRY_PORT_DPDK && strcmp(p->conf.vm, vm->conf.name) == 0;
		for (uint16_t q = 0; q < p->n_rxq; q++)
			if ((all || p->rxq_vm[q] == vm->idx) && sw->rxq_pmd[i][q] < FERRY_MAX_PMDS)
				m |= 1u << sw->rxq_pmd[i][q];
	}
	return m;
}

void
sw_vm_port_gone(struct ferry_switch *sw, const struct ferry_port *vm)
{
	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		struct ferry_port *p = sw->ctl[i];
		for (uint16_t q = 0; p != NULL && p != vm && q < FERRY_MAX_QUEUES; q++)
			if (p->rxq_vm[q] == vm->idx)
				p->rxq_vm[q] = FERRY_PORT_NONE;
	}
}

int
ferry_switch_rxq_own(struct ferry_switch *sw, struct ferry_port *uplink, uint16_t q,
		     uint16_t vm_slot)
{
	if (uplink == NULL || uplink->conf.type != FERRY_PORT_DPDK || q >= FERRY_MAX_QUEUES)
		return FERRY_EINVAL;
	if (vm_slot != FERRY_PORT_NONE &&
	    (vm_slot >= FERRY_MAX_PORTS || sw->ctl[vm_slot] == NULL ||
	     sw->ctl[vm_slot]->conf.type != FERRY_PORT_VHOST))
		return FERRY_EINVAL;
	if (uplink->rxq_vm[q] == vm_slot)
		return 0;
	uplink->rxq_vm[q] = vm_slot;
	if (q < uplink->n_rxq && sw->rxq_pmd[uplink->idx][q] < FERRY_MAX_PMDS)
		sw_rebuild_polls(sw, 1u << sw->rxq_pmd[uplink->idx][q]);
	return 0;
}

int
sw_vm_check(struct ferry_switch *sw, const struct ferry_port_conf *pc, bool must_exist, char *err,
	    size_t errlen)
{
	const struct ferry_port *vm;

	if (pc->type != FERRY_PORT_DPDK || pc->vm[0] == '\0')
		return 0;
	vm = sw_port_by_name(sw, pc->vm);
	if (vm == NULL && must_exist) {
		snprintf(err, errlen, "params.vm: no vhostuser port named '%s'", pc->vm);
		return FERRY_EINVAL;
	}
	if (vm != NULL && vm->conf.type != FERRY_PORT_VHOST) {
		snprintf(err, errlen, "params.vm: '%s' is a %s port, not a vhostuser port", pc->vm,
			 ferry_port_type_names[vm->conf.type]);
		return FERRY_EINVAL;
	}
	return 0;
}

const char *
sw_vm_state(struct ferry_switch *sw, const struct ferry_port *p)
{
	const struct ferry_port *vm = sw_port_by_name(sw, p->conf.vm);

	return vm != NULL && vm->conf.type == FERRY_PORT_VHOST ? "attached" : "absent";
}
