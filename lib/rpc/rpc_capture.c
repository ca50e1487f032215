/* rpc_capture.c — capture.start / capture.stop / capture.list (lib/capture through the switch).
 * A capture belongs to the connection that started it: when that connection closes, its
 * captures end (rpc_capture_client_gone). ferryd opens the output itself, only inside
 * rpc.capture_dir (rpc_policy_capture_target): a new file (0600), a regular file (truncated) or
 * a FIFO with a reader (ferryctl's, for `-w -`), never following a symlink; non-blocking, so a
 * slow reader never blocks the control thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ferry_capture.h"
#include "ferry_switch.h"
#include "rpc_capture.h"
#include "rpc_policy.h"

/* The output: created (*created) or opened in the checked directory t->dirfd (left open). */
static int
open_output(struct rpc_call *c, const char *path, struct rpc_save_target *t, int *fd,
	    bool *created)
{
	int rc = rpc_policy_capture_target(c, path, t);
	struct stat st;

	if (rc != 0)
		return rc;
	*created = fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0;
	*fd = openat(t->dirfd, t->name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		     0600);
	if (*fd < 0)
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s: %s", path, errno == ENXIO ?
			       "a FIFO nobody reads" : strerror(errno));
	if (fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(*fd, 0) < 0) {
		close(*fd);
		return rpc_err(c, FERRY_EINTERNAL, "params.path: %.200s: %s", path, strerror(errno));
	}
	return 0;
}

static int
get_conf(struct rpc_call *c, struct ferry_capture_conf *cc)
{
	const char *port, *dir = "both", *filter = "", *path;
	unsigned snaplen = FERRY_CAPTURE_SNAPLEN_MAX;
	json_t *count = json_object_get(c->params, "count");
	int rc;

	memset(cc, 0, sizeof(*cc));
	if ((rc = rpc_get_string(c, "port", true, &port)) != 0 ||
	    (rc = rpc_get_string(c, "direction", false, &dir)) != 0 ||
	    (rc = rpc_get_string(c, "filter", false, &filter)) != 0 ||
	    (rc = rpc_get_string(c, "path", true, &path)) != 0 ||
	    (rc = rpc_get_uint(c, "snaplen", false, 1, FERRY_CAPTURE_SNAPLEN_MAX, &snaplen)) != 0)
		return rc;
	if (count != NULL && (!json_is_integer(count) || json_integer_value(count) < 0))
		return rpc_err(c, FERRY_EINVAL, "params.count: must be an integer >= 0 (0: no limit)");
	if ((cc->dirs = ferry_dirs_parse(dir)) == 0)
		return rpc_err(c, FERRY_EINVAL, "params.direction: must be rx, tx or both");
	if (strlen(port) >= sizeof(cc->port) || strlen(filter) >= sizeof(cc->filter) ||
	    strlen(path) >= sizeof(cc->path))
		return rpc_err(c, FERRY_EINVAL, "params: port, filter or path too long");
	snprintf(cc->port, sizeof(cc->port), "%s", port);
	snprintf(cc->filter, sizeof(cc->filter), "%s", filter);
	snprintf(cc->path, sizeof(cc->path), "%s", path);
	cc->snaplen = snaplen;
	cc->count = count != NULL ? (uint64_t)json_integer_value(count) : 0;
	cc->owner = c->client;
	cc->fd = -1;
	return 0;
}

int
rpc_m_capture_start(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "direction", "filter", "snaplen", "count",
					    "path", NULL };
	struct ferry_capture_conf cc;
	struct rpc_save_target t = { .dirfd = -1 };
	bool created = false;
	unsigned id;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = get_conf(c, &cc)) != 0 ||
	    (rc = rpc_need_switch(c)) != 0)
		return rc;
	if (c->client == NULL)
		return rpc_err(c, FERRY_ENOTSUP, "a capture needs a control socket connection (it ends "
			       "with it)");
	if ((rc = open_output(c, cc.path, &t, &cc.fd, &created)) != 0) {
		if (t.dirfd >= 0)
			close(t.dirfd);
		return rc;
	}
	rc = ferry_switch_capture_start(c->r->sw, &cc, &id, c->err, sizeof(c->err));
	if (rc < 0 && created)   /* nothing left behind by a capture that did not start */
		unlinkat(t.dirfd, t.name, 0);
	close(t.dirfd);
	if (rc < 0) {
		close(cc.fd);
		if (rc == FERRY_EINVAL) {   /* the filter: libpcap's own message */
			char why[sizeof(c->err)];
			snprintf(why, sizeof(why), "%s", c->err);
			return rpc_err(c, FERRY_EINVAL, "params.filter: %.400s", why);
		}
		return rc;
	}
	*res = json_pack("{s:i, s:s, s:s, s:s, s:i, s:s}", "id", (int)id, "port", cc.port,
			 "direction", ferry_dirs_name(cc.dirs), "filter", cc.filter,
			 "snaplen", (int)cc.snaplen, "path", cc.path);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}

int
rpc_m_capture_stop(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "id", NULL };
	unsigned id;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 ||
	    (rc = rpc_get_uint(c, "id", true, 1, UINT32_MAX, &id)) != 0 ||
	    (rc = rpc_need_switch(c)) != 0)
		return rc;
	return ferry_switch_capture_stop(c->r->sw, id, res, c->err, sizeof(c->err));
}

int
rpc_m_capture_list(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { NULL };
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_need_switch(c)) != 0)
		return rc;
	*res = ferry_switch_capture_list(c->r->sw);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}

void
rpc_capture_client_gone(struct ferry_rpc *r, struct rpc_client *client)
{
	if (r->sw != NULL)
		ferry_switch_capture_stop_owner(r->sw, client);
}
