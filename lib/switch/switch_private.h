/* switch_private.h — the switch object shared by the switch module's files (not a public API). */
#ifndef FERRY_SWITCH_PRIVATE_H
#define FERRY_SWITCH_PRIVATE_H

#include <rte_ring.h>
#include "ferry_switch.h"
#include "ferry_pmd.h"

struct ferry_switch {
	struct ferry_dp dp;
	struct ferry_port_host host;          /* what its ports call back (switch.c) */
	struct ferry_conf conf;               /* global settings; ports live in struct ferry_port */
	struct ferry_pmd *pmds[FERRY_MAX_PMDS];
	uint16_t rxq_pmd[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];   /* which PMD polls (port, q) */
	uint16_t gen[FERRY_MAX_PORTS];        /* slot generation, validates queued events */
	uint64_t rxq_seen[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];  /* packets at last rebalance */

	struct ferry_port *ctl[FERRY_MAX_PORTS];   /* slots taken: from before open to after close */
	struct ferry_steer *steer;            /* per-VM rules in the uplinks (lib/steer) */

	struct rte_ring *events;
	int event_fd;
	ferry_event_cb cb;
	void *cb_ctx;

	uint64_t start_tsc;
	uint32_t last_age_s, last_link_s;
	bool started;
};

/* switch.c */
void sw_emit(struct ferry_switch *sw, const char *event, json_t *params /* stolen */);
struct ferry_port *sw_port_by_name(struct ferry_switch *sw, const char *name);
void sw_assign_rxqs(struct ferry_switch *sw, struct ferry_port *p, uint16_t from, uint16_t to);
void sw_rebuild_polls(struct ferry_switch *sw, uint32_t pmd_mask);
uint32_t sw_pmds_of(const struct ferry_switch *sw, const struct ferry_port *p);   /* polling p */
struct ferry_fdb_pins;
/* Is key a settable field of ferry_port_fields[] (one port.set changes in place)? */
bool sw_is_settable(const char *key);
int sw_pins_prepare(struct ferry_switch *sw, struct ferry_port *p, const struct ferry_vlan_conf *ov,
		    const struct ferry_port_policy *opol, const struct ferry_vlan_conf *nv,
		    const struct ferry_port_policy *npol, struct ferry_fdb_pins *t, char *err,
		    size_t errlen);

/* switch_events.c */
void sw_post(struct ferry_switch *sw, enum ferry_port_event ev, uint16_t idx, uint16_t q, int flags);
void sw_handle_events(struct ferry_switch *sw);

/* switch_zc.c */
void sw_zc_drain(unsigned wait_ms);

/* switch_filter.c: a new port's "filters", attached before it is visible. 0 or FERRY_E*. */
int sw_filters_open(struct ferry_port *p, char *err, size_t errlen);

/* switch_set.c: pol becomes p's policy; the old one is freed after a grace period. */
void sw_publish_policy(struct ferry_switch *sw, struct ferry_port *p, struct ferry_port_policy *pol);

/* switch_mirror.c: conf's mirrors at start-up; port p about to be deleted (it leaves the mirrors
 * it is a source of; a mirror whose output or last source it is goes with it); config.get's
 * "mirrors" (none: no key). */
int sw_mirrors_open(struct ferry_switch *sw, const struct ferry_conf *conf, char *err,
		    size_t errlen);
void sw_mirrors_port_gone(struct ferry_switch *sw, struct ferry_port *p);
void sw_mirrors_conf_json(json_t *cfg);

/* switch_vm.c: rx queues that belong to one VM (issue #18).
 * sw_rxq_owner: r->owner and r->strict of p's queue q as build_poll publishes them: p's "vm"
 * (strict; FERRY_RXQ_VM_ABSENT while no vhostuser port of that name is in the switch), else
 * p->rxq_vm[q] when it is a vhostuser port in the switch (lenient), else shared.
 * sw_vm_pmds: the PMDs polling a queue vm owns (by "vm" or rxq_vm): their poll lists change
 * when vm comes or goes. sw_vm_port_gone: vm leaves, rxq_vm entries naming its slot are cleared.
 * sw_vm_state: port.get's "vm_state" of a dpdk port with "vm": "attached" or "absent".
 * sw_vm_check: pc's "vm" names a vhostuser port (port.set: must_exist; port.add: a VM not there
 * yet is allowed, it is "absent" until added, as after its port.del); 0 or FERRY_EINVAL. */
void sw_rxq_owner(struct ferry_switch *sw, const struct ferry_port *p, uint16_t q,
		  struct ferry_rxq_ref *r);
uint32_t sw_vm_pmds(struct ferry_switch *sw, const struct ferry_port *vm);
void sw_vm_port_gone(struct ferry_switch *sw, const struct ferry_port *vm);
const char *sw_vm_state(struct ferry_switch *sw, const struct ferry_port *p);
int sw_vm_check(struct ferry_switch *sw, const struct ferry_port_conf *pc, bool must_exist,
		char *err, size_t errlen);
/* Steering's call (lib/steer through the switch): rx queue q of dpdk port uplink carries the
 * frames the NIC steers to the vhostuser port in slot vm_slot (FERRY_PORT_NONE: shared again);
 * the PMD polling q gets a new poll list (RCU) before it returns, naming the queue's owner
 * (ferry_pipeline_run_owned, lenient: the normal pipeline today; receive zero-copy will need the
 * owner). A strict "vm" port ignores it. Set it once the rule steers (or before);
 * clearing it needs no order. The VM's port.del clears it. 0 or FERRY_EINVAL (not a dpdk port,
 * q >= FERRY_MAX_QUEUES, vm_slot not a vhostuser port). Control thread. */
int ferry_switch_rxq_own(struct ferry_switch *sw, struct ferry_port *uplink, uint16_t q,
			 uint16_t vm_slot);

/* switch_steer.c: lib/steer's rules follow the ports (sync after every port add/del/set and
 * mirror change; port_gone before a port closes); port.get's "steering" of a vhostuser port and
 * "vm_queue_owners" of a dpdk port with vm_queues. */
int sw_steer_create(struct ferry_switch *sw);
void sw_steer_sync(struct ferry_switch *sw);
void sw_steer_port_gone(struct ferry_switch *sw, const struct ferry_port *p);
json_t *sw_steer_json(struct ferry_switch *sw, const struct ferry_port *p);
json_t *sw_steer_owners_json(struct ferry_switch *sw, const struct ferry_port *u);

/* switch_json.c */
json_t *sw_port_stats_json(struct ferry_switch *sw, struct ferry_port *p);

#endif
