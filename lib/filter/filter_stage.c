/* filter_stage.c — the "bpf" stage type: an attached filter instance runs its program per frame
 * of the burst; 0 drops. */
#include "ferry_bpf_filter.h"
#include "ferry_stage.h"

static int
bpf_create(const char *path, void **state, char *err, size_t errlen)
{
	struct ferry_filter *f;

	if (ferry_filter_load(path, &f, err, errlen) < 0)
		return -1;
	*state = f;
	return 0;
}

static void
bpf_destroy(void *state)
{
	ferry_filter_free(state);
}

static uint64_t
bpf_burst(void *state, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	return ferry_filter_exec_burst(state, pkts, n, ctx->port);
}

static void
bpf_describe(void *state, json_t *o)
{
	const struct ferry_filter *f = state;

	json_object_set_new(o, "path", json_string(f->path));
	json_object_set_new(o, "jit", json_boolean(f->jit != NULL));
	json_object_set_new(o, "maps", ferry_filter_maps_json(f));
}

static const struct ferry_stage_ops bpf_ops = {
	.type = "bpf",
	.create = bpf_create,
	.destroy = bpf_destroy,
	.burst = bpf_burst,
	.describe = bpf_describe,
};

void
ferry_filter_stage_register(void)
{
	ferry_stage_register(&bpf_ops);
}
