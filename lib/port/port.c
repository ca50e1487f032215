/* port.c — the registry of port types, allocating and freeing ports, the classifier's per-port
 * policy built from its config, and reading a PMD's counters whole. */
#define ALLOW_EXPERIMENTAL_API   /* rte_seqcount_* are experimental in DPDK 22.11 */
#include <string.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include "ferry_port.h"
#include "ferry_pkt.h"

/* A port type: one file with its struct ferry_port_ops, and one line here. */
static const struct ferry_port_ops *const port_types[] = {
	[FERRY_PORT_DPDK] = &ferry_port_dpdk_ops,
	[FERRY_PORT_VHOST] = &ferry_port_vhost_ops,
};
_Static_assert(RTE_DIM(port_types) == FERRY_PORT_NTYPES, "every port type has its ops");

const struct ferry_port_ops *
ferry_port_type_ops(const struct ferry_port_conf *pc)
{
	return port_types[pc->type];
}

int
ferry_port_prepare(const struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const struct ferry_port_ops *ops = ferry_port_type_ops(pc);

	return ops->prepare != NULL ? ops->prepare(pc, err, errlen) : 0;
}

const char *
ferry_port_eal_device(const struct ferry_port_conf *pc)
{
	const struct ferry_port_ops *ops = ferry_port_type_ops(pc);

	return ops->eal_device != NULL ? ops->eal_device(pc) : NULL;
}

int
ferry_port_open(struct ferry_port *p, const struct ferry_port_host *host, char *err,
		size_t errlen)
{
	p->host = host;
	return p->ops->open(p, err, errlen);
}

void
ferry_port_types_poll(void)
{
	for (unsigned i = 0; i < RTE_DIM(port_types); i++)
		if (port_types[i]->poll != NULL)
			port_types[i]->poll();
}

struct ferry_port_policy *
ferry_port_policy_build(const struct ferry_port_conf *pc)
{
	struct ferry_port_policy *pol = rte_zmalloc("port_policy", sizeof(*pol), RTE_CACHE_LINE_SIZE);

	if (pol == NULL)
		return NULL;
	ferry_vlan_policy_build(&pc->vlan, &pol->vlan);
	for (unsigned i = 0; i < pc->n_macs; i++) {
		uint64_t w = 0;
		memcpy(&w, pc->macs[i].addr_bytes, RTE_ETHER_ADDR_LEN);
		pol->macs[i] = w;
	}
	pol->n_macs = pc->n_macs;
	pol->off = pc->admin_down ? FERRY_PORT_OFF_ADMIN : 0;
	if (pc->type == FERRY_PORT_DPDK && pc->vm[0] != '\0')   /* a VM's own function: rx only */
		pol->off |= FERRY_PORT_OFF_VM;
	pol->mac_limit = ferry_port_conf_mac_limit(pc);
	if (ferry_police_policer_init(&pol->policer, &pc->policer))
		pol->controls |= FERRY_CTL_POLICER;
	if (ferry_police_storm_init(pol->storm, &pc->storm))
		pol->controls |= FERRY_CTL_STORM;
	return pol;
}

struct ferry_port *
ferry_port_alloc(const struct ferry_port_conf *pc, uint16_t idx, unsigned n_pmds)
{
	struct ferry_port *p = rte_zmalloc("port", sizeof(*p), RTE_CACHE_LINE_SIZE);
	size_t nq = (size_t)n_pmds * FERRY_MAX_QUEUES;

	if (p == NULL)
		return NULL;
	p->ops = ferry_port_type_ops(pc);
	p->idx = idx;
	p->vid = -1;
	p->zc_state = FERRY_ZC_NO_GUEST;
	p->rx_state = FERRY_ZC_NO_GUEST;
	p->n_pmds = n_pmds;
	p->socket = SOCKET_ID_ANY;
	p->created_tsc = rte_get_tsc_cycles();
	ferry_port_conf_copy(&p->conf, pc);
	for (unsigned q = 0; q < FERRY_MAX_QUEUES; q++) {
		rte_spinlock_init(&p->txq_lock[q]);
		p->rxq_vm[q] = FERRY_PORT_NONE;
	}
	p->stats = rte_zmalloc("port_stats", sizeof(*p->stats) * n_pmds, RTE_CACHE_LINE_SIZE);
	p->txq_stats = rte_zmalloc("txq_stats", sizeof(*p->txq_stats) * nq, RTE_CACHE_LINE_SIZE);
	p->txq_base = rte_zmalloc("txq_base", sizeof(*p->txq_base) * nq, 0);
	p->policy = ferry_port_policy_build(pc);
	if (p->stats == NULL || p->txq_stats == NULL || p->txq_base == NULL || p->policy == NULL) {
		ferry_port_free(p);
		return NULL;
	}
	return p;
}

void
ferry_port_free(struct ferry_port *p)
{
	if (p == NULL)
		return;
	ferry_port_conf_clear(&p->conf);
	for (int h = 0; h < FERRY_STAGE_HOOKS; h++)   /* PMDs no longer see the port */
		ferry_stage_list_free(p->stages[h]);
	rte_free(p->stats);
	rte_free(p->txq_stats);
	rte_free(p->txq_base);
	rte_free(p->policy);
	rte_free(p);
}

void
ferry_port_stats_read(const struct ferry_port *p, uint16_t pmd, struct ferry_port_pmd_stats *out)
{
	const struct ferry_port_pmd_stats *s = &p->stats[pmd];
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&s->seq);
		*out = *s;
	} while (rte_seqcount_read_retry(&s->seq, sn));
}

void
ferry_port_rxq_read(const struct ferry_port *p, uint16_t pmd, uint16_t q, struct ferry_qstats *out)
{
	const rte_seqcount_t *seq = &p->stats[pmd].seq;
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(seq);
		*out = p->rxq_stats[q];
	} while (rte_seqcount_read_retry(seq, sn));
}
