/* ferry_pkt.h — the parse and edit elements of the pipeline: Ethernet/VLAN header parse, MAC keys,
 * in-place VLAN tag push/pop/rewrite, and the flow hash that spreads a guest's traffic over queues. */
#ifndef FERRY_PKT_H
#define FERRY_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include "ferry_common.h"

#define FERRY_MAC_MASK  UINT64_C(0x0000ffffffffffff)
#define FERRY_MAC_BCAST FERRY_MAC_MASK

/* What the classifier needs of one frame. MACs are the 6 wire bytes in the low 48 bits
 * (little-endian load), so bit 0 is the group (multicast) bit. */
struct ferry_pkt {
	uint64_t dst;
	uint64_t src;
	uint16_t tci;        /* outer tag, host order; valid if tagged */
	uint16_t inner_type; /* the ethertype after the outer tag, big-endian; 0 if untagged */
	uint8_t tagged;      /* the frame data has an outer tag (TPID 0x8100, 0x88a8 or 0x9100) */
	uint8_t dot1q;       /* ... and its TPID is 0x8100 */
	uint8_t pad[2];
};

static inline bool
ferry_mac_is_group(uint64_t mac)
{
	return mac & 1;
}

static inline uint64_t
ferry_fdb_key(uint64_t mac, uint16_t vlan)
{
	return mac | ((uint64_t)vlan << 48);
}

/* The tag TPIDs (doc/semantics.md, "Tags"): 802.1Q C-tag, 802.1ad S-tag, and 0x9100, the
 * pre-standard QinQ S-tag many switches still read as a VLAN tag. A frame whose outer ethertype is
 * one of them is tagged; one that has another right after its outer tag carries an inner tag. */
#define FERRY_TPID_QINQ_OLD 0x9100

static inline bool
ferry_ethertype_is_vlan(uint16_t be_type)
{
	/* 0x8100 and 0x9100 differ in bit 12 only */
	RTE_BUILD_BUG_ON((RTE_ETHER_TYPE_VLAN | 0x1000) != FERRY_TPID_QINQ_OLD);
	return (be_type & RTE_BE16(0xefff)) == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	       be_type == RTE_BE16(RTE_ETHER_TYPE_QINQ);
}

/* Parse the first segment's Ethernet header: MACs, the outer tag and the ethertype after it (in the
 * 18 bytes a tagged header needs anyway; ferry_pkt_inner_tag looks at it only where it matters).
 * Returns 0, or FERRY_DROP_RUNT + 1 (a drop reason + 1). */
static inline int
ferry_pkt_parse(struct rte_mbuf *m, struct ferry_pkt *p)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t w;
	uint16_t type;

	if (unlikely(m->data_len < RTE_ETHER_HDR_LEN))
		return FERRY_DROP_RUNT + 1;
	memcpy(&w, d, 8);
	p->dst = w & FERRY_MAC_MASK;
	memcpy(&w, d + 6, 8);
	p->src = w & FERRY_MAC_MASK;
	memcpy(&type, d + 12, 2);
	if (ferry_ethertype_is_vlan(type)) {
		if (unlikely(m->data_len < RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN))
			return FERRY_DROP_RUNT + 1;
		uint16_t tci, next;
		memcpy(&tci, d + 14, 2);
		memcpy(&next, d + 16, 2);
		p->tci = rte_be_to_cpu_16(tci);
		p->inner_type = next;
		p->tagged = 1;
		p->dot1q = type == RTE_BE16(RTE_ETHER_TYPE_VLAN);
	} else {
		p->tci = 0;
		p->inner_type = 0;
		p->tagged = 0;
		p->dot1q = 0;
	}
	return 0;
}

/* The frame's outer tag is already the 802.1Q tag of vlan: leaving tagged in vlan, it goes as it
 * is (ferry_pkt_vlan_edit would change nothing; trunk to trunk, the usual case, skips it). */
static inline bool
ferry_pkt_tag_is(const struct ferry_pkt *p, uint16_t vlan)
{
	return p->dot1q && (p->tci & 0xfff) == vlan;
}

/* The frame has an inner tag: a tag TPID right after its outer tag (never for untagged frames). */
static inline bool
ferry_pkt_inner_tag(const struct ferry_pkt *p)
{
	return ferry_ethertype_is_vlan(p->inner_type);
}

/* Push an 802.1Q tag with `tci` in front of the ethertype. Returns 0, or -1 without headroom. */
static inline int
ferry_pkt_vlan_push(struct rte_mbuf *m, uint16_t tci)
{
	uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, RTE_VLAN_HLEN);

	if (unlikely(d == NULL))
		return -1;
	memmove(d, d + RTE_VLAN_HLEN, 2 * RTE_ETHER_ADDR_LEN);
	uint16_t hdr[2] = { RTE_BE16(RTE_ETHER_TYPE_VLAN), rte_cpu_to_be_16(tci) };
	memcpy(d + 12, hdr, 4);
	return 0;
}

#define FERRY_PKT_EDIT_NO_HEADROOM (-1)
#define FERRY_PKT_EDIT_HOP         (-2)

/* Make the frame leave with an 802.1Q tag (TPID 0x8100, VID = vlan, the PCP/DEI of a tag it came
 * with) or untagged. The mbuf must not be shared; a tagged_in frame has been parsed (18 bytes).
 * Returns 0, FERRY_PKT_EDIT_NO_HEADROOM (no room to push a tag) or FERRY_PKT_EDIT_HOP, unchanged:
 * the frame has an inner tag and is to leave untagged — popping the outer tag would put the inner
 * one on the wire, a VLAN the frame was never classified in (doc/semantics.md, step 6). */
static inline int
ferry_pkt_vlan_edit(struct rte_mbuf *m, bool tagged_in, bool tag_out, uint16_t vlan)
{
	uint8_t *d;

	if (tagged_in && tag_out) {
		d = rte_pktmbuf_mtod(m, uint8_t *);
		uint16_t hdr[2], want[2];
		memcpy(hdr, d + 12, 4);
		want[0] = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		want[1] = rte_cpu_to_be_16((rte_be_to_cpu_16(hdr[1]) & 0xf000) | vlan);
		if (hdr[0] != want[0] || hdr[1] != want[1])   /* trunk to trunk: usually unchanged */
			memcpy(d + 12, want, 4);
	} else if (tagged_in) {
		d = rte_pktmbuf_mtod(m, uint8_t *);
		uint16_t next;
		memcpy(&next, d + RTE_ETHER_HDR_LEN + 2, 2);
		if (unlikely(ferry_ethertype_is_vlan(next)))
			return FERRY_PKT_EDIT_HOP;
		memmove(d + RTE_VLAN_HLEN, d, 2 * RTE_ETHER_ADDR_LEN);
		rte_pktmbuf_adj(m, RTE_VLAN_HLEN);
	} else if (tag_out) {
		return ferry_pkt_vlan_push(m, vlan);
	}
	return 0;
}

/* Flow hash for queue selection: the NIC's RSS hash when it gave one, else a software hash of the
 * IPv4/IPv6 5-tuple (or of the MACs for non-IP). Stored in m->hash.rss so it is computed once. */
uint32_t ferry_pkt_flow_hash_sw(const struct rte_mbuf *m);

static inline uint32_t
ferry_pkt_flow_hash(struct rte_mbuf *m)
{
	if (!(m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)) {
		m->hash.rss = ferry_pkt_flow_hash_sw(m);
		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	}
	return m->hash.rss;
}

/* Put a tag a NIC stripped (RTE_MBUF_F_RX_VLAN_STRIPPED) back into the frame data. */
int ferry_pkt_unstrip(struct rte_mbuf *m);

#endif
