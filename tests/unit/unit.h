/* unit.h — a minimal test harness: CHECK records a failure and goes on; RUN prints one
 * "PASS: unit/<suite>/<test>" or "FAIL: ..." line per test for tests/run-all.sh to count. */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

#include <stdio.h>
#include <rte_mbuf.h>

extern int unit_failures;
extern struct rte_mempool *unit_pool;

#define CHECK(c) do {                                                                  \
		if (!(c)) {                                                            \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
			unit_failures++;                                               \
		}                                                                      \
	} while (0)

#define RUN(suite, fn) do {                                                            \
		int f0_ = unit_failures;                                               \
		fn();                                                                  \
		printf("%s: unit/%s/%s\n", unit_failures == f0_ ? "PASS" : "FAIL", suite, #fn); \
	} while (0)

/* A frame in a fresh mbuf: dst, src, optional tags (tpid/tci pairs), ethertype, payload length. */
struct rte_mbuf *unit_frame(const char *dst, const char *src, const uint16_t *tags, int n_tags,
			    uint16_t ethertype, uint16_t payload);
struct rte_mbuf *unit_raw(const uint8_t *bytes, uint16_t len);
uint64_t unit_mac(const char *s);

/* unit_dp.c: a datapath of never-opened ports from JSON, its FDB and one PMD's forwarding state. */
struct ferry_dp;
struct ferry_fwd;
unsigned unit_dp_setup(struct ferry_dp *dp, struct ferry_fwd *fw, const char *fdb_name,
		       const char *const *port_json, unsigned n);
void unit_dp_teardown(struct ferry_dp *dp, unsigned n_ports);
void unit_dp_reset_tx(struct ferry_fwd *fw, unsigned n_ports);

void suite_pkt(void);
void suite_vlan(void);
void suite_fdb(void);
void suite_config(void);
void suite_fields(void);
void suite_pipeline(void);
void suite_virtq(void);
void suite_virtq_rx(void);
void suite_filter(void);
void suite_mirror(void);
void suite_steer(void);
void suite_owned(void);

#endif
