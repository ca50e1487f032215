/* switch_reload.c — the reload of a configuration's ports into the running switch (SIGHUP): the
 * difference between the running port objects and the new ones, applied with the public runtime
 * operations (ferry_switch_port_del / _set / _add), so a reload takes exactly the code paths of
 * the JSON-RPC methods and emits the same events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_switch_reload.h"
#include "switch_private.h"

static bool
in_conf(const struct ferry_conf *conf, const char *name)
{
	for (unsigned i = 0; i < conf->n_ports; i++)
		if (strcmp(conf->ports[i].name, name) == 0)
			return true;
	return false;
}

static void
add_diff_key(json_t *changes, json_t *want, const char *key, bool *settable_only, char *keys,
	     size_t keys_len)
{
	json_t *v = json_object_get(want, key);
	size_t n = strlen(keys);

	if (json_object_get(changes, key) != NULL)
		return;   /* already seen from the other side */
	json_object_set(changes, key, v != NULL ? v : json_null());
	if (!sw_is_settable(key))
		*settable_only = false;
	snprintf(keys + n, keys_len - n, "%s%s", n ? ", " : "", key);
}

/* The fields of have and want that differ, as port.set params (null = remove), in *changes;
 * returns true if port.set can make every change. keys: their names, for the log. */
static bool
port_diff(json_t *have, json_t *want, json_t **changes, char *keys, size_t keys_len)
{
	bool settable_only = true;
	const char *k;
	json_t *v;

	*changes = json_object();
	keys[0] = '\0';
	json_object_foreach(want, k, v)
		if (!json_equal(v, json_object_get(have, k)))
			add_diff_key(*changes, want, k, &settable_only, keys, keys_len);
	json_object_foreach(have, k, v)
		if (json_object_get(want, k) == NULL)
			add_diff_key(*changes, want, k, &settable_only, keys, keys_len);
	return settable_only;
}

/* What to do with each port of conf (SKIP: its replacement failed already). */
enum step { STEP_NONE, STEP_ADD, STEP_SET, STEP_REPLACE, STEP_SKIP };

static enum step
plan_port(json_t *running, const struct ferry_port_conf *pc, json_t **changes, char *keys,
	  size_t keys_len)
{
	json_t *have = ferry_switch_port_find(running, "name", pc->name), *want;
	enum step s;

	*changes = NULL;
	keys[0] = '\0';
	if (have == NULL)
		return STEP_ADD;
	want = ferry_port_conf_to_json(pc);
	if (json_equal(have, want))
		s = STEP_NONE;
	else
		s = port_diff(have, want, changes, keys, keys_len) ? STEP_SET : STEP_REPLACE;
	json_decref(want);
	return s;
}

static void
delete_removed(struct ferry_switch *sw, json_t *running, const struct ferry_conf *conf,
	       struct ferry_reload_result *res)
{
	char err[512];
	size_t i;
	json_t *p;

	json_array_foreach(running, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		if (name == NULL || in_conf(conf, name))
			continue;
		if (ferry_switch_port_del(sw, name, err, sizeof(err)) == 0) {
			FERRY_LOG(INFO, "reload: port %s removed", name);
			res->removed++;
		} else {
			FERRY_LOG(ERR, "reload: port %s: delete failed: %s", name, err);
			res->failed++;
		}
	}
}

static void
apply_step(struct ferry_switch *sw, const struct ferry_port_conf *pc, enum step s,
	   json_t *changes, const char *keys, struct ferry_reload_result *res)
{
	char err[512];
	int rc;

	if (s == STEP_NONE) {
		res->unchanged++;
	} else if (s == STEP_SET) {
		rc = ferry_switch_port_set(sw, pc->name, changes, err, sizeof(err));
		if (rc == 0)
			FERRY_LOG(INFO, "reload: port %s changed (%s)", pc->name, keys);
		else
			FERRY_LOG(ERR, "reload: port %s: port.set (%s) failed: %s", pc->name, keys, err);
		rc == 0 ? res->changed++ : res->failed++;
	} else {
		rc = ferry_switch_port_add(sw, pc, err, sizeof(err));
		if (rc >= 0 && s == STEP_REPLACE)
			FERRY_LOG(INFO, "reload: port %s replaced (%s changed: deleted, added again)",
				  pc->name, keys);
		else if (rc >= 0)
			FERRY_LOG(INFO, "reload: port %s added", pc->name);
		else
			FERRY_LOG(ERR, "reload: port %s: add failed: %s", pc->name, err);
		if (rc < 0)
			res->failed++;
		else if (s == STEP_REPLACE)
			res->changed++;
		else
			rc == 0 ? res->added++ : res->unchanged++;
	}
}

void
ferry_switch_reload_ports(struct ferry_switch *sw, const struct ferry_conf *conf,
			  struct ferry_reload_result *res)
{
	json_t *cfg = ferry_switch_config_get(sw), *running = json_object_get(cfg, "ports");
	enum step *steps = calloc(conf->n_ports + 1, sizeof(*steps));
	json_t **changes = calloc(conf->n_ports + 1, sizeof(*changes));
	char (*keys)[256] = calloc(conf->n_ports + 1, sizeof(*keys));
	char err[512];

	memset(res, 0, sizeof(*res));
	if (cfg == NULL || steps == NULL || changes == NULL || keys == NULL) {
		FERRY_LOG(ERR, "reload: out of memory: nothing changed");
		res->failed++;
		goto out;
	}
	for (unsigned i = 0; i < conf->n_ports; i++)   /* plan against the ports as they were */
		steps[i] = plan_port(running, &conf->ports[i], &changes[i], keys[i],
				     sizeof(keys[i]));
	delete_removed(sw, running, conf, res);
	for (unsigned i = 0; i < conf->n_ports; i++) {
		if (steps[i] != STEP_REPLACE)
			continue;
		if (ferry_switch_port_del(sw, conf->ports[i].name, err, sizeof(err)) != 0) {
			FERRY_LOG(ERR, "reload: port %s: delete (to replace it) failed: %s",
				  conf->ports[i].name, err);
			steps[i] = STEP_SKIP;
			res->failed++;
		}
	}
	for (unsigned i = 0; i < conf->n_ports; i++)
		if (steps[i] == STEP_SET || steps[i] == STEP_NONE)
			apply_step(sw, &conf->ports[i], steps[i], changes[i], keys[i], res);
	for (unsigned i = 0; i < conf->n_ports; i++)
		if (steps[i] == STEP_ADD || steps[i] == STEP_REPLACE)
			apply_step(sw, &conf->ports[i], steps[i], changes[i], keys[i], res);
out:
	for (unsigned i = 0; changes != NULL && i < conf->n_ports; i++)
		json_decref(changes[i]);
	free(changes);
	free(steps);
	free(keys);
	json_decref(cfg);
}

void
ferry_switch_reload_settings(struct ferry_switch *sw, const struct ferry_conf *conf)
{
	struct ferry_conf *c = &sw->conf;

	c->rpc_idle_timeout_s = conf->rpc_idle_timeout_s;
	/* the limits on RPC clients (lib/rpc/rpc_policy.c reads them for every request) */
	snprintf(c->rpc_save_dir, sizeof(c->rpc_save_dir), "%s", conf->rpc_save_dir);
	c->rpc_allow_host_devargs = conf->rpc_allow_host_devargs;
	c->n_vhost_socket_dirs = conf->n_vhost_socket_dirs;
	memcpy(c->vhost_socket_dirs, conf->vhost_socket_dirs, sizeof(c->vhost_socket_dirs));
	c->n_filter_dirs = conf->n_filter_dirs;
	memcpy(c->filter_dirs, conf->filter_dirs, sizeof(c->filter_dirs));
}
