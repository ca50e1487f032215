/* ferry_offload.h — virtio-net checksum and segmentation offloads (issue #19): a guest's
 * virtio-net header as mbuf TX offload flags, checked (guests are untrusted), and the software
 * fallback at egress for a port that cannot take a frame as it is.
 *
 * Inside the switch a frame needing work carries DPDK's TX flags: RTE_MBUF_F_TX_TCP_SEG with
 * tso_segsz (a TCP segment larger than one frame), RTE_MBUF_F_TX_TCP/UDP_CKSUM (the L4 checksum
 * is partial: the pseudo-header sum only), RTE_MBUF_F_TX_IPV4/IPV6, l2/l3/l4_len. Both guest
 * dequeues produce them: ferry's own (lib/zc: ferry_ol_from_vnet, from the header it reads) and
 * rte_vhost's (compliant flags, RX_LRO / RX_L4_CKSUM_NONE: ferry_ol_from_vhost). At egress,
 * ferry_ol_egress gives each port what it can take: the frame as is, or its checksums computed, or
 * MTU-sized segments with correct checksums. A frame without TX flags never reaches this code. */
#ifndef FERRY_OFFLOAD_H
#define FERRY_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>
#include <linux/virtio_net.h>
#include "ferry_common.h"

/* What a port's egress takes as is (ferry_port.tx_ol) */
#define FERRY_OL_CSUM   1u    /* partial TCP/UDP checksums */
#define FERRY_OL_TSO4   2u    /* TCP/IPv4 segments beyond its MTU */
#define FERRY_OL_TSO6   4u    /* TCP/IPv6 segments beyond its MTU */
#define FERRY_OL_IPCSUM 8u    /* an IPv4 header checksum to compute (RTE_MBUF_F_TX_IP_CKSUM) */
#define FERRY_OL_NIC    16u   /* a NIC: DPDK's contract (pseudo-header sums, headers in segment 0) */

/* The flags that send a frame through ferry_ol_egress */
#define FERRY_OL_TX_FLAGS (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM)

/* The virtio-net features a vhostuser port with "offloads" offers (UFO/USO are not: DPDK 22.11's
 * rte_vhost has no USO, and UFO is deprecated by Linux guests since 4.14) */
#define FERRY_OL_FEATURES ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |   \
	(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |                  \
	(1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6))
/* ... and never: ECN and UFO, both directions */
#define FERRY_OL_NEVER ((1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) |     \
	(1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

#define FERRY_OL_MAX_IP 65535u   /* an IP packet (a TSO segment) is at most this long */

/* A frame a guest dequeue found bad: it goes on to the pipeline, which drops it as
 * ferry_ol_bad_reason(m) (one flag test it already makes). The flag is a dynamic mbuf flag
 * (ferry_ol_init). */
extern uint64_t ferry_ol_bad_flag;
int ferry_ol_init(void);   /* control thread, before the first guest: 0 or -1 */

static inline void
ferry_ol_mark_bad(struct rte_mbuf *m, enum ferry_drop why)
{
	m->ol_flags = (m->ol_flags & ~FERRY_OL_TX_FLAGS) | ferry_ol_bad_flag;
	m->hash.usr = (uint32_t)why;
}

static inline enum ferry_drop
ferry_ol_bad_reason(const struct rte_mbuf *m)
{
	return m->hash.usr < FERRY_DROP_MAX ? (enum ferry_drop)m->hash.usr : FERRY_DROP_RUNT;
}

/* The virtio-net capabilities of a guest as FERRY_OL_* (its receive side: GUEST_*) */
unsigned ferry_ol_guest_caps(uint64_t features);

/* m's header h (read once by the caller) as TX flags, checked against the frame and the
 * negotiated features. FERRY_DROP_MAX: fine; else the drop reason (m unchanged). */
enum ferry_drop ferry_ol_from_vnet(struct rte_mbuf *m, const struct virtio_net_hdr *h,
				   uint64_t features);

/* rte_vhost's compliant RX flags on m (RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS) as TX flags,
 * checked the same way. FERRY_DROP_MAX or the drop reason. */
enum ferry_drop ferry_ol_from_vhost(struct rte_mbuf *m, uint64_t features);

/* Egress of m (FERRY_OL_TX_FLAGS set) to a port taking caps whose frames may be max_len bytes
 * (+ 4 per tag): out[0] = m itself (maybe with its checksums done, flags cleared) and 1, or
 * the segments of m (m freed) and their number, up to max_out per call: *more is set when m has
 * more segments to give (call again with the same m and *state), or 0 with *why set (m freed). */
struct ferry_ol_seg_state {
	uint32_t off;           /* payload bytes already segmented */
	uint32_t seq;           /* TCP sequence number of the next segment */
	uint16_t ip_id;
	bool started;
};
unsigned ferry_ol_egress(struct rte_mbuf *m, unsigned caps, uint32_t max_len,
			 struct rte_mempool *mp, struct rte_mbuf **out, unsigned max_out,
			 struct ferry_ol_seg_state *state, bool *more, enum ferry_drop *why);

/* The virtio-net header of m toward a guest with these features (ferry's own enqueue): the TX
 * flags as DPDK's virtio_enqueue_offload maps them (an IPv4 header checksum computed in m), and
 * VIRTIO_NET_HDR_F_DATA_VALID from RTE_MBUF_F_RX_L4_CKSUM_GOOD with GUEST_CSUM. true: DATA_VALID. */
bool ferry_ol_to_vnet(struct rte_mbuf *m, uint64_t features, struct virtio_net_hdr *h);

/* The negotiated virtio-net offload features by name, for port.get */
struct json_t;
void ferry_ol_features_json(uint64_t features, struct json_t *arr);

#endif
