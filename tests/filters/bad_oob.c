/* bad_oob.c — bad test filter: reads past the 256-byte window (the verifier refuses it). */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("filter") int prog(const uint8_t *frame)
{
	return frame[300];
}
