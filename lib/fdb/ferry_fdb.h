/* ferry_fdb.h — the MAC+VLAN forwarding table.
 *
 * An rte_hash of 64-bit keys (MAC | VLAN << 48) with lock-free readers (RW_CONCURRENCY_LF), and a side
 * array of entries indexed by the hash's key position. Concurrency:
 *  - PMDs look up in bulk with no lock; an entry is trusted only if its stored key matches the looked-up
 *    key (written last, with release), so a reader never sees a half-written entry.
 *  - refreshing the age or moving a learned MAC is a plain store by the PMD that saw the frame;
 *  - a new MAC (or an aged one coming back) takes rte_hash's writer lock inside rte_hash_add_key:
 *    the only lock a PMD can touch, held for one insert, never on lookup or refresh;
 *  - deletions (aging, RPC, port removal) happen on the control thread; freed key slots are reused only
 *    after every PMD has passed a quiescent state (rte_hash's RCU integration on the PMDs' QSBR).
 * Capacity: exactly `size` entries. rte_hash itself takes more (with MULTI_WRITER_ADD it keeps
 * 63 spare slots per possible lcore for its per-lcore caches: a table of 64 took ~4000), so
 * ferry counts: every insert first reserves one of `size` (an atomic add on the new-MAC path
 * only, which takes rte_hash's writer lock anyway), every delete gives one back. Static entries a
 * port needs are changed all or nothing (ferry_fdb_pins_*): a full table refuses the change and
 * leaves the old pins in place.
 * Learned entries per port: learned[port] counts each port's learned (not static) entries, exactly:
 * a PMD reserves one (up to the port's mac_limit) before it inserts or moves a MAC to its port,
 * and an entry changes owner only by compare-and-swap of its port (a move, by a PMD) or exchange
 * with FERRY_PORT_NONE (deletion, or a static pin taking it over, by the control thread), so
 * exactly one thread moves each count. */
#ifndef FERRY_FDB_H
#define FERRY_FDB_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_rcu_qsbr.h>
#include "ferry_common.h"

struct ferry_fdb_entry {
	uint64_t key;        /* 0 = free (a zero MAC is never learned) */
	uint16_t port;
	uint8_t is_static;
	uint8_t claimed;     /* an inserter owns this new slot (two PMDs learning one MAC at once) */
	uint32_t seen;       /* ferry_now_s when last refreshed */
};

struct ferry_fdb {
	struct rte_hash *h;
	struct ferry_fdb_entry *e;   /* indexed by rte_hash key position */
	uint32_t n_slots;
	uint32_t size;
	uint32_t used;               /* entries live or reserved, <= size (atomic) */
	uint32_t learned[FERRY_MAX_PORTS];   /* per port: learned entries live or reserved (atomic) */
};

/* LIMIT: the port has mac_limit learned entries already; nothing changed */
enum ferry_learn { FERRY_LEARN_OK, FERRY_LEARN_NEW, FERRY_LEARN_MOVED, FERRY_LEARN_FULL,
		   FERRY_LEARN_LIMIT };

/* A PMD's private exact-match cache in front of rte_hash: key -> entry position, direct-mapped.
 * It can be stale but never wrong: a hit counts only if the entry at that position still holds the
 * key (positions index a fixed array, so a stale one is just a miss). Saves the hash walk for the
 * stations a PMD sees again and again. */
#define FERRY_FDB_CACHE_BITS 12
struct ferry_fdb_cache {
	struct {
		uint64_t key;
		int32_t pos;
		uint32_t pad;
	} slot[1u << FERRY_FDB_CACHE_BITS];
	uint64_t hits, misses;
};

struct ferry_fdb *ferry_fdb_create(const char *name, uint32_t size, int socket,
				   struct rte_rcu_qsbr *qsv);
void ferry_fdb_free(struct ferry_fdb *fdb);

/* Bulk lookup of n <= 64 keys; pos[i] = entry position or -1. */
void ferry_fdb_lookup_bulk(const struct ferry_fdb *fdb, const uint64_t *keys, unsigned n,
			   int32_t *pos);
void ferry_fdb_cache_init(struct ferry_fdb_cache *c);
/* The same through a PMD's cache (keys missing there go to rte_hash in one bulk call). */
void ferry_fdb_lookup_cached(const struct ferry_fdb *fdb, struct ferry_fdb_cache *c,
			     const uint64_t *keys, unsigned n, int32_t *pos);

static inline const struct ferry_fdb_entry *
ferry_fdb_entry(const struct ferry_fdb *fdb, int32_t pos)
{
	return &fdb->e[pos];
}

enum ferry_learn ferry_fdb_learn_slow(struct ferry_fdb *fdb, uint64_t key, uint16_t port,
				      int32_t pos, uint32_t now, uint32_t limit);

/* Learn key on port; pos is this burst's lookup result for key. Never moves a static entry.
 * limit: the port's mac_limit (0: none); a new MAC or a move beyond it is refused (LIMIT).
 * Inline: the common case, a known station on its own port, refreshes its age at most once a
 * second (so the entry's line is not dirtied per frame); everything else takes the slow path. */
static inline enum ferry_learn
ferry_fdb_learn(struct ferry_fdb *fdb, uint64_t key, uint16_t port, int32_t pos, uint32_t now,
		uint32_t limit)
{
	if (likely(pos >= 0)) {
		struct ferry_fdb_entry *e = &fdb->e[pos];
		if (likely(e->port == port && !e->is_static)) {
			if (e->seen != now)
				e->seen = now;
			return FERRY_LEARN_OK;
		}
	}
	return ferry_fdb_learn_slow(fdb, key, port, pos, now, limit);
}

/* Control thread. 0, or -ENOSPC when the table holds `size` entries already. */
int ferry_fdb_add_static(struct ferry_fdb *fdb, uint64_t key, uint16_t port);

/* Replacing one port's static entries (old keys -> new keys) all or nothing. prepare reserves
 * room for the new keys that are not in the table yet and adds every new key (an entry there
 * before, learned or another port's, is kept aside); the old keys stay. Then commit deletes the
 * old keys not in the new set, or abort puts everything back as it was. prepare returns 0, or
 * -ENOSPC (table full: nothing changed; *need says how many free entries it lacked) or -ENOMEM. */
struct ferry_fdb_pins {
	struct ferry_fdb *fdb;
	uint16_t port;
	uint32_t n_new, n_old;
	uint32_t n_done;                 /* new keys added so far */
	uint32_t budget;                 /* entries reserved and not used yet */
	uint64_t *keys;                  /* n_new new keys, then n_old old ones not among them */
	struct ferry_fdb_entry *before;  /* [n_new + n_old]: what the table held for each key */
};
int ferry_fdb_pins_prepare(struct ferry_fdb *fdb, uint16_t port, const uint64_t *old_keys,
			   unsigned n_old, const uint64_t *new_keys, unsigned n_new,
			   struct ferry_fdb_pins *t, unsigned *need);
void ferry_fdb_pins_commit(struct ferry_fdb_pins *t);
void ferry_fdb_pins_abort(struct ferry_fdb_pins *t);
/* Entries that can still be added (size minus live and reserved ones). */
unsigned ferry_fdb_free_count(const struct ferry_fdb *fdb);
int ferry_fdb_del(struct ferry_fdb *fdb, uint64_t key);            /* 0 or -ENOENT */
/* Remove entries of port (FERRY_PORT_NONE = all ports); static ones only if include_static. */
unsigned ferry_fdb_flush(struct ferry_fdb *fdb, uint16_t port, bool include_static);
unsigned ferry_fdb_age(struct ferry_fdb *fdb, uint32_t now, uint32_t max_age);
unsigned ferry_fdb_count(const struct ferry_fdb *fdb);
/* The learned entries of port (static ones not counted). */
unsigned ferry_fdb_learned(const struct ferry_fdb *fdb, uint16_t port);
/* Visit every live entry; stop early when fn returns non-zero. */
void ferry_fdb_walk(const struct ferry_fdb *fdb,
		    int (*fn)(const struct ferry_fdb_entry *e, void *arg), void *arg);

#endif
