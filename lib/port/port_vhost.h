/* port_vhost.h — what the "vhostuser" type's files share (not a public API): the socket
 * (port_vhost.c), rte_vhost's device callbacks and the one guest a port serves
 * (port_vhost_conn.c), ferry's own dequeue of guest TX rings (port_vhost_zc.c: rings, messages;
 * port_vhost_remap.c: memory tables mapped off rte_vhost's locks) and its counters
 * (port_vhost_stats.c). The locking rules are at the top of port_vhost_conn.c and
 * port_vhost_zc.c. */
#ifndef FERRY_VHOST_PRIVATE_H
#define FERRY_VHOST_PRIVATE_H

#include <pthread.h>
#include <rte_vhost.h>
#include "port_private.h"

#define FERRY_MAX_VIDS 1024   /* rte_vhost's MAX_VHOST_DEVICE */

/* A vhost-user port slot's connection, and what its zero-copy queues wait for (zeroed at start;
 * reset when the port leaves, ferry_vhost_forget). */
struct ferry_vhost_conn {
	/* under vhost_lock (port_vhost_conn.c): one guest per port (a second connection is refused) */
	uint16_t owner;                       /* vid + 1 of the connection owning the port, 0: none */
	uint32_t refused;                     /* connections refused while it was owned */
	uint32_t refused_base;                /* port.stats.clear baseline of refused */
	/* under ferry_vhost_zc_lock: a new memory table is mapped off rte_vhost's locks */
	bool in_msg;                          /* between a message's pre and post hooks */
	uint32_t mem_seq;                     /* memory tables seen (and devices gone) */
	uint32_t mem_done;                    /* the one ferry's queues follow (== mem_seq: idle) */
	struct rte_vhost_memory *snap;        /* table mem_seq, fds dup'ed: to be mapped */
	struct ferry_zc_mem *mapped;          /* table mapped_seq, mapped: to be applied */
	uint32_t mapped_seq;
	bool map_failed;                      /* table mapped_seq could not be mapped */
	uint32_t deferred;                    /* guest TX rings enabled meanwhile (bit = queue) */
	uint32_t deferred_rx;                 /* ... and guest RX rings (ferry's own enqueue) */
};

/* port_vhost_conn.c */
extern struct ferry_vhost_conn ferry_vhost_conns[FERRY_MAX_PORTS];   /* by slot */
/* The open vhost ports by slot: set before the socket starts, cleared when the port leaves; only
 * the control thread changes it (under vhost_lock). */
extern struct ferry_port *ferry_vhost_ports[FERRY_MAX_PORTS];
extern const struct rte_vhost_device_ops ferry_vhost_device_ops;
void ferry_vhost_attach(struct ferry_port *p);   /* callbacks find it from now on */
void ferry_vhost_forget(struct ferry_port *p);   /* the port is leaving: they no longer do */
struct ferry_port *ferry_vhost_port_of_vid(int vid);   /* the port a vid's callbacks act on */
/* port_vhost.c: a guest's VHOST_USER_NET_SET_MTU, false: refused (above the port's mtu) */
bool ferry_vhost_mtu_msg_ok(int vid, uint64_t mtu);
/* NUMA node's pool of 64 KB mbufs for rte_vhost's dequeue from TSO guests (NULL: none). */
struct rte_mempool *ferry_vhost_big_pool(int socket);
uint32_t ferry_vhost_refused_since_clear(const struct ferry_port *p);
void ferry_vhost_refused_clear(struct ferry_port *p);

static inline void
ferry_vhost_post(struct ferry_port *p, enum ferry_port_event ev, uint16_t q, int flags)
{
	p->host->post(p->host->ctx, p->idx, ev, q, flags);
}

/* port_vhost_zc.c: ferry's own dequeue of guest TX rings (vhost thread) */
extern pthread_mutex_t ferry_vhost_zc_lock;
extern const struct rte_vhost_user_extern_ops ferry_vhost_msg_ops;
void ferry_vhost_zc_device_up(struct ferry_port *p, int vid, uint16_t nr);
/* false: a memory table is being mapped; the ring is enabled once it is (FERRY_PORT_EV_QUEUE then) */
bool ferry_vhost_zc_ring_up(struct ferry_port *p, int vid, uint16_t vring);
void ferry_vhost_zc_ring_down(struct ferry_port *p, uint16_t vring);
void ferry_vhost_zc_device_down(struct ferry_port *p);
void ferry_vhost_zc_forget(uint16_t idx);
void ferry_vhost_zc_queue_up(struct ferry_port *p, int vid, uint16_t vring);
void ferry_vhost_zc_hold(struct ferry_port *p, bool on);

/* Does ferry map this guest's memory: its own dequeue or its own enqueue reads its rings. */
static inline bool
ferry_vhost_maps(const struct ferry_port *p)
{
	return p->zc_state == FERRY_ZC_ACTIVE || p->rx_state == FERRY_ZC_ACTIVE;
}

/* port_vhost_remap.c: a new memory table, mapped off rte_vhost's locks (ferry_vhost_zc_lock) */
static inline bool
ferry_vhost_remap_pending(const struct ferry_vhost_conn *vc)
{
	return vc->mem_seq != vc->mem_done;
}
void ferry_vhost_remap_request(struct ferry_port *p, int vid);
void ferry_vhost_remap_cancel(struct ferry_vhost_conn *vc);
void ferry_vhost_remap_poll(void);   /* control thread: map, apply new tables */

/* port_vhost_stats.c */
void ferry_vhost_stats(const struct ferry_port *p, json_t *o);
void ferry_vhost_stats_clear(struct ferry_port *p);

#endif
