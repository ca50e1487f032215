/* ferry_filter.h — the ABI between ferry and an eBPF filter program.
 *
 * A filter is a C file compiled with
 *     clang -O2 -target bpf -I plugins/include -c f.c -o f.o
 * Its entry point is the program in ELF section "filter":
 *
 *     #include <bpf/bpf_helpers.h>
 *     #include "ferry_filter.h"
 *     SEC("filter") int prog(const uint8_t *frame) { ... }
 *
 * R1 (frame) points at the frame's first byte: the Ethernet header, VLAN tag
 * included as the frame arrived.  ferry guarantees the first
 * min(ferry_frame_len(), FERRY_FILTER_WINDOW) bytes are contiguous there (a
 * pointer into the mbuf, or a copy into a per-lcore scratch buffer when the
 * frame is segmented).  The verifier is told the argument is a 256-byte
 * buffer, so no read may leave the window; bytes past the frame's length
 * inside the window are unspecified: check ferry_frame_len() first.
 *
 * Return FERRY_FILTER_DROP (0) to drop the frame, anything else to let it
 * pass (the socket-filter convention).
 *
 * Helpers (the call's imm is the id):
 *   1    bpf_map_lookup_elem(map, key)            from <bpf/bpf_helpers.h>;
 *        ARRAY maps: key points at a u32 index; NULL when out of range.
 *   2    bpf_map_update_elem(map, key, value, flags)  ARRAY maps; 0 or -1.
 *   0x40 ferry_frame_len()   the frame's total length (pkt_len).
 *   0x41 ferry_frame_port()  the index of the ferry port the filter runs on.
 * Any other call id is refused at load with "unknown helper N".
 *
 * Maps: BTF-defined BPF_MAP_TYPE_ARRAY only, in SEC(".maps"):
 *     struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4);
 *              __type(key, uint32_t); __type(value, uint64_t); } counts SEC(".maps");
 * ferry owns the values (zeroed at attach, one copy per attached instance);
 * __sync_fetch_and_add on a 4- or 8-byte value (BPF XADD) counts atomically.
 * filter.list shows each map's values; filter.map_set writes entries while the
 * program runs, word by word, the last word last: keep a "valid" word at the
 * end of an entry you need whole (lib/filter/README.md).
 */
#ifndef FERRY_FILTER_H
#define FERRY_FILTER_H

#ifdef __bpf__
/* clang -target bpf has no libc: the fixed-width types, and (unless <linux/bpf.h> came first,
 * which needs -I/usr/include/$(multiarch)) what <bpf/bpf_helpers.h> and map definitions use.
 * Include this header before <bpf/bpf_helpers.h>. */
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
#ifndef _ASM_GENERIC_INT_LL64_H
#define _ASM_GENERIC_INT_LL64_H
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#endif
#ifndef _UAPI__LINUX_BPF_H__
#define _UAPI__LINUX_BPF_H__
enum bpf_map_type { BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY };
#endif
#else
#include <stdint.h>
#endif

#define FERRY_FILTER_WINDOW 256   /* bytes guaranteed contiguous at R1 */

#define FERRY_FILTER_DROP 0       /* return value: drop the frame */
#define FERRY_FILTER_PASS 1       /* any non-zero value passes it */

#define FERRY_HELPER_MAP_LOOKUP_ELEM 1
#define FERRY_HELPER_MAP_UPDATE_ELEM 2
#define FERRY_HELPER_FRAME_LEN       0x40
#define FERRY_HELPER_FRAME_PORT      0x41

#ifdef __bpf__
/* The frame's total length in bytes (pkt_len), possibly > FERRY_FILTER_WINDOW. */
static uint32_t (*ferry_frame_len)(void) = (void *)FERRY_HELPER_FRAME_LEN;
/* The index of the ferry port this filter instance runs on. */
static uint32_t (*ferry_frame_port)(void) = (void *)FERRY_HELPER_FRAME_PORT;
#endif

#endif /* FERRY_FILTER_H */
