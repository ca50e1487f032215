/* ferry_switch.h — the switch as the control plane sees it: ports, FDB, PMDs, events.
 *
 * Every function here runs on the control thread (ferryd's main lcore), one call at a time; they never
 * stop traffic on ports they do not touch. Functions that answer with data return a new jansson
 * reference in the shape the JSON-RPC methods return. Errors are negative FERRY_E* codes (the
 * JSON-RPC error codes) with a message in err. */
#ifndef FERRY_SWITCH_H
#define FERRY_SWITCH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ferry_config.h"

/* Error codes (FERRY_E*: the JSON-RPC codes) are in ferry_common.h. */

struct ferry_switch;

typedef void (*ferry_event_cb)(void *ctx, const char *event, json_t *params /* borrowed */);

/* After rte_eal_init. Creates mempools, FDB, PMD state and every port of conf. */
int ferry_switch_create(const struct ferry_conf *conf, struct ferry_switch **out,
			char *err, size_t errlen);
int ferry_switch_start(struct ferry_switch *sw);          /* launch PMD threads */
void ferry_switch_stop(struct ferry_switch *sw);          /* stop PMDs, drain, close every port */
void ferry_switch_destroy(struct ferry_switch *sw);

/* Housekeeping, called by the control loop at least every 100 ms and whenever event_fd is readable:
 * clock, FDB aging, guest connect/queue events, vanished devices. */
void ferry_switch_poll(struct ferry_switch *sw);
int ferry_switch_event_fd(const struct ferry_switch *sw);
void ferry_switch_set_event_cb(struct ferry_switch *sw, ferry_event_cb cb, void *ctx);
/* Total packets received on all ports so far (for ferryd --idle-exit). */
uint64_t ferry_switch_rx_total(const struct ferry_switch *sw);

/* Ports. port_add returns 0 (added), 1 (an identical port exists: nothing done), or an error. */
int ferry_switch_port_add(struct ferry_switch *sw, const struct ferry_port_conf *pc,
			  char *err, size_t errlen);
int ferry_switch_port_del(struct ferry_switch *sw, const char *name, char *err, size_t errlen);
/* changes: any fields marked settable in ferry_port_fields[] (lib/config), in port-object syntax;
 * null removes a field. */
int ferry_switch_port_set(struct ferry_switch *sw, const char *name, json_t *changes,
			  char *err, size_t errlen);
json_t *ferry_switch_port_list(struct ferry_switch *sw);
/* The port object in ports (an array of port objects: port_list, config_get's "ports") whose
 * string member key is value, or NULL. */
json_t *ferry_switch_port_find(json_t *ports, const char *key, const char *value);
int ferry_switch_port_get(struct ferry_switch *sw, const char *name, json_t **out,
			  char *err, size_t errlen);
/* name NULL = every port. */
int ferry_switch_port_stats(struct ferry_switch *sw, const char *name, json_t **out,
			    char *err, size_t errlen);
int ferry_switch_port_stats_clear(struct ferry_switch *sw, const char *name,
				  char *err, size_t errlen);

/* FDB. vlan is the switch VLAN (0 = untagged domain). */
json_t *ferry_switch_fdb_list(struct ferry_switch *sw);
int ferry_switch_fdb_add(struct ferry_switch *sw, const char *mac, uint16_t vlan, const char *port,
			 char *err, size_t errlen);
int ferry_switch_fdb_del(struct ferry_switch *sw, const char *mac, uint16_t vlan,
			 char *err, size_t errlen);
/* port NULL = every port; learned entries only unless include_static. Returns entries removed. */
int ferry_switch_fdb_flush(struct ferry_switch *sw, const char *port, bool include_static,
			   char *err, size_t errlen);

/* eBPF filters (lib/filter) on a port's ingress or egress (filter.attach/detach/list). attach:
 * FERRY_ENOPORT, FERRY_EEXIST (name taken on the port), FERRY_ELIMIT, FERRY_EINVAL (the loader's or
 * verifier's reason); nothing changes on failure. port NULL lists every port's. */
int ferry_switch_filter_attach(struct ferry_switch *sw, const char *port,
			       const struct ferry_filter_conf *fc, char *err, size_t errlen);
int ferry_switch_filter_detach(struct ferry_switch *sw, const char *port, const char *name,
			       char *err, size_t errlen);
int ferry_switch_filter_list(struct ferry_switch *sw, const char *port, json_t **out,
			     char *err, size_t errlen);
/* The filter instance named name on port (filter.map_set/map_get write and read its maps from
 * the control thread): 0, FERRY_ENOPORT or FERRY_ENOENT. */
struct ferry_filter;
int ferry_switch_filter_get(struct ferry_switch *sw, const char *port, const char *name,
			    struct ferry_filter **out, char *err, size_t errlen);
/* Wait until every PMD has finished the loop iteration it was in (an RCU grace period): what the
 * control thread wrote before is all a PMD can see from now on. */
void ferry_switch_quiesce(struct ferry_switch *sw);

/* Packet capture (lib/capture) on a port: capture.start/stop/list. start: the capture's stage
 * instances attached at the port's ingress (rx) and/or egress (tx), *id set; FERRY_ENOPORT,
 * FERRY_EINVAL (a bad filter: libpcap's message), FERRY_ELIMIT; cc->fd is the capture's once it
 * started (closed by it), the caller's otherwise. stop: detached (RCU), drained, its statistics
 * block written, closed; *res its final counters. poll (control loop): drain every capture, end
 * those done (COUNT written, output gone, port removed). stop_owner: every capture whose
 * conf.owner is owner (a control connection that went away). */
struct ferry_capture_conf;
int ferry_switch_capture_start(struct ferry_switch *sw, struct ferry_capture_conf *cc,
			       unsigned *id, char *err, size_t errlen);
int ferry_switch_capture_stop(struct ferry_switch *sw, unsigned id, json_t **res,
			      char *err, size_t errlen);
void ferry_switch_capture_stop_owner(struct ferry_switch *sw, const void *owner);
void ferry_switch_capture_stop_all(struct ferry_switch *sw);
void ferry_switch_capture_poll(struct ferry_switch *sw);
json_t *ferry_switch_capture_list(struct ferry_switch *sw);

/* Port mirrors (lib/mirror): mirror.add/del/list. add: the output taken out of forwarding, the
 * mirror's stages attached to its sources; *res the mirror object. FERRY_EEXIST (name taken),
 * FERRY_ENOPORT, FERRY_EINVAL (the filter: libpcap's message; a conflict with another mirror),
 * FERRY_ELIMIT; nothing changes on failure. del: FERRY_ENOENT; *res its last counters. */
struct ferry_mirror_conf;
int ferry_switch_mirror_add(struct ferry_switch *sw, const struct ferry_mirror_conf *mc,
			    json_t **res, char *err, size_t errlen);
int ferry_switch_mirror_del(struct ferry_switch *sw, const char *name, json_t **res,
			    char *err, size_t errlen);
json_t *ferry_switch_mirror_list(struct ferry_switch *sw);

/* PMDs: rx queue assignment, busy %, cycles per packet. */
json_t *ferry_switch_pmd_list(struct ferry_switch *sw);
int ferry_switch_pmd_rebalance(struct ferry_switch *sw, char *err, size_t errlen);

/* Whole switch. */
json_t *ferry_switch_info(struct ferry_switch *sw);
json_t *ferry_switch_config_get(struct ferry_switch *sw);   /* loadable as a config file */
/* The global settings ferryd was started with (its ports are not kept there). */
const struct ferry_conf *ferry_switch_conf(const struct ferry_switch *sw);

#endif
