/* steer.c — what a VM port's steering on an uplink needs before any device is asked (its key,
 * how its VLAN crosses the uplink, a reserved queue), the rte_flow rule it asks for, and the JSON
 * port.get shows (ferry_steer.h). The rules themselves: steer_flow.c. */
#include <stdio.h>
#include <string.h>
#include "ferry_steer.h"

const char *const ferry_steer_method_names[FERRY_STEER_NMETHODS] = {
	[FERRY_STEER_SOFTWARE] = "software",
	[FERRY_STEER_RTE_FLOW] = "rte_flow",
	[FERRY_STEER_VMDQ] = "vmdq",
	[FERRY_STEER_VF] = "vf",
};

int
ferry_steer_vm_key(const struct ferry_port_conf *vm, struct ferry_steer_key *k,
		   char *reason, size_t len)
{
	if (vm->n_macs == 0) {
		snprintf(reason, len, "%s has no mac", vm->name);
		return -1;
	}
	if (vm->vlan.mode != FERRY_VLAN_ACCESS) {
		snprintf(reason, len, "%s is a trunk port (its mac is met in several VLANs; "
			 "steering needs an access VLAN)", vm->name);
		return -1;
	}
	k->mac = vm->macs[0];
	k->vlan = vm->vlan.tag;
	k->tagged = false;
	return 0;
}

static bool
trunk_allows(const struct ferry_vlan_conf *v, uint16_t vlan)
{
	if (v->all)
		return vlan >= 1 && vlan <= 4094;
	for (uint16_t i = 0; i < v->n_allowed; i++)
		if (v->allowed[i] == vlan)
			return true;
	return false;
}

/* lib/vlan's modes: an access port carries its tag untagged; a trunk its native VLAN untagged
 * and its allowed ones (every VLAN 1..4094 without a list) tagged. */
int
ferry_steer_on_uplink(struct ferry_steer_key *k, const struct ferry_steer_uplink *u,
		      char *reason, size_t len)
{
	const struct ferry_vlan_conf *v = u->vlan;

	if (v == NULL) {   /* the default: a trunk of every VLAN, untagged in VLAN 0 */
		k->tagged = k->vlan != 0;
		return 0;
	}
	if (v->mode == FERRY_VLAN_ACCESS ? v->tag == k->vlan : v->native == k->vlan) {
		k->tagged = false;
		return 0;
	}
	if (v->mode == FERRY_VLAN_TRUNK && trunk_allows(v, k->vlan)) {
		k->tagged = true;
		return 0;
	}
	snprintf(reason, len, "uplink %s does not carry VLAN %u", u->name, k->vlan);
	return -1;
}

int
ferry_steer_decide(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *u,
		   struct ferry_steer_key *k, struct ferry_steer_state *st)
{
	st->method = FERRY_STEER_SOFTWARE;
	st->queue = FERRY_STEER_NO_QUEUE;
	st->reason[0] = '\0';
	if (ferry_steer_vm_key(vm, k, st->reason, sizeof(st->reason)) < 0 ||
	    ferry_steer_on_uplink(k, u, st->reason, sizeof(st->reason)) < 0)
		return 0;
	if (u->vm_queues == 0) {
		snprintf(st->reason, sizeof(st->reason), "uplink %s has no vm_queues", u->name);
		return 0;
	}
	return 1;
}

int
ferry_steer_vmdq_note(const struct ferry_steer_uplink *u, char *reason, size_t len)
{
	size_t l = strnlen(reason, len);
	unsigned need = (unsigned)u->vm_queues + 1;

	if (u->vmdq_pools == 0 || l + 1 >= len)
		return 0;
	reason += l;
	len -= l;
	if (u->vmdq_pools < need) {
		snprintf(reason, len, "; vmdq not usable: %u pools, %u needed (vm_queues %u + the "
			 "default pool)", u->vmdq_pools, need, u->vm_queues);
		return 0;
	}
	snprintf(reason, len, "; vmdq not tried (%u pools): ferry does not reconfigure an uplink "
		 "into VMDq pools yet", u->vmdq_pools);
	return 1;
}

void
ferry_steer_rule_build(struct ferry_steer_rule_spec *r, const struct ferry_steer_key *k, uint16_t q)
{
	memset(r, 0, sizeof(*r));
	r->attr.ingress = 1;
	r->eth.hdr.dst_addr = k->mac;
	memset(&r->eth_mask.hdr.dst_addr, 0xff, sizeof(r->eth_mask.hdr.dst_addr));
	r->items[0] = (struct rte_flow_item){ .type = RTE_FLOW_ITEM_TYPE_ETH, .spec = &r->eth,
					      .mask = &r->eth_mask };
	r->items[1].type = RTE_FLOW_ITEM_TYPE_END;
	if (k->tagged) {
		r->vlan.hdr.vlan_tci = rte_cpu_to_be_16(k->vlan);
		r->vlan_mask.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
		r->items[1] = (struct rte_flow_item){ .type = RTE_FLOW_ITEM_TYPE_VLAN,
						      .spec = &r->vlan, .mask = &r->vlan_mask };
		r->items[2].type = RTE_FLOW_ITEM_TYPE_END;
	}
	r->queue.index = q;
	r->actions[0] = (struct rte_flow_action){ .type = RTE_FLOW_ACTION_TYPE_QUEUE,
						  .conf = &r->queue };
	r->actions[1].type = RTE_FLOW_ACTION_TYPE_END;
}

int
ferry_steer_queue_pick(uint32_t used, uint16_t first, uint16_t n)
{
	for (uint16_t q = first; q < first + n && q < 32; q++)
		if (!(used & (UINT32_C(1) << q)))
			return q;
	return -1;
}

static json_t *
state_json(const struct ferry_steer_state *st, const char *reason)
{
	return json_pack("{s:s, s:o, s:s}", "method", ferry_steer_method_names[st->method],
			 "queue", st->queue == FERRY_STEER_NO_QUEUE ? json_null() :
				  json_integer(st->queue),
			 "reason", reason);
}

json_t *
ferry_steer_json(const struct ferry_steer *s, const struct ferry_steer_vm *vm,
		 const struct ferry_steer_uplink *up, unsigned n)
{
	struct ferry_steer_state st, best = { FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" };
	char reasons[4 * FERRY_STEER_REASON_MAX] = "";
	struct ferry_steer_key k;
	size_t used = 0;
	json_t *ups = json_object(), *o;

	if (ferry_steer_vm_key(vm->conf, &k, reasons, sizeof(reasons)) == 0 && n == 0)
		snprintf(reasons, sizeof(reasons), "no dpdk uplink");
	for (unsigned i = 0; i < n; i++) {
		if (ferry_steer_decide(vm->conf, &up[i], &k, &st) == 1 && s != NULL)
			ferry_steer_get(s, vm, &up[i], &st);
		json_object_set_new(ups, up[i].name, state_json(&st, st.reason));
		if (st.method != FERRY_STEER_SOFTWARE && best.method == FERRY_STEER_SOFTWARE)
			best = st;
		else if (st.method == FERRY_STEER_SOFTWARE && used < sizeof(reasons) &&
			 strstr(reasons, st.reason) == NULL)
			used += (size_t)snprintf(reasons + used, sizeof(reasons) - used, "%s%s",
						 used ? "; " : "", st.reason);
	}
	o = state_json(&best, best.method == FERRY_STEER_SOFTWARE ? reasons : "");
	json_object_set_new(o, "uplinks", ups);
	return o;
}
