/* capture_private.h — what the files of lib/capture share: the capture object, the metadata each
 * copy carries in its mbuf's private area, and the pcapng writer. Not a public API. */
#ifndef FERRY_CAPTURE_PRIVATE_H
#define FERRY_CAPTURE_PRIVATE_H

#include <rte_bpf.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include "ferry_capture.h"

/* Per PMD, one writer each; summed when read. */
struct cap_ctr {
	uint64_t seen;      /* frames that went past the capture's stage instances */
	uint64_t matched;   /* ... and matched the filter */
	uint64_t dropped;   /* matched, but no copy: pool empty or ring full */
} __rte_cache_aligned;

/* In each copy's private area (the pool's priv_size). */
struct cap_meta {
	uint64_t tsc;        /* when its burst went past the stage */
	uint32_t orig_len;   /* the frame's length (the copy holds at most snaplen of it) */
	uint8_t dir;         /* FERRY_DIR_RX or FERRY_DIR_TX */
};

/* The pcapng stream: blocks are built in buf and written as the output takes them (the output is
 * non-blocking: a FIFO whose reader is slow keeps bytes here, and frames in the ring). */
struct cap_out {
	int fd;
	bool failed;           /* a write failed (EPIPE: the reader went away) */
	bool grow;             /* the capture has ended: buf grows to take all that is left */
	char *buf;
	size_t len, cap;
	uint64_t start_ns, start_tsc, tsc_hz;   /* wall clock at start, to stamp TSC readings */
};

struct ferry_capture {
	unsigned id;
	struct ferry_capture_conf conf;
	struct ferry_pcap_filter filter;     /* conf.filter compiled (capture_filter.c) */
	struct rte_ring *ring;               /* copies: PMDs enqueue (MP), the control thread (SC) */
	struct rte_mempool *pool;            /* the copies' mbufs */
	struct ferry_stage_inst *inst[FERRY_STAGE_HOOKS];   /* attached instances, NULL once gone */
	bool had_inst;                       /* an instance was made (so none left = port gone) */
	uint64_t captured, bytes;            /* written to the output (control thread) */
	uint64_t start_ns;
	struct cap_out out;
	struct cap_ctr *ctr;                 /* [FERRY_MAX_PMDS] */
	struct ferry_capture *closing_next;  /* ended, its output still being written */
	uint64_t close_deadline_tsc;
};

void cap_stage_register(void);
/* The stage's state is a tap: the capture and the direction it copies with. */
struct cap_tap {
	struct ferry_capture *cap;
	int hook;
};

/* capture_pcapng.c */
int cap_out_open(struct cap_out *o, int fd, size_t cap);
/* Section header and the one interface (the port), with snaplen. -1 if out of memory. */
int cap_out_header(struct cap_out *o, const struct ferry_capture_conf *cc);
/* The largest packet block for caplen bytes; room for n more bytes (growing buf if o->grow)? */
size_t cap_out_packet_size(uint32_t caplen);
bool cap_out_reserve(struct cap_out *o, size_t n);
/* An enhanced packet block for the copy m (its cap_meta: timestamp, length, direction). */
void cap_out_packet(struct cap_out *o, const struct rte_mbuf *m, const struct cap_meta *meta);
/* The interface statistics block: received, filter-accepted, dropped, delivered. */
void cap_out_stats(struct cap_out *o, uint64_t start_ns, uint64_t seen, uint64_t matched,
		   uint64_t dropped, uint64_t delivered);
/* Write what the output takes now (wait_ms > 0: up to that long for a slow reader). */
void cap_out_flush(struct cap_out *o, int wait_ms);
uint64_t cap_out_ns(const struct cap_out *o, uint64_t tsc);
void cap_out_close(struct cap_out *o);

#endif
