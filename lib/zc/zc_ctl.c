/* zc_ctl.c — life cycle of ferry's own guest TX queues: whether a device can use them, creating
 * one when the guest's ring is ready, stopping it (every lent buffer accounted for and the guest
 * given back every descriptor) and freeing it once the last lent buffer has come home; and what
 * a running ring may not do (be resized or re-based; a move is followed): see ferry_zc.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_vhost.h>
#include "ferry_common.h"
#include "ferry_config.h"
#include "ferry_zc.h"

#ifndef VIRTIO_F_IN_ORDER
#define VIRTIO_F_IN_ORDER 35
#endif
#ifndef VIRTIO_F_RING_PACKED
#define VIRTIO_F_RING_PACKED 34
#endif


const char *const ferry_zc_why_names[FERRY_ZC_WHY_MAX] = {
	[FERRY_ZC_WHY_OFF] = "off",
	[FERRY_ZC_WHY_SMALL] = "small",
	[FERRY_ZC_WHY_INFLIGHT] = "inflight_bound",
	[FERRY_ZC_WHY_DMA] = "dma_unmapped",
	[FERRY_ZC_WHY_TXSEG] = "port_no_multiseg",
};

const char *const ferry_zc_state_names[FERRY_ZC_STATE_MAX] = {
	[FERRY_ZC_ACTIVE] = "active",
	[FERRY_ZC_STATE_OFF] = "off",
	[FERRY_ZC_IOVA_PA] = "iova_pa",
	[FERRY_ZC_VIOMMU] = "viommu",
	[FERRY_ZC_PACKED] = "packed_ring",
	[FERRY_ZC_IN_ORDER] = "in_order",
	[FERRY_ZC_NO_MEM] = "no_memory_map",
	[FERRY_ZC_NO_GUEST] = "no_guest",
	[FERRY_ZC_BAD_RING] = "bad_ring",
	[FERRY_ZC_BAD_MEM] = "bad_memory",
};

static pthread_mutex_t dead_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_zcq *dead;   /* stopped queues waiting for lent buffers */
static unsigned ring_seq;

void
ferry_zc_stats_add(struct ferry_zc_stats *t, const struct ferry_zc_stats *s)
{
	const uint64_t *a = (const uint64_t *)s;
	uint64_t *b = (uint64_t *)t;

	for (size_t i = 0; i < offsetof(struct ferry_zc_stats, inflight_max) / sizeof(uint64_t); i++)
		b[i] += a[i];
	t->inflight_max = RTE_MAX(t->inflight_max, s->inflight_max);
}

enum ferry_zc_state
ferry_zc_eligible(uint8_t mode, uint64_t features)
{
	if (mode == FERRY_ZC_OFF)
		return FERRY_ZC_STATE_OFF;
	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		return FERRY_ZC_IOVA_PA;
	if (features & (1ULL << VIRTIO_F_ACCESS_PLATFORM))
		return FERRY_ZC_VIOMMU;
	if (features & (1ULL << VIRTIO_F_RING_PACKED))
		return FERRY_ZC_PACKED;
	if (features & (1ULL << VIRTIO_F_IN_ORDER))
		return FERRY_ZC_IN_ORDER;
	return FERRY_ZC_ACTIVE;
}

/* rte_vhost's view of the ring → ferry's mapping of the same guest memory. */
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

/* rte_vhost's current view of a guest ring, as guest physical addresses in mem. */
struct ring_view {
	uint64_t gpa[3];         /* desc, avail, used */
	uint16_t size;
	bool mapped;             /* rte_vhost has the ring and mem holds every part of it */
};

static int
ring_view(const struct ferry_zcq *q, const struct ferry_zc_mem *mem, struct ring_view *v)
{
	struct rte_vhost_vring vring;

	memset(v, 0, sizeof(*v));
	if (rte_vhost_get_vhost_vring(q->vid, q->vring, &vring) != 0)
		return -1;
	v->size = vring.size;
	v->mapped = vring.desc != NULL && lib_to_gpa(mem, vring.desc, &v->gpa[0]) == 0 &&
		    lib_to_gpa(mem, vring.avail, &v->gpa[1]) == 0 &&
		    lib_to_gpa(mem, vring.used, &v->gpa[2]) == 0;
	return 0;
}

/* Point q->vr at the ring v names through ferry's own mapping mem (every part checked again
 * there, for q->nslots entries); ferry's indexes and event_idx stand. */
static int
map_view(struct ferry_zcq *q, const struct ferry_zc_mem *mem, const struct ring_view *v)
{
	struct ferry_vring vr = q->vr;

	if (!v->mapped || v->size != q->nslots ||
	    ferry_vring_map(&vr, &mem->map, v->gpa[0], v->gpa[1], v->gpa[2], q->nslots) != 0)
		return -1;
	vr.event_idx = q->vr.event_idx;
	vr.max_frame = q->vr.max_frame;
	vr.last_avail = q->vr.last_avail;
	vr.last_used = q->vr.last_used;
	q->vr = vr;
	memcpy(q->ring_gpa, v->gpa, sizeof(q->ring_gpa));
	return 0;
}

/* The queue refuses a ring change for good (owner, under the lock): out of the datapath. */
static void
ring_break(struct ferry_zcq *q, const char *why, const struct ring_view *v)
{
	/* atomic: ferry_zcq_broken reads it without the lock */
	__atomic_fetch_or(&q->hold, FERRY_ZCQ_BROKEN, __ATOMIC_RELAXED);
	q->st.bad_ring++;
	ferry_zc_guard_mark(q->vid, FERRY_ZC_BAD_RING);
	FERRY_LOG(ERR, "zero-copy: vhost device %d vring %u: %s (ring of %u entries, rte_vhost now "
		  "says %u): ring refused, out of the datapath until the guest resets the device",
		  q->vid, q->vring, why, q->nslots, v->size);
}

/* After rte_vhost re-read the ring (release, re-enable): another size → broken; the same ring
 * → nothing; new addresses in the table ferry maps → followed, validated; new addresses
 * outside it → left for ferry_zcq_remap (the table itself may be changing). Owner. */
static void
ring_follow(struct ferry_zcq *q)
{
	struct ring_view v;

	if (q->hold & FERRY_ZCQ_BROKEN || ring_view(q, q->mem, &v) != 0 || v.size == 0)
		return;   /* (size 0: rte_vhost has no ring here now; nothing to compare) */
	if (v.size != q->nslots) {
		ring_break(q, "ring resized while ferry reads it", &v);
		return;
	}
	if (!v.mapped || memcmp(v.gpa, q->ring_gpa, sizeof(v.gpa)) == 0)
		return;
	if (map_view(q, q->mem, &v) != 0) {
		ring_break(q, "ring moved where ferry cannot map it", &v);
		return;
	}
	q->st.readdressed++;
	FERRY_LOG(INFO, "zero-copy: vhost device %d vring %u moved (desc 0x%" PRIx64 ", avail 0x%"
		  PRIx64 ", used 0x%" PRIx64 "): followed", q->vid, q->vring, v.gpa[0], v.gpa[1],
		  v.gpa[2]);
}

/* FERRY_ZC_RETURN_MS, or the environment's (tests hold buffers at a NIC on purpose). */
static uint64_t
return_ms(void)
{
	const char *e = getenv("FERRY_ZC_RETURN_MS");
	char *end;
	unsigned long v = e != NULL ? strtoul(e, &end, 10) : 0;

	return e != NULL && *e != '\0' && *end == '\0' && v > 0 ? v : FERRY_ZC_RETURN_MS;
}

struct ferry_zcq *
ferry_zcq_create(int vid, uint16_t vring_idx, struct ferry_zc_mem *mem, uint64_t features,
		 uint8_t mode, int socket)
{
	struct rte_vhost_vring vring;
	struct ring_view v;
	struct ferry_zcq *q;
	uint16_t last_avail, last_used;
	char name[RTE_RING_NAMESIZE];

	if (rte_vhost_get_vhost_vring(vid, vring_idx, &vring) != 0 || vring.size == 0 ||
	    vring.size > 32768 || (vring.size & (vring.size - 1)) != 0)
		return NULL;
	/* slots, then the free-slot stack, then the per-head flags: nslots of each, for good */
	q = rte_zmalloc_socket("ferry_zcq", sizeof(*q) + vring.size * (sizeof(q->slot[0]) +
			       sizeof(q->free_idx[0]) + sizeof(q->head_lent[0])),
			       RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	q->nslots = (uint16_t)vring.size;
	q->free_idx = (uint16_t *)&q->slot[q->nslots];
	q->head_lent = (uint8_t *)&q->free_idx[q->nslots];
	q->return_tsc = rte_get_tsc_hz() * return_ms() / 1000;
	rte_spinlock_init(&q->lock);
	q->vid = vid;
	q->vring = vring_idx;
	q->mode = mode;
	q->vr.event_idx = !!(features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	q->hdr_len = (features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))) ?
		     12 : 10;
	q->log = !!(features & (1ULL << VHOST_F_LOG_ALL));
	q->features = features;
	if (features & ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6)))
		q->vr.max_frame = FERRY_VQ_MAX_GSO_FRAME;   /* a TCP segment up to 64 KB */
	q->bound = (uint16_t)(q->nslots / 2);
	snprintf(name, sizeof(name), "zc_done_%u", __atomic_fetch_add(&ring_seq, 1, __ATOMIC_RELAXED));
	q->done = rte_ring_create(name, q->nslots, socket, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	/* the ring as rte_vhost has it now (re-read: it must still be the size the arrays have) */
	if (q->done == NULL || ring_view(q, mem, &v) != 0 || map_view(q, mem, &v) != 0 ||
	    rte_vhost_get_vring_base(vid, vring_idx, &last_avail, &last_used) != 0) {
		rte_ring_free(q->done);
		rte_free(q);
		return NULL;
	}
	q->vr.last_avail = last_avail;   /* the only time ferry adopts rte_vhost's indexes */
	q->vr.last_used = last_used;
	for (uint16_t i = 0; i < q->nslots; i++) {
		q->slot[i].q = q;
		q->slot[i].idx = i;
		q->free_idx[i] = (uint16_t)(q->nslots - 1 - i);
	}
	q->n_free = q->nslots;
	ferry_zc_mem_get(mem);
	q->mem = mem;
	return q;
}

int
ferry_zcq_remap(struct ferry_zcq *q, struct ferry_zc_mem *mem)
{
	struct ferry_zc_mem *old = q->mem;
	struct ring_view v;

	rte_spinlock_lock(&q->lock);   /* a burst in progress moves the indexes until it ends */
	if (q->hold & FERRY_ZCQ_BROKEN || ring_view(q, mem, &v) != 0) {
		rte_spinlock_unlock(&q->lock);
		return -1;
	}
	if (v.size != q->nslots) {
		ring_break(q, "ring resized while ferry reads it (new memory table)", &v);
		rte_spinlock_unlock(&q->lock);
		return -1;
	}
	/* the ring's addresses as the new table has them (a move is followed here too); ferry's
	 * indexes stand: rte_vhost's may lag (it does not see this ring being used) */
	if (map_view(q, mem, &v) != 0) {
		rte_spinlock_unlock(&q->lock);
		return -1;
	}
	ferry_zc_mem_get(mem);
	q->mem = mem;
	rte_spinlock_unlock(&q->lock);
	ferry_zc_mem_put(old);   /* lent buffers keep their own references */
	return 0;
}

bool
ferry_zcq_refresh(struct ferry_zcq *q)
{
	bool ok;

	rte_spinlock_lock(&q->lock);
	ring_follow(q);
	ok = !(q->hold & FERRY_ZCQ_BROKEN);
	rte_spinlock_unlock(&q->lock);
	return ok;
}

/* SET_VRING_NUM / SET_VRING_BASE while a ring runs. rte_vhost 22.11 takes both on a live ring:
 * a new size is used at once with ring pointers it checked for the old one, and ferry's arrays
 * have the old one; a new base moves rte_vhost's indexes under ferry's. Neither is ever sent by
 * QEMU or virtio-user to a running ring (they stop it first: GET_VRING_BASE, after which
 * rte_vhost destroys the device and ferry's queues with it), so both are refused: rte_vhost
 * answers a NACK (REPLY_ACK) or closes the connection. A re-base is refused rather than
 * followed: following it with buffers lent would hand them back at positions the guest did not
 * expect, and there is no legitimate use to serve. */
bool
ferry_zc_ring_msg_ok(int vid, struct ferry_zcq *q, uint32_t vring, bool resize, uint32_t num)
{
	struct rte_vhost_vring vr;

	if (q != NULL && (!resize || num != q->nslots)) {
		FERRY_LOG(ERR, "vhost device %d: %s %u for vring %u while ferry reads it: refused",
			  vid, resize ? "SET_VRING_NUM" : "SET_VRING_BASE", num, vring);
		return false;
	}
	if (resize && rte_vhost_get_vhost_vring(vid, (uint16_t)vring, &vr) == 0 &&
	    vr.desc != NULL && num != vr.size) {
		FERRY_LOG(ERR, "vhost device %d: SET_VRING_NUM %u for vring %u, a running ring of %u "
			  "entries: refused", vid, num, vring, vr.size);
		return false;
	}
	return true;
}

void
ferry_zcq_hold(struct ferry_zcq *q)
{
	rte_spinlock_lock(&q->lock);   /* a PMD holds it for one burst at most, never waiting */
	__atomic_fetch_or(&q->hold, FERRY_ZCQ_HELD, __ATOMIC_RELAXED);
	/* rte_vhost's indexes exact while it looks: on SET_VRING_ADDR it compares its last used
	 * index with the ring's and, if they differ, moves its own ("packets maybe resent") */
	rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	rte_spinlock_unlock(&q->lock);
}

void
ferry_zcq_release(struct ferry_zcq *q, bool log)
{
	rte_spinlock_lock(&q->lock);
	q->log = log;
	ring_follow(q);   /* the message may have been SET_VRING_ADDR: a moved ring */
	__atomic_fetch_and(&q->hold, (uint8_t)~FERRY_ZCQ_HELD, __ATOMIC_RELAXED);
	rte_spinlock_unlock(&q->lock);
}

void
ferry_zcq_announce(struct ferry_zcq *q, const uint8_t mac[6])
{
	uint64_t w = UINT64_C(1) << 48;

	for (int i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * i);
	__atomic_store_n(&q->announce, w, __ATOMIC_RELEASE);
}

/* Give every still-lent buffer back to the guest now; its mbufs complete later. */
static unsigned
give_back_all(struct ferry_zcq *q)
{
	unsigned n = 0;

	for (uint16_t i = 0; i < q->nslots; i++)
		n += ferry_zcq_give_back(q, &q->slot[i]);
	return n;
}

void
ferry_zcq_stop(struct ferry_zcq *q, unsigned wait_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * wait_ms / 1000;
	uint16_t old;

	rte_spinlock_lock(&q->lock);
	old = q->vr.last_used;
	ferry_zcq_reap(q);
	while (q->inflight != 0 && rte_get_timer_cycles() < deadline) {
		usleep(1000);
		ferry_zcq_reap(q);   /* completions, as the datapath would take them */
	}
	q->st.forced += give_back_all(q);
	ferry_zcq_used_flush(q, old);
	rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	rte_spinlock_unlock(&q->lock);
	if (q->st.forced != 0)
		FERRY_LOG(WARNING, "zero-copy: vring %u: %" PRIu64 " lent buffers were still at the NIC "
			  "after %u ms; returned to the guest early", q->vring, q->st.forced, wait_ms);
}

void
ferry_zcq_retire(struct ferry_zcq *q)
{
	pthread_mutex_lock(&dead_lock);
	q->next_dead = dead;
	dead = q;
	pthread_mutex_unlock(&dead_lock);
}

/* A stopped queue's slots whose mbufs were freed since: every buffer is already back with the
 * guest, whose ring is no longer ours to write. */
static void
drain_dead(struct ferry_zcq *q)
{
	void *h[64];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(q->done, h, RTE_DIM(h), NULL)) != 0) {
		for (unsigned i = 0; i < n; i++) {
			struct ferry_zc_slot *s = &q->slot[(uintptr_t)h[i] & 0xffff];
			s->state = FERRY_ZC_SLOT_FREE;
			ferry_zc_mem_put(s->mem);
		}
		q->held -= n;
	}
}

unsigned
ferry_zc_reap(void)
{
	unsigned waiting = 0;

	pthread_mutex_lock(&dead_lock);
	for (struct ferry_zcq **pp = &dead; *pp != NULL;) {
		struct ferry_zcq *q = *pp;
		drain_dead(q);
		if (q->held != 0) {
			waiting++;
			pp = &q->next_dead;
			continue;
		}
		*pp = q->next_dead;
		/* every slot's reference is gone; the queue's own goes now */
		ferry_zc_mem_put(q->mem);
		rte_ring_free(q->done);
		rte_free(q);
	}
	pthread_mutex_unlock(&dead_lock);
	ferry_rxq_reap();   /* receive queues hold their table until here */
	ferry_zc_mem_reap();
	ferry_zc_guard_report();
	return waiting;
}
