/* test_fdb.c — learning, moves, static pinning, aging, flushing, a full table (exactly `size`
 * entries) and changing a port's static entries all or nothing on a full table. */
#include <errno.h>
#include <rte_malloc.h>
#include "unit.h"
#include "ferry_fdb.h"
#include "ferry_pkt.h"

static struct rte_rcu_qsbr *
qsbr(void)
{
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);

	rte_rcu_qsbr_init(v, 1);
	return v;
}

static int32_t
lookup(struct ferry_fdb *f, uint64_t key)
{
	int32_t pos;

	ferry_fdb_lookup_bulk(f, &key, 1, &pos);
	return pos;
}

static void
learn_refresh_move(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb1", 1024, 0, v);
	uint64_t k = ferry_fdb_key(unit_mac("02:00:00:00:00:01"), 10);

	CHECK(f != NULL);
	CHECK(lookup(f, k) < 0);
	CHECK(ferry_fdb_learn(f, k, 3, -1, 100, 0) == FERRY_LEARN_NEW);
	int32_t pos = lookup(f, k);
	CHECK(pos >= 0 && ferry_fdb_entry(f, pos)->port == 3);
	CHECK(ferry_fdb_learn(f, k, 3, pos, 105, 0) == FERRY_LEARN_OK);
	CHECK(ferry_fdb_entry(f, pos)->seen == 105);
	CHECK(ferry_fdb_learn(f, k, 4, pos, 106, 0) == FERRY_LEARN_MOVED);
	CHECK(ferry_fdb_entry(f, lookup(f, k))->port == 4);
	/* same MAC, other VLAN: a different entry */
	CHECK(lookup(f, ferry_fdb_key(unit_mac("02:00:00:00:00:01"), 11)) < 0);
	/* a stale position from before the burst (-1) still finds the entry on insert */
	CHECK(ferry_fdb_learn(f, k, 5, -1, 107, 0) == FERRY_LEARN_MOVED);
	CHECK(ferry_fdb_count(f) == 1);
	ferry_fdb_free(f);
	rte_free(v);
}

static void
static_never_moves_or_ages(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb2", 1024, 0, v);
	uint64_t s = ferry_fdb_key(unit_mac("52:54:00:00:00:01"), 10);
	uint64_t l = ferry_fdb_key(unit_mac("52:54:00:00:00:02"), 10);

	CHECK(ferry_fdb_add_static(f, s, 1) == 0);
	CHECK(ferry_fdb_learn(f, s, 2, lookup(f, s), 50, 0) == FERRY_LEARN_OK);
	CHECK(ferry_fdb_entry(f, lookup(f, s))->port == 1);
	CHECK(ferry_fdb_learn(f, l, 2, -1, 50, 0) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_age(f, 50 + 299, 300) == 0);
	CHECK(ferry_fdb_age(f, 50 + 300, 300) == 1);
	CHECK(lookup(f, l) < 0 && lookup(f, s) >= 0);
	ferry_fdb_free(f);
	rte_free(v);
}

static void
flush_and_delete(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb3", 1024, 0, v);

	for (uint64_t i = 1; i <= 20; i++)
		ferry_fdb_learn(f, ferry_fdb_key(i << 8, 1), (uint16_t)(i % 2), -1, 1, 0);
	ferry_fdb_add_static(f, ferry_fdb_key(0xabcd00, 1), 0);
	CHECK(ferry_fdb_flush(f, 0, false) == 10);
	CHECK(ferry_fdb_count(f) == 11);
	CHECK(ferry_fdb_flush(f, FERRY_PORT_NONE, false) == 10);
	CHECK(ferry_fdb_count(f) == 1);
	CHECK(ferry_fdb_del(f, ferry_fdb_key(0xabcd00, 1)) == 0);
	CHECK(ferry_fdb_del(f, ferry_fdb_key(0xabcd00, 1)) < 0);
	CHECK(ferry_fdb_count(f) == 0);
	/* deleted slots come back for new keys */
	for (uint64_t i = 1; i <= 20; i++)
		CHECK(ferry_fdb_learn(f, ferry_fdb_key(i << 12, 2), 1, -1, 1, 0) == FERRY_LEARN_NEW);
	ferry_fdb_free(f);
	rte_free(v);
}

static void
table_full_is_reported(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb4", 64, 0, v);
	unsigned added = 0, full = 0;

	for (uint64_t i = 1; i <= 4096 && full == 0; i++) {
		enum ferry_learn r = ferry_fdb_learn(f, ferry_fdb_key(i << 8, 1), 1, -1, 1, 0);
		added += r == FERRY_LEARN_NEW;
		full += r == FERRY_LEARN_FULL;
	}
	CHECK(full == 1);
	CHECK(added == 64);   /* exactly fdb.size (rte_hash alone takes thousands more) */
	for (uint64_t i = 1; i <= added; i++)   /* everything learned before is still there */
		CHECK(lookup(f, ferry_fdb_key(i << 8, 1)) >= 0);
	ferry_fdb_free(f);
	rte_free(v);
}

/* rte_hash's own capacity is not fdb.size: with MULTI_WRITER_ADD it keeps spare slots for its
 * per-lcore caches. ferry counts entries itself: learned and static ones alike stop at size,
 * an existing key needs no room, and a deletion gives room back. */
static void
table_size_is_exact(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb7", 64, 0, v);
	uint64_t k0 = ferry_fdb_key(1 << 8, 1);

	CHECK(f->n_slots > 64 + 1000);   /* what rte_hash would take */
	for (uint64_t i = 1; i <= 63; i++)
		CHECK(ferry_fdb_learn(f, ferry_fdb_key(i << 8, 1), 1, -1, 1, 0) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_free_count(f) == 1);
	CHECK(ferry_fdb_add_static(f, ferry_fdb_key(0xabc, 7), 2) == 0);
	CHECK(ferry_fdb_free_count(f) == 0 && ferry_fdb_count(f) == 64);
	CHECK(ferry_fdb_add_static(f, ferry_fdb_key(0xabd, 7), 2) == -ENOSPC);
	CHECK(ferry_fdb_learn(f, ferry_fdb_key(0xabe, 7), 2, -1, 1, 0) == FERRY_LEARN_FULL);
	CHECK(ferry_fdb_add_static(f, k0, 3) == 0);   /* there already: made static in place */
	CHECK(ferry_fdb_entry(f, lookup(f, k0))->is_static && ferry_fdb_count(f) == 64);
	CHECK(ferry_fdb_del(f, k0) == 0 && ferry_fdb_free_count(f) == 1);
	CHECK(ferry_fdb_add_static(f, ferry_fdb_key(0xabd, 7), 2) == 0);
	CHECK(ferry_fdb_flush(f, 1, false) == 62 && ferry_fdb_free_count(f) == 62);
	CHECK(ferry_fdb_age(f, 1000, 300) == 0 && ferry_fdb_flush(f, FERRY_PORT_NONE, true) == 2);
	CHECK(ferry_fdb_free_count(f) == 64 && ferry_fdb_count(f) == 0);
	ferry_fdb_free(f);
	rte_free(v);
}

static bool
has(struct ferry_fdb *f, uint64_t key, uint16_t port, bool is_static)
{
	int32_t pos = lookup(f, key);

	return pos >= 0 && ferry_fdb_entry(f, pos)->port == port &&
	       ferry_fdb_entry(f, pos)->is_static == is_static;
}

/* A port's pins changed on a full table: refused with nothing changed, or done in the room the
 * dropped pins leave; abort puts back what was there, learned entries included. */
static void
pins_all_or_nothing(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb8", 64, 0, v);
	uint64_t a = ferry_fdb_key(0xa, 10), b = ferry_fdb_key(0xb, 10), c = ferry_fdb_key(0xc, 10);
	uint64_t d = ferry_fdb_key(0xd, 10), l = ferry_fdb_key(0xe, 10);
	uint64_t ab[] = { a, b, a }, ac[] = { a, c }, acd[] = { a, c, d }, al[] = { a, l };
	struct ferry_fdb_pins t;
	unsigned need;

	CHECK(ferry_fdb_pins_prepare(f, 5, NULL, 0, ab, 3, &t, &need) == 0);   /* a repeat: once */
	ferry_fdb_pins_commit(&t);
	CHECK(has(f, a, 5, true) && has(f, b, 5, true) && ferry_fdb_count(f) == 2);
	CHECK(ferry_fdb_learn(f, l, 2, -1, 1, 0) == FERRY_LEARN_NEW);
	for (uint64_t i = 1; ferry_fdb_free_count(f) != 0; i++)
		ferry_fdb_learn(f, ferry_fdb_key(i << 8, 1), 1, -1, 1, 0);
	CHECK(ferry_fdb_count(f) == 64);

	/* {a, b} -> {a, c, d}: two new entries, one freed: one short, nothing changed */
	CHECK(ferry_fdb_pins_prepare(f, 5, ab, 2, acd, 3, &t, &need) == -ENOSPC && need == 1);
	CHECK(has(f, a, 5, true) && has(f, b, 5, true) && lookup(f, c) < 0 && lookup(f, d) < 0);
	CHECK(ferry_fdb_count(f) == 64 && ferry_fdb_free_count(f) == 0);

	/* {a, b} -> {a, c}: b's room goes to c; abort brings b back, c gone */
	CHECK(ferry_fdb_pins_prepare(f, 5, ab, 2, ac, 2, &t, &need) == 0);
	CHECK(has(f, c, 5, true) && lookup(f, b) < 0 && ferry_fdb_free_count(f) == 0);
	CHECK(ferry_fdb_learn(f, ferry_fdb_key(0xf00, 1), 1, -1, 1, 0) == FERRY_LEARN_FULL);
	ferry_fdb_pins_abort(&t);
	CHECK(has(f, a, 5, true) && has(f, b, 5, true) && lookup(f, c) < 0);
	CHECK(ferry_fdb_count(f) == 64 && ferry_fdb_free_count(f) == 0);
	/* ... and commit keeps it */
	CHECK(ferry_fdb_pins_prepare(f, 5, ab, 2, ac, 2, &t, &need) == 0);
	ferry_fdb_pins_commit(&t);
	CHECK(has(f, a, 5, true) && has(f, c, 5, true) && lookup(f, b) < 0);
	CHECK(ferry_fdb_count(f) == 64 && ferry_fdb_free_count(f) == 0);

	/* a learned entry (another port's) pinned: needs no room; abort makes it learned again */
	CHECK(ferry_fdb_pins_prepare(f, 5, ac, 2, al, 2, &t, &need) == 0);
	CHECK(has(f, l, 5, true) && lookup(f, c) < 0);
	CHECK(ferry_fdb_free_count(f) == 0);   /* c's room is held until commit or abort */
	ferry_fdb_pins_abort(&t);
	CHECK(has(f, l, 2, false) && has(f, c, 5, true) && ferry_fdb_free_count(f) == 0);
	CHECK(ferry_fdb_pins_prepare(f, 5, ac, 2, al, 2, &t, &need) == 0);
	ferry_fdb_pins_commit(&t);
	CHECK(has(f, l, 5, true) && lookup(f, c) < 0 && ferry_fdb_free_count(f) == 1);

	/* no pins at all (a trunk of every VLAN) always fits */
	CHECK(ferry_fdb_pins_prepare(f, 6, NULL, 0, NULL, 0, &t, &need) == 0);
	ferry_fdb_pins_commit(&t);
	CHECK(ferry_fdb_count(f) == 63 && ferry_fdb_free_count(f) == 1);
	ferry_fdb_free(f);
	rte_free(v);
}

static void
bulk_lookup_mixed(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb5", 1024, 0, v);
	uint64_t keys[64];
	int32_t pos[64];

	for (unsigned i = 0; i < 64; i++) {
		keys[i] = ferry_fdb_key((uint64_t)(i + 1) << 16, 3);
		if (i % 3 == 0)
			ferry_fdb_learn(f, keys[i], (uint16_t)i, -1, 1, 0);
	}
	ferry_fdb_lookup_bulk(f, keys, 64, pos);
	for (unsigned i = 0; i < 64; i++)
		CHECK((pos[i] >= 0) == (i % 3 == 0) &&
		      (pos[i] < 0 || ferry_fdb_entry(f, pos[i])->port == i));
	ferry_fdb_free(f);
	rte_free(v);
}

static void
cache_never_wrong(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb6", 1024, 0, v);
	struct ferry_fdb_cache *c = rte_zmalloc(NULL, sizeof(*c), 0);
	uint64_t k = ferry_fdb_key(unit_mac("02:00:00:00:00:01"), 5), zero = 0;
	int32_t pos;

	ferry_fdb_cache_init(c);
	ferry_fdb_lookup_cached(f, c, &zero, 1, &pos);     /* a zero key never hits an empty slot */
	CHECK(pos < 0);
	ferry_fdb_learn(f, k, 1, -1, 1, 0);
	ferry_fdb_lookup_cached(f, c, &k, 1, &pos);        /* miss, then cached */
	CHECK(pos >= 0 && c->misses == 2);
	ferry_fdb_lookup_cached(f, c, &k, 1, &pos);
	CHECK(pos >= 0 && c->hits == 1);
	ferry_fdb_learn(f, k, 2, pos, 2, 0);                   /* a move is seen through the cache */
	ferry_fdb_lookup_cached(f, c, &k, 1, &pos);
	CHECK(pos >= 0 && ferry_fdb_entry(f, pos)->port == 2);
	CHECK(ferry_fdb_del(f, k) == 0);                    /* a deleted entry is a miss */
	ferry_fdb_lookup_cached(f, c, &k, 1, &pos);
	CHECK(pos < 0);
	/* repeats of one missing key in a batch get one answer */
	uint64_t keys[4] = { k, k, k, ferry_fdb_key(9, 5) };
	int32_t p4[4];
	ferry_fdb_learn(f, k, 3, -1, 3, 0);
	ferry_fdb_lookup_cached(f, c, keys, 4, p4);
	CHECK(p4[0] >= 0 && p4[1] == p4[0] && p4[2] == p4[0] && p4[3] < 0);
	rte_free(c);
	ferry_fdb_free(f);
	rte_free(v);
}

/* Per-port learned counts and mac_limit: exact through learning, refusals, moves (refused at
 * the new port's limit), aging, deletion, flushes and static pins taking over learned entries;
 * static entries never count, and a port at its limit never evicts another port's entry. */
static void
learned_counts_exact(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb_lim", 1024, 0, v);
	uint64_t other = ferry_fdb_key(0xee00, 1), pin = ferry_fdb_key(0xdd00, 1);
	unsigned limited = 0;

	CHECK(ferry_fdb_learn(f, other, 2, -1, 1, 4) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_add_static(f, pin, 1) == 0);
	for (uint64_t i = 1; i <= 10; i++)
		limited += ferry_fdb_learn(f, ferry_fdb_key(i << 8, 1), 1, -1, 1, 4) ==
			   FERRY_LEARN_LIMIT;
	CHECK(limited == 6 && ferry_fdb_learned(f, 1) == 4 && ferry_fdb_learned(f, 2) == 1);
	CHECK(ferry_fdb_count(f) == 6);   /* 4 learned + other + the pin */
	/* a move onto a port at its limit is refused and leaves the entry where it was */
	CHECK(ferry_fdb_learn(f, other, 1, lookup(f, other), 1, 4) == FERRY_LEARN_LIMIT);
	CHECK(ferry_fdb_entry(f, lookup(f, other))->port == 2);
	/* a move below the limit carries the count over */
	CHECK(ferry_fdb_learn(f, ferry_fdb_key(1 << 8, 1), 2, lookup(f, ferry_fdb_key(1 << 8, 1)), 2,
			      4) == FERRY_LEARN_MOVED);
	CHECK(ferry_fdb_learned(f, 1) == 3 && ferry_fdb_learned(f, 2) == 2);
	/* a static pin taking a learned entry over: no longer counted */
	CHECK(ferry_fdb_add_static(f, ferry_fdb_key(2 << 8, 1), 3) == 0);
	CHECK(ferry_fdb_learned(f, 1) == 2 && ferry_fdb_learned(f, 3) == 0);
	CHECK(ferry_fdb_del(f, ferry_fdb_key(3 << 8, 1)) == 0 && ferry_fdb_learned(f, 1) == 1);
	CHECK(ferry_fdb_learn(f, ferry_fdb_key(0x7700, 1), 1, -1, 5, 4) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_age(f, 1 + 300, 300) == 2);   /* the two seen at 1 on ports 1 and 2 */
	CHECK(ferry_fdb_learned(f, 1) == 1 && ferry_fdb_learned(f, 2) == 1);
	CHECK(ferry_fdb_flush(f, FERRY_PORT_NONE, false) == 2);
	CHECK(ferry_fdb_learned(f, 1) == 0 && ferry_fdb_learned(f, 2) == 0);
	CHECK(lookup(f, pin) >= 0);
	/* limit 0: no limit, still counted */
	for (uint64_t i = 1; i <= 10; i++)
		CHECK(ferry_fdb_learn(f, ferry_fdb_key(i << 8, 5), 1, -1, 9, 0) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_learned(f, 1) == 10);
	ferry_fdb_free(f);
	rte_free(v);
}

/* The pins of a port replacing another port's learned entry, then aborted: counts restored. */
static void
learned_counts_pins(void)
{
	struct rte_rcu_qsbr *v = qsbr();
	struct ferry_fdb *f = ferry_fdb_create("t_fdb_limp", 64, 0, v);
	uint64_t k = ferry_fdb_key(0x1100, 1), k2 = ferry_fdb_key(0x2200, 1);
	struct ferry_fdb_pins t;
	unsigned need;

	CHECK(ferry_fdb_learn(f, k, 2, -1, 1, 0) == FERRY_LEARN_NEW);
	CHECK(ferry_fdb_pins_prepare(f, 1, NULL, 0, (uint64_t[]){ k, k2 }, 2, &t, &need) == 0);
	CHECK(ferry_fdb_learned(f, 2) == 0);
	ferry_fdb_pins_abort(&t);
	CHECK(ferry_fdb_learned(f, 2) == 1 && ferry_fdb_entry(f, lookup(f, k))->port == 2);
	CHECK(lookup(f, k2) < 0);
	ferry_fdb_free(f);
	rte_free(v);
}

void
suite_fdb(void)
{
	RUN("fdb", cache_never_wrong);
	RUN("fdb", learn_refresh_move);
	RUN("fdb", static_never_moves_or_ages);
	RUN("fdb", flush_and_delete);
	RUN("fdb", table_full_is_reported);
	RUN("fdb", table_size_is_exact);
	RUN("fdb", pins_all_or_nothing);
	RUN("fdb", bulk_lookup_mixed);
	RUN("fdb", learned_counts_exact);
	RUN("fdb", learned_counts_pins);
}
