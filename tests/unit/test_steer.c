/* test_steer.c — lib/steer: the key (MAC + access VLAN) a VM is steered on, how its VLAN crosses
 * an uplink (lib/vlan's modes: tagged on a trunk carrying it, untagged as an access or native
 * VLAN), the reasons it stays in software before any device call, the rte_flow rule it asks for,
 * the reserved-queue pick (a freed queue is taken again), the JSON port.get shows, and a real
 * device refusing: a net_null vdev (no rte_flow) through ferry_steer_sync. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include "unit.h"
#include "ferry_steer.h"

static struct ferry_port_conf vm;

static void
vm_conf(const char *mac, int access_tag)
{
	memset(&vm, 0, sizeof(vm));
	strcpy(vm.name, "vm1");
	vm.type = FERRY_PORT_VHOST;
	if (mac != NULL) {
		rte_ether_unformat_addr(mac, &vm.macs[0]);
		vm.n_macs = 1;
	}
	vm.vlan.mode = access_tag > 0 ? FERRY_VLAN_ACCESS : FERRY_VLAN_TRUNK;
	vm.vlan.tag = access_tag > 0 ? (uint16_t)access_tag : 0;
	vm.vlan.all = access_tag <= 0;
}

static void
key_of_access_port(void)
{
	struct ferry_steer_key k;
	struct rte_ether_addr a;
	char r[FERRY_STEER_REASON_MAX] = "";

	vm_conf("52:54:00:00:18:01", 10);
	rte_ether_unformat_addr("52:54:00:00:18:01", &a);
	CHECK(ferry_steer_vm_key(&vm, &k, r, sizeof(r)) == 0);
	CHECK(rte_is_same_ether_addr(&k.mac, &a) && k.vlan == 10 && r[0] == '\0');
}

static void
no_mac_or_trunk(void)
{
	struct ferry_steer_key k;
	char r[FERRY_STEER_REASON_MAX];

	vm_conf(NULL, 10);
	CHECK(ferry_steer_vm_key(&vm, &k, r, sizeof(r)) < 0 && strcmp(r, "vm1 has no mac") == 0);
	vm_conf("52:54:00:00:18:01", 0);
	CHECK(ferry_steer_vm_key(&vm, &k, r, sizeof(r)) < 0 &&
	      strncmp(r, "vm1 is a trunk port", 19) == 0);
}

/* VLAN 10 over uplinks of each mode: tagged, untagged, or not carried. */
static void
vlan_on_uplink(void)
{
	static struct ferry_vlan_conf v;
	struct ferry_steer_uplink u = { .name = "nic0", .vm_queues = 1, .vlan = NULL };
	struct ferry_steer_key k = { .vlan = 10 };
	char r[FERRY_STEER_REASON_MAX];

	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) == 0 && k.tagged);   /* default trunk */
	u.vlan = &v;
	v = (struct ferry_vlan_conf){ .mode = FERRY_VLAN_ACCESS, .tag = 10 };
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) == 0 && !k.tagged);
	v.tag = 11;
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) < 0 &&
	      strcmp(r, "uplink nic0 does not carry VLAN 10") == 0);
	v = (struct ferry_vlan_conf){ .mode = FERRY_VLAN_TRUNK, .native = 10, .n_allowed = 1,
				      .allowed = { 20 } };
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) == 0 && !k.tagged);   /* native */
	v.native = FERRY_VLAN_NONE;
	v.allowed[0] = 10;
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) == 0 && k.tagged);
	v.allowed[0] = 30;
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) < 0);
	v.all = true;
	CHECK(ferry_steer_on_uplink(&k, &u, r, sizeof(r)) == 0 && k.tagged);
}

static void
uplink_without_vm_queues(void)
{
	struct ferry_steer_uplink u = { .name = "nic0", .vm_queues = 0 };
	struct ferry_steer_state st;
	struct ferry_steer_key k;

	vm_conf("52:54:00:00:18:01", 10);
	CHECK(ferry_steer_decide(&vm, &u, &k, &st) == 0);
	CHECK(st.method == FERRY_STEER_SOFTWARE && st.queue == FERRY_STEER_NO_QUEUE);
	CHECK(strcmp(st.reason, "uplink nic0 has no vm_queues") == 0);
	u.vm_queues = 2;
	CHECK(ferry_steer_decide(&vm, &u, &k, &st) == 1 && k.vlan == 10 && k.tagged);
}

static void
rule_spec(void)
{
	struct ferry_steer_key k = { .vlan = 10, .tagged = true };
	struct ferry_steer_rule_spec r;

	rte_ether_unformat_addr("52:54:00:00:18:01", &k.mac);
	ferry_steer_rule_build(&r, &k, 3);
	CHECK(r.attr.ingress == 1 && r.items[0].type == RTE_FLOW_ITEM_TYPE_ETH);
	CHECK(rte_is_same_ether_addr(&((const struct rte_flow_item_eth *)r.items[0].spec)->hdr.dst_addr,
				     &k.mac));
	CHECK(rte_is_broadcast_ether_addr(&r.eth_mask.hdr.dst_addr));
	CHECK(r.items[1].type == RTE_FLOW_ITEM_TYPE_VLAN && r.items[2].type == RTE_FLOW_ITEM_TYPE_END);
	CHECK(rte_be_to_cpu_16(r.vlan.hdr.vlan_tci) == 10 &&
	      rte_be_to_cpu_16(r.vlan_mask.hdr.vlan_tci) == 0x0fff);
	CHECK(r.actions[0].type == RTE_FLOW_ACTION_TYPE_QUEUE && r.queue.index == 3 &&
	      r.actions[1].type == RTE_FLOW_ACTION_TYPE_END);
	k.tagged = false;   /* untagged: ETH alone */
	ferry_steer_rule_build(&r, &k, 3);
	CHECK(r.items[1].type == RTE_FLOW_ITEM_TYPE_END);
}

static void
queue_pick(void)
{
	CHECK(ferry_steer_queue_pick(0, 2, 2) == 2);
	CHECK(ferry_steer_queue_pick(1u << 2, 2, 2) == 3);
	CHECK(ferry_steer_queue_pick(3u << 2, 2, 2) == -1);
	CHECK(ferry_steer_queue_pick(1u << 3, 2, 2) == 2);   /* freed 2 is taken again */
	CHECK(ferry_steer_queue_pick(0, 2, 0) == -1);
}

static void
json_shape(void)
{
	struct ferry_steer_uplink up[2] = { { .name = "nic0", .slot = 0 },
					    { .name = "nic1", .slot = 1 } };
	struct ferry_steer_vm v = { .conf = &vm, .slot = 5 };
	json_t *o;

	vm_conf("52:54:00:00:18:01", 10);
	o = ferry_steer_json(NULL, &v, up, 2);
	CHECK(strcmp(json_string_value(json_object_get(o, "method")), "software") == 0);
	CHECK(json_is_null(json_object_get(o, "queue")));
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")),
		     "uplink nic0 has no vm_queues; uplink nic1 has no vm_queues") == 0);
	CHECK(json_object_size(json_object_get(o, "uplinks")) == 2);
	json_decref(o);
	o = ferry_steer_json(NULL, &v, up, 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")), "no dpdk uplink") == 0);
	json_decref(o);
	vm_conf(NULL, 10);   /* the VM's own reason once, not once per uplink */
	o = ferry_steer_json(NULL, &v, up, 2);
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")), "vm1 has no mac") == 0);
	json_decref(o);
}

/* A started vdev with nq rx and tx queues (unit_pool), its port id, or -1. */
static int
vdev_up(const char *devargs, const char *name, uint16_t nq)
{
	struct rte_eth_conf ec = { 0 };
	uint16_t port;
	int ok = rte_dev_probe(devargs) == 0 && rte_eth_dev_get_port_by_name(name, &port) == 0 &&
		 rte_eth_dev_configure(port, nq, nq, &ec) == 0;

	for (uint16_t q = 0; ok && q < nq; q++)
		ok = rte_eth_rx_queue_setup(port, q, 64, 0, NULL, unit_pool) == 0 &&
		     rte_eth_tx_queue_setup(port, q, 64, 0, NULL) == 0;
	return ok && rte_eth_dev_start(port) == 0 ? port : -1;
}

static void
vdev_down(uint16_t port)
{
	struct rte_eth_dev_info di;
	struct rte_device *dev = rte_eth_dev_info_get(port, &di) == 0 ? di.device : NULL;

	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (dev != NULL)
		rte_dev_remove(dev);
}

static unsigned owned;

static void
own_cb(void *ctx, uint16_t up_slot, uint16_t q, uint16_t vm_slot)
{
	owned++;
}

/* Why VMDq does not steer either: nothing said for a device without pools (the software reason
 * stands), too few pools, else "not tried". */
static void
vmdq_note(void)
{
	struct ferry_steer_uplink u = { .name = "nic0", .driver = "net_null", .rss_queues = 1,
					.vm_queues = 2, .rss_note = "" };
	char r[FERRY_STEER_REASON_MAX];

	snprintf(r, sizeof(r), "uplink nic0: net_tap has no rte_flow");
	CHECK(ferry_steer_vmdq_note(&u, r, sizeof(r)) == 0);
	CHECK(strcmp(r, "uplink nic0: net_tap has no rte_flow") == 0);
	u.driver = "net_ixgbe";
	u.vmdq_pools = 2;   /* 2 vm_queues + the default pool: 3 needed */
	snprintf(r, sizeof(r), "x");
	CHECK(ferry_steer_vmdq_note(&u, r, sizeof(r)) == 0);
	CHECK(strcmp(r, "x; vmdq not usable: 2 pools, 3 needed (vm_queues 2 + the default "
		     "pool)") == 0);
	u.vmdq_pools = 64;
	snprintf(r, sizeof(r), "x");
	CHECK(ferry_steer_vmdq_note(&u, r, sizeof(r)) == 1);
	CHECK(strcmp(r, "x; vmdq not tried (64 pools): ferry does not reconfigure an uplink into "
		     "VMDq pools yet") == 0);
	memset(r, 'y', sizeof(r) - 1);   /* a full reason stays as it is, terminated */
	r[sizeof(r) - 1] = '\0';
	CHECK(ferry_steer_vmdq_note(&u, r, sizeof(r)) == 0 && strlen(r) == sizeof(r) - 1);
}

/* A net_null vdev with 1 + 2 rx queues: rte_flow_validate answers ENOSYS; no queue is taken,
 * nothing told to the datapath; a MAC change retries, port_gone forgets the pair. */
static void
net_null_refuses(void)
{
	struct ferry_steer *s = ferry_steer_create(own_cb, NULL, NULL);
	int port = vdev_up("net_null_steer0,no-rx=1", "net_null_steer0", 3);
	struct ferry_steer_state st;

	CHECK(port >= 0 && s != NULL);
	if (port < 0 || s == NULL)
		return;
	struct ferry_steer_uplink u = { .name = "nic0", .slot = 1, .eth_port = (uint16_t)port,
					.driver = "net_null", .rss_queues = 1, .vm_queues = 2,
					.rss_note = "" };
	struct ferry_steer_vm v = { .conf = &vm, .slot = 4 };

	vm_conf("52:54:00:00:18:01", 10);
	ferry_steer_get(s, &v, &u, &st);
	CHECK(strcmp(st.reason, "uplink nic0: not tried yet") == 0);
	ferry_steer_sync(s, &v, 1, &u, 1);
	ferry_steer_get(s, &v, &u, &st);
	CHECK(st.method == FERRY_STEER_SOFTWARE && st.queue == FERRY_STEER_NO_QUEUE);
	CHECK(strcmp(st.reason, "uplink nic0: net_null has no rte_flow") == 0);
	CHECK(ferry_steer_queue_owner(s, 1, 1) == FERRY_PORT_NONE && owned == 0);
	u.vmdq_pools = 8;   /* a device with pools: the reason says VMDq was not tried */
	rte_ether_unformat_addr("52:54:00:00:18:02", &vm.macs[0]);
	ferry_steer_sync(s, &v, 1, &u, 1);
	ferry_steer_get(s, &v, &u, &st);
	CHECK(strstr(st.reason, "net_null has no rte_flow; vmdq not tried (8 pools)") != NULL);
	ferry_steer_port_gone(s, 1);
	ferry_steer_get(s, &v, &u, &st);
	CHECK(strcmp(st.reason, "uplink nic0: not tried yet") == 0);
	ferry_steer_free(s);
	vdev_down((uint16_t)port);
}

/* net_tap here: its rte_flow support is disabled (no multiq qdisc / flower in this kernel), yet
 * it validates the rule; rte_flow_create is what refuses, with the PMD's message. With its
 * missing RETA named, the rule is not even created. */
static void
net_tap_refuses(void)
{
	struct ferry_steer_key k = { .vlan = 10, .tagged = true };
	char r[FERRY_STEER_REASON_MAX], args[64];
	int port;

	snprintf(args, sizeof(args), "net_tap_steer0,iface=fsteer%d", (int)getpid() % 100000);
	port = vdev_up(args, "net_tap_steer0", 2);

	CHECK(port >= 0);
	if (port < 0)
		return;
	struct ferry_steer_uplink u = { .name = "tap0", .eth_port = (uint16_t)port,
					.driver = "net_tap", .rss_queues = 1, .vm_queues = 1,
					.rss_note = "" };
	rte_ether_unformat_addr("52:54:00:00:18:01", &k.mac);
	CHECK(ferry_steer_flow_try(&u, &k, 1, r, sizeof(r)) == NULL);
	printf("  net_tap: %s\n", r);
	CHECK(strncmp(r, "uplink tap0: rte_flow_create refused: ", 38) == 0 && strlen(r) > 40);
	u.rss_note = "net_tap has no RSS redirection table";
	CHECK(ferry_steer_flow_try(&u, &k, 1, r, sizeof(r)) == NULL);
	CHECK(strcmp(r, "uplink tap0: rule valid, not created: net_tap has no RSS redirection "
		     "table") == 0);
	vdev_down((uint16_t)port);
}

void
suite_steer(void)
{
	RUN("steer", key_of_access_port);
	RUN("steer", no_mac_or_trunk);
	RUN("steer", vlan_on_uplink);
	RUN("steer", uplink_without_vm_queues);
	RUN("steer", rule_spec);
	RUN("steer", queue_pick);
	RUN("steer", json_shape);
	RUN("steer", vmdq_note);
	RUN("steer", net_null_refuses);
	RUN("steer", net_tap_refuses);
}
