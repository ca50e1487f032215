/* filter_private.h — what the filter module's files share: the helper table (filter_exec.c), the
 * hex encoder (filter_conf.c). */
#ifndef FERRY_FILTER_PRIVATE_H
#define FERRY_FILTER_PRIVATE_H

#include <stdbool.h>
#include <rte_bpf.h>
#include "ferry_bpf_filter.h"

/* Is id one of ferry's helpers (plugins/include/ferry_filter.h)? */
bool ferry_filter_helper_known(int32_t id);
/* The external symbols rte_bpf gets for f (malloc'ed; index = call id). NULL: out of memory. */
struct rte_bpf_xsym *ferry_filter_xsyms(const struct ferry_filter *f, uint32_t *n);
/* n bytes as 2n lowercase hex digits and a NUL into out (filter_conf.c). */
void ferry_hex_encode(const uint8_t *b, size_t n, char *out);

#endif
