/* ctl_mirror.c — ferryctl's mirror commands: add, del and list port mirrors (the mirror.*
 * methods), with the table printer. The command table in ferryctl.c points here.
 *   mirror add NAME --ports A,B --direction rx|tx|both [--vlans 10,20] [--filter EXPR] --output PORT
 * (-d and -f as in capture). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* "a,b,c" → ["a", "b", "c"]; numbers: [10, 20] (NULL if one is not a number). */
static json_t *
split_list(const char *s, bool numbers)
{
	json_t *a = json_array();
	char *copy = strdup(s), *save = NULL;

	for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(w, &end, 10);
		if (numbers && (*end != '\0' || end == w)) {
			json_decref(a);
			a = NULL;
			break;
		}
		json_array_append_new(a, numbers ? json_integer(v) : json_string(w));
	}
	free(copy);
	return a;
}

static void
print_added(const json_t *res, const char *arg)
{
	printf("mirror %s added: output %s\n", json_string_value(json_object_get(res, "name")),
	       json_string_value(json_object_get(res, "output")));
}

int
ctl_mirror_add(struct ctx *x, int argc, char **argv)
{
	json_t *p = json_pack("{s:s}", "name", argv[0]), *v;

	for (int i = 1; i < argc; i += 2) {
		const char *o = argv[i];
		if (i + 1 >= argc) {
			json_decref(p);
			return usage_error("mirror add: %s needs a value", o);
		}
		const char *val = argv[i + 1];
		if (strcmp(o, "--ports") == 0) {
			json_object_set_new(p, "ports", split_list(val, false));
		} else if (strcmp(o, "--direction") == 0 || strcmp(o, "-d") == 0) {
			json_object_set_new(p, "direction", json_string(val));
		} else if (strcmp(o, "--vlans") == 0) {
			if ((v = split_list(val, true)) == NULL) {
				json_decref(p);
				return usage_error("mirror add: --vlans %s: a list of VLAN numbers", val);
			}
			json_object_set_new(p, "vlans", v);
		} else if (strcmp(o, "--filter") == 0 || strcmp(o, "-f") == 0) {
			json_object_set_new(p, "filter", json_string(val));
		} else if (strcmp(o, "--output") == 0) {
			json_object_set_new(p, "output", json_string(val));
		} else {
			json_decref(p);
			return usage_error("mirror add: unknown option '%s'", o);
		}
	}
	if (json_object_get(p, "direction") == NULL)   /* as capture: both sides by default */
		json_object_set_new(p, "direction", json_string("both"));
	return call(x, "mirror.add", p, print_added, NULL);
}

int
ctl_mirror_del(struct ctx *x, int argc, char **argv)
{
	return ctl_delete(x, "mirror.del", "mirror", argv[0]);
}

/* A JSON array of strings or numbers as "a,b" ("-" if null or empty). */
static void
join(const json_t *a, char *buf, size_t len)
{
	size_t n = 0, i;
	const json_t *v;
	char one[48];

	snprintf(buf, len, "-");
	json_array_foreach(a, i, v) {
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", ctl_str(v, one, sizeof(one)));
		if (n >= len)
			return;
	}
}

static void
print_mirrors(const json_t *res, const char *arg)
{
	static const char *const h[] = { "NAME", "PORTS", "DIRECTION", "VLANS", "OUTPUT", "SELECTED",
					 "MIRRORED", "BYTES", "DROPPED", "FILTER", NULL };
	struct ctl_table *t = ctl_table_new(h, "lllllrrrrl");
	const json_t *m;
	size_t i;

	json_array_foreach(res, i, m) {
		char ports[512], vlans[256], s[24], n[24], b[24], d[24];
		const char *f = json_string_value(json_object_get(m, "filter"));
		join(json_object_get(m, "ports"), ports, sizeof(ports));
		join(json_object_get(m, "vlans"), vlans, sizeof(vlans));
		ctl_table_add(t, json_string_value(json_object_get(m, "name")), ports,
			      json_string_value(json_object_get(m, "direction")), vlans,
			      json_string_value(json_object_get(m, "output")),
			      ctl_str(json_object_get(m, "selected"), s, sizeof(s)),
			      ctl_str(json_object_get(m, "mirrored"), n, sizeof(n)),
			      ctl_str(json_object_get(m, "bytes"), b, sizeof(b)),
			      ctl_str(json_object_get(m, "dropped"), d, sizeof(d)),
			      f != NULL && f[0] != '\0' ? f : "-");
	}
	ctl_table_print(t);
}

int
ctl_mirror_list(struct ctx *x, int argc, char **argv)
{
	return call(x, "mirror.list", NULL, print_mirrors, NULL);
}
