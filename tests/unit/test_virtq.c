/* test_virtq.c — lib/virtq against a hostile guest: a split ring laid out in fake guest memory
 * (plain malloc'd regions, one with a gap before it and two adjacent ones), then every way a
 * driver can lie in a descriptor chain, an indirect table, the avail ring or the event words.
 *
 * Guest physical layout of the main map:
 *   A  [0x100000, 0x200000)   the ring, indirect tables and most buffers
 *      [0x200000, 0x400000)   gap (unmapped)
 *   B  [0x400000, 0x410000)   } adjacent in GPA, separate allocations in ferry's VA:
 *   C  [0x410000, 0x420000)   } a buffer across 0x410000 becomes two segments
 * A second map adds regions touching both ends of the 64-bit space (wrap-around). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <rte_cycles.h>
#include "unit.h"
#include "ferry_virtq.h"

#define A_GPA   0x100000ull
#define A_SIZE  0x100000ull
#define B_GPA   0x400000ull
#define B_SIZE  0x10000ull
#define C_GPA   0x410000ull
#define C_SIZE  0x10000ull
#define A_END   (A_GPA + A_SIZE)
#define C_END   (C_GPA + C_SIZE)
#define TOP_SIZE 0x1000ull
#define TOP_GPA (0ull - TOP_SIZE)      /* [2^64 - 4096, 2^64) */
#define LOW_GPA 0ull
#define LOW_SIZE 0x1000ull

#define DESC    0x100000ull            /* ring of 8 (or more) in A */
#define AVAIL   0x101000ull
#define USED    0x102000ull
#define IND     0x110000ull            /* indirect tables */
#define BUF_A   0x1a0000ull            /* buffers */
#define BUF_B   0x400100ull
#define BUF_C   0x410100ull

#define LIMIT   (FERRY_VQ_MAX_FRAME + 64)   /* bytes a chain may carry, header included */

#define F_NEXT  VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_IND   VRING_DESC_F_INDIRECT

static struct ferry_gmem_map gm;       /* A, B, C */
static struct ferry_gmem_map gm_wrap;  /* A, TOP, LOW */
static struct ferry_gmem_region all[5];
static struct ferry_vring vr;
static struct ferry_vchain ch;

/* The test's own translation (independent of ferry_gmem_va). */
static uint8_t *
gva(uint64_t gpa)
{
	for (unsigned i = 0; i < RTE_DIM(all); i++)
		if (gpa >= all[i].gpa && gpa - all[i].gpa < all[i].size)
			return all[i].va + (gpa - all[i].gpa);
	fprintf(stderr, "  test_virtq: gva(%#llx) is not test memory\n", (unsigned long long)gpa);
	abort();
}

static void
reset(uint16_t size)
{
	for (unsigned i = 0; i < RTE_DIM(all); i++)
		memset(all[i].va, 0, all[i].size);
	memset(&ch, 0xa5, sizeof(ch));   /* stale garbage: the walk must reset n and len */
	CHECK(ferry_vring_map(&vr, &gm, DESC, AVAIL, USED, size) == 0);
}

static void
desc_at(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(gva(table + 16ull * i), &d, sizeof(d));
}

static void
desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(DESC, i, addr, len, flags, next);
}

static enum ferry_vq_err
walk(uint16_t head)
{
	return ferry_vq_chain(&vr, &gm, head, &ch);
}

#define SEG(i, gpa, l) CHECK(ch.seg[i].va == gva(gpa) && ch.seg[i].len == (l))

static void
gmem_lookup(void)
{
	uint64_t contig = 0;

	CHECK(ferry_gmem_va(&gm, B_GPA + 5, &contig) == gva(B_GPA + 5) && contig == B_SIZE - 5);
	CHECK(ferry_gmem_va(&gm, C_END - 1, &contig) == gva(C_END - 1) && contig == 1);
	CHECK(ferry_gmem_va(&gm, A_GPA - 1, &contig) == NULL);
	CHECK(ferry_gmem_va(&gm, A_END, &contig) == NULL);
	CHECK(ferry_gmem_va(&gm, C_END, &contig) == NULL);
	CHECK(ferry_gmem_range(&gm, A_END - 16, 16) == gva(A_END - 16));
	CHECK(ferry_gmem_range(&gm, A_END - 16, 17) == NULL);
	CHECK(ferry_gmem_range(&gm, C_GPA - 8, 16) == NULL);    /* spans B and C: not one pointer */
	CHECK(ferry_gmem_range(&gm, ~0ull - 7, 16) == NULL);
}

static void
ring_map(void)
{
	struct ferry_vring r;
	struct ferry_vchain c;

	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, USED, 8) == 0);
	CHECK(r.desc == (void *)gva(DESC) && r.avail == (void *)gva(AVAIL) &&
	      r.used == (void *)gva(USED));
	CHECK(r.size == 8 && r.mask == 7 && r.last_avail == 0 && r.last_used == 0 && !r.event_idx);
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, USED, 1) == 0 && r.size == 1 && r.mask == 0);
	CHECK(ferry_vring_map(&r, &gm, A_GPA, A_GPA + 0x80000, A_GPA + 0xa0000, 32768) == 0 &&
	      r.size == 32768 && r.mask == 32767);

	/* sizes: zero, not a power of two, beyond 32768 */
	const uint16_t bad[] = { 0, 3, 6, 12, 100, 32767, 32769, 49152, 65535 };
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, USED, bad[i]) == -1);
		/* a failed map leaves a ring that refuses every head */
		CHECK(r.size == 0 && ferry_vq_chain(&r, &gm, 0, &c) == FERRY_VQ_EHEAD);
	}

	/* parts outside guest memory: in the gap, below, above, at the top of the space */
	CHECK(ferry_vring_map(&r, &gm, 0x300000, AVAIL, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, 0x1000, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, C_END, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, ~0ull - 63, AVAIL, USED, 8) == -1);   /* desc_gpa + 128 wraps */
	CHECK(ferry_vring_map(&r, &gm_wrap, TOP_GPA + TOP_SIZE - 64, AVAIL, USED, 8) == -1);

	/* straddling the end of a region: an exact fit works, one byte more does not.
	 * size 8: desc 128 bytes, avail 4 + 16 + 2 (used_event), used 4 + 64 + 2 (avail_event) */
	CHECK(ferry_vring_map(&r, &gm, A_END - 128, AVAIL, USED, 8) == 0);
	CHECK(ferry_vring_map(&r, &gm, A_END - 127, AVAIL, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, A_END - 22, USED, 8) == 0);
	CHECK(ferry_vring_map(&r, &gm, DESC, A_END - 21, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, A_END - 20, USED, 8) == -1);   /* no room for used_event */
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, A_END - 70, 8) == 0);
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, A_END - 69, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, A_END - 68, 8) == -1);  /* no room for avail_event */
	/* across two GPA-adjacent regions: mapped, but not one pointer */
	CHECK(ferry_vring_map(&r, &gm, C_GPA - 64, AVAIL, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, C_GPA - 10, USED, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, DESC, AVAIL, C_GPA - 40, 8) == -1);
	CHECK(ferry_vring_map(&r, &gm, C_GPA - 128, C_GPA, C_GPA + 0x100, 8) == 0);
}

static void
single_descriptor(void)
{
	reset(8);
	desc(3, BUF_A, 100, 0, 0xffff);   /* next is ignored without F_NEXT */
	CHECK(walk(3) == FERRY_VQ_OK);
	CHECK(ch.n == 1 && ch.len == 100);
	SEG(0, BUF_A, 100);

	desc(0, C_END - 1, 1, 0, 0);     /* the very last mapped byte */
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 1);
	SEG(0, C_END - 1, 1);
}

static void
multi_descriptor_chain(void)
{
	reset(8);
	desc(2, BUF_A, 10, F_NEXT, 5);
	desc(5, BUF_B, 20, F_NEXT, 1);
	desc(1, BUF_C, 30, 0, 0);
	CHECK(walk(2) == FERRY_VQ_OK);
	CHECK(ch.n == 3 && ch.len == 60);
	SEG(0, BUF_A, 10);
	SEG(1, BUF_B, 20);
	SEG(2, BUF_C, 30);
	/* starting in the middle walks only the tail */
	CHECK(walk(5) == FERRY_VQ_OK && ch.n == 2 && ch.len == 50);
	SEG(0, BUF_B, 20);
}

static void
indirect_table(void)
{
	reset(8);
	desc(0, IND, 3 * 16, F_IND, 0);
	desc_at(IND, 0, BUF_A, 10, F_NEXT, 2);
	desc_at(IND, 2, BUF_B, 20, F_NEXT, 1);
	desc_at(IND, 1, BUF_C, 30, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK);
	CHECK(ch.n == 3 && ch.len == 60);
	SEG(0, BUF_A, 10);
	SEG(1, BUF_B, 20);
	SEG(2, BUF_C, 30);

	/* the device ignores WRITE on the descriptor that points at a table (virtio 1.1 2.6.5.3.2) */
	desc(0, IND, 3 * 16, F_IND | F_WRITE, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 3 && ch.len == 60);

	/* next is an index into the table: 5 is inside the ring (8) but not the table (3) */
	desc(0, IND, 3 * 16, F_IND, 0);
	desc_at(IND, 2, BUF_B, 20, F_NEXT, 5);
	CHECK(walk(0) == FERRY_VQ_ENEXT);
	desc_at(IND, 2, BUF_B, 20, F_NEXT, 3);
	CHECK(walk(0) == FERRY_VQ_ENEXT);
	desc_at(IND, 1, BUF_C, 30, F_NEXT, 0);   /* 0 -> 2 -> 1 -> 0: the fourth link is a loop */
	desc_at(IND, 2, BUF_B, 20, F_NEXT, 1);
	CHECK(walk(0) == FERRY_VQ_ELOOP);

	/* a table of exactly its size in links is fine; one more link is a loop */
	desc(0, IND, 4 * 16, F_IND, 0);
	for (uint16_t i = 0; i < 4; i++)
		desc_at(IND, i, BUF_A + 16 * i, 16, i < 3 ? F_NEXT : 0, (uint16_t)(i + 1));
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 4 && ch.len == 64);
	SEG(3, BUF_A + 48, 16);
	desc_at(IND, 3, BUF_A + 48, 16, F_NEXT, 0);
	CHECK(walk(0) == FERRY_VQ_ELOOP);
	desc_at(IND, 3, BUF_A + 48, 16, F_NEXT, 3);   /* self-loop inside the table */
	CHECK(walk(0) == FERRY_VQ_ELOOP);

	/* the largest table (32768 entries) is accepted, one entry more is not */
	reset(8);
	desc(0, IND, 32768 * 16, F_IND, 0);
	desc_at(IND, 0, BUF_B, 5, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 5);
	desc(0, IND, 32769 * 16, F_IND, 0);   /* still inside A: only the size limit refuses it */
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);

	/* plain descriptors followed by one table: a device must accept it (virtio 1.1 2.6.5.3.2) */
	reset(8);
	desc(6, BUF_B, 7, F_NEXT, 4);
	desc(4, IND, 16, F_IND, 0);
	desc_at(IND, 0, BUF_C, 9, 0, 0);
	CHECK(walk(6) == FERRY_VQ_OK && ch.n == 2 && ch.len == 16);
	SEG(0, BUF_B, 7);
	SEG(1, BUF_C, 9);
}

static void
indirect_rejected(void)
{
	reset(8);
	desc_at(IND, 0, BUF_A, 10, 0, 0);
	desc(0, IND, 16, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_OK);   /* the baseline the cases below break one way each */

	/* nested: a table entry pointing at another table, first or after a link */
	desc_at(IND, 0, IND + 0x100, 16, F_IND, 0);
	desc_at(IND + 0x100, 0, BUF_A, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, IND, 32, F_IND, 0);
	desc_at(IND, 0, BUF_A, 10, F_NEXT, 1);
	desc_at(IND, 1, IND + 0x100, 16, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc_at(IND, 1, BUF_A, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK);

	/* INDIRECT together with NEXT */
	desc(0, IND, 32, F_IND | F_NEXT, 1);
	desc(1, BUF_B, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);

	/* length not a multiple of 16, shorter than one entry, zero */
	desc(0, IND, 40, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, IND, 8, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, IND, 33, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, IND, 0, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);

	/* table outside guest memory: gap, below, above, straddling an end, across B|C, wrapping */
	desc(0, 0x300000, 16, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, 0x1000, 16, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, C_END, 16, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, A_END - 16, 32, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, C_GPA - 16, 32, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, ~0ull - 15, 32, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_EINDIRECT);
	desc(0, A_END - 16, 16, F_IND, 0);   /* the last entry of A is a table of its own */
	desc_at(A_END - 16, 0, BUF_B, 3, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 3);

	/* a device-writable buffer inside a table */
	desc(0, IND, 32, F_IND, 0);
	desc_at(IND, 0, BUF_A, 10, F_NEXT, 1);
	desc_at(IND, 1, BUF_A, 10, F_WRITE, 0);
	CHECK(walk(0) == FERRY_VQ_EWRITE);
}

static void
buffer_across_regions(void)
{
	reset(8);
	desc(0, C_GPA - 100, 300, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK);
	CHECK(ch.n == 2 && ch.len == 300);
	SEG(0, C_GPA - 100, 100);
	SEG(1, C_GPA, 200);

	desc(0, C_GPA - 100, 100, 0, 0);   /* ends exactly at the boundary: one piece */
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 100);
	SEG(0, C_GPA - 100, 100);
	desc(0, C_GPA, 100, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1);
	SEG(0, C_GPA, 100);

	/* a gap is not a boundary between regions */
	desc(0, A_END - 10, 20, 0, 0);
	CHECK(walk(0) == FERRY_VQ_EADDR);
	desc(0, C_END - 10, 11, 0, 0);
	CHECK(walk(0) == FERRY_VQ_EADDR);
	desc(0, C_END - 10, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 10);
}

static void
addresses_out_of_range(void)
{
	const struct { uint64_t gpa; uint32_t len; } bad[] = {
		{ 0, 1 }, { 0x10, 4 }, { A_GPA - 1, 1 }, { A_GPA - 1, 2 },   /* below / into A */
		{ C_END, 1 }, { 0xffffffff00000000ull, 64 },                   /* above */
		{ 0x300000, 1 }, { A_END, 1 }, { B_GPA - 1, 2 },               /* in the gap */
		{ ~0ull - 15, 32 }, { ~0ull, 2 },                              /* wrapping past 2^64 */
	};

	reset(8);
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		desc(0, bad[i].gpa, bad[i].len, 0, 0);
		CHECK(walk(0) == FERRY_VQ_EADDR);
	}
	/* a good buffer then a bad one */
	desc(0, BUF_A, 10, F_NEXT, 1);
	desc(1, 0x300000, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_EADDR);

	/* regions touching both ends of the address space: a buffer may end exactly at 2^64, but
	 * one running past it must not continue at GPA 0 */
	reset(8);
	desc(0, TOP_GPA + TOP_SIZE - 16, 16, 0, 0);
	CHECK(ferry_vq_chain(&vr, &gm_wrap, 0, &ch) == FERRY_VQ_OK && ch.n == 1 && ch.len == 16);
	SEG(0, TOP_GPA + TOP_SIZE - 16, 16);
	desc(0, LOW_GPA, 16, 0, 0);
	CHECK(ferry_vq_chain(&vr, &gm_wrap, 0, &ch) == FERRY_VQ_OK && ch.n == 1);
	SEG(0, LOW_GPA, 16);
	desc(0, TOP_GPA + TOP_SIZE - 16, 32, 0, 0);
	CHECK(ferry_vq_chain(&vr, &gm_wrap, 0, &ch) == FERRY_VQ_EADDR);
	desc(0, ~0ull, 2, 0, 0);
	CHECK(ferry_vq_chain(&vr, &gm_wrap, 0, &ch) == FERRY_VQ_EADDR);
}

static void
head_and_next_bounds(void)
{
	reset(8);
	for (uint16_t i = 0; i < 8; i++)
		desc(i, BUF_A, 10, 0, 0);
	CHECK(walk(7) == FERRY_VQ_OK);
	CHECK(walk(8) == FERRY_VQ_EHEAD);
	CHECK(walk(9) == FERRY_VQ_EHEAD);
	CHECK(walk(0xffff) == FERRY_VQ_EHEAD);

	desc(0, BUF_A, 10, F_NEXT, 7);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 2);
	desc(0, BUF_A, 10, F_NEXT, 8);
	CHECK(walk(0) == FERRY_VQ_ENEXT);
	desc(0, BUF_A, 10, F_NEXT, 0xffff);
	CHECK(walk(0) == FERRY_VQ_ENEXT);
	desc(1, BUF_A, 10, F_NEXT, 0);        /* a bad next after a good link */
	CHECK(walk(1) == FERRY_VQ_ENEXT);
}

static void
loops(void)
{
	reset(8);
	desc(1, BUF_A, 10, F_NEXT, 4);        /* a -> b -> a */
	desc(4, BUF_B, 10, F_NEXT, 1);
	CHECK(walk(1) == FERRY_VQ_ELOOP);
	CHECK(walk(4) == FERRY_VQ_ELOOP);
	desc(2, BUF_A, 10, F_NEXT, 2);        /* self-loop */
	CHECK(walk(2) == FERRY_VQ_ELOOP);
	desc(3, BUF_A, 0, F_NEXT, 3);         /* self-loop carrying no bytes */
	CHECK(walk(3) == FERRY_VQ_ELOOP);
	desc(5, BUF_A, 10, F_NEXT, 6);        /* a tail leading into a loop */
	desc(6, BUF_A, 10, F_NEXT, 2);
	CHECK(walk(5) == FERRY_VQ_ELOOP);
	desc(2, BUF_A, 10, 0, 0);             /* break it */
	CHECK(walk(5) == FERRY_VQ_OK && ch.n == 3 && ch.len == 30);

	/* a loop in a big ring ends too (no bytes): the ring's budget would take 256 links, the
	 * link bound stops it first */
	reset(256);
	desc(0, 0, 0, F_NEXT, 1);
	desc(1, 0, 0, F_NEXT, 0);
	CHECK(walk(0) == FERRY_VQ_ELINKS && ch.links == FERRY_VQ_MAX_EMPTY + 1);
	reset(64);                            /* with data: the ring's budget first */
	desc(0, BUF_A, 1, F_NEXT, 1);
	desc(1, BUF_A, 1, F_NEXT, 0);
	CHECK(walk(0) == FERRY_VQ_ELOOP && ch.links == 64);
	reset(128);                           /* ... unless the pieces run out first */
	desc(0, BUF_A, 1, F_NEXT, 1);
	desc(1, BUF_A, 1, F_NEXT, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG && ch.links == FERRY_VQ_MAX_SEGS + 1);
}

static void
chain_of_ring_size(void)
{
	reset(8);
	for (uint16_t i = 0; i < 8; i++)       /* 3 4 5 6 7 0 1 2: every descriptor once */
		desc(i, BUF_A + 0x100 * i, 10 + i, i == 2 ? 0 : F_NEXT, (uint16_t)((i + 1) % 8));
	CHECK(walk(3) == FERRY_VQ_OK);
	CHECK(ch.n == 8 && ch.len == 8 * 10 + 28);
	SEG(0, BUF_A + 0x300, 13);
	SEG(7, BUF_A + 0x200, 12);
	desc(2, BUF_A + 0x200, 12, F_NEXT, 3); /* the eighth link revisits 3 */
	CHECK(walk(3) == FERRY_VQ_ELOOP);

	/* the walk stops at that link, before reading a ninth descriptor: 8 x 2000 bytes fit the
	 * limit, a ninth 2000 would be ELONG */
	for (uint16_t i = 0; i < 8; i++)
		desc(i, BUF_A, 2000, F_NEXT, (uint16_t)((i + 1) % 8));
	CHECK(walk(0) == FERRY_VQ_ELOOP);

	reset(1);                              /* the smallest ring */
	desc(0, BUF_A, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1);
	desc(0, BUF_A, 10, F_NEXT, 0);
	CHECK(walk(0) == FERRY_VQ_ELOOP);
}

static void
write_flag(void)
{
	reset(8);
	desc(0, BUF_A, 10, F_WRITE, 0);
	CHECK(walk(0) == FERRY_VQ_EWRITE);
	desc(0, BUF_A, 10, F_NEXT, 1);
	desc(1, BUF_B, 10, F_WRITE, 0);
	CHECK(walk(0) == FERRY_VQ_EWRITE);
	desc(1, BUF_B, 0, F_WRITE, 0);        /* even carrying no bytes */
	CHECK(walk(0) == FERRY_VQ_EWRITE);
	desc(1, BUF_B, 10, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 2);
}

/* An indirect table of n one-byte buffers at BUF_A, BUF_A + 2, ... */
static void
one_byte_table(uint16_t n, uint16_t zero_len)
{
	desc(0, IND, 16u * (n + zero_len), F_IND, 0);
	for (uint16_t i = 0; i < n + zero_len; i++)
		desc_at(IND, i, BUF_A + 2 * i, i < n ? 1 : 0, i + 1 < n + zero_len ? F_NEXT : 0,
			(uint16_t)(i + 1));
}

static void
too_many_segments(void)
{
	reset(8);
	one_byte_table(FERRY_VQ_MAX_SEGS, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == FERRY_VQ_MAX_SEGS && ch.len == FERRY_VQ_MAX_SEGS);
	SEG(FERRY_VQ_MAX_SEGS - 1, BUF_A + 2 * (FERRY_VQ_MAX_SEGS - 1), 1);
	one_byte_table(FERRY_VQ_MAX_SEGS + 1, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);
	/* empty descriptors are not segments, but they are links: the table's descriptor, 64
	 * pieces and 8 empty ones are the most a chain may take; a ninth empty one is refused */
	one_byte_table(FERRY_VQ_MAX_SEGS, FERRY_VQ_MAX_EMPTY);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == FERRY_VQ_MAX_SEGS && ch.links == FERRY_VQ_MAX_LINKS);
	one_byte_table(FERRY_VQ_MAX_SEGS, FERRY_VQ_MAX_EMPTY + 1);
	CHECK(walk(0) == FERRY_VQ_ELINKS && ch.links == FERRY_VQ_MAX_LINKS);
	one_byte_table(1, FERRY_VQ_MAX_EMPTY + 1);
	CHECK(walk(0) == FERRY_VQ_ELINKS && ch.links == 1 + 1 + FERRY_VQ_MAX_EMPTY + 1);
	one_byte_table(FERRY_VQ_MAX_SEGS + 1, 0);   /* a 65th piece: too long, before the bound */
	CHECK(walk(0) == FERRY_VQ_ELONG);
	/* past FERRY_VQ_MAX_LINKS reads the walk stops before reading another descriptor: 65
	 * one-byte pieces behind 8 empty ones (plus the table's descriptor) */
	desc(0, IND, 16u * 80, F_IND, 0);
	for (uint16_t i = 0; i < 80; i++)
		desc_at(IND, i, BUF_A + i, i < FERRY_VQ_MAX_EMPTY ? 0 : 1, F_NEXT, (uint16_t)(i + 1));
	CHECK(walk(0) == FERRY_VQ_ELINKS && ch.links == FERRY_VQ_MAX_LINKS && ch.n == 64);

	/* a buffer across B|C is two segments */
	one_byte_table(FERRY_VQ_MAX_SEGS - 1, 0);
	desc_at(IND, FERRY_VQ_MAX_SEGS - 2, BUF_A, 1, F_NEXT, FERRY_VQ_MAX_SEGS - 1);
	desc_at(IND, FERRY_VQ_MAX_SEGS - 1, C_GPA - 1, 2, 0, 0);
	desc(0, IND, 16 * FERRY_VQ_MAX_SEGS, F_IND, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);   /* 63 + 2 */
	desc_at(IND, FERRY_VQ_MAX_SEGS - 3, BUF_A, 1, F_NEXT, FERRY_VQ_MAX_SEGS - 1);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == FERRY_VQ_MAX_SEGS);   /* 62 + 2 */
	SEG(FERRY_VQ_MAX_SEGS - 2, C_GPA - 1, 1);
	SEG(FERRY_VQ_MAX_SEGS - 1, C_GPA, 1);
}

static void
too_many_bytes(void)
{
	reset(8);
	desc(0, BUF_A, LIMIT, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == LIMIT);
	desc(0, BUF_A, LIMIT + 1, 0, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);
	desc(0, BUF_A, 0xffffffff, 0, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);
	desc(0, BUF_A, LIMIT / 2, F_NEXT, 1);
	desc(1, BUF_B, LIMIT / 2, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.len == LIMIT);
	desc(1, BUF_B, LIMIT / 2 + 1, 0, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);
	desc(1, BUF_B, 0xffffffff - LIMIT / 2 + 1, 0, 0);   /* sum wraps 32 bits to zero */
	CHECK(walk(0) == FERRY_VQ_ELONG);
	desc(1, BUF_B, 0xffffffff, 0, 0);
	CHECK(walk(0) == FERRY_VQ_ELONG);
}

static void
zero_length_descriptors(void)
{
	reset(8);
	desc(0, 0xdead000000000000ull, 0, F_NEXT, 1);   /* unmapped, but nothing to map */
	desc(1, BUF_A, 50, F_NEXT, 2);
	desc(2, 0, 0, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 1 && ch.len == 50);
	SEG(0, BUF_A, 50);
	desc(1, BUF_A, 0, F_NEXT, 2);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 0 && ch.len == 0);
	CHECK(ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_ESHORT);
}

/* ---- the link bound (issue #21 item 4): what a hostile chain costs against normal frames ----
 * Its own guest memory: one 2 MiB region at BIG_GPA holding a ring of 32768, an indirect table
 * of 32768 and the frame, and a ring of 256 with the normal frames. Work is counted in descriptors read (ch.links, deterministic: the
 * assertion) and timed in TSC cycles, median of REPEATS runs each (a supporting figure, with a
 * generous bound: this 2-core machine is shared). */
#define BIG_GPA   0x10000000ull
#define BIG_SIZE  0x200000ull
#define BIG_DESC  BIG_GPA                       /* 32768 x 16 = 512 KiB */
#define BIG_AVAIL (BIG_GPA + 0x80000)
#define BIG_USED  (BIG_GPA + 0x90000)
#define BIG_IND   (BIG_GPA + 0x100000)           /* 32768 x 16 = 512 KiB */
#define BIG_BUF   (BIG_GPA + 0x180000)
#define SML_DESC  (BIG_GPA + 0x1c0000)          /* a ring of 256 for the normal frames */
#define SML_AVAIL (BIG_GPA + 0x1c1000)
#define SML_USED  (BIG_GPA + 0x1c2000)
#define SML_IND   (BIG_GPA + 0x1d0000)
#define FRAME     600
#define REPEATS   301

static struct ferry_gmem_map big;

static void
big_desc(uint64_t table, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(big.r[0].va + (table - BIG_GPA) + 16ull * i, &d, sizeof(d));
}

/* head 0: the chain: a valid 600-byte frame behind 32767 empty ring descriptors, then
 * 32767 empty ones in an indirect table (65 536 descriptors) */
static void
lay_hostile(void)
{
	for (uint32_t i = 0; i < 32767; i++)
		big_desc(BIG_DESC, i, BIG_BUF, 0, F_NEXT, (uint16_t)(i + 1));
	big_desc(BIG_DESC, 32767, BIG_IND, 32768 * 16, F_IND, 0);
	for (uint32_t i = 0; i < 32767; i++)
		big_desc(BIG_IND, i, 0, 0, F_NEXT, (uint16_t)(i + 1));
	big_desc(BIG_IND, 32767, BIG_BUF, 12 + FRAME, 0, 0);
}

/* on the small ring, heads 100 (normal: header, then the frame) and 200 (the largest legal frame: an indirect table
 * of 64 pieces, 600 bytes in all) */
static void
lay_normal(void)
{
	big_desc(SML_DESC, 100, BIG_BUF, 12, F_NEXT, 101);
	big_desc(SML_DESC, 101, BIG_BUF + 64, FRAME, 0, 0);
	big_desc(SML_DESC, 200, SML_IND, 16 * FERRY_VQ_MAX_SEGS, F_IND, 0);
	for (uint32_t i = 0, off = 0; i < FERRY_VQ_MAX_SEGS; i++) {
		uint32_t len = i == 0 ? 12 : i + 1 < FERRY_VQ_MAX_SEGS ? 9 : 12 + FRAME - off;
		big_desc(SML_IND, i, BIG_BUF + off, len, i + 1 < FERRY_VQ_MAX_SEGS ? F_NEXT : 0,
			 (uint16_t)(i + 1));
		off += len;
	}
}

/* What the transmit path does with one head: walk, pull the header, copy the frame out. */
static uint64_t
frame_cost(const struct ferry_vring *r, uint16_t head, enum ferry_vq_err *e, uint32_t *links)
{
	static uint8_t out[FERRY_VQ_MAX_FRAME];
	struct ferry_vchain c;
	uint64_t t0 = rte_rdtsc_precise();

	*e = ferry_vq_chain(r, &big, head, &c);
	if (*e == FERRY_VQ_OK)
		*e = ferry_vq_chain_pull(&c, 12);
	if (*e == FERRY_VQ_OK)
		ferry_vq_chain_read(&c, 0, c.len, out);
	uint64_t t = rte_rdtsc_precise() - t0;
	*links = c.links;
	return t;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median_cost(const struct ferry_vring *r, uint16_t head)
{
	uint64_t t[REPEATS];
	enum ferry_vq_err e;
	uint32_t links;

	for (int i = 0; i < REPEATS; i++)
		t[i] = frame_cost(r, head, &e, &links);
	qsort(t, REPEATS, sizeof(t[0]), cmp_u64);
	return t[REPEATS / 2];
}

static void
link_bound(void)
{
	struct ferry_vring r, sr;
	enum ferry_vq_err e;
	uint32_t l_hostile, l_normal, l_max;

	big.n = 1;
	big.r[0].gpa = BIG_GPA;
	big.r[0].size = BIG_SIZE;
	big.r[0].va = calloc(1, BIG_SIZE);
	if (big.r[0].va == NULL)
		abort();
	CHECK(ferry_vring_map(&r, &big, BIG_DESC, BIG_AVAIL, BIG_USED, 32768) == 0);
	CHECK(ferry_vring_map(&sr, &big, SML_DESC, SML_AVAIL, SML_USED, 256) == 0);
	lay_hostile();
	lay_normal();

	/* deterministic: descriptors read */
	frame_cost(&sr, 100, &e, &l_normal);
	CHECK(e == FERRY_VQ_OK && l_normal == 2);
	frame_cost(&sr, 200, &e, &l_max);
	CHECK(e == FERRY_VQ_OK && l_max == FERRY_VQ_MAX_SEGS + 1);
	frame_cost(&r, 0, &e, &l_hostile);
	CHECK(e == FERRY_VQ_ELINKS);
	CHECK(l_hostile == FERRY_VQ_MAX_EMPTY + 1 && l_hostile <= 2 * l_max);
	/* a burst of 32 hostile chains against a burst of the largest legal frames */
	uint32_t burst_hostile = 0, burst_max = 0, l;
	for (int i = 0; i < 32; i++) {
		frame_cost(&r, 0, &e, &l);
		burst_hostile += l;
		frame_cost(&sr, 200, &e, &l);
		burst_max += l;
	}
	CHECK(burst_hostile <= 32 * FERRY_VQ_MAX_LINKS && burst_hostile <= 2 * burst_max);

	/* timed: medians, interleaved rounds so a noisy neighbour hits all three alike */
	uint64_t tn = UINT64_MAX, tm = UINT64_MAX, th = UINT64_MAX;
	for (int round = 0; round < 3; round++) {
		tn = RTE_MIN(tn, median_cost(&sr, 100));
		tm = RTE_MIN(tm, median_cost(&sr, 200));
		th = RTE_MIN(th, median_cost(&r, 0));
	}
	printf("  link_bound: descriptors read: normal %u, largest legal %u, hostile %u (of 65536); "
	       "median cycles: normal %" PRIu64 ", largest legal %" PRIu64 ", hostile %" PRIu64
	       " (%.2fx normal, %.2fx largest legal)\n", l_normal, l_max, l_hostile, tn, tm, th,
	       (double)th / (double)tn, (double)th / (double)tm);
	/* the figure: a hostile chain costs at most 2x a normal frame (on a shared machine:
	 * the exact bound is the count above; this one has 3 rounds of medians to be robust) */
	CHECK(th <= 2 * tn);
	free(big.r[0].va);
}

static void
chain_pull(void)
{
	reset(8);
	/* header in its own descriptor */
	desc(0, BUF_A, 12, F_NEXT, 1);
	desc(1, BUF_B, 100, F_NEXT, 2);
	desc(2, BUF_C, 50, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 3 && ch.len == 162);
	CHECK(ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK);
	CHECK(ch.n == 2 && ch.len == 150);
	SEG(0, BUF_B, 100);
	SEG(1, BUF_C, 50);

	/* header at the start of the first data descriptor */
	desc(0, BUF_A, 112, F_NEXT, 1);
	desc(1, BUF_B, 50, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK);
	CHECK(ch.n == 2 && ch.len == 150);
	SEG(0, BUF_A + 12, 100);
	SEG(1, BUF_B, 50);

	/* header split over two descriptors */
	desc(0, BUF_A, 8, F_NEXT, 1);
	desc(1, BUF_B, 104, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK);
	CHECK(ch.n == 1 && ch.len == 100);
	SEG(0, BUF_B + 4, 100);

	/* shorter than the header, exactly the header */
	desc(0, BUF_A, 11, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_ESHORT);
	desc(0, BUF_A, 6, F_NEXT, 1);
	desc(1, BUF_B, 5, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_ESHORT);
	desc(1, BUF_B, 6, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK);
	CHECK(ch.n == 0 && ch.len == 0);

	/* pulling nothing changes nothing */
	desc(0, BUF_A, 30, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 0) == FERRY_VQ_OK);
	CHECK(ch.n == 1 && ch.len == 30);
	SEG(0, BUF_A, 30);

	/* the frame after the header is limited to FERRY_VQ_MAX_FRAME */
	desc(0, BUF_A, FERRY_VQ_MAX_FRAME + 12, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK);
	CHECK(ch.len == FERRY_VQ_MAX_FRAME);
	desc(0, BUF_A, FERRY_VQ_MAX_FRAME + 13, 0, 0);
	CHECK(walk(0) == FERRY_VQ_OK && ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_ELONG);
}

static void
chain_read(void)
{
	uint8_t want[64], got[64 + 1];
	uint32_t k = 0;

	reset(8);
	for (uint64_t g = BUF_A; g < BUF_A + 0x2000; g++)
		*gva(g) = (uint8_t)(g * 7 + 1);
	for (uint64_t g = C_GPA - 0x100; g < C_GPA + 0x100; g++)
		*gva(g) = (uint8_t)(g * 13 + 5);
	/* 12 + 10 (across B|C) + 7 bytes in four segments */
	desc(0, BUF_A, 12, F_NEXT, 1);
	desc(1, C_GPA - 5, 10, F_NEXT, 2);
	desc(2, BUF_A + 0x1000, 7, 0, 0);
	for (uint64_t g = BUF_A; g < BUF_A + 12; g++)
		want[k++] = *gva(g);
	for (uint64_t g = C_GPA - 5; g < C_GPA + 5; g++)
		want[k++] = *gva(g);
	for (uint64_t g = BUF_A + 0x1000; g < BUF_A + 0x1007; g++)
		want[k++] = *gva(g);
	CHECK(walk(0) == FERRY_VQ_OK && ch.n == 4 && ch.len == 29 && k == 29);

	const struct { uint32_t off, len; } rd[] = {
		{ 0, 29 }, { 11, 3 }, { 15, 3 }, { 12, 10 }, { 20, 9 }, { 28, 1 }, { 5, 0 },
	};
	for (unsigned i = 0; i < RTE_DIM(rd); i++) {
		memset(got, 0xee, sizeof(got));
		ferry_vq_chain_read(&ch, rd[i].off, rd[i].len, got);
		CHECK(memcmp(got, want + rd[i].off, rd[i].len) == 0);
		CHECK(got[rd[i].len] == 0xee);    /* nothing written past len */
	}

	CHECK(ferry_vq_chain_pull(&ch, 12) == FERRY_VQ_OK && ch.len == 17 && ch.n == 3);
	memset(got, 0xee, sizeof(got));
	ferry_vq_chain_read(&ch, 0, 17, got);
	CHECK(memcmp(got, want + 12, 17) == 0 && got[17] == 0xee);
	memset(got, 0xee, sizeof(got));
	ferry_vq_chain_read(&ch, 4, 2, got);   /* across B|C after the pull */
	CHECK(memcmp(got, want + 16, 2) == 0 && got[2] == 0xee);
}

static struct vring_avail *
avail(void)
{
	return (struct vring_avail *)gva(AVAIL);
}

static struct vring_used *
used(void)
{
	return (struct vring_used *)gva(USED);
}

static void
avail_count_clamped(void)
{
	const struct { uint16_t last, idx, want; } c[] = {
		{ 0, 0, 0 }, { 0, 3, 3 }, { 0, 8, 8 }, { 0, 9, 8 }, { 0, 0xffff, 8 },
		{ 65534, 1, 3 }, { 65535, 0, 1 }, { 65530, 2, 8 }, { 5, 4, 8 }, { 100, 100, 0 },
	};

	reset(8);
	for (unsigned i = 0; i < RTE_DIM(c); i++) {
		vr.last_avail = c[i].last;
		avail()->idx = c[i].idx;
		CHECK(ferry_vring_avail_count(&vr) == c[i].want);
	}
}

static void
avail_take_wraps(void)
{
	reset(8);
	vr.last_avail = 65534;
	avail()->ring[6] = 5;
	avail()->ring[7] = 2;
	avail()->ring[0] = 4;
	avail()->ring[1] = 0xffff;   /* a bogus head is returned as is, refused by the walk */
	avail()->idx = 2;
	CHECK(ferry_vring_avail_count(&vr) == 4);
	CHECK(ferry_vring_avail_take(&vr) == 5 && vr.last_avail == 65535);
	CHECK(ferry_vring_avail_take(&vr) == 2 && vr.last_avail == 0);
	CHECK(ferry_vring_avail_take(&vr) == 4 && vr.last_avail == 1);
	CHECK(ferry_vring_avail_count(&vr) == 1);
	uint16_t head = ferry_vring_avail_take(&vr);
	CHECK(head == 0xffff && vr.last_avail == 2 && walk(head) == FERRY_VQ_EHEAD);
	CHECK(ferry_vring_avail_count(&vr) == 0);
}

static void
used_put_publish(void)
{
	uint16_t *avail_event;

	reset(8);
	avail_event = (uint16_t *)&used()->ring[8];
	*avail_event = 0xbeef;
	used()->flags = 0x1234;
	ferry_vring_used_put(&vr, 3, 100);
	CHECK(used()->ring[0].id == 3 && used()->ring[0].len == 100 && vr.last_used == 1);
	CHECK(used()->idx == 0);            /* not visible before publishing */
	ferry_vring_used_put(&vr, 6, 0);
	CHECK(used()->ring[1].id == 6 && used()->ring[1].len == 0);
	ferry_vring_used_publish(&vr);
	CHECK(used()->idx == 2);

	vr.last_used = 65535;               /* 16-bit index wraps, slot follows the mask */
	ferry_vring_used_put(&vr, 1, 7);
	CHECK(used()->ring[7].id == 1 && used()->ring[7].len == 7 && vr.last_used == 0);
	ferry_vring_used_put(&vr, 2, 8);
	CHECK(used()->ring[0].id == 2 && used()->ring[0].len == 8 && vr.last_used == 1);
	ferry_vring_used_publish(&vr);
	CHECK(used()->idx == 1);
	CHECK(*avail_event == 0xbeef && used()->flags == 0x1234);   /* only ring and idx written */
}

static void
need_call(void)
{
	const struct { uint16_t old, last, ev; bool want; } c[] = {
		{ 0, 3, 0, true }, { 0, 3, 2, true }, { 0, 3, 3, false }, { 0, 3, 0xffff, false },
		{ 0, 3, 100, false },
		/* the used index wrapped 65534 -> 1 */
		{ 65534, 1, 65534, true }, { 65534, 1, 65535, true }, { 65534, 1, 0, true },
		{ 65534, 1, 1, false }, { 65534, 1, 65533, false },
		{ 5, 5, 4, false }, { 5, 5, 5, false },   /* nothing new */
	};
	uint16_t *used_event;

	reset(8);
	used_event = &avail()->ring[8];
	/* without event idx: the flag decides */
	vr.last_used = 3;
	avail()->flags = 0;
	CHECK(ferry_vring_need_call(&vr, 0));
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(!ferry_vring_need_call(&vr, 0));
	avail()->flags = 0;
	*used_event = 3;                      /* ignored without event idx */
	CHECK(ferry_vring_need_call(&vr, 0));

	vr.event_idx = true;
	for (unsigned i = 0; i < RTE_DIM(c); i++) {
		vr.last_used = c[i].last;
		*used_event = c[i].ev;
		CHECK(ferry_vring_need_call(&vr, c[i].old) == c[i].want);
	}
	/* with event idx the flag is ignored */
	vr.last_used = 3;
	*used_event = 0;
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(ferry_vring_need_call(&vr, 0));
	*used_event = 3;
	avail()->flags = 0;
	CHECK(!ferry_vring_need_call(&vr, 0));
}

static void
error_names(void)
{
	for (int i = 0; i < FERRY_VQ_ERR_MAX; i++) {
		CHECK(ferry_vq_err_names[i] != NULL);
		for (int j = 0; j < i; j++)
			CHECK(ferry_vq_err_names[i] == NULL || ferry_vq_err_names[j] == NULL ||
			      strcmp(ferry_vq_err_names[i], ferry_vq_err_names[j]) != 0);
	}
}

static void
region_init(struct ferry_gmem_region *r, uint64_t gpa, uint64_t size)
{
	r->gpa = gpa;
	r->size = size;
	r->va = malloc(size);   /* its own allocation: regions are never contiguous in VA */
	if (r->va == NULL)
		abort();
}

void
suite_virtq(void)
{
	region_init(&all[0], A_GPA, A_SIZE);
	region_init(&all[1], B_GPA, B_SIZE);
	region_init(&all[2], C_GPA, C_SIZE);
	region_init(&all[3], TOP_GPA, TOP_SIZE);
	region_init(&all[4], LOW_GPA, LOW_SIZE);
	gm.n = 3;
	gm.r[0] = all[0];
	gm.r[1] = all[1];
	gm.r[2] = all[2];
	gm_wrap.n = 3;
	gm_wrap.r[0] = all[0];
	gm_wrap.r[1] = all[3];
	gm_wrap.r[2] = all[4];

	RUN("virtq", gmem_lookup);
	RUN("virtq", ring_map);
	RUN("virtq", single_descriptor);
	RUN("virtq", multi_descriptor_chain);
	RUN("virtq", indirect_table);
	RUN("virtq", indirect_rejected);
	RUN("virtq", buffer_across_regions);
	RUN("virtq", addresses_out_of_range);
	RUN("virtq", head_and_next_bounds);
	RUN("virtq", loops);
	RUN("virtq", chain_of_ring_size);
	RUN("virtq", write_flag);
	RUN("virtq", too_many_segments);
	RUN("virtq", too_many_bytes);
	RUN("virtq", zero_length_descriptors);
	RUN("virtq", link_bound);
	RUN("virtq", chain_pull);
	RUN("virtq", chain_read);
	RUN("virtq", avail_count_clamped);
	RUN("virtq", avail_take_wraps);
	RUN("virtq", used_put_publish);
	RUN("virtq", need_call);
	RUN("virtq", error_names);

	for (unsigned i = 0; i < RTE_DIM(all); i++)
		free(all[i].va);
}
