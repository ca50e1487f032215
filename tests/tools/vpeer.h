/* vpeer.h — ferry-vpeer, a test "guest": a virtio-net driver (net_virtio_user) that sends numbered,
 * checksummed UDP frames through a vhost-user switch port and accounts for what it receives.
 * Shared definitions of the three parts: vpeer.c (main loop), vpeer_frame.c (frame format),
 * vpeer_stats.c (receive accounting and the JSON report). */
#ifndef VPEER_H
#define VPEER_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define VPEER_MAX_QUEUES   16
#define VPEER_MAX_FLOWS    4096
#define VPEER_MAX_SENDERS  64
#define VPEER_MAX_EVENTS   32          /* link events and rx gaps kept for the report */
#define VPEER_GAP_NS       100000000ull /* an rx pause longer than this is reported as a gap */
#define VPEER_MAGIC        0x46525956u  /* "FRYV" */
#define VPEER_UDP_PORT     5001
#define VPEER_MAX_SIZES    16          /* --sizes entries */
#define VPEER_MAX_SEGS     32          /* mbufs per frame with --sizes SIZE/SEGS */

/* The UDP payload of every test frame. csum covers the whole UDP payload with csum = 0. */
struct vpeer_hdr {
	uint32_t magic;
	uint16_t sender;     /* sender id (--id, default: last two bytes of the sender's MAC) */
	uint16_t flow;       /* flow index: UDP source port - 1024 */
	uint32_t seq;        /* per-sender sequence number, one per frame */
	uint32_t csum;       /* FNV-1a over the UDP payload */
} __rte_packed;

/* Headers in front of the payload (no VLAN tag): Ethernet + IPv4 + UDP. */
#define VPEER_L2L4_LEN  (RTE_ETHER_HDR_LEN + 20 + 8)
#define VPEER_MIN_SIZE  (VPEER_L2L4_LEN + (int)sizeof(struct vpeer_hdr))
#define VPEER_MAX_SIZE  9728   /* a jumbo frame beyond MTU 9000 (the virtio PMD's VIRTIO_MAX_RX_PKTLEN) */

/* What to send. */
struct vpeer_tx_desc {
	struct rte_ether_addr src, dst;
	uint16_t sender;
	int vlan;            /* -1: untagged */
	uint32_t size;       /* frame length without FCS, VLAN tag included */
};

/* One frame in flight: the header fields that vary per frame. */
struct vpeer_frame_id {
	uint32_t seq;
	uint16_t flow;
};

/* One --sizes entry: frame length and how many chained mbufs carry it (1 = one linear mbuf). */
struct vpeer_size {
	uint32_t len;
	uint16_t segs;
};

/* vpeer_frame.c */
/* Parses "SIZE[/SEGS],..." (sizes VPEER_MIN_SIZE..VPEER_MAX_SIZE, segs 1..VPEER_MAX_SEGS); returns the
 * number of entries or -1. */
int vpeer_parse_sizes(const char *s, struct vpeer_size *out, uint32_t max);
/* Splits a linear frame into segs chained mbufs of (nearly) equal length from mp. */
int vpeer_split(struct rte_mbuf *m, struct rte_mempool *mp, uint16_t segs);
uint16_t vpeer_flow_port(uint16_t flow);
uint32_t vpeer_flow_hash(const struct vpeer_tx_desc *d, uint16_t flow);
int vpeer_build_udp(struct rte_mbuf *m, const struct vpeer_tx_desc *d, struct vpeer_frame_id id);
int vpeer_build_arp(struct rte_mbuf *m, const struct vpeer_tx_desc *d);

enum vpeer_rx_kind {
	VPEER_RX_TEST,       /* a vpeer frame with a valid checksum */
	VPEER_RX_BAD,        /* a vpeer frame (magic matches) that fails validation */
	VPEER_RX_ARP,
	VPEER_RX_OTHER,      /* anything else, including runts */
};

struct vpeer_rx_info {
	enum vpeer_rx_kind kind;
	bool tagged;
	uint16_t vlan;
	struct rte_ether_addr dst, src;
	struct vpeer_hdr hdr;  /* valid for VPEER_RX_TEST and, when long enough, VPEER_RX_BAD */
};

void vpeer_parse(const struct rte_mbuf *m, struct vpeer_rx_info *info);

/* vpeer_stats.c — receive side accounting. */
struct vpeer_sender {
	uint16_t id;
	uint64_t rx;          /* unique frames addressed to us (unicast or group) */
	uint64_t dup;
	uint64_t ooo;         /* frames older than one already seen on the same flow */
	uint64_t foreign;     /* frames of this sender that were not addressed to us */
	uint32_t max_seq;
	bool any;
	int64_t *flow_last;   /* [VPEER_MAX_FLOWS], highest seq per flow, -1 = none */
	uint64_t *seen;       /* bitmap of received seqs, for duplicate detection */
	uint32_t seen_bits;
};

struct vpeer_event {
	uint64_t t_ms;
	uint64_t val;         /* link: 1 up / 0 down; gap: length in ms */
};

struct vpeer_stats {
	uint64_t tx, tx_per_queue[VPEER_MAX_QUEUES];
	uint64_t rx, rx_per_queue[VPEER_MAX_QUEUES];
	uint64_t rx_bad, rx_foreign, rx_arp, rx_other, rx_tagged;
	uint64_t announces;
	uint32_t nb_senders;
	struct vpeer_sender senders[VPEER_MAX_SENDERS];
	uint64_t last_test_rx_ns;  /* 0 = none yet */
	uint64_t max_gap_ms;
	uint64_t max_gap_us;       /* longest wait between two test frames, however short */
	uint32_t nb_gaps, nb_link_events;
	struct vpeer_event gaps[VPEER_MAX_EVENTS];
	struct vpeer_event link_events[VPEER_MAX_EVENTS];
	int64_t link_up_after_ms;  /* -1 = never */
	int64_t synced_after_ms;   /* -1 = not synced / no --sync */
	uint64_t first_tx_ms, last_tx_ms, first_rx_ms, last_rx_ms;
	uint64_t last_poll_ns;     /* scheduling delays: longest time between two RX polls */
	uint64_t poll_gap_max_us, poll_gaps_over_5ms;
};

void vpeer_stats_init(struct vpeer_stats *st);
void vpeer_stats_free(struct vpeer_stats *st);
/* Account one received frame; now_ms/now_ns are relative to program start. */
void vpeer_stats_rx(struct vpeer_stats *st, const struct vpeer_rx_info *info,
		    const struct rte_ether_addr *own, uint64_t now_ns);
void vpeer_stats_link(struct vpeer_stats *st, bool up, uint64_t now_ms);

struct vpeer_report_meta {
	uint16_t id;
	const struct rte_ether_addr *mac;
	uint16_t queues;
	uint64_t duration_ms;
	uint64_t tx_unsent;
	bool link_up_at_end;
	uint64_t rx_nombuf, pool_free_min;   /* RX refill failures (ethdev), fewest free mbufs seen */
	int64_t grown_at_ms;                 /* --grow-at: when the new memory was taken, -1 = never */
	uint64_t tx_from_grown;              /* frames built in that memory */
	const struct vpeer_pcap_info *pcap;  /* --check-pcap: what the capture held, else NULL */
};

/* --check-pcap (vpeer_pcap.c): a capture checked frame by frame. */
struct vpeer_pcap_info {
	uint64_t frames;      /* every frame in the file */
	uint64_t truncated;   /* captured shorter than on the wire */
	uint64_t wrong_size;  /* test frames whose length is not --sizes[seq % n] */
};
int vpeer_pcap_check(int argc, char **argv);
/* --rx-pcap FILE: every frame the peer receives, as received (linearized), into a classic pcap;
 * open returns 0 or -1, write and close do nothing when it is not open. */
int vpeer_rx_pcap_open(const char *path);
void vpeer_rx_pcap_write(const struct rte_mbuf *m);
void vpeer_rx_pcap_close(void);

/* Writes the JSON report to path (if not NULL) and to stdout. Returns 0 or -1. */
int vpeer_report(const struct vpeer_stats *st, const struct vpeer_report_meta *meta,
		 const char *path);

#endif
