/* parse.h — header walking shared by ferry's eBPF plugins (plugins/README.md): the Ethernet header
 * with up to two VLAN tags, then IPv4 or IPv6 and the L4 header's offset. Every offset these
 * return is below FERRY_FILTER_WINDOW with room for the bytes a plugin reads there (the verifier
 * refuses any read outside the window), and each function checks the frame's real length
 * (ferry_frame_len()) first: bytes past it are unspecified. A frame that is too short or not what
 * a function looks for gives -1. Everything is inlined: a filter is one BPF function.
 *
 * DPDK's verifier follows every path through a program, without merging states where paths join:
 * n tests in a row whose branches join again make 2^n paths (an ACL with many took seconds to
 * load). So these parsers compute flags with arithmetic (eq(), ge()) and branch only to give up
 * on a frame; plugins should do the same in anything repeated (rule and address slots). */
#ifndef FERRY_PLUGIN_PARSE_H
#define FERRY_PLUGIN_PARSE_H

#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86dd

#define IPPROTO_TCP    6
#define IPPROTO_UDP    17
#define IPPROTO_ICMPV6 58
#define IPPROTO_SCTP   132

/* Where the network header starts, its ethertype, and the frame's length. */
struct l2 {
	uint32_t len;        /* ferry_frame_len() */
	uint32_t l3;         /* offset of the network header: 14, 18 or 22 */
	uint16_t type;       /* the ethertype after the tags */
};

/* Network and transport headers of an IP frame. */
struct l3 {
	uint8_t family;      /* 4 or 6 */
	uint8_t proto;       /* IPv4 protocol / IPv6 next header (after the extension headers) */
	uint32_t has_l4;     /* 1: the L4 header is there (not a later fragment, inside the frame) */
	uint32_t src, dst;   /* offsets of the source and destination addresses */
	uint32_t l4;         /* offset of the L4 header (valid when has_l4) */
};

/* f + off for a read of one byte, in a form DPDK's verifier can prove in the window: off is
 * masked to 0..255 (a no-op here: every offset these parsers make is < 200) and added as "pointer
 * += scalar" (it refuses "scalar += pointer", which clang may emit for f[off]). The asm keeps
 * clang from folding the mask away or reordering the add. */
static __always_inline const uint8_t *
at(const uint8_t *f, uint32_t off)
{
	uint64_t p = (uint64_t)f, o = off;

	asm("%0 &= 255" : "+r"(o));
	asm("%0 += %1" : "+r"(p) : "r"(o));
	return (const uint8_t *)p;
}

static __always_inline uint8_t
rd8(const uint8_t *f, uint32_t off)
{
	return *at(f, off);
}

static __always_inline uint32_t
rd16(const uint8_t *f, uint32_t off)
{
	return (uint32_t)rd8(f, off) << 8 | rd8(f, off + 1);
}

/* 4 bytes as they are in the frame (network order), e.g. a part of an address */
static __always_inline uint32_t
rd32_raw(const uint8_t *f, uint32_t off)
{
	return (uint32_t)rd8(f, off) | (uint32_t)rd8(f, off + 1) << 8 |
	       (uint32_t)rd8(f, off + 2) << 16 | (uint32_t)rd8(f, off + 3) << 24;
}

/* 1 if a == b, else 0, without a branch (values below 2^32) */
static __always_inline uint32_t
eq(uint64_t a, uint64_t b)
{
	return (uint32_t)(((a ^ b) - 1) >> 63);
}

/* 1 if a >= b, else 0, without a branch (values below 2^32) */
static __always_inline uint32_t
ge(uint64_t a, uint64_t b)
{
	return (uint32_t)((a - b) >> 63) ^ 1;
}

/* a if c (0 or 1), else b */
static __always_inline uint32_t
sel(uint32_t c, uint32_t a, uint32_t b)
{
	return b ^ ((a ^ b) & (0u - c));
}

static __always_inline uint32_t
is_tag(uint16_t type)
{
	return eq(type, 0x8100) | eq(type, 0x88a8) | eq(type, 0x9100);   /* ferry's tag TPIDs */
}

/* Ethernet and up to two tags (a priority tag or a VLAN tag, then maybe QinQ's inner one). */
static __always_inline int
parse_l2(const uint8_t *f, struct l2 *h)
{
	h->len = ferry_frame_len();
	if (h->len < 14)
		return -1;
	h->type = (uint16_t)(f[12] << 8 | f[13]);
	h->l3 = 14;
	if (is_tag(h->type)) {
		if (h->len < 18)
			return -1;
		h->type = (uint16_t)(f[16] << 8 | f[17]);
		h->l3 = 18;
		if (is_tag(h->type)) {
			if (h->len < 22)
				return -1;
			h->type = (uint16_t)(f[20] << 8 | f[21]);
			h->l3 = 22;
		}
	}
	return 0;
}

/* IPv4: the header, its options skipped; fragments after the first have no L4 header. */
static __always_inline int
parse_ipv4(const uint8_t *f, const struct l2 *h, struct l3 *ip)
{
	uint32_t o = h->l3, ihl;

	if (h->len < o + 20 || (rd8(f, o) >> 4) != 4)
		return -1;
	ihl = (uint32_t)(rd8(f, o) & 0xf) << 2;
	if (ihl < 20)
		return -1;
	ip->family = 4;
	ip->proto = rd8(f, o + 9);
	ip->src = o + 12;
	ip->dst = o + 16;
	ip->l4 = o + ihl;
	ip->has_l4 = eq(rd16(f, o + 6) & 0x1fff, 0) & ge(h->len, ip->l4 + 8);
	return 0;
}

static __always_inline uint32_t
is_ext6(uint32_t nh)   /* hop-by-hop, routing, destination options */
{
	return eq(nh, 0) | eq(nh, 43) | eq(nh, 60);
}

/* IPv6: the fixed header, then up to three extension headers of up to 24 bytes (hop-by-hop,
 * routing, destination options) or a fragment header (only the first fragment has the L4
 * header). Behind more or longer ones, or others (ESP, ...), there is no L4 header for us
 * (has_l4 0; proto is then the next header where we stopped). No branches: see above. */
static __always_inline int
parse_ipv6(const uint8_t *f, const struct l2 *h, struct l3 *ip)
{
	uint32_t o = h->l3, l4 = o + 40, nh, stop = 0;

	if (h->len < o + 40 || (rd8(f, o) >> 4) != 6)
		return -1;
	ip->family = 6;
	ip->src = o + 8;
	ip->dst = o + 24;
	nh = rd8(f, o + 6);
#pragma unroll
	for (int i = 0; i < 3; i++) {
		uint32_t ext = is_ext6(nh) & (stop ^ 1), frag = eq(nh, 44) & (stop ^ 1);
		uint32_t len = (ext * (((uint32_t)rd8(f, l4 + 1) + 1) << 3)) | (frag * 8);
		uint32_t bad = (ext & (ge(len, 25) | (ge(h->len, l4 + 8) ^ 1))) |
			       (frag & (eq(rd16(f, l4 + 2) & 0xfff8, 0) ^ 1));   /* a later fragment */
		uint32_t step = (ext | frag) & (bad ^ 1);
		stop |= bad;
		nh = sel(step, rd8(f, l4), nh);
		l4 += step * len;
	}
	ip->proto = (uint8_t)nh;
	ip->l4 = l4;
	ip->has_l4 = (stop | is_ext6(nh) | eq(nh, 44)) ^ 1;
	ip->has_l4 &= ge(h->len, l4 + 8);
	return 0;
}

/* IPv4 or IPv6 behind the tags: 0, or -1 for anything else (or a malformed header). */
static __always_inline int
parse_ip(const uint8_t *f, const struct l2 *h, struct l3 *ip)
{
	if (h->type == ETH_P_IPV4)
		return parse_ipv4(f, h, ip);
	if (h->type == ETH_P_IPV6)
		return parse_ipv6(f, h, ip);
	return -1;
}

#endif
