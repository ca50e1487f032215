/* port_vhost.c — a vhost-user socket as a switch port, through the rte_vhost API directly.
 * Server mode: ferryd owns the socket (a stale socket file is replaced, a live one or any other file
 * refused) and removes it again only while it is still the file bound (dev/ino, ferry_sock.h).
 * Client mode: ferryd connects to QEMU's socket; rte_vhost reconnects when either side restarts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include "ferry_port.h"

/* Guest offloads ferry does not implement yet: frames must arrive complete, with checksums. */
#define UNSUPPORTED_FEATURES ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) |                         \
	(1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |                           \
	(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |                     \
	(1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))
/* ferry's own dequeue (lib/zc) reads split rings and completes out of order. */
#define ZC_UNSUPPORTED_FEATURES ((1ULL << 34 /* VIRTIO_F_RING_PACKED */) | \
	(1ULL << 35 /* VIRTIO_F_IN_ORDER */))

/* The socket's directory, one level (config-file ports are trusted; ports added over RPC had
 * their path checked, and missing levels made inside vhost.socket_dirs, by lib/rpc first). */
static int
mkdir_parent(const char *path)
{
	char dir[FERRY_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* 0: path free (a stale socket was removed); -EADDRINUSE: something answers there; -EEXIST: not
 * a socket (a symlink is never followed); -errno else. */
static int
claim_path(const char *path)
{
	int st = ferry_sock_clear_stale(path);

	if (st == FERRY_SOCK_ABSENT)
		return 0;
	if (st == FERRY_SOCK_LIVE)
		return -EADDRINUSE;
	if (st == FERRY_SOCK_NOT_SOCKET)
		return -EEXIST;
	return st < 0 ? st : -EIO;
}

static int
check_server_path(struct ferry_port *p, char *err, size_t errlen)
{
	int rc = mkdir_parent(p->conf.path);

	if (rc == 0)
		rc = claim_path(p->conf.path);
	if (rc == -EADDRINUSE)
		snprintf(err, errlen, "port %s: %s is in use by a live process", p->conf.name,
			 p->conf.path);
	else if (rc == -EEXIST)
		snprintf(err, errlen, "port %s: %s exists and is not a socket", p->conf.name,
			 p->conf.path);
	else if (rc < 0)
		snprintf(err, errlen, "port %s: %s: %s", p->conf.name, p->conf.path, strerror(-rc));
	return rc;
}

static void
unregister_path(void *path)
{
	rte_vhost_driver_unregister(path);
}

/* rte_vhost_driver_unregister closes the socket and, for a server, unlink()s its path whatever
 * is there now: run it guarded so that only the socket file ferry bound can go. */
static void
vhost_unregister(struct ferry_port *p)
{
	if (p->conf.client)
		rte_vhost_driver_unregister(p->conf.path);
	else
		ferry_sock_guard_unlink(p->conf.path, &p->sock_id, unregister_path, p->conf.path);
	p->sock_id.set = false;
}

/* The socket file rte_vhost just bound: the one removed when the port goes. */
static void
record_socket(struct ferry_port *p)
{
	int rc = ferry_sock_id_get(p->conf.path, &p->sock_id);

	if (rc < 0)
		FERRY_LOG(WARNING, "port %s: %s is not the socket just bound (%s): it will not be "
			  "removed", p->conf.name, p->conf.path, strerror(-rc));
}

int
ferry_port_vhost_open(struct ferry_port *p, const struct rte_vhost_device_ops *ops,
		      char *err, size_t errlen)
{
	const char *path = p->conf.path;
	uint64_t flags = p->conf.client ? RTE_VHOST_USER_CLIENT : 0;

	p->sock_id.set = false;
	if (!p->conf.client && check_server_path(p, err, errlen) < 0)
		return FERRY_EPROBE;
	if (rte_vhost_driver_register(path, flags) != 0) {
		snprintf(err, errlen, "port %s: cannot register vhost-user socket %s", p->conf.name, path);
		return FERRY_EPROBE;
	}
	uint64_t off = UNSUPPORTED_FEATURES |
		(p->conf.zero_copy != FERRY_ZC_OFF ? ZC_UNSUPPORTED_FEATURES : 0);

	if (rte_vhost_driver_disable_features(path, off) != 0 ||
	    rte_vhost_driver_callback_register(path, ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		snprintf(err, errlen, "port %s: cannot start vhost-user socket %s", p->conf.name, path);
		vhost_unregister(p);   /* a file that made bind fail is left alone */
		return FERRY_EPROBE;
	}
	if (!p->conf.client)
		record_socket(p);
	FERRY_LOG(INFO, "port %s: vhost-user %s %s", p->conf.name,
		  p->conf.client ? "client of" : "server on", path);
	return 0;
}

void
ferry_port_vhost_close(struct ferry_port *p)
{
	/* Closes the connection: destroy_device runs (on this thread) before this returns. */
	vhost_unregister(p);
}
