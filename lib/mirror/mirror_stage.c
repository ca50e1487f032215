/* mirror_stage.c — the "mirror" stage type: on a source port's rx hook (every frame as received)
 * or at the end of its egress list (what leaves, after the VLAN rewrite), it picks the burst's
 * frames of the mirror's VLANs that match its filter, copies them into the mirrors' pool and
 * hands the copies to the PMD's tx buffer for the output. Every frame is kept; no lock, no
 * syscall, no wait: a copy that finds no mbuf, or an output that is down, is counted and skipped. */
#include <stdlib.h>
#include "ferry_pkt.h"
#include "ferry_stage.h"
#include "mirror_private.h"

#define ALL(n) ((n) >= 64 ? UINT64_MAX : (UINT64_C(1) << (n)) - 1)

/* The VLAN frame m is classified into (rx) or leaves on (tx); FERRY_VLAN_NONE if none. */
static uint16_t
frame_vlan(const struct mir_tap *t, const struct ferry_port_policy *pol, struct rte_mbuf *m)
{
	struct ferry_pkt pk;
	bool tagged, inner;
	uint16_t vid;

	if (ferry_pkt_parse(m, &pk) != 0)
		return FERRY_VLAN_NONE;
	tagged = pk.tagged;
	vid = pk.tci & 0xfff;
	inner = ferry_pkt_inner_tag(&pk);
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {   /* the NIC took the outer tag */
		inner = tagged;
		tagged = true;
		vid = m->vlan_tci & 0xfff;
	}
	if (t->hook == FERRY_STAGE_RX)
		return ferry_vlan_ingress(&pol->vlan, tagged, vid, inner);
	return tagged ? vid : ferry_vlan_ingress(&pol->vlan, false, 0, false);
}

static uint64_t
select_vlans(const struct mir_tap *t, struct rte_mbuf **pkts, uint16_t n)
{
	const struct ferry_port_policy *pol = __atomic_load_n(&t->src->policy, __ATOMIC_ACQUIRE);
	const uint64_t *bits = t->m->conf.vlans;
	uint64_t sel = 0;

	for (uint16_t i = 0; i < n; i++) {
		uint16_t v = frame_vlan(t, pol, pkts[i]);
		if (v < 4095 && (bits[v / 64] & (UINT64_C(1) << (v % 64))))
			sel |= UINT64_C(1) << i;
	}
	return sel;
}

static uint64_t
mir_burst(void *state, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	const struct mir_tap *t = state;
	struct ferry_mirror *m = t->m;
	struct mir_ctr *ctr = &m->ctr[ctx->pmd];
	struct rte_mbuf *copy[FERRY_BURST];
	uint64_t sel = m->conf.has_vlans ? select_vlans(t, pkts, n) : ALL(n);
	uint16_t k = 0, nsel;

	if (sel != 0 && m->filter.bpf != NULL)
		sel &= ferry_pcap_filter_match(&m->filter, pkts, n);
	if (sel == 0)
		return ALL(n);
	nsel = (uint16_t)__builtin_popcountll(sel);
	ctr->selected += nsel;
	if (unlikely(__atomic_load_n(&m->out->policy, __ATOMIC_ACQUIRE)->off &
		     FERRY_PORT_OFF_ADMIN)) {
		ctr->failed += nsel;
		return ALL(n);
	}
	for (uint16_t i = 0; i < n; i++) {
		if (!(sel & (UINT64_C(1) << i)))
			continue;
		struct rte_mbuf *c = rte_pktmbuf_copy(pkts[i], m->pool, 0, UINT32_MAX);
		if (unlikely(c == NULL))
			continue;
		/* as received: a tag the NIC stripped goes back into the copy */
		if (unlikely(c->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) && ferry_pkt_unstrip(c) < 0) {
			rte_pktmbuf_free(c);
			continue;
		}
		copy[k++] = c;
	}
	ctr->failed += nsel - k;
	if (k != 0)
		ctx->tx->send(ctx->tx, m->out->idx, copy, k);
	return ALL(n);
}

/* The tap is filled by ferry_mirror_stage once the instance exists. */
static int
mir_create(const char *arg, void **state, char *err, size_t errlen)
{
	*state = calloc(1, sizeof(struct mir_tap));
	if (*state == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
mir_destroy(void *state)
{
	free(state);
}

static void
mir_describe(void *state, json_t *o)
{
	const struct mir_tap *t = state;

	json_object_set_new(o, "mirror", json_string(t->m->conf.name));
	json_object_set_new(o, "output", json_string(t->m->conf.output));
}

static const struct ferry_stage_ops mir_ops = {
	.type = "mirror",
	.create = mir_create,
	.destroy = mir_destroy,
	.burst = mir_burst,
	.describe = mir_describe,
	.last = true,
};

void
mir_stage_register(void)
{
	ferry_stage_register(&mir_ops);
}

struct ferry_stage_inst *
ferry_mirror_stage(struct ferry_mirror *m, struct ferry_port *src, int hook, char *err,
		   size_t errlen)
{
	struct ferry_stage_inst *si = ferry_stage_create("mirror", m->conf.name, hook, "", err,
							 errlen);
	struct mir_tap *t;

	if (si == NULL)
		return NULL;
	t = si->state;
	t->m = m;
	t->src = src;
	t->hook = hook;
	return si;
}
