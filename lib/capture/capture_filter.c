/* capture_filter.c — a libpcap filter expression as a burst matcher, shared by packet capture
 * and port mirroring (lib/mirror): pcap_compile (Ethernet) → classic BPF → rte_bpf_convert →
 * rte_bpf over the mbuf, JIT-compiled when the JIT takes it (else rte_bpf's interpreter). */
#define ALLOW_EXPERIMENTAL_API   /* rte_bpf_convert is experimental in DPDK 22.11 */
#include <stdio.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include "ferry_capture.h"

int
ferry_pcap_filter_check(const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;
	int rc = 0;

	if (expr[0] == '\0')
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (p == NULL)
		return ferry_errf(err, errlen, "out of memory");
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		rc = ferry_errf(err, errlen, "%s", pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

int
ferry_pcap_filter_compile(struct ferry_pcap_filter *f, const char *expr, uint32_t snaplen,
			  char *err, size_t errlen)
{
	struct bpf_program prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit;
	pcap_t *p;

	f->bpf = NULL;
	f->jit = NULL;
	if (expr[0] == '\0')
		return 0;
	p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (p == NULL)
		return ferry_errf(err, errlen, "out of memory");
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	pcap_close(p);
	if (prm == NULL)
		return ferry_errf(err, errlen, "rte_bpf_convert: %s", rte_strerror(rte_errno));
	f->bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (f->bpf == NULL)
		return ferry_errf(err, errlen, "rte_bpf_load: %s", rte_strerror(rte_errno));
	if (rte_bpf_get_jit(f->bpf, &jit) == 0 && jit.func != NULL)
		f->jit = jit.func;
	return 0;
}

void
ferry_pcap_filter_free(struct ferry_pcap_filter *f)
{
	rte_bpf_destroy(f->bpf);
	f->bpf = NULL;
	f->jit = NULL;
}

uint64_t
ferry_pcap_filter_match(const struct ferry_pcap_filter *f, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t rc[FERRY_BURST], m = 0;

	if (f->bpf == NULL)
		return n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
	if (f->jit != NULL) {
		for (uint16_t i = 0; i < n; i++)
			m |= (uint64_t)(f->jit(pkts[i]) != 0) << i;
		return m;
	}
	rte_bpf_exec_burst(f->bpf, (void **)pkts, rc, n);
	for (uint16_t i = 0; i < n; i++)
		m |= (uint64_t)(rc[i] != 0) << i;
	return m;
}
