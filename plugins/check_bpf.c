/* check_bpf.c — compiled at configure time by plugins/meson.build: can clang target BPF, and are
 * libbpf's headers (bpf/bpf_helpers.h, libbpf-dev) and ferry_filter.h usable? Not a plugin. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

SEC("filter") int
check(const uint8_t *frame)
{
	return frame[0] != 0 || ferry_frame_len() > 0;
}
