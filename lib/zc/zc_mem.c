/* zc_mem.c — guest memory as ferry maps it for lending: its own MAP_SHARED mapping of each region
 * (from the fds rte_vhost received), the VFIO container mapping for DMA devices, and the reference
 * counting that keeps both alive until the last lent buffer is back. Unmapping is a syscall, so it
 * happens on the control thread (ferry_zc_reap), never where the last reference is dropped.
 * A guest file too short for its region is refused, a sealable one sealed against shrinking
 * (region_check); a later truncation is zc_guard.c's. */
#define _GNU_SOURCE   /* F_GET_SEALS, F_ADD_SEALS */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_vfio.h>
#include <rte_vhost.h>
#include "ferry_common.h"
#include "ferry_zc.h"

struct ferry_zc_env ferry_zc_env;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_zc_mem *live;      /* every mapped table not yet retired (live_lock) */
static struct ferry_zc_mem *retired;   /* lock-free stack: refcount reached zero */

static bool
dma_wanted(void)
{
	return rte_eal_iova_mode() == RTE_IOVA_VA && rte_vfio_is_enabled("vfio_pci");
}

/* Map every region into the default VFIO container (IOVA = ferry's VA). All or nothing. */
static void
dma_map(struct ferry_zc_mem *m)
{
	uint32_t i;

	if (!dma_wanted())
		return;
	if (getenv("FERRY_ZC_WITHHOLD_DMA_MAP") != NULL) {
		FERRY_LOG(WARNING, "zero-copy: FERRY_ZC_WITHHOLD_DMA_MAP set: guest memory is not "
			  "mapped for DMA; frames to DMA devices are copied");
		m->dma = FERRY_ZC_DMA_WITHHELD;
		return;
	}
	for (i = 0; i < m->map.n; i++) {
		uint64_t va = (uint64_t)(uintptr_t)m->base[i];
		if (rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD, va, va, m->len[i]) != 0)
			break;
	}
	if (i == m->map.n) {
		m->dma = FERRY_ZC_DMA_MAPPED;
		return;
	}
	while (i-- > 0) {
		uint64_t va = (uint64_t)(uintptr_t)m->base[i];
		rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD, va, va, m->len[i]);
	}
	m->dma = FERRY_ZC_DMA_FAILED;
	FERRY_LOG(INFO, "zero-copy: guest memory not mapped for DMA (%s); frames to DMA devices "
		  "are copied until a device can take it", rte_strerror(rte_errno));
}

static void
dma_unmap(struct ferry_zc_mem *m)
{
	if (m->dma != FERRY_ZC_DMA_MAPPED)
		return;
	for (uint32_t i = 0; i < m->map.n; i++) {
		uint64_t va = (uint64_t)(uintptr_t)m->base[i];
		if (rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD, va, va, m->len[i]) != 0)
			FERRY_LOG(WARNING, "zero-copy: DMA unmap of %p failed", m->base[i]);
	}
	m->dma = FERRY_ZC_DMA_NONE;
}

static void
mem_free(struct ferry_zc_mem *m)
{
	dma_unmap(m);
	for (uint32_t i = 0; i < m->map.n; i++)
		if (m->base[i] != NULL) {
			ferry_zc_guard_del(m->base[i]);
			munmap(m->base[i], m->len[i]);
		}
	rte_free(m);
}

/* Can the guest's file back [off, off + size) now and, as far as ferry can make it, for good?
 * A memfd that may still be sealed (MFD_ALLOW_SEALING, not F_SEAL_SEAL) is sealed against
 * shrinking here (F_SEAL_SHRINK: QEMU's memory-backend-memfd seals it so by default); then the
 * file must be long enough. Files that cannot be sealed (DPDK's virtio-user, memfds made without
 * MFD_ALLOW_SEALING, hugetlbfs files) can still be shrunk later: zc_guard.c covers that. */
static int
region_check(int fd, uint32_t i, uint64_t off, uint64_t size, char *err, size_t errlen)
{
	int seals = fcntl(fd, F_GET_SEALS);
	struct stat st;

	if (seals >= 0 && !(seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
		FERRY_LOG(WARNING, "zero-copy: guest region %u: cannot seal its memfd against "
			  "shrinking (%s)", i, strerror(errno));
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "guest region %u: fstat: %s", i, strerror(errno));
		return -1;
	}
	if (off > UINT64_MAX - size || (uint64_t)st.st_size < off + size) {
		snprintf(err, errlen, "guest region %u needs bytes up to %" PRIu64 " of its file, "
			 "which has %" PRIu64 " (a short memory file: refused)", i, off + size,
			 (uint64_t)st.st_size);
		return -1;
	}
	return 0;
}

static int
map_regions(struct ferry_zc_mem *m, const struct rte_vhost_memory *vm, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < vm->nregions; i++) {
		const struct rte_vhost_mem_region *r = &vm->regions[i];
		uint64_t off = r->host_user_addr - (uint64_t)(uintptr_t)r->mmap_addr;
		if (region_check(r->fd, i, off, r->size, err, errlen) != 0)
			return -1;
		void *base = mmap(NULL, r->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (base == MAP_FAILED) {
			snprintf(err, errlen, "cannot map guest region %u (%" PRIu64 " bytes): %s", i,
				 r->mmap_size, strerror(errno));
			return -1;
		}
		ferry_zc_guard_add(base, r->mmap_size, r->fd);
		m->base[i] = base;
		m->len[i] = r->mmap_size;
		m->lib_va[i] = r->host_user_addr;
		m->map.r[i] = (struct ferry_gmem_region){ .gpa = r->guest_phys_addr, .size = r->size,
							  .va = (uint8_t *)base + off };
		m->map.n = i + 1;
	}
	return 0;
}

/* Test hook: FERRY_ZC_MAP_DELAY_MS=N makes every mapping N ms slower, as pinning a large guest into
 * an IOMMU is (tests/vhost have no IOMMU; zc_memstall.sh shows who waits for it). */
static void
map_delay(void)
{
	const char *e = getenv("FERRY_ZC_MAP_DELAY_MS");
	int ms = e != NULL ? atoi(e) : 0;

	if (ms > 0)
		usleep((useconds_t)ms * 1000);
}

struct ferry_zc_mem *
ferry_zc_mem_create_table(const struct rte_vhost_memory *vm, char *err, size_t errlen)
{
	struct ferry_zc_mem *m;

	if (vm->nregions > FERRY_GMEM_MAX_REGIONS) {
		snprintf(err, errlen, "%u memory regions (at most %d)", vm->nregions,
			 FERRY_GMEM_MAX_REGIONS);
		return NULL;
	}
	m = rte_zmalloc("ferry_zc_mem", sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (map_regions(m, vm, err, errlen) < 0) {
		mem_free(m);
		return NULL;
	}
	map_delay();
	m->refcnt = 1;
	pthread_mutex_lock(&live_lock);
	dma_map(m);
	m->next = live;
	live = m;
	pthread_mutex_unlock(&live_lock);
	return m;
}

struct ferry_zc_mem *
ferry_zc_mem_create(int vid, char *err, size_t errlen)
{
	struct rte_vhost_memory *vm = NULL;
	struct ferry_zc_mem *m;

	if (rte_vhost_get_mem_table(vid, &vm) != 0 || vm == NULL) {
		snprintf(err, errlen, "no memory table from the guest");
		return NULL;
	}
	m = ferry_zc_mem_create_table(vm, err, errlen);
	free(vm);
	return m;
}

bool
ferry_zc_mem_current(const struct ferry_zc_mem *m, int vid)
{
	struct rte_vhost_memory *vm = NULL;
	bool same;

	if (rte_vhost_get_mem_table(vid, &vm) != 0 || vm == NULL)
		return false;
	same = vm->nregions == m->map.n;
	for (uint32_t i = 0; same && i < vm->nregions; i++)
		same = vm->regions[i].guest_phys_addr == m->map.r[i].gpa &&
		       vm->regions[i].size == m->map.r[i].size &&
		       vm->regions[i].host_user_addr == m->lib_va[i];
	free(vm);
	return same;
}

void
ferry_zc_mem_get(struct ferry_zc_mem *m)
{
	__atomic_add_fetch(&m->refcnt, 1, __ATOMIC_RELAXED);
}

void
ferry_zc_mem_put(struct ferry_zc_mem *m)
{
	ferry_zc_mem_put_n(m, 1);
}

void
ferry_zc_mem_put_n(struct ferry_zc_mem *m, uint32_t k)
{
	if (__atomic_sub_fetch(&m->refcnt, k, __ATOMIC_ACQ_REL) != 0)
		return;
	/* last reference: the control thread unmaps it */
	struct ferry_zc_mem *top = __atomic_load_n(&retired, __ATOMIC_RELAXED);
	do {
		m->next_retired = top;
	} while (!__atomic_compare_exchange_n(&retired, &top, m, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

void
ferry_zc_mem_dma_retry(void)
{
	pthread_mutex_lock(&live_lock);
	for (struct ferry_zc_mem *m = live; m != NULL; m = m->next)
		if (m->dma == FERRY_ZC_DMA_FAILED || m->dma == FERRY_ZC_DMA_NONE)
			dma_map(m);
	pthread_mutex_unlock(&live_lock);
}

/* Retired tables: off the live list, unmapped, freed. */
unsigned
ferry_zc_mem_reap(void)
{
	struct ferry_zc_mem *m = __atomic_exchange_n(&retired, NULL, __ATOMIC_ACQUIRE), *next;
	unsigned n = 0;

	for (; m != NULL; m = next, n++) {
		next = m->next_retired;
		pthread_mutex_lock(&live_lock);
		for (struct ferry_zc_mem **pp = &live; *pp != NULL; pp = &(*pp)->next)
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		pthread_mutex_unlock(&live_lock);
		mem_free(m);
	}
	return n;
}
