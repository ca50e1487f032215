/* vpeer.c — ferry-vpeer: a test guest on a vhost-user switch port. It drives a net_virtio_user port
 * (the guest side of vhost-user), sends paced, numbered UDP frames spread over all queue pairs and
 * accounts for everything it receives on all RX queues; on exit (end of --duration, SIGINT or
 * SIGTERM; SIGUSR1 = stop sending, drain 0.5 s, exit) it prints a JSON report and writes it to
 * --report. It sleeps whenever it has nothing to do: peers and the switch share few cores.
 * See tests/vhost/README.md.
 *
 *   ferry-vpeer [EAL args] -- [--mac MAC] [--peer MAC] [--vlan N] [--count N] [--rate PPS]
 *       [--size BYTES | --sizes SIZE[/SEGS],...] [--duration S] [--flows N] [--wait-link S]
 *       [--announce] [--sync] [--sync-mac MAC] [--id N] [--progress MS] [--grow-at S [--grow-mb MB]]
 *       [--report FILE]
 *   ferry-vpeer --check-pcap FILE [--sizes ...] [--report FILE]   (no EAL: checks a capture)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "vpeer.h"

#define BURST          32
#define TXBUF          256                 /* frames waiting per TX queue when the ring is full */
#define GEN_MAX        256                 /* frames generated per loop at most */
#define IDLE_SLEEP_NS  500000ull           /* sleep when a poll round found no full burst */
#define LINK_POLL_NS   100000000ull        /* link status (this also drives virtio-user reconnect) */
#define SYNC_PERIOD_NS 100000000ull        /* announce period while waiting for --sync */
#define STOP_DRAIN_NS  500000000ull        /* SIGUSR1: receive this long after the last send */
#define VP_NS_PER_MS   UINT64_C(1000000)
#define VP_NS_PER_S    UINT64_C(1000000000)

struct vpeer_opts {
	struct rte_ether_addr mac, peer, sync_mac;
	bool have_mac, announce, sync;
	int vlan;
	int id;                 /* -1: from the MAC */
	uint64_t count;
	double rate;
	uint32_t size, flows;
	double duration, wait_link;
	uint64_t progress_ms;
	const char *report;
	const char *rx_pcap;        /* --rx-pcap: every received frame written there */
	struct vpeer_size sizes[VPEER_MAX_SIZES];   /* frame i: sizes[seq % n_sizes] */
	uint32_t n_sizes;
	double grow_at;         /* > 0: take new hugepage memory this long into the run */
	uint32_t grow_mb;
};

struct txbuf {
	struct rte_mbuf *pkts[TXBUF];
	uint16_t n;
};

struct vpeer {
	struct vpeer_opts o;
	uint16_t port, nq;
	struct rte_mempool *pool;
	struct rte_mempool *tx_pool;   /* frames are built here: pool, or the --grow-at one */
	struct vpeer_tx_desc desc;
	uint16_t flow_queue[VPEER_MAX_FLOWS];
	struct txbuf txq[VPEER_MAX_QUEUES];
	uint32_t next_seq;
	double tokens;
	uint64_t tokens_ns;
	bool link_up;
	uint64_t next_link_ns, next_progress_ns;
	struct vpeer_stats st;
	bool synced;
	uint64_t pool_free_min;
	int64_t grown_at_ms;
	uint64_t tx_from_grown;
};

static volatile sig_atomic_t quit, stop_tx;
static struct timespec t0;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stop_tx = 1;
	else
		quit = 1;
}

/* Nanoseconds since program start. */
static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0.tv_sec) * VP_NS_PER_S + (uint64_t)t.tv_nsec - (uint64_t)t0.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / VP_NS_PER_S), .tv_nsec = (long)(ns % VP_NS_PER_S) };

	nanosleep(&t, NULL);
}

/* ---- options ---- */

static void usage(const char *prg)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [options]\n"
		"  --mac MAC       own MAC (default: the port's)\n"
		"  --peer MAC      destination MAC (default broadcast)\n"
		"  --vlan N        send 802.1Q-tagged frames with VID N\n"
		"  --count N       frames to send, 0 = receive only (default 0)\n"
		"  --rate PPS      pacing (default 10000)\n"
		"  --size BYTES    frame size without FCS (default 64, min %d)\n"
		"  --sizes LIST    SIZE[/SEGS],...: frame seq uses entry seq %% n, built as SEGS chained mbufs\n"
		"  --duration S    run time after link up, incl. 1 s drain; 0 = until signal (default 5)\n"
		"  --flows N       distinct UDP flows (default 64, max %d)\n"
		"  --wait-link S   wait for link up (default 10)\n"
		"  --announce      send a broadcast gratuitous ARP first\n"
		"  --sync          announce every 100 ms until a frame from --peer arrives, then start\n"
		"  --sync-mac MAC  like --sync, waiting for a frame from MAC instead of --peer\n"
		"  --id N          sender id carried in frames (default: last two bytes of the MAC)\n"
		"  --progress MS   print a progress line every MS milliseconds\n"
		"  --grow-at S     S seconds into the run, take --grow-mb MB (default 64) of new hugepage\n"
		"                  memory as a new mempool and build every later frame there\n"
		"  --report FILE   write the JSON report to FILE (always printed to stdout)\n"
		"  --rx-pcap FILE  write every frame received to FILE (pcap), byte for byte\n",
		prg, VPEER_MIN_SIZE, VPEER_MAX_FLOWS);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (errno || end == s || *end || *out < lo || *out > hi) ? -1 : 0;
}

static int parse_opt(struct vpeer_opts *o, int c, const char *arg)
{
	double v = 0;

	switch (c) {
	case 'm': o->have_mac = true; return rte_ether_unformat_addr(arg, &o->mac);
	case 'p': return rte_ether_unformat_addr(arg, &o->peer);
	case 'a': o->announce = true; return 0;
	case 'S': o->sync = true; return 0;
	case 'M': o->sync = true; return rte_ether_unformat_addr(arg, &o->sync_mac);
	case 'R': o->report = arg; return 0;
	case 'X': o->rx_pcap = arg; return 0;
	case 'z': {
		int n = vpeer_parse_sizes(arg, o->sizes, VPEER_MAX_SIZES);
		if (n < 0)
			return -1;
		o->n_sizes = (uint32_t)n;
		return 0;
	}
	}
	switch (c) {
	case 'v': if (parse_num(arg, 0, 4095, &v)) return -1; o->vlan = (int)v; break;
	case 'c': if (parse_num(arg, 0, 4e9, &v)) return -1; o->count = (uint64_t)v; break;
	case 'r': if (parse_num(arg, 1, 1e8, &v)) return -1; o->rate = v; break;
	case 's': if (parse_num(arg, VPEER_MIN_SIZE, VPEER_MAX_SIZE, &v)) return -1; o->size = (uint32_t)v; break;
	case 'd': if (parse_num(arg, 0, 1e6, &v)) return -1; o->duration = v; break;
	case 'f': if (parse_num(arg, 1, VPEER_MAX_FLOWS, &v)) return -1; o->flows = (uint32_t)v; break;
	case 'w': if (parse_num(arg, 0, 1e6, &v)) return -1; o->wait_link = v; break;
	case 'i': if (parse_num(arg, 0, 65535, &v)) return -1; o->id = (int)v; break;
	case 'P': if (parse_num(arg, 1, 1e9, &v)) return -1; o->progress_ms = (uint64_t)v; break;
	case 'g': if (parse_num(arg, 0.001, 1e6, &v)) return -1; o->grow_at = v; break;
	case 'G': if (parse_num(arg, 2, 4096, &v)) return -1; o->grow_mb = (uint32_t)v; break;
	default: return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct vpeer_opts *o)
{
	static const struct option lo[] = {
		{ "mac", 1, NULL, 'm' }, { "peer", 1, NULL, 'p' }, { "vlan", 1, NULL, 'v' },
		{ "count", 1, NULL, 'c' }, { "rate", 1, NULL, 'r' }, { "size", 1, NULL, 's' },
		{ "duration", 1, NULL, 'd' }, { "flows", 1, NULL, 'f' }, { "wait-link", 1, NULL, 'w' },
		{ "announce", 0, NULL, 'a' }, { "sync", 0, NULL, 'S' }, { "sync-mac", 1, NULL, 'M' },
		{ "id", 1, NULL, 'i' }, { "sizes", 1, NULL, 'z' }, { "grow-at", 1, NULL, 'g' },
		{ "grow-mb", 1, NULL, 'G' },
		{ "progress", 1, NULL, 'P' }, { "report", 1, NULL, 'R' }, { "help", 0, NULL, 'h' },
		{ "rx-pcap", 1, NULL, 'X' },
		{ NULL, 0, NULL, 0 } };
	int c;

	*o = (struct vpeer_opts){ .vlan = -1, .id = -1, .rate = 10000, .size = 64, .flows = 64,
				  .duration = 5, .wait_link = 10, .grow_mb = 64 };
	memset(&o->peer, 0xff, sizeof(o->peer));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'h' || parse_opt(o, c, optarg) != 0) {
			if (c != 'h')
				fprintf(stderr, "vpeer: bad option %s %s\n", argv[optind - 1], optarg ? optarg : "");
			usage(argv[0]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vpeer: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (o->n_sizes == 0) {   /* --size: one linear size */
		o->sizes[0] = (struct vpeer_size){ .len = o->size, .segs = 1 };
		o->n_sizes = 1;
	}
	if (o->sync && rte_is_zero_ether_addr(&o->sync_mac))
		o->sync_mac = o->peer;
	if (o->sync && rte_is_multicast_ether_addr(&o->sync_mac)) {
		fprintf(stderr, "vpeer: --sync needs a unicast --peer or --sync-mac\n");
		return -1;
	}
	return 0;
}

/* ---- port ---- */

/* The virtqueue size: virtio-user's queue_size devarg (default 256); virtio uses at most the
 * descriptor count given at queue setup, and the mempool must cover full RX and TX rings. */
static unsigned int ring_size(const struct rte_eth_dev_info *info)
{
	const struct rte_devargs *da = info->device ? rte_dev_devargs(info->device) : NULL;
	const char *p = da && da->args ? strstr(da->args, "queue_size=") : NULL;
	unsigned long n = p ? strtoul(p + strlen("queue_size="), NULL, 10) : 0;

	return n >= 256 && n <= 32768 ? (unsigned int)n : 256;
}

static int port_setup(struct vpeer *vp)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nrxd, ntxd;
	int ret;

	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "vpeer: no port (did the --vdev probe fail? is the socket there?)\n");
		return -1;
	}
	vp->port = (uint16_t)rte_eth_find_next(0);
	ret = rte_eth_dev_info_get(vp->port, &info);
	if (ret != 0)
		return ret;
	/* virtio uses min(nb_desc, ring size) descriptors: ask for the whole ring */
	nrxd = ntxd = (uint16_t)RTE_MIN(ring_size(&info), (unsigned int)UINT16_MAX);
	vp->nq = RTE_MIN(RTE_MIN(info.max_rx_queues, info.max_tx_queues), VPEER_MAX_QUEUES);
	if (vp->nq == 0)
		vp->nq = 1;

	memset(&conf, 0, sizeof(conf));
	/* With LSC interrupts on, closing the port also unregisters virtio-user's interrupt callback
	 * (which its server mode registers after a disconnect anyway); with them off, DPDK 22.11
	 * closes the fd under the interrupt thread and panics at exit after a reconnect. */
	if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC)
		conf.intr_conf.lsc = 1;
	ret = rte_eth_dev_configure(vp->port, vp->nq, vp->nq, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(vp->port, &nrxd, &ntxd);
	if (ret != 0) {
		fprintf(stderr, "vpeer: configure failed: %s\n", rte_strerror(-ret));
		return ret;
	}

	unsigned int max_segs = 1;
	for (uint32_t i = 0; i < vp->o.n_sizes; i++)
		max_segs = RTE_MAX(max_segs, (unsigned int)vp->o.sizes[i].segs);
	/* chained frames: a few mbufs each (allocation failures only delay sending) */
	unsigned int nb_mbufs = vp->nq * (nrxd + (ntxd + TXBUF) * RTE_MIN(max_segs, 4u)) + 2048;
	/* a test frame is built in one mbuf: room for jumbo frames only when they are asked for */
	unsigned int room = RTE_MBUF_DEFAULT_BUF_SIZE;
	for (uint32_t i = 0; i < vp->o.n_sizes; i++)
		room = RTE_MAX(room, vp->o.sizes[i].len + 4 + RTE_PKTMBUF_HEADROOM);
	vp->pool = rte_pktmbuf_pool_create("vpeer_pool", nb_mbufs, 256, 0, (uint16_t)room,
					   (int)rte_socket_id());
	if (vp->pool == NULL) {
		fprintf(stderr, "vpeer: mempool: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	vp->tx_pool = vp->pool;

	for (uint16_t q = 0; q < vp->nq && ret == 0; q++) {
		ret = rte_eth_rx_queue_setup(vp->port, q, nrxd, SOCKET_ID_ANY, NULL, vp->pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(vp->port, q, ntxd, SOCKET_ID_ANY, NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(vp->port);
	if (ret != 0) {
		fprintf(stderr, "vpeer: queue setup/start failed: %s\n", rte_strerror(-ret));
		return ret;
	}
	rte_eth_promiscuous_enable(vp->port);   /* not supported everywhere: ignore */
	return 0;
}

static void port_close(struct vpeer *vp)
{
	for (uint16_t q = 0; q < vp->nq; q++) {
		rte_pktmbuf_free_bulk(vp->txq[q].pkts, vp->txq[q].n);
		vp->txq[q].n = 0;
	}
	rte_eth_dev_stop(vp->port);
	rte_eth_dev_close(vp->port);
}

/* ---- link ---- */

/* Polls the link (virtio-user in server mode reconnects from here); records changes. */
static void link_poll(struct vpeer *vp, uint64_t now)
{
	struct rte_eth_link link;

	vp->next_link_ns = now + LINK_POLL_NS;
	if (rte_eth_link_get_nowait(vp->port, &link) != 0)
		return;
	bool up = link.link_status == RTE_ETH_LINK_UP;
	if (up == vp->link_up)
		return;
	vp->link_up = up;
	vpeer_stats_link(&vp->st, up, now / VP_NS_PER_MS);
	if (up && vp->st.link_up_after_ms < 0)
		vp->st.link_up_after_ms = (int64_t)(now / VP_NS_PER_MS);
	printf("vpeer: link %s t_ms=%" PRIu64 "\n", up ? "up" : "down", now / VP_NS_PER_MS);
	fflush(stdout);
}

static bool wait_link(struct vpeer *vp)
{
	uint64_t until = now_ns() + (uint64_t)(vp->o.wait_link * VP_NS_PER_S);

	while (!quit) {
		uint64_t now = now_ns();
		link_poll(vp, now);
		if (vp->link_up)
			return true;
		if (now >= until)
			return false;
		sleep_ns(10 * VP_NS_PER_MS);
	}
	return false;
}

/* ---- receive ---- */

static void rx_one(struct vpeer *vp, struct rte_mbuf *m, uint64_t now)
{
	struct vpeer_rx_info info;

	vpeer_rx_pcap_write(m);
	vpeer_parse(m, &info);
	vpeer_stats_rx(&vp->st, &info, &vp->desc.src, now);
	if (vp->o.sync && rte_is_same_ether_addr(&info.src, &vp->o.sync_mac))
		vp->synced = true;
}

/* How late the process got to poll again (the guest's RX ring fills up meanwhile). */
static void note_poll_gap(struct vpeer_stats *st, uint64_t now)
{
	if (st->last_poll_ns != 0) {
		uint64_t gap_us = (now - st->last_poll_ns) / 1000;
		if (gap_us > st->poll_gap_max_us)
			st->poll_gap_max_us = gap_us;
		if (gap_us > 5000)
			st->poll_gaps_over_5ms++;
	}
	st->last_poll_ns = now;
}

/* Polls every RX queue once; returns true when some queue returned a full burst. */
static bool rx_poll(struct vpeer *vp)
{
	struct rte_mbuf *pkts[BURST];
	bool busy = false;
	uint64_t now = now_ns();

	note_poll_gap(&vp->st, now);
	vp->pool_free_min = RTE_MIN(vp->pool_free_min, (uint64_t)rte_mempool_avail_count(vp->pool));

	for (uint16_t q = 0; q < vp->nq; q++) {
		uint16_t n = rte_eth_rx_burst(vp->port, q, pkts, BURST);
		vp->st.rx_per_queue[q] += n;
		for (uint16_t i = 0; i < n; i++)
			rx_one(vp, pkts[i], now);
		rte_pktmbuf_free_bulk(pkts, n);
		busy |= n == BURST;
	}
	return busy;
}

/* ---- transmit ---- */

static void tx_flush(struct vpeer *vp)
{
	uint64_t now_ms = now_ns() / VP_NS_PER_MS;

	for (uint16_t q = 0; q < vp->nq; q++) {
		struct txbuf *b = &vp->txq[q];
		if (b->n == 0)
			continue;
		uint16_t sent = rte_eth_tx_burst(vp->port, q, b->pkts, b->n);
		if (sent == 0)
			continue;
		if (vp->st.tx == 0)
			vp->st.first_tx_ms = now_ms;
		vp->st.last_tx_ms = now_ms;
		vp->st.tx += sent;
		vp->st.tx_per_queue[q] += sent;
		memmove(b->pkts, b->pkts + sent, (size_t)(b->n - sent) * sizeof(b->pkts[0]));
		b->n = (uint16_t)(b->n - sent);
	}
}

/* Sends one frame now (announce): straight onto queue 0, retried briefly. */
static void send_announce(struct vpeer *vp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(vp->pool);

	if (m == NULL || vpeer_build_arp(m, &vp->desc) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	for (int tries = 0; tries < 10; tries++) {
		if (rte_eth_tx_burst(vp->port, 0, &m, 1) == 1) {
			vp->st.announces++;
			return;
		}
		sleep_ns(VP_NS_PER_MS);
	}
	rte_pktmbuf_free(m);
}

/* Builds up to n new frames into the per-queue buffers; returns how many. */
static uint32_t tx_generate(struct vpeer *vp, uint32_t n)
{
	uint32_t made = 0;

	while (made < n && vp->next_seq < vp->o.count) {
		uint16_t flow = (uint16_t)(vp->next_seq % vp->o.flows);
		struct txbuf *b = &vp->txq[vp->flow_queue[flow]];
		if (b->n == TXBUF)
			break;                          /* that queue is backed up: wait */
		struct rte_mbuf *m = rte_pktmbuf_alloc(vp->tx_pool);
		if (m == NULL)
			break;
		struct vpeer_frame_id id = { .seq = vp->next_seq, .flow = flow };
		const struct vpeer_size *sz = &vp->o.sizes[vp->next_seq % vp->o.n_sizes];
		vp->desc.size = sz->len;
		if (vpeer_build_udp(m, &vp->desc, id) != 0 || vpeer_split(m, vp->tx_pool, sz->segs) != 0) {
			rte_pktmbuf_free(m);
			if (sz->segs > 1 && rte_mempool_avail_count(vp->tx_pool) < VPEER_MAX_SEGS)
				break;                      /* out of mbufs for the pieces: later */
			fprintf(stderr, "vpeer: cannot build a %u-byte frame\n", sz->len);
			vp->o.count = vp->next_seq;     /* stop sending */
			break;
		}
		if (vp->tx_pool != vp->pool)
			vp->tx_from_grown++;
		b->pkts[b->n++] = m;
		vp->next_seq++;
		made++;
	}
	return made;
}

/* Pacing: adds tokens for the time elapsed, generates what is due, flushes. */
static void tx_step(struct vpeer *vp, uint64_t now, bool may_generate)
{
	double cap = RTE_MAX(64.0, vp->o.rate / 10);   /* at most 100 ms worth after a stall */

	vp->tokens += (double)(now - vp->tokens_ns) * vp->o.rate / VP_NS_PER_S;
	vp->tokens_ns = now;
	if (vp->tokens > cap)
		vp->tokens = cap;
	if (may_generate && vp->tokens >= 1) {
		uint32_t want = (uint32_t)RTE_MIN(vp->tokens, (double)GEN_MAX);
		vp->tokens -= tx_generate(vp, want);
	}
	tx_flush(vp);
}

static uint64_t tx_pending(const struct vpeer *vp)
{
	uint64_t n = 0;

	for (uint16_t q = 0; q < vp->nq; q++)
		n += vp->txq[q].n;
	return n;
}

/* ---- phases ---- */

static void progress(struct vpeer *vp, uint64_t now)
{
	uint64_t rx_test = 0;

	if (vp->o.progress_ms == 0 || now < vp->next_progress_ns)
		return;
	vp->next_progress_ns = now + vp->o.progress_ms * VP_NS_PER_MS;
	for (uint32_t i = 0; i < vp->st.nb_senders; i++)
		rx_test += vp->st.senders[i].rx;
	printf("vpeer: progress t_ms=%" PRIu64 " link=%d tx=%" PRIu64 " rx=%" PRIu64 " rx_test=%" PRIu64 "\n",
	       now / VP_NS_PER_MS, vp->link_up, vp->st.tx, vp->st.rx, rx_test);
	fflush(stdout);
}

/* --sync: announce until the peer is heard, then once more so that it hears us too. */
static void sync_with_peer(struct vpeer *vp)
{
	uint64_t start = now_ns(), until = start + (uint64_t)(vp->o.wait_link * VP_NS_PER_S);
	uint64_t next_announce = 0;

	while (!quit && !stop_tx && !vp->synced) {
		uint64_t now = now_ns();
		if (now >= until) {
			fprintf(stderr, "vpeer: --sync: nothing from the peer after %.1f s, starting anyway\n",
				vp->o.wait_link);
			return;
		}
		if (now >= vp->next_link_ns)
			link_poll(vp, now);
		if (now >= next_announce && vp->link_up) {
			send_announce(vp);
			next_announce = now + SYNC_PERIOD_NS;
		}
		if (!rx_poll(vp))
			sleep_ns(IDLE_SLEEP_NS);
	}
	if (vp->synced) {
		send_announce(vp);
		vp->st.synced_after_ms = (int64_t)(now_ns() / VP_NS_PER_MS);
	}
}

/* --grow-at: a new mempool in fresh hugepage memory (the EAL maps more pages, virtio-user sends the
 * switch a new memory table); every frame built from now on lives there. */
static void grow_memory(struct vpeer *vp, uint64_t now)
{
	unsigned int room = rte_pktmbuf_data_room_size(vp->pool);
	unsigned int n = (unsigned int)(((uint64_t)vp->o.grow_mb << 20) / (room + 256u));
	struct rte_mempool *mp = rte_pktmbuf_pool_create("vpeer_grown", n, 256, 0, (uint16_t)room,
							 (int)rte_socket_id());

	vp->grown_at_ms = (int64_t)(now / VP_NS_PER_MS);
	if (mp == NULL) {
		fprintf(stderr, "vpeer: --grow-at: mempool of %u mbufs: %s\n", n, rte_strerror(rte_errno));
		return;
	}
	vp->tx_pool = mp;
	printf("vpeer: memory grown t_ms=%" PRIu64 " mbufs=%u mb=%u took_ms=%" PRIu64 "\n",
	       now / VP_NS_PER_MS, n, vp->o.grow_mb, (now_ns() - now) / VP_NS_PER_MS);
	fflush(stdout);
}

/* The traffic phase: until the deadline (0 = until a signal). TX stops one drain period earlier. */
static void run(struct vpeer *vp)
{
	uint64_t start = now_ns();
	uint64_t dur = (uint64_t)(vp->o.duration * VP_NS_PER_S);
	uint64_t drain = RTE_MIN(VP_NS_PER_S, dur / 4);
	uint64_t deadline = dur ? start + dur : UINT64_MAX;
	uint64_t tx_until = dur ? deadline - drain : UINT64_MAX;
	uint64_t grow_ns = vp->o.grow_at > 0 ? start + (uint64_t)(vp->o.grow_at * VP_NS_PER_S) : UINT64_MAX;

	vp->tokens_ns = start;
	while (!quit) {
		uint64_t now = now_ns();
		if (stop_tx && tx_until > now) {
			tx_until = now;
			deadline = RTE_MIN(deadline, now + STOP_DRAIN_NS);
		}
		if (now >= deadline)
			break;
		if (now >= vp->next_link_ns)
			link_poll(vp, now);
		if (now >= grow_ns) {
			grow_ns = UINT64_MAX;
			grow_memory(vp, now);
		}
		progress(vp, now);
		bool busy = rx_poll(vp);
		if (vp->link_up && (now < tx_until || tx_pending(vp)))
			tx_step(vp, now, now < tx_until);
		else
			vp->tokens_ns = now;        /* no credit for time spent with the link down */
		if (!busy)
			sleep_ns(IDLE_SLEEP_NS);
	}
}

static void init_tx_desc(struct vpeer *vp)
{
	struct vpeer_tx_desc *d = &vp->desc;

	if (vp->o.have_mac)
		d->src = vp->o.mac;
	else
		rte_eth_macaddr_get(vp->port, &d->src);
	d->dst = vp->o.peer;
	d->vlan = vp->o.vlan;
	d->size = vp->o.size;
	d->sender = vp->o.id >= 0 ? (uint16_t)vp->o.id
				  : (uint16_t)(d->src.addr_bytes[4] << 8 | d->src.addr_bytes[5]);
	for (uint32_t f = 0; f < VPEER_MAX_FLOWS; f++)
		vp->flow_queue[f] = (uint16_t)(vpeer_flow_hash(d, (uint16_t)f) % vp->nq);
}

static int finish(struct vpeer *vp, int rc)
{
	struct vpeer_report_meta meta = { .id = vp->desc.sender, .mac = &vp->desc.src, .queues = vp->nq,
					  .duration_ms = now_ns() / VP_NS_PER_MS, .tx_unsent = tx_pending(vp),
					  .link_up_at_end = vp->link_up, .pool_free_min = vp->pool_free_min,
					  .grown_at_ms = vp->grown_at_ms, .tx_from_grown = vp->tx_from_grown };
	struct rte_eth_stats es;

	if (rte_eth_stats_get(vp->port, &es) == 0)
		meta.rx_nombuf = es.rx_nombuf;

	if (vpeer_report(&vp->st, &meta, vp->o.report) != 0 && rc == 0)
		rc = 1;
	vpeer_stats_free(&vp->st);
	vpeer_rx_pcap_close();
	port_close(vp);
	rte_eal_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	static struct vpeer vp;   /* large: keep it off the stack */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc > 1 && strcmp(argv[1], "--check-pcap") == 0)
		return vpeer_pcap_check(argc, argv);   /* an offline tool: no EAL */
	int ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vpeer: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv, &vp.o) != 0 ||
	    (vp.o.rx_pcap != NULL && vpeer_rx_pcap_open(vp.o.rx_pcap) != 0) || port_setup(&vp) != 0) {
		rte_eal_cleanup();
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	vpeer_stats_init(&vp.st);
	vp.pool_free_min = UINT64_MAX;
	vp.grown_at_ms = -1;
	init_tx_desc(&vp);

	if (!wait_link(&vp)) {
		fprintf(stderr, "vpeer: link not up after %.1f s\n", vp.o.wait_link);
		return finish(&vp, quit ? 0 : 2);
	}
	if (vp.o.sync)
		sync_with_peer(&vp);
	else if (vp.o.announce)
		send_announce(&vp);
	run(&vp);
	return finish(&vp, 0);
}
