/* port_dpdk_events.c — hot-unplug of the "dpdk" type's devices: DPDK's interrupt thread reports
 * a device gone (an ethdev INTR_RMV event, or vfio-pci's removal request as a device event) and
 * the port's switch is told (FERRY_PORT_EV_REMOVED; it drops the port on its control thread).
 * The callbacks find ports in a table of their own, guarded by a mutex never held across a wait;
 * a port leaves it before its device is closed. */
#define ALLOW_EXPERIMENTAL_API   /* rte_dev_event_callback_* are experimental in DPDK 22.11 */
#include <pthread.h>
#include <string.h>
#include <rte_dev.h>
#include "port_private.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_port *watched[FERRY_MAX_PORTS];   /* by slot; under lock */

static void
post_removed(struct ferry_port *p)
{
	p->host->post(p->host->ctx, p->idx, FERRY_PORT_EV_REMOVED, 0, 0);
}

/* A hot-unplugged device (RTE_ETH_EVENT_INTR_RMV), from DPDK's interrupt thread. */
static int
device_removed(uint16_t eth_port, enum rte_eth_event_type type, void *arg, void *ret)
{
	pthread_mutex_lock(&lock);
	for (uint16_t i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = watched[i];
		if (p != NULL && p->eth_port == eth_port)
			post_removed(p);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* A device the kernel wants back (vfio-pci's removal request on hot-unplug: DPDK reports it as
 * RTE_DEV_EVENT_REMOVE, not as an ethdev INTR_RMV event), from DPDK's interrupt thread. */
static void
device_event(const char *device_name, enum rte_dev_event_type type, void *arg)
{
	struct rte_eth_dev_info di;

	if (type != RTE_DEV_EVENT_REMOVE)
		return;
	pthread_mutex_lock(&lock);
	for (uint16_t i = 0; i < FERRY_MAX_PORTS; i++) {
		struct ferry_port *p = watched[i];
		if (p != NULL && rte_eth_dev_info_get(p->eth_port, &di) == 0 && di.device != NULL &&
		    strcmp(rte_dev_name(di.device), device_name) == 0)
			post_removed(p);
	}
	pthread_mutex_unlock(&lock);
}

/* Control thread. The callbacks are registered with the first port and stay: with no port
 * watched they find nothing. */
void
ferry_port_dpdk_watch(struct ferry_port *p)
{
	static bool registered;

	if (!registered) {
		rte_eth_dev_callback_register(RTE_ETH_ALL, RTE_ETH_EVENT_INTR_RMV, device_removed,
					      NULL);
		rte_dev_event_callback_register(NULL, device_event, NULL);
		registered = true;
	}
	pthread_mutex_lock(&lock);
	watched[p->idx] = p;
	pthread_mutex_unlock(&lock);
}

/* Harmless for a port never watched (its open failed). */
void
ferry_port_dpdk_unwatch(struct ferry_port *p)
{
	pthread_mutex_lock(&lock);
	if (watched[p->idx] == p)
		watched[p->idx] = NULL;
	pthread_mutex_unlock(&lock);
}
