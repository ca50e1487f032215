/* ferry_capture.h — packet capture on a port (issue #16): a "capture" stage type (lib/stage) whose
 * instances sit at a port's ingress (rx) and/or egress (tx) hook, run a libpcap filter
 * (pcap_compile → rte_bpf_convert → rte_bpf JIT) over each burst and copy the matching frames
 * (rte_pktmbuf_copy, up to snaplen, into the capture's own mempool) into the capture's MP/SC ring.
 * Frames are never dropped or delayed: a full ring or an empty pool drops the copy and counts it.
 * The control thread drains the ring into a pcapng stream (one interface named after the ferry
 * port, a direction flag per packet, drop counts in the closing statistics block).
 *
 * Attaching the instances to a port is the switch's business (lib/switch/switch_capture.c); this
 * module owns the capture objects and never sees a port. Control thread only, except the stage's
 * burst function. */
#ifndef FERRY_CAPTURE_H
#define FERRY_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <rte_mbuf.h>
#include "ferry_common.h"
#include "ferry_stage.h"

#define FERRY_CAPTURE_MAX          16       /* captures at once */
#define FERRY_CAPTURE_FILTER_MAX   1024     /* bytes of a filter expression */
#define FERRY_CAPTURE_SNAPLEN_MAX  65535
#define FERRY_CAPTURE_RING         4096     /* copies in flight (FERRY_TEST_CAPTURE_RING: tests) */


struct ferry_capture_conf {
	char port[FERRY_NAME_MAX];
	char port_type[16];                  /* "dpdk", "vhostuser": the interface's description */
	unsigned dirs;                       /* FERRY_DIR_RX | FERRY_DIR_TX */
	char filter[FERRY_CAPTURE_FILTER_MAX];   /* "" = every frame */
	uint32_t snaplen;                    /* 1..FERRY_CAPTURE_SNAPLEN_MAX */
	uint64_t count;                      /* frames to write, then end by itself; 0 = no limit */
	int fd;                              /* the output, non-blocking; the capture owns it */
	char path[4096];                     /* as shown by capture.list */
	const void *owner;                   /* who started it (an RPC connection) */
};

struct ferry_capture;

/* A libpcap filter expression compiled for bursts (capture_filter.c; also lib/mirror's). */
struct rte_bpf;
struct ferry_pcap_filter {
	struct rte_bpf *bpf;                 /* NULL: no filter, every frame matches */
	uint64_t (*jit)(void *);             /* its JIT'd code, NULL: rte_bpf's interpreter */
};
/* expr "" = match all. A bad expression: -1 with libpcap's message in err. */
int ferry_pcap_filter_compile(struct ferry_pcap_filter *f, const char *expr, uint32_t snaplen,
			      char *err, size_t errlen);
void ferry_pcap_filter_free(struct ferry_pcap_filter *f);
/* Does libpcap compile expr (no EAL needed: ferryd --check)? -1 with its message. */
int ferry_pcap_filter_check(const char *expr, char *err, size_t errlen);
/* Datapath: bit i set = pkts[i] matches (n <= FERRY_BURST). */
uint64_t ferry_pcap_filter_match(const struct ferry_pcap_filter *f, struct rte_mbuf **pkts,
				 uint16_t n);

/* A new capture: the filter compiled (a bad expression: -1 with libpcap's message in err), ring,
 * pool, the pcapng header and interface written. cc->fd is owned by the capture on success only.
 * Not attached anywhere yet: see ferry_capture_stage(). */
struct ferry_capture *ferry_capture_create(const struct ferry_capture_conf *cc, char *err,
					   size_t errlen);
/* A new stage instance of this capture for hook (FERRY_STAGE_INGRESS = rx, EGRESS = tx), to be
 * attached to the port's list; NULL with err. Destroying it (ferry_stage_destroy, also when the
 * port goes away) tells the capture. */
struct ferry_stage_inst *ferry_capture_stage(struct ferry_capture *c, int hook, char *err,
					     size_t errlen);
/* Write what the ring holds (as the output takes it: a slow reader leaves frames in the ring). */
void ferry_capture_drain(struct ferry_capture *c);
/* Should it end: COUNT frames written, the output failed (reader gone), or its port's stages were
 * destroyed (port deleted)? why: a short reason. */
bool ferry_capture_done(const struct ferry_capture *c, const char **why);
/* Every stage instance of c still attached (for detaching before the capture is closed). */
struct ferry_stage_inst *ferry_capture_inst(const struct ferry_capture *c, int hook);
/* No stage instance of c may exist any more (detached and destroyed after a grace period):
 * the ring drained, the statistics block written, c gone from the captures; its final counters
 * (as capture.list shows them; new reference, may be NULL). The output takes the last bytes as
 * it can (ferry_capture_flush_closing), then it is closed and c freed: never waiting on a slow
 * reader, who may be waiting for this very answer. */
json_t *ferry_capture_finish(struct ferry_capture *c);
/* Write ended captures' last bytes; close and free those done, failed, or 10 s old. wait_ms: how
 * long each may block (0 in the control loop; ferryd's exit waits a little). */
void ferry_capture_flush_closing(int wait_ms);
/* How long the control loop may sleep before the captures want draining: 5 ms while frames
 * arrive or an ended capture is being written, doubling over quiet drains up to the idle 50 ms,
 * so a capture of an idle port wakes the host's cpu no more than no capture at all. */
int ferry_capture_wait_ms(void);

unsigned ferry_capture_id(const struct ferry_capture *c);
const char *ferry_capture_port(const struct ferry_capture *c);
const void *ferry_capture_owner(const struct ferry_capture *c);
/* {id, port, direction, filter, snaplen, count, path, jit, seen, matched, captured, dropped,
 * bytes} */
json_t *ferry_capture_json(const struct ferry_capture *c);
/* Iterate: the capture after prev (NULL: the first), NULL at the end. */
struct ferry_capture *ferry_capture_next(struct ferry_capture *prev);
struct ferry_capture *ferry_capture_find(unsigned id);

#endif
