/* ctl_top.c — ferryctl's PMD performance views: `pmd perf` (an OVS pmd-perf-show-like report of
 * pmd.list: iterations, busy and idle cycles, rx burst sizes, each rx queue's share of its PMD's
 * busy cycles) and `top` (a refreshing table of ports and PMDs, rates per second from the deltas
 * of port.stats and pmd.list between two of its own samples). The command table in ferryctl.c
 * points here. */
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
};

static volatile sig_atomic_t top_stop;

static void
on_signal(int sig)
{
	top_stop = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
	s->t = now_s();
	s->ports = result_of(x, "port.stats");
	s->pmds = s->ports ? result_of(x, "pmd.list") : NULL;
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

static void
rate(char *buf, size_t len, const char *fmt, double delta, double dt)
{
	snprintf(buf, len, fmt, dt > 0 ? delta / dt : 0.0);
}

static void
print_ports(const struct sample *a, const struct sample *b)
{
	static const char *const h[] = { "PORT", "RX_PPS", "RX_MBPS", "TX_PPS", "TX_MBPS", "DROPS/S",
					 NULL };
	struct ctl_table *t = ctl_table_new(h, "lrrrrr");
	double dt = b->t - a->t;
	const json_t *p;
	size_t i;

	json_array_foreach(b->ports, i, p) {
		const json_t *o = find_like(a->ports, "name", p);
		char c[5][32];
		if (o == NULL) {   /* added since the last sample */
			ctl_table_add(t, json_string_value(json_object_get(p, "name")), "-", "-", "-",
				      "-", "-");
			continue;
		}
		rate(c[0], 32, "%.0f", num(p, "rx_packets") - num(o, "rx_packets"), dt);
		rate(c[1], 32, "%.1f", 8e-6 * (num(p, "rx_bytes") - num(o, "rx_bytes")), dt);
		rate(c[2], 32, "%.0f", num(p, "tx_packets") - num(o, "tx_packets"), dt);
		rate(c[3], 32, "%.1f", 8e-6 * (num(p, "tx_bytes") - num(o, "tx_bytes")), dt);
		rate(c[4], 32, "%.0f", num(p, "drops_total") - num(o, "drops_total"), dt);
		ctl_table_add(t, json_string_value(json_object_get(p, "name")), c[0], c[1], c[2], c[3],
			      c[4]);
	}
	ctl_table_print(t);
}

/* "port/queue(share%)" of the rx queue that took most of PMD p's busy cycles since o */
static void
top_queue(const json_t *p, const json_t *o, double dbusy, char *buf, size_t len)
{
	const json_t *q, *best = NULL;
	double best_c = -1;
	size_t i;

	snprintf(buf, len, "-");
	json_array_foreach(json_object_get(p, "rxqs"), i, q) {
		const json_t *oq = NULL, *e;
		size_t k;
		json_array_foreach(json_object_get(o, "rxqs"), k, e)
			if (json_equal(json_object_get(e, "port"), json_object_get(q, "port")) &&
			    json_equal(json_object_get(e, "queue"), json_object_get(q, "queue")))
				oq = e;
		double c = num(q, "cycles") - (oq ? num(oq, "cycles") : 0);
		if (oq != NULL && c > best_c) {
			best_c = c;
			best = q;
		}
	}
	if (best != NULL && best_c > 0)
		snprintf(buf, len, "%s/%.0f(%.0f%%)", json_string_value(json_object_get(best, "port")),
			 num(best, "queue"), pct(best_c, dbusy));
}

static void
print_pmds(const struct sample *a, const struct sample *b)
{
	static const char *const h[] = { "PMD", "LCORE", "BUSY%", "CYC/PKT", "PKT/S", "TOP_QUEUE",
					 NULL };
	struct ctl_table *t = ctl_table_new(h, "rrrrrl");
	double dt = b->t - a->t;
	const json_t *p;
	size_t i;

	json_array_foreach(b->pmds, i, p) {
		const json_t *o = find_like(a->pmds, "pmd", p);
		char c[6][64];
		if (o == NULL)
			continue;
		double busy = num(p, "busy_cycles") - num(o, "busy_cycles");
		double idle = num(p, "idle_cycles") - num(o, "idle_cycles");
		double pkts = num(p, "packets") - num(o, "packets");
		snprintf(c[0], 64, "%.0f", num(p, "pmd"));
		snprintf(c[1], 64, "%.0f", num(p, "lcore"));
		snprintf(c[2], 64, "%.1f", pct(busy, busy + idle));
		snprintf(c[3], 64, "%.0f", pkts > 0 ? busy / pkts : 0.0);
		rate(c[4], 64, "%.0f", pkts, dt);
		top_queue(p, o, busy, c[5], 64);
		ctl_table_add(t, c[0], c[1], c[2], c[3], c[4], c[5]);
	}
	ctl_table_print(t);
}

static void
print_top(const struct sample *a, const struct sample *b, bool tty)
{
	char when[32];
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (tty)
		printf("\033[H\033[2J");   /* home, clear: redraw in place */
	printf("ferry top - %s, rates per second over %.1f s%s\n\n", when, b->t - a->t,
	       tty ? " (q quits)" : "");
	print_ports(a, b);
	printf("\n");
	print_pmds(a, b);
	printf("\n");
	fflush(stdout);
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
	char err[512];
	int rc;

	if ((rc = top_args(argc, argv, &delay, &iters)) != 0)
		return rc;
	if (ctl_connect(&x->conn, x->socket, x->timeout_ms, err, sizeof(err)) < 0) {
		fprintf(stderr, "ferryctl: %s\n", err);
		return CTL_ECONNECT;
	}
	bool tty = isatty(STDOUT_FILENO), keys = isatty(STDIN_FILENO) &&
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
		print_top(&prev, &cur, tty);
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
