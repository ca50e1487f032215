/* ferryd_service.h — what ferryd does for a service manager: the sd_notify protocol (READY=1,
 * RELOADING=1, STOPPING=1 on $NOTIFY_SOCKET; no libsystemd) and logs on stderr with their levels
 * in journald's "<N>" prefix when stderr is the journal. */
#ifndef FERRYD_SERVICE_H
#define FERRYD_SERVICE_H

/* Sends state ("READY=1", ...) to $NOTIFY_SOCKET if set; a no-op otherwise. 0 or -1. */
int ferryd_notify(const char *state);
/* "RELOADING=1" with MONOTONIC_USEC (what systemd >= 253 wants); READY=1 ends the reload. */
int ferryd_notify_reloading(void);
/* Before rte_eal_init: every rte_log message (ferry's and DPDK's) goes to stderr only (not
 * stdout and syslog, DPDK's default), prefixed "<priority>" when $JOURNAL_STREAM names stderr. */
void ferryd_log_init(void);

#endif
