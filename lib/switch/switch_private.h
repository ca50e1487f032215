/* switch_private.h — the switch object shared by the switch module's files (not a public API). */
#ifndef FERRY_SWITCH_PRIVATE_H
#define FERRY_SWITCH_PRIVATE_H

#include <pthread.h>
#include <rte_ring.h>
#include "ferry_switch.h"
#include "ferry_pmd.h"

#define FERRY_MAX_VIDS 1024   /* rte_vhost's MAX_VHOST_DEVICE */

/* Events posted by vhost callbacks and ethdev callbacks, handled on the control thread. */
enum sw_event { EV_CONNECTED = 1, EV_DISCONNECTED, EV_QUEUE, EV_DEVICE_REMOVED, EV_REFUSED, EV_REMAP };

/* A vhost-user port slot's connection, and what its zero-copy queues wait for (zeroed with the
 * switch; reset by sw_vhost_forget). */
struct sw_vconn {
	/* under the switch mutex: one guest per port (a second connection is refused) */
	uint16_t owner;                       /* vid + 1 of the connection owning the port, 0: none */
	uint32_t refused;                     /* connections refused while it was owned */
	uint32_t refused_base;                /* port.stats.clear baseline of refused */
	/* under switch_vhost_zc.c's zc lock: a new memory table is mapped off rte_vhost's locks */
	bool in_msg;                          /* between a message's pre and post hooks */
	uint32_t mem_seq;                     /* memory tables seen (and devices gone) */
	uint32_t mem_done;                    /* the one ferry's queues follow (== mem_seq: idle) */
	struct rte_vhost_memory *snap;        /* table mem_seq, fds dup'ed: to be mapped */
	struct ferry_zc_mem *mapped;          /* table mapped_seq, mapped: to be applied */
	uint32_t mapped_seq;
	bool map_failed;                      /* table mapped_seq could not be mapped */
	uint32_t deferred;                    /* guest TX rings enabled meanwhile (bit = queue) */
};

struct ferry_switch {
	struct ferry_dp dp;
	struct ferry_conf conf;               /* global settings; ports live in struct ferry_port */
	struct ferry_pmd *pmds[FERRY_MAX_PMDS];
	uint16_t rxq_pmd[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];   /* which PMD polls (port, q) */
	uint16_t gen[FERRY_MAX_PORTS];        /* slot generation, validates queued events */
	uint64_t rxq_seen[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];  /* packets at last rebalance */

	/* ports as callbacks see them (set before a device is opened, cleared before it closes) */
	pthread_mutex_t lock;
	struct ferry_port *ctl[FERRY_MAX_PORTS];
	struct ferry_port *vid_port[FERRY_MAX_VIDS];
	struct sw_vconn vconn[FERRY_MAX_PORTS];

	struct rte_ring *events;
	int event_fd;
	ferry_event_cb cb;
	void *cb_ctx;

	uint64_t start_tsc;
	uint32_t last_age_s, last_link_s;
	bool started;
};

/* switch.c */
void sw_emit(struct ferry_switch *sw, const char *event, json_t *params /* stolen */);
struct ferry_port *sw_port_by_name(struct ferry_switch *sw, const char *name);
void sw_assign_rxqs(struct ferry_switch *sw, struct ferry_port *p, uint16_t from, uint16_t to);
void sw_rebuild_polls(struct ferry_switch *sw, uint32_t pmd_mask);
struct ferry_fdb_pins;
/* Is key one of ferry_switch_settable (a field port.set changes in place)? */
bool sw_is_settable(const char *key);
int sw_pins_prepare(struct ferry_switch *sw, struct ferry_port *p, const struct ferry_vlan_conf *ov,
		    const struct ferry_port_policy *opol, const struct ferry_vlan_conf *nv,
		    const struct ferry_port_policy *npol, struct ferry_fdb_pins *t, char *err,
		    size_t errlen);

/* switch_events.c */
extern const struct rte_vhost_device_ops sw_vhost_ops;
void sw_vhost_bind(struct ferry_switch *sw);
void sw_post(struct ferry_switch *sw, enum sw_event ev, uint16_t idx, uint16_t q, int flags);
void sw_handle_events(struct ferry_switch *sw);
void sw_vhost_forget(struct ferry_switch *sw, struct ferry_port *p);
struct ferry_port *sw_port_of_vid(int vid);   /* the port a vid's callbacks act on, or NULL */
/* port.stats connections_refused: refusals since the port was added or its stats cleared */
uint32_t sw_vconn_refused(struct ferry_switch *sw, const struct ferry_port *p);
void sw_vconn_refused_clear(struct ferry_switch *sw, const struct ferry_port *p);
struct ferry_switch *sw_vhost_switch(void);   /* the switch rte_vhost's callbacks serve */

/* switch_vhost_zc.c: ferry's own dequeue of guest TX rings (vhost thread) */
struct rte_vhost_user_extern_ops;
extern const struct rte_vhost_user_extern_ops sw_zc_msg_ops;
void sw_zc_device_up(struct ferry_switch *sw, struct ferry_port *p, int vid, uint16_t nr);
/* false: a memory table is being mapped; the ring is enabled once it is (EV_QUEUE then) */
bool sw_zc_ring_up(struct ferry_switch *sw, struct ferry_port *p, int vid, uint16_t vring);
void sw_zc_ring_down(struct ferry_switch *sw, struct ferry_port *p, uint16_t vring);
void sw_zc_device_down(struct ferry_switch *sw, struct ferry_port *p);
void sw_zc_forget(struct ferry_switch *sw, uint16_t idx);
void sw_zc_remap_pending(struct ferry_switch *sw);   /* control thread: map, apply new tables */

/* switch_zc.c */
void sw_zc_port_join(struct ferry_switch *sw, struct ferry_port *p);
void sw_zc_port_leave(struct ferry_port *p);
void sw_zc_drain(unsigned wait_ms);
void sw_zc_stats_clear(struct ferry_port *p);
json_t *sw_zc_stats_json(const struct ferry_port *p);

/* switch_filter.c: a new port's "filters", attached before it is visible. 0 or FERRY_E*. */
int sw_filters_open(struct ferry_port *p, char *err, size_t errlen);

/* switch_json.c */
json_t *sw_port_stats_json(struct ferry_switch *sw, struct ferry_port *p);

#endif
