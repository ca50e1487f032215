/* test_mirror.c — port mirroring's pure logic: the mirror object's parser (every field's errors
 * name it, a round trip through JSON), the rules between two mirrors, the config's cross-checks
 * against its ports, and "last" stages (a mirror's tx side) kept at the end of their list. */
#include <string.h>
#include <jansson.h>
#include "ferry_config.h"
#include "ferry_mirror.h"
#include "ferry_stage.h"
#include "unit.h"

static int
parse(const char *text, struct ferry_mirror_conf *mc, char *err, size_t errlen)
{
	json_t *o = json_loads(text, 0, NULL);
	int rc = ferry_mirror_conf_parse(o, "params", mc, err, errlen);

	json_decref(o);
	return rc;
}

static void
conf_roundtrip(void)
{
	const char *text = "{\"name\": \"m1\", \"ports\": [\"a\", \"b\"], \"direction\": \"both\", "
			   "\"vlans\": [0, 10, 4094], \"filter\": \"udp\", \"output\": \"ids\"}";
	struct ferry_mirror_conf mc;
	char err[256];

	CHECK(parse(text, &mc, err, sizeof(err)) == 0);
	CHECK(mc.n_ports == 2 && mc.dirs == FERRY_DIR_BOTH && mc.has_vlans);
	CHECK((mc.vlans[0] & 1) && (mc.vlans[10 / 64] & (UINT64_C(1) << 10)) &&
	      (mc.vlans[4094 / 64] & (UINT64_C(1) << (4094 % 64))) && !(mc.vlans[0] & 2));
	json_t *in = json_loads(text, 0, NULL), *out = ferry_mirror_conf_to_json(&mc);
	CHECK(json_equal(in, out));
	json_decref(in);
	json_decref(out);
	CHECK(parse("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"rx\", \"output\": \"o\"}",
		    &mc, err, sizeof(err)) == 0 && !mc.has_vlans && mc.filter[0] == '\0');
}

static void
bad(const char *text, const char *want)
{
	struct ferry_mirror_conf mc;
	char err[256] = "";

	CHECK(parse(text, &mc, err, sizeof(err)) < 0);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "  %s: got '%s', want '%s'\n", text, err, want);
		unit_failures++;
	}
}

static void
conf_errors(void)
{
	bad("[]", "params: must be an object");
	bad("{\"ports\": [\"a\"], \"direction\": \"rx\", \"output\": \"o\"}", "params.name");
	bad("{\"name\": \"a b\", \"ports\": [\"a\"], \"direction\": \"rx\", \"output\": \"o\"}",
	    "params.name");
	bad("{\"name\": \"m\", \"direction\": \"rx\", \"output\": \"o\"}", "params.ports: is required");
	bad("{\"name\": \"m\", \"ports\": [], \"direction\": \"rx\", \"output\": \"o\"}", "params.ports");
	bad("{\"name\": \"m\", \"ports\": [\"a\", \"a\"], \"direction\": \"rx\", \"output\": \"o\"}",
	    "params.ports: 'a' is listed twice");
	bad("{\"name\": \"m\", \"ports\": [\"o\"], \"direction\": \"rx\", \"output\": \"o\"}",
	    "params.ports: 'o' is the mirror's output");
	bad("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"up\", \"output\": \"o\"}",
	    "params.direction: must be rx, tx or both");
	bad("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"rx\", \"vlans\": [4095], "
	    "\"output\": \"o\"}", "params.vlans");
	bad("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"rx\", \"filter\": \"tcp port\", "
	    "\"output\": \"o\"}", "params.filter: ");
	bad("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"rx\"}", "params.output");
	bad("{\"name\": \"m\", \"ports\": [\"a\"], \"direction\": \"rx\", \"output\": \"o\", "
	    "\"x\": 1}", "params.x");
}

static void
conflicts(void)
{
	struct ferry_mirror_conf a, b;
	char err[256], why[256];

	CHECK(parse("{\"name\": \"a\", \"ports\": [\"p\"], \"direction\": \"rx\", \"output\": \"o1\"}",
		    &a, err, sizeof(err)) == 0);
	CHECK(parse("{\"name\": \"b\", \"ports\": [\"q\"], \"direction\": \"rx\", \"output\": \"o2\"}",
		    &b, err, sizeof(err)) == 0);
	CHECK(ferry_mirror_conf_conflict(&a, &b, why, sizeof(why)) == NULL);
	snprintf(b.output, sizeof(b.output), "o1");          /* one mirror per output */
	CHECK(strcmp(ferry_mirror_conf_conflict(&b, &a, why, sizeof(why)), "output") == 0);
	snprintf(b.output, sizeof(b.output), "p");           /* an output is never a source */
	CHECK(strcmp(ferry_mirror_conf_conflict(&b, &a, why, sizeof(why)), "output") == 0);
	CHECK(strcmp(ferry_mirror_conf_conflict(&a, &b, why, sizeof(why)), "ports") == 0);
	snprintf(b.name, sizeof(b.name), "a");
	CHECK(strcmp(ferry_mirror_conf_conflict(&b, &a, why, sizeof(why)), "name") == 0);
}

static void
config_checks(void)
{
	static const char *const cases[][2] = {
		{ "[{\"name\": \"m\", \"ports\": [\"p1\"], \"direction\": \"tx\", \"output\": \"p2\"}]", "" },
		{ "[{\"name\": \"m\", \"ports\": [\"zz\"], \"direction\": \"tx\", \"output\": \"p2\"}]",
		  "mirrors[0].ports: no port named 'zz'" },
		{ "[{\"name\": \"m\", \"ports\": [\"p1\"], \"direction\": \"tx\", \"output\": \"zz\"}]",
		  "mirrors[0].output: no port named 'zz'" },
		{ "[{\"name\": \"m\", \"ports\": [\"p1\"], \"direction\": \"tx\", \"output\": \"p2\"}, "
		  "{\"name\": \"n\", \"ports\": [\"p2\"], \"direction\": \"tx\", \"output\": \"p3\"}]",
		  "mirrors[1].ports: port p2 is the output of mirror m" },
	};
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		char text[1024], err[256] = "";
		struct ferry_conf c;
		snprintf(text, sizeof(text), "{\"ports\": [{\"name\": \"p1\", \"type\": \"dpdk\", "
			 "\"devargs\": \"net_null0\"}, {\"name\": \"p2\", \"type\": \"dpdk\", \"devargs\": "
			 "\"net_null1\"}, {\"name\": \"p3\", \"type\": \"dpdk\", \"devargs\": "
			 "\"net_null2\"}], \"mirrors\": %s}", cases[i][0]);
		int rc = ferry_config_load_string(text, &c, err, sizeof(err));
		if (cases[i][1][0] == '\0') {
			CHECK(rc == 0 && c.n_mirrors == 1 && strcmp(c.mirrors[0].output, "p2") == 0);
			if (rc == 0)
				ferry_config_free(&c);
		} else if (rc == 0 || strstr(err, cases[i][1]) == NULL) {
			fprintf(stderr, "  case %zu: rc %d, '%s'\n", i, rc, err);
			unit_failures++;
		}
	}
}

static uint64_t
keep_all(void *st, struct rte_mbuf **pkts, uint16_t n, const struct ferry_stage_ctx *ctx)
{
	return n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
}

static int
nop_create(const char *arg, void **st, char *err, size_t errlen)
{
	*st = NULL;
	return 0;
}

static void
nop_destroy(void *st)
{
}

static const struct ferry_stage_ops plain_ops = {
	.type = "unit-plain", .create = nop_create, .destroy = nop_destroy, .burst = keep_all,
};
static const struct ferry_stage_ops last_ops = {
	.type = "unit-last", .create = nop_create, .destroy = nop_destroy, .burst = keep_all,
	.last = true,
};

/* A mirror's tx side stays behind every filter, whatever order they were attached in. */
static void
stage_last_order(void)
{
	struct ferry_stage_list *l = NULL;
	struct ferry_stage_inst *s[4];
	char err[128];

	CHECK(ferry_stage_register(&plain_ops) == 0 && ferry_stage_register(&last_ops) == 0);
	s[0] = ferry_stage_create("unit-last", "m1", FERRY_STAGE_EGRESS, "", err, sizeof(err));
	s[1] = ferry_stage_create("unit-plain", "f1", FERRY_STAGE_EGRESS, "", err, sizeof(err));
	s[2] = ferry_stage_create("unit-last", "m2", FERRY_STAGE_EGRESS, "", err, sizeof(err));
	s[3] = ferry_stage_create("unit-plain", "f2", FERRY_STAGE_EGRESS, "", err, sizeof(err));
	for (int i = 0; i < 4; i++)
		CHECK(s[i] != NULL && ferry_stage_attach(&l, s[i], NULL) == 0);
	CHECK(l != NULL && l->n == 4 && l->inst[0] == s[1] && l->inst[1] == s[3] &&
	      l->inst[2] == s[0] && l->inst[3] == s[2]);
	CHECK(ferry_stage_detach(&l, s[1], NULL) == 0 && l->n == 3 && l->inst[0] == s[3]);
	ferry_stage_list_free(l);
	ferry_stage_destroy(s[1]);
	CHECK(strcmp(ferry_stage_hook_names[FERRY_STAGE_RX], "rx") == 0);
}

void
suite_mirror(void)
{
	RUN("mirror", conf_roundtrip);
	RUN("mirror", conf_errors);
	RUN("mirror", conflicts);
	RUN("mirror", config_checks);
	RUN("mirror", stage_last_order);
}
