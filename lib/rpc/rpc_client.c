/* rpc_client.c — one control connection: a bounded input buffer split into request lines, a
 * bounded output queue, non-blocking reads and writes, and the epoll interest that follows from
 * its state. A client is answered one request at a time: its next request is read only once the
 * previous answer has been handed to the kernel, so answers never pile up; only event
 * notifications can accumulate, and a client that lets them exceed max_output is dropped. A batch
 * is answered a few requests per round (BATCH_STEP, and the round's deadline), so that other
 * clients are answered in between. */
#define _GNU_SOURCE   /* struct ucred */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "ferry_common.h"
#include "rpc_capture.h"
#include "rpc_private.h"

#define READ_BUDGET    (256 * 1024)   /* bytes read from one client per round */
#define LINE_BUDGET    32             /* requests answered for one client per round */
#define BATCH_STEP     32             /* requests of one batch answered per round */
#define CLOSE_GRACE_MS 2000           /* a closing client gets this long to take its last answer */
#define IN_MIN         4096
#define OUT_KEEP       (64 * 1024)    /* output buffers larger than this are freed when empty */

static size_t
out_pending(const struct rpc_client *c)
{
	return c->out_len - c->out_off;
}

static size_t
in_max(const struct ferry_rpc *r)
{
	return r->max_request + 1;   /* the longest line plus its '\n' */
}

struct rpc_client *
rpc_client_new(struct ferry_rpc *r, int fd)
{
	struct rpc_client *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->id = ++r->next_id;
	c->last_request_ms = rpc_now_ms();
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cl == sizeof(cred)) {
		c->has_cred = true;
		c->peer_pid = cred.pid;
		c->peer_uid = cred.uid;
	}
	ev.data.ptr = c;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->epoll_events = EPOLLIN;
	c->next = r->clients;
	r->clients = c;
	r->n_clients++;
	FERRY_LOG(DEBUG, "rpc: client %u connected (%u clients)", c->id, r->n_clients);
	return c;
}

static void
mark_dead(struct ferry_rpc *r, struct rpc_client *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	if (why != NULL)
		FERRY_LOG(DEBUG, "rpc: client %u: %s", c->id, why);
	rpc_wake(r);   /* the next ferry_rpc_process() reaps it */
}

void
rpc_client_kill(struct ferry_rpc *r, struct rpc_client *c)
{
	mark_dead(r, c, NULL);
}

static void
flush_output(struct ferry_rpc *r, struct rpc_client *c)
{
	while (out_pending(c) > 0 && !c->dead) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			c->out_off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else
			mark_dead(r, c, strerror(errno));   /* EPIPE, ECONNRESET: it went away */
	}
	if (out_pending(c) == 0) {
		c->out_off = c->out_len = 0;
		if (c->out_cap > OUT_KEEP) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
}

void
rpc_client_free(struct ferry_rpc *r, struct rpc_client *c)
{
	if (!c->dead)
		flush_output(r, c);   /* best effort, e.g. the answer to switch.shutdown */
	rpc_capture_client_gone(r, c);   /* its captures end with it */
	epoll_ctl(r->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	FERRY_LOG(DEBUG, "rpc: client %u closed", c->id);
	rpc_batch_free(c->batch);
	free(c->in);
	free(c->out);
	free(c);
}

static bool
reserve_output(struct rpc_client *c, size_t len)
{
	if (c->out_off > 0 && c->out_len + len > c->out_cap) {   /* slide the unsent part down */
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len <= c->out_cap)
		return true;
	size_t cap = c->out_cap * 2 > c->out_len + len ? c->out_cap * 2 : c->out_len + len;
	char *nb = realloc(c->out, cap);
	if (nb == NULL)
		return false;
	c->out = nb;
	c->out_cap = cap;
	return true;
}

void
rpc_client_send_line(struct ferry_rpc *r, struct rpc_client *c, const char *text)
{
	size_t len = strlen(text), pending = out_pending(c);

	if (c->dead)
		return;
	if (pending > 0 && pending + len + 1 > r->max_output) {
		FERRY_LOG(WARNING, "rpc: client %u does not read its output (%zu bytes unread): "
			  "disconnected", c->id, pending);
		mark_dead(r, c, NULL);
		return;
	}
	if (!reserve_output(c, len + 1)) {
		mark_dead(r, c, "out of memory for its output");
		return;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	flush_output(r, c);
	rpc_client_update(r, c);
}

/* --- input --- */

static bool
make_room(struct ferry_rpc *r, struct rpc_client *c)
{
	size_t cap;
	char *nb;

	if (c->in_len < c->in_cap)
		return true;
	if (c->in_cap >= in_max(r))
		return false;   /* full: wait until buffered lines are answered */
	cap = c->in_cap < IN_MIN ? IN_MIN : c->in_cap * 2;
	if (cap > in_max(r))
		cap = in_max(r);
	nb = realloc(c->in, cap);
	if (nb == NULL)
		return false;
	c->in = nb;
	c->in_cap = cap;
	return true;
}

static void
read_input(struct ferry_rpc *r, struct rpc_client *c)
{
	size_t budget = READ_BUDGET;

	while (budget > 0 && !c->eof && !c->dead && make_room(r, c)) {
		size_t room = c->in_cap - c->in_len;
		ssize_t n = recv(c->fd, c->in + c->in_len, room < budget ? room : budget,
				 MSG_DONTWAIT);
		if (n > 0) {
			c->in_len += (size_t)n;
			budget -= (size_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EINTR) {
			continue;
		} else {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				mark_dead(r, c, strerror(errno));
			break;
		}
	}
}

void
rpc_client_ready(struct ferry_rpc *r, struct rpc_client *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & EPOLLERR) {
		mark_dead(r, c, "socket error");
		return;
	}
	if (events & EPOLLOUT)
		flush_output(r, c);
	if ((events & (EPOLLIN | EPOLLHUP)) && !c->closing)
		read_input(r, c);
}

static void
begin_close(struct rpc_client *c)
{
	c->closing = true;
	c->close_deadline_ms = rpc_now_ms() + CLOSE_GRACE_MS;
}

static void
too_large(struct ferry_rpc *r, struct rpc_client *c)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":"
		 "\"request too large (more than %zu bytes)\"},\"id\":null}", FERRY_EINVALID_REQ,
		 r->max_request);
	FERRY_LOG(WARNING, "rpc: client %u sent a request over %zu bytes: disconnecting", c->id,
		  r->max_request);
	rpc_client_send_line(r, c, msg);
	begin_close(c);
}

static void
answer(struct ferry_rpc *r, struct rpc_client *c, const char *line, size_t len)
{
	char *text;
	size_t i;

	while (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len)
		return;   /* blank line: nothing asked */
	c->last_request_ms = rpc_now_ms();
	text = rpc_line_begin(r, c, line, len, &c->batch);
	if (text != NULL) {
		rpc_client_send_line(r, c, text);
		free(text);
	}
}

/* Drop the first n bytes of input (all of it once the client is closing). */
static void
consume(struct rpc_client *c, size_t n)
{
	if (c->closing || n >= c->in_len) {
		c->in_len = c->in_scan = 0;
		if (c->in_cap > OUT_KEEP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		return;
	}
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	c->in_scan = c->in_scan > n ? c->in_scan - n : 0;
}

bool
rpc_client_busy(const struct rpc_client *c)
{
	/* only the bytes after in_scan can hold a '\n' (a 1 MiB partial line is not rescanned) */
	return c->batch != NULL || out_pending(c) > 0 ||
	       (c->in_len > c->in_scan &&
		memchr(c->in + c->in_scan, '\n', c->in_len - c->in_scan) != NULL);
}

/* The next requests of the batch being answered; true once it is done (answer queued). */
static bool
continue_batch(struct ferry_rpc *r, struct rpc_client *c, uint64_t deadline_ms)
{
	char *text;

	c->last_request_ms = rpc_now_ms();
	if (!rpc_batch_step(r, c, c->batch, BATCH_STEP, deadline_ms, &text))
		return false;
	rpc_batch_free(c->batch);
	c->batch = NULL;
	if (text != NULL) {
		rpc_client_send_line(r, c, text);
		free(text);
	}
	return true;
}

bool
rpc_client_work(struct ferry_rpc *r, struct rpc_client *c, uint64_t deadline_ms)
{
	size_t start = 0, end;
	unsigned budget = LINE_BUDGET;
	bool more = false;

	while (!c->dead && !c->closing && out_pending(c) == 0) {
		if (c->batch != NULL) {
			if (budget == 0 || rpc_now_ms() >= deadline_ms ||
			    !continue_batch(r, c, deadline_ms)) {
				more = true;
				break;
			}
			budget--;
			continue;
		}
		char *nl = c->in_len > c->in_scan ?
			   memchr(c->in + c->in_scan, '\n', c->in_len - c->in_scan) : NULL;
		if (nl == NULL) {
			c->in_scan = c->in_len;
			if (c->in_len - start > r->max_request) {
				too_large(r, c);
				break;
			}
			if (!c->eof || c->in_len == start)
				break;
			end = c->in_len;   /* the last request may lack its '\n' at end of input */
		} else {
			end = (size_t)(nl - c->in);
		}
		if (budget-- == 0 || rpc_now_ms() >= deadline_ms) {
			more = true;
			c->in_scan = start;
			break;
		}
		if (end - start > r->max_request) {
			too_large(r, c);
			break;
		}
		answer(r, c, c->in + start, end - start);
		start = nl != NULL ? end + 1 : end;
		c->in_scan = start;
	}
	consume(c, start);
	if (c->eof && c->in_len == 0 && c->batch == NULL && !c->closing && !c->dead)
		begin_close(c);
	return more;
}

void
rpc_client_update(struct ferry_rpc *r, struct rpc_client *c)
{
	uint32_t want = 0;

	if (c->dead)
		return;
	if (c->closing && (out_pending(c) == 0 || rpc_now_ms() >= c->close_deadline_ms)) {
		mark_dead(r, c, "closed");
		return;
	}
	if (out_pending(c) > 0)
		want = EPOLLOUT;
	else if (!c->closing && !c->eof && c->in_len < in_max(r))
		want = EPOLLIN;
	if (want == c->epoll_events)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = c };
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		mark_dead(r, c, strerror(errno));
	else
		c->epoll_events = want;
}
