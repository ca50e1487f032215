/* olpeer.c — ferry-olpeer: a virtio-net test guest (net_virtio_user) for checksum and TCP
 * segmentation offloads (tests/vhost/offloads.sh). The virtio PMD writes the virtio-net header
 * from the mbuf's TX flags, as a guest driver would.
 *
 *   send:    --send N [--payload P] [--mss M]: N TCP/IPv4 segments of P payload bytes each (one
 *            64 KB frame each, RTE_MBUF_F_TX_TCP_SEG, tso_segsz M), byte j of the stream
 *            (j * 7 + (j >> 8)) & 0xff, sequence numbers from 1000;
 *            --bad KIND: N frames with one broken header field instead: gso_size (0),
 *            hdr_len (beyond the frame), csum (csum_start beyond the frame), gso_type (TCPV6 on an
 *            IPv4 frame), too_long (an IP packet of more than 65535 bytes);
 *            --no-tso: frames of P payload bytes with a partial TCP checksum only (TX_TCP_CKSUM)
 *            --wait S: start sending S seconds after the link is up
 *   receive: --rx-offloads 0|1 (negotiate GUEST_CSUM/GUEST_TSO4/6: rx TCP_LRO), --duration S,
 *            --pcap FILE (every frame received), --report FILE (JSON: rx, lro, max_len, segsz,
 *            csum_good / csum_other: unicast frames the virtio PMD marked RX_L4_CKSUM_GOOD, i.e.
 *            whose header had DATA_VALID, and the other unicast ones)
 * EAL arguments first, then --, then these. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#define SEG_ROOM 32768

static struct {
	unsigned send, payload, mss, rx_ol, no_tso;
	double duration;
	double wait;
	const char *bad, *pcap, *report;
	struct rte_ether_addr src, dst;
} O = { .payload = 64000, .mss = 1448, .duration = 3 };

static uint8_t stream_byte(uint64_t j) { return (uint8_t)((j * 7 + (j >> 8)) & 0xff); }

/* a linear frame buf[0, len) into a chain of SEG_ROOM mbufs */
static struct rte_mbuf *
chain(struct rte_mempool *mp, const uint8_t *buf, uint32_t len)
{
	struct rte_mbuf *h = NULL, *last = NULL;

	for (uint32_t off = 0; off < len;) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == NULL) {
			rte_pktmbuf_free(h);
			return NULL;
		}
		uint32_t k = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(m), len - off);
		memcpy(rte_pktmbuf_mtod(m, void *), buf + off, k);
		m->data_len = (uint16_t)k;
		if (h == NULL) {
			h = m;
			h->pkt_len = 0;
		} else {
			last->next = m;
			h->nb_segs++;
		}
		h->pkt_len += k;
		last = m;
		off += k;
	}
	return h;
}

static struct rte_mbuf *
build(struct rte_mempool *mp, unsigned k)
{
	static uint8_t buf[70000];
	uint32_t payload = O.payload, l2 = 14, l3 = 20, l4 = 20;
	const char *bad = O.bad;

	if (bad && strcmp(bad, "too_long") == 0)
		payload = 65555 - l2 - l3 - l4;   /* IP packet of 65541 bytes */
	else if (bad && strcmp(bad, "gso_type") != 0)
		payload = 200;
	uint32_t len = l2 + l3 + l4 + payload;
	struct rte_ether_hdr *eh = (void *)buf;
	struct rte_ipv4_hdr *ip = (void *)(buf + l2);
	struct rte_tcp_hdr *tcp = (void *)(buf + l2 + l3);
	memset(buf, 0, l2 + l3 + l4);
	eh->dst_addr = O.dst;
	eh->src_addr = O.src;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)RTE_MIN(l3 + l4 + payload, 65535u));
	ip->packet_id = rte_cpu_to_be_16((uint16_t)k);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->src_port = rte_cpu_to_be_16(40000);
	tcp->dst_port = rte_cpu_to_be_16(5201);
	tcp->sent_seq = rte_cpu_to_be_32(1000 + k * O.payload);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	for (uint32_t j = 0; j < payload; j++)
		buf[l2 + l3 + l4 + j] = stream_byte((uint64_t)k * O.payload + j);
	struct rte_mbuf *m = chain(mp, buf, len);
	if (m == NULL)
		return NULL;
	m->l2_len = l2;
	m->l3_len = l3;
	m->l4_len = l4;
	m->tso_segsz = (uint16_t)O.mss;
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	if (bad == NULL && O.no_tso) {
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;   /* a partial checksum only */
	} else if (bad == NULL || strcmp(bad, "too_long") == 0) {
		;
	} else if (strcmp(bad, "gso_size") == 0) {
		m->tso_segsz = 0;
	} else if (strcmp(bad, "hdr_len") == 0) {
		m->l4_len = 255;   /* hdr_len 289 > 254 bytes */
	} else if (strcmp(bad, "csum") == 0) {
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		m->l3_len = 400;   /* csum_start 414, beyond the frame */
	} else if (strcmp(bad, "gso_type") == 0) {
		m->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
	}
	/* the pseudo-header sum a driver puts into the field (DPDK's convention: no length for TSO;
	 * the virtio PMD adds it, as Linux has it) */
	tcp = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l2 + l3);
	tcp->cksum = rte_ipv4_phdr_cksum(rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2),
					 m->ol_flags & ~RTE_MBUF_F_TX_IPV6);
	return m;
}

static volatile int stop;
static void on_sig(int s) { (void)s; stop = 1; }

int
main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0)
		return 2;
	argc -= n;
	argv += n;
	static const struct option lo[] = {
		{ "send", 1, 0, 's' }, { "payload", 1, 0, 'P' }, { "mss", 1, 0, 'M' },
		{ "bad", 1, 0, 'b' }, { "rx-offloads", 1, 0, 'o' }, { "duration", 1, 0, 'd' },
		{ "pcap", 1, 0, 'c' }, { "report", 1, 0, 'r' }, { "mac", 1, 0, 'm' },
		{ "dst", 1, 0, 'D' }, { "no-tso", 0, 0, 'T' }, { "wait", 1, 0, 'w' },
		{ 0, 0, 0, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': O.send = (unsigned)atoi(optarg); break;
		case 'P': O.payload = (unsigned)atoi(optarg); break;
		case 'M': O.mss = (unsigned)atoi(optarg); break;
		case 'b': O.bad = optarg; break;
		case 'o': O.rx_ol = (unsigned)atoi(optarg); break;
		case 'd': O.duration = atof(optarg); break;
		case 'c': O.pcap = optarg; break;
		case 'r': O.report = optarg; break;
		case 'm': rte_ether_unformat_addr(optarg, &O.src); break;
		case 'D': rte_ether_unformat_addr(optarg, &O.dst); break;
		case 'T': O.no_tso = 1; break;
		case 'w': O.wait = atof(optarg); break;
		default: fprintf(stderr, "olpeer: bad option\n"); return 2;
		}
	}
	signal(SIGTERM, on_sig);
	if (O.payload > 65535 - 40)
		O.payload = 65535 - 40;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "olpeer: no port\n");
		return 2;
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create("olpeer", 2047, 64, 0,
						       SEG_ROOM + RTE_PKTMBUF_HEADROOM, rte_socket_id());
	struct rte_eth_conf ec;
	struct rte_eth_dev_info di;
	memset(&ec, 0, sizeof(ec));
	rte_eth_dev_info_get(0, &di);
	ec.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (O.send || O.rx_ol)   /* a receiver with offloads negotiates them both ways */
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if (O.rx_ol)
		ec.rxmode.offloads = RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	ec.rxmode.mtu = 1500;
	printf("olpeer: tx_offload_capa 0x%" PRIx64 " rx_offload_capa 0x%" PRIx64 "\n",
	       di.tx_offload_capa, di.rx_offload_capa);
	if (mp == NULL || rte_eth_dev_configure(0, 1, 1, &ec) != 0 ||
	    rte_eth_rx_queue_setup(0, 0, 1024, rte_socket_id(), NULL, mp) != 0 ||
	    rte_eth_tx_queue_setup(0, 0, 1024, rte_socket_id(), NULL) != 0 || rte_eth_dev_start(0) != 0) {
		fprintf(stderr, "olpeer: port setup failed\n");
		return 2;
	}
	for (int i = 0; i < 100; i++) {
		struct rte_eth_link l;
		rte_eth_link_get_nowait(0, &l);
		if (l.link_status)
			break;
		usleep(100000);
	}
	printf("olpeer: link up\n");
	fflush(stdout);
	pcap_t *pd = NULL;
	pcap_dumper_t *dump = NULL;
	if (O.pcap) {
		pd = pcap_open_dead(DLT_EN10MB, 262144);
		dump = pcap_dump_open(pd, O.pcap);
	}
	if (O.wait > 0)
		usleep((useconds_t)(O.wait * 1e6));
	unsigned sent = 0;
	uint64_t rx = 0, lro = 0, max_len = 0, segsz = 0, good = 0, other = 0;
	uint64_t end = rte_get_tsc_cycles() + (uint64_t)(O.duration * rte_get_tsc_hz());
	static uint8_t lin[262144];
	while (!stop && rte_get_tsc_cycles() < end) {
		if (sent < O.send) {
			struct rte_mbuf *m = build(mp, sent);
			if (m != NULL && rte_eth_tx_burst(0, 0, &m, 1) == 1) {
				sent++;
				usleep(2000);
			} else {
				rte_pktmbuf_free(m);
			}
		}
		struct rte_mbuf *r[32];
		uint16_t k = rte_eth_rx_burst(0, 0, r, 32);
		for (uint16_t i = 0; i < k; i++) {
			rx++;
			if (r[i]->ol_flags & RTE_MBUF_F_RX_LRO) {
				lro++;
				segsz = r[i]->tso_segsz;
			}
			max_len = RTE_MAX(max_len, (uint64_t)r[i]->pkt_len);
			if (!(rte_pktmbuf_mtod(r[i], const uint8_t *)[0] & 1)) {   /* unicast */
				if ((r[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
				    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
					good++;
				else
					other++;
			}
			if (dump && r[i]->pkt_len <= sizeof(lin)) {
				const uint8_t *p = rte_pktmbuf_read(r[i], 0, r[i]->pkt_len, lin);
				struct pcap_pkthdr ph = { .caplen = r[i]->pkt_len, .len = r[i]->pkt_len };
				pcap_dump((u_char *)dump, &ph, p);
			}
			rte_pktmbuf_free(r[i]);
		}
		if (k == 0)
			usleep(200);
	}
	if (dump)
		pcap_dump_close(dump);
	char js[320];
	snprintf(js, sizeof(js), "{\"sent\": %u, \"rx\": %" PRIu64 ", \"lro\": %" PRIu64
		 ", \"max_len\": %" PRIu64 ", \"segsz\": %" PRIu64 ", \"csum_good\": %" PRIu64
		 ", \"csum_other\": %" PRIu64 "}\n", sent, rx, lro, max_len, segsz, good, other);
	fputs(js, stdout);
	if (O.report) {
		FILE *f = fopen(O.report, "w");
		if (f) {
			fputs(js, f);
			fclose(f);
		}
	}
	rte_eth_dev_stop(0);
	rte_eal_cleanup();
	return 0;
}
