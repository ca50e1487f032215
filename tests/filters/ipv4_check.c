/* ipv4_check.c — bench filter: reads the Ethernet type (one 802.1Q tag skipped) and the IPv4
 * header (version, IHL, TTL, protocol) of every frame and passes everything (returns 1 or 2,
 * both "pass"): the cost of a JIT-compiled header-reading filter without map updates. */
#include "ferry_filter.h"
#include <bpf/bpf_helpers.h>

static __attribute__((always_inline)) int
ipv4(const uint8_t *ip)
{
	if ((ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5 || ip[8] == 0)
		return 2;
	return ip[9] == 17 || ip[9] == 6 ? 1 : 2;
}

SEC("filter") int prog(const uint8_t *frame)
{
	uint32_t len = ferry_frame_len();

	if (len >= 34 && frame[12] == 0x08 && frame[13] == 0x00)
		return ipv4(frame + 14);
	if (len >= 38 && frame[12] == 0x81 && frame[13] == 0x00 && frame[16] == 0x08 &&
	    frame[17] == 0x00)
		return ipv4(frame + 18);
	return 2;
}
