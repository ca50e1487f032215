/* vpeer_frame.c — ferry-vpeer's frame format: building the numbered UDP test frames and the
 * gratuitous ARP announce, and classifying received frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include "vpeer.h"

#define VPEER_SRC_PORT_BASE 1024

uint16_t vpeer_flow_port(uint16_t flow)
{
	return (uint16_t)(VPEER_SRC_PORT_BASE + flow);
}

#define FNV_INIT 2166136261u
#define VPEER_MAX_FRAME 16384

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* The payload checksum: FNV-1a over the payload with the csum field read as zero. */
static uint32_t payload_csum(const uint8_t *pl, size_t len)
{
	static const uint8_t zero[4];
	size_t at = offsetof(struct vpeer_hdr, csum);
	uint32_t h = fnv1a(FNV_INIT, pl, at);

	h = fnv1a(h, zero, sizeof(zero));
	return fnv1a(h, pl + at + 4, len - at - 4);
}

/* 10.200.<id hi>.<id lo>: a stable IPv4 address per MAC (its last two bytes). */
static rte_be32_t mac_ip(const struct rte_ether_addr *mac)
{
	return rte_cpu_to_be_32((10u << 24) | (200u << 16) |
				((uint32_t)mac->addr_bytes[4] << 8) | mac->addr_bytes[5]);
}

/* Flow hash over the 5-tuple of flow: picks the TX queue. */
uint32_t vpeer_flow_hash(const struct vpeer_tx_desc *d, uint16_t flow)
{
	uint32_t h = mac_ip(&d->src) ^ (mac_ip(&d->dst) * 0x9e3779b1u);

	h ^= ((uint32_t)vpeer_flow_port(flow) << 16) | VPEER_UDP_PORT;
	h ^= 17;                        /* protocol */
	h ^= h >> 16;                   /* murmur3 finaliser */
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Ethernet header (+ 802.1Q tag when d->vlan >= 0); returns the pointer after it. */
static uint8_t *put_l2(uint8_t *p, const struct vpeer_tx_desc *d, const struct rte_ether_addr *dst,
		       uint16_t ethertype)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;

	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(&d->src, &eth->src_addr);
	p += RTE_ETHER_HDR_LEN;
	if (d->vlan < 0) {
		eth->ether_type = rte_cpu_to_be_16(ethertype);
		return p;
	}
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)p;
	vh->vlan_tci = rte_cpu_to_be_16((uint16_t)d->vlan);
	vh->eth_proto = rte_cpu_to_be_16(ethertype);
	return p + sizeof(*vh);
}

static uint32_t l2_len(const struct vpeer_tx_desc *d)
{
	return RTE_ETHER_HDR_LEN + (d->vlan >= 0 ? sizeof(struct rte_vlan_hdr) : 0);
}

int vpeer_build_udp(struct rte_mbuf *m, const struct vpeer_tx_desc *d, struct vpeer_frame_id id)
{
	uint32_t l2 = l2_len(d);
	uint32_t size = RTE_MAX(d->size, l2 + 28 + (uint32_t)sizeof(struct vpeer_hdr));
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);

	if (p == NULL)
		return -1;
	p = put_l2(p, d, &d->dst, RTE_ETHER_TYPE_IPV4);

	uint16_t ip_len = (uint16_t)(size - l2);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)id.seq);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = mac_ip(&d->src);
	ip->dst_addr = mac_ip(&d->dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t udp_len = (uint16_t)(ip_len - sizeof(*ip));
	udp->src_port = rte_cpu_to_be_16(vpeer_flow_port(id.flow));
	udp->dst_port = rte_cpu_to_be_16(VPEER_UDP_PORT);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;

	uint8_t *pl = (uint8_t *)(udp + 1);
	uint32_t pl_len = udp_len - sizeof(*udp);
	struct vpeer_hdr h = { .magic = VPEER_MAGIC, .sender = d->sender, .flow = id.flow,
			       .seq = id.seq, .csum = 0 };
	memcpy(pl, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i < pl_len; i++)
		pl[i] = (uint8_t)(id.seq * 7 + i);
	h.csum = payload_csum(pl, pl_len);
	memcpy(pl + offsetof(struct vpeer_hdr, csum), &h.csum, sizeof(h.csum));
	return 0;
}

int vpeer_parse_sizes(const char *s, struct vpeer_size *out, uint32_t max)
{
	uint32_t n = 0;

	while (*s != '\0') {
		char *end;
		unsigned long len, segs = 1;
		errno = 0;
		len = strtoul(s, &end, 10);
		if (errno || end == s || len < VPEER_MIN_SIZE || len > VPEER_MAX_SIZE || n == max)
			return -1;
		s = end;
		if (*s == '/') {
			segs = strtoul(s + 1, &end, 10);
			if (errno || end == s + 1 || segs < 1 || segs > VPEER_MAX_SEGS || segs > len)
				return -1;
			s = end;
		}
		out[n++] = (struct vpeer_size){ .len = (uint32_t)len, .segs = (uint16_t)segs };
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return n == 0 ? -1 : (int)n;
}

/* The guest's driver sees a chain of mbufs: a multi-descriptor (or indirect) virtio buffer. */
int vpeer_split(struct rte_mbuf *m, struct rte_mempool *mp, uint16_t segs)
{
	uint32_t len = m->pkt_len, piece = (len + segs - 1) / segs;
	struct rte_mbuf *last = m;

	if (segs <= 1 || m->nb_segs != 1)
		return segs <= 1 ? 0 : -1;
	for (uint32_t off = piece; off < len; off += piece) {
		uint32_t n = RTE_MIN(piece, len - off);
		struct rte_mbuf *s = rte_pktmbuf_alloc(mp);
		uint8_t *p = s != NULL ? (uint8_t *)rte_pktmbuf_append(s, (uint16_t)n) : NULL;
		if (p == NULL) {
			rte_pktmbuf_free(s);
			return -1;   /* m, with what is chained so far, is the caller's to free */
		}
		memcpy(p, rte_pktmbuf_mtod_offset(m, uint8_t *, off), n);
		last->next = s;
		last = s;
		m->nb_segs++;
	}
	m->data_len = (uint16_t)piece;
	return 0;
}

/* Broadcast gratuitous ARP request for our address, padded to 60 bytes. */
int vpeer_build_arp(struct rte_mbuf *m, const struct vpeer_tx_desc *d)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	uint32_t len = RTE_MAX(l2_len(d) + (uint32_t)sizeof(struct rte_arp_hdr), 60u);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

	if (p == NULL)
		return -1;
	memset(p, 0, len);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)put_l2(p, d, &bcast, RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&d->src, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = mac_ip(&d->src);
	arp->arp_data.arp_tip = mac_ip(&d->src);
	return 0;
}

/* Skips the outer VLAN tags; returns the offset of the L3 header and its ethertype in *et. */
static uint32_t skip_l2(const uint8_t *p, uint32_t len, uint16_t *et, struct vpeer_rx_info *info)
{
	uint32_t off = RTE_ETHER_HDR_LEN;

	*et = rte_be_to_cpu_16(((const struct rte_ether_hdr *)p)->ether_type);
	while ((*et == RTE_ETHER_TYPE_VLAN || *et == RTE_ETHER_TYPE_QINQ) && off + 4 <= len) {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(p + off);
		if (!info->tagged)
			info->vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		info->tagged = true;
		*et = rte_be_to_cpu_16(vh->eth_proto);
		off += 4;
	}
	return off;
}

/* Validates IPv4/UDP/vpeer payload at p[off..len). */
static void parse_udp(const uint8_t *p, uint32_t off, uint32_t len, struct vpeer_rx_info *info)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + off);

	info->kind = VPEER_RX_OTHER;
	if (off + sizeof(*ip) + 8 + sizeof(struct vpeer_hdr) > len || ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    ip->next_proto_id != IPPROTO_UDP)
		return;
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	const uint8_t *pl = (const uint8_t *)(udp + 1);
	if (rte_be_to_cpu_16(udp->dst_port) != VPEER_UDP_PORT)
		return;
	memcpy(&info->hdr, pl, sizeof(info->hdr));
	if (info->hdr.magic != VPEER_MAGIC)
		return;

	info->kind = VPEER_RX_BAD;
	uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
	uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (off + ip_len > len || udp_len + sizeof(*ip) != ip_len || udp_len < 8 + sizeof(struct vpeer_hdr))
		return;
	if (rte_raw_cksum(ip, sizeof(*ip)) != 0xffff)   /* the sum including the checksum field */
		return;
	if (rte_be_to_cpu_16(udp->src_port) != vpeer_flow_port(info->hdr.flow))
		return;

	if (payload_csum(pl, udp_len - 8) == info->hdr.csum)
		info->kind = VPEER_RX_TEST;
}

void vpeer_parse(const struct rte_mbuf *m, struct vpeer_rx_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kind = VPEER_RX_OTHER;
	static uint8_t linear[VPEER_MAX_FRAME];   /* for chained mbufs; one thread only */
	uint32_t len = m->pkt_len;

	if (len < RTE_ETHER_HDR_LEN || len > sizeof(linear))
		return;

	const uint8_t *p = rte_pktmbuf_read(m, 0, len, linear);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)p;
	uint16_t et;

	rte_ether_addr_copy(&eth->dst_addr, &info->dst);
	rte_ether_addr_copy(&eth->src_addr, &info->src);
	uint32_t off = skip_l2(p, len, &et, info);
	if (et == RTE_ETHER_TYPE_ARP)
		info->kind = VPEER_RX_ARP;
	else if (et == RTE_ETHER_TYPE_IPV4)
		parse_udp(p, off, len, info);
}
