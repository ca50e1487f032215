/* metrics_http.c — GET /metrics for Prometheus: ferry binds metrics.listen itself (so that a bad
 * or busy address is reported plainly before anything runs) and hands the socket to a
 * libmicrohttpd daemon with its internal polling thread. That thread is created from the main
 * lcore's thread after rte_eal_init and inherits its CPU affinity: it never runs on a PMD core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "ferry_config.h"
#include "metrics_private.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ferry_http {
	struct MHD_Daemon *d;
	struct ferry_snap *snap;
};

/* A listening TCP socket on addr, or -1 with the kernel's reason in err. */
static int
bind_listen(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int one = 1, fd;

	if (ferry_config_parse_listen(addr, &sa, &salen, err, errlen) < 0)
		return -1;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "%s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
render(json_t *snap, void *arg)
{
	struct MHD_Response **resp = arg;
	size_t len = 0;
	char *text = ferry_prom_render(snap, &len);

	if (text == NULL)
		return -ENOMEM;
	*resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (*resp == NULL) {
		free(text);
		return -ENOMEM;
	}
	MHD_add_response_header(*resp, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	return 0;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_len, void **state)
{
	struct ferry_http *h = cls;
	struct MHD_Response *resp = NULL;
	enum MHD_Result rc;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "ferryd serves /metrics\n");
	int err = ferry_snap_read(h->snap, render, &resp);
	if (err == -ETIMEDOUT)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "ferryd's control thread is busy\n");
	if (err != 0)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "ferryd is stopping\n");
	rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

struct ferry_http *
ferry_http_start(const char *addr, struct ferry_snap *snap, char *err, size_t errlen)
{
	struct ferry_http *h = calloc(1, sizeof(*h));
	int fd = h != NULL ? bind_listen(addr, err, errlen) : -1;

	if (fd < 0) {
		free(h);
		return NULL;
	}
	h->snap = snap;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "%s: libmicrohttpd could not start", addr);
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

void
ferry_http_stop(struct ferry_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);   /* joins its thread, closes the listening socket */
	free(h);
}
