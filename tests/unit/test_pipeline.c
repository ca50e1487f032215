/* test_pipeline.c — the classifier on real mbufs: learning, flooding (never back out), VLAN
 * isolation and tagging per egress port, stacked tags (no VLAN hop), source checks, admin state,
 * learning seen by the later frames of a burst, the isolation controls (policer, storm, mac_limit).
 * Ports are allocated but never opened: frames stop in the tx buffers (struct ferry_fwd), where we
 * look. */
#include <string.h>
#include <rte_malloc.h>
#include "unit.h"
#include "ferry_pipeline.h"
#include "ferry_pkt.h"
#include "ferry_fdb.h"

#define A "02:00:00:00:00:0a"
#define B "02:00:00:00:00:0b"
#define BC "ff:ff:ff:ff:ff:ff"

static struct ferry_dp dp;
static struct ferry_fwd fwd, *fw = &fwd;   /* one PMD's forwarding state, no PMD */
static unsigned n_ports;

static const char *const port_json[] = {
	"{\"name\":\"p0\",\"type\":\"dpdk\",\"devargs\":\"x0\"}",
	"{\"name\":\"p1\",\"type\":\"dpdk\",\"devargs\":\"x1\"}",
	"{\"name\":\"acc10\",\"type\":\"dpdk\",\"devargs\":\"x2\",\"vlan\":{\"mode\":\"access\",\"tag\":10}}",
	"{\"name\":\"acc20\",\"type\":\"dpdk\",\"devargs\":\"x3\",\"vlan\":{\"mode\":\"access\",\"tag\":20}}",
	"{\"name\":\"trunk\",\"type\":\"dpdk\",\"devargs\":\"x4\",\"vlan\":{\"mode\":\"trunk\",\"allowed\":[10,20]}}",
	"{\"name\":\"vm\",\"type\":\"dpdk\",\"devargs\":\"x5\",\"mac\":[\"52:54:00:00:00:01\"],\"vlan\":{\"mode\":\"access\",\"tag\":10}}",
	"{\"name\":\"down\",\"type\":\"dpdk\",\"devargs\":\"x6\",\"admin\":\"down\",\"vlan\":{\"mode\":\"access\",\"tag\":10}}",
	"{\"name\":\"p2\",\"type\":\"dpdk\",\"devargs\":\"x7\"}",
	"{\"name\":\"nat\",\"type\":\"dpdk\",\"devargs\":\"x8\",\"vlan\":{\"mode\":\"trunk\",\"allowed\":[10,20],\"native\":10}}",
};
enum { P0, P1, ACC10, ACC20, TRUNK, VM, DOWN, P2, NAT };

static void
setup(void)
{
	n_ports = unit_dp_setup(&dp, fw, "t_pipe_fdb", port_json, RTE_DIM(port_json));
	/* the VM's static entry, as the switch adds it */
	ferry_fdb_add_static(dp.fdb, ferry_fdb_key(unit_mac("52:54:00:00:00:01"), 10), VM);
}

static void
teardown(void)
{
	unit_dp_teardown(&dp, n_ports);
}

/* Frames queued for port i. */
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
inject(unsigned port, struct rte_mbuf **m, uint16_t n)
{
	ferry_pipeline_run(fw, dp.ports[port], 0, m, n);
}

static void
inject1(unsigned port, struct rte_mbuf *m)
{
	inject(port, &m, 1);
}

static uint64_t
drops(unsigned port, enum ferry_drop why)
{
	return dp.ports[port]->stats[0].drops[why];
}

static void
flood_then_learn(void)
{
	inject1(P0, unit_frame(BC, A, NULL, 0, 0x0800, 46));
	CHECK(queued(P0) == 0);                    /* never back out the ingress port */
	CHECK(queued(P1) == 1 && queued(P2) == 1);
	CHECK(queued(ACC10) == 0 && queued(ACC20) == 0 && queued(TRUNK) == 0);   /* VLAN 0 only */
	reset_tx();
	inject1(P1, unit_frame(A, B, NULL, 0, 0x0800, 46));
	CHECK(queued(P0) == 1 && queued(P1) == 0);   /* A was learned on p0 */
	reset_tx();
	inject1(P0, unit_frame(A, B, NULL, 0, 0x0800, 46));   /* B moves to p0; A is on p0 too */
	CHECK(drops(P0, FERRY_DROP_NO_DEST) == 1 && dp.ports[P0]->stats[0].mac_moves == 1);
	reset_tx();
}

static uint16_t
tci_of(struct rte_mbuf *m, bool *tagged)
{
	struct ferry_pkt pk = { 0 };

	ferry_pkt_parse(m, &pk);
	*tagged = pk.tagged;
	return pk.tci;
}

static void
flood_tags_per_egress_port(void)
{
	bool tagged;

	inject1(ACC10, unit_frame(BC, "02:00:00:00:10:01", NULL, 0, 0x0800, 46));
	CHECK(queued(TRUNK) == 1 && queued(VM) == 1 && queued(ACC20) == 0 && queued(DOWN) == 0);
	struct rte_mbuf *t = fw->txb[TRUNK].m[0], *u = fw->txb[VM].m[0];
	CHECK(t != u);                                /* one copy: tagged and untagged differ */
	/* default ports trunk every VLAN: they share the trunk's tagged mbuf */
	CHECK(queued(P0) == 1 && queued(P1) == 1 && queued(P2) == 1);
	CHECK(fw->txb[P0].m[0] == t && fw->txb[P2].m[0] == t && rte_mbuf_refcnt_read(t) == 4);
	CHECK((tci_of(t, &tagged) & 0xfff) == 10 && tagged);
	tci_of(u, &tagged);
	CHECK(!tagged);
	reset_tx();
	/* tagged VID 20 from the trunk: only acc20, untagged; PCP kept on tagged egress */
	const uint16_t tag20[] = { 0x8100, 0xe014 };
	inject1(TRUNK, unit_frame(BC, "02:00:00:00:20:01", tag20, 1, 0x0800, 46));
	CHECK(queued(ACC20) == 1 && queued(ACC10) == 0 && queued(VM) == 0);
	tci_of(fw->txb[ACC20].m[0], &tagged);
	CHECK(!tagged);
	CHECK(queued(P0) == 1 && (tci_of(fw->txb[P0].m[0], &tagged) == 0xe014) && tagged);
	reset_tx();
}

static void
shared_mbuf_for_same_encoding(void)
{
	struct rte_mbuf *m = unit_frame(BC, "02:00:00:00:00:77", NULL, 0, 0x0800, 46);

	inject1(P1, m);   /* VLAN 0: p0 and p2, same encoding: one mbuf, two references, no copy */
	CHECK(queued(P0) == 1 && queued(P2) == 1);
	CHECK(fw->txb[P0].m[0] == m && fw->txb[P2].m[0] == m && rte_mbuf_refcnt_read(m) == 2);
	reset_tx();
	inject1(P0, unit_frame("02:00:00:00:00:77", "02:00:00:00:00:78", NULL, 0, 0x0800, 46));
	CHECK(queued(P1) == 1 && queued(P2) == 0);   /* unicast: the very mbuf, unchanged */
	reset_tx();
}

static void
bad_sources_dropped(void)
{
	inject1(P0, unit_frame(B, BC, NULL, 0, 0x0800, 46));
	inject1(P0, unit_frame(B, "01:00:5e:00:00:01", NULL, 0, 0x0800, 46));
	inject1(P0, unit_frame(B, "00:00:00:00:00:00", NULL, 0, 0x0800, 46));
	CHECK(drops(P0, FERRY_DROP_INVALID_SRC) == 3);
	uint8_t runt[10] = { 0 };
	inject1(P0, unit_raw(runt, sizeof(runt)));
	CHECK(drops(P0, FERRY_DROP_RUNT) == 1);
	CHECK(queued(P1) == 0);
	reset_tx();
}

static void
spoofing_blocked(void)
{
	/* the VM may only send as its own MAC */
	inject1(VM, unit_frame(BC, "52:54:00:00:00:99", NULL, 0, 0x0800, 46));
	CHECK(drops(VM, FERRY_DROP_SPOOF) == 1);
	inject1(VM, unit_frame(BC, "52:54:00:00:00:01", NULL, 0, 0x0800, 46));
	CHECK(drops(VM, FERRY_DROP_SPOOF) == 1 && queued(ACC10) == 1);
	reset_tx();
	/* nobody else may send as the VM's MAC (a static entry of another port) */
	inject1(ACC10, unit_frame(BC, "52:54:00:00:00:01", NULL, 0, 0x0800, 46));
	CHECK(drops(ACC10, FERRY_DROP_SPOOF) == 1 && queued(VM) == 0 && queued(TRUNK) == 0);
	/* and traffic to the VM goes only to the VM */
	inject1(ACC10, unit_frame("52:54:00:00:00:01", "02:00:00:00:10:05", NULL, 0, 0x0800, 46));
	CHECK(queued(VM) == 1 && queued(TRUNK) == 0);
	reset_tx();
}

static void
vlan_filtering(void)
{
	const uint16_t tag30[] = { 0x8100, 30 }, tag10[] = { 0x8100, 10 };

	inject1(TRUNK, unit_frame(BC, "02:00:00:00:30:01", tag30, 1, 0x0800, 46));
	CHECK(drops(TRUNK, FERRY_DROP_VLAN) == 1);
	inject1(TRUNK, unit_frame(BC, "02:00:00:00:30:02", NULL, 0, 0x0800, 46));   /* no native */
	CHECK(drops(TRUNK, FERRY_DROP_VLAN) == 2);
	inject1(ACC10, unit_frame(BC, "02:00:00:00:30:03", tag10, 1, 0x0800, 46));  /* tagged on access */
	CHECK(drops(ACC10, FERRY_DROP_VLAN) == 1);
	const uint16_t prio[] = { 0x8100, 0x6000 };   /* priority tag: VLAN of the access port */
	inject1(ACC10, unit_frame(BC, "02:00:00:00:30:04", prio, 1, 0x0800, 46));
	CHECK(queued(TRUNK) == 1);
	bool tagged;
	CHECK((tci_of(fw->txb[TRUNK].m[0], &tagged) & 0xfff) == 10 && tagged);
	reset_tx();
}

static uint16_t
be16_at(const struct rte_mbuf *m, unsigned off)
{
	uint16_t v;

	memcpy(&v, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), 2);
	return rte_be_to_cpu_16(v);
}

static unsigned
queued_total(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_ports; i++)
		n += queued(i);
	return n;
}

/* Security #21 item 2: a priority tag (any TPID) followed by a tag (any TPID) is dropped on an
 * access port; a priority tag alone still works, and leaves the native trunk with nothing of a
 * tag left. */
static void
vlan_hop_from_access(void)
{
	static const uint16_t tpid[] = { 0x8100, 0x88a8, 0x9100 };
	uint64_t hop0 = drops(ACC10, FERRY_DROP_VLAN_HOP), vlan0 = drops(ACC10, FERRY_DROP_VLAN);

	for (unsigned i = 0; i < RTE_DIM(tpid); i++) {
		for (unsigned k = 0; k < RTE_DIM(tpid); k++) {
			const uint16_t tags[] = { tpid[i], 0x0000, tpid[k], 20 };   /* [0][0]: the PoC */
			inject1(ACC10, unit_frame(BC, "02:00:00:00:60:01", tags, 2, 0x0800, 46));
		}
		const uint16_t two_prio[] = { tpid[i], 0xa000, tpid[i], 0x0000 };
		inject1(ACC10, unit_frame(BC, "02:00:00:00:60:01", two_prio, 2, 0x0800, 46));
		const uint16_t vid20[] = { tpid[i], 20 };
		inject1(ACC10, unit_frame(BC, "02:00:00:00:60:01", vid20, 1, 0x0800, 46));
	}
	CHECK(drops(ACC10, FERRY_DROP_VLAN_HOP) - hop0 == 12);
	CHECK(drops(ACC10, FERRY_DROP_VLAN) - vlan0 == 3);
	CHECK(queued_total() == 0);
	const uint16_t prio[] = { 0x9100, 0x6000 };
	inject1(ACC10, unit_frame(BC, "02:00:00:00:60:01", prio, 1, 0x0800, 46));
	CHECK(queued(NAT) == 1 && queued(VM) == 1 && queued(TRUNK) == 1);
	CHECK(be16_at(fw->txb[NAT].m[0], 12) == 0x0800);
	struct rte_mbuf *t = fw->txb[TRUNK].m[0];
	CHECK(be16_at(t, 12) == 0x8100 && be16_at(t, 14) == 0x600a);
	reset_tx();
}

/* A tagged frame with an inner tag from a trunk is QinQ in its VLAN: the tagged ports get it with
 * the inner tag untouched, the ports where the VLAN is untagged (access, native) never do. */
static void
vlan_hop_on_trunk_egress(void)
{
	const uint16_t qinq[] = { 0x88a8, 0x200a, 0x9100, 20 };
	uint64_t hop0 = drops(TRUNK, FERRY_DROP_VLAN_HOP);

	inject1(TRUNK, unit_frame(BC, "02:00:00:00:61:01", qinq, 2, 0x0800, 46));
	CHECK(queued(ACC10) == 0 && queued(VM) == 0 && queued(NAT) == 0);
	CHECK(queued(P0) == 1 && queued(P1) == 1 && queued(P2) == 1);
	struct rte_mbuf *t = fw->txb[P0].m[0];
	CHECK(be16_at(t, 12) == 0x8100 && be16_at(t, 14) == 0x200a);
	CHECK(be16_at(t, 16) == 0x9100 && be16_at(t, 18) == 20);
	CHECK(drops(TRUNK, FERRY_DROP_VLAN_HOP) == hop0);   /* it went somewhere */
	reset_tx();
	/* unicast to a station in VLAN 10 on the native trunk, where VLAN 10 is untagged */
	inject1(NAT, unit_frame(BC, "02:00:00:00:61:02", NULL, 0, 0x0800, 46));
	reset_tx();
	inject1(TRUNK, unit_frame("02:00:00:00:61:02", "02:00:00:00:61:01", qinq, 2, 0x0800, 46));
	CHECK(drops(TRUNK, FERRY_DROP_VLAN_HOP) == hop0 + 1 && queued_total() == 0);
	const uint16_t one[] = { 0x9100, 10 };             /* without the inner tag it goes */
	inject1(TRUNK, unit_frame("02:00:00:00:61:02", "02:00:00:00:61:01", one, 1, 0x0800, 46));
	CHECK(queued(NAT) == 1 && be16_at(fw->txb[NAT].m[0], 12) == 0x0800);
	reset_tx();
}

static void
admin_down(void)
{
	inject1(DOWN, unit_frame(BC, "02:00:00:00:40:01", NULL, 0, 0x0800, 46));
	CHECK(drops(DOWN, FERRY_DROP_ADMIN_DOWN) == 1);
	CHECK(queued(ACC10) == 0 && queued(TRUNK) == 0);
	reset_tx();
}

/* Learning is per frame (doc/semantics.md steps 4-5): a MAC learned or moved by a frame is seen
 * by the later frames of the same burst, exactly as with bursts of one frame. */
static void
learning_within_burst(void)
{
	const char *c = "02:00:00:00:00:0c", *d = "02:00:00:00:00:0d", *e = "02:00:00:00:00:0e";
	uint64_t nd0 = drops(P0, FERRY_DROP_NO_DEST), nd1 = drops(P1, FERRY_DROP_NO_DEST);
	uint64_t moves = dp.ports[P1]->stats[0].mac_moves;
	/* frame 0 teaches C on p0; frame 1 (same burst, from p0) to C: C is on p0 now */
	struct rte_mbuf *m[2] = {
		unit_frame(BC, c, NULL, 0, 0x0800, 46),
		unit_frame(c, d, NULL, 0, 0x0800, 46),
	};
	inject(P0, m, 2);
	CHECK(queued(P1) == 1 && queued(P2) == 1);   /* frame 0 flooded, frame 1 not */
	CHECK(drops(P0, FERRY_DROP_NO_DEST) == nd0 + 1);
	reset_tx();
	/* a move inside a burst: to C (on p0), C itself from p1, to C again (now on p1) */
	struct rte_mbuf *mv[3] = {
		unit_frame(c, e, NULL, 0, 0x0800, 46),
		unit_frame(BC, c, NULL, 0, 0x0800, 46),
		unit_frame(c, e, NULL, 0, 0x0800, 46),
	};
	inject(P1, mv, 3);
	CHECK(queued(P0) == 2 && queued(P2) == 1);   /* frame 0 to p0, frame 1 flooded */
	CHECK(dp.ports[P1]->stats[0].mac_moves == moves + 1);
	CHECK(drops(P1, FERRY_DROP_NO_DEST) == nd1 + 1);   /* frame 2: C is on p1 */
	reset_tx();
	inject1(P2, unit_frame(c, "02:00:00:00:00:0f", NULL, 0, 0x0800, 46));
	CHECK(queued(P1) == 1 && queued(P0) == 0);   /* next burst: C on p1 */
	reset_tx();
}

/* A full table learns nothing, and a failed learn changes nothing: a later frame of the same
 * burst to the MAC that could not be learned still floods. Runs last: it fills the table. */
static void
learn_full_within_burst(void)
{
	const char *f = "02:00:00:00:00:f0";
	unsigned room = ferry_fdb_free_count(dp.fdb);
	uint64_t full0 = dp.ports[P0]->stats[0].learn_full;

	for (uint64_t k = 1; k <= room; k++)
		CHECK(ferry_fdb_learn(dp.fdb, ferry_fdb_key(k << 8, 4000), P2, -1, 1, 0) == FERRY_LEARN_NEW);
	struct rte_mbuf *m[2] = {
		unit_frame(BC, f, NULL, 0, 0x0800, 46),              /* f: not learned (full) */
		unit_frame(f, "02:00:00:00:00:f1", NULL, 0, 0x0800, 46),
	};
	inject(P0, m, 2);
	CHECK(dp.ports[P0]->stats[0].learn_full == full0 + 2);
	CHECK(queued(P1) == 2 && queued(P2) == 2);   /* both flooded */
	reset_tx();
	ferry_fdb_flush(dp.fdb, P2, false);
}

/* Port `port`'s policy rebuilt from a port object (as port.set publishes it). */
static void
set_policy(unsigned port, const char *json)
{
	struct ferry_port_conf pc;
	char err[256];
	json_t *j = json_loads(json, 0, NULL);

	if (ferry_port_conf_parse(j, "t", &pc, err, sizeof(err)) != 0)
		fprintf(stderr, "  set_policy: %s\n", err);
	rte_free(dp.ports[port]->policy);
	dp.ports[port]->policy = ferry_port_policy_build(&pc);
	ferry_port_conf_clear(&pc);
	json_decref(j);
}

static void
inject_n(unsigned port, const char *dst, const char *src, uint16_t n)
{
	struct rte_mbuf *m[FERRY_BURST];

	for (uint16_t i = 0; i < n; i++)
		m[i] = unit_frame(dst, src, NULL, 0, 0x0800, 46);
	inject(port, m, n);
}

/* The policer lets a full bucket through (burst frames), then nothing until it refills; the
 * frames it drops are counted `policer` and never reach the FDB or another port. */
static void
policer_drops_over_rate(void)
{
	uint64_t d0 = drops(P0, FERRY_DROP_POLICER);

	set_policy(P0, "{\"name\":\"p0\",\"type\":\"dpdk\",\"devargs\":\"x0\","
		   "\"policer\":{\"pps\":1,\"burst\":5}}");
	inject_n(P0, BC, A, 32);
	CHECK(queued(P1) == 5 && drops(P0, FERRY_DROP_POLICER) == d0 + 27);
	inject_n(P0, BC, A, 32);                   /* no token for a second */
	CHECK(queued(P1) == 5 && drops(P0, FERRY_DROP_POLICER) == d0 + 59);
	reset_tx();
	set_policy(P0, "{\"name\":\"p0\",\"type\":\"dpdk\",\"devargs\":\"x0\","
		   "\"policer\":{\"kbps\":8,\"burst\":1}}");   /* 1000 bytes: 17 frames of 60 start in it */
	inject_n(P0, BC, A, 32);
	CHECK(queued(P1) == 17 && drops(P0, FERRY_DROP_POLICER) == d0 + 74);
	reset_tx();
	set_policy(P0, port_json[P0]);
	inject_n(P0, BC, A, 32);
	CHECK(queued(P1) == 32 && drops(P0, FERRY_DROP_POLICER) == d0 + 74);
	reset_tx();
}

/* Storm control limits each kind of flooded frame on its own bucket (default depth 32 frames);
 * unicast to a known station is never limited. */
static void
storm_limits_flooding(void)
{
	uint64_t d0 = drops(P0, FERRY_DROP_STORM);

	set_policy(P0, "{\"name\":\"p0\",\"type\":\"dpdk\",\"devargs\":\"x0\","
		   "\"storm\":{\"broadcast_pps\":1,\"unknown_unicast_pps\":1}}");
	inject_n(P0, BC, A, 32);
	inject_n(P0, BC, A, 8);
	CHECK(queued(P1) == 32 && drops(P0, FERRY_DROP_STORM) == d0 + 8);
	reset_tx();
	inject_n(P0, "01:00:5e:00:00:01", A, 20);   /* multicast: not limited */
	CHECK(queued(P1) == 20 && drops(P0, FERRY_DROP_STORM) == d0 + 8);
	reset_tx();
	inject_n(P0, "02:00:00:00:00:99", A, 32);   /* unknown unicast: its own bucket */
	inject_n(P0, "02:00:00:00:00:99", A, 3);
	CHECK(queued(P1) == 32 && drops(P0, FERRY_DROP_STORM) == d0 + 11);
	reset_tx();
	inject1(P1, unit_frame(A, B, NULL, 0, 0x0800, 46));   /* B learned on p1 */
	reset_tx();
	inject_n(P0, B, A, 32);                     /* known unicast: never limited */
	CHECK(queued(P1) == 32 && drops(P0, FERRY_DROP_STORM) == d0 + 11);
	reset_tx();
	set_policy(P0, port_json[P0]);
}

/* mac_limit: at most N sources learned; a frame whose source is refused is dropped
 * (`mac_limit`), also its repeats in the burst; known sources keep forwarding. */
static void
mac_limit_refuses_new_sources(void)
{
	const char *src[] = { "02:00:00:00:01:01", "02:00:00:00:01:02", "02:00:00:00:01:03",
			      "02:00:00:00:01:04", "02:00:00:00:01:04", "02:00:00:00:01:01" };
	struct rte_mbuf *m[6];
	uint64_t d0 = drops(P2, FERRY_DROP_MAC_LIMIT);

	ferry_fdb_flush(dp.fdb, P2, false);
	set_policy(P2, "{\"name\":\"p2\",\"type\":\"dpdk\",\"devargs\":\"x7\",\"mac_limit\":3}");
	for (unsigned i = 0; i < 6; i++)
		m[i] = unit_frame(BC, src[i], NULL, 0, 0x0800, 46);
	inject(P2, m, 6);                           /* first frame new: learn_rest */
	CHECK(queued(P0) == 4 && drops(P2, FERRY_DROP_MAC_LIMIT) == d0 + 2);
	CHECK(ferry_fdb_learned(dp.fdb, P2) == 3);
	reset_tx();
	m[0] = unit_frame(BC, src[0], NULL, 0, 0x0800, 46);   /* known first: the plain loop */
	m[1] = unit_frame(BC, src[3], NULL, 0, 0x0800, 46);
	m[2] = unit_frame(BC, src[3], NULL, 0, 0x0800, 46);
	inject(P2, m, 3);
	CHECK(queued(P0) == 1 && drops(P2, FERRY_DROP_MAC_LIMIT) == d0 + 4);
	CHECK(ferry_fdb_learned(dp.fdb, P2) == 3);
	reset_tx();
	ferry_fdb_flush(dp.fdb, P2, false);
	set_policy(P2, port_json[P2]);
}

void
suite_pipeline(void)
{
	setup();
	RUN("pipeline", flood_then_learn);
	RUN("pipeline", flood_tags_per_egress_port);
	RUN("pipeline", shared_mbuf_for_same_encoding);
	RUN("pipeline", bad_sources_dropped);
	RUN("pipeline", spoofing_blocked);
	RUN("pipeline", vlan_filtering);
	RUN("pipeline", vlan_hop_from_access);
	RUN("pipeline", vlan_hop_on_trunk_egress);
	RUN("pipeline", admin_down);
	RUN("pipeline", learning_within_burst);
	RUN("pipeline", policer_drops_over_rate);
	RUN("pipeline", storm_limits_flooding);
	RUN("pipeline", mac_limit_refuses_new_sources);
	RUN("pipeline", learn_full_within_burst);
	CHECK(rte_mempool_in_use_count(unit_pool) == 0);   /* nothing leaked */
	teardown();
}
