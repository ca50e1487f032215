/* arp_guard.c — a ferry eBPF plugin for a VM port's ingress: a guest may only claim its own IP
 * addresses. It drops ARP requests and replies (gratuitous ones included) whose sender IP is not
 * one of the port's allowed IPv4 addresses (0.0.0.0, an RFC 5227 probe, claims nothing: it
 * passes), and IPv6 neighbor advertisements (solicited or not) whose target is not one of its
 * allowed IPv6 addresses. Everything else passes.
 *
 * The allowed addresses are in map "allowed", 16 slots of struct ferry_guard_addr: an entry
 * applies to the ferry port it names, or to any port (FERRY_GUARD_ANY_PORT); an empty slot
 * (family 0) ends the list. They are compiled in: build with
 *   -DFERRY_GUARD_ADDRS_H='"my_addrs.h"'
 * where my_addrs.h defines FERRY_GUARD_ADDRS as GUARD_V4(port, a, b, c, d) and
 * GUARD_V6(port, g0, ..., g7) entries (plugins/README.md); without it the list is empty and every
 * ARP claim and NA is dropped. Remember the guest's IPv6 link-local address. */
#include "parse.h"
#include "seed.h"

#define FERRY_GUARD_ANY_PORT 0xffffffffu
#define GUARD_SLOTS 16

struct ferry_guard_addr {
	uint32_t port;       /* the ferry port index it applies to, or FERRY_GUARD_ANY_PORT */
	uint8_t family;      /* 4 or 6; 0: an empty slot, ends the list */
	uint8_t pad[3];
	uint32_t addr[4];    /* as in the frame (FERRY_W); IPv4 in addr[0] */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GUARD_SLOTS);
	__type(key, uint32_t);
	__type(value, struct ferry_guard_addr);
} allowed SEC(".maps");

#ifdef FERRY_GUARD_ADDRS_H
#include FERRY_GUARD_ADDRS_H
#endif
#ifndef FERRY_GUARD_ADDRS
#define FERRY_GUARD_ADDRS
#endif

static __always_inline __attribute__((unused)) void
seed_one(uint32_t *k, uint32_t port, uint8_t family, uint32_t w0, uint32_t w1, uint32_t w2,
	 uint32_t w3)
{
	struct ferry_guard_addr e = { 0 };

	e.port = port;
	e.family = family;
	e.addr[0] = w0;
	e.addr[1] = w1;
	e.addr[2] = w2;
	e.addr[3] = w3;
	bpf_map_update_elem(&allowed, k, &e, 0);
	(*k)++;
}

#define GUARD_V4(port, a, b, c, d) seed_one(&k, (port), 4, FERRY_W(a, b, c, d), 0, 0, 0);
#define GUARD_V6(port, g0, g1, g2, g3, g4, g5, g6, g7) \
	seed_one(&k, (port), 6, FERRY_W6(g0, g1), FERRY_W6(g2, g3), FERRY_W6(g4, g5), FERRY_W6(g6, g7));

/* The compiled-in list, once: when slot 0 is still empty. */
static __always_inline void
seed(void)
{
	uint32_t k = 0;
	struct ferry_guard_addr *e = bpf_map_lookup_elem(&allowed, &k);

	if (e == 0 || e->family != 0)
		return;
	FERRY_GUARD_ADDRS
}

/* Is (family, a) allowed on this port? Each slot is tested without branches but the last (DPDK's
 * verifier follows every path through a program: branches that join again multiply them). */
static __always_inline int
is_allowed(uint8_t family, const uint32_t *a)
{
	uint32_t port = ferry_frame_port();

#pragma unroll
	for (uint32_t i = 0; i < GUARD_SLOTS; i++) {
		uint32_t k = i;
		struct ferry_guard_addr *e = bpf_map_lookup_elem(&allowed, &k);
		if (e == 0)
			return 0;
		/* zero iff the entry's port is this one or FERRY_GUARD_ANY_PORT (0 + 1 wraps) */
		uint64_t p = (uint64_t)(e->port ^ port) * (uint32_t)(e->port + 1);
		uint64_t d = (uint64_t)(e->family ^ family) | (e->addr[0] ^ a[0]) |
			     (e->addr[1] ^ a[1]) | (e->addr[2] ^ a[2]) | (e->addr[3] ^ a[3]) | p;
		if (d == 0)   /* an empty slot (family 0) never matches */
			return 1;
	}
	return 0;
}

/* ARP for IPv4 over Ethernet: the sender protocol address must be allowed (or 0.0.0.0). */
static __always_inline int
check_arp(const uint8_t *f, const struct l2 *h)
{
	uint32_t o = h->l3 & 0x1f, a[4] = { 0 };

	if (h->len < o + 28 || rd16(f, o) != 1 || rd16(f, o + 2) != ETH_P_IPV4 ||
	    rd8(f, o + 4) != 6 || rd8(f, o + 5) != 4)
		return FERRY_FILTER_PASS;         /* not IPv4 over Ethernet: claims no IPv4 address */
	a[0] = rd32_raw(f, o + 14);           /* sender IP */
	if (a[0] == 0)
		return FERRY_FILTER_PASS;
	seed();
	return is_allowed(4, a) ? FERRY_FILTER_PASS : FERRY_FILTER_DROP;
}

/* An ICMPv6 neighbor advertisement (type 136): its target address must be allowed. */
static __always_inline int
check_na(const uint8_t *f, const struct l2 *h)
{
	struct l3 ip;
	uint32_t a[4];

	if (parse_ipv6(f, h, &ip) < 0 || ip.proto != IPPROTO_ICMPV6 || !ip.has_l4 ||
	    rd8(f, ip.l4) != 136)
		return FERRY_FILTER_PASS;
	if (h->len < ip.l4 + 24)
		return FERRY_FILTER_DROP;         /* an NA too short to hold its target */
#pragma unroll
	for (int w = 0; w < 4; w++)
		a[w] = rd32_raw(f, ip.l4 + 8 + 4 * w);
	seed();
	return is_allowed(6, a) ? FERRY_FILTER_PASS : FERRY_FILTER_DROP;
}

SEC("filter") int
arp_guard(const uint8_t *frame)
{
	struct l2 h;

	if (parse_l2(frame, &h) < 0)
		return FERRY_FILTER_PASS;
	if (h.type == ETH_P_ARP)
		return check_arp(frame, &h);
	if (h.type == ETH_P_IPV6)
		return check_na(frame, &h);
	return FERRY_FILTER_PASS;
}

char _license[] SEC("license") = "BSD";
