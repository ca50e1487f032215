/* police.c — setting up the isolation controls' buckets from a port's configuration (the
 * per-burst check is inline in ferry_police.h). */
#include <string.h>
#include "ferry_police.h"

#define DEFAULT_BURST_DIV 100          /* default depth: 10 ms of the rate */
#define MIN_BURST_PKTS 32              /* ... but at least one rx burst */
#define MIN_BURST_BYTES (32 * 1518)

void
ferry_bucket_init(struct ferry_bucket *b, uint64_t rate, uint64_t burst, bool bytes)
{
	memset(b, 0, sizeof(*b));
	if (rate == 0)
		return;
	b->bytes = bytes;
	b->cost = RTE_MAX((rte_get_tsc_hz() << FERRY_BUCKET_SHIFT) / rate, UINT64_C(1));
	/* tau = (burst - 1) × cost: a full bucket lets burst frames (bytes) through at once */
	b->tau = (RTE_MAX(burst, UINT64_C(1)) - 1) * b->cost;
	b->tat = ferry_bucket_now();
}

bool
ferry_police_policer_init(struct ferry_bucket *b, const struct ferry_policer_conf *c)
{
	uint64_t rate, burst;

	if (c->pps != 0) {
		rate = c->pps;
		burst = c->burst != 0 ? c->burst : RTE_MAX(rate / DEFAULT_BURST_DIV,
							    (uint64_t)MIN_BURST_PKTS);
	} else {
		rate = (uint64_t)c->kbps * 1000 / 8;   /* bytes per second */
		burst = c->burst != 0 ? (uint64_t)c->burst * 1000 :
			RTE_MAX(rate / DEFAULT_BURST_DIV, (uint64_t)MIN_BURST_BYTES);
	}
	ferry_bucket_init(b, rate, burst, c->pps == 0);
	return rate != 0;
}

bool
ferry_police_storm_init(struct ferry_bucket *b, const struct ferry_storm_conf *c)
{
	bool any = false;

	for (unsigned k = 0; k < FERRY_STORM_KINDS; k++) {
		uint64_t rate = c->pps[k];
		ferry_bucket_init(&b[k], rate, RTE_MAX(rate / DEFAULT_BURST_DIV,
						       (uint64_t)MIN_BURST_PKTS), false);
		any |= rate != 0;
	}
	return any;
}
