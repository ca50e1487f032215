/* ferry_steer.h — per-VM classification in the NIC (issue #18, section 1): for each vhostuser
 * port with a MAC, which receive queue of which uplink (dpdk port) is that VM's own, and how it was
 * obtained ("rte_flow", "vmdq", "vf") or why it is not ("software", with the reason). Control
 * thread only; what port.get shows as "steering". */
#ifndef FERRY_STEER_H
#define FERRY_STEER_H

#include <stdint.h>
#include <jansson.h>
#include "ferry_config.h"

enum ferry_steer_method { FERRY_STEER_SOFTWARE, FERRY_STEER_RTE_FLOW, FERRY_STEER_VMDQ,
			  FERRY_STEER_VF, FERRY_STEER_NMETHODS };
/* "software", "rte_flow", "vmdq", "vf" */
extern const char *const ferry_steer_method_names[FERRY_STEER_NMETHODS];

#define FERRY_STEER_NO_QUEUE 0xffff
#define FERRY_STEER_REASON_MAX 160

/* What a VM's frames look like on the wire of an uplink: its destination MAC and its VLAN. */
struct ferry_steer_key {
	struct rte_ether_addr mac;
	uint16_t vlan;              /* 0: untagged on the uplink (an access port's tag otherwise) */
};

/* One VM's steering on one uplink. */
struct ferry_steer_state {
	uint8_t method;             /* enum ferry_steer_method */
	uint16_t queue;             /* the uplink's rx queue, FERRY_STEER_NO_QUEUE: none */
	char reason[FERRY_STEER_REASON_MAX];   /* why software ("" otherwise) */
};

/* An uplink as steering sees it. */
struct ferry_steer_uplink {
	const char *name;
	uint16_t vm_queues;         /* rx queues reserved for VMs (none today: see README) */
};

/* The key of a VM port's frames, or -1 with reason set: no MAC, or a trunk port (its MAC is met
 * in several VLANs, one rule and one compare per frame cannot tell them). */
int ferry_steer_vm_key(const struct ferry_port_conf *vm, struct ferry_steer_key *k,
		       char *reason, size_t len);
/* vm's steering on uplink u. */
void ferry_steer_decide(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *u,
			struct ferry_steer_state *st);
/* port.get's "steering" of vm over uplinks up[0, n): {"method", "queue", "reason"} of the best
 * uplink (reasons of all of them joined when none steers), and "uplinks": {name: {...}} per
 * uplink. New reference. */
json_t *ferry_steer_json(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *up,
			 unsigned n);

#endif
