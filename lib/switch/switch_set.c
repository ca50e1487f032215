/* switch_set.c — runtime changes: port.set (VLAN, MACs, admin state, MTU, external ids, zero_copy,
 * policer, storm, mac_limit, vm), FDB edits, and rebalancing rx queues over PMDs by measured load.
 * Nothing here stops other ports' traffic: new policies (with the isolation controls' buckets)
 * are published whole and the old ones freed after an RCU grace period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_malloc.h>
#include "switch_private.h"
#include "ferry_pkt.h"

bool
sw_is_settable(const char *k)
{
	const struct ferry_port_field *f = ferry_port_field_find(k);

	return f != NULL && f->settable;   /* another port type's field: the parse refuses it */
}

/* The port object with changes applied (null removes a field), validated like port.add. */
static int
merge_conf(struct ferry_port *p, json_t *changes, struct ferry_port_conf *nc,
	   char *err, size_t errlen)
{
	json_t *merged = ferry_port_conf_to_json(&p->conf), *v;
	const char *k;
	int rc;

	json_object_foreach(changes, k, v) {
		if (strcmp(k, "name") == 0)
			continue;
		if (!sw_is_settable(k)) {
			snprintf(err, errlen, "params.%s: cannot be changed at runtime "
				 "(delete and re-add the port)", k);
			json_decref(merged);
			return FERRY_EINVAL;
		}
		if (json_is_null(v))
			json_object_del(merged, k);
		else
			json_object_set(merged, k, v);
	}
	rc = ferry_port_conf_parse(merged, "params", nc, err, errlen);
	json_decref(merged);
	return rc < 0 ? FERRY_EINVAL : 0;
}

/* Publish pol as p's policy; the old one is freed after a grace period. */
void
sw_publish_policy(struct ferry_switch *sw, struct ferry_port *p, struct ferry_port_policy *pol)
{
	struct ferry_port_policy *old = p->policy;

	__atomic_store_n(&p->policy, pol, __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(sw->dp.qsv, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

/* Everything port.set can refuse, before anything changes: the new policy, room in the FDB for
 * the new static MACs (the old pins stay until commit), the port type's own changes (ops->set:
 * the device's MTU, a guest's zero_copy), last. On failure nothing changed: the port keeps its
 * configuration, MACs and pins. */
static int
set_prepare(struct ferry_switch *sw, struct ferry_port *p, const struct ferry_port_conf *nc,
	    bool vlan_or_mac, struct ferry_port_policy **pol, struct ferry_fdb_pins *pins,
	    char *err, size_t errlen)
{
	int rc;

	*pol = ferry_port_policy_build(nc);
	if (*pol == NULL) {
		snprintf(err, errlen, "out of memory");
		return FERRY_EINTERNAL;
	}
	if (p->mirror_output[0] != '\0')   /* still a mirror's output, whatever admin says */
		(*pol)->off |= FERRY_PORT_OFF_MIRROR;
	if (vlan_or_mac && (rc = sw_pins_prepare(sw, p, &p->conf.vlan, p->policy, &nc->vlan, *pol,
						 pins, err, errlen)) != 0)
		goto fail;
	if (p->ops->set != NULL && (rc = p->ops->set(p, nc, err, errlen)) != 0) {
		if (vlan_or_mac)
			ferry_fdb_pins_abort(pins);
		goto fail;
	}
	return 0;
fail:
	rte_free(*pol);
	return rc;
}

int
ferry_switch_port_set(struct ferry_switch *sw, const char *name, json_t *changes, char *err,
		      size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, name);
	struct ferry_port_policy *pol;
	struct ferry_fdb_pins pins;
	struct ferry_port_conf nc;
	int rc;

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", name);
		return FERRY_ENOPORT;
	}
	if (!json_is_object(changes)) {
		snprintf(err, errlen, "params: must be an object");
		return FERRY_EINVAL;
	}
	if ((rc = merge_conf(p, changes, &nc, err, errlen)) != 0)
		return rc;
	if ((rc = sw_vm_check(sw, &nc, true, err, errlen)) != 0) {
		ferry_port_conf_clear(&nc);
		return rc;
	}
	bool vm_changed = strcmp(nc.vm, p->conf.vm) != 0;
	bool vlan_or_mac = memcmp(&nc.vlan, &p->conf.vlan, sizeof(nc.vlan)) != 0 ||
			   nc.n_macs != p->conf.n_macs ||
			   memcmp(nc.macs, p->conf.macs, sizeof(nc.macs[0]) * nc.n_macs) != 0;
	if ((rc = set_prepare(sw, p, &nc, vlan_or_mac, &pol, &pins, err, errlen)) != 0) {
		ferry_port_conf_clear(&nc);
		return rc;
	}
	bool relearn = pol->mac_limit != 0 && ferry_fdb_learned(sw->dp.fdb, p->idx) > pol->mac_limit;
	sw_publish_policy(sw, p, pol);
	ferry_port_conf_clear(&p->conf);
	p->conf = nc;                     /* takes nc's external_ids */
	nc.external_ids = NULL;
	if (vlan_or_mac) {
		/* the old pins the new set does not keep go; so do the port's learned entries
		 * (some may be on VLANs it no longer carries) */
		ferry_fdb_pins_commit(&pins);
		ferry_fdb_flush(sw->dp.fdb, p->idx, false);
	} else if (relearn) {
		/* a mac_limit lowered below what the port has learned: it learns again, within it */
		ferry_fdb_flush(sw->dp.fdb, p->idx, false);
	}
	if (vm_changed) {   /* its queues become the VM's (or shared again); a vm port learns nothing */
		sw_rebuild_polls(sw, sw_pmds_of(sw, p));
		if (p->conf.vm[0] != '\0')
			ferry_fdb_flush(sw->dp.fdb, p->idx, false);
	}
	sw_emit(sw, "port.changed", json_pack("{s:s}", "name", name));
	if (vm_changed || vlan_or_mac)
		sw_steer_sync(sw);   /* only changed pairs are redone; a vm port is no uplink */
	return 0;
}

/* --- FDB --- */

static int
fdb_key(const char *mac, uint16_t vlan, uint64_t *key, char *err, size_t errlen)
{
	struct rte_ether_addr a;
	uint64_t w = 0;

	if (mac == NULL || rte_ether_unformat_addr(mac, &a) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&a)) {
		snprintf(err, errlen, "params.mac: must be a unicast MAC address");
		return FERRY_EINVAL;
	}
	if (vlan > 4094) {
		snprintf(err, errlen, "params.vlan: must be 0..4094");
		return FERRY_EINVAL;
	}
	memcpy(&w, a.addr_bytes, RTE_ETHER_ADDR_LEN);
	*key = ferry_fdb_key(w, vlan);
	return 0;
}

int
ferry_switch_fdb_add(struct ferry_switch *sw, const char *mac, uint16_t vlan, const char *port,
		     char *err, size_t errlen)
{
	struct ferry_port *p = port ? sw_port_by_name(sw, port) : NULL;
	uint64_t key;
	int rc = fdb_key(mac, vlan, &key, err, errlen);

	if (rc != 0)
		return rc;
	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", port ? port : "");
		return FERRY_ENOPORT;
	}
	if (!ferry_vlan_member(&p->policy->vlan, vlan)) {
		snprintf(err, errlen, "port %s does not carry VLAN %u", port, vlan);
		return FERRY_EINVAL;
	}
	if (ferry_fdb_add_static(sw->dp.fdb, key, p->idx) < 0) {
		snprintf(err, errlen, "the FDB is full (fdb.size %u entries)", sw->conf.fdb_size);
		return FERRY_ELIMIT;
	}
	return 0;
}

int
ferry_switch_fdb_del(struct ferry_switch *sw, const char *mac, uint16_t vlan, char *err,
		     size_t errlen)
{
	uint64_t key;
	int rc = fdb_key(mac, vlan, &key, err, errlen);

	if (rc != 0)
		return rc;
	if (ferry_fdb_del(sw->dp.fdb, key) < 0) {
		snprintf(err, errlen, "no FDB entry for %s on VLAN %u", mac, vlan);
		return FERRY_ENOENT;
	}
	return 0;
}

int
ferry_switch_fdb_flush(struct ferry_switch *sw, const char *port, bool include_static, char *err,
		       size_t errlen)
{
	uint16_t idx = FERRY_PORT_NONE;

	if (port != NULL) {
		struct ferry_port *p = sw_port_by_name(sw, port);
		if (p == NULL) {
			snprintf(err, errlen, "no port named '%s'", port);
			return FERRY_ENOPORT;
		}
		idx = p->idx;
	}
	return (int)ferry_fdb_flush(sw->dp.fdb, idx, include_static);
}

/* --- PMD rebalance --- */

struct rxq_load {
	uint16_t port, q;
	uint64_t cycles, pkts, load;
};

static int
by_load_desc(const void *a, const void *b)
{
	const struct rxq_load *x = a, *y = b;

	return x->load < y->load ? 1 : x->load > y->load ? -1 : 0;
}

/* Each rx queue's load into l (*n of them): the cycles it took over the last interval, on
 * whichever PMDs polled it; when no queue took any (no interval closed yet, no traffic), the
 * packets it received since the last rebalance. Returns whether cycles were used. */
static bool
rxq_loads(struct ferry_switch *sw, struct rxq_load *l, unsigned *n)
{
	uint64_t total = 0;

	*n = 0;
	for (uint16_t k = 0; k < sw->dp.n_pmds; k++)
		ferry_pmd_perf_sync(sw->pmds[k], sw->gen);   /* a new port in a reused slot: 0 */
	for (uint16_t i = 0; i < sw->dp.n_slots; i++) {
		struct ferry_port *p = sw->dp.ports[i];
		for (uint16_t q = 0; p != NULL && q < p->n_rxq; q++) {
			uint64_t now = p->rxq_stats[q].pkts, cycles = 0;
			for (uint16_t k = 0; k < sw->dp.n_pmds; k++)
				cycles += sw->pmds[k]->ival.rxq_delta[i][q];
			l[(*n)++] = (struct rxq_load){ i, q, cycles, now - sw->rxq_seen[i][q] };
			sw->rxq_seen[i][q] = now;
			total += cycles;
		}
	}
	for (unsigned j = 0; j < *n; j++)
		l[j].load = total != 0 ? l[j].cycles : l[j].pkts;
	return total != 0;
}

int
ferry_switch_pmd_rebalance(struct ferry_switch *sw, char *err, size_t errlen)
{
	struct rxq_load *l = calloc(FERRY_MAX_PORTS * FERRY_MAX_QUEUES, sizeof(*l));
	uint64_t pmd_load[FERRY_MAX_PMDS] = { 0 };
	uint16_t target[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];
	unsigned n = 0, moved = 0;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return FERRY_EINTERNAL;
	}
	bool by_cycles = rxq_loads(sw, l, &n);
	qsort(l, n, sizeof(*l), by_load_desc);
	for (unsigned j = 0; j < n; j++) {   /* greedy: heaviest queue to the least-loaded PMD */
		uint16_t best = 0;
		for (uint16_t k = 1; k < sw->dp.n_pmds; k++)
			if (pmd_load[k] < pmd_load[best])
				best = k;
		pmd_load[best] += l[j].load + 1;
		target[l[j].port][l[j].q] = best;
		if (sw->rxq_pmd[l[j].port][l[j].q] != best) {
			sw->rxq_pmd[l[j].port][l[j].q] = FERRY_PORT_NONE;   /* phase 1: nobody */
			moved++;
		}
	}
	if (moved != 0) {
		/* never let two PMDs poll one queue: drop moved queues everywhere, then hand them out */
		sw_rebuild_polls(sw, UINT32_MAX);
		for (unsigned j = 0; j < n; j++)
			sw->rxq_pmd[l[j].port][l[j].q] = target[l[j].port][l[j].q];
		sw_rebuild_polls(sw, UINT32_MAX);
	}
	free(l);
	FERRY_LOG(INFO, "pmd rebalance by %s: %u of %u rx queues moved",
		  by_cycles ? "cycles" : "packets", moved, n);
	return (int)moved;
}
