/* drop_all.c — test filter: drops every frame. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("filter") int prog(const uint8_t *frame)
{
	return FERRY_FILTER_DROP;
}
