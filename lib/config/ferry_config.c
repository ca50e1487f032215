/* ferry_config.c — the whole configuration file: lcores, sizes, control socket, EAL extras, ports;
 * and the built-in demo configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "ferry_config.h"
#include "ferry_mirror.h"
#include "config_util.h"

/* Runs on any Linux box with hugepages: a TAP uplink the host can talk through (ferry0) and one
 * vhost-user port a QEMU guest joins with -netdev vhost-user,chardev=...,path=/run/ferry/vm1.sock. */
const char ferry_config_default_json[] =
	"{\"lcores\": {\"main\": 0, \"pmd\": [1]},\n"
	" \"ports\": [\n"
	"  {\"name\": \"uplink\", \"type\": \"dpdk\", \"devargs\": \"net_tap0,iface=ferry0\"},\n"
	"  {\"name\": \"vm1\", \"type\": \"vhostuser\", \"path\": \"/run/ferry/vm1.sock\","
	" \"mode\": \"server\"}]}\n";

static int
parse_lcores(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	json_t *lc = json_object_get(root, "lcores"), *pmd, *it;
	static const char *const keys[] = { "main", "pmd", NULL };
	unsigned v;
	size_t i;

	c->main_lcore = 0;
	c->n_pmds = 1;
	c->pmd_lcores[0] = 1;
	if (lc == NULL)
		return 0;
	if (!json_is_object(lc))
		return cfg_err(err, errlen, "lcores", NULL, "must be an object");
	if (cfg_check_keys(lc, "lcores", keys, err, errlen) < 0 ||
	    cfg_get_uint(lc, "lcores", "main", 0, RTE_MAX_LCORE - 1, 0, &v, err, errlen) < 0)
		return -1;
	c->main_lcore = v;
	pmd = json_object_get(lc, "pmd");
	if (pmd == NULL)
		return 0;
	if (!json_is_array(pmd) || json_array_size(pmd) < 1 || json_array_size(pmd) > FERRY_MAX_PMDS)
		return cfg_err(err, errlen, "lcores", "pmd", "must be a list of 1..%d lcore ids",
			       FERRY_MAX_PMDS);
	json_array_foreach(pmd, i, it) {
		if (!json_is_integer(it) || json_integer_value(it) < 0 ||
		    json_integer_value(it) >= RTE_MAX_LCORE)
			return cfg_err(err, errlen, "lcores", "pmd", "item %zu is not an lcore id", i);
		c->pmd_lcores[i] = (unsigned)json_integer_value(it);
		if (c->pmd_lcores[i] == c->main_lcore)
			return cfg_err(err, errlen, "lcores", "pmd",
				       "lcore %u is the main lcore: PMDs need lcores of their own",
				       c->main_lcore);
		for (size_t j = 0; j < i; j++)
			if (c->pmd_lcores[j] == c->pmd_lcores[i])
				return cfg_err(err, errlen, "lcores", "pmd", "lcore %u listed twice",
					       c->pmd_lcores[i]);
	}
	c->n_pmds = (unsigned)json_array_size(pmd);
	return 0;
}

static int
parse_sizes(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	static const char *const fdb_keys[] = { "size", "aging", NULL };
	json_t *fdb = json_object_get(root, "fdb");
	unsigned v;

	if (cfg_get_uint(root, "", "burst", 1, FERRY_BURST, FERRY_BURST, &c->burst, err, errlen) < 0 ||
	    cfg_get_uint(root, "", "mbufs", 1024, 4u << 20, 32768, &v, err, errlen) < 0)
		return -1;
	c->mbufs = v;
	c->fdb_size = 65536;
	c->fdb_aging_s = 300;
	if (fdb == NULL)
		return 0;
	if (!json_is_object(fdb))
		return cfg_err(err, errlen, "fdb", NULL, "must be an object");
	if (cfg_check_keys(fdb, "fdb", fdb_keys, err, errlen) < 0 ||
	    cfg_get_uint(fdb, "fdb", "size", 64, 16u << 20, 65536, &v, err, errlen) < 0)
		return -1;
	c->fdb_size = v;
	if (cfg_get_uint(fdb, "fdb", "aging", 1, 86400 * 7, 300, &v, err, errlen) < 0)
		return -1;
	c->fdb_aging_s = v;
	return 0;
}

static int
parse_rpc(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "socket", "mode", "group", "idle_timeout",
					    "save_dir", "allow_host_devargs", "filter_dirs",
					    "capture_dir", NULL };
	json_t *rpc = json_object_get(root, "rpc");
	const char *s = "/run/ferry/ferryd.sock", *mode = "0660", *group = "";
	char *end;

	if (rpc != NULL) {
		if (!json_is_object(rpc))
			return cfg_err(err, errlen, "rpc", NULL, "must be an object");
		if (cfg_check_keys(rpc, "rpc", keys, err, errlen) < 0 ||
		    cfg_get_string(rpc, "rpc", "socket", false, &s, err, errlen) < 0 ||
		    cfg_get_string(rpc, "rpc", "mode", false, &mode, err, errlen) < 0 ||
		    cfg_get_string(rpc, "rpc", "group", false, &group, err, errlen) < 0)
			return -1;
	}
	/* seconds without a complete request before a client is closed; 0 = never */
	if (cfg_get_uint(rpc, "rpc", "idle_timeout", 0, 86400, 60, &c->rpc_idle_timeout_s, err,
			 errlen) < 0)
		return -1;
	if (s[0] != '/' || strlen(s) >= sizeof(c->rpc_socket))
		return cfg_err(err, errlen, "rpc", "socket", "must be an absolute path under %zu characters",
			       sizeof(c->rpc_socket));
	c->rpc_mode = (uint32_t)strtoul(mode, &end, 8);
	if (*mode == '\0' || *end != '\0' || c->rpc_mode > 0777)
		return cfg_err(err, errlen, "rpc", "mode", "'%s': must be an octal file mode like \"0660\"",
			       mode);
	if (strlen(group) >= sizeof(c->rpc_group))
		return cfg_err(err, errlen, "rpc", "group", "too long");
	strcpy(c->rpc_socket, s);
	strcpy(c->rpc_group, group);
	return 0;
}

static int
parse_vf_token(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	const char *t = NULL;
	unsigned a, b, d, e;
	unsigned long long f;
	int n = 0;

	if (cfg_get_string(root, "", "vfio_vf_token", false, &t, err, errlen) < 0)
		return -1;
	if (t == NULL)
		return 0;
	if (strlen(t) != 36 || sscanf(t, "%8x-%4x-%4x-%4x-%12llx%n", &a, &b, &d, &e, &f, &n) != 5 ||
	    n != 36)
		return cfg_err(err, errlen, "", "vfio_vf_token", "'%s' is not a UUID", t);
	strcpy(c->vfio_vf_token, t);
	return 0;
}

static int
listen_err(char *err, size_t errlen, const char *s)
{
	snprintf(err, errlen, "'%s': must be HOST:PORT, an IPv4 address or a bracketed IPv6 address "
		 "and a port 1..65535 (\"127.0.0.1:9465\", \"[::1]:9465\")", s);
	return -1;
}

int
ferry_config_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen,
			  char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	char host[64], *end;
	size_t hl = colon != NULL ? (size_t)(colon - s) : 0;
	long port;

	if (hl == 0 || hl >= sizeof(host) || colon[1] < '0' || colon[1] > '9')
		return listen_err(err, errlen, s);
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return listen_err(err, errlen, s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	a4.sin_port = a6.sin6_port = htons((uint16_t)port);
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6.sin6_addr) != 1)
			return listen_err(err, errlen, s);
	} else if (inet_pton(AF_INET, host, &a4.sin_addr) != 1) {
		return listen_err(err, errlen, s);
	}
	if (sa != NULL) {
		memset(sa, 0, sizeof(*sa));
		if (host[0] == '[')
			memcpy(sa, &a6, sizeof(a6));
		else
			memcpy(sa, &a4, sizeof(a4));
	}
	if (salen != NULL)
		*salen = host[0] == '[' ? sizeof(a6) : sizeof(a4);
	return 0;
}

/* "metrics": {"listen": "HOST:PORT"}; absent: no /metrics. */
static int
parse_metrics(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "listen", NULL };
	json_t *m = json_object_get(root, "metrics");
	const char *l = NULL;
	char msg[256];

	if (m == NULL)
		return 0;
	if (!json_is_object(m))
		return cfg_err(err, errlen, "metrics", NULL, "must be an object");
	if (cfg_check_keys(m, "metrics", keys, err, errlen) < 0 ||
	    cfg_get_string(m, "metrics", "listen", false, &l, err, errlen) < 0)
		return -1;
	if (l == NULL)
		return 0;
	if (strlen(l) >= sizeof(c->metrics_listen) ||
	    ferry_config_parse_listen(l, NULL, NULL, msg, sizeof(msg)) < 0)
		return cfg_err(err, errlen, "metrics", "listen", "%s",
			       strlen(l) >= sizeof(c->metrics_listen) ? "too long" : msg);
	strcpy(c->metrics_listen, l);
	return 0;
}

void
ferry_config_metrics_to_json(const struct ferry_conf *c, json_t *o)
{
	if (c->metrics_listen[0] != '\0')
		json_object_set_new(o, "metrics", json_pack("{s:s}", "listen", c->metrics_listen));
}

static int
parse_eal_args(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	json_t *a = json_object_get(root, "eal_args"), *it;
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > RTE_DIM(c->eal_args))
		return cfg_err(err, errlen, "eal_args", NULL, "must be a list of at most %zu strings",
			       RTE_DIM(c->eal_args));
	json_array_foreach(a, i, it) {
		if (!json_is_string(it))
			return cfg_err(err, errlen, "eal_args", NULL, "item %zu is not a string", i);
		c->eal_args[c->n_eal_args++] = strdup(json_string_value(it));
	}
	return 0;
}

/* ports[i] may not share a name, a socket or a device with an earlier port. */
static int
check_unique(const struct ferry_conf *c, unsigned i, char *err, size_t errlen)
{
	const struct ferry_port_field *f;
	char where[32], value[600];

	snprintf(where, sizeof(where), "ports[%u]", i);
	for (unsigned j = 0; j < i; j++) {
		f = ferry_port_conf_conflict(&c->ports[i], &c->ports[j], value, sizeof(value));
		if (f != NULL)
			return cfg_err(err, errlen, where, f->name, "'%s' is used by ports[%u] too",
				       value, j);
	}
	return 0;
}

/* A dpdk port's "vm" names a vhostuser port of the configuration (any place in the list). */
static int
check_vms(const struct ferry_conf *c, char *err, size_t errlen)
{
	char where[32];

	for (unsigned i = 0; i < c->n_ports; i++) {
		const char *vm = c->ports[i].vm;
		unsigned j = 0;
		if (c->ports[i].type != FERRY_PORT_DPDK || vm[0] == '\0')
			continue;
		while (j < c->n_ports && strcmp(c->ports[j].name, vm) != 0)
			j++;
		snprintf(where, sizeof(where), "ports[%u]", i);
		if (j == c->n_ports)
			return cfg_err(err, errlen, where, "vm", "no vhostuser port named '%s'", vm);
		if (c->ports[j].type != FERRY_PORT_VHOST)
			return cfg_err(err, errlen, where, "vm", "'%s' is a %s port, not a vhostuser "
				       "port", vm, ferry_port_type_names[c->ports[j].type]);
	}
	return 0;
}

static int
parse_ports(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	json_t *ports = json_object_get(root, "ports"), *it;
	char where[32];
	size_t i;

	if (ports == NULL)
		return 0;
	if (!json_is_array(ports) || json_array_size(ports) > FERRY_MAX_PORTS)
		return cfg_err(err, errlen, "ports", NULL, "must be a list of at most %d ports",
			       FERRY_MAX_PORTS);
	c->ports = calloc(json_array_size(ports) + 1, sizeof(*c->ports));
	json_array_foreach(ports, i, it) {
		snprintf(where, sizeof(where), "ports[%zu]", i);
		if (ferry_port_conf_parse(it, where, &c->ports[i], err, errlen) < 0)
			return -1;
		c->n_ports = (unsigned)i + 1;
		if (check_unique(c, (unsigned)i, err, errlen) < 0)
			return -1;
	}
	return check_vms(c, err, errlen);
}

static bool
has_port(const struct ferry_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return true;
	return false;
}

/* "mirrors" (lib/mirror): each refers to configured ports; two mirrors never conflict. */
static int
parse_mirrors(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	json_t *a = json_object_get(root, "mirrors"), *it;
	char where[32], why[256];
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > FERRY_MIRROR_MAX)
		return cfg_err(err, errlen, "mirrors", NULL, "must be a list of at most %d mirrors",
			       FERRY_MIRROR_MAX);
	c->mirrors = calloc(json_array_size(a) + 1, sizeof(*c->mirrors));
	if (c->mirrors == NULL)
		return cfg_err(err, errlen, "mirrors", NULL, "out of memory");
	json_array_foreach(a, i, it) {
		struct ferry_mirror_conf *mc = &c->mirrors[i];
		snprintf(where, sizeof(where), "mirrors[%zu]", i);
		if (ferry_mirror_conf_parse(it, where, mc, err, errlen) < 0)
			return -1;
		c->n_mirrors = (unsigned)i + 1;
		for (unsigned k = 0; k < mc->n_ports; k++)
			if (!has_port(c, mc->ports[k]))
				return cfg_err(err, errlen, where, "ports", "no port named '%s'",
					       mc->ports[k]);
		if (!has_port(c, mc->output))
			return cfg_err(err, errlen, where, "output", "no port named '%s'", mc->output);
		for (size_t j = 0; j < i; j++) {
			const char *f = ferry_mirror_conf_conflict(mc, &c->mirrors[j], why, sizeof(why));
			if (f != NULL)
				return cfg_err(err, errlen, where, f, "%s", why);
		}
	}
	return 0;
}

int
ferry_config_parse(json_t *root, struct ferry_conf *c, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"lcores", "burst", "mbufs", "fdb", "rpc", "eal_args", "vfio_vf_token", "vhost", "ports",
		"metrics", "mirrors", NULL
	};

	memset(c, 0, sizeof(*c));
	if (!json_is_object(root))
		return cfg_err(err, errlen, "", NULL, "the configuration must be a JSON object");
	if (cfg_check_keys(root, "", keys, err, errlen) < 0 ||
	    parse_lcores(root, c, err, errlen) < 0 || parse_sizes(root, c, err, errlen) < 0 ||
	    parse_rpc(root, c, err, errlen) < 0 || parse_eal_args(root, c, err, errlen) < 0 ||
	    parse_vf_token(root, c, err, errlen) < 0 || parse_metrics(root, c, err, errlen) < 0 ||
	    cfg_parse_rpc_policy(json_object_get(root, "rpc"), c, err, errlen) < 0 ||
	    cfg_parse_vhost(root, c, err, errlen) < 0 ||
	    parse_ports(root, c, err, errlen) < 0 || parse_mirrors(root, c, err, errlen) < 0) {
		ferry_config_free(c);
		return -1;
	}
	return 0;
}

static int
load(json_t *root, const json_error_t *je, const char *name, struct ferry_conf *c,
     char *err, size_t errlen)
{
	char msg[512];

	if (root == NULL) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", name, je->line, je->column, je->text);
		return -1;
	}
	int rc = ferry_config_parse(root, c, msg, sizeof(msg));
	json_decref(root);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", name, msg);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", name);
	return 0;
}

int
ferry_config_load_file(const char *file, struct ferry_conf *c, char *err, size_t errlen)
{
	json_error_t je;

	return load(json_load_file(file, JSON_REJECT_DUPLICATES, &je), &je, file, c, err, errlen);
}

int
ferry_config_load_string(const char *text, struct ferry_conf *c, char *err, size_t errlen)
{
	json_error_t je;
	int rc = load(json_loads(text, JSON_REJECT_DUPLICATES, &je), &je, "(built-in)", c, err, errlen);

	if (rc == 0)
		c->path[0] = '\0';
	return rc;
}

void
ferry_config_free(struct ferry_conf *c)
{
	for (unsigned i = 0; i < c->n_ports; i++)
		ferry_port_conf_clear(&c->ports[i]);
	free(c->ports);
	c->ports = NULL;
	c->n_ports = 0;
	free(c->mirrors);
	c->mirrors = NULL;
	c->n_mirrors = 0;
	for (unsigned i = 0; i < c->n_eal_args; i++)
		free(c->eal_args[i]);
	c->n_eal_args = 0;
}
