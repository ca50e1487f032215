/* fuzz_virtq.c — libFuzzer target for lib/virtq: the fuzz input is a malicious virtio driver.
 *
 * It chooses the ring size, the guest's memory regions (placement in GPA: anywhere, adjacent to
 * the previous one, with a gap, or at the very top of the 64-bit space) and every byte of guest
 * memory — so the descriptor table, the avail ring (entries and idx), indirect tables and the
 * event words are all the fuzzer's. Each region is its own exact-size allocation, so ASan reports
 * any access outside guest memory.
 *
 * For every avail entry the target runs ferry_vq_chain, ferry_vq_chain_pull(hdr_len: 10 or 12,
 * as negotiated) and ferry_vq_chain_read like the transmit path would, and aborts unless:
 *   - every segment lies inside one region, is non-empty, n <= FERRY_VQ_MAX_SEGS, the segment
 *     lengths sum to the chain length and that stays within the limits;
 *   - the walk read at most FERRY_VQ_MAX_LINKS descriptors (empty ones included) and exactly as
 *     many as the reference walk;
 *   - the result agrees with a reference walk written here with 128-bit address arithmetic
 *     (same error, in the same order of checks, and the same GPA pieces when OK);
 *   - the bytes read are the guest bytes the descriptors name, with the header pulled off (the
 *     header may be split over descriptors; ferry reads none of its fields: no offload is
 *     negotiated, so flags, gso_type and the rest are the fuzzer's and must change nothing).
 * Then the used ring is filled and published, and ferry_vring_need_call consulted. Then, if the
 * input asks, the ring is resized: mapped again on the same memory with another size (the same
 * addresses, or a layout for the new size), ferry's indexes carried over, and the avail entries
 * not yet taken are walked on the new ring — heads and slots beyond the new size included.
 *
 * Input: header[8] = ring size (1 << (h0 % 9)), h1 = regions (1 + h1 % 4) | 0x80 event idx,
 * h2..h3 = first avail index, h4..h5 = first used index, h6 = resize (low nibble < 9: new size
 * 1 << it; 0x10: header of 10 bytes, else 12; 0x20: the new ring laid out for its size, else at
 * the old addresses), h7 = entries taken before the resize; then per region 8 bytes = mode, fill
 * byte, size - 1 (le16), position (le32); then guest memory, region after region (the rest of a
 * region holds its fill byte). The ring sits at the start of region 0: desc table, then avail,
 * then used (4-aligned). Build and run: tests/fuzz/run.sh. Seeds: FUZZ_VIRTQ_SEEDS=dir fuzz_virtq
 * writes a few hand-made inputs to dir and exits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_virtq.h"

#define HDR_LEN   8
#define SPEC_LEN  8
#define MAX_REGS  4
#define LIMIT     (FERRY_VQ_MAX_FRAME + 64)

enum { M_ABS, M_ADJ, M_TOP, M_GAP };

typedef unsigned __int128 u128;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ferry_gmem_map gm;

static void
fail(const char *why, uint16_t head)
{
	fprintf(stderr, "fuzz_virtq: head %u: %s\n", head, why);
	abort();
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ring layout at the start of region 0 */
static uint64_t
avail_off(uint32_t qsz)
{
	return 16ull * qsz;
}

static uint64_t
used_off(uint32_t qsz)
{
	return (avail_off(qsz) + 4 + 2ull * qsz + 2 + 3) & ~3ull;
}

static uint64_t
ring_bytes(uint32_t qsz)
{
	return used_off(qsz) + 4 + 8ull * qsz + 2;
}

/* ---- reference model: 128-bit arithmetic, regions never overlap ---- */

static const struct ferry_gmem_region *
ref_region(u128 gpa)
{
	for (uint32_t i = 0; i < gm.n; i++)
		if (gpa >= gm.r[i].gpa && gpa < (u128)gm.r[i].gpa + gm.r[i].size)
			return &gm.r[i];
	return NULL;
}

/* [gpa, gpa + len) inside one region */
static uint8_t *
ref_one(uint64_t gpa, uint64_t len)
{
	const struct ferry_gmem_region *r = ref_region(gpa);

	if (r == NULL || (u128)gpa + len > (u128)r->gpa + r->size)
		return NULL;
	return r->va + (gpa - r->gpa);
}

struct piece {
	uint64_t gpa;
	uint32_t len;
	uint8_t *va;
};

struct ref_chain {
	uint32_t n, len, reads;   /* reads: descriptors read */
	struct piece p[FERRY_VQ_MAX_SEGS];
};

static enum ferry_vq_err
ref_add(struct ref_chain *rc, uint64_t gpa, uint32_t len)
{
	u128 cur = gpa, end = (u128)gpa + len;

	if ((uint64_t)rc->len + len > LIMIT)
		return FERRY_VQ_ELONG;
	if (end > (u128)1 << 64)
		return FERRY_VQ_EADDR;   /* no guest range runs past 2^64 */
	while (cur < end) {
		const struct ferry_gmem_region *r = ref_region(cur);   /* NULL at or past 2^64 too */
		if (r == NULL)
			return FERRY_VQ_EADDR;
		if (rc->n == FERRY_VQ_MAX_SEGS)
			return FERRY_VQ_ELONG;
		u128 rend = (u128)r->gpa + r->size;
		uint32_t k = (uint32_t)((rend < end ? rend : end) - cur);
		rc->p[rc->n].gpa = (uint64_t)cur;
		rc->p[rc->n].len = k;
		rc->p[rc->n].va = r->va + ((uint64_t)cur - r->gpa);
		rc->n++;
		rc->len += k;
		cur += k;
	}
	return FERRY_VQ_OK;
}

static enum ferry_vq_err
ref_chain(uint64_t desc_gpa, uint32_t qsz, uint16_t head, struct ref_chain *rc)
{
	uint64_t tab = desc_gpa;
	uint32_t tsize = qsz, idx = head, links = 0, empty = 0;
	bool indirect = false;
	enum ferry_vq_err e;

	rc->n = rc->len = rc->reads = 0;
	if (head >= qsz)
		return FERRY_VQ_EHEAD;
	for (;;) {
		struct vring_desc d;
		if (rc->reads == FERRY_VQ_MAX_LINKS)   /* no descriptor read past the bound */
			return FERRY_VQ_ELINKS;
		rc->reads++;
		const uint8_t *p = ref_one(tab + 16ull * idx, 16);
		if (p == NULL)
			fail("reference: table entry not mapped", head);
		memcpy(&d, p, sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (d.flags & VRING_DESC_F_NEXT) || d.len == 0 || d.len % 16 != 0 ||
			    d.len / 16 > 32768 || ref_one(d.addr, d.len) == NULL)
				return FERRY_VQ_EINDIRECT;
			indirect = true;
			tab = d.addr;
			tsize = d.len / 16;
			idx = 0;
			links = 0;
			continue;
		}
		if (d.flags & VRING_DESC_F_WRITE)
			return FERRY_VQ_EWRITE;
		if (d.len == 0 && ++empty > FERRY_VQ_MAX_EMPTY)
			return FERRY_VQ_ELINKS;
		if (d.len != 0 && (e = ref_add(rc, d.addr, d.len)) != FERRY_VQ_OK)
			return e;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return FERRY_VQ_OK;
		if (++links >= tsize)     /* a table of tsize entries has at most tsize - 1 links */
			return FERRY_VQ_ELOOP;
		idx = d.next;
		if (idx >= tsize)
			return FERRY_VQ_ENEXT;
	}
}

/* ---- checks on what lib/virtq returned ---- */

static void
check_segments(const struct ferry_vchain *c, uint32_t limit, uint16_t head)
{
	uint64_t sum = 0;

	if (c->n > FERRY_VQ_MAX_SEGS)
		fail("more segments than FERRY_VQ_MAX_SEGS", head);
	for (uint16_t i = 0; i < c->n; i++) {
		const struct ferry_vseg *s = &c->seg[i];
		bool inside = false;
		if (s->len == 0)
			fail("empty segment", head);
		for (uint32_t r = 0; r < gm.n && !inside; r++)
			inside = s->va >= gm.r[r].va && s->va < gm.r[r].va + gm.r[r].size &&
				 s->len <= (uint64_t)(gm.r[r].va + gm.r[r].size - s->va);
		if (!inside)
			fail("segment not inside one region", head);
		sum += s->len;
	}
	if (sum != c->len)
		fail("segment lengths do not add up to the chain length", head);
	if (c->len > limit)
		fail("chain longer than the limit", head);
}

static void
check_bytes(const struct ferry_vchain *c, const uint8_t *want, uint32_t len, uint16_t head)
{
	uint8_t *buf = malloc(len ? len : 1);   /* exact size: ASan sees any overrun */
	uint32_t off = len / 3, k = len - off - len / 5;

	if (buf == NULL)
		abort();
	ferry_vq_chain_read(c, 0, len, buf);
	if (memcmp(buf, want, len) != 0)
		fail("ferry_vq_chain_read: wrong bytes", head);
	ferry_vq_chain_read(c, off, k, buf);
	if (memcmp(buf, want + off, k) != 0)
		fail("ferry_vq_chain_read at an offset: wrong bytes", head);
	free(buf);
}

static void
one_chain(const struct ferry_vring *vr, uint64_t desc_gpa, uint16_t head, uint32_t hdr,
	  uint32_t *used_len)
{
	struct ferry_vchain c;
	struct ref_chain rc;
	enum ferry_vq_err e = ferry_vq_chain(vr, &gm, head, &c);
	enum ferry_vq_err want = ref_chain(desc_gpa, vr->size, head, &rc);

	*used_len = 0;
	if ((unsigned)e >= FERRY_VQ_ERR_MAX || e == FERRY_VQ_ESHORT || e == FERRY_VQ_EDUP)
		fail("ferry_vq_chain: unexpected error code", head);
	if (e != want) {
		fprintf(stderr, "fuzz_virtq: ferry_vq_chain says %s, reference says %s\n",
			ferry_vq_err_names[e], ferry_vq_err_names[want]);
		fail("ferry_vq_chain disagrees with the reference walk", head);
	}
	if (c.links > FERRY_VQ_MAX_LINKS || c.links != rc.reads)
		fail("ferry_vq_chain: descriptors read beyond the bound or unlike the reference", head);
	if (e != FERRY_VQ_OK)
		return;
	check_segments(&c, LIMIT, head);
	if (c.n != rc.n || c.len != rc.len)
		fail("segments differ from the reference walk", head);
	for (uint32_t i = 0; i < rc.n; i++)
		if (c.seg[i].va != rc.p[i].va || c.seg[i].len != rc.p[i].len)
			fail("segment differs from the reference walk", head);

	/* the guest bytes, gathered from the reference pieces */
	uint8_t *want_bytes = malloc(rc.len ? rc.len : 1);
	uint32_t k = 0;
	if (want_bytes == NULL)
		abort();
	for (uint32_t i = 0; i < rc.n; i++) {
		memcpy(want_bytes + k, rc.p[i].va, rc.p[i].len);
		k += rc.p[i].len;
	}
	check_bytes(&c, want_bytes, c.len, head);

	uint32_t before = c.len;
	e = ferry_vq_chain_pull(&c, hdr);
	if (before < hdr) {
		if (e != FERRY_VQ_ESHORT)
			fail("ferry_vq_chain_pull: short chain not refused", head);
	} else if (before - hdr > FERRY_VQ_MAX_FRAME) {
		if (e != FERRY_VQ_ELONG)
			fail("ferry_vq_chain_pull: long frame not refused", head);
	} else {
		if (e != FERRY_VQ_OK || c.len != before - hdr)
			fail("ferry_vq_chain_pull: wrong result", head);
		check_segments(&c, FERRY_VQ_MAX_FRAME, head);
		check_bytes(&c, want_bytes + hdr, c.len, head);
		*used_len = before;
	}
	free(want_bytes);
}

/* Take up to `take` avail entries of vr (its table at desc_gpa), walk each, give it back. */
static void
run_ring(struct ferry_vring *vr, uint64_t desc_gpa, uint32_t hdr, uint16_t take)
{
	uint16_t n = ferry_vring_avail_count(vr), old_used = vr->last_used;
	uint16_t claimed = (uint16_t)(vr->avail->idx - vr->last_avail);

	if (n > vr->size || n != (claimed > vr->size ? vr->size : claimed))
		fail("ferry_vring_avail_count: wrong count", 0);
	if (n > take)
		n = take;
	for (uint16_t i = 0; i < n; i++) {
		uint16_t prev = vr->last_avail, want = vr->avail->ring[prev & vr->mask], head;
		uint32_t len;

		head = ferry_vring_avail_take(vr);
		if (head != want || vr->last_avail != (uint16_t)(prev + 1))
			fail("ferry_vring_avail_take: wrong entry", head);
		one_chain(vr, desc_gpa, head, hdr, &len);
		uint16_t uslot = vr->last_used & vr->mask;
		ferry_vring_used_put(vr, head, len);
		if (vr->used->ring[uslot].id != head || vr->used->ring[uslot].len != len)
			fail("ferry_vring_used_put: wrong slot", head);
	}
	ferry_vring_used_publish(vr);
	if (vr->used->idx != vr->last_used || vr->last_used != (uint16_t)(old_used + n))
		fail("ferry_vring_used_publish: wrong idx", 0);
	(void)ferry_vring_need_call(vr, old_used);
}

/* The ring resized to qsz: mapped again at (desc, avail, used), ferry's indexes carried over
 * (what a queue re-read after SET_VRING_NUM sees); the rest of the avail entries walked. */
static void
resize_ring(struct ferry_vring *vr, uint32_t qsz, uint64_t desc, uint64_t avail, uint64_t used,
	    uint32_t hdr)
{
	struct ferry_vring nv;
	bool fits = ref_one(desc, 16ull * qsz) != NULL && ref_one(avail, 4 + 2ull * qsz + 2) != NULL &&
		    ref_one(used, 4 + 8ull * qsz + 2) != NULL;
	int rc = ferry_vring_map(&nv, &gm, desc, avail, used, (uint16_t)qsz);

	if ((rc == 0) != fits)
		fail("ferry_vring_map after a resize: wrong verdict", 0);
	if (rc != 0) {
		if (nv.size != 0 || ferry_vq_chain(&nv, &gm, 0, &(struct ferry_vchain){ 0 }) !=
		    FERRY_VQ_EHEAD)
			fail("a refused map left a usable ring", 0);
		return;
	}
	if (nv.size != qsz || nv.mask != qsz - 1 || nv.desc != (void *)ref_one(desc, 16))
		fail("ferry_vring_map after a resize: wrong mapping", 0);
	nv.last_avail = vr->last_avail;
	nv.last_used = vr->last_used;
	nv.event_idx = vr->event_idx;
	run_ring(&nv, desc, hdr, UINT16_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *mem[MAX_REGS] = { NULL };
	struct ferry_vring vr;
	uint32_t qsz, qsz2 = 0, nspec, hdr;
	const uint8_t *p;
	size_t left;

	if (size < HDR_LEN)
		return 0;
	qsz = 1u << (data[0] % 9);
	nspec = 1 + (data[1] & 3);
	if ((data[6] & 0x0f) < 9)
		qsz2 = 1u << (data[6] & 0x0f);
	hdr = (data[6] & 0x10) ? 10 : 12;
	if (size < HDR_LEN + SPEC_LEN * nspec)
		return 0;
	p = data + HDR_LEN + SPEC_LEN * nspec;
	left = size - HDR_LEN - SPEC_LEN * nspec;

	/* regions: non-overlapping, none wrapping past 2^64 (one may end exactly there) */
	memset(&gm, 0, sizeof(gm));
	for (uint32_t i = 0; i < nspec; i++) {
		const uint8_t *s = data + HDR_LEN + SPEC_LEN * i;
		uint64_t sz = (uint64_t)le16(s + 2) + 1, pos = le32(s + 4), gpa;
		u128 prev_end = gm.n ? (u128)gm.r[gm.n - 1].gpa + gm.r[gm.n - 1].size : 0;

		if (i == 0 && sz < ring_bytes(qsz))
			sz = ring_bytes(qsz);
		if (i == 0 && (data[6] & 0x20) && qsz2 != 0 && sz < ring_bytes(qsz2))
			sz = ring_bytes(qsz2);   /* room for the resized ring's own layout */
		switch (s[0] & 3) {
		case M_ABS: gpa = pos << 12; break;
		case M_ADJ: gpa = (uint64_t)prev_end; break;
		case M_TOP: gpa = 0 - sz - ((pos & 0xffff) << 12); break;
		default:    gpa = (uint64_t)prev_end + 1 + (pos & 0xfff); break;
		}
		/* (after a region ending at 2^64, "adjacent" is GPA 0: the wrap-around layout) */
		bool ok = (u128)gpa + sz <= (u128)1 << 64;
		for (uint32_t j = 0; j < gm.n && ok; j++)
			ok = (u128)gpa + sz <= gm.r[j].gpa || (u128)gm.r[j].gpa + gm.r[j].size <= gpa;
		if (!ok && i == 0)
			return 0;   /* (cannot happen: region 0 is placed first and below 2^64) */
		if (!ok)
			continue;
		uint8_t *va = malloc(sz);
		if (va == NULL)
			abort();
		memset(va, s[1], sz);
		size_t k = left < sz ? left : sz;
		memcpy(va, p, k);
		p += k;
		left -= k;
		mem[gm.n] = va;
		gm.r[gm.n].gpa = gpa;
		gm.r[gm.n].size = sz;
		gm.r[gm.n].va = va;
		gm.n++;
	}

	if (gm.n == 0)
		return 0;
	uint64_t base = gm.r[0].gpa;
	if (ferry_vring_map(&vr, &gm, base, base + avail_off(qsz), base + used_off(qsz),
			    (uint16_t)qsz) != 0)
		fail("ferry_vring_map refused a ring inside region 0", 0);
	if (vr.desc != (void *)gm.r[0].va || vr.size != qsz)
		fail("ferry_vring_map: wrong mapping", 0);
	vr.last_avail = le16(data + 2);
	vr.last_used = le16(data + 4);
	vr.event_idx = data[1] & 0x80;

	run_ring(&vr, base, hdr, qsz2 != 0 ? data[7] : UINT16_MAX);
	if (qsz2 != 0 && (data[6] & 0x20))
		resize_ring(&vr, qsz2, base, base + avail_off(qsz2), base + used_off(qsz2), hdr);
	else if (qsz2 != 0)
		resize_ring(&vr, qsz2, base, base + avail_off(qsz), base + used_off(qsz), hdr);

	for (uint32_t i = 0; i < gm.n; i++)
		free(mem[i]);
	return 0;
}

/* ---- seeds ---- */

struct seed {
	uint8_t b[4096];
	size_t len;
	uint64_t mem0;         /* offset of region 0 in b */
	uint64_t gpa0;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* header for a ring of 8 and regions given as (mode, size, pos) */
static void
seed_init(struct seed *s, uint8_t flags, int nreg, const uint32_t spec[][3], uint64_t gpa0)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = 3;                              /* ring of 8 */
	s->b[1] = (uint8_t)((nreg - 1) | flags);
	s->b[6] = 0x0f;                           /* no resize, header of 12 */
	for (int i = 0; i < nreg; i++) {
		uint8_t *q = s->b + HDR_LEN + SPEC_LEN * i;
		q[0] = (uint8_t)spec[i][0];
		put16(q + 2, (uint16_t)(spec[i][1] - 1));
		put32(q + 4, spec[i][2]);
	}
	s->mem0 = HDR_LEN + SPEC_LEN * (uint64_t)nreg;
	s->gpa0 = gpa0;
	s->len = s->mem0 + ring_bytes(8);
}

static void
seed_desc(struct seed *s, uint64_t table_off, uint16_t i, uint64_t addr, uint32_t len,
	  uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	uint64_t at = s->mem0 + table_off + 16ull * i;

	memcpy(s->b + at, &d, sizeof(d));
	if (at + 16 > s->len)
		s->len = at + 16;
}

static void
seed_avail(struct seed *s, int n, const uint16_t *heads)
{
	uint8_t *a = s->b + s->mem0 + avail_off(8);

	put16(a + 2, (uint16_t)n);
	for (int i = 0; i < n; i++)
		put16(a + 4 + 2 * i, heads[i]);
}

static void
seed_write(const struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
write_seeds(const char *dir)
{
	/* region 0: 4 KiB at 0x10000 (ring, tables at 0x400 and 0x800, buffers at 0x600); region 1
	 * adjacent [0x11000, 0x11800); region 2 after a gap [0x11901, 0x11b01) */
	const uint32_t three[][3] = { { M_ABS, 4096, 0x10 }, { M_ADJ, 2048, 0 }, { M_GAP, 512, 0x100 } };
	const uint64_t g = 0x10000, tab = 0x400, tab2 = 0x800, buf = 0x600;
	const uint16_t h1[] = { 0 }, h2[] = { 0, 1 }, h3[] = { 0, 2, 5 };
	const uint16_t h8[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, h042[] = { 0, 4, 2 };
	struct seed s;

	/* one descriptor */
	seed_init(&s, 0, 3, three, g);
	seed_desc(&s, 0, 0, g + buf, 64, 0, 0);
	seed_avail(&s, 1, h1);
	seed_write(&s, dir, "single");

	/* chains: header + data, a buffer across region 0|1, a zero-length piece */
	seed_init(&s, 0x80, 3, three, g);
	seed_desc(&s, 0, 0, g + buf, 12, VRING_DESC_F_NEXT, 1);
	seed_desc(&s, 0, 1, g + buf + 12, 100, VRING_DESC_F_NEXT, 4);
	seed_desc(&s, 0, 4, g + 4096 - 50, 150, 0, 0);
	seed_desc(&s, 0, 2, g + buf, 0, VRING_DESC_F_NEXT, 3);
	seed_desc(&s, 0, 3, g + buf + 200, 30, 0, 0);
	seed_desc(&s, 0, 5, g + 0x1a00, 40, 0, 0);   /* in region 2, past the gap */
	seed_avail(&s, 3, h3);
	seed_write(&s, dir, "chains");

	/* an indirect table of 3 and one of 66 one-byte buffers */
	seed_init(&s, 0, 3, three, g);
	seed_desc(&s, 0, 0, g + tab, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	seed_desc(&s, tab, 0, g + buf, 12, VRING_DESC_F_NEXT, 2);
	seed_desc(&s, tab, 2, g + buf + 12, 60, VRING_DESC_F_NEXT, 1);
	seed_desc(&s, tab, 1, g + 4096 - 8, 16, 0, 0);
	seed_desc(&s, 0, 1, g + tab2, 66 * 16, VRING_DESC_F_INDIRECT, 0);
	for (uint16_t i = 0; i < 66; i++)
		seed_desc(&s, tab2, i, g + buf + i, 1, i < 65 ? VRING_DESC_F_NEXT : 0,
			  (uint16_t)(i + 1));
	seed_avail(&s, 2, h2);
	seed_write(&s, dir, "indirect");

	/* every kind of bad descriptor, one per head */
	seed_init(&s, 0, 3, three, g);
	seed_desc(&s, 0, 0, g + buf, 10, VRING_DESC_F_NEXT, 1);          /* loop 0 -> 1 -> 0 */
	seed_desc(&s, 0, 1, g + buf, 10, VRING_DESC_F_NEXT, 0);
	seed_desc(&s, 0, 2, g + buf, 10, VRING_DESC_F_NEXT, 9);          /* next past the ring */
	seed_desc(&s, 0, 3, g + buf, 10, VRING_DESC_F_WRITE, 0);
	seed_desc(&s, 0, 4, g + 0x4000, 10, 0, 0);                       /* in the gap */
	seed_desc(&s, 0, 5, g + tab, 40, VRING_DESC_F_INDIRECT, 0);      /* bad table length */
	seed_desc(&s, 0, 6, g + buf, LIMIT + 1, 0, 0);
	seed_desc(&s, 0, 7, g + tab, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 0);
	seed_avail(&s, 8, h8);
	seed_write(&s, dir, "bad");

	/* a header of 10 split 4 + 6, one of 10 split inside the Ethernet header's first bytes
	 * (3 + 9), and empty descriptors around the split (the bound: 8 per chain; head 2 has 9) */
	seed_init(&s, 0, 3, three, g);
	s.b[6] = 0x1f;
	seed_desc(&s, 0, 0, g + buf, 4, VRING_DESC_F_NEXT, 1);
	seed_desc(&s, 0, 1, g + buf + 4, 6, VRING_DESC_F_NEXT, 3);
	seed_desc(&s, 0, 3, g + buf + 10, 60, 0, 0);
	seed_desc(&s, 0, 4, g + buf, 3, VRING_DESC_F_NEXT, 5);
	seed_desc(&s, 0, 5, g + buf + 3, 9, VRING_DESC_F_NEXT, 6);
	seed_desc(&s, 0, 6, g + buf + 12, 0, VRING_DESC_F_NEXT, 7);
	seed_desc(&s, 0, 7, g + buf + 12, 50, 0, 0);
	seed_desc(&s, 0, 2, g + tab, 10 * 16, VRING_DESC_F_INDIRECT, 0);
	for (uint16_t i = 0; i < 10; i++)
		seed_desc(&s, tab, i, g + buf, i < 9 ? 0 : 80, i < 9 ? VRING_DESC_F_NEXT : 0,
			  (uint16_t)(i + 1));
	seed_avail(&s, 3, h042);
	seed_write(&s, dir, "header10");

	/* resizes: 8 -> 2 at the same addresses after one entry (heads 5 and 6 and slots 1..3 now
	 * beyond the ring), and 8 -> 64 laid out for 64 after two */
	const uint16_t h4[] = { 0, 5, 6, 1 };
	seed_init(&s, 0, 3, three, g);
	s.b[6] = 1;
	s.b[7] = 1;
	for (uint16_t i = 0; i < 8; i++)
		seed_desc(&s, 0, i, g + buf + 16 * i, 40, 0, 0);
	seed_avail(&s, 4, h4);
	seed_write(&s, dir, "resize_shrink");
	s.b[6] = 0x26;
	s.b[7] = 2;
	s.len = s.mem0 + ring_bytes(64);
	seed_write(&s, dir, "resize_grow");

	/* region 0 at GPA 0 and region 1 at the top of the space: a buffer may end at 2^64, one
	 * running past it must not continue at GPA 0 */
	const uint32_t wrap[][3] = { { M_ABS, 2048, 0 }, { M_TOP, 2048, 0 } };
	const uint16_t htop[] = { 0, 1, 3 };
	seed_init(&s, 0, 2, wrap, 0);
	seed_desc(&s, 0, 0, 0 - 64ull, 64, 0, 0);
	seed_desc(&s, 0, 1, 0 - 64ull, 64, VRING_DESC_F_NEXT, 2);
	seed_desc(&s, 0, 2, 0x700, 64, 0, 0);
	seed_desc(&s, 0, 3, 0 - 32ull, 64, 0, 0);
	seed_avail(&s, 3, htop);
	seed_write(&s, dir, "top");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VIRTQ_SEEDS");

	(void)argc;
	(void)argv;
	if (dir != NULL) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
