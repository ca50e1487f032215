/* port_vhost_conn.c — rte_vhost's device callbacks for the vhostuser type: the one guest a port
 * serves (a second connection is refused), its device starting and stopping, its rings enabled
 * and disabled; each reported to the port's switch as an event (ferry_port_host.post).
 *
 * Locking rules (DPDK 22.11 lib/vhost): vring_state_changed runs while the vhost library holds every
 * virtqueue's access_lock, which a PMD may be spinning on inside rte_vhost_enqueue_burst — so it only
 * flips bits and posts an event, it never waits. new_device/destroy_device/new_connection/
 * destroy_connection run without those locks: destroy_device may wait for an RCU grace period so no
 * PMD still uses the device when rte_vhost tears it down. vhost_lock only guards the path -> port
 * and vid -> port maps and the connection owners, and is never held across a call that waits. */
#include <stdio.h>
#include <string.h>
#include "port_vhost.h"

static pthread_mutex_t vhost_lock = PTHREAD_MUTEX_INITIALIZER;
struct ferry_port *ferry_vhost_ports[FERRY_MAX_PORTS];
struct ferry_vhost_conn ferry_vhost_conns[FERRY_MAX_PORTS];
static struct ferry_port *vid_port[FERRY_MAX_VIDS];   /* written under vhost_lock */

struct ferry_port *
ferry_vhost_port_of_vid(int vid)
{
	if (vid < 0 || vid >= FERRY_MAX_VIDS)
		return NULL;
	return __atomic_load_n(&vid_port[vid], __ATOMIC_ACQUIRE);
}

static struct ferry_port *
port_of_path(const char *path)
{
	for (int i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = ferry_vhost_ports[i];
		if (p != NULL && strcmp(p->conf.path, path) == 0)
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
	struct ferry_vhost_conn *vc = NULL;
	int owner = -1;

	if (vid < 0 || vid >= FERRY_MAX_VIDS ||
	    rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return -1;
	pthread_mutex_lock(&vhost_lock);
	p = port_of_path(path);
	if (p != NULL) {
		vc = &ferry_vhost_conns[p->idx];
		if (vc->owner != 0) {
			owner = vc->owner - 1;
			vc->refused++;
			ferry_vhost_post(p, FERRY_PORT_EV_REFUSED, 0, 0);
		} else {
			vc->owner = (uint16_t)(vid + 1);
			__atomic_store_n(&vid_port[vid], p, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&vhost_lock);
	if (p == NULL) {
		FERRY_LOG(WARNING, "vhost-user connection on %s matches no port: refused", path);
		return -1;
	}
	if (owner >= 0) {
		FERRY_LOG(WARNING, "port %s: second vhost-user connection (vid %d) refused: the port's "
			  "guest (vid %d) is still connected", p->conf.name, vid, owner);
		return -1;
	}
	if (rte_vhost_extern_callback_register(vid, &ferry_vhost_msg_ops, NULL) != 0)
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
	pthread_mutex_lock(&vhost_lock);
	p = ferry_vhost_port_of_vid(vid);
	if (p != NULL && ferry_vhost_conns[p->idx].owner == vid + 1) {
		ferry_vhost_conns[p->idx].owner = 0;
		__atomic_store_n(&vid_port[vid], NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&p->vq_rx_on, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->vq_tx_on, 0, __ATOMIC_RELEASE);
		ferry_vhost_post(p, FERRY_PORT_EV_DISCONNECTED, 0, 0);
	}
	pthread_mutex_unlock(&vhost_lock);
}

static int
new_device(int vid)
{
	struct ferry_port *p;
	int node = rte_vhost_get_numa_node(vid);
	uint16_t nr = rte_vhost_get_vring_num(vid);

	pthread_mutex_lock(&vhost_lock);
	p = ferry_vhost_port_of_vid(vid);
	if (p != NULL) {
		p->socket = node < 0 || node >= RTE_MAX_NUMA_NODES ? 0 : node;
		p->pool = p->host->pools[p->socket];
		p->pool_big = ferry_vhost_big_pool(p->socket);
		/* PMDs poll: tell the guest it need not kick us */
		for (uint16_t i = 0; i < nr; i++)
			rte_vhost_enable_guest_notification(vid, i, 0);
		uint64_t f = 0;
		rte_vhost_get_negotiated_features(vid, &f);
		__atomic_store_n(&p->vnet_features, f, __ATOMIC_RELAXED);
		__atomic_store_n(&p->tx_ol, (uint8_t)ferry_ol_guest_caps(f), __ATOMIC_RELAXED);
		ferry_vhost_zc_device_up(p, vid, nr);
		__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
		ferry_vhost_post(p, FERRY_PORT_EV_CONNECTED, nr / 2, 0);
	}
	pthread_mutex_unlock(&vhost_lock);
	return p == NULL ? -1 : 0;
}

static void
destroy_device(int vid)
{
	struct ferry_port *p;

	pthread_mutex_lock(&vhost_lock);
	p = ferry_vhost_port_of_vid(vid);
	if (p != NULL && __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid)
		__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	else
		p = NULL;   /* its device never ran (or is already down) */
	pthread_mutex_unlock(&vhost_lock);
	if (p == NULL)
		return;
	/* rte_vhost unmaps guest memory when we return: wait until no PMD is inside a burst on it */
	p->host->quiesce(p->host->ctx);
	/* our own queues: every descriptor back to the guest, rte_vhost's ring indexes in sync */
	ferry_vhost_zc_device_down(p);
	ferry_vhost_post(p, FERRY_PORT_EV_DISCONNECTED, 0, 1);
}

static int
vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct ferry_port *p = ferry_vhost_port_of_vid(vid);
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
	/* a guest TX ring ferry may read, or a guest RX ring ferry may write */
	if (((vring & 1) || p->rx_state == FERRY_ZC_ACTIVE) &&
	    __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid) {
		if (!enable)
			ferry_vhost_zc_ring_down(p, vring);
		else if (!ferry_vhost_zc_ring_up(p, vid, vring))
			return 0;   /* enabled (and announced) once the new memory table is mapped */
	}
	if (enable)
		__atomic_or_fetch(mask, UINT32_C(1) << q, __ATOMIC_RELEASE);
	else
		__atomic_and_fetch(mask, ~(UINT32_C(1) << q), __ATOMIC_RELEASE);
	ferry_vhost_post(p, FERRY_PORT_EV_QUEUE, q, (enable ? 1 : 0) | ((vring & 1) ? 2 : 0));
	return 0;
}

const struct rte_vhost_device_ops ferry_vhost_device_ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

/* Before the socket starts: callbacks find the port by its path from now on. */
void
ferry_vhost_attach(struct ferry_port *p)
{
	pthread_mutex_lock(&vhost_lock);
	ferry_vhost_ports[p->idx] = p;
	pthread_mutex_unlock(&vhost_lock);
}

/* The port is leaving: callbacks must not find it any more. */
void
ferry_vhost_forget(struct ferry_port *p)
{
	pthread_mutex_lock(&vhost_lock);
	ferry_vhost_ports[p->idx] = NULL;
	ferry_vhost_conns[p->idx].owner = 0;
	ferry_vhost_conns[p->idx].refused = 0;
	ferry_vhost_conns[p->idx].refused_base = 0;
	for (int v = 0; v < FERRY_MAX_VIDS; v++)
		if (vid_port[v] == p)
			__atomic_store_n(&vid_port[v], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vhost_lock);
	ferry_vhost_zc_forget(p->idx);
	ferry_zc_guard_forget_state(&p->zc_state);   /* its connections' mappings (unregister) */
}

uint32_t
ferry_vhost_refused_since_clear(const struct ferry_port *p)
{
	uint32_t n;

	pthread_mutex_lock(&vhost_lock);
	n = ferry_vhost_conns[p->idx].refused - ferry_vhost_conns[p->idx].refused_base;
	pthread_mutex_unlock(&vhost_lock);
	return n;
}

void
ferry_vhost_refused_clear(struct ferry_port *p)
{
	pthread_mutex_lock(&vhost_lock);
	ferry_vhost_conns[p->idx].refused_base = ferry_vhost_conns[p->idx].refused;
	pthread_mutex_unlock(&vhost_lock);
}

/* port.connection_refused's count (on_refused in lib/switch). */
uint32_t
ferry_port_vhost_refused(const struct ferry_port *p)
{
	uint32_t n;

	pthread_mutex_lock(&vhost_lock);
	n = ferry_vhost_conns[p->idx].refused;
	pthread_mutex_unlock(&vhost_lock);
	return n;
}

