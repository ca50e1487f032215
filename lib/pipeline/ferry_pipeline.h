/* ferry_pipeline.h — one rx burst through the switch: parse → classify (VLAN, source checks, FDB
 * lookup and learning) → act (unicast, flood, drop) → per-destination tx buffers.
 * The exact semantics are in doc/semantics.md. */
#ifndef FERRY_PIPELINE_H
#define FERRY_PIPELINE_H

#include <stdint.h>
#include <rte_mbuf.h>
#include "ferry_pmd.h"
#include "ferry_port.h"

void ferry_pipeline_run(struct ferry_pmd *pmd, struct ferry_port *in, uint16_t q,
			struct rte_mbuf **pkts, uint16_t n);

#endif
