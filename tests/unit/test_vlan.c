/* test_vlan.c — access, trunk, native and default VLAN rules at ingress and egress, and the
 * stacked-tag rule at ingress (a priority tag before a tag). */
#include "unit.h"
#include "ferry_vlan.h"

static void
access_port(void)
{
	struct ferry_vlan_conf c = { .mode = FERRY_VLAN_ACCESS, .tag = 10 };
	struct ferry_vlan_policy p;

	ferry_vlan_policy_build(&c, &p);
	CHECK(ferry_vlan_ingress(&p, false, 0, false) == 10);
	CHECK(ferry_vlan_ingress(&p, true, 0, false) == 10);            /* priority tag */
	CHECK(ferry_vlan_ingress(&p, true, 10, false) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_ingress(&p, true, 20, false) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_member(&p, 10) && !ferry_vlan_member(&p, 11) && !ferry_vlan_member(&p, 0));
	CHECK(!ferry_vlan_egress_tagged(&p, 10));
}

static void
trunk_with_native(void)
{
	struct ferry_vlan_conf c = { .mode = FERRY_VLAN_TRUNK, .native = 10, .n_allowed = 2,
				     .allowed = { 20, 30 } };
	struct ferry_vlan_policy p;

	ferry_vlan_policy_build(&c, &p);
	CHECK(ferry_vlan_ingress(&p, false, 0, false) == 10);
	CHECK(ferry_vlan_ingress(&p, true, 20, false) == 20);
	CHECK(ferry_vlan_ingress(&p, true, 10, false) == 10);            /* native may also come tagged */
	CHECK(ferry_vlan_ingress(&p, true, 40, false) == FERRY_VLAN_NONE);
	CHECK(!ferry_vlan_egress_tagged(&p, 10) && ferry_vlan_egress_tagged(&p, 30));
}

static void
trunk_without_native_drops_untagged(void)
{
	struct ferry_vlan_conf c = { .mode = FERRY_VLAN_TRUNK, .native = FERRY_VLAN_NONE,
				     .n_allowed = 1, .allowed = { 20 } };
	struct ferry_vlan_policy p;

	ferry_vlan_policy_build(&c, &p);
	CHECK(ferry_vlan_ingress(&p, false, 0, false) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_ingress(&p, true, 0, false) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_ingress(&p, true, 20, false) == 20);
	CHECK(ferry_vlan_egress_tagged(&p, 20));
}

static void
default_trunk_all(void)
{
	struct ferry_vlan_conf c = { .mode = FERRY_VLAN_TRUNK, .all = true, .native = 0 };
	struct ferry_vlan_policy p;

	ferry_vlan_policy_build(&c, &p);
	CHECK(ferry_vlan_ingress(&p, false, 0, false) == 0);
	CHECK(ferry_vlan_ingress(&p, true, 1, false) == 1 && ferry_vlan_ingress(&p, true, 4094, false) == 4094);
	CHECK(ferry_vlan_ingress(&p, true, 4095, false) == FERRY_VLAN_NONE);
	CHECK(!ferry_vlan_egress_tagged(&p, 0) && ferry_vlan_egress_tagged(&p, 5));
}

static void
stacked_tags(void)
{
	struct ferry_vlan_conf ca = { .mode = FERRY_VLAN_ACCESS, .tag = 10 };
	struct ferry_vlan_conf ct = { .mode = FERRY_VLAN_TRUNK, .native = 10, .n_allowed = 1,
				      .allowed = { 20 } };
	struct ferry_vlan_conf cn = { .mode = FERRY_VLAN_TRUNK, .native = FERRY_VLAN_NONE,
				      .n_allowed = 1, .allowed = { 20 } };
	struct ferry_vlan_policy a, t, n;

	ferry_vlan_policy_build(&ca, &a);
	ferry_vlan_policy_build(&ct, &t);
	ferry_vlan_policy_build(&cn, &n);
	CHECK(FERRY_VLAN_NONE > FERRY_VLAN_HOP && FERRY_VLAN_HOP > 4095);
	/* a priority tag followed by a tag (the #21 PoC): refused on every port, before the
	 * native VLAN is even looked at */
	CHECK(ferry_vlan_ingress(&a, true, 0, true) == FERRY_VLAN_HOP);
	CHECK(ferry_vlan_ingress(&t, true, 0, true) == FERRY_VLAN_HOP);
	CHECK(ferry_vlan_ingress(&n, true, 0, true) == FERRY_VLAN_HOP);
	/* tagged with an inner tag: an access port drops it as any tagged frame, a trunk carries
	 * it in the outer VID (QinQ) */
	CHECK(ferry_vlan_ingress(&a, true, 10, true) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_ingress(&a, true, 20, true) == FERRY_VLAN_NONE);
	CHECK(ferry_vlan_ingress(&t, true, 20, true) == 20);
	CHECK(ferry_vlan_ingress(&t, true, 10, true) == 10);
	CHECK(ferry_vlan_ingress(&n, true, 30, true) == FERRY_VLAN_NONE);
	/* egress (an inner tag never leaves untagged) is ferry_pkt_vlan_edit's: test_pkt.c */
}

void
suite_vlan(void)
{
	RUN("vlan", access_port);
	RUN("vlan", trunk_with_native);
	RUN("vlan", trunk_without_native_drops_untagged);
	RUN("vlan", default_trunk_all);
	RUN("vlan", stacked_tags);
}
