/* mirror.c — mirror objects: the table of mirrors, their filters, the copies' pool (one per NUMA
 * node, shared by every mirror, never the originals' pool, kept until ferryd exits since a NIC
 * may hold copies in its tx ring after their mirror is gone), and the counters: selected and
 * failed counted by the stage per PMD; mirrored, bytes and the output's own drops read from the
 * output's tx counters, since the output carries nothing but the mirror's copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include "ferry_stage.h"
#include "mirror_private.h"

static struct ferry_mirror *table[FERRY_MIRROR_MAX];
static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

/* The output's drops at tx (its rx side drops everything as mirror_output or admin_down). */
static const enum ferry_drop tx_reasons[] = {
	FERRY_DROP_TX_FULL, FERRY_DROP_NO_MBUF, FERRY_DROP_NOT_READY, FERRY_DROP_MTU,
	FERRY_DROP_TX_SEGS, FERRY_DROP_FILTER,
};

static struct rte_mempool *
pool_of(int socket, char *err, size_t errlen)
{
	unsigned s = socket < 0 || socket >= RTE_MAX_NUMA_NODES ? 0 : (unsigned)socket;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (pools[s] != NULL)
		return pools[s];
	snprintf(name, sizeof(name), "ferry_mirror%u", s);
	pools[s] = rte_pktmbuf_pool_create(name, FERRY_MIRROR_MBUFS, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, socket < 0 ? SOCKET_ID_ANY :
					   socket);
	if (pools[s] == NULL)
		snprintf(err, errlen, "out of memory for the mirrors' mbufs: %s",
			 rte_strerror(rte_errno));
	return pools[s];
}

static void
out_totals(const struct ferry_port *out, struct mir_base *t)
{
	struct ferry_port_pmd_stats s;

	memset(t, 0, sizeof(*t));
	for (uint16_t p = 0; p < out->n_pmds; p++) {
		ferry_port_stats_read(out, p, &s);
		t->tx_pkts += s.tx_pkts;
		t->tx_bytes += s.tx_bytes;
		for (size_t r = 0; r < RTE_DIM(tx_reasons); r++)
			t->tx_drops += s.drops[tx_reasons[r]];
	}
}

struct ferry_mirror *
ferry_mirror_create(const struct ferry_mirror_conf *mc, struct ferry_port *out, char *err,
		    size_t errlen)
{
	struct ferry_mirror *m;
	unsigned slot;

	for (slot = 0; slot < FERRY_MIRROR_MAX && table[slot] != NULL; slot++)
		;
	if (slot == FERRY_MIRROR_MAX) {
		snprintf(err, errlen, "%d mirrors exist already", FERRY_MIRROR_MAX);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->conf = *mc;
	m->out = out;
	if (ferry_pcap_filter_compile(&m->filter, mc->filter, 65535, err, errlen) < 0) {
		free(m);
		return NULL;
	}
	m->ctr = rte_zmalloc("ferry_mirror", sizeof(*m->ctr) * FERRY_MAX_PMDS, RTE_CACHE_LINE_SIZE);
	m->pool = pool_of(out->socket, err, errlen);
	if (m->ctr == NULL || m->pool == NULL) {
		if (m->ctr == NULL)
			snprintf(err, errlen, "out of memory");
		ferry_pcap_filter_free(&m->filter);
		rte_free(m->ctr);
		free(m);
		return NULL;
	}
	table[slot] = m;
	mir_stage_register();
	return m;
}

void
ferry_mirror_start(struct ferry_mirror *m)
{
	memset(m->ctr, 0, sizeof(*m->ctr) * FERRY_MAX_PMDS);
	out_totals(m->out, &m->base);
}

void
ferry_mirror_destroy(struct ferry_mirror *m)
{
	for (unsigned i = 0; i < FERRY_MIRROR_MAX; i++)
		if (table[i] == m)
			table[i] = NULL;
	ferry_pcap_filter_free(&m->filter);
	rte_free(m->ctr);
	free(m);
}

const struct ferry_mirror_conf *
ferry_mirror_conf(const struct ferry_mirror *m)
{
	return &m->conf;
}

void
ferry_mirror_drop_port(struct ferry_mirror *m, const char *src)
{
	unsigned k = 0;

	for (unsigned i = 0; i < m->conf.n_ports; i++)
		if (strcmp(m->conf.ports[i], src) != 0)
			memmove(m->conf.ports[k++], m->conf.ports[i], FERRY_NAME_MAX);
	m->conf.n_ports = (uint16_t)k;
}

json_t *
ferry_mirror_json(const struct ferry_mirror *m)
{
	json_t *o = ferry_mirror_conf_to_json(&m->conf);
	uint64_t selected = 0, failed = 0;
	struct mir_base now;

	for (unsigned p = 0; p < FERRY_MAX_PMDS; p++) {
		selected += __atomic_load_n(&m->ctr[p].selected, __ATOMIC_RELAXED);
		failed += __atomic_load_n(&m->ctr[p].failed, __ATOMIC_RELAXED);
	}
	out_totals(m->out, &now);
	if (!json_object_get(o, "vlans"))
		json_object_set_new(o, "vlans", json_null());
	if (!json_object_get(o, "filter"))
		json_object_set_new(o, "filter", json_string(""));
	json_object_set_new(o, "selected", json_integer((json_int_t)selected));
	json_object_set_new(o, "mirrored", json_integer((json_int_t)(now.tx_pkts -
								     m->base.tx_pkts)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)(now.tx_bytes - m->base.tx_bytes)));
	json_object_set_new(o, "dropped", json_integer((json_int_t)(failed + now.tx_drops -
								    m->base.tx_drops)));
	json_object_set_new(o, "jit", json_boolean(m->filter.jit != NULL || m->filter.bpf == NULL));
	return o;
}

struct ferry_mirror *
ferry_mirror_next(struct ferry_mirror *prev)
{
	unsigned i = 0;

	if (prev != NULL)
		while (i < FERRY_MIRROR_MAX && table[i++] != prev)
			;
	for (; i < FERRY_MIRROR_MAX; i++)
		if (table[i] != NULL)
			return table[i];
	return NULL;
}

struct ferry_mirror *
ferry_mirror_find(const char *name)
{
	for (unsigned i = 0; i < FERRY_MIRROR_MAX; i++)
		if (table[i] != NULL && strcmp(table[i]->conf.name, name) == 0)
			return table[i];
	return NULL;
}

unsigned
ferry_mirror_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FERRY_MIRROR_MAX; i++)
		n += table[i] != NULL;
	return n;
}
