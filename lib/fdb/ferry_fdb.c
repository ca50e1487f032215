/* ferry_fdb.c — MAC+VLAN table on rte_hash: bulk lookup and learning for PMDs, aging and edits for
 * the control thread. See ferry_fdb.h for the concurrency rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include "ferry_fdb.h"

struct ferry_fdb *
ferry_fdb_create(const char *name, uint32_t size, int socket, struct rte_rcu_qsbr *qsv)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = size,
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
			      RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash_rcu_config rcu = { .v = qsv, .mode = RTE_HASH_QSBR_MODE_DQ };
	struct ferry_fdb *fdb = rte_zmalloc_socket("fdb", sizeof(*fdb), 0, socket);

	if (fdb == NULL)
		return NULL;
	fdb->size = size;
	fdb->h = rte_hash_create(&hp);
	if (fdb->h == NULL)
		goto fail;
	if (qsv != NULL && rte_hash_rcu_qsbr_add(fdb->h, &rcu) != 0)
		goto fail;
	fdb->n_slots = (uint32_t)rte_hash_max_key_id(fdb->h) + 1;
	fdb->e = rte_zmalloc_socket("fdb_entries", sizeof(*fdb->e) * fdb->n_slots,
				    RTE_CACHE_LINE_SIZE, socket);
	if (fdb->e == NULL)
		goto fail;
	return fdb;
fail:
	ferry_fdb_free(fdb);
	return NULL;
}

void
ferry_fdb_free(struct ferry_fdb *fdb)
{
	if (fdb == NULL)
		return;
	rte_hash_free(fdb->h);
	rte_free(fdb->e);
	rte_free(fdb);
}

void
ferry_fdb_lookup_bulk(const struct ferry_fdb *fdb, const uint64_t *keys, unsigned n, int32_t *pos)
{
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];

	for (unsigned i = 0; i < n; i++)
		kp[i] = &keys[i];
	rte_hash_lookup_bulk(fdb->h, kp, n, pos);
	for (unsigned i = 0; i < n; i++) {
		if (pos[i] < 0) {
			pos[i] = -1;   /* rte_hash says -ENOENT; callers and the cache use -1 */
			continue;
		}
		/* an entry still being written (or a reused slot) does not match: treat as a miss */
		if (__atomic_load_n(&fdb->e[pos[i]].key, __ATOMIC_ACQUIRE) != keys[i])
			pos[i] = -1;
	}
}

static inline uint32_t
cache_slot(uint64_t key)
{
	return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - FERRY_FDB_CACHE_BITS));
}

void
ferry_fdb_cache_init(struct ferry_fdb_cache *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < RTE_DIM(c->slot); i++)
		c->slot[i].pos = -1;
}

void
ferry_fdb_lookup_cached(const struct ferry_fdb *fdb, struct ferry_fdb_cache *c,
			const uint64_t *keys, unsigned n, int32_t *pos)
{
	uint64_t mkeys[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t mpos[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned nm = 0;
	uint64_t prev;
	int32_t ppos = -1;

	if (n == 0)
		return;
	prev = ~keys[0];   /* not a key of this batch's first run */
	for (unsigned i = 0; i < n; i++) {
		/* a run of one key (a burst of one flow): one probe for the whole run; a missed
		 * key's pos is -2 - its index in mkeys until rte_hash has answered */
		uint64_t k = keys[i];
		if (k != prev) {
			const typeof(c->slot[0]) *s = &c->slot[cache_slot(k)];
			int32_t sp = s->pos;
			prev = k;
			if (s->key == k && sp >= 0 &&
			    __atomic_load_n(&fdb->e[sp].key, __ATOMIC_ACQUIRE) == k) {
				ppos = sp;
			} else {
				ppos = -2 - (int32_t)nm;
				mkeys[nm++] = k;
			}
		}
		pos[i] = ppos;
	}
	c->hits += n - nm;
	c->misses += nm;
	if (nm == 0)
		return;
	ferry_fdb_lookup_bulk(fdb, mkeys, nm, mpos);
	for (unsigned k = 0; k < nm; k++) {
		if (mpos[k] >= 0) {
			typeof(c->slot[0]) *s = &c->slot[cache_slot(mkeys[k])];
			s->key = mkeys[k];
			s->pos = mpos[k];
		}
	}
	for (unsigned i = 0; i < n; i++)   /* the missed keys (and their runs) take their answers */
		if (pos[i] <= -2)
			pos[i] = mpos[-2 - pos[i]];
}

static void
entry_publish(struct ferry_fdb_entry *e, uint64_t key, uint16_t port, bool is_static, uint32_t now)
{
	e->port = port;
	e->is_static = is_static;
	e->seen = now;
	__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
}

/* Room for n more entries, taken atomically (PMDs learn concurrently): false when full. */
static bool
reserve(struct ferry_fdb *fdb, uint32_t n)
{
	uint32_t u = __atomic_load_n(&fdb->used, __ATOMIC_RELAXED);

	do {
		if (u > fdb->size || n > fdb->size - u)
			return false;
	} while (!__atomic_compare_exchange_n(&fdb->used, &u, u + n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void
give_back(struct ferry_fdb *fdb, uint32_t n)
{
	if (n != 0)
		__atomic_sub_fetch(&fdb->used, n, __ATOMIC_RELAXED);
}

/* Per-port learned counts (see ferry_fdb.h). */
static void
learned_add(struct ferry_fdb *fdb, uint16_t port, int32_t d)
{
	if (port < FERRY_MAX_PORTS)
		__atomic_add_fetch(&fdb->learned[port], (uint32_t)d, __ATOMIC_RELAXED);
}

/* Room for one more learned entry of port, up to limit (0: no limit): false at the limit. */
static bool
learned_reserve(struct ferry_fdb *fdb, uint16_t port, uint32_t limit)
{
	uint32_t *c = &fdb->learned[port];
	uint32_t u = __atomic_load_n(c, __ATOMIC_RELAXED);

	do {
		if (limit != 0 && u >= limit)
			return false;
	} while (!__atomic_compare_exchange_n(c, &u, u + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/* The control thread takes a live learned entry away from its port (to delete it or pin it):
 * its port becomes FERRY_PORT_NONE, so no PMD moves it any more, and that port's count drops.
 * Returns the port it had. */
static uint16_t
learned_take(struct ferry_fdb *fdb, struct ferry_fdb_entry *e)
{
	uint16_t old;

	if (e->is_static)
		return e->port;
	old = __atomic_exchange_n(&e->port, FERRY_PORT_NONE, __ATOMIC_ACQ_REL);
	learned_add(fdb, old, -1);
	return old;
}

unsigned
ferry_fdb_learned(const struct ferry_fdb *fdb, uint16_t port)
{
	return port < FERRY_MAX_PORTS ? __atomic_load_n(&fdb->learned[port], __ATOMIC_RELAXED) : 0;
}

enum insert_rc { INSERT_NEW, INSERT_EXISTS, INSERT_FAIL };

/* Add a key not found in the table, its room reserved by the caller. INSERT_NEW: published here
 * (the room is used); INSERT_EXISTS: another thread has it, published or about to be (the room
 * is not used); INSERT_FAIL: rte_hash refused. *pos: its position. */
static enum insert_rc
insert_key(struct ferry_fdb *fdb, uint64_t key, uint16_t port, bool is_static, uint32_t now,
	   int32_t *pos)
{
	struct ferry_fdb_entry *e;

	*pos = rte_hash_add_key(fdb->h, &key);
	if (*pos < 0)
		return INSERT_FAIL;
	e = &fdb->e[*pos];
	/* learned meanwhile by another PMD, earlier in this burst, or being published right now */
	if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) == key ||
	    __atomic_exchange_n(&e->claimed, 1, __ATOMIC_ACQ_REL) != 0)
		return INSERT_EXISTS;
	entry_publish(e, key, port, is_static, now);
	return INSERT_NEW;
}

/* A PMD moves learned entry e to port (refreshing it): one reservation on port, then the
 * entry's port swapped from the one it had; whoever changed it first (a move elsewhere, a
 * deletion) wins and this move does not happen. */
static enum ferry_learn
learn_move(struct ferry_fdb *fdb, struct ferry_fdb_entry *e, uint16_t port, uint32_t now,
	   uint32_t limit)
{
	uint16_t old;

	if (e->is_static)
		return FERRY_LEARN_OK;
	if (e->seen != now)   /* avoid dirtying the line on every frame */
		e->seen = now;
	old = __atomic_load_n(&e->port, __ATOMIC_RELAXED);
	if (likely(old == port) || old == FERRY_PORT_NONE)   /* NONE: being deleted */
		return FERRY_LEARN_OK;
	if (!learned_reserve(fdb, port, limit))
		return FERRY_LEARN_LIMIT;
	if (!__atomic_compare_exchange_n(&e->port, &old, port, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED)) {
		learned_add(fdb, port, -1);
		return FERRY_LEARN_OK;
	}
	learned_add(fdb, old, -1);
	return FERRY_LEARN_MOVED;
}

enum ferry_learn
ferry_fdb_learn_slow(struct ferry_fdb *fdb, uint64_t key, uint16_t port, int32_t pos, uint32_t now,
		     uint32_t limit)
{
	struct ferry_fdb_entry *e;

	if (pos >= 0)
		return learn_move(fdb, &fdb->e[pos], port, now, limit);
	if (!learned_reserve(fdb, port, limit))
		return FERRY_LEARN_LIMIT;
	if (!reserve(fdb, 1)) {
		learned_add(fdb, port, -1);
		return FERRY_LEARN_FULL;
	}
	switch (insert_key(fdb, key, port, false, now, &pos)) {
	case INSERT_NEW:
		return FERRY_LEARN_NEW;
	case INSERT_FAIL:
		give_back(fdb, 1);
		learned_add(fdb, port, -1);
		return FERRY_LEARN_FULL;
	default:
		break;
	}
	give_back(fdb, 1);
	learned_add(fdb, port, -1);
	e = &fdb->e[pos];
	if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) != key)
		return FERRY_LEARN_OK;   /* (not published yet: its inserter's port stands) */
	return learn_move(fdb, e, port, now, limit);
}

/* The position of the live entry for key, or -1. */
static int32_t
live_pos(const struct ferry_fdb *fdb, uint64_t key)
{
	int32_t pos = rte_hash_lookup(fdb->h, &key);

	return pos >= 0 && __atomic_load_n(&fdb->e[pos].key, __ATOMIC_ACQUIRE) == key ? pos : -1;
}

/* Make key a static entry of port (control thread), overwriting what the table has for it.
 * *before: that entry (key 0: there was none). *budget: reserved room, one used for a new key.
 * 0, or -ENOSPC (no budget left, or rte_hash refused). */
static int
pin_key(struct ferry_fdb *fdb, uint64_t key, uint16_t port, bool is_static, uint32_t seen,
	struct ferry_fdb_entry *before, uint32_t *budget)
{
	int32_t pos = live_pos(fdb, key);

	before->key = 0;
	if (pos < 0) {
		if (*budget == 0)
			return -ENOSPC;
		switch (insert_key(fdb, key, port, is_static, seen, &pos)) {
		case INSERT_NEW:
			(*budget)--;
			if (!is_static)
				learned_add(fdb, port, 1);
			return 0;
		case INSERT_FAIL:
			return -ENOSPC;
		default:   /* a PMD is publishing it as learned: wait, then overwrite it */
			while (__atomic_load_n(&fdb->e[pos].key, __ATOMIC_ACQUIRE) != key)
				rte_pause();
			break;
		}
	}
	*before = fdb->e[pos];
	before->port = learned_take(fdb, &fdb->e[pos]);   /* (a PMD may have just moved it) */
	entry_publish(&fdb->e[pos], key, port, is_static, seen);
	if (!is_static)
		learned_add(fdb, port, 1);
	return 0;
}

int
ferry_fdb_add_static(struct ferry_fdb *fdb, uint64_t key, uint16_t port)
{
	struct ferry_fdb_entry before;
	uint32_t budget = 0;
	int rc;

	if (live_pos(fdb, key) >= 0)   /* there already: needs no room */
		return pin_key(fdb, key, port, true, ferry_now_s, &before, &budget);
	if (!reserve(fdb, 1))
		return -ENOSPC;
	budget = 1;
	rc = pin_key(fdb, key, port, true, ferry_now_s, &before, &budget);
	give_back(fdb, budget);
	return rc;
}

/* give: return its room (a deletion for good; not while a pins change holds it) */
static void
entry_delete(struct ferry_fdb *fdb, struct ferry_fdb_entry *e, bool give)
{
	uint64_t key = e->key;

	__atomic_store_n(&e->key, 0, __ATOMIC_RELEASE);
	learned_take(fdb, e);
	rte_hash_del_key(fdb->h, &key);
	/* only now: an inserter that found the key still in rte_hash must not publish it */
	__atomic_store_n(&e->claimed, 0, __ATOMIC_RELEASE);
	if (give)
		give_back(fdb, 1);
}

static int
cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and deduplicate k[0, n); returns the new n. */
static unsigned
sort_unique(uint64_t *k, unsigned n)
{
	unsigned m = 0;

	qsort(k, n, sizeof(*k), cmp_key);
	for (unsigned i = 0; i < n; i++)
		if (m == 0 || k[m - 1] != k[i])
			k[m++] = k[i];
	return m;
}

static void
pins_free(struct ferry_fdb_pins *t)
{
	free(t->keys);
	free(t->before);
	t->keys = NULL;
	t->before = NULL;
}

int
ferry_fdb_pins_prepare(struct ferry_fdb *fdb, uint16_t port, const uint64_t *old_keys,
		       unsigned n_old, const uint64_t *new_keys, unsigned n_new,
		       struct ferry_fdb_pins *t, unsigned *need)
{
	uint32_t absent = 0, held, extra, avail;

	memset(t, 0, sizeof(*t));
	t->fdb = fdb;
	t->port = port;
	*need = 0;
	t->keys = malloc(sizeof(*t->keys) * (n_new + n_old + 1));
	t->before = calloc(n_new + n_old + 1, sizeof(*t->before));
	if (t->keys == NULL || t->before == NULL) {
		pins_free(t);
		return -ENOMEM;
	}
	memcpy(t->keys, new_keys, sizeof(*t->keys) * n_new);
	t->n_new = sort_unique(t->keys, n_new);
	/* the old pins to drop: this port's static entries that the new set does not keep */
	for (unsigned i = 0; i < n_old; i++) {
		int32_t pos = live_pos(fdb, old_keys[i]);
		if (pos < 0 || !fdb->e[pos].is_static || fdb->e[pos].port != port ||
		    bsearch(&old_keys[i], t->keys, t->n_new, sizeof(*t->keys), cmp_key) != NULL)
			continue;
		t->keys[t->n_new + t->n_old++] = old_keys[i];
	}
	t->n_old = sort_unique(t->keys + t->n_new, t->n_old);
	for (unsigned i = 0; i < t->n_new; i++)
		absent += live_pos(fdb, t->keys[i]) < 0;
	/* the dropped pins' room goes to the new keys (held, not given back, until commit) */
	held = t->n_old;
	extra = absent > held ? absent - held : 0;
	if (!reserve(fdb, extra)) {
		avail = ferry_fdb_free_count(fdb);
		*need = extra > avail ? extra - avail : 1;
		pins_free(t);
		return -ENOSPC;
	}
	t->budget = extra;
	for (unsigned j = 0; j < t->n_old; j++) {
		struct ferry_fdb_entry *e = &fdb->e[live_pos(fdb, t->keys[t->n_new + j])];
		t->before[t->n_new + j] = *e;
		entry_delete(fdb, e, false);
		t->budget++;
	}
	for (; t->n_done < t->n_new; t->n_done++) {
		if (pin_key(fdb, t->keys[t->n_done], port, true, ferry_now_s, &t->before[t->n_done],
			    &t->budget) != 0) {
			ferry_fdb_pins_abort(t);
			*need = 1;
			return -ENOSPC;
		}
	}
	return 0;
}

void
ferry_fdb_pins_commit(struct ferry_fdb_pins *t)
{
	give_back(t->fdb, t->budget);
	pins_free(t);
}

void
ferry_fdb_pins_abort(struct ferry_fdb_pins *t)
{
	struct ferry_fdb *fdb = t->fdb;
	struct ferry_fdb_entry scratch;

	for (uint32_t i = 0; i < t->n_done; i++) {   /* the new keys: as they were */
		const struct ferry_fdb_entry *b = &t->before[i];
		int32_t pos = live_pos(fdb, t->keys[i]);
		if (pos < 0)
			continue;
		if (b->key == 0) {
			entry_delete(fdb, &fdb->e[pos], false);
			t->budget++;
		} else {
			entry_publish(&fdb->e[pos], b->key, b->port, b->is_static, b->seen);
			if (!b->is_static)   /* a learned entry the pin had taken over, back */
				learned_add(fdb, b->port, 1);
		}
	}
	for (uint32_t j = 0; j < t->n_old; j++) {    /* the dropped pins back, in their held room */
		const struct ferry_fdb_entry *b = &t->before[t->n_new + j];
		if (pin_key(fdb, b->key, b->port, b->is_static, b->seen, &scratch, &t->budget) != 0)
			FERRY_LOG(ERR, "fdb: could not restore a static entry of port %u", b->port);
	}
	give_back(fdb, t->budget);
	pins_free(t);
}

unsigned
ferry_fdb_free_count(const struct ferry_fdb *fdb)
{
	uint32_t u = __atomic_load_n(&fdb->used, __ATOMIC_RELAXED);

	return u >= fdb->size ? 0 : fdb->size - u;
}

int
ferry_fdb_del(struct ferry_fdb *fdb, uint64_t key)
{
	int32_t pos = rte_hash_lookup(fdb->h, &key);

	if (pos < 0 || fdb->e[pos].key != key)
		return -ENOENT;
	entry_delete(fdb, &fdb->e[pos], true);
	return 0;
}

unsigned
ferry_fdb_flush(struct ferry_fdb *fdb, uint16_t port, bool include_static)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < fdb->n_slots; i++) {
		struct ferry_fdb_entry *e = &fdb->e[i];
		if (e->key == 0 || (e->is_static && !include_static))
			continue;
		if (port != FERRY_PORT_NONE && e->port != port)
			continue;
		entry_delete(fdb, e, true);
		n++;
	}
	return n;
}

unsigned
ferry_fdb_age(struct ferry_fdb *fdb, uint32_t now, uint32_t max_age)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < fdb->n_slots; i++) {
		struct ferry_fdb_entry *e = &fdb->e[i];
		if (e->key == 0 || e->is_static || (uint32_t)(now - e->seen) < max_age)
			continue;
		entry_delete(fdb, e, true);
		n++;
	}
	return n;
}

/* Live entries (rte_hash_count would include deletions still waiting for their grace period). */
unsigned
ferry_fdb_count(const struct ferry_fdb *fdb)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < fdb->n_slots; i++)
		n += fdb->e[i].key != 0;
	return n;
}

void
ferry_fdb_walk(const struct ferry_fdb *fdb,
	       int (*fn)(const struct ferry_fdb_entry *e, void *arg), void *arg)
{
	for (uint32_t i = 0; i < fdb->n_slots; i++)
		if (fdb->e[i].key != 0 && fn(&fdb->e[i], arg) != 0)
			return;
}
