/* ferryd.c — the ferry daemon: read and check the configuration, start DPDK on the configured
 * lcores, build the switch, serve the JSON-RPC control socket, reload the configuration's ports on
 * SIGHUP, and shut down cleanly on SIGINT, SIGTERM or SIGQUIT. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>
#include <rte_version.h>
#include "ferry_bpf_filter.h"
#include "ferry_capture.h"
#include "ferry_config.h"
#include "ferry_metrics.h"
#include "ferry_port.h"
#include "ferry_rpc.h"
#include "ferry_switch.h"
#include "ferry_switch_reload.h"
#include "ferryd_service.h"

struct opts {
	const char *config;
	const char *socket;
	const char *log_level;
	long idle_exit_ms;       /* -1: run until told to stop */
	bool check_only;
	int n_eal;               /* EAL arguments after "--" */
	char **eal;
};

static volatile int quit;
static volatile sig_atomic_t reload_asked;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_asked = 1;
	else
		quit = 1;
}

static void
set_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);   /* a clean stop too, not a core dump */
	sigaction(SIGHUP, &sa, NULL);    /* reload the configuration file */
	signal(SIGPIPE, SIG_IGN);
}

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: ferryd [options] [-- EAL options]\n"
		"ferry: a DPDK vhost-user software switch.\n\n"
		"  -c, --config FILE     configuration (JSON); without it the built-in demo runs:\n"
		"                        a TAP uplink 'ferry0' and a vhost-user port /run/ferry/vm1.sock\n"
		"  -s, --socket PATH     JSON-RPC control socket (default: config rpc.socket,\n"
		"                        /run/ferry/ferryd.sock)\n"
		"      --idle-exit MS    exit cleanly once no frame has arrived for MS milliseconds\n"
		"                        (pcap replay: outputs are complete when ferryd exits)\n"
		"      --check           validate the configuration and exit\n"
		"      --print-default   print the built-in configuration and exit\n"
		"      --log-level LVL   ferry log level: error, warning, info, debug\n"
		"  -h, --help            this text\n"
		"  -V, --version         version of ferry and of DPDK\n\n"
		"EAL options after \"--\" are passed to DPDK after the ones ferryd derives from the\n"
		"configuration (lcores, eal_args); e.g. -- --file-prefix ferry2 --in-memory\n\n"
		"Signals: SIGINT, SIGTERM, SIGQUIT stop ferryd cleanly (ports closed, sockets\n"
		"removed, counters logged, exit 0). SIGHUP re-reads --config: an invalid file\n"
		"changes nothing; otherwise ports are added, deleted, changed (port.set fields) or\n"
		"replaced (other fields); rpc.idle_timeout, rpc.save_dir, rpc.allow_host_devargs\n"
		"and vhost.socket_dirs are applied; any other changed setting is logged as\n"
		"needing a restart.\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "socket", required_argument, NULL, 's' },
		{ "idle-exit", required_argument, NULL, 'i' }, { "check", no_argument, NULL, 'k' },
		{ "print-default", no_argument, NULL, 'p' }, { "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->idle_exit_ms = -1;
	while ((c = getopt_long(argc, argv, "c:s:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->socket = optarg; break;
		case 'i': o->idle_exit_ms = strtol(optarg, NULL, 10); break;
		case 'k': o->check_only = true; break;
		case 'l': o->log_level = optarg; break;
		case 'p': fputs(ferry_config_default_json, stdout); exit(0);
		case 'h': usage(stdout); exit(0);
		case 'V': printf("ferryd %s (%s)\n", FERRY_VERSION, rte_version()); exit(0);
		default: usage(stderr); return -1;
		}
	}
	o->n_eal = argc - optind;
	o->eal = argv + optind;
	return 0;
}

static bool
has_arg(const struct ferry_conf *c, const struct opts *o, const char *name)
{
	for (unsigned i = 0; i < c->n_eal_args; i++)
		if (strncmp(c->eal_args[i], name, strlen(name)) == 0)
			return true;
	for (int i = 0; i < o->n_eal; i++)
		if (strncmp(o->eal[i], name, strlen(name)) == 0)
			return true;
	return false;
}

/* EAL argv: lcores from the config; PCI devices allowed only if a port names them (an allowlist
 * that matches nothing keeps DPDK from grabbing every vfio device; rte_dev_probe adds more later);
 * then the config's eal_args, then the command line's. */
static int
build_eal_argv(const struct ferry_conf *c, const struct opts *o, char **argv, int max)
{
	static char lcores[512], main_lc[16], token[64];
	int n = 0, pci = 0, len;

	argv[n++] = "ferryd";
	len = snprintf(lcores, sizeof(lcores), "%u", c->main_lcore);
	for (unsigned i = 0; i < c->n_pmds && len < (int)sizeof(lcores) - 8; i++)
		len += snprintf(lcores + len, sizeof(lcores) - len, ",%u", c->pmd_lcores[i]);
	snprintf(main_lc, sizeof(main_lc), "%u", c->main_lcore);
	if (!has_arg(c, o, "--lcores")) {   /* an explicit lcore@cpu map wins */
		argv[n++] = "-l";
		argv[n++] = lcores;
	}
	argv[n++] = "--main-lcore";
	argv[n++] = main_lc;
	if (!has_arg(c, o, "--file-prefix"))
		argv[n++] = "--file-prefix=ferryd";
	if (c->vfio_vf_token[0] != '\0') {
		snprintf(token, sizeof(token), "--vfio-vf-token=%s", c->vfio_vf_token);
		argv[n++] = token;
	}
	for (unsigned i = 0; i < c->n_ports && n < max - 8; i++) {
		const char *dev = ferry_port_eal_device(&c->ports[i]);
		if (dev == NULL)
			continue;
		argv[n++] = "-a";
		argv[n++] = (char *)(uintptr_t)dev;   /* EAL does not modify its argv strings */
		pci++;
	}
	if (pci == 0 && !has_arg(c, o, "--no-pci") && !has_arg(c, o, "-a")) {
		argv[n++] = "-a";
		argv[n++] = "0000:00:00.0";
	}
	for (unsigned i = 0; i < c->n_eal_args && n < max - 1; i++)
		argv[n++] = c->eal_args[i];
	for (int i = 0; i < o->n_eal && n < max - 1; i++)
		argv[n++] = o->eal[i];
	argv[n] = NULL;
	return n;
}

/* Every port's eBPF filters load and verify (--check and startup refuse the config otherwise). */
static int
check_filters(const struct opts *o, const struct ferry_conf *c)
{
	char err[1024];

	for (unsigned i = 0; i < c->n_ports; i++)
		for (unsigned k = 0; k < c->ports[i].n_filters; k++)
			if (ferry_filter_check_conf(&c->ports[i].filters[k], err, sizeof(err)) < 0) {
				fprintf(stderr, "ferryd: %s: ports[%u].filters[%u]: %s\n",
					o->config ? o->config : "(built-in)", i, k, err);
				return -1;
			}
	return 0;
}

static int
load_config(const struct opts *o, struct ferry_conf *c)
{
	char err[1024];
	int rc = o->config ? ferry_config_load_file(o->config, c, err, sizeof(err))
			   : ferry_config_load_string(ferry_config_default_json, c, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "ferryd: %s\n", err);
		return -1;
	}
	if (check_filters(o, c) < 0) {
		ferry_config_free(c);
		return -1;
	}
	if (o->socket != NULL) {
		if (o->socket[0] != '/' || strlen(o->socket) >= sizeof(c->rpc_socket)) {
			fprintf(stderr, "ferryd: --socket: must be an absolute path under %zu characters\n",
				sizeof(c->rpc_socket));
			ferry_config_free(c);
			return -1;
		}
		strcpy(c->rpc_socket, o->socket);
	}
	return 0;
}


/* Every port's counters, one JSON line each, when ferryd stops (what a replay run did). */
static void
log_final_stats(struct ferry_switch *sw)
{
	json_t *all = NULL;
	char err[128];
	size_t i;
	json_t *st;

	if (ferry_switch_port_stats(sw, NULL, &all, err, sizeof(err)) != 0)
		return;
	json_array_foreach(all, i, st) {
		char *line = json_dumps(st, JSON_COMPACT);
		FERRY_LOG(INFO, "stats %s", line);
		free(line);
	}
	json_decref(all);
	all = ferry_switch_pmd_list(sw);
	json_array_foreach(all, i, st) {
		char *line = json_dumps(st, JSON_COMPACT);
		FERRY_LOG(INFO, "pmd %s", line);
		free(line);
	}
	json_decref(all);
}

static void
apply_log_level(const char *lvl)
{
	/* rte_vhost narrates every vhost-user message at INFO: keep its warnings only */
	rte_log_set_level_pattern("lib.vhost.*", RTE_LOG_WARNING);
	static const char *const names[] = { "", "", "", "", "error", "warning", "", "info", "debug" };

	for (unsigned i = 0; lvl != NULL && i < RTE_DIM(names); i++)
		if (names[i][0] && strcmp(lvl, names[i]) == 0)
			rte_log_set_level(ferry_logtype, i);
}

/* --- SIGHUP: reload --- */

/* What a reload compares against: the configuration file as last applied (JSON), and how ferryd
 * was started. */
struct running {
	const struct opts *o;
	json_t *root;              /* the config file's JSON; NULL without --config */
};

/* "a.b" for nested objects of the config's top level, "a" otherwise. */
static void
key_path(char *buf, size_t len, const char *a, const char *b)
{
	snprintf(buf, len, "%s%s%s", a, b ? "." : "", b ? b : "");
}

/* Settings a reload applies at once (as "object", "key"): the idle timeout, and the limits on
 * what RPC clients may make ferryd touch (read when a request comes). */
static const char *const runtime_keys[][2] = {
	{ "rpc", "idle_timeout" }, { "rpc", "save_dir" }, { "rpc", "allow_host_devargs" },
	{ "vhost", "socket_dirs" },
};

static bool
runtime_key(const char *path)
{
	char p[128];

	for (size_t i = 0; i < RTE_DIM(runtime_keys); i++) {
		key_path(p, sizeof(p), runtime_keys[i][0], runtime_keys[i][1]);
		if (strcmp(path, p) == 0)
			return true;
	}
	return false;
}

/* One global setting of the new file against the running one: applied (runtime_key) or logged as
 * needing a restart. */
static void
diff_global(struct running *run, const char *path, json_t *old, json_t *new)
{
	if (json_equal(old, new) || (old == NULL && new == NULL))
		return;
	if (run->o->socket != NULL && strcmp(path, "rpc.socket") == 0)
		return;   /* --socket wins over the file */
	if (runtime_key(path))
		FERRY_LOG(INFO, "reload: %s changed: applied", path);
	else
		FERRY_LOG(WARNING, "reload: %s changed: needs a restart (still the old value)", path);
}

typedef void (*diff_fn)(struct running *run, const char *parent, const char *key, json_t *old,
			json_t *new);

/* fn for every member of old or new (old NULL or new NULL: absent). */
static void
diff_members(struct running *run, const char *parent, json_t *old, json_t *new, diff_fn fn)
{
	const char *k;
	json_t *v;

	json_object_foreach(old, k, v)
		fn(run, parent, k, v, json_object_get(new, k));
	json_object_foreach(new, k, v)
		if (json_object_get(old, k) == NULL)
			fn(run, parent, k, NULL, v);
}

static void
diff_leaf(struct running *run, const char *parent, const char *key, json_t *old, json_t *new)
{
	char path[128];

	if (parent != NULL)
		key_path(path, sizeof(path), parent, key);
	else
		snprintf(path, sizeof(path), "%s", key);
	diff_global(run, path, old, new);
}

/* A top-level key: objects (lcores, fdb, rpc, vhost) are compared member by member. */
static void
diff_top(struct running *run, const char *parent, const char *key, json_t *old, json_t *new)
{
	(void)parent;
	if (strcmp(key, "ports") == 0)
		return;   /* ferry_switch_reload_ports() */
	if (json_is_object(old) || json_is_object(new))
		diff_members(run, key, json_is_object(old) ? old : NULL,
			     json_is_object(new) ? new : NULL, diff_leaf);
	else
		diff_leaf(run, NULL, key, old, new);
}

/* Every setting outside "ports" that differs is logged; only runtime keys are applied (by the
 * caller). */
static void
diff_globals(struct running *run, json_t *old_root, json_t *new_root)
{
	diff_members(run, NULL, old_root, new_root, diff_top);
}

/* The running file's JSON takes the new file's runtime keys (the others keep their old value:
 * they still differ until a restart). */
static void
remember_runtime_keys(json_t *old_root, json_t *new_root)
{
	for (size_t i = 0; i < RTE_DIM(runtime_keys); i++) {
		const char *obj = runtime_keys[i][0], *key = runtime_keys[i][1];
		json_t *o = json_object_get(old_root, obj);
		json_t *v = json_object_get(json_object_get(new_root, obj), key);
		if (!json_is_object(o) && v != NULL) {
			o = json_object();
			json_object_set_new(old_root, obj, o);
		}
		if (v != NULL)
			json_object_set(o, key, v);
		else if (json_is_object(o))
			json_object_del(o, key);
	}
}

/* SIGHUP: re-read --config, validate it as --check does; if valid, apply its ports and runtime
 * settings, log what needs a restart; if not, log why and change nothing. */
static void
reload(struct running *run, struct ferry_switch *sw, struct ferry_rpc *rpc)
{
	struct ferry_reload_result res;
	struct ferry_conf nc;
	json_error_t je;
	json_t *root;
	char err[1024];

	if (run->o->config == NULL || run->root == NULL) {
		FERRY_LOG(WARNING, "reload (SIGHUP): no config file to reload (started without "
			  "--config): nothing changed");
		return;
	}
	FERRY_LOG(INFO, "reload (SIGHUP): reading %s", run->o->config);
	if (ferry_config_load_file(run->o->config, &nc, err, sizeof(err)) < 0) {
		FERRY_LOG(ERR, "reload: %s: nothing changed", err);
		return;
	}
	root = json_load_file(run->o->config, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {   /* the file changed again since it was validated */
		FERRY_LOG(ERR, "reload: %s: changed while being read: nothing changed", run->o->config);
		json_decref(root);
		ferry_config_free(&nc);
		return;
	}
	diff_globals(run, run->root, root);
	ferry_rpc_set_idle_timeout(rpc, nc.rpc_idle_timeout_s);
	ferry_switch_reload_settings(sw, &nc);
	remember_runtime_keys(run->root, root);
	ferry_switch_reload_ports(sw, &nc, &res);
	FERRY_LOG(INFO, "reload: %u added, %u removed, %u changed, %u unchanged, %u failed",
		  res.added, res.removed, res.changed, res.unchanged, res.failed);
	json_decref(root);
	ferry_config_free(&nc);
}

/* The control loop: RPC, switch housekeeping, metrics snapshots, reload, idle exit. */
static void
run(struct ferry_switch *sw, struct ferry_rpc *rpc, struct ferry_metrics *metrics,
    struct running *rs, long idle_exit_ms)
{
	struct pollfd pfd[3] = {
		{ .fd = ferry_switch_event_fd(sw), .events = POLLIN },
		{ .fd = rpc ? ferry_rpc_fd(rpc) : -1, .events = POLLIN },
		{ .fd = ferry_metrics_fd(metrics), .events = POLLIN },
	};
	uint64_t hz = rte_get_tsc_hz(), last_change = rte_get_tsc_cycles(), last_rx = 0;

	while (!quit) {
		/* a capture's ring is drained every 5 ms while it fills, else every 50 ms */
		if (poll(pfd, 3, ferry_capture_wait_ms()) < 0 && errno != EINTR)
			break;
		if (reload_asked) {
			reload_asked = 0;
			ferryd_notify_reloading();
			reload(rs, sw, rpc);
			ferryd_notify("READY=1");
		}
		ferry_switch_poll(sw);
		ferry_switch_capture_poll(sw);
		if (rpc != NULL)
			ferry_rpc_process(rpc);
		ferry_metrics_process(metrics, sw);
		if (idle_exit_ms < 0)
			continue;
		uint64_t rx = ferry_switch_rx_total(sw), now = rte_get_tsc_cycles();
		if (rx != last_rx) {
			last_rx = rx;
			last_change = now;
		} else if ((now - last_change) * 1000 / hz >= (uint64_t)idle_exit_ms) {
			FERRY_LOG(INFO, "idle for %ld ms after %lu frames: exiting", idle_exit_ms,
				  (unsigned long)rx);
			break;
		}
	}
}

static struct ferry_rpc *
start_rpc(struct ferry_switch *sw, const struct ferry_conf *c)
{
	struct ferry_rpc_opts ro = {
		.path = c->rpc_socket, .mode = c->rpc_mode,
		.group = c->rpc_group[0] ? c->rpc_group : NULL, .max_request = 1 << 20,
		.idle_timeout_s = c->rpc_idle_timeout_s,
	};
	char err[512];
	struct ferry_rpc *rpc = ferry_rpc_create(sw, &ro, &quit, err, sizeof(err));

	if (rpc == NULL)
		fprintf(stderr, "ferryd: control socket: %s\n", err);
	return rpc;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ferry_conf conf;
	struct ferry_switch *sw = NULL;
	struct ferry_rpc *rpc = NULL;
	struct ferry_metrics *metrics = NULL;
	struct running rs = { .o = &o };
	char *eal_argv[128], err[1024];
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0 || load_config(&o, &conf) < 0)
		return 2;
	set_signals();   /* before EAL init: a signal meanwhile stops (or reloads) once running */
	ferryd_log_init();
	/* another ferryd answering on our control socket: refuse before touching any device */
	if (ferry_sock_state(conf.rpc_socket) == FERRY_SOCK_LIVE) {
		fprintf(stderr, "ferryd: another ferryd is already serving %s\n", conf.rpc_socket);
		ferry_config_free(&conf);
		return 1;
	}
	if (o.check_only) {
		printf("%s: OK (%u ports)\n", o.config ? o.config : "(built-in)", conf.n_ports);
		return 0;
	}
	/* VFs first: a PF's DPDK driver sets up its PF-host side for the VFs present at probe */
	for (unsigned i = 0; i < conf.n_ports; i++)
		if (ferry_port_prepare(&conf.ports[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "ferryd: %s\n", err);
			ferry_config_free(&conf);
			return 1;
		}
	int n = build_eal_argv(&conf, &o, eal_argv, RTE_DIM(eal_argv));
	if (rte_eal_init(n, eal_argv) < 0) {
		fprintf(stderr, "ferryd: DPDK EAL init failed: %s\n", rte_strerror(rte_errno));
		ferry_config_free(&conf);
		return 1;
	}
	apply_log_level(o.log_level);
	/* dpdk-dumpcap / dpdk-pdump (secondary processes: same --file-prefix, not --in-memory) */
	bool pdump = rte_pdump_init() == 0;
	if (!pdump)
		FERRY_LOG(INFO, "pdump: not available (%s): dpdk-dumpcap cannot attach",
			  rte_strerror(rte_errno));
	if (o.config != NULL)   /* what a SIGHUP reload compares against */
		rs.root = json_load_file(o.config, JSON_REJECT_DUPLICATES, NULL);
	FERRY_LOG(INFO, "ferryd %s on %s, %u PMD(s), NUMA %s", FERRY_VERSION, rte_version(),
		  conf.n_pmds, numa_available() < 0 ? "unavailable" : "available");
	/* on the main lcore's thread: the HTTP thread inherits its CPU affinity (no PMD core) */
	metrics = ferry_metrics_create(conf.metrics_listen, err, sizeof(err));
	if (metrics == NULL) {
		fprintf(stderr, "ferryd: metrics.listen %s\n", err);
		goto out;
	}
	if (ferry_switch_create(&conf, &sw, err, sizeof(err)) != 0) {
		fprintf(stderr, "ferryd: %s\n", err);
		goto out;
	}
	rpc = start_rpc(sw, &conf);
	if (rpc == NULL || ferry_switch_start(sw) != 0)
		goto out;
	FERRY_LOG(INFO, "ferryd ready: %u ports, control socket %s", conf.n_ports, conf.rpc_socket);
	ferryd_notify("READY=1");
	run(sw, rpc, metrics, &rs, o.idle_exit_ms);
	ferry_switch_capture_stop_all(sw);   /* while the PMDs run: detaching waits for them */
	ferryd_notify("STOPPING=1");
	FERRY_LOG(INFO, "shutting down");
	log_final_stats(sw);
	rc = 0;
out:
	ferry_metrics_destroy(metrics);   /* before the switch goes: no reader waits on it */
	if (sw != NULL)
		ferry_switch_stop(sw);
	ferry_rpc_destroy(rpc);
	ferry_switch_destroy(sw);
	if (pdump)
		rte_pdump_uninit();
	rte_eal_cleanup();
	ferry_config_free(&conf);
	json_decref(rs.root);
	return rc;
}
