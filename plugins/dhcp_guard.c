/* dhcp_guard.c — a ferry eBPF plugin for a VM port's ingress: a guest must not act as a DHCP
 * server. It drops what only a server sends: DHCPv4 from UDP port 67 to port 68 (OFFER, ACK,
 * NAK: any BOOTP reply) and DHCPv6 ADVERTISE (2), REPLY (7) and RECONFIGURE (10) from UDP port
 * 547 to port 546. Everything else passes, a client's DISCOVER/REQUEST/SOLICIT included. Map
 * "dropped" counts the drops: [0] DHCPv4, [1] DHCPv6 (plugins/README.md). */
#include "parse.h"

#define DHCP4_SERVER 67
#define DHCP4_CLIENT 68
#define DHCP6_SERVER 547
#define DHCP6_CLIENT 546

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, uint32_t);
	__type(value, uint64_t);
} dropped SEC(".maps");

static __always_inline int
drop(uint32_t k)
{
	uint64_t *v = bpf_map_lookup_elem(&dropped, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return FERRY_FILTER_DROP;
}

/* A DHCPv6 message type only a server sends (RFC 8415). */
static __always_inline int
dhcp6_server_type(uint8_t t)
{
	return t == 2 || t == 7 || t == 10;
}

SEC("filter") int
dhcp_guard(const uint8_t *frame)
{
	struct l2 h;
	struct l3 ip;

	if (parse_l2(frame, &h) < 0 || parse_ip(frame, &h, &ip) < 0 ||
	    ip.proto != IPPROTO_UDP || !ip.has_l4)
		return FERRY_FILTER_PASS;
	uint16_t sport = rd16(frame, ip.l4), dport = rd16(frame, ip.l4 + 2);
	if (ip.family == 4 && sport == DHCP4_SERVER && dport == DHCP4_CLIENT)
		return drop(0);
	/* the message type is the first byte after the 8-byte UDP header */
	if (ip.family == 6 && sport == DHCP6_SERVER && dport == DHCP6_CLIENT &&
	    h.len > ip.l4 + 8 && dhcp6_server_type(rd8(frame, ip.l4 + 8)))
		return drop(1);
	return FERRY_FILTER_PASS;
}

char _license[] SEC("license") = "BSD";
