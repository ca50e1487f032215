/* bad_helper.c — bad test filter: calls helper 5 (bpf_ktime_get_ns), which ferry does not have. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("filter") int prog(const uint8_t *frame)
{
	return bpf_ktime_get_ns() & 1;
}
