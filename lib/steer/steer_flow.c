/* steer_flow.c — the rules ferry programmed in uplinks for VMs: one entry per (VM, uplink) pair
 * that got as far as a device call, with its key, its rte_flow handle and the reserved queue it
 * took, or the device's refusal. ferry_steer_sync redoes only the pairs whose VM, uplink or key
 * changed; a queue is freed (and the datapath told) before another rule can take it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_errno.h>
#include "ferry_common.h"
#include "ferry_steer.h"

struct rule {
	uint16_t vm_slot, up_slot, eth_port;
	struct ferry_steer_key key;
	struct ferry_steer_state st;
	struct rte_flow *flow;            /* NULL: no rule in the device (st says why) */
	bool keep, retry;                 /* sync: still wanted; try the device again */
	unsigned up_i;                    /* sync: its uplink in ups[] */
};

struct ferry_steer {
	ferry_steer_own_fn *own;
	ferry_steer_changed_fn *changed;
	void *ctx;
	struct rule *r;
	unsigned n, cap;
	uint32_t used_q[FERRY_MAX_PORTS];                 /* uplink slot: bit q taken */
	uint16_t owner[FERRY_MAX_PORTS][FERRY_MAX_QUEUES];   /* VM slot of each taken queue */
};

struct ferry_steer *
ferry_steer_create(ferry_steer_own_fn *own, ferry_steer_changed_fn *changed, void *ctx)
{
	struct ferry_steer *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->own = own;
	s->changed = changed;
	s->ctx = ctx;
	memset(s->owner, 0xff, sizeof(s->owner));
	return s;
}

void
ferry_steer_free(struct ferry_steer *s)
{
	if (s == NULL)
		return;
	free(s->r);
	free(s);
}

static struct rule *
find(const struct ferry_steer *s, uint16_t vm_slot, uint16_t up_slot)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->r[i].vm_slot == vm_slot && s->r[i].up_slot == up_slot)
			return &s->r[i];
	return NULL;
}

static struct rule *
add(struct ferry_steer *s, uint16_t vm_slot, uint16_t up_slot)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? 2 * s->cap : 16;
		struct rule *r = realloc(s->r, cap * sizeof(*r));
		if (r == NULL)
			return NULL;
		s->r = r;
		s->cap = cap;
	}
	s->r[s->n] = (struct rule){ .vm_slot = vm_slot, .up_slot = up_slot,
				    .st = { FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" } };
	return &s->r[s->n++];
}

/* The datapath first forgets the queue is the VM's, then the device forgets the rule. */
static void
release(struct ferry_steer *s, struct rule *r, const char *why)
{
	struct rte_flow_error e = { 0 };
	uint16_t q = r->st.queue;

	if (r->flow == NULL)
		return;
	s->own(s->ctx, r->up_slot, q, FERRY_PORT_NONE);
	if (rte_flow_destroy(r->eth_port, r->flow, &e) != 0)
		FERRY_LOG(WARNING, "steer: rte_flow_destroy of ethdev %u queue %u refused: %s",
			  r->eth_port, q, e.message ? e.message : "?");
	s->used_q[r->up_slot] &= ~(UINT32_C(1) << q);
	s->owner[r->up_slot][q] = FERRY_PORT_NONE;
	FERRY_LOG(INFO, "steer: port slot %u's rule on ethdev %u queue %u destroyed (%s)",
		  r->vm_slot, r->eth_port, q, why);
	r->flow = NULL;
	r->st = (struct ferry_steer_state){ FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" };
}

static void
drop(struct ferry_steer *s, unsigned i, const char *why)
{
	release(s, &s->r[i], why);
	s->r[i] = s->r[--s->n];
}

static bool
same_key(const struct ferry_steer_key *a, const struct ferry_steer_key *b)
{
	return rte_is_same_ether_addr(&a->mac, &b->mac) && a->vlan == b->vlan &&
	       a->tagged == b->tagged;
}

/* "rte_flow_validate refused: <the PMD's message>" (its errno's text when it gave none). */
static void
refused(char *buf, size_t len, const char *up, const char *call,
	const struct rte_flow_error *e, int rc)
{
	const char *why = rte_strerror(rc < 0 ? -rc : rc);

	if (e->message != NULL && strcmp(e->message, why) != 0)
		snprintf(buf, len, "uplink %s: %s refused: %s (%s)", up, call, e->message, why);
	else
		snprintf(buf, len, "uplink %s: %s refused: %s", up, call, why);
}

struct rte_flow *
ferry_steer_flow_try(const struct ferry_steer_uplink *u, const struct ferry_steer_key *k,
		     uint16_t q, char *reason, size_t len)
{
	struct ferry_steer_rule_spec spec;
	struct rte_flow_error e = { 0 };
	struct rte_flow *f;
	int rc;

	ferry_steer_rule_build(&spec, k, q);
	rc = rte_flow_validate(u->eth_port, &spec.attr, spec.items, spec.actions, &e);
	if (rc == -ENOSYS) {
		snprintf(reason, len, "uplink %s: %s has no rte_flow", u->name, u->driver);
		return NULL;
	}
	if (rc != 0) {
		refused(reason, len, u->name, "rte_flow_validate", &e, rc);
		return NULL;
	}
	if (u->rss_note[0] != '\0') {
		snprintf(reason, len, "uplink %s: rule valid, not created: %s", u->name, u->rss_note);
		return NULL;
	}
	f = rte_flow_create(u->eth_port, &spec.attr, spec.items, spec.actions, &e);
	if (f == NULL)
		refused(reason, len, u->name, "rte_flow_create", &e, -rte_errno);
	return f;
}

/* Ask the device for r's rule on a free reserved queue of u. */
static void
attempt(struct ferry_steer *s, struct rule *r, const struct ferry_steer_vm *vm,
	const struct ferry_steer_uplink *u)
{
	struct ferry_steer_state *st = &r->st, old = r->st;
	int q = ferry_steer_queue_pick(s->used_q[u->slot], u->rss_queues, u->vm_queues);

	*st = (struct ferry_steer_state){ FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" };
	if (q < 0) {
		snprintf(st->reason, sizeof(st->reason), "uplink %s: its %u vm_queues are taken",
			 u->name, u->vm_queues);
	} else if ((r->flow = ferry_steer_flow_try(u, &r->key, (uint16_t)q, st->reason,
						   sizeof(st->reason))) != NULL) {
		*st = (struct ferry_steer_state){ FERRY_STEER_RTE_FLOW, (uint16_t)q, "" };
		s->used_q[u->slot] |= UINT32_C(1) << q;
		s->owner[u->slot][q] = vm->slot;
		s->own(s->ctx, u->slot, (uint16_t)q, vm->slot);
	}
	if (st->method == FERRY_STEER_SOFTWARE)
		ferry_steer_vmdq_note(u, st->reason, sizeof(st->reason));
	if (old.method != st->method || old.queue != st->queue || strcmp(old.reason, st->reason))
		FERRY_LOG(INFO, "steer: %s on uplink %s: %s, queue %d%s%s", vm->conf->name, u->name,
			  ferry_steer_method_names[st->method],
			  st->queue == FERRY_STEER_NO_QUEUE ? -1 : st->queue,
			  st->reason[0] ? ": " : "", st->reason);
	if (s->changed != NULL && (old.method != st->method || old.queue != st->queue ||
				   strcmp(old.reason, st->reason)))
		s->changed(s->ctx, r->vm_slot, r->up_slot, st);
}

void
ferry_steer_sync(struct ferry_steer *s, const struct ferry_steer_vm *vms, unsigned n_vm,
		 const struct ferry_steer_uplink *ups, unsigned n_up)
{
	struct ferry_steer_state st;
	struct ferry_steer_key k;

	for (unsigned i = 0; i < s->n; i++)
		s->r[i].keep = s->r[i].retry = false;
	for (unsigned v = 0; v < n_vm; v++) {
		for (unsigned u = 0; u < n_up; u++) {
			struct rule *r = find(s, vms[v].slot, ups[u].slot);
			if (ferry_steer_decide(vms[v].conf, &ups[u], &k, &st) == 0) {
				if (r != NULL && s->changed != NULL)   /* it goes below */
					s->changed(s->ctx, r->vm_slot, r->up_slot, &st);
				continue;
			}
			if (r == NULL && (r = add(s, vms[v].slot, ups[u].slot)) == NULL)
				continue;
			r->keep = true;
			r->up_i = u;
			if (r->flow != NULL && r->eth_port == ups[u].eth_port &&
			    same_key(&r->key, &k))
				continue;   /* unchanged: left alone */
			release(s, r, "its mac, VLAN or uplink changed");
			r->key = k;
			r->eth_port = ups[u].eth_port;
			r->retry = true;
		}
	}
	for (unsigned i = s->n; i-- > 0;)   /* freed queues first: a retry below may take one */
		if (!s->r[i].keep)
			drop(s, i, "no longer wanted");
	for (unsigned v = 0; v < n_vm; v++)
		for (unsigned i = 0; i < s->n; i++)
			if (s->r[i].retry && s->r[i].vm_slot == vms[v].slot)
				attempt(s, &s->r[i], &vms[v], &ups[s->r[i].up_i]);
}

void
ferry_steer_port_gone(struct ferry_steer *s, uint16_t slot)
{
	for (unsigned i = s->n; i-- > 0;)
		if (s->r[i].vm_slot == slot || s->r[i].up_slot == slot)
			drop(s, i, "its port is going");
}

void
ferry_steer_get(const struct ferry_steer *s, const struct ferry_steer_vm *vm,
		const struct ferry_steer_uplink *u, struct ferry_steer_state *st)
{
	const struct rule *r = find(s, vm->slot, u->slot);

	if (r != NULL) {
		*st = r->st;
		return;
	}
	*st = (struct ferry_steer_state){ FERRY_STEER_SOFTWARE, FERRY_STEER_NO_QUEUE, "" };
	snprintf(st->reason, sizeof(st->reason), "uplink %s: not tried yet", u->name);
}

uint16_t
ferry_steer_queue_owner(const struct ferry_steer *s, uint16_t up_slot, uint16_t q)
{
	return up_slot < FERRY_MAX_PORTS && q < FERRY_MAX_QUEUES ? s->owner[up_slot][q] :
		FERRY_PORT_NONE;
}
