/* ferry_port.h — a switch port: a DPDK ethdev (any devargs) or a vhost-user guest (rte_vhost).
 *
 * The PMD side (rx/tx bursts, counters) is inline here; opening and closing live in port_dpdk.c and
 * port_vhost.c. Fields read by PMDs are either immutable while the port is in the switch, or single
 * words written with atomics by the control thread / vhost callbacks. Counters are per PMD (or per
 * queue with exactly one writer) so PMDs never share a written cache line. */
#ifndef FERRY_PORT_H
#define FERRY_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>
#include <rte_vhost.h>
#include "ferry_common.h"
#include "ferry_config.h"
#include "ferry_sock.h"
#include "ferry_stage.h"
#include "ferry_vlan.h"
#include "ferry_zc.h"

/* What the classifier checks per port; immutable once published, replaced whole on port.set. */
struct ferry_port_policy {
	struct ferry_vlan_policy vlan;
	uint64_t macs[FERRY_MAX_MACS];    /* allowed source MACs (ferry_pkt form); none = any */
	uint16_t n_macs;
	uint8_t admin_down;
} __rte_cache_aligned;

struct ferry_qstats {
	uint64_t pkts, bytes, drops;
};

/* One per (port, PMD): written only by that PMD. */
struct ferry_port_pmd_stats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drops[FERRY_DROP_MAX];
	uint64_t mac_moves, learn_full;
} __rte_cache_aligned;

struct ferry_port {
	/* --- read by PMDs --- */
	uint16_t idx;                     /* slot in the switch */
	uint8_t type;                     /* enum ferry_port_type */
	uint8_t txq_shared;               /* dpdk: fewer tx queues than PMDs, take txq_lock */
	uint16_t eth_port;                /* dpdk */
	uint16_t n_txq;                   /* dpdk: tx queues configured */
	int vid;                          /* vhost: device id while a guest runs, else -1 */
	uint32_t vq_rx_on;                /* vhost: guest TX rings enabled, bit q (ferry's rx q) */
	uint32_t vq_tx_on;                /* vhost: guest RX rings enabled, bit q (ferry's tx q) */
	uint32_t tx_max_len;              /* dpdk: egress frame limit untagged, MTU + 14 (+4 a tag) */
	uint16_t tx_max_segs;             /* dpdk: segments per frame its device sends */
	struct ferry_port_policy *policy; /* RCU-replaced */
	struct ferry_stage_list *stages[FERRY_STAGE_HOOKS];   /* RCU-replaced; NULL: none attached */
	struct ferry_zcq *zcq[FERRY_MAX_QUEUES];   /* vhost: ferry's own dequeue of guest TX ring q */
	struct rte_mempool *pool;         /* vhost dequeue */
	struct ferry_port_pmd_stats *stats;     /* [n_pmds] */
	struct ferry_qstats *txq_stats;         /* [n_pmds * FERRY_MAX_QUEUES] */
	struct ferry_qstats rxq_stats[FERRY_MAX_QUEUES];  /* one writer: the PMD polling q */
	rte_spinlock_t txq_lock[FERRY_MAX_QUEUES];

	/* --- vhost thread (callbacks) --- */
	struct ferry_zc_mem *zc_mem;      /* the running guest's memory, as ferry maps it */
	uint8_t zc_state;                 /* enum ferry_zc_state of the running (or last) guest */
	bool zc_held;                     /* its queues held while rte_vhost changes the dirty log */

	/* --- control thread only --- */
	bool zc_dma;                      /* dpdk: on a DMA bus (counted in ferry_zc_env) */
	bool zc_noseg;                    /* dpdk: cannot send chained external buffers */
	struct ferry_zc_stats zc_total;   /* vhost: counters of stopped queues */
	struct ferry_zc_stats zc_base;    /* vhost: stats.clear baseline */
	struct ferry_port_conf conf;
	struct ferry_sock_id sock_id;     /* vhost server: the socket file bound (removed only if so) */
	uint16_t n_rxq;                   /* queues PMDs poll (vhost: grows as the guest enables) */
	uint16_t n_pmds;
	int socket;                       /* NUMA node */
	bool link_up;                     /* last state reported as an event */
	uint64_t created_tsc;
	struct ferry_port_pmd_stats base; /* stats.clear baseline */
	struct ferry_qstats rxq_base[FERRY_MAX_QUEUES];
	struct ferry_qstats *txq_base;
} __rte_cache_aligned;

/* Open the device behind pc (probe, configure, start / register the vhost socket).
 * Returns 0 or a FERRY_E* code with err set. The port is not yet visible to PMDs. */
int ferry_port_dpdk_open(struct ferry_port *p, struct rte_mempool *const *pools,
			 unsigned n_pmds, char *err, size_t errlen);
void ferry_port_dpdk_close(struct ferry_port *p);
int ferry_port_dpdk_set_mtu(struct ferry_port *p, uint16_t mtu, char *err, size_t errlen);
bool ferry_port_dpdk_link_up(const struct ferry_port *p);
/* hw_mac and SR-IOV (port_sriov.c), on an opened port. */
int ferry_port_dpdk_hw_setup(struct ferry_port *p, char *err, size_t errlen);
/* SR-IOV: create the port's VFs (sysfs) before its PF is probed. */
int ferry_port_sriov_prepare(const struct ferry_port_conf *pc, char *err, size_t errlen);

int ferry_port_vhost_open(struct ferry_port *p, const struct rte_vhost_device_ops *ops,
			  char *err, size_t errlen);
void ferry_port_vhost_close(struct ferry_port *p);

struct ferry_port *ferry_port_alloc(const struct ferry_port_conf *pc, uint16_t idx, unsigned n_pmds);
void ferry_port_free(struct ferry_port *p);
struct ferry_port_policy *ferry_port_policy_build(const struct ferry_port_conf *pc);

static inline bool
ferry_port_src_allowed(const struct ferry_port_policy *pol, uint64_t src)
{
	if (pol->n_macs == 0)
		return true;
	for (unsigned i = 0; i < pol->n_macs; i++)
		if (pol->macs[i] == src)
			return true;
	return false;
}

/* Receive a burst from queue q. */
static inline uint16_t
ferry_port_rx(struct ferry_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	if (p->type == FERRY_PORT_DPDK)
		return rte_eth_rx_burst(p->eth_port, q, pkts, n);
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	if (vid < 0 || !(__atomic_load_n(&p->vq_rx_on, __ATOMIC_RELAXED) & (UINT32_C(1) << q)))
		return 0;
	struct ferry_zcq *zq = __atomic_load_n(&p->zcq[q], __ATOMIC_ACQUIRE);
	if (zq != NULL)
		return ferry_zcq_rx(zq, p->pool, pkts, n);
	return rte_vhost_dequeue_burst(vid, 2 * q + 1, p->pool, pkts, n);
}

#endif
