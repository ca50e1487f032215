/* switch_filter.c — eBPF filters on ports (filter.attach/detach/list, a port's "filters"): each is
 * a "bpf" stage instance (lib/stage, lib/filter) in the port's ingress or egress list. Lists are
 * replaced whole and the old one freed after a grace period: PMDs never see half a list, other
 * ports' traffic never stops. The port's conf keeps the filters, so config.get/save keep them. */
#include <string.h>
#include "ferry_bpf_filter.h"
#include "ferry_stage.h"
#include "switch_private.h"

_Static_assert((int)FERRY_FILTER_INGRESS == (int)FERRY_STAGE_INGRESS &&
	       (int)FERRY_FILTER_EGRESS == (int)FERRY_STAGE_EGRESS, "hook numbering");

static struct ferry_stage_inst *
find_inst(const struct ferry_port *p, const char *name)
{
	for (int h = 0; h < FERRY_STAGE_HOOKS; h++) {
		const struct ferry_stage_list *l = p->stages[h];
		for (uint16_t i = 0; l != NULL && i < l->n; i++)   /* filters only: not mirrors */
			if (strcmp(l->inst[i]->name, name) == 0 &&
			    strcmp(l->inst[i]->ops->type, "bpf") == 0)
				return l->inst[i];
	}
	return NULL;
}

/* A new instance of fc, its configured map entries written (it is not attached yet). */
static struct ferry_stage_inst *
create_inst(const struct ferry_filter_conf *fc, char *err, size_t errlen)
{
	struct ferry_stage_inst *si;

	ferry_filter_stage_register();
	si = ferry_stage_create("bpf", fc->name, fc->hook, fc->path, err, errlen);
	if (si != NULL && ferry_filter_maps_load(si->state, fc, err, errlen) < 0) {
		ferry_stage_destroy(si);
		return NULL;
	}
	return si;
}

int
sw_filters_open(struct ferry_port *p, char *err, size_t errlen)
{
	char e[768];

	for (unsigned i = 0; i < p->conf.n_filters; i++) {
		const struct ferry_filter_conf *fc = &p->conf.filters[i];
		struct ferry_stage_inst *si = create_inst(fc, e, sizeof(e));
		if (si == NULL) {
			snprintf(err, errlen, "port %s: filters[%u] (%s): %s", p->conf.name, i,
				 fc->name, e);
			return FERRY_EINVAL;
		}
		if (ferry_stage_attach(&p->stages[fc->hook], si, NULL) < 0) {   /* not yet visible */
			ferry_stage_destroy(si);
			snprintf(err, errlen, "filters[%u] (%s): out of memory", i, fc->name);
			return FERRY_EINTERNAL;
		}
	}
	return 0;
}

int
ferry_switch_filter_attach(struct ferry_switch *sw, const char *port,
			   const struct ferry_filter_conf *fc, char *err, size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, port);
	struct ferry_stage_inst *si;

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", port);
		return FERRY_ENOPORT;
	}
	if (find_inst(p, fc->name) != NULL) {
		snprintf(err, errlen, "port %s already has a filter named '%s'", port, fc->name);
		return FERRY_EEXIST;
	}
	if (p->conf.n_filters == FERRY_MAX_FILTERS) {
		snprintf(err, errlen, "port %s has %d filters already", port, FERRY_MAX_FILTERS);
		return FERRY_ELIMIT;
	}
	si = create_inst(fc, err, errlen);
	if (si == NULL)
		return FERRY_EINVAL;
	if (ferry_stage_attach(&p->stages[fc->hook], si, sw->dp.qsv) < 0) {
		ferry_stage_destroy(si);
		snprintf(err, errlen, "out of memory");
		return FERRY_EINTERNAL;
	}
	p->conf.filters[p->conf.n_filters++] = *fc;
	FERRY_LOG(INFO, "port %s: filter %s attached at %s (%s, %s)", port, fc->name,
		  ferry_stage_hook_names[fc->hook], fc->path,
		  ((struct ferry_filter *)si->state)->jit ? "jit" : "interpreter");
	return 0;
}

int
ferry_switch_filter_detach(struct ferry_switch *sw, const char *port, const char *name,
			   char *err, size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, port);
	struct ferry_stage_inst *si;

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", port);
		return FERRY_ENOPORT;
	}
	si = find_inst(p, name);
	if (si == NULL || strcmp(si->ops->type, "bpf") != 0) {   /* captures end by capture.stop */
		snprintf(err, errlen, "port %s has no filter named '%s'", port, name);
		return FERRY_ENOENT;
	}
	if (ferry_stage_detach(&p->stages[si->hook], si, sw->dp.qsv) < 0) {
		snprintf(err, errlen, "out of memory");
		return FERRY_EINTERNAL;
	}
	ferry_stage_destroy(si);   /* after the grace period: no PMD runs it any more */
	for (unsigned i = 0; i < p->conf.n_filters; i++)
		if (strcmp(p->conf.filters[i].name, name) == 0) {
			memmove(&p->conf.filters[i], &p->conf.filters[i + 1],
				(p->conf.n_filters - i - 1) * sizeof(p->conf.filters[0]));
			p->conf.n_filters--;
			break;
		}
	FERRY_LOG(INFO, "port %s: filter %s detached", port, name);
	return 0;
}

int
ferry_switch_filter_get(struct ferry_switch *sw, const char *port, const char *name,
			struct ferry_filter **out, char *err, size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, port);
	struct ferry_stage_inst *si = p != NULL ? find_inst(p, name) : NULL;

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", port);
		return FERRY_ENOPORT;
	}
	if (si == NULL || strcmp(si->ops->type, "bpf") != 0) {
		snprintf(err, errlen, "port %s has no filter named '%s'", port, name);
		return FERRY_ENOENT;
	}
	*out = si->state;
	return 0;
}

static void
list_port(const struct ferry_port *p, json_t *a)
{
	for (int h = 0; h < FERRY_STAGE_HOOKS; h++) {
		const struct ferry_stage_list *l = p->stages[h];
		for (uint16_t i = 0; l != NULL && i < l->n; i++) {
			if (strcmp(l->inst[i]->ops->type, "mirror") == 0)
				continue;   /* mirror.list shows mirrors */
			json_t *o = ferry_stage_inst_json(l->inst[i]);
			json_object_set_new(o, "port", json_string(p->conf.name));
			json_array_append_new(a, o);
		}
	}
}

int
ferry_switch_filter_list(struct ferry_switch *sw, const char *port, json_t **out,
			 char *err, size_t errlen)
{
	json_t *a = json_array();

	if (port != NULL) {
		struct ferry_port *p = sw_port_by_name(sw, port);
		if (p == NULL) {
			json_decref(a);
			snprintf(err, errlen, "no port named '%s'", port);
			return FERRY_ENOPORT;
		}
		list_port(p, a);
	} else {
		for (uint16_t i = 0; i < sw->dp.n_slots; i++)
			if (sw->dp.ports[i] != NULL)
				list_port(sw->dp.ports[i], a);
	}
	*out = a;
	return 0;
}
