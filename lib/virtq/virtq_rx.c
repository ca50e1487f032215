/* virtq_rx.c — placing a frame into a guest's split receive ring (ferry's own enqueue): the
 * virtio-net header, then the frame's bytes, over one receive chain or, with mergeable buffers
 * (VIRTIO_NET_F_MRG_RXBUF), over as many chains as it needs, num_buffers telling the guest how
 * many. Two phases: reserve enough chains (nothing written yet), then copy and write their used
 * entries one after the other (a driver takes a merged frame's buffers as the next num_buffers
 * used entries, so they must be consecutive). A ring that runs dry during the reservation gives
 * every entry back untaken, so a driver that is only slow to post loses nothing; a malformed
 * chain ends the frame and every chain taken for it goes back to the guest with length 0 (only a
 * broken or hostile driver ever sees that). Guest values are read once (lib/virtq's walk). */
#include <string.h>
#include "ferry_virtq.h"

/* A read position over pieces of bytes. */
struct cursor {
	const struct ferry_vseg *s;
	uint16_t n, i;
	uint32_t off;
};

/* Copy up to room bytes from c to dst; returns how many. */
static uint32_t
cursor_copy(struct cursor *c, uint8_t *dst, uint32_t room)
{
	uint32_t done = 0;

	while (room != 0 && c->i < c->n) {
		const struct ferry_vseg *s = &c->s[c->i];
		uint32_t k = s->len - c->off < room ? s->len - c->off : room;
		memcpy(dst + done, s->va + c->off, k);
		done += k;
		room -= k;
		c->off += k;
		if (c->off == s->len) {
			c->i++;
			c->off = 0;
		}
	}
	return done;
}

/* Give back the avail entries taken since start: the guest sees nothing. */
static enum ferry_vq_rx_rc
untake(struct ferry_vring *vr, uint16_t start, enum ferry_vq_rx_rc rc)
{
	vr->last_avail = start;
	return rc;
}

/* The chains taken so far and head (a bad one) go back to the guest unused. */
static enum ferry_vq_rx_rc
give_back_bad(struct ferry_vring *vr, struct ferry_vq_rxplan *pl, uint16_t head,
	      enum ferry_vq_err e, enum ferry_vq_err *err)
{
	for (uint16_t k = 0; k < pl->n; k++)
		ferry_vring_used_put(vr, pl->head[k], 0);
	ferry_vring_used_put(vr, head, 0);
	pl->n = 0;
	*err = e;
	return FERRY_VQ_RX_BAD;
}

/* Phase 1: chains for need bytes into pl, or the reason why not. */
static enum ferry_vq_rx_rc
reserve(struct ferry_vring *vr, const struct ferry_gmem_map *m, bool mrg, uint32_t hdr_len,
	uint32_t need, struct ferry_vq_rxplan *pl, enum ferry_vq_err *err)
{
	uint16_t start = vr->last_avail, posted = ferry_vring_avail_count(vr);
	struct ferry_vchain *c = &pl->scratch;
	uint32_t cap = 0;

	pl->n = 0;
	pl->np = 0;
	while (cap < need) {
		if ((!mrg && pl->n == 1) || pl->n == FERRY_VQ_RX_MAX_BUFS)
			return untake(vr, start, FERRY_VQ_RX_TOO_BIG);
		if ((uint16_t)(vr->last_avail - start) == posted)
			return untake(vr, start, FERRY_VQ_RX_NOROOM);
		uint16_t head = ferry_vring_avail_take(vr);
		enum ferry_vq_err e = ferry_vq_rx_chain(vr, m, head, c);
		if (e == FERRY_VQ_OK && (c->len == 0 || (pl->n == 0 && c->len < hdr_len)))
			e = FERRY_VQ_ESHORT;   /* no room, or not even for the header */
		if (e != FERRY_VQ_OK)
			return give_back_bad(vr, pl, head, e, err);
		if (pl->np + c->n > FERRY_VQ_RX_MAX_PIECES)
			return untake(vr, start, FERRY_VQ_RX_TOO_BIG);
		memcpy(&pl->piece[pl->np], c->seg, c->n * sizeof(c->seg[0]));
		pl->np = (uint16_t)(pl->np + c->n);
		pl->head[pl->n] = head;
		pl->end[pl->n] = pl->np;
		pl->n++;
		cap += c->len;
	}
	return FERRY_VQ_RX_OK;
}

/* Phase 2: header and bytes into the reserved chains, then their used entries in order (after
 * every byte: a guest that placed a buffer over its own used ring cannot garble them). */
static void
fill(struct ferry_vring *vr, struct ferry_vq_rxplan *pl, struct cursor *hdr, struct cursor *data)
{
	uint32_t written[FERRY_VQ_RX_MAX_BUFS];
	uint16_t p = 0;

	for (uint16_t k = 0; k < pl->n; k++) {
		written[k] = 0;
		for (; p < pl->end[k]; p++) {
			const struct ferry_vseg *d = &pl->piece[p];
			uint32_t w = cursor_copy(hdr, d->va, d->len);
			w += cursor_copy(data, d->va + w, d->len - w);
			if (w != 0 && pl->log != NULL)
				pl->log(pl->log_ctx, d->gpa, w);
			written[k] += w;
		}
	}
	for (uint16_t k = 0; k < pl->n; k++)
		ferry_vring_used_put(vr, pl->head[k], written[k]);
}

enum ferry_vq_rx_rc
ferry_vq_rx_frame(struct ferry_vring *vr, const struct ferry_gmem_map *m, bool mrg,
		  const struct ferry_vq_rxframe *f, struct ferry_vq_rxplan *pl,
		  enum ferry_vq_err *err)
{
	uint8_t hdr[FERRY_VQ_RX_HDR_MAX];
	enum ferry_vq_rx_rc rc;

	*err = FERRY_VQ_OK;
	if (f->hdr_len > sizeof(hdr) || f->len > FERRY_VQ_MAX_GSO_FRAME)
		return FERRY_VQ_RX_TOO_BIG;
	rc = reserve(vr, m, mrg, f->hdr_len, f->hdr_len + f->len, pl, err);
	if (rc != FERRY_VQ_RX_OK)
		return rc;
	memcpy(hdr, f->hdr, f->hdr_len);
	if (f->hdr_len >= 12) {   /* num_buffers, little-endian (1 without mergeable buffers) */
		hdr[10] = (uint8_t)pl->n;
		hdr[11] = (uint8_t)(pl->n >> 8);
	}
	struct ferry_vseg hs = { .va = hdr, .len = f->hdr_len };
	struct cursor hc = { .s = &hs, .n = 1 }, dc = { .s = f->src, .n = f->n_src };
	fill(vr, pl, &hc, &dc);
	return FERRY_VQ_RX_OK;
}
