/* rpc_filter.c — the filter.* methods (eBPF filters on ports, lib/filter via the switch) and the
 * rule for the object files an RPC client may make ferryd open: inside rpc.filter_dirs. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ferry_sock.h"
#include "ferry_switch.h"
#include "rpc_filter.h"

int
rpc_policy_filter(struct rpc_call *c, const char *field, struct ferry_filter_conf *fc)
{
	const struct ferry_conf *cf = ferry_switch_conf(c->r->sw);
	char real[PATH_MAX], dreal[PATH_MAX], dirs[512] = "";
	struct stat st;

	if (realpath(fc->path, real) == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
		return rpc_err(c, FERRY_EINVAL, "%s: %.200s: no such regular file", field, fc->path);
	for (unsigned i = 0; i < cf->n_filter_dirs; i++) {
		if (realpath(cf->filter_dirs[i], dreal) != NULL && ferry_path_under(real, dreal)) {
			if (strlen(real) >= sizeof(fc->path))
				return rpc_err(c, FERRY_EINVAL, "%s: path too long", field);
			snprintf(fc->path, sizeof(fc->path), "%s", real);
			return 0;
		}
		snprintf(dirs + strlen(dirs), sizeof(dirs) - strlen(dirs), "%s%s", i ? ", " : "",
			 cf->filter_dirs[i]);
	}
	return rpc_err(c, FERRY_EINVAL, "%s: %.200s is not inside rpc.filter_dirs (%s): filter objects "
		       "named over RPC must be", field, fc->path, dirs[0] ? dirs : "none");
}

int
rpc_m_filter_attach(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "hook", "path", "name", NULL };
	struct ferry_filter_conf fc;
	const char *port;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_get_string(c, "port", true, &port)) != 0)
		return rc;
	json_t *obj = json_deep_copy(c->params);   /* {hook, path, name}: the config's filter object */
	json_object_del(obj, "port");
	rc = ferry_filter_conf_parse(obj, "params", &fc, c->err, sizeof(c->err));
	json_decref(obj);
	if (rc < 0)
		return FERRY_EINVAL;
	if ((rc = rpc_need_switch(c)) != 0 || (rc = rpc_policy_filter(c, "params.path", &fc)) != 0 ||
	    (rc = ferry_switch_filter_attach(c->r->sw, port, &fc, c->err, sizeof(c->err))) < 0)
		return rc;
	*res = json_pack("{s:s, s:s, s:s, s:s, s:b}", "port", port, "hook",
			 fc.hook == FERRY_FILTER_INGRESS ? "ingress" : "egress", "name", fc.name,
			 "path", fc.path, "attached", 1);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}

int
rpc_m_filter_detach(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "name", NULL };
	const char *port, *name;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_get_string(c, "port", true, &port)) != 0 ||
	    (rc = rpc_get_string(c, "name", true, &name)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_filter_detach(c->r->sw, port, name, c->err, sizeof(c->err))) < 0)
		return rc;
	*res = json_pack("{s:s, s:s, s:b}", "port", port, "name", name, "detached", 1);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}

int
rpc_m_filter_list(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", NULL };
	const char *port = NULL;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_get_string(c, "port", false, &port)) != 0 ||
	    (rc = rpc_need_switch(c)) != 0)
		return rc;
	return ferry_switch_filter_list(c->r->sw, port, res, c->err, sizeof(c->err));
}
