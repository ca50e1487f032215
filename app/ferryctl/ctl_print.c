/* ctl_print.c — aligned text tables for ferryctl's human-readable output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

#define MAX_COLS 16

struct ctl_table {
	int ncols;
	const char *const *headers;
	bool right[MAX_COLS];        /* numeric columns are right-aligned */
	char **cells;                /* rows * ncols strings */
	size_t nrows, cap;
};

struct ctl_table *
ctl_table_new(const char *const *headers, const char *right_cols)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	t->headers = headers;
	while (headers[t->ncols] != NULL && t->ncols < MAX_COLS)
		t->ncols++;
	for (int i = 0; right_cols != NULL && right_cols[i] && i < t->ncols; i++)
		t->right[i] = right_cols[i] == 'r';
	return t;
}

void
ctl_table_add(struct ctl_table *t, ...)
{
	va_list ap;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * (size_t)t->ncols * sizeof(char *));
		if (t->cells == NULL)
			abort();
	}
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = strdup(s != NULL ? s : "");
	}
	va_end(ap);
	t->nrows++;
}

static void
print_row(const struct ctl_table *t, const char *const *cells, const int *w)
{
	for (int i = 0; i < t->ncols; i++) {
		bool last = i == t->ncols - 1;
		if (t->right[i])
			printf("%*s", w[i], cells[i]);
		else
			printf("%-*s", last ? 0 : w[i], cells[i]);
		fputs(last ? "\n" : "  ", stdout);
	}
}

void
ctl_table_print(struct ctl_table *t)
{
	int w[MAX_COLS] = { 0 };

	for (int i = 0; i < t->ncols; i++)
		w[i] = (int)strlen(t->headers[i]);
	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++) {
			int n = (int)strlen(t->cells[r * (size_t)t->ncols + (size_t)i]);
			w[i] = n > w[i] ? n : w[i];
		}
	print_row(t, t->headers, w);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, (const char *const *)&t->cells[r * (size_t)t->ncols], w);
	for (size_t k = 0; k < t->nrows * (size_t)t->ncols; k++)
		free(t->cells[k]);
	free(t->cells);
	free(t);
}

const char *
ctl_str(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else if (v == NULL || json_is_null(v))
		snprintf(buf, len, "-");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
	}
	return buf;
}
