/* rpc_capture.h — capture.start / capture.stop / capture.list (rpc_capture.c), and the end of a
 * connection's captures when it closes. */
#ifndef FERRY_RPC_CAPTURE_H
#define FERRY_RPC_CAPTURE_H

#include "rpc_private.h"

/* {port, direction?, filter?, snaplen?, count?, path} → {id, ...}; a bad filter: -32602 with
 * libpcap's message; path: inside rpc.capture_dir (rpc_policy_capture_target). */
int rpc_m_capture_start(struct rpc_call *c, json_t **res);
/* {id} → the capture's final counters. */
int rpc_m_capture_stop(struct rpc_call *c, json_t **res);
/* [{id, port, direction, filter, ..., captured, dropped, bytes}] */
int rpc_m_capture_list(struct rpc_call *c, json_t **res);
/* client is closing: its captures end. */
void rpc_capture_client_gone(struct ferry_rpc *r, struct rpc_client *client);

#endif
