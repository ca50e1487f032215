/* ferry_bpf_filter.h — eBPF filter programs (plugins/include/ferry_filter.h is their ABI):
 * an object file opened with libbpf (never loaded into the kernel), its "filter" section's
 * instructions relocated against maps ferry owns, verified and run by DPDK's rte_bpf (JIT where the
 * CPU allows). One struct ferry_filter per attached instance; it registers the "bpf" stage type. */
#ifndef FERRY_BPF_FILTER_H
#define FERRY_BPF_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <rte_mbuf.h>
#include <rte_per_lcore.h>

#define FERRY_FILTER_WINDOW   256   /* bytes contiguous at R1 (the ABI) */
#define FERRY_FILTER_MAX_MAPS 8
#define FERRY_FILTER_LIST_MAX 64    /* map values filter.list shows per map */

/* A map as the program sees it: ld_imm64 of a map symbol loads this descriptor's address. */
struct ferry_filter_map {
	uint32_t type, key_size, value_size, max_entries;
	uint8_t *values;                /* max_entries * value_size, rte_zmalloc'ed, cache-aligned */
	char name[64];
};

struct rte_bpf;
struct ferry_filter_conf;

struct ferry_filter {
	uint64_t (*jit)(void *);        /* NULL: the interpreter */
	struct rte_bpf *bpf;
	unsigned n_maps;
	bool on_heap;                   /* DPDK heap (rte_zmalloc), or libc (ferry_filter_check) */
	struct ferry_filter_map maps[FERRY_FILTER_MAX_MAPS];
	char path[4096];
};

/* Open, relocate and verify path's "filter" program. Control thread (rte_bpf's verifier messages
 * are captured from the DPDK log). Returns 0, or -1 with the reason in err. */
int ferry_filter_load(const char *path, struct ferry_filter **out, char *err, size_t errlen);
void ferry_filter_free(struct ferry_filter *f);
/* The same checks without DPDK's heap (before rte_eal_init: ferryd --check). 0 or -1 + err. */
int ferry_filter_check(const char *path, char *err, size_t errlen);
/* The same, and fc's configured "maps" entries checked against the object's maps. */
int ferry_filter_check_conf(const struct ferry_filter_conf *fc, char *err, size_t errlen);
/* The maps as filter.list shows them: [{name, type, key_size, value_size, max_entries, values}]. */
json_t *ferry_filter_maps_json(const struct ferry_filter *f);

/* --- filter_maps.c: the control thread reads and writes map entries while PMDs run --- */
/* One entry to write: value is len bytes. */
struct ferry_filter_entry {
	uint32_t index, len;
	const uint8_t *value;
};
struct ferry_filter_map *ferry_filter_map_by_name(struct ferry_filter *f, const char *name);
/* Can e go into m (index < max_entries, len == value_size)? 0, or -1 with err (where names the
 * entry: "params.values[2]"). */
int ferry_filter_map_check(const struct ferry_filter_map *m, const struct ferry_filter_entry *e,
			   const char *where, char *err, size_t errlen);
/* Write a checked entry word by word, in order, the last word last (lib/filter/README.md): an
 * aligned 8-byte word is one atomic store, so no reader sees it torn. */
void ferry_filter_map_write(struct ferry_filter_map *m, const struct ferry_filter_entry *e);
/* The entry's first max bytes (all if 0) as lowercase hex, read word by word. */
json_t *ferry_filter_map_hex(const struct ferry_filter_map *m, uint32_t index, uint32_t max);
/* Write fc's configured "maps" entries into f (before it is attached): all are checked first;
 * nothing is written if one does not fit. 0 or -1 with err. */
int ferry_filter_maps_load(struct ferry_filter *f, const struct ferry_filter_conf *fc, char *err,
			   size_t errlen);

/* --- filter_conf.c: map entries in JSON --- */
/* {"index": N, "value": "hex"} (where names it, e.g. "params.values[0]"): index, and the value
 * decoded into buf (cap bytes) with its length. 0 or -1 with err. */
int ferry_filter_entry_parse(const json_t *o, const char *where, uint32_t *index, uint8_t *buf,
			     size_t cap, uint32_t *len, char *err, size_t errlen);

/* Per-lcore context the helpers read (set before every run). */
RTE_DECLARE_PER_LCORE(uint32_t, ferry_filter_len) __attribute__((tls_model("initial-exec")));
RTE_DECLARE_PER_LCORE(uint32_t, ferry_filter_port) __attribute__((tls_model("initial-exec")));

/* Run f on one frame: nonzero = pass. Datapath, no allocation. */
uint64_t ferry_filter_exec(const struct ferry_filter *f, struct rte_mbuf *m);
/* The same over a burst on port (n <= 64): bit i set = pkts[i] passes. */
uint64_t ferry_filter_exec_burst(const struct ferry_filter *f, struct rte_mbuf **pkts, uint16_t n,
				 uint16_t port);

/* Registers the "bpf" stage type with lib/stage (called once, at switch creation). */
void ferry_filter_stage_register(void);

#endif
