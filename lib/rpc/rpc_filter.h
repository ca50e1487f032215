/* rpc_filter.h — filter.attach / detach / list / map_set / map_get, and the rule for filter objects
 * an RPC client names (rpc_filter.c). */
#ifndef FERRY_RPC_FILTER_H
#define FERRY_RPC_FILTER_H

#include "ferry_config.h"
#include "rpc_private.h"

int rpc_m_filter_attach(struct rpc_call *c, json_t **res);
int rpc_m_filter_detach(struct rpc_call *c, json_t **res);
int rpc_m_filter_list(struct rpc_call *c, json_t **res);
/* {port, name, map, index, value} or {port, name, map, values: [{index, value}]}: every entry is
 * checked (index, value length) before any is written. */
int rpc_m_filter_map_set(struct rpc_call *c, json_t **res);
/* {port, name, map, [index]}: one entry, or all (up to 1 MiB of values, then "truncated"). */
int rpc_m_filter_map_get(struct rpc_call *c, json_t **res);

/* An object file named over RPC must resolve (symlinks followed) to a regular file inside one of
 * rpc.filter_dirs; fc->path becomes the resolved path (what ferryd then opens). field names the
 * param in the message ("params.path", "params.filters[0].path"). 0 or FERRY_EINVAL. */
int rpc_policy_filter(struct rpc_call *c, const char *field, struct ferry_filter_conf *fc);

#endif
