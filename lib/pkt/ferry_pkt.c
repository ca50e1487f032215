/* ferry_pkt.c — the slower packet helpers: software flow hash and re-inserting a stripped tag. */
#include <rte_ip.h>
#include <rte_hash_crc.h>
#include "ferry_pkt.h"

struct flow_tuple {
	uint8_t addr[32];
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t pad[3];
};

static size_t
l3_tuple(const uint8_t *l3, uint32_t len, uint16_t type, struct flow_tuple *t, uint32_t *l4off)
{
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4) && len >= sizeof(struct rte_ipv4_hdr)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		memcpy(t->addr, &ip->src_addr, 8);
		t->proto = ip->next_proto_id;
		/* only the first fragment carries ports */
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG))
			t->proto = 0;
		*l4off = rte_ipv4_hdr_len(ip);
		return 8;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6) && len >= sizeof(struct rte_ipv6_hdr)) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;
		memcpy(t->addr, ip->src_addr, 32);
		t->proto = ip->proto;
		*l4off = sizeof(*ip);
		return 32;
	}
	return 0;
}

uint32_t
ferry_pkt_flow_hash_sw(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len, off = RTE_ETHER_HDR_LEN, l4off = 0;
	struct flow_tuple t;
	uint16_t type;

	memset(&t, 0, sizeof(t));
	if (len < RTE_ETHER_HDR_LEN)
		return 0;
	memcpy(&type, d + 12, 2);
	if (ferry_ethertype_is_vlan(type) && len >= off + RTE_VLAN_HLEN) {
		memcpy(&type, d + 16, 2);
		off += RTE_VLAN_HLEN;
	}
	if (l3_tuple(d + off, len - off, type, &t, &l4off) == 0)
		return rte_hash_crc(d, 2 * RTE_ETHER_ADDR_LEN, 0);
	off += l4off;
	if ((t.proto == IPPROTO_TCP || t.proto == IPPROTO_UDP || t.proto == IPPROTO_SCTP) &&
	    len >= off + 4) {
		memcpy(&t.sport, d + off, 2);
		memcpy(&t.dport, d + off + 2, 2);
	}
	return rte_hash_crc(&t, sizeof(t), 0);
}

/* A frame too short for its two MACs is not given its tag back (the push would move 12 bytes it
 * does not have): it is a runt either way, and the parse drops it as one. */
int
ferry_pkt_unstrip(struct rte_mbuf *m)
{
	if (m->data_len >= 2 * RTE_ETHER_ADDR_LEN && ferry_pkt_vlan_push(m, m->vlan_tci) < 0)
		return -1;
	m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
	return 0;
}
