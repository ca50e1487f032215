/* ferry_port.h — a switch port: a DPDK ethdev (any devargs) or a vhost-user guest (rte_vhost).
 *
 * Each port type is a struct ferry_port_ops in a file of its own (port_dpdk.c, port_vhost*.c),
 * found through the registry in port.c by the configuration's "type"; the switch and the PMDs
 * only call through p->ops. Fields read by PMDs are either immutable while the port is in the
 * switch, or single words written with atomics by the control thread / the type's callbacks.
 * Counters are per PMD (or per queue with exactly one writer) so PMDs never share a written
 * cache line. */
#ifndef FERRY_PORT_H
#define FERRY_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_seqcount.h>
#include <rte_spinlock.h>
#include "ferry_common.h"
#include "ferry_config.h"
#include "ferry_offload.h"
#include "ferry_police.h"
#include "ferry_sock.h"
#include "ferry_stage.h"
#include "ferry_vlan.h"
#include "ferry_zc.h"

/* ferry_port_policy.controls: the isolation controls a port has (issue #17) */
#define FERRY_CTL_POLICER 1u
#define FERRY_CTL_STORM   2u

/* ferry_port_policy.off: why a port is out of forwarding (never a destination, its rx dropped) */
#define FERRY_PORT_OFF_ADMIN  1u      /* admin down: rx dropped `admin_down` */
#define FERRY_PORT_OFF_MIRROR 2u      /* a mirror's output (lib/mirror): rx dropped `mirror_output` */
#define FERRY_PORT_OFF_VM     4u      /* a dpdk port declared "vm": rx only, through its owned path */
#define FERRY_PORT_OFF_RX     (FERRY_PORT_OFF_ADMIN | FERRY_PORT_OFF_MIRROR)   /* rx dropped */

/* What the classifier checks per port; immutable once published, replaced whole on port.set
 * (its buckets are the only words PMDs write, each on its own cache line, and a new policy
 * starts them full). */
struct ferry_port_policy {
	struct ferry_vlan_policy vlan;
	uint64_t macs[FERRY_MAX_MACS];    /* allowed source MACs (ferry_pkt form); none = any */
	uint16_t n_macs;
	uint8_t off;                      /* FERRY_PORT_OFF_*: 0 = forwarding */
	uint8_t controls;                 /* FERRY_CTL_*: which buckets below are in use */
	uint32_t mac_limit;               /* learned MACs at most; 0 = no limit */
	struct ferry_bucket policer;      /* ingress, every frame received */
	struct ferry_bucket storm[FERRY_STORM_KINDS];   /* frames flooded, by kind */
} __rte_cache_aligned;

struct ferry_qstats {
	uint64_t pkts, bytes, drops;
};

/* One per (port, PMD): written only by that PMD, a burst's counters inside one write section of
 * seq (ferry_pipeline_run, ferry_port_tx_done), so a reader (ferry_port_stats_read) sees each
 * burst whole: rx_pkts = forwarded + drops holds in every snapshot and every stats.clear baseline. */
struct ferry_port_pmd_stats {
	rte_seqcount_t seq;
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drops[FERRY_DROP_MAX];
	uint64_t mac_moves, learn_full;
} __rte_cache_aligned;

struct ferry_port;

/* Events a port type reports to the switch (from any thread), handled on the control thread. */
enum ferry_port_event {
	FERRY_PORT_EV_CONNECTED = 1,      /* the link came up (a guest's device runs) */
	FERRY_PORT_EV_DISCONNECTED,       /* the link went down */
	FERRY_PORT_EV_QUEUE,              /* q enabled (flags 1) or disabled, rx (flags 2) or tx */
	FERRY_PORT_EV_REMOVED,            /* the device vanished: the switch drops the port */
	FERRY_PORT_EV_REFUSED,            /* a connection was refused (ferry_port_vhost_refused) */
	FERRY_PORT_EV_WAKE,               /* only a wake-up: ferry_port_types_poll has work */
};

/* What a port needs from the switch that owns it; outlives every port opened with it. */
struct ferry_port_host {
	void *ctx;
	struct rte_mempool *const *pools;    /* one per NUMA node */
	unsigned n_pmds;
	/* queue an event for the control thread: any thread, never blocks (a vhost callback may
	 * hold rte_vhost's ring locks) */
	void (*post)(void *ctx, uint16_t idx, enum ferry_port_event ev, uint16_t q, int flags);
	/* an RCU grace period: when it returns no PMD is inside a burst it began before */
	void (*quiesce)(void *ctx);
};

/* The PMD a burst is sent from: its index (counter row, tx queue choice), how many PMDs there
 * are, and its mempool for copies. */
struct ferry_port_txctx {
	uint16_t pmd;
	uint16_t n_pmds;
	struct rte_mempool *pool;
	struct ferry_stage_tx *stx;       /* egress stages' own frames (a mirror's copies) */
};

/* What a port's configuration names on the host: what lib/rpc checks of a port added over RPC
 * (two ports never share it: the config's unique fields, lib/config). */
enum ferry_port_claim {
	FERRY_PORT_CLAIM_DEVICE,          /* devargs: a bus device, or a vdev (host files, ifaces) */
	FERRY_PORT_CLAIM_SOCKET,          /* a unix socket path */
};

#define FERRY_PORT_TX_MAX (2 * FERRY_BURST)   /* frames in one ops->tx call, at most */

/* A port type. Control-thread calls unless said otherwise; optional ones may be NULL. */
struct ferry_port_ops {
	const char *name;                 /* the configuration's "type" */
	enum ferry_port_claim claim;
	/* optional, before EAL init (configured ports) or open: host setup (SR-IOV VFs). FERRY_E* */
	int (*prepare)(const struct ferry_port_conf *pc, char *err, size_t errlen);
	/* optional: the bus device EAL must be given (-a) at start, or NULL */
	const char *(*eal_device)(const struct ferry_port_conf *pc);
	/* Open the device (probe, configure, start / register the socket); on failure undo it.
	 * 0 or a FERRY_E* code with err set. Not yet visible to PMDs; its callbacks may run. */
	int (*open)(struct ferry_port *p, char *err, size_t errlen);
	void (*start)(struct ferry_port *p);   /* optional: about to become visible to PMDs */
	void (*stop)(struct ferry_port *p);    /* optional: gone from the datapath (grace passed) */
	void (*close)(struct ferry_port *p);   /* callbacks no longer find it when it returns */
	/* PMD: a burst from rx queue q (one indirect call per burst) */
	uint16_t (*rx)(struct ferry_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n);
	/* PMD: send m[0, n), counted in p's tx counters; the port owns them all (what it cannot send
	 * is freed and counted). Returns how many it sent. */
	uint16_t (*tx)(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf **m,
		       uint16_t n);
	/* optional: the link state, polled; NULL: the type posts FERRY_PORT_EV_(DIS)CONNECTED */
	bool (*link)(const struct ferry_port *p);
	/* optional: type-specific members of port.stats (o), and their stats.clear */
	void (*stats)(const struct ferry_port *p, json_t *o);
	void (*stats_clear)(struct ferry_port *p);
	/* optional: type-specific members of port.list / port.get (o) */
	void (*to_json)(const struct ferry_port *p, json_t *o);
	/* optional, port.set: follow nc (the switch then makes it p->conf). Last of what port.set
	 * can refuse: on failure nothing changed. 0 or FERRY_E* with err set. */
	int (*set)(struct ferry_port *p, const struct ferry_port_conf *nc, char *err, size_t errlen);
	/* optional: the type's housekeeping (control thread, every ferry_switch_poll) */
	void (*poll)(void);
	bool txq_used_only;               /* port.stats lists only tx queues that carried frames */
};

struct ferry_port {
	/* --- read by PMDs --- */
	const struct ferry_port_ops *ops;
	uint16_t idx;                     /* slot in the switch */
	uint8_t txq_shared;               /* dpdk: fewer tx queues than PMDs, take txq_lock */
	uint16_t eth_port;                /* dpdk */
	uint16_t n_txq;                   /* tx queues (vhost: FERRY_MAX_QUEUES guest RX rings) */
	int vid;                          /* vhost: device id while a guest runs, else -1 */
	uint32_t vq_rx_on;                /* vhost: guest TX rings enabled, bit q (ferry's rx q) */
	uint32_t vq_tx_on;                /* vhost: guest RX rings enabled, bit q (ferry's tx q) */
	uint32_t tx_max_len;              /* dpdk: egress frame limit untagged, MTU + 14 (+4 a tag) */
	uint16_t tx_max_segs;             /* dpdk: segments per frame its device sends */
	uint8_t tx_ol;                    /* FERRY_OL_*: offloaded frames its egress takes as they are */
	uint64_t vnet_features;           /* vhost: the running guest's negotiated features (0: none) */
	struct ferry_port_policy *policy; /* RCU-replaced */
	struct ferry_stage_list *stages[FERRY_STAGE_HOOKS];   /* RCU-replaced; NULL: none attached */
	struct ferry_zcq *zcq[FERRY_MAX_QUEUES];   /* vhost: ferry's own dequeue of guest TX ring q */
	struct ferry_rxq *rxq[FERRY_MAX_QUEUES];   /* vhost: ferry's own enqueue into guest RX ring q */
	struct rte_mempool *pool;         /* vhost dequeue */
	struct rte_mempool *pool_big;     /* vhost dequeue of a TSO guest: one mbuf a 64 KB frame */
	struct ferry_port_pmd_stats *stats;     /* [n_pmds] */
	struct ferry_qstats *txq_stats;         /* [n_pmds * FERRY_MAX_QUEUES] */
	struct ferry_qstats rxq_stats[FERRY_MAX_QUEUES];  /* one writer: the PMD polling q */
	rte_spinlock_t txq_lock[FERRY_MAX_QUEUES];

	/* --- vhost thread (callbacks) --- */
	struct ferry_zc_mem *zc_mem;      /* the running guest's memory, as ferry maps it */
	uint8_t zc_state;                 /* enum ferry_zc_state of the running (or last) guest */
	bool zc_held;                     /* its queues held while rte_vhost changes the dirty log */
	uint8_t rx_state;                 /* enum ferry_zc_state of its receive rings ("enqueue") */

	/* --- control thread only --- */
	const struct ferry_port_host *host;   /* set before open; the type's callbacks use it too */
	bool zc_dma;                      /* on a DMA bus: guest memory is mapped for it (ferry_zc_env) */
	bool zc_noseg;                    /* cannot send chained external buffers (ferry_zc_env) */
	struct ferry_zc_stats zc_total;   /* vhost: counters of stopped queues */
	struct ferry_zc_stats zc_base;    /* vhost: stats.clear baseline */
	struct ferry_rxq_stats rx_total;  /* vhost: counters of stopped receive queues */
	struct ferry_rxq_stats rx_base;   /* vhost: their stats.clear baseline */
	struct ferry_port_conf conf;
	char mirror_output[FERRY_NAME_MAX];   /* the mirror it is the output of, "" = none */
	struct ferry_sock_id sock_id;     /* vhost server: the socket file bound (removed only if so) */
	uint16_t n_rxq;                   /* queues PMDs poll (vhost: grows as the guest enables) */
	/* the VM (vhostuser slot) whose frames the NIC steers to rx queue q, FERRY_PORT_NONE: a
	 * shared queue; control thread (ferry_switch_rxq_own), the PMDs see it in their poll lists */
	uint16_t rxq_vm[FERRY_MAX_QUEUES];
	uint16_t n_rss;                   /* dpdk: the first n_rss rx queues are RSS's, the rest
					   * (vm_queues) reserved for VMs (lib/steer) */
	char rss_note[128];               /* dpdk: why RSS may reach the reserved queues ("": never) */
	uint16_t n_pmds;
	int socket;                       /* NUMA node */
	bool link_up;                     /* last state reported as an event */
	uint64_t created_tsc;
	struct ferry_port_pmd_stats base; /* stats.clear baseline */
	struct ferry_qstats rxq_base[FERRY_MAX_QUEUES];
	struct ferry_qstats *txq_base;
} __rte_cache_aligned;

/* The port types (port.c's registry). */
extern const struct ferry_port_ops ferry_port_dpdk_ops, ferry_port_vhost_ops;
const struct ferry_port_ops *ferry_port_type_ops(const struct ferry_port_conf *pc);
/* Its type's prepare, if any (ferryd before EAL init, for every configured port). */
int ferry_port_prepare(const struct ferry_port_conf *pc, char *err, size_t errlen);
/* The bus device EAL must be given for pc, or NULL. */
const char *ferry_port_eal_device(const struct ferry_port_conf *pc);

/* ops->open with host; 0 or FERRY_E*. */
int ferry_port_open(struct ferry_port *p, const struct ferry_port_host *host, char *err,
		    size_t errlen);
/* Housekeeping of every port type (control thread, each ferry_switch_poll). */
void ferry_port_types_poll(void);
/* vhost-user: connections refused since the port was added (port.connection_refused). */
uint32_t ferry_port_vhost_refused(const struct ferry_port *p);

struct ferry_port *ferry_port_alloc(const struct ferry_port_conf *pc, uint16_t idx, unsigned n_pmds);
void ferry_port_free(struct ferry_port *p);
struct ferry_port_policy *ferry_port_policy_build(const struct ferry_port_conf *pc);

static inline bool
ferry_port_src_allowed(const struct ferry_port_policy *pol, uint64_t src)
{
	if (pol->n_macs == 0)
		return true;
	for (unsigned i = 0; i < pol->n_macs; i++)
		if (pol->macs[i] == src)
			return true;
	return false;
}

/* PMD pmd's counters of p, whole (no burst half counted); control thread. */
void ferry_port_stats_read(const struct ferry_port *p, uint16_t pmd,
			   struct ferry_port_pmd_stats *out);
/* rx queue q's counters, whole; pmd is the PMD that polls q. */
void ferry_port_rxq_read(const struct ferry_port *p, uint16_t pmd, uint16_t q,
			 struct ferry_qstats *out);

static inline void
ferry_port_count_drop(struct ferry_port *p, uint16_t pmd, enum ferry_drop why, uint64_t n)
{
	p->stats[pmd].drops[why] += n;
}

/* Receive a burst from queue q. */
static inline uint16_t
ferry_port_rx(struct ferry_port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return p->ops->rx(p, q, pkts, n);
}

/* Send a burst (see ops->tx). */
static inline uint16_t
ferry_port_tx(struct ferry_port *p, const struct ferry_port_txctx *t, struct rte_mbuf **m,
	      uint16_t n)
{
	return p->ops->tx(p, t, m, n);
}

#endif
