/* ipv4.c — test filter: reads the IPv4 header (untagged or one 802.1Q tag). Passes everything;
 * counts IPv4 frames per protocol in map "proto" (256 u32 values) and non-IPv4 frames in
 * "other"[0]. With -DDROP_UDP it drops UDP instead of passing it.
 * Offsets are constants per branch: rte_bpf's verifier takes pointer += scalar but not
 * scalar += pointer, which clang emits for frame[var]. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, uint32_t);
	__type(value, uint32_t);
} proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, uint32_t);
} other SEC(".maps");

static __attribute__((always_inline)) int
count(void *map, uint32_t k)
{
	uint32_t *v = bpf_map_lookup_elem(map, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return FERRY_FILTER_PASS;
}

static __attribute__((always_inline)) int
ipv4(const uint8_t *ip, uint32_t room)
{
	if (room < 20 || (ip[0] >> 4) != 4)
		return count(&other, 0);
	count(&proto, ip[9]);
#ifdef DROP_UDP
	if (ip[9] == 17)
		return FERRY_FILTER_DROP;
#endif
	return FERRY_FILTER_PASS;
}

SEC("filter") int prog(const uint8_t *frame)
{
	uint32_t len = ferry_frame_len();

	if (len < 14)
		return count(&other, 0);
	if (frame[12] == 0x08 && frame[13] == 0x00)
		return ipv4(frame + 14, len - 14);
	if (len >= 18 && frame[12] == 0x81 && frame[13] == 0x00 && frame[16] == 0x08 &&
	    frame[17] == 0x00)
		return ipv4(frame + 18, len - 18);
	return count(&other, 0);
}
