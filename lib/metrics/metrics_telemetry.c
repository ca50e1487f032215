/* metrics_telemetry.c — DPDK telemetry commands (dpdk-telemetry.py, /var/run/dpdk/<prefix>/
 * dpdk_telemetry.v2): /ferry/ports, /ferry/port_stats,<name>, /ferry/pmds, /ferry/fdb. They run on
 * DPDK's telemetry thread and answer from a snapshot the control thread builds (metrics_snapshot.c).
 * rte_telemetry has no way to unregister a command, so the snapshot they read is a global that
 * ferry_tel_set_snap(NULL) withdraws. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <rte_common.h>
#include <rte_telemetry.h>
#include "metrics_private.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_snap *tel_snap;   /* under tel_lock */

struct tel_req {
	const char *params;
	struct rte_tel_data *d;
};

void
ferry_tel_set_snap(struct ferry_snap *snap)
{
	pthread_mutex_lock(&tel_lock);
	tel_snap = snap;
	pthread_mutex_unlock(&tel_lock);
}

/* fn on a fresh snapshot, or a negative errno (no switch, timeout, stopping). */
static int
with_snap(ferry_snap_fn fn, const char *params, struct rte_tel_data *d)
{
	struct tel_req r = { params, d };
	int rc = -ENODEV;

	pthread_mutex_lock(&tel_lock);
	if (tel_snap != NULL)
		rc = ferry_snap_read(tel_snap, fn, &r);
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static uint64_t
u64_of(json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

static int
ports(json_t *snap, void *arg)
{
	struct tel_req *r = arg;
	size_t i;
	json_t *p;

	rte_tel_data_start_array(r->d, RTE_TEL_STRING_VAL);
	json_array_foreach(json_object_get(snap, "stats"), i, p)
		rte_tel_data_add_array_string(r->d, json_string_value(json_object_get(p, "name")));
	return 0;
}

static int
port_stats(json_t *snap, void *arg)
{
	static const char *const keys[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
					    "drops_total", "mac_moves", "learn_full" };
	struct tel_req *r = arg;
	struct rte_tel_data *drops;
	const char *reason;
	size_t i;
	json_t *p, *st = NULL, *v;

	json_array_foreach(json_object_get(snap, "stats"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")), r->params) == 0)
			st = p;
	if (st == NULL)
		return -ENOENT;
	rte_tel_data_start_dict(r->d);
	rte_tel_data_add_dict_string(r->d, "name", r->params);
	for (i = 0; i < RTE_DIM(keys); i++)
		rte_tel_data_add_dict_u64(r->d, keys[i], u64_of(st, keys[i]));
	drops = rte_tel_data_alloc();
	if (drops == NULL)
		return 0;
	rte_tel_data_start_dict(drops);
	json_object_foreach(json_object_get(st, "drops"), reason, v)
		rte_tel_data_add_dict_u64(drops, reason, (uint64_t)json_integer_value(v));
	rte_tel_data_add_dict_container(r->d, "drops", drops, 0);
	return 0;
}

static int
pmds(json_t *snap, void *arg)
{
	struct tel_req *r = arg;
	size_t i;
	json_t *pmd;

	rte_tel_data_start_dict(r->d);
	json_array_foreach(json_object_get(snap, "pmds"), i, pmd) {
		struct rte_tel_data *o = rte_tel_data_alloc();
		char key[32];
		if (o == NULL)
			break;
		rte_tel_data_start_dict(o);
		rte_tel_data_add_dict_u64(o, "lcore", u64_of(pmd, "lcore"));
		rte_tel_data_add_dict_u64(o, "numa", u64_of(pmd, "numa"));
		rte_tel_data_add_dict_u64(o, "busy_pct",
			(uint64_t)(json_number_value(json_object_get(pmd, "busy_pct")) + 0.5));
		rte_tel_data_add_dict_u64(o, "packets", u64_of(pmd, "packets"));
		rte_tel_data_add_dict_u64(o, "iterations", u64_of(pmd, "iterations"));
		rte_tel_data_add_dict_u64(o, "busy_cycles", u64_of(pmd, "busy_cycles"));
		rte_tel_data_add_dict_u64(o, "idle_cycles", u64_of(pmd, "idle_cycles"));
		rte_tel_data_add_dict_u64(o, "rx_queues", json_array_size(json_object_get(pmd, "rxqs")));
		snprintf(key, sizeof(key), "pmd%zu", i);
		rte_tel_data_add_dict_container(r->d, key, o, 0);
	}
	return 0;
}

static int
fdb(json_t *snap, void *arg)
{
	struct tel_req *r = arg;
	json_t *info = json_object_get(snap, "info");

	rte_tel_data_start_dict(r->d);
	rte_tel_data_add_dict_u64(r->d, "entries", u64_of(info, "fdb_entries"));
	rte_tel_data_add_dict_u64(r->d, "size", u64_of(info, "fdb_size"));
	return 0;
}

static int
cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return with_snap(ports, params, d);
}

static int
cmd_port_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	return with_snap(port_stats, params, d);
}

static int
cmd_pmds(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return with_snap(pmds, params, d);
}

static int
cmd_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return with_snap(fdb, params, d);
}

/* Once per process (rte_telemetry keeps commands until exit). */
int
ferry_tel_register(void)
{
	static int done;

	if (done)
		return 0;
	done = 1;
	if (rte_telemetry_register_cmd("/ferry/ports", cmd_ports, "Names of ferry's ports") < 0 ||
	    rte_telemetry_register_cmd("/ferry/port_stats", cmd_port_stats,
				       "A port's counters (as port.stats). Parameters: port name") < 0 ||
	    rte_telemetry_register_cmd("/ferry/pmds", cmd_pmds,
				       "ferry's PMD threads: lcore, busy %, packets, busy/idle cycles, rx queues") < 0 ||
	    rte_telemetry_register_cmd("/ferry/fdb", cmd_fdb, "MAC table: entries and size") < 0)
		return -1;
	return 0;
}
