/* ferry_stage.h — the stage registry (issue #15's plugin API): a stage type is a small ops struct
 * (name, per-instance state create/destroy, a burst function); instances are attached per port at
 * a hook — ingress (after parse and the VLAN/source checks, before the FDB) or egress (per output
 * port, before tx) or rx (every frame as received, before the switch's own checks: port mirroring's
 * rx side). Each port holds one immutable list per hook, NULL when nothing is attached (the
 * datapath then pays one predictable branch per burst); attach/detach build a new list, publish it
 * with an atomic store and free the old one after an rte_rcu_qsbr grace period.
 *
 * Counters: per instance, per PMD (one writer each), summed at read time. */
#ifndef FERRY_STAGE_H
#define FERRY_STAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include "ferry_common.h"

enum ferry_stage_hook { FERRY_STAGE_INGRESS, FERRY_STAGE_EGRESS, FERRY_STAGE_RX, FERRY_STAGE_HOOKS };
extern const char *const ferry_stage_hook_names[FERRY_STAGE_HOOKS];

#define FERRY_STAGE_MAX 8   /* instances per port and hook */

/* Frames a stage sends of its own (a mirror's copies): the PMD queues them in its tx buffer for
 * port slot `port`, sent with the others at the end of its loop iteration. Takes every mbuf. */
struct ferry_stage_tx {
	void (*send)(struct ferry_stage_tx *tx, uint16_t port, struct rte_mbuf **m, uint16_t n);
};

struct ferry_stage_ctx {
	uint16_t port;   /* the ferry port index the stage runs on */
	uint16_t pmd;
	struct ferry_stage_tx *tx;   /* the running PMD's */
};

struct ferry_stage_ops {
	const char *type;                       /* "bpf", ... */
	/* New per-instance state from arg (a type-specific string, e.g. a file). 0 or -1 + err. */
	int (*create)(const char *arg, void **state, char *err, size_t errlen);
	void (*destroy)(void *state);
	/* Bit i of the result set: keep pkts[i] (n <= FERRY_BURST). Must not free or reorder. */
	uint64_t (*burst)(void *state, struct rte_mbuf **pkts, uint16_t n,
			  const struct ferry_stage_ctx *ctx);
	/* Extra fields for listings (may be NULL): added to o. */
	void (*describe)(void *state, json_t *o);
	/* Runs after every stage of its hook without it (attach keeps these at the end), so it sees
	 * only the frames the others keep: a mirror's tx side copies what leaves the port. */
	bool last;
};

struct ferry_stage_ctr {
	uint64_t passed, dropped;
} __rte_cache_aligned;

struct ferry_stage_inst {
	const struct ferry_stage_ops *ops;
	void *state;
	uint8_t hook;
	char name[FERRY_NAME_MAX];
	char arg[4096];
	struct ferry_stage_ctr ctr[FERRY_MAX_PMDS];
};

/* Immutable once published. */
struct ferry_stage_list {
	uint16_t n;
	struct ferry_stage_inst *inst[FERRY_STAGE_MAX];
};

int ferry_stage_register(const struct ferry_stage_ops *ops);
const struct ferry_stage_ops *ferry_stage_find(const char *type);
int ferry_stage_hook_parse(const char *s);   /* enum ferry_stage_hook or -1 */

/* Control thread: a new instance (not yet attached), or NULL with err. */
struct ferry_stage_inst *ferry_stage_create(const char *type, const char *name, int hook,
					    const char *arg, char *err, size_t errlen);
void ferry_stage_destroy(struct ferry_stage_inst *si);
/* A list no PMD can see any more: its instances destroyed, the list freed. */
void ferry_stage_list_free(struct ferry_stage_list *l);
/* Publish *slot + si (attach) or *slot - si (detach), then wait a grace period on qsv and free the
 * old list. Detach does not destroy si. -1: list full / si not there. */
int ferry_stage_attach(struct ferry_stage_list **slot, struct ferry_stage_inst *si,
		       struct rte_rcu_qsbr *qsv);
int ferry_stage_detach(struct ferry_stage_list **slot, struct ferry_stage_inst *si,
		       struct rte_rcu_qsbr *qsv);
/* {port?, hook, name, type, arg, passed, dropped, ...describe} */
json_t *ferry_stage_inst_json(const struct ferry_stage_inst *si);
void ferry_stage_inst_totals(const struct ferry_stage_inst *si, uint64_t *passed,
			     uint64_t *dropped);

/* Datapath: run list's stages over pkts[0..n) (n <= FERRY_BURST); bit i set = keep pkts[i].
 * Nothing is freed or moved here: the caller drops the rest. */
uint64_t ferry_stage_run(const struct ferry_stage_list *l, struct rte_mbuf **pkts, uint16_t n,
			 uint16_t port, uint16_t pmd, struct ferry_stage_tx *tx);

/* Datapath helper: keep pkts[i] for bits of keep (order kept), the others go to drop[]. Returns
 * the kept count; *n_drop is increased. */
static inline uint16_t
ferry_stage_compact(struct rte_mbuf **pkts, uint16_t n, uint64_t keep, struct rte_mbuf **drop,
		    uint16_t *n_drop)
{
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (keep & (UINT64_C(1) << i))
			pkts[k++] = pkts[i];
		else
			drop[(*n_drop)++] = pkts[i];
	}
	return k;
}

#endif
