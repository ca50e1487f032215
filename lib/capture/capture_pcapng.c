/* capture_pcapng.c — the pcapng stream of a capture, written by ferry itself: DPDK 22.11's
 * rte_pcapng writes an interface block for every ethdev port (named "dpdk:N" or the kernel's
 * name) and none for a port without an ethdev (vhost-user), maps packets to interfaces through a
 * table left uninitialized for such ports, refuses statistics for them, and its TSC-to-time
 * conversion updates shared state (not safe from several PMDs). Here: one section, one interface
 * (if_name = the ferry port), nanosecond timestamps, an enhanced packet block per frame with its
 * direction (epb_flags), an interface statistics block at the end (isb_ifrecv, isb_filteraccept,
 * isb_ifdrop, isb_usrdeliv). Blocks go to a buffer; the non-blocking output takes what it can. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_cycles.h>
#include "capture_private.h"

#define BT_SHB 0x0A0D0D0A
#define BT_IDB 0x00000001
#define BT_ISB 0x00000005
#define BT_EPB 0x00000006
#define OPT_END 0
#define PAD4(n) (((n) + 3u) & ~3u)

static void
put(struct cap_out *o, const void *p, size_t n)
{
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
put32(struct cap_out *o, uint32_t v)
{
	put(o, &v, 4);
}

/* An option: code, length, value padded to 4 bytes. */
static void
put_opt(struct cap_out *o, uint16_t code, const void *v, uint16_t len)
{
	static const uint8_t zero[4];
	uint16_t h[2] = { code, len };

	put(o, h, 4);
	put(o, v, len);
	put(o, zero, PAD4(len) - len);
}

static size_t
opt_size(size_t len)
{
	return 4 + PAD4(len);
}

/* Close the block that starts at o->buf + start: end-of-options, trailing and leading length. */
static void
end_block(struct cap_out *o, size_t start)
{
	uint32_t len;

	put_opt(o, OPT_END, NULL, 0);
	len = (uint32_t)(o->len - start + 4);
	put32(o, len);
	memcpy(o->buf + start + 4, &len, 4);
}

int
cap_out_open(struct cap_out *o, int fd, size_t cap)
{
	struct timespec ts;

	memset(o, 0, sizeof(*o));
	o->buf = malloc(cap);
	if (o->buf == NULL)
		return -1;
	o->cap = cap;
	o->fd = fd;
	clock_gettime(CLOCK_REALTIME, &ts);
	o->start_tsc = rte_rdtsc();
	o->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	o->tsc_hz = rte_get_tsc_hz();
	return 0;
}

uint64_t
cap_out_ns(const struct cap_out *o, uint64_t tsc)
{
	int64_t d = (int64_t)(tsc - o->start_tsc);   /* a PMD's TSC may be a hair behind */

	return o->start_ns + (uint64_t)((__int128)d * 1000000000 / (__int128)o->tsc_hz);
}

int
cap_out_header(struct cap_out *o, const struct ferry_capture_conf *cc)
{
	static const char app[] = "ferry " FERRY_VERSION;
	char desc[64];
	uint8_t tsresol = 9;   /* nanoseconds */
	size_t start;

	snprintf(desc, sizeof(desc), "ferry %s port %s", cc->port_type, cc->port);
	if (o->len + 256 + strlen(cc->port) + strlen(cc->filter) + sizeof(desc) > o->cap)
		return -1;
	start = o->len;   /* section header: magic, version 1.0, length unknown */
	put32(o, BT_SHB);
	put32(o, 0);
	put32(o, 0x1A2B3C4D);
	uint16_t ver[2] = { 1, 0 };
	put(o, ver, 4);
	uint64_t unknown = UINT64_MAX;
	put(o, &unknown, 8);
	put_opt(o, 4, app, sizeof(app) - 1);   /* shb_userappl */
	end_block(o, start);
	start = o->len;   /* the interface: Ethernet, snaplen, the port's name */
	put32(o, BT_IDB);
	put32(o, 0);
	uint16_t lt[2] = { 1, 0 };   /* LINKTYPE_ETHERNET */
	put(o, lt, 4);
	put32(o, cc->snaplen);
	put_opt(o, 2, cc->port, (uint16_t)strlen(cc->port));   /* if_name */
	put_opt(o, 3, desc, (uint16_t)strlen(desc));           /* if_description */
	put_opt(o, 9, &tsresol, 1);                            /* if_tsresol */
	if (cc->filter[0] != '\0') {   /* if_filter: type 0 = libpcap expression */
		char f[FERRY_CAPTURE_FILTER_MAX + 1];
		size_t n = strlen(cc->filter);
		f[0] = 0;
		memcpy(f + 1, cc->filter, n);
		put_opt(o, 11, f, (uint16_t)(n + 1));
	}
	end_block(o, start);
	return 0;
}

size_t
cap_out_packet_size(uint32_t caplen)
{
	return 28 + PAD4(caplen) + opt_size(4) + opt_size(0) + 4;
}

bool
cap_out_reserve(struct cap_out *o, size_t n)
{
	char *nb;

	if (o->len + n <= o->cap)
		return true;
	if (!o->grow)
		return false;
	size_t cap = RTE_MAX(o->cap * 2, o->len + n);
	if ((nb = realloc(o->buf, cap)) == NULL)
		return false;
	o->buf = nb;
	o->cap = cap;
	return true;
}

static void
put_ts(struct cap_out *o, uint64_t ns)
{
	put32(o, (uint32_t)(ns >> 32));
	put32(o, (uint32_t)ns);
}

void
cap_out_packet(struct cap_out *o, const struct rte_mbuf *m, const struct cap_meta *meta)
{
	static const uint8_t zero[4];
	uint32_t caplen = m->pkt_len, flags = meta->dir == FERRY_DIR_RX ? 1 : 2;
	size_t start = o->len;

	put32(o, BT_EPB);
	put32(o, 0);
	put32(o, 0);   /* interface 0 */
	put_ts(o, cap_out_ns(o, meta->tsc));
	put32(o, caplen);
	put32(o, meta->orig_len);
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next)
		put(o, rte_pktmbuf_mtod(s, const void *), s->data_len);
	put(o, zero, PAD4(caplen) - caplen);
	put_opt(o, 2, &flags, 4);   /* epb_flags: bits 0-1, 1 inbound, 2 outbound */
	end_block(o, start);
}

void
cap_out_stats(struct cap_out *o, uint64_t start_ns, uint64_t seen, uint64_t matched,
	      uint64_t dropped, uint64_t delivered)
{
	struct timespec ts;
	size_t start = o->len;
	uint64_t now;

	if (!cap_out_reserve(o, 128))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	put32(o, BT_ISB);
	put32(o, 0);
	put32(o, 0);
	put_ts(o, now);
	uint32_t st[2] = { (uint32_t)(start_ns >> 32), (uint32_t)start_ns };
	uint32_t en[2] = { (uint32_t)(now >> 32), (uint32_t)now };
	put_opt(o, 2, st, 8);          /* isb_starttime */
	put_opt(o, 3, en, 8);          /* isb_endtime */
	put_opt(o, 4, &seen, 8);       /* isb_ifrecv */
	put_opt(o, 5, &dropped, 8);    /* isb_ifdrop */
	put_opt(o, 6, &matched, 8);    /* isb_filteraccept */
	put_opt(o, 8, &delivered, 8);  /* isb_usrdeliv */
	end_block(o, start);
}

void
cap_out_flush(struct cap_out *o, int wait_ms)
{
	size_t off = 0;

	while (off < o->len && !o->failed) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_ms > 0) {
			struct pollfd p = { .fd = o->fd, .events = POLLOUT };
			if (poll(&p, 1, wait_ms) > 0 && !(p.revents & (POLLERR | POLLHUP)))
				continue;
		}
		if (n < 0 && errno == EAGAIN && wait_ms == 0)
			break;
		o->failed = true;   /* EPIPE (the reader left), ENOSPC, a reader stuck at the end */
	}
	if (o->failed)
		off = o->len;
	memmove(o->buf, o->buf + off, o->len - off);
	o->len -= off;
}

void
cap_out_close(struct cap_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
}
