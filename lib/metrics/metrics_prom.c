/* metrics_prom.c — a snapshot (metrics_private.h) in the Prometheus text exposition format 0.0.4:
 * one HELP and TYPE line per family, counters named *_total, label values escaped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_private.h"

struct buf {
	char *s;
	size_t len, cap;
	int failed;
};

static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = b->failed ? -1 : vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *s = realloc(b->s, b->cap * 2 + (size_t)n);
		if (s == NULL) {
			b->failed = 1;
			return;
		}
		b->s = s;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_label(struct buf *b, const char *name, const char *v)
{
	put(b, "%s=\"", name);
	for (; v != NULL && *v; v++) {
		if (*v == '\\' || *v == '"')
			put(b, "\\%c", *v);
		else if (*v == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *v);
	}
	put(b, "\"");
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t
int_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A label of a counter family and the object key its value comes from. */
struct label {
	const char *label, *key;
};

/* The family `name`, one sample per object of items: labels, then the object's counter key. */
static void
counter_family(struct buf *b, json_t *items, const char *name, const char *key,
	       const struct label *labels, const char *help)
{
	size_t i;
	json_t *o;

	family(b, name, "counter", help);
	json_array_foreach(items, i, o) {
		put(b, "%s{", name);
		for (const struct label *l = labels; l->label != NULL; l++) {
			if (l != labels)
				put(b, ",");
			put_label(b, l->label, json_string_value(json_object_get(o, l->key)));
		}
		put(b, "} %lld\n", (long long)int_of(o, key));
	}
}

/* ferry_port_<key>_total{port="NAME"} for every port's counter key. */
static void
port_counter(struct buf *b, json_t *stats, const char *key, const char *help)
{
	static const struct label labels[] = { { "port", "name" }, { NULL, NULL } };
	char name[64];

	snprintf(name, sizeof(name), "ferry_port_%s_total", key);
	counter_family(b, stats, name, key, labels, help);
}

static void
port_drops(struct buf *b, json_t *stats)
{
	const char *reason;
	size_t i;
	json_t *p, *v;

	family(b, "ferry_port_drops_total", "counter", "Frames dropped by the switch, by reason.");
	json_array_foreach(stats, i, p) {
		json_object_foreach(json_object_get(p, "drops"), reason, v) {
			put(b, "ferry_port_drops_total{");
			put_label(b, "port", json_string_value(json_object_get(p, "name")));
			put(b, ",");
			put_label(b, "reason", reason);
			put(b, "} %lld\n", (long long)json_integer_value(v));
		}
	}
}

/* lcore="N" of a pmd.list entry */
static void
put_lcore(struct buf *b, json_t *pmd)
{
	char lcore[16];

	snprintf(lcore, sizeof(lcore), "%lld", (long long)int_of(pmd, "lcore"));
	put_label(b, "lcore", lcore);
}

static void
pmd_busy(struct buf *b, json_t *pmds)
{
	size_t i;
	json_t *pmd;

	family(b, "ferry_pmd_busy_ratio", "gauge",
	       "Share of a PMD's cycles spent on bursts that carried frames, since start.");
	json_array_foreach(pmds, i, pmd) {
		put(b, "ferry_pmd_busy_ratio{");
		put_lcore(b, pmd);
		put(b, "} %.6f\n", json_number_value(json_object_get(pmd, "busy_pct")) / 100.0);
	}
}

/* ferry_pmd_<key>_total{lcore} for a pmd.list counter. */
static void
pmd_counter(struct buf *b, json_t *pmds, const char *key, const char *help)
{
	char name[64];
	size_t i;
	json_t *pmd;

	snprintf(name, sizeof(name), "ferry_pmd_%s_total", key);
	family(b, name, "counter", help);
	json_array_foreach(pmds, i, pmd) {
		put(b, "%s{", name);
		put_lcore(b, pmd);
		put(b, "} %lld\n", (long long)int_of(pmd, key));
	}
}

/* ferry_pmd_rxq_busy_ratio{lcore,port,queue}: pmd.list's busy_share of every polled rx queue. */
static void
pmd_rxq_share(struct buf *b, json_t *pmds)
{
	size_t i, k;
	json_t *pmd, *q;

	family(b, "ferry_pmd_rxq_busy_ratio", "gauge",
	       "Share of its PMD's busy cycles an rx queue took over the last interval (about 1 s).");
	json_array_foreach(pmds, i, pmd) {
		json_array_foreach(json_object_get(pmd, "rxqs"), k, q) {
			char queue[16];
			snprintf(queue, sizeof(queue), "%lld", (long long)int_of(q, "queue"));
			put(b, "ferry_pmd_rxq_busy_ratio{");
			put_lcore(b, pmd);
			put(b, ",");
			put_label(b, "port", json_string_value(json_object_get(q, "port")));
			put(b, ",");
			put_label(b, "queue", queue);
			put(b, "} %.6f\n", json_number_value(json_object_get(q, "busy_share")));
		}
	}
}

/* ferry_filter_<key>_total{port,name} for every attached filter. */
static void
filter_counter(struct buf *b, json_t *filters, const char *key, const char *help)
{
	static const struct label labels[] = { { "port", "port" }, { "name", "name" },
					       { NULL, NULL } };
	char name[64];

	snprintf(name, sizeof(name), "ferry_filter_%s_total", key);
	counter_family(b, filters, name, key, labels, help);
}

char *
ferry_prom_render(json_t *snap, size_t *len)
{
	json_t *stats = json_object_get(snap, "stats"), *info = json_object_get(snap, "info");
	json_t *filters = json_object_get(snap, "filters");
	struct buf b = { .s = malloc(4096), .cap = 4096 };

	if (b.s == NULL)
		return NULL;
	port_counter(&b, stats, "rx_packets", "Frames received on the port.");
	port_counter(&b, stats, "tx_packets", "Frames transmitted on the port.");
	port_counter(&b, stats, "rx_bytes", "Bytes received on the port.");
	port_counter(&b, stats, "tx_bytes", "Bytes transmitted on the port.");
	port_drops(&b, stats);
	pmd_busy(&b, json_object_get(snap, "pmds"));
	pmd_counter(&b, json_object_get(snap, "pmds"), "busy_cycles",
		    "TSC cycles of a PMD's rounds that carried frames.");
	pmd_counter(&b, json_object_get(snap, "pmds"), "idle_cycles",
		    "TSC cycles of a PMD's rounds that found no frame.");
	pmd_rxq_share(&b, json_object_get(snap, "pmds"));
	family(&b, "ferry_fdb_entries", "gauge", "Entries in the MAC table (learned and static).");
	put(&b, "ferry_fdb_entries %lld\n", (long long)int_of(info, "fdb_entries"));
	family(&b, "ferry_fdb_size", "gauge", "Capacity of the MAC table (fdb.size).");
	put(&b, "ferry_fdb_size %lld\n", (long long)int_of(info, "fdb_size"));
	filter_counter(&b, filters, "dropped", "Frames an eBPF filter dropped.");
	filter_counter(&b, filters, "passed", "Frames an eBPF filter passed.");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s;
}
