/* config_util.c — typed JSON field getters and the VLAN object, shared by file and port parsing. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "config_util.h"

int
cfg_err(char *err, size_t errlen, const char *where, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (field != NULL)
		n = snprintf(err, errlen, "%s%s%s: ", where, where[0] ? "." : "", field);
	else
		n = snprintf(err, errlen, "%s: ", where[0] ? where : "(top level)");
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
cfg_get_string(json_t *obj, const char *where, const char *key, bool required, const char **out,
	       char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return required ? cfg_err(err, errlen, where, key, "missing") : 0;
	if (!json_is_string(v))
		return cfg_err(err, errlen, where, key, "must be a string");
	*out = json_string_value(v);
	return 0;
}

int
cfg_get_bool(json_t *obj, const char *where, const char *key, bool dflt, bool *out,
	     char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return cfg_err(err, errlen, where, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int
cfg_get_uint(json_t *obj, const char *where, const char *key, unsigned min, unsigned max,
	     unsigned dflt, unsigned *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return cfg_err(err, errlen, where, key, "must be an integer %u..%u", min, max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static bool
in_list(const char *k, const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (strcmp(k, *keys) == 0)
			return true;
	return false;
}

int
cfg_check_keys(json_t *obj, const char *where, const char *const *keys, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (!in_list(k, keys))
			return cfg_err(err, errlen, where, k, "unknown field");
	return 0;
}

int
cfg_check_unicast(const struct rte_ether_addr *a, const char *where, const char *field,
		  char *err, size_t errlen)
{
	if (!rte_is_valid_assigned_ether_addr(a))
		return cfg_err(err, errlen, where, field, "must be a unicast, non-zero MAC address");
	return 0;
}

static int
vlan_id(json_t *v, const char *where, const char *field, uint16_t *out, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 4094)
		return cfg_err(err, errlen, where, field, "must be a VLAN id 1..4094");
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

static int
vlan_trunk(json_t *v, const char *w, struct ferry_vlan_conf *c, char *err, size_t errlen)
{
	json_t *allowed = json_object_get(v, "allowed"), *native = json_object_get(v, "native"), *it;
	char field[32];
	size_t i;

	c->native = FERRY_VLAN_NONE;
	if (native != NULL && vlan_id(native, w, "native", &c->native, err, errlen) < 0)
		return -1;
	if (allowed == NULL) {
		c->all = true;
		return 0;
	}
	if (!json_is_array(allowed) || json_array_size(allowed) > 4094)
		return cfg_err(err, errlen, w, "allowed", "must be a list of VLAN ids");
	json_array_foreach(allowed, i, it) {
		snprintf(field, sizeof(field), "allowed[%zu]", i);
		if (vlan_id(it, w, field, &c->allowed[i], err, errlen) < 0)
			return -1;
	}
	c->n_allowed = (uint16_t)json_array_size(allowed);
	return 0;
}

int
ferry_vlan_conf_parse(json_t *v, const char *where, struct ferry_vlan_conf *c,
		      char *err, size_t errlen)
{
	static const char *const keys[] = { "mode", "tag", "allowed", "native", NULL };
	char w[64];
	const char *mode;

	memset(c, 0, sizeof(*c));
	if (v == NULL) {   /* default: trunk of every VLAN, untagged frames in VLAN 0 */
		c->mode = FERRY_VLAN_TRUNK;
		c->all = true;
		c->native = 0;
		return 0;
	}
	snprintf(w, sizeof(w), "%s%svlan", where, where[0] ? "." : "");
	if (!json_is_object(v))
		return cfg_err(err, errlen, w, NULL, "must be an object");
	if (cfg_check_keys(v, w, keys, err, errlen) < 0 ||
	    cfg_get_string(v, w, "mode", true, &mode, err, errlen) < 0)
		return -1;
	if (strcmp(mode, "access") == 0) {
		c->mode = FERRY_VLAN_ACCESS;
		if (json_object_get(v, "allowed") || json_object_get(v, "native"))
			return cfg_err(err, errlen, w, NULL, "an access port takes only \"tag\"");
		json_t *tag = json_object_get(v, "tag");
		if (tag == NULL)
			return cfg_err(err, errlen, w, "tag", "missing");
		return vlan_id(tag, w, "tag", &c->tag, err, errlen);
	}
	if (strcmp(mode, "trunk") == 0) {
		c->mode = FERRY_VLAN_TRUNK;
		if (json_object_get(v, "tag"))
			return cfg_err(err, errlen, w, "tag", "a trunk takes \"allowed\" and \"native\"");
		return vlan_trunk(v, w, c, err, errlen);
	}
	return cfg_err(err, errlen, w, "mode", "'%s': must be \"access\" or \"trunk\"", mode);
}

json_t *
ferry_vlan_conf_to_json(const struct ferry_vlan_conf *c)
{
	if (c->mode == FERRY_VLAN_ACCESS)
		return json_pack("{s:s, s:i}", "mode", "access", "tag", c->tag);
	if (c->all && c->native == 0)
		return NULL;   /* the default: written as no "vlan" at all */
	json_t *o = json_pack("{s:s}", "mode", "trunk");
	if (!c->all) {
		json_t *a = json_array();
		for (unsigned i = 0; i < c->n_allowed; i++)
			json_array_append_new(a, json_integer(c->allowed[i]));
		json_object_set_new(o, "allowed", a);
	}
	if (c->native != FERRY_VLAN_NONE)
		json_object_set_new(o, "native", json_integer(c->native));
	return o;
}
