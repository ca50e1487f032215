/* rpc_server.c — the control socket server: create and destroy, the epoll loop step that
 * ferry_rpc_process() runs (accept, client I/O, answering, reaping), the client limit (when the
 * table is full, the longest-idle client that is neither subscribed nor busy makes room), the idle
 * timeout, and the fan-out of switch events to subscribed clients. */
#define _GNU_SOURCE   /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "ferry_common.h"
#include "ferry_switch.h"
#include "rpc_private.h"

#define MAX_EVENTS      64    /* epoll events handled per ferry_rpc_process() */
#define ACCEPT_BUDGET   32    /* connections accepted per ferry_rpc_process() */
#define ACCEPT_PAUSE_MS 250   /* out of file descriptors: stop accepting this long */
#define WORK_BUDGET_MS  20    /* answering per ferry_rpc_process(): the loop has more to do */
#define SWEEP_MS        250   /* how often idle clients are looked for */
#define CLOSE_LOGS      20    /* INFO lines about closed clients per second, then a count */

uint64_t
rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
rpc_wake(struct ferry_rpc *r)
{
	uint64_t one = 1;

	if (write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the fd already readable */
	}
}

static int
epoll_add(struct ferry_rpc *r, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

void
rpc_client_subscribe(struct ferry_rpc *r, struct rpc_client *c, bool on)
{
	if (c->subscribed != on)
		FERRY_LOG(DEBUG, "rpc: client %u %s events", c->id, on ? "subscribed to" :
			  "unsubscribed from");
	c->subscribed = on;
}

/* A switch event: {"jsonrpc":"2.0","method":"event","params":{"event":NAME, ...}} to every
 * subscriber. Runs inside switch calls, from ferry_rpc_process() or from ferry_switch_poll(). */
static void
on_event(void *ctx, const char *event, json_t *params)
{
	struct ferry_rpc *r = ctx;
	struct rpc_client *c;
	json_t *note, *p;
	char *text;

	for (c = r->clients; c != NULL && !c->subscribed; c = c->next)
		;
	if (c == NULL)
		return;   /* nobody listens */
	p = json_pack("{s:s}", "event", event);
	if (json_is_object(params))
		json_object_update_missing(p, params);
	note = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", "event", "params", p);
	text = note != NULL ? json_dumps(note, JSON_COMPACT) : NULL;
	json_decref(note);
	if (text == NULL) {
		FERRY_LOG(WARNING, "rpc: out of memory: event %s not sent", event);
		return;
	}
	for (c = r->clients; c != NULL; c = c->next)
		if (c->subscribed && !c->dead && !c->closing)
			rpc_client_send_line(r, c, text);
	free(text);
}

/* --- idle and evicted clients --- */

/* "client 7 (pid 1234, uid 0)": who it was, as far as SO_PEERCRED tells. */
static void
client_name(const struct rpc_client *c, char *buf, size_t len)
{
	if (c->has_cred)
		snprintf(buf, len, "client %u (pid %ld, uid %lu)", c->id, (long)c->peer_pid,
			 (unsigned long)c->peer_uid);
	else
		snprintf(buf, len, "client %u", c->id);
}

/* Close c with an INFO line; a flood of them is logged as a count once a second. */
static void
close_logged(struct ferry_rpc *r, struct rpc_client *c, const char *why)
{
	static uint64_t window_ms;
	static unsigned logged, suppressed;
	uint64_t now = rpc_now_ms();
	char who[96];

	if (now - window_ms >= 1000) {
		if (suppressed > 0)
			FERRY_LOG(INFO, "rpc: %u more clients closed (idle or evicted)", suppressed);
		window_ms = now;
		logged = suppressed = 0;
	}
	client_name(c, who, sizeof(who));
	if (logged++ < CLOSE_LOGS)
		FERRY_LOG(INFO, "rpc: %s %s: closed", who, why);
	else
		suppressed++;
	rpc_client_kill(r, c);
}

static uint64_t
idle_ms(const struct rpc_client *c, uint64_t now)
{
	return now > c->last_request_ms ? now - c->last_request_ms : 0;
}

/* Close clients without a complete request for idle_timeout_s (subscribers are exempt: they
 * wait for events; so is a client whose batch is being answered). */
static void
sweep_idle(struct ferry_rpc *r)
{
	uint64_t now = rpc_now_ms(), limit = (uint64_t)r->idle_timeout_s * 1000;
	char why[64];

	if (r->idle_timeout_s == 0 || now < r->next_sweep_ms)
		return;
	r->next_sweep_ms = now + SWEEP_MS;
	for (struct rpc_client *c = r->clients; c != NULL; c = c->next) {
		if (c->dead || c->closing || c->subscribed || c->batch != NULL ||
		    idle_ms(c, now) < limit)
			continue;
		snprintf(why, sizeof(why), "idle for %u s", r->idle_timeout_s);
		close_logged(r, c, why);
	}
}

static unsigned
live_clients(const struct ferry_rpc *r)
{
	unsigned n = 0;

	for (const struct rpc_client *c = r->clients; c != NULL; c = c->next)
		n += !c->dead;
	return n;
}

static unsigned
clients_of_uid(const struct ferry_rpc *r, const struct rpc_client *of)
{
	unsigned n = 0;

	for (const struct rpc_client *c = r->clients; c != NULL; c = c->next)
		n += !c->dead && c->has_cred == of->has_cred && c->peer_uid == of->peer_uid;
	return n;
}

/* a has been idle longer than b (the older connection when both were last active in the same
 * millisecond). */
static bool
longer_idle(const struct rpc_client *a, const struct rpc_client *b)
{
	return a->last_request_ms < b->last_request_ms ||
	       (a->last_request_ms == b->last_request_ms && a->id < b->id);
}

/* The table is full: close a client to make room for a new one, or return false if every
 * client is subscribed or busy. The victim is the longest idle of the uid holding the most
 * connections (a uid flooding the socket evicts its own connections first). */
static bool
evict_one(struct ferry_rpc *r)
{
	struct rpc_client *victim = NULL;
	unsigned victim_n = 0;
	uint64_t now = rpc_now_ms();
	char why[64];

	for (struct rpc_client *c = r->clients; c != NULL; c = c->next) {
		if (c->dead || c->closing || c->subscribed || rpc_client_busy(c))
			continue;
		unsigned n = clients_of_uid(r, c);
		if (victim == NULL || n > victim_n || (n == victim_n && longer_idle(c, victim))) {
			victim = c;
			victim_n = n;
		}
	}
	if (victim == NULL)
		return false;
	snprintf(why, sizeof(why), "idle for %lu ms, evicted: %u clients connected",
		 (unsigned long)idle_ms(victim, now), r->max_clients);
	close_logged(r, victim, why);
	return true;
}

void
ferry_rpc_set_idle_timeout(struct ferry_rpc *r, unsigned seconds)
{
	if (r == NULL)
		return;
	if (r->idle_timeout_s != seconds)
		FERRY_LOG(INFO, "rpc: idle timeout %u s%s", seconds, seconds ? "" : " (never)");
	r->idle_timeout_s = seconds;
	r->next_sweep_ms = 0;
}

/* --- accepting --- */

static void
refuse(struct ferry_rpc *r, int fd)
{
	static uint64_t last_log_ms;
	char msg[200];
	int n = snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":"
			 "\"too many clients (%u, all subscribed or busy): try again later\"},"
			 "\"id\":null}\n", FERRY_ELIMIT,
			 r->max_clients);

	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* it will see the connection close anyway */
	}
	close(fd);
	if (rpc_now_ms() - last_log_ms >= 1000) {
		last_log_ms = rpc_now_ms();
		FERRY_LOG(WARNING, "rpc: %u clients connected: refusing more", r->max_clients);
	}
}

static void
pause_accepting(struct ferry_rpc *r, int e)
{
	FERRY_LOG(WARNING, "rpc: accept: %s: not accepting for %d ms", strerror(e), ACCEPT_PAUSE_MS);
	epoll_ctl(r->epoll_fd, EPOLL_CTL_DEL, r->listen_fd, NULL);
	r->accept_paused = true;
	r->accept_resume_ms = rpc_now_ms() + ACCEPT_PAUSE_MS;
}

static void
resume_accepting(struct ferry_rpc *r)
{
	if (!r->accept_paused || rpc_now_ms() < r->accept_resume_ms)
		return;
	if (epoll_add(r, r->listen_fd, &r->listen_fd) == 0)
		r->accept_paused = false;
	else
		r->accept_resume_ms = rpc_now_ms() + ACCEPT_PAUSE_MS;
}

static void
accept_clients(struct ferry_rpc *r)
{
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(r, errno);
			return;   /* EAGAIN: nobody else is waiting */
		}
		if (live_clients(r) >= r->max_clients && !evict_one(r))
			refuse(r, fd);
		else if (rpc_client_new(r, fd) == NULL)
			close(fd);
	}
}

/* --- the loop step --- */

/* Move the first client to the end: each gets its turn to be answered first. */
static void
rotate(struct ferry_rpc *r)
{
	struct rpc_client *first = r->clients, **pp;

	if (first == NULL || first->next == NULL)
		return;
	r->clients = first->next;
	for (pp = &r->clients; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = first;
	first->next = NULL;
}

static void
reap(struct ferry_rpc *r)
{
	struct rpc_client **pp = &r->clients;

	while (*pp != NULL) {
		struct rpc_client *c = *pp;
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		r->n_clients--;
		rpc_client_free(r, c);
	}
}

void
ferry_rpc_process(struct ferry_rpc *r)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t cnt, deadline = rpc_now_ms() + WORK_BUDGET_MS;
	bool more = false;
	int n;

	if (r == NULL)
		return;
	if (read(r->wake_fd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: not woken */
	}
	resume_accepting(r);
	n = epoll_wait(r->epoll_fd, ev, MAX_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.ptr == &r->listen_fd)
			accept_clients(r);
		else if (ev[i].data.ptr != &r->wake_fd)
			rpc_client_ready(r, ev[i].data.ptr, ev[i].events);
	}
	for (struct rpc_client *c = r->clients; c != NULL; c = c->next) {
		if (!c->dead && rpc_client_work(r, c, deadline))
			more = true;
		rpc_client_update(r, c);
	}
	sweep_idle(r);
	reap(r);
	rotate(r);
	if (more)
		rpc_wake(r);   /* fairness: the rest of a pipelining client's requests next round */
}

int
ferry_rpc_fd(const struct ferry_rpc *r)
{
	return r->epoll_fd;
}

/* --- life cycle --- */

static void
apply_limits(struct ferry_rpc *r, const struct ferry_rpc_opts *o)
{
	r->max_request = o->max_request ? o->max_request : FERRY_RPC_DEFAULT_MAX_REQUEST;
	r->max_output = o->max_output ? o->max_output : FERRY_RPC_DEFAULT_MAX_OUTPUT;
	r->max_clients = o->max_clients ? o->max_clients : FERRY_RPC_DEFAULT_MAX_CLIENTS;
	r->idle_timeout_s = o->idle_timeout_s;
}

struct ferry_rpc *
ferry_rpc_create(struct ferry_switch *sw, const struct ferry_rpc_opts *o, volatile int *quit,
		 char *err, size_t errlen)
{
	static const struct ferry_rpc_opts defaults = { 0 };
	struct ferry_rpc *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o = o != NULL ? o : &defaults;
	r->listen_fd = r->epoll_fd = r->wake_fd = -1;
	r->quit = quit;
	apply_limits(r, o);
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->epoll_fd < 0 || r->wake_fd < 0 || epoll_add(r, r->wake_fd, &r->wake_fd) < 0) {
		snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	if (!o->no_socket) {
		if (rpc_socket_open(r, o, err, errlen) < 0)
			goto fail;
		if (epoll_add(r, r->listen_fd, &r->listen_fd) < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			goto fail;
		}
		FERRY_LOG(INFO, "rpc: listening on %s", r->path);
	}
	r->sw = sw;
	if (sw != NULL)
		ferry_switch_set_event_cb(sw, on_event, r);
	return r;
fail:
	ferry_rpc_destroy(r);
	return NULL;
}

void
ferry_rpc_destroy(struct ferry_rpc *r)
{
	if (r == NULL)
		return;
	if (r->sw != NULL)
		ferry_switch_set_event_cb(r->sw, NULL, NULL);
	while (r->clients != NULL) {
		struct rpc_client *c = r->clients;
		r->clients = c->next;
		rpc_client_free(r, c);
	}
	rpc_socket_close(r);
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	free(r);
}
