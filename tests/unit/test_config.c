/* test_config.c — configuration parsing: good files, every error naming its JSON path, and the
 * port object surviving a round trip through JSON (config.get must be loadable). */
#include <string.h>
#include "unit.h"
#include "ferry_config.h"

static int
parse(const char *text, struct ferry_conf *c, char *err, size_t n)
{
	return ferry_config_load_string(text, c, err, n);
}

static void
builtin_default_parses(void)
{
	struct ferry_conf c;
	char err[512];

	CHECK(parse(ferry_config_default_json, &c, err, sizeof(err)) == 0);
	CHECK(c.n_ports == 2 && c.n_pmds == 1 && c.pmd_lcores[0] == 1);
	CHECK(c.ports[1].type == FERRY_PORT_VHOST && !c.ports[1].client);
	CHECK(c.burst == FERRY_BURST && c.fdb_aging_s == 300);
	ferry_config_free(&c);
}

static void
full_example(void)
{
	const char *t =
		"{\"lcores\": {\"main\": 0, \"pmd\": [1]}, \"burst\": 16, \"fdb\": {\"size\": 1024, \"aging\": 5},"
		" \"rpc\": {\"socket\": \"/tmp/x.sock\", \"mode\": \"0600\"}, \"eal_args\": [\"--in-memory\"],"
		" \"ports\": [{\"name\": \"uplink\", \"type\": \"dpdk\", \"devargs\": \"net_null0\","
		"  \"vlan\": {\"mode\": \"trunk\", \"allowed\": [10, 20], \"native\": 10}, \"mtu\": 9000},"
		" {\"name\": \"vm1\", \"type\": \"vhostuser\", \"path\": \"/run/ferry/vm1.sock\", \"mode\": \"client\","
		"  \"mac\": [\"52:54:00:00:00:01\"], \"vlan\": {\"mode\": \"access\", \"tag\": 10},"
		"  \"admin\": \"down\", \"external_ids\": {\"vm\": \"abc\"}}]}";
	struct ferry_conf c;
	char err[512];

	CHECK(parse(t, &c, err, sizeof(err)) == 0);
	CHECK(c.burst == 16 && c.fdb_size == 1024 && c.fdb_aging_s == 5 && c.rpc_mode == 0600);
	CHECK(c.n_eal_args == 1 && strcmp(c.eal_args[0], "--in-memory") == 0);
	CHECK(c.ports[0].vlan.mode == FERRY_VLAN_TRUNK && c.ports[0].vlan.native == 10);
	CHECK(c.ports[0].vlan.n_allowed == 2 && c.ports[0].mtu == 9000);
	CHECK(c.ports[1].client && c.ports[1].admin_down && c.ports[1].n_macs == 1);
	CHECK(c.ports[1].vlan.mode == FERRY_VLAN_ACCESS && c.ports[1].vlan.tag == 10);
	ferry_config_free(&c);
}

struct bad { const char *json, *msg; };

static void
errors_name_the_path(void)
{
	static const struct bad cases[] = {
		{ "[]", "must be a JSON object" },
		{ "{\"lcore\": {}}", "lcore: unknown field" },
		{ "{\"lcores\": {\"main\": 1, \"pmd\": [1]}}", "lcores.pmd: lcore 1 is the main lcore" },
		{ "{\"lcores\": {\"pmd\": [1, 1]}}", "lcores.pmd: lcore 1 listed twice" },
		{ "{\"burst\": 64}", "burst: must be an integer 1..32" },
		{ "{\"ports\": [{\"type\": \"dpdk\", \"devargs\": \"x\"}]}", "ports[0].name: missing" },
		{ "{\"ports\": [{\"name\": \"a b\", \"type\": \"dpdk\", \"devargs\": \"x\"}]}",
		  "ports[0].name: 'a b': only letters" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"tap\"}]}", "ports[0].type: 'tap'" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"path\": \"/x\"}]}",
		  "ports[0].path: not a field of this port type" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"vhostuser\", \"path\": \"rel.sock\"}]}",
		  "ports[0].path: must be an absolute path" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"vhostuser\", \"path\": \"/a\", \"mode\": \"x\"}]}",
		  "ports[0].mode: 'x'" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"mac\": [\"zz\"]}]}",
		  "ports[0].mac[0]: is not a MAC address" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"mac\": [\"01:00:00:00:00:01\"]}]}",
		  "ports[0].mac[0]: must be a unicast" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vlan\": {\"mode\": \"access\"}}]}",
		  "ports[0].vlan.tag: missing" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vlan\": {\"mode\": \"access\", \"tag\": 4095}}]}",
		  "ports[0].vlan.tag: must be a VLAN id 1..4094" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vlan\": {\"mode\": \"trunk\", \"allowed\": [1, 0]}}]}",
		  "ports[0].vlan.allowed[1]: must be a VLAN id" },
		/* "vm" (issue #18): a vhostuser port of the configuration, wherever it is listed */
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": \"vm 1\"}]}",
		  "ports[0].vm: 'vm 1': only letters" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": 1}]}",
		  "ports[0].vm: must be a string" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": \"vm1\"}]}",
		  "ports[0].vm: no vhostuser port named 'vm1'" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": \"b\"}, {\"name\": \"b\", \"type\": \"dpdk\", \"devargs\": \"y\"}]}",
		  "ports[0].vm: 'b' is a dpdk port, not a vhostuser port" },
		{ "{\"ports\": [{\"name\": \"b\", \"type\": \"vhostuser\", \"path\": \"/b\", \"vm\": \"b\"}]}",
		  "ports[0].vm: not a field of this port type" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\"}, {\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"y\"}]}",
		  "ports[1].name: 'a' is used by ports[0] too" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"vhostuser\", \"path\": \"/s\"}, {\"name\": \"b\", \"type\": \"vhostuser\", \"path\": \"/s\"}]}",
		  "ports[1].path: '/s' is used by ports[0] too" },
		{ "{\"rpc\": {\"mode\": \"rw\"}}", "rpc.mode: 'rw'" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"admin\": \"off\"}]}",
		  "ports[0].admin: 'off'" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"external_ids\": {\"k\": 1}}]}",
		  "ports[0].external_ids: 'k' must be a string" },
		{ "{\"ports\": [{\"name\": \"a\", ", "invalid JSON" },
		{ "{\"vfio_vf_token\": \"nope\"}", "vfio_vf_token: 'nope' is not a UUID" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"sriov\": {\"num_vfs\": 2, \"vfs\": [{\"vf\": 2}]}}]}",
		  "ports[0].sriov.vfs: VF 2 is beyond num_vfs 2" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"dpdk\", \"devargs\": \"x\", \"sriov\": {\"vfs\": [{\"mac\": \"52:54:00:00:00:01\"}]}}]}",
		  "ports[0].sriov.vfs[0].vf: missing" },
		{ "{\"ports\": [{\"name\": \"a\", \"type\": \"vhostuser\", \"path\": \"/a\", \"hw_mac\": \"52:54:00:00:00:01\"}]}",
		  "ports[0].hw_mac: not a field of this port type" },
	};
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct ferry_conf c;
		char err[512] = "";
		int rc = parse(cases[i].json, &c, err, sizeof(err));
		CHECK(rc < 0);
		if (rc == 0)
			ferry_config_free(&c);
		if (strstr(err, cases[i].msg) == NULL) {
			fprintf(stderr, "  case %u: expected '%s' in '%s'\n", i, cases[i].msg, err);
			unit_failures++;
		}
	}
}

static void
port_round_trip(void)
{
	const char *ports[] = {
		"{\"name\": \"u\", \"type\": \"dpdk\", \"devargs\": \"net_null0\", \"rxq\": 2}",
		"{\"name\": \"v\", \"type\": \"vhostuser\", \"path\": \"/r/v.sock\", \"mode\": \"client\","
		" \"mac\": [\"52:54:00:00:00:01\", \"52:54:00:00:00:02\"], \"vlan\": {\"mode\": \"trunk\","
		" \"allowed\": [3, 4], \"native\": 3}, \"external_ids\": {\"a\": \"b\"}}",
		"{\"name\": \"w\", \"type\": \"vhostuser\", \"path\": \"/r/w.sock\", \"vlan\": {\"mode\": \"trunk\"}}",
		"{\"name\": \"x\", \"type\": \"dpdk\", \"devargs\": \"net_null1\"}",
		"{\"name\": \"pf\", \"type\": \"dpdk\", \"devargs\": \"0000:03:00.0\", \"hw_mac\": \"52:54:00:00:00:09\","
		" \"sriov\": {\"num_vfs\": 2, \"vfs\": [{\"vf\": 1, \"mac\": \"52:54:00:00:00:0a\", \"vlan\": 7}]}}",
	};
	for (unsigned i = 0; i < RTE_DIM(ports); i++) {
		struct ferry_port_conf a, b;
		char err[256];
		json_t *j = json_loads(ports[i], 0, NULL);
		CHECK(ferry_port_conf_parse(j, "p", &a, err, sizeof(err)) == 0);
		json_t *back = ferry_port_conf_to_json(&a);
		CHECK(ferry_port_conf_parse(back, "p", &b, err, sizeof(err)) == 0);
		CHECK(ferry_port_conf_equal(&a, &b));
		CHECK(memcmp(&a.vlan, &b.vlan, sizeof(a.vlan)) == 0);
		CHECK(a.num_vfs == b.num_vfs && a.n_vfs == b.n_vfs && a.has_hw_mac == b.has_hw_mac);
		CHECK(memcmp(a.vfs, b.vfs, sizeof(a.vfs[0]) * a.n_vfs) == 0);
		ferry_port_conf_clear(&a);
		ferry_port_conf_clear(&b);
		json_decref(j);
		json_decref(back);
	}
}

/* "vm": "" and null are no VM (not printed); a name round-trips. */
static void
vm_empty_or_null_is_none(void)
{
	const char *ports[] = {
		"{\"name\": \"u\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": \"\"}",
		"{\"name\": \"u\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": null}",
		"{\"name\": \"u\", \"type\": \"dpdk\", \"devargs\": \"x\", \"vm\": \"vm-1.a\"}",
	};
	for (unsigned i = 0; i < RTE_DIM(ports); i++) {
		struct ferry_port_conf a;
		char err[256];
		json_t *j = json_loads(ports[i], 0, NULL);
		CHECK(ferry_port_conf_parse(j, "p", &a, err, sizeof(err)) == 0);
		json_t *back = ferry_port_conf_to_json(&a);
		const char *vm = json_string_value(json_object_get(back, "vm"));
		CHECK(i < 2 ? vm == NULL && a.vm[0] == '\0' : vm != NULL && strcmp(vm, "vm-1.a") == 0);
		ferry_port_conf_clear(&a);
		json_decref(j);
		json_decref(back);
	}
}

void
suite_config(void)
{
	RUN("config", builtin_default_parses);
	RUN("config", full_example);
	RUN("config", errors_name_the_path);
	RUN("config", port_round_trip);
	RUN("config", vm_empty_or_null_is_none);
}
