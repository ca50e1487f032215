/* steer.c — a VM port's steering decision per uplink and its JSON (ferry_steer.h). Today every
 * decision is "software" with its reason: the hardware methods need rx queues reserved on the
 * uplink before it starts (vm_queues), which no uplink has yet. */
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
	return 0;
}

void
ferry_steer_decide(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *u,
		   struct ferry_steer_state *st)
{
	struct ferry_steer_key k;

	st->method = FERRY_STEER_SOFTWARE;
	st->queue = FERRY_STEER_NO_QUEUE;
	st->reason[0] = '\0';
	if (ferry_steer_vm_key(vm, &k, st->reason, sizeof(st->reason)) < 0)
		return;
	if (u->vm_queues == 0)
		snprintf(st->reason, sizeof(st->reason), "uplink %s has no vm_queues", u->name);
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
ferry_steer_json(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *up, unsigned n)
{
	struct ferry_steer_state st, best = { FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" };
	char reasons[4 * FERRY_STEER_REASON_MAX] = "";
	size_t used = 0;
	json_t *ups = json_object(), *o;

	if (ferry_steer_vm_key(vm, &(struct ferry_steer_key){ 0 }, reasons, sizeof(reasons)) == 0
	    && n == 0)
		snprintf(reasons, sizeof(reasons), "no dpdk uplink");
	for (unsigned i = 0; i < n; i++) {
		ferry_steer_decide(vm, &up[i], &st);
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
