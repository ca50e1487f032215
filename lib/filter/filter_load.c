/* filter_load.c — from an eBPF object file to a verified rte_bpf program: libbpf opens the object
 * (the "filter" program's instructions, the BTF-defined maps), libelf reads the program section's
 * relocations (libbpf applies them only when loading into the kernel), ferry allocates the maps'
 * values and patches each map reference, refuses calls other than ferry's helpers, and rte_bpf
 * verifies, then JIT-compiles where it can. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include <bpf/libbpf.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include "ferry_bpf_filter.h"
#include "ferry_common.h"
#include "ferry_config.h"
#include "filter_private.h"

#define FILTER_SEC "filter"
#define MAPS_SEC ".maps"
#define LD_IMM64 (BPF_LD | BPF_IMM | EBPF_DW)
#define MAP_VALUES_MAX (64u << 20)   /* bytes of values per map */

/* libbpf's own messages: the last warning is kept for the error returned. */
static char libbpf_last[256];

static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(libbpf_last, sizeof(libbpf_last), fmt, ap);
	libbpf_last[strcspn(libbpf_last, "\n")] = '\0';
	return 0;
}

/* Is path an ELF file? Refuses directories, missing files and anything else first. */
static int
check_elf(const char *path, char *err, size_t errlen)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		ferry_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n != 4 || memcmp(magic, ELFMAG, SELFMAG) != 0) {
		ferry_errf(err, errlen, "%s: not an ELF object file", path);
		return -1;
	}
	return 0;
}

static struct bpf_program *
find_filter_prog(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		if (strcmp(bpf_program__section_name(p), FILTER_SEC) == 0)
			return p;
	return NULL;
}

/* The maps: ARRAY only; values owned by ferry, zeroed. */
static int
setup_maps(struct bpf_object *obj, struct ferry_filter *f, char *err, size_t errlen)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct ferry_filter_map *fm = &f->maps[f->n_maps];
		if (bpf_map__is_internal(m)) {
			ferry_errf(err, errlen,
				   "global or static variables (%s) are not supported: use an "
				   "ARRAY map", bpf_map__name(m));
			return -1;
		}
		if (bpf_map__type(m) != BPF_MAP_TYPE_ARRAY) {
			ferry_errf(err, errlen, "map %s: type %s is not supported (ARRAY only)",
				   bpf_map__name(m),
				   libbpf_bpf_map_type_str(bpf_map__type(m)) ?: "?");
			return -1;
		}
		if (f->n_maps == FERRY_FILTER_MAX_MAPS) {
			ferry_errf(err, errlen, "more than %d maps", FERRY_FILTER_MAX_MAPS);
			return -1;
		}
		fm->type = bpf_map__type(m);
		fm->key_size = bpf_map__key_size(m);
		fm->value_size = bpf_map__value_size(m);
		fm->max_entries = bpf_map__max_entries(m);
		snprintf(fm->name, sizeof(fm->name), "%s", bpf_map__name(m));
		if (fm->key_size != 4 || fm->value_size == 0 || fm->max_entries == 0 ||
		    (uint64_t)fm->value_size * fm->max_entries > MAP_VALUES_MAX) {
			ferry_errf(err, errlen,
				   "map %s: key must be 4 bytes, values 1..%u bytes in all",
				   fm->name, MAP_VALUES_MAX);
			return -1;
		}
		size_t sz = (size_t)fm->value_size * fm->max_entries;
		fm->values = f->on_heap ? rte_zmalloc("ferry_filter_map", sz, RTE_CACHE_LINE_SIZE)
			: calloc(1, sz);
		if (fm->values == NULL) {
			ferry_errf(err, errlen, "map %s: out of memory", fm->name);
			return -1;
		}
		f->n_maps++;
	}
	return 0;
}

/* ELF view of the object: the filter section, .maps, the symbol table, the relocations. */
struct elf_view {
	Elf *elf;
	size_t shstrndx;
	size_t prog_shndx, maps_shndx;
	Elf_Scn *symtab;
	size_t symtab_link;
	Elf_Scn *rel;
};

static int
elf_view_open(struct elf_view *v, int fd, char *err, size_t errlen)
{
	Elf_Scn *s = NULL;
	GElf_Shdr sh;

	memset(v, 0, sizeof(*v));
	elf_version(EV_CURRENT);
	v->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (v->elf == NULL || elf_getshdrstrndx(v->elf, &v->shstrndx) != 0) {
		ferry_errf(err, errlen, "ELF: %s", elf_errmsg(-1));
		return -1;
	}
	while ((s = elf_nextscn(v->elf, s)) != NULL) {
		const char *name;
		if (gelf_getshdr(s, &sh) == NULL)
			continue;
		name = elf_strptr(v->elf, v->shstrndx, sh.sh_name);
		if (name == NULL)
			continue;
		if (strcmp(name, FILTER_SEC) == 0)
			v->prog_shndx = elf_ndxscn(s);
		else if (strcmp(name, MAPS_SEC) == 0)
			v->maps_shndx = elf_ndxscn(s);
		if (sh.sh_type == SHT_SYMTAB) {
			v->symtab = s;
			v->symtab_link = sh.sh_link;
		}
	}
	s = NULL;
	while ((s = elf_nextscn(v->elf, s)) != NULL)
		if (gelf_getshdr(s, &sh) != NULL && sh.sh_type == SHT_REL &&
		    sh.sh_info == v->prog_shndx)
			v->rel = s;
	if (v->symtab == NULL) {
		ferry_errf(err, errlen, "ELF: no symbol table");
		return -1;
	}
	return 0;
}

static int
elf_symbol(const struct elf_view *v, size_t i, GElf_Sym *sym, const char **name)
{
	Elf_Data *d = elf_getdata(v->symtab, NULL);

	if (d == NULL || gelf_getsym(d, (int)i, sym) == NULL)
		return -1;
	*name = elf_strptr(v->elf, v->symtab_link, sym->st_name) ?: "?";
	return 0;
}

/* The program's first instruction within its section (a section may hold several functions). */
static long
prog_offset(const struct elf_view *v, const char *prog_name)
{
	Elf_Data *d = elf_getdata(v->symtab, NULL);
	GElf_Sym sym;

	for (int i = 0; d != NULL && gelf_getsym(d, i, &sym) != NULL; i++) {
		const char *n = elf_strptr(v->elf, v->symtab_link, sym.st_name);
		if (sym.st_shndx == v->prog_shndx && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    n != NULL && strcmp(n, prog_name) == 0)
			return (long)(sym.st_value / sizeof(struct ebpf_insn));
	}
	return 0;
}

/* Patch every map reference (ld_imm64 + relocation to a .maps symbol) with ferry's descriptor. */
static int
apply_relocs(const struct elf_view *v, struct ferry_filter *f, struct ebpf_insn *ins, uint32_t n,
	     long off, char *err, size_t errlen)
{
	Elf_Data *d;
	GElf_Shdr sh;

	if (v->rel == NULL)
		return 0;
	d = elf_getdata(v->rel, NULL);
	gelf_getshdr(v->rel, &sh);
	for (size_t r = 0; d != NULL && r < sh.sh_size / sizeof(Elf64_Rel); r++) {
		GElf_Rel rel;
		GElf_Sym sym;
		const char *name;
		if (gelf_getrel(d, (int)r, &rel) == NULL ||
		    elf_symbol(v, GELF_R_SYM(rel.r_info), &sym, &name) < 0) {
			ferry_errf(err, errlen, "ELF: bad relocation %zu", r);
			return -1;
		}
		long i = (long)(rel.r_offset / sizeof(struct ebpf_insn)) - off;
		if (i < 0 || (uint32_t)i >= n)
			continue;   /* another function of the section */
		if (sym.st_shndx != v->maps_shndx || v->maps_shndx == 0) {
			ferry_errf(err, errlen,
				   "instruction %ld: reference to %s is not supported (only maps "
				   "in .maps; no global data, no bpf-to-bpf calls)", i, name);
			return -1;
		}
		struct ferry_filter_map *fm = ferry_filter_map_by_name(f, name);
		if (fm == NULL || ins[i].code != LD_IMM64 || (uint32_t)i + 1 >= n) {
			ferry_errf(err, errlen, "instruction %ld: bad map reference to %s", i,
				   name);
			return -1;
		}
		uint64_t addr = (uintptr_t)fm;
		ins[i].src_reg = 0;
		ins[i].imm = (int32_t)(uint32_t)addr;
		ins[i + 1].imm = (int32_t)(uint32_t)(addr >> 32);
	}
	return 0;
}

/* Refuse calls rte_bpf would be given no function for, and bpf-to-bpf calls. */
static int
check_calls(const struct ebpf_insn *ins, uint32_t n, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		if (ins[i].code != (BPF_JMP | EBPF_CALL))
			continue;
		if (ins[i].src_reg != 0) {
			ferry_errf(err, errlen,
				   "instruction %u: bpf-to-bpf calls are not supported", i);
			return -1;
		}
		if (!ferry_filter_helper_known(ins[i].imm)) {
			ferry_errf(err, errlen, "instruction %u: unknown helper %d", i, ins[i].imm);
			return -1;
		}
	}
	return 0;
}

/* rte_bpf_load, its verifier's messages (DPDK log, ERR level) captured for the error. */
static struct rte_bpf *
bpf_load_verbose(const struct ebpf_insn *ins, uint32_t n, const struct ferry_filter *f,
		 char *err, size_t errlen)
{
	struct rte_bpf_xsym *xsym;
	uint32_t n_xsym;
	struct rte_bpf_prm prm = {
		.ins = ins, .nb_ins = n,
		.prog_arg = { .type = RTE_BPF_ARG_PTR, .size = FERRY_FILTER_WINDOW },
	};
	char *log = NULL;
	size_t log_len = 0;
	FILE *old = rte_log_get_stream(), *mem = open_memstream(&log, &log_len);

	xsym = ferry_filter_xsyms(f, &n_xsym);
	if (xsym == NULL) {
		ferry_errf(err, errlen, "out of memory");
		if (mem != NULL)
			fclose(mem);
		free(log);
		return NULL;
	}
	prm.xsym = xsym;
	prm.nb_xsym = n_xsym;
	if (mem != NULL)
		rte_openlog_stream(mem);
	struct rte_bpf *bpf = rte_bpf_load(&prm);
	int e = rte_errno;
	if (mem != NULL) {
		rte_openlog_stream(old);
		fclose(mem);
	}
	free(xsym);
	if (bpf == NULL) {
		char *last = NULL;
		for (char *l = log ? strtok(log, "\n") : NULL; l != NULL; l = strtok(NULL, "\n"))
			if (strstr(l, "error") != NULL || strstr(l, "pc") != NULL || last == NULL)
				last = l;
		ferry_errf(err, errlen, "rte_bpf verifier: %s", last != NULL ? last : strerror(e));
	}
	free(log);
	return bpf;
}

static int
load_prog(struct bpf_object *obj, struct ferry_filter *f, char *err, size_t errlen)
{
	struct bpf_program *prog = find_filter_prog(obj);
	struct elf_view v;
	int rc = -1, fd;

	if (prog == NULL) {
		ferry_errf(err, errlen, "%s: no program in section \"%s\"", f->path, FILTER_SEC);
		return -1;
	}
	uint32_t n = (uint32_t)bpf_program__insn_cnt(prog);
	struct ebpf_insn *ins = calloc(n ? n : 1, sizeof(*ins));
	if (ins == NULL) {
		ferry_errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(ins, bpf_program__insns(prog), n * sizeof(*ins));
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && elf_view_open(&v, fd, err, errlen) == 0 &&
	    apply_relocs(&v, f, ins, n, prog_offset(&v, bpf_program__name(prog)), err, errlen) == 0 &&
	    check_calls(ins, n, err, errlen) == 0 &&
	    (f->bpf = bpf_load_verbose(ins, n, f, err, errlen)) != NULL)
		rc = 0;
	else if (fd < 0)
		ferry_errf(err, errlen, "%s: %s", f->path, strerror(errno));
	if (fd >= 0) {
		if (v.elf != NULL)
			elf_end(v.elf);
		close(fd);
	}
	free(ins);
	return rc;
}

static int
filter_load(const char *path, bool on_heap, struct ferry_filter **out, char *err, size_t errlen)
{
	struct ferry_filter *f;
	struct bpf_object *obj;
	char e[512];

	if (path[0] != '/') {
		ferry_errf(err, errlen, "%s: must be an absolute path", path);
		return -1;
	}
	if (check_elf(path, err, errlen) < 0)
		return -1;
	f = on_heap ? rte_zmalloc("ferry_filter", sizeof(*f), RTE_CACHE_LINE_SIZE)
		: calloc(1, sizeof(*f));
	if (f == NULL) {
		ferry_errf(err, errlen, "out of memory");
		return -1;
	}
	f->on_heap = on_heap;
	snprintf(f->path, sizeof(f->path), "%s", path);
	libbpf_last[0] = '\0';
	libbpf_set_print(libbpf_print);
	obj = bpf_object__open_file(path, NULL);
	if (libbpf_get_error(obj) != 0) {
		snprintf(e, sizeof(e), "%s", libbpf_last[0] ? libbpf_last : strerror(errno));
		ferry_errf(err, errlen, "%s: libbpf: %s%s", path, e,
			   strstr(e, "BTF") ? " (maps in .maps need BTF: compile with clang -g)"
					    : "");
		ferry_filter_free(f);
		return -1;
	}
	int rc = setup_maps(obj, f, err, errlen);
	if (rc == 0)
		rc = load_prog(obj, f, err, errlen);
	bpf_object__close(obj);
	if (rc < 0) {
		ferry_filter_free(f);
		return -1;
	}
	struct rte_bpf_jit jit;
	if (rte_bpf_get_jit(f->bpf, &jit) == 0 && jit.func != NULL)
		f->jit = jit.func;
	*out = f;
	return 0;
}

int
ferry_filter_load(const char *path, struct ferry_filter **out, char *err, size_t errlen)
{
	return filter_load(path, true, out, err, errlen);
}

int
ferry_filter_check(const char *path, char *err, size_t errlen)
{
	struct ferry_filter *f;

	if (filter_load(path, false, &f, err, errlen) < 0)
		return -1;
	ferry_filter_free(f);
	return 0;
}

int
ferry_filter_check_conf(const struct ferry_filter_conf *fc, char *err, size_t errlen)
{
	struct ferry_filter *f;
	int rc;

	if (filter_load(fc->path, false, &f, err, errlen) < 0)
		return -1;
	rc = ferry_filter_maps_load(f, fc, err, errlen);
	ferry_filter_free(f);
	return rc;
}

void
ferry_filter_free(struct ferry_filter *f)
{
	if (f == NULL)
		return;
	if (f->bpf != NULL)
		rte_bpf_destroy(f->bpf);
	for (unsigned i = 0; i < f->n_maps; i++)
		f->on_heap ? rte_free(f->maps[i].values) : free(f->maps[i].values);
	f->on_heap ? rte_free(f) : free(f);
}

/* 4- and 8-byte values as numbers, larger ones as hex of their first 64 bytes. */
static json_t *
map_value_json(const struct ferry_filter_map *m, uint32_t i)
{
	const uint8_t *v = m->values + (size_t)i * m->value_size;

	if (m->value_size == 4)
		return json_integer(*(const volatile uint32_t *)v);
	if (m->value_size == 8)
		return json_integer((json_int_t)*(const volatile uint64_t *)v);
	return ferry_filter_map_hex(m, i, 64);
}

json_t *
ferry_filter_maps_json(const struct ferry_filter *f)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < f->n_maps; i++) {
		const struct ferry_filter_map *m = &f->maps[i];
		json_t *vals = json_array();
		uint32_t n = m->max_entries < FERRY_FILTER_LIST_MAX ? m->max_entries :
			FERRY_FILTER_LIST_MAX;
		for (uint32_t k = 0; k < n; k++)
			json_array_append_new(vals, map_value_json(m, k));
		json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o}", "name", m->name,
				      "type", "array", "key_size", (int)m->key_size,
				      "value_size", (int)m->value_size,
				      "max_entries", (json_int_t)m->max_entries, "values", vals);
		if (n < m->max_entries)
			json_object_set_new(o, "truncated", json_true());
		json_array_append_new(a, o);
	}
	return a;
}
