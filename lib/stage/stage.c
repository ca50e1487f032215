/* stage.c — the stage registry, per-port stage lists (RCU-published) and the datapath runner. */
#include <string.h>
#include <rte_malloc.h>
#include "ferry_stage.h"

#define MAX_TYPES 16

const char *const ferry_stage_hook_names[FERRY_STAGE_HOOKS] = { "ingress", "egress", "rx" };

static const struct ferry_stage_ops *types[MAX_TYPES];
static unsigned n_types;

int
ferry_stage_register(const struct ferry_stage_ops *ops)
{
	if (ferry_stage_find(ops->type) != NULL)
		return 0;
	if (n_types == MAX_TYPES)
		return -1;
	types[n_types++] = ops;
	return 0;
}

const struct ferry_stage_ops *
ferry_stage_find(const char *type)
{
	for (unsigned i = 0; i < n_types; i++)
		if (strcmp(types[i]->type, type) == 0)
			return types[i];
	return NULL;
}

int
ferry_stage_hook_parse(const char *s)
{
	for (int h = 0; h < FERRY_STAGE_HOOKS; h++)
		if (strcmp(s, ferry_stage_hook_names[h]) == 0)
			return h;
	return -1;
}

struct ferry_stage_inst *
ferry_stage_create(const char *type, const char *name, int hook, const char *arg,
		   char *err, size_t errlen)
{
	const struct ferry_stage_ops *ops = ferry_stage_find(type);
	struct ferry_stage_inst *si;

	if (ops == NULL) {
		snprintf(err, errlen, "no stage type %s", type);
		return NULL;
	}
	si = rte_zmalloc("ferry_stage", sizeof(*si), RTE_CACHE_LINE_SIZE);
	if (si == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	si->ops = ops;
	si->hook = (uint8_t)hook;
	snprintf(si->name, sizeof(si->name), "%s", name);
	snprintf(si->arg, sizeof(si->arg), "%s", arg);
	if (ops->create(arg, &si->state, err, errlen) < 0) {
		rte_free(si);
		return NULL;
	}
	return si;
}

void
ferry_stage_destroy(struct ferry_stage_inst *si)
{
	if (si == NULL)
		return;
	si->ops->destroy(si->state);
	rte_free(si);
}

void
ferry_stage_list_free(struct ferry_stage_list *l)
{
	for (uint16_t i = 0; l != NULL && i < l->n; i++)
		ferry_stage_destroy(l->inst[i]);
	rte_free(l);
}

/* Swap *slot for nl (NULL when empty), wait until no PMD can still see the old list, free it. */
static void
publish(struct ferry_stage_list **slot, struct ferry_stage_list *nl, struct rte_rcu_qsbr *qsv)
{
	struct ferry_stage_list *old = *slot;

	if (nl != NULL && nl->n == 0) {
		rte_free(nl);
		nl = NULL;
	}
	__atomic_store_n(slot, nl, __ATOMIC_RELEASE);
	if (qsv != NULL)
		rte_rcu_qsbr_synchronize(qsv, RTE_QSBR_THRID_INVALID);
	rte_free(old);
}

static struct ferry_stage_list *
list_copy(const struct ferry_stage_list *l)
{
	struct ferry_stage_list *nl = rte_zmalloc("ferry_stages", sizeof(*nl), RTE_CACHE_LINE_SIZE);

	if (nl != NULL && l != NULL)
		*nl = *l;
	return nl;
}

int
ferry_stage_attach(struct ferry_stage_list **slot, struct ferry_stage_inst *si,
		   struct rte_rcu_qsbr *qsv)
{
	struct ferry_stage_list *nl;

	if (*slot != NULL && (*slot)->n == FERRY_STAGE_MAX)
		return -1;
	nl = list_copy(*slot);
	if (nl == NULL)
		return -1;
	uint16_t at = nl->n;   /* the end, or before the first "last" stage */
	while (!si->ops->last && at > 0 && nl->inst[at - 1]->ops->last)
		at--;
	memmove(&nl->inst[at + 1], &nl->inst[at], (nl->n - at) * sizeof(nl->inst[0]));
	nl->inst[at] = si;
	nl->n++;
	publish(slot, nl, qsv);
	return 0;
}

int
ferry_stage_detach(struct ferry_stage_list **slot, struct ferry_stage_inst *si,
		   struct rte_rcu_qsbr *qsv)
{
	struct ferry_stage_list *nl;
	uint16_t k = 0;

	if (*slot == NULL)
		return -1;
	nl = list_copy(NULL);
	if (nl == NULL)
		return -1;
	for (uint16_t i = 0; i < (*slot)->n; i++)
		if ((*slot)->inst[i] != si)
			nl->inst[k++] = (*slot)->inst[i];
	if (k == (*slot)->n) {
		rte_free(nl);
		return -1;
	}
	nl->n = k;
	publish(slot, nl, qsv);
	return 0;
}

void
ferry_stage_inst_totals(const struct ferry_stage_inst *si, uint64_t *passed, uint64_t *dropped)
{
	*passed = *dropped = 0;
	for (unsigned p = 0; p < FERRY_MAX_PMDS; p++) {
		*passed += __atomic_load_n(&si->ctr[p].passed, __ATOMIC_RELAXED);
		*dropped += __atomic_load_n(&si->ctr[p].dropped, __ATOMIC_RELAXED);
	}
}

json_t *
ferry_stage_inst_json(const struct ferry_stage_inst *si)
{
	uint64_t passed, dropped;
	json_t *o;

	ferry_stage_inst_totals(si, &passed, &dropped);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "hook", ferry_stage_hook_names[si->hook],
		      "name", si->name, "type", si->ops->type, "passed", (json_int_t)passed,
		      "dropped", (json_int_t)dropped);
	if (si->ops->describe != NULL)
		si->ops->describe(si->state, o);
	return o;
}

uint64_t
ferry_stage_run(const struct ferry_stage_list *l, struct rte_mbuf **pkts, uint16_t n,
		uint16_t port, uint16_t pmd, struct ferry_stage_tx *tx)
{
	const struct ferry_stage_ctx ctx = { .port = port, .pmd = pmd, .tx = tx };
	uint64_t all = n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1, keep = all;
	struct rte_mbuf *sub[FERRY_BURST];
	uint8_t idx[FERRY_BURST];

	for (uint16_t s = 0; s < l->n && keep != 0; s++) {
		struct ferry_stage_inst *si = l->inst[s];
		uint16_t k = 0;
		uint64_t m;
		if (keep == all) {   /* first stage or nothing dropped yet: the burst as it is */
			m = si->ops->burst(si->state, pkts, n, &ctx) & all;
			k = n;
		} else {
			for (uint16_t i = 0; i < n; i++)
				if (keep & (UINT64_C(1) << i)) {
					sub[k] = pkts[i];
					idx[k++] = (uint8_t)i;
				}
			uint64_t sm = si->ops->burst(si->state, sub, k, &ctx);
			m = 0;
			for (uint16_t j = 0; j < k; j++)
				if (sm & (UINT64_C(1) << j))
					m |= UINT64_C(1) << idx[j];
		}
		uint16_t kept = (uint16_t)__builtin_popcountll(m);
		si->ctr[pmd].passed += kept;
		si->ctr[pmd].dropped += k - kept;
		keep = m;
	}
	return keep;
}
