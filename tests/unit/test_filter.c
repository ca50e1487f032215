/* test_filter.c — the eBPF filter loader (lib/filter) on the objects of tests/filters: programs
 * run on real mbufs (JIT and interpreter agree), maps count with XADD, segmented frames get the
 * window copied, every bad object is refused with its reason; and the stage runner's masks. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include "unit.h"
#include "ferry_bpf_filter.h"
#include "ferry_stage.h"

#define OBJ(n) FERRY_TEST_FILTERS "/" n

static struct ferry_filter *
load(const char *path)
{
	struct ferry_filter *f = NULL;
	char err[512];

	if (ferry_filter_load(path, &f, err, sizeof(err)) < 0) {
		fprintf(stderr, "  load %s: %s\n", path, err);
		return NULL;
	}
	return f;
}

/* Refused, with a message containing want. */
static void
refused(const char *path, const char *want)
{
	struct ferry_filter *f = NULL;
	char err[512] = "";

	int rc = ferry_filter_load(path, &f, err, sizeof(err));
	CHECK(rc < 0 && f == NULL);
	CHECK(strstr(err, want) != NULL);
	if (strstr(err, want) == NULL)
		fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", path, err, want);
	if (rc == 0)
		ferry_filter_free(f);
}

static uint64_t
run(const struct ferry_filter *f, struct rte_mbuf *m, bool jit)
{
	struct ferry_filter *g = (struct ferry_filter *)(uintptr_t)f;
	uint64_t (*j)(void *) = g->jit;

	if (!jit)
		g->jit = NULL;
	uint64_t rc = ferry_filter_exec(g, m);
	g->jit = j;
	return rc;
}

static void
drop_all(void)
{
	struct ferry_filter *f = load(OBJ("drop_all.o"));
	struct rte_mbuf *m = unit_frame("02:00:00:00:00:02", "02:00:00:00:00:01", NULL, 0, 0x0800, 50);

	CHECK(f != NULL && m != NULL);
	if (f == NULL || m == NULL)
		return;
	CHECK(f->n_maps == 0);
	CHECK(f->jit != NULL);   /* x86-64: rte_bpf JITs */
	CHECK(run(f, m, true) == 0 && run(f, m, false) == 0);
	rte_pktmbuf_free(m);
	ferry_filter_free(f);
}

static void
count_all_xadd(void)
{
	struct ferry_filter *f = load(OBJ("count_all.o"));
	struct rte_mbuf *m = unit_frame("02:00:00:00:00:02", "02:00:00:00:00:01", NULL, 0, 0x0800, 86);

	CHECK(f != NULL && m != NULL);
	if (f == NULL || m == NULL)
		return;
	CHECK(f->n_maps == 1 && strcmp(f->maps[0].name, "counts") == 0);
	CHECK(f->maps[0].value_size == 8 && f->maps[0].max_entries == 4);
	RTE_PER_LCORE(ferry_filter_port) = 3;
	for (int i = 0; i < 5; i++)
		CHECK(run(f, m, i & 1) != 0);
	const uint64_t *v = (const uint64_t *)f->maps[0].values;
	CHECK(v[0] == 5);
	CHECK(v[1] == 5 * 100);
	CHECK(v[2] == 3);
	CHECK(v[3] == 0);
	json_t *j = ferry_filter_maps_json(f);
	CHECK(json_integer_value(json_array_get(json_object_get(json_array_get(j, 0), "values"), 0))
	      == 5);
	json_decref(j);
	rte_pktmbuf_free(m);
	ferry_filter_free(f);
}

static const uint32_t *
values(const struct ferry_filter *f, const char *name)
{
	static const uint32_t none[256];

	for (unsigned i = 0; i < f->n_maps; i++)
		if (strcmp(f->maps[i].name, name) == 0)
			return (const uint32_t *)f->maps[i].values;
	return none;
}

static uint32_t
proto_count(const struct ferry_filter *f, unsigned p)
{
	return values(f, "proto")[p];
}

static void
ipv4_reads_header(void)
{
	struct ferry_filter *f = load(OBJ("ipv4_drop_udp.o"));
	uint16_t tag[2] = { 0x8100, 10 };

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(f->n_maps == 2 && values(f, "proto") != values(f, "nope"));
	struct rte_mbuf *u = unit_frame("02:00:00:00:00:02", "02:00:00:00:00:01", NULL, 0, 0x0800, 46);
	struct rte_mbuf *t = unit_frame("02:00:00:00:00:02", "02:00:00:00:00:01", tag, 1, 0x0800, 46);
	struct rte_mbuf *a = unit_frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01", NULL, 0, 0x0806, 46);
	uint8_t *ip = rte_pktmbuf_mtod_offset(u, uint8_t *, 14);
	ip[0] = 0x45;
	ip[9] = 6;           /* TCP: passes */
	ip = rte_pktmbuf_mtod_offset(t, uint8_t *, 18);
	ip[0] = 0x45;
	ip[9] = 17;          /* UDP: dropped */
	CHECK(run(f, u, true) != 0 && run(f, u, false) != 0);
	CHECK(run(f, t, true) == 0 && run(f, t, false) == 0);
	CHECK(run(f, a, true) != 0);
	CHECK(proto_count(f, 6) == 2 && proto_count(f, 17) == 2);
	CHECK(values(f, "other")[0] == 1);
	/* a chained frame: the first 20 bytes in one segment, the rest in another (window copied) */
	struct rte_mbuf *h = unit_raw(rte_pktmbuf_mtod(t, uint8_t *), 20);
	struct rte_mbuf *r = unit_raw(rte_pktmbuf_mtod(t, uint8_t *) + 20, t->pkt_len - 20);
	CHECK(h != NULL && r != NULL && rte_pktmbuf_chain(h, r) == 0);
	CHECK(run(f, h, true) == 0);
	CHECK(proto_count(f, 17) == 3);
	/* a runt: the length check keeps the program off the unspecified bytes */
	struct rte_mbuf *s = unit_raw(rte_pktmbuf_mtod(u, uint8_t *), 20);
	CHECK(run(f, s, true) != 0 && values(f, "other")[0] == 2);
	rte_pktmbuf_free(u);
	rte_pktmbuf_free(t);
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(h);
	rte_pktmbuf_free(s);
	ferry_filter_free(f);
}

static void
bad_objects(void)
{
	char tmp[] = "/tmp/ferry-unit-notelf-XXXXXX";
	int fd = mkstemp(tmp);

	CHECK(fd >= 0 && write(fd, "not an object\n", 14) == 14);
	close(fd);
	refused(tmp, "not an ELF object file");
	unlink(tmp);
	refused(OBJ("missing.o"), "No such file or directory");
	refused("relative.o", "must be an absolute path");
	refused(OBJ("bad_nosec.o"), "no program in section \"filter\"");
	refused(OBJ("bad_helper.o"), "unknown helper 5");
	refused(OBJ("bad_hash.o"), "map h: type hash is not supported (ARRAY only)");
	refused(OBJ("bad_oob.o"), "rte_bpf verifier: ");
	refused(OBJ("bad_oob.o"), "memory boundary violation");   /* the verifier's words */
	refused(OBJ("bad_loop.o"), "loop");
}

/* A stage type whose burst keeps even positions, to check the runner's masks and counters. */
static uint64_t
even_burst(void *st, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	uint64_t keep = 0;

	for (uint16_t i = 0; i < n; i += 2)
		keep |= UINT64_C(1) << i;
	return keep;
}

static int
even_create(const char *arg, void **st, char *err, size_t errlen)
{
	*st = NULL;
	return 0;
}

static void
even_destroy(void *st)
{
}

static const struct ferry_stage_ops even_ops = {
	.type = "unit-even", .create = even_create, .destroy = even_destroy, .burst = even_burst,
};

static void
stage_runner(void)
{
	struct ferry_stage_list *l = NULL;
	struct rte_mbuf *pkts[8], *drop[8];
	char err[128];
	uint16_t n_drop = 0;

	CHECK(ferry_stage_register(&even_ops) == 0);
	struct ferry_stage_inst *a = ferry_stage_create("unit-even", "a", FERRY_STAGE_INGRESS, "",
							err, sizeof(err));
	struct ferry_stage_inst *b = ferry_stage_create("unit-even", "b", FERRY_STAGE_INGRESS, "",
							err, sizeof(err));
	CHECK(a != NULL && b != NULL);
	CHECK(ferry_stage_create("nope", "c", 0, "", err, sizeof(err)) == NULL);
	CHECK(ferry_stage_attach(&l, a, NULL) == 0 && ferry_stage_attach(&l, b, NULL) == 0);
	CHECK(l != NULL && l->n == 2);
	for (int i = 0; i < 8; i++)
		pkts[i] = (struct rte_mbuf *)(uintptr_t)(0x1000 + i);
	uint64_t keep = ferry_stage_run(l, pkts, 8, 0, 1, NULL);
	/* a keeps 0,2,4,6; b sees those four and keeps its even positions: 0 and 4 */
	CHECK(keep == 0x11);
	CHECK(a->ctr[1].passed == 4 && a->ctr[1].dropped == 4);
	CHECK(b->ctr[1].passed == 2 && b->ctr[1].dropped == 2);
	CHECK(ferry_stage_compact(pkts, 8, keep, drop, &n_drop) == 2 && n_drop == 6);
	CHECK(pkts[0] == (struct rte_mbuf *)0x1000 && pkts[1] == (struct rte_mbuf *)0x1004);
	CHECK(drop[0] == (struct rte_mbuf *)0x1001);
	CHECK(ferry_stage_detach(&l, a, NULL) == 0 && l->n == 1 && l->inst[0] == b);
	CHECK(ferry_stage_detach(&l, a, NULL) < 0);
	CHECK(ferry_stage_detach(&l, b, NULL) == 0 && l == NULL);
	ferry_stage_destroy(a);
	ferry_stage_destroy(b);
}

/* A reader thread plays a PMD (registered in a QSBR variable, quiescent between bursts) running
 * whatever list is published while the main thread attaches and detaches stages: it must never
 * see a list with a bad count or a freed instance (publish waits a grace period before freeing,
 * and the instances outlive their lists). */
static uint64_t
poison_burst(void *st, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	return 0;
}

static const struct ferry_stage_ops poison_ops = {
	.type = "unit-poison", .create = even_create, .destroy = even_destroy, .burst = poison_burst,
};

struct rcu_ctx {
	struct ferry_stage_list *volatile slot;
	struct rte_rcu_qsbr *qsv;
	volatile int stop;
	uint64_t bursts, bad;
};

static void *
rcu_reader(void *arg)
{
	struct rcu_ctx *x = arg;
	struct rte_mbuf *pkts[4];

	for (int i = 0; i < 4; i++)
		pkts[i] = (struct rte_mbuf *)(uintptr_t)(0x1000 + i);
	rte_rcu_qsbr_thread_register(x->qsv, 0);
	rte_rcu_qsbr_thread_online(x->qsv, 0);
	while (!x->stop) {
		const struct ferry_stage_list *l = __atomic_load_n(&x->slot, __ATOMIC_ACQUIRE);
		for (volatile int k = 0; k < 2000; k++)   /* mid-burst for a while */
			rte_pause();
		if (l != NULL) {
			if (l->n == 0 || l->n > FERRY_STAGE_MAX)
				x->bad++;
			else if (ferry_stage_run(l, pkts, 4, 0, 0, NULL) != (l->n == 1 ? 0x5u : 0x1u))
				x->bad++;   /* a poisoned (detached) instance keeps nothing */
		}
		x->bursts++;
		rte_rcu_qsbr_quiescent(x->qsv, 0);
	}
	rte_rcu_qsbr_thread_offline(x->qsv, 0);
	rte_rcu_qsbr_thread_unregister(x->qsv, 0);
	return NULL;
}

static void
stage_rcu_swaps(void)
{
	struct rcu_ctx x = { .slot = NULL };
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	static struct ferry_stage_inst *dead[2 * 500];
	unsigned n_dead = 0;
	char err[64];
	pthread_t t;

	x.qsv = rte_zmalloc("unit_qsv", sz, RTE_CACHE_LINE_SIZE);
	CHECK(x.qsv != NULL && rte_rcu_qsbr_init(x.qsv, 1) == 0);
	CHECK(pthread_create(&t, NULL, rcu_reader, &x) == 0);
	cpu_set_t cpus;   /* the EAL pinned this thread (and so the reader) to lcore 0: free it */
	CPU_ZERO(&cpus);
	for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_setaffinity_np(t, sizeof(cpus), &cpus);
	while (x.bursts == 0)
		rte_pause();
	for (int i = 0; i < 500; i++) {
		struct ferry_stage_inst *a = ferry_stage_create("unit-even", "a", 0, "", err,
								sizeof(err));
		struct ferry_stage_inst *b = ferry_stage_create("unit-even", "b", 0, "", err,
								sizeof(err));
		CHECK(ferry_stage_attach((struct ferry_stage_list **)&x.slot, a, x.qsv) == 0);
		CHECK(ferry_stage_attach((struct ferry_stage_list **)&x.slot, b, x.qsv) == 0);
		CHECK(ferry_stage_detach((struct ferry_stage_list **)&x.slot, a, x.qsv) == 0);
		a->ops = &poison_ops;   /* what a reader still holding it would then run */
		dead[n_dead++] = a;     /* freed at the end: no reuse hiding a late reader */
		CHECK(ferry_stage_detach((struct ferry_stage_list **)&x.slot, b, x.qsv) == 0);
		b->ops = &poison_ops;
		dead[n_dead++] = b;
	}
	x.stop = 1;
	pthread_join(t, NULL);
	for (unsigned i = 0; i < n_dead; i++)
		ferry_stage_destroy(dead[i]);
	CHECK(x.bad == 0);
	CHECK(x.bursts > 10);
	if (x.bad != 0)
		fprintf(stderr, "  reader saw %" PRIu64 " bad lists in %" PRIu64 " bursts\n", x.bad,
			x.bursts);
	rte_free(x.qsv);
}

void
suite_filter(void)
{
	RUN("filter", drop_all);
	RUN("filter", count_all_xadd);
	RUN("filter", ipv4_reads_header);
	RUN("filter", bad_objects);
	RUN("filter", stage_runner);
	RUN("filter", stage_rcu_swaps);
}
