/* vpeer_pcap.c — `ferry-vpeer --check-pcap FILE [--sizes LIST] [--report FILE]`: checks a capture
 * (e.g. what a net_pcap port of the switch wrote) frame by frame with the receiver's own code:
 * every vpeer frame is parsed and validated exactly as a receiving peer does (lengths, IPv4 header
 * checksum, UDP port, payload checksum), accounted per sender (unique, duplicates, per-flow order,
 * missing seqs) and, with --sizes, its length must be the one its sender used for that seq. Prints
 * (and writes) the usual JSON report with a "pcap" object {frames, truncated, wrong_size}. No EAL:
 * the frames are handed to vpeer_parse in an mbuf header that points into the capture buffer. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include "vpeer.h"

int vpeer_pcap_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "check-pcap", 1, NULL, 'c' }, { "sizes", 1, NULL, 'z' }, { "report", 1, NULL, 'R' },
		{ NULL, 0, NULL, 0 } };
	struct vpeer_size sizes[VPEER_MAX_SIZES];
	struct vpeer_pcap_info info = { 0 };
	static struct vpeer_stats st;
	const char *file = NULL, *report = NULL;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct rte_ether_addr none = { { 0 } };
	int n_sizes = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 'R': report = optarg; break;
		case 'z':
			n_sizes = vpeer_parse_sizes(optarg, sizes, VPEER_MAX_SIZES);
			if (n_sizes < 0) {
				fprintf(stderr, "vpeer: bad --sizes %s\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s --check-pcap FILE [--sizes LIST] [--report FILE]\n", argv[0]);
			return 2;
		}
	}
	pcap_t *pc = file != NULL ? pcap_open_offline(file, errbuf) : NULL;
	if (pc == NULL) {
		fprintf(stderr, "vpeer: --check-pcap %s: %s\n", file ? file : "(none)", file ? errbuf : "");
		return 2;
	}
	vpeer_stats_init(&st);
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t t_first = 0;
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t t = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
		struct rte_mbuf m;
		struct vpeer_rx_info ri;

		if (info.frames++ == 0)
			t_first = t;
		if (h->caplen < h->len) {
			info.truncated++;
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.buf_addr = (void *)(uintptr_t)data;
		m.data_len = (uint16_t)RTE_MIN(h->caplen, (bpf_u_int32)UINT16_MAX);
		m.pkt_len = h->caplen;
		m.nb_segs = 1;
		vpeer_parse(&m, &ri);
		/* every frame counts as addressed to the "receiver": a capture has no own MAC */
		vpeer_stats_rx(&st, &ri, rte_is_zero_ether_addr(&ri.dst) ? &none : &ri.dst,
			       t >= t_first ? t - t_first : 0);
		if (ri.kind == VPEER_RX_TEST && n_sizes > 0 &&
		    h->caplen != sizes[ri.hdr.seq % (uint32_t)n_sizes].len)
			info.wrong_size++;
	}
	if (rc == -1)
		fprintf(stderr, "vpeer: %s: %s\n", file, pcap_geterr(pc));
	pcap_close(pc);

	struct vpeer_report_meta meta = { .mac = &none, .grown_at_ms = -1, .pcap = &info };
	int ret = vpeer_report(&st, &meta, report);
	vpeer_stats_free(&st);
	return rc == -1 || ret != 0 ? 1 : 0;
}

/* --- --rx-pcap: what the peer receives, as a capture --- */

static pcap_t *rx_dead;
static pcap_dumper_t *rx_dump;

int vpeer_rx_pcap_open(const char *path)
{
	rx_dead = pcap_open_dead(DLT_EN10MB, 65535);
	rx_dump = rx_dead != NULL ? pcap_dump_open(rx_dead, path) : NULL;
	if (rx_dump == NULL) {
		fprintf(stderr, "vpeer: cannot write %s: %s\n", path,
			rx_dead != NULL ? pcap_geterr(rx_dead) : "pcap_open_dead failed");
		return -1;
	}
	return 0;
}

void vpeer_rx_pcap_write(const struct rte_mbuf *m)
{
	static uint8_t buf[VPEER_MAX_SIZE + 64];
	struct pcap_pkthdr h = { .caplen = m->pkt_len, .len = m->pkt_len };
	const uint8_t *p;

	if (rx_dump == NULL || m->pkt_len > sizeof(buf))
		return;
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	if (p != NULL) {
		pcap_dump((u_char *)rx_dump, &h, p);
		pcap_dump_flush(rx_dump);
	}
}

void vpeer_rx_pcap_close(void)
{
	if (rx_dump != NULL)
		pcap_dump_close(rx_dump);
	if (rx_dead != NULL)
		pcap_close(rx_dead);
	rx_dump = NULL;
	rx_dead = NULL;
}
