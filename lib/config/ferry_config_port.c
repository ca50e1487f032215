/* ferry_config_port.c — one port object (config file entry or port.add): parsed, printed and
 * checked for conflicts by walking the field table (config_fields.c); its filter objects. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_config.h"
#include "config_util.h"

static const char *const filter_hook_names[] = { "ingress", "egress" };

/* "name" of a filter, or from its path: the file name without ".o". */
static int
filter_name(json_t *obj, const char *where, const char *path, struct ferry_filter_conf *fc,
	    char *err, size_t errlen)
{
	const char *s = NULL, *base = strrchr(path, '/');
	size_t n;

	if (cfg_get_string(obj, where, "name", false, &s, err, errlen) < 0)
		return -1;
	if (s == NULL) {
		s = base != NULL ? base + 1 : path;
		n = strlen(s);
		if (n > 2 && strcmp(s + n - 2, ".o") == 0)
			n -= 2;
	} else {
		n = strlen(s);
	}
	if (n == 0 || n >= FERRY_NAME_MAX)
		return cfg_err(err, errlen, where, "name", "must be 1..%d characters", FERRY_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return cfg_err(err, errlen, where, "name",
				       "'%.*s': only letters, digits, '_', '.' and '-' allowed", (int)n, s);
	memcpy(fc->name, s, n);
	fc->name[n] = '\0';
	return 0;
}

int
ferry_filter_conf_parse(json_t *obj, const char *where, struct ferry_filter_conf *fc,
			char *err, size_t errlen)
{
	static const char *const keys[] = { "hook", "path", "name", "maps", NULL };
	const char *hook, *path;

	memset(fc, 0, sizeof(*fc));
	if (!json_is_object(obj))
		return cfg_err(err, errlen, where, NULL, "must be an object");
	if (cfg_check_keys(obj, where, keys, err, errlen) < 0 ||
	    cfg_get_string(obj, where, "hook", true, &hook, err, errlen) < 0 ||
	    cfg_get_string(obj, where, "path", true, &path, err, errlen) < 0)
		return -1;
	if (strcmp(hook, "ingress") == 0)
		fc->hook = FERRY_FILTER_INGRESS;
	else if (strcmp(hook, "egress") == 0)
		fc->hook = FERRY_FILTER_EGRESS;
	else
		return cfg_err(err, errlen, where, "hook", "'%s': must be \"ingress\" or \"egress\"",
			       hook);
	if (path[0] != '/' || strlen(path) >= FERRY_FILTER_PATH_MAX)
		return cfg_err(err, errlen, where, "path", "'%s': must be an absolute path under %d "
			       "characters", path, FERRY_FILTER_PATH_MAX);
	snprintf(fc->path, sizeof(fc->path), "%s", path);
	if (ferry_filter_conf_maps_parse(json_object_get(obj, "maps"), where, fc, err, errlen) < 0)
		return -1;
	return filter_name(obj, where, path, fc, err, errlen);
}

json_t *
ferry_filter_conf_to_json(const struct ferry_filter_conf *fc)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "hook", filter_hook_names[fc->hook], "path",
			      fc->path, "name", fc->name), *maps = ferry_filter_conf_maps_json(fc);

	if (maps != NULL)
		json_object_set_new(o, "maps", maps);
	return o;
}

/* Every key of obj must be a field of the table. */
static int
check_known(json_t *obj, const char *where, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (ferry_port_field_find(k) == NULL)
			return cfg_err(err, errlen, where, k, "unknown field");
	return 0;
}

int
ferry_port_conf_parse(json_t *obj, const char *where, struct ferry_port_conf *pc,
		      char *err, size_t errlen)
{
	memset(pc, 0, sizeof(*pc));
	if (!json_is_object(obj))
		return cfg_err(err, errlen, where, NULL, "must be an object");
	if (check_known(obj, where, err, errlen) < 0)
		goto fail;
	/* "type" is parsed before any field that depends on it */
	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++) {
		if (ferry_port_field_applies(f, pc->type)) {
			if (f->parse(f, obj, where, pc, err, errlen) < 0)
				goto fail;
		} else if (json_object_get(obj, f->name) != NULL) {
			cfg_err(err, errlen, where, f->name, "not a field of this port type");
			goto fail;
		}
	}
	return 0;
fail:
	ferry_port_conf_clear(pc);
	return -1;
}

void
ferry_port_conf_clear(struct ferry_port_conf *pc)
{
	json_decref(pc->external_ids);
	pc->external_ids = NULL;
}

int
ferry_port_conf_copy(struct ferry_port_conf *dst, const struct ferry_port_conf *src)
{
	*dst = *src;
	dst->external_ids = src->external_ids ? json_deep_copy(src->external_ids) : NULL;
	return 0;
}

json_t *
ferry_port_conf_to_json(const struct ferry_port_conf *pc)
{
	json_t *o = json_object(), *v;

	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++)
		if (ferry_port_field_applies(f, pc->type) && (v = f->to_json(f, pc)) != NULL)
			json_object_set_new(o, f->name, v);
	return o;
}

bool
ferry_devargs_is_vdev(const char *devargs)
{
	return strncmp(devargs, "net_", 4) == 0 || strncmp(devargs, "eth_", 4) == 0;
}

bool
ferry_port_conf_equal(const struct ferry_port_conf *a, const struct ferry_port_conf *b)
{
	json_t *ja = ferry_port_conf_to_json(a), *jb = ferry_port_conf_to_json(b);
	bool eq = json_equal(ja, jb);

	json_decref(ja);
	json_decref(jb);
	return eq;
}

/* A field's value as text: a string as it is, anything else as compact JSON. */
static void
value_text(const json_t *v, char *buf, size_t len)
{
	char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : s ? s : "?");
	free(s);
}

const struct ferry_port_field *
ferry_port_conf_conflict(const struct ferry_port_conf *a, const struct ferry_port_conf *b,
			 char *value, size_t len)
{
	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++) {
		if (!f->unique || !ferry_port_field_applies(f, a->type) ||
		    !ferry_port_field_applies(f, b->type))
			continue;
		json_t *va = f->to_json(f, a), *vb = f->to_json(f, b);
		bool same = va != NULL && vb != NULL && json_equal(va, vb);
		if (same)
			value_text(va, value, len);
		json_decref(va);
		json_decref(vb);
		if (same)
			return f;
	}
	return NULL;
}
