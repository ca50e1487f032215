/* switch_zc.c — the switch's side of zero-copy (lib/zc): freeing what lent buffers kept alive when
 * the switch stops. (Which ports lent frames may reach is counted by the dpdk type's start/stop,
 * lib/port/port_dpdk.c; a guest's queues are the vhostuser type's, lib/port/port_vhost_zc.c.) */
#include <unistd.h>
#include "switch_private.h"

/* Wait (bounded) until every lent buffer is back and every guest mapping released. */
void
sw_zc_drain(unsigned wait_ms)
{
	for (unsigned t = 0; ferry_zc_reap() != 0 && t < wait_ms; t++)
		usleep(1000);
}
