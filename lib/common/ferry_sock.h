/* ferry_sock.h — Unix socket files ferry creates (vhost-user server sockets): where one may be made
 * (inside allowed directories, no "." / ".." / symlink escape), the identity (dev/ino) of the file
 * bound, and removal of that file only — never of something that replaced it. What is at a path
 * before binding (ferry_sock_state) is declared in ferry_common.h. */
#ifndef FERRY_SOCK_H
#define FERRY_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "ferry_common.h"

/* The socket file ferry bound: taken with lstat right after bind. */
struct ferry_sock_id {
	dev_t dev;
	ino_t ino;
	bool set;
};

/* Record the socket file at path (lstat, a symlink is never followed). 0, -ENOTSOCK or -errno. */
int ferry_sock_id_get(const char *path, struct ferry_sock_id *id);
/* true if path is still the very socket file id was taken from. */
bool ferry_sock_id_match(const char *path, const struct ferry_sock_id *id);
/* Unlink path only if it is still the file id names: 0 removed, 1 left (absent or not ours),
 * -errno. */
int ferry_sock_unlink_own(const char *path, const struct ferry_sock_id *id);

/* Make path free for bind: nothing there (FERRY_SOCK_ABSENT), or a stale socket file (nobody
 * accepts on it), which is removed — only that file (its dev/ino checked again just before the
 * unlink), never a symlink or anything else. Otherwise FERRY_SOCK_LIVE, FERRY_SOCK_NOT_SOCKET or
 * -errno, and nothing is removed. */
int ferry_sock_clear_stale(const char *path);

/* mkdir -p of path's directories (with last, path itself too), mode 0755; 0, or -1 with why. */
int ferry_mkdirs(const char *path, bool last, char *why, size_t len);

/* Run fn(arg), which unlinks path blindly (rte_vhost_driver_unregister does for a server socket),
 * so that it can remove only the socket id names: whatever is at path is moved aside first
 * (renameat2 RENAME_NOREPLACE, in the same directory), ours is unlinked afterwards, anything else
 * is put back. id may be NULL or unset (nothing is ours). Returns 0, 1 if a file that is not ours
 * was found and put back, or -errno if it could not be moved aside / back (then logged). */
int ferry_sock_guard_unlink(const char *path, const struct ferry_sock_id *id,
			    void (*fn)(void *arg), void *arg);

/* Is path (absolute, no "." or ".." component) in one of dirs[0..n) or below, once every symlink
 * of its directory is resolved (realpath)? With create, the missing directories are made (0755):
 * an allowed directory itself when path is spelled under it, and the missing levels below the
 * deepest existing directory — only when that one is inside an allowed directory, each level
 * opened with O_NOFOLLOW. Nothing is created outside. Returns 0, or -1 with why ("... is outside
 * every allowed directory"). */
int ferry_sock_path_inside(const char *path, const char (*dirs)[FERRY_PATH_MAX], unsigned n,
			   bool create, char *why, size_t whylen);

/* true if a path has a "." or ".." component. */
bool ferry_path_has_dots(const char *path);
/* true if real (a resolved path) is dir (resolved) or below it. */
bool ferry_path_under(const char *real, const char *dir);

#endif
