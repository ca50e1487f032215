/* ctl.h — what ferryctl's files share: the connection to ferryd, argument-to-JSON helpers,
 * the table printer, the command runner and the commands kept in their own files. ferryctl links
 * jansson only (no DPDK). */
#ifndef FERRYCTL_H
#define FERRYCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <jansson.h>

/* exit codes */
#define CTL_OK        0
#define CTL_ESERVER   1   /* ferryd answered with an error */
#define CTL_EUSAGE    2   /* bad command line */
#define CTL_ECONNECT  3   /* ferryd unreachable, or the connection broke */

/* --- ctl_client.c: one connection, line-framed JSON-RPC 2.0 --- */
struct ctl_conn {
	int fd;
	int timeout_ms;        /* per answer; <= 0 = wait forever */
	long next_id;
	char *buf;             /* received, not yet consumed */
	size_t len, cap;
};

int ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms, char *err, size_t errlen);
void ctl_close(struct ctl_conn *c);
/* Send a request and wait for its response (notifications arriving meanwhile are skipped).
 * Returns the whole response object (new reference), or NULL with err filled. */
json_t *ctl_call(struct ctl_conn *c, const char *method, json_t *params /* stolen, may be NULL */,
		 char *err, size_t errlen);
/* The next message (response or notification); timeout_ms < 0 waits forever. NULL with err on
 * timeout, EOF or garbage; *eof tells a clean close apart. */
json_t *ctl_read(struct ctl_conn *c, int timeout_ms, bool *eof, char *err, size_t errlen);

/* --- ctl_args.c: command-line words to JSON --- */
/* key=value words to a port object (for port add) or a changes object (port set: for_set makes
 * "key=", "key=default" and "key=none" null, which removes the field). Returns 0 or -1 with err. */
int ctl_port_args(json_t *obj, int argc, char **argv, bool for_set, char *err, size_t errlen);
/* "10" -> access 10, "trunk:10,20-22/native=10" -> trunk; NULL with err if malformed. */
json_t *ctl_parse_vlan(const char *s, char *err, size_t errlen);
/* The same syntax back, for tables: "access:10", "trunk:10,20/native=10", "all". */
void ctl_format_vlan(const json_t *vlan, char *buf, size_t len);

/* --- ctl_print.c: aligned tables --- */
struct ctl_table;
struct ctl_table *ctl_table_new(const char *const *headers, const char *right_cols);
void ctl_table_add(struct ctl_table *t, ...);   /* one string per column */
void ctl_table_print(struct ctl_table *t);      /* prints and frees */
/* "12345" for integers, "" for absent values, strings as they are */
const char *ctl_str(const json_t *v, char *buf, size_t len);

/* --- ferryctl.c: running a command --- */
struct ctx {
	const char *socket;
	int timeout_ms;
	bool json;
	struct ctl_conn conn;
};

typedef void (*printer)(const json_t *result, const char *arg);

/* Call method (params stolen); print its result with print (or as JSON); the exit code. */
int call(struct ctx *x, const char *method, json_t *params, printer print, const char *arg);
/* Print "ferryctl: <message>" and a hint to stderr; returns CTL_EUSAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A printer that prints its arg: the fixed message of a command without a result table. */
void print_message(const json_t *res, const char *fmt);

/* {"name": name}, or NULL for no params when name is NULL */
json_t *ctl_name_params(const char *name);
/* method {name}, then "<what> <name> deleted" (port del, mirror del) */
int ctl_delete(struct ctx *x, const char *method, const char *what, const char *name);

/* --- ctl_port.c: the port commands, and printers other commands share --- */
int ctl_port_add(struct ctx *x, int argc, char **argv);
int ctl_port_del(struct ctx *x, int argc, char **argv);
int ctl_port_list(struct ctx *x, int argc, char **argv);
int ctl_port_show(struct ctx *x, int argc, char **argv);
int ctl_port_set(struct ctx *x, int argc, char **argv);
int ctl_port_schema(struct ctx *x, int argc, char **argv);
int ctl_port_stats(struct ctx *x, int argc, char **argv);
int ctl_port_stats_clear(struct ctx *x, int argc, char **argv);
/* The port fields for --help, from ferryd's port.schema at socket (or a line saying how). */
void ctl_help_port_fields(FILE *f, const char *socket);
/* An object's members as "key: value" lines, skipping the member named skip (may be NULL). */
void ctl_print_object(const json_t *o, const char *skip);

/* --- ctl_filter.c: the filter commands --- */
int ctl_filter_attach(struct ctx *x, int argc, char **argv);
int ctl_filter_detach(struct ctx *x, int argc, char **argv);
int ctl_filter_list(struct ctx *x, int argc, char **argv);
int ctl_filter_map_set(struct ctx *x, int argc, char **argv);
int ctl_filter_map_get(struct ctx *x, int argc, char **argv);

/* --- ctl_mirror.c: mirror add NAME --ports A,B --direction D [--vlans V] [--filter F] --output P,
 * mirror del NAME, mirror list --- */
int ctl_mirror_add(struct ctx *x, int argc, char **argv);
int ctl_mirror_del(struct ctx *x, int argc, char **argv);
int ctl_mirror_list(struct ctx *x, int argc, char **argv);

/* --- ctl_capture.c: capture PORT [-d rx|tx|both] [-f FILTER] [-c N] [-s SNAPLEN] [-w FILE|-] --- */
int ctl_capture(struct ctx *x, int argc, char **argv);

/* --- ctl_top.c: pmd perf (per-PMD report); top [-d SECONDS] [-n ITERATIONS] (live rates;
 *     --json: one JSON object per refresh, a line each) --- */
int ctl_pmd_perf(struct ctx *x, int argc, char **argv);
int ctl_top(struct ctx *x, int argc, char **argv);

#endif
