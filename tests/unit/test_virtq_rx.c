/* test_virtq_rx.c — lib/virtq's receive side (ferry_vq_rx_chain, ferry_vq_chain_write,
 * ferry_vq_rx_frame) against a guest's receive ring in fake guest memory: frames over one chain
 * and merged over several (num_buffers, consecutive used entries), a ring that runs dry (nothing
 * taken, nothing written), frames too big for the buffers, and the ways a driver can lie in a
 * receive chain (readable descriptors, addresses outside memory, a first buffer shorter than the
 * header) — each gives every chain taken back with length 0 and writes nothing.
 *
 * Guest physical layout: A [0x100000, 0x200000) holds the ring (256 entries), indirect tables
 * and buffers; B [0x400000, 0x410000) and C [0x410000, 0x420000) are adjacent in GPA but
 * separate allocations, so a buffer across 0x410000 is two pieces. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include <linux/virtio_net.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include "ferry_offload.h"
#include "ferry_virtq.h"

#define A_GPA  0x100000ull
#define A_SIZE 0x100000ull
#define B_GPA  0x400000ull
#define C_GPA  0x410000ull
#define BC_SIZE 0x10000ull
#define DESC   0x100000ull
#define AVAIL  0x101000ull
#define USED   0x102000ull
#define IND    0x110000ull
#define BUF    0x120000ull   /* buffer k at BUF + k * 0x1000 */
#define RING   256
#define FILL   0xee          /* untouched guest memory */

static struct ferry_gmem_region reg[3];
static struct ferry_gmem_map gm;
static struct ferry_vring vr;
static struct ferry_vq_rxplan plan;
static uint8_t frame[70000];
static struct { uint64_t gpa; uint32_t len; } logged[256];
static unsigned n_logged;

static uint8_t *
gva(uint64_t gpa)
{
	for (unsigned i = 0; i < RTE_DIM(reg); i++)
		if (gpa >= reg[i].gpa && gpa - reg[i].gpa < reg[i].size)
			return reg[i].va + (gpa - reg[i].gpa);
	abort();
}

static void
log_cb(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	if (n_logged < RTE_DIM(logged))
		logged[n_logged++] = (typeof(logged[0])){ gpa, len };
}

static void
reset(void)
{
	for (unsigned i = 0; i < RTE_DIM(reg); i++)
		memset(reg[i].va, FILL, reg[i].size);
	memset(gva(DESC), 0, USED + 0x1000 - DESC);
	CHECK(ferry_vring_map(&vr, &gm, DESC, AVAIL, USED, RING) == 0);
	memset(&plan, 0xa5, sizeof(plan));   /* stale garbage */
	plan.log = log_cb;
	plan.log_ctx = NULL;
	n_logged = 0;
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 3);
}

static void
desc_at(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gva(table + 16ull * i), &d, sizeof(d));
}

static struct vring_avail *avail(void) { return (struct vring_avail *)gva(AVAIL); }
static struct vring_used *used(void) { return (struct vring_used *)gva(USED); }

/* Post head as the next avail entry. */
static void
post(uint16_t head)
{
	avail()->ring[avail()->idx % RING] = head;
	avail()->idx++;
}

/* Post n one-descriptor chains of len bytes each, heads first, first + 1, ...; buffer k at BUF+k*4K */
static void
post_bufs(uint16_t first, uint16_t n, uint32_t len)
{
	for (uint16_t k = first; k < first + n; k++) {
		desc_at(DESC, k, BUF + k * 0x1000ull, len, VRING_DESC_F_WRITE, 0);
		post(k);
	}
}

static enum ferry_vq_rx_rc
put(uint32_t len, uint32_t hdr_len, bool mrg, enum ferry_vq_err *err)
{
	static const uint8_t hdr[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xaa, 0xbb };
	struct ferry_vseg src[3] = {   /* the frame in three uneven pieces, as an mbuf chain */
		{ .va = frame, .len = len / 3 },
		{ .va = frame + len / 3, .len = len / 2 - len / 3 },
		{ .va = frame + len / 2, .len = len - len / 2 },
	};
	struct ferry_vq_rxframe f = { hdr, hdr_len, src, 3, len };

	return ferry_vq_rx_frame(&vr, &gm, mrg, &f, &plan, err);
}

/* The bytes a guest reads back from used entries [from, from + n): header + frame. */
static void
gather(uint16_t from, uint16_t n, uint8_t *out, uint32_t *total)
{
	*total = 0;
	for (uint16_t k = 0; k < n; k++) {
		struct vring_used_elem e = used()->ring[(from + k) % RING];
		memcpy(out + *total, gva(BUF + e.id * 0x1000ull), e.len);
		*total += e.len;
	}
}

static bool
untouched(uint64_t gpa, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (gva(gpa)[i] != FILL)
			return false;
	return true;
}

static void
one_chain(void)
{
	static uint8_t got[2048];
	enum ferry_vq_err err;

	reset();
	/* a chain of two buffers: 12 then 1500 bytes, as a driver without mergeable buffers posts */
	desc_at(DESC, 5, BUF, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 9);
	desc_at(DESC, 9, BUF + 12, 1500, VRING_DESC_F_WRITE, 0);
	post(5);
	CHECK(put(1000, 12, false, &err) == FERRY_VQ_RX_OK && err == FERRY_VQ_OK);
	CHECK(plan.n == 1 && vr.last_avail == 1 && vr.last_used == 1);
	CHECK(used()->idx == 0);   /* written, not published */
	CHECK(used()->ring[0].id == 5 && used()->ring[0].len == 1012);
	memcpy(got, gva(BUF), 1012);   /* head 5's chain: BUF, then BUF + 12 */
	CHECK(memcmp(got, "\1\2\3\4\5\6\7\10\11\12", 10) == 0);
	CHECK(got[10] == 1 && got[11] == 0);   /* num_buffers 1 */
	CHECK(memcmp(got + 12, frame, 1000) == 0);
	CHECK(untouched(BUF + 1012, 500));
	/* the dirty log saw exactly the bytes written */
	uint32_t sum = 0;
	for (unsigned i = 0; i < n_logged; i++)
		sum += logged[i].len;
	CHECK(n_logged == 2 && logged[0].gpa == BUF && logged[0].len == 12 &&
	      logged[1].gpa == BUF + 12 && sum == 1012);
}

static void
merged(void)
{
	static uint8_t got[4096];
	enum ferry_vq_err err;
	uint32_t total;

	reset();
	post_bufs(0, 8, 256);
	CHECK(put(1000, 12, true, &err) == FERRY_VQ_RX_OK);   /* 1012 bytes over 4 buffers */
	CHECK(plan.n == 4 && vr.last_avail == 4 && vr.last_used == 4);
	for (uint16_t k = 0; k < 4; k++)
		CHECK(used()->ring[k].id == k && used()->ring[k].len == (k < 3 ? 256 : 1012 - 768));
	gather(0, 4, got, &total);
	CHECK(total == 1012 && got[10] == 4 && got[11] == 0 && memcmp(got + 12, frame, 1000) == 0);
	CHECK(untouched(BUF + 3 * 0x1000ull + 244, 12) && untouched(BUF + 4 * 0x1000ull, 256));
	/* a second frame takes the next buffers; used entries follow */
	CHECK(put(300, 12, true, &err) == FERRY_VQ_RX_OK && plan.n == 2);
	CHECK(used()->ring[4].id == 4 && used()->ring[4].len == 256 &&
	      used()->ring[5].id == 5 && used()->ring[5].len == 56);
	gather(4, 2, got, &total);
	CHECK(total == 312 && got[10] == 2 && memcmp(got + 12, frame, 300) == 0);
}

static void
ring_runs_dry(void)
{
	enum ferry_vq_err err;

	reset();
	post_bufs(0, 2, 256);
	CHECK(put(1000, 12, true, &err) == FERRY_VQ_RX_NOROOM);
	CHECK(vr.last_avail == 0 && vr.last_used == 0);   /* nothing taken */
	CHECK(untouched(BUF, 256) && untouched(BUF + 0x1000, 256) && n_logged == 0);
	CHECK(put(1000, 12, false, &err) == FERRY_VQ_RX_TOO_BIG && vr.last_avail == 0);
	post_bufs(2, 2, 256);                              /* the guest posts more: it fits now */
	CHECK(put(1000, 12, true, &err) == FERRY_VQ_RX_OK && plan.n == 4 && vr.last_avail == 4);
	CHECK(put(10, 12, true, &err) == FERRY_VQ_RX_NOROOM);   /* empty ring */
}

static void
too_big(void)
{
	enum ferry_vq_err err;

	reset();
	post_bufs(0, 100, 16);            /* 64 chains hold 1024 bytes: 1100 needs more */
	CHECK(put(1100, 12, true, &err) == FERRY_VQ_RX_TOO_BIG && vr.last_avail == 0);
	CHECK(put(1000, 12, true, &err) == FERRY_VQ_RX_OK && plan.n == 64);   /* 1012 bytes: all 64 */
	reset();
	post_bufs(0, 1, 4096);
	CHECK(put(FERRY_VQ_MAX_GSO_FRAME + 1, 12, true, &err) == FERRY_VQ_RX_TOO_BIG);
	CHECK(vr.last_avail == 0);
}

/* A chain longer than any frame is capacity, not an error: the walk stops at max_frame + 64. */
static void
long_chain(void)
{
	struct ferry_vchain c;

	reset();
	desc_at(DESC, 0, A_GPA + 0x20000, 0x80000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc_at(DESC, 1, 0x300000, 64, VRING_DESC_F_WRITE, 0);   /* unmapped, never reached */
	CHECK(ferry_vq_rx_chain(&vr, &gm, 0, &c) == FERRY_VQ_OK);
	CHECK(c.n == 1 && c.len == FERRY_VQ_MAX_FRAME + 64);
	vr.max_frame = FERRY_VQ_MAX_GSO_FRAME;
	CHECK(ferry_vq_rx_chain(&vr, &gm, 0, &c) == FERRY_VQ_OK && c.len == FERRY_VQ_MAX_GSO_FRAME + 64);
}

static void
across_regions(void)
{
	static uint8_t got[2048];
	enum ferry_vq_err err;

	reset();
	desc_at(DESC, 0, C_GPA - 100, 1000, VRING_DESC_F_WRITE, 0);   /* B's last 100, C's first 900 */
	post(0);
	CHECK(ferry_vq_rx_chain(&vr, &gm, 0, &plan.scratch) == FERRY_VQ_OK && plan.scratch.n == 2);
	CHECK(plan.scratch.seg[0].gpa == C_GPA - 100 && plan.scratch.seg[0].len == 100 &&
	      plan.scratch.seg[1].gpa == C_GPA && plan.scratch.seg[1].len == 900);
	CHECK(put(500, 12, false, &err) == FERRY_VQ_RX_OK && used()->ring[0].len == 512);
	memcpy(got, gva(C_GPA - 100), 100);
	memcpy(got + 100, gva(C_GPA), 412);
	CHECK(memcmp(got + 12, frame, 500) == 0);
	CHECK(n_logged == 2 && logged[0].gpa == C_GPA - 100 && logged[0].len == 100 &&
	      logged[1].gpa == C_GPA && logged[1].len == 412);
}

static void
indirect(void)
{
	enum ferry_vq_err err;

	reset();
	desc_at(IND, 0, BUF, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc_at(IND, 1, BUF + 12, 2000, VRING_DESC_F_WRITE, 0);
	desc_at(DESC, 3, IND, 32, VRING_DESC_F_INDIRECT, 0);
	post(3);
	CHECK(put(1500, 12, false, &err) == FERRY_VQ_RX_OK && used()->ring[0].id == 3 &&
	      used()->ring[0].len == 1512 && memcmp(gva(BUF + 12), frame, 1500) == 0);
}

/* Lies: each ends the frame, every chain taken goes back with length 0, nothing is written. */
static void
bad_chains(void)
{
	const struct { uint64_t addr; uint32_t len; uint16_t flags; enum ferry_vq_err want; } bad[] = {
		{ BUF + 0x1000, 256, 0, FERRY_VQ_EREAD },                    /* readable */
		{ 0x300000, 256, VRING_DESC_F_WRITE, FERRY_VQ_EADDR },       /* in the gap */
		{ A_GPA + A_SIZE - 16, 256, VRING_DESC_F_WRITE, FERRY_VQ_EADDR },   /* runs off A */
		{ BUF + 0x1000, 0, VRING_DESC_F_WRITE, FERRY_VQ_ESHORT },    /* no room at all */
	};
	enum ferry_vq_err err;

	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		reset();
		post_bufs(0, 1, 256);                      /* a good first chain */
		desc_at(DESC, 1, bad[i].addr, bad[i].len, bad[i].flags, 0);
		post(1);
		post_bufs(2, 4, 256);
		CHECK(put(1000, 12, true, &err) == FERRY_VQ_RX_BAD && err == bad[i].want);
		CHECK(vr.last_avail == 2 && vr.last_used == 2);
		CHECK(used()->ring[0].id == 0 && used()->ring[0].len == 0 &&
		      used()->ring[1].id == 1 && used()->ring[1].len == 0);
		CHECK(untouched(BUF, 256) && untouched(BUF + 0x1000, 256) && n_logged == 0);
		/* the ring goes on with the next chains */
		CHECK(put(500, 12, true, &err) == FERRY_VQ_RX_OK && plan.n == 2 &&
		      used()->ring[2].id == 2);
	}
	/* a first buffer shorter than the header */
	reset();
	desc_at(DESC, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(0);
	CHECK(put(100, 12, true, &err) == FERRY_VQ_RX_BAD && err == FERRY_VQ_ESHORT);
	CHECK(used()->ring[0].len == 0 && untouched(BUF, 8));
	/* a head beyond the ring */
	reset();
	post(RING + 3);
	CHECK(put(100, 12, true, &err) == FERRY_VQ_RX_BAD && err == FERRY_VQ_EHEAD);
	CHECK(vr.last_used == 1 && used()->ring[0].len == 0);
}

static void
header_of_ten(void)
{
	enum ferry_vq_err err;

	reset();
	post_bufs(0, 1, 256);
	CHECK(put(100, 10, false, &err) == FERRY_VQ_RX_OK && used()->ring[0].len == 110);
	CHECK(memcmp(gva(BUF), "\1\2\3\4\5\6\7\10\11\12", 10) == 0);
	CHECK(memcmp(gva(BUF + 10), frame, 100) == 0);   /* no num_buffers: the frame follows */
}

static void
indexes_wrap(void)
{
	enum ferry_vq_err err;

	reset();
	vr.last_avail = 65534;
	vr.last_used = 65535;
	avail()->idx = 65534;
	post_bufs(0, 3, 256);
	CHECK(put(600, 12, true, &err) == FERRY_VQ_RX_OK && plan.n == 3);
	CHECK(vr.last_avail == 1 && vr.last_used == 2);
	CHECK(used()->ring[255].id == 0 && used()->ring[0].id == 1 && used()->ring[1].id == 2 &&
	      used()->ring[1].len == 612 - 512);
}

static void
write_bounds(void)
{
	struct ferry_vchain c = { .n = 2 };
	uint8_t a[4], b[4];

	memset(a, 0, 4);
	memset(b, 0, 4);
	c.seg[0] = (struct ferry_vseg){ .va = a, .len = 4 };
	c.seg[1] = (struct ferry_vseg){ .va = b, .len = 4 };
	CHECK(ferry_vq_chain_write(&c, 2, "xyzw", 4) == 4 && a[2] == 'x' && b[1] == 'w');
	CHECK(ferry_vq_chain_write(&c, 6, "123456", 6) == 2 && b[2] == '1' && b[3] == '2');
	CHECK(ferry_vq_chain_write(&c, 9, "q", 1) == 0);
}

/* One mbuf into the ring with the header ferry's own enqueue builds from its flags (lib/offload
 * ferry_ol_to_vnet, as lib/zc zc_enq.c does): the header the guest reads back. */
static struct virtio_net_hdr_mrg_rxbuf
enqueue_mbuf(struct rte_mbuf *m, uint64_t features, bool *dv)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .num_buffers = 1 }, back;
	struct ferry_vseg seg = { .va = rte_pktmbuf_mtod(m, uint8_t *), .len = m->data_len };
	struct ferry_vq_rxframe f = { &h, 12, &seg, 1, m->pkt_len };
	enum ferry_vq_err err;
	uint16_t u = vr.last_used;

	*dv = ferry_ol_to_vnet(m, features, &h.hdr);
	post_bufs(u % RING, 1, 2048);
	CHECK(ferry_vq_rx_frame(&vr, &gm, true, &f, &plan, &err) == FERRY_VQ_RX_OK);
	ferry_vring_used_publish(&vr);
	CHECK(used()->ring[u % RING].len == 12 + m->pkt_len);
	memcpy(&back, gva(BUF + used()->ring[u % RING].id * 0x1000ull), sizeof(back));
	CHECK(memcmp(gva(BUF + used()->ring[u % RING].id * 0x1000ull) + 12,
		     rte_pktmbuf_mtod(m, uint8_t *), m->pkt_len) == 0);
	return back;
}

/* Issue #19, NIC -> guest: the virtio-net header of ferry's own enqueue as a guest reads it from
 * its ring — DPDK's virtio_enqueue_offload mapping for the TX flags (TSO: gso_type/size,
 * hdr_len; partial checksums: NEEDS_CSUM csum_start/offset; an IPv4 header checksum computed in
 * the frame) and DATA_VALID for a NIC's RX_L4_CKSUM_GOOD, only with GUEST_CSUM and only on a
 * complete frame (never with NEEDS_CSUM). */
static void
offload_header(void)
{
	const uint64_t csum = 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	struct virtio_net_hdr_mrg_rxbuf h;
	struct rte_mbuf *m;
	bool dv;

	reset();
	m = unit_frame("52:54:00:00:00:01", "52:54:00:00:00:02", NULL, 0, RTE_ETHER_TYPE_IPV4, 200);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(dv && h.hdr.flags == VIRTIO_NET_HDR_F_DATA_VALID && h.num_buffers == 1);
	CHECK(h.hdr.gso_type == 0 && h.hdr.gso_size == 0 && h.hdr.csum_start == 0 &&
	      h.hdr.csum_offset == 0 && h.hdr.hdr_len == 0);
	h = enqueue_mbuf(m, 0, &dv);   /* the guest did not negotiate GUEST_CSUM */
	CHECK(!dv && h.hdr.flags == 0);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;   /* the guest checks (and drops) it itself */
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(!dv && h.hdr.flags == 0);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(!dv && h.hdr.flags == 0);
	m->ol_flags = 0;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(!dv && h.hdr.flags == 0 && h.hdr.gso_type == 0);

	/* a TCP/IPv4 segment from a guest that sent it with TSO */
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 32;
	m->tso_segsz = 1448;
	h = enqueue_mbuf(m, csum | (1ULL << VIRTIO_NET_F_GUEST_TSO4), &dv);
	CHECK(!dv && h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(h.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.hdr.gso_size == 1448);
	CHECK(h.hdr.hdr_len == 66 && h.hdr.csum_start == 34 && h.hdr.csum_offset == 16);
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV6;
	m->l3_len = 40;
	h = enqueue_mbuf(m, csum | (1ULL << VIRTIO_NET_F_GUEST_TSO6), &dv);
	CHECK(h.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && h.hdr.hdr_len == 86 &&
	      h.hdr.csum_start == 54 && h.hdr.csum_offset == 16);
	/* partial checksums, no segmentation */
	m->ol_flags = RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(!dv && h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.hdr.gso_type == 0 &&
	      h.hdr.csum_start == 54 && h.hdr.csum_offset == 6 && h.hdr.hdr_len == 0);
	m->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
	m->l3_len = 20;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(h.hdr.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.hdr.csum_start == 34 &&
	      h.hdr.csum_offset == 16);
	/* an IPv4 header checksum left to do: computed in the frame the guest gets */
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(200);
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->hdr_checksum = 0x1234;
	m->ol_flags = RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4;
	h = enqueue_mbuf(m, csum, &dv);
	CHECK(h.hdr.flags == 0);
	uint16_t got = ip->hdr_checksum;
	ip->hdr_checksum = 0;
	CHECK(got == rte_ipv4_cksum(ip) && got != 0x1234);
	rte_pktmbuf_free(m);
}

void
suite_virtq_rx(void)
{
	reg[0] = (struct ferry_gmem_region){ .gpa = A_GPA, .size = A_SIZE, .va = malloc(A_SIZE) };
	reg[1] = (struct ferry_gmem_region){ .gpa = B_GPA, .size = BC_SIZE, .va = malloc(BC_SIZE) };
	reg[2] = (struct ferry_gmem_region){ .gpa = C_GPA, .size = BC_SIZE, .va = malloc(BC_SIZE) };
	if (reg[0].va == NULL || reg[1].va == NULL || reg[2].va == NULL)
		abort();
	gm.n = 3;
	for (unsigned i = 0; i < 3; i++)
		gm.r[i] = reg[i];

	RUN("virtq_rx", one_chain);
	RUN("virtq_rx", merged);
	RUN("virtq_rx", ring_runs_dry);
	RUN("virtq_rx", too_big);
	RUN("virtq_rx", long_chain);
	RUN("virtq_rx", across_regions);
	RUN("virtq_rx", indirect);
	RUN("virtq_rx", bad_chains);
	RUN("virtq_rx", header_of_ten);
	RUN("virtq_rx", indexes_wrap);
	RUN("virtq_rx", write_bounds);
	RUN("virtq_rx", offload_header);

	for (unsigned i = 0; i < 3; i++)
		free(reg[i].va);
}
