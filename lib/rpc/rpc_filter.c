/* rpc_filter.c — the filter.* methods (eBPF filters on ports, lib/filter via the switch) and the
 * rule for the object files an RPC client may make ferryd open: inside rpc.filter_dirs.
 * filter.map_set/map_get write and read an attached filter's map entries as hex strings. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ferry_bpf_filter.h"
#include "ferry_sock.h"
#include "ferry_switch.h"
#include "rpc_filter.h"

#define MAP_GET_BYTES (1u << 20)   /* value bytes one filter.map_get answer carries at most */

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
	static const char *const keys[] = { "port", "hook", "path", "name", "maps", NULL };
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

/* params port, name (the filter) and map: the map, or FERRY_ENOPORT / FERRY_ENOENT. */
static int
get_map(struct rpc_call *c, struct ferry_filter_map **out)
{
	const char *port, *name, *map;
	struct ferry_filter *f;
	int rc;

	if ((rc = rpc_get_string(c, "port", true, &port)) != 0 ||
	    (rc = rpc_get_string(c, "name", true, &name)) != 0 ||
	    (rc = rpc_get_string(c, "map", true, &map)) != 0 || (rc = rpc_need_switch(c)) != 0 ||
	    (rc = ferry_switch_filter_get(c->r->sw, port, name, &f, c->err, sizeof(c->err))) < 0)
		return rc;
	*out = ferry_filter_map_by_name(f, map);
	if (*out == NULL)
		return rpc_err(c, FERRY_ENOENT, "filter %s on port %s has no map named '%s'", name,
			       port, map);
	return 0;
}

/* The entries to write: params.values, or params index and value as a list of one (new ref). */
static json_t *
set_entries(struct rpc_call *c, const char **where)
{
	json_t *values = json_object_get(c->params, "values");
	json_t *index = json_object_get(c->params, "index"), *value = json_object_get(c->params, "value");

	*where = "params.values";
	if (values != NULL && (index != NULL || value != NULL)) {
		rpc_err(c, FERRY_EINVAL, "params: index and value, or values, not both");
		return NULL;
	}
	if (values != NULL) {
		if (!json_is_array(values) || json_array_size(values) == 0) {
			rpc_err(c, FERRY_EINVAL, "params.values: must be a list of 1 or more "
				"{\"index\": N, \"value\": \"hex\"}");
			return NULL;
		}
		return json_incref(values);
	}
	json_t *one = json_object();
	if (index != NULL)
		json_object_set(one, "index", index);
	if (value != NULL)
		json_object_set(one, "value", value);
	*where = NULL;   /* the single form: its fields are params.index and params.value */
	return json_pack("[o]", one);
}

/* Parse and check every entry of list for m (nothing written); es[] point into buf. */
static int
check_entries(struct rpc_call *c, const struct ferry_filter_map *m, json_t *list, const char *where,
	      struct ferry_filter_entry *es, uint8_t *buf, size_t cap)
{
	char w[64];
	json_t *e;
	size_t i, used = 0;

	json_array_foreach(list, i, e) {
		if (where != NULL)
			snprintf(w, sizeof(w), "%s[%zu]", where, i);
		else
			snprintf(w, sizeof(w), "params");
		es[i].value = buf + used;
		if (ferry_filter_entry_parse(e, w, &es[i].index, buf + used, cap - used, &es[i].len,
					     c->err, sizeof(c->err)) < 0 ||
		    ferry_filter_map_check(m, &es[i], w, c->err, sizeof(c->err)) < 0)
			return FERRY_EINVAL;
		used += es[i].len;
	}
	return 0;
}

/* The bytes list's values decode to at most (an upper bound: what to allocate). */
static size_t
values_size(json_t *list)
{
	size_t i, n = 1;
	json_t *e;

	json_array_foreach(list, i, e)
		n += json_string_length(json_object_get(e, "value")) / 2;
	return n;
}

int
rpc_m_filter_map_set(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "name", "map", "index", "value", "values", NULL };
	struct ferry_filter_map *m;
	const char *where;
	json_t *list;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = get_map(c, &m)) != 0)
		return rc;
	if ((list = set_entries(c, &where)) == NULL)
		return FERRY_EINVAL;
	size_t n = json_array_size(list), cap = values_size(list);
	struct ferry_filter_entry *es = calloc(n, sizeof(*es));
	uint8_t *buf = malloc(cap);
	if (es == NULL || buf == NULL)
		rc = rpc_err(c, FERRY_EINTERNAL, "out of memory");
	else
		rc = check_entries(c, m, list, where, es, buf, cap);
	for (size_t i = 0; rc == 0 && i < n; i++)   /* all checked: write them, in order */
		ferry_filter_map_write(m, &es[i]);
	if (rc == 0)   /* no PMD still reads what this call replaced when the next call writes */
		ferry_switch_quiesce(c->r->sw);
	free(es);
	free(buf);
	json_decref(list);
	if (rc != 0)
		return rc;
	*res = json_pack("{s:O, s:O, s:s, s:I}", "port", json_object_get(c->params, "port"), "name",
			 json_object_get(c->params, "name"), "map", m->name, "written", (json_int_t)n);
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}

static json_t *
entry_json(const struct ferry_filter_map *m, uint32_t i)
{
	return json_pack("{s:I, s:o}", "index", (json_int_t)i, "value", ferry_filter_map_hex(m, i, 0));
}

int
rpc_m_filter_map_get(struct rpc_call *c, json_t **res)
{
	static const char *const keys[] = { "port", "name", "map", "index", NULL };
	struct ferry_filter_map *m;
	unsigned index = 0;
	int rc;

	if ((rc = rpc_check_keys(c, keys)) != 0 || (rc = get_map(c, &m)) != 0 ||
	    (rc = rpc_get_uint(c, "index", false, 0, UINT32_MAX, &index)) != 0)
		return rc;
	bool one = json_object_get(c->params, "index") != NULL;
	struct ferry_filter_entry probe = { .index = index, .len = m->value_size };
	if (one && ferry_filter_map_check(m, &probe, "params", c->err, sizeof(c->err)) < 0)
		return FERRY_EINVAL;
	if (m->value_size > MAP_GET_BYTES)
		return rpc_err(c, FERRY_ELIMIT, "map %s's values are %u bytes: more than an answer "
			       "carries (%u)", m->name, m->value_size, MAP_GET_BYTES);
	uint32_t fit = MAP_GET_BYTES / m->value_size;
	uint32_t first = one ? index : 0, n = one ? 1 : (m->max_entries < fit ? m->max_entries : fit);
	json_t *vals = json_array();
	for (uint32_t i = first; i < first + n; i++)
		json_array_append_new(vals, entry_json(m, i));
	*res = json_pack("{s:O, s:O, s:s, s:i, s:I, s:o}", "port", json_object_get(c->params, "port"),
			 "name", json_object_get(c->params, "name"), "map", m->name, "value_size",
			 (int)m->value_size, "max_entries", (json_int_t)m->max_entries, "values", vals);
	if (*res != NULL && !one && n < m->max_entries)
		json_object_set_new(*res, "truncated", json_true());
	return *res == NULL ? rpc_err(c, FERRY_EINTERNAL, "out of memory") : 0;
}
