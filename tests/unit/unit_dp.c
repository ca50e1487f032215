/* unit_dp.c — the switch without a PMD, for the pipeline suites: a datapath (struct ferry_dp) of
 * ports parsed from JSON, allocated but never opened, an FDB and one PMD's forwarding state; the
 * frames a test injects stop in the tx buffers, where the test looks. */
#include <string.h>
#include <rte_malloc.h>
#include <jansson.h>
#include "unit.h"
#include "ferry_pipeline.h"
#include "ferry_fdb.h"

unsigned
unit_dp_setup(struct ferry_dp *dp, struct ferry_fwd *fw, const char *fdb_name,
	      const char *const *port_json, unsigned n)
{
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	unsigned i;

	memset(dp, 0, sizeof(*dp));
	rte_rcu_qsbr_init(v, 1);
	dp->qsv = v;
	dp->n_pmds = 1;
	dp->burst = FERRY_BURST;
	dp->pools[0] = unit_pool;
	dp->fdb = ferry_fdb_create(fdb_name, 1024, 0, v);
	for (i = 0; i < n; i++) {
		struct ferry_port_conf pc;
		char err[256];
		json_t *j = json_loads(port_json[i], 0, NULL);
		if (ferry_port_conf_parse(j, "t", &pc, err, sizeof(err)) != 0)
			fprintf(stderr, "  setup: %s\n", err);
		dp->ports[i] = ferry_port_alloc(&pc, (uint16_t)i, 1);
		ferry_port_conf_clear(&pc);
		json_decref(j);
	}
	dp->n_slots = (uint16_t)n;
	memset(fw, 0, sizeof(*fw));
	ferry_fwd_init(fw, dp, 0, unit_pool);
	return n;
}

void
unit_dp_teardown(struct ferry_dp *dp, unsigned n_ports)
{
	for (unsigned i = 0; i < n_ports; i++)
		ferry_port_free(dp->ports[i]);
	ferry_fdb_free(dp->fdb);
	rte_free(dp->qsv);
}

/* Forget the queued frames (free our references). */
void
unit_dp_reset_tx(struct ferry_fwd *fw, unsigned n_ports)
{
	for (unsigned i = 0; i < n_ports; i++) {
		for (unsigned k = 0; k < fw->txb[i].n; k++)
			rte_pktmbuf_free(fw->txb[i].m[k]);
		fw->txb[i].n = 0;
		fw->txb[i].listed = 0;
	}
	fw->n_dirty = 0;
}
