/* bad_hash.c — bad test filter: a HASH map (ARRAY only is supported). */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, uint32_t);
	__type(value, uint64_t);
} h SEC(".maps");

SEC("filter") int prog(const uint8_t *frame)
{
	uint32_t k = 0;
	return bpf_map_lookup_elem(&h, &k) != 0;
}
