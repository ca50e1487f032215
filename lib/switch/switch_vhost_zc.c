/* switch_vhost_zc.c — the switch's side of ferry's own dequeue (lib/zc) for vhost-user guests:
 * taking a guest's TX rings when its device starts or a ring is enabled, following the vhost-user
 * messages that change what those rings depend on (memory table, dirty log, ring addresses), and
 * stopping every queue when the device goes. Split out of switch_events.c (its rte_vhost
 * callbacks call these); the locking rules there apply. */
#include <stdio.h>
#include <string.h>
#include <rte_vhost.h>
#include "switch_private.h"

/* --- ferry's own dequeue (lib/zc) for guests that can lend their buffers --- */

#define ZC_STOP_WAIT_MS 500   /* lent buffers a stopping guest waits for before taking them back */

/* Own the guest TX ring `vring` if the device is lending and the ring is set up. vhost thread. */
static void
zc_queue_up(struct ferry_port *p, int vid, uint16_t vring)
{
	uint16_t q = vring / 2;
	uint64_t features;
	struct ferry_zcq *zq;

	if (p->zc_mem == NULL || !(vring & 1) || q >= FERRY_MAX_QUEUES || p->zcq[q] != NULL ||
	    rte_vhost_get_negotiated_features(vid, &features) != 0)
		return;
	zq = ferry_zcq_create(vid, vring, p->zc_mem, features, p->conf.zero_copy, p->socket);
	if (zq == NULL)
		return;   /* ring not set up yet: retried when the guest enables it */
	__atomic_store_n(&p->zcq[q], zq, __ATOMIC_RELEASE);
}

/* The guest's memory table changed (its rings were disabled for it): move every queue over. */
static void
zc_mem_refresh(struct ferry_port *p, int vid)
{
	char err[128];
	struct ferry_zc_mem *m;

	if (p->zc_mem == NULL || ferry_zc_mem_current(p->zc_mem, vid))
		return;
	m = ferry_zc_mem_create(vid, err, sizeof(err));
	if (m == NULL) {
		FERRY_LOG(ERR, "port %s: guest memory changed and cannot be mapped (%s): dropping its "
			  "frames until it reconnects", p->conf.name, err);
		return;
	}
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++)
		if (p->zcq[q] != NULL && ferry_zcq_remap(p->zcq[q], m) != 0)
			FERRY_LOG(ERR, "port %s: queue %u: ring not in the new guest memory",
				  p->conf.name, q);
	ferry_zc_mem_put(p->zc_mem);
	p->zc_mem = m;
	FERRY_LOG(INFO, "port %s: guest memory table changed: remapped", p->conf.name);
}

void
sw_zc_device_up(struct ferry_port *p, int vid, uint16_t nr)
{
	uint64_t features = 0;
	char err[128];

	rte_vhost_get_negotiated_features(vid, &features);
	p->zc_state = ferry_zc_eligible(p->conf.zero_copy, features);
	if (p->zc_state == FERRY_ZC_ACTIVE) {
		p->zc_mem = ferry_zc_mem_create(vid, err, sizeof(err));
		if (p->zc_mem == NULL) {
			FERRY_LOG(WARNING, "port %s: zero-copy off: %s", p->conf.name, err);
			p->zc_state = FERRY_ZC_NO_MEM;
		}
	}
	FERRY_LOG(INFO, "port %s: guest TX rings read by %s (zero_copy %s: %s)", p->conf.name,
		  p->zc_state == FERRY_ZC_ACTIVE ? "ferry" : "rte_vhost",
		  ferry_zc_mode_names[p->conf.zero_copy], ferry_zc_state_names[p->zc_state]);
	for (uint16_t i = 1; i < nr; i += 2)
		zc_queue_up(p, vid, i);
}

/* Messages ferry follows for its own queues; rte_vhost handles each, then calls zc_post_msg
 * (unless it failed). Vhost thread, every ring of the device locked by rte_vhost — but not ferry's
 * queues: those that make rte_vhost re-read the rings or replace the dirty log hold them out of
 * the datapath (ferry_zcq_hold: no used ring write logged into a log being unmapped, rte_vhost's
 * ring indexes exact when it compares them).
 * - SET_MEM_TABLE: a running guest may send a new memory table without disabling its rings (QEMU
 *   does on memory hot-plug), and rte_vhost tells no callback about it: follow it at once, or
 *   buffers in the new memory fail ferry's address checks (bad_addr) until a ring is re-enabled.
 * - SET_LOG_BASE, SET_FEATURES, SET_VRING_ADDR: live migration maps, resizes or switches on the
 *   dirty log and names the rings' log addresses; once QEMU hears the answer to VHOST_F_LOG_ALL,
 *   every used ring write is logged.
 * - SEND_RARP: the guest arrived here by live migration; announce its MAC. */
enum {   /* VhostUserRequest: a message starts with it */
	VHU_SET_FEATURES = 2, VHU_SET_MEM_TABLE = 5, VHU_SET_LOG_BASE = 6, VHU_SET_VRING_ADDR = 9,
	VHU_SEND_RARP = 19
};
#define VHU_PAYLOAD 12   /* request, flags, size (u32 each), then the payload */

static void
zc_hold(struct ferry_port *p, bool on)
{
	uint64_t features = 0;

	if (on == p->zc_held)
		return;
	if (!on)
		rte_vhost_get_negotiated_features(p->vid, &features);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		if (p->zcq[q] == NULL)
			continue;
		if (on)
			ferry_zcq_hold(p->zcq[q]);
		else
			ferry_zcq_release(p->zcq[q], features & (1ULL << VHOST_F_LOG_ALL));
	}
	p->zc_held = on;
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
	struct ferry_port *p = sw_port_of_vid(vid);

	return p != NULL && __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) == vid ? p : NULL;
}

static enum rte_vhost_msg_result
zc_pre_msg(int vid, void *msg)
{
	struct ferry_port *p = zc_port_of_msg(vid);
	uint32_t req = *(const uint32_t *)msg;

	if (p != NULL) {
		zc_hold(p, false);   /* left held by a message rte_vhost failed (no post hook then) */
		if (req == VHU_SET_FEATURES || req == VHU_SET_MEM_TABLE || req == VHU_SET_LOG_BASE ||
		    req == VHU_SET_VRING_ADDR)
			zc_hold(p, true);
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
zc_post_msg(int vid, void *msg)
{
	struct ferry_port *p = zc_port_of_msg(vid);
	uint32_t req = *(const uint32_t *)msg;

	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (req == VHU_SET_MEM_TABLE)
		zc_mem_refresh(p, vid);
	zc_hold(p, false);
	if (req == VHU_SEND_RARP)
		zc_announce(p, (const uint8_t *)msg + VHU_PAYLOAD);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* After a grace period (no PMD inside the queues): stop every queue, release the memory. */
void
sw_zc_device_down(struct ferry_port *p)
{
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		struct ferry_zcq *zq = p->zcq[q];
		if (zq == NULL)
			continue;
		__atomic_store_n(&p->zcq[q], NULL, __ATOMIC_RELEASE);
		ferry_zcq_stop(zq, ZC_STOP_WAIT_MS);
		ferry_zc_stats_add(&p->zc_total, &zq->st);
		ferry_zcq_retire(zq);
	}
	if (p->zc_mem != NULL) {
		ferry_zc_mem_put(p->zc_mem);
		p->zc_mem = NULL;
	}
	p->zc_held = false;
	p->zc_state = FERRY_ZC_NO_GUEST;
}

/* A guest enabled its TX ring `vring` (vring_state_changed, every ring of the device locked). */
void
sw_zc_ring_up(struct ferry_port *p, int vid, uint16_t vring)
{
	zc_mem_refresh(p, vid);
	zc_queue_up(p, vid, vring);
}

const struct rte_vhost_user_extern_ops sw_zc_msg_ops = {
	.pre_msg_handle = zc_pre_msg, .post_msg_handle = zc_post_msg
};
