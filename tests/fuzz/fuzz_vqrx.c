/* fuzz_vqrx.c — libFuzzer target for lib/virtq's receive side (ferry_vq_rx_frame): the input is a
 * malicious virtio driver's receive ring — ring size, guest memory regions and every byte of
 * guest memory (descriptors, avail ring, indirect tables) are the fuzzer's — and a few frames to
 * place into it. Each region is its own exact-size allocation, so ASan reports any write outside
 * guest memory. After every frame the target aborts unless:
 *   - OK: the used index moved by the chains taken, their entries are those heads in order, their
 *     lengths sum to header + frame, num_buffers (12-byte header) says how many, every logged
 *     range lies inside one region and the ranges sum to header + frame; where the written
 *     ranges overlap neither each other nor the ring, the guest reads back exactly the header
 *     and the frame;
 *   - NOROOM / TOO_BIG: neither index moved and not a byte of guest memory changed;
 *   - BAD: an error is named, every used entry written has length 0, nothing was logged.
 * Input: h0 ring size 1 << (h0 % 9); h1 regions 1 + (h1 & 3), 0x40 mergeable, 0x80 GSO-sized
 * frames allowed; h2..h3 first avail index; h4..h5 first used index; h6 frames 1 + h6 % 8;
 * h7 & 1: 10-byte header; then 2 bytes per frame (its length, le16; + 65536 * bit 0 of h7's
 * next bit when GSO); then per region 4 bytes: size - 1 (le16), GPA page (le16, region 0 at
 * page 1 + it, the others after the previous one with a gap of that many pages, 0: adjacent);
 * then guest memory. Build and run: tests/fuzz/run.sh. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_virtq.h"

#define HDR 8
#define MAX_REGS 4
#define MAX_FRAMES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ferry_gmem_map gm;
static uint8_t frame[2 * 65536];
static struct ferry_vq_rxplan plan;
static struct { uint64_t gpa; uint32_t len; } logged[FERRY_VQ_RX_MAX_PIECES + 2];
static unsigned n_logged;

static void
fail(const char *why)
{
	fprintf(stderr, "fuzz_vqrx: %s\n", why);
	abort();
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The region holding [gpa, gpa + len) whole, or -1. */
static int
region_of(uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < gm.n; i++)
		if (gpa >= gm.r[i].gpa && gpa - gm.r[i].gpa <= gm.r[i].size &&
		    len <= gm.r[i].size - (gpa - gm.r[i].gpa))
			return (int)i;
	return -1;
}

static void
log_cb(void *ctx, uint64_t gpa, uint32_t len)
{
	(void)ctx;
	if (len == 0 || region_of(gpa, len) < 0)
		fail("a logged range is empty or not inside one region");
	if (n_logged == sizeof(logged) / sizeof(logged[0]))
		fail("more logged ranges than pieces");
	logged[n_logged].gpa = gpa;
	logged[n_logged++].len = len;
}

static bool
overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* Did the guest get back exactly hdr + frame? Only checkable when the ranges are disjoint. */
static void
check_readback(const uint8_t *hdr, uint32_t hdr_len, uint32_t len, uint64_t ring, uint64_t ring_len)
{
	for (unsigned i = 0; i < n_logged; i++) {
		if (overlap(logged[i].gpa, logged[i].len, ring, ring_len))
			return;
		for (unsigned j = 0; j < i; j++)
			if (overlap(logged[i].gpa, logged[i].len, logged[j].gpa, logged[j].len))
				return;
	}
	uint32_t off = 0;
	for (unsigned i = 0; i < n_logged; i++) {
		const struct ferry_gmem_region *r = &gm.r[region_of(logged[i].gpa, logged[i].len)];
		const uint8_t *g = r->va + (logged[i].gpa - r->gpa);
		for (uint32_t k = 0; k < logged[i].len; k++, off++) {
			uint8_t want = off < hdr_len ? hdr[off] : frame[off - hdr_len];
			if (off == 10 && hdr_len == 12)
				want = (uint8_t)plan.n;
			if (off == 11 && hdr_len == 12)
				want = (uint8_t)(plan.n >> 8);
			if (g[k] != want)
				fail("the guest reads back other bytes than were placed");
		}
	}
	if (off != hdr_len + len)
		fail("read back a different length");
}

static uint64_t
mem_sum(void)
{
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < gm.n; i++)
		for (uint64_t k = 0; k < gm.r[i].size; k++)
			h = (h ^ gm.r[i].va[k]) * 1099511628211ull;
	return h;
}

static void
place(struct ferry_vring *vr, bool mrg, uint32_t hdr_len, uint32_t len, uint64_t ring,
      uint64_t ring_len)
{
	static const uint8_t hdr[12] = { 0x01, 0, 0x22, 0, 0x44, 0x05, 0x66, 0, 0x88, 0, 0xaa, 0xbb };
	struct ferry_vseg src[2] = { { .va = frame, .len = len / 2 },
				     { .va = frame + len / 2, .len = len - len / 2 } };
	struct ferry_vq_rxframe f = { hdr, hdr_len, src, 2, len };
	uint16_t a0 = vr->last_avail, u0 = vr->last_used;
	uint64_t before = mem_sum();
	enum ferry_vq_err err = FERRY_VQ_OK;

	n_logged = 0;
	enum ferry_vq_rx_rc rc = ferry_vq_rx_frame(vr, &gm, mrg, &f, &plan, &err);
	uint16_t used = (uint16_t)(vr->last_used - u0);
	switch (rc) {
	case FERRY_VQ_RX_OK: {
		if (used != plan.n || plan.n == 0 || (!mrg && plan.n != 1) ||
		    (uint16_t)(vr->last_avail - a0) != plan.n)
			fail("OK: indexes do not match the chains taken");
		uint64_t sum = 0, lsum = 0;
		for (uint16_t k = 0; k < plan.n; k++) {   /* written last: a buffer over them is overwritten */
			const struct vring_used_elem *e = &vr->used->ring[(uint16_t)(u0 + k) & vr->mask];
			if (e->id != plan.head[k])
				fail("OK: used entries are not the heads taken, in order");
			sum += e->len;
		}
		for (unsigned i = 0; i < n_logged; i++)
			lsum += logged[i].len;
		if (sum != hdr_len + len || lsum != hdr_len + len)
			fail("OK: used lengths or logged bytes != header + frame");
		check_readback(hdr, hdr_len, len, ring, ring_len);
		break;
	}
	case FERRY_VQ_RX_NOROOM:
	case FERRY_VQ_RX_TOO_BIG:
		if (vr->last_avail != a0 || vr->last_used != u0)
			fail("NOROOM/TOO_BIG moved an index");
		if (mem_sum() != before || n_logged != 0)
			fail("NOROOM/TOO_BIG wrote guest memory");
		break;
	case FERRY_VQ_RX_BAD:
		if (err == FERRY_VQ_OK || used == 0 || n_logged != 0)
			fail("BAD: no error, nothing given back, or something written");
		for (uint16_t k = 0; k < used; k++)
			if (vr->used->ring[(uint16_t)(u0 + k) & vr->mask].len != 0)
				fail("BAD: a chain given back with a length");
		break;
	default:
		fail("unknown result");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *mem[MAX_REGS] = { NULL };
	struct ferry_vring vr;

	if (size < HDR)
		return 0;
	uint32_t qsz = 1u << (data[0] % 9), nreg = 1 + (data[1] & 3), nfr = 1 + data[6] % 8;
	bool mrg = data[1] & 0x40, gso = data[1] & 0x80;
	uint32_t hdr_len = (data[7] & 1) ? 10 : 12;
	const uint8_t *p = data + HDR;
	size_t left = size - HDR;
	uint32_t flen[MAX_FRAMES];

	if (left < 2 * nfr + 4 * nreg)
		return 0;
	for (uint32_t i = 0; i < nfr; i++, p += 2)
		flen[i] = le16(p) + (gso && (data[7] & 2) ? 0x10000u - 0x100u : 0);
	const uint8_t *spec = p;
	p += 4 * nreg;
	left -= 2 * nfr + 4 * nreg;

	/* ring layout at the start of region 0: desc, avail (+ used_event), used (4-aligned) */
	uint64_t avail_off = 16ull * qsz, used_off = (avail_off + 6 + 2ull * qsz + 3) & ~3ull;
	uint64_t ring_len = used_off + 6 + 8ull * qsz, next = 0;
	memset(&gm, 0, sizeof(gm));
	for (uint32_t i = 0; i < nreg; i++) {
		uint64_t sz = (uint64_t)le16(spec + 4 * i) + 1, pg = le16(spec + 4 * i + 2);
		if (i == 0 && sz < ring_len)
			sz = ring_len;
		uint64_t gpa = i == 0 ? (1 + pg) << 12 : next + (pg << 12);
		uint8_t *va = malloc(sz);
		if (va == NULL)
			abort();
		memset(va, 0, sz);
		size_t k = left < sz ? left : sz;
		memcpy(va, p, k);
		p += k;
		left -= k;
		mem[gm.n] = va;
		gm.r[gm.n] = (struct ferry_gmem_region){ .gpa = gpa, .size = sz, .va = va };
		gm.n++;
		next = gpa + sz;
	}
	uint64_t base = gm.r[0].gpa;
	if (ferry_vring_map(&vr, &gm, base, base + avail_off, base + used_off, (uint16_t)qsz) != 0)
		fail("ferry_vring_map refused a ring inside region 0");
	vr.last_avail = le16(data + 2);
	vr.last_used = le16(data + 4);
	vr.max_frame = gso ? FERRY_VQ_MAX_GSO_FRAME : 0;
	plan.log = log_cb;
	for (uint32_t i = 0; i < nfr; i++)
		place(&vr, mrg, hdr_len, flen[i], base, ring_len);

	for (uint32_t i = 0; i < gm.n; i++)
		free(mem[i]);
	return 0;
}

__attribute__((constructor)) static void
init_frame(void)
{
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 131 + 17);
}
