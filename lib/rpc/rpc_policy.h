/* rpc_policy.h — what an RPC client may make ferryd (root) touch on the host (rpc_policy.c). Every
 * refusal is -32602 with a message naming the param and the rule ("params.devargs: ...
 * (rpc.allow_host_devargs is off)"). The configuration file ferryd reads is trusted and bound by
 * none of this. */
#ifndef FERRY_RPC_POLICY_H
#define FERRY_RPC_POLICY_H

#include "ferry_config.h"
#include "rpc_private.h"

/* port.add: devargs on the allowlist (unless rpc.allow_host_devargs), a vhost-user path inside
 * vhost.socket_dirs (missing directory levels below one are made for a server socket). A port
 * identical to one that exists passes (port.add then does nothing). 0 or FERRY_EINVAL. */
int rpc_policy_port_add(struct rpc_call *c, const struct ferry_port_conf *pc);

/* Where config.save writes: the file ferryd was started with, or a file inside rpc.save_dir.
 * dirfd: that file's directory, opened (O_DIRECTORY) and checked to be the resolved one; name:
 * the file in it (absent, or a regular file: never a symlink). shown: the path as the answer
 * gives it. 0 or FERRY_EINVAL (dirfd then closed). */
struct rpc_save_target {
	int dirfd;
	char name[256];
	char shown[4096];
};
int rpc_policy_save_target(struct rpc_call *c, const char *given, struct rpc_save_target *t);

/* Where capture.start writes: an absolute path (no "." or "..") whose resolved directory is
 * rpc.capture_dir or below (the capture directory is made, 0700, if missing); the file absent,
 * a regular file or a FIFO, never a symlink. The same target as config.save's: dirfd opened and
 * checked, name in it. 0, FERRY_EINVAL or FERRY_EINTERNAL (dirfd then closed). */
int rpc_policy_capture_target(struct rpc_call *c, const char *given, struct rpc_save_target *t);

#endif
