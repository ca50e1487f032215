/* ferry_txbuf.h — a PMD's tx buffer for one destination port: frames are queued one by one (the
 * pipeline, inline: one store per frame) and leave as one burst, through the port's egress
 * stages and its tx (ferry_txbuf_flush: when the buffer is full, and at the end of each PMD loop
 * iteration). The pipeline fills buffers and the PMD loop flushes them; both use this module and
 * neither calls the other through it. */
#ifndef FERRY_TXBUF_H
#define FERRY_TXBUF_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include "ferry_port.h"

#define FERRY_TXBUF_SIZE FERRY_PORT_TX_MAX

struct ferry_txbuf {
	uint16_t n;
	uint16_t listed;   /* in its PMD's list of buffers to flush (the PMD's business) */
	struct rte_mbuf *m[FERRY_TXBUF_SIZE];
};

/* Queue m; true when the buffer is now full and must be flushed before the next add. */
static inline bool
ferry_txbuf_add(struct ferry_txbuf *tb, struct rte_mbuf *m)
{
	tb->m[tb->n++] = m;
	return unlikely(tb->n == FERRY_TXBUF_SIZE);
}

/* Send what tb holds to p (NULL: the port went away, the frames are freed), through p's egress
 * stages; tb is empty afterwards. */
void ferry_txbuf_flush(struct ferry_txbuf *tb, struct ferry_port *p, const struct ferry_port_txctx *t);

#endif
