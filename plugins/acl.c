/* acl.c — a ferry eBPF plugin: an access list on IPv4/IPv6 5-tuples. Map "rules" holds 16 slots
 * of struct ferry_acl_rule, tested in order: the first rule the frame matches decides (drop or
 * pass) and counts it in its `hits`; an empty slot (family 0) matches nothing; no match: pass.
 * Frames that are not IP (ARP, ...) pass. VLAN-tagged frames (up to two tags) are looked into.
 *
 * A rule matches a frame of its family (4 or 6) whose protocol is `proto` (0: any), whose source
 * and destination addresses match `src`/`dst` under their masks (prefixes), and whose ports are in
 * [sport_lo, sport_hi] and [dport_lo, dport_hi]. Ports are those of TCP, UDP and SCTP; a frame
 * without them (another protocol, a non-first fragment) only matches rules whose ranges are the
 * whole 0..65535.
 *
 * The rules are compiled in: build with -DFERRY_ACL_RULES_H='"my_rules.h"' where my_rules.h
 * defines FERRY_ACL_RULES as ACL_V4(...) and ACL_V6(...) entries (plugins/README.md); they are
 * written into the map when it is still empty (slot 0 unused). Without it there are no rules. */
#include "parse.h"
#include "seed.h"

#define ACL_SLOTS 16
#define FERRY_ACL_DROP 0
#define FERRY_ACL_PASS 1

struct ferry_acl_rule {
	uint64_t hits;                   /* frames this rule decided (first: filter.list shows a
					  * value's first 64 bytes) */
	uint8_t family;                  /* 4 or 6; 0: an empty slot */
	uint8_t proto;                   /* IP protocol; 0: any */
	uint8_t action;                  /* FERRY_ACL_DROP or FERRY_ACL_PASS */
	uint8_t ports_any;               /* both ranges are 0..65535 (set when seeded) */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;   /* inclusive */
	uint32_t src[4], src_mask[4];    /* as in the frame (FERRY_W); IPv4 in word 0 */
	uint32_t dst[4], dst_mask[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACL_SLOTS);
	__type(key, uint32_t);
	__type(value, struct ferry_acl_rule);
} rules SEC(".maps");

#ifdef FERRY_ACL_RULES_H
#include FERRY_ACL_RULES_H
#endif
#ifndef FERRY_ACL_RULES
#define FERRY_ACL_RULES
#endif

/* ACL_V4(proto, src a,b,c,d, src prefix, dst a,b,c,d, dst prefix, sport lo, hi, dport lo, hi,
 *        DROP | PASS) */
#define ACL_V4(pr, s0, s1, s2, s3, slen, d0, d1, d2, d3, dlen, slo, shi, dlo, dhi, act) \
	{ struct ferry_acl_rule r = { 0 }; \
	  r.family = 4; r.proto = (pr); r.action = FERRY_ACL_##act; \
	  r.src[0] = FERRY_W(s0, s1, s2, s3) & FERRY_MW(slen, 0); r.src_mask[0] = FERRY_MW(slen, 0); \
	  r.dst[0] = FERRY_W(d0, d1, d2, d3) & FERRY_MW(dlen, 0); r.dst_mask[0] = FERRY_MW(dlen, 0); \
	  seed_rule(&k, &r, (slo), (shi), (dlo), (dhi)); }
/* ACL_V6(proto, src g0..g7 (eight 16-bit groups), src prefix, dst g0..g7, dst prefix, sport lo, hi,
 *        dport lo, hi, DROP | PASS) */
#define ACL_V6(pr, s0, s1, s2, s3, s4, s5, s6, s7, slen, d0, d1, d2, d3, d4, d5, d6, d7, dlen, \
	       slo, shi, dlo, dhi, act) \
	{ struct ferry_acl_rule r = { 0 }; \
	  r.family = 6; r.proto = (pr); r.action = FERRY_ACL_##act; \
	  r.src[0] = FERRY_W6(s0, s1) & FERRY_MW(slen, 0); r.src_mask[0] = FERRY_MW(slen, 0); \
	  r.src[1] = FERRY_W6(s2, s3) & FERRY_MW(slen, 1); r.src_mask[1] = FERRY_MW(slen, 1); \
	  r.src[2] = FERRY_W6(s4, s5) & FERRY_MW(slen, 2); r.src_mask[2] = FERRY_MW(slen, 2); \
	  r.src[3] = FERRY_W6(s6, s7) & FERRY_MW(slen, 3); r.src_mask[3] = FERRY_MW(slen, 3); \
	  r.dst[0] = FERRY_W6(d0, d1) & FERRY_MW(dlen, 0); r.dst_mask[0] = FERRY_MW(dlen, 0); \
	  r.dst[1] = FERRY_W6(d2, d3) & FERRY_MW(dlen, 1); r.dst_mask[1] = FERRY_MW(dlen, 1); \
	  r.dst[2] = FERRY_W6(d4, d5) & FERRY_MW(dlen, 2); r.dst_mask[2] = FERRY_MW(dlen, 2); \
	  r.dst[3] = FERRY_W6(d6, d7) & FERRY_MW(dlen, 3); r.dst_mask[3] = FERRY_MW(dlen, 3); \
	  seed_rule(&k, &r, (slo), (shi), (dlo), (dhi)); }

static __always_inline __attribute__((unused)) void
seed_rule(uint32_t *k, struct ferry_acl_rule *r, uint16_t slo, uint16_t shi, uint16_t dlo,
	  uint16_t dhi)
{
	r->sport_lo = slo;
	r->sport_hi = shi;
	r->dport_lo = dlo;
	r->dport_hi = dhi;
	r->ports_any = slo == 0 && shi == 0xffff && dlo == 0 && dhi == 0xffff;
	bpf_map_update_elem(&rules, k, r, 0);
	(*k)++;
}

/* The compiled-in rules, once: when slot 0 is still empty. */
static __always_inline void
seed(void)
{
	uint32_t k = 0;
	struct ferry_acl_rule *r = bpf_map_lookup_elem(&rules, &k);

	if (r == 0 || r->family != 0)
		return;
	FERRY_ACL_RULES
}

/* The frame's 5-tuple. */
struct tuple {
	uint32_t family, proto;
	uint32_t src[4], dst[4];
	uint32_t have_ports;             /* 1 if sport/dport are there */
	int32_t sport, dport;
};

/* 1 if v lies outside [lo, hi] (16-bit values, no branch). */
static __always_inline uint32_t
outside(int32_t v, uint16_t lo, uint16_t hi)
{
	return (uint32_t)((v - (int32_t)lo) | ((int32_t)hi - v)) >> 31;
}

/* Zero iff rule r matches t. Without branches (DPDK's verifier follows every path: branches
 * that join again multiply them). */
static __always_inline uint64_t
mismatch(const struct ferry_acl_rule *r, const struct tuple *t)
{
	uint64_t d = (uint64_t)(r->family ^ t->family) |
		     (uint64_t)(r->proto ^ t->proto) * r->proto;   /* proto 0: any */
	uint32_t ports = outside(t->sport, r->sport_lo, r->sport_hi) |
			 outside(t->dport, r->dport_lo, r->dport_hi);

	d |= (t->have_ports & ports) | ((1 - t->have_ports) & (1 - r->ports_any));
#pragma unroll
	for (int w = 0; w < 4; w++)
		d |= ((t->src[w] & r->src_mask[w]) ^ r->src[w]) | ((t->dst[w] & r->dst_mask[w]) ^ r->dst[w]);
	return d;
}

/* The frame's 5-tuple; -1 if it is not IP. Branches only to give up (see parse.h). */
static __always_inline int
get_tuple(const uint8_t *f, struct tuple *t)
{
	struct l2 h;
	struct l3 ip;

	if (parse_l2(f, &h) < 0 || parse_ip(f, &h, &ip) < 0)
		return -1;
	uint32_t v6 = 0u - eq(ip.family, 6);   /* all ones for IPv6 */
	t->family = ip.family;
	t->proto = ip.proto;
	t->src[0] = rd32_raw(f, ip.src);
	t->dst[0] = rd32_raw(f, ip.dst);
#pragma unroll
	for (int w = 1; w < 4; w++) {   /* (read for IPv4 too, then zeroed) */
		t->src[w] = rd32_raw(f, ip.src + 4 * w) & v6;
		t->dst[w] = rd32_raw(f, ip.dst + 4 * w) & v6;
	}
	t->have_ports = ip.has_l4 & (eq(ip.proto, IPPROTO_TCP) | eq(ip.proto, IPPROTO_UDP) |
				     eq(ip.proto, IPPROTO_SCTP));
	t->sport = (int32_t)rd16(f, ip.l4);    /* meaningless unless have_ports */
	t->dport = (int32_t)rd16(f, ip.l4 + 2);
	return 0;
}

SEC("filter") int
acl(const uint8_t *frame)
{
	struct tuple t;

	if (get_tuple(frame, &t) < 0)
		return FERRY_FILTER_PASS;
	seed();
#pragma unroll
	for (uint32_t i = 0; i < ACL_SLOTS; i++) {
		uint32_t k = i;
		struct ferry_acl_rule *r = bpf_map_lookup_elem(&rules, &k);
		if (r == 0)
			return FERRY_FILTER_PASS;   /* (never: the slots exist) */
		if (mismatch(r, &t) == 0) {
			__sync_fetch_and_add(&r->hits, 1);
			return r->action == FERRY_ACL_DROP ? FERRY_FILTER_DROP : FERRY_FILTER_PASS;
		}
	}
	return FERRY_FILTER_PASS;
}

char _license[] SEC("license") = "BSD";
