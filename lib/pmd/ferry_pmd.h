/* ferry_pmd.h — poll-mode threads: each owns a list of (port, rx queue) to poll and the pipeline's
 * forwarding state (struct ferry_fwd: per-destination tx buffers the pipeline fills and flushes).
 * Nothing here is shared between PMDs except the ports table and the FDB (both RCU-protected
 * through one QSBR variable, thread id = PMD index).
 *
 * Tx queues: a DPDK port has one tx queue per PMD where the device allows (PMD i uses queue
 * i % n_txq); with fewer queues than PMDs a per-queue spinlock is taken around one tx burst — the
 * only lock on the path, bounded by one burst and absent when queues suffice. A vhost port's guest
 * RX rings are split among PMDs (ring k of the enabled ones goes to PMD k % n_pmds); when a guest
 * enables fewer rings than there are PMDs they share them, and rte_vhost_enqueue_burst serializes
 * on the ring's own access_lock. */
#ifndef FERRY_PMD_H
#define FERRY_PMD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include "ferry_common.h"
#include "ferry_pipeline.h"

struct ferry_rxq_ref {
	struct ferry_port *port;
	uint16_t q;
};

struct ferry_poll_list {
	uint16_t n;
	struct ferry_rxq_ref rxq[];
};

struct ferry_pmd {
	/* hot */
	struct ferry_poll_list *poll;   /* RCU-replaced by the control thread */
	uint64_t busy_cycles, idle_cycles, pkts, iterations;
	volatile int stop;
	/* control */
	unsigned lcore;
	int socket;
	bool running;
	struct ferry_fwd fwd;           /* the pipeline's state: its index, tx buffers, FDB cache */
} __rte_cache_aligned;

struct ferry_pmd *ferry_pmd_create(struct ferry_dp *dp, uint16_t idx, unsigned lcore);
void ferry_pmd_free(struct ferry_pmd *pmd);
int ferry_pmd_launch(struct ferry_pmd *pmd);
void ferry_pmd_join(struct ferry_pmd *pmd);
/* Replace the poll list (control thread). The old one is freed after a grace period. */
void ferry_pmd_set_poll(struct ferry_pmd *pmd, struct ferry_poll_list *pl);

#endif
