/* rpc_socket.c — the control socket's file: create its directory, refuse to start when another
 * ferryd answers on it, remove a stale one, bind and listen, apply mode and group, and remove it
 * again at exit (only if it is still the file we created). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "ferry_common.h"
#include "rpc_private.h"

#define LISTEN_BACKLOG 128

static void
fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* A socket file already there: a live server (refuse) or a stale leftover (remove it). */
static int
check_existing(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	bool there = lstat(path, &sb) == 0;
	int st = ferry_sock_clear_stale(path);

	if (st == FERRY_SOCK_NOT_SOCKET)
		return ferry_errf(err, errlen, "%s exists and is not a socket", path);
	if (st == FERRY_SOCK_LIVE)
		return ferry_errf(err, errlen, "another ferryd is already serving %s", path);
	if (st < 0)
		return ferry_errf(err, errlen, "cannot check or remove the existing socket %s: %s",
				  path, strerror(-st));
	if (there)
		FERRY_LOG(INFO, "rpc: removed the stale socket %s", path);
	return 0;
}

static int
group_id(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	size_t len = 16384;
	char *buf = NULL, *end;
	int rc;

	do {
		char *nb = realloc(buf, len);
		if (nb == NULL) {
			free(buf);
			return ferry_errf(err, errlen, "out of memory looking up group %s", name);
		}
		buf = nb;
		rc = getgrnam_r(name, &gr, buf, len, &res);
		len *= 2;
	} while (rc == ERANGE && len <= (1u << 22));
	if (res != NULL)
		*gid = res->gr_gid;
	free(buf);
	if (res != NULL)
		return 0;
	unsigned long v = strtoul(name, &end, 10);   /* a numeric gid is accepted too */
	if (name[0] != '\0' && *end == '\0') {
		*gid = (gid_t)v;
		return 0;
	}
	return ferry_errf(err, errlen, "unknown group '%s'", name);
}

static int
set_owner_mode(const char *path, unsigned mode, const char *group, char *err, size_t errlen)
{
	gid_t gid = 0;

	if (chmod(path, mode) < 0)
		return ferry_errf(err, errlen, "chmod %s: %s", path, strerror(errno));
	if (group == NULL || group[0] == '\0')
		return 0;
	if (group_id(group, &gid, err, errlen) < 0)
		return -1;
	if (chown(path, (uid_t)-1, gid) < 0)
		return ferry_errf(err, errlen, "chown %s to group %s: %s", path, group,
				  strerror(errno));
	return 0;
}

int
rpc_socket_open(struct ferry_rpc *r, const struct ferry_rpc_opts *o, char *err, size_t errlen)
{
	const char *path = o->path != NULL && o->path[0] != '\0' ? o->path : FERRY_RPC_DEFAULT_SOCKET;
	unsigned mode = o->mode != 0 ? o->mode : FERRY_RPC_DEFAULT_MODE;
	struct sockaddr_un sa;

	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path))
		return ferry_errf(err, errlen, "socket path '%s' must be 1..%zu characters", path,
				  sizeof(sa.sun_path) - 1);
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (ferry_mkdirs(path, false, err, errlen) < 0 || check_existing(path, err, errlen) < 0)
		return -1;
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0)
		return ferry_errf(err, errlen, "socket: %s", strerror(errno));
	fill_addr(&sa, path);
	if (bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ferry_errf(err, errlen, "bind %s: %s", path, strerror(errno));
	ferry_sock_id_get(path, &r->sock_id);
	/* mode and group before listen(): nobody can connect with the wrong permissions */
	if (set_owner_mode(path, mode, o->group, err, errlen) < 0)
		return -1;
	if (listen(r->listen_fd, LISTEN_BACKLOG) < 0)
		return ferry_errf(err, errlen, "listen %s: %s", path, strerror(errno));
	return 0;
}

void
rpc_socket_close(struct ferry_rpc *r)
{
	if (r->listen_fd < 0)
		return;
	close(r->listen_fd);
	r->listen_fd = -1;
	/* remove the file only if it is still ours (not one a newer ferryd has bound meanwhile) */
	ferry_sock_unlink_own(r->path, &r->sock_id);
}
