/* model.h — reference model of ferry's switching semantics (doc/semantics.md), the oracle of the
 * pcap replay tests. Plain C, no DPDK, no code shared with lib/: given the port configuration and
 * each port's input frames it computes every port's output frames, each input frame's fate and the
 * per-port drop counters, polling the ports exactly like one ferryd PMD does. */
#ifndef FERRY_TEST_MODEL_H
#define FERRY_TEST_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_PORTS 16
#define MODEL_MAX_MACS  16
#define MODEL_NAME_LEN  32
#define MODEL_VLAN_MAX  4094      /* highest usable VID */
#define MODEL_NO_VLAN   (-1)      /* "no untagged VLAN" (trunk without native) */

enum model_vlan_mode {
	MODEL_VLAN_DEFAULT,       /* "vlan" absent: trunk of VLANs 0..4094, untagged frames in VLAN 0 */
	MODEL_VLAN_ACCESS,
	MODEL_VLAN_TRUNK,
};

/* Drop reasons, in the order of doc/semantics.md; names as in drops.json. */
enum model_drop {
	MODEL_DROP_RUNT,
	MODEL_DROP_INVALID_SRC,
	MODEL_DROP_SPOOF,
	MODEL_DROP_VLAN,
	MODEL_DROP_VLAN_HOP,
	MODEL_DROP_ADMIN_DOWN,
	MODEL_DROP_NO_DEST,
	MODEL_DROP_COUNT,
	MODEL_FORWARDED = MODEL_DROP_COUNT,   /* fate of a frame that was sent somewhere */
};

extern const char *const model_drop_names[MODEL_DROP_COUNT];

/* One port of the configuration (the subset of a config.json port that affects switching). */
struct model_port_cfg {
	char name[MODEL_NAME_LEN];
	enum model_vlan_mode mode;
	uint16_t tag;                       /* access: the port's VLAN */
	bool allow_all;                     /* trunk: "allowed" absent (1..4094) */
	bool allowed[MODEL_VLAN_MAX + 1];   /* trunk: VLANs listed in "allowed" */
	uint16_t native;                    /* trunk: native VLAN, 0 = none */
	int n_mac;                          /* "mac" list; 0 = no list */
	uint8_t mac[MODEL_MAX_MACS][6];
	bool admin_down;
};

struct model_frame {
	uint8_t *data;
	uint32_t len;
};

/* What happened to one input frame. */
struct model_fate {
	enum model_drop verdict;           /* a drop reason or MODEL_FORWARDED */
	int vlan;                          /* classified VLAN, or -1 if dropped before step 2 ended */
	int n_out;                         /* number of egress ports */
	struct { int port; size_t index; } out[MODEL_MAX_PORTS];   /* index into that port's out */
};

/* Per-port input (set by the caller) and results (filled by model_run). */
struct model_port_io {
	const struct model_frame *in;
	size_t n_in;
	struct model_frame *out;           /* owned; freed by model_io_free */
	size_t n_out, cap_out;
	struct model_fate *fate;           /* n_in entries; owned */
	uint64_t drops[MODEL_DROP_COUNT];
};

struct model_stats {
	uint64_t bursts;                   /* rx bursts with at least one frame */
	uint64_t learned;                  /* new learned FDB entries */
	uint64_t moves;                    /* learned entries that moved to another port */
};

/* Run the whole input through the switch: one PMD, ports polled in config order, up to `burst`
 * frames per port per round, until every input is consumed. Returns 0, or -1 on allocation
 * failure. io[i] belongs to cfg[i]. */
int model_run(const struct model_port_cfg *cfg, struct model_port_io *io, int n_ports,
	      unsigned burst, struct model_stats *stats);

void model_io_free(struct model_port_io *io, int n_ports);

/* VLAN helpers, also used by the scenarios. */
bool model_port_carries(const struct model_port_cfg *p, int vlan);
int model_port_untagged_vlan(const struct model_port_cfg *p);

#endif
