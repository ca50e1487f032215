/* rpc_mirror.h — mirror.add / mirror.del / mirror.list (rpc_mirror.c). */
#ifndef FERRY_RPC_MIRROR_H
#define FERRY_RPC_MIRROR_H

#include "rpc_private.h"

/* {name, ports, direction, vlans?, filter?, output} → the mirror object with its counters. */
int rpc_m_mirror_add(struct rpc_call *c, json_t **res);
/* {name} → the mirror's last counters. */
int rpc_m_mirror_del(struct rpc_call *c, json_t **res);
/* [{name, ports, direction, vlans, filter, output, selected, mirrored, bytes, dropped}] */
int rpc_m_mirror_list(struct rpc_call *c, json_t **res);

#endif
