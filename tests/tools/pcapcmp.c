/* pcapcmp.c — ferry-pcapcmp [-q] EXPECTED.pcap ACTUAL.pcap: compares the frame data (not the
 * timestamps) of two pcap files in sequence. Exit 0 if identical; 1 if they differ or ACTUAL is
 * missing, with a diagnosis: frame counts, the first differing frame with both lengths, its
 * Ethernet/VLAN headers decoded and a hex dump around the first differing byte; 2 on usage
 * errors or an unreadable EXPECTED. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#define DUMP_LINES 4             /* hex dump: lines of 16 bytes around the first difference */

struct frame {
	uint8_t *data;
	uint32_t len;
};

struct capture {
	const char *path;
	pcap_t *p;
	size_t n;                /* frames read so far */
};

static int
capture_open(struct capture *c, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct stat st;

	c->path = path;
	c->n = 0;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "ferry-pcapcmp: %s: missing (%s)\n", path, strerror(errno));
		return -1;
	}
	c->p = pcap_open_offline(path, err);
	if (c->p == NULL) {
		fprintf(stderr, "ferry-pcapcmp: %s: not a readable pcap file: %s\n", path, err);
		return -1;
	}
	return 0;
}

/* 1: a frame (valid until the next call), 0: end of file, -1: error. */
static int
capture_next(struct capture *c, struct frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(c->p, &h, &data);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		fprintf(stderr, "ferry-pcapcmp: %s: frame %zu: %s\n", c->path, c->n, pcap_geterr(c->p));
		return -1;
	}
	if (h->caplen != h->len)
		fprintf(stderr, "ferry-pcapcmp: %s: frame %zu: captured %u of %u bytes\n", c->path,
			c->n, h->caplen, h->len);
	f->data = (uint8_t *)data;
	f->len = h->caplen;
	c->n++;
	return 1;
}

static bool
same(const struct frame *a, const struct frame *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void
copy_frame(struct frame *dst, const struct frame *src)
{
	dst->data = malloc(src->len ? src->len : 1);
	if (dst->data == NULL) {
		perror("ferry-pcapcmp");
		exit(2);
	}
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
}

/* ---- diagnosis ---- */

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static void
print_mac(const uint8_t *m)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool
is_tpid(unsigned type)
{
	return type == 0x8100 || type == 0x88a8;
}

/* "dst .. src .. tag 0x8100 vid 10 pcp 0 [tag ...] type 0x0800" */
static void
print_headers(const char *label, const struct frame *f)
{
	uint32_t off = 12;

	printf("  %s: %u bytes", label, f->len);
	if (f->len < 14) {
		printf(" (shorter than an Ethernet header)\n");
		return;
	}
	printf(", dst ");
	print_mac(f->data);
	printf(" src ");
	print_mac(f->data + 6);
	while (is_tpid(get16(f->data + off)) && f->len >= off + 6) {
		unsigned tci = get16(f->data + off + 2);
		printf(" tag 0x%04x vid %u pcp %u%s", get16(f->data + off), tci & 0xfff, tci >> 13,
		       tci & 0x1000 ? " dei" : "");
		off += 4;
	}
	if (is_tpid(get16(f->data + off)))
		printf(" truncated tag 0x%04x\n", get16(f->data + off));
	else
		printf(" type 0x%04x\n", get16(f->data + off));
}

static void
print_hex_line(const char *label, const struct frame *f, uint32_t start)
{
	printf("  %s %04x:", label, start);
	for (uint32_t i = start; i < start + 16; i++) {
		if (i < f->len)
			printf(" %02x", f->data[i]);
		else
			printf("   ");
	}
	putchar('\n');
}

static bool
byte_differs(const struct frame *a, const struct frame *b, uint32_t i)
{
	bool in_a = i < a->len, in_b = i < b->len;

	return in_a != in_b || (in_a && a->data[i] != b->data[i]);
}

/* "^^" under the bytes that differ; nothing if the line is the same in both. */
static void
print_marker_line(const struct frame *a, const struct frame *b, uint32_t start)
{
	uint32_t last = 0;

	for (uint32_t i = start; i < start + 16; i++)
		if (byte_differs(a, b, i))
			last = i + 1;
	if (last == 0)
		return;
	printf("           ");
	for (uint32_t i = start; i < last; i++)
		printf(byte_differs(a, b, i) ? " ^^" : "   ");
	putchar('\n');
}

static uint32_t
first_differing_byte(const struct frame *a, const struct frame *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len, i;

	for (i = 0; i < n && a->data[i] == b->data[i]; i++)
		;
	return i;
}

static void
print_difference(size_t index, const struct frame *exp, const struct frame *act)
{
	uint32_t at = first_differing_byte(exp, act);
	uint32_t start = at >= 16 ? (at & ~15u) - 16 : 0;
	uint32_t end = exp->len > act->len ? exp->len : act->len;

	printf("first difference: frame %zu (0-based), byte %u\n", index, at);
	print_headers("expected", exp);
	print_headers("actual  ", act);
	for (uint32_t l = start; l < end && l < start + 16 * DUMP_LINES; l += 16) {
		print_hex_line("exp", exp, l);
		print_hex_line("act", act, l);
		print_marker_line(exp, act, l);
	}
}

static void
print_missing(size_t index, const char *which, const struct frame *f)
{
	printf("first difference: frame %zu (0-based) exists only in %s\n", index, which);
	print_headers(which, f);
}

/* ---- comparison ---- */

struct result {
	size_t n_exp, n_act, n_diff;       /* n_diff: frames differing at the same index */
	bool have_first;
	size_t first;
	struct frame first_exp, first_act; /* len 0 + NULL data: missing on that side */
};

static void
note_difference(struct result *r, size_t index, const struct frame *e, const struct frame *a)
{
	if (r->have_first)
		return;
	r->have_first = true;
	r->first = index;
	if (e != NULL)
		copy_frame(&r->first_exp, e);
	if (a != NULL)
		copy_frame(&r->first_act, a);
}

static int
compare(struct capture *exp, struct capture *act, struct result *r)
{
	struct frame e = { NULL, 0 }, a = { NULL, 0 };
	int re = 1, ra = 1;

	for (size_t i = 0;; i++) {
		if (re == 1)
			re = capture_next(exp, &e);
		if (ra == 1)
			ra = capture_next(act, &a);
		if (re < 0 || ra < 0)
			return -1;
		if (re == 0 && ra == 0)
			break;
		if (re == 1 && ra == 1 && !same(&e, &a))
			r->n_diff++;
		if (re != ra || !same(&e, &a))
			note_difference(r, i, re == 1 ? &e : NULL, ra == 1 ? &a : NULL);
	}
	r->n_exp = exp->n;
	r->n_act = act->n;
	return 0;
}

static void
report(const struct result *r, const char *exp_path, const char *act_path)
{
	printf("ferry-pcapcmp: %s and %s differ\n", exp_path, act_path);
	printf("frames: expected %zu, actual %zu; %zu of the first %zu differ\n", r->n_exp, r->n_act,
	       r->n_diff, r->n_exp < r->n_act ? r->n_exp : r->n_act);
	if (r->first_exp.data != NULL && r->first_act.data != NULL)
		print_difference(r->first, &r->first_exp, &r->first_act);
	else if (r->first_exp.data != NULL)
		print_missing(r->first, "expected", &r->first_exp);
	else
		print_missing(r->first, "actual", &r->first_act);
}

int
main(int argc, char **argv)
{
	struct capture exp, act;
	struct result r = { 0 };
	bool quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	int rc;

	if (argc - quiet != 3) {
		fprintf(stderr, "Usage: ferry-pcapcmp [-q] EXPECTED.pcap ACTUAL.pcap\n"
				"Compares frame data (not timestamps); exit 0 if identical, 1 if not.\n");
		return 2;
	}
	if (capture_open(&exp, argv[1 + quiet]) != 0)
		return 2;
	if (capture_open(&act, argv[2 + quiet]) != 0) {
		pcap_close(exp.p);
		return 1;
	}
	rc = compare(&exp, &act, &r);
	pcap_close(exp.p);
	pcap_close(act.p);
	if (rc != 0)
		return 1;
	if (!r.have_first) {
		if (!quiet)
			printf("ferry-pcapcmp: identical, %zu frames\n", r.n_exp);
		return 0;
	}
	report(&r, exp.path, act.path);
	free(r.first_exp.data);
	free(r.first_act.data);
	return 1;
}
