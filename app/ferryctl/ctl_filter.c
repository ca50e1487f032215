/* ctl_filter.c — ferryctl's filter commands: attach, detach and list eBPF filters, write and read
 * their map entries (the filter.* methods), with their table printers. The command table in
 * ferryctl.c points here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* A map's values on one line: the first 16, then "... (N)". */
static void
format_values(const json_t *vals, char *buf, size_t len)
{
	size_t n = 0, i;
	const json_t *v;
	char one[48];

	buf[0] = '\0';
	json_array_foreach(vals, i, v) {
		if (i == 16) {
			snprintf(buf + n, len - n, " ... (%zu)", json_array_size(vals));
			return;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", ctl_str(v, one, sizeof(one)));
		if (n >= len)
			return;
	}
}

static void
print_filters(const json_t *res, const char *arg)
{
	static const char *const h[] = { "PORT", "HOOK", "NAME", "JIT", "PASSED", "DROPPED", "PATH",
					 NULL };
	static const char *const hm[] = { "PORT", "FILTER", "MAP", "TYPE", "ENTRIES", "VALUES", NULL };
	struct ctl_table *t = ctl_table_new(h, "lllrrrl"), *tm = NULL;
	const json_t *f, *m;
	size_t i, k;

	json_array_foreach(res, i, f) {
		char p[24], d[24];
		ctl_table_add(t, json_string_value(json_object_get(f, "port")),
			      json_string_value(json_object_get(f, "hook")),
			      json_string_value(json_object_get(f, "name")),
			      json_is_true(json_object_get(f, "jit")) ? "yes" : "no",
			      ctl_str(json_object_get(f, "passed"), p, sizeof(p)),
			      ctl_str(json_object_get(f, "dropped"), d, sizeof(d)),
			      json_string_value(json_object_get(f, "path")));
		json_array_foreach(json_object_get(f, "maps"), k, m) {
			char e[24], v[512];
			if (tm == NULL)
				tm = ctl_table_new(hm, "llllrl");
			format_values(json_object_get(m, "values"), v, sizeof(v));
			ctl_table_add(tm, json_string_value(json_object_get(f, "port")),
				      json_string_value(json_object_get(f, "name")),
				      json_string_value(json_object_get(m, "name")),
				      json_string_value(json_object_get(m, "type")),
				      ctl_str(json_object_get(m, "max_entries"), e, sizeof(e)), v);
		}
	}
	ctl_table_print(t);
	if (tm != NULL) {   /* the maps' values, one line per map */
		printf("\n");
		ctl_table_print(tm);
	}
}

static void
print_filter_attach(const json_t *res, const char *arg)
{
	printf("filter %s attached to %s %s (%s)\n", json_string_value(json_object_get(res, "name")),
	       json_string_value(json_object_get(res, "port")),
	       json_string_value(json_object_get(res, "hook")),
	       json_string_value(json_object_get(res, "path")));
}

int
ctl_filter_attach(struct ctx *x, int argc, char **argv)
{
	char real[4096];
	const char *path = argv[2];

	if (path[0] != '/') {   /* ferryd wants an absolute path: resolve it here */
		if (realpath(path, real) == NULL)
			return usage_error("filter attach: %s: %s", path, strerror(errno));
		path = real;
	}
	json_t *p = json_pack("{s:s, s:s, s:s}", "port", argv[0], "hook", argv[1], "path", path);
	if (argc > 3)
		json_object_set_new(p, "name", json_string(argv[3]));
	return call(x, "filter.attach", p, print_filter_attach, NULL);
}

int
ctl_filter_detach(struct ctx *x, int argc, char **argv)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "filter %s detached from %s", argv[1], argv[0]);
	return call(x, "filter.detach", json_pack("{s:s, s:s}", "port", argv[0], "name", argv[1]),
		    print_message, msg);
}

int
ctl_filter_list(struct ctx *x, int argc, char **argv)
{
	const char *port = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			x->json = true;
		else if (port == NULL)
			port = argv[i];
		else
			return usage_error("filter list: unexpected '%s'", argv[i]);
	}
	return call(x, "filter.list", port ? json_pack("{s:s}", "port", port) : NULL, print_filters,
		    NULL);
}

/* "12" -> 12 (0..4294967295); -1 if s is not such a number. */
static int
parse_index(const char *s, json_int_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > UINT32_MAX)
		return -1;
	*out = (json_int_t)v;
	return 0;
}

static void
print_map_set(const json_t *res, const char *arg)
{
	printf("%s: entry %s of map %s written\n", json_string_value(json_object_get(res, "name")),
	       arg, json_string_value(json_object_get(res, "map")));
}

int
ctl_filter_map_set(struct ctx *x, int argc, char **argv)
{
	json_int_t index;

	if (parse_index(argv[3], &index) < 0)
		return usage_error("filter map-set: INDEX '%s' is not a number", argv[3]);
	return call(x, "filter.map_set",
		    json_pack("{s:s, s:s, s:s, s:I, s:s}", "port", argv[0], "name", argv[1], "map",
			      argv[2], "index", index, "value", argv[4]),
		    print_map_set, argv[3]);
}

static void
print_map_get(const json_t *res, const char *arg)
{
	static const char *const h[] = { "INDEX", "VALUE", NULL };
	struct ctl_table *t = ctl_table_new(h, "rl");
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(res, "values"), i, e) {
		char n[24];
		ctl_table_add(t, ctl_str(json_object_get(e, "index"), n, sizeof(n)),
			      json_string_value(json_object_get(e, "value")));
	}
	ctl_table_print(t);
	if (json_is_true(json_object_get(res, "truncated")))
		printf("(the first %zu of %lld entries)\n", json_array_size(json_object_get(res, "values")),
		       (long long)json_integer_value(json_object_get(res, "max_entries")));
}

int
ctl_filter_map_get(struct ctx *x, int argc, char **argv)
{
	json_t *p = json_pack("{s:s, s:s, s:s}", "port", argv[0], "name", argv[1], "map", argv[2]);
	json_int_t index;
	bool have_index = false;

	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			x->json = true;
		} else if (!have_index && parse_index(argv[i], &index) == 0) {
			json_object_set_new(p, "index", json_integer(index));
			have_index = true;
		} else {
			json_decref(p);
			return usage_error("filter map-get: unexpected '%s' (INDEX is a number)",
					   argv[i]);
		}
	}
	return call(x, "filter.map_get", p, print_map_get, NULL);
}
