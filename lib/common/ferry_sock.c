/* ferry_sock.c — what is at a Unix socket path before ferry binds one there: nothing, a stale
 * socket file (nobody accepts on it), a live server, or something that is not a socket. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ferry_common.h"

int
ferry_sock_state(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? FERRY_SOCK_ABSENT : -errno;
	if (!S_ISSOCK(st.st_mode))
		return FERRY_SOCK_NOT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)   /* accepted, or its backlog is full */
		return FERRY_SOCK_LIVE;
	return e == ECONNREFUSED ? FERRY_SOCK_STALE : -e;
}
