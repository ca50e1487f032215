/* ferry_steer.h — per-VM classification in the NIC (issue #18, section 1): for each vhostuser
 * port with a MAC and an access VLAN, which receive queue of which uplink (dpdk port) is that VM's
 * own, and how it was obtained ("rte_flow": an ETH dst [+ VLAN] -> QUEUE rule on one of the
 * uplink's vm_queues) or why it is not ("software", with the reason). The rules live in a
 * struct ferry_steer (steer_flow.c) that follows the configuration: ferry_steer_sync after every
 * change keeps the rules whose key is unchanged and redoes only the others. Control thread only;
 * what port.get shows as "steering". */
#ifndef FERRY_STEER_H
#define FERRY_STEER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <rte_flow.h>
#include "ferry_config.h"

enum ferry_steer_method { FERRY_STEER_SOFTWARE, FERRY_STEER_RTE_FLOW, FERRY_STEER_VMDQ,
			  FERRY_STEER_VF, FERRY_STEER_NMETHODS };
/* "software", "rte_flow", "vmdq", "vf" */
extern const char *const ferry_steer_method_names[FERRY_STEER_NMETHODS];

#define FERRY_STEER_NO_QUEUE 0xffff
#define FERRY_STEER_REASON_MAX 256

/* What a VM's frames look like on the wire of an uplink: its destination MAC and its VLAN. */
struct ferry_steer_key {
	struct rte_ether_addr mac;
	uint16_t vlan;              /* the switch VLAN: the VM's access tag */
	bool tagged;                /* on this uplink: carried tagged (vid vlan), else untagged */
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
	uint16_t slot;              /* the switch's port slot */
	uint16_t eth_port;          /* ethdev */
	const char *driver;         /* its PMD (dev_info driver_name), e.g. "net_null" */
	uint16_t rss_queues;        /* rx queues 0..rss_queues-1: shared, RSS spreads over them */
	uint16_t vm_queues;         /* rx queues rss_queues.. reserved for VMs */
	const char *rss_note;       /* "": RSS never reaches the reserved queues; else why it may */
	uint16_t vmdq_pools;        /* dev_info max_vmdq_pools (ferry_steer_vmdq_note says why unused) */
	const struct ferry_vlan_conf *vlan;   /* its VLAN mode (NULL: trunk of every VLAN) */
};

/* A VM port as steering sees it. */
struct ferry_steer_vm {
	const struct ferry_port_conf *conf;
	uint16_t slot;
};

/* The key of a VM port's frames, or -1 with reason set: no MAC, or a trunk port (its MAC is met
 * in several VLANs, one rule and one compare per frame cannot tell them). */
int ferry_steer_vm_key(const struct ferry_port_conf *vm, struct ferry_steer_key *k,
		       char *reason, size_t len);
/* How k's frames cross uplink u: k->tagged set (trunk member: tagged; its access or native VLAN:
 * untagged); -1 with reason when u does not carry the VLAN. */
int ferry_steer_on_uplink(struct ferry_steer_key *k, const struct ferry_steer_uplink *u,
			  char *reason, size_t len);
/* What vm's steering on u needs before any device call: 1 with *k filled (a rule to try), or 0
 * with st set to software and its reason (no mac, trunk, VLAN not carried, no vm_queues). */
int ferry_steer_decide(const struct ferry_port_conf *vm, const struct ferry_steer_uplink *u,
		       struct ferry_steer_key *k, struct ferry_steer_state *st);

/* Why VMDq does not steer for u either, once rte_flow did not: appended to reason ("; ..."), or
 * nothing for a device without pools (net_tap, net_null, net_pcap: the software reason stands).
 * A MAC-to-pool filter (rte_eth_dev_mac_addr_add with a pool) needs vm_queues + 1 pools (one per
 * VM queue, the default pool for the shared traffic; lab/vmdq shows the igb's pools do select
 * by MAC). Returns 1 when the pools would do but ferry does not program them yet (the reason
 * says "vmdq not tried"), else 0. */
int ferry_steer_vmdq_note(const struct ferry_steer_uplink *u, char *reason, size_t len);

/* The rule for k -> rx queue q: ETH dst (full mask) [/ VLAN vid (mask 0x0fff) when k->tagged]
 * -> QUEUE q, ingress. Its items and actions point into the struct itself. */
struct ferry_steer_rule_spec {
	struct rte_flow_attr attr;
	struct rte_flow_item items[3];
	struct rte_flow_item_eth eth, eth_mask;
	struct rte_flow_item_vlan vlan, vlan_mask;
	struct rte_flow_action actions[2];
	struct rte_flow_action_queue queue;
};
void ferry_steer_rule_build(struct ferry_steer_rule_spec *r, const struct ferry_steer_key *k,
			    uint16_t q);
/* The lowest reserved queue of [first, first + n) not in used (bit q: queue q taken), or -1. */
int ferry_steer_queue_pick(uint32_t used, uint16_t first, uint16_t n);

/* --- the rules (steer_flow.c) --- */

/* Uplink u's rule for k -> queue q: rte_flow_validate, then (unless u->rss_note says RSS may
 * reach the reserved queues) rte_flow_create. The rule, or NULL with reason: "uplink X: net_null
 * has no rte_flow" (ENOSYS), "uplink X: rte_flow_validate refused: <the PMD's message>", "...:
 * rule valid, not created: <rss_note>", "...: rte_flow_create refused: <message>". */
struct rte_flow *ferry_steer_flow_try(const struct ferry_steer_uplink *u,
				      const struct ferry_steer_key *k, uint16_t q, char *reason,
				      size_t len);

/* Told when rx queue q of uplink up_slot becomes vm_slot's own (FERRY_PORT_NONE: no longer). */
typedef void ferry_steer_own_fn(void *ctx, uint16_t up_slot, uint16_t q, uint16_t vm_slot);

/* Told when vm_slot's state on up_slot changes (a rule made or gone, another reason). */
typedef void ferry_steer_changed_fn(void *ctx, uint16_t vm_slot, uint16_t up_slot,
				    const struct ferry_steer_state *st);

struct ferry_steer;
/* changed may be NULL. */
struct ferry_steer *ferry_steer_create(ferry_steer_own_fn *own, ferry_steer_changed_fn *changed,
				       void *ctx);
/* Every rule is gone (ferry_steer_port_gone of every uplink) before this. */
void ferry_steer_free(struct ferry_steer *s);
/* Follow the configuration: vms[0, n_vm) over ups[0, n_up). A rule whose VM, uplink and key are
 * unchanged stays as it is; one that changed or went is destroyed (rte_flow_destroy) and its
 * queue freed first, then every pair without a rule tries one: a free reserved queue,
 * rte_flow_validate, rte_flow_create. Changes are logged and told (changed). */
void ferry_steer_sync(struct ferry_steer *s, const struct ferry_steer_vm *vms, unsigned n_vm,
		      const struct ferry_steer_uplink *ups, unsigned n_up);
/* Port slot is about to close (a VM or an uplink): its rules go now. */
void ferry_steer_port_gone(struct ferry_steer *s, uint16_t slot);
/* vm's state on u as last synced (st: software "not yet synced" if never). */
void ferry_steer_get(const struct ferry_steer *s, const struct ferry_steer_vm *vm,
		     const struct ferry_steer_uplink *u, struct ferry_steer_state *st);
/* The VM owning reserved queue q of uplink up_slot, or FERRY_PORT_NONE. */
uint16_t ferry_steer_queue_owner(const struct ferry_steer *s, uint16_t up_slot, uint16_t q);

/* port.get's "steering" of vm over uplinks up[0, n): {"method", "queue", "reason"} of the best
 * uplink (reasons of all of them joined when none steers), and "uplinks": {name: {...}} per
 * uplink. s NULL: decisions without rules. New reference. */
json_t *ferry_steer_json(const struct ferry_steer *s, const struct ferry_steer_vm *vm,
			 const struct ferry_steer_uplink *up, unsigned n);

#endif
