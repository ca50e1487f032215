/* ferry_virtq.h — a guest's split virtqueue read by ferry itself (no rte_vhost), for the zero-copy
 * transmit path. Everything here treats guest memory as hostile:
 *   - guest addresses are translated only through a ferry_gmem_map (ferry's own mapping of the
 *     guest's memory regions); an address outside every region is an error, never a read;
 *   - every guest-writable word (avail idx, ring entries, descriptors) is read exactly once into a
 *     local before it is checked and used — no double fetch;
 *   - chain walks are bounded by the table size (loops), nested indirect tables, device-writable
 *     buffers, a segment limit and a length limit are all errors;
 *   - every descriptor read counts against FERRY_VQ_MAX_LINKS, empty ones (also limited on their
 *     own, FERRY_VQ_MAX_EMPTY) and the one naming an indirect table included: a chain costs at
 *     most that many descriptor reads whatever the ring size, a burst of FERRY_BURST chains at
 *     most FERRY_BURST x FERRY_VQ_MAX_LINKS.
 * The used ring is only ever written (ferry keeps its own indexes), so a guest scribbling on it
 * hurts only itself. Pure C over <linux/virtio_ring.h>: unit-tested and fuzzed without a vhost
 * device (tests/unit/test_virtq.c, tests/fuzz/fuzz_virtq.c). */
#ifndef FERRY_VIRTQ_H
#define FERRY_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#define FERRY_GMEM_MAX_REGIONS 8       /* VHOST_MEMORY_MAX_NREGIONS */
#define FERRY_VQ_MAX_SEGS      64      /* buffer pieces per frame (Linux sends at most ~19) */
#define FERRY_VQ_MAX_FRAME     16384   /* bytes after the virtio-net header */
/* ... for a guest that negotiated TCP segmentation (HOST_TSO4/6): a 64 KB IP packet, Ethernet
 * and two tags (ferry_vring.max_frame) */
#define FERRY_VQ_MAX_GSO_FRAME (65535 + 14 + 8)
/* The cost of a chain, in descriptors read. Empty descriptors carry no piece, so FERRY_VQ_MAX_SEGS
 * never bounded them: a valid frame behind 65 535 of them (a ring of 32768 plus an indirect
 * table) took ~170 us. Now a chain may hold FERRY_VQ_MAX_EMPTY of them (drivers post none; ferry's
 * own hostile-guest tests post up to 3), and the walk reads at most FERRY_VQ_MAX_LINKS
 * descriptors: 64 pieces, the one naming an indirect table, 8 empty ones. A chain of empty
 * descriptors is refused at its 9th: it costs about what a normal 2-descriptor frame costs; any
 * chain costs at most 73 reads, 1.1x the largest frame a driver may post anyway (64 pieces), and
 * so does a burst of FERRY_BURST chains. tests/unit/test_virtq.c (link_bound) measures it. */
#define FERRY_VQ_MAX_EMPTY     8
#define FERRY_VQ_MAX_LINKS     (FERRY_VQ_MAX_SEGS + 1 + FERRY_VQ_MAX_EMPTY)

enum ferry_vq_err {
	FERRY_VQ_OK = 0,
	FERRY_VQ_EHEAD,       /* head index beyond the ring */
	FERRY_VQ_ENEXT,       /* next index beyond the table */
	FERRY_VQ_ELOOP,       /* more links than descriptors: a loop */
	FERRY_VQ_EADDR,       /* buffer not inside guest memory */
	FERRY_VQ_EWRITE,      /* device-writable buffer in a transmit chain */
	FERRY_VQ_EINDIRECT,   /* nested, misaligned, empty or unmapped indirect table */
	FERRY_VQ_ELONG,       /* too many pieces or too many bytes */
	FERRY_VQ_ESHORT,      /* shorter than the virtio-net header */
	FERRY_VQ_EDUP,        /* head already in flight (posted twice) */
	FERRY_VQ_ELINKS,      /* more than FERRY_VQ_MAX_EMPTY empty or FERRY_VQ_MAX_LINKS descriptors */
	FERRY_VQ_EREAD,       /* device-readable buffer in a receive chain */
	FERRY_VQ_ERR_MAX
};
extern const char *const ferry_vq_err_names[FERRY_VQ_ERR_MAX];

/* Guest physical → ferry virtual. */
struct ferry_gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *va;
};

struct ferry_gmem_map {
	uint32_t n;
	struct ferry_gmem_region r[FERRY_GMEM_MAX_REGIONS];
};

/* The VA of gpa and how many bytes from there lie in the same region; NULL if unmapped. */
static inline uint8_t *
ferry_gmem_va(const struct ferry_gmem_map *m, uint64_t gpa, uint64_t *contig)
{
	for (uint32_t i = 0; i < m->n; i++) {
		const struct ferry_gmem_region *r = &m->r[i];
		uint64_t off = gpa - r->gpa;   /* wraps (huge) when gpa < r->gpa */
		if (off < r->size) {
			*contig = r->size - off;
			return r->va + off;
		}
	}
	return NULL;
}

/* [gpa, gpa + len) as one pointer, or NULL unless wholly inside one region. */
static inline void *
ferry_gmem_range(const struct ferry_gmem_map *m, uint64_t gpa, uint64_t len)
{
	uint64_t contig;
	uint8_t *va = ferry_gmem_va(m, gpa, &contig);

	return va != NULL && contig >= len ? va : NULL;
}

struct ferry_vseg {
	uint8_t *va;
	uint64_t gpa;            /* where va lies in guest memory (receive: the dirty log's address) */
	uint32_t len;
};

/* A transmit chain, virtio-net header included until ferry_vq_chain_pull. */
struct ferry_vchain {
	uint32_t len;
	uint32_t max;            /* the frame limit (the ring's max_frame) */
	uint16_t n;
	uint32_t links;          /* descriptors the walk read (also when it failed) */
	struct ferry_vseg seg[FERRY_VQ_MAX_SEGS];
};

struct ferry_vring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size, mask;
	uint16_t last_avail;     /* next avail entry to read */
	uint16_t last_used;      /* next used entry to write */
	bool event_idx;          /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint32_t max_frame;      /* bytes after the header a frame may have; 0: FERRY_VQ_MAX_FRAME */
};

/* Point vr at a ring whose parts are given as guest physical addresses. size must be a power of
 * two <= 32768. Returns 0 or -1 when a part is not wholly inside guest memory. */
int ferry_vring_map(struct ferry_vring *vr, const struct ferry_gmem_map *m, uint64_t desc_gpa,
		    uint64_t avail_gpa, uint64_t used_gpa, uint16_t size);

/* Walk the chain starting at head into c. Returns FERRY_VQ_OK or an error; c is then unusable. */
enum ferry_vq_err ferry_vq_chain(const struct ferry_vring *vr, const struct ferry_gmem_map *m,
				 uint16_t head, struct ferry_vchain *c);

/* Drop the first len bytes (the virtio-net header) from c. */
enum ferry_vq_err ferry_vq_chain_pull(struct ferry_vchain *c, uint32_t len);

/* Copy len bytes from offset off of the chain into dst (bounds are the caller's). */
void ferry_vq_chain_read(const struct ferry_vchain *c, uint32_t off, uint32_t len, void *dst);

/* Walk the receive chain starting at head into c: device-writable descriptors only (a readable
 * one is FERRY_VQ_EREAD), the same bounds as a transmit walk, except that a chain may be longer
 * than any frame: the walk stops, successfully, once it holds FERRY_VQ_MAX_SEGS pieces or
 * max_frame + 64 bytes (the rest of the chain is capacity no frame needs). */
enum ferry_vq_err ferry_vq_rx_chain(const struct ferry_vring *vr, const struct ferry_gmem_map *m,
				    uint16_t head, struct ferry_vchain *c);

/* Copy len bytes from src into the chain from offset off on; returns the bytes that fitted. */
uint32_t ferry_vq_chain_write(const struct ferry_vchain *c, uint32_t off, const void *src,
			      uint32_t len);

/* ---- ferry's own enqueue: frames into a receive ring (virtq_rx.c) ---- */

#define FERRY_VQ_RX_MAX_BUFS   64    /* chains one frame may take (64 KB over 1 KB buffers) */
#define FERRY_VQ_RX_MAX_PIECES 128   /* guest pieces one frame may be written over */
#define FERRY_VQ_RX_HDR_MAX    12    /* struct virtio_net_hdr_mrg_rxbuf */

/* A frame to place: its virtio-net header (10 bytes, or 12 with num_buffers, which
 * ferry_vq_rx_frame sets), then len bytes from the pieces src[0, n_src). */
struct ferry_vq_rxframe {
	const void *hdr;
	uint32_t hdr_len;
	const struct ferry_vseg *src;
	uint16_t n_src;
	uint32_t len;
};

/* The caller's scratch for one frame (per queue, ~5 KB): the chains reserved and their pieces;
 * log, if set, is told of every guest range written (the vhost dirty log). */
struct ferry_vq_rxplan {
	uint16_t n, np;
	uint16_t head[FERRY_VQ_RX_MAX_BUFS];
	uint16_t end[FERRY_VQ_RX_MAX_BUFS];     /* chain k's pieces: [end[k - 1], end[k]) */
	struct ferry_vseg piece[FERRY_VQ_RX_MAX_PIECES];
	struct ferry_vchain scratch;
	void (*log)(void *ctx, uint64_t gpa, uint32_t len);
	void *log_ctx;
};

enum ferry_vq_rx_rc {
	FERRY_VQ_RX_OK,        /* placed: pl->n used entries written (not yet published) */
	FERRY_VQ_RX_NOROOM,    /* too few buffers posted now: nothing taken, try again later */
	FERRY_VQ_RX_TOO_BIG,   /* more than the guest's buffers can hold (one chain without
				* mergeable buffers, or beyond the bounds above): nothing taken */
	FERRY_VQ_RX_BAD,       /* a malformed chain (*err says how): it and every chain taken for
				* the frame went back to the guest with length 0 (used, unpublished) */
};

/* Place frame f into the ring: one chain, or with mrg as many as it needs. */
enum ferry_vq_rx_rc ferry_vq_rx_frame(struct ferry_vring *vr, const struct ferry_gmem_map *m,
				      bool mrg, const struct ferry_vq_rxframe *f,
				      struct ferry_vq_rxplan *pl, enum ferry_vq_err *err);

/* Avail entries posted and not yet taken (a guest claiming more than the ring holds gets size). */
static inline uint16_t
ferry_vring_avail_count(const struct ferry_vring *vr)
{
	uint16_t idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - vr->last_avail);

	return n > vr->size ? vr->size : n;
}

/* Take the next avail entry: the head it names (read once, not yet validated). */
static inline uint16_t
ferry_vring_avail_take(struct ferry_vring *vr)
{
	uint16_t head = __atomic_load_n(&vr->avail->ring[vr->last_avail & vr->mask],
					__ATOMIC_RELAXED);

	vr->last_avail++;
	return head;
}

/* Give a buffer back (visible to the guest at ferry_vring_used_publish). */
static inline void
ferry_vring_used_put(struct ferry_vring *vr, uint16_t id, uint32_t len)
{
	struct vring_used_elem *e = &vr->used->ring[vr->last_used & vr->mask];

	e->id = id;
	e->len = len;
	vr->last_used++;
}

static inline void
ferry_vring_used_publish(struct ferry_vring *vr)
{
	__atomic_store_n(&vr->used->idx, vr->last_used, __ATOMIC_RELEASE);
}

/* After publishing used entries from old_used on: does the guest want an interrupt? */
static inline bool
ferry_vring_need_call(const struct ferry_vring *vr, uint16_t old_used)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);   /* used idx store before the flags/event load */
	if (vr->event_idx) {
		uint16_t ev = __atomic_load_n(&vr->avail->ring[vr->size], __ATOMIC_RELAXED);
		return (uint16_t)(vr->last_used - ev - 1) < (uint16_t)(vr->last_used - old_used);
	}
	return !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

#endif
