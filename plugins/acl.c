/* acl.c — a ferry eBPF plugin: an access list on IPv4/IPv6 5-tuples. Map "rules" holds 16 slots
 * of struct ferry_acl_rule (64 bytes, laid out byte by byte in plugins/README.md), filled by the
 * user: filter.map_set at runtime, or the filter's "maps" in the configuration. Slots are tested
 * in order; the first enabled rule the frame matches decides (drop or pass) and counts it in its
 * `hits`; a slot with enabled 0 (an all-zero slot, as every slot is at attach) is skipped; no
 * match: pass. Frames that are not IP (ARP, ...) pass. VLAN-tagged frames (up to two tags) are
 * looked into.
 *
 * A rule matches a frame of its family (4 or 6) whose protocol is `proto` (0: any), whose source
 * and destination addresses match `src`/`dst` in their first src_len/dst_len bits, and whose ports
 * are in [sport_lo, sport_hi] and [dport_lo, dport_hi]. Ports are those of TCP, UDP and SCTP; a
 * frame without them (another protocol, a non-first fragment) only matches rules whose ranges are
 * the whole 0..65535.
 *
 * ferry writes an entry word by word, the last 8-byte word (action, enabled) last, while PMDs run
 * this program: `enabled` is read first, behind a compiler barrier, so a rule is seen whole or not
 * at all (x86 keeps loads in order; lib/filter/README.md). */
#include "parse.h"

#define ACL_SLOTS 16
#define FERRY_ACL_DROP 0
#define FERRY_ACL_PASS 1

/* Multi-byte fields other than hits are in network byte order (as in the frame). */
struct ferry_acl_rule {
	uint64_t hits;                   /* 0: frames this rule decided (the filter counts) */
	uint32_t src[4], dst[4];         /* 8, 24: addresses; IPv4 in the first 4 bytes */
	uint8_t src_len, dst_len;        /* 40, 41: prefix lengths (0..32 / 0..128) */
	uint8_t family;                  /* 42: 4 or 6 */
	uint8_t proto;                   /* 43: IP protocol; 0: any */
	uint16_t sport_lo, sport_hi;     /* 44, 46: inclusive */
	uint16_t dport_lo, dport_hi;     /* 48, 50 */
	uint8_t reserved0[4];            /* 52 */
	uint8_t action;                  /* 56: FERRY_ACL_DROP or FERRY_ACL_PASS */
	uint8_t reserved1[6];            /* 57 */
	uint8_t enabled;                 /* 63: 0: skipped. The last byte: written last */
};

_Static_assert(sizeof(struct ferry_acl_rule) == 64, "the layout of plugins/README.md");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACL_SLOTS);
	__type(key, uint32_t);
	__type(value, struct ferry_acl_rule);
} rules SEC(".maps");

/* The frame's 5-tuple. */
struct tuple {
	uint32_t family, proto;
	uint32_t src[4], dst[4];         /* as in the frame (rd32_raw) */
	uint32_t have_ports;             /* 1 if sport/dport are there */
	int32_t sport, dport;
};

/* 1 if v lies outside [lo, hi] (16-bit values, no branch). */
static __always_inline uint32_t
outside(int32_t v, uint16_t lo, uint16_t hi)
{
	return (uint32_t)((v - (int32_t)lo) | ((int32_t)hi - v)) >> 31;
}

/* Words hi, lo (frame byte order) as one host-order 64-bit number. */
static __always_inline uint64_t
host64(uint32_t hi, uint32_t lo)
{
	return (uint64_t)__builtin_bswap32(hi) << 32 | __builtin_bswap32(lo);
}

/* Nonzero iff the first b (0..64) bits of x are not all zero; no branch. */
static __always_inline uint64_t
top_bits(uint64_t x, uint32_t b)
{
	uint64_t t = (uint64_t)b + 63;   /* >> 6: 0 for b 0 (a shift by 64 is not one), else 1 */

	asm("" : "+r"(t));   /* opaque to clang, which would branch on b == 0 instead */
	return (x >> ((64 - b) & 63)) & (0 - (t >> 6));
}

/* Nonzero iff addresses a and r (4 words, frame byte order) differ in their first len bits. */
static __always_inline uint64_t
prefix_differs(const uint32_t *a, const uint32_t *r, uint32_t len)
{
	uint32_t over = ge(len, 64);
	uint32_t b_hi = sel(over, 64, len), b_lo = (len - 64) & (0u - over);

	return top_bits(host64(a[0] ^ r[0], a[1] ^ r[1]), b_hi) |
	       top_bits(host64(a[2] ^ r[2], a[3] ^ r[3]), b_lo);
}

static __always_inline uint32_t
be16(uint16_t v)
{
	return __builtin_bswap16(v);
}

/* Zero iff rule r matches t. Without branches (DPDK's verifier follows every path: branches
 * that join again multiply them). */
static __always_inline uint64_t
mismatch(const struct ferry_acl_rule *r, const struct tuple *t)
{
	uint64_t d = eq(*(const volatile uint8_t *)&r->enabled, 0);

	asm volatile("" ::: "memory");   /* the rule's other fields are read after enabled */
	uint32_t slo = be16(r->sport_lo), shi = be16(r->sport_hi);
	uint32_t dlo = be16(r->dport_lo), dhi = be16(r->dport_hi);
	uint32_t any = eq(slo, 0) & eq(shi, 0xffff) & eq(dlo, 0) & eq(dhi, 0xffff);
	uint32_t ports = outside(t->sport, slo, shi) | outside(t->dport, dlo, dhi);

	d |= (uint64_t)(r->family ^ t->family) | (uint64_t)(r->proto ^ t->proto) * r->proto;
	d |= (t->have_ports & ports) | ((1 - t->have_ports) & (1 - any));
	d |= prefix_differs(t->src, r->src, r->src_len) | prefix_differs(t->dst, r->dst, r->dst_len);
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
