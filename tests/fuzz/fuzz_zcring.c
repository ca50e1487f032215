/* fuzz_zcring.c — libFuzzer target for lib/zc's queue life cycle against a guest that changes its
 * ring under it (security issue #21 item 1): size, addresses, base and the memory table change
 * in any order between ferry's re-reads (remap, refresh on re-enable, hold/release around a
 * message), with buffers lent meanwhile, and the queue is stopped at the end.
 *
 * rte_vhost is replaced by a model (the functions lib/zc calls are defined here and take
 * precedence over librte_vhost's): a ring state the input sets (size 0..32768, desc/avail/used
 * anywhere in or outside the guest's one region, base) and reports the way rte_vhost does (no
 * ring pointers for addresses outside memory). rte_zmalloc_socket/rte_free and rte_ring_create
 * are malloc-backed so that ASan sees the queue's arrays; guest memory is one exact-size
 * allocation. No EAL. After every step the target aborts unless the queue still has the size its
 * arrays were built for and its ring lies inside guest memory for that size; ferry_zcq_stop then
 * writes every lent buffer back to the used ring (ASan: inside the ring it mapped).
 *
 * Input: b0 = initial size (1 << (b0 % 16)), b1..b3 = ring placement; then steps of 4 bytes:
 * op, a, b, c — 0 rte_vhost takes SET_VRING_NUM (1 << (a % 16), or 0 when a > 0xf0), 1 it takes
 * SET_VRING_ADDR (a, b, c place desc, avail, used), 2 ferry remaps (new memory table object),
 * 3 ferry refreshes (re-enable), 4 hold + release (a message), 5 rte_vhost takes SET_VRING_BASE,
 * 6 a buffer is lent (head a|b<<8, as the datapath would have taken it), 7 guest writes a byte. */
#define ALLOW_EXPERIMENTAL_API
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_vhost.h>
#include "ferry_config.h"
#include "ferry_zc.h"

#define GPA_BASE 0x100000u          /* the region: [1 MiB, 3 MiB); below it nothing */
#define MEM_SIZE (2u << 20)

static uint8_t *mem;
static struct {
	uint16_t size;
	uint64_t gpa[3];                /* desc, avail, used */
	uint16_t last_avail, last_used;
} vq;

/* --- the model of rte_vhost (and of DPDK's allocators) --- */

static void *
va_of(uint64_t gpa, uint64_t len)
{
	return gpa >= GPA_BASE && gpa - GPA_BASE <= MEM_SIZE && len <= MEM_SIZE - (gpa - GPA_BASE) ?
	       mem + (gpa - GPA_BASE) : NULL;
}

int
rte_vhost_get_vhost_vring(int vid, uint16_t vring_idx, struct rte_vhost_vring *vring)
{
	uint64_t n = vq.size;

	(void)vid;
	(void)vring_idx;
	memset(vring, 0, sizeof(*vring));
	vring->size = vq.size;
	/* rte_vhost maps a ring only when every part lies in guest memory for its size */
	vring->desc = va_of(vq.gpa[0], 16 * n);
	vring->avail = va_of(vq.gpa[1], 6 + 2 * n);
	vring->used = va_of(vq.gpa[2], 6 + 8 * n);
	if (vring->desc == NULL || vring->avail == NULL || vring->used == NULL)
		vring->desc = NULL, vring->avail = NULL, vring->used = NULL;
	return 0;
}

int
rte_vhost_get_vring_base(int vid, uint16_t queue_id, uint16_t *last_avail_idx,
			 uint16_t *last_used_idx)
{
	(void)vid;
	(void)queue_id;
	*last_avail_idx = vq.last_avail;
	*last_used_idx = vq.last_used;
	return 0;
}

int
rte_vhost_set_vring_base(int vid, uint16_t queue_id, uint16_t last_avail_idx,
			 uint16_t last_used_idx)
{
	(void)vid;
	(void)queue_id;
	vq.last_avail = last_avail_idx;
	vq.last_used = last_used_idx;
	return 0;
}

int
rte_vhost_vring_call_nonblock(int vid, uint16_t vring_idx)
{
	(void)vid;
	(void)vring_idx;
	return 0;
}

void
rte_vhost_log_used_vring(int vid, uint16_t vring_idx, uint64_t offset, uint64_t len)
{
	(void)vid;
	(void)vring_idx;
	(void)offset;
	(void)len;
}

void *
rte_zmalloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	(void)type;
	(void)align;
	(void)socket;
	return calloc(1, size);
}

void *
rte_zmalloc(const char *type, size_t size, unsigned align)
{
	return rte_zmalloc_socket(type, size, align, 0);
}

void
rte_free(void *p)
{
	free(p);
}

struct rte_ring *
rte_ring_create(const char *name, unsigned count, int socket_id, unsigned flags)
{
	ssize_t sz = rte_ring_get_memsize(count);   /* (RING_F_EXACT_SZ: the next power of 2) */
	struct rte_ring *r;

	(void)socket_id;
	if (flags & RING_F_EXACT_SZ)
		sz = rte_ring_get_memsize(rte_align32pow2(count + 1));
	r = sz > 0 ? aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)sz, 64)) : NULL;
	if (r != NULL && rte_ring_init(r, name, count, flags) != 0) {
		free(r);
		r = NULL;
	}
	return r;
}

void
rte_ring_free(struct rte_ring *r)
{
	free(r);
}

/* --- the target --- */

static struct ferry_zc_mem *
mem_table(void)
{
	struct ferry_zc_mem *m = calloc(1, sizeof(*m));

	m->map.n = 1;
	m->map.r[0] = (struct ferry_gmem_region){ .gpa = GPA_BASE, .size = MEM_SIZE, .va = mem };
	m->lib_va[0] = (uint64_t)(uintptr_t)mem;   /* rte_vhost's and ferry's mapping: the same */
	m->refcnt = 1;
	return m;
}

static uint64_t
place(uint8_t b)   /* a ring part's GPA: mostly inside the region, sometimes not */
{
	return b < 16 ? (uint64_t)b << 16 : GPA_BASE + (uint64_t)(b - 16) * 0x2000;
}

/* The queue may only ever run the ring its arrays were built for, inside guest memory. */
static void
check(const struct ferry_zcq *q)
{
	uint64_t n = q->nslots;
	const uint8_t *end = mem + MEM_SIZE;

	if (q->vr.size != q->nslots || q->vr.mask != q->nslots - 1)
		abort();
	if ((const uint8_t *)q->vr.desc < mem || (const uint8_t *)q->vr.desc + 16 * n > end ||
	    (const uint8_t *)q->vr.avail < mem || (const uint8_t *)q->vr.avail + 6 + 2 * n > end ||
	    (const uint8_t *)q->vr.used < mem || (const uint8_t *)q->vr.used + 6 + 8 * n > end)
		abort();
}

static void
lend(struct ferry_zcq *q, uint16_t head)
{
	struct ferry_zc_slot *s;

	head %= q->nslots;   /* the datapath takes only heads < nslots (take_one) */
	if (q->n_free == 0 || q->head_lent[head])
		return;
	s = &q->slot[q->free_idx[--q->n_free]];
	s->head = head;
	s->mem = q->mem;
	s->state = FERRY_ZC_SLOT_LENT;
	q->head_lent[head] = 1;
	q->inflight++;
	q->held++;
	ferry_zc_mem_get(q->mem);
}

static void
step(struct ferry_zcq *q, const uint8_t *s)
{
	struct ferry_zc_mem *m;

	switch (s[0] % 8) {
	case 0:
		vq.size = s[1] > 0xf0 ? 0 : (uint16_t)(1u << (s[1] % 16));
		break;
	case 1:
		vq.gpa[0] = place(s[1]);
		vq.gpa[1] = place(s[2]);
		vq.gpa[2] = place(s[3]);
		break;
	case 2:
		m = mem_table();
		ferry_zcq_remap(q, m);
		ferry_zc_mem_put(m);   /* the queue holds its own reference if it took it */
		break;
	case 3:
		ferry_zcq_refresh(q);
		break;
	case 4:
		ferry_zcq_hold(q);
		ferry_zcq_release(q, s[1] & 1);
		break;
	case 5:
		vq.last_avail = vq.last_used = (uint16_t)(s[1] | s[2] << 8);
		break;
	case 6:
		rte_spinlock_lock(&q->lock);
		lend(q, (uint16_t)(s[1] | s[2] << 8));
		rte_spinlock_unlock(&q->lock);
		break;
	default:
		mem[((uint32_t)s[1] << 13 | (uint32_t)s[2] << 5 | s[3]) % MEM_SIZE] = s[3];
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct ferry_zc_mem *m;
	struct ferry_zcq *q;

	if (!init) {
		rte_log_set_global_level(RTE_LOG_EMERG);
		mem = malloc(MEM_SIZE);
		init = true;
	}
	if (size < 4)
		return 0;
	memset(mem, 0, MEM_SIZE);
	memset(&vq, 0, sizeof(vq));
	vq.size = (uint16_t)(1u << (data[0] % 16));
	vq.gpa[0] = place(data[1]);
	vq.gpa[1] = place(data[2]);
	vq.gpa[2] = place(data[3]);
	m = mem_table();
	q = ferry_zcq_create(0, 1, m, 0, FERRY_ZC_ON, 0);
	ferry_zc_mem_put(m);
	if (q == NULL)
		return 0;   /* (creation itself refuses rings outside memory) */
	check(q);
	for (size_t i = 4; i + 4 <= size; i += 4) {
		step(q, data + i);
		check(q);
	}
	ferry_zcq_stop(q, 0);   /* every lent buffer back to the used ring it mapped */
	check(q);
	ferry_zcq_retire(q);
	/* the NIC frees the lent mbufs: their slots complete, the queue and tables are freed */
	for (uint16_t i = 0; i < q->nslots; i++)
		if (q->slot[i].state != FERRY_ZC_SLOT_FREE)
			rte_ring_mp_enqueue(q->done, (void *)(uintptr_t)i);
	if (ferry_zc_reap() != 0)
		abort();
	return 0;
}
