/* dropcmp.c — ferry-dropcmp EXPECTED_DROPS.json FERRYD.LOG: compares the reference model's
 * per-port drop counters (expected/drops.json from ferry-pcapgen) with the final port statistics
 * ferryd logs on exit (lines "... stats {"name": ..., "drops": {...}, ...}"). Only the reasons
 * named in drops.json are compared. Exit 0 if all agree, 1 if not, 2 if the log has no stats
 * lines or a file cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define STATS_MARK "stats {"

/* The ports' "drops" objects from the log, keyed by port name. */
static json_t *
read_logged_drops(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *all;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	all = json_object();
	while (getline(&line, &cap, f) > 0) {
		char *s = strstr(line, STATS_MARK);
		json_t *j, *name, *drops;
		if (s == NULL)
			continue;
		j = json_loads(s + strlen(STATS_MARK) - 1, JSON_DISABLE_EOF_CHECK, NULL);
		name = json_object_get(j, "name");
		drops = json_object_get(j, "drops");
		if (json_is_string(name) && json_is_object(drops))
			json_object_set(all, json_string_value(name), drops);
		json_decref(j);
	}
	free(line);
	fclose(f);
	return all;
}

/* Prints and counts the counters of one port that differ. */
static int
compare_port(const char *port, json_t *want, json_t *got)
{
	const char *reason;
	json_t *n;
	int bad = 0;

	json_object_foreach(want, reason, n) {
		json_t *g = json_object_get(got, reason);
		if (g != NULL && json_integer_value(g) == json_integer_value(n))
			continue;
		printf("  %-10s %-12s expected %lld, ferryd %s%lld\n", port, reason,
		       (long long)json_integer_value(n), g ? "" : "(missing) ",
		       (long long)json_integer_value(g));
		bad++;
	}
	return bad;
}

int
main(int argc, char **argv)
{
	json_error_t err;
	json_t *want, *got, *drops;
	const char *port;
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "Usage: ferry-dropcmp EXPECTED_DROPS.json FERRYD.LOG\n");
		return 2;
	}
	if ((want = json_load_file(argv[1], 0, &err)) == NULL) {
		fprintf(stderr, "ferry-dropcmp: %s: %s\n", argv[1], err.text);
		return 2;
	}
	if ((got = read_logged_drops(argv[2])) == NULL || json_object_size(got) == 0) {
		fprintf(stderr, "ferry-dropcmp: %s: no port stats logged\n", argv[2]);
		return 2;
	}
	json_object_foreach(want, port, drops) {
		json_t *g = json_object_get(got, port);
		if (g == NULL) {
			printf("  %-10s no stats logged\n", port);
			bad++;
			continue;
		}
		bad += compare_port(port, drops, g);
	}
	printf("ferry-dropcmp: %s\n", bad ? "drop counters differ" : "drop counters agree");
	json_decref(want);
	json_decref(got);
	return bad ? 1 : 0;
}
