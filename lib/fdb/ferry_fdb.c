/* ferry_fdb.c — MAC+VLAN table on rte_hash: bulk lookup and learning for PMDs, aging and edits for
 * the control thread. See ferry_fdb.h for the concurrency rules. */
#include <errno.h>
#include <string.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
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
	uint8_t midx[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned nm = 0;

	for (unsigned i = 0; i < n; i++) {
		const typeof(c->slot[0]) *s = &c->slot[cache_slot(keys[i])];
		if (s->key == keys[i] && s->pos >= 0 &&
		    __atomic_load_n(&fdb->e[s->pos].key, __ATOMIC_ACQUIRE) == keys[i]) {
			pos[i] = s->pos;
			continue;
		}
		/* the same key earlier in this batch already missed: look it up once */
		if (nm > 0 && mkeys[nm - 1] == keys[i]) {
			pos[i] = -2 - (int32_t)(nm - 1);
			continue;
		}
		mkeys[nm] = keys[i];
		midx[nm++] = (uint8_t)i;
	}
	c->hits += n - nm;
	c->misses += nm;
	if (nm == 0)
		return;
	ferry_fdb_lookup_bulk(fdb, mkeys, nm, mpos);
	for (unsigned k = 0; k < nm; k++) {
		pos[midx[k]] = mpos[k];
		if (mpos[k] >= 0) {
			typeof(c->slot[0]) *s = &c->slot[cache_slot(mkeys[k])];
			s->key = mkeys[k];
			s->pos = mpos[k];
		}
	}
	for (unsigned i = 0; i < n; i++)   /* repeats of a missed key take its answer */
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

enum ferry_learn
ferry_fdb_learn_slow(struct ferry_fdb *fdb, uint64_t key, uint16_t port, int32_t pos, uint32_t now)
{
	struct ferry_fdb_entry *e;

	if (pos >= 0) {
		e = &fdb->e[pos];
		if (e->is_static)
			return FERRY_LEARN_OK;
		if (e->seen != now)   /* avoid dirtying the line on every frame */
			e->seen = now;
		if (likely(e->port == port))
			return FERRY_LEARN_OK;
		__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
		return FERRY_LEARN_MOVED;
	}
	pos = rte_hash_add_key(fdb->h, &key);
	if (pos < 0)
		return FERRY_LEARN_FULL;
	e = &fdb->e[pos];
	if (e->key == key) {   /* learned meanwhile by another PMD or earlier in this burst */
		if (e->is_static || e->port == port)
			return FERRY_LEARN_OK;
		__atomic_store_n(&e->port, port, __ATOMIC_RELAXED);
		return FERRY_LEARN_MOVED;
	}
	entry_publish(e, key, port, false, now);
	return FERRY_LEARN_NEW;
}

int
ferry_fdb_add_static(struct ferry_fdb *fdb, uint64_t key, uint16_t port)
{
	int32_t pos = rte_hash_add_key(fdb->h, &key);

	if (pos < 0)
		return pos;
	entry_publish(&fdb->e[pos], key, port, true, ferry_now_s);
	return 0;
}

static void
entry_delete(struct ferry_fdb *fdb, struct ferry_fdb_entry *e)
{
	uint64_t key = e->key;

	__atomic_store_n(&e->key, 0, __ATOMIC_RELEASE);
	rte_hash_del_key(fdb->h, &key);
}

int
ferry_fdb_del(struct ferry_fdb *fdb, uint64_t key)
{
	int32_t pos = rte_hash_lookup(fdb->h, &key);

	if (pos < 0 || fdb->e[pos].key != key)
		return -ENOENT;
	entry_delete(fdb, &fdb->e[pos]);
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
		entry_delete(fdb, e);
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
		entry_delete(fdb, e);
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
