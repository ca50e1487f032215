/* switch_capture.c — captures on ports (capture.start/stop/list; lib/capture): a capture's stage
 * instances are attached to the port's ingress (rx) and/or egress (tx) list like filters, and
 * detached before the capture is closed, so no PMD touches its ring or pool once it is freed.
 * The control loop drains every capture and ends those that are done. */
#include <string.h>
#include "ferry_capture.h"
#include "ferry_stage.h"
#include "switch_private.h"

static const int hook_of[2] = { FERRY_STAGE_INGRESS, FERRY_STAGE_EGRESS };   /* rx, tx */

/* Detach (one grace period each) and destroy c's instances still on its port. */
static void
detach_all(struct ferry_switch *sw, struct ferry_capture *c)
{
	struct ferry_port *p = sw_port_by_name(sw, ferry_capture_port(c));

	for (int h = 0; h < FERRY_STAGE_HOOKS; h++) {
		struct ferry_stage_inst *si = ferry_capture_inst(c, h);
		if (si == NULL)
			continue;
		if (p == NULL || ferry_stage_detach(&p->stages[h], si, sw->dp.qsv) < 0) {
			/* an instance not on its port's list: never published, or its port is gone */
			FERRY_LOG(ERR, "capture %u: stage not on port %s's list", ferry_capture_id(c),
				  ferry_capture_port(c));
		}
		ferry_stage_destroy(si);
	}
}

static json_t *
end_capture(struct ferry_switch *sw, struct ferry_capture *c, const char *why)
{
	unsigned id = ferry_capture_id(c);
	char port[FERRY_NAME_MAX];
	json_t *res;

	snprintf(port, sizeof(port), "%s", ferry_capture_port(c));
	detach_all(sw, c);
	res = ferry_capture_finish(c);
	FERRY_LOG(INFO, "port %s: capture %u ended (%s): %lld captured, %lld dropped", port, id, why,
		  (long long)json_integer_value(json_object_get(res, "captured")),
		  (long long)json_integer_value(json_object_get(res, "dropped")));
	return res;
}

int
ferry_switch_capture_start(struct ferry_switch *sw, struct ferry_capture_conf *cc, unsigned *id,
			   char *err, size_t errlen)
{
	struct ferry_port *p = sw_port_by_name(sw, cc->port);
	struct ferry_capture *c;

	if (p == NULL) {
		snprintf(err, errlen, "no port named '%s'", cc->port);
		return FERRY_ENOPORT;
	}
	for (int d = 0; d < 2; d++) {
		const struct ferry_stage_list *l = p->stages[hook_of[d]];
		if ((cc->dirs & (1u << d)) && l != NULL && l->n == FERRY_STAGE_MAX) {
			snprintf(err, errlen, "port %s has %d stages at its %s already", cc->port,
				 FERRY_STAGE_MAX, ferry_stage_hook_names[hook_of[d]]);
			return FERRY_ELIMIT;
		}
	}
	snprintf(cc->port_type, sizeof(cc->port_type), "%s", ferry_port_type_names[p->conf.type]);
	err[0] = '\0';
	c = ferry_capture_create(cc, err, errlen);
	if (c == NULL)
		return strstr(err, "captures are running") ? FERRY_ELIMIT :
		       strstr(err, "out of memory") ? FERRY_EINTERNAL : FERRY_EINVAL;
	for (int d = 0; d < 2; d++) {
		if (!(cc->dirs & (1u << d)))
			continue;
		struct ferry_stage_inst *si = ferry_capture_stage(c, hook_of[d], err, errlen);
		if (si == NULL || ferry_stage_attach(&p->stages[hook_of[d]], si, sw->dp.qsv) < 0) {
			if (si != NULL)   /* never published: destroy it here, not in detach_all */
				ferry_stage_destroy(si);
			snprintf(err, errlen, "out of memory");
			json_decref(end_capture(sw, c, "failed to start"));
			return FERRY_EINTERNAL;
		}
	}
	*id = ferry_capture_id(c);
	FERRY_LOG(INFO, "port %s: capture %u started (%s, filter '%s', snaplen %u) to %s", cc->port,
		  *id, ferry_dirs_name(cc->dirs), cc->filter, cc->snaplen, cc->path);
	return 0;
}

int
ferry_switch_capture_stop(struct ferry_switch *sw, unsigned id, json_t **res, char *err,
			  size_t errlen)
{
	struct ferry_capture *c = ferry_capture_find(id);

	if (c == NULL) {
		snprintf(err, errlen, "no capture %u", id);
		return FERRY_ENOENT;
	}
	*res = end_capture(sw, c, "stopped");
	return 0;
}

void
ferry_switch_capture_stop_owner(struct ferry_switch *sw, const void *owner)
{
	struct ferry_capture *c = ferry_capture_next(NULL), *next;

	for (; c != NULL; c = next) {
		next = ferry_capture_next(c);
		if (ferry_capture_owner(c) == owner)
			json_decref(end_capture(sw, c, "its client disconnected"));
	}
}

void
ferry_switch_capture_stop_all(struct ferry_switch *sw)
{
	struct ferry_capture *c;

	while ((c = ferry_capture_next(NULL)) != NULL)
		json_decref(end_capture(sw, c, "ferryd stops"));
	ferry_capture_flush_closing(1000);
}

void
ferry_switch_capture_poll(struct ferry_switch *sw)
{
	struct ferry_capture *c = ferry_capture_next(NULL), *next;
	const char *why;

	for (; c != NULL; c = next) {
		next = ferry_capture_next(c);
		ferry_capture_drain(c);
		if (ferry_capture_done(c, &why))
			json_decref(end_capture(sw, c, why));
	}
	ferry_capture_flush_closing(0);
}

json_t *
ferry_switch_capture_list(struct ferry_switch *sw)
{
	json_t *a = json_array();

	for (struct ferry_capture *c = ferry_capture_next(NULL); c != NULL && a != NULL;
	     c = ferry_capture_next(c))
		json_array_append_new(a, ferry_capture_json(c));
	return a;
}
