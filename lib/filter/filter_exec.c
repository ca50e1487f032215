/* filter_exec.c — running a filter on a frame: the 256-byte window at R1 (into the mbuf, or a
 * per-lcore copy), the per-lcore context, and ferry's helpers as rte_bpf external functions. */
#include <stdlib.h>
#include <string.h>
#include <rte_bpf.h>
#include <rte_mbuf.h>
#include "ferry_bpf_filter.h"
#include "filter_private.h"

#define H_LOOKUP 1
#define H_UPDATE 2
#define H_LEN    0x40
#define H_PORT   0x41
#define N_XSYM   (H_PORT + 1)

/* initial-exec: PMD threads are never dlopen'ed, and libferry is PIC (no __tls_get_addr here) */
#define TLS_IE __attribute__((tls_model("initial-exec")))
RTE_DEFINE_PER_LCORE(uint32_t, ferry_filter_len) TLS_IE;
RTE_DEFINE_PER_LCORE(uint32_t, ferry_filter_port) TLS_IE;
static RTE_DEFINE_PER_LCORE(const struct ferry_filter *, cur) TLS_IE;
static RTE_DEFINE_PER_LCORE(uint8_t, scratch[FERRY_FILTER_WINDOW]) __rte_cache_aligned TLS_IE;

/* The map argument must be one of the running filter's descriptors (rte_bpf lets a program pass
 * any value where the helper takes a raw one). */
static inline struct ferry_filter_map *
own_map(uint64_t map)
{
	const struct ferry_filter *f = RTE_PER_LCORE(cur);
	uintptr_t a = (uintptr_t)map, lo = (uintptr_t)&f->maps[0], hi = (uintptr_t)&f->maps[f->n_maps];

	if (a < lo || a >= hi || (a - lo) % sizeof(struct ferry_filter_map) != 0)
		return NULL;
	return (struct ferry_filter_map *)a;
}

static uint64_t
h_lookup(uint64_t map, uint64_t key, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct ferry_filter_map *m = own_map(map);
	uint32_t k = *(const uint32_t *)(uintptr_t)key;

	if (m == NULL || k >= m->max_entries)
		return 0;
	return (uintptr_t)(m->values + (size_t)k * m->value_size);
}

static uint64_t
h_update(uint64_t map, uint64_t key, uint64_t value, uint64_t flags, uint64_t a5)
{
	struct ferry_filter_map *m = own_map(map);
	uint32_t k = *(const uint32_t *)(uintptr_t)key;

	if (m == NULL || k >= m->max_entries || flags == 1 /* BPF_NOEXIST: array entries exist */)
		return (uint64_t)-1;
	memcpy(m->values + (size_t)k * m->value_size, (const void *)(uintptr_t)value, m->value_size);
	return 0;
}

static uint64_t
h_len(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return RTE_PER_LCORE(ferry_filter_len);
}

static uint64_t
h_port(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return RTE_PER_LCORE(ferry_filter_port);
}

/* Never called (check_calls refuses other ids), but rte_bpf wants a function in every slot. */
static uint64_t
h_none(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	return 0;
}

bool
ferry_filter_helper_known(int32_t id)
{
	return id == H_LOOKUP || id == H_UPDATE || id == H_LEN || id == H_PORT;
}

static uint32_t
min_value_size(const struct ferry_filter *f)
{
	uint32_t s = UINT32_MAX;

	for (unsigned i = 0; i < f->n_maps; i++)
		s = RTE_MIN(s, f->maps[i].value_size);
	return s == UINT32_MAX ? 8 : s;
}

/* A lookup's result is checked against the smallest value of the program's maps. */
struct rte_bpf_xsym *
ferry_filter_xsyms(const struct ferry_filter *f, uint32_t *n)
{
	struct rte_bpf_xsym *x = calloc(N_XSYM, sizeof(*x));
	const struct rte_bpf_arg raw8 = { .type = RTE_BPF_ARG_RAW, .size = 8 };
	const struct rte_bpf_arg raw4 = { .type = RTE_BPF_ARG_RAW, .size = 4 };
	const struct rte_bpf_arg key = { .type = RTE_BPF_ARG_PTR, .size = 4 };
	const struct rte_bpf_arg val = { .type = RTE_BPF_ARG_PTR, .size = min_value_size(f) };

	if (x == NULL)
		return NULL;
	for (unsigned i = 0; i < N_XSYM; i++) {
		x[i].name = "ferry_unknown_helper";
		x[i].type = RTE_BPF_XTYPE_FUNC;
		x[i].func.val = h_none;
		x[i].func.ret = raw8;
	}
	x[H_LOOKUP] = (struct rte_bpf_xsym){ .name = "bpf_map_lookup_elem", .type = RTE_BPF_XTYPE_FUNC,
		.func = { .val = h_lookup, .nb_args = 2, .args = { raw8, key }, .ret = val } };
	x[H_UPDATE] = (struct rte_bpf_xsym){ .name = "bpf_map_update_elem", .type = RTE_BPF_XTYPE_FUNC,
		.func = { .val = h_update, .nb_args = 4, .args = { raw8, key, val, raw8 }, .ret = raw8 } };
	x[H_LEN] = (struct rte_bpf_xsym){ .name = "ferry_frame_len", .type = RTE_BPF_XTYPE_FUNC,
		.func = { .val = h_len, .nb_args = 0, .ret = raw4 } };
	x[H_PORT] = (struct rte_bpf_xsym){ .name = "ferry_frame_port", .type = RTE_BPF_XTYPE_FUNC,
		.func = { .val = h_port, .nb_args = 0, .ret = raw4 } };
	*n = N_XSYM;
	return x;
}

/* The window: the mbuf's data when 256 bytes past it stay inside the buffer and the frame's first
 * min(len, 256) bytes are in the first segment; else a copy (bytes past len stay unspecified). */
static inline const void *
window(struct rte_mbuf *m, uint32_t len)
{
	uint32_t w = RTE_MIN(len, (uint32_t)FERRY_FILTER_WINDOW);

	if (likely(m->data_len >= w && (uint32_t)m->data_off + FERRY_FILTER_WINDOW <= m->buf_len))
		return rte_pktmbuf_mtod(m, const void *);
	uint8_t *s = RTE_PER_LCORE(scratch);
	if (m->data_len >= w)
		memcpy(s, rte_pktmbuf_mtod(m, const void *), w);
	else
		rte_pktmbuf_read(m, 0, w, s);   /* not contiguous: copies */
	return s;
}

static inline uint64_t
exec_one(const struct ferry_filter *f, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;
	void *w = (void *)(uintptr_t)window(m, len);

	RTE_PER_LCORE(ferry_filter_len) = len;
	if (likely(f->jit != NULL))
		return f->jit(w);
	return rte_bpf_exec(f->bpf, w);
}

uint64_t
ferry_filter_exec(const struct ferry_filter *f, struct rte_mbuf *m)
{
	RTE_PER_LCORE(cur) = f;
	return exec_one(f, m);
}

uint64_t
ferry_filter_exec_burst(const struct ferry_filter *f, struct rte_mbuf **pkts, uint16_t n,
			uint16_t port)
{
	uint64_t keep = 0;

	RTE_PER_LCORE(cur) = f;
	RTE_PER_LCORE(ferry_filter_port) = port;
	for (uint16_t i = 0; i < n; i++)
		if (exec_one(f, pkts[i]) != 0)
			keep |= UINT64_C(1) << i;
	return keep;
}
