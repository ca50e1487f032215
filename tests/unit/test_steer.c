/* test_steer.c — lib/steer's decision for one VM port: the key (MAC + access VLAN) it steers on,
 * and the reason it stays in software (no mac, a trunk port, an uplink without vm_queues), and the
 * JSON port.get shows over several uplinks and none. */
#include <string.h>
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

static void
uplink_without_vm_queues(void)
{
	struct ferry_steer_uplink u = { .name = "nic0", .vm_queues = 0 };
	struct ferry_steer_state st;

	vm_conf("52:54:00:00:18:01", 10);
	ferry_steer_decide(&vm, &u, &st);
	CHECK(st.method == FERRY_STEER_SOFTWARE && st.queue == FERRY_STEER_NO_QUEUE);
	CHECK(strcmp(st.reason, "uplink nic0 has no vm_queues") == 0);
}

static void
json_shape(void)
{
	struct ferry_steer_uplink up[2] = { { .name = "nic0" }, { .name = "nic1" } };
	json_t *o;

	vm_conf("52:54:00:00:18:01", 10);
	o = ferry_steer_json(&vm, up, 2);
	CHECK(strcmp(json_string_value(json_object_get(o, "method")), "software") == 0);
	CHECK(json_is_null(json_object_get(o, "queue")));
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")),
		     "uplink nic0 has no vm_queues; uplink nic1 has no vm_queues") == 0);
	CHECK(json_object_size(json_object_get(o, "uplinks")) == 2);
	json_decref(o);
	o = ferry_steer_json(&vm, up, 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")), "no dpdk uplink") == 0);
	json_decref(o);
	vm_conf(NULL, 10);   /* the VM's own reason once, not once per uplink */
	o = ferry_steer_json(&vm, up, 2);
	CHECK(strcmp(json_string_value(json_object_get(o, "reason")), "vm1 has no mac") == 0);
	json_decref(o);
}

void
suite_steer(void)
{
	RUN("steer", key_of_access_port);
	RUN("steer", no_mac_or_trunk);
	RUN("steer", uplink_without_vm_queues);
	RUN("steer", json_shape);
}
