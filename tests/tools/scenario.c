/* scenario.c — the scenario framework of ferry-pcapgen (see scenario.h): port setup, event
 * queueing in burst rounds, and the check of hand-written expectations against the model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static const char filler_text[] = "ferry-filler!";   /* 13 bytes: a runt */

struct expectation {
	enum { EXP_OUT, EXP_DROP, EXP_DROPS } kind;
	int line;
	size_t ev;
	int port;
	enum model_drop reason;
	uint64_t count;
	int n_eg;
	struct egress eg[MODEL_MAX_PORTS];
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ferry-pcapgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Makes room for one more element in a growable array. */
static void *
grow(void *v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 64;
	v = realloc(v, *cap * elem);
	if (v == NULL)
		die("out of memory");
	return v;
}

/* ---- ports ---- */

struct model_port_cfg *
sc_port(struct scenario *sc, const char *name)
{
	if (sc->n_ports == MODEL_MAX_PORTS)
		die("%s: too many ports", sc->name);
	struct model_port_cfg *p = &sc->port[sc->n_ports++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->mode = MODEL_VLAN_DEFAULT;
	return p;
}

void
port_access(struct model_port_cfg *p, uint16_t tag)
{
	p->mode = MODEL_VLAN_ACCESS;
	p->tag = tag;
}

void
port_trunk(struct model_port_cfg *p, const int *allowed, uint16_t native)
{
	p->mode = MODEL_VLAN_TRUNK;
	p->allow_all = allowed == NULL;
	for (; allowed != NULL && *allowed != 0; allowed++)
		p->allowed[*allowed] = true;
	p->native = native;
}

void
port_mac(struct model_port_cfg *p, const uint8_t *mac)
{
	if (p->n_mac == MODEL_MAX_MACS)
		die("port %s: too many MACs", p->name);
	memcpy(p->mac[p->n_mac++], mac, 6);
}

int
sc_port_index(const struct scenario *sc, const char *name)
{
	for (int i = 0; i < sc->n_ports; i++)
		if (strcmp(sc->port[i].name, name) == 0)
			return i;
	die("%s: no port named '%s'", sc->name, name);
	return -1;
}

/* ---- events ---- */

static size_t
push_frame(struct frame_vec *q, const uint8_t *data, uint32_t len)
{
	q->v = grow(q->v, &q->cap, q->n, sizeof(*q->v));
	struct model_frame *f = &q->v[q->n];
	f->data = malloc(len ? len : 1);
	if (f->data == NULL)
		die("out of memory");
	memcpy(f->data, data, len);
	f->len = len;
	return q->n++;
}

/* Fills port p's input with filler frames up to the start of the current round. */
static void
pad_to_round(struct scenario *sc, int p)
{
	size_t start = (size_t)sc->round * sc->burst;

	while (!sc->free_running && sc->in[p].n < start)
		push_frame(&sc->in[p], (const uint8_t *)filler_text, sizeof(filler_text) - 1);
}

size_t
sc_send_raw(struct scenario *sc, int p, const uint8_t *data, uint32_t len)
{
	pad_to_round(sc, p);
	size_t index = push_frame(&sc->in[p], data, len);
	if (!sc->free_running && index >= (size_t)(sc->round + 1) * sc->burst)
		die("%s: port %s has more than %u frames in round %u", sc->name, sc->port[p].name,
		    sc->burst, sc->round);
	sc->ev = grow(sc->ev, &sc->cap_ev, sc->n_ev, sizeof(*sc->ev));
	sc->ev[sc->n_ev].port = p;
	sc->ev[sc->n_ev].index = index;
	return sc->n_ev++;
}

size_t
sc_send(struct scenario *sc, const char *port, const struct frame_spec *fs)
{
	struct frame_spec spec = *fs;
	uint8_t buf[PKT_MAX];

	spec.seq = (uint32_t)sc->n_ev;
	return sc_send_raw(sc, sc_port_index(sc, port), buf, pkt_build(buf, &spec));
}

void
sc_next_round(struct scenario *sc)
{
	sc->round++;
}

/* ---- expectations ---- */

static struct expectation *
new_expectation(struct scenario *sc, int line, int kind)
{
	sc->exp = grow(sc->exp, &sc->cap_exp, sc->n_exp, sizeof(*sc->exp));
	struct expectation *e = &sc->exp[sc->n_exp++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->line = line;
	return e;
}

void
sc_expect_out(struct scenario *sc, int line, size_t ev, const struct egress *eg)
{
	struct expectation *e = new_expectation(sc, line, EXP_OUT);

	e->ev = ev;
	for (; eg->port != NULL && e->n_eg < MODEL_MAX_PORTS; eg++)
		e->eg[e->n_eg++] = *eg;
}

void
sc_expect_drop(struct scenario *sc, int line, size_t ev, enum model_drop reason)
{
	struct expectation *e = new_expectation(sc, line, EXP_DROP);

	e->ev = ev;
	e->reason = reason;
}

void
sc_expect_drops(struct scenario *sc, int line, const char *port, enum model_drop reason,
		uint64_t n)
{
	struct expectation *e = new_expectation(sc, line, EXP_DROPS);

	e->port = sc_port_index(sc, port);
	e->reason = reason;
	e->count = n;
}

void
sc_fail(struct scenario *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ferry-pcapgen: %s: ", sc->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	sc->failures++;
}

/* ---- checking ---- */

struct text {
	char s[512];
	size_t n;
};

static void __attribute__((format(printf, 2, 3)))
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->n >= sizeof(t->s))
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	t->n += n > 0 ? (size_t)n : 0;
}

static const struct model_frame *
event_input(const struct scenario *sc, size_t ev)
{
	return &sc->in[sc->ev[ev].port].v[sc->ev[ev].index];
}

static const struct model_fate *
event_fate(const struct scenario *sc, size_t ev)
{
	return &sc->io[sc->ev[ev].port].fate[sc->ev[ev].index];
}

/* Events of port p (filler frames are not events) dropped for reason. */
static uint64_t
count_event_drops(const struct scenario *sc, int p, enum model_drop reason)
{
	uint64_t n = 0;

	for (size_t i = 0; i < sc->n_ev; i++)
		n += sc->ev[i].port == p && event_fate(sc, i)->verdict == reason;
	return n;
}

/* A tag TPID (0x8100, 0x88a8, 0x9100) at offset off of a frame of len bytes. */
static bool
tag_at(const struct model_frame *f, uint32_t off)
{
	if (f->len < off + 2)
		return false;
	unsigned type = (unsigned)(f->data[off] << 8 | f->data[off + 1]);
	return type == TPID_8021Q || type == TPID_8021AD || type == TPID_QINQ;
}

static void
describe_frame_encoding(struct text *t, const struct model_frame *f)
{
	if (f->len >= 16 && f->data[12] == 0x81 && f->data[13] == 0x00) {
		unsigned tci = (unsigned)(f->data[14] << 8 | f->data[15]);
		text_add(t, "tagged vid %u pcp %u%s", tci & 0xfff, tci >> 13, tci & 0x1000 ? " dei" : "");
	} else if (tag_at(f, 12)) {
		text_add(t, "tpid 0x%02x%02x (not 802.1Q)", f->data[12], f->data[13]);
	} else {
		text_add(t, "untagged");
	}
	if (tag_at(f, 16))
		text_add(t, " + inner tag");
}

static void
describe_fate(struct text *t, const struct scenario *sc, const struct model_fate *fate)
{
	if (fate->verdict != MODEL_FORWARDED) {
		text_add(t, "dropped (%s)", model_drop_names[fate->verdict]);
		return;
	}
	for (int i = 0; i < fate->n_out; i++) {
		int q = fate->out[i].port;
		text_add(t, "%s%s ", i ? ", " : "", sc->port[q].name);
		describe_frame_encoding(t, &sc->io[q].out[fate->out[i].index]);
	}
}

static void
describe_egress(struct text *t, const struct expectation *e)
{
	for (int i = 0; i < e->n_eg; i++) {
		const struct egress *g = &e->eg[i];
		text_add(t, "%s%s ", i ? ", " : "", g->port);
		if (g->vid < 0)
			text_add(t, "untagged");
		else
			text_add(t, "tagged vid %d pcp %u%s", g->vid, g->pcp, g->dei ? " dei" : "");
	}
}

/* The bytes the expectation says must leave: the input without its outer tag (any tag TPID), plus
 * the expected 802.1Q tag if any. An inner tag stays, as payload. */
static uint32_t
expected_bytes(const struct model_frame *in, const struct egress *g, uint8_t *out)
{
	bool tagged = in->len >= 18 && tag_at(in, 12);
	uint32_t body = tagged ? 16 : 12, n = 12;

	memcpy(out, in->data, 12);
	if (g->vid >= 0) {
		unsigned tci = (unsigned)(g->pcp << 13 | g->dei << 12 | g->vid);
		const uint8_t tag[4] = { 0x81, 0x00, tci >> 8, tci & 0xff };
		memcpy(out + 12, tag, 4);
		n += 4;
	}
	memcpy(out + n, in->data + body, in->len - body);
	return n + in->len - body;
}

static bool
egress_matches(const struct scenario *sc, const struct model_frame *in,
	       const struct model_fate *fate, const struct egress *g)
{
	int q = sc_port_index(sc, g->port);
	uint8_t want[PKT_MAX + 8];

	for (int i = 0; i < fate->n_out; i++) {
		if (fate->out[i].port != q)
			continue;
		const struct model_frame *got = &sc->io[q].out[fate->out[i].index];
		uint32_t n = expected_bytes(in, g, want);
		return got->len == n && memcmp(got->data, want, n) == 0;
	}
	return false;
}

static bool
expectation_holds(const struct scenario *sc, const struct expectation *e)
{
	const struct model_fate *fate;

	switch (e->kind) {
	case EXP_OUT:
		fate = event_fate(sc, e->ev);
		if (fate->verdict != MODEL_FORWARDED || fate->n_out != e->n_eg)
			return false;
		for (int i = 0; i < e->n_eg; i++)
			if (!egress_matches(sc, event_input(sc, e->ev), fate, &e->eg[i]))
				return false;
		return true;
	case EXP_DROP:
		return event_fate(sc, e->ev)->verdict == e->reason;
	default:
		return count_event_drops(sc, e->port, e->reason) == e->count;
	}
}

static void
report_failure(struct scenario *sc, const struct expectation *e)
{
	struct text want = { .n = 0 }, got = { .n = 0 };

	if (e->kind == EXP_DROPS) {
		sc_fail(sc, "line %d: port %s: expected %llu '%s' drops, the model has %llu", e->line,
			sc->port[e->port].name, (unsigned long long)e->count,
			model_drop_names[e->reason],
			(unsigned long long)count_event_drops(sc, e->port, e->reason));
		return;
	}
	if (e->kind == EXP_OUT)
		describe_egress(&want, e);
	else
		text_add(&want, "dropped (%s)", model_drop_names[e->reason]);
	describe_fate(&got, sc, event_fate(sc, e->ev));
	sc_fail(sc, "line %d: event %zu (%s input frame %zu):\n    expected: %s\n    model:    %s",
		e->line, e->ev, sc->port[sc->ev[e->ev].port].name, sc->ev[e->ev].index, want.s, got.s);
}

/* The model's drop counters must agree with the fates it reported. */
static void
check_counters(struct scenario *sc)
{
	for (int p = 0; p < sc->n_ports; p++) {
		uint64_t n[MODEL_DROP_COUNT] = { 0 };
		for (size_t i = 0; i < sc->io[p].n_in; i++)
			if (sc->io[p].fate[i].verdict != MODEL_FORWARDED)
				n[sc->io[p].fate[i].verdict]++;
		for (int r = 0; r < MODEL_DROP_COUNT; r++)
			if (n[r] != sc->io[p].drops[r])
				sc_fail(sc, "model: port %s counts %llu '%s' drops but %llu frames have that fate",
					sc->port[p].name, (unsigned long long)sc->io[p].drops[r],
					model_drop_names[r], (unsigned long long)n[r]);
	}
}

void
sc_check_expectations(struct scenario *sc)
{
	check_counters(sc);
	for (size_t i = 0; i < sc->n_exp; i++)
		if (!expectation_holds(sc, &sc->exp[i]))
			report_failure(sc, &sc->exp[i]);
}

static bool
same_frames(const struct model_port_io *a, const struct model_port_io *b)
{
	if (a->n_out != b->n_out || memcmp(a->drops, b->drops, sizeof(a->drops)) != 0)
		return false;
	for (size_t i = 0; i < a->n_out; i++)
		if (a->out[i].len != b->out[i].len ||
		    memcmp(a->out[i].data, b->out[i].data, a->out[i].len) != 0)
			return false;
	return true;
}

void
sc_check_burst_invariant(struct scenario *sc)
{
	struct model_port_io io1[MODEL_MAX_PORTS];
	struct model_stats st;

	memset(io1, 0, sizeof(io1));
	for (int p = 0; p < sc->n_ports; p++) {
		io1[p].in = sc->io[p].in;
		io1[p].n_in = sc->io[p].n_in;
	}
	if (model_run(sc->port, io1, sc->n_ports, 1, &st) != 0)
		die("out of memory");
	for (int p = 0; p < sc->n_ports; p++)
		if (!same_frames(&sc->io[p], &io1[p]))
			sc_fail(sc, "model: port %s: the output or drops with burst 1 differ from burst %u",
				sc->port[p].name, sc->burst);
	model_io_free(io1, sc->n_ports);
}

int
sc_run_model(struct scenario *sc)
{
	for (int p = 0; p < sc->n_ports; p++) {
		sc->io[p].in = sc->in[p].v;
		sc->io[p].n_in = sc->in[p].n;
	}
	return model_run(sc->port, sc->io, sc->n_ports, sc->burst, &sc->stats);
}

void
sc_free(struct scenario *sc)
{
	model_io_free(sc->io, sc->n_ports);
	for (int p = 0; p < sc->n_ports; p++) {
		for (size_t i = 0; i < sc->in[p].n; i++)
			free(sc->in[p].v[i].data);
		free(sc->in[p].v);
	}
	free(sc->ev);
	free(sc->exp);
}
