/* ferry_config_policy.c — the configuration keys that bound what an RPC client may make ferryd
 * touch on the host: rpc.save_dir (where config.save may write besides the file ferryd was started
 * with), rpc.allow_host_devargs (port.add devargs that name host files or interfaces) and
 * vhost.socket_dirs (where vhost-user sockets of ports added over RPC may be), rpc.filter_dirs
 * (where eBPF filter objects named over RPC may be), rpc.capture_dir (the only directory
 * capture.start writes into). The configuration
 * file itself is trusted: its ports are not bound by these. */
#include <stdio.h>
#include <string.h>
#include "ferry_config.h"
#include "config_util.h"

const char *const ferry_vhost_default_socket_dirs[] = { "/run/ferry", "/var/lib/ferry", NULL };
const char ferry_default_capture_dir[] = "/var/lib/ferry/captures";
const char *const ferry_default_filter_dirs[] = { "/usr/lib/ferry/plugins", "/etc/ferry/plugins",
						  NULL };

/* An absolute directory path, kept without a trailing slash ("/" stays "/"). */
static int
dir_path(const char *s, const char *where, const char *field, char *out, size_t len,
	 char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (s[0] != '/' || n >= len)
		return cfg_err(err, errlen, where, field, "'%s': must be an absolute directory path "
			       "under %zu characters", s, len);
	while (n > 1 && s[n - 1] == '/')
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* rpc.filter_dirs: where filter objects named by filter.attach / port.add over RPC may be. */
static int
parse_filter_dirs(json_t *rpc, struct ferry_conf *c, char *err, size_t errlen)
{
	json_t *dirs = rpc != NULL ? json_object_get(rpc, "filter_dirs") : NULL, *it;
	char field[48];
	size_t i;

	c->n_filter_dirs = 0;
	if (dirs == NULL) {
		for (i = 0; ferry_default_filter_dirs[i] != NULL; i++)
			snprintf(c->filter_dirs[c->n_filter_dirs++], FERRY_FILTER_PATH_MAX, "%s",
				 ferry_default_filter_dirs[i]);
		return 0;
	}
	if (!json_is_array(dirs) || json_array_size(dirs) > FERRY_MAX_SOCKET_DIRS)
		return cfg_err(err, errlen, "rpc", "filter_dirs", "must be a list of at most %d "
			       "absolute directory paths", FERRY_MAX_SOCKET_DIRS);
	json_array_foreach(dirs, i, it) {
		snprintf(field, sizeof(field), "filter_dirs[%zu]", i);
		if (!json_is_string(it))
			return cfg_err(err, errlen, "rpc", field, "must be a string");
		if (dir_path(json_string_value(it), "rpc", field, c->filter_dirs[i],
			     FERRY_FILTER_PATH_MAX, err, errlen) < 0)
			return -1;
		c->n_filter_dirs++;
	}
	return 0;
}

int
cfg_parse_rpc_policy(json_t *rpc, struct ferry_conf *c, char *err, size_t errlen)
{
	const char *dir = NULL, *cdir = ferry_default_capture_dir;

	c->rpc_save_dir[0] = '\0';
	if (parse_filter_dirs(rpc, c, err, errlen) < 0)
		return -1;
	if (cfg_get_bool(rpc, "rpc", "allow_host_devargs", false, &c->rpc_allow_host_devargs,
			 err, errlen) < 0 ||
	    cfg_get_string(rpc, "rpc", "capture_dir", false, &cdir, err, errlen) < 0 ||
	    dir_path(cdir, "rpc", "capture_dir", c->rpc_capture_dir, sizeof(c->rpc_capture_dir),
		     err, errlen) < 0 ||
	    cfg_get_string(rpc, "rpc", "save_dir", false, &dir, err, errlen) < 0)
		return -1;
	if (dir == NULL || dir[0] == '\0')
		return 0;
	return dir_path(dir, "rpc", "save_dir", c->rpc_save_dir, sizeof(c->rpc_save_dir), err, errlen);
}

static void
default_socket_dirs(struct ferry_conf *c)
{
	c->n_vhost_socket_dirs = 0;
	for (unsigned i = 0; ferry_vhost_default_socket_dirs[i] != NULL; i++)
		snprintf(c->vhost_socket_dirs[c->n_vhost_socket_dirs++], FERRY_PATH_MAX, "%s",
			 ferry_vhost_default_socket_dirs[i]);
}

int
cfg_parse_vhost(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "socket_dirs", NULL };
	json_t *v = json_object_get(root, "vhost"), *dirs, *it;
	char field[48];
	size_t i;

	default_socket_dirs(c);
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return cfg_err(err, errlen, "vhost", NULL, "must be an object");
	if (cfg_check_keys(v, "vhost", keys, err, errlen) < 0)
		return -1;
	dirs = json_object_get(v, "socket_dirs");
	if (dirs == NULL)
		return 0;
	if (!json_is_array(dirs) || json_array_size(dirs) > FERRY_MAX_SOCKET_DIRS)
		return cfg_err(err, errlen, "vhost", "socket_dirs", "must be a list of at most %d "
			       "absolute directory paths", FERRY_MAX_SOCKET_DIRS);
	c->n_vhost_socket_dirs = 0;
	json_array_foreach(dirs, i, it) {
		snprintf(field, sizeof(field), "socket_dirs[%zu]", i);
		if (!json_is_string(it))
			return cfg_err(err, errlen, "vhost", field, "must be a string");
		if (dir_path(json_string_value(it), "vhost", field, c->vhost_socket_dirs[i],
			     FERRY_PATH_MAX, err, errlen) < 0)
			return -1;
		c->n_vhost_socket_dirs++;
	}
	return 0;
}

void
ferry_config_policy_to_json(const struct ferry_conf *c, json_t *o)
{
	json_t *rpc = json_object_get(o, "rpc"), *dirs = json_array();

	if (rpc == NULL) {
		rpc = json_object();
		json_object_set_new(o, "rpc", rpc);
	}
	if (c->rpc_save_dir[0] != '\0')
		json_object_set_new(rpc, "save_dir", json_string(c->rpc_save_dir));
	json_object_set_new(rpc, "allow_host_devargs", json_boolean(c->rpc_allow_host_devargs));
	json_object_set_new(rpc, "capture_dir", json_string(c->rpc_capture_dir));
	json_t *fdirs = json_array();
	for (unsigned i = 0; i < c->n_filter_dirs; i++)
		json_array_append_new(fdirs, json_string(c->filter_dirs[i]));
	json_object_set_new(rpc, "filter_dirs", fdirs);
	for (unsigned i = 0; i < c->n_vhost_socket_dirs; i++)
		json_array_append_new(dirs, json_string(c->vhost_socket_dirs[i]));
	json_object_set_new(o, "vhost", json_pack("{s:o}", "socket_dirs", dirs));
}
