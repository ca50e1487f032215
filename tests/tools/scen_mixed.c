/* scen_mixed.c — the "mixed" pcap replay scenario: 100 000 pseudo-random frames (seeded) over
 * five ports (a trunk with native VLAN, two access ports, a trunk of all VLANs, a default port)
 * from ~200 stations: unicast, broadcast, IPv4/IPv6 multicast, unknown unicast, VLANs allowed and
 * not, invalid and spoofed sources, runts, occasional MAC moves, outer tags of every TPID, and
 * inner tags (QinQ on trunks, priority tag + tag everywhere). Only the model computes the
 * expected output; scenario_mixed_check asserts that the traffic exercised what it should.
 * mixed_rounds is the same traffic laid out one sending port per round (see below). */
#include <string.h>

#include "scenario.h"

#define MIXED_FRAMES 100000
#define N_STATIONS   200
#define N_PINNED     8           /* vm1's stations: its "mac" list (static entries) */

enum { UPLINK, VM1, VM2, TR2, DEF, N_MIXED_PORTS };

struct station {
	uint8_t mac[6];
	int vlan;
	int home;                /* port it sends from */
};

struct mixed {
	struct scenario *sc;
	uint64_t rng;
	struct station st[N_STATIONS];
};

/* splitmix64 */
static uint64_t
rnd(struct mixed *mx)
{
	uint64_t z = (mx->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned
below(struct mixed *mx, unsigned n)
{
	return (unsigned)(rnd(mx) % n);
}

static void
random_mac(struct mixed *mx, uint8_t *mac, uint8_t first)
{
	uint64_t r = rnd(mx);

	mac[0] = first;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(r >> (8 * i));
}

/* A random port other than `not` that carries vlan; vm1 hosts only its pinned stations. */
static int
random_home(struct mixed *mx, int vlan, int not)
{
	int cand[N_MIXED_PORTS], n = 0;

	for (int p = 0; p < N_MIXED_PORTS; p++)
		if (p != VM1 && p != not && model_port_carries(&mx->sc->port[p], vlan))
			cand[n++] = p;
	return n ? cand[below(mx, (unsigned)n)] : not;
}

static void
make_ports(struct scenario *sc)
{
	port_trunk(sc_port(sc, "uplink"), ALLOWED(10, 20, 30, 40), 10);
	port_access(sc_port(sc, "vm1"), 10);
	port_access(sc_port(sc, "vm2"), 20);
	port_trunk(sc_port(sc, "tr2"), NULL, 30);
	sc_port(sc, "def");
}

static void
make_stations(struct mixed *mx)
{
	static const int vlans[] = { 10, 20, 30, 40, 50 };

	for (int i = 0; i < N_STATIONS; i++) {
		struct station *s = &mx->st[i];
		const uint8_t mac[6] = { 0x02, 0x5e, 0xed, (uint8_t)below(mx, 256), 0, (uint8_t)i };
		memcpy(s->mac, mac, 6);
		if (i < N_PINNED) {
			s->vlan = 10;
			s->home = VM1;
			port_mac(&mx->sc->port[VM1], s->mac);
			continue;
		}
		s->vlan = below(mx, 20) == 0 ? 0 : vlans[below(mx, 5)];
		s->home = random_home(mx, s->vlan, -1);
	}
}

/* Another station in the same VLAN, or NULL. */
static const struct station *
random_peer(struct mixed *mx, const struct station *s)
{
	for (int tries = 0; tries < 64; tries++) {
		const struct station *p = &mx->st[below(mx, N_STATIONS)];
		if (p != s && p->vlan == s->vlan)
			return p;
	}
	return NULL;
}

/* How a frame of `vlan` is sent on port: untagged (sometimes priority-tagged) in the port's
 * untagged VLAN, tagged otherwise, with a random PCP. */
static void
encode_vlan(struct mixed *mx, struct frame_spec *fs, int port, int vlan)
{
	bool native = vlan == model_port_untagged_vlan(&mx->sc->port[port]);

	fs->tagged = !native || below(mx, 10) == 0;
	fs->vid = native ? 0 : (uint16_t)vlan;
	fs->pcp = fs->tagged ? (uint8_t)below(mx, 8) : 0;
	fs->dei = fs->tagged && below(mx, 20) == 0;
}

/* Now and then an outer 802.1ad or 0x9100 tag instead of 802.1Q, and an inner tag of any TPID
 * behind a tag (QinQ) or behind a priority tag put in front of an untagged frame (a VLAN hop). */
static void
encode_tags(struct mixed *mx, struct frame_spec *fs)
{
	static const uint16_t tpid[] = { TPID_8021Q, TPID_8021AD, TPID_QINQ };

	if (fs->tagged && below(mx, 8) == 0)
		fs->tpid = tpid[below(mx, 3)];
	if (below(mx, 40) != 0)
		return;
	if (!fs->tagged) {
		fs->tagged = true;
		fs->vid = 0;
		fs->tpid = tpid[below(mx, 3)];
	}
	fs->inner = true;
	fs->inner_tpid = tpid[below(mx, 3)];
	fs->inner_vid = (uint16_t)below(mx, 4096);
}

/* Untagged-equivalent length 60..1510, mostly small; a tag adds 4 (so every frame, in or out,
 * stays <= 1514 bytes). */
static uint32_t
random_len(struct mixed *mx)
{
	unsigned r = below(mx, 10);

	if (r < 6)
		return 60 + below(mx, 68);
	if (r < 9)
		return 128 + below(mx, 472);
	return 600 + below(mx, 911);
}

/* Picks the destination and the kind of frame; may change the sending port, VLAN and source. */
static void
choose_traffic(struct mixed *mx, const struct station *s, struct frame_spec *fs, uint8_t *dst,
	       uint8_t *src, int *port, int *vlan)
{
	unsigned r = below(mx, 1000);
	const struct station *peer;

	memcpy(dst, mac_broadcast, 6);
	if (r < 700) {                                   /* unicast to a station */
		if ((peer = random_peer(mx, s)) != NULL)
			memcpy(dst, peer->mac, 6);
	} else if (r < 780) {                            /* broadcast */
	} else if (r < 840) {                            /* IPv4 multicast */
		const uint8_t m[6] = { 0x01, 0x00, 0x5e, (uint8_t)below(mx, 128), 0, (uint8_t)below(mx, 8) };
		memcpy(dst, m, 6);
		fs->ipv6 = false;
	} else if (r < 900) {                            /* IPv6 multicast */
		const uint8_t m[6] = { 0x33, 0x33, 0xff, 0, 0, (uint8_t)below(mx, 8) };
		memcpy(dst, m, 6);
		fs->ipv6 = true;
	} else if (r < 950) {                            /* unknown unicast */
		random_mac(mx, dst, 0x06);
	} else if (r < 970) {                            /* a VLAN the port does not carry */
		*port = below(mx, 2) ? UPLINK : VM2;
		*vlan = 60 + (int)below(mx, 100);
	} else if (r < 980) {                            /* invalid source */
		static const uint8_t bad[3][6] = { { 0 }, { 0x01, 0x00, 0x5e, 0, 0, 1 },
						   { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
		memcpy(src, bad[below(mx, 3)], 6);
	} else if (r < 985) {                            /* vm1's static MAC from elsewhere */
		memcpy(src, mx->st[below(mx, N_PINNED)].mac, 6);
		*vlan = 10;
		*port = random_home(mx, 10, VM1);
	} else if (r < 990) {                            /* a MAC not in vm1's list */
		*port = VM1;
		*vlan = 10;
	} else if (r < 995) {                            /* runt */
		fs->truncate = true;
		fs->trunc_len = below(mx, 18);
	} else {                                         /* to one of vm1's stations */
		memcpy(dst, mx->st[below(mx, N_PINNED)].mac, 6);
	}
}

/* The next random frame: fills *fs (its MACs in dst and src) and returns its ingress port. */
static int
mixed_spec(struct mixed *mx, struct frame_spec *fs, uint8_t *dst, uint8_t *src)
{
	struct station *s = &mx->st[below(mx, N_STATIONS)];
	int port, vlan = s->vlan;

	*fs = (struct frame_spec){ .dst = dst, .src = src, .ipv6 = below(mx, 2), .tcp = below(mx, 2) };

	if (s->home != VM1 && below(mx, 500) == 0)      /* MAC move */
		s->home = random_home(mx, s->vlan, s->home);
	port = s->home;
	memcpy(src, s->mac, 6);
	choose_traffic(mx, s, fs, dst, src, &port, &vlan);
	encode_vlan(mx, fs, port, vlan);
	encode_tags(mx, fs);
	fs->len = random_len(mx) + (fs->tagged ? 4 : 0) + (fs->inner ? 4 : 0);   /* pkt_build caps */
	return port;
}

static void
mixed_frame(struct mixed *mx)
{
	uint8_t dst[6], src[6];
	struct frame_spec fs;
	int port = mixed_spec(mx, &fs, dst, src);

	sc_send(mx->sc, mx->sc->port[port].name, &fs);
}

static struct mixed *
mixed_init(struct scenario *sc, bool free_running)
{
	static struct mixed mx;

	memset(&mx, 0, sizeof(mx));
	mx.sc = sc;
	mx.rng = sc->seed;
	sc->free_running = free_running;
	make_ports(sc);
	make_stations(&mx);
	return &mx;
}

void
scenario_mixed_build(struct scenario *sc)
{
	struct mixed *mx = mixed_init(sc, true);

	for (int i = 0; i < MIXED_FRAMES; i++)
		mixed_frame(mx);
}

/* mixed_rounds: the same random traffic, each port's frames held back until it has a burst of
 * them (SC_BURST), which then makes up a whole round alone (the other ports get filler frames
 * there). Only one port sends per round, so the frames are switched in the same order with
 * bursts of 1 and of 32, and the outputs must be the same (tests/pcap/run.sh replays both). */
struct held {
	uint8_t data[SC_BURST][PKT_MAX];
	uint32_t len[SC_BURST];
	unsigned n;
};

static void
release_round(struct scenario *sc, int port, struct held *h)
{
	for (unsigned i = 0; i < h->n; i++)
		sc_send_raw(sc, port, h->data[i], h->len[i]);
	h->n = 0;
	sc_next_round(sc);
}

void
scenario_mixed_rounds_build(struct scenario *sc)
{
	static struct held held[N_MIXED_PORTS];
	struct mixed *mx = mixed_init(sc, false);

	for (int p = 0; p < N_MIXED_PORTS; p++)
		held[p].n = 0;
	for (int i = 0; i < MIXED_FRAMES; i++) {
		uint8_t dst[6], src[6];
		struct frame_spec fs;
		int port = mixed_spec(mx, &fs, dst, src);
		struct held *h = &held[port];

		fs.seq = (uint32_t)i;
		h->len[h->n] = pkt_build(h->data[h->n], &fs);
		if (++h->n == sc->burst)
			release_round(sc, port, h);
	}
	for (int p = 0; p < N_MIXED_PORTS; p++)
		if (held[p].n != 0)
			release_round(sc, p, &held[p]);
}

void
scenario_mixed_rounds_check(struct scenario *sc)
{
	scenario_mixed_check(sc);
	sc_check_burst_invariant(sc);
}

void
scenario_mixed_check(struct scenario *sc)
{
	uint64_t drops[MODEL_DROP_COUNT] = { 0 }, forwarded = 0;

	for (int p = 0; p < sc->n_ports; p++) {
		if (sc->io[p].n_out == 0)
			sc_fail(sc, "sanity: nothing was sent to port %s", sc->port[p].name);
		for (int r = 0; r < MODEL_DROP_COUNT; r++)
			drops[r] += sc->io[p].drops[r];
		for (size_t i = 0; i < sc->io[p].n_in; i++)
			forwarded += sc->io[p].fate[i].verdict == MODEL_FORWARDED;
	}
	for (int r = 0; r < MODEL_DROP_COUNT; r++)
		if (drops[r] == 0 && r != MODEL_DROP_ADMIN_DOWN)
			sc_fail(sc, "sanity: no frame was dropped as '%s'", model_drop_names[r]);
	if (forwarded < sc->n_ev / 2)
		sc_fail(sc, "sanity: only %llu of %zu frames forwarded", (unsigned long long)forwarded,
			sc->n_ev);
	if (sc->stats.moves == 0 || sc->stats.learned < N_STATIONS / 2)
		sc_fail(sc, "sanity: %llu MACs learned, %llu moves", (unsigned long long)sc->stats.learned,
			(unsigned long long)sc->stats.moves);
}
