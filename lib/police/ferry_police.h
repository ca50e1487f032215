/* ferry_police.h — rate limiters of the isolation controls (issue #17): a port's ingress policer
 * and its storm control buckets.
 *
 * A bucket is a token bucket (rate R, depth B) kept as GCRA's one word, the theoretical arrival
 * time `tat`: a frame conforms when tat - now <= tau (tau = B × cost), and then tat grows by its
 * cost (1/R per packet, or per byte). That is srTCM's committed bucket (CIR, CBS; no EBS: yellow
 * does not exist, red is dropped), but in one 64-bit word, so every PMD that polls one of the
 * port's rx queues updates the same bucket with one compare-and-swap per burst: the rate is
 * exact however the port's queues are spread over PMDs (rte_meter's state is several words and
 * would need a lock, or one meter per PMD with rate / n_pmds, wrong when the queues are uneven).
 * Once a frame is red, every later frame of the burst is red too (tat only grows), so the
 * conforming frames are always a prefix of the burst. Units: 1/256 TSC cycle; tat wraps and is
 * only ever compared as a signed difference. */
#ifndef FERRY_POLICE_H
#define FERRY_POLICE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include "ferry_config.h"

#define FERRY_BUCKET_SHIFT 8

struct ferry_bucket {
	uint64_t tat;               /* written by PMDs (CAS) */
	uint64_t cost;              /* per packet, or per byte if bytes; 0: no limit */
	uint64_t tau;               /* burst tolerance */
	uint8_t bytes;
} __rte_cache_aligned;

/* Set b to rate per second (packets, or bytes if bytes) with a depth of burst units; rate 0:
 * no limit. Control thread, before b is published. */
void ferry_bucket_init(struct ferry_bucket *b, uint64_t rate, uint64_t burst, bool bytes);
/* The port's policer bucket from its configuration; false when it has none. */
bool ferry_police_policer_init(struct ferry_bucket *b, const struct ferry_policer_conf *c);
/* Its storm buckets (FERRY_STORM_KINDS of them); false when none is limited. */
bool ferry_police_storm_init(struct ferry_bucket *b, const struct ferry_storm_conf *c);

static inline uint64_t
ferry_bucket_now(void)
{
	return rte_rdtsc() << FERRY_BUCKET_SHIFT;
}

/* How many of pkts[0, n) conform (they are a prefix); pkts NULL: n packets of no size. Takes
 * their tokens. PMD, lock-free. */
static inline uint16_t
ferry_bucket_take(struct ferry_bucket *b, struct rte_mbuf *const *pkts, uint16_t n)
{
	uint64_t now = ferry_bucket_now();
	uint64_t tat = __atomic_load_n(&b->tat, __ATOMIC_RELAXED), t;
	uint16_t k;

	do {
		t = (int64_t)(tat - now) < 0 ? now : tat;
		for (k = 0; k < n && (int64_t)(t - now) <= (int64_t)b->tau; k++)
			t += b->bytes ? b->cost * pkts[k]->pkt_len : b->cost;
		if (k == 0)
			return 0;
	} while (!__atomic_compare_exchange_n(&b->tat, &tat, t, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return k;
}

#endif
