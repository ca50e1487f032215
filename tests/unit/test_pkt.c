/* test_pkt.c — Ethernet/VLAN parsing edge cases (every tag TPID, inner tags), in-place tag edits
 * and the flow hash. */
#include <string.h>
#include "unit.h"
#include "ferry_pkt.h"

#define A "02:00:00:00:00:0a"
#define B "02:00:00:00:00:0b"

static void
runt_frames(void)
{
	uint8_t bytes[64];
	struct ferry_pkt pk = { 0 };

	memset(bytes, 0x02, sizeof(bytes));
	for (uint16_t len = 0; len < 14; len++) {
		struct rte_mbuf *m = unit_raw(bytes, len);
		CHECK(ferry_pkt_parse(m, &pk) == FERRY_DROP_RUNT + 1);
		rte_pktmbuf_free(m);
	}
	/* a tagged header needs 18 bytes */
	bytes[12] = 0x81;
	bytes[13] = 0x00;
	for (uint16_t len = 14; len < 18; len++) {
		struct rte_mbuf *m = unit_raw(bytes, len);
		CHECK(ferry_pkt_parse(m, &pk) == FERRY_DROP_RUNT + 1);
		rte_pktmbuf_free(m);
	}
	struct rte_mbuf *m = unit_raw(bytes, 18);
	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged);
	rte_pktmbuf_free(m);
}

static void
macs_and_group_bit(void)
{
	struct rte_mbuf *m = unit_frame("01:00:5e:00:00:01", A, NULL, 0, 0x0800, 46);
	struct ferry_pkt pk = { 0 };

	CHECK(ferry_pkt_parse(m, &pk) == 0);
	CHECK(pk.dst == unit_mac("01:00:5e:00:00:01") && ferry_mac_is_group(pk.dst));
	CHECK(pk.src == unit_mac(A) && !ferry_mac_is_group(pk.src));
	CHECK(!pk.tagged);
	CHECK(unit_mac("ff:ff:ff:ff:ff:ff") == FERRY_MAC_BCAST);
	CHECK(ferry_fdb_key(pk.src, 4094) >> 48 == 4094);
	rte_pktmbuf_free(m);
}

static void
double_tags_outer_counts(void)
{
	const uint16_t qinq[] = { 0x88a8, 0x2064, 0x8100, 0x00c8 };   /* outer PCP1 VID100, inner 200 */
	const uint16_t dot1q2[] = { 0x8100, 0x0005, 0x8100, 0x0006 };
	struct ferry_pkt pk = { 0 };
	struct rte_mbuf *m = unit_frame(B, A, qinq, 2, 0x0800, 46);

	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged && pk.tci == 0x2064);
	rte_pktmbuf_free(m);
	m = unit_frame(B, A, dot1q2, 2, 0x0800, 46);
	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged && (pk.tci & 0xfff) == 5);
	rte_pktmbuf_free(m);
}

/* 0x8100, 0x88a8 and 0x9100 are tags, outer or inner; other ethertypes (0x9200 too) are not. */
static void
tag_tpids_and_inner_tag(void)
{
	static const uint16_t tag[] = { 0x8100, 0x88a8, 0x9100 };
	static const uint16_t next[] = { 0x8100, 0x88a8, 0x9100, 0x0800, 0x86dd, 0x9200, 0x8101 };
	uint8_t b[64];
	struct ferry_pkt pk;

	memset(b, 0x02, sizeof(b));
	for (unsigned i = 0; i < RTE_DIM(tag); i++) {
		for (unsigned k = 0; k < RTE_DIM(next); k++) {
			bool is_tag = k < 3;
			b[12] = tag[i] >> 8, b[13] = tag[i] & 0xff;
			b[14] = 0x20, b[15] = 0x00;                   /* PCP 1, VID 0 */
			b[16] = next[k] >> 8, b[17] = next[k] & 0xff;
			for (uint16_t len = 14; len < 18; len++) {    /* the outer tag cut off */
				struct rte_mbuf *m = unit_raw(b, len);
				CHECK(ferry_pkt_parse(m, &pk) == FERRY_DROP_RUNT + 1);
				rte_pktmbuf_free(m);
			}
			/* 18 bytes: the inner TPID is there, its TCI is not: still an inner tag */
			for (uint16_t len = 18; len <= 22; len += 4) {
				struct rte_mbuf *m = unit_raw(b, len);
				memset(&pk, 0xff, sizeof(pk));
				CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged && pk.tci == 0x2000);
				CHECK(ferry_pkt_inner_tag(&pk) == is_tag);
				/* only an 802.1Q outer tag leaves as it is (trunk to trunk, same VID) */
				CHECK(ferry_pkt_tag_is(&pk, 0) == (tag[i] == 0x8100));
				CHECK(!ferry_pkt_tag_is(&pk, 1));
				rte_pktmbuf_free(m);
			}
		}
	}
	/* untagged: whatever the ethertype, no inner tag */
	for (unsigned k = 3; k < RTE_DIM(next); k++) {
		b[12] = next[k] >> 8, b[13] = next[k] & 0xff;
		b[16] = 0x81, b[17] = 0x00;
		struct rte_mbuf *m = unit_raw(b, 14);
		memset(&pk, 0xff, sizeof(pk));
		CHECK(ferry_pkt_parse(m, &pk) == 0 && !pk.tagged && !ferry_pkt_inner_tag(&pk) && pk.tci == 0);
		CHECK(!ferry_pkt_tag_is(&pk, 0));
		rte_pktmbuf_free(m);
	}
}

static uint16_t
be16_at(const struct rte_mbuf *m, unsigned off)
{
	uint16_t v;

	memcpy(&v, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), 2);
	return rte_be_to_cpu_16(v);
}

static void
vlan_push_pop_rewrite(void)
{
	const uint16_t tag[] = { 0x8100, 0xa00a };   /* PCP 5, VID 10 */
	struct rte_mbuf *m = unit_frame(B, A, NULL, 0, 0x0800, 46);
	uint16_t len = m->pkt_len;

	CHECK(ferry_pkt_vlan_edit(m, false, true, 20) == 0);
	CHECK(m->pkt_len == (uint32_t)len + 4 && be16_at(m, 12) == 0x8100 && be16_at(m, 14) == 20);
	CHECK(be16_at(m, 16) == 0x0800);
	CHECK(ferry_pkt_vlan_edit(m, true, false, 20) == 0);
	CHECK(m->pkt_len == len && be16_at(m, 12) == 0x0800);
	rte_pktmbuf_free(m);

	m = unit_frame(B, A, tag, 1, 0x86dd, 46);
	CHECK(ferry_pkt_vlan_edit(m, true, true, 30) == 0);
	CHECK(be16_at(m, 14) == (0xa000 | 30));   /* PCP and DEI kept */
	rte_pktmbuf_free(m);
	const uint16_t stag[] = { 0x88a8, 0x600a, 0x8100, 20 };
	m = unit_frame(B, A, stag, 2, 0x0800, 46);
	CHECK(ferry_pkt_vlan_edit(m, true, true, 10) == 0);
	CHECK(be16_at(m, 12) == 0x8100 && be16_at(m, 14) == 0x600a);   /* leaves as 802.1Q */
	CHECK(be16_at(m, 16) == 0x8100 && be16_at(m, 18) == 20);       /* inner tag untouched */
	struct ferry_pkt pk = { 0 };
	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.src == unit_mac(A) && pk.dst == unit_mac(B));
	CHECK(ferry_pkt_inner_tag(&pk));
	rte_pktmbuf_free(m);
	/* 0x9100 outer tags too: rewritten as 802.1Q (or popped), the length follows */
	const uint16_t old_qinq[] = { 0x9100, 0x300a };
	m = unit_frame(B, A, old_qinq, 1, 0x0800, 46);
	len = m->pkt_len;
	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged && !ferry_pkt_inner_tag(&pk) && pk.tci == 0x300a);
	CHECK(ferry_pkt_vlan_edit(m, true, true, 20) == 0);
	CHECK(m->pkt_len == len && be16_at(m, 12) == 0x8100 && be16_at(m, 14) == (0x3000 | 20));
	CHECK(ferry_pkt_vlan_edit(m, true, false, 20) == 0);
	CHECK(m->pkt_len == (uint32_t)len - 4 && m->data_len == m->pkt_len);
	CHECK(be16_at(m, 12) == 0x0800);
	rte_pktmbuf_free(m);
}

/* A tag is never popped onto another (whatever their TPIDs): the frame stays as it was. Tagged
 * egress is QinQ passthrough: the outer tag rewritten, the inner one untouched. */
static void
vlan_pop_never_exposes_a_tag(void)
{
	static const uint16_t tpid[] = { 0x8100, 0x88a8, 0x9100 };
	uint8_t before[64];

	for (unsigned i = 0; i < RTE_DIM(tpid); i++) {
		for (unsigned k = 0; k < RTE_DIM(tpid); k++) {
			const uint16_t tags[] = { tpid[i], 0x000a, tpid[k], 20 };
			struct rte_mbuf *m = unit_frame(B, A, tags, 2, 0x0800, 46);
			uint32_t len = m->pkt_len;
			memcpy(before, rte_pktmbuf_mtod(m, uint8_t *), sizeof(before));
			CHECK(ferry_pkt_vlan_edit(m, true, false, 10) == FERRY_PKT_EDIT_HOP);
			CHECK(m->pkt_len == len &&
			      memcmp(before, rte_pktmbuf_mtod(m, uint8_t *), sizeof(before)) == 0);
			CHECK(ferry_pkt_vlan_edit(m, true, true, 10) == 0);
			CHECK(m->pkt_len == len && be16_at(m, 12) == 0x8100 && be16_at(m, 14) == 10);
			CHECK(be16_at(m, 16) == tpid[k] && be16_at(m, 18) == 20);
			rte_pktmbuf_free(m);
		}
	}
}

static struct rte_mbuf *
udp4(uint16_t sport, const uint16_t *tags, int n_tags)
{
	struct rte_mbuf *m = unit_frame(B, A, tags, n_tags, 0x0800, 28);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 4 * n_tags);

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[9] = 17;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	ip[20] = sport >> 8, ip[21] = sport & 0xff, ip[23] = 53;
	return m;
}

static void
flow_hash(void)
{
	const uint16_t tag[] = { 0x8100, 7 };
	struct rte_mbuf *a = udp4(1000, NULL, 0), *b = udp4(1000, tag, 1), *c = udp4(1001, NULL, 0);
	unsigned distinct = 0;
	uint32_t first = ferry_pkt_flow_hash_sw(a);

	CHECK(first == ferry_pkt_flow_hash_sw(b));     /* the tag is not part of the flow */
	CHECK(first != ferry_pkt_flow_hash_sw(c));
	CHECK(ferry_pkt_flow_hash(a) == first && (a->ol_flags & RTE_MBUF_F_RX_RSS_HASH));
	a->hash.rss = 42;                                /* a NIC's hash wins */
	CHECK(ferry_pkt_flow_hash(a) == 42);
	for (uint16_t p = 0; p < 64; p++) {              /* spreads over 4 queues */
		struct rte_mbuf *m = udp4(p, NULL, 0);
		distinct |= 1u << (ferry_pkt_flow_hash_sw(m) % 4);
		rte_pktmbuf_free(m);
	}
	CHECK(distinct == 0xf);
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
	rte_pktmbuf_free(c);
}

static void
unstrip_restores_tag(void)
{
	struct rte_mbuf *m = unit_frame(B, A, NULL, 0, 0x0800, 46);
	struct ferry_pkt pk = { 0 };

	m->vlan_tci = 0x6064;
	m->ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN;
	CHECK(ferry_pkt_unstrip(m) == 0);
	CHECK(ferry_pkt_parse(m, &pk) == 0 && pk.tagged && pk.tci == 0x6064);
	CHECK(!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED));
	rte_pktmbuf_free(m);
}

void
suite_pkt(void)
{
	RUN("pkt", runt_frames);
	RUN("pkt", macs_and_group_bit);
	RUN("pkt", double_tags_outer_counts);
	RUN("pkt", tag_tpids_and_inner_tag);
	RUN("pkt", vlan_push_pop_rewrite);
	RUN("pkt", vlan_pop_never_exposes_a_tag);
	RUN("pkt", flow_hash);
	RUN("pkt", unstrip_restores_tag);
}
