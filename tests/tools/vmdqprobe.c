/* vmdqprobe.c — ferry-vmdq-probe: what a NIC's VMDq pools do with a MAC-to-pool filter (issue #18
 * section 1, lab/vmdq). Configures ethdev 0 in RTE_ETH_MQ_RX_VMDQ_ONLY with 8 pools, one rx
 * queue each (pool p = rx queue p), every pool accepting untagged frames and broadcasts (--bcast
 * 0: not broadcasts), the
 * default pool (--default-pool, 0) enabled and one pool_map entry (VLAN --vlan -> pool 1); then
 * rte_eth_dev_mac_addr_add(0, --mac, pool 1): the filter ferry would give a VM. Counts what
 * arrives on each queue until SIGTERM/SIGINT — by destination ("mac": --mac, "bcast", "other")
 * and VLAN ("untagged" or the VID) — and prints one JSON object:
 *   {"driver", "max_vmdq_pools", "default_pool", "configure", "mac_addr_add",
 *    "queues": {"0": {"mac/untagged": n, ...}, ...}}
 * --vmdq 0: the control, mq_mode NONE (no pools: everything on queue 0, the MAC filter as a plain
 * unicast address), which shows the NIC, the cable and the counting work.
 * Usage: ferry-vmdq-probe [EAL args] -- --mac MAC --vlan VID [--default-pool N] [--vmdq 0|1]
 *        [--bcast 0|1] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#define NQ 8
#define NCAT 3
#define NVLAN 4096

static volatile sig_atomic_t stop;
static uint64_t cnt[NQ][NCAT][NVLAN + 1];   /* [queue][mac|bcast|other][vid, NVLAN: untagged] */
static const char *const cat_names[NCAT] = { "mac", "bcast", "other" };

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
count(uint16_t q, const struct rte_mbuf *m, const struct rte_ether_addr *mac)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	unsigned c = rte_is_same_ether_addr(&e->dst_addr, mac) ? 0 :
		     rte_is_broadcast_ether_addr(&e->dst_addr) ? 1 : 2, v = NVLAN;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
		v = m->vlan_tci & 0xfff;
	else if (e->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN) && m->data_len >= 18)
		v = rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(e + 1))->vlan_tci) & 0xfff;
	cnt[q][c][v]++;
}

static void
report(const struct rte_eth_dev_info *di, unsigned vmdq, unsigned bc, unsigned dp, int conf_rc,
       int add_rc)
{
	printf("{\"driver\": \"%s\", \"max_vmdq_pools\": %u, \"vmdq\": %u, \"bcast\": %u, "
	       "\"default_pool\": %u, "
	       "\"configure\": \"%s\", "
	       "\"mac_addr_add\": \"%s\", \"queues\": {", di->driver_name, di->max_vmdq_pools, vmdq,
	       bc, dp,
	       conf_rc ? rte_strerror(-conf_rc) : "ok", add_rc ? rte_strerror(-add_rc) : "ok");
	for (unsigned q = 0; q < NQ; q++) {
		unsigned n = 0;
		printf("%s\"%u\": {", q ? ", " : "", q);
		for (unsigned c = 0; c < NCAT; c++)
			for (unsigned v = 0; v <= NVLAN; v++) {
				if (cnt[q][c][v] == 0)
					continue;
				if (v == NVLAN)
					printf("%s\"%s/untagged\": %lu", n++ ? ", " : "", cat_names[c],
					       (unsigned long)cnt[q][c][v]);
				else
					printf("%s\"%s/vlan%u\": %lu", n++ ? ", " : "", cat_names[c], v,
					       (unsigned long)cnt[q][c][v]);
			}
		printf("}");
	}
	printf("}}\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct rte_eth_conf ec = { 0 };
	struct rte_eth_vmdq_rx_conf *vc = &ec.rx_adv_conf.vmdq_rx_conf;
	struct rte_eth_dev_info di = { 0 };
	struct rte_ether_addr mac = { 0 };
	struct rte_mempool *mp;
	struct rte_mbuf *b[32];
	int n = rte_eal_init(argc, argv), rc, add_rc = -EINVAL;
	unsigned vlan = 10, def_pool = 0, vmdq = 1, bcast = 1;

	if (n < 0)
		return 2;
	for (int i = n + 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--mac") == 0 && rte_ether_unformat_addr(argv[i + 1], &mac) != 0)
			return 2;
		if (strcmp(argv[i], "--vlan") == 0)
			vlan = (unsigned)atoi(argv[i + 1]);
		if (strcmp(argv[i], "--bcast") == 0)
			bcast = (unsigned)atoi(argv[i + 1]);
		if (strcmp(argv[i], "--vmdq") == 0)
			vmdq = (unsigned)atoi(argv[i + 1]);
		if (strcmp(argv[i], "--default-pool") == 0)
			def_pool = (unsigned)atoi(argv[i + 1]) % NQ;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	mp = rte_pktmbuf_pool_create("probe", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL || rte_eth_dev_count_avail() == 0 || rte_eth_dev_info_get(0, &di) != 0)
		return 2;
	ec.rxmode.mq_mode = vmdq ? RTE_ETH_MQ_RX_VMDQ_ONLY : RTE_ETH_MQ_RX_NONE;
	vc->nb_queue_pools = RTE_ETH_8_POOLS;
	vc->enable_default_pool = 1;
	vc->default_pool = (uint8_t)def_pool;
	vc->rx_mode = RTE_ETH_VMDQ_ACCEPT_UNTAG | (bcast ? RTE_ETH_VMDQ_ACCEPT_BROADCAST : 0);
	vc->nb_pool_maps = 1;
	vc->pool_map[0].vlan_id = (uint16_t)vlan;
	vc->pool_map[0].pools = UINT64_C(1) << 1;
	rc = rte_eth_dev_configure(0, NQ, 1, &ec);
	for (uint16_t q = 0; rc == 0 && q < NQ; q++)
		rc = rte_eth_rx_queue_setup(0, q, 256, (unsigned)rte_socket_id(), NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(0, 0, 512, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(0);
	if (rc == 0)
		add_rc = rte_eth_dev_mac_addr_add(0, &mac, 1);
	fprintf(stderr, "vmdq-probe: %s, %u pools, vmdq %u: configure/start %s, mac_addr_add pool 1 %s; "
		"receiving\n", di.driver_name, di.max_vmdq_pools, vmdq, rc ? rte_strerror(-rc) : "ok",
		add_rc ? rte_strerror(-add_rc) : "ok");
	while (rc == 0 && !stop)
		for (uint16_t q = 0; q < NQ; q++) {
			uint16_t k = rte_eth_rx_burst(0, q, b, RTE_DIM(b));
			for (uint16_t i = 0; i < k; i++)
				count(q, b[i], &mac);
			rte_pktmbuf_free_bulk(b, k);
		}
	report(&di, vmdq, bcast, def_pool, rc, add_rc);
	if (rc == 0)
		rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return rc == 0 && add_rc == 0 ? 0 : 1;
}
