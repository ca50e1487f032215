/* ferry_vlan.c — turn a port's VLAN configuration into the datapath's membership bitmap. */
#include <string.h>
#include "ferry_vlan.h"

static void
member_set(struct ferry_vlan_policy *p, uint16_t vlan)
{
	p->member[vlan >> 6] |= UINT64_C(1) << (vlan & 63);
}

void
ferry_vlan_policy_build(const struct ferry_vlan_conf *c, struct ferry_vlan_policy *p)
{
	memset(p, 0, sizeof(*p));
	if (c->mode == FERRY_VLAN_ACCESS) {
		p->access = 1;
		p->untagged_vlan = c->tag;
		member_set(p, c->tag);
		return;
	}
	p->untagged_vlan = c->native;
	if (c->native != FERRY_VLAN_NONE)
		member_set(p, c->native);
	if (c->all) {
		for (uint16_t v = 1; v < 4095; v++)
			member_set(p, v);
		return;
	}
	for (uint16_t i = 0; i < c->n_allowed; i++)
		member_set(p, c->allowed[i]);
}
