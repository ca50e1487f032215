/* fuzz_pkt.c — libFuzzer target for the header fields: lib/pkt's parse and tag edits and lib/vlan's
 * ingress/egress rules, run in the pipeline's order on arbitrary frame bytes between two ports
 * whose VLAN rules come from the input.
 *
 * The frame sits at the very end of an exact-size buffer (headroom in front, as in an mbuf), so
 * ASan reports any read past the frame. For every input the target aborts unless:
 *   - the parse agrees with a reference parse written here (runt, MACs, outer tag, inner tag);
 *   - ferry_vlan_ingress agrees with a reference classification written from doc/semantics.md
 *     (the VLAN, or `vlan` / `vlan_hop`); an access port only accepts untagged or
 *     priority-tagged frames without an inner tag, into its own VLAN;
 *   - for an egress port that carries the VLAN, ferry_pkt_vlan_edit refuses the frame, leaving
 *     it unchanged (FERRY_PKT_EDIT_HOP), exactly when it has an inner tag and its VLAN leaves
 *     untagged; otherwise the frame is the input with the outer tag replaced by the egress rule
 *     for its VLAN: an 802.1Q tag with VID = VLAN (and
 *     the arriving PCP/DEI) where it leaves tagged, nothing where it leaves untagged — and then
 *     its outermost ethertype is not a tag TPID; MACs and payload unchanged, lengths consistent.
 * The software flow hash (which reads L3/L4 headers) is run on every parsed frame too.
 *
 * Input: 13 header bytes, then the frame. h0 / h5: ingress / egress port mode (% 4: access, trunk
 * with native, trunk without native, default = every VLAN, native 0; bit 2: trunk of all VLANs),
 * h1..h2 / h6..h7: tag or native, h3..h4 / h8..h9: one more allowed VLAN (VIDs are
 * 1 + le16 % 4094; a trunk also allows its h1..h2 VID); h10 bit 0: a NIC stripped a tag, whose
 * TCI is h11..h12 (ferry_pkt_unstrip puts it back first, as the pipeline does).
 * Seeds: an empty corpus directory given on the command line gets a few hand-made inputs (the
 * #21 PoC among them). Build and run: tests/fuzz/run.sh. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_pkt.h"
#include "ferry_vlan.h"

#define HDR_LEN   13
#define HEADROOM  RTE_PKTMBUF_HEADROOM
#define REF_HOP   (-2)
#define REF_DROP  (-1)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *why)
{
	fprintf(stderr, "fuzz_pkt: %s\n", why);
	abort();
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- the reference, from doc/semantics.md ---- */

struct ref {
	bool runt, tagged, inner;
	uint16_t tci;
};

static bool
ref_is_tpid(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

static struct ref
ref_parse(const uint8_t *d, uint32_t len)
{
	struct ref r = { .runt = len < 14 };

	if (r.runt)
		return r;
	r.tagged = ref_is_tpid(be16(d + 12));
	if (r.tagged && len < 18) {
		r.runt = true;
		return r;
	}
	r.tci = r.tagged ? be16(d + 14) : 0;
	r.inner = r.tagged && ref_is_tpid(be16(d + 16));
	return r;
}

static int
ref_untagged_vlan(const struct ferry_vlan_conf *c)
{
	if (c->mode == FERRY_VLAN_ACCESS)
		return c->tag;
	return c->native == FERRY_VLAN_NONE ? REF_DROP : c->native;
}

static bool
ref_carries(const struct ferry_vlan_conf *c, int v)
{
	if (c->mode == FERRY_VLAN_ACCESS)
		return v == c->tag;
	if (c->native != FERRY_VLAN_NONE && v == c->native)
		return true;
	if (v < 1 || v > 4094)
		return false;
	for (uint16_t i = 0; i < c->n_allowed; i++)
		if (c->allowed[i] == v)
			return true;
	return c->all;
}

/* Step 2: the VLAN, REF_DROP (`vlan`) or REF_HOP (`vlan_hop`). */
static int
ref_ingress(const struct ferry_vlan_conf *c, const struct ref *r)
{
	int vid = r->tci & 0xfff, v;

	if (r->tagged && vid == 0 && r->inner)
		return REF_HOP;
	if (!r->tagged || vid == 0)
		v = ref_untagged_vlan(c);
	else if (c->mode == FERRY_VLAN_ACCESS)
		return REF_DROP;
	else
		v = vid;
	return v >= 0 && ref_carries(c, v) ? v : REF_DROP;
}

/* ---- ports from the input ---- */

static uint16_t
vid_of(const uint8_t *p)
{
	return (uint16_t)(1 + le16(p) % 4094);
}

static void
conf_from(const uint8_t *h, struct ferry_vlan_conf *c)
{
	uint16_t v = vid_of(h + 1);

	memset(c, 0, sizeof(*c));
	c->native = FERRY_VLAN_NONE;
	switch (h[0] % 4) {
	case 0:
		c->mode = FERRY_VLAN_ACCESS;
		c->tag = v;
		return;
	case 1:
		c->native = v;
		break;
	case 3:
		c->native = 0;
		c->all = true;
		return;
	default:
		break;
	}
	c->mode = FERRY_VLAN_TRUNK;
	c->all = h[0] & 4;
	c->allowed[c->n_allowed++] = v;
	c->allowed[c->n_allowed++] = vid_of(h + 3);
}

/* ---- the frame: an mbuf around an exact-size buffer ---- */

struct frame {
	struct rte_mbuf m;
	uint8_t *buf;
};

static void
frame_init(struct frame *f, const uint8_t *bytes, uint32_t len)
{
	memset(&f->m, 0, sizeof(f->m));
	f->buf = malloc(HEADROOM + len + (len == 0));
	if (f->buf == NULL)
		fail("out of memory");
	memcpy(f->buf + HEADROOM, bytes, len);
	f->m.buf_addr = f->buf;
	f->m.buf_len = (uint16_t)(HEADROOM + len);
	f->m.data_off = HEADROOM;
	f->m.data_len = (uint16_t)len;
	f->m.pkt_len = len;
	f->m.nb_segs = 1;
	rte_mbuf_refcnt_set(&f->m, 1);
}

/* ---- the checks ---- */

static void
check_parse(const struct ferry_pkt *pk, const struct ref *r, const uint8_t *d)
{
	uint64_t dst = 0, src = 0;

	memcpy(&dst, d, 6);
	memcpy(&src, d + 6, 6);
	if (pk->dst != dst || pk->src != src)
		fail("parse: MACs differ from the frame's");
	if (pk->tagged != r->tagged || ferry_pkt_inner_tag(pk) != r->inner ||
	    (r->tagged && pk->tci != r->tci))
		fail("parse: outer or inner tag differs from the reference");
}

/* The edited frame is the input with the outer tag replaced by the egress rule for vlan. */
static void
check_egress(const uint8_t *in, uint32_t in_len, const struct ref *r, const struct rte_mbuf *m,
	     bool tag_out, uint16_t vlan)
{
	const uint8_t *out = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t body = r->tagged ? 16 : 12, hdr = tag_out ? 16 : 12;

	if (m->pkt_len != m->data_len || m->pkt_len != in_len - body + hdr)
		fail("edit: frame length inconsistent");
	if (memcmp(out, in, 12) != 0 || memcmp(out + hdr, in + body, in_len - body) != 0)
		fail("edit: MACs or payload changed");
	if (tag_out) {
		uint16_t tci = (uint16_t)((r->tagged ? r->tci & 0xf000 : 0) | vlan);
		if (be16(out + 12) != 0x8100 || be16(out + 14) != tci)
			fail("edit: the outer tag is not 802.1Q, VID = VLAN, the arriving PCP/DEI");
	} else if (ref_is_tpid(be16(out + 12))) {
		fail("edit: an untagged egress frame has a tag outermost (VLAN hop)");
	}
}

static void
run_egress(const struct ferry_vlan_conf *co, const struct ferry_vlan_policy *po,
	   struct frame *f, const struct ferry_pkt *pk, const struct ref *r, uint16_t vlan)
{
	uint32_t len = f->m.data_len;
	bool tag_out, untagged_ref;
	uint8_t *in;

	if (ferry_vlan_member(po, vlan) != ref_carries(co, vlan))
		fail("egress: membership differs from the reference");
	if (!ferry_vlan_member(po, vlan))
		return;
	tag_out = ferry_vlan_egress_tagged(po, vlan);
	untagged_ref = (int)vlan == ref_untagged_vlan(co);
	if (tag_out == untagged_ref)
		fail("egress: tagged/untagged differs from the port's rule for the VLAN");
	in = malloc(len);
	if (in == NULL)
		fail("out of memory");
	memcpy(in, rte_pktmbuf_mtod(&f->m, const uint8_t *), len);
	int rc = ferry_pkt_vlan_edit(&f->m, pk->tagged, tag_out, vlan);
	if ((rc == FERRY_PKT_EDIT_HOP) != (r->inner && untagged_ref))
		fail("edit: vlan_hop refusal differs from the reference");
	if (rc == FERRY_PKT_EDIT_HOP) {
		if (f->m.pkt_len != len || memcmp(in, rte_pktmbuf_mtod(&f->m, void *), len) != 0)
			fail("edit: a refused frame was changed");
	} else if (rc != 0) {
		fail("edit: failed with 128 bytes of headroom");
	} else {
		check_egress(in, len, r, &f->m, tag_out, vlan);
	}
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ferry_vlan_conf ci, co;
	static struct ferry_vlan_policy pi, po;
	struct ferry_pkt pk;
	struct frame f;
	struct ref r;

	if (size < HDR_LEN || size - HDR_LEN > 4096)
		return 0;
	conf_from(data, &ci);
	conf_from(data + 5, &co);
	ferry_vlan_policy_build(&ci, &pi);
	ferry_vlan_policy_build(&co, &po);
	frame_init(&f, data + HDR_LEN, (uint32_t)(size - HDR_LEN));
	if (data[10] & 1) {
		f.m.vlan_tci = le16(data + 11);
		f.m.ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN;
		uint32_t want = (uint32_t)(size - HDR_LEN) + (size - HDR_LEN >= 12 ? 4 : 0);
		if (ferry_pkt_unstrip(&f.m) != 0 || f.m.pkt_len != want || f.m.data_len != want)
			fail("unstrip: did not put the tag's 4 bytes back (or did, on a runt)");
	}
	r = ref_parse(rte_pktmbuf_mtod(&f.m, const uint8_t *), f.m.data_len);
	memset(&pk, 0xa5, sizeof(pk));
	int bad = ferry_pkt_parse(&f.m, &pk);
	if ((bad != 0) != r.runt || (bad != 0 && bad != FERRY_DROP_RUNT + 1))
		fail("parse: runt verdict differs from the reference");
	if (bad == 0) {
		check_parse(&pk, &r, rte_pktmbuf_mtod(&f.m, const uint8_t *));
		(void)ferry_pkt_flow_hash_sw(&f.m);
		uint16_t v = ferry_vlan_ingress(&pi, pk.tagged, pk.tci & 0xfff,
						ferry_pkt_inner_tag(&pk));
		int want = ref_ingress(&ci, &r);
		if ((want == REF_HOP) != (v == FERRY_VLAN_HOP) ||
		    (want == REF_DROP) != (v == FERRY_VLAN_NONE) || (want >= 0 && v != want))
			fail("ingress: classification differs from the reference");
		if (ci.mode == FERRY_VLAN_ACCESS && want >= 0 &&
		    (v != ci.tag || r.inner || (r.tagged && (r.tci & 0xfff) != 0)))
			fail("ingress: an access port accepted a tag");
		if (want >= 0)
			run_egress(&co, &po, &f, &pk, &r, v);
	}
	free(f.buf);
	return 0;
}

/* ---- seeds ---- */

static void
write_seed(const char *dir, int n, const uint8_t *hdr, const uint8_t *tags, size_t n_tags)
{
	uint8_t b[HDR_LEN + 64];
	char path[4096];
	size_t len = 0;
	FILE *fp;

	memcpy(b, hdr, HDR_LEN);
	len = HDR_LEN;
	memset(b + len, 0, 12);
	b[len] = 0xff, b[len + 6] = 0x52, b[len + 11] = 1;        /* dst group, src 52:..:01 */
	len += 12;
	memcpy(b + len, tags, n_tags);
	len += n_tags;
	memset(b + len, 0x45, 64 - 12 - n_tags);                   /* ethertype + payload */
	len = HDR_LEN + 64;
	snprintf(path, sizeof(path), "%s/seed%d", dir, n);
	if ((fp = fopen(path, "wb")) != NULL) {
		fwrite(b, 1, len, fp);
		fclose(fp);
	}
}

/* Access VLAN 10 -> trunk native 10 (the #21 PoC and its kin); trunk -> access; trunk -> trunk. */
static void
write_seeds(const char *dir)
{
	/* VID fields are le16 with VID = 1 + x % 4094: x = 9 -> 10, x = 19 -> 20 */
	static const uint8_t acc_nat[HDR_LEN] = { 0, 9, 0, 19, 0, 1, 9, 0, 19, 0, 0, 0, 0 };
	static const uint8_t tr_acc[HDR_LEN] = { 2, 9, 0, 19, 0, 0, 9, 0, 0, 0, 0, 0, 0 };
	static const uint8_t tr_tr[HDR_LEN] = { 1, 9, 0, 19, 0, 2, 9, 0, 19, 0, 1, 0x14, 0x20 };
	static const uint8_t poc[] = { 0x81, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00 };
	static const uint8_t stag[] = { 0x88, 0xa8, 0, 0, 0x91, 0x00, 0x00, 0x14, 0x08, 0x00 };
	static const uint8_t old[] = { 0x91, 0x00, 0x00, 0x14, 0x08, 0x00 };
	static const uint8_t prio[] = { 0x81, 0x00, 0xa0, 0x00, 0x86, 0xdd };
	static const uint8_t qinq[] = { 0x81, 0x00, 0, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00 };
	static const uint8_t none[] = { 0x08, 0x00 };

	write_seed(dir, 1, acc_nat, poc, sizeof(poc));
	write_seed(dir, 2, acc_nat, stag, sizeof(stag));
	write_seed(dir, 3, acc_nat, old, sizeof(old));
	write_seed(dir, 4, acc_nat, prio, sizeof(prio));
	write_seed(dir, 5, acc_nat, none, sizeof(none));
	write_seed(dir, 6, tr_acc, qinq, sizeof(qinq));
	write_seed(dir, 7, tr_tr, qinq, sizeof(qinq));
	write_seed(dir, 8, tr_tr, none, sizeof(none));
}

static bool
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = d != NULL;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			empty = false;
	if (d != NULL)
		closedir(d);
	return empty;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-' && dir_is_empty((*argv)[i]))
			write_seeds((*argv)[i]);
	return 0;
}
