/* switch_events.c — rte_vhost and ethdev callbacks, and the event queue that carries them to the
 * control thread.
 *
 * Locking rules (DPDK 22.11 lib/vhost): vring_state_changed runs while the vhost library holds every
 * virtqueue's access_lock, which a PMD may be spinning on inside rte_vhost_enqueue_burst — so it only
 * flips bits and posts an event, it never waits. new_device/destroy_device/new_connection/
 * destroy_connection run without those locks: destroy_device may wait for an RCU grace period so no
 * PMD still uses the device when rte_vhost tears it down. The switch mutex only guards the
 * vid -> port map and is never held across a call that waits. */
#define ALLOW_EXPERIMENTAL_API   /* rte_dev_event_callback_* are experimental in DPDK 22.11 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_vhost.h>
#include "switch_private.h"

static struct ferry_switch *vsw;   /* rte_vhost callbacks carry no context: one switch per process */

/* A hot-unplugged device (RTE_ETH_EVENT_INTR_RMV), from DPDK's interrupt thread. */
static int
device_removed(uint16_t eth_port, enum rte_eth_event_type type, void *arg, void *ret)
{
	struct ferry_switch *sw = arg;

	pthread_mutex_lock(&sw->lock);
	for (uint16_t i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = sw->ctl[i];
		if (p != NULL && p->type == FERRY_PORT_DPDK && p->eth_port == eth_port)
			sw_post(sw, EV_DEVICE_REMOVED, i, 0, 0);
	}
	pthread_mutex_unlock(&sw->lock);
	return 0;
}

/* A device the kernel wants back (vfio-pci's removal request on hot-unplug: DPDK reports it as
 * RTE_DEV_EVENT_REMOVE, not as an ethdev INTR_RMV event), from DPDK's interrupt thread. */
static void
device_event(const char *device_name, enum rte_dev_event_type type, void *arg)
{
	struct ferry_switch *sw = arg;
	struct rte_eth_dev_info di;

	if (type != RTE_DEV_EVENT_REMOVE)
		return;
	pthread_mutex_lock(&sw->lock);
	for (uint16_t i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = sw->ctl[i];
		if (p != NULL && p->type == FERRY_PORT_DPDK &&
		    rte_eth_dev_info_get(p->eth_port, &di) == 0 && di.device != NULL &&
		    strcmp(rte_dev_name(di.device), device_name) == 0)
			sw_post(sw, EV_DEVICE_REMOVED, i, 0, 0);
	}
	pthread_mutex_unlock(&sw->lock);
}

void
sw_vhost_bind(struct ferry_switch *sw)
{
	if (sw != NULL) {
		rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_RMV, device_removed, sw);
		rte_dev_event_callback_register(NULL, device_event, sw);
	} else if (vsw != NULL) {
		rte_eth_dev_callback_unregister(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_RMV, device_removed,
						vsw);
		rte_dev_event_callback_unregister(NULL, device_event, vsw);
	}
	vsw = sw;
}

/* event word: type 8 | idx 16 | q 8 | flags 8 | gen 16 */
void
sw_post(struct ferry_switch *sw, enum sw_event ev, uint16_t idx, uint16_t q, int flags)
{
	uintptr_t w = (uintptr_t)ev | (uintptr_t)idx << 8 | (uintptr_t)(q & 0xff) << 24 |
		      (uintptr_t)(flags & 0xff) << 32 | (uintptr_t)sw->gen[idx] << 40;
	uint64_t one = 1;

	if (rte_ring_mp_enqueue(sw->events, (void *)w) != 0)
		FERRY_LOG(WARNING, "event queue full: an event of port slot %u was lost", idx);
	if (write(sw->event_fd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the control thread will wake anyway */
	}
}

struct ferry_switch *
sw_vhost_switch(void)
{
	return vsw;
}

struct ferry_port *
sw_port_of_vid(int vid)
{
	if (vsw == NULL || vid < 0 || vid >= FERRY_MAX_VIDS)
		return NULL;
	return __atomic_load_n(&vsw->vid_port[vid], __ATOMIC_ACQUIRE);
}

static struct ferry_port *
port_of_path(struct ferry_switch *sw, const char *path)
{
	for (int i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = sw->ctl[i];
		if (p != NULL && p->type == FERRY_PORT_VHOST && strcmp(p->conf.path, path) == 0)
			return p;
	}
	return NULL;
}

/* rte_vhost's server socket accepts any number of connections, each a vid of its own; a port
 * serves one guest. A second connection while one owns the port is refused (returning -1 makes
 * rte_vhost close it, without a destroy_connection): it can neither take the port over nor, by
 * leaving, tear down the guest that owns it. The owner is kept per port slot, so it holds from
 * the first connection's new_connection to its destroy_connection (or the port's deletion),
 * whatever order rte_vhost's threads (the fdset thread, client mode's reconnect thread) run in. */
static int
new_connection(int vid)
{
	char path[FERRY_PATH_MAX];
	struct ferry_port *p;
	struct sw_vconn *vc = NULL;
	int owner = -1;

	if (vsw == NULL || vid < 0 || vid >= FERRY_MAX_VIDS ||
	    rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return -1;
	pthread_mutex_lock(&vsw->lock);
	p = port_of_path(vsw, path);
	if (p != NULL) {
		vc = &vsw->vconn[p->idx];
		if (vc->owner != 0) {
			owner = vc->owner - 1;
			vc->refused++;
			sw_post(vsw, EV_REFUSED, p->idx, 0, 0);
		} else {
			vc->owner = (uint16_t)(vid + 1);
			__atomic_store_n(&vsw->vid_port[vid], p, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&vsw->lock);
	if (p == NULL) {
		FERRY_LOG(WARNING, "vhost-user connection on %s matches no port: refused", path);
		return -1;
	}
	if (owner >= 0) {
		FERRY_LOG(WARNING, "port %s: second vhost-user connection (vid %d) refused: the port's "
			  "guest (vid %d) is still connected", p->conf.name, vid, owner);
		return -1;
	}
	if (rte_vhost_extern_callback_register(vid, &sw_zc_msg_ops, NULL) != 0)
		FERRY_LOG(WARNING, "vhost-user %s: no message hook: zero-copy will not follow guest "
			  "memory hot-plug or live migration", path);
	return 0;
}

/* The connection is closed (after destroy_device if its device ran). Only the owner's counts. */
static void
destroy_connection(int vid)
{
	struct ferry_port *p;

	ferry_zc_guard_forget(vid);   /* rte_vhost unmaps its copy of guest memory next */
	pthread_mutex_lock(&vsw->lock);
	p = sw_port_of_vid(vid);
	if (p != NULL && vsw->vconn[p->idx].owner == vid + 1) {
		vsw->vconn[p->idx].owner = 0;
		__atomic_store_n(&vsw->vid_port[vid], NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&p->vq_rx_on, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->vq_tx_on, 0, __ATOMIC_RELEASE);
		sw_post(vsw, EV_DISCONNECTED, p->idx, 0, 0);
	}
	pthread_mutex_unlock(&vsw->lock);
}

static int
new_device(int vid)
{
	struct ferry_port *p;
	int node = rte_vhost_get_numa_node(vid);
	uint16_t nr = rte_vhost_get_vring_num(vid);

	pthread_mutex_lock(&vsw->lock);
	p = sw_port_of_vid(vid);
	if (p != NULL) {
		p->socket = node < 0 || node >= RTE_MAX_NUMA_NODES ? 0 : node;
		p->pool = vsw->dp.pools[p->socket];
		/* PMDs poll: tell the guest it need not kick us */
		for (uint16_t i = 0; i < nr; i++)
			rte_vhost_enable_guest_notification(vid, i, 0);
		sw_zc_device_up(vsw, p, vid, nr);
		__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
		sw_post(vsw, EV_CONNECTED, p->idx, nr / 2, 0);
	}
	pthread_mutex_unlock(&vsw->lock);
	return p == NULL ? -1 : 0;
}

static void
destroy_device(int vid)
{
	struct ferry_port *p;

	pthread_mutex_lock(&vsw->lock);
	p = sw_port_of_vid(vid);
	if (p != NULL && __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid)
		__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	else
		p = NULL;   /* its device never ran (or is already down) */
	pthread_mutex_unlock(&vsw->lock);
	if (p == NULL)
		return;
	/* rte_vhost unmaps guest memory when we return: wait until no PMD is inside a burst on it */
	rte_rcu_qsbr_synchronize(vsw->dp.qsv, RTE_QSBR_THRID_INVALID);
	/* our own queues: every descriptor back to the guest, rte_vhost's ring indexes in sync */
	sw_zc_device_down(vsw, p);
	sw_post(vsw, EV_DISCONNECTED, p->idx, 0, 1);
}

static int
vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct ferry_port *p = sw_port_of_vid(vid);
	uint16_t q = vring / 2;
	uint32_t *mask;

	if (p == NULL)
		return 0;
	if (q >= FERRY_MAX_QUEUES) {
		FERRY_LOG(WARNING, "port %s: guest queue pair %u is beyond ferry's %d and stays unused",
			  p->conf.name, q, FERRY_MAX_QUEUES);
		return 0;
	}
	mask = (vring & 1) ? &p->vq_rx_on : &p->vq_tx_on;   /* odd: guest TX = our rx */
	if ((vring & 1) && __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid) {
		if (!enable)
			sw_zc_ring_down(vsw, p, vring);
		else if (!sw_zc_ring_up(vsw, p, vid, vring))
			return 0;   /* enabled (and announced) once the new memory table is mapped */
	}
	if (enable)
		__atomic_or_fetch(mask, UINT32_C(1) << q, __ATOMIC_RELEASE);
	else
		__atomic_and_fetch(mask, ~(UINT32_C(1) << q), __ATOMIC_RELEASE);
	sw_post(vsw, EV_QUEUE, p->idx, q, (enable ? 1 : 0) | ((vring & 1) ? 2 : 0));
	return 0;
}

const struct rte_vhost_device_ops sw_vhost_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

/* The port is leaving: callbacks must not find it any more. */
void
sw_vhost_forget(struct ferry_switch *sw, struct ferry_port *p)
{
	pthread_mutex_lock(&sw->lock);
	sw->ctl[p->idx] = NULL;
	sw->vconn[p->idx].owner = 0;
	sw->vconn[p->idx].refused = 0;
	sw->vconn[p->idx].refused_base = 0;
	for (int v = 0; v < FERRY_MAX_VIDS; v++)
		if (sw->vid_port[v] == p)
			__atomic_store_n(&sw->vid_port[v], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sw->lock);
	sw_zc_forget(sw, p->idx);
	ferry_zc_guard_forget_state(&p->zc_state);   /* its connections' mappings (unregister) */
}

uint32_t
sw_vconn_refused(struct ferry_switch *sw, const struct ferry_port *p)
{
	uint32_t n;

	pthread_mutex_lock(&sw->lock);
	n = sw->vconn[p->idx].refused - sw->vconn[p->idx].refused_base;
	pthread_mutex_unlock(&sw->lock);
	return n;
}

void
sw_vconn_refused_clear(struct ferry_switch *sw, const struct ferry_port *p)
{
	pthread_mutex_lock(&sw->lock);
	sw->vconn[p->idx].refused_base = sw->vconn[p->idx].refused;
	pthread_mutex_unlock(&sw->lock);
}

/* --- control thread side --- */

static void
on_queue(struct ferry_switch *sw, struct ferry_port *p, uint16_t q, int flags)
{
	bool enable = flags & 1, rx = flags & 2;

	if (enable && rx && q >= p->n_rxq)
		sw_assign_rxqs(sw, p, p->n_rxq, (uint16_t)(q + 1));
	FERRY_LOG(DEBUG, "port %s: guest %s queue %u %s", p->conf.name, rx ? "tx" : "rx", q,
		  enable ? "enabled" : "disabled");
	sw_emit(sw, "port.queue", json_pack("{s:s, s:i, s:s, s:b}", "name", p->conf.name,
					   "queue", q, "direction", rx ? "rx" : "tx",
					   "enabled", enable));
}

static void
on_link(struct ferry_switch *sw, struct ferry_port *p, bool up)
{
	if (p->link_up == up)
		return;
	p->link_up = up;
	FERRY_LOG(INFO, "port %s: guest %s", p->conf.name, up ? "connected" : "disconnected");
	sw_emit(sw, "port.link", json_pack("{s:s, s:s}", "name", p->conf.name,
					   "state", up ? "up" : "down"));
}

static void
on_removed(struct ferry_switch *sw, struct ferry_port *p)
{
	char name[FERRY_NAME_MAX], err[256];

	snprintf(name, sizeof(name), "%s", p->conf.name);
	FERRY_LOG(WARNING, "port %s: device removed; dropping the port", name);
	if (ferry_switch_port_del(sw, name, err, sizeof(err)) == 0)
		sw_emit(sw, "port.removed", json_pack("{s:s}", "name", name));
}

static void
on_refused(struct ferry_switch *sw, struct ferry_port *p)
{
	uint32_t n;

	pthread_mutex_lock(&sw->lock);
	n = sw->vconn[p->idx].refused;
	pthread_mutex_unlock(&sw->lock);
	sw_emit(sw, "port.connection_refused", json_pack("{s:s, s:s, s:i}", "name", p->conf.name,
							 "reason", "port has a guest", "refused",
							 (int)n));
}

void
sw_handle_events(struct ferry_switch *sw)
{
	uint64_t cnt;
	void *obj;

	if (read(sw->event_fd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled; the ring is drained anyway */
	}
	/* guests' new memory tables, whether an EV_REMAP woke us or not (one may have been lost) */
	sw_zc_remap_pending(sw);
	while (rte_ring_sc_dequeue(sw->events, &obj) == 0) {
		uintptr_t w = (uintptr_t)obj;
		uint16_t idx = (w >> 8) & 0xffff, q = (w >> 24) & 0xff, gen = (w >> 40) & 0xffff;
		int flags = (w >> 32) & 0xff;
		struct ferry_port *p = idx < FERRY_MAX_PORTS ? sw->dp.ports[idx] : NULL;
		if (p == NULL || sw->gen[idx] != gen)
			continue;   /* the port went away meanwhile */
		switch ((enum sw_event)(w & 0xff)) {
		case EV_CONNECTED:
			on_link(sw, p, true);
			break;
		case EV_DISCONNECTED:
			on_link(sw, p, false);
			break;
		case EV_QUEUE:
			on_queue(sw, p, q, flags);
			break;
		case EV_DEVICE_REMOVED:
			on_removed(sw, p);
			break;
		case EV_REFUSED:
			on_refused(sw, p);
			break;
		case EV_REMAP:
			break;   /* a wake-up: sw_zc_remap_pending ran above */
		}
	}
}
