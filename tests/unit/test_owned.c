/* test_owned.c — a VM's own rx queue (issue #18, ferry_pipeline_run_owned) on real mbufs: strict
 * (a dpdk port declared "vm"): the VM's unicast untagged or in its VLAN, broadcast to it alone,
 * another MAC (vm_dst), a VLAN it does not carry (vm_vlan), a VM that is not there (vm_absent),
 * the VM's egress VLAN rules, nothing learned, the port never a destination; lenient (a steered
 * queue): the normal path for every frame, the VM's own ones included, so their sources are
 * learned (learned, flooded, unicast by the FDB). Ports are allocated, never opened. */
#include <string.h>
#include "unit.h"
#include "ferry_pipeline.h"
#include "ferry_pkt.h"
#include "ferry_fdb.h"

#define VM1_MAC "52:54:00:00:00:01"
#define VM2_MAC "52:54:00:00:00:02"
#define VMT_MAC "52:54:00:00:00:03"
#define SRC "02:00:00:00:00:51"
#define BC "ff:ff:ff:ff:ff:ff"

static struct ferry_dp dp;
static struct ferry_fwd fwd, *fw = &fwd;
static unsigned n_ports;

static const char *const port_json[] = {
	"{\"name\":\"vf\",\"type\":\"dpdk\",\"devargs\":\"x0\"}",
	"{\"name\":\"up\",\"type\":\"dpdk\",\"devargs\":\"x1\"}",
	"{\"name\":\"vm1\",\"type\":\"vhostuser\",\"path\":\"/tmp/x1\",\"mac\":\"" VM1_MAC "\","
	"\"vlan\":{\"mode\":\"access\",\"tag\":10}}",
	"{\"name\":\"vm2\",\"type\":\"vhostuser\",\"path\":\"/tmp/x2\",\"mac\":\"" VM2_MAC "\","
	"\"vlan\":{\"mode\":\"access\",\"tag\":10}}",
	"{\"name\":\"vmt\",\"type\":\"vhostuser\",\"path\":\"/tmp/x3\",\"mac\":\"" VMT_MAC "\","
	"\"vlan\":{\"mode\":\"trunk\",\"allowed\":[10,20]}}",
};
enum { VF, UP, VM1, VM2, VMT };
static const uint16_t tag10[] = { 0x8100, 10 }, tag20[] = { 0x8100, 20 }, tag30[] = { 0x8100, 30 };

static void
setup(void)
{
	n_ports = unit_dp_setup(&dp, fw, "t_owned_fdb", port_json, RTE_DIM(port_json));
	ferry_fdb_add_static(dp.fdb, ferry_fdb_key(unit_mac(VM1_MAC), 10), VM1);
	ferry_fdb_add_static(dp.fdb, ferry_fdb_key(unit_mac(VM2_MAC), 10), VM2);
}

static void
teardown(void)
{
	unit_dp_teardown(&dp, n_ports);
}

static unsigned
queued(unsigned i)
{
	return fw->txb[i].n;
}

static void
reset_tx(void)
{
	unit_dp_reset_tx(fw, n_ports);
}

static void
owned(uint16_t owner, bool strict, struct rte_mbuf *m)
{
	ferry_pipeline_run_owned(fw, dp.ports[VF], 0, owner, strict, &m, 1);
}

static uint64_t
drops(unsigned port, enum ferry_drop why)
{
	return dp.ports[port]->stats[0].drops[why];
}

/* Is frame k queued for port i tagged (and with which VID)? */
static bool
tagged_vid(unsigned i, unsigned k, uint16_t *vid)
{
	struct ferry_pkt pk = { 0 };

	ferry_pkt_parse(fw->txb[i].m[k], &pk);
	*vid = pk.tci & 0xfff;
	return pk.tagged;
}

static void
strict_to_its_vm_only(void)
{
	uint16_t vid;

	owned(VM1, true, unit_frame(VM1_MAC, SRC, NULL, 0, 0x0800, 46));     /* untagged */
	owned(VM1, true, unit_frame(VM1_MAC, SRC, tag10, 1, 0x0800, 1500));  /* its VLAN */
	owned(VM1, true, unit_frame(BC, SRC, NULL, 0, 0x0806, 46));           /* broadcast */
	owned(VM1, true, unit_frame("01:00:5e:00:00:01", SRC, tag10, 1, 0x0800, 46));
	CHECK(queued(VM1) == 4 && queued(VM2) == 0 && queued(VMT) == 0 && queued(UP) == 0);
	for (unsigned k = 0; k < queued(VM1); k++)
		CHECK(!tagged_vid(VM1, k, &vid));   /* an access VM gets them untagged */
	CHECK(rte_pktmbuf_pkt_len(fw->txb[VM1].m[1]) == 14 + 1500);
	/* another VM's MAC (same VLAN), a VLAN vm1 does not carry, an unknown MAC */
	owned(VM1, true, unit_frame(VM2_MAC, SRC, NULL, 0, 0x0800, 46));
	owned(VM1, true, unit_frame("02:00:00:00:00:99", SRC, tag10, 1, 0x0800, 46));
	owned(VM1, true, unit_frame(VM1_MAC, SRC, tag20, 1, 0x0800, 46));
	owned(VM1, true, unit_frame(BC, SRC, tag30, 1, 0x0800, 46));
	CHECK(drops(VF, FERRY_DROP_VM_DST) == 2 && drops(VF, FERRY_DROP_VM_VLAN) == 2);
	CHECK(queued(VM1) == 4 && queued(VM2) == 0 && queued(UP) == 0);
	CHECK(ferry_fdb_learned(dp.fdb, VF) == 0);   /* nothing learned from a strict port */
	CHECK(dp.ports[VF]->stats[0].rx_pkts == 8 && dp.ports[VF]->rxq_stats[0].drops == 4);
	reset_tx();
}

static void
strict_trunk_vm(void)
{
	uint16_t vid;

	owned(VMT, true, unit_frame(VMT_MAC, SRC, tag20, 1, 0x0800, 46));
	owned(VMT, true, unit_frame(VMT_MAC, SRC, tag10, 1, 0x0800, 46));
	CHECK(queued(VMT) == 2 && tagged_vid(VMT, 0, &vid) && vid == 20 &&
	      tagged_vid(VMT, 1, &vid) && vid == 10);   /* a trunk keeps the tag */
	uint64_t v0 = drops(VF, FERRY_DROP_VM_VLAN);
	owned(VMT, true, unit_frame(VMT_MAC, SRC, NULL, 0, 0x0800, 46));   /* no native VLAN */
	owned(VMT, true, unit_frame(VMT_MAC, SRC, tag30, 1, 0x0800, 46));
	CHECK(drops(VF, FERRY_DROP_VM_VLAN) == v0 + 2 && queued(VMT) == 2);
	reset_tx();
}

static void
strict_vm_absent(void)
{
	struct ferry_port *vm2 = dp.ports[VM2];

	owned(FERRY_RXQ_VM_ABSENT, true, unit_frame(VM2_MAC, SRC, NULL, 0, 0x0800, 46));
	dp.ports[VM2] = NULL;   /* port.del of the VM, before the poll list changed */
	owned(VM2, true, unit_frame(VM2_MAC, SRC, NULL, 0, 0x0800, 46));
	owned(VM2, true, unit_frame(BC, SRC, NULL, 0, 0x0800, 46));
	dp.ports[VM2] = vm2;
	CHECK(drops(VF, FERRY_DROP_VM_ABSENT) == 3 && queued(VM2) == 0 && queued(UP) == 0);
	/* an admin-down VM: nowhere to go (as any unicast to it) */
	vm2->policy->off |= FERRY_PORT_OFF_ADMIN;
	owned(VM2, true, unit_frame(VM2_MAC, SRC, NULL, 0, 0x0800, 46));
	vm2->policy->off &= (uint8_t)~FERRY_PORT_OFF_ADMIN;
	CHECK(drops(VF, FERRY_DROP_NO_DEST) == 1 && queued(VM2) == 0);
	reset_tx();
}

/* A "vm" port (FERRY_PORT_OFF_VM) is never a destination, and still receives. */
static void
strict_port_never_a_destination(void)
{
	dp.ports[VF]->policy->off |= FERRY_PORT_OFF_VM;
	ferry_pipeline_run(fw, dp.ports[UP], 0, (struct rte_mbuf *[]){
			   unit_frame(BC, "02:00:00:00:00:61", NULL, 0, 0x0800, 46) }, 1);
	CHECK(queued(VF) == 0 && queued(UP) == 0);
	CHECK(drops(UP, FERRY_DROP_NO_DEST) == 1);   /* VLAN 0: nobody else */
	owned(VM1, true, unit_frame(VM1_MAC, SRC, NULL, 0, 0x0800, 46));
	CHECK(queued(VM1) == 1);
	dp.ports[VF]->policy->off &= (uint8_t)~FERRY_PORT_OFF_VM;
	reset_tx();
}

static void
lenient_takes_the_normal_path(void)
{
	uint64_t learned = ferry_fdb_learned(dp.fdb, VF);
	struct rte_mbuf *m[5] = {
		unit_frame(VM1_MAC, "02:00:00:00:00:71", tag10, 1, 0x0800, 46),   /* FDB: vm1 */
		unit_frame(VM2_MAC, "02:00:00:00:00:72", tag10, 1, 0x0800, 46),   /* FDB: vm2 */
		unit_frame(BC, "02:00:00:00:00:73", tag10, 1, 0x0800, 46),        /* flood VLAN 10 */
		unit_frame(VM1_MAC, "02:00:00:00:00:74", NULL, 0, 0x0800, 46),    /* VLAN 0: flood */
		unit_frame(VM1_MAC, "02:00:00:00:00:75", tag20, 1, 0x0800, 46),   /* VLAN 20: flood */
	};
	ferry_pipeline_run_owned(fw, dp.ports[VF], 0, VM1, 0, m, 5);
	CHECK(queued(VM1) == 2 && fw->txb[VM1].m[0] == m[0]);   /* its own, then the broadcast */
	CHECK(queued(VM2) == 1 + 1);                            /* its unicast and the broadcast */
	CHECK(queued(VMT) == 2);                                /* the broadcast and VLAN 20's */
	CHECK(queued(UP) == 2 + 1);                             /* broadcast, VLAN 0 and VLAN 20 */
	/* all five sources learned, the one of the frame for vm1 too (its host must not age out) */
	CHECK(ferry_fdb_learned(dp.fdb, VF) == learned + 5);
	reset_tx();
	/* a VM that is gone: every frame takes the normal path */
	ferry_pipeline_run_owned(fw, dp.ports[VF], 0, FERRY_RXQ_VM_ABSENT, 0, (struct rte_mbuf *[]){
				 unit_frame(VM1_MAC, "02:00:00:00:00:76", tag10, 1, 0x0800, 46) }, 1);
	CHECK(queued(VM1) == 1 && ferry_fdb_learned(dp.fdb, VF) == learned + 6);
	ferry_fdb_flush(dp.fdb, VF, false);
	reset_tx();
}

void
suite_owned(void)
{
	setup();
	RUN("owned", strict_to_its_vm_only);
	RUN("owned", strict_trunk_vm);
	RUN("owned", strict_vm_absent);
	RUN("owned", strict_port_never_a_destination);
	RUN("owned", lenient_takes_the_normal_path);
	CHECK(rte_mempool_in_use_count(unit_pool) == 0);   /* nothing leaked */
	teardown();
}
