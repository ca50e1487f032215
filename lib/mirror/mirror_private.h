/* mirror_private.h — the mirror object and its stage's state, shared by mirror.c and
 * mirror_stage.c. Not a public API. */
#ifndef FERRY_MIRROR_PRIVATE_H
#define FERRY_MIRROR_PRIVATE_H

#include <rte_mempool.h>
#include "ferry_capture.h"
#include "ferry_mirror.h"
#include "ferry_port.h"

/* Per PMD, one writer each; summed when read. */
struct mir_ctr {
	uint64_t selected;   /* frames the mirror chose (ports, direction, vlans, filter) */
	uint64_t failed;     /* ... of which no copy was made: no mbuf, or the output is down */
} __rte_cache_aligned;

/* What the output had sent and dropped on tx when the mirror began (its counters from then). */
struct mir_base {
	uint64_t tx_pkts, tx_bytes, tx_drops;
};

struct ferry_mirror {
	struct ferry_mirror_conf conf;
	struct ferry_pcap_filter filter;
	struct ferry_port *out;          /* the output; the mirror goes before it does */
	struct rte_mempool *pool;        /* copies */
	struct mir_ctr *ctr;             /* [FERRY_MAX_PMDS] */
	struct mir_base base;
};

/* A stage instance's state: the mirror, the source port, and the side it copies. */
struct mir_tap {
	struct ferry_mirror *m;
	struct ferry_port *src;
	int hook;                        /* FERRY_STAGE_RX or FERRY_STAGE_EGRESS */
};

void mir_stage_register(void);

#endif
