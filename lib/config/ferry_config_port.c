/* ferry_config_port.c — parse, print and compare one port object (config file entry or port.add). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "ferry_config.h"
#include "config_util.h"

static int
parse_name(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;

	if (cfg_get_string(obj, where, "name", true, &s, err, errlen) < 0)
		return -1;
	size_t n = strlen(s);
	if (n == 0 || n >= FERRY_NAME_MAX)
		return cfg_err(err, errlen, where, "name", "must be 1..%d characters", FERRY_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return cfg_err(err, errlen, where, "name",
				       "'%s': only letters, digits, '_', '.' and '-' allowed", s);
	memcpy(pc->name, s, n + 1);
	return 0;
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
parse_sriov(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	static const char *const keys[] = { "num_vfs", "vfs", NULL };
	json_t *s = json_object_get(obj, "sriov"), *vfs, *it;
	char w[64];
	unsigned v;
	size_t i;

	if (s == NULL)
		return 0;
	snprintf(w, sizeof(w), "%s.sriov", where);
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

static int
parse_hw_mac(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *mac = NULL;

	if (cfg_get_string(obj, where, "hw_mac", false, &mac, err, errlen) < 0)
		return -1;
	if (mac == NULL)
		return 0;
	if (rte_ether_unformat_addr(mac, &pc->hw_mac) != 0)
		return cfg_err(err, errlen, where, "hw_mac", "'%s' is not a MAC address", mac);
	pc->has_hw_mac = true;
	return cfg_check_unicast(&pc->hw_mac, where, "hw_mac", err, errlen);
}

static int
parse_dpdk(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;
	unsigned v;

	if (cfg_get_string(obj, where, "devargs", true, &s, err, errlen) < 0)
		return -1;
	if (s[0] == '\0' || strlen(s) >= sizeof(pc->devargs))
		return cfg_err(err, errlen, where, "devargs", "must be 1..%zu characters",
			       sizeof(pc->devargs) - 1);
	strcpy(pc->devargs, s);
	if (cfg_get_uint(obj, where, "rxq", 0, FERRY_MAX_QUEUES, 0, &v, err, errlen) < 0)
		return -1;
	pc->rxq = v;
	if (cfg_get_uint(obj, where, "txq", 0, FERRY_MAX_QUEUES, 0, &v, err, errlen) < 0)
		return -1;
	pc->txq = v;
	if (cfg_get_uint(obj, where, "rxd", 0, 32768, 0, &v, err, errlen) < 0)
		return -1;
	pc->rxd = v;
	if (cfg_get_uint(obj, where, "txd", 0, 32768, 0, &v, err, errlen) < 0)
		return -1;
	pc->txd = v;
	if (cfg_get_uint(obj, where, "mtu", 0, 9702, 0, &v, err, errlen) < 0)
		return -1;
	if (v != 0 && v < 68)
		return cfg_err(err, errlen, where, "mtu", "must be 68..9702");
	pc->mtu = v;
	if (parse_hw_mac(obj, where, pc, err, errlen) < 0 || parse_sriov(obj, where, pc, err, errlen) < 0)
		return -1;
	static const char *const vhost_only[] = { "path", "mode", "zero_copy", NULL };
	return cfg_reject_keys(obj, where, vhost_only, err, errlen);
}

static int
parse_vhost(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s;

	if (cfg_get_string(obj, where, "path", true, &s, err, errlen) < 0)
		return -1;
	if (s[0] != '/' || strlen(s) >= sizeof(pc->path))
		return cfg_err(err, errlen, where, "path", "must be an absolute path under %zu characters",
			       sizeof(pc->path));
	strcpy(pc->path, s);
	s = "server";
	if (cfg_get_string(obj, where, "mode", false, &s, err, errlen) < 0)
		return -1;
	if (strcmp(s, "server") != 0 && strcmp(s, "client") != 0)
		return cfg_err(err, errlen, where, "mode", "'%s': must be \"server\" or \"client\"", s);
	pc->client = strcmp(s, "client") == 0;
	s = "auto";
	if (cfg_get_string(obj, where, "zero_copy", false, &s, err, errlen) < 0)
		return -1;
	for (pc->zero_copy = 0; pc->zero_copy < RTE_DIM(ferry_zc_mode_names); pc->zero_copy++)
		if (strcmp(s, ferry_zc_mode_names[pc->zero_copy]) == 0)
			break;
	if (pc->zero_copy == RTE_DIM(ferry_zc_mode_names))
		return cfg_err(err, errlen, where, "zero_copy",
			       "'%s': must be \"auto\", \"on\" or \"off\"", s);
	static const char *const dpdk_only[] = { "devargs", "rxq", "txq", "rxd", "txd", "mtu", "hw_mac",
						 "sriov", NULL };
	return cfg_reject_keys(obj, where, dpdk_only, err, errlen);
}

static int
parse_macs(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	json_t *arr = json_object_get(obj, "mac"), *it;
	size_t i;

	pc->n_macs = 0;
	if (arr == NULL)
		return 0;
	if (json_is_string(arr)) {   /* a single MAC may be given as a string */
		if (rte_ether_unformat_addr(json_string_value(arr), &pc->macs[0]) != 0)
			return cfg_err(err, errlen, where, "mac", "'%s' is not a MAC address",
				       json_string_value(arr));
		pc->n_macs = 1;
		return cfg_check_unicast(&pc->macs[0], where, "mac", err, errlen);
	}
	if (!json_is_array(arr) || json_array_size(arr) > FERRY_MAX_MACS)
		return cfg_err(err, errlen, where, "mac", "must be a list of at most %d MAC addresses",
			       FERRY_MAX_MACS);
	json_array_foreach(arr, i, it) {
		char field[32];
		snprintf(field, sizeof(field), "mac[%zu]", i);
		if (!json_is_string(it) ||
		    rte_ether_unformat_addr(json_string_value(it), &pc->macs[i]) != 0)
			return cfg_err(err, errlen, where, field, "is not a MAC address");
		if (cfg_check_unicast(&pc->macs[i], where, field, err, errlen) < 0)
			return -1;
		pc->n_macs++;
	}
	return 0;
}

static int
parse_admin(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	const char *s = "up";

	if (cfg_get_string(obj, where, "admin", false, &s, err, errlen) < 0)
		return -1;
	if (strcmp(s, "up") != 0 && strcmp(s, "down") != 0)
		return cfg_err(err, errlen, where, "admin", "'%s': must be \"up\" or \"down\"", s);
	pc->admin_down = strcmp(s, "down") == 0;
	return 0;
}

static int
parse_external_ids(json_t *obj, const char *where, struct ferry_port_conf *pc,
		   char *err, size_t errlen)
{
	json_t *ids = json_object_get(obj, "external_ids"), *v;
	const char *k;

	if (ids == NULL)
		return 0;
	if (!json_is_object(ids))
		return cfg_err(err, errlen, where, "external_ids", "must be an object of strings");
	json_object_foreach(ids, k, v)
		if (!json_is_string(v))
			return cfg_err(err, errlen, where, "external_ids", "'%s' must be a string", k);
	pc->external_ids = json_deep_copy(ids);
	return 0;
}

const char *const ferry_zc_mode_names[3] = { "auto", "on", "off" };

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

static int
parse_filters(json_t *obj, const char *where, struct ferry_port_conf *pc, char *err, size_t errlen)
{
	json_t *a = json_object_get(obj, "filters"), *it;
	char w[96];
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > FERRY_MAX_FILTERS)
		return cfg_err(err, errlen, where, "filters", "must be a list of at most %d filters",
			       FERRY_MAX_FILTERS);
	json_array_foreach(a, i, it) {
		snprintf(w, sizeof(w), "%s.filters[%zu]", where, i);
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

static const char *const port_keys[] = {
	"name", "type", "devargs", "rxq", "txq", "rxd", "txd", "mtu", "hw_mac", "sriov", "path", "mode",
	"zero_copy", "mac", "vlan", "admin", "external_ids", "filters", NULL
};

int
ferry_port_conf_parse(json_t *obj, const char *where, struct ferry_port_conf *pc,
		      char *err, size_t errlen)
{
	const char *type;

	memset(pc, 0, sizeof(*pc));
	if (!json_is_object(obj))
		return cfg_err(err, errlen, where, NULL, "must be an object");
	if (cfg_check_keys(obj, where, port_keys, err, errlen) < 0 ||
	    parse_name(obj, where, pc, err, errlen) < 0 ||
	    cfg_get_string(obj, where, "type", true, &type, err, errlen) < 0)
		goto fail;
	if (strcmp(type, "dpdk") == 0) {
		pc->type = FERRY_PORT_DPDK;
		if (parse_dpdk(obj, where, pc, err, errlen) < 0)
			goto fail;
	} else if (strcmp(type, "vhostuser") == 0) {
		pc->type = FERRY_PORT_VHOST;
		if (parse_vhost(obj, where, pc, err, errlen) < 0)
			goto fail;
	} else {
		cfg_err(err, errlen, where, "type", "'%s': must be \"dpdk\" or \"vhostuser\"", type);
		goto fail;
	}
	if (parse_macs(obj, where, pc, err, errlen) < 0 ||
	    ferry_vlan_conf_parse(json_object_get(obj, "vlan"), where, &pc->vlan, err, errlen) < 0 ||
	    parse_admin(obj, where, pc, err, errlen) < 0 ||
	    parse_external_ids(obj, where, pc, err, errlen) < 0 ||
	    parse_filters(obj, where, pc, err, errlen) < 0)
		goto fail;
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

static void
put_uint_if(json_t *o, const char *k, unsigned v)
{
	if (v != 0)
		json_object_set_new(o, k, json_integer(v));
}

static json_t *
sriov_to_json(const struct ferry_port_conf *pc)
{
	json_t *vfs = json_array();
	char buf[RTE_ETHER_ADDR_FMT_SIZE];

	for (unsigned i = 0; i < pc->n_vfs; i++) {
		const struct ferry_vf_conf *vf = &pc->vfs[i];
		json_t *o = json_pack("{s:i}", "vf", vf->vf);
		if (vf->has_mac) {
			rte_ether_format_addr(buf, sizeof(buf), &vf->mac);
			json_object_set_new(o, "mac", json_string(buf));
		}
		if (vf->vlan != 0)
			json_object_set_new(o, "vlan", json_integer(vf->vlan));
		json_array_append_new(vfs, o);
	}
	json_t *s = json_pack("{s:i}", "num_vfs", pc->num_vfs);
	if (pc->n_vfs != 0)
		json_object_set_new(s, "vfs", vfs);
	else
		json_decref(vfs);
	return s;
}

json_t *
ferry_port_conf_to_json(const struct ferry_port_conf *pc)
{
	json_t *o = json_object();
	char buf[RTE_ETHER_ADDR_FMT_SIZE];

	json_object_set_new(o, "name", json_string(pc->name));
	if (pc->type == FERRY_PORT_DPDK) {
		json_object_set_new(o, "type", json_string("dpdk"));
		json_object_set_new(o, "devargs", json_string(pc->devargs));
		put_uint_if(o, "rxq", pc->rxq);
		put_uint_if(o, "txq", pc->txq);
		put_uint_if(o, "rxd", pc->rxd);
		put_uint_if(o, "txd", pc->txd);
		put_uint_if(o, "mtu", pc->mtu);
		if (pc->has_hw_mac) {
			rte_ether_format_addr(buf, sizeof(buf), &pc->hw_mac);
			json_object_set_new(o, "hw_mac", json_string(buf));
		}
		if (pc->num_vfs != 0 || pc->n_vfs != 0)
			json_object_set_new(o, "sriov", sriov_to_json(pc));
	} else {
		json_object_set_new(o, "type", json_string("vhostuser"));
		json_object_set_new(o, "path", json_string(pc->path));
		json_object_set_new(o, "mode", json_string(pc->client ? "client" : "server"));
		json_object_set_new(o, "zero_copy", json_string(ferry_zc_mode_names[pc->zero_copy]));
	}
	if (pc->n_macs > 0) {
		json_t *a = json_array();
		for (unsigned i = 0; i < pc->n_macs; i++) {
			rte_ether_format_addr(buf, sizeof(buf), &pc->macs[i]);
			json_array_append_new(a, json_string(buf));
		}
		json_object_set_new(o, "mac", a);
	}
	json_t *vlan = ferry_vlan_conf_to_json(&pc->vlan);
	if (vlan != NULL)
		json_object_set_new(o, "vlan", vlan);
	json_object_set_new(o, "admin", json_string(pc->admin_down ? "down" : "up"));
	if (pc->external_ids != NULL)
		json_object_set(o, "external_ids", pc->external_ids);
	if (pc->n_filters != 0) {
		json_t *a = json_array();
		for (unsigned i = 0; i < pc->n_filters; i++)
			json_array_append_new(a, ferry_filter_conf_to_json(&pc->filters[i]));
		json_object_set_new(o, "filters", a);
	}
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
