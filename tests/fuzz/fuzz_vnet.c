/* fuzz_vnet.c — libFuzzer target for lib/offload: a malicious guest's virtio-net header and frame.
 *
 * Input: 12 bytes virtio_net_hdr_mrg_rxbuf (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset: all the fuzzer's), 1 byte features (bit i: CSUM, GUEST_CSUM, HOST_TSO4, HOST_TSO6,
 * ...), 1 byte ol (rte_vhost's compliant RX flags to try instead: bit0 RX_LRO, bit1 L4_CKSUM_NONE,
 * bits 2-7 tso_segsz / 4), 1 byte segment count (1 + n % 8), then the frame, cut into that many
 * mbufs, each its own exact-size allocation (ASan: any read or write outside the frame aborts).
 * ferry_ol_from_vnet and ferry_ol_from_vhost run on it (no EAL: no pool is touched) and the target
 * aborts unless an accepted frame keeps the promises the egress path relies on: TCP_SEG only with
 * a negotiated HOST_TSO of its family, tso_segsz != 0, headers inside the frame, an IP packet of at
 * most 65535 bytes; a partial checksum only with CSUM negotiated and its field inside the frame;
 * the frame's length and every byte but a checksum field it computed unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rte_mbuf.h>
#include "ferry_offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *why)
{
	fprintf(stderr, "fuzz_vnet: %s\n", why);
	abort();
}

static struct rte_mbuf *
build(struct rte_mbuf *ms, uint8_t **bufs, const uint8_t *f, uint32_t len, unsigned nseg)
{
	uint32_t off = 0;

	for (unsigned i = 0; i < nseg; i++) {
		uint32_t k = i + 1 == nseg ? len - off : len / nseg;
		bufs[i] = malloc(k ? k : 1);
		memcpy(bufs[i], f + off, k);
		memset(&ms[i], 0, sizeof(ms[i]));
		ms[i].buf_addr = bufs[i];
		ms[i].buf_len = (uint16_t)(k ? k : 1);
		ms[i].data_off = 0;
		ms[i].data_len = (uint16_t)k;
		ms[i].nb_segs = 1;
		ms[i].next = i + 1 < nseg ? &ms[i + 1] : NULL;
		rte_mbuf_refcnt_set(&ms[i], 1);
		off += k;
	}
	ms[0].pkt_len = len;
	ms[0].nb_segs = (uint16_t)nseg;
	return &ms[0];
}

static void
check(struct rte_mbuf *m, const uint8_t *f, uint32_t len, uint64_t feat, enum ferry_drop why)
{
	uint64_t ol = m->ol_flags;
	uint8_t out[65536 + 64];
	uint32_t diff = 0, first = UINT32_MAX;

	if (m->pkt_len != len)
		fail("length changed");
	if (len > sizeof(out))
		return;
	const uint8_t *p = rte_pktmbuf_read(m, 0, len, out);
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != f[i]) {
			diff++;
			if (first == UINT32_MAX)
				first = i;
		}
	if (why != FERRY_DROP_MAX) {
		if (why >= FERRY_DROP_MAX)
			fail("bad drop reason");
		return;
	}
	if (diff > 2 || (diff != 0 && diff == 2 && p[first + 1] == f[first + 1]))
		fail("bytes other than one checksum field changed");
	if (ol & RTE_MBUF_F_TX_TCP_SEG) {
		bool v4 = ol & RTE_MBUF_F_TX_IPV4;
		if (!(feat & (1ULL << (v4 ? VIRTIO_NET_F_HOST_TSO4 : VIRTIO_NET_F_HOST_TSO6))))
			fail("TSO of a family not negotiated");
		if (m->tso_segsz == 0 || m->l4_len < 20)
			fail("segment without size or TCP header");
		if ((uint32_t)m->l2_len + m->l3_len + m->l4_len > len)
			fail("segment headers beyond the frame");
		if (len - m->l2_len > FERRY_OL_MAX_IP)
			fail("segment over 64 KB");
	}
	if (ol & RTE_MBUF_F_TX_L4_MASK) {
		if (!(feat & (1ULL << VIRTIO_NET_F_CSUM)))
			fail("partial checksum without CSUM");
		uint32_t field = (uint32_t)m->l2_len + m->l3_len +
				 ((ol & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6);
		if (field + 2 > len)
			fail("checksum field beyond the frame");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned fbits[8] = { VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM,
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_GUEST_TSO4,
		VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO };
	struct virtio_net_hdr h;
	struct rte_mbuf ms[8];
	uint8_t *bufs[8];
	uint64_t feat = 0;

	if (size < 15 || size - 15 > 65600)
		return 0;
	memcpy(&h, data, sizeof(h));
	for (int i = 0; i < 8; i++)
		if (data[12] & (1u << i))
			feat |= 1ULL << fbits[i];
	uint8_t olb = data[13];
	unsigned nseg = 1 + data[14] % 8;
	const uint8_t *f = data + 15;
	uint32_t len = (uint32_t)(size - 15);
	if (len < nseg)
		nseg = len ? len : 1;

	struct rte_mbuf *m = build(ms, bufs, f, len, nseg);
	check(m, f, len, feat, ferry_ol_from_vnet(m, &h, feat));
	for (unsigned i = 0; i < nseg; i++)
		free(bufs[i]);

	m = build(ms, bufs, f, len, nseg);
	m->ol_flags = ((olb & 1) ? RTE_MBUF_F_RX_LRO : 0) |
		      ((olb & 2) ? RTE_MBUF_F_RX_L4_CKSUM_NONE : 0);
	m->tso_segsz = (uint16_t)((olb >> 2) * 4);
	check(m, f, len, feat, ferry_ol_from_vhost(m, feat));
	for (unsigned i = 0; i < nseg; i++)
		free(bufs[i]);
	return 0;
}
