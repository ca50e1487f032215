/* port_dpdk_rss.c — a dpdk port's rx queues: rxq shared ones RSS spreads over, then vm_queues
 * reserved for VMs (lib/steer gives each to one VM with an rte_flow rule). RSS must never pick a
 * reserved queue, or shared traffic would reach a VM's queue: the redirection table (RETA) is
 * rewritten to name only the shared queues. A device without one, or refusing it, keeps its
 * reserved queues (PMDs poll them) but p->rss_note says why steering must not use them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_errno.h>
#include "port_private.h"

int
ferry_port_dpdk_queues(struct ferry_port *p, const struct rte_eth_dev_info *di, unsigned n_pmds,
		       char *err, size_t errlen)
{
	uint16_t maxq = RTE_MIN(di->max_rx_queues, FERRY_MAX_QUEUES), vmq = p->conf.vm_queues;
	uint16_t want = p->conf.rxq ? p->conf.rxq : (uint16_t)RTE_MAX(1u, RTE_MIN(n_pmds, maxq));

	if (vmq != 0 && (unsigned)want + vmq > maxq) {
		snprintf(err, errlen, "port %s: rxq %u + vm_queues %u need %u rx queues; %s takes at "
			 "most %u%s", p->conf.name, want, vmq, want + vmq, di->driver_name, maxq,
			 maxq < di->max_rx_queues ? " (ferry's limit)" : " (its max_rx_queues)");
		return FERRY_EINVAL;
	}
	p->n_rss = RTE_MAX(1, RTE_MIN(want, maxq - vmq));
	p->n_rxq = p->n_rss + vmq;
	return 0;
}

void
ferry_port_dpdk_rss_confine(struct ferry_port *p)
{
	struct rte_eth_rss_reta_entry64 *reta;
	struct rte_eth_dev_info di;
	unsigned groups;
	int rc;

	p->rss_note[0] = '\0';
	if (p->n_rxq == p->n_rss)
		return;   /* no reserved queue to keep RSS off */
	if ((rc = rte_eth_dev_info_get(p->eth_port, &di)) != 0 || di.reta_size == 0) {
		snprintf(p->rss_note, sizeof(p->rss_note), "%s has no RSS redirection table: RSS "
			 "could spread shared traffic into the vm queues", rc ? "the device" :
			 di.driver_name);
		return;
	}
	groups = (di.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE;
	reta = calloc(groups, sizeof(*reta));
	if (reta == NULL) {
		snprintf(p->rss_note, sizeof(p->rss_note), "out of memory for the RETA");
		return;
	}
	for (unsigned i = 0; i < di.reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= UINT64_C(1) << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % p->n_rss);
	}
	rc = rte_eth_dev_rss_reta_update(p->eth_port, reta, di.reta_size);
	free(reta);
	if (rc != 0)
		snprintf(p->rss_note, sizeof(p->rss_note), "rte_eth_dev_rss_reta_update refused: %s "
			 "(RSS could spread shared traffic into the vm queues)", rte_strerror(-rc));
	else
		FERRY_LOG(INFO, "port %s: RSS over rx queues 0..%u, %u reserved for VMs (RETA of %u)",
			  p->conf.name, p->n_rss - 1, p->n_rxq - p->n_rss, di.reta_size);
}
