/* ferry_pipeline.h — one rx burst through the switch: parse → classify (VLAN, source checks, FDB
 * lookup and learning) → act (unicast, flood, drop) → per-destination tx buffers, flushed as bursts
 * at the end of a PMD loop iteration. The exact semantics are in doc/semantics.md.
 *
 * The pipeline runs on a struct ferry_fwd, one PMD's forwarding state, which lib/pmd owns and
 * embeds: the pipeline does not know the PMD (its poll list, its thread) and the PMD only calls
 * ferry_pipeline_run and ferry_pipeline_flush. */
#ifndef FERRY_PIPELINE_H
#define FERRY_PIPELINE_H

#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include "ferry_common.h"
#include "ferry_fdb.h"
#include "ferry_port.h"
#include "ferry_txbuf.h"

/* What every PMD reads: the switch's datapath view. */
struct ferry_dp {
	struct ferry_port *ports[FERRY_MAX_PORTS];   /* NULL or a live port; RCU */
	uint16_t n_slots;                            /* 1 + highest slot ever used */
	uint16_t n_pmds;
	uint16_t burst;
	struct ferry_fdb *fdb;
	struct rte_rcu_qsbr *qsv;
	struct rte_mempool *pools[RTE_MAX_NUMA_NODES];
};

/* One PMD's forwarding state (one writer: that PMD). */
struct ferry_fwd {
	uint16_t pmd;                   /* PMD index: per-PMD counters, RCU thread id */
	struct ferry_dp *dp;
	struct rte_mempool *pool;       /* flood copies */
	struct ferry_port_txctx txctx;  /* what a port's tx needs of this PMD */
	struct ferry_stage_tx stx;      /* stages' own frames into txb[] (stage_send) */
	struct ferry_fdb_cache fdb_cache;
	uint16_t n_dirty;
	uint16_t dirty[FERRY_MAX_PORTS];   /* txb[] filled this iteration (listed), flushed at its end */
	struct ferry_txbuf txb[FERRY_MAX_PORTS];
};

/* Set up fw for PMD pmd of dp, its copies from pool. */
void ferry_fwd_init(struct ferry_fwd *fw, struct ferry_dp *dp, uint16_t pmd, struct rte_mempool *pool);
/* n frames received on in's rx queue q: classified, counted, queued in tx buffers or freed. */
void ferry_pipeline_run(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q,
			struct rte_mbuf **pkts, uint16_t n);
/* A strict rx queue whose VM does not exist (struct ferry_rxq_ref.owner): every frame dropped as
 * vm_absent. */
#define FERRY_RXQ_VM_ABSENT 0xfffe
/* n frames received on in's rx queue q, which belongs to the VM at port slot owner (or
 * FERRY_RXQ_VM_ABSENT). strict (a dpdk port declared "vm"): policer, rx stages, parse, source
 * checks and ingress stages as usual, the frames classified by the VM's VLANs (untagged: its
 * access or native VLAN); then a frame for the VM (one of its MACs, or broadcast / multicast) goes
 * straight to its tx: no FDB lookup, nothing learned, the VM's egress VLAN rules; the others are
 * dropped (vm_dst, vm_vlan, vm_absent). lenient (a queue the NIC steers the VM's frames to): the
 * normal pipeline, which learns the frames' sources (pipeline_owned.c says why). */
void ferry_pipeline_run_owned(struct ferry_fwd *fw, struct ferry_port *in, uint16_t q,
			      uint16_t owner, uint8_t strict, struct rte_mbuf **pkts, uint16_t n);
/* Send every tx buffer filled since the last call (the end of a loop iteration, and exit). */
void ferry_pipeline_flush(struct ferry_fwd *fw);

#endif
