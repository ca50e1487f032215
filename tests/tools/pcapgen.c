/* pcapgen.c — ferry-pcapgen SCENARIO OUTDIR [--seed N]: builds a pcap replay test for ferryd.
 * Runs the scenario's frames through the reference model, checks the model against the
 * scenario's hand-written expectations, and writes OUTDIR/config.json (net_pcap ports),
 * OUTDIR/in/<port>.pcap, OUTDIR/expected/<port>.pcap, OUTDIR/expected/drops.json,
 * OUTDIR/expected/fates.txt (what happened to every input frame) and an empty OUTDIR/out/. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "scenario.h"

#define TS_BASE 1700000000      /* pcap timestamps: fixed, one microsecond apart */

static void
usage(FILE *f)
{
	fprintf(f, "Usage: ferry-pcapgen SCENARIO OUTDIR [--seed N]\n"
		   "       ferry-pcapgen --list\n"
		   "Scenarios:\n");
	for (const struct scenario_def *d = scenario_defs; d->name; d++)
		fprintf(f, "  %-13s %s\n", d->name, d->what);
}

static int
fail(const char *what, const char *path)
{
	fprintf(stderr, "ferry-pcapgen: %s %s: %s\n", what, path, strerror(errno));
	return -1;
}

/* ---- directories ---- */

static int
make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return fail("cannot create", path);
	return 0;
}

/* mkdir -p */
static int
make_dirs(const char *path)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		fprintf(stderr, "ferry-pcapgen: %s: path too long\n", path);
		return -1;
	}
	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (make_dir(p) != 0)
			return -1;
		*s = '/';
	}
	return make_dir(p);
}

/* Creates dir/sub and removes the files in it (out/ must start empty; in/ and expected/ must
 * not keep files of ports the scenario no longer has). */
static int
make_empty_subdir(const char *dir, const char *sub)
{
	char path[PATH_MAX + 16], file[PATH_MAX + 16 + 258];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (make_dir(path) != 0 || (d = opendir(path)) == NULL)
		return fail("cannot open", path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		unlink(file);
	}
	closedir(d);
	return 0;
}

static int
make_outdir(const char *arg, char *abs)
{
	static const char *const subs[] = { "in", "expected", "out" };

	if (make_dirs(arg) != 0)
		return -1;
	if (realpath(arg, abs) == NULL)
		return fail("cannot resolve", arg);
	if (strchr(abs, ',') != NULL) {
		fprintf(stderr, "ferry-pcapgen: %s: a ',' would break the net_pcap devargs\n", abs);
		return -1;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (make_empty_subdir(abs, subs[i]) != 0)
			return -1;
	return 0;
}

/* ---- pcap files ---- */

static int
write_pcap(const char *path, const struct model_frame *f, size_t n)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;

	if (p == NULL)
		return fail("pcap_open_dead for", path);
	d = pcap_dump_open(p, path);
	if (d == NULL) {
		fprintf(stderr, "ferry-pcapgen: %s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = f[i].len, .len = f[i].len };
		h.ts.tv_sec = TS_BASE + (time_t)(i / 1000000);
		h.ts.tv_usec = (suseconds_t)(i % 1000000);
		pcap_dump((u_char *)d, &h, f[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int
write_port_pcaps(const struct scenario *sc, const char *dir)
{
	char path[PATH_MAX + 64];

	for (int p = 0; p < sc->n_ports; p++) {
		snprintf(path, sizeof(path), "%s/in/%s.pcap", dir, sc->port[p].name);
		if (write_pcap(path, sc->in[p].v, sc->in[p].n) != 0)
			return -1;
		snprintf(path, sizeof(path), "%s/expected/%s.pcap", dir, sc->port[p].name);
		if (write_pcap(path, sc->io[p].out, sc->io[p].n_out) != 0)
			return -1;
	}
	return 0;
}

/* ---- JSON ---- */

static int
write_json(json_t *j, const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (rc != 0)
		return fail("cannot write", path);
	return 0;
}

static json_t *
vlan_json(const struct model_port_cfg *p)
{
	json_t *allowed;

	if (p->mode == MODEL_VLAN_ACCESS)
		return json_pack("{s:s, s:i}", "mode", "access", "tag", p->tag);
	json_t *v = json_pack("{s:s}", "mode", "trunk");
	if (!p->allow_all) {
		allowed = json_array();
		for (int vid = 1; vid <= MODEL_VLAN_MAX; vid++)
			if (p->allowed[vid])
				json_array_append_new(allowed, json_integer(vid));
		json_object_set_new(v, "allowed", allowed);
	}
	if (p->native != 0)
		json_object_set_new(v, "native", json_integer(p->native));
	return v;
}

static json_t *
port_json(const struct model_port_cfg *p, int index, const char *dir)
{
	char devargs[3 * PATH_MAX];
	json_t *j;

	snprintf(devargs, sizeof(devargs), "net_pcap%d,rx_pcap=%s/in/%s.pcap,tx_pcap=%s/out/%s.pcap",
		 index, dir, p->name, dir, p->name);
	j = json_pack("{s:s, s:s, s:s}", "name", p->name, "type", "dpdk", "devargs", devargs);
	if (p->mode != MODEL_VLAN_DEFAULT)
		json_object_set_new(j, "vlan", vlan_json(p));
	if (p->n_mac > 0) {
		json_t *macs = json_array();
		char s[18];
		for (int i = 0; i < p->n_mac; i++)
			json_array_append_new(macs, json_string(pkt_mac_str(p->mac[i], s)));
		json_object_set_new(j, "mac", macs);
	}
	if (p->admin_down)
		json_object_set_new(j, "admin", json_string("down"));
	return j;
}

static int
write_config(const struct scenario *sc, const char *dir)
{
	char sock[PATH_MAX + 64];
	json_t *ports = json_array();

	/* the control socket lives with the test, unless the path is too long for sun_path */
	snprintf(sock, sizeof(sock), "%s/ferryd.sock", dir);
	if (strlen(sock) >= 100)
		snprintf(sock, sizeof(sock), "/tmp/ferry-pcap-%s.sock", sc->name);
	for (int p = 0; p < sc->n_ports; p++)
		json_array_append_new(ports, port_json(&sc->port[p], p, dir));
	return write_json(json_pack("{s:{s:i, s:[i]}, s:i, s:{s:i, s:i}, s:{s:s}, s:o}",
				    "lcores", "main", 0, "pmd", 1,
				    "burst", sc->burst,
				    "fdb", "size", 65536, "aging", 300,
				    "rpc", "socket", sock,
				    "ports", ports),
			  dir, "config.json");
}

static int
write_drops(const struct scenario *sc, const char *dir)
{
	json_t *all = json_object();

	for (int p = 0; p < sc->n_ports; p++) {
		json_t *d = json_object();
		for (int r = 0; r < MODEL_DROP_COUNT; r++)
			json_object_set_new(d, model_drop_names[r], json_integer((json_int_t)sc->io[p].drops[r]));
		json_object_set_new(all, sc->port[p].name, d);
	}
	return write_json(all, dir, "expected/drops.json");
}

/* expected/fates.txt: one line per input frame, "<port>#<index> -> <port>#<index> ..." (indices
 * are 0-based frame numbers in in/ and expected/ pcaps) or "<port>#<index> drop <reason>". */
static int
write_fates(const struct scenario *sc, const char *dir)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/expected/fates.txt", dir);
	if ((f = fopen(path, "w")) == NULL)
		return fail("cannot write", path);
	for (int p = 0; p < sc->n_ports; p++) {
		for (size_t i = 0; i < sc->io[p].n_in; i++) {
			const struct model_fate *t = &sc->io[p].fate[i];
			fprintf(f, "%s#%zu", sc->port[p].name, i);
			if (t->verdict != MODEL_FORWARDED)
				fprintf(f, " drop %s", model_drop_names[t->verdict]);
			else
				fputs(" ->", f);
			for (int o = 0; o < t->n_out; o++)
				fprintf(f, " %s#%zu", sc->port[t->out[o].port].name, t->out[o].index);
			fputc('\n', f);
		}
	}
	return fclose(f) == 0 ? 0 : fail("cannot write", path);
}

/* ---- main ---- */

static const struct scenario_def *
find_scenario(const char *name)
{
	for (const struct scenario_def *d = scenario_defs; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static int
parse_args(int argc, char **argv, const char **name, const char **dir, uint64_t *seed)
{
	int pos = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			char *end;
			*seed = strtoull(argv[++i], &end, 0);
			if (*end != '\0')
				return -1;
		} else if (argv[i][0] == '-' || pos == 2) {
			return -1;
		} else {
			*(pos++ == 0 ? name : dir) = argv[i];
		}
	}
	return pos == 2 ? 0 : -1;
}

static size_t
count_frames(const struct frame_vec *v, int n)
{
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += v[i].n;
	return total;
}

static size_t
count_outputs(const struct model_port_io *io, int n)
{
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += io[i].n_out;
	return total;
}

static int
generate(const struct scenario_def *def, struct scenario *sc, const char *dir)
{
	def->build(sc);
	if (sc_run_model(sc) != 0) {
		fprintf(stderr, "ferry-pcapgen: the model ran out of memory\n");
		return -1;
	}
	sc_check_expectations(sc);
	if (def->check != NULL)
		def->check(sc);
	if (write_config(sc, dir) != 0 || write_port_pcaps(sc, dir) != 0 ||
	    write_drops(sc, dir) != 0 || write_fates(sc, dir) != 0)
		return -1;
	printf("ferry-pcapgen: %s: %d ports, %zu events (%zu input frames), %zu expected output "
	       "frames, %zu expectations, %d failed\n", sc->name, sc->n_ports, sc->n_ev,
	       count_frames(sc->in, sc->n_ports), count_outputs(sc->io, sc->n_ports), sc->n_exp,
	       sc->failures);
	return sc->failures ? -1 : 0;
}

int
main(int argc, char **argv)
{
	const char *name = NULL, *dir = NULL;
	char abs[PATH_MAX];
	uint64_t seed = 1;
	const struct scenario_def *def;
	static struct scenario sc;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (def = scenario_defs; def->name; def++)
			puts(def->name);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &name, &dir, &seed) != 0) {
		usage(stderr);
		return 2;
	}
	if ((def = find_scenario(name)) == NULL) {
		fprintf(stderr, "ferry-pcapgen: unknown scenario '%s'\n", name);
		usage(stderr);
		return 2;
	}
	if (make_outdir(dir, abs) != 0)
		return 2;
	sc.name = def->name;
	sc.seed = seed;
	sc.burst = SC_BURST;
	rc = generate(def, &sc, abs);
	sc_free(&sc);
	return rc == 0 ? 0 : 1;
}
