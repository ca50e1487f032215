/* ferry_zc.h — ferry's own dequeue of a guest's TX ring, lending guest buffers to NICs (zero-copy).
 *
 * A vhost-user port whose "zero_copy" is not "off" and whose guest negotiated a split ring without
 * IN_ORDER or IOMMU_PLATFORM (IOVA-as-VA process) is read by ferry itself instead of
 * rte_vhost_dequeue_burst. Each frame becomes either
 *   - a copy (one or more ordinary mbufs; the descriptor goes back to the guest at once), or
 *   - a lent frame: the first FERRY_ZC_HDR bytes copied into an ordinary head mbuf — everything the
 *     switch inspects or edits (MACs, VLAN, L3/L4 for hashing) is then ferry's private copy, so a
 *     guest rewriting its buffer cannot change where a frame goes — and the rest chained as mbufs
 *     attached to guest memory (rte_pktmbuf_attach_extbuf). The descriptor goes back to the guest
 *     when the last of those is freed (the NIC finished), from whatever thread frees it (a PMD
 *     collects its completions and queues them once per poll round) — or,
 *     if the NIC still holds it FERRY_ZC_RETURN_MS later, then: many drivers free transmitted
 *     mbufs only when their ring wraps, and DPDK 22.11's generic reclaim (rte_eth_tx_done_cleanup)
 *     wedges igb queues on chained frames. Giving a buffer back early is safe: the NIC had ms to
 *     read it, the headers ferry routed on are its own copy, and the memory stays mapped until
 *     the mbufs are freed.
 * Lending stops at a per-queue bound (half the ring) so the guest never runs out of TX buffers,
 * and small frames are copied (cheaper). Guest memory is mapped by ferry itself (the region fds,
 * MAP_SHARED) and, for DMA devices, into the VFIO container; a mapping lives until the guest has
 * left AND every buffer lent from it has come back — rte_vhost unmapping its own copy never
 * invalidates a lent buffer. */
#ifndef FERRY_ZC_H
#define FERRY_ZC_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <rte_per_lcore.h>
#include <rte_spinlock.h>
#include "ferry_virtq.h"

#define FERRY_ZC_HDR      64     /* bytes copied into the head mbuf of a lent frame */
#define FERRY_ZC_RETURN_MS 10    /* a lent buffer the NIC still holds after this is given back */
#define FERRY_ZC_MIN_AUTO 512    /* "auto": copy frames shorter than this (doc/perf/results-zc-*) */

/* Why a frame was copied. */
enum ferry_zc_why {
	FERRY_ZC_WHY_OFF,        /* the port's zero_copy is "off" */
	FERRY_ZC_WHY_SMALL,      /* shorter than the crossover (or than FERRY_ZC_HDR with "on") */
	FERRY_ZC_WHY_INFLIGHT,   /* the queue already lends its bound */
	FERRY_ZC_WHY_DMA,        /* a DMA device cannot reach this guest's memory (IOMMU map) */
	FERRY_ZC_WHY_TXSEG,      /* a port cannot send chained external buffers */
	FERRY_ZC_WHY_MAX
};
extern const char *const ferry_zc_why_names[FERRY_ZC_WHY_MAX];

/* Why a whole port uses rte_vhost's copying dequeue instead. */
enum ferry_zc_state {
	FERRY_ZC_ACTIVE,         /* ferry's own dequeue */
	FERRY_ZC_STATE_OFF,      /* zero_copy "off" */
	FERRY_ZC_IOVA_PA,        /* this process runs IOVA-as-PA: guest memory has no usable IOVA */
	FERRY_ZC_VIOMMU,         /* the guest negotiated IOMMU_PLATFORM (descriptors carry IOVAs) */
	FERRY_ZC_PACKED,         /* packed ring negotiated */
	FERRY_ZC_IN_ORDER,       /* IN_ORDER negotiated: completions here are out of order */
	FERRY_ZC_NO_MEM,         /* guest memory could not be mapped */
	FERRY_ZC_NO_GUEST,       /* no guest connected */
	FERRY_ZC_BAD_RING,       /* the guest resized or moved a running ring beyond use: that ring is
				  * out of the datapath until the guest resets the device */
	FERRY_ZC_BAD_MEM,        /* the guest truncated a memory file under ferry (SIGBUS caught) */
	FERRY_ZC_STATE_MAX
};
extern const char *const ferry_zc_state_names[FERRY_ZC_STATE_MAX];

enum ferry_zc_dma { FERRY_ZC_DMA_NONE, FERRY_ZC_DMA_MAPPED, FERRY_ZC_DMA_FAILED,
		    FERRY_ZC_DMA_WITHHELD };

/* Where lent frames may go: maintained by the switch as DPDK ports come and go. */
struct ferry_zc_env {
	uint32_t dma_ports;      /* ports on a DMA bus (PCI): need the guest mapped in the IOMMU */
	uint32_t noseg_ports;    /* ports that cannot transmit chained external buffers */
};
extern struct ferry_zc_env ferry_zc_env;

/* One guest memory table, mapped by ferry. Reference-counted: the device holds one, every lent
 * buffer one. The last put hands it to ferry_zc_reap (control thread) for unmapping. */
struct ferry_zc_mem {
	struct ferry_gmem_map map;
	void *base[FERRY_GMEM_MAX_REGIONS];
	uint64_t len[FERRY_GMEM_MAX_REGIONS];
	uint64_t lib_va[FERRY_GMEM_MAX_REGIONS];   /* rte_vhost's address of each region */
	uint32_t refcnt;
	uint8_t dma;                               /* enum ferry_zc_dma */
	struct ferry_zc_mem *next;                 /* live list */
	struct ferry_zc_mem *next_retired;         /* retired stack */
};

struct ferry_zc_stats {
	uint64_t zc, copy, zc_bytes, copy_bytes;
	uint64_t why[FERRY_ZC_WHY_MAX];
	uint64_t bad[FERRY_VQ_ERR_MAX];
	uint64_t no_mbuf;        /* frames dropped: no mbuf */
	uint64_t forced;         /* lent buffers returned to a stopping guest before the NIC was done */
	uint64_t early;          /* lent buffers given back after FERRY_ZC_RETURN_MS at the NIC */
	uint64_t calls;          /* guest interrupts raised */
	uint64_t announced;      /* RARPs sent for a guest that moved here (live migration) */
	uint64_t bad_ring;       /* ring changes refused (resize, unmappable re-address) */
	uint64_t readdressed;    /* ring moves followed (SET_VRING_ADDR to new valid addresses) */
	uint32_t inflight_max;
};

/* t += s (inflight_max: the larger). */
void ferry_zc_stats_add(struct ferry_zc_stats *t, const struct ferry_zc_stats *s);

/* A lent frame's slot (its state is the owner's alone): LENT (the guest waits for the buffer) →
 * FREE when the owner reaps the completion, or LENT → RETURNED (given back to the guest before the
 * mbufs were freed: ring stopping, or the NIC sat on it) → FREE at the completion. A completion
 * only queues the slot's index: no state is shared with the freeing thread. */
enum { FERRY_ZC_SLOT_FREE, FERRY_ZC_SLOT_LENT, FERRY_ZC_SLOT_RETURNED };

struct ferry_zcq;

struct ferry_zc_slot {
	struct rte_mbuf_ext_shared_info shinfo;
	struct ferry_zcq *q;
	struct ferry_zc_mem *mem;
	uint64_t tsc;            /* when it was lent */
	uint16_t head;           /* the guest's descriptor */
	uint16_t idx;            /* this slot */
	uint8_t state;           /* owner only */
};

/* One guest TX ring. Its owner is whoever holds lock: the PMD polling it (trylock per burst) or
 * the thread stopping it. Completions arrive on `done` from any thread.
 * Ring changes while the queue runs (issue #21): slot[], free_idx[], head_lent[] and done are
 * sized for nslots, the ring size at creation, and nothing ever changes that — every point that
 * re-reads the ring from rte_vhost (remap, release, re-enable) refuses a ring of another size
 * (the queue leaves the datapath for good: FERRY_ZCQ_BROKEN). A ring moved to new addresses
 * (SET_VRING_ADDR) is followed through ferry's own memory table (validated like at creation). A
 * new base (SET_VRING_BASE) is never adopted: ferry's indexes stand (see ferry_zc_ring_msg_ok). */
struct ferry_zcq {
	rte_spinlock_t lock;
	struct ferry_vring vr;
	struct ferry_zc_mem *mem;
	int vid;
	uint16_t vring;          /* rte_vhost ring index (guest TX: odd) */
	uint16_t hdr_len;        /* virtio-net header: 10 or 12 */
	uint64_t features;       /* negotiated: which header fields it may use (lib/offload) */
	struct rte_mempool *big; /* a copy longer than one mbuf of the burst's pool goes into one
				  * of these (64 KB, a TSO guest's: lib/port), NULL: chained */
	uint16_t bound;          /* buffers lent at most */
	uint16_t nslots;         /* ring size the arrays were built for: never changes */
	uint64_t ring_gpa[3];    /* desc, avail, used as mapped (guest physical) */
	uint8_t mode;            /* enum ferry_zc_mode, may change at runtime */
	uint8_t log;             /* VHOST_F_LOG_ALL negotiated: dirty-log used ring writes */
	uint8_t hold;            /* FERRY_ZCQ_HELD | FERRY_ZCQ_BROKEN: out of the datapath (lock) */
	uint8_t call_pending;    /* an interrupt could not be raised (ring locked): retry */
	uint64_t announce;       /* a MAC to announce (RARP) in the next burst, bit 48 set; 0: none */
	uint32_t inflight;       /* lent and not yet back with the guest (owner writes) */
	uint32_t held;           /* slots whose mbufs are still out (owner writes) */
	uint64_t now, next_check, return_tsc;   /* tsc: this burst, next stale scan, the limit */
	uint16_t n_free;
	uint16_t *free_idx;      /* free slots (owner) */
	uint8_t *head_lent;      /* [head]: lent and not given back (owner) */
	struct rte_ring *done;   /* slot indexes whose mbufs were freed, from any thread */
	struct ferry_zc_stats st;
	struct ferry_zcq *next_dead;
	struct ferry_zc_slot slot[];
} __rte_cache_aligned;

/* --- guest memory (zc_mem.c); vhost and control threads --- */
struct ferry_zc_mem *ferry_zc_mem_create(int vid, char *err, size_t errlen);
/* The same from a copy of a table (rte_vhost_get_mem_table's, fds its own): off the vhost thread. */
struct rte_vhost_memory;
struct ferry_zc_mem *ferry_zc_mem_create_table(const struct rte_vhost_memory *vm, char *err,
					       size_t errlen);
/* Does vid's current memory table still match m? */
bool ferry_zc_mem_current(const struct ferry_zc_mem *m, int vid);
void ferry_zc_mem_get(struct ferry_zc_mem *m);
void ferry_zc_mem_put(struct ferry_zc_mem *m);        /* any thread */
void ferry_zc_mem_put_n(struct ferry_zc_mem *m, uint32_t k);   /* k references at once */
/* A DMA device appeared: map every live memory table not yet mapped. */
void ferry_zc_mem_dma_retry(void);
/* Control thread: unmap retired memory tables, free stopped queues with nothing lent. Returns
 * how many objects are still waiting for lent buffers. */
unsigned ferry_zc_reap(void);
unsigned ferry_zc_mem_reap(void);   /* (the memory part of ferry_zc_reap) */

/* --- SIGBUS in guest memory (zc_guard.c): a guest truncating its memory file cannot kill ferryd;
 * see the file's top comment --- */
void ferry_zc_guard_add(void *base, uint64_t len, int fd);   /* ferry's own mapping of fd */
void ferry_zc_guard_del(void *base);                         /* ... before it is unmapped */
/* From the vhost-user message hooks of device vid, before (post false) and after rte_vhost
 * handled request req: follows rte_vhost's own mappings (regions, dirty log). state: where a
 * fault (or a refused ring) marks the device (the port's zc_state), NULL: unchanged. */
void ferry_zc_guard_msg(int vid, uint32_t req, bool post, uint8_t *state);
void ferry_zc_guard_forget(int vid);         /* the connection is gone (before rte_vhost unmaps) */
void ferry_zc_guard_forget_state(const uint8_t *state);   /* the port is gone */
void ferry_zc_guard_mark(int vid, uint8_t zc_state);      /* vid's state := zc_state */
uint64_t ferry_zc_guard_hits(void);          /* SIGBUS repaired so far */
void ferry_zc_guard_report(void);            /* control thread: log new hits */

/* --- queues (zc_ctl.c) --- */
/* Is ferry's own dequeue possible for this device? FERRY_ZC_ACTIVE or the reason it is not. */
enum ferry_zc_state ferry_zc_eligible(uint8_t mode, uint64_t features);
#define FERRY_ZCQ_HELD   1   /* ferry_zcq_hold .. ferry_zcq_release */
#define FERRY_ZCQ_BROKEN 2   /* a ring change was refused: never back in the datapath */

struct ferry_zcq *ferry_zcq_create(int vid, uint16_t vring, struct ferry_zc_mem *mem,
				   uint64_t features, uint8_t mode, int socket);
/* Stop: take the ring, wait up to wait_ms for lent buffers, give every remaining one back to the
 * guest, sync rte_vhost's ring indexes.
 * The queue is then retired (freed by ferry_zc_reap when nothing is lent any more). */
void ferry_zcq_stop(struct ferry_zcq *q, unsigned wait_ms);
/* Hand a stopped queue to ferry_zc_reap (it is freed once nothing is lent any more). */
void ferry_zcq_retire(struct ferry_zcq *q);
/* Switch a queue to a new memory table (after the guest's memory changed; ring disabled). -1: the
 * ring is not in it (the queue keeps the old table), or has another size (the queue is broken). */
int ferry_zcq_remap(struct ferry_zcq *q, struct ferry_zc_mem *mem);
/* The guest re-enabled the ring (or rte_vhost re-read it): compare rte_vhost's ring with the
 * queue's — another size breaks the queue, new addresses are followed. Returns false if broken. */
bool ferry_zcq_refresh(struct ferry_zcq *q);
static inline bool
ferry_zcq_broken(const struct ferry_zcq *q)
{
	return __atomic_load_n(&q->hold, __ATOMIC_RELAXED) & FERRY_ZCQ_BROKEN;
}
/* vhost thread, before rte_vhost handles SET_VRING_NUM (resize) or SET_VRING_BASE for ring
 * `vring` of device vid; q: ferry's queue on that ring or NULL. false: refuse the message —
 * a running ring ferry reads is never resized or re-based, and no ring rte_vhost has mapped is
 * resized (rte_vhost would index it with the new size through pointers checked for the old). */
bool ferry_zc_ring_msg_ok(int vid, struct ferry_zcq *q, uint32_t vring, bool resize,
			  uint32_t num);
/* Live migration and memory changes. rte_vhost swaps or maps the dirty log, and re-reads ring
 * addresses, while it handles SET_LOG_BASE, SET_FEATURES (VHOST_F_LOG_ALL), SET_VRING_ADDR and
 * SET_MEM_TABLE under its own ring locks, which ferry's dequeue does not take. hold takes the
 * queue out of the datapath (returns once no burst is inside; PMDs skip it until release) with
 * rte_vhost's ring indexes synced; release puts it back, dirty-logging its used ring writes from
 * then on if log. */
void ferry_zcq_hold(struct ferry_zcq *q);
void ferry_zcq_release(struct ferry_zcq *q, bool log);   /* also ferry_zcq_refresh's checks */
/* The guest moved here (QEMU's SEND_RARP after a live migration; rte_vhost would inject the RARP
 * into its own dequeue, which this ring does not use): the next burst starts with a RARP
 * broadcast from mac, so switches learn where it went. */
void ferry_zcq_announce(struct ferry_zcq *q, const uint8_t mac[6]);

/* --- datapath (zc_rx.c); the last three for zc_ctl.c, under the queue lock --- */
uint16_t ferry_zcq_rx(struct ferry_zcq *q, struct rte_mempool *mp, struct rte_mbuf **pkts,
		      uint16_t n);
void ferry_zcq_reap(struct ferry_zcq *q);
bool ferry_zcq_give_back(struct ferry_zcq *q, struct ferry_zc_slot *s);
void ferry_zcq_used_flush(struct ferry_zcq *q, uint16_t old);

/* --- completions, batched per PMD lcore (zc_rx.c) ---
 * A lent frame's completion (the NIC freed its mbufs) queues the slot on its queue's done ring.
 * On a PMD lcore that opted in, completions are collected and queued once per poll round, one
 * ring operation per queue instead of one per frame; elsewhere each is queued at once. */
#define FERRY_ZC_BATCH 64
struct ferry_zc_batch {
	uint16_t n;
	uint8_t on;
	uint64_t tsc;   /* while on: the PMD loop's last TSC stamp, the dequeue's clock (zc_rx.c) */
	struct ferry_zc_slot *s[FERRY_ZC_BATCH];
};
RTE_DECLARE_PER_LCORE(struct ferry_zc_batch, ferry_zc_batch);

/* A PMD lcore that opted in: its loop's TSC now (a stamp it took anyway), which the zero-copy
 * dequeue on this lcore uses as its clock instead of an rdtsc per guest rx call (its deadlines
 * are milliseconds: a stamp a few microseconds old is as good). */
static inline void
ferry_zc_batch_tsc(uint64_t tsc)
{
	RTE_PER_LCORE(ferry_zc_batch).tsc = tsc;
}

void ferry_zc_batch_flush_slow(struct ferry_zc_batch *b);
/* Queue this lcore's collected completions (a PMD, after each round's transmits). */
static inline void
ferry_zc_batch_flush(void)
{
	struct ferry_zc_batch *b = &RTE_PER_LCORE(ferry_zc_batch);

	if (b->n != 0)
		ferry_zc_batch_flush_slow(b);
}
/* Collect completions on this lcore from now on (on) or no longer (off: flushes first). */
void ferry_zc_batch_enable(bool on);

/* --- ferry's own enqueue (copy) into a guest's receive ring (zc_enq.c; doc/rx-path.md) ---
 * A receive ring ferry writes instead of rte_vhost_enqueue_burst: the same eligibility as the
 * dequeue (ferry_zc_eligible), the same guest memory (ferry_zc_mem) and the same life cycle
 * (created when the ring is enabled and the memory mapped, held around dirty-log and ring
 * changes, remapped on a new memory table, stopped with rte_vhost's indexes synced when the
 * device goes). A struct of its own, not a ferry_zcq with a direction: a receive ring lends
 * nothing (no slots, completions, bound or announce), and the TX queue's code stays as tested.
 * Several PMDs may send to one guest ring: lock serialises them (uncontended with one PMD per
 * ring, as rte_vhost's access lock was). */
struct ferry_rxq_stats {
	uint64_t frames, bytes;
	uint64_t noroom;         /* bursts stopped by a ring without room */
	uint64_t too_big;        /* frames more than the guest's buffers hold (counted drops.mtu) */
	uint64_t data_valid;     /* frames given VIRTIO_NET_HDR_F_DATA_VALID (a NIC's checksum-good) */
	uint64_t calls;          /* guest interrupts raised */
	uint64_t bad_ring;       /* ring changes refused */
	uint64_t readdressed;    /* ring moves followed */
	uint64_t bad[FERRY_VQ_ERR_MAX];   /* malformed receive chains, by reason (frame dropped) */
};
void ferry_rxq_stats_add(struct ferry_rxq_stats *t, const struct ferry_rxq_stats *s);

struct ferry_rxq {
	rte_spinlock_t lock;
	struct ferry_vring vr;
	struct ferry_zc_mem *mem;
	int vid;
	uint16_t vring;          /* rte_vhost ring index (guest RX: even) */
	uint16_t nslots;         /* ring size at creation: never changes */
	uint16_t hdr_len;        /* 10, or 12 with VERSION_1 / MRG_RXBUF */
	bool mrg;                /* MRG_RXBUF negotiated */
	uint8_t log;             /* VHOST_F_LOG_ALL: dirty-log every guest write */
	uint8_t hold;            /* FERRY_ZCQ_HELD | FERRY_ZCQ_BROKEN */
	uint8_t call_pending;
	uint64_t features;
	uint64_t ring_gpa[3];
	struct ferry_rxq_stats st;
	struct ferry_rxq *next_dead;
	struct ferry_vq_rxplan plan;   /* one frame's scratch (under lock) */
} __rte_cache_aligned;

struct ferry_rxq *ferry_rxq_create(int vid, uint16_t vring, struct ferry_zc_mem *mem,
				   uint64_t features, int socket);
void ferry_rxq_stop(struct ferry_rxq *q);      /* rte_vhost's indexes synced; out for good */
void ferry_rxq_retire(struct ferry_rxq *q);    /* freed by ferry_zc_reap (control thread) */
int ferry_rxq_remap(struct ferry_rxq *q, struct ferry_zc_mem *mem);
bool ferry_rxq_refresh(struct ferry_rxq *q);
void ferry_rxq_hold(struct ferry_rxq *q);
void ferry_rxq_release(struct ferry_rxq *q, bool log);
/* Copy m[0, n) into the guest's ring (they stay the caller's to free): returns how many went;
 * len[] (each frame's length) is compacted to the frames sent, in order; *too_big counts the
 * frames more than the guest's buffers can hold (skipped); the burst stops at the first frame
 * the ring has no room for (the rest, and malformed chains' frames, are the caller's tx_full). */
uint16_t ferry_rxq_tx(struct ferry_rxq *q, struct rte_mbuf **m, uint32_t *len, uint16_t n,
		      uint16_t *too_big);
void ferry_rxq_reap(void);   /* (ferry_zc_reap's part) */

#endif
