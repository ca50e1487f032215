/* switch.c — the switch's life cycle and its ports: create (mempools, FDB, PMDs), add/remove ports at
 * runtime without disturbing the others, rx queue assignment to PMDs, and periodic housekeeping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include "switch_private.h"
#include "ferry_pkt.h"
#include "ferry_steer.h"

void
sw_emit(struct ferry_switch *sw, const char *event, json_t *params)
{
	if (sw->cb != NULL)
		sw->cb(sw->cb_ctx, event, params);
	json_decref(params);
}

struct ferry_port *
sw_port_by_name(struct ferry_switch *sw, const char *name)
{
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL && strcmp(sw->dp.ports[i]->conf.name, name) == 0)
			return sw->dp.ports[i];
	return NULL;
}

/* --- what ports call back (struct ferry_port_host) --- */

static void
host_post(void *ctx, uint16_t idx, enum ferry_port_event ev, uint16_t q, int flags)
{
	sw_post(ctx, ev, idx, q, flags);
}

void
ferry_switch_quiesce(struct ferry_switch *sw)
{
	rte_rcu_qsbr_synchronize(sw->dp.qsv, RTE_QSBR_THRID_INVALID);
}

static void
host_quiesce(void *ctx)
{
	ferry_switch_quiesce(ctx);
}

static void
host_init(struct ferry_switch *sw)
{
	sw->host = (struct ferry_port_host){
		.ctx = sw, .pools = sw->dp.pools, .n_pmds = sw->dp.n_pmds,
		.post = host_post, .quiesce = host_quiesce,
	};
}

static int
create_pools(struct ferry_switch *sw, char *err, size_t errlen)
{
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		int s = rte_socket_id_by_idx(i);
		char name[RTE_MEMPOOL_NAMESIZE];
		if (s < 0 || s >= RTE_MAX_NUMA_NODES)
			continue;
		snprintf(name, sizeof(name), "ferry_mbuf_%d", s);
		sw->dp.pools[s] = rte_pktmbuf_pool_create(name, sw->conf.mbufs, 256, 0,
							  RTE_MBUF_DEFAULT_BUF_SIZE, s);
		if (sw->dp.pools[s] == NULL) {
			snprintf(err, errlen, "cannot create %u mbufs on socket %d: %s (hugepages?)",
				 sw->conf.mbufs, s, rte_strerror(rte_errno));
			return -1;
		}
	}
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)   /* sockets without lcores borrow the first */
		if (sw->dp.pools[s] == NULL)
			sw->dp.pools[s] = sw->dp.pools[rte_socket_id_by_idx(0)];
	return 0;
}

static int
create_rcu(struct ferry_switch *sw)
{
	size_t sz = rte_rcu_qsbr_get_memsize(sw->dp.n_pmds);

	sw->dp.qsv = rte_zmalloc("ferry_qsbr", sz, RTE_CACHE_LINE_SIZE);
	return sw->dp.qsv == NULL ? -1 : rte_rcu_qsbr_init(sw->dp.qsv, sw->dp.n_pmds);
}

static int
create_pmds(struct ferry_switch *sw, char *err, size_t errlen)
{
	for (unsigned i = 0; i < sw->dp.n_pmds; i++) {
		unsigned lc = sw->conf.pmd_lcores[i];
		if (!rte_lcore_is_enabled(lc) || lc == rte_get_main_lcore()) {
			snprintf(err, errlen, "lcores.pmd: lcore %u is not a worker lcore of this process",
				 lc);
			return -1;
		}
		sw->pmds[i] = ferry_pmd_create(&sw->dp, (uint16_t)i, lc);
		if (sw->pmds[i] == NULL) {
			snprintf(err, errlen, "out of memory creating pmd %u", i);
			return -1;
		}
	}
	return 0;
}

int
ferry_switch_create(const struct ferry_conf *conf, struct ferry_switch **out, char *err,
		    size_t errlen)
{
	struct ferry_switch *sw = rte_zmalloc("ferry_switch", sizeof(*sw), RTE_CACHE_LINE_SIZE);

	if (sw == NULL) {
		snprintf(err, errlen, "out of memory");
		return FERRY_EINTERNAL;
	}
	sw->conf = *conf;
	sw->conf.ports = NULL;   /* ports are owned by struct ferry_port from here on */
	sw->conf.n_ports = 0;
	sw->conf.mirrors = NULL;   /* ... and mirrors by lib/mirror */
	sw->conf.n_mirrors = 0;
	/* eal_args stay borrowed from the caller's conf, which outlives the switch */
	sw->dp.n_pmds = (uint16_t)conf->n_pmds;
	sw->dp.burst = (uint16_t)conf->burst;
	sw->start_tsc = rte_get_tsc_cycles();
	sw->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sw->events = rte_ring_create("ferry_events", 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	*out = sw;
	ferry_clock_update();
	if (sw->event_fd < 0 || sw->events == NULL || create_rcu(sw) < 0) {
		snprintf(err, errlen, "cannot create the switch's event queue or RCU state");
		return FERRY_EINTERNAL;
	}
	if (create_pools(sw, err, errlen) < 0 || create_pmds(sw, err, errlen) < 0)
		return FERRY_EINTERNAL;
	sw->dp.fdb = ferry_fdb_create("ferry_fdb", conf->fdb_size, rte_socket_id_by_idx(0),
				      sw->dp.qsv);
	if (sw->dp.fdb == NULL) {
		snprintf(err, errlen, "cannot create an FDB of %u entries: %s", conf->fdb_size,
			 rte_strerror(rte_errno));
		return FERRY_EINTERNAL;
	}
	host_init(sw);
	if (sw_steer_create(sw) < 0) {
		snprintf(err, errlen, "out of memory for steering");
		return FERRY_EINTERNAL;
	}
	for (unsigned i = 0; i < conf->n_ports; i++) {
		int rc = ferry_switch_port_add(sw, &conf->ports[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return sw_mirrors_open(sw, conf, err, errlen);
}

int
ferry_switch_start(struct ferry_switch *sw)
{
	for (unsigned i = 0; i < sw->dp.n_pmds; i++)
		if (ferry_pmd_launch(sw->pmds[i]) != 0)
			return FERRY_EINTERNAL;
	sw->started = true;
	return 0;
}

static void
port_remove(struct ferry_switch *sw, struct ferry_port *p);

void
ferry_switch_stop(struct ferry_switch *sw)
{
	for (unsigned i = 0; i < sw->dp.n_pmds; i++)
		if (sw->pmds[i] != NULL)
			ferry_pmd_join(sw->pmds[i]);   /* each flushes its tx buffers before exiting */
	sw->started = false;
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL)
			port_remove(sw, sw->dp.ports[i]);
	sw_zc_drain(1000);
}

void
ferry_switch_destroy(struct ferry_switch *sw)
{
	if (sw == NULL)
		return;
	for (unsigned i = 0; i < sw->dp.n_pmds; i++)
		ferry_pmd_free(sw->pmds[i]);
	ferry_fdb_free(sw->dp.fdb);
	ferry_steer_free(sw->steer);
	rte_ring_free(sw->events);
	if (sw->event_fd >= 0)
		close(sw->event_fd);
	rte_free(sw->dp.qsv);
	rte_free(sw);
}

/* --- rx queue assignment --- */

static unsigned
pmd_load(const struct ferry_switch *sw, uint16_t pmd)
{
	unsigned n = 0;

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->ctl[i];
		for (uint16_t q = 0; p != NULL && q < p->n_rxq; q++)
			n += sw->rxq_pmd[i][q] == pmd;
	}
	return n;
}

/* How unsuited PMD k is to poll one more queue of p, lowest first: fewest of p's own queues
 * (a port's queues spread over every PMD: its load is shared, and a guest's RX rings are split
 * among PMDs, so the frames p receives reach every ring of their destination only when every
 * PMD forwards some of them), then fewest queues in all, then p's NUMA socket. */
static uint64_t
rxq_cost(const struct ferry_switch *sw, const struct ferry_port *p, uint16_t k)
{
	uint64_t own = 0;

	for (uint16_t q = 0; q < p->n_rxq; q++)
		own += sw->rxq_pmd[p->idx][q] == k;
	return own << 32 | (uint64_t)pmd_load(sw, k) << 1 | (sw->pmds[k]->socket != p->socket);
}

/* Give queues [from, to) of p to the PMDs with the fewest of p's queues, then the least loaded,
 * preferring p's NUMA socket. Queues are assigned in the order guests enable them, which for
 * two guests starting together interleaves their ports; a port's own count keeps each port
 * spread whatever that order. */
void
sw_assign_rxqs(struct ferry_switch *sw, struct ferry_port *p, uint16_t from, uint16_t to)
{
	uint32_t touched = 0;

	p->n_rxq = to;
	for (uint16_t q = from; q < to; q++)
		sw->rxq_pmd[p->idx][q] = FERRY_PORT_NONE;
	for (uint16_t q = from; q < to; q++) {
		unsigned best = 0;
		uint64_t best_cost = UINT64_MAX;
		for (uint16_t k = 0; k < sw->dp.n_pmds; k++) {
			uint64_t cost = rxq_cost(sw, p, k);
			if (cost < best_cost) {
				best_cost = cost;
				best = k;
			}
		}
		sw->rxq_pmd[p->idx][q] = (uint16_t)best;
		touched |= 1u << best;
		FERRY_LOG(INFO, "pmd %u (lcore %u) polls port %s queue %u", best, sw->pmds[best]->lcore,
			  p->conf.name, q);
	}
	sw_rebuild_polls(sw, touched);
}

static struct ferry_poll_list *
build_poll(struct ferry_switch *sw, uint16_t pmd)
{
	struct ferry_poll_list *pl;
	unsigned n = pmd_load(sw, pmd), k = 0;

	pl = rte_zmalloc("poll_list", sizeof(*pl) + n * sizeof(pl->rxq[0]), RTE_CACHE_LINE_SIZE);
	if (pl == NULL)
		return NULL;
	unsigned groups = 0, first[FERRY_MAX_PORTS];
	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		struct ferry_port *p = sw->dp.ports[i];
		first[groups] = k;
		for (uint16_t q = 0; p != NULL && q < p->n_rxq; q++)
			if (sw->rxq_pmd[i][q] == pmd) {
				pl->rxq[k] = (struct ferry_rxq_ref){ .port = p, .q = q };
				sw_rxq_owner(sw, p, q, &pl->rxq[k++]);
			}
		if (k > first[groups])
			groups++;
	}
	/* One budget per port when the PMD has ports to be fair between; a lone port's queues each
	 * get a burst (fewer rounds per frame: 4 % more frames for one port of 8 queues). */
	for (unsigned g = 0; groups > 1 && g < groups; g++)
		pl->rxq[first[g]].group = (uint16_t)((g + 1 < groups ? first[g + 1] : k) - first[g]);
	pl->n = (uint16_t)k;
	return pl;
}

/* Publish fresh poll lists to the PMDs in pmd_mask (only ports visible in dp.ports are polled). */
void
sw_rebuild_polls(struct ferry_switch *sw, uint32_t pmd_mask)
{
	for (uint16_t k = 0; k < sw->dp.n_pmds; k++) {
		if (!(pmd_mask & (1u << k)))
			continue;
		struct ferry_poll_list *pl = build_poll(sw, k);
		if (pl == NULL) {
			FERRY_LOG(ERR, "pmd %u: out of memory for its poll list; keeping the old one", k);
			continue;
		}
		ferry_pmd_set_poll(sw->pmds[k], pl);
	}
}

uint32_t
sw_pmds_of(const struct ferry_switch *sw, const struct ferry_port *p)
{
	uint32_t m = 0;

	for (uint16_t q = 0; q < p->n_rxq; q++)
		m |= 1u << sw->rxq_pmd[p->idx][q];
	return m;
}

/* --- ports --- */

/* The static FDB keys of MACs macs[0, n) (ferry_pkt form) on VLANs v into keys (room for
 * n * (n_allowed + 1)); returns how many. A trunk of every VLAN pins none (learned instead). */
static unsigned
pin_keys(const struct ferry_vlan_conf *v, const uint64_t *macs, unsigned n, uint64_t *keys)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (v->mode == FERRY_VLAN_ACCESS) {
			keys[k++] = ferry_fdb_key(macs[i], v->tag);
			continue;
		}
		if (v->all)
			continue;
		for (unsigned j = 0; j < v->n_allowed; j++)
			keys[k++] = ferry_fdb_key(macs[i], v->allowed[j]);
		if (v->native != FERRY_VLAN_NONE)
			keys[k++] = ferry_fdb_key(macs[i], v->native);
	}
	return k;
}

static uint64_t *
pin_keys_alloc(const struct ferry_vlan_conf *v, const struct ferry_port_policy *pol, unsigned *n)
{
	uint64_t *keys = malloc(sizeof(*keys) * (pol->n_macs * (v->n_allowed + 1u) + 1));

	if (keys != NULL)
		*n = pin_keys(v, pol->macs, pol->n_macs, keys);
	return keys;
}

/* Prepare port p's static FDB entries for going from (ov, opol) (NULL: none) to (nv, npol): see
 * ferry_fdb_pins_prepare. 0; FERRY_ELIMIT when the FDB has no room for them (nothing changed;
 * err names the FDB), FERRY_EINTERNAL. */
int
sw_pins_prepare(struct ferry_switch *sw, struct ferry_port *p, const struct ferry_vlan_conf *ov,
		const struct ferry_port_policy *opol, const struct ferry_vlan_conf *nv,
		const struct ferry_port_policy *npol, struct ferry_fdb_pins *t, char *err,
		size_t errlen)
{
	unsigned n_old = 0, n_new = 0, need = 0;
	uint64_t *old = ov != NULL ? pin_keys_alloc(ov, opol, &n_old) : malloc(sizeof(*old));
	uint64_t *new = pin_keys_alloc(nv, npol, &n_new);
	int rc = old == NULL || new == NULL ? -ENOMEM :
		 ferry_fdb_pins_prepare(sw->dp.fdb, p->idx, old, n_old, new, n_new, t, &need);

	free(old);
	free(new);
	if (rc == -ENOSPC) {
		snprintf(err, errlen, "the FDB is full (fdb.size %u, %u free): port %s needs %u more "
			 "entries for its static MACs", sw->conf.fdb_size,
			 ferry_fdb_free_count(sw->dp.fdb), p->conf.name, need);
		return FERRY_ELIMIT;
	}
	if (rc != 0) {
		snprintf(err, errlen, "out of memory for port %s's static MACs", p->conf.name);
		return FERRY_EINTERNAL;
	}
	return 0;
}

static int
check_conflicts(struct ferry_switch *sw, const struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const struct ferry_port_field *f;
	char value[600];

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->dp.ports[i];
		if (p == NULL)
			continue;
		if (strcmp(p->conf.name, pc->name) == 0) {
			if (ferry_port_conf_equal(&p->conf, pc))
				return 1;
			snprintf(err, errlen, "port %s exists with a different configuration", pc->name);
			return FERRY_EEXIST;
		}
		if ((f = ferry_port_conf_conflict(&p->conf, pc, value, sizeof(value))) != NULL) {
			snprintf(err, errlen, "%s %s is used by port %s", f->name, value, p->conf.name);
			return FERRY_EEXIST;
		}
	}
	return 0;
}

static int
free_slot(const struct ferry_switch *sw)
{
	for (int i = 0; i < FERRY_MAX_PORTS; i++)
		if (sw->ctl[i] == NULL)
			return i;
	return -1;
}

int
ferry_switch_port_add(struct ferry_switch *sw, const struct ferry_port_conf *pc, char *err,
		      size_t errlen)
{
	int rc = check_conflicts(sw, pc, err, errlen), idx;
	struct ferry_fdb_pins pins;
	struct ferry_port *p;

	if (rc == 0)
		rc = sw_vm_check(sw, pc, false, err, errlen);
	if (rc != 0)
		return rc;
	if ((idx = free_slot(sw)) < 0) {
		snprintf(err, errlen, "all %d port slots are in use", FERRY_MAX_PORTS);
		return FERRY_ELIMIT;
	}
	p = ferry_port_alloc(pc, (uint16_t)idx, sw->dp.n_pmds);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory for port %s", pc->name);
		return FERRY_EINTERNAL;
	}
	rc = sw_filters_open(p, err, errlen);   /* a filter refused refuses the port, untouched */
	if (rc != 0) {
		ferry_port_free(p);
		return rc;
	}
	/* its static MACs first: a full FDB refuses the port before any device is touched (frames to
	 * them are dropped as no_dest until the port is visible) */
	rc = sw_pins_prepare(sw, p, NULL, NULL, &p->conf.vlan, p->policy, &pins, err, errlen);
	if (rc != 0) {
		ferry_port_free(p);
		return rc;
	}
	sw->gen[idx]++;                   /* events of the slot's last port are stale */
	sw->ctl[idx] = p;
	rc = ferry_port_open(p, &sw->host, err, errlen);   /* its callbacks may post from now on */
	if (rc != 0) {
		ferry_fdb_pins_abort(&pins);
		sw->ctl[idx] = NULL;
		ferry_port_free(p);
		return rc;
	}
	ferry_fdb_pins_commit(&pins);
	if (p->ops->start != NULL)
		p->ops->start(p);
	__atomic_store_n(&sw->dp.ports[idx], p, __ATOMIC_RELEASE);
	if (idx >= sw->dp.n_slots)
		__atomic_store_n(&sw->dp.n_slots, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	if (p->ops->link != NULL)
		p->link_up = p->ops->link(p);
	/* a guest's rx queues (none yet) are assigned as it enables them (sw_handle_events) */
	sw_assign_rxqs(sw, p, 0, p->n_rxq);
	if (p->conf.type == FERRY_PORT_VHOST)   /* a VM's own queues find it (again) */
		sw_rebuild_polls(sw, sw_vm_pmds(sw, p));
	sw_emit(sw, "port.added", json_pack("{s:s}", "name", p->conf.name));
	sw_steer_sync(sw);                /* a VM's rules in the uplinks, an uplink's for the VMs */
	return 0;
}

static void
port_remove(struct ferry_switch *sw, struct ferry_port *p)
{
	uint16_t idx = p->idx;
	uint32_t pmds = sw_pmds_of(sw, p) | sw_vm_pmds(sw, p);   /* and the queues it owns */

	/* 0. its steering rules go (an uplink's first of all, while the device is up), then it
	 * leaves the mirrors it is in (a mirror of its own goes) */
	sw_steer_port_gone(sw, p);
	sw_mirrors_port_gone(sw, p);
	/* 1. PMDs stop polling it and stop sending to it */
	__atomic_store_n(&sw->dp.ports[idx], NULL, __ATOMIC_RELEASE);
	sw_vm_port_gone(sw, p);
	sw_rebuild_polls(sw, pmds);
	rte_rcu_qsbr_synchronize(sw->dp.qsv, RTE_QSBR_THRID_INVALID);
	/* 2. its FDB entries go; a second grace period before the slot can be reused */
	ferry_fdb_flush(sw->dp.fdb, idx, true);
	rte_rcu_qsbr_synchronize(sw->dp.qsv, RTE_QSBR_THRID_INVALID);
	if (p->ops->stop != NULL)
		p->ops->stop(p);
	/* 3. the device closes; its callbacks no longer find it afterwards */
	p->ops->close(p);
	sw->ctl[idx] = NULL;
	FERRY_LOG(INFO, "port %s removed", p->conf.name);
	ferry_port_free(p);
}

int
ferry_switch_port_del(struct ferry_switch *sw, const char *name, char *err, size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, name);

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", name);
		return FERRY_ENOPORT;
	}
	json_t *ev = json_pack("{s:s}", "name", name);
	port_remove(sw, p);
	sw_emit(sw, "port.deleted", ev);
	sw_steer_sync(sw);                /* a queue it freed may steer another VM */
	return 0;
}

/* --- housekeeping --- */

static void
check_links(struct ferry_switch *sw)
{
	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		struct ferry_port *p = sw->dp.ports[i];
		if (p == NULL || p->ops->link == NULL)
			continue;   /* a link reported by events (a guest connecting) */
		bool up = p->ops->link(p);
		if (up == p->link_up)
			continue;
		p->link_up = up;
		FERRY_LOG(INFO, "port %s: link %s", p->conf.name, up ? "up" : "down");
		sw_emit(sw, "port.link", json_pack("{s:s, s:s}", "name", p->conf.name,
						   "state", up ? "up" : "down"));
	}
}

void
ferry_switch_poll(struct ferry_switch *sw)
{
	ferry_clock_update();
	sw_handle_events(sw);
	ferry_zc_reap();
	if (ferry_now_s != sw->last_age_s) {
		unsigned aged = ferry_fdb_age(sw->dp.fdb, ferry_now_s, sw->conf.fdb_aging_s);
		if (aged != 0)
			FERRY_LOG(DEBUG, "fdb: %u entries aged out", aged);
		sw->last_age_s = ferry_now_s;
		check_links(sw);
		for (uint16_t k = 0; k < sw->dp.n_pmds; k++)   /* pmd.list's "last interval" */
			ferry_pmd_perf_sample(sw->pmds[k], sw->gen);
	}
}

int
ferry_switch_event_fd(const struct ferry_switch *sw)
{
	return sw->event_fd;
}

void
ferry_switch_set_event_cb(struct ferry_switch *sw, ferry_event_cb cb, void *ctx)
{
	sw->cb = cb;
	sw->cb_ctx = ctx;
}

uint64_t
ferry_switch_rx_total(const struct ferry_switch *sw)
{
	uint64_t n = 0;

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->dp.ports[i];
		for (uint16_t k = 0; p != NULL && k < sw->dp.n_pmds; k++)
			n += p->stats[k].rx_pkts;
	}
	return n;
}

