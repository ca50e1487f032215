/* filter_conf.c — map entries as JSON: {"index": N, "value": "hex"} (filter.map_set, and a
 * configured filter's "maps": {"<map>": [entries]}, kept in struct ferry_filter_conf as parsed so
 * that config.get/save give back what was configured). Values are hex strings of their bytes. */
#include <stdio.h>
#include <string.h>
#include "ferry_bpf_filter.h"
#include "ferry_common.h"
#include "ferry_config.h"
#include "filter_private.h"

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
ferry_hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* hex (n digits) into buf (n / 2 bytes): -1 if n is odd or a digit is not hex. */
static int
hex_decode(const char *hex, size_t n, uint8_t *buf)
{
	if (n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		buf[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
ferry_filter_entry_parse(const json_t *o, const char *where, uint32_t *index, uint8_t *buf,
			 size_t cap, uint32_t *len, char *err, size_t errlen)
{
	const json_t *i = json_object_get(o, "index"), *v = json_object_get(o, "value");
	const char *k;
	json_t *x;

	if (!json_is_object(o))
		return ferry_errf(err, errlen, "%s: must be an object {\"index\": N, \"value\": "
				  "\"hex\"}", where);
	json_object_foreach((json_t *)o, k, x)
		if (strcmp(k, "index") != 0 && strcmp(k, "value") != 0)
			return ferry_errf(err, errlen, "%s.%s: unknown field (index, value)", where, k);
	if (!json_is_integer(i) || json_integer_value(i) < 0 ||
	    json_integer_value(i) > (json_int_t)UINT32_MAX)
		return ferry_errf(err, errlen, "%s.index: %s", where,
				  i == NULL ? "missing" : "must be an integer 0..4294967295");
	if (!json_is_string(v))
		return ferry_errf(err, errlen, "%s.value: %s", where,
				  v == NULL ? "missing" : "must be a string of hex digits");
	size_t n = json_string_length(v);
	if (n / 2 > cap)
		return ferry_errf(err, errlen, "%s.value: %zu bytes, more than the %zu that fit",
				  where, n / 2, cap);
	if (n == 0 || hex_decode(json_string_value(v), n, buf) < 0)
		return ferry_errf(err, errlen, "%s.value: must be an even number of hex digits "
				  "(two per byte, e.g. \"0a000001\")", where);
	*index = (uint32_t)json_integer_value(i);
	*len = (uint32_t)(n / 2);
	return 0;
}

/* fc's slot for the map named name, added if it is new: its number, or -1 with err. */
static int
init_map(struct ferry_filter_conf *fc, const char *name, const char *where, char *err,
	 size_t errlen)
{
	for (unsigned m = 0; m < fc->n_init_maps; m++)
		if (strcmp(fc->init_maps[m], name) == 0)
			return (int)m;
	if (fc->n_init_maps == FERRY_FILTER_INIT_MAPS)
		return ferry_errf(err, errlen, "%s.maps: at most %d maps", where,
				  FERRY_FILTER_INIT_MAPS);
	if (name[0] == '\0' || strlen(name) >= FERRY_NAME_MAX)
		return ferry_errf(err, errlen, "%s.maps: map names are 1..%d characters", where,
				  FERRY_NAME_MAX - 1);
	snprintf(fc->init_maps[fc->n_init_maps], FERRY_NAME_MAX, "%s", name);
	return fc->n_init_maps++;
}

int
ferry_filter_conf_maps_parse(const json_t *maps, const char *where, struct ferry_filter_conf *fc,
			     char *err, size_t errlen)
{
	const char *name;
	json_t *list, *e;
	char w[160];
	size_t i;

	if (maps == NULL)
		return 0;
	if (!json_is_object(maps))
		return ferry_errf(err, errlen, "%s.maps: must be an object {\"<map>\": [{\"index\": "
				  "N, \"value\": \"hex\"}, ...]}", where);
	json_object_foreach((json_t *)maps, name, list) {
		int m = init_map(fc, name, where, err, errlen);
		if (m < 0)
			return -1;
		if (!json_is_array(list))
			return ferry_errf(err, errlen, "%s.maps.%s: must be a list of {\"index\": N, "
					  "\"value\": \"hex\"}", where, name);
		json_array_foreach(list, i, e) {
			struct ferry_filter_init *in = &fc->init[fc->n_init];
			snprintf(w, sizeof(w), "%s.maps.%s[%zu]", where, name, i);
			if (fc->n_init == FERRY_FILTER_INIT_MAX)
				return ferry_errf(err, errlen, "%s: at most %d entries in a filter's "
						  "maps", w, FERRY_FILTER_INIT_MAX);
			uint32_t len;
			if (ferry_filter_entry_parse(e, w, &in->index, fc->init_data + fc->init_bytes,
						     FERRY_FILTER_INIT_BYTES - fc->init_bytes, &len,
						     err, errlen) < 0)
				return -1;
			in->map = (uint8_t)m;
			in->off = fc->init_bytes;
			in->len = (uint16_t)len;
			fc->init_bytes += (uint16_t)len;
			fc->n_init++;
		}
	}
	return 0;
}

json_t *
ferry_filter_conf_maps_json(const struct ferry_filter_conf *fc)
{
	char hex[2 * FERRY_FILTER_INIT_BYTES + 1];
	json_t *o;

	if (fc->n_init_maps == 0)
		return NULL;
	o = json_object();
	for (unsigned m = 0; m < fc->n_init_maps; m++)
		json_object_set_new(o, fc->init_maps[m], json_array());
	for (unsigned i = 0; i < fc->n_init; i++) {
		const struct ferry_filter_init *in = &fc->init[i];
		ferry_hex_encode(fc->init_data + in->off, in->len, hex);
		json_array_append_new(json_object_get(o, fc->init_maps[in->map]),
				      json_pack("{s:I, s:s}", "index", (json_int_t)in->index,
						"value", hex));
	}
	return o;
}
