/* switch_events.c — the event queue that carries what ports report (lib/port: a guest connected,
 * its rings enabled, a device removed) from any thread to the control thread, and what the
 * control thread does with each event. Posting never blocks: a vhost callback may hold
 * rte_vhost's ring locks (the rules are at the top of lib/port/port_vhost_conn.c). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "switch_private.h"

/* event word: type 8 | idx 16 | q 8 | flags 8 | gen 16 */
void
sw_post(struct ferry_switch *sw, enum ferry_port_event ev, uint16_t idx, uint16_t q, int flags)
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

	n = ferry_port_vhost_refused(p);
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
	/* the port types' work (guests' new memory tables), whether a FERRY_PORT_EV_WAKE woke us or
	 * not (one may have been lost) */
	ferry_port_types_poll();
	while (rte_ring_sc_dequeue(sw->events, &obj) == 0) {
		uintptr_t w = (uintptr_t)obj;
		uint16_t idx = (w >> 8) & 0xffff, q = (w >> 24) & 0xff, gen = (w >> 40) & 0xffff;
		int flags = (w >> 32) & 0xff;
		struct ferry_port *p = idx < FERRY_MAX_PORTS ? sw->dp.ports[idx] : NULL;
		if (p == NULL || sw->gen[idx] != gen)
			continue;   /* the port went away meanwhile */
		switch ((enum ferry_port_event)(w & 0xff)) {
		case FERRY_PORT_EV_CONNECTED:
			on_link(sw, p, true);
			break;
		case FERRY_PORT_EV_DISCONNECTED:
			on_link(sw, p, false);
			break;
		case FERRY_PORT_EV_QUEUE:
			on_queue(sw, p, q, flags);
			break;
		case FERRY_PORT_EV_REMOVED:
			on_removed(sw, p);
			break;
		case FERRY_PORT_EV_REFUSED:
			on_refused(sw, p);
			break;
		case FERRY_PORT_EV_WAKE:
			break;   /* a wake-up: ferry_port_types_poll ran above */
		}
	}
}
