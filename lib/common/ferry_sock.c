/* ferry_sock.c — Unix socket files ferry creates: what is at a path before ferry binds one there
 * (nothing, a stale socket file nobody accepts on, a live server, something that is not a socket),
 * where one may be made (inside allowed directories), its identity (dev/ino) once bound, and the
 * removal of that very file only. */
#define _GNU_SOURCE   /* renameat2, strchrnul */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ferry_common.h"
#include "ferry_sock.h"

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

/* --- identity --- */

static bool
stat_is(const struct stat *st, const struct ferry_sock_id *id)
{
	return id != NULL && id->set && S_ISSOCK(st->st_mode) && st->st_dev == id->dev &&
	       st->st_ino == id->ino;
}

int
ferry_sock_id_get(const char *path, struct ferry_sock_id *id)
{
	struct stat st;

	id->set = false;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->set = true;
	return 0;
}

bool
ferry_sock_id_match(const char *path, const struct ferry_sock_id *id)
{
	struct stat st;

	return lstat(path, &st) == 0 && stat_is(&st, id);
}

int
ferry_sock_unlink_own(const char *path, const struct ferry_sock_id *id)
{
	if (!ferry_sock_id_match(path, id))
		return 1;
	return unlink(path) == 0 ? 0 : (errno == ENOENT ? 1 : -errno);
}

int
ferry_sock_clear_stale(const char *path)
{
	struct ferry_sock_id id;
	int st, rc;

	rc = ferry_sock_id_get(path, &id);
	if (rc == -ENOENT)
		return FERRY_SOCK_ABSENT;
	if (rc == -ENOTSOCK)   /* a symlink (never followed), a file, a directory */
		return FERRY_SOCK_NOT_SOCKET;
	if (rc < 0)
		return rc;
	st = ferry_sock_state(path);
	if (st != FERRY_SOCK_STALE)
		return st;
	rc = ferry_sock_unlink_own(path, &id);
	if (rc == 1)   /* replaced between the checks: leave whatever is there now */
		return ferry_sock_state(path) == FERRY_SOCK_ABSENT ? FERRY_SOCK_ABSENT : -EAGAIN;
	return rc == 0 ? FERRY_SOCK_ABSENT : rc;
}

/* --- removal guarded against a replaced file --- */

/* A name beside path for moving its file aside: "<dir>/.<base>.ferry-<pid>-<n>". */
static int
aside_name(const char *path, char *buf, size_t len)
{
	static unsigned n;
	const char *slash = strrchr(path, '/');
	int dirlen = slash != NULL ? (int)(slash - path) : 0;
	const char *base = slash != NULL ? slash + 1 : path;
	int w = snprintf(buf, len, "%.*s%s.%s.ferry-%d-%u", dirlen, path, slash != NULL ? "/" : "",
			 base, (int)getpid(), n++);

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

int
ferry_sock_guard_unlink(const char *path, const struct ferry_sock_id *id,
			void (*fn)(void *arg), void *arg)
{
	char aside[PATH_MAX];
	struct stat st;
	int moved = -ENOENT;

	if (aside_name(path, aside, sizeof(aside)) == 0)
		moved = renameat2(AT_FDCWD, path, AT_FDCWD, aside, RENAME_NOREPLACE) == 0 ? 0 : -errno;
	if (moved < 0 && moved != -ENOENT && !ferry_sock_id_match(path, id))
		FERRY_LOG(ERR, "%s: cannot move the file there aside (%s): it may be removed",
			  path, strerror(-moved));
	fn(arg);
	if (moved == -ENOENT)
		return 0;
	if (moved < 0)
		return moved;
	if (lstat(aside, &st) == 0 && stat_is(&st, id)) {
		unlink(aside);
		return 0;
	}
	if (renameat2(AT_FDCWD, aside, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
		FERRY_LOG(WARNING, "%s is no longer the socket ferry created: left in place", path);
		return 1;
	}
	int e = errno;
	FERRY_LOG(ERR, "%s: the file that replaced ferry's socket could not be put back (%s): it is "
		  "now %s", path, strerror(e), aside);
	return -e;
}

/* --- where a socket may be --- */

bool
ferry_path_has_dots(const char *path)
{
	const char *s = path;

	while (*s != '\0') {
		while (*s == '/')
			s++;
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return true;
		s = e;
	}
	return false;
}

bool
ferry_path_under(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return real[0] == '/';
	return strncmp(real, dir, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

int
ferry_mkdirs(const char *path, bool last, char *why, size_t len)
{
	char d[FERRY_PATH_MAX];

	snprintf(d, sizeof(d), "%s", path);
	for (char *s = strchr(d + 1, '/');; s = strchr(s + 1, '/')) {
		if (s == NULL && !last)
			return 0;
		if (s != NULL)
			*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return ferry_errf(why, len, "cannot create directory %s: %s", d,
					  strerror(errno));
		if (s == NULL)
			return 0;
		*s = '/';
	}
}

/* mkdir -p of an allowed directory (operator configuration) that path is spelled under. */
static int
make_allowed_dir(const char *path, const char *dir, char *why, size_t len)
{
	struct stat st;

	if (!ferry_path_under(path, dir) || stat(dir, &st) == 0)
		return 0;
	return ferry_mkdirs(dir, true, why, len);
}

/* Index of the allowed directory real (resolved) is in, or -1. */
static int
allowed_index(const char *real, const char (*dirs)[FERRY_PATH_MAX], unsigned n)
{
	char d[PATH_MAX];

	for (unsigned i = 0; i < n; i++)
		if (realpath(dirs[i], d) != NULL && ferry_path_under(real, d))
			return (int)i;
	return -1;
}

/* The deepest existing directory of parent: its spelling (prefix length of parent) and realpath. */
static int
deepest_existing(const char *parent, size_t *prefix, char *real, char *why, size_t len)
{
	char e[PATH_MAX];

	snprintf(e, sizeof(e), "%s", parent);
	while (realpath(e, real) == NULL) {
		if (errno != ENOENT)
			return ferry_errf(why, len, "cannot resolve %s: %s", e, strerror(errno));
		char *slash = strrchr(e, '/');
		if (slash == NULL || slash == e) {
			snprintf(e, sizeof(e), "/");
			continue;
		}
		*slash = '\0';
	}
	*prefix = strcmp(e, "/") == 0 ? 0 : strlen(e);
	return 0;
}

/* Make the levels of rest ("a/b/c") below the resolved directory base, each opened with
 * O_NOFOLLOW: a symlink raced in is refused, nothing is made outside base. */
static int
make_levels(const char *base, const char *rest, char *why, size_t len)
{
	char comp[NAME_MAX + 1];
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), nfd;

	if (fd < 0)
		return ferry_errf(why, len, "cannot open %s: %s", base, strerror(errno));
	while (*rest != '\0') {
		while (*rest == '/')
			rest++;
		size_t n = strcspn(rest, "/");
		if (n == 0)
			break;
		if (n > NAME_MAX) {
			close(fd);
			return ferry_errf(why, len, "a directory name is too long");
		}
		memcpy(comp, rest, n);
		comp[n] = '\0';
		rest += n;
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
			goto fail;
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			goto fail;
		close(fd);
		fd = nfd;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return ferry_errf(why, len, "cannot create directory %s below %s: %s", comp, base,
			  strerror(errno));
}

static int
outside(const char *spelled, const char *real, char *why, size_t len)
{
	if (strcmp(spelled, real) == 0)
		return ferry_errf(why, len, "%s is outside every allowed directory", spelled);
	return ferry_errf(why, len, "%s resolves to %s, outside every allowed directory", spelled,
			  real);
}

int
ferry_sock_path_inside(const char *path, const char (*dirs)[FERRY_PATH_MAX], unsigned n,
		       bool create, char *why, size_t whylen)
{
	char parent[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t prefix = 0;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return ferry_errf(why, whylen, "must be an absolute path naming a file");
	if (ferry_path_has_dots(path))
		return ferry_errf(why, whylen, "'.' and '..' components are not allowed");
	snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	for (unsigned i = 0; create && i < n; i++)
		if (make_allowed_dir(path, dirs[i], why, whylen) < 0)
			return -1;
	if (deepest_existing(parent, &prefix, real, why, whylen) < 0)
		return -1;
	if (allowed_index(real, dirs, n) < 0) {
		char spelled[PATH_MAX];
		snprintf(spelled, sizeof(spelled), "%.*s", prefix ? (int)prefix : 1, parent);
		return outside(spelled, real, why, whylen);
	}
	if (!create || parent[prefix] == '\0')
		return 0;   /* without create, missing levels would be made inside: fine */
	if (make_levels(real, parent + prefix, why, whylen) < 0)
		return -1;
	if (realpath(parent, real) == NULL)
		return ferry_errf(why, whylen, "cannot resolve %s: %s", parent, strerror(errno));
	return allowed_index(real, dirs, n) < 0 ? outside(parent, real, why, whylen) : 0;
}
