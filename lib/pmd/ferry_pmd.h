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
 * on the ring's own access_lock.
 *
 * Performance counters (pmd.list): busy/idle cycles and iterations per PMD; a histogram of rx
 * burst sizes (every rx call, empty ones included); per rx queue the cycles from its rx call
 * through the pipeline for its non-empty bursts, kept in the PMD's own array indexed by (port
 * slot, queue) so the control thread attributes them to (port, q) whatever poll list was current.
 * The tx flush at the end of a round is busy time no queue is charged with. The PMD alone writes
 * them; the control thread closes an interval (ferry_pmd_perf_sample, once a second) by keeping
 * the previous values, so "the last interval" is the last whole second or so. */
#ifndef FERRY_PMD_H
#define FERRY_PMD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include "ferry_common.h"
#include "ferry_pipeline.h"

/* The poll list holds a port's queues together: the first of them has group = how many (the
 * others 0). A port's queues share one budget of `burst` frames per round, so a guest's share of
 * the PMD does not grow with its queue count (security #21: 32 queue pairs are not 32 shares).
 *
 * An rx queue may belong to one VM (issue #18): owner is the slot of that vhostuser port,
 * FERRY_PORT_NONE for a shared queue (the normal pipeline), FERRY_RXQ_VM_ABSENT for a strict
 * queue whose VM does not exist. strict: a dpdk port declared "vm" (every frame is that VM's or
 * dropped); lenient: a queue the NIC steers a VM's frames to (ferry_port.rxq_vm: the normal
 * pipeline today, the owner kept for receive zero-copy). See ferry_pipeline_run_owned. */
struct ferry_rxq_ref {
	struct ferry_port *port;
	uint16_t q;
	uint16_t group;
	uint16_t owner;                 /* vhostuser slot, FERRY_PORT_NONE, FERRY_RXQ_VM_ABSENT */
	uint8_t strict;                 /* owner's mode: 1 strict, 0 lenient */
};

struct ferry_poll_list {
	uint16_t n;
	struct ferry_rxq_ref rxq[];
};

/* rx burst size buckets: 0, 1, 2-3, 4-7, 8-15, 16-31, 32 (bucket = rte_fls_u32(size)) */
#define FERRY_PMD_HIST 7
extern const char *const ferry_pmd_hist_names[FERRY_PMD_HIST];

/* What the PMD counts (the totals) and the control thread's view of one interval (deltas). */
struct ferry_pmd_counts {
	uint64_t tsc, busy_cycles, idle_cycles, pkts, iterations;
	uint64_t hist[FERRY_PMD_HIST];
};

/* The control thread's: the last closed interval, per PMD and per (port slot, queue). */
struct ferry_pmd_interval {
	struct ferry_pmd_counts prev, delta;      /* delta.tsc: the interval's length in cycles */
	uint64_t rxq_prev[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];
	uint64_t rxq_delta[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];
	uint64_t rxq_base[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];   /* at the slot's port's arrival */
	uint16_t gen[FERRY_MAX_PORTS];            /* slot generation rxq_base belongs to */
};

struct ferry_pmd {
	/* hot */
	struct ferry_poll_list *poll;   /* RCU-replaced by the control thread */
	uint64_t busy_cycles, idle_cycles, pkts, iterations;
	volatile int stop;
	uint64_t hist[FERRY_PMD_HIST] __rte_cache_aligned;     /* rx calls by burst size */
	uint64_t rxq_cycles[FERRY_MAX_PORTS][FERRY_MAX_QUEUES]; /* by (port slot, queue) */
	/* control */
	unsigned lcore;
	int socket;
	bool running;
	struct ferry_pmd_interval ival __rte_cache_aligned;   /* the control thread writes it */
	struct ferry_fwd fwd;           /* the pipeline's state: its index, tx buffers, FDB cache */
} __rte_cache_aligned;

struct ferry_pmd *ferry_pmd_create(struct ferry_dp *dp, uint16_t idx, unsigned lcore);
void ferry_pmd_free(struct ferry_pmd *pmd);
int ferry_pmd_launch(struct ferry_pmd *pmd);
void ferry_pmd_join(struct ferry_pmd *pmd);
/* Replace the poll list (control thread). The old one is freed after a grace period. */
void ferry_pmd_set_poll(struct ferry_pmd *pmd, struct ferry_poll_list *pl);

/* Control thread. The PMD's totals now. */
void ferry_pmd_counts(const struct ferry_pmd *pmd, struct ferry_pmd_counts *c);
/* Forget the per-queue cycles of slots whose generation (gen[slot], bumped when a port takes the
 * slot) changed since they were last seen: a new port starts from 0. */
void ferry_pmd_perf_sync(struct ferry_pmd *pmd, const uint16_t gen[FERRY_MAX_PORTS]);
/* Close the interval: pmd->ival.delta and rxq_delta become what happened since the last call. */
void ferry_pmd_perf_sample(struct ferry_pmd *pmd, const uint16_t gen[FERRY_MAX_PORTS]);
/* Cycles queue (slot, q) took on this PMD since its port arrived. */
uint64_t ferry_pmd_rxq_cycles(const struct ferry_pmd *pmd, uint16_t slot, uint16_t q);

#endif
