/* ctl_port.c — ferryctl's port commands (add, del, list, show, set, schema, stats, stats-clear)
 * and their printers: tables of ports and counters, a port's object, the field schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

static void
join_strings(const json_t *a, char *buf, size_t len)
{
	size_t n = 0, i;
	const json_t *it;

	buf[0] = '\0';
	json_array_foreach(a, i, it)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
					      json_string_value(it) ?: "?");
}

static void
format_device(const json_t *p, char *buf, size_t len)
{
	const char *type = json_string_value(json_object_get(p, "type")) ?: "";

	if (strcmp(type, "vhostuser") == 0)
		snprintf(buf, len, "%s (%s)", json_string_value(json_object_get(p, "path")) ?: "?",
			 json_string_value(json_object_get(p, "mode")) ?: "server");
	else
		snprintf(buf, len, "%s", json_string_value(json_object_get(p, "devargs")) ?: "");
}

static void
print_port_list(const json_t *res, const char *arg)
{
	static const char *const h[] = { "NAME", "TYPE", "ADMIN", "LINK", "VLAN", "MAC", "DEVICE",
					 NULL };
	struct ctl_table *t = ctl_table_new(h, NULL);
	const json_t *p;
	size_t i;

	json_array_foreach(res, i, p) {
		char vlan[512], macs[1024], dev[700];
		ctl_format_vlan(json_object_get(p, "vlan"), vlan, sizeof(vlan));
		join_strings(json_object_get(p, "mac"), macs, sizeof(macs));
		format_device(p, dev, sizeof(dev));
		ctl_table_add(t, json_string_value(json_object_get(p, "name")),
			      json_string_value(json_object_get(p, "type")),
			      json_string_value(json_object_get(p, "admin")),
			      json_string_value(json_object_get(p, "link")), vlan,
			      macs[0] ? macs : "-", dev);
	}
	ctl_table_print(t);
}

/* "label: k=v k=v" for the non-zero counters of an object, or "label: none" */
static void
print_nonzero(const char *label, const json_t *counts)
{
	const json_t *v;
	const char *k;
	bool any = false;

	printf("%s:", label);
	json_object_foreach((json_t *)counts, k, v)
		if (json_integer_value(v) != 0) {
			printf(" %s=%lld", k, (long long)json_integer_value(v));
			any = true;
		}
	printf("%s\n", any ? "" : " none");
}

static void
print_drops(const json_t *st)
{
	print_nonzero("drops", json_object_get(st, "drops"));
}

/* a vhostuser port's zero-copy counters */
static void
print_zero_copy(const json_t *st)
{
	const json_t *zc = json_object_get(st, "zero_copy");
	long long v[5];
	static const char *const k[] = { "lent", "copied", "inflight", "inflight_max",
					 "forced_returns" };

	if (zc == NULL)
		return;
	for (int i = 0; i < 5; i++)
		v[i] = json_integer_value(json_object_get(zc, k[i]));
	printf("zero-copy: %s (%s), lent=%lld copied=%lld inflight=%lld max=%lld forced_returns=%lld\n",
	       json_string_value(json_object_get(zc, "state")),
	       json_string_value(json_object_get(zc, "mode")), v[0], v[1], v[2], v[3], v[4]);
	print_nonzero("copy reasons", json_object_get(zc, "copy_reasons"));
	print_nonzero("bad descriptors", json_object_get(zc, "bad_descriptors"));
}

/* a vhostuser port's refused second connections (absent for dpdk ports) */
static void
print_refused(const json_t *st)
{
	const json_t *v = json_object_get(st, "connections_refused");

	if (v != NULL)
		printf("connections refused: %lld\n", (long long)json_integer_value(v));
}

static void
stats_row(struct ctl_table *t, const json_t *s)
{
	char b[5][32];

	ctl_table_add(t, json_string_value(json_object_get(s, "name")),
		      ctl_str(json_object_get(s, "rx_packets"), b[0], 32),
		      ctl_str(json_object_get(s, "rx_bytes"), b[1], 32),
		      ctl_str(json_object_get(s, "tx_packets"), b[2], 32),
		      ctl_str(json_object_get(s, "tx_bytes"), b[3], 32),
		      ctl_str(json_object_get(s, "drops_total"), b[4], 32));
}

static void
print_stats(const json_t *res, const char *arg)
{
	static const char *const h[] = { "NAME", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES",
					 "DROPS", NULL };
	struct ctl_table *t = ctl_table_new(h, "lrrrrr");
	const json_t *s;
	size_t i;

	if (json_is_object(res)) {
		stats_row(t, res);
		ctl_table_print(t);
		print_drops(res);
		print_refused(res);
		print_zero_copy(res);
		return;
	}
	json_array_foreach(res, i, s)
		stats_row(t, s);
	ctl_table_print(t);
}

static void
print_value(const char *key, const json_t *v)
{
	char buf[1024];
	const char *k, *text = buf;
	const json_t *it;

	if (strcmp(key, "vlan:") == 0) {
		ctl_format_vlan(v, buf, sizeof(buf));
	} else if (json_is_array(v) && (json_array_size(v) == 0 ||
					json_is_string(json_array_get(v, 0)))) {
		join_strings(v, buf, sizeof(buf));
	} else if (json_is_object(v)) {
		size_t n = 0;
		buf[0] = '\0';
		json_object_foreach((json_t *)v, k, it)
			if (n < sizeof(buf)) {
				char tmp[256];
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%s", n ? " " : "",
						      k, ctl_str(it, tmp, sizeof(tmp)));
			}
	} else {
		text = ctl_str(v, buf, sizeof(buf));
	}
	printf("%-16s %s\n", key, text);
}

/* key: value per line; the member named skip is left out */
void
ctl_print_object(const json_t *o, const char *skip)
{
	const char *k;
	const json_t *v;
	char label[80];

	json_object_foreach((json_t *)o, k, v) {
		if (skip != NULL && strcmp(skip, k) == 0)
			continue;
		snprintf(label, sizeof(label), "%s:", k);
		print_value(label, v);
	}
}

static void
print_port_show(const json_t *res, const char *arg)
{
	const json_t *st = json_object_get(res, "stats");

	ctl_print_object(res, "stats");
	if (st == NULL)
		return;
	printf("\n");
	print_stats(st, NULL);
}

static void
print_port_add(const json_t *res, const char *arg)
{
	printf("port %s %s\n", json_string_value(json_object_get(res, "name")),
	       json_is_true(json_object_get(res, "added")) ? "added" :
	       "already exists with this configuration: nothing done");
}

/* The port types a port.schema entry applies to: "dpdk,vhostuser", or "all" when it names every
 * type the schema has. */
static void
format_port_types(const json_t *schema, const json_t *types, char *buf, size_t len)
{
	json_t *all = json_object();
	const json_t *e, *t;
	size_t i, k;

	json_array_foreach(schema, i, e)
		json_array_foreach(json_object_get(e, "port_types"), k, t)
			json_object_set(all, json_string_value(t) ?: "?", json_true());
	if (json_array_size(types) == json_object_size(all))
		snprintf(buf, len, "all");
	else
		join_strings(types, buf, len);
	json_decref(all);
}

static void
print_schema(const json_t *res, const char *arg)
{
	static const char *const h[] = { "FIELD", "TYPE", "PORTS", "SETTABLE", "HELP", NULL };
	struct ctl_table *t = ctl_table_new(h, NULL);
	const json_t *e;
	size_t i;

	json_array_foreach(res, i, e) {
		char types[128];
		format_port_types(res, json_object_get(e, "port_types"), types, sizeof(types));
		ctl_table_add(t, json_string_value(json_object_get(e, "name")),
			      json_string_value(json_object_get(e, "type")), types,
			      json_is_true(json_object_get(e, "settable")) ? "yes" : "no",
			      json_string_value(json_object_get(e, "help")));
	}
	ctl_table_print(t);
}

/* The port fields grouped by the port types they apply to, as ferryd's port.schema has them (the
 * one field table, lib/config/config_fields.c); a note instead if ferryd does not answer. */
void
ctl_help_port_fields(FILE *f, const char *socket)
{
	struct ctl_conn c;
	char err[256];
	json_t *resp = NULL, *schema, *groups, *v;
	const json_t *e;
	const char *k;
	size_t i;

	if (socket != NULL && ctl_connect(&c, socket, 1000, err, sizeof(err)) == 0) {
		resp = ctl_call(&c, "port.schema", NULL, err, sizeof(err));
		ctl_close(&c);
	}
	schema = json_object_get(resp, "result");
	if (!json_is_array(schema)) {
		fprintf(f, "Port fields: 'ferryctl port schema' lists them (asks ferryd).\n\n");
		json_decref(resp);
		return;
	}
	groups = json_object();   /* port types -> "name, type, mac*, ..." in schema order */
	json_array_foreach(schema, i, e) {
		char label[128], line[1024];
		format_port_types(schema, json_object_get(e, "port_types"), label, sizeof(label));
		const char *have = json_string_value(json_object_get(groups, label));
		snprintf(line, sizeof(line), "%s%s%s%s", have ?: "", have ? ", " : "",
			 json_string_value(json_object_get(e, "name")) ?: "?",
			 json_is_true(json_object_get(e, "settable")) ? "*" : "");
		json_object_set_new(groups, label, json_string(line));
	}
	fprintf(f, "Port fields (ferryd's port.schema; * = port set changes it at runtime):\n");
	json_object_foreach(groups, k, v)
		fprintf(f, "  %-10s %s\n", k, json_string_value(v));
	fputc('\n', f);
	json_decref(groups);
	json_decref(resp);
}

int
ctl_port_add(struct ctx *x, int argc, char **argv)
{
	json_t *p = json_pack("{s:s}", "name", argv[0]);
	char err[512];

	if (ctl_port_args(p, argc - 1, argv + 1, false, err, sizeof(err)) < 0) {
		json_decref(p);
		return usage_error("port add: %s", err);
	}
	return call(x, "port.add", p, print_port_add, NULL);
}

int
ctl_port_del(struct ctx *x, int argc, char **argv)
{
	return ctl_delete(x, "port.del", "port", argv[0]);
}

int
ctl_port_list(struct ctx *x, int argc, char **argv)
{
	return call(x, "port.list", NULL, print_port_list, NULL);
}

int
ctl_port_show(struct ctx *x, int argc, char **argv)
{
	return call(x, "port.get", ctl_name_params(argv[0]), print_port_show, NULL);
}

int
ctl_port_set(struct ctx *x, int argc, char **argv)
{
	json_t *p = json_pack("{s:s}", "name", argv[0]);
	char err[512];

	if (ctl_port_args(p, argc - 1, argv + 1, true, err, sizeof(err)) < 0) {
		json_decref(p);
		return usage_error("port set: %s", err);
	}
	return call(x, "port.set", p, print_port_show, NULL);
}

int
ctl_port_schema(struct ctx *x, int argc, char **argv)
{
	return call(x, "port.schema", NULL, print_schema, NULL);
}

int
ctl_port_stats(struct ctx *x, int argc, char **argv)
{
	return call(x, "port.stats", ctl_name_params(argc ? argv[0] : NULL), print_stats, NULL);
}

int
ctl_port_stats_clear(struct ctx *x, int argc, char **argv)
{
	return call(x, "port.stats.clear", ctl_name_params(argc ? argv[0] : NULL), print_message,
		    "counters cleared");
}
