/* mirror_conf.c — a mirror object of the configuration ("mirrors": [...]) and of mirror.add:
 * parsing with errors naming the field, back to JSON (config.get, mirror.list), and the rules
 * between two mirrors (one output each, an output is never a source). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "config_util.h"
#include "ferry_capture.h"
#include "ferry_mirror.h"

bool
ferry_mirror_conf_has_port(const struct ferry_mirror_conf *mc, const char *port)
{
	for (unsigned i = 0; i < mc->n_ports; i++)
		if (strcmp(mc->ports[i], port) == 0)
			return true;
	return false;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= FERRY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int
parse_ports(json_t *a, const char *where, struct ferry_mirror_conf *mc, char *err, size_t errlen)
{
	json_t *it;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > FERRY_MIRROR_PORTS)
		return cfg_err(err, errlen, where, "ports", "must be a list of 1..%d port names",
			       FERRY_MIRROR_PORTS);
	json_array_foreach(a, i, it) {
		const char *s = json_string_value(it);
		if (s == NULL || !name_ok(s))
			return cfg_err(err, errlen, where, "ports", "item %zu is not a port name", i);
		if (ferry_mirror_conf_has_port(mc, s))
			return cfg_err(err, errlen, where, "ports", "'%s' is listed twice", s);
		snprintf(mc->ports[mc->n_ports++], FERRY_NAME_MAX, "%s", s);
	}
	return 0;
}

static int
parse_vlans(json_t *a, const char *where, struct ferry_mirror_conf *mc, char *err, size_t errlen)
{
	json_t *it;
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 4095)
		return cfg_err(err, errlen, where, "vlans", "must be a non-empty list of VLANs 0..4094");
	json_array_foreach(a, i, it) {
		json_int_t v = json_is_integer(it) ? json_integer_value(it) : -1;
		if (v < 0 || v > 4094)
			return cfg_err(err, errlen, where, "vlans", "item %zu: must be a VLAN 0..4094 "
				       "(0: untagged frames of a port without a native VLAN)", i);
		mc->vlans[v / 64] |= UINT64_C(1) << (v % 64);
	}
	mc->has_vlans = true;
	return 0;
}

int
ferry_mirror_conf_parse(json_t *o, const char *where, struct ferry_mirror_conf *mc, char *err,
			size_t errlen)
{
	static const char *const keys[] = { "name", "ports", "direction", "vlans", "filter",
					    "output", NULL };
	const char *name, *dir, *filter = "", *output;
	char why[256];

	memset(mc, 0, sizeof(*mc));
	if (!json_is_object(o))
		return cfg_err(err, errlen, where, NULL, "must be an object");
	if (cfg_check_keys(o, where, keys, err, errlen) < 0 ||
	    cfg_get_string(o, where, "name", true, &name, err, errlen) < 0)
		return -1;
	if (!name_ok(name))
		return cfg_err(err, errlen, where, "name", "'%.40s': must be 1-31 characters of "
			       "A-Za-z0-9_.-", name);
	snprintf(mc->name, sizeof(mc->name), "%s", name);
	if (json_object_get(o, "ports") == NULL)
		return cfg_err(err, errlen, where, "ports", "is required");
	if (parse_ports(json_object_get(o, "ports"), where, mc, err, errlen) < 0 ||
	    cfg_get_string(o, where, "direction", true, &dir, err, errlen) < 0)
		return -1;
	if ((mc->dirs = ferry_dirs_parse(dir)) == 0)
		return cfg_err(err, errlen, where, "direction", "must be rx, tx or both");
	if (parse_vlans(json_object_get(o, "vlans"), where, mc, err, errlen) < 0 ||
	    cfg_get_string(o, where, "filter", false, &filter, err, errlen) < 0 ||
	    cfg_get_string(o, where, "output", true, &output, err, errlen) < 0)
		return -1;
	if (strlen(filter) >= sizeof(mc->filter))
		return cfg_err(err, errlen, where, "filter", "longer than %d bytes",
			       FERRY_MIRROR_FILTER_MAX - 1);
	snprintf(mc->filter, sizeof(mc->filter), "%s", filter);
	if (ferry_pcap_filter_check(filter, why, sizeof(why)) < 0)
		return cfg_err(err, errlen, where, "filter", "%s", why);
	if (!name_ok(output))
		return cfg_err(err, errlen, where, "output", "must be a port name");
	snprintf(mc->output, sizeof(mc->output), "%s", output);
	if (ferry_mirror_conf_has_port(mc, output))
		return cfg_err(err, errlen, where, "ports", "'%s' is the mirror's output: a mirror "
			       "never mirrors its own output", output);
	return 0;
}

json_t *
ferry_mirror_conf_to_json(const struct ferry_mirror_conf *mc)
{
	json_t *o = json_object(), *ports = json_array();

	for (unsigned i = 0; i < mc->n_ports; i++)
		json_array_append_new(ports, json_string(mc->ports[i]));
	json_object_set_new(o, "name", json_string(mc->name));
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "direction", json_string(ferry_dirs_name(mc->dirs)));
	if (mc->has_vlans) {
		json_t *v = json_array();
		for (unsigned k = 0; k < 4095; k++)
			if (mc->vlans[k / 64] & (UINT64_C(1) << (k % 64)))
				json_array_append_new(v, json_integer(k));
		json_object_set_new(o, "vlans", v);
	}
	if (mc->filter[0] != '\0')
		json_object_set_new(o, "filter", json_string(mc->filter));
	json_object_set_new(o, "output", json_string(mc->output));
	return o;
}

const char *
ferry_mirror_conf_conflict(const struct ferry_mirror_conf *a, const struct ferry_mirror_conf *b,
			   char *why, size_t len)
{
	if (strcmp(a->name, b->name) == 0) {
		snprintf(why, len, "mirror '%s' exists", a->name);
		return "name";
	}
	if (strcmp(a->output, b->output) == 0) {
		snprintf(why, len, "port %s is the output of mirror %s already (one mirror per "
			 "output: give that mirror more ports)", a->output, b->name);
		return "output";
	}
	if (ferry_mirror_conf_has_port(b, a->output)) {
		snprintf(why, len, "port %s is a source of mirror %s: an output is never mirrored",
			 a->output, b->name);
		return "output";
	}
	for (unsigned i = 0; i < a->n_ports; i++)
		if (strcmp(a->ports[i], b->output) == 0) {
			snprintf(why, len, "port %s is the output of mirror %s: an output is never "
				 "mirrored", b->output, b->name);
			return "ports";
		}
	return NULL;
}
