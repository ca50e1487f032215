/* bad_nosec.c — bad test filter: the program is in section "socket", not "filter". */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("socket") int prog(const uint8_t *frame)
{
	return 1;
}
