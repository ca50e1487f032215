/* rpc_mirror.c — mirror.add / mirror.del / mirror.list (port mirroring: lib/mirror through the
 * switch). mirror.add's params are the config's mirror object, parsed by the same code, so a
 * refusal names the field as the config check does ("params.direction: must be rx, tx or both"). */
#include <stdio.h>
#include "ferry_mirror.h"
#include "ferry_switch.h"
#include "rpc_mirror.h"

int
rpc_m_mirror_add(struct rpc_call *c, json_t **res)
{
	struct ferry_mirror_conf mc;
	int rc;

	if ((rc = rpc_need_switch(c)) != 0)
		return rc;
	if (c->params == NULL)
		return rpc_err(c, FERRY_EINVAL, "params: must be a mirror object (name, ports, "
			       "direction, output)");
	if (ferry_mirror_conf_parse(c->params, "params", &mc, c->err, sizeof(c->err)) < 0)
		return FERRY_EINVAL;
	return ferry_switch_mirror_add(c->r->sw, &mc, res, c->err, sizeof(c->err));
}

int
rpc_m_mirror_del(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "name", NULL };
	const char *name;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_get_string(c, "name", true, &name)) != 0 ||
	    (rc = rpc_need_switch(c)) != 0)
		return rc;
	return ferry_switch_mirror_del(c->r->sw, name, res, c->err, sizeof(c->err));
}

int
rpc_m_mirror_list(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { NULL };
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = rpc_need_switch(c)) != 0)
		return rc;
	*res = ferry_switch_mirror_list(c->r->sw);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}
