/* port_private.h — what the port type files share inside lib/port (not a public API): the egress
 * checks and counters of a tx burst (port_tx.c), and the DPDK type's helpers. */
#ifndef FERRY_PORT_PRIVATE_H
#define FERRY_PORT_PRIVATE_H

#include "ferry_port.h"

/* Keep what p can send out of m[0, n) (order kept), frames beyond max_len untagged or max_segs
 * segments fixed or dropped and counted, and take their lengths into len: once a driver has
 * the mbufs it may free them at once. Returns how many remain. */
uint16_t ferry_port_tx_fit(struct ferry_port *p, const struct ferry_port_txctx *t,
			   struct rte_mbuf **m, uint16_t n, uint32_t max_len, uint16_t max_segs,
			   uint32_t *len);
/* Count sent of n frames (lengths len) sent on tx queue q; the rest as tx_full drops. */
void ferry_port_tx_done(struct ferry_port *p, const struct ferry_port_txctx *t, uint16_t q,
			const uint32_t *len, uint16_t n, uint16_t sent);

/* The same for a tx op that needs no per-frame lengths: *bytes, the kept frames' length in all;
 * ferry_port_tx_done_sum counts them (m[sent, n), not sent, still the caller's). */
uint16_t ferry_port_tx_fit_sum(struct ferry_port *p, const struct ferry_port_txctx *t,
			       struct rte_mbuf **m, uint16_t n, uint32_t max_len, uint16_t max_segs,
			       uint64_t *bytes);
void ferry_port_tx_done_sum(struct ferry_port *p, const struct ferry_port_txctx *t, uint16_t q,
			    struct rte_mbuf *const *m, uint16_t n, uint16_t sent, uint64_t bytes);

/* port_dpdk_events.c: hot-unplug callbacks find the port (open) or no longer do (close). */
void ferry_port_dpdk_watch(struct ferry_port *p);
void ferry_port_dpdk_unwatch(struct ferry_port *p);

/* port_sriov.c: hw_mac and SR-IOV on an opened DPDK port; the VFs before its PF is probed. */
int ferry_port_dpdk_hw_setup(struct ferry_port *p, char *err, size_t errlen);
int ferry_port_sriov_prepare(const struct ferry_port_conf *pc, char *err, size_t errlen);

/* port_dpdk_rss.c: the shared (rxq, RSS) and reserved (vm_queues) rx queues of a dpdk port
 * (p->n_rss, p->n_rxq; FERRY_EINVAL naming the device's max when it has too few), and after start
 * the RETA confined to the shared ones (p->rss_note: why not, "" when done or nothing to do). */
int ferry_port_dpdk_queues(struct ferry_port *p, const struct rte_eth_dev_info *di, unsigned n_pmds,
			   char *err, size_t errlen);
void ferry_port_dpdk_rss_confine(struct ferry_port *p);

#endif
