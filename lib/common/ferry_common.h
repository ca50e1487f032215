/* ferry_common.h — limits, drop reasons and logging shared by every ferry module. */
#ifndef FERRY_COMMON_H
#define FERRY_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <rte_log.h>
#include <rte_common.h>

#define FERRY_VERSION "0.1.0"

#define FERRY_MAX_PORTS     256  /* switch port slots (index 0..255) */
#define FERRY_MAX_PMDS      32   /* PMD threads */
#define FERRY_MAX_QUEUES    32   /* rx/tx queues per port; vhost queue pairs per port */
#define FERRY_BURST         32   /* frames per rx burst (rte_hash bulk lookup takes 2x this) */
#define FERRY_NAME_MAX      32   /* port name, including NUL */
#define FERRY_PATH_MAX      108  /* vhost-user socket path (sun_path) */
#define FERRY_MAX_MACS      16   /* MACs per port (a VM NIC's addresses) */
#define FERRY_PORT_NONE     0xffff

/* JSON-RPC 2.0 standard codes and ferry's own (-32000..-32099, "server error" range). */
#define FERRY_EPARSE        (-32700)
#define FERRY_EINVALID_REQ  (-32600)
#define FERRY_ENOMETHOD     (-32601)
#define FERRY_EINVAL        (-32602)
#define FERRY_EINTERNAL     (-32603)
#define FERRY_EEXIST        (-32001)   /* a different port of that name (or socket path) exists */
#define FERRY_ENOPORT       (-32002)   /* no such port */
#define FERRY_EPROBE        (-32003)   /* DPDK could not probe/configure/start the device; DPDK's reason in the message */
#define FERRY_ELIMIT        (-32004)   /* a limit was reached (ports, FDB size, queues) */
#define FERRY_ENOENT        (-32005)   /* no such FDB entry / PMD */
#define FERRY_ENOTSUP       (-32006)   /* the device or PMD cannot do it */

/* Why a frame was dropped. Counted per port, per PMD, without atomics. */
enum ferry_drop {
	FERRY_DROP_RUNT,         /* shorter than an Ethernet (or tagged) header */
	FERRY_DROP_INVALID_SRC,  /* multicast, broadcast or all-zero source MAC */
	FERRY_DROP_SPOOF,        /* source MAC not the port's, or a MAC pinned to another port */
	FERRY_DROP_VLAN,         /* ingress: VLAN the port does not carry */
	FERRY_DROP_VLAN_HOP,     /* an inner tag would become the outer one (doc/semantics.md, "Tags") */
	FERRY_DROP_ADMIN_DOWN,   /* port administratively down */
	FERRY_DROP_NO_DEST,      /* nowhere to go: unicast back to ingress, or empty flood set */
	FERRY_DROP_TX_FULL,      /* egress queue or guest ring full */
	FERRY_DROP_NO_MBUF,      /* flood copy could not get an mbuf */
	FERRY_DROP_NOT_READY,    /* guest not connected / queue not enabled */
	FERRY_DROP_MTU,          /* egress: longer than the port's MTU + 14 + 4 per tag (max 2) */
	FERRY_DROP_TX_SEGS,      /* egress: more segments than the device sends, and no fit copy */
	FERRY_DROP_FILTER,       /* an attached stage (eBPF filter) dropped it (ingress or egress) */
	FERRY_DROP_POLICER,      /* ingress: over the port's "policer" rate */
	FERRY_DROP_STORM,        /* to be flooded: over the port's "storm" rate for its kind */
	FERRY_DROP_MAC_LIMIT,    /* a new source beyond the port's "mac_limit" (not learned) */
	FERRY_DROP_MIRROR_OUTPUT,   /* received on a mirror's output port (out of forwarding) */
	/* a guest's virtio-net header (lib/offload) */
	FERRY_DROP_GSO_SIZE,     /* a segment (gso_type) with gso_size 0 */
	FERRY_DROP_GSO_HDR_LEN,  /* hdr_len beyond the frame, or headers a segment cannot have */
	FERRY_DROP_CSUM_RANGE,   /* NEEDS_CSUM not negotiated, or csum_start + csum_offset outside the frame */
	FERRY_DROP_GSO_TYPE,     /* a GSO type not negotiated, unknown, or not the frame's TCP/IP */
	FERRY_DROP_GSO_TOO_LONG, /* a segment longer than 64 KB (IP packet > 65535 bytes) */
	/* a VM's own rx queue (issue #18: a dpdk port declared "vm", lib/pipeline/pipeline_owned.c) */
	FERRY_DROP_VM_DST,       /* unicast to another MAC than the VM's */
	FERRY_DROP_VM_VLAN,      /* a VLAN the VM does not carry */
	FERRY_DROP_VM_ABSENT,    /* the port names a VM that does not exist */
	FERRY_DROP_MAX
};

extern const char *const ferry_drop_names[FERRY_DROP_MAX];

extern int ferry_logtype;
#define FERRY_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ferry_logtype, "ferry: " fmt "\n", ##__VA_ARGS__)

/* Format a message into the caller's error buffer err[errlen]; returns -1, so that a failing
 * function can end with return ferry_errf(err, errlen, ...). */
int ferry_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What is at a Unix socket path (ferry_sock.c): one of these, or -errno. */
/* Which frames of a port a tap sees (capture, mirror): those it receives, sends, or both. */
enum { FERRY_DIR_RX = 1, FERRY_DIR_TX = 2, FERRY_DIR_BOTH = 3 };
/* "rx", "tx", "both" → FERRY_DIR_*; 0 if none of them. And back. */
unsigned ferry_dirs_parse(const char *s);
const char *ferry_dirs_name(unsigned dirs);

enum ferry_sock { FERRY_SOCK_ABSENT, FERRY_SOCK_STALE, FERRY_SOCK_LIVE, FERRY_SOCK_NOT_SOCKET };
int ferry_sock_state(const char *path);

/* Coarse seconds clock for FDB aging: written by the control thread, read by PMDs. */
extern volatile uint32_t ferry_now_s;
void ferry_clock_update(void);

#endif
