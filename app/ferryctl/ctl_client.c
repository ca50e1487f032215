/* ctl_client.c — ferryctl's side of the control socket: connect, send one JSON-RPC request per
 * line, and read line-framed answers and notifications with a timeout. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ctl.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->next_id = 1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s%s", path, strerror(errno),
			 errno == ENOENT || errno == ECONNREFUSED ?
			 " (is ferryd running? -s selects another socket)" : "");
		ctl_close(c);
		return -1;
	}
	return 0;
}

void
ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int
send_all(struct ctl_conn *c, const char *s, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "sending to ferryd: %s", strerror(errno));
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Parse and consume the first complete line of the buffer, if any. */
static json_t *
take_line(struct ctl_conn *c, bool *got, char *err, size_t errlen)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	json_error_t je;
	json_t *j;

	*got = nl != NULL;
	if (nl == NULL)
		return NULL;
	size_t n = (size_t)(nl - c->buf);
	j = json_loadb(c->buf, n, 0, &je);
	if (j == NULL)
		snprintf(err, errlen, "ferryd sent invalid JSON: %s", je.text);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return j;
}

static int
fill(struct ctl_conn *c, long long deadline, bool *eof, char *err, size_t errlen)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
	ssize_t n;

	if (deadline >= 0 && wait <= 0) {
		snprintf(err, errlen, "no answer from ferryd (timeout)");
		return -1;
	}
	if (poll(&p, 1, wait) < 0)
		return errno == EINTR ? 0 : (snprintf(err, errlen, "poll: %s", strerror(errno)), -1);
	if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;   /* timed out: reported by the next round */
	if (c->cap - c->len < 65536) {
		char *nb = realloc(c->buf, c->cap + 65536);
		if (nb == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->buf = nb;
		c->cap += 65536;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0) {
		*eof = n == 0;
		snprintf(err, errlen, "ferryd closed the connection%s%s", n < 0 ? ": " : "",
			 n < 0 ? strerror(errno) : "");
		return -1;
	}
	c->len += (size_t)n;
	return 0;
}

json_t *
ctl_read(struct ctl_conn *c, int timeout_ms, bool *eof, char *err, size_t errlen)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	bool got;

	*eof = false;
	for (;;) {
		json_t *j = take_line(c, &got, err, errlen);
		if (got)
			return j;
		if (fill(c, deadline, eof, err, errlen) < 0)
			return NULL;
	}
}

/* The answer to request id: same id, or an error that could not be tied to a request. */
static bool
answers(const json_t *msg, long id)
{
	const json_t *mid = json_object_get(msg, "id");

	if (json_object_get(msg, "method") != NULL)
		return false;   /* a notification */
	if (json_is_integer(mid))
		return json_integer_value(mid) == id;
	return json_is_null(mid) && json_object_get(msg, "error") != NULL;
}

json_t *
ctl_call(struct ctl_conn *c, const char *method, json_t *params, char *err, size_t errlen)
{
	long id = c->next_id++;
	json_t *req = json_pack("{s:s, s:s, s:I}", "jsonrpc", "2.0", "method", method,
				"id", (json_int_t)id);
	char *text;
	bool eof;
	int rc;

	if (params != NULL)
		json_object_set_new(req, "params", params);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		return NULL;
	}
	rc = send_all(c, text, strlen(text), err, errlen);
	if (rc == 0)
		rc = send_all(c, "\n", 1, err, errlen);
	free(text);
	if (rc < 0)
		return NULL;
	for (;;) {
		json_t *msg = ctl_read(c, c->timeout_ms > 0 ? c->timeout_ms : -1, &eof, err, errlen);
		if (msg == NULL || answers(msg, id))
			return msg;
		json_decref(msg);
	}
}
