/* zc_guard.c — a guest cannot kill ferryd with SIGBUS (security issue #21 item 8).
 *
 * Guest memory is the guest's file (a memfd or hugetlbfs file, passed with SET_MEM_TABLE) mapped
 * MAP_SHARED, by ferry (zc_mem.c) and by rte_vhost. If the guest shrinks the file, any access to
 * a page beyond its new end raises SIGBUS — in a PMD (ferry's dequeue, rte_vhost's enqueue and
 * dequeue copies, the dirty log), on the vhost thread (rte_vhost reads used->idx when it maps a
 * ring), or wherever a lent mbuf is read. A sigsetjmp around each access is not possible in the
 * hot paths (and rte_vhost's are not ours), so ferry repairs the access instead:
 *   - every guest file mapping is registered here: ferry's own (ferry_zc_guard_add/del, from
 *     zc_mem.c) and rte_vhost's regions and dirty log per device (ferry_zc_guard_msg, from the
 *     vhost-user message hooks, learned from rte_vhost_get_mem_table/get_log_base after
 *     rte_vhost mapped them, dropped before it unmaps them; ferry_zc_guard_forget when the
 *     connection closes). The table is an array read without locks by the handler;
 *   - the SIGBUS handler (SA_SIGINFO, on the faulting thread) looks the address up; inside a
 *     registered mapping it maps an anonymous zero page (the mapping's page size: 2 MiB or 1 GiB
 *     for hugetlbfs) over the faulting page with MAP_FIXED and returns, so the access completes
 *     (reads see zeros, writes go nowhere the guest sees); it counts the hit, marks the device's
 *     zero_copy state "bad_memory" and writes one line to stderr (write(2): signal-safe). The
 *     control thread logs the details later (ferry_zc_guard_report). Replacing the page is safe:
 *     a faulting access means the mapping is still mapped (ferry unmaps its own only when no
 *     buffer references it; rte_vhost unmaps only under its ring locks, which the accessing
 *     thread holds, and after the hooks dropped the range), so the page cannot belong to
 *     anything else;
 *   - a SIGBUS anywhere else goes to the previous handler (ASan's, or the default: a crash with
 *     a core, as before). One window is covered by thread instead of by range: while rte_vhost
 *     handles SET_MEM_TABLE it maps the new table and reads the rings in it before ferry can
 *     learn the new ranges; a BUS_ADRERR on the vhost thread then is the guest's too.
 * A truncated guest only hurts itself: its rings read as zeros, its frames stop. Files the guest
 * can still shrink are refused up front when already short (zc_mem.c: fstat), and a sealable
 * memfd is sealed against shrinking by ferry itself (F_SEAL_SHRINK), so this is the last line
 * for files that cannot be sealed (QEMU seals its memfd backend by default; DPDK's virtio-user
 * and memfds made without MFD_ALLOW_SEALING cannot be). EAL's own SIGBUS handler, installed only
 * while it allocates hugepages, stands in front of this one for that moment. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <rte_vhost.h>
#include "ferry_common.h"
#include "ferry_zc.h"

#define GUARD_MAX  256
#define GUARD_VIDS 1024   /* RTE_MAX_VHOST_DEVICE */

enum { G_FREE, G_OWN, G_REGION, G_LOG };

struct guard {
	uintptr_t lo, hi;      /* [lo, hi); lo 0: free slot (published last, cleared first) */
	uint64_t pgsz;
	dev_t dev;
	ino_t ino;
	int32_t vid;           /* the device it belongs to, -1: none known */
	uint8_t kind;
};

static struct guard tab[GUARD_MAX];
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *vid_state[GUARD_VIDS];          /* where a hit marks FERRY_ZC_BAD_MEM */
static struct sigaction old_action;
static bool installed;
static volatile int window_vid = -1;             /* the vhost thread inside SET_MEM_TABLE */
static volatile pid_t window_tid;
static uint64_t hits, reported;
static uintptr_t last_addr;
static int32_t last_vid;

static const struct guard *
guard_find(uintptr_t a)
{
	for (unsigned i = 0; i < GUARD_MAX; i++) {
		uintptr_t lo = __atomic_load_n(&tab[i].lo, __ATOMIC_ACQUIRE);
		if (lo == 0 || a < lo || a >= tab[i].hi)
			continue;
		if (__atomic_load_n(&tab[i].lo, __ATOMIC_ACQUIRE) == lo)   /* not reused meanwhile */
			return &tab[i];
	}
	return NULL;
}

static void
say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing to do about it in a signal handler */
	}
}

/* Not ours: as if this handler were not there. */
static void
pass_on(int sig, siginfo_t *si, void *uc)
{
	if (old_action.sa_flags & SA_SIGINFO) {
		old_action.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_action.sa_handler != SIG_DFL && old_action.sa_handler != SIG_IGN) {
		old_action.sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);   /* the access faults again: the default action (core) */
}

static bool
zero_page(uintptr_t a, uint64_t pgsz)
{
	void *p = (void *)(a & ~(uintptr_t)(pgsz - 1));

	return mmap(p, pgsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1, 0) != MAP_FAILED;
}

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	const struct guard *g = guard_find(a);
	int32_t vid = g != NULL ? g->vid : -1;
	bool ok = false;

	if (g != NULL)
		ok = zero_page(a, g->pgsz);
	else if (si->si_code == BUS_ADRERR && window_vid >= 0 &&
		 (pid_t)syscall(SYS_gettid) == window_tid) {
		vid = window_vid;   /* rte_vhost reading a table it just mapped: page size unknown */
		ok = zero_page(a, 4096) || zero_page(a, 2u << 20) || zero_page(a, 1u << 30);
	}
	if (!ok) {
		errno = saved;
		pass_on(sig, si, uc);
		return;
	}
	__atomic_store_n(&last_addr, a, __ATOMIC_RELAXED);
	__atomic_store_n(&last_vid, vid, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&hits, 1, __ATOMIC_RELEASE) == 0)
		say("ferry: SIGBUS in guest memory (the guest truncated its memory file): zero page "
		    "mapped over it, the guest marked bad_memory\n");
	if (vid >= 0 && vid < GUARD_VIDS) {
		uint8_t *st = __atomic_load_n(&vid_state[vid], __ATOMIC_ACQUIRE);
		if (st != NULL)
			__atomic_store_n(st, FERRY_ZC_BAD_MEM, __ATOMIC_RELAXED);
	}
	errno = saved;
}

/* Install the handler (once, from the first registration: EAL is up, ASan's is in place). */
static void
guard_install(void)
{
	struct sigaction sa;

	if (installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;   /* another thread's or a nested fault: handled */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_action) != 0) {
		FERRY_LOG(ERR, "zero-copy guard: cannot install a SIGBUS handler: %s", strerror(errno));
		return;
	}
	installed = true;
}

static void
guard_put(uintptr_t lo, uint64_t len, uint64_t pgsz, const struct stat *st, int32_t vid,
	  uint8_t kind)
{
	if (lo == 0 || len == 0)
		return;
	guard_install();
	for (unsigned i = 0; i < GUARD_MAX; i++) {
		struct guard *g = &tab[i];
		if (g->lo != 0)
			continue;
		g->hi = lo + len;
		g->pgsz = pgsz >= 4096 && (pgsz & (pgsz - 1)) == 0 ? pgsz : 4096;
		g->dev = st != NULL ? st->st_dev : 0;
		g->ino = st != NULL ? st->st_ino : 0;
		g->vid = vid;
		g->kind = kind;
		__atomic_store_n(&g->lo, lo, __ATOMIC_RELEASE);
		return;
	}
	FERRY_LOG(WARNING, "zero-copy guard: table full: a guest mapping at %p is not covered "
		  "against SIGBUS", (void *)lo);
}

static void
guard_clear(struct guard *g)
{
	__atomic_store_n(&g->lo, 0, __ATOMIC_RELEASE);
	g->hi = 0;
}

/* The device an inode belongs to, as rte_vhost's mappings of it say (-1: none). tab_lock. */
static int32_t
vid_of_inode(const struct stat *st)
{
	for (unsigned i = 0; i < GUARD_MAX; i++)
		if (tab[i].lo != 0 && tab[i].kind == G_REGION && tab[i].dev == st->st_dev &&
		    tab[i].ino == st->st_ino)
			return tab[i].vid;
	return -1;
}

void
ferry_zc_guard_add(void *base, uint64_t len, int fd)
{
	struct stat st;
	bool have = fstat(fd, &st) == 0;

	pthread_mutex_lock(&tab_lock);
	guard_put((uintptr_t)base, len, have ? (uint64_t)st.st_blksize : 4096, have ? &st : NULL,
		  have ? vid_of_inode(&st) : -1, G_OWN);
	pthread_mutex_unlock(&tab_lock);
}

void
ferry_zc_guard_del(void *base)
{
	pthread_mutex_lock(&tab_lock);
	for (unsigned i = 0; i < GUARD_MAX; i++)
		if (tab[i].lo == (uintptr_t)base && tab[i].kind == G_OWN)
			guard_clear(&tab[i]);
	pthread_mutex_unlock(&tab_lock);
}

/* Drop vid's rte_vhost entries of one kind (G_FREE: every kind). tab_lock. */
static void
drop_vid(int vid, uint8_t kind)
{
	for (unsigned i = 0; i < GUARD_MAX; i++)
		if (tab[i].lo != 0 && tab[i].vid == vid && tab[i].kind != G_OWN &&
		    (kind == G_FREE || tab[i].kind == kind))
			guard_clear(&tab[i]);
}

static void
learn_regions(int vid)
{
	struct rte_vhost_memory *vm = NULL;
	struct stat st;

	if (rte_vhost_get_mem_table(vid, &vm) != 0 || vm == NULL)
		return;
	for (uint32_t i = 0; i < vm->nregions; i++) {
		const struct rte_vhost_mem_region *r = &vm->regions[i];
		bool have = fstat(r->fd, &st) == 0;
		guard_put((uintptr_t)r->mmap_addr, r->mmap_size,
			  have ? (uint64_t)st.st_blksize : 4096, have ? &st : NULL, vid, G_REGION);
	}
	free(vm);
}

static void
learn_log(int vid)
{
	uint64_t base = 0, size = 0;

	if (rte_vhost_get_log_base(vid, &base, &size) == 0 && base != 0)
		guard_put((uintptr_t)base, size, 4096, NULL, vid, G_LOG);
}

void
ferry_zc_guard_msg(int vid, uint32_t req, bool post, uint8_t *state)
{
	enum { SET_MEM_TABLE = 5, SET_LOG_BASE = 6, RESET_OWNER = 4 };

	if (vid < 0 || vid >= GUARD_VIDS)
		return;
	if (state != NULL)
		__atomic_store_n(&vid_state[vid], state, __ATOMIC_RELEASE);
	window_vid = -1;
	pthread_mutex_lock(&tab_lock);
	if (!post && (req == SET_MEM_TABLE || req == RESET_OWNER))
		drop_vid(vid, G_REGION);   /* rte_vhost unmaps the old table in its handler */
	if (!post && req == SET_LOG_BASE)
		drop_vid(vid, G_LOG);
	if (post && req == SET_MEM_TABLE) {
		drop_vid(vid, G_REGION);   /* (an unchanged table was not remapped: the same again) */
		learn_regions(vid);
	}
	if (post && req == SET_LOG_BASE)
		learn_log(vid);
	pthread_mutex_unlock(&tab_lock);
	if (!post && req == SET_MEM_TABLE) {
		window_tid = (pid_t)syscall(SYS_gettid);
		window_vid = vid;
	}
}

void
ferry_zc_guard_forget(int vid)
{
	if (vid < 0 || vid >= GUARD_VIDS)
		return;
	__atomic_store_n(&vid_state[vid], NULL, __ATOMIC_RELEASE);
	pthread_mutex_lock(&tab_lock);
	drop_vid(vid, G_FREE);
	for (unsigned i = 0; i < GUARD_MAX; i++)   /* ferry's own mappings outlive the device */
		if (tab[i].vid == vid)
			tab[i].vid = -1;
	pthread_mutex_unlock(&tab_lock);
	if (window_vid == vid)
		window_vid = -1;
}

void
ferry_zc_guard_forget_state(const uint8_t *state)
{
	for (int v = 0; v < GUARD_VIDS; v++)
		if (state != NULL && __atomic_load_n(&vid_state[v], __ATOMIC_ACQUIRE) == state)
			ferry_zc_guard_forget(v);
}

void
ferry_zc_guard_mark(int vid, uint8_t zc_state)
{
	uint8_t *st = vid >= 0 && vid < GUARD_VIDS ?
		      __atomic_load_n(&vid_state[vid], __ATOMIC_ACQUIRE) : NULL;

	if (st != NULL)
		__atomic_store_n(st, zc_state, __ATOMIC_RELAXED);
}

uint64_t
ferry_zc_guard_hits(void)
{
	return __atomic_load_n(&hits, __ATOMIC_ACQUIRE);
}

void
ferry_zc_guard_report(void)
{
	uint64_t n = ferry_zc_guard_hits();

	if (n == reported)
		return;
	FERRY_LOG(ERR, "zero-copy guard: %" PRIu64 " SIGBUS in guest memory so far (last at %p, "
		  "vhost device %d): a guest truncated its memory file; zero pages stand in for the "
		  "pages it removed", n, (void *)__atomic_load_n(&last_addr, __ATOMIC_RELAXED),
		  (int)__atomic_load_n(&last_vid, __ATOMIC_RELAXED));
	reported = n;
}
