/* rpc_methods.c — the JSON-RPC methods: the one method table (name, handler, params, one-line
 * description) and a small handler per method. Handlers validate their params strictly first (and
 * what a client may make ferryd touch on the host: rpc_policy.c), then call the switch; errors are
 * the switch's FERRY_E* code and message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <rte_ether.h>
#include "ferry_config.h"
#include "ferry_switch.h"
#include "rpc_capture.h"
#include "rpc_mirror.h"
#include "rpc_filter.h"
#include "rpc_policy.h"
#include "rpc_private.h"

static const char *const no_params[] = { NULL };

static int
no_memory(struct rpc_call *c)
{
	return rpc_err(c, FERRY_EINTERNAL, "out of memory");
}

/* A switch function's JSON result, or -32603 if it could not build one. */
static int
result_or_oom(struct rpc_call *c, json_t *j, json_t **res)
{
	if (j == NULL)
		return no_memory(c);
	*res = j;
	return 0;
}

/* Methods without params that return what a switch function builds. */
static int
simple(struct rpc_call *c, json_t *(*fn)(struct ferry_switch *), json_t **res)
{
	int rc;

	if ((rc = rpc_check_keys(c, no_params)) != 0 || (rc = rpc_need_switch(c)) != 0)
		return rc;
	return result_or_oom(c, fn(c->r->sw), res);
}

/* --- rpc.*, switch.* --- */

static int
m_rpc_methods(struct rpc_call *c, json_t **res)
{
	int rc = rpc_check_keys(c, no_params);

	return rc != 0 ? rc : result_or_oom(c, rpc_methods_json(), res);
}

static int
m_switch_info(struct rpc_call *c, json_t **res)
{
	int rc = simple(c, ferry_switch_info, res);

	if (rc == 0)
		json_object_set_new(*res, "rpc", json_pack("{s:s, s:i}", "socket", c->r->path,
							  "clients", (int)c->r->n_clients));
	return rc;
}

static int
m_switch_shutdown(struct rpc_call *c, json_t **res)
{
	int rc = rpc_check_keys(c, no_params);

	if (rc != 0)
		return rc;
	if (c->r->quit != NULL)
		*c->r->quit = 1;
	return result_or_oom(c, json_pack("{s:b}", "shutdown", 1), res);
}

/* --- port.* --- */

static int
m_port_add(struct rpc_call *c, json_t **res)
{
	struct ferry_port_conf pc;
	int rc;

	if (ferry_port_conf_parse(c->params, "params", &pc, c->err, sizeof(c->err)) < 0)
		return FERRY_EINVAL;
	rc = rpc_need_switch(c);
	if (rc == 0)
		rc = rpc_policy_port_add(c, &pc);
	for (unsigned i = 0; rc == 0 && i < pc.n_filters; i++) {   /* objects inside rpc.filter_dirs */
		char field[48];
		snprintf(field, sizeof(field), "params.filters[%u].path", i);
		rc = rpc_policy_filter(c, field, &pc.filters[i]);
	}
	if (rc == 0)
		rc = ferry_switch_port_add(c->r->sw, &pc, c->err, sizeof(c->err));
	if (rc >= 0)
		*res = json_pack("{s:s, s:b}", "name", pc.name, "added", rc == 0);
	ferry_port_conf_clear(&pc);
	return rc < 0 ? rc : (*res == NULL ? no_memory(c) : 0);
}

static int
name_only(struct rpc_call *c, bool required, const char **name)
{
	static const char *const keys[] = { "name", NULL };
	int rc;

	*name = NULL;
	if ((rc = rpc_check_keys(c, keys)) != 0 ||
	    (rc = rpc_get_string(c, "name", required, name)) != 0)
		return rc;
	return rpc_need_switch(c);
}

static int
m_port_del(struct rpc_call *c, json_t **res)
{
	const char *name;
	int rc;

	if ((rc = name_only(c, true, &name)) != 0 ||
	    (rc = ferry_switch_port_del(c->r->sw, name, c->err, sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:s, s:b}", "name", name, "deleted", 1), res);
}

static int
m_port_list(struct rpc_call *c, json_t **res)
{
	return simple(c, ferry_switch_port_list, res);
}

static int
m_port_get(struct rpc_call *c, json_t **res)
{
	const char *name;
	int rc;

	if ((rc = name_only(c, true, &name)) != 0)
		return rc;
	return ferry_switch_port_get(c->r->sw, name, res, c->err, sizeof(c->err));
}

/* Every key of port.set's params is "name" or a field port.set can change (ferry_port_fields[];
 * the switch refuses one that does not apply to the port's type). */
static int
check_settable(struct rpc_call *c, const char *settable)
{
	const struct ferry_port_field *f;
	const char *k;
	json_t *v;

	json_object_foreach(c->params, k, v) {
		if (strcmp(k, "name") == 0)
			continue;
		if ((f = ferry_port_field_find(k)) == NULL)
			return rpc_err(c, FERRY_EINVAL, "params.%.64s: unknown field (settable: %s)", k,
				       settable);
		if (!f->settable)
			return rpc_err(c, FERRY_EINVAL, "params.%s: cannot be changed at runtime (delete "
				       "and re-add the port; settable: %s)", k, settable);
	}
	return 0;
}

static int
m_port_set(struct rpc_call *c, json_t **res)
{
	const char *name;
	char settable[256];
	int rc;

	ferry_port_fields_settable_list(settable, sizeof(settable));
	if ((rc = rpc_get_string(c, "name", true, &name)) != 0 ||
	    (rc = check_settable(c, settable)) != 0)
		return rc;
	if (json_object_size(c->params) < 2)
		return rpc_err(c, FERRY_EINVAL, "params: nothing to change (give any of %s)",
			       settable);
	if ((rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_port_set(c->r->sw, name, c->params, c->err, sizeof(c->err))) < 0 ||
	    (rc = ferry_switch_port_get(c->r->sw, name, res, c->err, sizeof(c->err))) < 0)
		return rc;
	json_object_del(*res, "stats");
	return 0;
}

/* The port object's fields (ferry_port_fields[]), for orchestration tools and ferryctl. */
static int
m_port_schema(struct rpc_call *c, json_t **res)
{
	int rc = rpc_check_keys(c, no_params);

	return rc != 0 ? rc : result_or_oom(c, ferry_port_fields_json(), res);
}

static int
m_port_stats(struct rpc_call *c, json_t **res)
{
	const char *name;
	int rc;

	if ((rc = name_only(c, false, &name)) != 0)
		return rc;
	return ferry_switch_port_stats(c->r->sw, name, res, c->err, sizeof(c->err));
}

static int
m_port_stats_clear(struct rpc_call *c, json_t **res)
{
	const char *name;
	int rc;

	if ((rc = name_only(c, false, &name)) != 0 ||
	    (rc = ferry_switch_port_stats_clear(c->r->sw, name, c->err, sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:b}", "cleared", 1), res);
}

/* --- fdb.* --- */

static int
m_fdb_list(struct rpc_call *c, json_t **res)
{
	return simple(c, ferry_switch_fdb_list, res);
}

static int
mac_vlan(struct rpc_call *c, const char *const *keys, const char **mac, unsigned *vlan)
{
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 ||
	    (rc = rpc_get_string(c, "mac", true, mac)) != 0 ||
	    (rc = rpc_get_uint(c, "vlan", true, 0, 4094, vlan)) != 0)
		return rc;
	return 0;
}

/* The MAC as fdb.list prints it. */
static const char *
mac_canonical(const char *mac, char *buf, size_t len)
{
	struct rte_ether_addr a;

	if (rte_ether_unformat_addr(mac, &a) != 0)
		return mac;
	rte_ether_format_addr(buf, (uint16_t)len, &a);
	return buf;
}

static int
m_fdb_add(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "mac", "vlan", "port", NULL };
	const char *mac, *port;
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	unsigned vlan;
	int rc;

	if ((rc = mac_vlan(c, keys, &mac, &vlan)) != 0 ||
	    (rc = rpc_get_string(c, "port", true, &port)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_fdb_add(c->r->sw, mac, (uint16_t)vlan, port, c->err,
				       sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:s, s:i, s:s, s:s}", "mac",
					  mac_canonical(mac, buf, sizeof(buf)), "vlan", (int)vlan,
					  "port", port, "type", "static"), res);
}

static int
m_fdb_del(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "mac", "vlan", NULL };
	const char *mac;
	unsigned vlan;
	int rc;

	if ((rc = mac_vlan(c, keys, &mac, &vlan)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_fdb_del(c->r->sw, mac, (uint16_t)vlan, c->err, sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:b}", "deleted", 1), res);
}

static int
m_fdb_flush(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "static", NULL };
	const char *port = NULL;
	bool with_static = false;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 ||
	    (rc = rpc_get_string(c, "port", false, &port)) != 0 ||
	    (rc = rpc_get_bool(c, "static", &with_static)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_fdb_flush(c->r->sw, port, with_static, c->err, sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:i}", "removed", rc), res);
}

/* --- pmd.* --- */

static int
m_pmd_list(struct rpc_call *c, json_t **res)
{
	return simple(c, ferry_switch_pmd_list, res);
}

static int
m_pmd_rebalance(struct rpc_call *c, json_t **res)
{
	int rc;

	if ((rc = rpc_check_keys(c, no_params)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_pmd_rebalance(c->r->sw, c->err, sizeof(c->err))) < 0)
		return rc;
	return result_or_oom(c, json_pack("{s:i}", "moved", rc), res);
}

/* --- config.* --- */

static int
m_config_get(struct rpc_call *c, json_t **res)
{
	return simple(c, ferry_switch_config_get, res);
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write text and a final newline to the file name in directory dirfd atomically: a temporary
 * file beside it (O_EXCL, O_NOFOLLOW), fsync, rename. Keeps the mode of the file it replaces (0644
 * for a new one). */
static int
write_atomically(struct rpc_call *c, const struct rpc_save_target *t, const char *text)
{
	char tmp[300];
	struct stat st;
	mode_t mode = fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ?
		(st.st_mode & 07777) : 0644;
	int fd, saved;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", t->name, (long)getpid());
	unlinkat(t->dirfd, tmp, 0);
	fd = openat(t->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return rpc_err(c, FERRY_EINTERNAL, "cannot create %s beside %s: %s", tmp, t->shown,
			       strerror(errno));
	if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlinkat(t->dirfd, tmp, 0);
		return rpc_err(c, FERRY_EINTERNAL, "cannot write %s beside %s: %s", tmp, t->shown,
			       strerror(saved));
	}
	close(fd);
	if (renameat(t->dirfd, tmp, t->dirfd, t->name) < 0) {
		saved = errno;
		unlinkat(t->dirfd, tmp, 0);
		return rpc_err(c, FERRY_EINTERNAL, "cannot rename %s to %s: %s", tmp, t->shown,
			       strerror(saved));
	}
	fsync(t->dirfd);
	return 0;
}

/* config.get must load back as a configuration: check before replacing a good file with it. */
static int
check_loadable(struct rpc_call *c, json_t *cfg)
{
	struct ferry_conf conf;
	char err[400];

	if (ferry_config_parse(cfg, &conf, err, sizeof(err)) < 0)
		return rpc_err(c, FERRY_EINTERNAL, "the running configuration does not validate "
			       "(not saved): %s", err);
	ferry_config_free(&conf);
	return 0;
}

static int
save_target(struct rpc_call *c, struct rpc_save_target *t)
{
	static const char *const keys[] = { "path", NULL };
	const char *given = NULL;
	int rc;

	t->dirfd = -1;
	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_get_string(c, "path", false, &given)) != 0)
		return rc;
	if (given != NULL && (given[0] == '\0' || strlen(given) >= sizeof(t->shown)))
		return rpc_err(c, FERRY_EINVAL, "params.path: must be 1..%zu characters",
			       sizeof(t->shown) - 1);
	if ((rc = rpc_need_switch(c)) != 0)
		return rc;
	return rpc_policy_save_target(c, given, t);
}

static int
m_config_save(struct rpc_call *c, json_t **res)
{
	struct rpc_save_target t;
	char *text = NULL;
	json_t *cfg;
	int rc;

	if ((rc = save_target(c, &t)) != 0)
		return rc;
	cfg = ferry_switch_config_get(c->r->sw);
	if (cfg == NULL || (text = json_dumps(cfg, JSON_INDENT(2))) == NULL)
		rc = no_memory(c);
	else if ((rc = check_loadable(c, cfg)) == 0 && (rc = write_atomically(c, &t, text)) == 0)
		*res = json_pack("{s:s, s:I}", "path", t.shown, "bytes", (json_int_t)strlen(text) + 1);
	close(t.dirfd);
	json_decref(cfg);
	free(text);
	return rc != 0 ? rc : (*res == NULL ? no_memory(c) : 0);
}

/* --- events.* --- */

static int
subscribe(struct rpc_call *c, json_t **res, bool on)
{
	int rc = rpc_check_keys(c, no_params);

	if (rc != 0)
		return rc;
	if (c->client == NULL)
		return rpc_err(c, FERRY_ENOTSUP, "events need a control socket connection");
	rpc_client_subscribe(c->r, c->client, on);
	return result_or_oom(c, json_pack("{s:b}", "subscribed", on), res);
}

static int
m_events_subscribe(struct rpc_call *c, json_t **res)
{
	return subscribe(c, res, true);
}

static int
m_events_unsubscribe(struct rpc_call *c, json_t **res)
{
	return subscribe(c, res, false);
}

/* --- the table --- */

static const struct rpc_method methods[] = {
	{ "rpc.methods", m_rpc_methods, "", "list the methods with their params" },
	{ "switch.info", m_switch_info, "", "version, uptime, lcores, port and FDB counts" },
	{ "switch.shutdown", m_switch_shutdown, "", "stop ferryd cleanly" },
	{ "port.add", m_port_add, "<port object as in the config>",
	  "add a port (nothing done if an identical one exists)" },
	{ "port.del", m_port_del, "name", "delete a port" },
	{ "port.list", m_port_list, "", "every port with its configuration and state" },
	{ "port.get", m_port_get, "name", "one port: configuration, state and counters" },
	{ "port.set", m_port_set, "name, any settable field (see port.schema)",
	  "change a port at runtime, any number of fields at once (null removes a field)" },
	{ "port.schema", m_port_schema, "",
	  "the port object's fields: JSON type, port types, settable at runtime, help" },
	{ "port.stats", m_port_stats, "[name]", "counters of one port or of every port" },
	{ "port.stats.clear", m_port_stats_clear, "[name]", "zero the counters of one or every port" },
	{ "fdb.list", m_fdb_list, "", "every FDB entry: mac, vlan, port, type, age" },
	{ "fdb.add", m_fdb_add, "mac, vlan, port", "add a static FDB entry" },
	{ "fdb.del", m_fdb_del, "mac, vlan", "delete an FDB entry" },
	{ "fdb.flush", m_fdb_flush, "[port], [static]",
	  "remove learned entries (of one port; static ones too if static=true)" },
	{ "pmd.list", m_pmd_list, "", "PMD threads: rx queues, busy %, cycles per packet" },
	{ "pmd.rebalance", m_pmd_rebalance, "", "reassign rx queues to PMDs by measured load" },
	{ "filter.attach", rpc_m_filter_attach, "port, hook, path, [name]",
	  "attach an eBPF filter object (inside rpc.filter_dirs) at a port's ingress or egress" },
	{ "filter.detach", rpc_m_filter_detach, "port, name", "detach a filter from a port" },
	{ "filter.list", rpc_m_filter_list, "[port]",
	  "attached filters: hook, path, jit, passed, dropped, map values" },
	{ "filter.map_set", rpc_m_filter_map_set, "port, name, map, index, value | values",
	  "write a filter's map entries (values as hex; all checked before any is written)" },
	{ "filter.map_get", rpc_m_filter_map_get, "port, name, map, [index]",
	  "read a filter's map entries as hex" },
	{ "capture.start", rpc_m_capture_start,
	  "port, path, [direction], [filter], [snaplen], [count]",
	  "capture a port's rx, tx or both to pcapng at path (inside rpc.capture_dir); ends with "
	  "capture.stop, count, or this connection" },
	{ "capture.stop", rpc_m_capture_stop, "id", "end a capture: its final counters" },
	{ "capture.list", rpc_m_capture_list, "",
	  "running captures: port, direction, filter, captured, dropped, bytes" },
	{ "mirror.add", rpc_m_mirror_add, "name, ports, direction, [vlans], [filter], output",
	  "mirror the ports' rx, tx or both (of vlans, matching a pcap filter) to an output port, "
	  "which leaves normal forwarding" },
	{ "mirror.del", rpc_m_mirror_del, "name",
	  "delete a mirror (its output forwards again): its last counters" },
	{ "mirror.list", rpc_m_mirror_list, "",
	  "mirrors: ports, direction, vlans, filter, output, selected, mirrored, bytes, dropped" },
	{ "config.get", m_config_get, "", "the running configuration, loadable as a config file" },
	{ "config.save", m_config_save, "[path]",
	  "write config.get atomically to path: the file ferryd was started with (default) or a "
	  "file inside rpc.save_dir" },
	{ "events.subscribe", m_events_subscribe, "",
	  "receive switch events on this connection as \"event\" notifications" },
	{ "events.unsubscribe", m_events_unsubscribe, "", "stop receiving events" },
};

const struct rpc_method *
rpc_method_find(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

json_t *
rpc_methods_json(void)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", methods[i].name,
						   "params", methods[i].params,
						   "description", methods[i].help));
	return a;
}
