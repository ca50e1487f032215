/* ferry_common.c — drop reason names, tap directions, the log type, error messages and the
 * coarse aging clock. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include "ferry_common.h"

const char *const ferry_drop_names[FERRY_DROP_MAX] = {
	[FERRY_DROP_RUNT] = "runt",
	[FERRY_DROP_INVALID_SRC] = "invalid_src",
	[FERRY_DROP_SPOOF] = "spoof",
	[FERRY_DROP_VLAN] = "vlan",
	[FERRY_DROP_VLAN_HOP] = "vlan_hop",
	[FERRY_DROP_ADMIN_DOWN] = "admin_down",
	[FERRY_DROP_NO_DEST] = "no_dest",
	[FERRY_DROP_TX_FULL] = "tx_full",
	[FERRY_DROP_NO_MBUF] = "no_mbuf",
	[FERRY_DROP_NOT_READY] = "not_ready",
	[FERRY_DROP_MTU] = "mtu",
	[FERRY_DROP_TX_SEGS] = "tx_segs",
	[FERRY_DROP_FILTER] = "filter",
	[FERRY_DROP_POLICER] = "policer",
	[FERRY_DROP_STORM] = "storm",
	[FERRY_DROP_MAC_LIMIT] = "mac_limit",
	[FERRY_DROP_MIRROR_OUTPUT] = "mirror_output",
	[FERRY_DROP_GSO_SIZE] = "gso_size",
	[FERRY_DROP_GSO_HDR_LEN] = "gso_hdr_len",
	[FERRY_DROP_CSUM_RANGE] = "csum_range",
	[FERRY_DROP_GSO_TYPE] = "gso_type",
	[FERRY_DROP_GSO_TOO_LONG] = "gso_too_long",
	[FERRY_DROP_VM_DST] = "vm_dst",
	[FERRY_DROP_VM_VLAN] = "vm_vlan",
	[FERRY_DROP_VM_ABSENT] = "vm_absent",
};

RTE_LOG_REGISTER(ferry_logtype, ferry, INFO);

volatile uint32_t ferry_now_s;

void
ferry_clock_update(void)
{
	ferry_now_s = (uint32_t)(rte_get_tsc_cycles() / rte_get_tsc_hz());
}

int
ferry_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

unsigned
ferry_dirs_parse(const char *s)
{
	return strcmp(s, "rx") == 0 ? FERRY_DIR_RX : strcmp(s, "tx") == 0 ? FERRY_DIR_TX :
	       strcmp(s, "both") == 0 ? FERRY_DIR_BOTH : 0;
}

const char *
ferry_dirs_name(unsigned dirs)
{
	return dirs == FERRY_DIR_RX ? "rx" : dirs == FERRY_DIR_TX ? "tx" : "both";
}
