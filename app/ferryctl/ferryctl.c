/* ferryctl.c — command-line client of ferryd's JSON-RPC control socket:
 *   ferryctl [-s SOCK] [--json] <noun> <verb> [args]
 * One table of commands (noun, verb, usage, help, handler); each handler turns its words into a
 * method call and prints the result as an aligned table, or as raw JSON with --json. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

#ifndef FERRYCTL_VERSION
#define FERRYCTL_VERSION "0.1.0"
#endif
#define DEFAULT_SOCKET "/run/ferry/ferryd.sock"

struct cmd {
	const char *noun, *verb;     /* verb NULL: the noun alone is the command */
	const char *args, *help;
	int min_args, max_args;      /* max -1: any number */
	int (*run)(struct ctx *x, int argc, char **argv);
};

int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ferryctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ferryctl --help'.\n");
	return CTL_EUSAGE;
}

/* --- calling ferryd --- */

static int
open_conn(struct ctx *x)
{
	char err[512];

	if (x->conn.fd >= 0)
		return 0;
	if (ctl_connect(&x->conn, x->socket, x->timeout_ms, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "ferryctl: %s\n", err);
	return CTL_ECONNECT;
}

static void
print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	puts(s != NULL ? s : "null");
	free(s);
}

/* Call method; print its result with print (or as JSON); the exit code. */
int
call(struct ctx *x, const char *method, json_t *params, printer print, const char *arg)
{
	char err[512];
	json_t *resp, *e, *res;
	int rc = open_conn(x);

	if (rc != 0) {
		json_decref(params);
		return rc;
	}
	resp = ctl_call(&x->conn, method, params, err, sizeof(err));
	if (resp == NULL) {
		fprintf(stderr, "ferryctl: %s: %s\n", method, err);
		return CTL_ECONNECT;
	}
	e = json_object_get(resp, "error");
	res = json_object_get(resp, "result");
	if (e != NULL) {
		fprintf(stderr, "ferryctl: %s: %s (code %lld)\n", method,
			json_string_value(json_object_get(e, "message")) ?: "error",
			(long long)json_integer_value(json_object_get(e, "code")));
		rc = CTL_ESERVER;
	} else if (x->json || print == NULL) {
		print_json(res);
	} else {
		print(res, arg);
	}
	json_decref(resp);
	return rc;
}

json_t *
ctl_name_params(const char *name)
{
	return name != NULL ? json_pack("{s:s}", "name", name) : NULL;
}

int
ctl_delete(struct ctx *x, const char *method, const char *what, const char *name)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "%s %s deleted", what, name);
	return call(x, method, ctl_name_params(name), print_message, msg);
}

/* --- printers --- */

void
print_message(const json_t *res, const char *fmt)
{
	(void)res;
	puts(fmt);
}

static void
print_info(const json_t *res, const char *arg)
{
	ctl_print_object(res, NULL);
}

static void
print_fdb(const json_t *res, const char *arg)
{
	static const char *const h[] = { "MAC", "VLAN", "PORT", "TYPE", "AGE", NULL };
	struct ctl_table *t = ctl_table_new(h, "lrllr");
	const json_t *e;
	size_t i;

	json_array_foreach(res, i, e) {
		char v[16], a[16];
		bool learned = strcmp(json_string_value(json_object_get(e, "type")) ?: "", "static");
		ctl_table_add(t, json_string_value(json_object_get(e, "mac")),
			      ctl_str(json_object_get(e, "vlan"), v, sizeof(v)),
			      json_string_value(json_object_get(e, "port")),
			      json_string_value(json_object_get(e, "type")),
			      learned ? ctl_str(json_object_get(e, "age"), a, sizeof(a)) : "-");
	}
	ctl_table_print(t);
}

static void
print_pmds(const json_t *res, const char *arg)
{
	static const char *const h[] = { "PMD", "LCORE", "NUMA", "BUSY%", "CYC/PKT", "PACKETS",
					 "RXQS", NULL };
	struct ctl_table *t = ctl_table_new(h, "rrrrrrl");
	const json_t *p, *q;
	size_t i, k;

	json_array_foreach(res, i, p) {
		char b[6][32], rxqs[2048];
		size_t n = 0;
		rxqs[0] = '\0';
		json_array_foreach(json_object_get(p, "rxqs"), k, q)
			if (n < sizeof(rxqs))
				n += (size_t)snprintf(rxqs + n, sizeof(rxqs) - n, "%s%s:%lld",
						      k ? " " : "",
						      json_string_value(json_object_get(q, "port")),
						      (long long)json_integer_value(
							      json_object_get(q, "queue")));
		ctl_table_add(t, ctl_str(json_object_get(p, "pmd"), b[0], 32),
			      ctl_str(json_object_get(p, "lcore"), b[1], 32),
			      ctl_str(json_object_get(p, "numa"), b[2], 32),
			      ctl_str(json_object_get(p, "busy_pct"), b[3], 32),
			      ctl_str(json_object_get(p, "cycles_per_packet"), b[4], 32),
			      ctl_str(json_object_get(p, "packets"), b[5], 32), rxqs[0] ? rxqs : "-");
	}
	ctl_table_print(t);
}

/* arg is "KEY text": prints the integer result[KEY] followed by the text */
static void
print_count(const json_t *res, const char *arg)
{
	char key[32];
	const char *text = strchr(arg, ' ');

	snprintf(key, sizeof(key), "%.*s", (int)(text - arg), arg);
	printf("%lld%s\n", (long long)json_integer_value(json_object_get(res, key)), text);
}

static void
print_nothing(const json_t *res, const char *arg)
{
}

static void
print_saved(const json_t *res, const char *arg)
{
	printf("configuration saved to %s (%lld bytes)\n",
	       json_string_value(json_object_get(res, "path")),
	       (long long)json_integer_value(json_object_get(res, "bytes")));
}

/* --- commands --- */

static int
c_fdb_list(struct ctx *x, int argc, char **argv)
{
	return call(x, "fdb.list", NULL, print_fdb, NULL);
}

static int
parse_vlan_arg(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 ? 0 : -1;
}

static int
c_fdb_add(struct ctx *x, int argc, char **argv)
{
	long long vlan;

	if (parse_vlan_arg(argv[1], &vlan) < 0)
		return usage_error("fdb add: VLAN '%s' is not a number", argv[1]);
	return call(x, "fdb.add", json_pack("{s:s, s:I, s:s}", "mac", argv[0], "vlan", vlan,
					    "port", argv[2]), print_message, "fdb entry added");
}

static int
c_fdb_del(struct ctx *x, int argc, char **argv)
{
	long long vlan;

	if (parse_vlan_arg(argv[1], &vlan) < 0)
		return usage_error("fdb del: VLAN '%s' is not a number", argv[1]);
	return call(x, "fdb.del", json_pack("{s:s, s:I}", "mac", argv[0], "vlan", vlan),
		    print_message, "fdb entry deleted");
}

static int
c_fdb_flush(struct ctx *x, int argc, char **argv)
{
	json_t *p = json_object();

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--static") == 0)
			json_object_set_new(p, "static", json_true());
		else if (json_object_get(p, "port") == NULL)
			json_object_set_new(p, "port", json_string(argv[i]));
		else {
			json_decref(p);
			return usage_error("fdb flush: unexpected '%s'", argv[i]);
		}
	}
	return call(x, "fdb.flush", p, print_count, "removed entries removed");
}

static int
c_pmd_list(struct ctx *x, int argc, char **argv)
{
	return call(x, "pmd.list", NULL, print_pmds, NULL);
}

static int
c_pmd_rebalance(struct ctx *x, int argc, char **argv)
{
	return call(x, "pmd.rebalance", NULL, print_count, "moved rx queues moved");
}

static int
c_switch_info(struct ctx *x, int argc, char **argv)
{
	return call(x, "switch.info", NULL, print_info, NULL);
}

static int
c_switch_shutdown(struct ctx *x, int argc, char **argv)
{
	return call(x, "switch.shutdown", NULL, print_message, "ferryd is shutting down");
}

static int
c_config_get(struct ctx *x, int argc, char **argv)
{
	return call(x, "config.get", NULL, NULL, NULL);   /* always JSON: it is a config file */
}

static int
c_config_save(struct ctx *x, int argc, char **argv)
{
	json_t *p = argc ? json_pack("{s:s}", "path", argv[0]) : NULL;

	return call(x, "config.save", p, print_saved, NULL);
}

static void
print_event(const json_t *params, bool as_json)
{
	const char *k;
	const json_t *v;
	char buf[512];

	if (as_json) {
		char *s = json_dumps(params, JSON_COMPACT);
		puts(s != NULL ? s : "{}");
		free(s);
	} else {
		fputs(json_string_value(json_object_get(params, "event")) ?: "?", stdout);
		json_object_foreach((json_t *)params, k, v)
			if (strcmp(k, "event") != 0)
				printf(" %s=%s", k, ctl_str(v, buf, sizeof(buf)));
		putchar('\n');
	}
	fflush(stdout);
}

static int
c_events(struct ctx *x, int argc, char **argv)
{
	char err[512];
	bool eof;
	bool as_json = x->json;
	int rc;

	x->json = false;   /* print events only, not the subscription's result */
	rc = call(x, "events.subscribe", NULL, print_nothing, NULL);
	x->json = as_json;
	if (rc != 0)
		return rc;
	fflush(stdout);
	for (;;) {
		json_t *m = ctl_read(&x->conn, -1, &eof, err, sizeof(err));
		if (m == NULL) {
			fprintf(stderr, "ferryctl: events: %s\n", err);
			return CTL_ECONNECT;
		}
		const char *method = json_string_value(json_object_get(m, "method"));
		if (method != NULL && strcmp(method, "event") == 0)
			print_event(json_object_get(m, "params"), x->json);
		json_decref(m);
	}
}

static int
c_call(struct ctx *x, int argc, char **argv)
{
	json_t *params = NULL;
	json_error_t je;

	if (argc > 1 && (params = json_loads(argv[1], JSON_DECODE_ANY, &je)) == NULL)
		return usage_error("call: params are not JSON: %s", je.text);
	return call(x, argv[0], params, NULL, NULL);
}

static const struct cmd cmds[] = {
	{ "port", "add", "NAME type=dpdk|vhostuser key=value...", "add a port", 1, -1, ctl_port_add },
	{ "port", "del", "NAME", "delete a port", 1, 1, ctl_port_del },
	{ "port", "list", "", "list ports", 0, 0, ctl_port_list },
	{ "port", "show", "NAME", "a port's configuration, state and counters", 1, 1, ctl_port_show },
	{ "port", "set", "NAME key=value...", "change any settable field (see port schema)",
	  2, -1, ctl_port_set },
	{ "port", "schema", "", "the port object's fields: type, ports, settable, help", 0, 0,
	  ctl_port_schema },
	{ "port", "stats", "[NAME]", "port counters", 0, 1, ctl_port_stats },
	{ "port", "stats-clear", "[NAME]", "zero port counters", 0, 1, ctl_port_stats_clear },
	{ "fdb", "list", "", "list FDB entries", 0, 0, c_fdb_list },
	{ "fdb", "add", "MAC VLAN PORT", "add a static entry", 3, 3, c_fdb_add },
	{ "fdb", "del", "MAC VLAN", "delete an entry", 2, 2, c_fdb_del },
	{ "fdb", "flush", "[PORT] [--static]", "remove learned (and static) entries", 0, 2,
	  c_fdb_flush },
	{ "filter", "attach", "PORT ingress|egress PATH [NAME]", "attach an eBPF filter object",
	  3, 4, ctl_filter_attach },
	{ "filter", "detach", "PORT NAME", "detach a filter", 2, 2, ctl_filter_detach },
	{ "filter", "list", "[PORT] [--json]", "filters: counters, JIT, map values", 0, 2,
	  ctl_filter_list },
	{ "filter", "map-set", "PORT FILTER MAP INDEX HEX", "write one map entry (HEX: its bytes)",
	  5, 5, ctl_filter_map_set },
	{ "filter", "map-get", "PORT FILTER MAP [INDEX] [--json]", "a map's entries as hex", 3, 5,
	  ctl_filter_map_get },
	{ "capture", NULL, "PORT [-d rx|tx|both] [-f FILTER] [-c N] [-s SNAPLEN] [-w FILE|-] [-q]",
	  "capture to pcapng (default stdout) until Ctrl-C or N frames", 1, -1, ctl_capture },
	{ "mirror", "add", "NAME --ports P,.. -d rx|tx|both [--vlans V,..] [-f EXPR] --output PORT", "mirror ports to an output port (taken out of forwarding)", 3, -1,
	  ctl_mirror_add },
	{ "mirror", "del", "NAME", "delete a mirror (its output forwards again)", 1, 1,
	  ctl_mirror_del },
	{ "mirror", "list", "", "mirrors and their counters", 0, 0, ctl_mirror_list },
	{ "pmd", "list", "", "PMD threads, their rx queues and load", 0, 0, c_pmd_list },
	{ "pmd", "perf", "", "per PMD: iterations, busy/idle cycles, burst sizes, queue shares",
	  0, 0, ctl_pmd_perf },
	{ "pmd", "rebalance", "", "reassign rx queues by measured cycles", 0, 0, c_pmd_rebalance },
	{ "top", NULL, "[-d SECONDS] [-n ITERATIONS] [--json]",
	  "live port and PMD rates (q quits; --json: a JSON line per refresh)", 0, 4, ctl_top },
	{ "switch", "info", "", "version, uptime, lcores, counts", 0, 0, c_switch_info },
	{ "switch", "shutdown", "", "stop ferryd", 0, 0, c_switch_shutdown },
	{ "config", "get", "", "print the running configuration (JSON)", 0, 0, c_config_get },
	{ "config", "save", "[PATH]", "save it (default: ferryd's config file)", 0, 1,
	  c_config_save },
	{ "events", NULL, "", "print switch events until interrupted", 0, 0, c_events },
	{ "call", NULL, "METHOD [JSON-PARAMS]", "raw JSON-RPC call, prints the result", 1, 2,
	  c_call },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* socket: where to ask for the port fields (NULL: do not ask) */
static void
help(FILE *f, const char *socket)
{
	fprintf(f, "Usage: ferryctl [-s SOCK] [--json] [-t SECONDS] <command> [args]\n"
		   "Control ferryd through its JSON-RPC socket.\n\nCommands:\n");
	for (size_t i = 0; i < N_CMDS; i++) {
		char head[96];
		snprintf(head, sizeof(head), "%s%s%s %s", cmds[i].noun, cmds[i].verb ? " " : "",
			 cmds[i].verb ?: "", cmds[i].args);
		fprintf(f, "  %-48s %s\n", head, cmds[i].help);
	}
	fprintf(f, "\nOptions:\n"
		   "  -s, --socket SOCK   control socket (default $FERRY_SOCKET or %s)\n"
		   "      --json          print results as JSON instead of tables (top: one JSON\n"
		   "                      object per refresh, a line each, no screen codes)\n"
		   "  -t, --timeout SEC   wait at most SEC seconds for an answer (default 30, 0 = "
		   "forever)\n"
		   "  -h, --help          this text\n"
		   "  -V, --version       ferryctl's version\n\n"
		   "Port keys (key=value, a field of the port object): mac=MAC (repeat for more),\n"
		   "  external_ids.KEY=VALUE, vlan=N (access N), vlan=trunk, vlan=trunk:10,20-29,\n"
		   "  vlan=trunk:10,20/native=10. Numbers become JSON numbers; a value starting with\n"
		   "  { or [ is taken as JSON. port set: KEY= (or KEY=default) removes the field.\n\n",
		DEFAULT_SOCKET);
	ctl_help_port_fields(f, socket);
	fprintf(f, "Examples:\n"
		   "  ferryctl port add vm1 type=vhostuser path=/run/vm1.sock "
		   "mac=52:54:00:00:00:01 vlan=10\n"
		   "  ferryctl port set vm1 admin=down\n"
		   "  ferryctl call port.get '{\"name\":\"vm1\"}'\n\n"
		   "Exit status: 0 ok, 1 ferryd reported an error, 2 usage error, 3 ferryd "
		   "unreachable.\n");
}

static const struct cmd *
find_cmd(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < N_CMDS; i++) {
		if (strcmp(cmds[i].noun, argv[0]) != 0)
			continue;
		if (cmds[i].verb == NULL) {
			*used = 1;
			return &cmds[i];
		}
		if (argc > 1 && strcmp(cmds[i].verb, argv[1]) == 0) {
			*used = 2;
			return &cmds[i];
		}
	}
	return NULL;
}

static int
unknown_command(int argc, char **argv)
{
	char verbs[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].noun, argv[0]) == 0 && cmds[i].verb != NULL && n < sizeof(verbs))
			n += (size_t)snprintf(verbs + n, sizeof(verbs) - n, "%s%s", n ? ", " : "",
					      cmds[i].verb);
	if (n == 0)
		return usage_error("unknown command '%s'", argv[0]);
	fprintf(stderr, "ferryctl: %s %s%s: expected one of: %s\nTry 'ferryctl --help'.\n",
		argv[0], argc > 1 ? "does not know " : "needs a verb", argc > 1 ? argv[1] : "",
		verbs);
	return CTL_EUSAGE;
}

/* --json may also follow the command */
static int
strip_json_flag(struct ctx *x, int argc, char **argv)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			x->json = true;
		else
			argv[n++] = argv[i];
	}
	return n;
}

static int
parse_options(struct ctx *x, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+s:t:hV", lo, NULL)) != -1) {
		switch (c) {
		case 's': x->socket = optarg; break;
		case 'j': x->json = true; break;
		case 't': x->timeout_ms = atoi(optarg) * 1000; break;
		case 'h': help(stdout, x->socket); exit(CTL_OK);
		case 'V': printf("ferryctl %s\n", FERRYCTL_VERSION); exit(CTL_OK);
		default: return -1;
		}
	}
	return optind;
}

int
main(int argc, char **argv)
{
	struct ctx x = { .socket = getenv("FERRY_SOCKET"), .timeout_ms = 30000 };
	const struct cmd *cmd;
	int first, used, rc;

	x.conn.fd = -1;
	if (x.socket == NULL || x.socket[0] == '\0')
		x.socket = DEFAULT_SOCKET;
	if ((first = parse_options(&x, argc, argv)) < 0)
		return usage_error("%s", "bad option");
	argv += first;
	argc = strip_json_flag(&x, argc - first, argv);
	if (argc == 0) {
		help(stderr, NULL);
		return CTL_EUSAGE;
	}
	if ((cmd = find_cmd(argc, argv, &used)) == NULL)
		return unknown_command(argc, argv);
	argc -= used;
	argv += used;
	if (argc < cmd->min_args || (cmd->max_args >= 0 && argc > cmd->max_args)) {
		fprintf(stderr, "ferryctl: usage: ferryctl %s%s%s %s\n", cmd->noun,
			cmd->verb ? " " : "", cmd->verb ?: "", cmd->args);
		return CTL_EUSAGE;
	}
	rc = cmd->run(&x, argc, argv);
	ctl_close(&x.conn);
	return rc;
}
