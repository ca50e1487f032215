/* port_vhost_remap.c — a guest's new memory table (SET_MEM_TABLE, memory hot-plug; the first one
 * when its device starts), mapped by the control thread off rte_vhost's locks, then applied to
 * ferry's own queues of the guest's TX rings. The rules are at the top of port_vhost_zc.c: the
 * vhost thread only records the table (a copy, fds of ferry's own, a sequence number) and holds
 * the queues; the control thread maps it with no lock held, then, under zc_lock and only while
 * no message of that device is being handled, moves the queues over and releases them. A later
 * table, the device going down or the port leaving bump the sequence: stale work is dropped. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "port_vhost.h"

static void
snap_free(struct rte_vhost_memory *vm)
{
	if (vm == NULL)
		return;
	for (uint32_t i = 0; i < vm->nregions; i++)
		if (vm->regions[i].fd >= 0)
			close(vm->regions[i].fd);
	free(vm);
}

/* rte_vhost's current table with fds of ferry's own: mappable on another thread whatever rte_vhost
 * does meanwhile (it closes its fds with the next table; a reused fd number must not be mapped). */
static struct rte_vhost_memory *
snap_take(int vid)
{
	struct rte_vhost_memory *vm = NULL;
	bool ok = true;

	if (rte_vhost_get_mem_table(vid, &vm) != 0 || vm == NULL)
		return NULL;
	for (uint32_t i = 0; i < vm->nregions; i++) {
		vm->regions[i].fd = fcntl(vm->regions[i].fd, F_DUPFD_CLOEXEC, 0);
		ok = ok && vm->regions[i].fd >= 0;
	}
	if (!ok) {
		snap_free(vm);
		return NULL;
	}
	return vm;
}

/* Forget pending work of slot vc (zc_lock): its guest left, or a newer table supersedes it. */
void
ferry_vhost_remap_cancel(struct ferry_vhost_conn *vc)
{
	snap_free(vc->snap);
	vc->snap = NULL;
	if (vc->mapped != NULL)
		ferry_zc_mem_put(vc->mapped);
	vc->mapped = NULL;
	vc->deferred = 0;
	vc->deferred_rx = 0;
	vc->in_msg = false;
	__atomic_store_n(&vc->mem_seq, vc->mem_seq + 1, __ATOMIC_RELEASE);
	vc->mapped_seq = vc->mem_seq;
	__atomic_store_n(&vc->mem_done, vc->mem_seq, __ATOMIC_RELEASE);
}

/* The guest's table changed (vhost thread, zc_lock, ring locks held): record it, keep the queues
 * held until the control thread has mapped it. Only syscalls: a copy and a dup per region. */
void
ferry_vhost_remap_request(struct ferry_port *p, int vid)
{
	struct ferry_vhost_conn *vc = &ferry_vhost_conns[p->idx];

	snap_free(vc->snap);
	vc->snap = snap_take(vid);   /* NULL: counted as a table that cannot be mapped */
	__atomic_store_n(&vc->mem_seq, vc->mem_seq + 1, __ATOMIC_RELEASE);
	ferry_vhost_zc_hold(p, true);   /* SET_MEM_TABLE's pre hook did already; a ring enable did not */
}

/* Control thread, zc_lock, no message of the device in progress: move every queue to the mapped
 * table, bring up the rings enabled meanwhile, release the queues. */
static void
remap_apply(struct ferry_port *p, struct ferry_vhost_conn *vc)
{
	struct ferry_zc_mem *m = vc->mapped;
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);

	vc->mapped = NULL;
	__atomic_store_n(&vc->mem_done, vc->mapped_seq, __ATOMIC_RELEASE);
	if (m == NULL && p->zc_mem == NULL) {
		/* rte_vhost's dequeue and enqueue read the rings */
		if (p->zc_state == FERRY_ZC_ACTIVE)
			p->zc_state = FERRY_ZC_NO_MEM;
		if (p->rx_state == FERRY_ZC_ACTIVE)
			p->rx_state = FERRY_ZC_NO_MEM;
		FERRY_LOG(WARNING, "port %s: zero-copy off: guest memory cannot be mapped", p->conf.name);
	} else if (m == NULL) {
		FERRY_LOG(ERR, "port %s: guest memory changed and cannot be mapped: its queues keep "
			  "the old table until it reconnects", p->conf.name);
	} else if (p->zc_mem == NULL) {
		p->zc_mem = m;
		FERRY_LOG(INFO, "port %s: guest memory mapped", p->conf.name);
	} else {
		for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++)
			if (p->zcq[q] != NULL && ferry_zcq_remap(p->zcq[q], m) != 0)
				FERRY_LOG(ERR, "port %s: queue %u: ring not in the new guest memory",
					  p->conf.name, q);
		for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++)
			if (p->rxq[q] != NULL && ferry_rxq_remap(p->rxq[q], m) != 0)
				FERRY_LOG(ERR, "port %s: guest RX ring %u: not in the new guest memory",
					  p->conf.name, q);
		ferry_zc_mem_put(p->zc_mem);
		p->zc_mem = m;
		FERRY_LOG(INFO, "port %s: guest memory table changed: remapped", p->conf.name);
	}
	ferry_vhost_zc_hold(p, false);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (!(vc->deferred & (UINT32_C(1) << q)))
			continue;
		ferry_vhost_zc_queue_up(p, vid, (uint16_t)(2 * q + 1));
		__atomic_or_fetch(&p->vq_rx_on, UINT32_C(1) << q, __ATOMIC_RELEASE);
		ferry_vhost_post(p, FERRY_PORT_EV_QUEUE, q, 1 | 2);
	}
	vc->deferred = 0;
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (!(vc->deferred_rx & (UINT32_C(1) << q)))
			continue;
		ferry_vhost_zc_queue_up(p, vid, (uint16_t)(2 * q));
		__atomic_or_fetch(&p->vq_tx_on, UINT32_C(1) << q, __ATOMIC_RELEASE);
		ferry_vhost_post(p, FERRY_PORT_EV_QUEUE, q, 1);
	}
	vc->deferred_rx = 0;
}

/* Control thread: map slot idx's newest table (no lock held: mmap, IOMMU), apply it if the device
 * is quiet (else the post hook of the message in progress wakes us again). */
static void
remap_one(uint16_t idx)
{
	struct ferry_vhost_conn *vc = &ferry_vhost_conns[idx];
	struct ferry_port *p = ferry_vhost_ports[idx];   /* only the control thread changes it */
	struct ferry_zc_mem *m = NULL;
	struct rte_vhost_memory *vm;
	char err[128] = "no copy of the guest's memory table";
	uint32_t seq;

	pthread_mutex_lock(&ferry_vhost_zc_lock);
	vm = vc->snap;
	vc->snap = NULL;
	seq = vc->mem_seq;
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	if (vm != NULL) {
		m = ferry_zc_mem_create_table(vm, err, sizeof(err));
		snap_free(vm);
	}
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	if (seq == vc->mem_seq && vc->mapped_seq != seq) {
		if (m == NULL && p != NULL)
			FERRY_LOG(ERR, "port %s: new guest memory table: %s", p->conf.name, err);
		vc->mapped = m;
		vc->mapped_seq = seq;
		m = NULL;
	}
	if (p != NULL && ferry_vhost_remap_pending(vc) && vc->mapped_seq == vc->mem_seq &&
	    !vc->in_msg &&
	    __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) >= 0 && ferry_vhost_maps(p))
		remap_apply(p, vc);
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	if (m != NULL)
		ferry_zc_mem_put(m);   /* superseded meanwhile */
}

void
ferry_vhost_remap_poll(void)
{
	for (uint16_t i = 0; i < FERRY_MAX_PORTS; i++)
		if (__atomic_load_n(&ferry_vhost_conns[i].mem_seq, __ATOMIC_ACQUIRE) !=
		    __atomic_load_n(&ferry_vhost_conns[i].mem_done, __ATOMIC_ACQUIRE))
			remap_one(i);
}

