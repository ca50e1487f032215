/* virtq.c — walking a guest's split-ring chains (transmit: readable buffers, receive: writable
 * ones) with every guest value distrusted (see ferry_virtq.h for the rules). */
#include <string.h>
#include "ferry_virtq.h"

const char *const ferry_vq_err_names[FERRY_VQ_ERR_MAX] = {
	[FERRY_VQ_OK] = "ok",
	[FERRY_VQ_EHEAD] = "bad_head",
	[FERRY_VQ_ENEXT] = "bad_next",
	[FERRY_VQ_ELOOP] = "loop",
	[FERRY_VQ_EADDR] = "bad_addr",
	[FERRY_VQ_EWRITE] = "write_flag",
	[FERRY_VQ_EINDIRECT] = "bad_indirect",
	[FERRY_VQ_ELONG] = "too_long",
	[FERRY_VQ_ESHORT] = "too_short",
	[FERRY_VQ_EDUP] = "duplicate",
	[FERRY_VQ_ELINKS] = "too_many_links",
	[FERRY_VQ_EREAD] = "read_flag",
};

int
ferry_vring_map(struct ferry_vring *vr, const struct ferry_gmem_map *m, uint64_t desc_gpa,
		uint64_t avail_gpa, uint64_t used_gpa, uint16_t size)
{
	uint64_t sz = size;

	memset(vr, 0, sizeof(*vr));
	if (size == 0 || (size & (size - 1)) != 0 || size > 32768)
		return -1;
	/* avail and used carry the event words after their rings */
	vr->desc = ferry_gmem_range(m, desc_gpa, sz * sizeof(struct vring_desc));
	vr->avail = ferry_gmem_range(m, avail_gpa, 4 + 2 * sz + 2);
	vr->used = ferry_gmem_range(m, used_gpa, 4 + 8 * sz + 2);
	if (vr->desc == NULL || vr->avail == NULL || vr->used == NULL)
		return -1;
	vr->size = size;
	vr->mask = (uint16_t)(size - 1);
	return 0;
}

/* One copy of a descriptor: the guest may rewrite it while we look. */
static inline struct vring_desc
desc_read(const struct vring_desc *d)
{
	const volatile struct vring_desc *v = d;
	struct vring_desc c;

	c.addr = v->addr;
	c.len = v->len;
	c.flags = v->flags;
	c.next = v->next;
	return c;
}

static enum ferry_vq_err
add_buffer(struct ferry_vchain *c, const struct ferry_gmem_map *m, uint64_t gpa, uint32_t len)
{
	if (len > c->max + 64 || c->len + len > c->max + 64)
		return FERRY_VQ_ELONG;
	if (len != 0 && gpa > UINT64_MAX - (len - 1))
		return FERRY_VQ_EADDR;   /* runs past 2^64: would go on at GPA 0 */
	while (len != 0) {   /* a buffer may span adjacent regions: one piece per region */
		uint64_t contig;
		uint8_t *va = ferry_gmem_va(m, gpa, &contig);
		if (va == NULL)
			return FERRY_VQ_EADDR;
		if (c->n == FERRY_VQ_MAX_SEGS)
			return FERRY_VQ_ELONG;
		uint32_t piece = contig < len ? (uint32_t)contig : len;
		c->seg[c->n].va = va;
		c->seg[c->n].gpa = gpa;
		c->seg[c->n].len = piece;
		c->n++;
		c->len += piece;
		gpa += piece;
		len -= piece;
	}
	return FERRY_VQ_OK;
}

/* Switch the walk to an indirect table (at most once per chain). */
static enum ferry_vq_err
enter_indirect(const struct ferry_gmem_map *m, const struct vring_desc *d,
	       const struct vring_desc **tab, uint32_t *tsize)
{
	if ((d->flags & VRING_DESC_F_NEXT) || d->len == 0 || d->len % sizeof(struct vring_desc) ||
	    d->len / sizeof(struct vring_desc) > 32768)
		return FERRY_VQ_EINDIRECT;
	*tab = ferry_gmem_range(m, d->addr, d->len);
	if (*tab == NULL)
		return FERRY_VQ_EINDIRECT;
	*tsize = d->len / sizeof(struct vring_desc);
	return FERRY_VQ_OK;
}

/* The walk itself; *links counts the descriptors read so far (set on every read, so an early
 * return still reports it). */
static inline enum ferry_vq_err
chain_walk(const struct ferry_vring *vr, const struct ferry_gmem_map *m, uint16_t head,
	   struct ferry_vchain *c, uint32_t *links, bool rx)
{
	const struct vring_desc *tab = vr->desc;
	uint32_t tsize = vr->size, budget = vr->size, idx = head, k = 0, empty = 0;
	bool indirect = false;
	enum ferry_vq_err rc;

	if (head >= vr->size)
		return FERRY_VQ_EHEAD;
	for (;;) {
		if (k == FERRY_VQ_MAX_LINKS)
			return FERRY_VQ_ELINKS;   /* checked before a read: at most the bound */
		*links = ++k;
		struct vring_desc d = desc_read(&tab[idx]);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return FERRY_VQ_EINDIRECT;
			if ((rc = enter_indirect(m, &d, &tab, &tsize)) != FERRY_VQ_OK)
				return rc;
			indirect = true;
			budget = tsize;
			idx = 0;
			continue;
		}
		if (!rx && (d.flags & VRING_DESC_F_WRITE))
			return FERRY_VQ_EWRITE;
		if (rx) {
			if (!(d.flags & VRING_DESC_F_WRITE))
				return FERRY_VQ_EREAD;
			uint32_t cap = c->max + 64;
			if (c->n == FERRY_VQ_MAX_SEGS || c->len >= cap)
				return FERRY_VQ_OK;   /* enough: the rest is capacity no frame needs */
			if (d.len > cap - c->len)
				d.len = cap - c->len;
		}
		if (d.len == 0) {
			if (++empty > FERRY_VQ_MAX_EMPTY)
				return FERRY_VQ_ELINKS;
		} else if ((rc = add_buffer(c, m, d.addr, d.len)) != FERRY_VQ_OK) {
			return rc;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return FERRY_VQ_OK;
		if (--budget == 0)
			return FERRY_VQ_ELOOP;
		idx = d.next;
		if (idx >= tsize)
			return FERRY_VQ_ENEXT;
	}
}

static enum ferry_vq_err
chain(const struct ferry_vring *vr, const struct ferry_gmem_map *m, uint16_t head,
      struct ferry_vchain *c, bool rx)
{
	uint32_t links = 0;
	enum ferry_vq_err rc;

	c->n = 0;
	c->len = 0;
	c->max = vr->max_frame != 0 ? vr->max_frame : FERRY_VQ_MAX_FRAME;
	rc = chain_walk(vr, m, head, c, &links, rx);
	if (rx && rc == FERRY_VQ_ELONG && c->n == FERRY_VQ_MAX_SEGS)
		rc = FERRY_VQ_OK;   /* a buffer spanning regions filled the last pieces: enough */
	c->links = links;
	return rc;
}

enum ferry_vq_err
ferry_vq_chain(const struct ferry_vring *vr, const struct ferry_gmem_map *m, uint16_t head,
	       struct ferry_vchain *c)
{
	return chain(vr, m, head, c, false);
}

enum ferry_vq_err
ferry_vq_rx_chain(const struct ferry_vring *vr, const struct ferry_gmem_map *m, uint16_t head,
		  struct ferry_vchain *c)
{
	return chain(vr, m, head, c, true);
}

enum ferry_vq_err
ferry_vq_chain_pull(struct ferry_vchain *c, uint32_t len)
{
	uint16_t i = 0;

	if (c->len < len)
		return FERRY_VQ_ESHORT;
	c->len -= len;
	while (len != 0) {
		if (c->seg[i].len <= len) {
			len -= c->seg[i].len;
			i++;
			continue;
		}
		c->seg[i].va += len;
		c->seg[i].len -= len;
		len = 0;
	}
	if (i != 0) {
		memmove(&c->seg[0], &c->seg[i], (c->n - i) * sizeof(c->seg[0]));
		c->n = (uint16_t)(c->n - i);
	}
	if (c->len > (c->max != 0 ? c->max : FERRY_VQ_MAX_FRAME))
		return FERRY_VQ_ELONG;
	return FERRY_VQ_OK;
}

/* Copy len bytes between buf and the chain from offset off on (into the chain if to_chain);
 * returns the bytes the chain held. */
static uint32_t
chain_copy(const struct ferry_vchain *c, uint32_t off, uint8_t *buf, uint32_t len, bool to_chain)
{
	uint32_t done = 0;

	for (uint16_t i = 0; i < c->n && len != 0; i++) {
		const struct ferry_vseg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint32_t k = s->len - off < len ? s->len - off : len;
		if (to_chain)
			memcpy(s->va + off, buf + done, k);
		else
			memcpy(buf + done, s->va + off, k);
		len -= k;
		done += k;
		off = 0;
	}
	return done;
}

uint32_t
ferry_vq_chain_write(const struct ferry_vchain *c, uint32_t off, const void *src, uint32_t len)
{
	return chain_copy(c, off, (uint8_t *)(uintptr_t)src, len, true);
}

void
ferry_vq_chain_read(const struct ferry_vchain *c, uint32_t off, uint32_t len, void *dst)
{
	chain_copy(c, off, dst, len, false);
}
