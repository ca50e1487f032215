/* rpc_policy.c — what an RPC client may make ferryd (root) touch on the host. config.save writes
 * only the file ferryd was started with or a file inside rpc.save_dir; port.add devargs come from
 * an allowlist naming no host file or interface unless rpc.allow_host_devargs; a vhost-user socket
 * of a port added over RPC lies inside vhost.socket_dirs; capture.start writes only inside
 * rpc.capture_dir (a new file, a regular file or a FIFO there). Refusals are -32602 naming the param and
 * the rule. The configuration file is trusted: its ports are not checked here. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ferry_port.h"
#include "ferry_sock.h"
#include "ferry_switch.h"
#include "rpc_policy.h"

#define DEVARGS_RULE "only PCI devices bound to vfio-pci and the vdevs net_null, net_ring and " \
	"net_tap may be added over RPC; rpc.allow_host_devargs is off"

/* --- devargs --- */

struct vdev_rule {
	const char *driver;
	const char *const *keys;   /* the devargs keys allowed over RPC */
};

static const char *const null_keys[] = { "size", "copy", "no-rx", NULL };
static const char *const ring_keys[] = { "nodeaction", NULL };   /* rings in ferryd's memory */
static const char *const tap_keys[] = { "iface", "mac", NULL };  /* not remote= (a host iface) */
static const struct vdev_rule vdev_rules[] = {
	{ "net_null", null_keys }, { "net_ring", ring_keys }, { "net_tap", tap_keys },
};

static int
refuse_devargs(struct rpc_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
refuse_devargs(struct rpc_call *c, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return rpc_err(c, FERRY_EINVAL, "params.devargs: %s (" DEVARGS_RULE ")", why);
}

static bool
in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return true;
	return false;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" (what DPDK's PCI bus takes) as sysfs names it, "dddd:bb:dd.f". */
static bool
pci_name(const char *s, size_t n, char *out)
{
	static const char pattern[] = "hhhh:hh:hh.f";
	char a[sizeof(pattern)];

	if (n == 7)
		snprintf(a, sizeof(a), "0000:%.7s", s);
	else if (n == 12)
		snprintf(a, sizeof(a), "%.12s", s);
	else
		return false;
	for (size_t i = 0; i < sizeof(pattern) - 1; i++) {
		char p = pattern[i], ch = a[i];
		if ((p == 'h' && !isxdigit((unsigned char)ch)) || (p == 'f' && (ch < '0' || ch > '7')) ||
		    (p != 'h' && p != 'f' && ch != p))
			return false;
		out[i] = (char)tolower((unsigned char)ch);
	}
	out[sizeof(pattern) - 1] = '\0';
	return true;
}

/* A PCI device the operator gave to DPDK: bound to vfio-pci (a NIC the host uses has its kernel
 * driver, and bifurcated PMDs such as mlx5 could take it from under the host). */
static int
check_pci(struct rpc_call *c, const char *name)
{
	char link[PATH_MAX], p[96];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", name);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return refuse_devargs(c, "PCI device %s is %s", name, errno == ENOENT ?
				      "absent or bound to no driver" : strerror(errno));
	link[n] = '\0';
	const char *drv = strrchr(link, '/') != NULL ? strrchr(link, '/') + 1 : link;
	if (strcmp(drv, "vfio-pci") != 0)
		return refuse_devargs(c, "PCI device %s is bound to %s, not vfio-pci", name, drv);
	return 0;
}

/* "net_null", "net_null0", "net_null12": the driver's name and a number, nothing else (DPDK
 * matches vdev drivers by prefix). */
static const struct vdev_rule *
vdev_rule(const char *s, size_t n)
{
	for (size_t i = 0; i < RTE_DIM(vdev_rules); i++) {
		size_t len = strlen(vdev_rules[i].driver), k = len;
		if (n < len || memcmp(s, vdev_rules[i].driver, len) != 0)
			continue;
		while (k < n && isdigit((unsigned char)s[k]))
			k++;
		if (k == n)
			return &vdev_rules[i];
	}
	return NULL;
}

/* One "key=value" of an allowlisted vdev. */
static int
check_vdev_arg(struct rpc_call *c, const struct vdev_rule *r, const char *kv, size_t n,
	       json_t *ports, const char *devargs)
{
	const char *eq = memchr(kv, '=', n);
	size_t klen = eq != NULL ? (size_t)(eq - kv) : n;
	char val[IF_NAMESIZE + 1];

	if (klen == 0)
		return refuse_devargs(c, "an empty argument");
	if (strcmp(r->driver, "net_tap") == 0 && klen == 6 && memcmp(kv, "remote", 6) == 0)
		return refuse_devargs(c, "net_tap remote= attaches to a host interface");
	if (!in_list(kv, klen, r->keys))
		return refuse_devargs(c, "%s does not take '%.*s' over RPC", r->driver, (int)klen, kv);
	if (strcmp(r->driver, "net_tap") != 0 || klen != 5 || memcmp(kv, "iface", 5) != 0 ||
	    eq == NULL || ferry_switch_port_find(ports, "devargs", devargs) != NULL)
		return 0;
	/* a tap of that name would attach to the existing (tap) interface: a host's or a guest's */
	snprintf(val, sizeof(val), "%.*s", (int)(n - klen - 1), eq + 1);
	if (n - klen - 1 <= IF_NAMESIZE && if_nametoindex(val) != 0)
		return refuse_devargs(c, "net_tap iface=%s is an existing host interface", val);
	return 0;
}

static int
check_devargs(struct rpc_call *c, const char *devargs, json_t *ports)
{
	size_t n = strcspn(devargs, ",");
	const struct vdev_rule *r;
	char pci[16];

	for (const char *s = devargs; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s) || (unsigned char)*s >= 0x80)
			return refuse_devargs(c, "'%.64s' has a space, a control character or a non-ASCII "
					      "byte", devargs);
	if (pci_name(devargs, n, pci)) {   /* the driver's own keys, but no host path in them */
		if (strchr(devargs + n, '/') != NULL)
			return refuse_devargs(c, "a PCI device's arguments may not name a path ('/')");
		return check_pci(c, pci);
	}
	r = vdev_rule(devargs, n);
	if (r == NULL)
		return refuse_devargs(c, "'%.*s' is not allowed over RPC: it may name host files or "
				      "interfaces", (int)RTE_MIN(n, (size_t)64), devargs);
	if (strpbrk(devargs + n, "[]") != NULL)   /* kvargs lists: none of these keys takes one */
		return refuse_devargs(c, "brackets in %s arguments", r->driver);
	for (const char *kv = devargs + n; *kv == ','; ) {
		kv++;
		size_t len = strcspn(kv, ",");
		int rc = check_vdev_arg(c, r, kv, len, ports, devargs);
		if (rc != 0)
			return rc;
		kv += len;
	}
	return 0;
}

/* --- vhost-user socket paths --- */

static int
check_vhost_path(struct rpc_call *c, const struct ferry_port_conf *pc, const struct ferry_conf *cf)
{
	char why[400], list[FERRY_MAX_SOCKET_DIRS * (FERRY_PATH_MAX + 2)] = "";

	for (unsigned i = 0; i < cf->n_vhost_socket_dirs; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 cf->vhost_socket_dirs[i]);
	if (cf->n_vhost_socket_dirs == 0)
		return rpc_err(c, FERRY_EINVAL, "params.path: vhost.socket_dirs is empty: no "
			       "vhost-user port can be added over RPC");
	/* a server socket's missing directory levels are made now, inside an allowed directory */
	if (ferry_sock_path_inside(pc->path, cf->vhost_socket_dirs, cf->n_vhost_socket_dirs,
				   !pc->client, why, sizeof(why)) == 0)
		return 0;
	return rpc_err(c, FERRY_EINVAL, "params.path: %.100s: %s (a port added over RPC must have its "
		       "socket inside vhost.socket_dirs: %.300s)", pc->path, why, list);
}

static bool
identical_exists(json_t *ports, const struct ferry_port_conf *pc)
{
	json_t *mine = ferry_port_conf_to_json(pc), *p;
	bool same = false;
	size_t i;

	json_array_foreach(ports, i, p)
		if (json_equal(json_object_get(p, "name"), json_object_get(mine, "name")))
			same = json_equal(p, mine);
	json_decref(mine);
	return same;
}

int
rpc_policy_port_add(struct rpc_call *c, const struct ferry_port_conf *pc)
{
	const struct ferry_conf *cf = ferry_switch_conf(c->r->sw);
	json_t *cfg = ferry_switch_config_get(c->r->sw);
	json_t *ports = json_object_get(cfg, "ports");
	int rc = 0;

	if (cfg == NULL)
		rc = rpc_err(c, FERRY_EINTERNAL, "out of memory");
	else if (identical_exists(ports, pc))
		rc = 0;   /* port.add does nothing */
	else if (ferry_port_type_ops(pc)->claim == FERRY_PORT_CLAIM_DEVICE)
		rc = cf->rpc_allow_host_devargs ? 0 : check_devargs(c, pc->devargs, ports);
	else
		rc = check_vhost_path(c, pc, cf);
	json_decref(cfg);
	return rc;
}

/* --- config.save --- */

#define SAVE_RULE "config.save writes only the file ferryd was started with (--config) or a " \
	"file inside rpc.save_dir"

/* dir and name of p ("." when it has no slash). false if it names no file. */
static bool
split_path(const char *p, char *dir, size_t dlen, char *name, size_t nlen)
{
	const char *slash = strrchr(p, '/');
	const char *base = slash != NULL ? slash + 1 : p;

	if (base[0] == '\0' || strlen(base) >= nlen)
		return false;
	if (slash == NULL)
		snprintf(dir, dlen, ".");
	else
		snprintf(dir, dlen, "%.*s", slash == p ? 1 : (int)(slash - p), p);
	snprintf(name, nlen, "%s", base);
	return true;
}

static bool
is_started_file(const char *started, const char *dreal, const char *name)
{
	char dir[PATH_MAX], sname[256], sreal[PATH_MAX];

	return started[0] != '\0' && split_path(started, dir, sizeof(dir), sname, sizeof(sname)) &&
	       realpath(dir, sreal) != NULL && strcmp(sreal, dreal) == 0 && strcmp(sname, name) == 0;
}

static bool
in_save_dir(const char *save_dir, const char *dreal)
{
	char sreal[PATH_MAX];

	return save_dir[0] != '\0' && realpath(save_dir, sreal) != NULL &&
	       ferry_path_under(dreal, sreal);
}

/* The directory, opened, must still be the one resolved (nothing swapped in between). */
static int
open_dir(struct rpc_call *c, const char *dreal, const char *shown, const char *rule)
{
	char proc[64], now[PATH_MAX];
	int fd = open(dreal, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s: cannot open its directory: %s",
			       shown, strerror(errno));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, now, sizeof(now) - 1);
	if (n < 0 || (size_t)n != strlen(dreal) || memcmp(now, dreal, (size_t)n) != 0) {
		close(fd);
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s: its directory changed while it "
			       "was checked (%s)", shown, rule);
	}
	return fd;
}

static int
check_target(struct rpc_call *c, struct rpc_save_target *t)
{
	struct stat st;

	if (fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode))
		return 0;
	close(t->dirfd);
	t->dirfd = -1;
	return rpc_err(c, FERRY_EINVAL, "params.path: %.200s is %s: config.save replaces only a "
		       "regular file", t->shown, S_ISLNK(st.st_mode) ? "a symlink" :
		       S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
}

int
rpc_policy_save_target(struct rpc_call *c, const char *given, struct rpc_save_target *t)
{
	const struct ferry_conf *cf = ferry_switch_conf(c->r->sw);
	const char *started = cf->path, *save_dir = cf->rpc_save_dir;
	const char *target = given != NULL ? given : started;
	char dir[PATH_MAX], dreal[PATH_MAX];
	int fd;

	t->dirfd = -1;
	if (given == NULL && started[0] == '\0')
		return rpc_err(c, FERRY_EINVAL, "params.path: missing (ferryd runs the built-in "
			       "configuration, so there is no default file%s)",
			       save_dir[0] ? "; give a path inside rpc.save_dir" : "");
	if (given != NULL && started[0] == '\0' && save_dir[0] == '\0')
		return rpc_err(c, FERRY_EINVAL, "params.path: refused: " SAVE_RULE ", and ferryd runs "
			       "the built-in configuration without rpc.save_dir");
	snprintf(t->shown, sizeof(t->shown), "%s", target);
	if (given != NULL && ferry_path_has_dots(given))
		return rpc_err(c, FERRY_EINVAL, "params.path: '.' and '..' components are not allowed "
			       "(" SAVE_RULE ")");
	if (!split_path(target, dir, sizeof(dir), t->name, sizeof(t->name)))
		return rpc_err(c, FERRY_EINVAL, "params.path: must name a file (" SAVE_RULE ")");
	if (realpath(dir, dreal) == NULL)
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s: cannot resolve its directory: "
			       "%s (" SAVE_RULE ")", target, strerror(errno));
	if (!is_started_file(started, dreal, t->name) && !in_save_dir(save_dir, dreal))
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s is neither the file ferryd was "
			       "started with (%.200s) nor inside rpc.save_dir (%.200s)", target,
			       started[0] ? started : "none: built-in configuration",
			       save_dir[0] ? save_dir : "not set");
	if ((fd = open_dir(c, dreal, target, SAVE_RULE)) < 0)
		return fd;
	t->dirfd = fd;
	return check_target(c, t);
}

/* --- capture.start --- */

#define CAPTURE_RULE "capture.start writes only a new file, a regular file or a FIFO inside " \
	"rpc.capture_dir"

/* The capture directory, made (mode 0700, its parents 0755) if missing: it is ferryd's own. */
static int
make_capture_dir(struct rpc_call *c, const char *dir)
{
	char why[300];
	struct stat st;

	if (stat(dir, &st) == 0)
		return 0;
	if (ferry_mkdirs(dir, false, why, sizeof(why)) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return rpc_err(c, FERRY_EINTERNAL, "rpc.capture_dir %.200s: cannot create it: %s", dir,
			       errno ? strerror(errno) : why);
	return 0;
}

static int
check_capture_file(struct rpc_call *c, struct rpc_save_target *t)
{
	struct stat st;

	if (fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode) ||
	    S_ISFIFO(st.st_mode))
		return 0;
	close(t->dirfd);
	t->dirfd = -1;
	return rpc_err(c, FERRY_EINVAL, "params.path: %.200s is %s (" CAPTURE_RULE ")", t->shown,
		       S_ISLNK(st.st_mode) ? "a symlink" : S_ISDIR(st.st_mode) ? "a directory" :
		       "neither a regular file nor a FIFO");
}

int
rpc_policy_capture_target(struct rpc_call *c, const char *given, struct rpc_save_target *t)
{
	const char *cdir = ferry_switch_conf(c->r->sw)->rpc_capture_dir;
	char dir[PATH_MAX], dreal[PATH_MAX];
	int fd, rc;

	t->dirfd = -1;
	snprintf(t->shown, sizeof(t->shown), "%s", given);
	if (given[0] != '/')
		return rpc_err(c, FERRY_EINVAL, "params.path: '%.200s': must be an absolute path "
			       "(" CAPTURE_RULE ": %s)", given, cdir);
	if (ferry_path_has_dots(given))
		return rpc_err(c, FERRY_EINVAL, "params.path: '.' and '..' components are not allowed "
			       "(" CAPTURE_RULE ")");
	if ((rc = make_capture_dir(c, cdir)) != 0)
		return rc;
	if (!split_path(given, dir, sizeof(dir), t->name, sizeof(t->name)))
		return rpc_err(c, FERRY_EINVAL, "params.path: must name a file (" CAPTURE_RULE ")");
	if (realpath(dir, dreal) == NULL)
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s: cannot resolve its directory: "
			       "%s (" CAPTURE_RULE ")", given, strerror(errno));
	if (!in_save_dir(cdir, dreal))
		return rpc_err(c, FERRY_EINVAL, "params.path: %.200s is not inside rpc.capture_dir "
			       "(%.200s): " CAPTURE_RULE, given, cdir);
	if ((fd = open_dir(c, dreal, given, CAPTURE_RULE)) < 0)
		return fd;
	t->dirfd = fd;
	return check_capture_file(c, t);
}
