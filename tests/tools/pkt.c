/* pkt.c — builds real test frames for ferry-pcapgen (see pkt.h). IP addresses are derived from
 * the MAC addresses (unicast 10.x.y.z / fd00::EUI-64, multicast MACs map to matching group
 * addresses, broadcast to 255.255.255.255 / ff02::1). */
#include <stdio.h>
#include <string.h>

#include "pkt.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP_   6
#define IPPROTO_UDP_   17
#define IPV4_HDR_LEN   20
#define IPV6_HDR_LEN   40
#define TCP_HDR_LEN    20
#define UDP_HDR_LEN    8
#define SEQ_LEN        4

const uint8_t mac_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Internet checksum: one's complement sum of 16-bit words. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool
is_ipv4_mcast_mac(const uint8_t *m)
{
	return m[0] == 0x01 && m[1] == 0x00 && m[2] == 0x5e;
}

static bool
is_ipv6_mcast_mac(const uint8_t *m)
{
	return m[0] == 0x33 && m[1] == 0x33;
}

static void
ipv4_addr(const uint8_t *mac, uint8_t *a)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	if (is_ipv4_mcast_mac(mac)) {
		const uint8_t g[4] = { 239, mac[3] & 0x7f, mac[4], mac[5] };
		memcpy(a, g, 4);
	} else if (mac[0] & 1) {
		memcpy(a, bcast, 4);
	} else {
		const uint8_t u[4] = { 10, mac[3], mac[4], mac[5] };
		memcpy(a, u, 4);
	}
}

static void
ipv6_addr(const uint8_t *mac, uint8_t *a)
{
	memset(a, 0, 16);
	if (is_ipv6_mcast_mac(mac)) {
		a[0] = 0xff;
		a[1] = 0x02;
		memcpy(a + 12, mac + 2, 4);
	} else if (mac[0] & 1) {
		a[0] = 0xff;
		a[1] = 0x02;
		a[15] = 1;
	} else {
		const uint8_t eui[8] = { mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5] };
		a[0] = 0xfd;
		memcpy(a + 8, eui, 8);
	}
}

static uint32_t
put_tag(uint8_t *p, uint16_t tpid, uint16_t tci)
{
	put16(p, tpid);
	put16(p + 2, tci);
	return 4;
}

/* IPv4 or IPv6 header at p for an L4 segment of l4_len bytes; returns the header length and the
 * checksum of the L4 pseudo-header in *pseudo. */
static uint32_t
put_ip(uint8_t *p, const struct frame_spec *fs, uint8_t proto, uint32_t l4_len, uint32_t *pseudo)
{
	if (fs->ipv6) {
		put32(p, 0x60000000);
		put16(p + 4, (uint16_t)l4_len);
		p[6] = proto;
		p[7] = 64;
		ipv6_addr(fs->src, p + 8);
		ipv6_addr(fs->dst, p + 24);
		*pseudo = csum_add(l4_len + proto, p + 8, 32);
		return IPV6_HDR_LEN;
	}
	memset(p, 0, IPV4_HDR_LEN);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(IPV4_HDR_LEN + l4_len));
	put16(p + 4, fs->seq & 0xffff);
	put16(p + 6, 0x4000);             /* DF */
	p[8] = 64;
	p[9] = proto;
	ipv4_addr(fs->src, p + 12);
	ipv4_addr(fs->dst, p + 16);
	put16(p + 10, csum_fold(csum_add(0, p, IPV4_HDR_LEN)));
	*pseudo = csum_add(l4_len + proto, p + 12, 8);
	return IPV4_HDR_LEN;
}

/* UDP or TCP header at p, then the payload; fills in the checksum. */
static void
put_l4(uint8_t *p, const struct frame_spec *fs, bool tcp, uint32_t l4_len, uint32_t pseudo)
{
	uint32_t hdr = tcp ? TCP_HDR_LEN : UDP_HDR_LEN;
	uint16_t sum;

	memset(p, 0, hdr);
	put16(p, (uint16_t)(40000 + (fs->seq & 0x3fff)));
	put16(p + 2, tcp ? 80 : 5001);
	if (tcp) {
		put32(p + 4, fs->seq * 1000u);
		put32(p + 8, 1);
		p[12] = 5 << 4;
		p[13] = 0x18;                 /* PSH, ACK */
		put16(p + 14, 65535);
	} else {
		put16(p + 4, (uint16_t)l4_len);
	}
	put32(p + hdr, fs->seq);
	for (uint32_t i = hdr + SEQ_LEN; i < l4_len; i++)
		p[i] = (uint8_t)(i * 7 + fs->seq);
	sum = csum_fold(csum_add(pseudo, p, l4_len));
	put16(p + (tcp ? 16 : 6), !tcp && sum == 0 ? 0xffff : sum);
}

uint32_t
pkt_build(uint8_t *buf, const struct frame_spec *fs)
{
	bool tcp = fs->tcp && !(fs->dst[0] & 1);
	uint32_t off = 12, len, min, l3_len, l4_len, pseudo;

	memcpy(buf, fs->dst, 6);
	memcpy(buf + 6, fs->src, 6);
	if (fs->tagged)
		off += put_tag(buf + off, fs->tpid ? fs->tpid : TPID_8021Q,
			       (uint16_t)(fs->pcp << 13 | fs->dei << 12 | (fs->vid & 0xfff)));
	if (fs->inner)
		off += put_tag(buf + off, fs->inner_tpid ? fs->inner_tpid : TPID_8021Q,
			       fs->inner_vid & 0xfff);
	put16(buf + off, fs->ipv6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	off += 2;

	l3_len = fs->ipv6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	min = off + l3_len + (tcp ? TCP_HDR_LEN : UDP_HDR_LEN) + SEQ_LEN;
	len = fs->len ? fs->len : PKT_MIN + (off - 14);
	len = len < min ? min : len > PKT_MAX ? PKT_MAX : len;
	l4_len = len - off - l3_len;

	put_ip(buf + off, fs, tcp ? IPPROTO_TCP_ : IPPROTO_UDP_, l4_len, &pseudo);
	put_l4(buf + off + l3_len, fs, tcp, l4_len, pseudo);
	return fs->truncate && fs->trunc_len < len ? fs->trunc_len : len;
}

const char *
pkt_mac_str(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return out;
}
