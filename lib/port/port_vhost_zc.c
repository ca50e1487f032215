/* port_vhost_zc.c — the vhostuser type's side of ferry's own dequeue (lib/zc): taking a guest's TX
 * rings when its device starts or a ring is enabled, following the vhost-user messages that
 * change what those rings depend on (memory table, dirty log, ring addresses), and stopping every
 * queue when the device goes. port_vhost_conn.c's rte_vhost callbacks call these, and its locking
 * rules apply; new memory tables are mapped in port_vhost_remap.c.
 *
 * Nothing slow runs under rte_vhost's ring locks (issue #21 item 7): rte_vhost holds every
 * access_lock of a device while it calls the message hooks and vring_state_changed, and a PMD
 * enqueueing to that guest spins on them, stalling every port it polls. A new memory table
 * (SET_MEM_TABLE) is therefore only recorded there — a copy of the table with fds of ferry's own,
 * a sequence number — and the device's queues stay held (PMDs skip them, they never wait); the
 * control thread maps it (mmap, IOMMU) with no lock held, then, under zc_lock and only while no
 * message of that device is being handled, moves the queues over and releases them. A later table,
 * the device going down or the port leaving bump the sequence: stale work is dropped. The first
 * table, when the device starts, goes the same way (new_device runs on rte_vhost's only message
 * thread, which serves every socket): the guest's TX rings are read by neither dequeue until it
 * is mapped.
 *
 * zc_lock (ferry_vhost_zc_lock, this file) guards every port's zero-copy state (zc_mem, zcq[],
 * zc_held, the remap part of struct ferry_vhost_conn); it is taken by the vhost thread (hooks,
 * device up/down) and the control thread, never by a PMD, and never held across a mapping or a
 * wait. Order: vhost_lock (port_vhost_conn.c), then zc_lock. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_vhost.h>
#include "port_vhost.h"

/* Lent buffers a leaving guest waits for, all its queues together, before the rest are handed back
 * (forced_returns). The datapath itself gives a buffer back once a NIC has held it for
 * FERRY_ZC_RETURN_MS (10 ms): waiting twice that for the whole device is as patient as a running
 * queue is, and bounds what destroy_device costs rte_vhost's single message thread (which serves
 * every vhost-user socket) whatever the number of queues. The wait cannot move off that thread:
 * rte_vhost answers GET_VRING_BASE right after destroy_device returns, with the ring indexes
 * ferry_zcq_stop has synced. */
#define ZC_STOP_WAIT_MS (2 * FERRY_ZC_RETURN_MS)

pthread_mutex_t ferry_vhost_zc_lock = PTHREAD_MUTEX_INITIALIZER;

/* Own the guest RX ring `vring` (even) if ferry enqueues and the ring is set up. zc_lock. */
static void
rx_queue_up(struct ferry_port *p, int vid, uint16_t vring)
{
	uint16_t q = vring / 2;
	uint64_t features;
	struct ferry_rxq *rq;

	if (q >= FERRY_MAX_QUEUES)
		return;
	if (p->rxq[q] != NULL) {
		ferry_rxq_refresh(p->rxq[q]);   /* re-enabled: still the ring it was? */
		return;
	}
	if (p->zc_mem == NULL || p->rx_state != FERRY_ZC_ACTIVE ||
	    rte_vhost_get_negotiated_features(vid, &features) != 0)
		return;
	rq = ferry_rxq_create(vid, vring, p->zc_mem, features, p->socket);
	if (rq == NULL)
		return;   /* ring not set up yet: retried when the guest enables it */
	__atomic_store_n(&p->rxq[q], rq, __ATOMIC_RELEASE);
}

/* Own the guest ring `vring` if ferry reads it (TX: the device is lending) or writes it (RX:
 * "enqueue": "ferry") and the ring is set up. zc_lock. */
void
ferry_vhost_zc_queue_up(struct ferry_port *p, int vid, uint16_t vring)
{
	uint16_t q = vring / 2;
	uint64_t features;
	struct ferry_zcq *zq;

	if (!(vring & 1)) {
		rx_queue_up(p, vid, vring);
		return;
	}
	if (q < FERRY_MAX_QUEUES && p->zcq[q] != NULL) {
		ferry_zcq_refresh(p->zcq[q]);   /* re-enabled: still the ring it was? (issue #21) */
		return;
	}
	if (p->zc_mem == NULL || p->zc_state != FERRY_ZC_ACTIVE || q >= FERRY_MAX_QUEUES ||
	    rte_vhost_get_negotiated_features(vid, &features) != 0)
		return;
	zq = ferry_zcq_create(vid, vring, p->zc_mem, features, p->conf.zero_copy, p->socket);
	if (zq == NULL)
		return;   /* ring not set up yet: retried when the guest enables it */
	if (features & ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6)))
		zq->big = p->pool_big;   /* its frames copied are up to 64 KB */
	__atomic_store_n(&p->zcq[q], zq, __ATOMIC_RELEASE);
}

void
ferry_vhost_zc_hold(struct ferry_port *p, bool on)
{
	uint64_t features = 0;

	if (on == p->zc_held)
		return;
	if (!on)
		rte_vhost_get_negotiated_features(p->vid, &features);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (p->zcq[q] != NULL) {
			if (on)
				ferry_zcq_hold(p->zcq[q]);
			else
				ferry_zcq_release(p->zcq[q], features & (1ULL << VHOST_F_LOG_ALL));
		}
		if (p->rxq[q] != NULL) {
			if (on)
				ferry_rxq_hold(p->rxq[q]);
			else
				ferry_rxq_release(p->rxq[q], features & (1ULL << VHOST_F_LOG_ALL));
		}
	}
	p->zc_held = on;
}

/* --- device up and down, rings enabled --- */

/* new_device (vhost_lock held, no ring locks). The guest's memory is mapped by the control thread
 * (port_vhost_remap.c); its TX rings wait for it: p->vid is not published yet, so no PMD reads
 * them now. */
void
ferry_vhost_zc_device_up(struct ferry_port *p, int vid, uint16_t nr)
{
	struct ferry_vhost_conn *vc = &ferry_vhost_conns[p->idx];
	uint64_t features = 0;
	uint8_t state, rx_state;

	rte_vhost_get_negotiated_features(vid, &features);
	state = ferry_zc_eligible(p->conf.zero_copy, features);
	/* ferry's own enqueue: the dequeue's conditions, "enqueue" its switch */
	rx_state = ferry_zc_eligible(p->conf.enqueue == FERRY_ENQ_FERRY ? FERRY_ZC_AUTO : FERRY_ZC_OFF,
				     features);
	FERRY_LOG(INFO, "port %s: guest TX rings read by %s (zero_copy %s: %s), RX rings written by "
		  "%s (enqueue %s: %s)", p->conf.name, state == FERRY_ZC_ACTIVE ? "ferry" : "rte_vhost",
		  ferry_zc_mode_names[p->conf.zero_copy], ferry_zc_state_names[state],
		  rx_state == FERRY_ZC_ACTIVE ? "ferry" : "rte_vhost",
		  ferry_enq_mode_names[p->conf.enqueue], ferry_zc_state_names[rx_state]);
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	ferry_vhost_remap_cancel(vc);
	p->zc_state = state;
	p->rx_state = rx_state;
	p->zc_mem = NULL;
	if (ferry_vhost_maps(p)) {
		ferry_vhost_remap_request(p, vid);
		/* rings enabled so far: brought up (and announced again) once the memory is mapped */
		vc->deferred = __atomic_exchange_n(&p->vq_rx_on, 0, __ATOMIC_ACQ_REL);
		if (rx_state == FERRY_ZC_ACTIVE)
			vc->deferred_rx = __atomic_exchange_n(&p->vq_tx_on, 0, __ATOMIC_ACQ_REL);
		ferry_vhost_post(p, FERRY_PORT_EV_WAKE, 0, 0);
	}
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
}

/* vring_state_changed(enable) of guest ring `vring` (ring locks held): a TX ring, or an RX ring
 * ferry writes. */
bool
ferry_vhost_zc_ring_up(struct ferry_port *p, int vid, uint16_t vring)
{
	struct ferry_vhost_conn *vc = &ferry_vhost_conns[p->idx];
	uint16_t q = vring / 2;
	bool now = true;

	pthread_mutex_lock(&ferry_vhost_zc_lock);
	/* a table rte_vhost took without SET_MEM_TABLE's post hook (the message failed after it) */
	if (p->zc_mem != NULL && !ferry_vhost_remap_pending(vc) &&
	    !ferry_zc_mem_current(p->zc_mem, vid)) {
		ferry_vhost_remap_request(p, vid);
		ferry_vhost_post(p, FERRY_PORT_EV_WAKE, 0, 0);
	}
	if (ferry_vhost_remap_pending(vc) && q < FERRY_MAX_QUEUES) {
		/* neither dequeue (enqueue) uses it before the table is in */
		if (vring & 1)
			vc->deferred |= UINT32_C(1) << q;
		else
			vc->deferred_rx |= UINT32_C(1) << q;
		now = false;
	} else {
		ferry_vhost_zc_queue_up(p, vid, vring);
	}
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	return now;
}

void
ferry_vhost_zc_ring_down(struct ferry_port *p, uint16_t vring)
{
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	if (vring & 1)
		ferry_vhost_conns[p->idx].deferred &= ~(UINT32_C(1) << (vring / 2 % 32));
	else
		ferry_vhost_conns[p->idx].deferred_rx &= ~(UINT32_C(1) << (vring / 2 % 32));
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
}

/* After a grace period (no PMD inside the queues): stop every queue — all under one deadline —,
 * release the memory. destroy_device: the vhost thread, or the control thread deleting the port. */
void
ferry_vhost_zc_device_down(struct ferry_port *p)
{
	struct ferry_zcq *zq[FERRY_MAX_QUEUES];
	struct ferry_rxq *rq[FERRY_MAX_QUEUES];
	struct ferry_zc_mem *m;
	uint16_t n = 0, nr = 0;
	uint64_t hz = rte_get_timer_hz(), deadline;

	pthread_mutex_lock(&ferry_vhost_zc_lock);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (p->zcq[q] == NULL)
			continue;
		zq[n++] = p->zcq[q];
		__atomic_store_n(&p->zcq[q], NULL, __ATOMIC_RELEASE);
	}
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (p->rxq[q] == NULL)
			continue;
		rq[nr++] = p->rxq[q];
		__atomic_store_n(&p->rxq[q], NULL, __ATOMIC_RELEASE);
	}
	m = p->zc_mem;
	p->zc_mem = NULL;
	p->zc_held = false;
	p->zc_state = FERRY_ZC_NO_GUEST;
	p->rx_state = FERRY_ZC_NO_GUEST;
	ferry_vhost_remap_cancel(&ferry_vhost_conns[p->idx]);
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	/* receive rings: nothing lent, only rte_vhost's indexes to sync (GET_VRING_BASE) */
	for (uint16_t i = 0; i < nr; i++) {
		ferry_rxq_stop(rq[i]);
		ferry_rxq_stats_add(&p->rx_total, &rq[i]->st);
		ferry_rxq_retire(rq[i]);
	}
	/* every queue's lent buffers come back from the NICs at the same time: one deadline */
	deadline = rte_get_timer_cycles() + hz * ZC_STOP_WAIT_MS / 1000;
	for (uint16_t i = 0; i < n; i++) {
		uint64_t now = rte_get_timer_cycles();
		unsigned left = now < deadline ? (unsigned)((deadline - now) * 1000 / hz) : 0;
		ferry_zcq_stop(zq[i], left);
		ferry_zc_stats_add(&p->zc_total, &zq[i]->st);
		ferry_zcq_retire(zq[i]);
	}
	if (m != NULL)
		ferry_zc_mem_put(m);
}

/* The port slot is being reused or freed (control thread). */
void
ferry_vhost_zc_forget(uint16_t idx)
{
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	ferry_vhost_remap_cancel(&ferry_vhost_conns[idx]);
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
}

/* --- vhost-user messages --- */

/* Messages ferry follows for its own queues; rte_vhost handles each, then calls zc_post_msg
 * (unless it failed). Vhost thread, every ring of the device locked by rte_vhost — but not ferry's
 * queues: those that make rte_vhost re-read the rings or replace the dirty log hold them out of
 * the datapath (ferry_zcq_hold: no used ring write logged into a log being unmapped, rte_vhost's
 * ring indexes exact when it compares them).
 * - SET_MEM_TABLE: a running guest may send a new memory table without disabling its rings (QEMU
 *   does on memory hot-plug), and rte_vhost tells no callback about it: follow it at once, or
 *   buffers in the new memory fail ferry's address checks (bad_addr) until a ring is re-enabled.
 *   Mapped by the control thread (above); the queues stay held until then.
 * - SET_LOG_BASE, SET_FEATURES, SET_VRING_ADDR: live migration maps, resizes or switches on the
 *   dirty log and names the rings' log addresses; once QEMU hears the answer to VHOST_F_LOG_ALL,
 *   every used ring write is logged.
 * - SEND_RARP: the guest arrived here by live migration; announce its MAC. */
enum {   /* VhostUserRequest: a message starts with it */
	VHU_SET_FEATURES = 2, VHU_SET_MEM_TABLE = 5, VHU_SET_LOG_BASE = 6, VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9, VHU_SET_VRING_BASE = 10, VHU_SEND_RARP = 19,
	VHU_NET_SET_MTU = 20
};
#define VHU_PAYLOAD 12   /* request, flags, size (u32 each), then the payload */

/* SET_VRING_NUM / SET_VRING_BASE for a ring that runs: refused (lib/zc ferry_zc_ring_msg_ok, issue
 * #21 item 1). p: the running device's port or NULL. zc_lock. */
static bool
zc_ring_msg_ok(struct ferry_port *p, int vid, uint32_t req, const void *msg)
{
	const uint32_t *st = (const uint32_t *)((const uint8_t *)msg + VHU_PAYLOAD);   /* index, num */
	uint32_t q = st[0] / 2;

	if (req != VHU_SET_VRING_NUM && req != VHU_SET_VRING_BASE)
		return true;
	if (p != NULL && !(st[0] & 1) && q < FERRY_MAX_QUEUES && p->rxq[q] != NULL &&
	    (req == VHU_SET_VRING_BASE || st[1] != p->rxq[q]->nslots)) {
		FERRY_LOG(ERR, "vhost device %d: %s %u for vring %u while ferry writes it: refused",
			  vid, req == VHU_SET_VRING_NUM ? "SET_VRING_NUM" : "SET_VRING_BASE", st[1],
			  st[0]);
		return false;
	}
	return ferry_zc_ring_msg_ok(vid, p != NULL && (st[0] & 1) && q < FERRY_MAX_QUEUES ?
				    p->zcq[q] : NULL, st[0], req == VHU_SET_VRING_NUM, st[1]);
}

/* Where a guest's SIGBUS or refused ring is reported: its port's zc_state (lib/zc zc_guard.c). */
static uint8_t *
zc_state_of(int vid)
{
	struct ferry_port *p = ferry_vhost_port_of_vid(vid);

	return p != NULL ? &p->zc_state : NULL;
}

/* From the first of ferry's queues; with none, rte_vhost reads the rings and announces itself. */
static void
zc_announce(struct ferry_port *p, const uint8_t *mac)
{
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (p->zcq[q] == NULL)
			continue;
		ferry_zcq_announce(p->zcq[q], mac);
		FERRY_LOG(INFO, "port %s: guest %02x:%02x:%02x:%02x:%02x:%02x arrived (live migration): "
			  "announcing it", p->conf.name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return;
	}
}

static struct ferry_port *
zc_port_of_msg(int vid)
{
	struct ferry_port *p = ferry_vhost_port_of_vid(vid);

	return p != NULL && __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid ? p : NULL;
}

static enum rte_vhost_msg_result
zc_pre_msg(int vid, void *msg)
{
	uint32_t req = *(const uint32_t *)msg;
	struct ferry_port *p;

	ferry_zc_guard_msg(vid, req, false, zc_state_of(vid));   /* before rte_vhost unmaps */
	if (req == VHU_NET_SET_MTU) {
		uint64_t mtu;
		memcpy(&mtu, (const uint8_t *)msg + VHU_PAYLOAD, sizeof(mtu));
		if (!ferry_vhost_mtu_msg_ok(vid, mtu))
			return RTE_VHOST_MSG_RESULT_ERR;   /* NACK (REPLY_ACK), else the connection closes */
	}
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	p = zc_port_of_msg(vid);
	if (!zc_ring_msg_ok(p, vid, req, msg)) {
		pthread_mutex_unlock(&ferry_vhost_zc_lock);
		return RTE_VHOST_MSG_RESULT_ERR;   /* NACK (REPLY_ACK), else the connection closes */
	}
	if (p != NULL) {
		ferry_vhost_conns[p->idx].in_msg = true;   /* the control thread leaves the device alone */
		/* left held by a message rte_vhost failed (no post hook) */
		if (!ferry_vhost_remap_pending(&ferry_vhost_conns[p->idx]))
			ferry_vhost_zc_hold(p, false);
		if (req == VHU_SET_FEATURES || req == VHU_SET_MEM_TABLE || req == VHU_SET_LOG_BASE ||
		    req == VHU_SET_VRING_ADDR)
			ferry_vhost_zc_hold(p, true);
	}
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
zc_post_msg(int vid, void *msg)
{
	uint32_t req = *(const uint32_t *)msg;
	struct ferry_port *p;
	struct ferry_vhost_conn *vc;

	ferry_zc_guard_msg(vid, req, true, NULL);   /* rte_vhost's new mappings */
	pthread_mutex_lock(&ferry_vhost_zc_lock);
	p = zc_port_of_msg(vid);
	if (p == NULL) {
		pthread_mutex_unlock(&ferry_vhost_zc_lock);
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	}
	vc = &ferry_vhost_conns[p->idx];
	vc->in_msg = false;
	if (req == VHU_SET_MEM_TABLE && ferry_vhost_maps(p) &&
	    (ferry_vhost_remap_pending(vc) || p->zc_mem == NULL ||
	     !ferry_zc_mem_current(p->zc_mem, vid)))
		ferry_vhost_remap_request(p, vid);
	if (ferry_vhost_remap_pending(vc))
		ferry_vhost_post(p, FERRY_PORT_EV_WAKE, 0, 0);   /* queues held until it is applied */
	else
		ferry_vhost_zc_hold(p, false);
	if (req == VHU_SEND_RARP)
		zc_announce(p, (const uint8_t *)msg + VHU_PAYLOAD);
	pthread_mutex_unlock(&ferry_vhost_zc_lock);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

const struct rte_vhost_user_extern_ops ferry_vhost_msg_ops = {
	.pre_msg_handle = zc_pre_msg, .post_msg_handle = zc_post_msg
};
