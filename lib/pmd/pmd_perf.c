/* pmd_perf.c — the control thread's side of the PMD performance counters: read the totals a PMD
 * keeps, close an interval (deltas since the previous close), start a new port's queues from 0. */
#include <string.h>
#include <rte_cycles.h>
#include "ferry_pmd.h"

const char *const ferry_pmd_hist_names[FERRY_PMD_HIST] = {
	"0", "1", "2-3", "4-7", "8-15", "16-31", "32",
};

void
ferry_pmd_counts(const struct ferry_pmd *pmd, struct ferry_pmd_counts *c)
{
	c->tsc = rte_rdtsc();
	c->busy_cycles = pmd->busy_cycles;
	c->idle_cycles = pmd->idle_cycles;
	c->pkts = pmd->pkts;
	c->iterations = pmd->iterations;
	for (int b = 0; b < FERRY_PMD_HIST; b++)
		c->hist[b] = pmd->hist[b];
}

void
ferry_pmd_perf_sync(struct ferry_pmd *pmd, const uint16_t gen[FERRY_MAX_PORTS])
{
	struct ferry_pmd_interval *v = &pmd->ival;

	for (unsigned i = 0; i < FERRY_MAX_PORTS; i++) {
		if (v->gen[i] == gen[i])
			continue;
		/* a slot never used before counts from 0; a reused one from now (the new port's
		 * cycles since it arrived, at most a sampling period, are lost) */
		bool fresh = v->gen[i] == 0;
		v->gen[i] = gen[i];
		for (unsigned q = 0; q < FERRY_MAX_QUEUES; q++) {
			uint64_t c = fresh ? 0 : pmd->rxq_cycles[i][q];
			v->rxq_base[i][q] = v->rxq_prev[i][q] = c;
			v->rxq_delta[i][q] = 0;
		}
	}
}

void
ferry_pmd_perf_sample(struct ferry_pmd *pmd, const uint16_t gen[FERRY_MAX_PORTS])
{
	struct ferry_pmd_interval *v = &pmd->ival;
	struct ferry_pmd_counts now;

	ferry_pmd_perf_sync(pmd, gen);
	ferry_pmd_counts(pmd, &now);
	v->delta.tsc = now.tsc - v->prev.tsc;
	v->delta.busy_cycles = now.busy_cycles - v->prev.busy_cycles;
	v->delta.idle_cycles = now.idle_cycles - v->prev.idle_cycles;
	v->delta.pkts = now.pkts - v->prev.pkts;
	v->delta.iterations = now.iterations - v->prev.iterations;
	for (int b = 0; b < FERRY_PMD_HIST; b++)
		v->delta.hist[b] = now.hist[b] - v->prev.hist[b];
	v->prev = now;
	for (unsigned i = 0; i < FERRY_MAX_PORTS; i++)
		for (unsigned q = 0; q < FERRY_MAX_QUEUES; q++) {
			uint64_t c = pmd->rxq_cycles[i][q];
			v->rxq_delta[i][q] = c - v->rxq_prev[i][q];
			v->rxq_prev[i][q] = c;
		}
}

uint64_t
ferry_pmd_rxq_cycles(const struct ferry_pmd *pmd, uint16_t slot, uint16_t q)
{
	return pmd->rxq_cycles[slot][q] - pmd->ival.rxq_base[slot][q];
}
