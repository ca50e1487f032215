/* ferry_switch_reload.h — bring a running switch's ports to those of a (re-read) configuration,
 * with the runtime operations port.del, port.set and port.add: what ferryd does on SIGHUP. */
#ifndef FERRY_SWITCH_RELOAD_H
#define FERRY_SWITCH_RELOAD_H

#include "ferry_switch.h"

struct ferry_reload_result {
	unsigned added, removed, changed, unchanged, failed;
};

/* Ports of the switch not in conf are deleted; ports whose object differs only in fields port.set
 * may change (settable in ferry_port_fields[]) are changed in place; ports differing in anything else (type,
 * devargs, path, mode, queues, ...) are deleted and added again; ports new in conf are added.
 * Deletions run first (a replaced port's socket path or device is free again), then changes, then
 * additions in conf's order. Each step is logged and emits the usual port events; a step that fails
 * is logged and counted in failed, and the others are still done. conf must be valid (parsed by
 * ferry_config_load_file). Ports not mentioned in a difference are never touched. */
void ferry_switch_reload_ports(struct ferry_switch *sw, const struct ferry_conf *conf,
			       struct ferry_reload_result *res);

/* Take conf's settings that may change at runtime: rpc.idle_timeout (which ferryd applies to the
 * control socket; recorded here for config.get and config.save), and the limits on what RPC
 * clients may make ferryd touch (rpc.save_dir, rpc.allow_host_devargs, vhost.socket_dirs). */
void ferry_switch_reload_settings(struct ferry_switch *sw, const struct ferry_conf *conf);

#endif
