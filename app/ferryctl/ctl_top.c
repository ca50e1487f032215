/* ctl_top.c — ferryctl's PMD performance views: `pmd perf` (an OVS pmd-perf-show-like report of
 * pmd.list: iterations, busy and idle cycles, rx burst sizes, each rx queue's share of its PMD's
 * busy cycles) and `top` (a refreshing table of ports and PMDs, rates per second from the deltas
 * of port.stats and pmd.list between two of its own samples; with --json one JSON object per
 * refresh, a line each). The command table in ferryctl.c points here. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "ctl.h"

/* a number member of o (0 if absent) */
static double
num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static double
pct(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* --- pmd perf --- */

static void
print_hist(const json_t *hist, double polls)
{
	const char *b;
	const json_t *v;

	printf("  rx burst sizes:");
	json_object_foreach((json_t *)hist, b, v)
		printf("  %s: %.0f (%.1f %%)", b, json_number_value(v), pct(json_number_value(v), polls));
	printf("\n");
}

static double
hist_total(const json_t *hist)
{
	const char *b;
	const json_t *v;
	double n = 0;

	json_object_foreach((json_t *)hist, b, v)
		n += json_number_value(v);
	return n;
}

static void
print_pmd_perf(const json_t *p)
{
	const json_t *iv = json_object_get(p, "interval"), *hist = json_object_get(p, "burst_hist");
	double busy = num(p, "busy_cycles"), idle = num(p, "idle_cycles"), pkts = num(p, "packets");
	double it = num(p, "iterations"), hz = num(p, "tsc_hz");
	const json_t *q;
	size_t k;

	printf("pmd %.0f (lcore %.0f, numa %.0f):\n", num(p, "pmd"), num(p, "lcore"), num(p, "numa"));
	printf("  iterations:      %.0f (%.2f us/iteration)\n", it,
	       it > 0 && hz > 0 ? 1e6 * (busy + idle) / hz / it : 0.0);
	printf("  busy cycles:     %.0f (%.1f %%)\n", busy, pct(busy, busy + idle));
	printf("  idle cycles:     %.0f (%.1f %%)\n", idle, pct(idle, busy + idle));
	printf("  packets:         %.0f (%.1f cycles/packet)\n", pkts, pkts > 0 ? busy / pkts : 0.0);
	print_hist(hist, hist_total(hist));
	printf("  last %.2f s: busy %.1f %%, %.0f iterations, %.0f packets\n", num(iv, "seconds"),
	       num(iv, "busy_pct"), num(iv, "iterations"), num(iv, "packets"));
	json_array_foreach(json_object_get(p, "rxqs"), k, q)
		printf("  port %s queue %.0f  packets: %.0f  cycles: %.0f  busy share: %.1f %%\n",
		       json_string_value(json_object_get(q, "port")), num(q, "queue"),
		       num(q, "packets"), num(q, "cycles"), 100.0 * num(q, "busy_share"));
}

static void
print_perf(const json_t *res, const char *arg)
{
	const json_t *p;
	size_t i;

	json_array_foreach(res, i, p) {
		if (i != 0)
			printf("\n");
		print_pmd_perf(p);
	}
}

int
ctl_pmd_perf(struct ctx *x, int argc, char **argv)
{
	return call(x, "pmd.list", NULL, print_perf, NULL);
}

/* --- top --- */

struct sample {
	json_t *ports, *pmds;   /* port.stats and pmd.list results */
	double t;               /* CLOCK_MONOTONIC seconds */
	double wall;            /* CLOCK_REALTIME seconds, for the timestamp */
};

static volatile sig_atomic_t top_stop;

static void
on_signal(int sig)
{
	top_stop = 1;
}

static double
clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static json_t *
result_of(struct ctx *x, const char *method)
{
	char err[512];
	json_t *resp = ctl_call(&x->conn, method, NULL, err, sizeof(err)), *res;

	if (resp == NULL) {
		fprintf(stderr, "ferryctl: %s: %s\n", method, err);
		return NULL;
	}
	res = json_incref(json_object_get(resp, "result"));
	if (res == NULL)
		fprintf(stderr, "ferryctl: %s: %s\n", method, json_string_value(json_object_get(
			json_object_get(resp, "error"), "message")) ?: "no result");
	json_decref(resp);
	return res;
}

static int
take_sample(struct ctx *x, struct sample *s)
{
	char err[512];

	/* a connection per sample: one held through a long -d would be closed by ferryd's
	 * rpc.idle_timeout, and would hold one of its client slots while it waits */
	if (ctl_connect(&x->conn, x->socket, x->timeout_ms, err, sizeof(err)) < 0) {
		fprintf(stderr, "ferryctl: %s\n", err);
		return -1;
	}
	s->t = now_s();
	s->wall = clock_s(CLOCK_REALTIME);
	s->ports = result_of(x, "port.stats");
	s->pmds = s->ports ? result_of(x, "pmd.list") : NULL;
	ctl_close(&x->conn);
	return s->pmds != NULL ? 0 : -1;
}

static void
drop_sample(struct sample *s)
{
	json_decref(s->ports);
	json_decref(s->pmds);
	s->ports = s->pmds = NULL;
}

/* the element of array a whose member key equals that of like (a string or an integer) */
static const json_t *
find_like(const json_t *a, const char *key, const json_t *like)
{
	const json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
		if (json_equal(json_object_get(e, key), json_object_get(like, key)))
			return e;
	return NULL;
}

/* --- one refresh: the rates between two samples, as JSON ---
 * {"timestamp": "...Z", "interval": s, "ports": [{"name", "rx_pps", "rx_bps", "tx_pps", "tx_bps",
 * "drops_per_s"}], "pmds": [{"pmd", "lcore", "busy_share", "pps", "cycles_per_packet",
 * "top_queue": {"port", "queue", "busy_share"} | null}]}. --json prints it as one line; the tables
 * are printed from it. A port added since the last sample has null rates. */

static double
per_s(double delta, double dt)
{
	return dt > 0 ? delta / dt : 0.0;
}

/* member key of cur minus that of prev */
static double
delta(const json_t *cur, const json_t *prev, const char *key)
{
	return num(cur, key) - num(prev, key);
}

static json_t *
port_rates(const json_t *p, const json_t *o, double dt)
{
	static const struct { const char *out, *in; double scale; } f[] = {
		{ "rx_pps", "rx_packets", 1 }, { "rx_bps", "rx_bytes", 8 },
		{ "tx_pps", "tx_packets", 1 }, { "tx_bps", "tx_bytes", 8 },
		{ "drops_per_s", "drops_total", 1 },
	};
	json_t *r = json_object();

	json_object_set(r, "name", json_object_get(p, "name"));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(r, f[i].out, o == NULL ? json_null() :
				    json_real(f[i].scale * per_s(delta(p, o, f[i].in), dt)));
	return r;
}

/* the rx queue of PMD p that took most of its busy cycles (dbusy) since o, or null */
static json_t *
top_queue(const json_t *p, const json_t *o, double dbusy)
{
	const json_t *q, *best = NULL;
	double best_c = 0;
	size_t i;

	json_array_foreach(json_object_get(p, "rxqs"), i, q) {
		const json_t *oq = NULL, *e;
		size_t k;
		json_array_foreach(json_object_get(o, "rxqs"), k, e)
			if (json_equal(json_object_get(e, "port"), json_object_get(q, "port")) &&
			    json_equal(json_object_get(e, "queue"), json_object_get(q, "queue")))
				oq = e;
		double c = oq != NULL ? delta(q, oq, "cycles") : 0;
		if (c > best_c) {
			best_c = c;
			best = q;
		}
	}
	if (best == NULL)
		return json_null();
	return json_pack("{s:O, s:O, s:f}", "port", json_object_get(best, "port"), "queue",
			 json_object_get(best, "queue"), "busy_share", dbusy > 0 ? best_c / dbusy : 0.0);
}

static json_t *
pmd_rates(const json_t *p, const json_t *o, double dt)
{
	if (o == NULL)   /* PMDs do not come and go; nothing to compare with */
		return NULL;
	double busy = delta(p, o, "busy_cycles"), idle = delta(p, o, "idle_cycles");
	double pkts = delta(p, o, "packets");
	json_t *r = json_object();

	json_object_set(r, "pmd", json_object_get(p, "pmd"));
	json_object_set(r, "lcore", json_object_get(p, "lcore"));
	json_object_set_new(r, "busy_share", json_real(busy + idle > 0 ? busy / (busy + idle) : 0));
	json_object_set_new(r, "pps", json_real(per_s(pkts, dt)));
	json_object_set_new(r, "cycles_per_packet", json_real(pkts > 0 ? busy / pkts : 0));
	json_object_set_new(r, "top_queue", top_queue(p, o, busy));
	return r;
}

/* rates(e, its element in prev or NULL) for every element e of cur, matched on member key */
static json_t *
rates_of(const json_t *cur, const json_t *prev, const char *key, double dt,
	 json_t *(*rates)(const json_t *, const json_t *, double))
{
	json_t *a = json_array(), *r;
	const json_t *e;
	size_t i;

	json_array_foreach(cur, i, e)
		if ((r = rates(e, find_like(prev, key, e), dt)) != NULL)
			json_array_append_new(a, r);
	return a;
}

static json_t *
top_rates(const struct sample *a, const struct sample *b)
{
	double dt = b->t - a->t;
	time_t sec = (time_t)b->wall;
	char when[40];
	struct tm tm;
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&sec, &tm));

	snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)((b->wall - (double)sec) * 1000) % 1000);
	return json_pack("{s:s, s:f, s:o, s:o}", "timestamp", when, "interval", dt, "ports",
			 rates_of(b->ports, a->ports, "name", dt, port_rates), "pmds",
			 rates_of(b->pmds, a->pmds, "pmd", dt, pmd_rates));
}

/* --- the tables: columns of the rate objects --- */

#define TOP_COLS 6

/* a column: member key of each rate object, shown as scale x its number with prec decimals, or
 * (fmt set) as fmt makes it: buf or a string of v, as ctl_str */
struct col {
	const char *head, *key;
	double scale;
	int prec;
	const char *(*fmt)(const json_t *v, char *buf, size_t len);
};

static const char *
fmt_queue(const json_t *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%.0f(%.0f%%)", json_string_value(json_object_get(v, "port")),
		 num(v, "queue"), 100.0 * num(v, "busy_share"));
	return buf;
}

static const struct col port_cols[TOP_COLS] = {
	{ "PORT", "name", 0, 0, ctl_str }, { "RX_PPS", "rx_pps", 1, 0, NULL },
	{ "RX_MBPS", "rx_bps", 1e-6, 1, NULL }, { "TX_PPS", "tx_pps", 1, 0, NULL },
	{ "TX_MBPS", "tx_bps", 1e-6, 1, NULL }, { "DROPS/S", "drops_per_s", 1, 0, NULL },
};

static const struct col pmd_cols[TOP_COLS] = {
	{ "PMD", "pmd", 1, 0, NULL }, { "LCORE", "lcore", 1, 0, NULL },
	{ "BUSY%", "busy_share", 100, 1, NULL }, { "CYC/PKT", "cycles_per_packet", 1, 0, NULL },
	{ "PKT/S", "pps", 1, 0, NULL }, { "TOP_QUEUE", "top_queue", 0, 0, fmt_queue },
};

/* rows as a table of cols (absent or null values "-") */
static void
print_rates(const json_t *rows, const struct col *cols, const char *align)
{
	const char *h[TOP_COLS + 1] = { NULL };
	struct ctl_table *t;
	const json_t *r;
	size_t i;

	for (int c = 0; c < TOP_COLS; c++)
		h[c] = cols[c].head;
	t = ctl_table_new(h, align);
	json_array_foreach(rows, i, r) {
		char buf[TOP_COLS][64];
		const char *cell[TOP_COLS];
		for (int c = 0; c < TOP_COLS; c++) {
			const struct col *k = &cols[c];
			const json_t *v = json_object_get(r, k->key);
			if (v == NULL || json_is_null(v))
				cell[c] = "-";
			else if (k->fmt != NULL)
				cell[c] = k->fmt(v, buf[c], sizeof(buf[c]));
			else {
				snprintf(buf[c], sizeof(buf[c]), "%.*f", k->prec,
					 k->scale * json_number_value(v));
				cell[c] = buf[c];
			}
		}
		ctl_table_add(t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5]);
	}
	ctl_table_print(t);
}

/* One refresh: a JSON line (json), or the tables, redrawn in place on a terminal (tty). */
static void
print_top(const struct sample *a, const struct sample *b, bool json, bool tty)
{
	json_t *r = top_rates(a, b);
	time_t sec = (time_t)b->wall;
	char when[32];
	struct tm tm;

	if (json) {
		char *s = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(10));
		puts(s != NULL ? s : "null");
		free(s);
	} else {
		strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&sec, &tm));
		if (tty)
			printf("\033[H\033[2J");   /* home, clear: redraw in place */
		printf("ferry top - %s, rates per second over %.1f s%s\n\n", when, b->t - a->t,
		       tty ? " (q quits)" : "");
		print_rates(json_object_get(r, "ports"), port_cols, "lrrrrr");
		printf("\n");
		print_rates(json_object_get(r, "pmds"), pmd_cols, "rrrrrl");
		printf("\n");
	}
	fflush(stdout);
	json_decref(r);
}

/* Wait delay seconds; true when the user asked to quit (q on a terminal, Ctrl-C, SIGTERM). */
static bool
wait_or_quit(double delay, bool keys)
{
	double end = now_s() + delay;

	while (!top_stop) {
		double left = end - now_s();
		if (left <= 0)
			return false;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int n = poll(&pfd, keys ? 1 : 0, (int)(left * 1000) + 1);
		char ch;
		if (n > 0 && read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
			return true;
		if (n > 0 && !(pfd.revents & POLLIN))
			keys = false;   /* stdin closed or broken: only the timer and signals */
	}
	return true;
}

static int
top_args(int argc, char **argv, double *delay, long *iters)
{
	for (int i = 0; i < argc; i++) {
		char *end;
		if (i + 1 < argc && strcmp(argv[i], "-d") == 0) {
			*delay = strtod(argv[++i], &end);
			if (*end != '\0' || !(*delay >= 0.1 && *delay <= 3600))
				return usage_error("top: -d takes seconds, 0.1..3600");
		} else if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
			*iters = strtol(argv[++i], &end, 10);
			if (*end != '\0' || *iters < 1)
				return usage_error("top: -n takes a positive count");
		} else {
			return usage_error("top: unexpected '%s'", argv[i]);
		}
	}
	return 0;
}

int
ctl_top(struct ctx *x, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sample prev = { 0 }, cur = { 0 };
	struct termios saved, raw;
	double delay = 2.0;
	long iters = -1;   /* until q or Ctrl-C */
	int rc;

	if ((rc = top_args(argc, argv, &delay, &iters)) != 0)
		return rc;
	/* --json: JSON lines for a script, no screen codes, the terminal left as it is */
	bool tty = !x->json && isatty(STDOUT_FILENO), keys = !x->json && isatty(STDIN_FILENO) &&
		   tcgetattr(STDIN_FILENO, &saved) == 0;
	if (keys) {   /* single keys, no echo; Ctrl-C still signals */
		raw = saved;
		raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = take_sample(x, &prev) < 0 ? CTL_ECONNECT : CTL_OK;
	for (long n = 0; rc == CTL_OK && (iters < 0 || n < iters); n++) {
		if (wait_or_quit(delay, keys))
			break;
		if (take_sample(x, &cur) < 0) {
			rc = CTL_ECONNECT;
			break;
		}
		print_top(&prev, &cur, x->json, tty);
		drop_sample(&prev);
		prev = cur;
		cur = (struct sample){ 0 };
	}
	drop_sample(&prev);
	drop_sample(&cur);
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}
