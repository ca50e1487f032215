/* zc_enq.c — ferry's own enqueue (copy) into a guest's receive ring (doc/rx-path.md): a receive
 * queue's life cycle (create, hold/release, remap, stop, reap), which mirrors the TX queue's in
 * zc_ctl.c, and the burst: each mbuf's segments as pieces, its virtio-net header from its offload
 * flags (lib/offload ferry_ol_to_vnet), lib/virtq's ferry_vq_rx_frame, then one used-ring
 * publish and at most one guest interrupt per burst. See ferry_zc.h. */
#define ALLOW_EXPERIMENTAL_API   /* rte_vhost_vring_call_nonblock */
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <rte_malloc.h>
#include <rte_vhost.h>
#include "ferry_common.h"
#include "ferry_offload.h"
#include "ferry_zc.h"

#define RXQ_MAX_SEGS 128   /* mbuf segments of one frame (a 64 KB segment over 512 B mbufs) */

static pthread_mutex_t dead_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_rxq *dead;

void
ferry_rxq_stats_add(struct ferry_rxq_stats *t, const struct ferry_rxq_stats *s)
{
	const uint64_t *a = (const uint64_t *)s;
	uint64_t *b = (uint64_t *)t;

	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		b[i] += a[i];
}

/* rte_vhost's address → guest physical, through ferry's mapping of the same table. */
static int
lib_to_gpa(const struct ferry_zc_mem *m, const void *p, uint64_t *gpa)
{
	uint64_t va = (uint64_t)(uintptr_t)p;

	for (uint32_t i = 0; i < m->map.n; i++)
		if (va - m->lib_va[i] < m->map.r[i].size) {
			*gpa = m->map.r[i].gpa + (va - m->lib_va[i]);
			return 0;
		}
	return -1;
}

/* The ring as rte_vhost has it now, mapped through mem into vr (ferry's indexes kept):
 * 0, 1 (rte_vhost has no ring there now), -1 (not in mem), -2 (another size). */
static int
ring_read(struct ferry_rxq *q, const struct ferry_zc_mem *mem, struct ferry_vring *vr,
	  uint64_t gpa[3])
{
	struct rte_vhost_vring v;

	if (rte_vhost_get_vhost_vring(q->vid, q->vring, &v) != 0 || v.size == 0 || v.desc == NULL)
		return 1;
	if (v.size != q->nslots)
		return -2;
	if (lib_to_gpa(mem, v.desc, &gpa[0]) != 0 || lib_to_gpa(mem, v.avail, &gpa[1]) != 0 ||
	    lib_to_gpa(mem, v.used, &gpa[2]) != 0)
		return -1;
	*vr = q->vr;
	if (ferry_vring_map(vr, &mem->map, gpa[0], gpa[1], gpa[2], q->nslots) != 0)
		return -1;
	vr->event_idx = q->vr.event_idx;
	vr->max_frame = q->vr.max_frame;
	vr->last_avail = q->vr.last_avail;
	vr->last_used = q->vr.last_used;
	return 0;
}

static void
ring_break(struct ferry_rxq *q, const char *why)
{
	__atomic_fetch_or(&q->hold, FERRY_ZCQ_BROKEN, __ATOMIC_RELAXED);
	q->st.bad_ring++;
	FERRY_LOG(ERR, "enqueue: vhost device %d vring %u: %s: ring refused, out of the datapath "
		  "until the guest resets the device", q->vid, q->vring, why);
}

/* After rte_vhost re-read the ring: follow a move, refuse a resize (under the lock). */
static void
ring_follow(struct ferry_rxq *q)
{
	struct ferry_vring vr;
	uint64_t gpa[3];
	int rc;

	if (q->hold & FERRY_ZCQ_BROKEN)
		return;
	rc = ring_read(q, q->mem, &vr, gpa);
	if (rc == -2)
		ring_break(q, "ring resized while ferry writes it");
	else if (rc == -1)
		ring_break(q, "ring moved where ferry cannot map it");
	if (rc != 0 || memcmp(gpa, q->ring_gpa, sizeof(gpa)) == 0)
		return;
	q->vr = vr;
	memcpy(q->ring_gpa, gpa, sizeof(gpa));
	q->st.readdressed++;
}

static void
log_write(void *ctx, uint64_t gpa, uint32_t len)
{
	const struct ferry_rxq *q = ctx;

	rte_vhost_log_write(q->vid, gpa, len);
}

static void
set_log(struct ferry_rxq *q, bool log)
{
	q->log = log;
	q->plan.log = log ? log_write : NULL;   /* no call per piece while the log is off */
	q->plan.log_ctx = q;
}

struct ferry_rxq *
ferry_rxq_create(int vid, uint16_t vring_idx, struct ferry_zc_mem *mem, uint64_t features,
		 int socket)
{
	struct rte_vhost_vring v;
	struct ferry_rxq *q;
	uint16_t last_avail, last_used;
	uint64_t gpa[3];

	if (rte_vhost_get_vhost_vring(vid, vring_idx, &v) != 0 || v.size == 0 || v.size > 32768 ||
	    (v.size & (v.size - 1)) != 0)
		return NULL;
	q = rte_zmalloc_socket("ferry_rxq", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	rte_spinlock_init(&q->lock);
	q->vid = vid;
	q->vring = vring_idx;
	q->nslots = (uint16_t)v.size;
	q->features = features;
	q->mrg = !!(features & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	q->hdr_len = (features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))) ?
		     12 : 10;
	q->vr.event_idx = !!(features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	if (features & ((1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6)))
		q->vr.max_frame = FERRY_VQ_MAX_GSO_FRAME;
	set_log(q, features & (1ULL << VHOST_F_LOG_ALL));
	if (ring_read(q, mem, &q->vr, gpa) != 0 ||
	    rte_vhost_get_vring_base(vid, vring_idx, &last_avail, &last_used) != 0) {
		rte_free(q);
		return NULL;
	}
	memcpy(q->ring_gpa, gpa, sizeof(gpa));
	q->vr.last_avail = last_avail;   /* the only time ferry adopts rte_vhost's indexes */
	q->vr.last_used = last_used;
	ferry_zc_mem_get(mem);
	q->mem = mem;
	return q;
}

int
ferry_rxq_remap(struct ferry_rxq *q, struct ferry_zc_mem *mem)
{
	struct ferry_zc_mem *old = q->mem;
	struct ferry_vring vr;
	uint64_t gpa[3];
	int rc;

	rte_spinlock_lock(&q->lock);
	rc = q->hold & FERRY_ZCQ_BROKEN ? -1 : ring_read(q, mem, &vr, gpa);
	if (rc == -2)
		ring_break(q, "ring resized while ferry writes it (new memory table)");
	if (rc != 0) {
		rte_spinlock_unlock(&q->lock);
		return -1;
	}
	q->vr = vr;
	memcpy(q->ring_gpa, gpa, sizeof(gpa));
	ferry_zc_mem_get(mem);
	q->mem = mem;
	rte_spinlock_unlock(&q->lock);
	ferry_zc_mem_put(old);
	return 0;
}

bool
ferry_rxq_refresh(struct ferry_rxq *q)
{
	bool ok;

	rte_spinlock_lock(&q->lock);
	ring_follow(q);
	ok = !(q->hold & FERRY_ZCQ_BROKEN);
	rte_spinlock_unlock(&q->lock);
	return ok;
}

void
ferry_rxq_hold(struct ferry_rxq *q)
{
	rte_spinlock_lock(&q->lock);   /* a PMD holds it for one burst at most */
	__atomic_fetch_or(&q->hold, FERRY_ZCQ_HELD, __ATOMIC_RELAXED);
	rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	rte_spinlock_unlock(&q->lock);
}

void
ferry_rxq_release(struct ferry_rxq *q, bool log)
{
	rte_spinlock_lock(&q->lock);
	set_log(q, log);
	ring_follow(q);
	__atomic_fetch_and(&q->hold, (uint8_t)~FERRY_ZCQ_HELD, __ATOMIC_RELAXED);
	rte_spinlock_unlock(&q->lock);
}

void
ferry_rxq_stop(struct ferry_rxq *q)
{
	rte_spinlock_lock(&q->lock);
	__atomic_fetch_or(&q->hold, FERRY_ZCQ_HELD, __ATOMIC_RELAXED);
	rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	rte_spinlock_unlock(&q->lock);
}

void
ferry_rxq_retire(struct ferry_rxq *q)
{
	pthread_mutex_lock(&dead_lock);
	q->next_dead = dead;
	dead = q;
	pthread_mutex_unlock(&dead_lock);
}

void
ferry_rxq_reap(void)
{
	struct ferry_rxq *q;

	pthread_mutex_lock(&dead_lock);
	q = dead;
	dead = NULL;
	pthread_mutex_unlock(&dead_lock);
	while (q != NULL) {
		struct ferry_rxq *next = q->next_dead;
		ferry_zc_mem_put(q->mem);
		rte_free(q);
		q = next;
	}
}

/* --- datapath --- */

static void
log_used(struct ferry_rxq *q, uint16_t from, uint16_t to)
{
	uint16_t a = from & q->vr.mask, n = (uint16_t)(to - from);
	uint64_t first = RTE_MIN((uint32_t)n, (uint32_t)(q->vr.size - a));

	rte_vhost_log_used_vring(q->vid, q->vring, offsetof(struct vring_used, ring[a]),
				 first * sizeof(struct vring_used_elem));
	if (first < n)
		rte_vhost_log_used_vring(q->vid, q->vring, offsetof(struct vring_used, ring[0]),
					 (n - first) * sizeof(struct vring_used_elem));
	rte_vhost_log_used_vring(q->vid, q->vring, offsetof(struct vring_used, idx),
				 sizeof(uint16_t));
}

/* The burst's used entries at once, logged, and the guest's interrupt if it wants one. */
static void
used_flush(struct ferry_rxq *q, uint16_t old)
{
	if (q->vr.last_used != old) {
		ferry_vring_used_publish(&q->vr);
		if (unlikely(q->log))
			log_used(q, old, q->vr.last_used);
		if (ferry_vring_need_call(&q->vr, old))
			q->call_pending = 1;
	}
	if (!q->call_pending)
		return;
	if (q->vr.event_idx)   /* rte_vhost decides with its own view of the used index */
		rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	if (rte_vhost_vring_call_nonblock(q->vid, q->vring) == -EAGAIN)
		return;   /* rte_vhost holds the ring: the next burst calls */
	q->call_pending = 0;
	q->st.calls++;
}

/* One frame: NOROOM, TOO_BIG, BAD or OK. */
static enum ferry_vq_rx_rc
put_one(struct ferry_rxq *q, struct rte_mbuf *m, uint32_t len)
{
	struct ferry_vseg seg[RXQ_MAX_SEGS];
	struct virtio_net_hdr_mrg_rxbuf h;
	struct ferry_vq_rxframe f;
	enum ferry_vq_err err;
	enum ferry_vq_rx_rc rc;
	uint16_t k = 0;

	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (unlikely(k == RXQ_MAX_SEGS))
			return FERRY_VQ_RX_TOO_BIG;
		seg[k].va = rte_pktmbuf_mtod(s, uint8_t *);
		seg[k].gpa = 0;
		seg[k++].len = s->data_len;
	}
	h.num_buffers = 1;
	bool dv = ferry_ol_to_vnet(m, q->features, &h.hdr);
	f = (struct ferry_vq_rxframe){ .hdr = &h, .hdr_len = q->hdr_len, .src = seg, .n_src = k,
				       .len = len };
	rc = ferry_vq_rx_frame(&q->vr, &q->mem->map, q->mrg, &f, &q->plan, &err);
	if (rc == FERRY_VQ_RX_OK) {
		q->st.frames++;
		q->st.bytes += len;
		q->st.data_valid += dv;
	} else if (rc == FERRY_VQ_RX_BAD) {
		q->st.bad[err]++;
	}
	return rc;
}

uint16_t
ferry_rxq_tx(struct ferry_rxq *q, struct rte_mbuf **m, uint32_t *len, uint16_t n,
	     uint16_t *too_big)
{
	uint16_t sent = 0, big = 0, old;

	*too_big = 0;
	rte_spinlock_lock(&q->lock);   /* several PMDs may send to this ring */
	if (unlikely(q->hold)) {
		rte_spinlock_unlock(&q->lock);
		return 0;   /* the dirty log or memory is changing, or the ring was refused */
	}
	old = q->vr.last_used;
	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		enum ferry_vq_rx_rc rc = put_one(q, m[i], len[i]);
		if (rc == FERRY_VQ_RX_OK) {
			len[sent++] = len[i];
		} else if (rc == FERRY_VQ_RX_TOO_BIG) {
			q->st.too_big++;
			big++;
		} else if (rc == FERRY_VQ_RX_NOROOM) {
			q->st.noroom++;
			break;
		}
	}
	used_flush(q, old);
	rte_spinlock_unlock(&q->lock);
	*too_big = big;
	return sent;
}
