/* switch_json.c — what the switch reports: port list and details, counters (summed over PMDs, minus
 * the stats.clear baseline), the FDB, PMD load, switch info and the running configuration. */
#include <stdio.h>
#include <string.h>
#include <rte_cycles.h>
#include <rte_version.h>
#include "switch_private.h"
#include "ferry_pkt.h"

static void
sum_stats(const struct ferry_switch *sw, const struct ferry_port *p, struct ferry_port_pmd_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (uint16_t k = 0; k < sw->dp.n_pmds; k++) {
		struct ferry_port_pmd_stats s;
		ferry_port_stats_read(p, k, &s);
		t->rx_pkts += s.rx_pkts;
		t->rx_bytes += s.rx_bytes;
		t->tx_pkts += s.tx_pkts;
		t->tx_bytes += s.tx_bytes;
		t->mac_moves += s.mac_moves;
		t->learn_full += s.learn_full;
		for (int d = 0; d < FERRY_DROP_MAX; d++)
			t->drops[d] += s.drops[d];
	}
}

/* rx queue q's counters, read whole through the seq of the PMD polling it. */
static void
read_rxq(const struct ferry_switch *sw, const struct ferry_port *p, uint16_t q,
	 struct ferry_qstats *t)
{
	uint16_t pmd = sw->rxq_pmd[p->idx][q];

	if (pmd < sw->dp.n_pmds)
		ferry_port_rxq_read(p, pmd, q, t);
	else
		*t = p->rxq_stats[q];
}

static void
sum_txq(const struct ferry_switch *sw, const struct ferry_port *p, uint16_t q,
	struct ferry_qstats *t)
{
	memset(t, 0, sizeof(*t));
	for (uint16_t k = 0; k < sw->dp.n_pmds; k++) {
		const struct ferry_qstats *s = &p->txq_stats[k * FERRY_MAX_QUEUES + q];
		t->pkts += s->pkts;
		t->bytes += s->bytes;
		t->drops += s->drops;
	}
}

static json_t *
qstats_json(uint16_t q, const struct ferry_qstats *s, const struct ferry_qstats *base)
{
	return json_pack("{s:i, s:I, s:I, s:I}", "queue", q,
			 "packets", (json_int_t)(s->pkts - base->pkts),
			 "bytes", (json_int_t)(s->bytes - base->bytes),
			 "drops", (json_int_t)(s->drops - base->drops));
}

json_t *
sw_port_stats_json(struct ferry_switch *sw, struct ferry_port *p)
{
	struct ferry_port_pmd_stats t;
	const struct ferry_port_pmd_stats *b = &p->base;
	json_t *drops = json_object(), *rxq = json_array(), *txq = json_array();
	uint64_t total_drops = 0;

	sum_stats(sw, p, &t);
	for (int d = 0; d < FERRY_DROP_MAX; d++) {
		json_object_set_new(drops, ferry_drop_names[d],
				    json_integer((json_int_t)(t.drops[d] - b->drops[d])));
		total_drops += t.drops[d] - b->drops[d];
	}
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		struct ferry_qstats s;
		read_rxq(sw, p, q, &s);
		json_t *o = qstats_json(q, &s, &p->rxq_base[q]);
		json_object_set_new(o, "pmd", json_integer(sw->rxq_pmd[p->idx][q]));
		json_array_append_new(rxq, o);
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		struct ferry_qstats s;
		sum_txq(sw, p, q, &s);
		if (p->ops->txq_used_only && s.pkts == 0 && s.drops == 0)
			continue;   /* guest rings never used */
		json_array_append_new(txq, qstats_json(q, &s, &p->txq_base[q]));
	}
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:o}",
			 "name", p->conf.name,
			 "rx_packets", (json_int_t)(t.rx_pkts - b->rx_pkts),
			 "rx_bytes", (json_int_t)(t.rx_bytes - b->rx_bytes),
			 "tx_packets", (json_int_t)(t.tx_pkts - b->tx_pkts),
			 "tx_bytes", (json_int_t)(t.tx_bytes - b->tx_bytes),
			 "drops_total", (json_int_t)total_drops, "drops", drops,
			 "mac_moves", (json_int_t)(t.mac_moves - b->mac_moves),
			 "learn_full", (json_int_t)(t.learn_full - b->learn_full),
			 "rxq", rxq, "txq", txq);
	json_object_set_new(o, "learned", json_integer(ferry_fdb_learned(sw->dp.fdb, p->idx)));
	json_object_set_new(o, "mac_limit", json_integer(p->policy->mac_limit));   /* in force */
	if (p->ops->stats != NULL)
		p->ops->stats(p, o);
	return o;
}

int
ferry_switch_port_stats(struct ferry_switch *sw, const char *name, json_t **out, char *err,
			size_t errlen)
{
	if (name != NULL) {
		struct ferry_port *p = sw_port_by_name(sw, name);
		if (p == NULL) {
			snprintf(err, errlen, "no port named '%s'", name);
			return FERRY_ENOPORT;
		}
		*out = sw_port_stats_json(sw, p);
		return 0;
	}
	*out = json_array();
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL)
			json_array_append_new(*out, sw_port_stats_json(sw, sw->dp.ports[i]));
	return 0;
}

static void
clear_port(struct ferry_switch *sw, struct ferry_port *p)
{
	sum_stats(sw, p, &p->base);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++)
		read_rxq(sw, p, q, &p->rxq_base[q]);
	if (p->ops->stats_clear != NULL)
		p->ops->stats_clear(p);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++)
		sum_txq(sw, p, q, &p->txq_base[q]);
}

int
ferry_switch_port_stats_clear(struct ferry_switch *sw, const char *name, char *err, size_t errlen)
{
	if (name != NULL) {
		struct ferry_port *p = sw_port_by_name(sw, name);
		if (p == NULL) {
			snprintf(err, errlen, "no port named '%s'", name);
			return FERRY_ENOPORT;
		}
		clear_port(sw, p);
		return 0;
	}
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL)
			clear_port(sw, sw->dp.ports[i]);
	return 0;
}

static json_t *
port_json(struct ferry_switch *sw, struct ferry_port *p)
{
	json_t *o = ferry_port_conf_to_json(&p->conf);

	json_object_set_new(o, "link", json_string(p->link_up ? "up" : "down"));
	json_object_set_new(o, "rx_queues", json_integer(p->n_rxq));
	if (p->ops->to_json != NULL)
		p->ops->to_json(p, o);
	if (p->conf.type == FERRY_PORT_VHOST)
		json_object_set_new(o, "steering", sw_steer_json(sw, p));
	else if (p->n_rxq > p->n_rss)
		json_object_set_new(o, "vm_queue_owners", sw_steer_owners_json(sw, p));
	json_object_set_new(o, "numa", json_integer(p->socket));
	if (p->conf.type == FERRY_PORT_DPDK && p->conf.vm[0] != '\0')
		json_object_set_new(o, "vm_state", json_string(sw_vm_state(sw, p)));
	if (p->mirror_output[0] != '\0')   /* out of forwarding: the mirror's output */
		json_object_set_new(o, "mirror_output", json_string(p->mirror_output));
	return o;
}

json_t *
ferry_switch_port_list(struct ferry_switch *sw)
{
	json_t *a = json_array();

	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL)
			json_array_append_new(a, port_json(sw, sw->dp.ports[i]));
	return a;
}

json_t *
ferry_switch_port_find(json_t *ports, const char *key, const char *value)
{
	size_t i;
	json_t *p;

	json_array_foreach(ports, i, p) {
		const char *v = json_string_value(json_object_get(p, key));
		if (v != NULL && strcmp(v, value) == 0)
			return p;
	}
	return NULL;
}

int
ferry_switch_port_get(struct ferry_switch *sw, const char *name, json_t **out, char *err,
		      size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, name);

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", name);
		return FERRY_ENOPORT;
	}
	*out = port_json(sw, p);
	json_object_set_new(*out, "stats", sw_port_stats_json(sw, p));
	return 0;
}

struct fdb_walk {
	struct ferry_switch *sw;
	json_t *a;
};

static int
fdb_entry_json(const struct ferry_fdb_entry *e, void *arg)
{
	struct fdb_walk *w = arg;
	const struct ferry_port *p = w->sw->dp.ports[e->port];
	struct rte_ether_addr mac;
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t k = e->key;

	memcpy(mac.addr_bytes, &k, RTE_ETHER_ADDR_LEN);
	rte_ether_format_addr(buf, sizeof(buf), &mac);
	json_array_append_new(w->a, json_pack("{s:s, s:i, s:s, s:s, s:i}", "mac", buf,
					      "vlan", (int)(k >> 48), "port", p ? p->conf.name : "?",
					      "type", e->is_static ? "static" : "learned",
					      "age", e->is_static ? 0 : (int)(ferry_now_s - e->seen)));
	return 0;
}

json_t *
ferry_switch_fdb_list(struct ferry_switch *sw)
{
	struct fdb_walk w = { sw, json_array() };

	ferry_fdb_walk(sw->dp.fdb, fdb_entry_json, &w);
	return w.a;
}

static json_t *
pmd_hist_json(const uint64_t *hist)
{
	json_t *o = json_object();

	for (int b = 0; b < FERRY_PMD_HIST; b++)
		json_object_set_new(o, ferry_pmd_hist_names[b], json_integer((json_int_t)hist[b]));
	return o;
}

/* A queue that belongs to a VM (issue #18): "vm" (its name; a strict port's even while absent)
 * and "vm_mode": "strict" or "lenient", as the PMD's poll list has it. */
static void
rxq_vm_json(struct ferry_switch *sw, const struct ferry_port *p, uint16_t q, json_t *o)
{
	struct ferry_rxq_ref r;

	sw_rxq_owner(sw, p, q, &r);
	if (r.owner == FERRY_PORT_NONE)
		return;
	json_object_set_new(o, "vm", json_string(r.strict ? p->conf.vm :
						 sw->dp.ports[r.owner]->conf.name));
	json_object_set_new(o, "vm_mode", json_string(r.strict ? "strict" : "lenient"));
}

/* The rx queues PMD k polls: packets, cycles since the port arrived, and over the last interval
 * the cycles and their share of the PMD's busy cycles. */
static json_t *
pmd_rxqs_json(struct ferry_switch *sw, uint16_t k)
{
	const struct ferry_pmd *pmd = sw->pmds[k];
	uint64_t busy = pmd->ival.delta.busy_cycles;
	json_t *rxqs = json_array();

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		const struct ferry_port *p = sw->dp.ports[i];
		for (uint16_t q = 0; p != NULL && q < p->n_rxq; q++) {
			if (sw->rxq_pmd[i][q] != k)
				continue;
			uint64_t ic = pmd->ival.rxq_delta[i][q];
			json_t *o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:f}",
				"port", p->conf.name, "queue", q,
				"packets", (json_int_t)p->rxq_stats[q].pkts,
				"cycles", (json_int_t)ferry_pmd_rxq_cycles(pmd, i, q),
				"interval_cycles", (json_int_t)ic,
				"busy_share", busy ? (double)ic / busy : 0.0);
			rxq_vm_json(sw, p, q, o);
			json_array_append_new(rxqs, o);
		}
	}
	return rxqs;
}

/* PMD k's last closed interval (ferry_pmd_perf_sample, once a second). */
static json_t *
pmd_interval_json(const struct ferry_pmd *pmd)
{
	const struct ferry_pmd_counts *d = &pmd->ival.delta;
	uint64_t all = d->busy_cycles + d->idle_cycles;

	return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:o}",
		"seconds", (double)d->tsc / rte_get_tsc_hz(),
		"busy_pct", all ? 100.0 * d->busy_cycles / all : 0.0,
		"busy_cycles", (json_int_t)d->busy_cycles, "idle_cycles", (json_int_t)d->idle_cycles,
		"packets", (json_int_t)d->pkts, "iterations", (json_int_t)d->iterations,
		"burst_hist", pmd_hist_json(d->hist));
}

json_t *
ferry_switch_pmd_list(struct ferry_switch *sw)
{
	json_t *a = json_array();

	for (uint16_t k = 0; k < sw->dp.n_pmds; k++) {
		struct ferry_pmd *pmd = sw->pmds[k];
		struct ferry_pmd_counts c;

		ferry_pmd_perf_sync(pmd, sw->gen);
		ferry_pmd_counts(pmd, &c);
		uint64_t busy = c.busy_cycles, idle = c.idle_cycles, pkts = c.pkts;
		json_t *o = json_pack("{s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:I, s:o}",
			"pmd", k, "lcore", pmd->lcore, "numa", pmd->socket,
			"busy_pct", busy + idle ? 100.0 * busy / (busy + idle) : 0.0,
			"cycles_per_packet", pkts ? (double)busy / pkts : 0.0,
			"packets", (json_int_t)pkts, "iterations", (json_int_t)c.iterations,
			"fdb_cache_hits", (json_int_t)pmd->fwd.fdb_cache.hits,
			"fdb_cache_misses", (json_int_t)pmd->fwd.fdb_cache.misses,
			"rxqs", pmd_rxqs_json(sw, k));
		json_object_set_new(o, "busy_cycles", json_integer((json_int_t)busy));
		json_object_set_new(o, "idle_cycles", json_integer((json_int_t)idle));
		json_object_set_new(o, "tsc_hz", json_integer((json_int_t)rte_get_tsc_hz()));
		json_object_set_new(o, "burst_hist", pmd_hist_json(c.hist));
		json_object_set_new(o, "interval", pmd_interval_json(pmd));
		json_array_append_new(a, o);
	}
	return a;
}

/* switch.info's "isolation": how many ports have each control, and how often they hit. */
static json_t *
isolation_json(struct ferry_switch *sw)
{
	static const enum ferry_drop hits[] = { FERRY_DROP_POLICER, FERRY_DROP_STORM,
						FERRY_DROP_MAC_LIMIT };
	unsigned policed = 0, storm = 0, limited = 0;
	uint64_t n[RTE_DIM(hits)] = { 0 };
	json_t *o, *drops = json_object();

	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		struct ferry_port *p = sw->dp.ports[i];
		struct ferry_port_pmd_stats t;
		if (p == NULL)
			continue;
		policed += (p->policy->controls & FERRY_CTL_POLICER) != 0;
		storm += (p->policy->controls & FERRY_CTL_STORM) != 0;
		limited += p->policy->mac_limit != 0;
		sum_stats(sw, p, &t);
		for (unsigned h = 0; h < RTE_DIM(hits); h++)
			n[h] += t.drops[hits[h]] - p->base.drops[hits[h]];
	}
	for (unsigned h = 0; h < RTE_DIM(hits); h++)
		json_object_set_new(drops, ferry_drop_names[hits[h]], json_integer((json_int_t)n[h]));
	o = json_pack("{s:i, s:i, s:i, s:i, s:o}", "policer_ports", policed, "storm_ports", storm,
		      "mac_limit_ports", limited, "vhostuser_mac_limit_default",
		      FERRY_VHOST_MAC_LIMIT_DEFAULT, "drops", drops);
	return o;
}

json_t *
ferry_switch_info(struct ferry_switch *sw)
{
	json_t *pmds = json_array(), *o;
	unsigned n_ports = 0;

	for (uint16_t k = 0; k < sw->dp.n_pmds; k++)
		json_array_append_new(pmds, json_integer(sw->pmds[k]->lcore));
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		n_ports += sw->dp.ports[i] != NULL;
	o = json_pack("{s:s, s:s, s:I, s:{s:i, s:o}, s:s, s:i, s:i, s:i}",
			 "version", FERRY_VERSION, "dpdk", rte_version(),
			 "uptime_s", (json_int_t)((rte_get_tsc_cycles() - sw->start_tsc) /
						  rte_get_tsc_hz()),
			 "lcores", "main", (int)sw->conf.main_lcore, "pmd", pmds,
			 "config", sw->conf.path, "ports", n_ports,
			 "fdb_entries", ferry_fdb_count(sw->dp.fdb), "fdb_size", sw->conf.fdb_size);
	json_object_set_new(o, "isolation", isolation_json(sw));
	return o;
}

json_t *
ferry_switch_config_get(struct ferry_switch *sw)
{
	const struct ferry_conf *c = &sw->conf;
	json_t *pmd = json_array(), *ports = json_array(), *eal = json_array(), *o;

	char mode[8];

	for (unsigned k = 0; k < c->n_pmds; k++)
		json_array_append_new(pmd, json_integer(c->pmd_lcores[k]));
	for (uint16_t i = 0; i < sw->dp.n_slots; i++)
		if (sw->dp.ports[i] != NULL)
			json_array_append_new(ports, ferry_port_conf_to_json(&sw->dp.ports[i]->conf));
	for (unsigned k = 0; k < c->n_eal_args; k++)
		json_array_append_new(eal, json_string(c->eal_args[k]));
	snprintf(mode, sizeof(mode), "%04o", c->rpc_mode);
	o = json_pack("{s:{s:i, s:o}, s:i, s:i, s:{s:i, s:i}, s:{s:s, s:s, s:s}, s:o}",
			 "lcores", "main", c->main_lcore, "pmd", pmd,
			 "burst", c->burst, "mbufs", c->mbufs,
			 "fdb", "size", c->fdb_size, "aging", c->fdb_aging_s,
			 "rpc", "socket", c->rpc_socket, "mode", mode, "group", c->rpc_group,
			 "ports", ports);
	if (c->vfio_vf_token[0] != '\0')
		json_object_set_new(o, "vfio_vf_token", json_string(c->vfio_vf_token));
	if (c->n_eal_args != 0)
		json_object_set_new(o, "eal_args", eal);
	else
		json_decref(eal);
	json_object_set_new(json_object_get(o, "rpc"), "idle_timeout",
			    json_integer(c->rpc_idle_timeout_s));
	ferry_config_policy_to_json(c, o);
	ferry_config_metrics_to_json(c, o);
	sw_mirrors_conf_json(o);
	return o;
}

const struct ferry_conf *
ferry_switch_conf(const struct ferry_switch *sw)
{
	return &sw->conf;
}
