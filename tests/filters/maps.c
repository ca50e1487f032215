/* maps.c — test filter for filter.map_set/map_get (tests/rpc/test_filter_maps.py): passes every
 * frame and never reads its maps; it only gives them shapes: "wide" (4 entries of 24 bytes: three
 * 8-byte words each) and "odd" (3 entries of 12 bytes: entry 1 starts 4-byte but not 8-byte
 * aligned, so it is written with 4-byte stores). */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

struct wide {
	uint64_t w[3];
};

struct odd {
	uint32_t w[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, uint32_t);
	__type(value, struct wide);
} wide SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, uint32_t);
	__type(value, struct odd);
} odd SEC(".maps");

SEC("filter") int prog(const uint8_t *frame)
{
	return FERRY_FILTER_PASS;
}
