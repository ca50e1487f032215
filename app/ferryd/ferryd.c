/* ferryd.c — the ferry daemon: read and check the configuration, start DPDK on the configured
 * lcores, build the switch, serve the JSON-RPC control socket, and shut down cleanly on a signal. */
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
#include <rte_version.h>
#include "ferry_config.h"
#include "ferry_port.h"
#include "ferry_rpc.h"
#include "ferry_switch.h"

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

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
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
		"configuration (lcores, eal_args); e.g. -- --file-prefix ferry2 --in-memory\n");
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
		const struct ferry_port_conf *p = &c->ports[i];
		if (p->type != FERRY_PORT_DPDK || ferry_devargs_is_vdev(p->devargs))
			continue;
		argv[n++] = "-a";
		argv[n++] = (char *)(uintptr_t)p->devargs;   /* EAL does not modify its argv strings */
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

/* The control loop: RPC, switch housekeeping, idle exit. */
static void
run(struct ferry_switch *sw, struct ferry_rpc *rpc, long idle_exit_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = ferry_switch_event_fd(sw), .events = POLLIN },
		{ .fd = rpc ? ferry_rpc_fd(rpc) : -1, .events = POLLIN },
	};
	uint64_t hz = rte_get_tsc_hz(), last_change = rte_get_tsc_cycles(), last_rx = 0;

	while (!quit) {
		if (poll(pfd, 2, 50) < 0 && errno != EINTR)
			break;
		ferry_switch_poll(sw);
		if (rpc != NULL)
			ferry_rpc_process(rpc);
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
	char *eal_argv[128], err[1024];
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0 || load_config(&o, &conf) < 0)
		return 2;
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
		if (ferry_port_sriov_prepare(&conf.ports[i], err, sizeof(err)) != 0) {
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
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	FERRY_LOG(INFO, "ferryd %s on %s, %u PMD(s), NUMA %s", FERRY_VERSION, rte_version(),
		  conf.n_pmds, numa_available() < 0 ? "unavailable" : "available");
	if (ferry_switch_create(&conf, &sw, err, sizeof(err)) != 0) {
		fprintf(stderr, "ferryd: %s\n", err);
		goto out;
	}
	rpc = start_rpc(sw, &conf);
	if (rpc == NULL || ferry_switch_start(sw) != 0)
		goto out;
	FERRY_LOG(INFO, "ferryd ready: %u ports, control socket %s", conf.n_ports, conf.rpc_socket);
	run(sw, rpc, o.idle_exit_ms);
	FERRY_LOG(INFO, "shutting down");
	log_final_stats(sw);
	rc = 0;
out:
	if (sw != NULL)
		ferry_switch_stop(sw);
	ferry_rpc_destroy(rpc);
	ferry_switch_destroy(sw);
	rte_eal_cleanup();
	ferry_config_free(&conf);
	return rc;
}
