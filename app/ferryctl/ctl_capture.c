/* ctl_capture.c — ferryctl capture PORT [-d rx|tx|both] [-f FILTER] [-c COUNT] [-s SNAPLEN]
 * [-w FILE|-] [-q]: ferryd writes pcapng only inside its rpc.capture_dir, so ferryctl makes a
 * FIFO there (mode 0600), has ferryd capture into it (capture.start) and copies the FIFO to FILE
 * (opened by ferryctl, with the user's rights) or to stdout, so that `ferryctl capture vm1 -f icmp
 * -w - | tcpdump -r -` works. Progress ("N captured, M dropped", capture.list) goes to stderr every
 * second; Ctrl-C (SIGINT) or SIGTERM calls capture.stop and the copy goes on until ferryd has
 * written the statistics block and closed the FIFO; the summary comes from that block. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ctl.h"

struct opts {
	const char *port, *dir, *filter, *out;
	long long count, snaplen;
	bool quiet;
};

/* Counts the pcapng stream's packet blocks and reads its statistics block as it goes by. */
struct stream {
	uint8_t blk[512];
	uint32_t have, type, len;
	bool broken, got_stats;
	uint64_t packets, delivered, dropped;
};

static volatile sig_atomic_t stop_asked;

static void
on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void
parse_stats(struct stream *s)
{
	uint32_t off = 20;   /* type, length, interface, timestamp */

	while (off + 4 <= s->len - 4) {
		uint16_t code, len;
		memcpy(&code, s->blk + off, 2);
		memcpy(&len, s->blk + off + 2, 2);
		if (code == 0 || off + 4 + len > s->len - 4)
			break;
		if (len == 8 && code == 5)
			memcpy(&s->dropped, s->blk + off + 4, 8);
		if (len == 8 && code == 8)
			memcpy(&s->delivered, s->blk + off + 4, 8);
		off += 4 + ((len + 3u) & ~3u);
	}
	s->got_stats = true;
}

static void
feed(struct stream *s, const uint8_t *p, size_t n)
{
	while (n > 0 && !s->broken) {
		size_t want = s->have < 8 ? 8 - s->have : s->len - s->have;
		size_t take = want < n ? want : n;
		if (s->have < sizeof(s->blk))
			memcpy(s->blk + s->have, p, take < sizeof(s->blk) - s->have ? take :
			       sizeof(s->blk) - s->have);
		s->have += (uint32_t)take;
		p += take;
		n -= take;
		if (s->have == 8) {
			memcpy(&s->type, s->blk, 4);
			memcpy(&s->len, s->blk + 4, 4);
			s->broken = s->len < 12 || s->len % 4 != 0;
		} else if (s->have > 8 && s->have == s->len) {
			if (s->type == 6)
				s->packets++;
			else if (s->type == 5 && s->len <= sizeof(s->blk))
				parse_stats(s);
			s->have = 0;
		}
	}
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = "both";
	o->out = "-";
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-q") == 0) {
			o->quiet = true;
		} else if (a[0] == '-' && a[1] != '\0' && a[2] == '\0' && strchr("dfcsw", a[1])) {
			if (++i == argc)
				return usage_error("capture: %s needs a value", a);
			char *end;
			switch (a[1]) {
			case 'd': o->dir = argv[i]; break;
			case 'f': o->filter = argv[i]; break;
			case 'w': o->out = argv[i]; break;
			default: {
				errno = 0;
				long long v = strtoll(argv[i], &end, 10);
				if (errno != 0 || *end != '\0' || v < (a[1] == 'c' ? 0 : 1))
					return usage_error("capture: %s %s: not a number", a, argv[i]);
				*(a[1] == 'c' ? &o->count : &o->snaplen) = v;
			}
			}
		} else if (o->port == NULL && a[0] != '-') {
			o->port = a;
		} else {
			return usage_error("capture: unexpected '%s'", a);
		}
	}
	if (o->port == NULL)
		return usage_error("capture: which PORT?");
	return 0;
}

/* The result of a call, or NULL with the error printed. */
static json_t *
result(struct ctx *x, const char *method, json_t *params)
{
	char err[512];
	json_t *resp = ctl_call(&x->conn, method, params, err, sizeof(err)), *res, *e;

	if (resp == NULL) {
		fprintf(stderr, "ferryctl: %s: %s\n", method, err);
		return NULL;
	}
	if ((e = json_object_get(resp, "error")) != NULL) {
		fprintf(stderr, "ferryctl: %s: %s (code %lld)\n", method,
			json_string_value(json_object_get(e, "message")) ?: "error",
			(long long)json_integer_value(json_object_get(e, "code")));
		json_decref(resp);
		return NULL;
	}
	res = json_incref(json_object_get(resp, "result"));
	json_decref(resp);
	return res;
}

/* A FIFO in ferryd's capture directory, opened for reading (before ferryd opens it). */
static int
make_fifo(struct ctx *x, char *path, size_t len)
{
	json_t *cfg = result(x, "config.get", NULL);
	const char *dir = json_string_value(json_object_get(json_object_get(cfg, "rpc"),
							   "capture_dir"));
	int fd = -1;

	if (dir == NULL) {
		fprintf(stderr, "ferryctl: capture: ferryd has no rpc.capture_dir\n");
		json_decref(cfg);
		return -1;
	}
	snprintf(path, len, "%s", dir);
	for (char *s = path + 1; *s != '\0'; s++)   /* mkdir -p; the last level 0700, as ferryd's */
		if (*s == '/') {
			*s = '\0';
			mkdir(path, 0755);
			*s = '/';
		}
	mkdir(path, 0700);
	snprintf(path, len, "%s/.ferryctl-%ld.fifo", dir, (long)getpid());
	unlink(path);
	if (mkfifo(path, 0600) < 0 || (fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		fprintf(stderr, "ferryctl: capture: %s: %s\n", path, strerror(errno));
	json_decref(cfg);
	return fd;
}

static json_t *
start_params(const struct opts *o, const char *fifo)
{
	json_t *p = json_pack("{s:s, s:s, s:s}", "port", o->port, "direction", o->dir, "path", fifo);

	if (o->filter != NULL)
		json_object_set_new(p, "filter", json_string(o->filter));
	if (o->count > 0)
		json_object_set_new(p, "count", json_integer(o->count));
	if (o->snaplen > 0)
		json_object_set_new(p, "snaplen", json_integer(o->snaplen));
	return p;
}

/* capture.list every second, printed unless quiet: it also keeps the connection (which owns the
 * capture) from being closed as idle (rpc.idle_timeout). */
static void
progress(struct ctx *x, long long id, bool tty, bool quiet)
{
	json_t *ls = result(x, "capture.list", NULL), *c;
	size_t i;

	json_array_foreach(ls, i, c) {
		if (quiet || json_integer_value(json_object_get(c, "id")) != id)
			continue;
		fprintf(stderr, "%s%lld captured, %lld dropped%s", tty ? "\r" : "",
			(long long)json_integer_value(json_object_get(c, "captured")),
			(long long)json_integer_value(json_object_get(c, "dropped")), tty ? "   " : "\n");
	}
	json_decref(ls);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy the FIFO to out until ferryd closes it; stop the capture when asked (or out fails). */
static void
copy_loop(struct ctx *x, const struct opts *o, long long id, int in, int out, struct stream *s)
{
	static uint8_t buf[1 << 16];
	bool stopped = false, tty = isatty(STDERR_FILENO);
	time_t last = time(NULL);

	for (;;) {
		if (stop_asked && !stopped) {
			json_decref(result(x, "capture.stop", json_pack("{s:I}", "id", (json_int_t)id)));
			stopped = true;
		}
		struct pollfd p = { .fd = in, .events = POLLIN };
		if (poll(&p, 1, 200) < 0 && errno != EINTR)
			break;
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;   /* ferryd closed it: the capture ended */
		if (n > 0) {
			feed(s, buf, (size_t)n);
			if (write_all(out, buf, (size_t)n) < 0)
				stop_asked = 1;   /* the reader of our output left */
		}
		if (!stopped && time(NULL) != last) {
			last = time(NULL);
			progress(x, id, tty, o->quiet);
		}
	}
	if (!o->quiet && tty)
		fputc('\n', stderr);
}

int
ctl_capture(struct ctx *x, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct stream s = { 0 };
	char fifo[4200], err[512];
	struct opts o;
	int rc, in, out;
	json_t *r;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (ctl_connect(&x->conn, x->socket, x->timeout_ms, err, sizeof(err)) < 0) {
		fprintf(stderr, "ferryctl: %s\n", err);
		return CTL_ECONNECT;
	}
	out = strcmp(o.out, "-") == 0 ? STDOUT_FILENO :
	      open(o.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		fprintf(stderr, "ferryctl: capture: %s: %s\n", o.out, strerror(errno));
		return CTL_EUSAGE;
	}
	if ((in = make_fifo(x, fifo, sizeof(fifo))) < 0)
		return CTL_ESERVER;
	r = result(x, "capture.start", start_params(&o, fifo));
	unlink(fifo);   /* ferryd holds it open; nothing is left behind */
	if (r == NULL)
		return CTL_ESERVER;
	long long id = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!o.quiet)
		fprintf(stderr, "ferryctl: capturing on %s (%s%s%s), capture %lld\n", o.port, o.dir,
			o.filter ? ", " : "", o.filter ? o.filter : "", id);
	copy_loop(x, &o, id, in, out, &s);
	close(in);
	if (out != STDOUT_FILENO && close(out) < 0)
		fprintf(stderr, "ferryctl: capture: %s: %s\n", o.out, strerror(errno));
	fprintf(stderr, "ferryctl: capture %lld on %s: %llu captured, %llu dropped%s\n", id, o.port,
		(unsigned long long)(s.got_stats ? s.delivered : s.packets),
		(unsigned long long)s.dropped, s.got_stats ? "" : " (no statistics block)");
	return CTL_OK;
}
