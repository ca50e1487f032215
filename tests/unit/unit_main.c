/* unit_main.c — runs every unit suite inside one DPDK EAL (no hugepages, no devices). */
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include "unit.h"
#include "ferry_pkt.h"

int unit_failures;
struct rte_mempool *unit_pool;

uint64_t
unit_mac(const char *s)
{
	struct rte_ether_addr a;
	uint64_t w = 0;

	rte_ether_unformat_addr(s, &a);
	memcpy(&w, a.addr_bytes, 6);
	return w;
}

struct rte_mbuf *
unit_raw(const uint8_t *bytes, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(unit_pool);

	if (m != NULL && len > 0)
		memcpy(rte_pktmbuf_append(m, len), bytes, len);
	return m;
}

struct rte_mbuf *
unit_frame(const char *dst, const char *src, const uint16_t *tags, int n_tags, uint16_t ethertype,
	   uint16_t payload)
{
	uint8_t b[2048];
	uint16_t off = 12, be;
	struct rte_ether_addr a;

	memset(b, 0xab, sizeof(b));
	rte_ether_unformat_addr(dst, &a);
	memcpy(b, a.addr_bytes, 6);
	rte_ether_unformat_addr(src, &a);
	memcpy(b + 6, a.addr_bytes, 6);
	for (int i = 0; i < n_tags; i++, off += 4) {
		be = rte_cpu_to_be_16(tags[2 * i]);
		memcpy(b + off, &be, 2);
		be = rte_cpu_to_be_16(tags[2 * i + 1]);
		memcpy(b + off + 2, &be, 2);
	}
	be = rte_cpu_to_be_16(ethertype);
	memcpy(b + off, &be, 2);
	return unit_raw(b, off + 2 + payload);
}

int
main(int argc, char **argv)
{
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0",
			"--file-prefix", "ferry-unit", "--log-level", "lib.*:error", NULL };
	const char *only = argc > 1 ? argv[1] : NULL;

	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 2;
	}
	unit_pool = rte_pktmbuf_pool_create("unit", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (unit_pool == NULL)
		return 2;
	if (!only || strcmp(only, "pkt") == 0)
		suite_pkt();
	if (!only || strcmp(only, "vlan") == 0)
		suite_vlan();
	if (!only || strcmp(only, "fdb") == 0)
		suite_fdb();
	if (!only || strcmp(only, "config") == 0)
		suite_config();
	if (!only || strcmp(only, "fields") == 0)
		suite_fields();
	if (!only || strcmp(only, "pipeline") == 0)
		suite_pipeline();
	if (!only || strcmp(only, "virtq") == 0)
		suite_virtq();
	if (!only || strcmp(only, "virtq_rx") == 0)
		suite_virtq_rx();
	if (!only || strcmp(only, "filter") == 0)
		suite_filter();
	if (!only || strcmp(only, "mirror") == 0)
		suite_mirror();
	if (!only || strcmp(only, "steer") == 0)
		suite_steer();
	if (!only || strcmp(only, "owned") == 0)
		suite_owned();
	rte_eal_cleanup();
	return unit_failures ? 1 : 0;
}
