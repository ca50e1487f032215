/* switch_steer.c — lib/steer in the switch: the VM ports (vhostuser) and uplinks (dpdk ports that
 * are neither a mirror's output nor a VM's own function, "vm") it steers between, synced after every change of ports, their MACs
 * and VLANs, and mirrors; an uplink's or VM's rules go before the port closes; port.get's
 * "steering" of a VM and "vm_queue_owners" of an uplink. */
#include <stdio.h>
#include "switch_private.h"
#include "ferry_steer.h"

/* The datapath learns which VM a reserved queue belongs to (switch_vm.c: the PMD polling it
 * sends that VM's frames straight to it), or that it is shared again (vm_slot FERRY_PORT_NONE). */
static void
steer_own(void *ctx, uint16_t up_slot, uint16_t q, uint16_t vm_slot)
{
	struct ferry_switch *sw = ctx;

	if (sw->ctl[up_slot] == NULL ||
	    ferry_switch_rxq_own(sw, sw->ctl[up_slot], q, vm_slot) != 0)
		FERRY_LOG(ERR, "steer: port slot %u queue %u not given to slot %u", up_slot, q,
			  vm_slot);
}

/* Event port.steering: {"name": vm, "uplink", "method", "queue", "reason"}. */
static void
steer_changed(void *ctx, uint16_t vm_slot, uint16_t up_slot, const struct ferry_steer_state *st)
{
	struct ferry_switch *sw = ctx;

	if (sw->ctl[vm_slot] == NULL || sw->ctl[up_slot] == NULL)
		return;
	sw_emit(sw, "port.steering", json_pack("{s:s, s:s, s:s, s:o, s:s}",
		"name", sw->ctl[vm_slot]->conf.name, "uplink", sw->ctl[up_slot]->conf.name,
		"method", ferry_steer_method_names[st->method],
		"queue", st->queue == FERRY_STEER_NO_QUEUE ? json_null() : json_integer(st->queue),
		"reason", st->reason));
}

int
sw_steer_create(struct ferry_switch *sw)
{
	sw->steer = ferry_steer_create(steer_own, steer_changed, sw);
	return sw->steer == NULL ? -1 : 0;
}

static unsigned
uplinks(struct ferry_switch *sw, struct ferry_steer_uplink *up)
{
	unsigned n = 0;

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *u = sw->dp.ports[i];
		struct rte_eth_dev_info di = { 0 };
		if (u == NULL || u->conf.type != FERRY_PORT_DPDK || u->mirror_output[0] != '\0' ||
		    u->conf.vm[0] != '\0')   /* a VM's own function is nobody's uplink */
			continue;
		if (rte_eth_dev_info_get(u->eth_port, &di) != 0)
			di.driver_name = "the device";
		up[n++] = (struct ferry_steer_uplink){
			.name = u->conf.name, .slot = i, .eth_port = u->eth_port,
			.driver = di.driver_name, .rss_queues = u->n_rss,
			.vm_queues = (uint16_t)(u->n_rxq - u->n_rss), .rss_note = u->rss_note,
			.vmdq_pools = di.max_vmdq_pools, .vlan = &u->conf.vlan,
		};
	}
	return n;
}

void
sw_steer_sync(struct ferry_switch *sw)
{
	static struct ferry_steer_uplink up[FERRY_MAX_PORTS];
	static struct ferry_steer_vm vm[FERRY_MAX_PORTS];
	unsigned n_up = uplinks(sw, up), n_vm = 0;

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->dp.ports[i];
		if (p != NULL && p->conf.type == FERRY_PORT_VHOST)
			vm[n_vm++] = (struct ferry_steer_vm){ .conf = &p->conf, .slot = i };
	}
	ferry_steer_sync(sw->steer, vm, n_vm, up, n_up);
}

void
sw_steer_port_gone(struct ferry_switch *sw, const struct ferry_port *p)
{
	ferry_steer_port_gone(sw->steer, p->idx);
}

json_t *
sw_steer_json(struct ferry_switch *sw, const struct ferry_port *p)
{
	static struct ferry_steer_uplink up[FERRY_MAX_PORTS];
	struct ferry_steer_vm vm = { .conf = &p->conf, .slot = p->idx };

	return ferry_steer_json(sw->steer, &vm, up, uplinks(sw, up));
}

/* {"<q>": "<vm>" | null} over an uplink's reserved rx queues. */
json_t *
sw_steer_owners_json(struct ferry_switch *sw, const struct ferry_port *u)
{
	json_t *o = json_object();

	for (uint16_t q = u->n_rss; q < u->n_rxq; q++) {
		uint16_t vm = ferry_steer_queue_owner(sw->steer, u->idx, q);
		char k[8];
		snprintf(k, sizeof(k), "%u", q);
		json_object_set_new(o, k, vm < FERRY_MAX_PORTS && sw->ctl[vm] != NULL ?
				    json_string(sw->ctl[vm]->conf.name) : json_null());
	}
	return o;
}
