/* ferry_config.h — the JSON configuration: a file for ferryd, the same port object for port.add.
 *
 * Every parse error is reported as "<JSON path>: <problem>", e.g. "ports[1].vlan.tag: must be 1..4094",
 * and the caller prefixes the file name. Parsing never touches a device. */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>
#include <rte_ether.h>
#include "ferry_common.h"
#include "ferry_vlan.h"
#include "ferry_port_fields.h"

/* vhostuser "zero_copy": transmit guest frames to NICs from guest memory (lib/zc). */
enum ferry_zc_mode { FERRY_ZC_AUTO, FERRY_ZC_ON, FERRY_ZC_OFF };
extern const char *const ferry_zc_mode_names[3];
/* vhostuser "enqueue": who writes the guest's receive rings (doc/rx-path.md) */
enum ferry_enq_mode { FERRY_ENQ_RTE_VHOST, FERRY_ENQ_FERRY };
extern const char *const ferry_enq_mode_names[2];

#define FERRY_MAX_VFS 64

/* A PF's VF as the PF driver should set it up (only PMDs with a VF API: ixgbe, i40e). */
struct ferry_vf_conf {
	uint16_t vf;
	bool has_mac;
	struct rte_ether_addr mac;
	uint16_t vlan;              /* 0 = none: VLAN the PF inserts on the VF's transmit */
};

/* An eBPF filter attached to a port (lib/filter): "filters": [{hook, path, name, maps}]. */
#define FERRY_MAX_FILTERS 8          /* per port, both hooks */
#define FERRY_FILTER_PATH_MAX 256
#define FERRY_FILTER_INIT_MAPS 8     /* "maps": entries written before attach (lib/filter) */
#define FERRY_FILTER_INIT_MAX 32     /* ... at most this many entries */
#define FERRY_FILTER_INIT_BYTES 2048 /* ... of this many value bytes in all */
enum ferry_filter_hook { FERRY_FILTER_INGRESS, FERRY_FILTER_EGRESS };   /* = FERRY_STAGE_* */
/* One configured map entry: its value is init_data[off .. off + len). */
struct ferry_filter_init {
	uint8_t map;                /* into init_maps */
	uint16_t off, len;
	uint32_t index;
};
struct ferry_filter_conf {
	uint8_t hook;               /* enum ferry_filter_hook */
	char name[FERRY_NAME_MAX];  /* unique on the port; default: the file name without ".o" */
	char path[FERRY_FILTER_PATH_MAX];   /* absolute */
	/* "maps": {"<map>": [{"index": N, "value": "hex"}]}, as configured (config.get shows these,
	 * not the maps' current values), parsed by lib/filter/filter_conf.c */
	uint8_t n_init_maps;
	uint16_t n_init, init_bytes;
	char init_maps[FERRY_FILTER_INIT_MAPS][FERRY_NAME_MAX];
	struct ferry_filter_init init[FERRY_FILTER_INIT_MAX];
	uint8_t init_data[FERRY_FILTER_INIT_BYTES];
};

/* Isolation controls (issue #17, lib/police): "policer" {"pps": N} or {"kbps": N}, "burst"? */
struct ferry_policer_conf {
	uint32_t pps, kbps;         /* one of them; both 0: no policer */
	uint32_t burst;             /* packets (pps) or kilobytes (kbps); 0: 10 ms of the rate */
};
/* "storm": {"broadcast_pps", "multicast_pps", "unknown_unicast_pps"}: flooded frames per second */
enum ferry_storm_kind { FERRY_STORM_BROADCAST, FERRY_STORM_MULTICAST, FERRY_STORM_UNKNOWN,
			FERRY_STORM_KINDS };
extern const char *const ferry_storm_keys[FERRY_STORM_KINDS];
struct ferry_storm_conf {
	uint32_t pps[FERRY_STORM_KINDS];   /* 0: no limit for that kind */
};
/* "mac_limit" when a port has none: vhostuser ports learn at most this many MACs, dpdk any */
#define FERRY_VHOST_MAC_LIMIT_DEFAULT 256

struct ferry_port_conf {
	char name[FERRY_NAME_MAX];
	enum ferry_port_type type;
	/* dpdk */
	char devargs[512];
	uint16_t rxq, txq;          /* 0 = one per PMD (rx) / one per PMD (tx), capped by the device */
	uint16_t vm_queues;         /* rx queues reserved for VMs after the rxq ones (lib/steer) */
	uint16_t rxd, txd;          /* descriptors; 0 = 1024 */
	uint16_t mtu;               /* 0 = device default */
	bool has_hw_mac;
	struct rte_ether_addr hw_mac;   /* the device's own MAC (a VF asks its PF through the mailbox) */
	uint16_t num_vfs;           /* SR-IOV PF: VFs to create (sysfs), 0 = leave as is */
	uint16_t n_vfs;
	struct ferry_vf_conf vfs[FERRY_MAX_VFS];
	char vm[FERRY_NAME_MAX];    /* "vm": the vhostuser port whose own function it is, "" = none */
	/* vhostuser */
	char path[FERRY_PATH_MAX];
	bool client;                /* "mode": "client" = ferryd connects to QEMU's socket */
	uint8_t zero_copy;          /* enum ferry_zc_mode */
	uint8_t enqueue;            /* enum ferry_enq_mode */
	bool offloads_off;          /* "offloads": false: no checksum/segmentation offloads (lib/offload) */
	/* every port */
	uint16_t n_macs;
	struct rte_ether_addr macs[FERRY_MAX_MACS];
	struct ferry_vlan_conf vlan;
	bool admin_down;
	json_t *external_ids;       /* object of strings, owned (may be NULL) */
	uint16_t n_filters;
	struct ferry_filter_conf filters[FERRY_MAX_FILTERS];
	struct ferry_policer_conf policer;
	struct ferry_storm_conf storm;
	bool has_mac_limit;         /* "mac_limit" given (0: no limit); else the type's default */
	uint32_t mac_limit;
};

/* The learned-MAC limit in force on a port: its "mac_limit", or its type's default; 0 = none. */
uint32_t ferry_port_conf_mac_limit(const struct ferry_port_conf *pc);

struct ferry_mirror_conf;

#define FERRY_MAX_SOCKET_DIRS 8
/* vhost.socket_dirs when the configuration has none: /run/ferry, /var/lib/ferry (NULL-ended). */
extern const char *const ferry_vhost_default_socket_dirs[];
/* rpc.filter_dirs when the configuration has none: /usr/lib/ferry/plugins, /etc/ferry/plugins. */
extern const char *const ferry_default_filter_dirs[];

struct ferry_conf {
	char path[256];             /* file it came from, "" for the built-in default */
	unsigned main_lcore;
	unsigned n_pmds;
	unsigned pmd_lcores[FERRY_MAX_PMDS];
	unsigned burst;             /* 1..FERRY_BURST */
	uint32_t mbufs;             /* per NUMA socket */
	uint32_t fdb_size;
	uint32_t fdb_aging_s;
	char rpc_socket[FERRY_PATH_MAX];
	uint32_t rpc_mode;          /* file mode of the control socket */
	char rpc_group[64];
	unsigned rpc_idle_timeout_s;   /* close idle control clients after this long; 0 = never */
	char vfio_vf_token[40];     /* UUID shared by SR-IOV PFs and VFs on vfio-pci, "" = none */
	/* what an RPC client may make ferryd touch (ferry_config_policy.c); config ports are trusted */
	char rpc_save_dir[256];     /* config.save may write inside it too; "" = the started file only */
	char rpc_capture_dir[256];  /* capture.start writes only inside it (rpc.capture_dir) */
	bool rpc_allow_host_devargs;   /* port.add over RPC may name host files and interfaces */
	unsigned n_vhost_socket_dirs;  /* vhost-user sockets of ports added over RPC: inside these */
	char vhost_socket_dirs[FERRY_MAX_SOCKET_DIRS][FERRY_PATH_MAX];
	unsigned n_filter_dirs;     /* filter objects named over RPC: inside these (rpc.filter_dirs) */
	char filter_dirs[FERRY_MAX_SOCKET_DIRS][FERRY_FILTER_PATH_MAX];
	char metrics_listen[64];    /* metrics.listen: "HOST:PORT" of GET /metrics, "" = off */
	unsigned n_eal_args;
	char *eal_args[32];         /* owned */
	unsigned n_ports;
	struct ferry_port_conf *ports;   /* owned array */
	unsigned n_mirrors;
	struct ferry_mirror_conf *mirrors;   /* owned array (lib/mirror: "mirrors") */
};

/* The built-in demo configuration (a net_tap uplink and a vhost-user port waiting for a guest). */
extern const char ferry_config_default_json[];

/* Parse a whole configuration. Returns 0, or -1 with err filled ("<path>: <problem>"). */
int ferry_config_parse(json_t *root, struct ferry_conf *conf, char *err, size_t errlen);
int ferry_config_load_file(const char *file, struct ferry_conf *conf, char *err, size_t errlen);
int ferry_config_load_string(const char *text, struct ferry_conf *conf, char *err, size_t errlen);
void ferry_config_free(struct ferry_conf *conf);
/* Adds rpc.save_dir, rpc.allow_host_devargs and vhost.socket_dirs to a configuration object
 * (config.get), creating "rpc" if it has none. */
void ferry_config_policy_to_json(const struct ferry_conf *conf, json_t *o);
/* Adds "metrics" ({"listen": ...}) to a configuration object (config.get) if it is set. */
void ferry_config_metrics_to_json(const struct ferry_conf *conf, json_t *o);
/* "HOST:PORT" (metrics.listen): an IPv4 address or a bracketed IPv6 one ("[::1]:9465"), port
 * 1..65535. Fills *sa and *salen when not NULL. 0, or -1 with err (the value and the rule). */
int ferry_config_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *salen,
			      char *err, size_t errlen);

/* A filter object ({hook, path, name, maps}) of a port; `where` names it ("ports[0].filters[1]").
 * Syntax only: the object file is opened when the port is added. */
int ferry_filter_conf_parse(json_t *obj, const char *where, struct ferry_filter_conf *fc,
			    char *err, size_t errlen);
json_t *ferry_filter_conf_to_json(const struct ferry_filter_conf *fc);
/* lib/filter/filter_conf.c: "maps" (may be NULL: none) into fc; 0 or -1 with err naming where.
 * And back: the object, or NULL when fc has no entries. */
int ferry_filter_conf_maps_parse(const json_t *maps, const char *where, struct ferry_filter_conf *fc,
				 char *err, size_t errlen);
json_t *ferry_filter_conf_maps_json(const struct ferry_filter_conf *fc);

/* Parse one port object; `where` is its JSON path for messages ("ports[2]" or "params"). */
int ferry_port_conf_parse(json_t *obj, const char *where, struct ferry_port_conf *pc,
			  char *err, size_t errlen);
void ferry_port_conf_clear(struct ferry_port_conf *pc);
/* The port object back as JSON (what config.get and port.get return). New reference. */
json_t *ferry_port_conf_to_json(const struct ferry_port_conf *pc);
/* devargs naming a virtual device (net_pcap0,..., eth_...) rather than a bus device (PCI). */
bool ferry_devargs_is_vdev(const char *devargs);
/* true if both describe the same port (idempotent port.add). */
bool ferry_port_conf_equal(const struct ferry_port_conf *a, const struct ferry_port_conf *b);
/* Two ports that may not both exist: the first field marked unique in ferry_port_fields[] (name,
 * vhost-user path, dpdk devargs) that applies to both and has one value in both, with that value
 * as text in value; NULL if they may. */
const struct ferry_port_field *ferry_port_conf_conflict(const struct ferry_port_conf *a,
							const struct ferry_port_conf *b,
							char *value, size_t len);
int ferry_port_conf_copy(struct ferry_port_conf *dst, const struct ferry_port_conf *src);

#endif
