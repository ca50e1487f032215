/* ctl_args.c — ferryctl's key=value words to JSON: port objects for port add / port set, and the
 * short VLAN syntax (vlan=10, vlan=trunk:10,20-22/native=10) in both directions. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

static bool
is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int
parse_vid(const char *s, const char *end, long *v)
{
	char *e;

	errno = 0;
	*v = strtol(s, &e, 10);
	return e == end && e != s && errno == 0 && *v >= 0 && *v <= 4095 ? 0 : -1;
}

/* "10,20,30-32" -> [10,20,30,31,32] */
static json_t *
parse_vid_list(const char *s, const char *end, char *err, size_t errlen)
{
	json_t *a = json_array();

	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item_end = comma ? comma : end;
		const char *dash = memchr(s, '-', (size_t)(item_end - s));
		long lo, hi;
		if (parse_vid(s, dash ? dash : item_end, &lo) < 0 ||
		    (dash && parse_vid(dash + 1, item_end, &hi) < 0) || (dash && hi < lo)) {
			snprintf(err, errlen, "vlan: '%.*s' is not a VLAN or a range (e.g. 10 or 20-29)",
				 (int)(item_end - s), s);
			json_decref(a);
			return NULL;
		}
		for (long v = lo; v <= (dash ? hi : lo); v++)
			json_array_append_new(a, json_integer(v));
		s = comma ? comma + 1 : end;
	}
	return a;
}

json_t *
ctl_parse_vlan(const char *s, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/'), *end = slash ? slash : s + strlen(s);
	json_t *v;
	long n;

	if (is_integer(s) || (strncmp(s, "access:", 7) == 0 && is_integer(s + 7))) {
		n = strtol(s[0] == 'a' ? s + 7 : s, NULL, 10);
		return json_pack("{s:s, s:I}", "mode", "access", "tag", (json_int_t)n);
	}
	if (strncmp(s, "trunk", 5) != 0 || (s[5] != '\0' && s[5] != ':' && s[5] != '/')) {
		snprintf(err, errlen, "vlan: '%s': use N (access), trunk, trunk:10,20-29 "
			 "or trunk:10,20/native=10", s);
		return NULL;
	}
	v = json_pack("{s:s}", "mode", "trunk");
	if (s[5] == ':') {
		json_t *allowed = parse_vid_list(s + 6, end, err, errlen);
		if (allowed == NULL) {
			json_decref(v);
			return NULL;
		}
		json_object_set_new(v, "allowed", allowed);
	}
	if (slash != NULL) {
		if (strncmp(slash, "/native=", 8) != 0 || parse_vid(slash + 8, slash + strlen(slash), &n)) {
			snprintf(err, errlen, "vlan: '%s': expected /native=N after the trunk", s);
			json_decref(v);
			return NULL;
		}
		json_object_set_new(v, "native", json_integer(n));
	}
	return v;
}

void
ctl_format_vlan(const json_t *vlan, char *buf, size_t len)
{
	const char *mode = json_string_value(json_object_get(vlan, "mode"));
	const json_t *allowed = json_object_get(vlan, "allowed"), *native, *it;
	size_t n = 0, i;

	if (mode == NULL) {
		snprintf(buf, len, "all");
		return;
	}
	if (strcmp(mode, "access") == 0) {
		snprintf(buf, len, "access:%lld",
			 (long long)json_integer_value(json_object_get(vlan, "tag")));
		return;
	}
	n = (size_t)snprintf(buf, len, "trunk");
	json_array_foreach(allowed, i, it)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%c%lld", i ? ',' : ':',
					      (long long)json_integer_value(it));
	native = json_object_get(vlan, "native");
	if (native != NULL && n < len)
		snprintf(buf + n, len - n, "/native=%lld", (long long)json_integer_value(native));
}

/* One key=value word into obj. */
static int
port_arg(json_t *obj, const char *key, const char *val, bool for_set, char *err, size_t errlen)
{
	bool remove = for_set && (val[0] == '\0' || strcmp(val, "default") == 0 ||
				  strcmp(val, "none") == 0);
	json_t *v;

	if (strcmp(key, "vlan") == 0 && !remove) {
		v = ctl_parse_vlan(val, err, errlen);
	} else if (strcmp(key, "mac") == 0 && !remove) {
		json_t *list = json_object_get(obj, "mac");
		if (!json_is_array(list))
			json_object_set_new(obj, "mac", list = json_array());
		return json_array_append_new(list, json_string(val));
	} else if (strncmp(key, "external_ids.", 13) == 0) {
		json_t *ids = json_object_get(obj, "external_ids");
		if (!json_is_object(ids))
			json_object_set_new(obj, "external_ids", ids = json_object());
		return json_object_set_new(ids, key + 13, json_string(val));
	} else if (remove) {   /* null: ferryd puts the field back to its default */
		v = json_null();
	} else if (val[0] == '{' || val[0] == '[') {
		json_error_t je;
		v = json_loads(val, 0, &je);
		if (v == NULL)
			snprintf(err, errlen, "%s: invalid JSON: %s", key, je.text);
	} else if (is_integer(val)) {
		v = json_integer(strtoll(val, NULL, 10));
	} else if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0) {
		v = json_boolean(val[0] == 't');   /* "offloads" */
	} else {
		v = json_string(val);
	}
	if (v == NULL) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: bad value '%s'", key, val);
		return -1;
	}
	return json_object_set_new(obj, key, v);
}

int
ctl_port_args(json_t *obj, int argc, char **argv, bool for_set, char *err, size_t errlen)
{
	err[0] = '\0';
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i]) {
			snprintf(err, errlen, "'%s': expected key=value", argv[i]);
			return -1;
		}
		*eq = '\0';
		int rc = port_arg(obj, argv[i], eq + 1, for_set, err, errlen);
		*eq = '=';
		if (rc < 0) {
			if (err[0] == '\0')
				snprintf(err, errlen, "'%s': invalid", argv[i]);
			return -1;
		}
	}
	return 0;
}
