/* ferry_mirror.h — port mirroring (SPAN, issue #16 section 2): a mirror copies the frames chosen
 * by its source ports, direction (rx: as received, before the switch's checks; tx: as they leave,
 * after the VLAN rewrite), VLANs and libpcap filter to one output port, which is out of normal
 * forwarding (never a destination, nothing it receives goes on, dropped `mirror_output`).
 *
 * A mirror's sides are "mirror" stage instances (lib/stage) on each source port: at its rx hook
 * and/or at the end of its egress list. Copies (rte_pktmbuf_copy into the mirrors' own pool, never
 * the originals' one) join the running PMD's tx buffer for the output; a copy that finds no mbuf,
 * or an output that is down or cannot take it, drops the copy and counts it: originals never wait.
 *
 * This module owns the mirror objects; lib/switch (switch_mirror.c) checks them against the ports
 * and attaches their stages. Control thread only, except the stage's burst function. */
#ifndef FERRY_MIRROR_H
#define FERRY_MIRROR_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ferry_common.h"

#define FERRY_MIRROR_MAX        16      /* mirrors at once */
#define FERRY_MIRROR_PORTS      32      /* source ports per mirror */
#define FERRY_MIRROR_FILTER_MAX 1024    /* bytes of a filter expression */
#define FERRY_MIRROR_MBUFS      8191    /* the copies' pool, per NUMA node, all mirrors */


/* A mirror as configured: "mirrors": [{name, ports, direction, vlans?, filter?, output}]. */
struct ferry_mirror_conf {
	char name[FERRY_NAME_MAX];
	uint16_t n_ports;
	char ports[FERRY_MIRROR_PORTS][FERRY_NAME_MAX];
	unsigned dirs;                       /* FERRY_DIR_RX | FERRY_DIR_TX */
	bool has_vlans;                      /* "vlans" given: only frames of these VLANs */
	uint64_t vlans[4096 / 64];           /* bit v: VLAN v (0..4094; 0 = the untagged domain) */
	char filter[FERRY_MIRROR_FILTER_MAX];   /* "" = every frame */
	char output[FERRY_NAME_MAX];
};

/* One mirror object; where names it ("mirrors[1]", "params"): "<where>.<field>: <problem>".
 * Checks the mirror alone (the output among its ports is refused); not the ports' existence. */
int ferry_mirror_conf_parse(json_t *o, const char *where, struct ferry_mirror_conf *mc,
			    char *err, size_t errlen);
json_t *ferry_mirror_conf_to_json(const struct ferry_mirror_conf *mc);
bool ferry_mirror_conf_has_port(const struct ferry_mirror_conf *mc, const char *port);
/* May a and b both exist? NULL if so; else the field of a at fault ("name", "output", "ports")
 * with why ("port X is the output of mirror B"). */
const char *ferry_mirror_conf_conflict(const struct ferry_mirror_conf *a,
				       const struct ferry_mirror_conf *b, char *why, size_t len);
struct ferry_mirror;
struct ferry_port;
struct ferry_stage_inst;

/* A new mirror copying to out (its filter compiled: a bad one is NULL with libpcap's message).
 * Not attached anywhere. */
struct ferry_mirror *ferry_mirror_create(const struct ferry_mirror_conf *mc, struct ferry_port *out,
					 char *err, size_t errlen);
/* out carries nothing but m's copies from now on (a grace period passed): m's counters start. */
void ferry_mirror_start(struct ferry_mirror *m);
/* A new stage instance of m for source port src at hook (FERRY_STAGE_RX or FERRY_STAGE_EGRESS),
 * to be attached to src's list; NULL with err. */
struct ferry_stage_inst *ferry_mirror_stage(struct ferry_mirror *m, struct ferry_port *src,
					    int hook, char *err, size_t errlen);
/* No stage instance of m is attached any more (a grace period passed): m is freed. */
void ferry_mirror_destroy(struct ferry_mirror *m);

const struct ferry_mirror_conf *ferry_mirror_conf(const struct ferry_mirror *m);
/* src left the mirror's ports (its instances were detached or freed with it). */
void ferry_mirror_drop_port(struct ferry_mirror *m, const char *src);
/* {name, ports, direction, vlans, filter, output, selected, mirrored, bytes, dropped} */
json_t *ferry_mirror_json(const struct ferry_mirror *m);
/* The table of mirrors: iterate (NULL: the first), find by name, how many. */
struct ferry_mirror *ferry_mirror_next(struct ferry_mirror *prev);
struct ferry_mirror *ferry_mirror_find(const char *name);
unsigned ferry_mirror_count(void);

#endif
