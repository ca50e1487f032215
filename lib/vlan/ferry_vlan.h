/* ferry_vlan.h — a port's VLAN mode: which VLAN an incoming frame belongs to, how it leaves.
 *
 * VLAN 0 is the untagged domain of ports that carry untagged frames without a VLAN of their own
 * (the default trunk). access N: untagged (or priority-tagged, VID 0) frames belong to VLAN N,
 * tagged frames are dropped, frames leave untagged. trunk: tagged frames belong to their VID if it is
 * allowed, untagged frames to the native VLAN if one is set (else dropped); frames of the native VLAN
 * leave untagged, all others tagged. Only the outer tag classifies: an inner tag is payload, but
 * one must never become the outer tag (doc/semantics.md, "Tags"): a priority tag followed by a tag
 * is dropped at ingress (FERRY_VLAN_HOP), and a frame with an inner tag never leaves untagged
 * (ferry_pkt_vlan_edit refuses to pop a tag onto another; the flood skips those ports). */
#ifndef FERRY_VLAN_H
#define FERRY_VLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>

#define FERRY_VLAN_NONE 0xffff   /* ingress: drop `vlan` */
#define FERRY_VLAN_HOP  0xfffe   /* ingress: drop `vlan_hop` (a priority tag in front of a tag) */

enum ferry_vlan_mode { FERRY_VLAN_TRUNK, FERRY_VLAN_ACCESS };

struct ferry_vlan_conf {
	enum ferry_vlan_mode mode;
	uint16_t tag;               /* access */
	uint16_t native;            /* trunk: FERRY_VLAN_NONE = untagged frames dropped */
	bool all;                   /* trunk: every VLAN 1..4094 (no "allowed" list given) */
	uint16_t n_allowed;
	uint16_t allowed[4094];
};

/* The datapath form: a membership bitmap, one cache-aligned block per port. */
struct ferry_vlan_policy {
	uint64_t member[4096 / 64];   /* VLANs the port carries (including native / VLAN 0) */
	uint16_t untagged_vlan;       /* VLAN untagged ingress maps to, FERRY_VLAN_NONE = drop */
	uint8_t access;               /* access port: tagged ingress (VID != 0) is dropped */
} __rte_cache_aligned;

void ferry_vlan_policy_build(const struct ferry_vlan_conf *c, struct ferry_vlan_policy *p);

static inline bool
ferry_vlan_member(const struct ferry_vlan_policy *p, uint16_t vlan)
{
	return (p->member[vlan >> 6] >> (vlan & 63)) & 1;
}

/* Ingress: the VLAN a frame belongs to, FERRY_VLAN_NONE or FERRY_VLAN_HOP (drop; both are above
 * every VID). tagged/vid from the outer tag; inner_tag: a tag TPID follows the outer tag. A
 * priority-tagged frame (VID 0) with an inner tag is refused on every port: once its priority
 * tag is popped, the inner tag would classify it again, downstream, in a VLAN the sender chose. */
static inline uint16_t
ferry_vlan_ingress(const struct ferry_vlan_policy *p, bool tagged, uint16_t vid, bool inner_tag)
{
	uint16_t v;

	if (!tagged || vid == 0) {
		if (unlikely(inner_tag))
			return FERRY_VLAN_HOP;
		v = p->untagged_vlan;
	} else if (p->access) {
		return FERRY_VLAN_NONE;
	} else {
		v = vid;
	}
	if (v == FERRY_VLAN_NONE || !ferry_vlan_member(p, v))
		return FERRY_VLAN_NONE;
	return v;
}

/* Egress: true if frames of `vlan` leave this port tagged (only meaningful for a member VLAN). */
static inline bool
ferry_vlan_egress_tagged(const struct ferry_vlan_policy *p, uint16_t vlan)
{
	return vlan != p->untagged_vlan;
}

#endif
