/* evilguest.c — ferry-evilguest: a hostile vhost-user frontend (the QEMU side of the protocol)
 * for end-to-end tests of ferryd's guest TX path (tests/vhost/zc_evil.sh). No DPDK: plain C over
 * the Linux virtio headers.
 *
 * It connects to a vhost-user server socket, negotiates VERSION_1 (+ EVENT_IDX on some runs; never
 * RING_PACKED or IN_ORDER), shares its "guest memory" (one memfd, MAP_SHARED) as three regions with a
 * GPA gap (R0 [0, 2M), gap [2M, 4M), R1 [4M, 6M), R2 [6M, 7M): R2 is GPA-adjacent to R1 but comes
 * from another part of the file), sets up one queue pair and then, driven by a seeded PRNG, posts on
 * its TX ring (vring 1) a mix of valid frames (virtio-net header + an Ethernet frame whose payload
 * carries a sequence number and a checksum, laid out in many legal ways: split, indirect, at region
 * edges, across two regions) and malicious chains (see the kind table below). It accounts for every
 * posted head on the used ring, periodically quiesces the ring (a barrier frame, and ferry's own
 * zero_copy.inflight == 0 over the control socket) and checks that every in-range head came back
 * exactly once (a head posted twice: once or twice), that nothing else came back, that
 * GET_VRING_BASE at the end names its own avail idx, and that ferry's zero_copy.bad_descriptors
 * counters rose by what it injected (modes on/auto). Other acts: avail idx jumped thousands of
 * entries ahead over heads beyond the ring (ferry must count each as bad_head and return nothing),
 * and (--hotplug) a 4th region added with SET_MEM_TABLE while the rings run, then a probe frame in
 * it; (--migration) a live migration as QEMU drives it: a dirty log (SET_LOG_BASE, LOG_ALL, the TX
 * ring's log flag) whose used-ring page must be marked, the log replaced 300 times while frames
 * flow, logging switched off (page no longer marked), then SEND_RARP (exactly one RARP frame
 * arrives from the port). Against rte_vhost's dequeue (mode off), which stops for good at the first chain it cannot map,
 * a chain stuck for 150 ms is "repaired" (its head rewritten to a small valid frame) so the ring
 * moves on. --abrupt leaves without stopping the rings, heads outstanding (listed as unconfirmed).
 * A JSON report goes to --report; exit status 0 = all checks passed, 1 = a check failed, 2 = setup
 * failed. EVIL_DEBUG=1|2 logs duplicates and repairs | every posting and return.
 *
 *   ferry-evilguest --socket S --rpc R --port NAME --mac M --dst M [--seed N] [--duration S]
 *                   [--mode on|auto|off] [--event-idx 0|1] [--ring N] [--rate PPS]
 *                   [--hotplug] [--migration] [--abrupt] [--report FILE]
 *   ferry-evilguest --verify PCAP --report-in FILE [--mac M] [--report FILE]
 *
 * --verify reads the pcap ferryd wrote for the port the frames went to and checks, for the run
 * named in the guest's report: every valid frame arrived exactly once and intact, deliberately
 * duplicated heads' frames arrived once or twice, and (modes on/auto) no frame of a chain ferry
 * must reject arrived at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

/* ---- vhost-user messages (docs/interop/vhost-user.rst) ---- */

enum {
	VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3, VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8, VU_SET_VRING_ADDR = 9, VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11, VU_SET_VRING_KICK = 12, VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16, VU_SET_VRING_ENABLE = 18,
	VU_SET_LOG_BASE = 6, VU_SEND_RARP = 19,
};
#define VU_F_PROTOCOL_FEATURES 30
#define VU_F_LOG_ALL           26
#define VU_PROTO_LOG_SHMFD     1
#define VU_PROTO_REPLY_ACK     3
#define VU_FLAG_VERSION        0x1
#define VU_FLAG_REPLY          0x4
#define VU_FLAG_NEED_REPLY     0x8
#define VU_MAX_REGIONS         8
#define VU_HDR                 12

struct vu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct vu_msg {
	uint32_t req, flags, size;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct { uint32_t index, flags; uint64_t desc, used, avail, log; } addr;
		struct { uint32_t n, pad; struct vu_region r[VU_MAX_REGIONS]; } mem;
	} p;
} __attribute__((packed));

/* ---- guest memory ---- */

#define MB            (UINT64_C(1) << 20)
#define MEMFD_SIZE    (8 * MB)
#define RING_MAX      512

struct region {
	uint64_t gpa, size, off;   /* off: offset in the memfd (and in our mapping) */
};
static const struct region REG[4] = {
	{ 0x000000, 2 * MB, 0 },          /* R0 */
	{ 0x400000, 2 * MB, 2 * MB },     /* R1: after the GPA gap [2M, 4M) */
	{ 0x600000, 1 * MB, 6 * MB },     /* R2: GPA-adjacent to R1, elsewhere in the file */
	{ 0x1000000, 1 * MB, 4 * MB },    /* R3: hot-plugged with --hotplug */
};
#define GAP_LO    0x200000
#define GAP_HI    0x400000
#define R2_END    0x700000

/* where things live (GPAs) */
#define TXD_GPA   0x10000
#define TXA_GPA   0x14000
#define TXU_GPA   0x16000
#define RXD_GPA   0x20000
#define RXA_GPA   0x24000
#define RXU_GPA   0x26000
#define BUFA(h)   (UINT64_C(0x80000) + (uint64_t)(h) * 0x800)    /* R0, 2 KiB per head */
#define BUFB(h)   (UINT64_C(0x480000) + (uint64_t)(h) * 0x800)   /* R1 */
#define BUFC(h)   (UINT64_C(0x1000000) + (uint64_t)(h) * 0x800)  /* R3 (hot-plugged) */
#define ITAB(h)   (UINT64_C(0x440000) + (uint64_t)(h) * 0x200)   /* R1, 32 entries per head */
#define ITAB_N    32
/* single-user areas at region edges */
enum { E_R0END, E_R1START, E_R1R2, E_R2END, E_MAX };
static const char *const edge_names[E_MAX] = { "r0_end", "r1_start", "r1_r2_span", "r2_end" };

/* ---- frames ---- */

#define VHDR      12          /* virtio_net_hdr_mrg_rxbuf (VERSION_1) */
#define ETH_TYPE  0x88b5      /* local experimental */
#define FRAME_MAX 1514
#define EH_LEN    20          /* struct evil_hdr */
#define MAGIC     "EVL1"

struct evil_hdr {             /* right after the Ethernet header */
	char magic[4];
	uint8_t kind, ver;
	uint16_t len;             /* payload bytes from the magic on */
	uint32_t run, seq, csum;  /* csum: FNV-1a of the payload with csum = 0 */
} __attribute__((packed));

/* ---- what gets posted ---- */

/* ferry's bad_descriptors counters (lib/virtq ferry_vq_err_names, without "ok") */
enum { C_BAD_HEAD, C_BAD_NEXT, C_LOOP, C_BAD_ADDR, C_WRITE, C_BAD_IND, C_LONG, C_SHORT, C_DUP,
       C_LINKS, C_MAX, C_NONE = -1 };
static const char *const cnt_names[C_MAX] = { "bad_head", "bad_next", "loop", "bad_addr",
	"write_flag", "bad_indirect", "too_long", "too_short", "duplicate", "too_many_links" };
#define VQ_MAX_EMPTY 8   /* FERRY_VQ_MAX_EMPTY: empty descriptors a chain may hold */

enum kind {
	K_VALID, K_DUP, K_TOCTOU, K_EMPTY, K_REPAIRED, K_HOTPLUG,
	K_ADDR_OUT, K_ADDR_GAP, K_STRADDLE, K_WRAP, K_HUGE_LEN, K_TOTAL_LONG, K_MANYSEGS,
	K_LOOP_SELF, K_LOOP_TWO, K_LOOP_LONG, K_LOOP_FAT, K_NEXT_BEYOND, K_WRITE,
	K_IND_NESTED, K_IND_MISALIGNED, K_IND_ZERO, K_IND_OUTSIDE, K_IND_NEXTFLAG,
	K_IND_STRADDLE, K_IND_HUGE, K_IND_LOOP, K_IND_NEXT_BEYOND, K_IND_WRITE,
	K_SHORT, K_ZERO, K_BAD_HEAD, K_IND_EMPTY, K_MAX
};

#define KF_MAL     1   /* ferry's own dequeue must reject it: its frame never arrives */
#define KF_ZC      2   /* only against ferry's own dequeue (rte_vhost stalls on it for good) */
#define KF_CHECKED 4   /* its frame must arrive intact */
#define KF_AUTO    8   /* chosen at random (else only by the driver's own logic) */

struct kinfo {
	const char *name;
	int8_t cnt;        /* counter ferry must count it in, C_NONE */
	uint8_t flags;
	uint8_t weight;
};
static const struct kinfo KI[K_MAX] = {
	[K_VALID]          = { "valid",            C_NONE,     KF_CHECKED | KF_AUTO, 100 },
	[K_DUP]            = { "dup_head",         C_DUP,      KF_CHECKED | KF_AUTO, 6 },
	[K_TOCTOU]         = { "toctou",           C_NONE,     KF_AUTO, 14 },
	[K_EMPTY]          = { "empty_or_runt",    C_NONE,     KF_AUTO, 4 },
	[K_REPAIRED]       = { "repaired",         C_NONE,     0, 0 },
	[K_HOTPLUG]        = { "hotplug_valid",    C_NONE,     KF_CHECKED, 0 },
	[K_ADDR_OUT]       = { "addr_outside",     C_BAD_ADDR, KF_MAL | KF_AUTO, 3 },
	[K_ADDR_GAP]       = { "addr_in_gap",      C_BAD_ADDR, KF_MAL | KF_AUTO, 3 },
	[K_STRADDLE]       = { "addr_straddle",    C_BAD_ADDR, KF_MAL | KF_AUTO, 4 },
	[K_WRAP]           = { "addr_wrap",        C_BAD_ADDR, KF_MAL | KF_AUTO, 3 },
	[K_HUGE_LEN]       = { "huge_len",         C_LONG,     KF_MAL | KF_AUTO, 3 },
	[K_TOTAL_LONG]     = { "total_too_long",   C_LONG,     KF_MAL | KF_AUTO, 2 },
	[K_MANYSEGS]       = { "too_many_segs",    C_LONG,     KF_MAL | KF_AUTO, 2 },
	[K_LOOP_SELF]      = { "loop_self",        C_LOOP,     KF_MAL | KF_AUTO, 3 },
	[K_LOOP_TWO]       = { "loop_two",         C_LOOP,     KF_MAL | KF_AUTO, 3 },
	[K_LOOP_LONG]      = { "loop_long",        C_LOOP,     KF_MAL | KF_AUTO, 3 },
	[K_LOOP_FAT]       = { "loop_with_data",   C_LONG,     KF_MAL | KF_AUTO, 2 },
	[K_NEXT_BEYOND]    = { "next_beyond",      C_BAD_NEXT, KF_MAL | KF_AUTO, 3 },
	[K_WRITE]          = { "write_flag",       C_WRITE,    KF_MAL | KF_AUTO, 3 },
	[K_IND_NESTED]     = { "ind_nested",       C_BAD_IND,  KF_MAL | KF_AUTO, 3 },
	[K_IND_MISALIGNED] = { "ind_misaligned",   C_BAD_IND,  KF_MAL | KF_AUTO, 3 },
	[K_IND_ZERO]       = { "ind_zero_len",     C_BAD_IND,  KF_MAL | KF_AUTO, 3 },
	[K_IND_OUTSIDE]    = { "ind_outside",      C_BAD_IND,  KF_MAL | KF_AUTO, 3 },
	[K_IND_NEXTFLAG]   = { "ind_with_next",    C_BAD_IND,  KF_MAL | KF_AUTO, 3 },
	[K_IND_STRADDLE]   = { "ind_straddle",     C_BAD_IND,  KF_MAL | KF_AUTO, 2 },
	[K_IND_HUGE]       = { "ind_huge",         C_BAD_IND,  KF_MAL | KF_AUTO, 2 },
	[K_IND_LOOP]       = { "ind_loop",         C_LOOP,     KF_MAL | KF_AUTO, 2 },
	[K_IND_NEXT_BEYOND] = { "ind_next_beyond", C_BAD_NEXT, KF_MAL | KF_AUTO, 2 },
	[K_IND_WRITE]      = { "ind_write_flag",   C_WRITE,    KF_MAL | KF_AUTO, 2 },
	[K_SHORT]          = { "shorter_than_hdr", C_SHORT,    KF_MAL | KF_AUTO, 3 },
	[K_ZERO]           = { "zero_len",         C_SHORT,    KF_MAL | KF_AUTO, 2 },
	[K_BAD_HEAD]       = { "head_beyond_ring", C_BAD_HEAD, KF_MAL | KF_ZC | KF_AUTO, 3 },
	[K_IND_EMPTY]      = { "ind_empty_links",  C_LINKS,    KF_MAL | KF_AUTO, 2 },
};

/* valid layouts */
enum { L_SINGLE, L_HDR_SPLIT, L_PIECES, L_INDIRECT, L_EDGE, L_HOTPLUG, L_MAX };
static const char *const layout_names[L_MAX] = { "single", "hdr_split", "pieces", "indirect",
	"region_edge", "hotplug_region" };

#define MAXD 96   /* descriptors one posting may hold */

struct post {
	bool active;         /* its descriptors are ours only after it came back */
	uint8_t kind, orig_kind;
	uint8_t postings;    /* avail entries naming it (2: a deliberate duplicate) */
	uint8_t returns;
	int8_t edge;         /* edge area it holds, or -1 */
	uint16_t nd;
	uint16_t d[MAXD];
	uint64_t t_ns;
	uint64_t order;      /* posting order */
	uint32_t seq;        /* its frame's sequence number */
};

enum mode { M_ON, M_AUTO, M_OFF };
static const char *const mode_names[] = { "on", "auto", "off" };

static struct {
	/* options */
	const char *sock_path, *rpc_path, *port, *report_path;
	uint8_t mac[6], dst[6];
	uint64_t seed;
	double duration;
	enum mode mode;
	int event_idx;      /* -1: from the seed */
	unsigned ring;
	unsigned rate;
	bool hotplug, abrupt, migration;
	const char *attack;  /* --attack: ring and memory attacks after setup */
	bool r0_only;       /* valid frames only in R0 (the rest of the file is gone) */
	bool hugetlb;       /* --hugetlb: guest memory on 2 MiB pages (MFD_HUGETLB) */
	unsigned refused;
	uint64_t probe_sent, probe_back;
	char zc_after[32];
	/* connection */
	int sock;
	int kick[2], call[2];
	bool reply_ack;
	uint64_t features;
	/* memory */
	int memfd;
	uint8_t *mem;
	unsigned nreg;
	/* TX ring */
	uint16_t size, mask;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx, used_seen;
	uint16_t freel[RING_MAX];
	unsigned nfree;
	struct post post[RING_MAX];
	unsigned active, extras;
	int edge_owner[E_MAX];
	uint64_t order;
	/* PRNG */
	uint64_t rs;
	/* accounting */
	uint32_t vseq, dseq, hseq, oseq;
	uint64_t posted[K_MAX], returned[K_MAX], repaired[K_MAX], layouts[L_MAX], edges[E_MAX];
	uint64_t inj[C_MAX];
	uint64_t toctou_mut[8];
	uint64_t jumps, jump_entries, settles, returns_total, used_len_nonzero, kicks;
	uint64_t dup_returns[3];
	bool hotplugged;
	/* live migration (--migration) */
	int logfd;
	uint8_t *log;
	uint64_t log_bases, log_checks, announces;
	uint64_t t0;
	bool dead;          /* the vhost-user connection is gone */
	int debug;          /* EVIL_DEBUG: 1 duplicates and repairs, 2 every posting and return */
	/* errors */
	unsigned nerr;
	char err[24][256];
} G;

/* ---- small helpers ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(void)   /* splitmix64 */
{
	uint64_t z = (G.rs += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static unsigned
rn(unsigned n)   /* [0, n) */
{
	return n == 0 ? 0 : (unsigned)(rnd() % n);
}

static unsigned
rr(unsigned lo, unsigned hi)   /* [lo, hi] */
{
	return lo + rn(hi - lo + 1);
}

static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "evilguest: FAIL: %s\n", buf);
	if (G.nerr < sizeof(G.err) / sizeof(G.err[0]))
		snprintf(G.err[G.nerr], sizeof(G.err[0]), "%s", buf);
	G.nerr++;
}

/* The end of a JSON report: the errors fail() recorded, "ok", and f closed unless it is stdout. */
static void
report_end(FILE *f)
{
	fprintf(f, ",\"errors\":[");
	for (unsigned i = 0; i < G.nerr && i < sizeof(G.err) / sizeof(G.err[0]); i++) {
		fprintf(f, "%s\"", i ? "," : "");
		for (const char *c = G.err[i]; *c; c++)
			fprintf(f, (*c == '"' || *c == '\\') ? "\\%c" : "%c", *c);
		fprintf(f, "\"");
	}
	fprintf(f, "],\"ok\":%s}\n", G.nerr == 0 ? "true" : "false");
	if (f != stdout)
		fclose(f);
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "evilguest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void
msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "evilguest[%.3f]: ", (now_ns() - G.t0) / 1e9);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static uint32_t
fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool
parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return false;
		m[i] = (uint8_t)v[i];
	}
	return true;
}

/* Our pointer to [gpa, gpa + len) if wholly inside one plugged region. */
static uint8_t *
g2p(uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < G.nreg; i++)
		if (gpa >= REG[i].gpa && gpa - REG[i].gpa < REG[i].size &&
		    len <= REG[i].size - (gpa - REG[i].gpa))
			return G.mem + REG[i].off + (gpa - REG[i].gpa);
	return NULL;
}

/* Write into guest memory, across GPA-adjacent regions. */
static void
gwrite(uint64_t gpa, const void *src, size_t len)
{
	const uint8_t *s = src;

	while (len != 0) {
		size_t k = 0;
		uint8_t *p = NULL;
		for (unsigned i = 0; i < G.nreg && p == NULL; i++)
			if (gpa >= REG[i].gpa && gpa - REG[i].gpa < REG[i].size) {
				p = G.mem + REG[i].off + (gpa - REG[i].gpa);
				k = REG[i].size - (gpa - REG[i].gpa);
			}
		if (p == NULL)
			die("internal: write to unmapped GPA 0x%" PRIx64, gpa);
		if (k > len)
			k = len;
		memcpy(p, s, k);
		s += k;
		gpa += k;
		len -= k;
	}
}

/* ---- vhost-user ---- */

static void
vu_send(uint32_t req, const void *payload, uint32_t size, const int *fds, unsigned nfds,
	bool need_reply)
{
	struct vu_msg m;
	char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
	struct iovec iov;
	struct msghdr mh = { 0 };
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.req = req;
	m.flags = VU_FLAG_VERSION | (need_reply ? VU_FLAG_NEED_REPLY : 0);
	m.size = size;
	if (size != 0)
		memcpy(&m.p, payload, size);
	iov.iov_base = &m;
	iov.iov_len = VU_HDR + size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds != 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(G.sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(VU_HDR + size)) {
		G.dead = true;
		fail("vhost-user: sending request %u: %s", req, n < 0 ? strerror(errno) : "short write");
	}
}

static bool
read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len != 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = poll(&pf, 1, timeout_ms);
		if (r <= 0)
			return false;
		ssize_t n = read(fd, p, len);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Wait for the reply to req; its payload (u64 or state) into out. */
static bool
vu_reply(uint32_t req, struct vu_msg *out)
{
	memset(out, 0, sizeof(*out));
	if (!read_full(G.sock, out, VU_HDR, 5000))
		return false;
	if (out->size > sizeof(out->p) || !(out->flags & VU_FLAG_REPLY) || out->req != req)
		return false;
	return read_full(G.sock, &out->p, out->size, 5000);
}

static uint64_t
vu_get_u64(uint32_t req)
{
	struct vu_msg r;

	vu_send(req, NULL, 0, NULL, 0, false);
	if (!vu_reply(req, &r) || r.size != 8)
		die("vhost-user: no reply to request %u", req);
	return r.p.u64;
}

/* Send a request; with REPLY_ACK wait for the backend's verdict (false: it refused). */
static bool
vu_req(uint32_t req, const void *payload, uint32_t size, const int *fds, unsigned nfds)
{
	struct vu_msg r;

	vu_send(req, payload, size, fds, nfds, G.reply_ack);
	if (!G.reply_ack || G.dead)
		return !G.dead;
	if (!vu_reply(req, &r) || r.size != 8) {
		G.dead = true;
		fail("vhost-user: no acknowledgement of request %u", req);
		return false;
	}
	return r.p.u64 == 0;
}

static void
vu_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t t_end = now_ns() + 10 * UINT64_C(1000000000);

	if (strlen(G.sock_path) >= sizeof(sa.sun_path))
		die("socket path too long");
	strcpy(sa.sun_path, G.sock_path);
	for (;;) {
		G.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(G.sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return;
		close(G.sock);
		if (now_ns() > t_end)
			die("cannot connect to %s: %s", G.sock_path, strerror(errno));
		usleep(100000);
	}
}

static void
send_mem_table(unsigned nreg)
{
	struct { uint32_t n, pad; struct vu_region r[VU_MAX_REGIONS]; } t;
	int fds[VU_MAX_REGIONS];

	memset(&t, 0, sizeof(t));
	t.n = nreg;
	for (unsigned i = 0; i < nreg; i++) {
		t.r[i].gpa = REG[i].gpa;
		t.r[i].size = REG[i].size;
		t.r[i].uaddr = (uint64_t)(uintptr_t)(G.mem + REG[i].off);
		t.r[i].mmap_offset = REG[i].off;
		fds[i] = G.memfd;   /* the same file for every region: one fd each, as the protocol wants */
	}
	if (!vu_req(VU_SET_MEM_TABLE, &t, 8 + nreg * sizeof(struct vu_region), fds, nreg))
		die("vhost-user: SET_MEM_TABLE (%u regions) refused", nreg);
	G.nreg = nreg;
}

static uint64_t
uaddr(uint64_t gpa)
{
	return (uint64_t)(uintptr_t)g2p(gpa, 1);
}

static void
setup_vring(unsigned idx, uint64_t d, uint64_t a, uint64_t u)
{
	struct { uint32_t index, num; } st = { idx, G.size };
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } ad = {
		idx, 0, uaddr(d), uaddr(u), uaddr(a), 0 };
	uint64_t v;

	if (!vu_req(VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0))
		die("SET_VRING_NUM refused");
	st.num = 0;
	if (!vu_req(VU_SET_VRING_BASE, &st, sizeof(st), NULL, 0))
		die("SET_VRING_BASE refused");
	if (!vu_req(VU_SET_VRING_ADDR, &ad, sizeof(ad), NULL, 0))
		die("SET_VRING_ADDR refused");
	v = idx;
	if (!vu_req(VU_SET_VRING_KICK, &v, 8, &G.kick[idx], 1))
		die("SET_VRING_KICK refused");
	if (!vu_req(VU_SET_VRING_CALL, &v, 8, &G.call[idx], 1))
		die("SET_VRING_CALL refused");
}

static void
handshake(void)
{
	uint64_t feat, want, proto = 0;

	vu_connect();
	feat = vu_get_u64(VU_GET_FEATURES);
	if (!(feat & (UINT64_C(1) << VIRTIO_F_VERSION_1)))
		die("backend does not offer VERSION_1 (features 0x%" PRIx64 ")", feat);
	if (feat & (UINT64_C(1) << VU_F_PROTOCOL_FEATURES)) {
		proto = vu_get_u64(VU_GET_PROTOCOL_FEATURES);
		if (G.migration && !(proto & (UINT64_C(1) << VU_PROTO_LOG_SHMFD)))
			die("--migration: the backend does not offer LOG_SHMFD");
		proto &= (UINT64_C(1) << VU_PROTO_REPLY_ACK) |
			 (G.migration ? UINT64_C(1) << VU_PROTO_LOG_SHMFD : 0);
		vu_send(VU_SET_PROTOCOL_FEATURES, &proto, 8, NULL, 0, false);
		G.reply_ack = proto != 0;
	}
	vu_send(VU_SET_OWNER, NULL, 0, NULL, 0, false);
	want = (UINT64_C(1) << VIRTIO_F_VERSION_1) |
	       (feat & (UINT64_C(1) << VU_F_PROTOCOL_FEATURES));
	if (G.event_idx && (feat & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)))
		want |= UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX;
	if (!vu_req(VU_SET_FEATURES, &want, 8, NULL, 0))
		die("SET_FEATURES refused");
	G.features = want;
	send_mem_table(3);
	for (int i = 0; i < 2; i++) {
		G.kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		G.call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (G.kick[i] < 0 || G.call[i] < 0)
			die("eventfd: %s", strerror(errno));
	}
	setup_vring(0, RXD_GPA, RXA_GPA, RXU_GPA);
	setup_vring(1, TXD_GPA, TXA_GPA, TXU_GPA);
	if (feat & (UINT64_C(1) << VU_F_PROTOCOL_FEATURES))
		for (uint32_t i = 0; i < 2; i++) {
			struct { uint32_t index, num; } st = { i, 1 };
			if (!vu_req(VU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0))
				die("SET_VRING_ENABLE refused");
		}
	msg("connected to %s: features 0x%" PRIx64 " (offered 0x%" PRIx64 "), protocol 0x%" PRIx64
	    ", ring %u, event_idx %d", G.sock_path, want, feat, proto, G.size,
	    !!(want & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)));
}

static bool
conn_alive(void)
{
	struct pollfd pf = { .fd = G.sock, .events = POLLIN };

	if (G.dead)
		return false;
	if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLIN))) {
		char c;
		if (pf.revents & POLLIN && recv(G.sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			return true;   /* a backend request we do not expect; ignore */
		G.dead = true;
		fail("ferryd closed the vhost-user connection");
		return false;
	}
	return true;
}

/* ---- ferryd's control socket ---- */

struct zstats {
	bool ok;
	char state[32];
	uint64_t bad[C_MAX], lent, copied, inflight, rx_packets, announced;
};

static int
rpc_call(const char *method, const char *params, char *out, size_t outlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 3 };
	char req[512];
	size_t got = 0;
	int fd, n;

	if (G.rpc_path == NULL || strlen(G.rpc_path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, G.rpc_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"%s%s}\n",
		     method, params ? ",\"params\":" : "", params ? params : "");
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -1;
	}
	while (got + 1 < outlen) {
		ssize_t k = recv(fd, out + got, outlen - 1 - got, 0);
		if (k <= 0)
			break;
		got += (size_t)k;
		if (out[got - 1] == '\n')
			break;
	}
	out[got] = 0;
	close(fd);
	return got != 0 && strchr(out, '\n') != NULL ? 0 : -1;
}

static bool
jnum(const char *from, const char *key, uint64_t *v)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	if (from == NULL || (p = strstr(from, k)) == NULL)
		return false;
	p += strlen(k);
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	*v = strtoull(p, NULL, 10);
	return true;
}

static bool
jstr(const char *from, const char *key, char *out, size_t outlen)
{
	char k[64];
	const char *p, *e;

	snprintf(k, sizeof(k), "\"%s\":\"", key);
	if (from == NULL || (p = strstr(from, k)) == NULL)
		return false;
	p += strlen(k);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= outlen)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return true;
}

static bool
zc_stats(struct zstats *s)
{
	static char buf[16384];
	char params[128];
	const char *z, *b;

	memset(s, 0, sizeof(*s));
	snprintf(params, sizeof(params), "{\"name\":\"%s\"}", G.port);
	if (rpc_call("port.stats", params, buf, sizeof(buf)) != 0 || strstr(buf, "\"result\"") == NULL)
		return false;
	jnum(buf, "rx_packets", &s->rx_packets);
	if ((z = strstr(buf, "\"zero_copy\"")) == NULL || (b = strstr(z, "\"bad_descriptors\"")) == NULL)
		return false;
	jstr(z, "state", s->state, sizeof(s->state));
	jnum(z, "lent", &s->lent);
	jnum(z, "copied", &s->copied);
	jnum(z, "inflight", &s->inflight);
	jnum(z, "announced", &s->announced);
	for (int i = 0; i < C_MAX; i++)
		if (!jnum(b, cnt_names[i], &s->bad[i]))
			return false;
	s->ok = true;
	return true;
}

/* ---- the TX ring ---- */

static void
ring_init(void)
{
	G.desc = (struct vring_desc *)g2p(TXD_GPA, 16u * G.size);
	G.avail = (struct vring_avail *)g2p(TXA_GPA, 6u + 2u * G.size);
	G.used = (struct vring_used *)g2p(TXU_GPA, 6u + 8u * G.size);
	G.mask = (uint16_t)(G.size - 1);
	for (unsigned i = 0; i < G.size; i++)
		G.freel[G.nfree++] = (uint16_t)(G.size - 1 - i);
	for (int e = 0; e < E_MAX; e++)
		G.edge_owner[e] = -1;
}

static bool
d_alloc(uint16_t *d, unsigned n)
{
	if (G.nfree < n)
		return false;
	for (unsigned i = 0; i < n; i++)
		d[i] = G.freel[--G.nfree];
	return true;
}

static void
dset(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	volatile struct vring_desc *d = &G.desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* A descriptor inside an indirect table at gpa. */
static void
tset(uint64_t tab, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	gwrite(tab + 16u * i, &d, sizeof(d));
}

static void
avail_push(uint16_t head)
{
	if (G.debug >= 2)
		msg("push head %u at avail %u (%s seq %u)", head, G.avail_idx,
		    head < G.size ? KI[G.post[head].kind].name : "junk", head < G.size ? G.post[head].seq : 0);
	__atomic_store_n(&G.avail->ring[G.avail_idx & G.mask], head, __ATOMIC_RELAXED);
	G.avail_idx++;
}

static void
avail_publish(void)
{
	__atomic_store_n(&G.avail->idx, G.avail_idx, __ATOMIC_RELEASE);
	if (G.features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX))   /* used_event: any value */
		__atomic_store_n(&G.avail->ring[G.size], (uint16_t)rnd(), __ATOMIC_RELAXED);
	if (rn(4) == 0) {
		uint64_t one = 1;
		if (write(G.kick[1], &one, 8) == 8)
			G.kicks++;
	}
}

/* vhdr + Ethernet frame of flen bytes into img; returns bytes written. */
static unsigned
image(uint8_t *img, enum kind k, uint32_t seq, unsigned flen)
{
	uint8_t *f = img + VHDR;
	uint64_t s = G.seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seq << 8) ^ k;

	memset(img, 0, VHDR);
	for (unsigned i = 0; i < flen; i++) {   /* fill first, headers over it */
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		f[i] = (uint8_t)(s >> 56);
	}
	if (flen >= 14) {
		memcpy(f, G.dst, 6);
		memcpy(f + 6, G.mac, 6);
		f[12] = ETH_TYPE >> 8;
		f[13] = ETH_TYPE & 0xff;
	}
	if (flen >= 14 + EH_LEN) {
		struct evil_hdr h;
		memcpy(h.magic, MAGIC, 4);
		h.kind = (uint8_t)k;
		h.ver = 1;
		h.len = (uint16_t)(flen - 14);
		h.run = (uint32_t)G.seed;
		h.seq = seq;
		h.csum = 0;
		memcpy(f + 14, &h, EH_LEN);
		h.csum = fnv1a(f + 14, flen - 14, 2166136261u);
		memcpy(f + 14, &h, EH_LEN);
	}
	return VHDR + flen;
}

static unsigned
pick_len(bool large)
{
	unsigned r = rn(10);

	if (large)
		return rr(600, FRAME_MAX);
	if (r < 4)
		return rr(60, 128);
	if (r < 7)
		return rr(129, 700);
	return rr(701, FRAME_MAX);
}

static struct post *
post_new(enum kind k, const uint16_t *d, unsigned nd)
{
	struct post *p = &G.post[d[0]];

	memset(p, 0, sizeof(*p));
	p->active = true;
	p->kind = p->orig_kind = (uint8_t)k;
	p->postings = 1;
	p->edge = -1;
	p->nd = (uint16_t)nd;
	memcpy(p->d, d, nd * sizeof(d[0]));
	p->t_ns = now_ns();
	p->order = G.order++;
	G.active++;
	G.posted[k]++;
	if (KI[k].cnt != C_NONE && k != K_DUP)
		G.inj[KI[k].cnt]++;
	return p;
}

/* Split img[0, n) into `pieces` chunks laid out at the same offsets in the head's A or B buffer,
 * as descriptors d[0..] (with zero-length descriptors sprinkled in when zeros); returns the number
 * of descriptors used. The last one has no NEXT. into_tab: write into an indirect table instead. */
static unsigned
lay_pieces(uint16_t h, const uint8_t *img, unsigned n, unsigned pieces, unsigned zeros,
	   const uint16_t *d, uint64_t tab)
{
	unsigned cut[40], nc = 0, nd = 0;

	cut[nc++] = 0;
	for (unsigned i = 1; i < pieces; i++)
		cut[nc++] = rr(1, n - 1);
	for (unsigned i = 1; i < nc; i++)   /* sort */
		for (unsigned j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			unsigned t = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	cut[nc] = n;
	struct { uint64_t a; uint32_t l; } seg[80];
	unsigned ns = 0;
	for (unsigned i = 0; i < nc; i++) {
		unsigned lo = cut[i], len = cut[i + 1] - cut[i];
		if (len == 0)
			continue;
		uint64_t base = rn(2) ? BUFA(h) : BUFB(h);
		gwrite(base + lo, img + lo, len);
		if (zeros != 0 && rn(3) == 0) {
			seg[ns].a = base;
			seg[ns++].l = 0;
			zeros--;
		}
		seg[ns].a = base + lo;
		seg[ns++].l = len;
	}
	for (unsigned i = 0; i < ns; i++) {
		uint16_t fl = i + 1 < ns ? VRING_DESC_F_NEXT : 0;
		if (tab != 0)
			tset(tab, i, seg[i].a, seg[i].l, fl, (uint16_t)(i + 1));
		else
			dset(d[i], seg[i].a, seg[i].l, fl, i + 1 < ns ? d[i + 1] : 0);
		nd++;
	}
	return nd;
}

static bool
edge_area(int e, unsigned n, uint64_t *gpa)
{
	switch (e) {
	case E_R0END:   *gpa = GAP_LO - n; break;
	case E_R1START: *gpa = GAP_HI; break;
	case E_R1R2:    *gpa = REG[2].gpa - n / 2; break;
	case E_R2END:   *gpa = R2_END - n; break;
	default: return false;
	}
	return true;
}

/* A valid frame (kind K_VALID, K_DUP or K_HOTPLUG) in one of the legal layouts. */
static struct post *
post_valid(enum kind k, int layout, bool large)
{
	uint8_t img[VHDR + FRAME_MAX];
	uint16_t d[MAXD];
	unsigned flen = pick_len(large), n, nd = 1;
	uint32_t seq = k == K_VALID ? G.vseq : k == K_DUP ? G.dseq : k == K_HOTPLUG ? G.hseq : G.oseq;
	int edge = -1;
	uint64_t gpa = 0;

	if (layout < 0) {
		unsigned r = rn(100);
		layout = r < 35 ? L_SINGLE : r < 50 ? L_HDR_SPLIT : r < 75 ? L_PIECES :
			 r < 90 ? L_INDIRECT : L_EDGE;
	}
	if (layout == L_EDGE) {
		edge = (int)rn(E_MAX);
		if (G.edge_owner[edge] >= 0)
			layout = L_SINGLE;
	}
	if (layout == L_PIECES)
		nd = rr(2, 16) + 3;   /* pieces + up to 3 zero-length ones */
	if (layout == L_HDR_SPLIT)
		nd = 2;
	if (!d_alloc(d, nd))
		return NULL;
	n = image(img, k, seq, flen);
	uint16_t h = d[0];
	switch (layout) {
	case L_SINGLE:
		gpa = rn(2) || G.r0_only ? BUFA(h) : BUFB(h);
		gwrite(gpa, img, n);
		dset(h, gpa, n, 0, 0);
		break;
	case L_HDR_SPLIT:   /* header in R0, frame in R1 (or the other way round) */
		if (rn(2)) {
			gwrite(BUFA(h), img, VHDR);
			gwrite(BUFB(h), img + VHDR, n - VHDR);
			dset(h, BUFA(h), VHDR, VRING_DESC_F_NEXT, d[1]);
			dset(d[1], BUFB(h), n - VHDR, 0, 0);
		} else {
			gwrite(BUFB(h), img, VHDR);
			gwrite(BUFA(h), img + VHDR, n - VHDR);
			dset(h, BUFB(h), VHDR, VRING_DESC_F_NEXT, d[1]);
			dset(d[1], BUFA(h), n - VHDR, 0, 0);
		}
		break;
	case L_PIECES: {
		unsigned used = lay_pieces(h, img, n, nd - 3, 3, d, 0);
		for (unsigned i = used; i < nd; i++)   /* give back what the split did not need */
			G.freel[G.nfree++] = d[i];
		nd = used;
		break;
	}
	case L_INDIRECT: {
		unsigned ne = lay_pieces(h, img, n, rr(1, 16), 2, NULL, ITAB(h));
		dset(h, ITAB(h), 16u * ne, VRING_DESC_F_INDIRECT, 0);
		break;
	}
	case L_EDGE:
		edge_area(edge, n, &gpa);
		gwrite(gpa, img, n);
		dset(h, gpa, n, 0, 0);
		G.edges[edge]++;
		break;
	case L_HOTPLUG:
		if (rn(2)) {
			gwrite(BUFC(h), img, n);
			dset(h, BUFC(h), n, 0, 0);
		} else {   /* header in R0, frame in the new region */
			if (!d_alloc(&d[1], 1)) {
				G.freel[G.nfree++] = d[0];
				return NULL;
			}
			nd = 2;
			gwrite(BUFA(h), img, VHDR);
			gwrite(BUFC(h), img + VHDR, n - VHDR);
			dset(h, BUFA(h), VHDR, VRING_DESC_F_NEXT, d[1]);
			dset(d[1], BUFC(h), n - VHDR, 0, 0);
		}
		break;
	}
	struct post *p = post_new(k, d, nd);
	p->seq = seq;
	if (layout == L_EDGE) {
		p->edge = (int8_t)edge;
		G.edge_owner[edge] = h;
	}
	G.layouts[layout]++;
	if (k == K_VALID)
		G.vseq++;
	else if (k == K_DUP)
		G.dseq++;
	else if (k == K_HOTPLUG)
		G.hseq++;
	else
		G.oseq++;
	return p;
}

/* A malicious (or odd) chain of kind k. Its head buffer carries a frame of kind k, so that a
 * chain wrongly accepted shows up in the capture. NULL: not enough descriptors now. */
/* A loop through empty ring descriptors is refused as a loop when the ring's link budget runs
 * out first (rings of 8: at most 8 reads), else at ferry's 9th empty one (too_many_links). */
static int
empty_loop_counter(void)
{
	return G.size <= VQ_MAX_EMPTY + 1 ? C_LOOP : C_LINKS;
}

/* post_new, counted in counter c instead of KI[k].cnt */
static struct post *
post_new_as(enum kind k, const uint16_t *d, unsigned nd, int c)
{
	struct post *p = post_new(k, d, nd);

	G.inj[KI[k].cnt]--;
	G.inj[c]++;
	return p;
}

static struct post *
post_bad(enum kind k)
{
	uint8_t img[VHDR + FRAME_MAX];
	uint16_t d[MAXD];
	unsigned nd, n, flen = pick_len(false);
	uint16_t h, NX = VRING_DESC_F_NEXT, IND = VRING_DESC_F_INDIRECT, WR = VRING_DESC_F_WRITE;

	switch (k) {
	case K_TOTAL_LONG: nd = rr(18, 24); break;
	case K_MANYSEGS:   nd = rr(65, 80); break;
	case K_LOOP_LONG:  nd = rr(4, 40); break;
	case K_LOOP_TWO:   nd = 3; break;
	case K_LOOP_SELF: case K_STRADDLE: case K_ADDR_OUT: case K_ADDR_GAP: case K_WRAP:
	case K_NEXT_BEYOND: case K_WRITE: case K_LOOP_FAT: case K_SHORT: case K_IND_NEXTFLAG:
		nd = 2; break;
	default:           nd = 1; break;
	}
	if (!d_alloc(d, nd))
		return NULL;
	h = d[0];
	if (k == K_MANYSEGS)
		flen = rr(700, FRAME_MAX);
	n = image(img, k, G.oseq++, flen);
	gwrite(BUFA(h), img, n);
	uint64_t A = BUFA(h), B = BUFB(h);
	switch (k) {
	case K_ADDR_OUT:   /* header fine, frame far outside every region */
		dset(h, A, VHDR, NX, d[1]);
		dset(d[1], rn(2) ? 0x10000000 + rn(1u << 20) : (uint64_t)rnd() | (UINT64_C(1) << 40),
		     n - VHDR, 0, 0);
		break;
	case K_ADDR_GAP:
		if (rn(2)) {
			dset(h, GAP_LO + rn(GAP_HI - GAP_LO - 4096), n, 0, 0);
			dset(d[1], A, 0, 0, 0);
		} else {
			dset(h, A, VHDR, NX, d[1]);
			dset(d[1], GAP_LO + rn(GAP_HI - GAP_LO - 4096), n - VHDR, 0, 0);
		}
		break;
	case K_STRADDLE: {   /* one byte .. all but one byte inside */
		unsigned in = rr(1, n - VHDR - 1), w = rn(3);
		uint64_t a = w == 0 ? GAP_LO - in : w == 1 ? GAP_HI - in : R2_END - in;
		dset(h, A, VHDR, NX, d[1]);
		dset(d[1], a, n - VHDR, 0, 0);
		break;
	}
	case K_WRAP:   /* gpa + len wraps past 2^64 (onto GPA 0, which is guest memory) */
		dset(h, A, VHDR, NX, d[1]);
		dset(d[1], UINT64_MAX - rn(64), rr(0x100, 0x2000), 0, 0);
		break;
	case K_HUGE_LEN: {
		static const uint32_t lens[] = { 0xffffffffu, 0x80000000u, 0x10000u, 16384 + 64 + 1 };
		dset(h, A, lens[rn(4)], 0, 0);
		break;
	}
	case K_TOTAL_LONG:   /* every piece fine, the sum too long: all alias one 1 KiB buffer */
		for (unsigned i = 0; i < nd; i++)
			dset(d[i], A, 1024, i + 1 < nd ? NX : 0, i + 1 < nd ? d[i + 1] : 0);
		break;
	case K_MANYSEGS: {   /* more pieces than ferry takes (64), total length fine */
		unsigned off = 0;
		for (unsigned i = 0; i < nd; i++) {
			unsigned len = i + 1 < nd ? (n - off) / (nd - i) : n - off;
			dset(d[i], A + off, len, i + 1 < nd ? NX : 0, i + 1 < nd ? d[i + 1] : 0);
			off += len;
		}
		break;
	}
	case K_LOOP_SELF:
		if (rn(2)) {   /* the head itself, empty, pointing at itself */
			dset(h, A, 0, NX, h);
			G.freel[G.nfree++] = d[1];
			nd = 1;
		} else {
			dset(h, A, n, NX, d[1]);
			dset(d[1], B, 0, NX, d[1]);
		}
		return post_new_as(k, d, nd, empty_loop_counter());
	case K_LOOP_TWO:
		dset(h, A, n, NX, d[1]);
		dset(d[1], B, 0, NX, d[2]);
		dset(d[2], B, 0, NX, d[1]);
		return post_new_as(k, d, nd, empty_loop_counter());
	case K_LOOP_LONG:
		dset(h, A, n, NX, d[1]);
		for (unsigned i = 1; i < nd; i++)
			dset(d[i], B, 0, NX, i + 1 < nd ? d[i + 1] : d[1]);
		return post_new_as(k, d, nd, empty_loop_counter());
	case K_LOOP_FAT:   /* a loop through buffers with data: too many pieces before the loop */
		dset(h, A, n, NX, d[1]);
		dset(d[1], B, 8, NX, h);
		break;
	case K_NEXT_BEYOND:
		dset(h, A, VHDR, NX, d[1]);
		dset(d[1], A + VHDR, n - VHDR, NX,
		     rn(2) ? 0xffff : (uint16_t)(G.size + rn(65536u - G.size)));
		break;
	case K_WRITE:
		if (rn(2)) {
			dset(h, A, n, WR, 0);
			G.freel[G.nfree++] = d[1];
			nd = 1;
		} else {
			dset(h, A, VHDR, NX, d[1]);
			dset(d[1], A + VHDR, n - VHDR, WR, 0);
		}
		break;
	case K_IND_NESTED: {   /* a table whose 2nd entry is itself an indirect table */
		uint64_t t = ITAB(h), t2 = A + 1536;   /* tail of the A buffer: 32 entries */
		tset(t, 0, A, n, NX, 1);
		tset(t, 1, t2, 32, IND, 0);
		tset(t2, 0, B, 16, 0, 0);
		tset(t2, 1, B, 16, 0, 0);
		dset(h, t, 32, IND, 0);
		break;
	}
	case K_IND_MISALIGNED:
		tset(ITAB(h), 0, A, n, 0, 0);
		dset(h, ITAB(h), 16 + rr(1, 15), IND, 0);
		break;
	case K_IND_ZERO:
		tset(ITAB(h), 0, A, n, 0, 0);
		dset(h, ITAB(h), 0, IND, 0);
		break;
	case K_IND_OUTSIDE:
		dset(h, rn(2) ? GAP_LO + 16u * rn(8192) : 0x20000000 + 16u * rn(8192), 16u * rr(1, 8),
		     IND, 0);
		break;
	case K_IND_NEXTFLAG:
		tset(ITAB(h), 0, A, n, 0, 0);
		dset(h, ITAB(h), 16, IND | NX, d[1]);
		dset(d[1], B, 16, 0, 0);
		break;
	case K_IND_STRADDLE: {   /* the table runs off the end of R0 into the gap */
		unsigned ne = rr(2, 8), in = rr(1, ne - 1);
		uint64_t t = GAP_LO - 16u * in;
		dset(h, t, 16u * ne, IND, 0);
		break;
	}
	case K_IND_HUGE:
		tset(ITAB(h), 0, A, n, 0, 0);
		dset(h, ITAB(h), rn(2) ? 0xfffffff0u : 16u * (32768 + rr(1, 1000)), IND, 0);
		break;
	case K_IND_LOOP: {   /* a loop of ne - 1 empty entries: ferry's empty bound may come first */
		unsigned ne = rr(3, ITAB_N);
		tset(ITAB(h), 0, A, n, NX, 1);
		for (unsigned i = 1; i < ne; i++)
			tset(ITAB(h), i, B, 0, NX, (uint16_t)(i + 1 < ne ? i + 1 : 1));
		dset(h, ITAB(h), 16u * ne, IND, 0);
		return post_new_as(k, d, nd, ne <= VQ_MAX_EMPTY + 1 ? C_LOOP : C_LINKS);
	}
	case K_IND_EMPTY: {   /* a valid frame behind more empty entries than ferry walks */
		unsigned ne = rr(VQ_MAX_EMPTY + 2, ITAB_N);
		for (unsigned i = 0; i + 1 < ne; i++)
			tset(ITAB(h), i, B, 0, NX, (uint16_t)(i + 1));
		tset(ITAB(h), ne - 1, A, n, 0, 0);
		dset(h, ITAB(h), 16u * ne, IND, 0);
		break;
	}
	case K_IND_NEXT_BEYOND: {   /* (a 1-entry table with NEXT is a loop: budget spent first) */
		unsigned ne = rr(2, 8);
		tset(ITAB(h), 0, A, n, NX, (uint16_t)(ne + rn(1000)));
		dset(h, ITAB(h), 16u * ne, IND, 0);
		break;
	}
	case K_IND_WRITE:
		tset(ITAB(h), 0, A, VHDR, NX, 1);
		tset(ITAB(h), 1, A + VHDR, n - VHDR, WR, 0);
		dset(h, ITAB(h), 32, IND, 0);
		break;
	case K_SHORT:   /* fewer bytes than the virtio-net header */
		if (rn(2)) {
			dset(h, A, rr(1, VHDR - 1), 0, 0);
			G.freel[G.nfree++] = d[1];
			nd = 1;
		} else {
			unsigned a = rr(1, 5);
			dset(h, A, a, NX, d[1]);
			dset(d[1], A + a, rr(1, VHDR - 1 - a), 0, 0);
		}
		break;
	case K_ZERO:
		dset(h, A, 0, 0, 0);
		break;
	case K_EMPTY: {   /* header + 0..13 frame bytes: legal for the ring, a runt for the switch */
		unsigned fl = rn(14);
		image(img, k, 0, fl);
		gwrite(A, img, VHDR + fl);
		dset(h, A, VHDR + fl, 0, 0);
		break;
	}
	default:
		die("internal: post_bad(%d)", k);
	}
	return post_new(k, d, nd);
}

/* TOCTOU: right after publishing, rewrite one of the chain's descriptors (sometimes putting it
 * back after a short spin). The frame's own buffer stays the only memory the chain can reach. */
static struct post *
post_toctou(void)
{
	return post_valid(K_TOCTOU, rn(2) ? L_SINGLE : L_PIECES, false);
}

static void
toctou_mutate(struct post *p)
{
	uint16_t i = p->d[rn(p->nd)];
	volatile struct vring_desc *d = &G.desc[i];
	struct vring_desc keep = { d->addr, d->len, d->flags, d->next };
	unsigned m = rn(6);

	switch (m) {
	case 0: d->addr = 0x30000000 + rn(4096); break;
	case 1: d->len = 0xffffffffu; break;
	case 2: d->next = i; d->flags = (uint16_t)(d->flags | VRING_DESC_F_NEXT); break;
	case 3: d->next = (uint16_t)(G.size + rn(100)); d->flags = (uint16_t)(d->flags | VRING_DESC_F_NEXT); break;
	case 4: d->flags = (uint16_t)(d->flags | VRING_DESC_F_WRITE); break;
	case 5: d->len = d->len / 2; break;
	}
	G.toctou_mut[m]++;
	if (rn(2)) {   /* and back */
		unsigned spin = rn(20000);
		for (volatile unsigned s = 0; s < spin; s++)
			;
		d->flags = keep.flags;   /* before next: NEXT never pairs with a foreign index */
		d->next = keep.next;
		d->addr = keep.addr;
		d->len = keep.len;
		G.toctou_mut[6]++;
	}
}

static void
post_release(struct post *p)
{
	for (unsigned i = 0; i < p->nd; i++)
		G.freel[G.nfree++] = p->d[i];
	if (p->edge >= 0)
		G.edge_owner[p->edge] = -1;
	p->active = false;
	G.active--;
}

/* ---- the used ring ---- */

static void
reap_used(void)
{
	uint16_t idx = __atomic_load_n(&G.used->idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)(idx - G.used_seen) > G.size) {
		fail("used idx jumped from %u to %u (more than the ring holds)", G.used_seen, idx);
		G.used_seen = idx;
		return;
	}
	while (G.used_seen != idx) {
		struct vring_used_elem e = G.used->ring[G.used_seen & G.mask];
		G.used_seen++;
		G.returns_total++;
		if (e.len != 0)
			G.used_len_nonzero++;
		if (e.id >= G.size) {
			fail("used entry names head %u, beyond the ring", e.id);
			continue;
		}
		struct post *p = &G.post[e.id];
		if (!p->active) {
			fail("head %u returned while not outstanding (last kind %s)", e.id,
			     KI[p->orig_kind].name);
			continue;
		}
		p->returns++;
		G.returned[p->kind]++;
		if (G.debug >= 2)
			msg("return head %u (%s seq %u) at used %u", e.id, KI[p->kind].name, p->seq,
			    G.used_seen - 1);
		if (p->postings == 2 && G.debug)
			msg("dup head %u returned (%u) at used %u", e.id, p->returns, G.used_seen - 1);
		if (p->returns > p->postings)
			fail("head %u (%s) returned %u times, posted %u times", e.id, KI[p->kind].name,
			     p->returns, p->postings);
		if (p->postings == 1)
			post_release(p);
		/* duplicates stay until the next settle: more returns may come */
	}
}

/* rte_vhost (mode off) stops at the first chain it cannot map and retries it forever: replace
 * such a chain's head with a small valid frame so the ring moves on. */
static void
off_repair(void)
{
	struct post *old = NULL;

	if (G.mode != M_OFF)
		return;
	for (unsigned h = 0; h < G.size; h++) {
		struct post *p = &G.post[h];
		if (p->active && p->postings == 1 && (old == NULL || p->order < old->order))
			old = p;
	}
	if (old == NULL || now_ns() - old->t_ns < 150000000u ||
	    old->kind == K_VALID || old->kind == K_REPAIRED || old->kind == K_HOTPLUG)
		return;
	uint8_t img[VHDR + 64];
	uint16_t h = old->d[0];
	unsigned n = image(img, K_REPAIRED, G.oseq++, 60);
	gwrite(BUFA(h), img, n);
	volatile struct vring_desc *d = &G.desc[h];
	/* store order matters: a reader may take the old flags (NEXT) with the new next, so next
	 * never names another posting's descriptor (x86 keeps stores in order) */
	d->next = h;
	d->flags = 0;
	d->len = n;
	d->addr = BUFA(h);
	G.repaired[old->kind]++;
	if (G.debug)
		msg("repair head %u (%s)", h, KI[old->kind].name);
	old->kind = K_REPAIRED;
	old->t_ns = now_ns();
}

static bool
wait_returned(struct post *p, uint16_t head, uint64_t timeout_ns)
{
	uint64_t t_end = now_ns() + timeout_ns;

	while (G.post[head].active && G.post[head].order == p->order) {
		reap_used();
		off_repair();
		if (!conn_alive() || now_ns() > t_end)
			return false;
		usleep(100);
	}
	return true;
}

static struct post *
post_barrier(void)
{
	struct post *p;
	uint64_t t_end = now_ns() + 5 * UINT64_C(1000000000);

	while ((p = post_valid(K_VALID, L_SINGLE, false)) == NULL) {
		reap_used();
		off_repair();
		if (!conn_alive() || now_ns() > t_end)
			return NULL;
		usleep(200);
	}
	avail_push(p->d[0]);
	avail_publish();
	return p;
}

/* Everything posted so far has been taken by ferry and everything it will give back is back.
 * Then: every outstanding head is a failure; duplicates must have come back once or twice. */
static void
settle(const char *why)
{
	struct post *b;
	uint64_t t;

	if (G.dead)
		return;
	G.settles++;
	for (int round = 0; round < 2; round++) {
		b = post_barrier();
		if (b == NULL) {
			fail("settle (%s): no descriptor for a barrier frame", why);
			return;
		}
		uint16_t bh = b->d[0];
		if (!wait_returned(b, bh, 10 * UINT64_C(1000000000))) {
			if (!G.dead)
				fail("settle (%s): barrier head %u not returned within 10 s", why, bh);
			return;
		}
		if (round == 1)
			break;
		/* lent buffers: ferry holds them until the port that got them freed them */
		t = now_ns() + 5 * UINT64_C(1000000000);
		for (;;) {
			struct zstats z;
			if (G.mode == M_OFF || G.rpc_path == NULL) {
				usleep(20000);
				break;
			}
			if (zc_stats(&z) && z.inflight == 0)
				break;
			reap_used();
			if (now_ns() > t) {
				fail("settle (%s): ferry still holds %" PRIu64 " lent buffers after 5 s", why,
				     z.inflight);
				break;
			}
			usleep(2000);
		}
	}
	t = now_ns() + 2 * UINT64_C(1000000000);
	for (;;) {   /* grace for stragglers: should be none */
		unsigned missing = 0;
		reap_used();
		for (unsigned h = 0; h < G.size; h++)
			missing += G.post[h].active && G.post[h].postings == 1;
		if (missing == 0 || now_ns() > t)
			break;
		usleep(1000);
	}
	for (unsigned h = 0; h < G.size; h++) {
		struct post *p = &G.post[h];
		if (!p->active)
			continue;
		if (p->postings == 2) {
			G.dup_returns[p->returns < 3 ? p->returns : 2]++;
			if (p->returns == 0)
				fail("duplicated head %u never returned", h);
			post_release(p);
			continue;
		}
		fail("head %u (%s, posted %.1f ms ago) never returned", h, KI[p->kind].name,
		     (now_ns() - p->t_ns) / 1e6);
		p->active = false;   /* lost: its descriptors stay out of use */
		G.active--;
	}
	G.extras = 0;
}

/* Fill the avail ring with heads beyond the ring and move avail idx far ahead: ferry must take
 * (and count) every one of them and give nothing back. Right after a settle. */
static void
avail_jump(void)
{
	struct zstats a, z;
	unsigned j = rr(G.size + 1, 5000);
	uint64_t t_end;

	if (G.mode == M_OFF || !zc_stats(&a))
		return;
	for (unsigned i = 0; i < G.size; i++)
		G.avail->ring[i] = (uint16_t)(G.size + rn(65536u - G.size));
	G.avail_idx = (uint16_t)(G.avail_idx + j);
	avail_publish();
	t_end = now_ns() + 10 * UINT64_C(1000000000);
	while (zc_stats(&z) && z.bad[C_BAD_HEAD] < a.bad[C_BAD_HEAD] + j && now_ns() < t_end)
		usleep(2000);
	G.jumps++;
	G.jump_entries += j;
	if (z.bad[C_BAD_HEAD] != a.bad[C_BAD_HEAD] + j)
		fail("avail idx jumped by %u heads beyond the ring: bad_head rose by %" PRIu64, j,
		     z.bad[C_BAD_HEAD] - a.bad[C_BAD_HEAD]);
	reap_used();
	if (__atomic_load_n(&G.used->idx, __ATOMIC_ACQUIRE) != G.used_seen)
		fail("used entries after an avail jump of junk heads");
}

/* Mid-run memory hot-plug: a new table with a 4th region; valid frames then use it. */
static void
hotplug(void)
{
	struct zstats a, b;
	struct post *p;

	send_mem_table(4);
	G.hotplugged = true;
	msg("memory table now has 4 regions (R3 at GPA 0x%" PRIx64 ")", REG[3].gpa);
	/* probe: one valid frame in the new region, alone on the ring */
	if (G.mode == M_OFF || G.rpc_path == NULL || !zc_stats(&a) ||
	    (p = post_valid(K_HOTPLUG, L_HOTPLUG, false)) == NULL)
		return;
	avail_push(p->d[0]);
	avail_publish();
	settle("hot-plug probe");
	if (zc_stats(&b) && b.bad[C_BAD_ADDR] != a.bad[C_BAD_ADDR])
		fail("after SET_MEM_TABLE added a region (GPA 0x%" PRIx64 ", 1 MiB) to the running "
		     "device, ferry rejected a valid frame in it as bad_addr: its zero-copy memory map "
		     "still is the old table", REG[3].gpa);
}

/* ---- live migration (--migration): the dirty log, replaced under traffic, and the announce ---- */

#define LOG_BYTES 4096   /* one bit per 4 KiB page: GPAs below 128 MiB */

/* A new dirty log (a zeroed memfd) for ferry, as QEMU sends at a migration's start and whenever
 * guest memory grows during one; rte_vhost unmaps the old log while it handles the message. */
static void
log_base(void)
{
	struct { uint64_t size, off; } lb = { LOG_BYTES, 0 };
	struct vu_msg r;
	int fd = memfd_create("evilguest-log", MFD_CLOEXEC);
	uint8_t *p = MAP_FAILED;

	if (fd >= 0 && ftruncate(fd, LOG_BYTES) == 0)
		p = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("dirty log memfd: %s", strerror(errno));
	vu_send(VU_SET_LOG_BASE, &lb, sizeof(lb), &fd, 1, false);
	if (!G.dead && !vu_reply(VU_SET_LOG_BASE, &r)) {   /* LOG_SHMFD: always answered */
		G.dead = true;
		fail("no reply to SET_LOG_BASE");
	}
	if (G.log != NULL) {
		munmap(G.log, LOG_BYTES);
		close(G.logfd);
	}
	G.log = p;
	G.logfd = fd;
	G.log_bases++;
}

/* VHOST_F_LOG_ALL on or off, the TX ring's used ring named as logged (VHOST_VRING_F_LOG): what
 * QEMU sends when a migration starts and ends. */
static void
log_switch(bool on)
{
	uint64_t f = G.features | (on ? UINT64_C(1) << VU_F_LOG_ALL : 0);
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } ad = {
		1, on, uaddr(TXD_GPA), uaddr(TXU_GPA), uaddr(TXA_GPA), on ? TXU_GPA : 0 };

	if (!vu_req(VU_SET_FEATURES, &f, 8, NULL, 0))
		fail("SET_FEATURES with LOG_ALL %s refused", on ? "on" : "off");
	if (!vu_req(VU_SET_VRING_ADDR, &ad, sizeof(ad), NULL, 0))
		fail("SET_VRING_ADDR with the log flag %s refused", on ? "on" : "off");
}

static unsigned
post_valid_n(unsigned n)
{
	unsigned k = 0;
	struct post *p;

	for (; k < n && (p = post_valid(K_VALID, -1, false)) != NULL; k++)
		avail_push(p->d[0]);
	avail_publish();
	return k;
}

/* Frames, all back: was the TX used ring's page marked in the log (it must be iff logging)? */
static void
log_probe(bool on, const char *what)
{
	uint64_t pg = TXU_GPA >> 12;

	memset(G.log, 0, LOG_BYTES);
	post_valid_n(16);
	settle(what);
	G.log_checks++;
	if (!G.dead && !!(G.log[pg / 8] & (1u << (pg % 8))) != on)
		fail("%s: the TX used ring's page is %s", what, on ?
		     "not marked in the dirty log: used ring writes went unlogged" :
		     "marked in the dirty log although logging is off");
}

/* QEMU's SEND_RARP (the guest arrived by migration): exactly one frame, a RARP, from our port. */
static void
announce(void)
{
	struct zstats a, b = { 0 };
	uint64_t mac = 0, t_end = now_ns() + 2 * UINT64_C(1000000000);

	if (G.rpc_path == NULL || !zc_stats(&a))
		return;
	memcpy(&mac, G.mac, 6);
	if (!vu_req(VU_SEND_RARP, &mac, 8, NULL, 0))
		fail("SEND_RARP refused");
	while (zc_stats(&b) && b.rx_packets == a.rx_packets && now_ns() < t_end)
		usleep(2000);
	usleep(20000);   /* a second one would show up by now */
	zc_stats(&b);
	G.announces++;
	if (b.rx_packets != a.rx_packets + 1)
		fail("SEND_RARP: port rx_packets rose by %" PRIu64 ", not by 1 (the RARP)",
		     b.rx_packets - a.rx_packets);
	if (G.mode != M_OFF && b.announced != a.announced + 1)
		fail("SEND_RARP: zero_copy.announced rose by %" PRIu64 ", not by 1",
		     b.announced - a.announced);
}

/* The migration, in three steps at 1/4, 1/2 and 3/4 of the run, between the hostile postings. */
static void
migration_step(unsigned step)
{
	switch (step) {
	case 0:
		log_base();
		log_switch(true);
		log_probe(true, "dirty log on");
		break;
	case 1:   /* new logs in quick succession while frames flow: ferry must never write to one
		   * rte_vhost is unmapping */
		for (int i = 0; i < 300 && !G.dead; i++) {
			post_valid_n(8);
			log_base();
			reap_used();
		}
		log_probe(true, "dirty log replaced 300 times");
		break;
	default:
		log_switch(false);
		log_probe(false, "dirty log off");
		announce();
		break;
	}
}

/* Can kind k be posted on this run's ring (and be counted where KI says)? */
static bool
kind_ok(int k)
{
	if (!(KI[k].flags & KF_AUTO) || (G.mode == M_OFF && (KI[k].flags & KF_ZC)))
		return false;
	/* more pieces than a small table holds; a loop through data on a ring of <= 64 runs out
	 * of links (loop) before it runs out of pieces (too_long) */
	return !((k == K_MANYSEGS || k == K_LOOP_FAT) && G.size < 128);
}

static enum kind
pick_kind(void)
{
	unsigned total = 0, r;

	for (int k = 0; k < K_MAX; k++)
		if (kind_ok(k))
			total += KI[k].weight;
	r = rn(total);
	for (int k = 0; k < K_MAX; k++) {
		if (!kind_ok(k))
			continue;
		if (r < KI[k].weight)
			return (enum kind)k;
		r -= KI[k].weight;
	}
	return K_VALID;
}

/* Post one thing; false when the ring has no room for it now. */
static bool
post_one(struct post **toctou, unsigned *ntoctou)
{
	enum kind k = pick_kind();
	struct post *p;

	if (G.active >= G.size * 3 / 4)
		return false;
	switch (k) {
	case K_VALID:
		p = G.hotplugged && rn(4) == 0 ? post_valid(K_HOTPLUG, L_HOTPLUG, false) :
						 post_valid(K_VALID, -1, false);
		if (p == NULL)
			return false;
		avail_push(p->d[0]);
		return true;
	case K_DUP:
		if (G.extras + 1 > G.size / 4)
			return false;
		if ((p = post_valid(K_DUP, L_SINGLE, true)) == NULL)
			return false;
		p->postings = 2;
		G.extras++;
		if (G.debug)
			msg("dup seq %u head %u first at avail %u", G.dseq - 1, p->d[0], G.avail_idx);
		avail_push(p->d[0]);
		for (unsigned i = rn(3); i > 0; i--)   /* the second one right after, or a little later */
			if (post_one(toctou, ntoctou) == false)
				break;
		avail_push(p->d[0]);
		return true;
	case K_TOCTOU:
		if ((p = post_toctou()) == NULL)
			return false;
		avail_push(p->d[0]);
		if (*ntoctou < 64)
			toctou[(*ntoctou)++] = p;
		return true;
	case K_BAD_HEAD:
		if (G.extras + 1 > G.size / 4)
			return false;
		G.extras++;
		G.posted[k]++;
		G.inj[C_BAD_HEAD]++;
		avail_push((uint16_t)(G.size + rn(65536u - G.size)));
		return true;
	default:
		if ((p = post_bad(k)) == NULL)
			return false;
		avail_push(p->d[0]);
		return true;
	}
}

/* ---- ring and memory attacks after setup (--attack, tests/vhost/zc_ring_evil.sh) ----
 * resize      SET_VRING_NUM 32768 on the running TX ring, then a changed SET_MEM_TABLE
 * resize2     a changed SET_MEM_TABLE, SET_VRING_NUM 32768, SET_VRING_ADDR (same), the old table
 * resize3     the ring disabled, SET_VRING_NUM 32768, enabled again, a changed SET_MEM_TABLE
 *             (each: then heads beyond 256 where a ring of 32768 has them; the resize must be
 *             refused and the ring keep working at its size)
 * readdr      SET_VRING_ADDR outside guest memory, then the ring copied to new addresses and
 *             SET_VRING_ADDR there: ferry must follow (frames on the new ring come back)
 * rebase      SET_VRING_BASE on the running ring, and again while it is disabled: refused
 * short       the memfd shorter than the regions at SET_MEM_TABLE, then a frame in the missing
 *             part: zero-copy refused (short file), rte_vhost's copy must not kill ferryd
 * short2      a running guest's new SET_MEM_TABLE (R3 added) on a 64 KiB file: rte_vhost reads the rings
 *             beyond its end inside the message (SIGBUS on the vhost thread)
 * truncate    the memfd truncated under ferry while frames flow, then frames in the cut part
 * sealed      a sealable memfd: ferry must seal it against shrinking (F_SEAL_SHRINK)
 * (--hugetlb: the memfd on 2 MiB pages, so that a repaired fault replaces a whole huge page)
 * Each ends with valid frames on the same ring (they must come back) and, after a reconnect
 * with fresh memory, again (and they must be forwarded: the script counts them at the NIC). */

#define TX2_D 0x5a0000   /* where readdr moves the TX ring (R1) */
#define TX2_A 0x5a4000
#define TX2_U 0x5a6000

static bool
vu_ring_msg(uint32_t req, uint32_t idx, uint32_t num)   /* true: the backend took it */
{
	struct { uint32_t index, num; } st = { idx, num };

	return vu_req(req, &st, sizeof(st), NULL, 0);
}

/* A message that ferry must refuse: note it, fail if it was taken. */
static void
expect_refused(const char *what, bool taken)
{
	if (G.dead)
		return;
	if (taken) {
		fail("%s on the running TX ring was accepted", what);
		return;
	}
	G.refused++;
	msg("%s refused, as it must be", what);
}

/* n valid frames (alone on the ring, buffers in R0 with r0_only), all must come back. */
static void
probe(const char *what, unsigned n)
{
	struct post *p[64];
	unsigned k = 0, back = 0;

	if (G.dead)
		return;
	for (; k < n && k < 64 && (p[k] = post_valid(K_VALID, L_SINGLE, false)) != NULL; k++)
		avail_push(p[k]->d[0]);
	avail_publish();
	uint64_t t_end = now_ns() + 5 * UINT64_C(1000000000);
	for (unsigned i = 0; i < k; i++)
		back += wait_returned(p[i], p[i]->d[0], now_ns() < t_end ? t_end - now_ns() : 0);
	G.probe_sent += k;
	G.probe_back += back;
	if (back != n)
		fail("%s: %u of %u valid frames came back", what, back, n);
	else
		msg("%s: %u valid frames came back", what, n);
}

/* Junk heads (beyond 256) at the next n avail entries as a ring of 256 and one of 32768 see
 * them (avail idx is a multiple of 32768 here: the same slots), published. */
static void
junk_heads(unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		G.avail->ring[(G.avail_idx + k) & G.mask] = (uint16_t)(G.size + k);
	G.avail_idx = (uint16_t)(G.avail_idx + n);
	G.jump_entries += n;
	avail_publish();
	usleep(100000);
}

/* Junk heads until avail idx is a multiple of 32768, all taken by ferry (bad_head). */
static void
align_avail(void)
{
	struct zstats z;
	uint64_t t_end = now_ns() + 10 * UINT64_C(1000000000), want;
	unsigned j = (32768u - (G.avail_idx & 32767u)) & 32767u;

	if (j == 0 || !zc_stats(&z))
		return;
	want = z.bad[C_BAD_HEAD] + j;
	for (unsigned i = 0; i < G.size; i++)
		G.avail->ring[i] = (uint16_t)(G.size + i);
	G.avail_idx = (uint16_t)(G.avail_idx + j);
	avail_publish();
	while (G.mode != M_OFF && zc_stats(&z) && z.bad[C_BAD_HEAD] < want && now_ns() < t_end)
		usleep(2000);
}

static void
attack_resize(int order)
{
	settle("before the resize");
	if (G.mode != M_OFF)   /* (rte_vhost's dequeue stops for good at a head beyond the ring) */
		align_avail();
	switch (order) {
	case 0:
		expect_refused("SET_VRING_NUM 32768", vu_ring_msg(VU_SET_VRING_NUM, 1, 32768));
		send_mem_table(4);
		break;
	case 1: {
		struct { uint32_t index, flags; uint64_t desc, used, avail, log; } ad = {
			1, 0, uaddr(TXD_GPA), uaddr(TXU_GPA), uaddr(TXA_GPA), 0 };
		send_mem_table(4);
		expect_refused("SET_VRING_NUM 32768", vu_ring_msg(VU_SET_VRING_NUM, 1, 32768));
		if (!vu_req(VU_SET_VRING_ADDR, &ad, sizeof(ad), NULL, 0))
			fail("SET_VRING_ADDR (the same addresses) refused");
		send_mem_table(3);
		break;
	}
	default:
		if (!vu_ring_msg(VU_SET_VRING_ENABLE, 1, 0))
			fail("SET_VRING_ENABLE 0 refused");
		expect_refused("SET_VRING_NUM 32768 (ring disabled)",
			       vu_ring_msg(VU_SET_VRING_NUM, 1, 32768));
		if (!vu_ring_msg(VU_SET_VRING_ENABLE, 1, 1))
			fail("SET_VRING_ENABLE 1 refused");
		send_mem_table(4);
		break;
	}
	G.hotplugged = G.nreg == 4;
	if (G.mode != M_OFF)
		junk_heads(64);
	probe("after the resize", 32);
}

static void
vu_ring_addr(uint64_t d, uint64_t a, uint64_t u, bool expect_ok)
{
	struct { uint32_t index, flags; uint64_t desc, used, avail, log; } ad = { 1, 0, d, u, a, 0 };

	if (vu_req(VU_SET_VRING_ADDR, &ad, sizeof(ad), NULL, 0) != expect_ok)
		fail("SET_VRING_ADDR %s", expect_ok ? "refused" : "accepted");
}

static void
attack_readdr(void)
{
	uint64_t far = (uint64_t)(uintptr_t)G.mem + 64 * MB;   /* no region's address */

	settle("before the move");
	vu_ring_addr(far, far + 0x4000, far + 0x6000, true);   /* rte_vhost takes, cannot map */
	usleep(50000);
	/* the ring, as it is, at new addresses in R1 */
	gwrite(TX2_D, G.desc, 16u * G.size);
	gwrite(TX2_A, G.avail, 6u + 2u * G.size);
	gwrite(TX2_U, G.used, 6u + 8u * G.size);
	G.desc = (struct vring_desc *)g2p(TX2_D, 16u * G.size);
	G.avail = (struct vring_avail *)g2p(TX2_A, 6u + 2u * G.size);
	G.used = (struct vring_used *)g2p(TX2_U, 6u + 8u * G.size);
	vu_ring_addr(uaddr(TX2_D), uaddr(TX2_A), uaddr(TX2_U), true);
	usleep(50000);
	probe("after the ring moved", 32);
}

static void
attack_rebase(void)
{
	settle("before the re-base");
	expect_refused("SET_VRING_BASE", vu_ring_msg(VU_SET_VRING_BASE, 1, G.avail_idx + 1000u));
	probe("after SET_VRING_BASE", 16);
	if (!vu_ring_msg(VU_SET_VRING_ENABLE, 1, 0))
		fail("SET_VRING_ENABLE 0 refused");
	expect_refused("SET_VRING_BASE (ring disabled)",
		       vu_ring_msg(VU_SET_VRING_BASE, 1, (uint32_t)G.avail_idx + 77u));
	if (!vu_ring_msg(VU_SET_VRING_ENABLE, 1, 1))
		fail("SET_VRING_ENABLE 1 refused");
	probe("after SET_VRING_BASE on the disabled ring", 16);
}

/* One frame whose buffer lies in the part of the file that is gone (R1): whoever reads it. */
static void
frame_in_cut(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t d;
		if (!d_alloc(&d, 1))
			break;
		dset(d, BUFB(d), VHDR + 600, 0, 0);
		struct post *p = post_new(K_TOCTOU, &d, 1);   /* (a frame that may or may not arrive) */
		avail_push(p->d[0]);
	}
	avail_publish();
	usleep(200000);
	reap_used();
}

static void
attack_short(void)
{
	struct zstats z;

	if (zc_stats(&z)) {
		snprintf(G.zc_after, sizeof(G.zc_after), "%s", z.state);
		if (G.mode != M_OFF && strcmp(z.state, "active") == 0)
			fail("zero-copy is active on a memory file shorter than its regions");
	}
	probe("short memfd, frames in what exists", 16);
	frame_in_cut(8);
	probe("short memfd, after frames in what is missing", 16);
}

/* A new table naming a file of 64 KiB for the same addresses: rte_vhost maps it and reads the
 * rings (used->idx) beyond its end while it handles the message, before ferry can know the new
 * mapping; ferry refuses to map it (short) and keeps reading the old one. */
static void
attack_short2(void)
{
	int keep = G.memfd, fd = memfd_create("evilguest-short", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, 64 << 10) != 0)
		die("memfd: %s", strerror(errno));
	settle("before the short table");
	G.memfd = fd;
	send_mem_table(4);   /* (4 regions: a table rte_vhost sees as changed; it compares no fds) */
	G.memfd = keep;
	close(fd);
	usleep(200000);
	if (G.mode != M_OFF)   /* (rte_vhost's dequeue reads the short file: nothing to read) */
		probe("after a short memory table", 16);
}

static void
attack_truncate(void)
{
	uint8_t img[VHDR + FRAME_MAX];

	probe("before the truncation", 16);
	/* frames in R1 written while it exists, posted once it is gone */
	for (unsigned h = 0; h < G.size; h++)
		gwrite(BUFB(h), img, image(img, K_TOCTOU, h, 600));
	settle("before the truncation");
	if (ftruncate(G.memfd, (off_t)(2 * MB)) != 0)
		die("ftruncate: %s", strerror(errno));
	G.r0_only = true;
	msg("memory file truncated to 2 MiB (R1, R2 gone) under ferry");
	frame_in_cut(32);
	probe("after the truncation", 16);
}

static void
attack_sealed(void)
{
	int seals = fcntl(G.memfd, F_GET_SEALS);

	if (!(seals >= 0 && (seals & F_SEAL_SHRINK)))
		fail("ferry mapped a sealable memory file without sealing it against shrinking "
		     "(seals 0x%x)", seals);
	else if (ftruncate(G.memfd, (off_t)MB) == 0)
		fail("the memory file could still be shrunk");
	else
		G.refused++;
	probe("sealed memfd", 16);
}

/* Leave, and come back as a fresh guest: the port must work again. */
static void
reconnect_probe(void)
{
	struct zstats z;
	uint64_t t_end = now_ns() + 10 * UINT64_C(1000000000);

	close(G.sock);
	while (zc_stats(&z) && strcmp(z.state, "no_guest") != 0 && now_ns() < t_end)
		usleep(10000);
	usleep(200000);   /* (the old connection's teardown ends after the device's) */
	munmap(G.mem, MEMFD_SIZE);
	close(G.memfd);
	G.memfd = memfd_create("evilguest", MFD_CLOEXEC);
	if (G.memfd < 0 || ftruncate(G.memfd, (off_t)MEMFD_SIZE) != 0)
		die("memfd: %s", strerror(errno));
	G.mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, G.memfd, 0);
	if (G.mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(G.post, 0, sizeof(G.post));
	G.nfree = G.active = G.extras = 0;
	G.avail_idx = G.used_seen = 0;
	G.nreg = 3;
	G.dead = false;
	G.r0_only = false;
	ring_init();
	handshake();
	t_end = now_ns() + 10 * UINT64_C(1000000000);
	while (zc_stats(&z) && strcmp(z.state, "no_guest") == 0 && now_ns() < t_end)
		usleep(10000);
	if (G.mode != M_OFF && strcmp(z.state, "active") != 0)
		fail("after reconnecting, zero_copy state is \"%s\", not \"active\"", z.state);
	probe("reconnected", 32);
}

static void
run_attack(void)
{
	struct zstats z;

	if (!strcmp(G.attack, "resize"))
		attack_resize(0);
	else if (!strcmp(G.attack, "resize2"))
		attack_resize(1);
	else if (!strcmp(G.attack, "resize3"))
		attack_resize(2);
	else if (!strcmp(G.attack, "readdr"))
		attack_readdr();
	else if (!strcmp(G.attack, "rebase"))
		attack_rebase();
	else if (!strcmp(G.attack, "short"))
		attack_short();
	else if (!strcmp(G.attack, "short2"))
		attack_short2();
	else if (!strcmp(G.attack, "truncate"))
		attack_truncate();
	else if (!strcmp(G.attack, "sealed"))
		attack_sealed();
	else
		die("unknown --attack %s", G.attack);
	if (zc_stats(&z))
		snprintf(G.zc_after, sizeof(G.zc_after), "%s", z.state);
	else
		fail("ferryd's control socket does not answer after the attack");
	if (!G.dead && strncmp(G.attack, "short", 5) && strcmp(G.attack, "truncate")) {
		/* stop the ring as QEMU does: ferry's index is the guest's (a re-base never took) */
		struct { uint32_t index, num; } st = { 1, 0 };
		struct vu_msg r;
		settle("after the attack");
		vu_send(VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0, false);
		if (!vu_reply(VU_GET_VRING_BASE, &r))
			fail("no reply to GET_VRING_BASE");
		else if ((uint16_t)r.p.state.num != G.avail_idx)
			fail("GET_VRING_BASE says ring 1 stopped at avail %u, the guest posted up to %u",
			     r.p.state.num, G.avail_idx);
	}
	reconnect_probe();
}

static int
attack_main(void)
{
	FILE *f;

	if (!strcmp(G.attack, "short") && ftruncate(G.memfd, (off_t)MB) != 0)
		die("ftruncate: %s", strerror(errno));
	if (!strcmp(G.attack, "short"))
		G.r0_only = true;
	handshake();
	uint64_t t_end = now_ns() + 10 * UINT64_C(1000000000);
	struct zstats z;
	while (zc_stats(&z) && strcmp(z.state, "no_guest") == 0 && now_ns() < t_end)
		usleep(10000);
	msg("attack %s (ferry's dequeue state %s)", G.attack, z.state);
	run_attack();
	f = G.report_path ? fopen(G.report_path, "w") : stdout;
	if (f == NULL)
		f = stdout;
	fprintf(f, "{\"attack\":\"%s\",\"mode\":\"%s\",\"refused\":%u,\"probe_sent\":%" PRIu64
		",\"probe_back\":%" PRIu64 ",\"zc_state_after\":\"%s\"", G.attack,
		mode_names[G.mode], G.refused, G.probe_sent, G.probe_back, G.zc_after);
	report_end(f);
	close(G.sock);
	return G.nerr == 0 ? 0 : 1;
}

/* ---- report ---- */

static void
report_counts(FILE *f, const char *name, const uint64_t *v, const char *const *names, int n)
{
	fprintf(f, "\"%s\":{", name);
	for (int i = 0, first = 1; i < n; i++) {
		if (v[i] == 0)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", names[i], v[i]);
		first = 0;
	}
	fprintf(f, "}");
}

static void
write_report(const struct zstats *z0, const struct zstats *z1, bool have_stats)
{
	FILE *f = G.report_path ? fopen(G.report_path, "w") : stdout;
	const char *kn[K_MAX];

	if (f == NULL)
		f = stdout;
	for (int k = 0; k < K_MAX; k++)
		kn[k] = KI[k].name;
	fprintf(f, "{\"run\":%" PRIu32 ",\"seed\":%" PRIu64 ",\"mode\":\"%s\",\"ring\":%u,"
		"\"event_idx\":%s,\"features\":%" PRIu64 ",\"duration_ms\":%.0f,",
		(uint32_t)G.seed, G.seed, mode_names[G.mode], G.size,
		(G.features & (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)) ? "true" : "false",
		G.features, (now_ns() - G.t0) / 1e6);
	fprintf(f, "\"valid_sent\":%" PRIu32 ",\"dup_sent\":%" PRIu32 ",\"hotplug_sent\":%" PRIu32
		",\"hotplugged\":%s,\"abrupt\":%s,", G.vseq, G.dseq, G.hseq,
		G.hotplugged ? "true" : "false", G.abrupt ? "true" : "false");
	report_counts(f, "posted", G.posted, kn, K_MAX);
	fprintf(f, ",");
	report_counts(f, "returned", G.returned, kn, K_MAX);
	fprintf(f, ",");
	report_counts(f, "repaired_off_mode", G.repaired, kn, K_MAX);
	fprintf(f, ",");
	report_counts(f, "layouts", G.layouts, layout_names, L_MAX);
	fprintf(f, ",");
	report_counts(f, "region_edges", G.edges, edge_names, E_MAX);
	fprintf(f, ",");
	report_counts(f, "injected", G.inj, cnt_names, C_MAX);
	static const char *const mut[] = { "addr", "len", "self_loop", "next_beyond", "write",
					   "truncate", "restored" };
	fprintf(f, ",");
	report_counts(f, "toctou_mutations", G.toctou_mut, mut, 7);
	fprintf(f, ",\"dup_returns\":{\"once\":%" PRIu64 ",\"twice\":%" PRIu64 "}",
		G.dup_returns[1], G.dup_returns[2]);
	fprintf(f, ",\"log_bases\":%" PRIu64 ",\"log_checks\":%" PRIu64 ",\"announces\":%" PRIu64,
		G.log_bases, G.log_checks, G.announces);
	fprintf(f, ",\"jumps\":%" PRIu64 ",\"jump_entries\":%" PRIu64 ",\"settles\":%" PRIu64
		",\"returns\":%" PRIu64 ",\"used_len_nonzero\":%" PRIu64 ",\"kicks\":%" PRIu64,
		G.jumps, G.jump_entries, G.settles, G.returns_total, G.used_len_nonzero, G.kicks);
	if (have_stats) {
		uint64_t dl[C_MAX];
		for (int i = 0; i < C_MAX; i++)
			dl[i] = z1->bad[i] - z0->bad[i];
		fprintf(f, ",\"zc_state\":\"%s\",\"lent\":%" PRIu64 ",\"copied\":%" PRIu64 ",",
			z1->state, z1->lent - z0->lent, z1->copied - z0->copied);
		fprintf(f, "\"bad_descriptors_delta\":{");
		for (int i = 0; i < C_MAX; i++)
			fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", cnt_names[i], dl[i]);
		fprintf(f, "}");
	}
	static const struct { const char *name; enum kind k; } unc[] = {
		{ "unconfirmed_valid", K_VALID }, { "unconfirmed_dup", K_DUP },
		{ "unconfirmed_hotplug", K_HOTPLUG } };
	for (unsigned u = 0; u < 3; u++) {   /* outstanding at the end: may or may not arrive */
		fprintf(f, ",\"%s\":[", unc[u].name);
		for (unsigned h = 0, first = 1; h < G.size; h++)
			if (G.post[h].active && G.post[h].kind == unc[u].k) {
				fprintf(f, "%s%" PRIu32, first ? "" : ",", G.post[h].seq);
				first = 0;
			}
		fprintf(f, "]");
	}
	fprintf(f, ",\"errors_total\":%u", G.nerr);
	report_end(f);
}

/* The counters ferry keeps for its own dequeue rose by what we injected (TOCTOU chains may land
 * in any of them). */
static void
check_counters(const struct zstats *z0, const struct zstats *z1)
{
	uint64_t toctou = G.posted[K_TOCTOU], excess = 0;

	if (strcmp(z1->state, "active") != 0) {
		fail("zero_copy state is \"%s\", not \"active\": ferry's own dequeue was not tested",
		     z1->state);
		return;
	}
	if (z1->lent == z0->lent)
		fail("no frame was lent: the zero-copy path was not exercised");
	for (int c = 0; c < C_MAX; c++) {
		uint64_t d = z1->bad[c] - z0->bad[c];
		uint64_t lo = G.inj[c] + (c == C_BAD_HEAD ? G.jump_entries : 0);
		uint64_t hi = lo + (c == C_DUP || c == C_BAD_HEAD ? 0 : toctou);
		if (c == C_DUP) {   /* only when the first copy was still lent at the second take */
			if (d > G.posted[K_DUP])
				fail("duplicate rose by %" PRIu64 ", only %" PRIu64 " heads were posted twice",
				     d, G.posted[K_DUP]);
			else if (d == 0 && G.posted[K_DUP] >= 10)
				fail("%" PRIu64 " heads posted twice, none counted as duplicate",
				     G.posted[K_DUP]);
			continue;
		}
		if (d < lo || d > hi)
			fail("bad_descriptors.%s rose by %" PRIu64 ", expected %" PRIu64 "..%" PRIu64,
			     cnt_names[c], d, lo, hi);
		else if (c != C_BAD_HEAD)
			excess += d - lo;
	}
	if (excess > toctou)   /* each TOCTOU chain is counted once at most */
		fail("bad_descriptors rose by %" PRIu64 " more than injected, with only %" PRIu64
		     " TOCTOU chains to account for it", excess, toctou);
}

/* ---- pcap verification ---- */

struct vkind { uint64_t got, corrupt; };

static int
verify(const char *pcap, const char *report_in, const char *out)
{
	static char rep[65536];
	FILE *f = fopen(report_in, "r"), *o;
	uint64_t run = 0, nvalid = 0, ndup = 0, nhot = 0;
	char mode[16] = "";
	size_t n;

	if (f == NULL)
		die("%s: %s", report_in, strerror(errno));
	n = fread(rep, 1, sizeof(rep) - 1, f);
	rep[n] = 0;
	fclose(f);
	if (!jnum(rep, "run", &run) || !jnum(rep, "valid_sent", &nvalid) ||
	    !jnum(rep, "dup_sent", &ndup) || !jnum(rep, "hotplug_sent", &nhot) ||
	    !jstr(rep, "mode", mode, sizeof(mode)))
		die("%s: not an evilguest report", report_in);
	bool strict = strcmp(mode, "off") != 0;
	uint8_t *vs = calloc(nvalid + 1, 1), *ds = calloc(ndup + 1, 1), *hs = calloc(nhot + 1, 1);
	uint64_t nunconf = 0;
	/* heads still outstanding when the guest left (--abrupt): their frames may be missing */
	static const char *const unc[] = { "unconfirmed_valid", "unconfirmed_dup",
					   "unconfirmed_hotplug" };
	for (unsigned u = 0; u < 3; u++) {
		uint8_t *seen = u == 0 ? vs : u == 1 ? ds : hs;
		uint64_t lim = u == 0 ? nvalid : u == 1 ? ndup : nhot;
		char k[64];
		const char *q;
		snprintf(k, sizeof(k), "\"%s\":[", unc[u]);
		if ((q = strstr(rep, k)) == NULL)
			continue;
		q += strlen(k);
		while (*q >= '0' && *q <= '9') {
			char *e;
			uint64_t v = strtoull(q, &e, 10);
			if (v < lim) {
				seen[v] = 0x80;   /* optional */
				nunconf++;
			}
			q = *e == ',' ? e + 1 : e;
		}
	}

	if ((f = fopen(pcap, "r")) == NULL)
		die("%s: %s", pcap, strerror(errno));
	uint32_t gh[6];
	if (fread(gh, 4, 6, f) != 6 || (gh[0] != 0xa1b2c3d4u && gh[0] != 0xa1b23c4du))
		die("%s: not a little-endian pcap file", pcap);
	struct vkind vk[K_MAX] = { 0 };
	uint64_t frames = 0, ours = 0, foreign_run = 0, unknown_seq = 0, unrecognized = 0;
	static uint8_t pkt[70000];
	unsigned nerr = 0;
	char errs[8][200];
	for (;;) {
		uint32_t rh[4];
		if (fread(rh, 4, 4, f) != 4)
			break;
		if (rh[2] > sizeof(pkt) || fread(pkt, 1, rh[2], f) != rh[2])
			break;
		frames++;
		uint32_t len = rh[2];
		if (len < 14 || memcmp(pkt + 6, G.mac, 6) != 0)
			continue;
		if (len < 14 + EH_LEN || pkt[12] != (ETH_TYPE >> 8) || pkt[13] != (ETH_TYPE & 0xff) ||
		    memcmp(pkt + 14, MAGIC, 4) != 0) {
			unrecognized++;
			continue;
		}
		struct evil_hdr h;
		memcpy(&h, pkt + 14, EH_LEN);
		if (h.run != (uint32_t)run) {
			foreign_run++;
			continue;
		}
		ours++;
		if (h.kind >= K_MAX) {
			unrecognized++;
			continue;
		}
		uint32_t c = h.csum;
		memset(pkt + 14 + offsetof(struct evil_hdr, csum), 0, 4);
		bool intact = h.len == len - 14 && fnv1a(pkt + 14, len - 14, 2166136261u) == c;
		vk[h.kind].got++;
		if (!intact)
			vk[h.kind].corrupt++;
		if (!(KI[h.kind].flags & KF_CHECKED))
			continue;
		if (!intact) {
			if (nerr < 8)
				snprintf(errs[nerr], sizeof(errs[0]), "%s frame seq %u altered (length %u, "
					 "says %u)", KI[h.kind].name, h.seq, len, h.len + 14);
			nerr++;
			continue;
		}
		uint8_t *seen = h.kind == K_VALID ? vs : h.kind == K_DUP ? ds : hs;
		uint64_t lim = h.kind == K_VALID ? nvalid : h.kind == K_DUP ? ndup : nhot;
		if (h.seq >= lim) {
			unknown_seq++;
			continue;
		}
		if ((seen[h.seq] & 0x7f) < 0x7f)
			seen[h.seq]++;
		if (G.debug && (seen[h.seq] & 0x7f) > 1 + (h.kind == K_DUP))
			fprintf(stderr, "verify: %s seq %u arrived %u times (pcap record %" PRIu64 ")\n",
				KI[h.kind].name, h.seq, seen[h.seq], frames);
	}
	fclose(f);
	uint64_t vmiss = 0, vdup = 0, dmiss = 0, dmany = 0, hmiss = 0, hdup = 0, dtwice = 0;
	uint64_t first_miss = UINT64_MAX;
	for (uint64_t i = 0; i < nvalid; i++) {
		if (vs[i] == 0 && first_miss == UINT64_MAX)
			first_miss = i;
		vmiss += vs[i] == 0;
		vdup += (vs[i] & 0x7f) > 1;
	}
	for (uint64_t i = 0; i < ndup; i++) {
		dmiss += ds[i] == 0;
		dmany += (ds[i] & 0x7f) > 2;
		dtwice += (ds[i] & 0x7f) == 2;
	}
	for (uint64_t i = 0; i < nhot; i++) {
		hmiss += hs[i] == 0;
		hdup += (hs[i] & 0x7f) > 1;
	}
	if (vmiss && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " of %" PRIu64 " valid frames never "
			 "arrived (first: seq %" PRIu64 ")", vmiss, nvalid, first_miss);
	if (vdup && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " valid frames arrived more than once",
			 vdup);
	if (dmiss && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " frames of duplicated heads never "
			 "arrived", dmiss);
	if (dmany && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " frames of duplicated heads arrived "
			 "more than twice", dmany);
	if (hmiss && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " of %" PRIu64 " valid frames in "
			 "hot-plugged memory never arrived", hmiss, nhot);
	if (hdup && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " hot-plugged frames arrived twice",
			 hdup);
	if (unknown_seq && nerr < 8)
		snprintf(errs[nerr++], sizeof(errs[0]), "%" PRIu64 " frames with sequence numbers never "
			 "sent", unknown_seq);
	for (int k = 0; k < K_MAX && strict; k++)
		if ((KI[k].flags & KF_MAL) && vk[k].got != 0) {
			if (nerr < 8)
				snprintf(errs[nerr], sizeof(errs[0]), "%" PRIu64 " frames of %s chains were "
					 "forwarded (ferry must reject those chains)", vk[k].got,
					 KI[k].name);
			nerr++;
		}
	o = out ? fopen(out, "w") : stdout;
	if (o == NULL)
		o = stdout;
	fprintf(o, "{\"run\":%" PRIu64 ",\"mode\":\"%s\",\"frames_in_pcap\":%" PRIu64
		",\"frames_of_run\":%" PRIu64 ",\"other_runs\":%" PRIu64 ",\"unrecognized\":%" PRIu64
		",\"valid_sent\":%" PRIu64 ",\"valid_missing\":%" PRIu64 ",\"valid_dup\":%" PRIu64
		",\"dup_sent\":%" PRIu64 ",\"dup_missing\":%" PRIu64 ",\"dup_arrived_twice\":%" PRIu64
		",\"hotplug_sent\":%" PRIu64 ",\"hotplug_missing\":%" PRIu64 ",\"unconfirmed\":%" PRIu64
		",\"arrived\":{", run, mode, frames, ours, foreign_run, unrecognized, nvalid, vmiss,
		vdup, ndup, dmiss, dtwice, nhot, hmiss, nunconf);
	for (int k = 0, first = 1; k < K_MAX; k++) {
		if (vk[k].got == 0)
			continue;
		fprintf(o, "%s\"%s\":%" PRIu64, first ? "" : ",", KI[k].name, vk[k].got);
		first = 0;
	}
	fprintf(o, "},\"altered\":{");
	for (int k = 0, first = 1; k < K_MAX; k++) {
		if (vk[k].corrupt == 0)
			continue;
		fprintf(o, "%s\"%s\":%" PRIu64, first ? "" : ",", KI[k].name, vk[k].corrupt);
		first = 0;
	}
	fprintf(o, "},\"errors_total\":%u,\"errors\":[", nerr);
	for (unsigned i = 0; i < nerr && i < 8; i++)
		fprintf(o, "%s\"%s\"", i ? "," : "", errs[i]);
	fprintf(o, "],\"ok\":%s}\n", nerr == 0 ? "true" : "false");
	if (o != stdout)
		fclose(o);
	for (unsigned i = 0; i < nerr && i < 8; i++)
		fprintf(stderr, "evilguest: verify: FAIL: %s\n", errs[i]);
	free(vs);
	free(ds);
	free(hs);
	return nerr == 0 ? 0 : 1;
}

/* ---- main ---- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: ferry-evilguest --socket PATH --mac MAC --dst MAC [--rpc PATH --port NAME]\n"
		"         [--seed N] [--duration S] [--mode on|auto|off] [--event-idx 0|1] [--ring N]\n"
		"         [--rate POSTINGS_PER_S] [--hotplug] [--migration] [--abrupt] [--report FILE]\n"
		"         [--attack resize|resize2|resize3|readdr|rebase|short|short2|truncate|sealed]\n"
		"         [--hugetlb]\n"
		"         [--memflap N]\n"
		"       ferry-evilguest --verify PCAP --report-in FILE [--mac MAC] [--report FILE]\n");
	exit(2);
}

/* --memflap N (tests/vhost/zc_memstall.sh): after the handshake nothing but N memory tables, 20 ms
 * apart, alternately with and without a 4th region, each acknowledged by the backend, then idle
 * (still connected: the backend may still be mapping the last) until SIGTERM or 30 s; no frame is
 * posted. Reports the slowest acknowledgement (a backend mapping the table under its ring locks
 * stalls every PMD that sends to this guest meanwhile). */
static unsigned memflap_n;
static volatile sig_atomic_t memflap_stop;

static void
memflap_term(int sig)
{
	(void)sig;
	memflap_stop = 1;
}

static int
memflap(void)
{
	uint64_t worst = 0, t;
	unsigned i;

	signal(SIGTERM, memflap_term);
	for (i = 0; i < memflap_n && conn_alive(); i++) {
		t = now_ns();
		send_mem_table(G.nreg == 3 ? 4 : 3);
		t = now_ns() - t;
		worst = t > worst ? t : worst;
		usleep(20000);
	}
	msg("memflap: %u memory tables sent, slowest acknowledged after %.1f ms", i, worst / 1e6);
	for (int w = 0; w < 300 && !memflap_stop && conn_alive(); w++)
		usleep(100000);
	close(G.sock);
	return i == memflap_n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", 1, NULL, 's' }, { "rpc", 1, NULL, 'r' }, { "port", 1, NULL, 'p' },
		{ "mac", 1, NULL, 'm' }, { "dst", 1, NULL, 'd' }, { "seed", 1, NULL, 'S' },
		{ "duration", 1, NULL, 't' }, { "mode", 1, NULL, 'M' }, { "event-idx", 1, NULL, 'e' },
		{ "ring", 1, NULL, 'n' }, { "rate", 1, NULL, 'R' }, { "hotplug", 0, NULL, 'H' },
		{ "abrupt", 0, NULL, 'A' }, { "report", 1, NULL, 'o' }, { "verify", 1, NULL, 'V' },
		{ "report-in", 1, NULL, 'I' }, { "migration", 0, NULL, 'G' },
		{ "attack", 1, NULL, 'X' }, { "hugetlb", 0, NULL, 'U' },
		{ "memflap", 1, NULL, 'F' }, { NULL, 0, NULL, 0 } };
	const char *vpcap = NULL, *rin = NULL;
	int c;

	G.seed = 1;
	G.duration = 5;
	G.mode = M_ON;
	G.event_idx = -1;
	G.ring = 256;
	G.rate = 4000;
	G.port = "vm1";
	G.t0 = now_ns();
	G.debug = getenv("EVIL_DEBUG") ? atoi(getenv("EVIL_DEBUG")) : 0;
	parse_mac("52:54:00:00:0e:01", G.mac);
	parse_mac("02:00:00:00:0e:02", G.dst);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': G.sock_path = optarg; break;
		case 'r': G.rpc_path = optarg; break;
		case 'p': G.port = optarg; break;
		case 'm': if (!parse_mac(optarg, G.mac)) usage(); break;
		case 'd': if (!parse_mac(optarg, G.dst)) usage(); break;
		case 'S': G.seed = strtoull(optarg, NULL, 0); break;
		case 't': G.duration = atof(optarg); break;
		case 'M':
			if (!strcmp(optarg, "on")) G.mode = M_ON;
			else if (!strcmp(optarg, "auto")) G.mode = M_AUTO;
			else if (!strcmp(optarg, "off")) G.mode = M_OFF;
			else usage();
			break;
		case 'e': G.event_idx = atoi(optarg); break;
		case 'n': G.ring = (unsigned)atoi(optarg); break;
		case 'R': G.rate = (unsigned)atoi(optarg); break;
		case 'H': G.hotplug = true; break;
		case 'A': G.abrupt = true; break;
		case 'G': G.migration = true; break;
		case 'F': memflap_n = (unsigned)atoi(optarg); break;
		case 'X': G.attack = optarg; break;
		case 'U': G.hugetlb = true; break;
		case 'o': G.report_path = optarg; break;
		case 'V': vpcap = optarg; break;
		case 'I': rin = optarg; break;
		default: usage();
		}
	}
	if (vpcap != NULL) {
		if (rin == NULL)
			usage();
		return verify(vpcap, rin, G.report_path);
	}
	if (G.sock_path == NULL || G.ring < 8 || G.ring > RING_MAX || (G.ring & (G.ring - 1)))
		usage();
	signal(SIGPIPE, SIG_IGN);
	G.rs = G.seed ^ UINT64_C(0x5eed5eed5eed5eed);
	if (G.event_idx < 0)
		G.event_idx = (int)(G.seed & 1);
	G.size = (uint16_t)G.ring;

	G.memfd = memfd_create("evilguest", MFD_CLOEXEC | (G.hugetlb ? MFD_HUGETLB : 0) |
			       (G.attack && !strcmp(G.attack, "sealed") ? MFD_ALLOW_SEALING : 0));
	if (G.memfd < 0 || ftruncate(G.memfd, (off_t)MEMFD_SIZE) != 0)
		die("memfd: %s", strerror(errno));
	G.mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, G.memfd, 0);
	if (G.mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	G.nreg = 3;
	ring_init();

	struct zstats z0 = { 0 }, z1 = { 0 }, zs;
	if (G.attack != NULL)
		return attack_main();
	bool have0 = G.rpc_path != NULL && zc_stats(&z0);
	handshake();
	/* wait until ferry runs the device (its report says which dequeue reads the ring) */
	uint64_t t_end = now_ns() + 10 * UINT64_C(1000000000);
	while (G.rpc_path != NULL) {
		if (zc_stats(&zs) && strcmp(zs.state, "no_guest") != 0)
			break;
		if (now_ns() > t_end)
			die("ferryd never reported the guest as connected");
		usleep(10000);
	}
	if (G.rpc_path != NULL)
		msg("ferry reads the TX ring with %s dequeue (state %s)",
		    strcmp(zs.state, "active") == 0 ? "its own" : "rte_vhost's", zs.state);
	if (memflap_n != 0)
		return memflap();

	uint64_t start = now_ns(), end = start + (uint64_t)(G.duration * 1e9);
	uint64_t next_settle = start + 700000000u, next_jump = start + 1500000000u;
	uint64_t half = start + (end - start) / 2;
	unsigned mig_step = 0;
	double tokens = 0;
	uint64_t last = start;
	while (!G.dead && now_ns() < end) {
		struct post *toc[64];
		unsigned ntoc = 0, posted = 0;
		uint64_t t = now_ns();
		tokens += (t - last) / 1e9 * G.rate;
		last = t;
		if (tokens > 64)
			tokens = 64;
		reap_used();
		off_repair();
		if (!conn_alive())
			break;
		if (t >= next_settle) {
			settle("periodic");
			next_settle = now_ns() + 300000000u + rn(900000000u);
			if (G.hotplug && !G.hotplugged && t >= half)
				hotplug();
			while (G.migration && mig_step < 3 && t >= start + (end - start) * (mig_step + 1) / 4)
				migration_step(mig_step++);
			if (t >= next_jump && G.mode != M_OFF && G.rpc_path != NULL) {
				avail_jump();
				next_jump = now_ns() + 1000000000u + rn(2000000000u);
			}
			last = now_ns();
			continue;
		}
		unsigned batch = rr(1, 32);
		while (posted < batch && tokens >= 1) {
			if (!post_one(toc, &ntoc))
				break;
			posted++;
			tokens -= 1;
		}
		if (posted != 0) {
			avail_publish();
			for (unsigned i = 0; i < ntoc; i++)
				toctou_mutate(toc[i]);
		} else {
			usleep(200);
		}
	}
	if (!G.abrupt) {
		settle("final");
		if (G.rpc_path != NULL && !(have0 && zc_stats(&z1)))
			fail("ferryd's control socket did not answer port.stats");
		if (!G.dead) {   /* stop the TX ring as QEMU does: ferry syncs rte_vhost's index first */
			struct { uint32_t index, num; } st = { 1, 0 };
			struct vu_msg r;
			vu_send(VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0, false);
			if (!vu_reply(VU_GET_VRING_BASE, &r))
				fail("no reply to GET_VRING_BASE");
			else if ((uint16_t)r.p.state.num != G.avail_idx)
				fail("GET_VRING_BASE says ring 1 stopped at avail %u, the guest posted up "
				     "to %u and everything came back", r.p.state.num, G.avail_idx);
		}
		if (z1.ok && G.mode != M_OFF)
			check_counters(&z0, &z1);
		if (z1.ok && G.mode == M_OFF && strcmp(z1.state, "off") != 0)
			fail("zero_copy \"off\" port reports state \"%s\"", z1.state);
	} else {
		if (G.rpc_path != NULL && !(have0 && zc_stats(&z1)))
			fail("ferryd's control socket did not answer port.stats");
		msg("abrupt end: closing with %u heads outstanding", G.active);
	}
	msg("posted %" PRIu64 " valid, %" PRIu64 " returns, %u errors", (uint64_t)G.vseq,
	    G.returns_total, G.nerr);
	write_report(&z0, &z1, z0.ok && z1.ok);
	close(G.sock);
	return G.nerr == 0 ? 0 : 1;
}
