/* test_fields.c — the port field table (lib/config/config_fields.c): every field round-trips
 * parse → to_json → parse, a field of another port type is refused, the table is well formed, and
 * the unique fields are what makes two ports conflict. */
#include <string.h>
#include "unit.h"
#include "ferry_config.h"

/* One port of each type with every field that applies to it set to a value that is not the
 * default (so to_json prints it). A new field needs a value here: fields_round_trip says so. */
static const char *const samples[FERRY_PORT_NTYPES] = {
	[FERRY_PORT_DPDK] =
		"{\"name\": \"u\", \"type\": \"dpdk\", \"devargs\": \"net_null0\", \"rxq\": 2, \"vm_queues\": 2,"
		" \"txq\": 3, \"rxd\": 512, \"txd\": 2048, \"mtu\": 9000,"
		" \"hw_mac\": \"52:54:00:00:00:09\", \"sriov\": {\"num_vfs\": 2, \"vfs\": [{\"vf\": 1,"
		" \"mac\": \"52:54:00:00:00:0A\", \"vlan\": 7}]}, \"mac\": [\"52:54:00:00:00:01\"],"
		" \"vlan\": {\"mode\": \"trunk\", \"allowed\": [3, 4], \"native\": 3},"
		" \"admin\": \"down\", \"external_ids\": {\"a\": \"b\"},"
		" \"filters\": [{\"hook\": \"ingress\", \"path\": \"/p/f.o\", \"name\": \"f\"}],"
		" \"policer\": {\"kbps\": 1000, \"burst\": 64},"
		" \"storm\": {\"broadcast_pps\": 100, \"unknown_unicast_pps\": 1000},"
		" \"mac_limit\": 0, \"vm\": \"v\"}",
	[FERRY_PORT_VHOST] =
		"{\"name\": \"v\", \"type\": \"vhostuser\", \"path\": \"/r/v.sock\", \"mode\": \"client\","
		" \"zero_copy\": \"off\", \"enqueue\": \"ferry\", \"offloads\": false, \"mtu\": 9000,"
		" \"mac\": [\"52:54:00:00:00:01\", \"52:54:00:00:00:02\"],"
		" \"vlan\": {\"mode\": \"access\", \"tag\": 10}, \"admin\": \"down\","
		" \"external_ids\": {\"vm\": \"abc\"},"
		" \"filters\": [{\"hook\": \"egress\", \"path\": \"/p/g.o\", \"name\": \"g2\"}],"
		" \"policer\": {\"pps\": 20000},"
		" \"storm\": {\"broadcast_pps\": 10, \"multicast_pps\": 20,"
		" \"unknown_unicast_pps\": 30}, \"mac_limit\": 64}",
};

static json_t *
sample(enum ferry_port_type t)
{
	return json_loads(samples[t], 0, NULL);
}

static int
parse(json_t *j, struct ferry_port_conf *pc, char *err, size_t len)
{
	return ferry_port_conf_parse(j, "p", pc, err, len);
}

/* The JSON type name of v, as the table spells it. */
static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	default: return "?";
	}
}

static void
fields_round_trip(void)
{
	for (unsigned t = 0; t < FERRY_PORT_NTYPES; t++) {
		struct ferry_port_conf a, b;
		char err[256] = "";
		json_t *j = sample(t), *back, *again;

		CHECK(j != NULL);
		CHECK(parse(j, &a, err, sizeof(err)) == 0);
		if (err[0])
			fprintf(stderr, "  %s: %s\n", ferry_port_type_names[t], err);
		back = ferry_port_conf_to_json(&a);
		CHECK(json_equal(back, j));   /* every sample value is printed as given */
		CHECK(parse(back, &b, err, sizeof(err)) == 0);
		again = ferry_port_conf_to_json(&b);
		CHECK(json_equal(back, again));
		CHECK(ferry_port_conf_equal(&a, &b));
		for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++) {
			json_t *v = json_object_get(back, f->name);
			if (!ferry_port_field_applies(f, t)) {
				CHECK(v == NULL);
				continue;
			}
			if (v == NULL || strcmp(json_type_name(v), f->json_type) != 0) {
				fprintf(stderr, "  %s.%s: absent from the sample or not a %s\n",
					ferry_port_type_names[t], f->name, f->json_type);
				unit_failures++;
			}
		}
		ferry_port_conf_clear(&a);
		ferry_port_conf_clear(&b);
		json_decref(j);
		json_decref(back);
		json_decref(again);
	}
}

/* Each field that does not apply to every type, given (with a valid value) to a port of a type it
 * does not apply to, is refused naming it. */
static void
fields_wrong_type(void)
{
	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++) {
		for (unsigned own = 0; own < FERRY_PORT_NTYPES; own++) {
			if (!ferry_port_field_applies(f, own))
				continue;
			json_t *src = sample(own), *v = json_object_get(src, f->name);
			for (unsigned t = 0; t < FERRY_PORT_NTYPES; t++) {
				struct ferry_port_conf pc;
				char err[256] = "", want[96];
				if (ferry_port_field_applies(f, t))
					continue;
				json_t *j = sample(t);
				json_object_set(j, f->name, v);
				snprintf(want, sizeof(want), "p.%s: not a field of this port type",
					 f->name);
				CHECK(parse(j, &pc, err, sizeof(err)) < 0);
				if (strstr(err, want) == NULL) {
					fprintf(stderr, "  %s on %s: '%s'\n", f->name,
						ferry_port_type_names[t], err);
					unit_failures++;
				}
				json_decref(j);
			}
			json_decref(src);
		}
	}
}

static void
fields_unknown(void)
{
	struct ferry_port_conf pc;
	char err[256] = "";
	json_t *j = sample(FERRY_PORT_VHOST);

	json_object_set_new(j, "zerocopy", json_string("on"));
	CHECK(parse(j, &pc, err, sizeof(err)) < 0);
	CHECK(strstr(err, "p.zerocopy: unknown field") != NULL);
	json_decref(j);
	j = json_pack("{s:s, s:s}", "name", "x", "type", "tap");
	CHECK(parse(j, &pc, err, sizeof(err)) < 0);
	CHECK(strstr(err, "p.type: 'tap': must be \"dpdk\" or \"vhostuser\"") != NULL);
	json_decref(j);
}

static void
fields_table(void)
{
	static const char *const json_types[] = { "string", "integer", "boolean", "array",
						  "object" };
	unsigned n = 0;

	for (const struct ferry_port_field *f = ferry_port_fields; f->name != NULL; f++, n++) {
		bool known_type = false;
		for (unsigned i = 0; i < RTE_DIM(json_types); i++)
			known_type |= strcmp(f->json_type, json_types[i]) == 0;
		CHECK(known_type);
		CHECK(f->types != 0 && (f->types & ~FERRY_PORT_ALL_TYPES) == 0);
		CHECK(f->help != NULL && f->help[0] != '\0' && strchr(f->help, '|') == NULL);
		CHECK(f->parse != NULL && f->to_json != NULL);
		CHECK(ferry_port_field_find(f->name) == f);   /* and so no name twice */
	}
	CHECK(strcmp(ferry_port_fields[0].name, "name") == 0);
	CHECK(strcmp(ferry_port_fields[1].name, "type") == 0);
	CHECK(ferry_port_field_find("bogus") == NULL);
	CHECK(ferry_port_field_settable("zero_copy", FERRY_PORT_VHOST));
	CHECK(!ferry_port_field_settable("zero_copy", FERRY_PORT_DPDK));
	CHECK(ferry_port_field_settable("mtu", FERRY_PORT_DPDK));
	CHECK(!ferry_port_field_settable("path", FERRY_PORT_VHOST));
	CHECK(!ferry_port_field_settable("bogus", FERRY_PORT_VHOST));
	CHECK(ferry_port_type_from_name("vhostuser") == FERRY_PORT_VHOST);
	CHECK(ferry_port_type_from_name("tap") == -1);
	json_t *schema = ferry_port_fields_json();
	CHECK(json_array_size(schema) == n);
	json_t *zc = json_array_get(schema, ferry_port_field_find("zero_copy") - ferry_port_fields);
	json_t *vhost_only = json_pack("[s]", "vhostuser");
	CHECK(json_equal(json_object_get(zc, "port_types"), vhost_only));
	CHECK(json_is_true(json_object_get(zc, "settable")));
	json_decref(vhost_only);
	json_decref(schema);
}

/* The sample of type t with its field k set to the string v, parsed into pc. */
static void
variant(enum ferry_port_type t, const char *k, const char *v, struct ferry_port_conf *pc)
{
	char err[256];
	json_t *j = sample(t);

	json_object_set_new(j, k, json_string(v));
	CHECK(parse(j, pc, err, sizeof(err)) == 0);
	json_decref(j);
}

static void
fields_conflict(void)
{
	struct ferry_port_conf d1, d2, v1, v2;
	const struct ferry_port_field *f;
	char value[128];

	variant(FERRY_PORT_DPDK, "name", "d1", &d1);
	variant(FERRY_PORT_DPDK, "name", "d2", &d2);
	variant(FERRY_PORT_VHOST, "name", "v1", &v1);
	variant(FERRY_PORT_VHOST, "name", "v2", &v2);
	f = ferry_port_conf_conflict(&d1, &d2, value, sizeof(value));
	CHECK(f != NULL && strcmp(f->name, "devargs") == 0 && strcmp(value, "net_null0") == 0);
	f = ferry_port_conf_conflict(&v1, &v2, value, sizeof(value));
	CHECK(f != NULL && strcmp(f->name, "path") == 0 && strcmp(value, "/r/v.sock") == 0);
	CHECK(ferry_port_conf_conflict(&d1, &v1, value, sizeof(value)) == NULL);
	snprintf(d2.devargs, sizeof(d2.devargs), "net_null1");
	snprintf(v2.path, sizeof(v2.path), "/r/w.sock");
	CHECK(ferry_port_conf_conflict(&d1, &d2, value, sizeof(value)) == NULL);
	CHECK(ferry_port_conf_conflict(&v1, &v2, value, sizeof(value)) == NULL);
	snprintf(v2.name, sizeof(v2.name), "d1");
	f = ferry_port_conf_conflict(&d1, &v2, value, sizeof(value));
	CHECK(f != NULL && strcmp(f->name, "name") == 0 && strcmp(value, "d1") == 0);
	ferry_port_conf_clear(&d1);
	ferry_port_conf_clear(&d2);
	ferry_port_conf_clear(&v1);
	ferry_port_conf_clear(&v2);
}

void
suite_fields(void)
{
	RUN("fields", fields_round_trip);
	RUN("fields", fields_wrong_type);
	RUN("fields", fields_unknown);
	RUN("fields", fields_table);
	RUN("fields", fields_conflict);
}
