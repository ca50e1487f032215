/* config_fields.c — the one table of the port object's fields, ferry_port_fields[]: per field its
 * name, JSON type, the port types it applies to, whether port.set may change it, whether two ports
 * may share its value, a line of help, and how it is read from and written to JSON. The walkers
 * over it (parse, print, conflicts) are in ferry_config_port.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "ferry_config.h"
#include "config_util.h"

const char *const ferry_port_type_names[FERRY_PORT_NTYPES] = {
	[FERRY_PORT_DPDK] = "dpdk",
	[FERRY_PORT_VHOST] = "vhostuser",
};

const char *const ferry_zc_mode_names[3] = { "auto", "on", "off" };
const char *const ferry_enq_mode_names[2] = { "rte_vhost", "ferry" };

/* --- name, type --- */

/* s, a port name, into out[FERRY_NAME_MAX]: 1..31 characters of A-Za-z0-9_.- */
static int
port_name_copy(const struct ferry_port_field *f, const char *where, const char *s, char *out,
	       char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= FERRY_NAME_MAX)
		return cfg_err(err, errlen, where, f->name, "must be 1..%d characters",
			       FERRY_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return cfg_err(err, errlen, where, f->name,
				       "'%s': only letters, digits, '_', '.' and '-' allowed", s);
	memcpy(out, s, n + 1);
	return 0;
}

static int
parse_name(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;

	if (cfg_get_string(obj, where, f->name, true, &s, err, errlen) < 0)
		return -1;
	return port_name_copy(f, where, s, pc->name, err, errlen);
}

static json_t *
name_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(pc->name);
}

/* "\"a\", \"b\" or \"c\"": the values a string field may take, for its error message */
static void
join_choices(const char *const *names, unsigned n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"",
					 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
}

int
ferry_port_type_from_name(const char *s)
{
	for (unsigned t = 0; t < FERRY_PORT_NTYPES; t++)
		if (strcmp(s, ferry_port_type_names[t]) == 0)
			return (int)t;
	return -1;
}

static int
parse_type(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;
	char choices[128];
	int t;

	if (cfg_get_string(obj, where, f->name, true, &s, err, errlen) < 0)
		return -1;
	if ((t = ferry_port_type_from_name(s)) < 0) {
		join_choices(ferry_port_type_names, FERRY_PORT_NTYPES, choices, sizeof(choices));
		return cfg_err(err, errlen, where, f->name, "'%s': must be %s", s, choices);
	}
	pc->type = (enum ferry_port_type)t;
	return 0;
}

static json_t *
type_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(ferry_port_type_names[pc->type]);
}

/* --- integers (uint16_t members; 0 = the default, not printed) --- */

static int
parse_u16(const struct ferry_port_field *f, json_t *obj, const char *where,
	  struct ferry_port_conf *pc, char *err, size_t errlen)
{
	unsigned v;

	if (cfg_get_uint(obj, where, f->name, 0, f->max, 0, &v, err, errlen) < 0)
		return -1;
	*(uint16_t *)((char *)pc + f->offset) = (uint16_t)v;
	return 0;
}

static json_t *
u16_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	uint16_t v = *(const uint16_t *)((const char *)pc + f->offset);

	return v != 0 ? json_integer(v) : NULL;
}

static int
parse_mtu(const struct ferry_port_field *f, json_t *obj, const char *where,
	  struct ferry_port_conf *pc, char *err, size_t errlen)
{
	if (parse_u16(f, obj, where, pc, err, errlen) < 0)
		return -1;
	if (pc->mtu != 0 && pc->mtu < 68)
		return cfg_err(err, errlen, where, f->name, "must be 68..%u", f->max);
	return 0;
}

/* --- dpdk --- */

/* "vm": the vhostuser port this dpdk port is the own function of (issue #18); "" or null: none.
 * That it names a vhostuser port is checked by the config (ferry_config_check_vms) and the switch
 * (port.add, port.set). */
static int
parse_vm(const struct ferry_port_field *f, json_t *obj, const char *where,
	 struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s = "";

	pc->vm[0] = '\0';
	if (json_is_null(json_object_get(obj, f->name)))
		return 0;
	if (cfg_get_string(obj, where, f->name, false, &s, err, errlen) < 0)
		return -1;
	return s[0] == '\0' ? 0 : port_name_copy(f, where, s, pc->vm, err, errlen);
}

static json_t *
vm_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return pc->vm[0] != '\0' ? json_string(pc->vm) : NULL;
}

static int
parse_devargs(const struct ferry_port_field *f, json_t *obj, const char *where,
	      struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;

	if (cfg_get_string(obj, where, f->name, true, &s, err, errlen) < 0)
		return -1;
	if (s[0] == '\0' || strlen(s) >= sizeof(pc->devargs))
		return cfg_err(err, errlen, where, f->name, "must be 1..%zu characters",
			       sizeof(pc->devargs) - 1);
	strcpy(pc->devargs, s);
	return 0;
}

static json_t *
devargs_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(pc->devargs);
}

static json_t *
mac_to_json(const struct rte_ether_addr *a)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(buf, sizeof(buf), a);
	return json_string(buf);
}

static int
parse_hw_mac(const struct ferry_port_field *f, json_t *obj, const char *where,
	     struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *mac = NULL;

	if (cfg_get_string(obj, where, f->name, false, &mac, err, errlen) < 0)
		return -1;
	if (mac == NULL)
		return 0;
	if (rte_ether_unformat_addr(mac, &pc->hw_mac) != 0)
		return cfg_err(err, errlen, where, f->name, "'%s' is not a MAC address", mac);
	pc->has_hw_mac = true;
	return cfg_check_unicast(&pc->hw_mac, where, f->name, err, errlen);
}

static json_t *
hw_mac_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return pc->has_hw_mac ? mac_to_json(&pc->hw_mac) : NULL;
}

static int
parse_vf(json_t *it, const char *where, size_t i, struct ferry_vf_conf *vf, char *err, size_t errlen)
{
	static const char *const keys[] = { "vf", "mac", "vlan", NULL };
	char w[64];
	const char *mac = NULL;
	unsigned v;

	snprintf(w, sizeof(w), "%s.sriov.vfs[%zu]", where, i);
	if (!json_is_object(it))
		return cfg_err(err, errlen, w, NULL, "must be an object");
	if (cfg_check_keys(it, w, keys, err, errlen) < 0 ||
	    cfg_get_uint(it, w, "vf", 0, FERRY_MAX_VFS - 1, 0, &v, err, errlen) < 0)
		return -1;
	vf->vf = v;
	if (json_object_get(it, "vf") == NULL)
		return cfg_err(err, errlen, w, "vf", "missing");
	if (cfg_get_uint(it, w, "vlan", 0, 4094, 0, &v, err, errlen) < 0 ||
	    cfg_get_string(it, w, "mac", false, &mac, err, errlen) < 0)
		return -1;
	vf->vlan = v;
	if (mac != NULL) {
		if (rte_ether_unformat_addr(mac, &vf->mac) != 0)
			return cfg_err(err, errlen, w, "mac", "'%s' is not a MAC address", mac);
		if (cfg_check_unicast(&vf->mac, w, "mac", err, errlen) < 0)
			return -1;
		vf->has_mac = true;
	}
	return 0;
}

static int
parse_sriov(const struct ferry_port_field *f, json_t *obj, const char *where,
	    struct ferry_port_conf *pc, char *err, size_t errlen)
{
	static const char *const keys[] = { "num_vfs", "vfs", NULL };
	json_t *s = json_object_get(obj, f->name), *vfs, *it;
	char w[64];
	unsigned v;
	size_t i;

	if (s == NULL)
		return 0;
	snprintf(w, sizeof(w), "%s.%s", where, f->name);
	if (!json_is_object(s))
		return cfg_err(err, errlen, w, NULL, "must be an object");
	if (cfg_check_keys(s, w, keys, err, errlen) < 0 ||
	    cfg_get_uint(s, w, "num_vfs", 0, FERRY_MAX_VFS, 0, &v, err, errlen) < 0)
		return -1;
	pc->num_vfs = v;
	vfs = json_object_get(s, "vfs");
	if (vfs == NULL)
		return 0;
	if (!json_is_array(vfs) || json_array_size(vfs) > FERRY_MAX_VFS)
		return cfg_err(err, errlen, w, "vfs", "must be a list of at most %d VFs", FERRY_MAX_VFS);
	json_array_foreach(vfs, i, it) {
		if (parse_vf(it, where, i, &pc->vfs[i], err, errlen) < 0)
			return -1;
		if (pc->num_vfs != 0 && pc->vfs[i].vf >= pc->num_vfs)
			return cfg_err(err, errlen, w, "vfs", "VF %u is beyond num_vfs %u",
				       pc->vfs[i].vf, pc->num_vfs);
	}
	pc->n_vfs = (uint16_t)json_array_size(vfs);
	return 0;
}

static json_t *
sriov_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	json_t *vfs, *s;

	if (pc->num_vfs == 0 && pc->n_vfs == 0)
		return NULL;
	s = json_pack("{s:i}", "num_vfs", pc->num_vfs);
	if (pc->n_vfs == 0)
		return s;
	vfs = json_array();
	for (unsigned i = 0; i < pc->n_vfs; i++) {
		const struct ferry_vf_conf *vf = &pc->vfs[i];
		json_t *o = json_pack("{s:i}", "vf", vf->vf);
		if (vf->has_mac)
			json_object_set_new(o, "mac", mac_to_json(&vf->mac));
		if (vf->vlan != 0)
			json_object_set_new(o, "vlan", json_integer(vf->vlan));
		json_array_append_new(vfs, o);
	}
	json_object_set_new(s, "vfs", vfs);
	return s;
}

/* --- vhostuser --- */

static int
parse_path(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;

	if (cfg_get_string(obj, where, f->name, true, &s, err, errlen) < 0)
		return -1;
	if (s[0] != '/' || strlen(s) >= sizeof(pc->path))
		return cfg_err(err, errlen, where, f->name,
			       "must be an absolute path under %zu characters", sizeof(pc->path));
	strcpy(pc->path, s);
	return 0;
}

static json_t *
path_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(pc->path);
}

/* A string field that must be one of names[0..n) (default names[0]); *out = its index. */
static int
parse_choice(const struct ferry_port_field *f, json_t *obj, const char *where,
	     const char *const *names, unsigned n, unsigned *out, char *err, size_t errlen)
{
	const char *s = names[0];
	char choices[128];

	if (cfg_get_string(obj, where, f->name, false, &s, err, errlen) < 0)
		return -1;
	for (*out = 0; *out < n; (*out)++)
		if (strcmp(s, names[*out]) == 0)
			return 0;
	join_choices(names, n, choices, sizeof(choices));
	return cfg_err(err, errlen, where, f->name, "'%s': must be %s", s, choices);
}

static const char *const mode_names[] = { "server", "client" };

static int
parse_mode(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	unsigned i;

	if (parse_choice(f, obj, where, mode_names, RTE_DIM(mode_names), &i, err, errlen) < 0)
		return -1;
	pc->client = i == 1;
	return 0;
}

static json_t *
mode_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(mode_names[pc->client]);
}

static int
parse_zero_copy(const struct ferry_port_field *f, json_t *obj, const char *where,
		struct ferry_port_conf *pc, char *err, size_t errlen)
{
	unsigned i;

	if (parse_choice(f, obj, where, ferry_zc_mode_names, RTE_DIM(ferry_zc_mode_names), &i,
			 err, errlen) < 0)
		return -1;
	pc->zero_copy = (uint8_t)i;
	return 0;
}

static json_t *
zero_copy_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(ferry_zc_mode_names[pc->zero_copy]);
}

static int
parse_enqueue(const struct ferry_port_field *f, json_t *obj, const char *where,
	      struct ferry_port_conf *pc, char *err, size_t errlen)
{
	unsigned i;

	if (parse_choice(f, obj, where, ferry_enq_mode_names, RTE_DIM(ferry_enq_mode_names), &i,
			 err, errlen) < 0)
		return -1;
	pc->enqueue = (uint8_t)i;
	return 0;
}

static json_t *
enqueue_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(ferry_enq_mode_names[pc->enqueue]);
}

static int
parse_offloads(const struct ferry_port_field *f, json_t *obj, const char *where,
	       struct ferry_port_conf *pc, char *err, size_t errlen)
{
	bool on;

	if (cfg_get_bool(obj, where, f->name, true, &on, err, errlen) < 0)
		return -1;
	pc->offloads_off = !on;
	return 0;
}

static json_t *
offloads_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_boolean(!pc->offloads_off);
}

/* --- every port --- */

static int
parse_macs(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	json_t *arr = json_object_get(obj, f->name), *it;
	size_t i;

	pc->n_macs = 0;
	if (arr == NULL)
		return 0;
	if (json_is_string(arr)) {   /* a single MAC may be given as a string */
		if (rte_ether_unformat_addr(json_string_value(arr), &pc->macs[0]) != 0)
			return cfg_err(err, errlen, where, f->name, "'%s' is not a MAC address",
				       json_string_value(arr));
		pc->n_macs = 1;
		return cfg_check_unicast(&pc->macs[0], where, f->name, err, errlen);
	}
	if (!json_is_array(arr) || json_array_size(arr) > FERRY_MAX_MACS)
		return cfg_err(err, errlen, where, f->name,
			       "must be a list of at most %d MAC addresses", FERRY_MAX_MACS);
	json_array_foreach(arr, i, it) {
		char field[32];
		snprintf(field, sizeof(field), "%s[%zu]", f->name, i);
		if (!json_is_string(it) ||
		    rte_ether_unformat_addr(json_string_value(it), &pc->macs[i]) != 0)
			return cfg_err(err, errlen, where, field, "is not a MAC address");
		if (cfg_check_unicast(&pc->macs[i], where, field, err, errlen) < 0)
			return -1;
		pc->n_macs++;
	}
	return 0;
}

static json_t *
macs_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	json_t *a;

	if (pc->n_macs == 0)
		return NULL;
	a = json_array();
	for (unsigned i = 0; i < pc->n_macs; i++)
		json_array_append_new(a, mac_to_json(&pc->macs[i]));
	return a;
}

static int
parse_vlan(const struct ferry_port_field *f, json_t *obj, const char *where,
	   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	return ferry_vlan_conf_parse(json_object_get(obj, f->name), where, &pc->vlan, err, errlen);
}

static json_t *
vlan_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return ferry_vlan_conf_to_json(&pc->vlan);
}

static const char *const admin_names[] = { "up", "down" };

static int
parse_admin(const struct ferry_port_field *f, json_t *obj, const char *where,
	    struct ferry_port_conf *pc, char *err, size_t errlen)
{
	unsigned i;

	if (parse_choice(f, obj, where, admin_names, RTE_DIM(admin_names), &i, err, errlen) < 0)
		return -1;
	pc->admin_down = i == 1;
	return 0;
}

static json_t *
admin_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return json_string(admin_names[pc->admin_down]);
}

static int
parse_external_ids(const struct ferry_port_field *f, json_t *obj, const char *where,
		   struct ferry_port_conf *pc, char *err, size_t errlen)
{
	json_t *ids = json_object_get(obj, f->name), *v;
	const char *k;

	if (ids == NULL)
		return 0;
	if (!json_is_object(ids))
		return cfg_err(err, errlen, where, f->name, "must be an object of strings");
	json_object_foreach(ids, k, v)
		if (!json_is_string(v))
			return cfg_err(err, errlen, where, f->name, "'%s' must be a string", k);
	pc->external_ids = json_deep_copy(ids);
	return 0;
}

static json_t *
external_ids_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return pc->external_ids != NULL ? json_incref(pc->external_ids) : NULL;
}

static int
parse_filters(const struct ferry_port_field *f, json_t *obj, const char *where,
	      struct ferry_port_conf *pc, char *err, size_t errlen)
{
	json_t *a = json_object_get(obj, f->name), *it;
	char w[96];
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > FERRY_MAX_FILTERS)
		return cfg_err(err, errlen, where, f->name, "must be a list of at most %d filters",
			       FERRY_MAX_FILTERS);
	json_array_foreach(a, i, it) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, f->name, i);
		if (ferry_filter_conf_parse(it, w, &pc->filters[i], err, errlen) < 0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(pc->filters[k].name, pc->filters[i].name) == 0)
				return cfg_err(err, errlen, w, "name", "'%s': a filter of that name "
					       "comes earlier", pc->filters[i].name);
		pc->n_filters++;
	}
	return 0;
}

static json_t *
filters_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	json_t *a;

	if (pc->n_filters == 0)
		return NULL;
	a = json_array();
	for (unsigned i = 0; i < pc->n_filters; i++)
		json_array_append_new(a, ferry_filter_conf_to_json(&pc->filters[i]));
	return a;
}

/* --- isolation (issue #17): policer, storm, mac_limit --- */

#define RATE_MAX 400000000u   /* pps or kbps: 400 Mpps, 400 Gbit/s */

const char *const ferry_storm_keys[FERRY_STORM_KINDS] = {
	[FERRY_STORM_BROADCAST] = "broadcast_pps",
	[FERRY_STORM_MULTICAST] = "multicast_pps",
	[FERRY_STORM_UNKNOWN] = "unknown_unicast_pps",
};

/* The object member f->name of obj (absent: *out NULL), checked to be an object of keys. */
static int
get_object(const struct ferry_port_field *f, json_t *obj, const char *where,
	   const char *const *keys, json_t **out, char *w, size_t wlen, char *err, size_t errlen)
{
	*out = json_object_get(obj, f->name);
	snprintf(w, wlen, "%s.%s", where, f->name);
	if (*out == NULL)
		return 0;
	if (!json_is_object(*out))
		return cfg_err(err, errlen, w, NULL, "must be an object");
	return cfg_check_keys(*out, w, keys, err, errlen);
}

static int
parse_policer(const struct ferry_port_field *f, json_t *obj, const char *where,
	      struct ferry_port_conf *pc, char *err, size_t errlen)
{
	static const char *const keys[] = { "pps", "kbps", "burst", NULL };
	struct ferry_policer_conf *c = &pc->policer;
	json_t *o;
	char w[64];

	memset(c, 0, sizeof(*c));
	if (get_object(f, obj, where, keys, &o, w, sizeof(w), err, errlen) < 0)
		return -1;
	if (o == NULL)
		return 0;
	if ((json_object_get(o, "pps") == NULL) == (json_object_get(o, "kbps") == NULL))
		return cfg_err(err, errlen, w, NULL, "needs exactly one of \"pps\" and \"kbps\"");
	if (cfg_get_uint(o, w, "pps", 1, RATE_MAX, 0, &c->pps, err, errlen) < 0 ||
	    cfg_get_uint(o, w, "kbps", 1, RATE_MAX, 0, &c->kbps, err, errlen) < 0 ||
	    cfg_get_uint(o, w, "burst", 1, RATE_MAX, 0, &c->burst, err, errlen) < 0)
		return -1;
	return 0;
}

static json_t *
policer_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	const struct ferry_policer_conf *c = &pc->policer;
	json_t *o;

	if (c->pps == 0 && c->kbps == 0)
		return NULL;
	o = json_pack("{s:I}", c->pps != 0 ? "pps" : "kbps",
		      (json_int_t)(c->pps != 0 ? c->pps : c->kbps));
	if (c->burst != 0)
		json_object_set_new(o, "burst", json_integer(c->burst));
	return o;
}

static int
parse_storm(const struct ferry_port_field *f, json_t *obj, const char *where,
	    struct ferry_port_conf *pc, char *err, size_t errlen)
{
	static const char *const keys[] = { "broadcast_pps", "multicast_pps", "unknown_unicast_pps",
					    NULL };
	json_t *o;
	char w[64];

	memset(&pc->storm, 0, sizeof(pc->storm));
	if (get_object(f, obj, where, keys, &o, w, sizeof(w), err, errlen) < 0)
		return -1;
	for (unsigned k = 0; o != NULL && k < FERRY_STORM_KINDS; k++)
		if (cfg_get_uint(o, w, ferry_storm_keys[k], 1, RATE_MAX, 0, &pc->storm.pps[k],
				 err, errlen) < 0)
			return -1;
	return 0;
}

static json_t *
storm_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	json_t *o = NULL;

	for (unsigned k = 0; k < FERRY_STORM_KINDS; k++) {
		if (pc->storm.pps[k] == 0)
			continue;
		if (o == NULL)
			o = json_object();
		json_object_set_new(o, ferry_storm_keys[k], json_integer(pc->storm.pps[k]));
	}
	return o;
}

static int
parse_mac_limit(const struct ferry_port_field *f, json_t *obj, const char *where,
		struct ferry_port_conf *pc, char *err, size_t errlen)
{
	pc->has_mac_limit = json_object_get(obj, f->name) != NULL;
	return cfg_get_uint(obj, where, f->name, 0, f->max, 0, &pc->mac_limit, err, errlen);
}

static json_t *
mac_limit_to_json(const struct ferry_port_field *f, const struct ferry_port_conf *pc)
{
	return pc->has_mac_limit ? json_integer(pc->mac_limit) : NULL;
}

uint32_t
ferry_port_conf_mac_limit(const struct ferry_port_conf *pc)
{
	if (pc->has_mac_limit)
		return pc->mac_limit;
	return pc->type == FERRY_PORT_VHOST ? FERRY_VHOST_MAC_LIMIT_DEFAULT : 0;
}

/* --- the table --- */

#define ALL   FERRY_PORT_ALL_TYPES
#define DPDK  FERRY_PORT_TYPE_BIT(FERRY_PORT_DPDK)
#define VHOST FERRY_PORT_TYPE_BIT(FERRY_PORT_VHOST)
/* parser, printer and place of a uint16_t member 0..max */
#define U16(parser, member, maxv) parser, u16_to_json, offsetof(struct ferry_port_conf, member), maxv

const struct ferry_port_field ferry_port_fields[] = {
	/* name, JSON type, port types, settable, unique, help, parse, to_json[, offset, max] */
	{ "name", "string", ALL, false, true, "1-31 characters of A-Za-z0-9_.-",
	  parse_name, name_to_json },
	{ "type", "string", ALL, false, false, "dpdk or vhostuser", parse_type, type_to_json },
	{ "devargs", "string", DPDK, false, true,
	  "a PCI address (0000:03:00.0[,args], bound to vfio-pci) or a vdev string "
	  "(net_tap0,iface=t0)", parse_devargs, devargs_to_json },
	{ "rxq", "integer", DPDK, false, false,
	  "rx queues; default one per PMD, capped by the device (RSS spreads rx)",
	  U16(parse_u16, rxq, FERRY_MAX_QUEUES) },
	{ "vm_queues", "integer", DPDK, false, false,
	  "rx queues reserved for VMs beyond rxq (default 0): one per VM steered to its own queue "
	  "by an rte_flow rule; RSS is kept on the rxq queues (RETA); more than the device has: refused",
	  U16(parse_u16, vm_queues, FERRY_MAX_QUEUES - 1) },
	{ "txq", "integer", DPDK, false, false, "tx queues; default one per PMD, capped by the device",
	  U16(parse_u16, txq, FERRY_MAX_QUEUES) },
	{ "rxd", "integer", DPDK, false, false, "rx descriptors per queue, default 1024",
	  U16(parse_u16, rxd, 32768) },
	{ "txd", "integer", DPDK, false, false, "tx descriptors per queue, default 1024",
	  U16(parse_u16, txd, 32768) },
	{ "mtu", "integer", ALL, true, false,
	  "68..9702: dpdk: the MTU set on the device (default: the device's); vhostuser: the egress "
	  "limit toward the guest and the most its VIRTIO_NET_F_MTU (QEMU host_mtu) may be, a larger "
	  "one refused (default: the guest's)",
	  U16(parse_mtu, mtu, 9702) },
	{ "hw_mac", "string", DPDK, false, false,
	  "the device's own MAC (a VF asks its PF through the mailbox)", parse_hw_mac, hw_mac_to_json },
	{ "sriov", "object", DPDK, false, false,
	  "SR-IOV PF: {\"num_vfs\": N, \"vfs\": [{\"vf\": N, \"mac\": M, \"vlan\": V}]}",
	  parse_sriov, sriov_to_json },
	{ "vm", "string", DPDK, true, false,
	  "the vhostuser port this device is the own function of (a VF passed through for that VM): "
	  "every frame it receives is that VM's, to it alone or dropped (vm_dst, vm_vlan, vm_absent); "
	  "never a destination, nothing learned; \"\" or null: none",
	  parse_vm, vm_to_json },
	{ "path", "string", VHOST, false, true, "the vhost-user socket (an absolute path)",
	  parse_path, path_to_json },
	{ "mode", "string", VHOST, false, false,
	  "server (default: ferryd creates the socket; a stale file is replaced, a live one refused) "
	  "or client (ferryd connects to QEMU's socket and reconnects)", parse_mode, mode_to_json },
	{ "zero_copy", "string", VHOST, true, false,
	  "auto (default), on or off: lend the guest's TX buffers to NICs instead of copying",
	  parse_zero_copy, zero_copy_to_json },
	{ "enqueue", "string", VHOST, false, false,
	  "rte_vhost (default) or ferry: who writes the guest's receive rings; ferry where the guest "
	  "allows it (split ring, no IN_ORDER or IOMMU_PLATFORM, IOVA as VA), with DATA_VALID for "
	  "frames a NIC checksum-verified; taken when the guest connects",
	  parse_enqueue, enqueue_to_json },
	{ "offloads", "boolean", VHOST, false, false,
	  "true (default) or false: offer the guest checksum and TCP segmentation offloads (CSUM, "
	  "GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6); negotiated when it connects",
	  parse_offloads, offloads_to_json },
	{ "mac", "array", ALL, true, false,
	  "the guest's MAC(s), a string or a list of up to 16: source MAC enforced, static FDB entries",
	  parse_macs, macs_to_json },
	{ "vlan", "object", ALL, true, false,
	  "{\"mode\": \"access\", \"tag\": N} or {\"mode\": \"trunk\", \"allowed\": [...], "
	  "\"native\": N}; absent: trunk of every VLAN, untagged frames in VLAN 0",
	  parse_vlan, vlan_to_json },
	{ "admin", "string", ALL, true, false, "up (default) or down", parse_admin, admin_to_json },
	{ "external_ids", "object", ALL, true, false,
	  "free-form strings for orchestrators (VM uuid, interface id)",
	  parse_external_ids, external_ids_to_json },
	{ "filters", "array", ALL, false, false,
	  "eBPF programs: [{\"hook\": \"ingress\" or \"egress\", \"path\": \"/abs/f.o\", \"name\"?, "
	  "\"maps\"?}], up to 8; at runtime filter.attach, filter.detach and filter.map_set",
	  parse_filters, filters_to_json },
	{ "policer", "object", ALL, true, false,
	  "ingress policer on the frames the port receives: {\"pps\": N} or {\"kbps\": N}, "
	  "\"burst\"? (packets or kilobytes; default 10 ms of the rate); over-rate frames dropped "
	  "(policer)", parse_policer, policer_to_json },
	{ "storm", "object", ALL, true, false,
	  "storm control on the frames the port floods: {\"broadcast_pps\", \"multicast_pps\", "
	  "\"unknown_unicast_pps\"}, each optional; over-rate frames dropped (storm)",
	  parse_storm, storm_to_json },
	{ "mac_limit", "integer", ALL, true, false,
	  "at most N learned MACs (static ones do not count); a new source beyond it is not learned "
	  "and its frame dropped (mac_limit); 0: no limit; default 256 on vhostuser ports, none on dpdk",
	  parse_mac_limit, mac_limit_to_json, 0, 1000000 },
	{ NULL },
};

/* --- lookups --- */

const struct ferry_port_field *
ferry_port_field_find(const char *name)
{
	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

bool
ferry_port_field_applies(const struct ferry_port_field *f, enum ferry_port_type t)
{
	return (unsigned)t < FERRY_PORT_NTYPES && (f->types & FERRY_PORT_TYPE_BIT(t)) != 0;
}

bool
ferry_port_field_settable(const char *name, enum ferry_port_type t)
{
	const struct ferry_port_field *f = ferry_port_field_find(name);

	return f != NULL && f->settable && ferry_port_field_applies(f, t);
}

void
ferry_port_fields_settable_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL && n < len; f++)
		if (f->settable)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", f->name);
}

json_t *
ferry_port_fields_json(void)
{
	json_t *a = json_array();

	for (const struct ferry_port_field *f = ferry_port_fields; a != NULL && f->name != NULL; f++) {
		json_t *types = json_array();
		for (unsigned t = 0; t < FERRY_PORT_NTYPES; t++)
			if (ferry_port_field_applies(f, (enum ferry_port_type)t))
				json_array_append_new(types, json_string(ferry_port_type_names[t]));
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:b, s:b, s:s}", "name", f->name,
						   "type", f->json_type, "port_types", types,
						   "settable", f->settable, "unique", f->unique,
						   "help", f->help));
	}
	return a;
}
