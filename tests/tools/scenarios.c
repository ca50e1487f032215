/* scenarios.c — the hand-written pcap replay scenarios of ferry-pcapgen. Each builds ports and an
 * event list and states, frame by frame, what doc/semantics.md says must happen; ferry-pcapgen
 * fails if the reference model disagrees. Port config order matters: within a round, the ports
 * are polled in the order they are created here (see scenario.h). */
#include "scenario.h"

#define BCAST mac_broadcast

/* Stations: 52:54:00:00:00:xx are VM NICs, 02:00:00:00:00:xx other hosts. */
#define VM(n)   MAC(0x52, 0x54, 0x00, 0x00, 0x00, (n))
#define HOST(n) MAC(0x02, 0x00, 0x00, 0x00, 0x00, (n))
#define UNKNOWN MAC(0x02, 0x00, 0x00, 0x00, 0xee, 0xee)     /* never a source */

/* The same four-port layout as several scenarios use: three access ports and a trunk. */
static void
ports_three_access_one_trunk(struct scenario *sc, uint16_t vlan3, const int *allowed)
{
	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 10);
	port_access(sc_port(sc, "vm3"), vlan3);
	port_trunk(sc_port(sc, "uplink"), allowed, 0);
}

/* Unknown unicast floods; once the destination has been learned it goes to one port only.
 * Learning is per frame: a frame sees what the frames before it taught, in its own burst too. */
static void
build_learning(struct scenario *sc)
{
	const uint8_t *a = VM(1), *b = VM(2), *c = VM(3), *c2 = HOST(0x33), *d = HOST(0x0d);
	size_t e;

	ports_three_access_one_trunk(sc, 10, ALLOWED(10, 20));

	e = SEND(sc, "vm1", .dst = b, .src = a);                  /* b unknown: flood */
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("vm3"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm2", .dst = a, .src = b, .tcp = true);     /* a learned by vm1's burst */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "vm3", .dst = BCAST, .src = c);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm3", .dst = c, .src = c2, .ipv6 = true);   /* c learned on vm3 by the frame before */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "uplink", .dst = b, .src = d, .tagged = true, .vid = 10, .pcp = 3);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"));
	e = SEND(sc, "uplink", .dst = b, .src = d, .tagged = true, .vid = 20);  /* b is in VLAN 10 */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);

	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = b, .src = a, .len = 1000);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"));
	e = SEND(sc, "vm1", .dst = d, .src = a, .tcp = true, .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm2", .dst = c2, .src = b);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"));
	e = SEND(sc, "vm3", .dst = c, .src = c2);                 /* both behind vm3 now */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "uplink", .dst = c, .src = d, .tagged = true, .vid = 10, .pcp = 5);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"));

	EXPECT_DROPS(sc, "vm3", MODEL_DROP_NO_DEST, 2);
	EXPECT_DROPS(sc, "uplink", MODEL_DROP_NO_DEST, 1);
}

/* Broadcast and unknown unicast flood to every port of the VLAN, never back out the ingress. */
static void
build_flooding(struct scenario *sc)
{
	size_t e;

	port_access(sc_port(sc, "p1"), 10);
	port_access(sc_port(sc, "p2"), 10);
	port_access(sc_port(sc, "p3"), 20);
	port_trunk(sc_port(sc, "trunk1"), ALLOWED(10, 20), 10);
	port_trunk(sc_port(sc, "trunk2"), NULL, 0);
	sc_port(sc, "def");

	e = SEND(sc, "p1", .dst = BCAST, .src = HOST(1));
	EXPECT_OUT(sc, e, UNTAGGED("p2"), UNTAGGED("trunk1"), TAGGED("trunk2", 10, 0), TAGGED("def", 10, 0));
	e = SEND(sc, "p2", .dst = UNKNOWN, .src = HOST(2), .tcp = true, .len = 400);
	EXPECT_OUT(sc, e, UNTAGGED("p1"), UNTAGGED("trunk1"), TAGGED("trunk2", 10, 0), TAGGED("def", 10, 0));
	e = SEND(sc, "p3", .dst = BCAST, .src = HOST(3), .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("trunk1", 20, 0), TAGGED("trunk2", 20, 0), TAGGED("def", 20, 0));
	e = SEND(sc, "trunk1", .dst = BCAST, .src = HOST(4));
	EXPECT_OUT(sc, e, UNTAGGED("p1"), UNTAGGED("p2"), TAGGED("trunk2", 10, 0), TAGGED("def", 10, 0));
	e = SEND(sc, "trunk2", .dst = BCAST, .src = HOST(5), .tagged = true, .vid = 20, .pcp = 3);
	EXPECT_OUT(sc, e, UNTAGGED("p3"), TAGGED("trunk1", 20, 3), TAGGED("def", 20, 3));
	e = SEND(sc, "trunk2", .dst = BCAST, .src = HOST(5), .tagged = true, .vid = 30);
	EXPECT_OUT(sc, e, TAGGED("def", 30, 0));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(6), .tagged = true, .vid = 10, .pcp = 1);
	EXPECT_OUT(sc, e, UNTAGGED("p1"), UNTAGGED("p2"), UNTAGGED("trunk1"), TAGGED("trunk2", 10, 1));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(6));        /* VLAN 0: def is alone in it */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);

	EXPECT_DROPS(sc, "def", MODEL_DROP_NO_DEST, 1);
}

/* Access ports in different VLANs are isolated; priority-tagged frames (VID 0) are accepted on
 * access ports and keep their PCP/DEI; tagged frames on access ports are dropped. */
static void
build_vlan_access(struct scenario *sc)
{
	const uint8_t *v1 = VM(1), *v2 = VM(2), *v3 = VM(3), *v4 = VM(4);
	size_t e;

	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 20);
	port_access(sc_port(sc, "vm3"), 10);
	port_access(sc_port(sc, "vm4"), 20);
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20), 0);

	e = SEND(sc, "vm1", .dst = BCAST, .src = v1);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm2", .dst = BCAST, .src = v2);
	EXPECT_OUT(sc, e, UNTAGGED("vm4"), TAGGED("uplink", 20, 0));
	e = SEND(sc, "vm1", .dst = BCAST, .src = v1, .tagged = true, .vid = 0, .pcp = 5, .dei = true);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"), TAGGED_DEI("uplink", 10, 5));
	e = SEND(sc, "vm1", .dst = BCAST, .src = v1, .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "vm2", .dst = BCAST, .src = v2, .tagged = true, .vid = 20, .pcp = 2);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "vm3", .dst = BCAST, .src = v3, .tagged = true, .vid = 20);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);

	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = v2, .src = v1);                /* v2 is known in VLAN 20 only */
	EXPECT_OUT(sc, e, UNTAGGED("vm3"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm3", .dst = v1, .src = v3, .tagged = true, .vid = 0, .pcp = 2);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "vm4", .dst = v2, .src = v4, .ipv6 = true, .tcp = true);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"));

	EXPECT_DROPS(sc, "vm1", MODEL_DROP_VLAN, 1);
	EXPECT_DROPS(sc, "vm2", MODEL_DROP_VLAN, 1);
	EXPECT_DROPS(sc, "vm3", MODEL_DROP_VLAN, 1);
}

/* Trunks with allowed lists and native VLANs: tags are pushed, popped or kept, PCP/DEI preserved;
 * untagged frames on a trunk without native VLAN are dropped. */
static void
build_vlan_trunk(struct scenario *sc)
{
	size_t e;

	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20, 30), 10);
	port_trunk(sc_port(sc, "tr2"), ALLOWED(10, 20, 30), 0);
	port_trunk(sc_port(sc, "tr3"), ALLOWED(20), 30);          /* native outside the allowed list */
	port_access(sc_port(sc, "vm10"), 10);
	port_access(sc_port(sc, "vm20"), 20);

	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1));     /* native: push on tr2 */
	EXPECT_OUT(sc, e, TAGGED("tr2", 10, 0), UNTAGGED("vm10"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 10, .pcp = 4);
	EXPECT_OUT(sc, e, TAGGED("tr2", 10, 4), UNTAGGED("vm10"));
	e = SEND(sc, "uplink", .dst = UNKNOWN, .src = HOST(1), .tagged = true, .vid = 20, .pcp = 6, .tcp = true);
	EXPECT_OUT(sc, e, TAGGED("tr2", 20, 6), TAGGED("tr3", 20, 6), UNTAGGED("vm20"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 30, .pcp = 1, .dei = true);
	EXPECT_OUT(sc, e, TAGGED_DEI("tr2", 30, 1), UNTAGGED("tr3"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 40);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);

	e = SEND(sc, "tr2", .dst = BCAST, .src = HOST(2));        /* no native VLAN */
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "tr2", .dst = BCAST, .src = HOST(2), .tagged = true, .vid = 0, .pcp = 3);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "tr2", .dst = BCAST, .src = HOST(2), .tagged = true, .vid = 10, .pcp = 2, .dei = true);
	EXPECT_OUT(sc, e, UNTAGGED("uplink"), UNTAGGED("vm10"));
	e = SEND(sc, "tr2", .dst = BCAST, .src = HOST(2), .tagged = true, .vid = 30, .pcp = 7, .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("uplink", 30, 7), UNTAGGED("tr3"));

	e = SEND(sc, "tr3", .dst = BCAST, .src = HOST(3));        /* native 30: push on the others */
	EXPECT_OUT(sc, e, TAGGED("uplink", 30, 0), TAGGED("tr2", 30, 0));
	e = SEND(sc, "tr3", .dst = BCAST, .src = HOST(3), .tagged = true, .vid = 30, .pcp = 5);
	EXPECT_OUT(sc, e, TAGGED("uplink", 30, 5), TAGGED("tr2", 30, 5));
	e = SEND(sc, "tr3", .dst = BCAST, .src = HOST(3), .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);

	e = SEND(sc, "vm10", .dst = BCAST, .src = VM(10), .len = 1510);   /* 1514 once tagged */
	EXPECT_OUT(sc, e, UNTAGGED("uplink"), TAGGED("tr2", 10, 0));
	e = SEND(sc, "vm20", .dst = BCAST, .src = VM(20), .len = 1510, .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0), TAGGED("tr2", 20, 0), TAGGED("tr3", 20, 0));
	e = SEND(sc, "vm20", .dst = BCAST, .src = VM(20), .tagged = true, .vid = 0, .pcp = 6);
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 6), TAGGED("tr2", 20, 6), TAGGED("tr3", 20, 6));

	EXPECT_DROPS(sc, "uplink", MODEL_DROP_VLAN, 1);
	EXPECT_DROPS(sc, "tr2", MODEL_DROP_VLAN, 2);
	EXPECT_DROPS(sc, "tr3", MODEL_DROP_VLAN, 1);
}

/* IPv4 (01:00:5e) and IPv6 (33:33) multicast floods within the VLAN only; a group source MAC is
 * invalid. */
static void
build_multicast(struct scenario *sc)
{
	const uint8_t *mdns4 = MAC(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb);
	const uint8_t *mdns6 = MAC(0x33, 0x33, 0x00, 0x00, 0x00, 0xfb);
	size_t e;

	ports_three_access_one_trunk(sc, 20, ALLOWED(10, 20));

	e = SEND(sc, "vm1", .dst = mdns4, .src = VM(1));
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm1", .dst = mdns6, .src = VM(1), .ipv6 = true);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm2", .dst = BCAST, .src = mdns4);
	EXPECT_DROP(sc, e, MODEL_DROP_INVALID_SRC);
	e = SEND(sc, "vm3", .dst = MAC(0x33, 0x33, 0x00, 0x01, 0x00, 0x02), .src = VM(3), .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0));
	e = SEND(sc, "vm3", .dst = MAC(0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa), .src = VM(3), .len = 300);
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0));
	e = SEND(sc, "uplink", .dst = MAC(0x33, 0x33, 0xff, 0x00, 0x00, 0x01), .src = HOST(1),
		 .tagged = true, .vid = 10, .pcp = 4, .ipv6 = true);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"));
	e = SEND(sc, "uplink", .dst = MAC(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01), .src = HOST(1),
		 .tagged = true, .vid = 20);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"));

	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = mdns4, .src = VM(1));          /* a group MAC is never learned */
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), TAGGED("uplink", 10, 0));

	EXPECT_DROPS(sc, "vm2", MODEL_DROP_INVALID_SRC, 1);
}

/* Frames in VLANs the ingress port does not carry are dropped, counted, and not learned. */
static void
build_unknown_vlan(struct scenario *sc)
{
	const uint8_t *x = HOST(0x0a);
	size_t e;

	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20), 0);
	port_access(sc_port(sc, "vm1"), 10);
	port_trunk(sc_port(sc, "tr"), NULL, 100);
	sc_port(sc, "def");

	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 30);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 4094);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1));
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "uplink", .dst = BCAST, .src = HOST(1), .tagged = true, .vid = 0, .pcp = 1);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "vm1", .dst = BCAST, .src = x, .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "vm1", .dst = BCAST, .src = x, .tagged = true, .vid = 20);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "tr", .dst = BCAST, .src = HOST(3), .tagged = true, .vid = 30);
	EXPECT_OUT(sc, e, TAGGED("def", 30, 0));
	e = SEND(sc, "tr", .dst = BCAST, .src = HOST(3));
	EXPECT_OUT(sc, e, TAGGED("def", 100, 0));
	e = SEND(sc, "tr", .dst = BCAST, .src = HOST(3), .tagged = true, .vid = 100, .pcp = 3);
	EXPECT_OUT(sc, e, TAGGED("def", 100, 3));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(4), .tagged = true, .vid = 30, .pcp = 2);
	EXPECT_OUT(sc, e, TAGGED("tr", 30, 2));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(4), .tagged = true, .vid = 100);
	EXPECT_OUT(sc, e, UNTAGGED("tr"));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(4), .tagged = true, .vid = 10);
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0), UNTAGGED("vm1"), TAGGED("tr", 10, 0));

	sc_next_round(sc);
	e = SEND(sc, "uplink", .dst = x, .src = HOST(1), .tagged = true, .vid = 10);   /* x not learned */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), TAGGED("tr", 10, 0), TAGGED("def", 10, 0));

	EXPECT_DROPS(sc, "uplink", MODEL_DROP_VLAN, 4);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_VLAN, 2);
}

/* A MAC learned on one port moves to another and traffic follows it, from the next frame on;
 * static MACs never move. */
static void
build_mac_move(struct scenario *sc)
{
	const uint8_t *m = HOST(0x4d), *b = VM(2), *s = VM(4), *x = HOST(0x58);
	struct model_port_cfg *vm4;
	size_t e;

	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 10);
	port_access(sc_port(sc, "vm3"), 10);
	vm4 = sc_port(sc, "vm4");
	port_access(vm4, 10);
	port_mac(vm4, s);
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10), 0);

	e = SEND(sc, "vm1", .dst = BCAST, .src = m);              /* round 0: m on vm1 */
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("vm3"), UNTAGGED("vm4"), TAGGED("uplink", 10, 0));
	SEND(sc, "vm2", .dst = BCAST, .src = b);
	sc_next_round(sc);
	e = SEND(sc, "vm2", .dst = m, .src = b);                  /* round 1 */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	sc_next_round(sc);
	e = SEND(sc, "vm2", .dst = m, .src = b);                  /* round 2: vm2 polled before vm3 */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "vm3", .dst = BCAST, .src = m);              /* m moves to vm3 */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), UNTAGGED("vm4"), TAGGED("uplink", 10, 0));
	sc_next_round(sc);
	e = SEND(sc, "vm2", .dst = m, .src = b);                  /* round 3 */
	EXPECT_OUT(sc, e, UNTAGGED("vm3"));
	e = SEND(sc, "uplink", .dst = m, .src = x, .tagged = true, .vid = 10, .pcp = 2);
	EXPECT_OUT(sc, e, UNTAGGED("vm3"));
	sc_next_round(sc);
	e = SEND(sc, "uplink", .dst = BCAST, .src = m, .tagged = true, .vid = 10);  /* round 4 */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), UNTAGGED("vm3"), UNTAGGED("vm4"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = s, .tagged = true, .vid = 10);   /* static: vm4's */
	EXPECT_DROP(sc, e, MODEL_DROP_SPOOF);
	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = s, .src = VM(1));              /* round 5 */
	EXPECT_OUT(sc, e, UNTAGGED("vm4"));
	e = SEND(sc, "vm2", .dst = m, .src = b);
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0));
	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = b, .src = m);                  /* round 6: m back on vm1 */
	EXPECT_OUT(sc, e, UNTAGGED("vm2"));
	sc_next_round(sc);
	e = SEND(sc, "vm2", .dst = m, .src = b, .ipv6 = true);    /* round 7 */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));

	EXPECT_DROPS(sc, "uplink", MODEL_DROP_SPOOF, 1);
}

/* Runts, truncated VLAN headers, double tags, invalid and spoofed source MACs. */
static void
build_edge(struct scenario *sc)
{
	const uint8_t *v1 = VM(1), *u1 = HOST(0x01), *w = HOST(0x77);
	struct model_port_cfg *vm1;
	size_t e;

	vm1 = sc_port(sc, "vm1");
	port_access(vm1, 10);
	port_mac(vm1, v1);
	port_access(sc_port(sc, "vm2"), 10);
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20), 10);
	sc_port(sc, "def");

	for (uint32_t len = 0; len < 14; len++)
		EXPECT_DROP(sc, SEND(sc, "vm2", .dst = BCAST, .src = w, .truncate = true, .trunc_len = len),
			    MODEL_DROP_RUNT);
	for (uint32_t len = 14; len < 18; len++)
		EXPECT_DROP(sc, SEND(sc, "vm2", .dst = BCAST, .src = w, .tagged = true, .vid = 10,
				     .truncate = true, .trunc_len = len), MODEL_DROP_RUNT);
	e = SEND(sc, "vm2", .dst = BCAST, .src = w, .tagged = true, .tpid = TPID_8021AD, .vid = 10,
		 .truncate = true, .trunc_len = 16);
	EXPECT_DROP(sc, e, MODEL_DROP_RUNT);

	/* the shortest frames that are not runts */
	e = SEND(sc, "uplink", .dst = BCAST, .src = u1, .truncate = true, .trunc_len = 14);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), TAGGED("def", 10, 0));
	e = SEND(sc, "uplink", .dst = BCAST, .src = u1, .tagged = true, .vid = 20, .truncate = true,
		 .trunc_len = 18);
	EXPECT_OUT(sc, e, TAGGED("def", 20, 0));

	/* double tags: only the outer one counts, the inner one is payload. An 802.1ad outer tag
	 * leaves as an 802.1Q tag where the egress is tagged (model.c, EGRESS_TPID); where VLAN 10
	 * is untagged (vm1, vm2) it does not leave at all: the inner tag would be outermost. */
	e = SEND(sc, "uplink", .dst = BCAST, .src = u1, .tagged = true, .tpid = TPID_8021AD, .vid = 10,
		 .pcp = 3, .inner = true, .inner_vid = 20);
	EXPECT_OUT(sc, e, TAGGED("def", 10, 3));
	e = SEND(sc, "def", .dst = BCAST, .src = HOST(0x0d), .tagged = true, .vid = 20, .inner = true,
		 .inner_vid = 10);
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0));

	/* invalid sources */
	e = SEND(sc, "uplink", .dst = BCAST, .src = BCAST);
	EXPECT_DROP(sc, e, MODEL_DROP_INVALID_SRC);
	e = SEND(sc, "uplink", .dst = BCAST, .src = MAC(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01));
	EXPECT_DROP(sc, e, MODEL_DROP_INVALID_SRC);
	e = SEND(sc, "uplink", .dst = BCAST, .src = MAC(0, 0, 0, 0, 0, 0));
	EXPECT_DROP(sc, e, MODEL_DROP_INVALID_SRC);

	/* vm1's mac list */
	e = SEND(sc, "vm1", .dst = BCAST, .src = v1);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("uplink"), TAGGED("def", 10, 0));
	e = SEND(sc, "vm1", .dst = BCAST, .src = w);
	EXPECT_DROP(sc, e, MODEL_DROP_SPOOF);
	e = SEND(sc, "vm1", .dst = BCAST, .src = BCAST);          /* invalid_src is checked first */
	EXPECT_DROP(sc, e, MODEL_DROP_INVALID_SRC);
	e = SEND(sc, "vm1", .dst = BCAST, .src = w, .tagged = true, .vid = 10);   /* vlan first */
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
	e = SEND(sc, "def", .dst = BCAST, .src = v1, .tagged = true, .vid = 20);  /* no static in 20 */
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0));

	sc_next_round(sc);
	e = SEND(sc, "vm2", .dst = BCAST, .src = v1);             /* vm1's static MAC elsewhere */
	EXPECT_DROP(sc, e, MODEL_DROP_SPOOF);
	e = SEND(sc, "vm2", .dst = v1, .src = w);                 /* statics are known from the start */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = v1);          /* native VLAN 10 */
	EXPECT_DROP(sc, e, MODEL_DROP_SPOOF);
	e = SEND(sc, "uplink", .dst = v1, .src = u1, .tagged = true, .vid = 20);  /* learned on def */
	EXPECT_OUT(sc, e, TAGGED("def", 20, 0));
	e = SEND(sc, "def", .dst = BCAST, .src = v1, .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_SPOOF);

	EXPECT_DROPS(sc, "vm2", MODEL_DROP_RUNT, 19);
	EXPECT_DROPS(sc, "vm2", MODEL_DROP_SPOOF, 1);
	EXPECT_DROPS(sc, "uplink", MODEL_DROP_INVALID_SRC, 3);
	EXPECT_DROPS(sc, "uplink", MODEL_DROP_SPOOF, 1);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_SPOOF, 1);
	EXPECT_DROPS(sc, "def", MODEL_DROP_SPOOF, 1);
}

/* A port with "admin": "down" receives nothing and all its input is dropped. */
static void
build_admin_down(struct scenario *sc)
{
	const uint8_t *v2 = VM(2), *s = HOST(0x53);
	struct model_port_cfg *down;
	size_t e;

	port_access(sc_port(sc, "vm1"), 10);
	down = sc_port(sc, "vm2");
	port_access(down, 10);
	port_mac(down, v2);
	down->admin_down = true;
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10), 0);
	port_access(sc_port(sc, "vm3"), 10);

	e = SEND(sc, "vm2", .dst = BCAST, .src = v2);
	EXPECT_DROP(sc, e, MODEL_DROP_ADMIN_DOWN);
	e = SEND(sc, "vm2", .dst = BCAST, .src = v2, .truncate = true, .trunc_len = 5);
	EXPECT_DROP(sc, e, MODEL_DROP_ADMIN_DOWN);
	e = SEND(sc, "vm2", .dst = BCAST, .src = v2, .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_ADMIN_DOWN);
	e = SEND(sc, "vm2", .dst = BCAST, .src = s);
	EXPECT_DROP(sc, e, MODEL_DROP_ADMIN_DOWN);
	e = SEND(sc, "vm1", .dst = BCAST, .src = VM(1));
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0), UNTAGGED("vm3"));
	e = SEND(sc, "vm1", .dst = v2, .src = VM(1));             /* static entry on a down port */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "uplink", .dst = UNKNOWN, .src = HOST(1), .tagged = true, .vid = 10, .tcp = true);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm3"));

	sc_next_round(sc);
	e = SEND(sc, "vm3", .dst = s, .src = VM(3));              /* s was never learned */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), TAGGED("uplink", 10, 0));

	EXPECT_DROPS(sc, "vm2", MODEL_DROP_ADMIN_DOWN, 4);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_NO_DEST, 1);
}

/* The tag TPIDs (doc/semantics.md, "Tags and VLAN hopping"). */
static const uint16_t tpids[] = { TPID_8021Q, TPID_8021AD, TPID_QINQ };
#define N_TPIDS (sizeof(tpids) / sizeof(tpids[0]))

/* Security issue #21 item 2: a guest on an access port cannot leave its VLAN with tags. Every
 * TPID as the outer tag, priority-tagged or not, followed by every TPID or not, and truncated.
 * uplink's native VLAN is the guests' VLAN 10, so whatever vm1 gets accepted leaves it untagged:
 * popping a priority tag there must never put an inner tag on the wire. */
static void
build_vlan_hop(struct scenario *sc)
{
	const uint8_t *a = VM(1), *h20 = HOST(0x20);
	size_t e;

	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 10);
	port_access(sc_port(sc, "vm20"), 20);
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20), 10);
	port_trunk(sc_port(sc, "tr"), ALLOWED(10, 20), 0);

	/* the PoC: priority tag, then an 802.1Q tag with VID 20 (old ferryd: VLAN 20 on
	 * uplink, since the priority tag was popped for the native VLAN) */
	e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .vid = 0, .inner = true,
		 .inner_vid = 20);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
	e = SEND(sc, "vm1", .dst = BCAST, .src = a);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("uplink"), TAGGED("tr", 10, 0));
	e = SEND(sc, "uplink", .dst = BCAST, .src = h20, .tagged = true, .vid = 20);
	EXPECT_OUT(sc, e, UNTAGGED("vm20"), TAGGED("tr", 20, 0));

	for (size_t i = 0; i < N_TPIDS; i++) {
		uint16_t t = tpids[i];
		sc_next_round(sc);
		/* a priority tag of any TPID: VLAN 10, the tag removed or rewritten as 802.1Q */
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 0,
			 .pcp = 5);
		EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("uplink"), TAGGED("tr", 10, 5));
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 0,
			 .truncate = true, .trunc_len = 18);             /* shortest priority-tagged */
		EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("uplink"), TAGGED("tr", 10, 0));
		/* tagged with another VID, with the access VID, with an inner tag: VID != 0 */
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 20);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 10);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 20,
			 .inner = true, .inner_vid = 10);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
		/* a priority tag followed by a tag of any TPID, a second priority tag, or a tag
		 * whose TCI is cut off */
		for (size_t k = 0; k < N_TPIDS; k++) {
			e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 0,
				 .pcp = 3, .inner = true, .inner_tpid = tpids[k], .inner_vid = 20);
			EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
		}
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 0,
			 .inner = true, .inner_tpid = t, .inner_vid = 0);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
		e = SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t, .vid = 0,
			 .inner = true, .inner_tpid = tpids[(i + 1) % N_TPIDS], .inner_vid = 20,
			 .truncate = true, .trunc_len = 18);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
		/* a truncated tag header of any TPID */
		for (uint32_t len = 14; len < 18; len++)
			EXPECT_DROP(sc, SEND(sc, "vm1", .dst = BCAST, .src = a, .tagged = true, .tpid = t,
					     .vid = 0, .truncate = true, .trunc_len = len),
				    MODEL_DROP_RUNT);
	}

	sc_next_round(sc);
	e = SEND(sc, "vm1", .dst = h20, .src = a, .tagged = true, .vid = 0, .inner = true,
		 .inner_vid = 20);                                   /* the PoC, unicast */
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
	e = SEND(sc, "vm1", .dst = h20, .src = a);                /* h20 is known in VLAN 20 only */
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), UNTAGGED("uplink"), TAGGED("tr", 10, 0));

	EXPECT_DROPS(sc, "vm1", MODEL_DROP_VLAN, 3 * N_TPIDS);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_VLAN_HOP, 2 + (N_TPIDS + 2) * N_TPIDS);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_RUNT, 4 * N_TPIDS);
}

/* Trunks and the native VLAN with every TPID: tagged frames with an inner tag are QinQ carried in
 * their VLAN, leaving tagged ports with the outer tag rewritten and the inner one untouched, and
 * never leaving a port where their VLAN is untagged (an access port, a native VLAN): that would
 * pop the outer tag and put the inner one on the wire. */
static void
build_vlan_qinq(struct scenario *sc)
{
	const uint8_t *h1 = HOST(1), *h2 = HOST(2), *h3 = HOST(3), *v10 = VM(10);
	size_t e;

	port_trunk(sc_port(sc, "up"), ALLOWED(10, 20), 10);
	port_trunk(sc_port(sc, "tr"), ALLOWED(10, 20, 30), 0);
	port_access(sc_port(sc, "vm10"), 10);
	port_access(sc_port(sc, "vm20"), 20);
	port_access(sc_port(sc, "vm30"), 30);

	e = SEND(sc, "up", .dst = BCAST, .src = h1);
	EXPECT_OUT(sc, e, TAGGED("tr", 10, 0), UNTAGGED("vm10"));
	e = SEND(sc, "up", .dst = BCAST, .src = h2, .tagged = true, .vid = 20);
	EXPECT_OUT(sc, e, TAGGED("tr", 20, 0), UNTAGGED("vm20"));
	e = SEND(sc, "vm10", .dst = BCAST, .src = v10);
	EXPECT_OUT(sc, e, UNTAGGED("up"), TAGGED("tr", 10, 0));
	for (size_t i = 0; i < N_TPIDS; i++) {
		uint16_t t = tpids[i];
		/* from the trunk without native VLAN */
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 20,
			 .pcp = 3);
		EXPECT_OUT(sc, e, TAGGED("up", 20, 3), UNTAGGED("vm20"));
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 10,
			 .inner = true, .inner_vid = 20);     /* up's native VLAN: untagged there */
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 20,
			 .pcp = 1, .inner = true, .inner_tpid = t, .inner_vid = 30);
		EXPECT_OUT(sc, e, TAGGED("up", 20, 1));    /* not vm20 */
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 30,
			 .inner = true, .inner_tpid = tpids[(i + 1) % N_TPIDS], .inner_vid = 10);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 0);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN);       /* no native VLAN */
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 0,
			 .inner = true, .inner_vid = 20);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);   /* checked before the native VLAN */
		e = SEND(sc, "tr", .dst = BCAST, .src = h3, .tagged = true, .tpid = t, .vid = 40);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN);
		/* from the trunk with native VLAN 10 */
		e = SEND(sc, "up", .dst = BCAST, .src = h1, .tagged = true, .tpid = t, .vid = 0,
			 .pcp = 2);
		EXPECT_OUT(sc, e, TAGGED("tr", 10, 2), UNTAGGED("vm10"));
		e = SEND(sc, "up", .dst = BCAST, .src = h1, .tagged = true, .tpid = t, .vid = 10,
			 .inner = true, .inner_vid = 20);     /* double tag from the native VLAN */
		EXPECT_OUT(sc, e, TAGGED("tr", 10, 0));    /* not vm10 */
		e = SEND(sc, "up", .dst = BCAST, .src = h2, .tagged = true, .tpid = t, .vid = 20,
			 .pcp = 7, .inner = true, .inner_tpid = TPID_8021AD, .inner_vid = 10);
		EXPECT_OUT(sc, e, TAGGED("tr", 20, 7));    /* not vm20 */
		e = SEND(sc, "up", .dst = BCAST, .src = h1, .tagged = true, .tpid = t, .vid = 0,
			 .inner = true, .inner_tpid = t, .inner_vid = 20);
		EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
	}

	sc_next_round(sc);                                         /* unicast, all learned */
	e = SEND(sc, "tr", .dst = v10, .src = h3, .tagged = true, .vid = 10, .inner = true,
		 .inner_vid = 20);
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
	e = SEND(sc, "tr", .dst = v10, .src = h3, .tagged = true, .tpid = TPID_QINQ, .vid = 10);
	EXPECT_OUT(sc, e, UNTAGGED("vm10"));
	e = SEND(sc, "tr", .dst = h1, .src = h3, .tagged = true, .tpid = TPID_QINQ, .vid = 10,
		 .inner = true, .inner_tpid = TPID_QINQ, .inner_vid = 20);   /* native on up */
	EXPECT_DROP(sc, e, MODEL_DROP_VLAN_HOP);
	e = SEND(sc, "tr", .dst = h2, .src = h3, .tagged = true, .tpid = TPID_8021AD, .vid = 20,
		 .inner = true, .inner_tpid = TPID_QINQ, .inner_vid = 5);    /* tagged on up */
	EXPECT_OUT(sc, e, TAGGED("up", 20, 0));
	e = SEND(sc, "vm10", .dst = h1, .src = v10);
	EXPECT_OUT(sc, e, UNTAGGED("up"));

	EXPECT_DROPS(sc, "tr", MODEL_DROP_VLAN_HOP, 3 * N_TPIDS + 2);
	EXPECT_DROPS(sc, "tr", MODEL_DROP_VLAN, 2 * N_TPIDS);
	EXPECT_DROPS(sc, "up", MODEL_DROP_VLAN_HOP, N_TPIDS);
}

/* Learning within one burst (doc/semantics.md steps 4-5): each frame sees what the frames before
 * it taught, those of its own burst and its own source included, so the outputs are the same with
 * bursts of 32 and of one frame (checked by the model, and by tests/pcap/run.sh on ferryd). Only
 * one port sends per round, so the burst size does not change the order the frames are switched
 * in. */
static void
build_learn_in_burst(struct scenario *sc)
{
	const uint8_t *a = HOST(0x0a), *b = HOST(0x0b), *c = HOST(0x0c), *x = HOST(0x58);
	const uint8_t *v1 = VM(1), *y = VM(2), *z = VM(0x1a), *h = HOST(0x68);
	size_t e;

	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 10);
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20), 0);
	sc_port(sc, "hub");

	/* round 0, uplink: two hosts behind the uplink talk to each other */
	e = SEND(sc, "uplink", .dst = b, .src = a, .tagged = true, .vid = 10);    /* b unknown */
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), TAGGED("hub", 10, 0));
	e = SEND(sc, "uplink", .dst = a, .src = b, .tagged = true, .vid = 10);    /* a: frame 0 */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "uplink", .dst = b, .src = a, .tagged = true, .vid = 10, .tcp = true);
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "uplink", .dst = b, .src = a, .tagged = true, .vid = 20);    /* b is in 10 only */
	EXPECT_OUT(sc, e, TAGGED("hub", 20, 0));
	e = SEND(sc, "uplink", .dst = c, .src = c, .tagged = true, .vid = 10);    /* its own source */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	sc_next_round(sc);

	/* round 1, vm1: v1 learned there */
	e = SEND(sc, "vm1", .dst = BCAST, .src = v1);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), TAGGED("uplink", 10, 0), TAGGED("hub", 10, 0));
	sc_next_round(sc);

	/* round 2, uplink: v1 moves to the uplink in the middle of the burst */
	e = SEND(sc, "uplink", .dst = v1, .src = x, .tagged = true, .vid = 10);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "uplink", .dst = BCAST, .src = v1, .tagged = true, .vid = 10, .pcp = 2);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), TAGGED("hub", 10, 2));
	e = SEND(sc, "uplink", .dst = v1, .src = x, .tagged = true, .vid = 10);   /* v1 is here now */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	sc_next_round(sc);

	/* round 3, vm2: traffic follows the move */
	e = SEND(sc, "vm2", .dst = v1, .src = y);
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0));
	e = SEND(sc, "vm2", .dst = a, .src = y, .ipv6 = true);
	EXPECT_OUT(sc, e, TAGGED("uplink", 10, 0));
	sc_next_round(sc);

	/* round 4, vm1: v1 comes back; a new station z on vm1 */
	e = SEND(sc, "vm1", .dst = BCAST, .src = v1);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"), TAGGED("uplink", 10, 0), TAGGED("hub", 10, 0));
	e = SEND(sc, "vm1", .dst = y, .src = v1);
	EXPECT_OUT(sc, e, UNTAGGED("vm2"));
	e = SEND(sc, "vm1", .dst = v1, .src = z);                 /* v1 moved back by frame 0 */
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	sc_next_round(sc);

	/* round 5, hub: z moves to the hub, learned per VLAN */
	e = SEND(sc, "hub", .dst = v1, .src = h, .tagged = true, .vid = 10);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"));
	e = SEND(sc, "hub", .dst = BCAST, .src = z, .tagged = true, .vid = 10);
	EXPECT_OUT(sc, e, UNTAGGED("vm1"), UNTAGGED("vm2"), TAGGED("uplink", 10, 0));
	e = SEND(sc, "hub", .dst = z, .src = h, .tagged = true, .vid = 10);
	EXPECT_DROP(sc, e, MODEL_DROP_NO_DEST);
	e = SEND(sc, "hub", .dst = z, .src = h, .tagged = true, .vid = 20);      /* z unknown in 20 */
	EXPECT_OUT(sc, e, TAGGED("uplink", 20, 0));

	EXPECT_DROPS(sc, "uplink", MODEL_DROP_NO_DEST, 4);
	EXPECT_DROPS(sc, "vm1", MODEL_DROP_NO_DEST, 1);
	EXPECT_DROPS(sc, "hub", MODEL_DROP_NO_DEST, 1);
}

const struct scenario_def scenario_defs[] = {
	{ "learning", "unknown unicast floods, learned destinations go to one port", build_learning, NULL },
	{ "flooding", "broadcast floods the VLAN, never back to the ingress port", build_flooding, NULL },
	{ "vlan_access", "access port isolation, priority tags, tagged frames dropped", build_vlan_access, NULL },
	{ "vlan_trunk", "trunk allowed/native VLANs: push, pop, keep, PCP preserved", build_vlan_trunk, NULL },
	{ "multicast", "IPv4/IPv6 multicast floods within the VLAN", build_multicast, NULL },
	{ "unknown_vlan", "frames in VLANs the port does not carry are dropped", build_unknown_vlan, NULL },
	{ "mac_move", "a MAC moves between ports; traffic follows", build_mac_move, NULL },
	{ "edge", "runts, double tags, invalid and spoofed sources", build_edge, NULL },
	{ "admin_down", "an admin-down port receives and forwards nothing", build_admin_down, NULL },
	{ "vlan_hop", "access ports: every TPID, priority tags, stacked tags (#21 PoC)", build_vlan_hop,
	  NULL },
	{ "vlan_qinq", "trunks, native VLAN: every TPID, inner tags never exposed", build_vlan_qinq,
	  NULL },
	{ "mixed", "100000 random frames over 5 ports, checked by the model only",
	  scenario_mixed_build, scenario_mixed_check },
	{ "learn_in_burst", "learning and MAC moves seen by later frames of the same burst",
	  build_learn_in_burst, sc_check_burst_invariant },
	{ "mixed_rounds", "mixed's traffic, one sending port per round (burst 1 = burst 32)",
	  scenario_mixed_rounds_build, scenario_mixed_rounds_check },
	{ NULL, NULL, NULL, NULL },
};
