/* port_vhost.c — the "vhostuser" port type, a vhost-user socket as a switch port through the
 * rte_vhost API directly: the socket, rx and tx bursts on the guest's rings, and the type's
 * struct ferry_port_ops. Its callbacks are in port_vhost_conn.c, ferry's own dequeue of the
 * guest's TX rings in port_vhost_zc.c (lib/zc).
 * Server mode: ferryd owns the socket (a stale socket file is replaced, a live one or any other file
 * refused) and removes it again only while it is still the file bound (dev/ino, ferry_sock.h).
 * Client mode: ferryd connects to QEMU's socket; rte_vhost reconnects when either side restarts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_net.h>
#include <rte_ring.h>
#include "ferry_pkt.h"
#include "port_vhost.h"

/* Guest offloads (lib/offload): a port with "offloads" offers FERRY_OL_FEATURES (checksums and
 * TCP segmentation, both directions); ECN and UFO are never offered. */
/* ferry's own dequeue and enqueue (lib/zc) read split rings and complete out of order. */
#define ZC_UNSUPPORTED_FEATURES ((1ULL << 34 /* VIRTIO_F_RING_PACKED */) | \
	(1ULL << 35 /* VIRTIO_F_IN_ORDER */))

static void vhost_set_limit(struct ferry_port *p, uint16_t mtu);

/* Frames of a guest that negotiated HOST_TSO4/6 are up to 64 KB. rte_vhost's dequeue copies a
 * frame into mbufs of the pool it is given, chained when one is too small: 33 x 2 KB for 64 KB,
 * each segment allocated, walked and freed again, and a 2 KB pool that large cycles through far
 * more memory than the caches hold. From such a guest ferry dequeues into a pool of mbufs of
 * 65 535 bytes instead (OVS-DPDK gets one linear buffer per frame from rte_malloc,
 * RTE_VHOST_USER_EXTBUF_SUPPORT; this pool is the bounded form of that: a fixed number of
 * buffers, allocated at start, nothing per frame). A frame longer than one (only a malformed
 * one: > 65 407 bytes) chains two. When the pool is empty (its buffers held by NICs' tx rings)
 * the port's ordinary pool is used, as before. FERRY_VHOST_BIG_MBUFS x 66 KB per NUMA node,
 * made when the first port with offloads opens. */
#define FERRY_VHOST_BIG_MBUFS 1024
#define FERRY_VHOST_BIG_CACHE 64
#define FERRY_VHOST_BIG_ROOM UINT16_MAX
#define TSO_FEATURES ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6))

static struct rte_mempool *big_pools[RTE_MAX_NUMA_NODES];

struct rte_mempool *
ferry_vhost_big_pool(int socket)
{
	return socket >= 0 && socket < RTE_MAX_NUMA_NODES ? big_pools[socket] : NULL;
}

/* Control thread (port open): each NUMA node's pool, once; without one, ports copy as before. */
static void
big_pools_make(void)
{
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		int s = rte_socket_id_by_idx(i);
		char name[RTE_MEMPOOL_NAMESIZE];

		if (s < 0 || s >= RTE_MAX_NUMA_NODES || big_pools[s] != NULL)
			continue;
		snprintf(name, sizeof(name), "ferry_big_%d", s);
		big_pools[s] = rte_mempool_lookup(name);
		if (big_pools[s] == NULL)
			big_pools[s] = rte_pktmbuf_pool_create_by_ops(name, FERRY_VHOST_BIG_MBUFS,
								      FERRY_VHOST_BIG_CACHE, 0,
								      FERRY_VHOST_BIG_ROOM, s,
								      "ring_mp_mc");
		if (big_pools[s] == NULL)
			FERRY_LOG(WARNING, "no pool of 64 KB mbufs on node %d (%s): frames of TSO "
				  "guests are copied into chains of 2 KB mbufs",
				  s, rte_strerror(rte_errno));
	}
}

/* The socket's directory, one level (config-file ports are trusted; ports added over RPC had
 * their path checked, and missing levels made inside vhost.socket_dirs, by lib/rpc first). */
static int
mkdir_parent(const char *path)
{
	char dir[FERRY_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* 0: path free (a stale socket was removed); -EADDRINUSE: something answers there; -EEXIST: not
 * a socket (a symlink is never followed); -errno else. */
static int
claim_path(const char *path)
{
	int st = ferry_sock_clear_stale(path);

	if (st == FERRY_SOCK_ABSENT)
		return 0;
	if (st == FERRY_SOCK_LIVE)
		return -EADDRINUSE;
	if (st == FERRY_SOCK_NOT_SOCKET)
		return -EEXIST;
	return st < 0 ? st : -EIO;
}

static int
check_server_path(struct ferry_port *p, char *err, size_t errlen)
{
	int rc = mkdir_parent(p->conf.path);

	if (rc == 0)
		rc = claim_path(p->conf.path);
	if (rc == -EADDRINUSE)
		snprintf(err, errlen, "port %s: %s is in use by a live process", p->conf.name,
			 p->conf.path);
	else if (rc == -EEXIST)
		snprintf(err, errlen, "port %s: %s exists and is not a socket", p->conf.name,
			 p->conf.path);
	else if (rc < 0)
		snprintf(err, errlen, "port %s: %s: %s", p->conf.name, p->conf.path, strerror(-rc));
	return rc;
}

static void
unregister_path(void *path)
{
	rte_vhost_driver_unregister(path);
}

/* rte_vhost_driver_unregister closes the socket and, for a server, unlink()s its path whatever
 * is there now: run it guarded so that only the socket file ferry bound can go. */
static void
vhost_unregister(struct ferry_port *p)
{
	if (p->conf.client)
		rte_vhost_driver_unregister(p->conf.path);
	else
		ferry_sock_guard_unlink(p->conf.path, &p->sock_id, unregister_path, p->conf.path);
	p->sock_id.set = false;
}

/* The socket file rte_vhost just bound: the one removed when the port goes. */
static void
record_socket(struct ferry_port *p)
{
	int rc = ferry_sock_id_get(p->conf.path, &p->sock_id);

	if (rc < 0)
		FERRY_LOG(WARNING, "port %s: %s is not the socket just bound (%s): it will not be "
			  "removed", p->conf.name, p->conf.path, strerror(-rc));
}

static int
register_socket(struct ferry_port *p, char *err, size_t errlen)
{
	const char *path = p->conf.path;
	/* rte_vhost's dequeue reports a guest's header as RX flags (RX_LRO, RX_L4_CKSUM_NONE, ...):
	 * ferry_ol_from_vhost turns them into the TX flags the switch carries */
	uint64_t flags = (p->conf.client ? RTE_VHOST_USER_CLIENT : 0) |
			 RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;

	p->sock_id.set = false;
	if (!p->conf.client && check_server_path(p, err, errlen) < 0)
		return FERRY_EPROBE;
	if (rte_vhost_driver_register(path, flags) != 0) {
		snprintf(err, errlen, "port %s: cannot register vhost-user socket %s", p->conf.name, path);
		return FERRY_EPROBE;
	}
	uint64_t off = FERRY_OL_NEVER | (p->conf.offloads_off ? FERRY_OL_FEATURES : 0) |
		(p->conf.zero_copy != FERRY_ZC_OFF || p->conf.enqueue == FERRY_ENQ_FERRY ?
	 ZC_UNSUPPORTED_FEATURES : 0);

	if (rte_vhost_driver_disable_features(path, off) != 0 ||
	    rte_vhost_driver_callback_register(path, &ferry_vhost_device_ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		snprintf(err, errlen, "port %s: cannot start vhost-user socket %s", p->conf.name, path);
		vhost_unregister(p);   /* a file that made bind fail is left alone */
		return FERRY_EPROBE;
	}
	if (!p->conf.client)
		record_socket(p);
	FERRY_LOG(INFO, "port %s: vhost-user %s %s", p->conf.name,
		  p->conf.client ? "client of" : "server on", path);
	return 0;
}

/* Its callbacks find the port before the socket starts (a guest may connect at once). */
static int
vhost_open(struct ferry_port *p, char *err, size_t errlen)
{
	int rc;

	p->socket = 0;
	p->pool = p->host->pools[0];
	if (!p->conf.offloads_off)
		big_pools_make();
	p->pool_big = ferry_vhost_big_pool(0);
	if (ferry_ol_init() != 0) {
		snprintf(err, errlen, "port %s: no dynamic mbuf flag left for offloads", p->conf.name);
		return FERRY_EPROBE;
	}
	p->n_txq = FERRY_MAX_QUEUES;
	vhost_set_limit(p, p->conf.mtu);
	ferry_vhost_attach(p);
	rc = register_socket(p, err, errlen);
	if (rc != 0)
		ferry_vhost_forget(p);
	return rc;
}

/* A port is closed while its callbacks still find it: destroy_device must stop ferry's own guest
 * TX queues (every lent buffer handed back, ring indexes synced) as when the guest leaves by
 * itself. */
static void
vhost_close(struct ferry_port *p)
{
	/* Closes the connection: destroy_device runs (on this thread) before this returns. */
	vhost_unregister(p);
	ferry_vhost_forget(p);
}

/* rte_vhost's flags of a burst from a guest that negotiated offloads as TX flags, checked;
 * a bad frame goes on marked (the pipeline drops it under its reason). */
static __rte_noinline void
vhost_rx_offloads(uint64_t features, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (m->ol_flags & (RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_MASK)) {
			enum ferry_drop why = ferry_ol_from_vhost(m, features);
			if (unlikely(why != FERRY_DROP_MAX))
				ferry_ol_mark_bad(m, why);
		}
	}
}

/* Fewer than n mbufs left in the pool of 64 KB mbufs for this lcore: its cache and the pool's
 * ring (made with the ring ops: pool_data is the ring), two loads. The other lcores' caches are
 * not counted, so it may say so early, never late. */
static inline bool
pool_short(struct rte_mempool *mp, uint16_t n)
{
	const struct rte_mempool_cache *c = rte_mempool_default_cache(mp, rte_lcore_id());

	return (c != NULL ? c->len : 0) + rte_ring_count((const struct rte_ring *)mp->pool_data) < n;
}

/* A TSO guest's frames into the pool of 64 KB mbufs; when that has too few left for the burst
 * (rte_vhost would take nothing then), into the port's pool. An empty ring costs one call. */
static inline uint16_t
dequeue_big(struct ferry_port *p, int vid, uint16_t vring, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = rte_vhost_dequeue_burst(vid, vring, p->pool_big, pkts, n);

	if (unlikely(k == 0) && pool_short(p->pool_big, n))
		k = rte_vhost_dequeue_burst(vid, vring, p->pool, pkts, n);
	return k;
}

/* Guest TX ring q (vring 2q + 1): ferry's own dequeue when it reads the ring, else rte_vhost's. */
static uint16_t
vhost_rx(struct ferry_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);

	if (vid < 0 || !(__atomic_load_n(&p->vq_rx_on, __ATOMIC_RELAXED) & (UINT32_C(1) << q)))
		return 0;
	struct ferry_zcq *zq = __atomic_load_n(&p->zcq[q], __ATOMIC_ACQUIRE);
	if (zq != NULL)
		return ferry_zcq_rx(zq, p->pool, pkts, n);
	uint64_t f = __atomic_load_n(&p->vnet_features, __ATOMIC_RELAXED);
	if ((f & TSO_FEATURES) && p->pool_big != NULL)
		n = dequeue_big(p, vid, 2 * q + 1, pkts, n);
	else
		n = rte_vhost_dequeue_burst(vid, 2 * q + 1, p->pool, pkts, n);
	if ((f & ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4) |
		  (1ULL << VIRTIO_NET_F_HOST_TSO6))) && n != 0)
		vhost_rx_offloads(f, pkts, n);
	return n;
}

/* The guest RX rings this PMD sends on: its share of the enabled ones, or all when too few. */
static unsigned
vhost_rings(const struct ferry_port_txctx *t, uint32_t on, uint16_t *rings)
{
	unsigned n_on = (unsigned)__builtin_popcount(on), n = 0, k = 0;
	uint16_t n_pmds = t->n_pmds;

	while (on != 0) {
		uint16_t q = (uint16_t)__builtin_ctz(on);
		on &= on - 1;
		if (n_on < n_pmds || k++ % n_pmds == t->pmd)
			rings[n++] = q;
	}
	return n;
}

/* Guest RX ring q written by ferry (lib/zc ferry_rxq_tx): frames more than the guest's buffers
 * hold are drops.mtu, the rest of a burst a full ring stopped (and a malformed chain's frame)
 * tx_full. len is compacted to the frames sent. */
static uint16_t
enqueue_ferry(struct ferry_port *p, const struct ferry_port_txctx *t, struct ferry_rxq *rq,
	      uint16_t q, struct rte_mbuf **m, uint32_t *len, uint16_t n)
{
	uint16_t big, sent = ferry_rxq_tx(rq, m, len, n, &big);

	if (unlikely(big != 0))
		ferry_port_count_drop(p, t->pmd, FERRY_DROP_MTU, big);
	ferry_port_tx_done(p, t, q, len, (uint16_t)(n - big), sent);
	return sent;
}

/* m[i]'s length is len[i] (taken by ferry_port_tx_fit before the burst, as for a NIC). */
static uint16_t
enqueue_guest(struct ferry_port *p, const struct ferry_port_txctx *t, int vid, uint16_t q,
	      struct rte_mbuf **m, uint32_t *len, uint16_t n)
{
	struct ferry_rxq *rq = __atomic_load_n(&p->rxq[q], __ATOMIC_ACQUIRE);
	uint16_t sent = 0, k;

	if (rq != NULL)
		return enqueue_ferry(p, t, rq, q, m, len, n);
	/* rte_vhost takes at most 32 per call */
	while (sent < n) {
		uint16_t chunk = RTE_MIN(n - sent, 32);
		k = rte_vhost_enqueue_burst(vid, 2 * q, m + sent, chunk);
		sent += k;
		if (k < chunk)
			break;
	}
	ferry_port_tx_done(p, t, q, len, n, sent);
	return sent;
}

/* A guest's egress limit: the smaller of the port's "mtu" (p->tx_max_len: mtu + 14, UINT32_MAX
 * without one) and the guest's own MTU + 14 when it negotiated VIRTIO_NET_F_MTU (QEMU's
 * host_mtu; one above the port's was refused, ferry_vhost_mtu_msg_ok), +4 per tag; without
 * either none beyond what rte_vhost can enqueue (it copies chains of any length into the guest's
 * buffers, merged with MRG_RXBUF). Read once per burst: a table lookup and a feature test. */
static uint32_t
vhost_max_len(const struct ferry_port *p, int vid)
{
	uint32_t lim = __atomic_load_n(&p->tx_max_len, __ATOMIC_RELAXED);
	uint16_t mtu;

	if (rte_vhost_get_mtu(vid, &mtu) == 0 && mtu != 0)
		lim = RTE_MIN(lim, (uint32_t)mtu + RTE_ETHER_HDR_LEN);
	return lim;
}

/* The port's egress limit from its "mtu" (open, port.set). */
static void
vhost_set_limit(struct ferry_port *p, uint16_t mtu)
{
	__atomic_store_n(&p->tx_max_len, mtu != 0 ? (uint32_t)mtu + RTE_ETHER_HDR_LEN : UINT32_MAX,
			 __ATOMIC_RELAXED);
}

/* VHOST_USER_NET_SET_MTU (QEMU sends the guest's host_mtu before it starts the device): above
 * the port's "mtu" it is refused, so the guest and the switch never disagree on the frames the
 * guest may send and receive (QEMU then reports "<mtu>Bytes MTU not supported by the backend"
 * and leaves the device stopped). Vhost thread. */
bool
ferry_vhost_mtu_msg_ok(int vid, uint64_t mtu)
{
	struct ferry_port *p = ferry_vhost_port_of_vid(vid);
	uint16_t port_mtu = p != NULL ? p->conf.mtu : 0;

	if (port_mtu == 0 || mtu == port_mtu)
		return true;
	if (mtu < port_mtu) {
		FERRY_LOG(WARNING, "port %s: the guest's MTU %" PRIu64 " is below the port's mtu %u: "
			  "frames toward it are limited to %" PRIu64 " bytes untagged",
			  p->conf.name, mtu, port_mtu, mtu + RTE_ETHER_HDR_LEN);
		return true;
	}
	FERRY_LOG(ERR, "port %s: guest MTU %" PRIu64 " (VIRTIO_NET_F_MTU, QEMU host_mtu) refused: "
		  "the port's mtu is %u", p->conf.name, mtu, port_mtu);
	return false;
}

static uint16_t
vhost_tx(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf **m, uint16_t n)
{
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	uint32_t on = __atomic_load_n(&p->vq_tx_on, __ATOMIC_RELAXED);
	uint32_t len[FERRY_PORT_TX_MAX];
	uint16_t rings[FERRY_MAX_QUEUES], sent = 0;
	unsigned nr;

	if (vid >= 0 && on != 0)
		n = ferry_port_tx_fit(p, t, m, n, vhost_max_len(p, vid), UINT16_MAX, len);
	if (n == 0)
		return 0;
	if (vid < 0 || on == 0 || (nr = vhost_rings(t, on, rings)) == 0) {
		ferry_port_count_drop(p, t->pmd, FERRY_DROP_NOT_READY, n);
	} else if (nr == 1) {
		sent = enqueue_guest(p, t, vid, rings[0], m, len, n);
	} else {
		/* spread by flow hash so a flow stays on one ring; group per ring, keep order */
		struct rte_mbuf *g[FERRY_PORT_TX_MAX];
		uint32_t glen[FERRY_PORT_TX_MAX];
		uint8_t ring_of[FERRY_PORT_TX_MAX];
		for (uint16_t i = 0; i < n; i++)
			ring_of[i] = (uint8_t)(ferry_pkt_flow_hash(m[i]) % nr);
		for (unsigned r = 0; r < nr; r++) {
			uint16_t k = 0;
			for (uint16_t i = 0; i < n; i++)
				if (ring_of[i] == r) {
					glen[k] = len[i];
					g[k++] = m[i];
				}
			if (k != 0)
				sent += enqueue_guest(p, t, vid, rings[r], g, glen, k);
		}
	}
	rte_pktmbuf_free_bulk(m, n);   /* vhost copied what it took */
	return sent;
}

static void
vhost_to_json(const struct ferry_port *p, json_t *o)
{
	json_object_set_new(o, "guest_queues_rx", json_integer(__builtin_popcount(p->vq_rx_on)));
	json_object_set_new(o, "guest_queues_tx", json_integer(__builtin_popcount(p->vq_tx_on)));
	json_t *f = json_array();
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	uint16_t mtu;

	ferry_ol_features_json(vid >= 0 ? __atomic_load_n(&p->vnet_features, __ATOMIC_RELAXED) : 0,
			       f);
	json_object_set_new(o, "offloads_negotiated", f);
	if (vid >= 0 && rte_vhost_get_mtu(vid, &mtu) == 0 && mtu != 0)
		json_object_set_new(o, "guest_mtu", json_integer(mtu));   /* its VIRTIO_NET_F_MTU */
}

/* port.set mtu: the egress limit at once (a connected guest keeps the MTU it was started with).
 * zero_copy: queues ferry already reads follow at once; whether ferry reads them at all is
 * decided when the guest (re)connects. lib/switch takes nc as the port's conf afterwards. */
static int
vhost_set(struct ferry_port *p, const struct ferry_port_conf *nc, char *err, size_t errlen)
{
	if (nc->mtu != p->conf.mtu)
		vhost_set_limit(p, nc->mtu);
	for (uint16_t q = 0; q < FERRY_MAX_QUEUES; q++) {
		struct ferry_zcq *zq = __atomic_load_n(&p->zcq[q], __ATOMIC_ACQUIRE);
		if (zq != NULL)
			__atomic_store_n(&zq->mode, nc->zero_copy, __ATOMIC_RELAXED);
	}
	return 0;
}

const struct ferry_port_ops ferry_port_vhost_ops = {
	.name = "vhostuser",
	.claim = FERRY_PORT_CLAIM_SOCKET,
	.open = vhost_open,
	.close = vhost_close,
	.rx = vhost_rx,
	.tx = vhost_tx,
	.stats = ferry_vhost_stats,
	.stats_clear = ferry_vhost_stats_clear,
	.to_json = vhost_to_json,
	.set = vhost_set,
	.poll = ferry_vhost_remap_poll,
	.txq_used_only = true,   /* the guest's rings it never used are not listed */
};
