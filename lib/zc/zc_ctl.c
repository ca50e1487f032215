/* zc_ctl.c — life cycle of ferry's own guest TX queues: whether a device can use them, creating
 * one when the guest's ring is ready, stopping it (every lent buffer accounted for and the guest
 * given back every descriptor) and freeing it once the last lent buffer has come home. */
#include <stdio.h>
#include <stdlib.h>
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

static int
map_ring(struct ferry_zcq *q, struct ferry_zc_mem *mem)
{
	struct rte_vhost_vring vring;
	uint64_t d, a, u;
	uint16_t last_avail, last_used;

	if (rte_vhost_get_vhost_vring(q->vid, q->vring, &vring) != 0 || vring.desc == NULL ||
	    lib_to_gpa(mem, vring.desc, &d) < 0 || lib_to_gpa(mem, vring.avail, &a) < 0 ||
	    lib_to_gpa(mem, vring.used, &u) < 0 ||
	    rte_vhost_get_vring_base(q->vid, q->vring, &last_avail, &last_used) != 0)
		return -1;
	bool event_idx = q->vr.event_idx;
	if (ferry_vring_map(&q->vr, &mem->map, d, a, u, vring.size) != 0)
		return -1;
	q->vr.event_idx = event_idx;
	q->vr.last_avail = last_avail;
	q->vr.last_used = last_used;
	return 0;
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
	struct ferry_zcq *q;
	char name[RTE_RING_NAMESIZE];

	if (rte_vhost_get_vhost_vring(vid, vring_idx, &vring) != 0 || vring.size == 0)
		return NULL;
	/* slots, then the free-slot stack, then the per-head flags */
	q = rte_zmalloc_socket("ferry_zcq", sizeof(*q) + vring.size * (sizeof(q->slot[0]) +
			       sizeof(q->free_idx[0]) + sizeof(q->head_lent[0])),
			       RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return NULL;
	q->free_idx = (uint16_t *)&q->slot[vring.size];
	q->head_lent = (uint8_t *)&q->free_idx[vring.size];
	q->return_tsc = rte_get_tsc_hz() * return_ms() / 1000;
	rte_spinlock_init(&q->lock);
	q->vid = vid;
	q->vring = vring_idx;
	q->mode = mode;
	q->vr.event_idx = !!(features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	q->hdr_len = (features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))) ?
		     12 : 10;
	q->log = !!(features & (1ULL << VHOST_F_LOG_ALL));
	q->bound = (uint16_t)(vring.size / 2);
	snprintf(name, sizeof(name), "zc_done_%u", __atomic_fetch_add(&ring_seq, 1, __ATOMIC_RELAXED));
	q->done = rte_ring_create(name, vring.size, socket, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (q->done == NULL || map_ring(q, mem) != 0) {
		rte_ring_free(q->done);
		rte_free(q);
		return NULL;
	}
	for (uint16_t i = 0; i < vring.size; i++) {
		q->slot[i].q = q;
		q->slot[i].idx = i;
		q->free_idx[i] = (uint16_t)(vring.size - 1 - i);
	}
	q->n_free = vring.size;
	ferry_zc_mem_get(mem);
	q->mem = mem;
	return q;
}

int
ferry_zcq_remap(struct ferry_zcq *q, struct ferry_zc_mem *mem)
{
	struct ferry_zc_mem *old = q->mem;
	struct ferry_vring keep;

	rte_spinlock_lock(&q->lock);
	keep = q->vr;   /* under the lock: a burst in progress moves the indexes until it ends */
	if (map_ring(q, mem) != 0) {
		q->vr = keep;
		rte_spinlock_unlock(&q->lock);
		return -1;
	}
	/* ferry's indexes stand: rte_vhost's may lag (it does not see this ring being used) */
	q->vr.last_avail = keep.last_avail;
	q->vr.last_used = keep.last_used;
	ferry_zc_mem_get(mem);
	q->mem = mem;
	rte_spinlock_unlock(&q->lock);
	ferry_zc_mem_put(old);   /* lent buffers keep their own references */
	return 0;
}

void
ferry_zcq_hold(struct ferry_zcq *q)
{
	rte_spinlock_lock(&q->lock);   /* a PMD holds it for one burst at most, never waiting */
	q->hold = 1;
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
	q->hold = 0;
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

	for (uint16_t i = 0; i < q->vr.size; i++)
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
	ferry_zc_mem_reap();
	return waiting;
}
