/* config_util.h — typed field getters for the config parser; every error names its JSON path. */
#ifndef FERRY_CONFIG_UTIL_H
#define FERRY_CONFIG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <rte_ether.h>
#include "ferry_vlan.h"

/* Formats "<where>.<field>: <msg>" (or "<where>: <msg>" when field is NULL). Returns -1. */
int cfg_err(char *err, size_t errlen, const char *where, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int cfg_get_string(json_t *obj, const char *where, const char *key, bool required, const char **out,
		   char *err, size_t errlen);
int cfg_get_bool(json_t *obj, const char *where, const char *key, bool dflt, bool *out,
		 char *err, size_t errlen);
int cfg_get_uint(json_t *obj, const char *where, const char *key, unsigned min, unsigned max,
		 unsigned dflt, unsigned *out, char *err, size_t errlen);
/* Fail on any key of obj not in the NULL-terminated list. */
int cfg_check_keys(json_t *obj, const char *where, const char *const *keys, char *err, size_t errlen);
int cfg_check_unicast(const struct rte_ether_addr *a, const char *where, const char *field,
		      char *err, size_t errlen);
int ferry_vlan_conf_parse(json_t *v, const char *where, struct ferry_vlan_conf *c,
			  char *err, size_t errlen);
json_t *ferry_vlan_conf_to_json(const struct ferry_vlan_conf *c);

/* ferry_config_policy.c: what an RPC client may make ferryd touch. rpc may be NULL (absent). */
struct ferry_conf;
int cfg_parse_rpc_policy(json_t *rpc, struct ferry_conf *c, char *err, size_t errlen);
int cfg_parse_vhost(json_t *root, struct ferry_conf *c, char *err, size_t errlen);

#endif
