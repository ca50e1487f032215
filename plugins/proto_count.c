/* proto_count.c — a ferry eBPF plugin that passes every frame and counts them: by ethertype class
 * in map "ethertype" and by IP protocol (IPv4 protocol / IPv6 next header after the extension
 * headers) in map "ip_proto". filter.list shows both (plugins/README.md). */
#include "parse.h"

/* map "ethertype": one counter per class */
enum {
	CLASS_IPV4,          /* 0x0800 */
	CLASS_IPV6,          /* 0x86dd */
	CLASS_ARP,           /* 0x0806 */
	CLASS_OTHER,         /* any other ethertype (>= 0x0600) */
	CLASS_LLC,           /* an 802.3 length (< 0x0600): LLC/SNAP */
	CLASS_RUNT,          /* too short for its headers */
	CLASS_TAGGED,        /* frames with at least one VLAN tag (counted besides their class) */
	CLASS_ALL,           /* every frame */
	N_CLASSES
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N_CLASSES);
	__type(key, uint32_t);
	__type(value, uint64_t);
} ethertype SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, uint32_t);
	__type(value, uint64_t);
} ip_proto SEC(".maps");

static __always_inline void
count(void *map, uint32_t k)
{
	uint64_t *v = bpf_map_lookup_elem(map, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline uint32_t
class_of(uint16_t type)
{
	switch (type) {
	case ETH_P_IPV4: return CLASS_IPV4;
	case ETH_P_IPV6: return CLASS_IPV6;
	case ETH_P_ARP:  return CLASS_ARP;
	default:         return type < 0x0600 ? CLASS_LLC : CLASS_OTHER;
	}
}

SEC("filter") int
proto_count(const uint8_t *frame)
{
	struct l2 h;
	struct l3 ip;

	count(&ethertype, CLASS_ALL);
	if (parse_l2(frame, &h) < 0) {
		count(&ethertype, CLASS_RUNT);
		return FERRY_FILTER_PASS;
	}
	if (h.l3 != 14)
		count(&ethertype, CLASS_TAGGED);
	count(&ethertype, class_of(h.type));
	if (parse_ip(frame, &h, &ip) == 0)
		count(&ip_proto, ip.proto);
	return FERRY_FILTER_PASS;
}

char _license[] SEC("license") = "BSD";
