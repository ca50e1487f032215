/* zc_rx.c — the datapath of ferry's own guest TX dequeue: take avail entries, validate each chain,
 * build a copied or a lent frame, give back completed buffers, tell the guest (see ferry_zc.h).
 * Runs on the PMD polling the queue, under the queue's lock (a trylock: never waits). */
#define ALLOW_EXPERIMENTAL_API   /* rte_vhost_vring_call_nonblock */
#include <string.h>
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_vhost.h>
#include "ferry_config.h"
#include "ferry_zc.h"
#include "ferry_offload.h"

#define MAX_MBUFS_PER_FRAME (FERRY_VQ_MAX_SEGS + 1)
#define PREFETCH_AHEAD      8   /* frames whose buffers are fetched ahead of the one taken */

RTE_DEFINE_PER_LCORE(struct ferry_zc_batch, ferry_zc_batch);

/* The NIC (or whoever) freed the last mbuf attached to a lent buffer. Any thread; the queue's
 * owner takes the slot from the done ring (which holds as many entries as there are slots). */
static void
zc_done(void *addr, void *opaque)
{
	struct ferry_zc_slot *s = opaque;
	struct ferry_zc_batch *b = &RTE_PER_LCORE(ferry_zc_batch);

	(void)addr;
	if (likely(b->on)) {
		b->s[b->n++] = s;
		if (unlikely(b->n == FERRY_ZC_BATCH))
			ferry_zc_batch_flush_slow(b);
		return;
	}
	rte_ring_mp_enqueue(s->q->done, (void *)(uintptr_t)s->idx);
}

/* Runs of one queue's slots, one bulk enqueue each (always fits: a slot is queued once). */
void
ferry_zc_batch_flush_slow(struct ferry_zc_batch *b)
{
	void *e[FERRY_ZC_BATCH];

	for (uint16_t i = 0; i < b->n;) {
		struct ferry_zcq *q = b->s[i]->q;
		unsigned k = 0;
		for (; i < b->n && b->s[i]->q == q; i++)
			e[k++] = (void *)(uintptr_t)b->s[i]->idx;
		rte_ring_mp_enqueue_bulk(q->done, e, k, NULL);
	}
	b->n = 0;
}

void
ferry_zc_batch_enable(bool on)
{
	struct ferry_zc_batch *b = &RTE_PER_LCORE(ferry_zc_batch);

	if (!on)
		ferry_zc_batch_flush();
	b->on = on;
}

/* Slots whose mbufs were freed: their buffers back to the used ring (unless given back early),
 * the slots free again. Owner. */
void
ferry_zcq_reap(struct ferry_zcq *q)
{
	void *h[64];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(q->done, h, RTE_DIM(h), NULL)) != 0) {
		struct ferry_zc_mem *run = NULL;   /* consecutive buffers of one memory table */
		unsigned run_n = 0;
		for (unsigned i = 0; i < n; i++) {
			struct ferry_zc_slot *s = &q->slot[(uintptr_t)h[i]];
			if (s->state == FERRY_ZC_SLOT_LENT) {
				ferry_vring_used_put(&q->vr, s->head, 0);
				q->head_lent[s->head] = 0;
				q->inflight--;
			}
			if (s->mem != run) {
				if (run != NULL)
					ferry_zc_mem_put_n(run, run_n);
				run = s->mem;
				run_n = 0;
			}
			run_n++;
			s->state = FERRY_ZC_SLOT_FREE;
			q->free_idx[q->n_free++] = s->idx;
		}
		ferry_zc_mem_put_n(run, run_n);
		q->held -= n;
	}
}

/* Give a lent buffer back to the guest before the NIC freed its mbufs (the slot stays taken
 * until the completion arrives). Owner. */
bool
ferry_zcq_give_back(struct ferry_zcq *q, struct ferry_zc_slot *s)
{
	if (s->state != FERRY_ZC_SLOT_LENT)
		return false;   /* free, or the guest has it already */
	s->state = FERRY_ZC_SLOT_RETURNED;
	ferry_vring_used_put(&q->vr, s->head, 0);
	q->head_lent[s->head] = 0;
	q->inflight--;
	return true;
}

/* Buffers a NIC has held longer than FERRY_ZC_RETURN_MS go back (checked every ms). Owner. */
static void
give_back_stale(struct ferry_zcq *q)
{
	if (q->inflight == 0 || q->now < q->next_check)
		return;
	q->next_check = q->now + rte_get_tsc_hz() / 1000;
	for (uint16_t i = 0; i < q->nslots; i++) {
		struct ferry_zc_slot *s = &q->slot[i];
		if (s->state == FERRY_ZC_SLOT_LENT && q->now - s->tsc > q->return_tsc && ferry_zcq_give_back(q, s))
			q->st.early++;
	}
}

static void
log_used(struct ferry_zcq *q, uint16_t from, uint16_t to)
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

/* Raise the guest's interrupt through rte_vhost (it keeps the callfd and, with EVENT_IDX, the
 * last signalled index: tell it where the used ring is first). Never waits for the ring lock. */
static void
call_guest(struct ferry_zcq *q)
{
	if (unlikely(q->hold & FERRY_ZCQ_BROKEN))
		return;   /* a hostile ring: rte_vhost's view of it is not to be trusted */
	if (q->vr.event_idx)
		rte_vhost_set_vring_base(q->vid, q->vring, q->vr.last_avail, q->vr.last_used);
	if (rte_vhost_vring_call_nonblock(q->vid, q->vring) == -EAGAIN) {
		q->call_pending = 1;
		return;
	}
	q->call_pending = 0;
	q->st.calls++;
}

/* Publish used entries written since old, log them, notify. (Also used by ferry_zcq_stop.) */
void
ferry_zcq_used_flush(struct ferry_zcq *q, uint16_t old)
{
	if (q->vr.last_used != old) {
		ferry_vring_used_publish(&q->vr);
		if (unlikely(__atomic_load_n(&q->log, __ATOMIC_RELAXED)))
			log_used(q, old, q->vr.last_used);
		if (ferry_vring_need_call(&q->vr, old))
			q->call_pending = 1;
	}
	if (q->call_pending)
		call_guest(q);
}

/* A frame longer than one mbuf of the burst's pool into one large mbuf of q->big (a TSO
 * guest's 64 KB segment: one copy, one buffer to free, not 33 chained); NULL: none free, or no
 * such pool, or longer than one of those too. */
static inline struct rte_mbuf *
copy_big(struct rte_mempool *big, const struct ferry_vchain *c)
{
	struct rte_mbuf *m;

	if (big == NULL ||
	    c->len > (uint32_t)rte_pktmbuf_data_room_size(big) - RTE_PKTMBUF_HEADROOM ||
	    (m = rte_pktmbuf_alloc(big)) == NULL)
		return NULL;
	ferry_vq_chain_read(c, 0, c->len, rte_pktmbuf_mtod(m, void *));
	m->data_len = (uint16_t)c->len;
	m->pkt_len = c->len;
	return m;
}

/* Copy the frame into ordinary mbufs (chained when longer than one, unless a large one of
 * big is free). */
static struct rte_mbuf *
copy_frame(struct rte_mempool *mp, struct rte_mempool *big, const struct ferry_vchain *c)
{
	uint32_t room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	uint32_t nseg = c->len == 0 ? 1 : (c->len + room - 1) / room, off = 0;
	struct rte_mbuf *ms[FERRY_VQ_MAX_GSO_FRAME / 512 + 2];

	if (nseg > 1 && (ms[0] = copy_big(big, c)) != NULL)
		return ms[0];
	if (nseg > RTE_DIM(ms) || rte_pktmbuf_alloc_bulk(mp, ms, nseg) != 0)
		return NULL;
	if (nseg == 1 && c->n == 1) {   /* the common case: one buffer into one mbuf */
		rte_memcpy(rte_pktmbuf_mtod(ms[0], void *), c->seg[0].va, c->len);
		ms[0]->data_len = (uint16_t)c->len;
		ms[0]->pkt_len = c->len;
		return ms[0];
	}
	for (uint32_t k = 0; k < nseg; k++) {
		uint32_t len = RTE_MIN(room, c->len - off);
		ferry_vq_chain_read(c, off, len, rte_pktmbuf_mtod(ms[k], void *));
		ms[k]->data_len = (uint16_t)len;
		off += len;
		if (k != 0)
			ms[k - 1]->next = ms[k];
	}
	ms[0]->pkt_len = c->len;
	ms[0]->nb_segs = (uint16_t)nseg;
	return ms[0];
}

/* Lend the frame: header copied into the head mbuf, the rest attached in place. The caller
 * counts it in flight and takes its memory-table reference (once per burst: ferry_zcq_rx). */
static struct rte_mbuf *
lend_frame(struct ferry_zcq *q, struct rte_mempool *mp, const struct ferry_vchain *c,
	   uint16_t head)
{
	struct rte_mbuf *ms[MAX_MBUFS_PER_FRAME];
	struct ferry_zc_slot *s;
	uint16_t first = 0, n_ext = 0;
	uint32_t skip = FERRY_ZC_HDR;

	while (skip >= c->seg[first].len)   /* c->len > FERRY_ZC_HDR: ends inside the chain */
		skip -= c->seg[first++].len;
	n_ext = (uint16_t)(c->n - first);
	if (rte_pktmbuf_alloc_bulk(mp, ms, 1u + n_ext) != 0)
		return NULL;
	if (likely(c->seg[0].len >= FERRY_ZC_HDR))   /* one fixed-size copy */
		memcpy(rte_pktmbuf_mtod(ms[0], void *), c->seg[0].va, FERRY_ZC_HDR);
	else
		ferry_vq_chain_read(c, 0, FERRY_ZC_HDR, rte_pktmbuf_mtod(ms[0], void *));
	ms[0]->data_len = FERRY_ZC_HDR;
	ms[0]->pkt_len = c->len;
	ms[0]->nb_segs = (uint16_t)(1 + n_ext);
	s = &q->slot[q->free_idx[--q->n_free]];   /* why_copy saw one free */
	s->head = head;
	s->tsc = q->now;
	q->head_lent[head] = 1;
	s->mem = q->mem;
	s->shinfo.free_cb = zc_done;
	s->shinfo.fcb_opaque = s;
	rte_mbuf_ext_refcnt_set(&s->shinfo, n_ext);
	s->state = FERRY_ZC_SLOT_LENT;
	for (uint16_t k = 0; k < n_ext; k++) {
		const struct ferry_vseg *g = &c->seg[first + k];
		uint8_t *va = g->va + skip;
		uint16_t len = (uint16_t)(g->len - skip);
		struct rte_mbuf *m = ms[1 + k];
		rte_pktmbuf_attach_extbuf(m, va, (rte_iova_t)(uintptr_t)va, len, &s->shinfo);
		m->data_len = len;
		ms[k]->next = m;
		skip = 0;
	}
	return ms[0];
}

/* FERRY_ZC_WHY_MAX: lend it; else why not. */
static inline enum ferry_zc_why
why_copy(const struct ferry_zcq *q, const struct ferry_vchain *c, uint8_t mode, uint32_t lent)
{
	if (mode == FERRY_ZC_OFF)
		return FERRY_ZC_WHY_OFF;
	if (c->len <= FERRY_ZC_HDR || (mode == FERRY_ZC_AUTO && c->len < FERRY_ZC_MIN_AUTO))
		return FERRY_ZC_WHY_SMALL;
	if (unlikely(ferry_zc_env.noseg_ports != 0))
		return FERRY_ZC_WHY_TXSEG;
	if (ferry_zc_env.dma_ports != 0 && q->mem->dma != FERRY_ZC_DMA_MAPPED)
		return FERRY_ZC_WHY_DMA;
	if (q->inflight + lent >= q->bound || q->n_free == 0)
		return FERRY_ZC_WHY_INFLIGHT;
	return FERRY_ZC_WHY_MAX;
}

/* A hint: pull the buffer the head's first descriptor names into the cache ahead of take_one,
 * which reads and checks that descriptor again itself — nothing read here is trusted or kept,
 * and only an address inside guest memory is touched. The first line holds the virtio-net and
 * Ethernet headers (what a lent frame copies), the second the rest of its 64-byte head. */
static inline void
prefetch_frame(const struct ferry_zcq *q, uint16_t head)
{
	const struct vring_desc *d = &q->vr.desc[head & q->vr.mask];
	uint64_t addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED), contig;
	uint8_t *va = ferry_gmem_va(&q->mem->map, addr, &contig);

	if (va != NULL) {
		rte_prefetch0(va);
		if (contig > RTE_CACHE_LINE_SIZE)
			rte_prefetch0(va + RTE_CACHE_LINE_SIZE);
	}
}

/* The frame's virtio-net header h (ferry's copy) as its offload flags (lib/offload): a header
 * asking for nothing costs one test; a bad one marks the frame, dropped by the pipeline under
 * its reason (a lent frame's buffer goes back when it is freed, as any). */
static inline struct rte_mbuf *
vnet_hdr(const struct ferry_zcq *q, struct rte_mbuf *m, const struct virtio_net_hdr *h)
{
	if (likely((h->flags | h->gso_type) == 0))
		return m;
	enum ferry_drop why = ferry_ol_from_vnet(m, h, q->features);
	if (unlikely(why != FERRY_DROP_MAX))
		ferry_ol_mark_bad(m, why);
	return m;
}

/* One avail entry → one frame (or NULL: bad chain / no mbuf, already accounted). *lent counts
 * the burst's lent frames (not yet in q->inflight). */
static inline struct rte_mbuf *
take_one(struct ferry_zcq *q, struct rte_mempool *mp, uint8_t mode, uint16_t head, uint32_t *lent)
{
	struct ferry_vchain c;
	struct virtio_net_hdr vh;
	enum ferry_vq_err e;
	enum ferry_zc_why why;
	struct rte_mbuf *m = NULL;

	if (unlikely(head >= q->nslots)) {   /* (== vr.size: ring_follow never lets them differ) */
		q->st.bad[FERRY_VQ_EHEAD]++;
		return NULL;   /* no such buffer to give back */
	}
	if (unlikely(q->head_lent[head])) {
		q->st.bad[FERRY_VQ_EDUP]++;
		return NULL;   /* lent already: it goes back once, when the NIC is done */
	}
	e = ferry_vq_chain(&q->vr, &q->mem->map, head, &c);
	if (likely(e == FERRY_VQ_OK)) {
		/* the header, read once into ferry's copy (c.len >= hdr_len, checked by the pull) */
		if (c.len >= sizeof(vh))
			ferry_vq_chain_read(&c, 0, sizeof(vh), &vh);
		e = ferry_vq_chain_pull(&c, q->hdr_len);
	}
	if (unlikely(e != FERRY_VQ_OK)) {
		q->st.bad[e]++;
		ferry_vring_used_put(&q->vr, head, 0);
		return NULL;
	}
	why = why_copy(q, &c, mode, *lent);
	if (why == FERRY_ZC_WHY_MAX && (m = lend_frame(q, mp, &c, head)) != NULL) {
		q->st.zc++;
		q->st.zc_bytes += c.len;
		(*lent)++;
		return vnet_hdr(q, m, &vh);
	}
	m = copy_frame(mp, q->big, &c);
	ferry_vring_used_put(&q->vr, head, 0);
	if (unlikely(m == NULL)) {
		q->st.no_mbuf++;
		return NULL;
	}
	q->st.copy++;
	q->st.copy_bytes += c.len;
	if (why != FERRY_ZC_WHY_MAX)
		q->st.why[why]++;
	return vnet_hdr(q, m, &vh);
}

/* The RARP broadcast announcing a guest that moved here (ferry_zcq_announce), as the burst's
 * first frame: it goes through the switch like any frame of this port. 1 if built. */
static uint16_t
announce(struct ferry_zcq *q, struct rte_mempool *mp, struct rte_mbuf **pkts)
{
	uint64_t w = __atomic_exchange_n(&q->announce, 0, __ATOMIC_ACQUIRE);
	struct rte_ether_addr mac;

	for (int i = 0; i < 6; i++)
		mac.addr_bytes[i] = (uint8_t)(w >> (8 * i));
	pkts[0] = rte_net_make_rarp_packet(mp, &mac);
	if (pkts[0] == NULL) {
		q->st.no_mbuf++;
		return 0;
	}
	q->st.announced++;
	return 1;
}

uint16_t
ferry_zcq_rx(struct ferry_zcq *q, struct rte_mempool *mp, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t old, k = 0, avail, heads[FERRY_BURST];
	uint32_t lent = 0;
	uint8_t mode;

	if (!rte_spinlock_trylock(&q->lock))
		return 0;   /* another PMD (poll lists moving) or the stop path has it */
	if (unlikely(q->hold)) {
		rte_spinlock_unlock(&q->lock);
		return 0;   /* the dirty log is changing (ferry_zcq_hold), or the ring was refused */
	}
	if (unlikely(__atomic_load_n(&q->announce, __ATOMIC_RELAXED) != 0) && n != 0) {
		k = announce(q, mp, pkts);
		n -= k;
	}
	old = q->vr.last_used;
	mode = __atomic_load_n(&q->mode, __ATOMIC_RELAXED);
	{   /* a PMD's loop stamp (ferry_zc_batch_tsc), else an rdtsc */
		const struct ferry_zc_batch *b = &RTE_PER_LCORE(ferry_zc_batch);
		q->now = b->on ? b->tsc : rte_rdtsc();
	}
	ferry_zcq_reap(q);
	give_back_stale(q);
	avail = ferry_vring_avail_count(&q->vr);
	n = RTE_MIN(n, RTE_MIN(avail, (uint16_t)RTE_DIM(heads)));
	/* the burst's heads (each read once), their descriptors and buffers fetched ahead: the
	 * guest wrote them on another core, and misses taken together overlap */
	for (uint16_t i = 0; i < n; i++) {
		heads[i] = ferry_vring_avail_take(&q->vr);
		rte_prefetch0(&q->vr.desc[heads[i] & q->vr.mask]);
	}
	for (uint16_t i = 0; i < RTE_MIN(n, (uint16_t)PREFETCH_AHEAD); i++)
		prefetch_frame(q, heads[i]);
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			prefetch_frame(q, heads[i + PREFETCH_AHEAD]);
		struct rte_mbuf *m = take_one(q, mp, mode, heads[i], &lent);
		if (m != NULL)
			pkts[k++] = m;   /* (k may start at 1: an announce) */
	}
	if (lent != 0) {
		/* the burst's lent frames, accounted once: in flight, and one reference each on the
		 * memory table (= lent x ferry_zc_mem_get). Nothing can have freed them yet: they are
		 * still in pkts (and zc_done only queues; the owner, us, counts). */
		q->inflight += lent;
		q->held += lent;
		if (q->inflight > q->st.inflight_max)
			q->st.inflight_max = q->inflight;
		__atomic_add_fetch(&q->mem->refcnt, lent, __ATOMIC_RELAXED);
	}
	ferry_zcq_used_flush(q, old);
	rte_spinlock_unlock(&q->lock);
	return k;
}
