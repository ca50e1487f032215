/* model.c — reference model of ferry's switching semantics (doc/semantics.md), the oracle of the
 * pcap replay tests. Written for obviousness, not speed: the FDB is a plain array searched
 * linearly, and every step of "One burst, from ingress port P" is a small function named after it.
 * Learned entries never age here (replays last seconds; fdb.aging is minutes) and the FDB has no
 * capacity limit (scenarios stay far below fdb.size). */
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define ETH_HDR_LEN   14
#define VLAN_HDR_LEN  18
#define TPID_8021Q    0x8100
#define TPID_8021AD   0x88a8
#define TPID_QINQ_OLD 0x9100      /* "Tags and VLAN hopping": a tag TPID like the other two */
#define TCI_VID_MASK  0x0fff
#define TCI_PRIO_MASK 0xf000      /* PCP and DEI: preserved on egress */
/* The TPID of every egress tag: doc/semantics.md step 7, "TPID 0x8100, whatever TPID it arrived
 * with" (0x88a8 and 0x9100 outer tags leave as 802.1Q tags). */
#define EGRESS_TPID   TPID_8021Q

const char *const model_drop_names[MODEL_DROP_COUNT] = {
	[MODEL_DROP_RUNT] = "runt",
	[MODEL_DROP_INVALID_SRC] = "invalid_src",
	[MODEL_DROP_SPOOF] = "spoof",
	[MODEL_DROP_VLAN] = "vlan",
	[MODEL_DROP_VLAN_HOP] = "vlan_hop",
	[MODEL_DROP_ADMIN_DOWN] = "admin_down",
	[MODEL_DROP_NO_DEST] = "no_dest",
};

/* ---- FDB: (MAC, VLAN) -> port ---- */

struct fdb_entry {
	uint8_t mac[6];
	int vlan;
	int port;
	bool is_static;
};

struct fdb {
	struct fdb_entry *e;
	size_t n, cap;
};

static struct fdb_entry *
fdb_find(const struct fdb *f, const uint8_t *mac, int vlan)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->e[i].vlan == vlan && memcmp(f->e[i].mac, mac, 6) == 0)
			return &f->e[i];
	return NULL;
}

/* Adds (mac, vlan) -> port unless the key exists. */
static int
fdb_add(struct fdb *f, const uint8_t *mac, int vlan, int port, bool is_static)
{
	if (fdb_find(f, mac, vlan) != NULL)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 256;
		struct fdb_entry *e = realloc(f->e, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		f->e = e;
		f->cap = cap;
	}
	struct fdb_entry *n = &f->e[f->n++];
	memcpy(n->mac, mac, 6);
	n->vlan = vlan;
	n->port = port;
	n->is_static = is_static;
	return 0;
}

/* ---- VLAN membership ---- */

int
model_port_untagged_vlan(const struct model_port_cfg *p)
{
	switch (p->mode) {
	case MODEL_VLAN_ACCESS: return p->tag;
	case MODEL_VLAN_TRUNK:  return p->native ? p->native : MODEL_NO_VLAN;
	default:                return 0;
	}
}

bool
model_port_carries(const struct model_port_cfg *p, int vlan)
{
	if (vlan < 0 || vlan > MODEL_VLAN_MAX)
		return false;
	switch (p->mode) {
	case MODEL_VLAN_ACCESS:
		return vlan == p->tag;
	case MODEL_VLAN_TRUNK:
		if (p->native != 0 && vlan == p->native)
			return true;
		return vlan != 0 && (p->allow_all || p->allowed[vlan]);
	default:
		return true;     /* every VLAN, 0 (untagged) included */
	}
}

/* Static entries: access -> (mac, tag); trunk with "allowed" -> (mac, v) for each allowed v and
 * the native VLAN; trunk of all VLANs (and the default port) -> none. */
static int
fdb_add_static(struct fdb *f, const struct model_port_cfg *p, int port)
{
	for (int m = 0; m < p->n_mac; m++) {
		for (int v = 1; v <= MODEL_VLAN_MAX; v++) {
			bool is_static = false;
			if (p->mode == MODEL_VLAN_ACCESS)
				is_static = v == p->tag;
			else if (p->mode == MODEL_VLAN_TRUNK && !p->allow_all)
				is_static = p->allowed[v] || v == p->native;
			if (is_static && fdb_add(f, p->mac[m], v, port, true) != 0)
				return -1;
		}
	}
	return 0;
}

/* ---- the switch ---- */

struct model {
	const struct model_port_cfg *cfg;
	struct model_port_io *io;
	int n_ports;
	struct fdb fdb;
	struct model_stats *stats;
};

/* A frame's outer Ethernet/VLAN header (step 1). */
struct l2 {
	bool tagged;            /* outer ethertype a tag TPID: 0x8100, 0x88a8 or 0x9100 */
	bool inner;             /* tagged, and the ethertype after the outer tag is a tag TPID too */
	uint16_t tci;
	const uint8_t *dst, *src;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
is_zero_mac(const uint8_t *mac)
{
	static const uint8_t zero[6];
	return memcmp(mac, zero, 6) == 0;
}

static bool
is_group_mac(const uint8_t *mac)
{
	return mac[0] & 1;
}

static bool
is_tag_tpid(uint16_t type)
{
	return type == TPID_8021Q || type == TPID_8021AD || type == TPID_QINQ_OLD;
}

/* Step 1: false for a runt. */
static bool
parse_l2(const struct model_frame *f, struct l2 *h)
{
	if (f->len < ETH_HDR_LEN)
		return false;
	h->tagged = is_tag_tpid(get16(f->data + 12));
	if (h->tagged && f->len < VLAN_HDR_LEN)
		return false;
	h->inner = h->tagged && is_tag_tpid(get16(f->data + 16));
	h->tci = h->tagged ? get16(f->data + 14) : 0;
	h->dst = f->data;
	h->src = f->data + 6;
	return true;
}

/* Step 2: the frame's VLAN on ingress port p, or -1 (drop "vlan"). */
static int
ingress_vlan(const struct model_port_cfg *p, const struct l2 *h)
{
	int vid = h->tci & TCI_VID_MASK;
	int vlan;

	if (!h->tagged || vid == 0)
		vlan = model_port_untagged_vlan(p);
	else if (p->mode == MODEL_VLAN_ACCESS)
		return -1;
	else
		vlan = vid;
	return model_port_carries(p, vlan) ? vlan : -1;
}

static bool
in_mac_list(const struct model_port_cfg *p, const uint8_t *mac)
{
	for (int i = 0; i < p->n_mac; i++)
		if (memcmp(p->mac[i], mac, 6) == 0)
			return true;
	return false;
}

/* Steps 1-4 (admin state first): MODEL_FORWARDED if the frame may be switched, else the drop
 * reason. Sets *vlan once step 2 has passed. */
static enum model_drop
check_ingress(const struct model *m, int p, const struct model_frame *f, struct l2 *h, int *vlan)
{
	const struct model_port_cfg *pc = &m->cfg[p];

	*vlan = -1;
	if (pc->admin_down)
		return MODEL_DROP_ADMIN_DOWN;
	if (!parse_l2(f, h))
		return MODEL_DROP_RUNT;
	if (h->tagged && (h->tci & TCI_VID_MASK) == 0 && h->inner)   /* priority tag + tag */
		return MODEL_DROP_VLAN_HOP;
	*vlan = ingress_vlan(pc, h);
	if (*vlan < 0)
		return MODEL_DROP_VLAN;
	if (is_group_mac(h->src) || is_zero_mac(h->src))
		return MODEL_DROP_INVALID_SRC;
	if (pc->n_mac > 0 && !in_mac_list(pc, h->src))
		return MODEL_DROP_SPOOF;
	const struct fdb_entry *e = fdb_find(&m->fdb, h->src, *vlan);
	if (e != NULL && e->is_static && e->port != p)
		return MODEL_DROP_SPOOF;
	return MODEL_FORWARDED;
}

/* Step 5: learn src (mac, vlan) -> p unless static, before the frame's destination is looked up. */
static int
learn(struct model *m, const uint8_t *mac, int vlan, int p)
{
	struct fdb_entry *e = fdb_find(&m->fdb, mac, vlan);

	if (e == NULL) {
		m->stats->learned++;
		return fdb_add(&m->fdb, mac, vlan, p, false);
	}
	if (!e->is_static && e->port != p) {
		m->stats->moves++;
		e->port = p;
	}
	return 0;
}

/* Step 7: the frame as it leaves port q in `vlan`. */
static int
encode_egress(const struct model_port_cfg *q, const struct model_frame *f, const struct l2 *h,
	      int vlan, struct model_frame *out)
{
	size_t body_off = h->tagged ? 16 : 12;      /* what follows dst, src and the outer tag */
	size_t body_len = f->len - body_off;
	bool tag = vlan != model_port_untagged_vlan(q);

	out->len = (uint32_t)(12 + (tag ? 4 : 0) + body_len);
	out->data = malloc(out->len ? out->len : 1);
	if (out->data == NULL)
		return -1;
	memcpy(out->data, f->data, 12);
	if (tag) {
		uint16_t tci = (uint16_t)((h->tci & TCI_PRIO_MASK) | vlan);
		uint8_t t[4] = { EGRESS_TPID >> 8, EGRESS_TPID & 0xff, tci >> 8, tci & 0xff };
		memcpy(out->data + 12, t, 4);
	}
	memcpy(out->data + out->len - body_len, f->data + body_off, body_len);
	return 0;
}

static int
send_to(struct model *m, int q, const struct model_frame *f, const struct l2 *h, int vlan,
	struct model_fate *fate)
{
	struct model_port_io *io = &m->io[q];

	if (io->n_out == io->cap_out) {
		size_t cap = io->cap_out ? 2 * io->cap_out : 64;
		struct model_frame *o = realloc(io->out, cap * sizeof(*o));
		if (o == NULL)
			return -1;
		io->out = o;
		io->cap_out = cap;
	}
	if (encode_egress(&m->cfg[q], f, h, vlan, &io->out[io->n_out]) != 0)
		return -1;
	fate->out[fate->n_out].port = q;
	fate->out[fate->n_out].index = io->n_out++;
	fate->n_out++;
	return 0;
}

static bool
can_egress(const struct model *m, int q, int vlan)
{
	return !m->cfg[q].admin_down && model_port_carries(&m->cfg[q], vlan);
}

/* Step 6's hop rule: a frame with an inner tag never leaves a port where its VLAN is untagged. */
static bool
would_hop(const struct model *m, int q, const struct l2 *h, int vlan)
{
	return h->inner && vlan == model_port_untagged_vlan(&m->cfg[q]);
}

/* Step 6, with the destination looked up in the FDB as it is now: after the learning of this frame
 * and of every frame switched before it (of this burst too). Sets
 * *withheld if a port was left out by the hop rule (the frame's drop reason if it went nowhere). */
static int
forward(struct model *m, int p, const struct model_frame *f, const struct l2 *h, int vlan,
	struct model_fate *fate, bool *withheld)
{
	const struct fdb_entry *e = fdb_find(&m->fdb, h->dst, vlan);

	*withheld = false;
	if (!is_group_mac(h->dst) && e != NULL) {
		if (e->port == p || !can_egress(m, e->port, vlan))
			return 0;
		if (would_hop(m, e->port, h, vlan)) {
			*withheld = true;
			return 0;
		}
		return send_to(m, e->port, f, h, vlan, fate);
	}
	for (int q = 0; q < m->n_ports; q++) {
		if (q == p || !can_egress(m, q, vlan))
			continue;
		if (would_hop(m, q, h, vlan))
			*withheld = true;
		else if (send_to(m, q, f, h, vlan, fate) != 0)
			return -1;
	}
	return 0;
}

/* One rx burst of n frames from port p, starting at input index first. Frames are switched one
 * at a time, each one completely (checks, learning, forwarding) before the next: the burst size
 * changes nothing but the order in which the ports' inputs are polled. */
static int
process_burst(struct model *m, int p, size_t first, size_t n)
{
	struct model_port_io *io = &m->io[p];

	for (size_t i = first; i < first + n; i++) {
		const struct model_frame *f = &io->in[i];
		struct model_fate *fate = &io->fate[i];
		struct l2 h;
		bool withheld;

		memset(fate, 0, sizeof(*fate));
		fate->verdict = check_ingress(m, p, f, &h, &fate->vlan);
		if (fate->verdict != MODEL_FORWARDED) {
			io->drops[fate->verdict]++;
			continue;
		}
		if (learn(m, h.src, fate->vlan, p) != 0)
			return -1;
		if (forward(m, p, f, &h, fate->vlan, fate, &withheld) != 0)
			return -1;
		if (fate->n_out == 0) {
			fate->verdict = withheld ? MODEL_DROP_VLAN_HOP : MODEL_DROP_NO_DEST;
			io->drops[fate->verdict]++;
		}
	}
	return 0;
}

int
model_run(const struct model_port_cfg *cfg, struct model_port_io *io, int n_ports,
	  unsigned burst, struct model_stats *stats)
{
	struct model m = { .cfg = cfg, .io = io, .n_ports = n_ports, .stats = stats };
	size_t pos[MODEL_MAX_PORTS] = { 0 };
	bool more = true;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	for (int p = 0; p < n_ports && rc == 0; p++) {
		io[p].fate = calloc(io[p].n_in ? io[p].n_in : 1, sizeof(*io[p].fate));
		rc = io[p].fate == NULL ? -1 : fdb_add_static(&m.fdb, &cfg[p], p);
	}
	/* Rounds: each port in config order gets one burst of up to `burst` frames; a port whose
	 * input is exhausted is skipped; until all inputs are consumed. */
	while (more && rc == 0) {
		more = false;
		for (int p = 0; p < n_ports && rc == 0; p++) {
			size_t n = io[p].n_in - pos[p];
			if (n == 0)
				continue;
			n = n < burst ? n : burst;
			rc = process_burst(&m, p, pos[p], n);
			pos[p] += n;
			stats->bursts++;
			more = true;
		}
	}
	free(m.fdb.e);
	return rc;
}

void
model_io_free(struct model_port_io *io, int n_ports)
{
	for (int p = 0; p < n_ports; p++) {
		for (size_t i = 0; i < io[p].n_out; i++)
			free(io[p].out[i].data);
		free(io[p].out);
		free(io[p].fate);
		io[p].out = NULL;
		io[p].fate = NULL;
		io[p].n_out = io[p].cap_out = 0;
	}
}
