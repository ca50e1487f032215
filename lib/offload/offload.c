/* offload.c — virtio-net headers and rte_vhost's flags as TX offload flags, checked; the
 * software fallback at egress (checksums, TCP segmentation). See ferry_offload.h. */
#define ALLOW_EXPERIMENTAL_API   /* rte_ipv4/6_udptcp_cksum_mbuf are experimental in DPDK 22.11 */
#include <string.h>
#include <jansson.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf_dyn.h>
#include <rte_net.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include "ferry_offload.h"

uint64_t ferry_ol_bad_flag;

int
ferry_ol_init(void)
{
	static const struct rte_mbuf_dynflag desc = { .name = "ferry_ol_bad" };
	int bit;

	if (ferry_ol_bad_flag != 0)
		return 0;
	bit = rte_mbuf_dynflag_register(&desc);
	if (bit < 0)
		return -1;
	ferry_ol_bad_flag = 1ULL << bit;
	return 0;
}

unsigned
ferry_ol_guest_caps(uint64_t f)
{
	unsigned c = FERRY_OL_IPCSUM;   /* rte_vhost's enqueue computes an IPv4 header checksum */

	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		c |= FERRY_OL_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			c |= FERRY_OL_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			c |= FERRY_OL_TSO6;
	}
	return c;
}

/* The headers of a frame, from its bytes (never from guest-given lengths). */
struct hdrs {
	uint16_t l2, l3, l4;      /* lengths; l4 0: not TCP/UDP */
	uint8_t proto;            /* IPPROTO_TCP / UDP / other */
	bool ipv4, ipv6;
};

/* Ethernet (up to 2 tags), IPv4 or IPv6 (no extension headers), TCP or UDP: 0, or -1 when the
 * frame holds no IP header it can read (l3 0). Reads only inside the frame. */
static int
parse(const struct rte_mbuf *m, struct hdrs *h)
{
	uint8_t buf[60];
	const uint8_t *p;
	uint16_t type, off = 12;

	memset(h, 0, sizeof(*h));
	for (int tags = 0;; tags++) {
		p = rte_pktmbuf_read(m, off, 2, buf);
		if (p == NULL)
			return -1;
		type = (uint16_t)(p[0] << 8 | p[1]);
		off += 2;
		if ((type != RTE_ETHER_TYPE_VLAN && type != RTE_ETHER_TYPE_QINQ) || tags == 2)
			break;
		off += 2;
	}
	h->l2 = off;
	if (type == RTE_ETHER_TYPE_IPV4) {
		p = rte_pktmbuf_read(m, off, 20, buf);
		if (p == NULL || (p[0] >> 4) != 4 || (p[0] & 0xf) < 5)
			return -1;
		uint16_t frag = (uint16_t)((p[6] & 0x3f) << 8 | p[7]);
		h->l3 = (uint16_t)((p[0] & 0xf) * 4);
		h->proto = frag != 0 ? 0 : p[9];   /* a fragment has no L4 header of its own */
		h->ipv4 = true;
		if (off + h->l3 > m->pkt_len)
			return -1;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		p = rte_pktmbuf_read(m, off, 40, buf);
		if (p == NULL || (p[0] >> 4) != 6)
			return -1;
		h->l3 = 40;
		h->proto = p[6];
		h->ipv6 = true;
	} else {
		return -1;
	}
	off = (uint16_t)(off + h->l3);
	if (h->proto == IPPROTO_TCP) {
		p = rte_pktmbuf_read(m, off, 20, buf);
		if (p == NULL || (p[12] >> 4) < 5 || off + (p[12] >> 4) * 4u > m->pkt_len)
			h->proto = 0;
		else
			h->l4 = (uint16_t)((p[12] >> 4) * 4);
	} else if (h->proto == IPPROTO_UDP) {
		if (off + 8u > m->pkt_len)
			h->proto = 0;
		else
			h->l4 = 8;
	} else {
		h->proto = 0;
	}
	return 0;
}

/* Write 2 bytes at off of the frame, wherever its segments put them (off + 2 <= pkt_len). */
static void
put16(struct rte_mbuf *m, uint32_t off, uint16_t be)
{
	const uint8_t *b = (const uint8_t *)&be;

	for (int i = 0; i < 2; i++, off++) {
		struct rte_mbuf *s = m;
		uint32_t o = off;
		while (s != NULL && o >= s->data_len) {
			o -= s->data_len;
			s = s->next;
		}
		if (s != NULL)
			*rte_pktmbuf_mtod_offset(s, uint8_t *, o) = b[i];
	}
}

/* The checksum from start to the end of the frame stored at start + off (its field holds the
 * pseudo-header sum: virtio's NEEDS_CSUM, Linux's CHECKSUM_PARTIAL). */
static int
sw_csum_generic(struct rte_mbuf *m, uint32_t start, uint32_t off)
{
	uint16_t raw;

	if (rte_raw_cksum_mbuf(m, start, m->pkt_len - start, &raw) != 0)
		return -1;
	put16(m, start + off, (uint16_t)~raw);
	return 0;
}

/* The full TCP/UDP checksum of the frame in its field, over the L4 length its IP header gives
 * (checked against the frame: never beyond it). */
static int
sw_csum_l4(struct rte_mbuf *m, const struct hdrs *h)
{
	uint8_t ipb[40];
	const uint8_t *ip = rte_pktmbuf_read(m, h->l2, h->ipv4 ? 20 : 40, ipb);
	uint32_t l4off = (uint32_t)h->l2 + h->l3, field = l4off + (h->proto == IPPROTO_TCP ? 16 : 6);
	uint32_t l4len;
	uint16_t ck;

	if (ip == NULL)
		return -1;
	if (h->ipv4) {
		uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
		l4len = tot > h->l3 ? tot - h->l3 : 0;
	} else {
		l4len = (uint32_t)ip[4] << 8 | ip[5];
	}
	if (l4len < h->l4 || l4off + l4len > m->pkt_len || field + 2 > l4off + l4len)
		return -1;
	put16(m, field, 0);
	if (h->ipv4) {
		struct rte_ipv4_hdr ih;   /* the pseudo-header: addresses, protocol, L4 length */
		memcpy(&ih, ip, sizeof(ih));
		ih.version_ihl = 0x45;
		ih.total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
		ck = rte_ipv4_udptcp_cksum_mbuf(m, &ih, (uint16_t)l4off);
	} else {
		struct rte_ipv6_hdr ih;
		memcpy(&ih, ip, sizeof(ih));
		ck = rte_ipv6_udptcp_cksum_mbuf(m, &ih, (uint16_t)l4off);
	}
	put16(m, field, ck);
	return 0;
}

static void
set_lens(struct rte_mbuf *m, const struct hdrs *h)
{
	m->l2_len = h->l2;
	m->l3_len = h->l3;
	m->l4_len = h->l4;
	m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6);
	m->ol_flags |= h->ipv4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
}

/* A TCP segment (gso: 1 TCPv4, 4 TCPv6) of m, checked: FERRY_DROP_MAX or why not. */
static enum ferry_drop
check_gso(struct rte_mbuf *m, const struct hdrs *h, bool parsed, unsigned gso, uint16_t size,
	  uint64_t f)
{
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 ? !(f & (1ULL << VIRTIO_NET_F_HOST_TSO4)) :
	    gso == VIRTIO_NET_HDR_GSO_TCPV6 ? !(f & (1ULL << VIRTIO_NET_F_HOST_TSO6)) : true)
		return FERRY_DROP_GSO_TYPE;   /* not negotiated (UDP/UFO never is), or unknown */
	if (!(f & (1ULL << VIRTIO_NET_F_CSUM)))
		return FERRY_DROP_GSO_TYPE;   /* HOST_TSO without CSUM: the spec forbids it */
	if (!parsed || h->proto != IPPROTO_TCP || (gso == VIRTIO_NET_HDR_GSO_TCPV4) != h->ipv4)
		return FERRY_DROP_GSO_TYPE;   /* not the TCP/IP the type names */
	if (size == 0)
		return FERRY_DROP_GSO_SIZE;
	if (m->pkt_len - h->l2 > FERRY_OL_MAX_IP)
		return FERRY_DROP_GSO_TOO_LONG;
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	m->tso_segsz = size;
	return FERRY_DROP_MAX;
}

enum ferry_drop
ferry_ol_from_vnet(struct rte_mbuf *m, const struct virtio_net_hdr *vh, uint64_t f)
{
	struct virtio_net_hdr h = *vh;   /* the caller's copy: read once */
	unsigned gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, parsed;
	struct hdrs hd;
	enum ferry_drop why;

	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE && !csum)
		return FERRY_DROP_MAX;   /* a complete frame (DATA_VALID from a driver means nothing) */
	parsed = parse(m, &hd) == 0;
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return FERRY_DROP_GSO_TYPE;   /* HOST_ECN is never offered */
		if (h.hdr_len > m->pkt_len)
			return FERRY_DROP_GSO_HDR_LEN;
		uint64_t keep = m->ol_flags;
		if ((why = check_gso(m, &hd, parsed, gso, h.gso_size, f)) != FERRY_DROP_MAX)
			return why;
		m->ol_flags = keep;   /* set below, once the checksum is checked too */
	}
	if (csum) {
		uint32_t start = h.csum_start, off = h.csum_offset;
		if (!(f & (1ULL << VIRTIO_NET_F_CSUM)) || off > 0xffff - 2 ||
		    start + off + 2 > m->pkt_len)
			return FERRY_DROP_CSUM_RANGE;
		bool std = parsed && hd.proto != 0 && start == (uint32_t)hd.l2 + hd.l3 &&
			   off == (hd.proto == IPPROTO_TCP ? 16u : 6u);
		if (!std) {
			if (gso != VIRTIO_NET_HDR_GSO_NONE)
				return FERRY_DROP_CSUM_RANGE;   /* a segment's checksum is its TCP's */
			if (sw_csum_generic(m, start, off) != 0)
				return FERRY_DROP_CSUM_RANGE;
			return FERRY_DROP_MAX;   /* complete now */
		}
	} else if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		/* a segment without NEEDS_CSUM: its TCP checksum is computed per segment anyway */
	}
	set_lens(m, &hd);
	if (gso != VIRTIO_NET_HDR_GSO_NONE)
		return check_gso(m, &hd, parsed, gso, h.gso_size, f);
	m->ol_flags |= hd.proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
	return FERRY_DROP_MAX;
}

enum ferry_drop
ferry_ol_from_vhost(struct rte_mbuf *m, uint64_t f)
{
	uint64_t ol = m->ol_flags;
	bool lro = ol & RTE_MBUF_F_RX_LRO;
	bool partial = (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
	struct hdrs hd;
	bool parsed;

	if (!lro && !partial)
		return FERRY_DROP_MAX;
	m->ol_flags &= ~(RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK);
	parsed = parse(m, &hd) == 0;
	if (lro) {
		unsigned gso = parsed && hd.ipv4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
			       parsed && hd.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_UDP;
		if (parsed && hd.proto != IPPROTO_TCP)
			gso = VIRTIO_NET_HDR_GSO_UDP;   /* rte_vhost: a UDP (UFO) segment */
		if (!parsed)
			return FERRY_DROP_GSO_TYPE;
		set_lens(m, &hd);
		return check_gso(m, &hd, parsed, gso, m->tso_segsz, f);
	}
	/* rte_vhost computed any checksum not at a TCP/UDP header itself */
	if (!parsed || hd.proto == 0 || !(f & (1ULL << VIRTIO_NET_F_CSUM)))
		return FERRY_DROP_CSUM_RANGE;
	set_lens(m, &hd);
	m->ol_flags |= hd.proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM;
	return FERRY_DROP_MAX;
}

/* Bytes [off, off + len) of m appended to s (a chain from mp, grown as needed). 0 or -1. */
static int
append(struct rte_mbuf *s, struct rte_mempool *mp, const struct rte_mbuf *m, uint32_t off,
       uint32_t len)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(s);

	while (len != 0) {
		uint16_t room = rte_pktmbuf_tailroom(last);
		if (room == 0) {
			struct rte_mbuf *n = rte_pktmbuf_alloc(mp);
			if (n == NULL)
				return -1;
			last->next = n;
			last = n;
			s->nb_segs++;
			room = rte_pktmbuf_tailroom(last);
		}
		uint32_t k = RTE_MIN((uint32_t)room, len);
		uint8_t *dst = rte_pktmbuf_mtod_offset(last, uint8_t *, last->data_len);
		const uint8_t *src = rte_pktmbuf_read(m, off, k, dst);
		if (src == NULL)
			return -1;
		if (src != dst)
			memcpy(dst, src, k);
		last->data_len = (uint16_t)(last->data_len + k);
		s->pkt_len += k;
		off += k;
		len -= k;
	}
	return 0;
}

/* Segments of the TCP segment m (headers hd, payload mss bytes each), from state on, into out[]. */
static unsigned
segment(struct rte_mbuf *m, const struct hdrs *hd, uint32_t mss, struct rte_mempool *mp,
	struct rte_mbuf **out, unsigned max_out, struct ferry_ol_seg_state *st, enum ferry_drop *why)
{
	uint32_t hl = (uint32_t)hd->l2 + hd->l3 + hd->l4, payload = m->pkt_len - hl;
	uint8_t tcpb[20];
	unsigned n = 0;

	if (!st->started) {
		const uint8_t *t = rte_pktmbuf_read(m, (uint32_t)hd->l2 + hd->l3, 20, tcpb);
		uint8_t ipb[20];
		const uint8_t *ip = hd->ipv4 ? rte_pktmbuf_read(m, hd->l2, 20, ipb) : NULL;
		if (t == NULL || (hd->ipv4 && ip == NULL)) {
			*why = FERRY_DROP_GSO_HDR_LEN;
			return 0;
		}
		st->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
		st->ip_id = ip != NULL ? (uint16_t)(ip[4] << 8 | ip[5]) : 0;
		st->started = true;
	}
	while (st->off < payload && n < max_out) {
		uint32_t len = RTE_MIN(mss, payload - st->off);
		bool last = st->off + len == payload, first = st->off == 0;
		struct rte_mbuf *s = rte_pktmbuf_alloc(mp);
		if (s == NULL || hl > rte_pktmbuf_tailroom(s) || append(s, mp, m, 0, hl) != 0 ||
		    append(s, mp, m, hl + st->off, len) != 0) {
			rte_pktmbuf_free(s);
			*why = FERRY_DROP_NO_MBUF;
			break;
		}
		/* the headers are in s's first segment (hl < its room) */
		uint8_t *l3 = rte_pktmbuf_mtod_offset(s, uint8_t *, hd->l2);
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(l3 + hd->l3);
		if (hd->ipv4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
			ip->total_length = rte_cpu_to_be_16((uint16_t)(hd->l3 + hd->l4 + len));
			ip->packet_id = rte_cpu_to_be_16((uint16_t)(st->ip_id + st->off / mss));
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;
			ip->payload_len = rte_cpu_to_be_16((uint16_t)(hd->l4 + len));
		}
		tcp->sent_seq = rte_cpu_to_be_32(st->seq + st->off);
		if (!last)
			tcp->tcp_flags &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
		if (!first)
			tcp->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
		tcp->cksum = 0;
		tcp->cksum = hd->ipv4 ?
			rte_ipv4_udptcp_cksum_mbuf(s, (struct rte_ipv4_hdr *)l3, (uint16_t)(hd->l2 + hd->l3)) :
			rte_ipv6_udptcp_cksum_mbuf(s, (struct rte_ipv6_hdr *)l3, (uint16_t)(hd->l2 + hd->l3));
		s->port = m->port;
		out[n++] = s;
		st->off += len;
	}
	return n;
}

unsigned
ferry_ol_egress(struct rte_mbuf *m, unsigned caps, uint32_t max_len, struct rte_mempool *mp,
		struct rte_mbuf **out, unsigned max_out, struct ferry_ol_seg_state *st, bool *more,
		enum ferry_drop *why)
{
	struct hdrs hd;
	uint64_t ol = m->ol_flags;

	*more = false;
	if (parse(m, &hd) != 0 || ((ol & RTE_MBUF_F_TX_L4_MASK) && hd.proto == 0)) {
		*why = FERRY_DROP_GSO_HDR_LEN;   /* cannot happen to a frame checked at ingress */
		rte_pktmbuf_free(m);
		return 0;
	}
	set_lens(m, &hd);   /* l2_len follows the VLAN edits made since ingress */
	if (ol & RTE_MBUF_F_TX_TCP_SEG) {
		uint32_t hl = (uint32_t)hd.l2 + hd.l3 + hd.l4, mss = m->tso_segsz;
		uint64_t limit = (uint64_t)max_len + 4u * ((hd.l2 - RTE_ETHER_HDR_LEN) / 4u);
		if (hd.proto != IPPROTO_TCP || mss == 0 || limit <= hl) {
			*why = hd.proto != IPPROTO_TCP ? FERRY_DROP_GSO_TYPE :
			       mss == 0 ? FERRY_DROP_GSO_SIZE : FERRY_DROP_MTU;
			rte_pktmbuf_free(m);
			return 0;
		}
		if (hl + mss > limit)
			mss = (uint32_t)(limit - hl);   /* this port's MTU is smaller than the segments */
		if (m->pkt_len > hl + mss) {
			unsigned tso = hd.ipv4 ? FERRY_OL_TSO4 : FERRY_OL_TSO6;
			if ((caps & tso) && mss == m->tso_segsz &&
			    (!(caps & FERRY_OL_NIC) || hl <= m->data_len)) {
				if (caps & FERRY_OL_NIC) {   /* DPDK's TSO contract */
					if (hd.ipv4)
						m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
					rte_net_intel_cksum_prepare(m);
				}
				out[0] = m;
				return 1;
			}
			unsigned n = segment(m, &hd, mss, mp, out, max_out, st, why);
			*more = n != 0 && st->off < m->pkt_len - hl;
			if (!*more)
				rte_pktmbuf_free(m);
			return n;
		}
		/* one frame's worth: only its checksum is left */
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		ol = m->ol_flags;
	}
	if ((ol & RTE_MBUF_F_TX_L4_MASK) && !(caps & FERRY_OL_CSUM)) {
		if (sw_csum_l4(m, &hd) != 0) {
			*why = FERRY_DROP_CSUM_RANGE;
			rte_pktmbuf_free(m);
			return 0;
		}
		m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	} else if ((ol & RTE_MBUF_F_TX_L4_MASK) && (caps & FERRY_OL_NIC)) {
		if (hd.l2 + hd.l3 + hd.l4 > m->data_len && sw_csum_l4(m, &hd) == 0)
			m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;   /* headers beyond its first segment */
		else
			rte_net_intel_cksum_prepare(m);
	}
	if ((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) && !(caps & FERRY_OL_IPCSUM)) {
		if (hd.ipv4 && hd.l2 + 20u <= m->data_len) {
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, hd.l2);
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	out[0] = m;
	return 1;
}

void
ferry_ol_features_json(uint64_t f, json_t *arr)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ VIRTIO_NET_F_CSUM, "CSUM" }, { VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM" },
		{ VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4" }, { VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6" },
		{ VIRTIO_NET_F_GUEST_ECN, "GUEST_ECN" }, { VIRTIO_NET_F_GUEST_UFO, "GUEST_UFO" },
		{ VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4" }, { VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6" },
		{ VIRTIO_NET_F_HOST_ECN, "HOST_ECN" }, { VIRTIO_NET_F_HOST_UFO, "HOST_UFO" },
		{ VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF" }, { VIRTIO_NET_F_MTU, "MTU" },
	};

	for (unsigned i = 0; i < RTE_DIM(names); i++)
		if (f & (1ULL << names[i].bit))
			json_array_append_new(arr, json_string(names[i].name));
}

/* The header toward a guest (ferry's own enqueue, lib/zc zc_enq.c): DPDK 22.11's
 * virtio_enqueue_offload for the TX flags — TSO: gso_type by IP version, gso_size, hdr_len
 * (l2 + l3 + l4); a partial TCP/UDP/SCTP checksum (TSO implies TCP's): NEEDS_CSUM at l2 + l3 and
 * the checksum field's offset; an IPv4 header checksum to compute is computed here, in the frame
 * (a guest cannot be told to) — plus DATA_VALID for a complete frame whose L4 checksum a NIC
 * verified (RTE_MBUF_F_RX_L4_CKSUM_GOOD), when the guest negotiated GUEST_CSUM (virtio 1.1
 * 5.1.6.4.1: the device may set it only then). Returns true when DATA_VALID was set. */
bool
ferry_ol_to_vnet(struct rte_mbuf *m, uint64_t features, struct virtio_net_hdr *h)
{
	uint64_t ol = m->ol_flags, l4 = ol & RTE_MBUF_F_TX_L4_MASK;

	memset(h, 0, sizeof(*h));
	if (likely(!(ol & (FERRY_OL_TX_FLAGS | RTE_MBUF_F_RX_L4_CKSUM_MASK))))
		return false;
	if (ol & RTE_MBUF_F_TX_TCP_SEG)
		l4 |= RTE_MBUF_F_TX_TCP_CKSUM;
	if (l4 != 0) {
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)(m->l2_len + m->l3_len);
		if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
			h->csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
			h->csum_offset = offsetof(struct rte_udp_hdr, dgram_cksum);
		else if (l4 == RTE_MBUF_F_TX_SCTP_CKSUM)
			h->csum_offset = offsetof(struct rte_sctp_hdr, cksum);
	}
	if ((ol & RTE_MBUF_F_TX_IP_CKSUM) && m->l2_len + sizeof(struct rte_ipv4_hdr) <= m->data_len) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (ol & RTE_MBUF_F_TX_TCP_SEG) {
		h->gso_type = (ol & RTE_MBUF_F_TX_IPV4) ? VIRTIO_NET_HDR_GSO_TCPV4 :
			      VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = m->tso_segsz;
		h->hdr_len = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);
	} else if (ol & RTE_MBUF_F_TX_UDP_SEG) {
		h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
		h->gso_size = m->tso_segsz;
		h->hdr_len = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);
	}
	if (l4 == 0 && (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    (features & (1ULL << VIRTIO_NET_F_GUEST_CSUM))) {
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return true;
	}
	return false;
}
