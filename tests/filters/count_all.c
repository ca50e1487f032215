/* count_all.c — test filter: passes every frame, counting frames (value 0), bytes (value 1) and
 * the port it runs on (value 2) in an ARRAY map with __sync_fetch_and_add (BPF XADD). */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, uint32_t);
	__type(value, uint64_t);
} counts SEC(".maps");

SEC("filter") int prog(const uint8_t *frame)
{
	uint32_t k = 0;
	uint64_t *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	k = 1;
	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, ferry_frame_len());
	k = 2;
	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		*v = ferry_frame_port();
	return FERRY_FILTER_PASS;
}
