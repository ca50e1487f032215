/* filter_maps.c — the control thread's access to an attached filter's ARRAY maps while PMDs run
 * the program (filter.map_set/map_get, a configured filter's "maps"). No lock: an entry is copied
 * word by word, in address order, each word the widest aligned atomic access that fits (8 bytes
 * where the entry is 8-byte aligned: map values are cache-aligned, so an entry whose value_size is
 * a multiple of 8 is all 8-byte words). Stores are release stores: a PMD that sees a word also
 * sees the words before it, which is what a program's "valid" word written last relies on
 * (lib/filter/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ferry_bpf_filter.h"
#include "ferry_common.h"
#include "ferry_config.h"
#include "filter_private.h"

struct ferry_filter_map *
ferry_filter_map_by_name(struct ferry_filter *f, const char *name)
{
	for (unsigned i = 0; i < f->n_maps; i++)
		if (strcmp(f->maps[i].name, name) == 0)
			return &f->maps[i];
	return NULL;
}

int
ferry_filter_map_check(const struct ferry_filter_map *m, const struct ferry_filter_entry *e,
		       const char *where, char *err, size_t errlen)
{
	if (e->index >= m->max_entries)
		return ferry_errf(err, errlen, "%s.index: %u is past the end of map %s (%u entries: "
				  "0..%u)", where, e->index, m->name, m->max_entries,
				  m->max_entries - 1);
	if (e->len != m->value_size)
		return ferry_errf(err, errlen, "%s.value: %u bytes; map %s's values are %u bytes "
				  "(%u hex digits)", where, e->len, m->name, m->value_size,
				  2 * m->value_size);
	return 0;
}

/* The widest access (8, 4, 2 or 1 bytes) at address a that is aligned and fits in left bytes. */
static uint32_t
word_at(uintptr_t a, uint32_t left)
{
	uint32_t w = 8;

	while (w > 1 && (left < w || a % w != 0))
		w /= 2;
	return w;
}

static void
store_word(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	uint64_t v8;
	uint32_t v4;
	uint16_t v2;

	switch (w) {
	case 8:
		memcpy(&v8, src, 8);
		__atomic_store_n((uint64_t *)(void *)dst, v8, __ATOMIC_RELEASE);
		break;
	case 4:
		memcpy(&v4, src, 4);
		__atomic_store_n((uint32_t *)(void *)dst, v4, __ATOMIC_RELEASE);
		break;
	case 2:
		memcpy(&v2, src, 2);
		__atomic_store_n((uint16_t *)(void *)dst, v2, __ATOMIC_RELEASE);
		break;
	default:
		__atomic_store_n(dst, *src, __ATOMIC_RELEASE);
	}
}

static void
load_word(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	uint64_t v8;
	uint32_t v4;
	uint16_t v2;

	switch (w) {
	case 8:
		v8 = __atomic_load_n((const uint64_t *)(const void *)src, __ATOMIC_RELAXED);
		memcpy(dst, &v8, 8);
		break;
	case 4:
		v4 = __atomic_load_n((const uint32_t *)(const void *)src, __ATOMIC_RELAXED);
		memcpy(dst, &v4, 4);
		break;
	case 2:
		v2 = __atomic_load_n((const uint16_t *)(const void *)src, __ATOMIC_RELAXED);
		memcpy(dst, &v2, 2);
		break;
	default:
		*dst = __atomic_load_n(src, __ATOMIC_RELAXED);
	}
}

void
ferry_filter_map_write(struct ferry_filter_map *m, const struct ferry_filter_entry *e)
{
	uint8_t *dst = m->values + (size_t)e->index * m->value_size;

	for (uint32_t o = 0, w; o < e->len; o += w) {
		w = word_at((uintptr_t)(dst + o), e->len - o);
		store_word(dst + o, e->value + o, w);
	}
}

json_t *
ferry_filter_map_hex(const struct ferry_filter_map *m, uint32_t index, uint32_t max)
{
	const uint8_t *src = m->values + (size_t)index * m->value_size;
	uint32_t n = max != 0 && max < m->value_size ? max : m->value_size, w;
	uint8_t *b = malloc(n);
	char *hex = malloc(2 * (size_t)n + 1);
	json_t *s = NULL;

	if (b != NULL && hex != NULL) {
		for (uint32_t o = 0; o < n; o += w) {
			w = word_at((uintptr_t)(src + o), n - o);
			load_word(b + o, src + o, w);
		}
		ferry_hex_encode(b, n, hex);
		s = json_string(hex);
	}
	free(b);
	free(hex);
	return s;
}

/* fc's entry i as one to write. */
static struct ferry_filter_entry
conf_entry(const struct ferry_filter_conf *fc, unsigned i)
{
	const struct ferry_filter_init *in = &fc->init[i];

	return (struct ferry_filter_entry){ .index = in->index, .len = in->len,
					    .value = fc->init_data + in->off };
}

int
ferry_filter_maps_load(struct ferry_filter *f, const struct ferry_filter_conf *fc, char *err,
		       size_t errlen)
{
	struct ferry_filter_map *maps[FERRY_FILTER_INIT_MAPS];
	unsigned pos[FERRY_FILTER_INIT_MAPS] = { 0 };
	char where[96];

	for (unsigned m = 0; m < fc->n_init_maps; m++)
		if ((maps[m] = ferry_filter_map_by_name(f, fc->init_maps[m])) == NULL)
			return ferry_errf(err, errlen, "maps.%s: the filter has no map of that name",
					  fc->init_maps[m]);
	for (unsigned i = 0; i < fc->n_init; i++) {   /* all checked before any is written */
		struct ferry_filter_entry e = conf_entry(fc, i);
		unsigned m = fc->init[i].map;
		snprintf(where, sizeof(where), "maps.%s[%u]", fc->init_maps[m], pos[m]++);
		if (ferry_filter_map_check(maps[m], &e, where, err, errlen) < 0)
			return -1;
	}
	for (unsigned i = 0; i < fc->n_init; i++) {
		struct ferry_filter_entry e = conf_entry(fc, i);
		ferry_filter_map_write(maps[fc->init[i].map], &e);
	}
	return 0;
}
