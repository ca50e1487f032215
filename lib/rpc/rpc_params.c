/* rpc_params.c — strict, typed access to a method's params object. Every failure names the param:
 * "params.vlan: must be an integer 0..4094" (code -32602). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ferry_common.h"
#include "rpc_private.h"

int
rpc_err(struct rpc_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return code;
}

static bool
in_list(const char *k, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, k) == 0)
			return true;
	return false;
}

int
rpc_check_keys(struct rpc_call *c, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(c->params, k, v)
		if (!in_list(k, allowed))
			return rpc_err(c, FERRY_EINVAL, "params.%.64s: unknown parameter", k);
	return 0;
}

/* An absent key and (for optional keys) a null value both mean "not given". */
static json_t *
get(struct rpc_call *c, const char *key, bool required, int *rc)
{
	json_t *v = json_object_get(c->params, key);

	*rc = 0;
	if (v != NULL && !(json_is_null(v) && !required))
		return v;
	if (required)
		*rc = rpc_err(c, FERRY_EINVAL, "params.%s: missing", key);
	return NULL;
}

int
rpc_get_string(struct rpc_call *c, const char *key, bool required, const char **out)
{
	int rc;
	json_t *v = get(c, key, required, &rc);

	if (v == NULL)
		return rc;
	if (!json_is_string(v))
		return rpc_err(c, FERRY_EINVAL, "params.%s: must be a string", key);
	*out = json_string_value(v);
	return 0;
}

int
rpc_get_uint(struct rpc_call *c, const char *key, bool required, unsigned min, unsigned max,
	     unsigned *out)
{
	int rc;
	json_t *v = get(c, key, required, &rc);

	if (v == NULL)
		return rc;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max)
		return rpc_err(c, FERRY_EINVAL, "params.%s: must be an integer %u..%u", key, min, max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

int
rpc_get_bool(struct rpc_call *c, const char *key, bool *out)
{
	int rc;
	json_t *v = get(c, key, false, &rc);

	if (v == NULL)
		return rc;
	if (!json_is_boolean(v))
		return rpc_err(c, FERRY_EINVAL, "params.%s: must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
rpc_need_switch(struct rpc_call *c)
{
	if (c->r->sw != NULL)
		return 0;
	return rpc_err(c, FERRY_EINTERNAL, "no switch is attached to this control socket");
}
