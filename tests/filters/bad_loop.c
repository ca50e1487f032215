/* bad_loop.c — bad test filter: a loop the verifier refuses. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("filter") int prog(const uint8_t *frame)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < ferry_frame_len(); i++)
		s += i;
	return s != 7;
}
