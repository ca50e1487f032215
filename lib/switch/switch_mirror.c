/* switch_mirror.c — port mirrors (mirror.add/del/list, the config's "mirrors"; lib/mirror): a
 * mirror's output is taken out of forwarding (its policy gets FERRY_PORT_OFF_MIRROR: never a
 * flood target or unicast destination, its rx dropped as `mirror_output`, its learned MACs
 * flushed), then the mirror's stage instances are attached to its sources' rx and/or egress lists
 * under RCU like filters, so other ports never stop. Deleting a port takes it out of the mirrors
 * it is a source of; a mirror whose output, or last source, is deleted is deleted with it. */
#include <string.h>
#include <rte_malloc.h>
#include "ferry_mirror.h"
#include "ferry_stage.h"
#include "switch_private.h"

static const int hook_of[2] = { FERRY_STAGE_RX, FERRY_STAGE_EGRESS };   /* rx, tx */

/* The mirror's instance at p's hook, or NULL. */
static struct ferry_stage_inst *
find_inst(const struct ferry_port *p, int hook, const char *mirror)
{
	const struct ferry_stage_list *l = p->stages[hook];

	for (uint16_t i = 0; l != NULL && i < l->n; i++)
		if (strcmp(l->inst[i]->ops->type, "mirror") == 0 &&
		    strcmp(l->inst[i]->name, mirror) == 0)
			return l->inst[i];
	return NULL;
}

/* Publish a copy of p's policy with its FERRY_PORT_OFF_MIRROR bit set or cleared (grace period). */
static int
set_output(struct ferry_switch *sw, struct ferry_port *p, const char *mirror)
{
	struct ferry_port_policy *pol = rte_malloc("port_policy", sizeof(*pol), RTE_CACHE_LINE_SIZE);

	if (pol == NULL)
		return -1;
	*pol = *p->policy;
	if (mirror != NULL)
		pol->off |= FERRY_PORT_OFF_MIRROR;
	else
		pol->off &= (uint8_t)~FERRY_PORT_OFF_MIRROR;
	snprintf(p->mirror_output, sizeof(p->mirror_output), "%s", mirror != NULL ? mirror : "");
	sw_publish_policy(sw, p, pol);
	if (mirror != NULL)   /* nothing is learned from an output: what it taught goes */
		ferry_fdb_flush(sw->dp.fdb, p->idx, false);
	sw_steer_sync(sw);    /* an output is no uplink */
	return 0;
}

/* Detach (a grace period each) and destroy the mirror's instances on p. */
static void
detach_port(struct ferry_switch *sw, struct ferry_port *p, const char *mirror)
{
	for (int d = 0; d < 2; d++) {
		struct ferry_stage_inst *si = find_inst(p, hook_of[d], mirror);
		if (si != NULL && ferry_stage_detach(&p->stages[hook_of[d]], si, sw->dp.qsv) == 0)
			ferry_stage_destroy(si);
	}
}

/* Detach m from its sources and free it; its output forwards again unless it is going away
 * itself (out_gone: it must not learn or be flooded to before port_remove unpublishes it). */
static void
remove_mirror(struct ferry_switch *sw, struct ferry_mirror *m, bool out_gone)
{
	const struct ferry_mirror_conf *mc = ferry_mirror_conf(m);
	struct ferry_port *out = out_gone ? NULL : sw_port_by_name(sw, mc->output);

	for (unsigned i = 0; i < mc->n_ports; i++) {
		struct ferry_port *p = sw_port_by_name(sw, mc->ports[i]);
		if (p != NULL)
			detach_port(sw, p, mc->name);
	}
	if (out != NULL && set_output(sw, out, NULL) < 0)
		FERRY_LOG(ERR, "mirror %s: out of memory giving port %s back to forwarding", mc->name,
			  out->conf.name);
	ferry_mirror_destroy(m);
}

/* Everything mirror.add refuses, before anything changes. */
static int
check_add(struct ferry_switch *sw, const struct ferry_mirror_conf *mc, const char *where,
	  char *err, size_t errlen)
{
	char why[256];

	if (ferry_mirror_find(mc->name) != NULL)
		return snprintf(err, errlen, "mirror '%s' exists", mc->name), FERRY_EEXIST;
	if (ferry_mirror_count() >= FERRY_MIRROR_MAX)
		return snprintf(err, errlen, "%d mirrors exist already", FERRY_MIRROR_MAX),
		       FERRY_ELIMIT;
	for (unsigned i = 0; i < mc->n_ports; i++) {
		struct ferry_port *p = sw_port_by_name(sw, mc->ports[i]);
		if (p == NULL)
			return snprintf(err, errlen, "%s.ports: no port named '%s'", where,
					mc->ports[i]), FERRY_ENOPORT;
		for (int d = 0; d < 2; d++)
			if ((mc->dirs & (1u << d)) && p->stages[hook_of[d]] != NULL &&
			    p->stages[hook_of[d]]->n == FERRY_STAGE_MAX)
				return snprintf(err, errlen, "port %s has %d stages at its %s already",
						p->conf.name, FERRY_STAGE_MAX,
						ferry_stage_hook_names[hook_of[d]]), FERRY_ELIMIT;
	}
	if (sw_port_by_name(sw, mc->output) == NULL)
		return snprintf(err, errlen, "%s.output: no port named '%s'", where, mc->output),
		       FERRY_ENOPORT;
	for (struct ferry_mirror *m = ferry_mirror_next(NULL); m != NULL; m = ferry_mirror_next(m)) {
		const char *f = ferry_mirror_conf_conflict(mc, ferry_mirror_conf(m), why, sizeof(why));
		if (f != NULL)
			return snprintf(err, errlen, "%s.%s: %s", where, f, why), FERRY_EINVAL;
	}
	return 0;
}

static int
add(struct ferry_switch *sw, const struct ferry_mirror_conf *mc, const char *where, char *err,
    size_t errlen)
{
	struct ferry_port *out;
	struct ferry_mirror *m;
	char why[512];
	int rc = check_add(sw, mc, where, err, errlen);

	if (rc != 0)
		return rc;
	out = sw_port_by_name(sw, mc->output);
	m = ferry_mirror_create(mc, out, why, sizeof(why));
	if (m == NULL) {
		bool oom = strstr(why, "out of memory") != NULL;
		snprintf(err, errlen, "%s%s%s", oom ? "" : where, oom ? "" : ".filter: ", why);
		return oom ? FERRY_EINTERNAL : FERRY_EINVAL;
	}
	if (set_output(sw, out, mc->name) < 0)
		goto oom;
	ferry_mirror_start(m);   /* the output's tx counters are the mirror's from here */
	for (unsigned i = 0; i < mc->n_ports; i++) {
		struct ferry_port *p = sw_port_by_name(sw, mc->ports[i]);
		for (int d = 0; d < 2; d++) {
			if (!(mc->dirs & (1u << d)))
				continue;
			struct ferry_stage_inst *si = ferry_mirror_stage(m, p, hook_of[d], why,
									 sizeof(why));
			if (si == NULL || ferry_stage_attach(&p->stages[hook_of[d]], si,
							     sw->dp.qsv) < 0) {
				ferry_stage_destroy(si);   /* never published */
				goto oom;
			}
		}
	}
	FERRY_LOG(INFO, "mirror %s added: %u port(s), %s, filter '%s', output %s", mc->name,
		  mc->n_ports, ferry_dirs_name(mc->dirs), mc->filter, mc->output);
	return 0;
oom:
	remove_mirror(sw, m, false);
	snprintf(err, errlen, "out of memory");
	return FERRY_EINTERNAL;
}

int
ferry_switch_mirror_add(struct ferry_switch *sw, const struct ferry_mirror_conf *mc, json_t **res,
			char *err, size_t errlen)
{
	int rc = add(sw, mc, "params", err, errlen);

	if (rc == 0)
		*res = ferry_mirror_json(ferry_mirror_find(mc->name));
	return rc;
}

int
ferry_switch_mirror_del(struct ferry_switch *sw, const char *name, json_t **res, char *err,
			size_t errlen)
{
	struct ferry_mirror *m = ferry_mirror_find(name);

	if (m == NULL) {
		snprintf(err, errlen, "no mirror named '%s'", name);
		return FERRY_ENOENT;
	}
	*res = ferry_mirror_json(m);   /* its last counters */
	remove_mirror(sw, m, false);
	FERRY_LOG(INFO, "mirror %s deleted", name);
	return 0;
}

json_t *
ferry_switch_mirror_list(struct ferry_switch *sw)
{
	json_t *a = json_array();

	for (struct ferry_mirror *m = ferry_mirror_next(NULL); m != NULL && a != NULL;
	     m = ferry_mirror_next(m))
		json_array_append_new(a, ferry_mirror_json(m));
	return a;
}

int
sw_mirrors_open(struct ferry_switch *sw, const struct ferry_conf *conf, char *err, size_t errlen)
{
	char where[32];

	for (unsigned i = 0; i < conf->n_mirrors; i++) {
		snprintf(where, sizeof(where), "mirrors[%u]", i);
		int rc = add(sw, &conf->mirrors[i], where, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
sw_mirrors_port_gone(struct ferry_switch *sw, struct ferry_port *p)
{
	struct ferry_mirror *m = ferry_mirror_next(NULL), *next;
	const char *name = p->conf.name;

	for (; m != NULL; m = next) {
		const struct ferry_mirror_conf *mc = ferry_mirror_conf(m);
		next = ferry_mirror_next(m);
		if (strcmp(mc->output, name) == 0) {
			FERRY_LOG(INFO, "mirror %s deleted with its output port %s", mc->name, name);
			remove_mirror(sw, m, true);
		} else if (ferry_mirror_conf_has_port(mc, name)) {
			detach_port(sw, p, mc->name);
			ferry_mirror_drop_port(m, name);
			FERRY_LOG(INFO, "mirror %s: port %s deleted, %u source(s) left", mc->name, name,
				  mc->n_ports);
			if (mc->n_ports == 0) {
				FERRY_LOG(INFO, "mirror %s deleted with its last source", mc->name);
				remove_mirror(sw, m, false);
			}
		}
	}
}

void
sw_mirrors_conf_json(json_t *cfg)
{
	json_t *a;

	if (ferry_mirror_next(NULL) == NULL)
		return;
	a = json_array();
	for (struct ferry_mirror *m = ferry_mirror_next(NULL); m != NULL; m = ferry_mirror_next(m))
		json_array_append_new(a, ferry_mirror_conf_to_json(ferry_mirror_conf(m)));
	json_object_set_new(cfg, "mirrors", a);
}
