/* vpeer_stats.c — ferry-vpeer's receive accounting (per sender: unique frames, duplicates,
 * per-flow reordering, frames not addressed to us), rx gaps, link events, and the JSON report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "vpeer.h"

#define SEEN_MAX_BITS (1u << 24)   /* duplicate detection covers the first 16 M seqs of a sender */

void vpeer_stats_init(struct vpeer_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->link_up_after_ms = -1;
	st->synced_after_ms = -1;
}

void vpeer_stats_free(struct vpeer_stats *st)
{
	for (uint32_t i = 0; i < st->nb_senders; i++) {
		free(st->senders[i].flow_last);
		free(st->senders[i].seen);
	}
	st->nb_senders = 0;
}

static struct vpeer_sender *sender_get(struct vpeer_stats *st, uint16_t id)
{
	for (uint32_t i = 0; i < st->nb_senders; i++)
		if (st->senders[i].id == id)
			return &st->senders[i];
	if (st->nb_senders == VPEER_MAX_SENDERS)
		return NULL;

	struct vpeer_sender *s = &st->senders[st->nb_senders];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->flow_last = malloc(sizeof(*s->flow_last) * VPEER_MAX_FLOWS);
	if (s->flow_last == NULL)
		return NULL;
	for (uint32_t f = 0; f < VPEER_MAX_FLOWS; f++)
		s->flow_last[f] = -1;
	st->nb_senders++;
	return s;
}

/* Marks seq as seen; returns true when it had been seen before. */
static bool seen_test_and_set(struct vpeer_sender *s, uint32_t seq)
{
	if (seq >= SEEN_MAX_BITS)
		return false;
	if (seq >= s->seen_bits) {
		uint32_t bits = s->seen_bits ? s->seen_bits : 65536;
		while (bits <= seq)
			bits *= 2;
		uint64_t *n = realloc(s->seen, bits / 8);
		if (n == NULL)
			return false;
		memset((uint8_t *)n + s->seen_bits / 8, 0, (bits - s->seen_bits) / 8);
		s->seen = n;
		s->seen_bits = bits;
	}
	uint64_t bit = 1ull << (seq % 64);
	bool was = s->seen[seq / 64] & bit;
	s->seen[seq / 64] |= bit;
	return was;
}

static void account_test_frame(struct vpeer_stats *st, struct vpeer_sender *s,
			       const struct vpeer_hdr *h, uint64_t now_ns)
{
	if (seen_test_and_set(s, h->seq)) {
		s->dup++;
		return;
	}
	s->rx++;
	if (h->flow < VPEER_MAX_FLOWS) {
		if ((int64_t)h->seq < s->flow_last[h->flow])
			s->ooo++;
		else
			s->flow_last[h->flow] = h->seq;
	}
	if (!s->any || h->seq > s->max_seq)
		s->max_seq = h->seq;
	s->any = true;

	if (st->last_test_rx_ns != 0 && now_ns - st->last_test_rx_ns > VPEER_GAP_NS) {
		uint64_t gap_ms = (now_ns - st->last_test_rx_ns) / 1000000;
		if (st->nb_gaps < VPEER_MAX_EVENTS)
			st->gaps[st->nb_gaps++] = (struct vpeer_event){ st->last_test_rx_ns / 1000000, gap_ms };
		if (gap_ms > st->max_gap_ms)
			st->max_gap_ms = gap_ms;
	}
	if (st->last_test_rx_ns != 0 && (now_ns - st->last_test_rx_ns) / 1000 > st->max_gap_us)
		st->max_gap_us = (now_ns - st->last_test_rx_ns) / 1000;
	st->last_test_rx_ns = now_ns;
	if (st->first_rx_ms == 0)
		st->first_rx_ms = now_ns / 1000000;
	st->last_rx_ms = now_ns / 1000000;
}

void vpeer_stats_rx(struct vpeer_stats *st, const struct vpeer_rx_info *info,
		    const struct rte_ether_addr *own, uint64_t now_ns)
{
	bool for_us = rte_is_same_ether_addr(&info->dst, own) || rte_is_multicast_ether_addr(&info->dst);

	st->rx++;
	if (info->tagged)
		st->rx_tagged++;
	if (!for_us) {
		st->rx_foreign++;
		if (info->kind == VPEER_RX_TEST) {
			struct vpeer_sender *s = sender_get(st, info->hdr.sender);
			if (s != NULL)
				s->foreign++;
		}
		return;
	}
	switch (info->kind) {
	case VPEER_RX_TEST: {
		struct vpeer_sender *s = sender_get(st, info->hdr.sender);
		if (s != NULL)
			account_test_frame(st, s, &info->hdr, now_ns);
		break;
	}
	case VPEER_RX_BAD:
		st->rx_bad++;
		break;
	case VPEER_RX_ARP:
		st->rx_arp++;
		break;
	default:
		st->rx_other++;
		break;
	}
}

void vpeer_stats_link(struct vpeer_stats *st, bool up, uint64_t now_ms)
{
	if (st->nb_link_events < VPEER_MAX_EVENTS)
		st->link_events[st->nb_link_events++] = (struct vpeer_event){ now_ms, up };
}

static json_t *u64_array(const uint64_t *v, uint16_t n)
{
	json_t *a = json_array();

	for (uint16_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static json_t *events_json(const struct vpeer_event *ev, uint32_t n, const char *val_name)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:I,s:I}", "t_ms", (json_int_t)ev[i].t_ms,
						   val_name, (json_int_t)ev[i].val));
	return a;
}

static bool seen(const struct vpeer_sender *s, uint32_t seq)
{
	return seq < s->seen_bits && (s->seen[seq / 64] >> (seq % 64) & 1);
}

/* The first few runs of seqs below max_seq never received: [[first, last], ...]. */
static json_t *missing_json(const struct vpeer_sender *s)
{
	json_t *a = json_array();
	uint32_t end = RTE_MIN(s->max_seq, s->seen_bits ? s->seen_bits - 1 : 0);

	for (uint32_t seq = 0; s->any && seq <= end && json_array_size(a) < 16; seq++) {
		if (seen(s, seq))
			continue;
		uint32_t last = seq;
		while (last + 1 <= end && !seen(s, last + 1))
			last++;
		json_array_append_new(a, json_pack("[I,I]", (json_int_t)seq, (json_int_t)last));
		seq = last;
	}
	return a;
}

static json_t *senders_json(const struct vpeer_stats *st)
{
	json_t *o = json_object();

	for (uint32_t i = 0; i < st->nb_senders; i++) {
		const struct vpeer_sender *s = &st->senders[i];
		char key[8];
		snprintf(key, sizeof(key), "%u", s->id);
		json_object_set_new(o, key, json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}",
			"rx", (json_int_t)s->rx, "max_seq", s->any ? (json_int_t)s->max_seq : (json_int_t)-1,
			"ooo", (json_int_t)s->ooo, "dup", (json_int_t)s->dup,
			"foreign", (json_int_t)s->foreign, "missing", missing_json(s)));
	}
	return o;
}

static json_t *report_json(const struct vpeer_stats *st, const struct vpeer_report_meta *m)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *r = json_object();

	rte_ether_format_addr(mac, sizeof(mac), m->mac);
	json_object_set_new(r, "id", json_integer(m->id));
	json_object_set_new(r, "mac", json_string(mac));
	json_object_set_new(r, "queues", json_integer(m->queues));
	json_object_set_new(r, "tx", json_integer((json_int_t)st->tx));
	json_object_set_new(r, "tx_per_queue", u64_array(st->tx_per_queue, m->queues));
	json_object_set_new(r, "tx_unsent", json_integer((json_int_t)m->tx_unsent));
	json_object_set_new(r, "announces", json_integer((json_int_t)st->announces));
	json_object_set_new(r, "rx", json_integer((json_int_t)st->rx));
	json_object_set_new(r, "rx_per_queue", u64_array(st->rx_per_queue, m->queues));
	json_object_set_new(r, "rx_bad", json_integer((json_int_t)st->rx_bad));
	json_object_set_new(r, "rx_foreign", json_integer((json_int_t)st->rx_foreign));
	json_object_set_new(r, "rx_arp", json_integer((json_int_t)st->rx_arp));
	json_object_set_new(r, "rx_other", json_integer((json_int_t)st->rx_other));
	json_object_set_new(r, "rx_tagged", json_integer((json_int_t)st->rx_tagged));
	json_object_set_new(r, "senders", senders_json(st));
	json_object_set_new(r, "link_up_after_ms", json_integer(st->link_up_after_ms));
	json_object_set_new(r, "link_up_at_end", json_boolean(m->link_up_at_end));
	json_object_set_new(r, "rx_nombuf", json_integer((json_int_t)m->rx_nombuf));
	json_object_set_new(r, "pool_free_min", json_integer((json_int_t)m->pool_free_min));
	json_object_set_new(r, "synced_after_ms", json_integer(st->synced_after_ms));
	json_object_set_new(r, "link_events", events_json(st->link_events, st->nb_link_events, "up"));
	json_object_set_new(r, "rx_gaps", events_json(st->gaps, st->nb_gaps, "ms"));
	json_object_set_new(r, "rx_max_gap_ms", json_integer((json_int_t)st->max_gap_ms));
	json_object_set_new(r, "rx_max_gap_us", json_integer((json_int_t)st->max_gap_us));
	json_object_set_new(r, "poll_gap_max_us", json_integer((json_int_t)st->poll_gap_max_us));
	json_object_set_new(r, "poll_gaps_over_5ms", json_integer((json_int_t)st->poll_gaps_over_5ms));
	json_object_set_new(r, "first_tx_ms", json_integer((json_int_t)st->first_tx_ms));
	json_object_set_new(r, "last_tx_ms", json_integer((json_int_t)st->last_tx_ms));
	json_object_set_new(r, "first_rx_ms", json_integer((json_int_t)st->first_rx_ms));
	json_object_set_new(r, "last_rx_ms", json_integer((json_int_t)st->last_rx_ms));
	json_object_set_new(r, "duration_ms", json_integer((json_int_t)m->duration_ms));
	json_object_set_new(r, "grown_at_ms", json_integer((json_int_t)m->grown_at_ms));
	json_object_set_new(r, "tx_from_grown", json_integer((json_int_t)m->tx_from_grown));
	if (m->pcap != NULL)
		json_object_set_new(r, "pcap", json_pack("{s:I,s:I,s:I}",
			"frames", (json_int_t)m->pcap->frames, "truncated", (json_int_t)m->pcap->truncated,
			"wrong_size", (json_int_t)m->pcap->wrong_size));
	return r;
}

int vpeer_report(const struct vpeer_stats *st, const struct vpeer_report_meta *meta, const char *path)
{
	json_t *r = report_json(st, meta);
	int ret = 0;

	if (path != NULL) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		if (json_dump_file(r, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0) {
			fprintf(stderr, "vpeer: cannot write report %s\n", path);
			ret = -1;
		}
	}
	json_dumpf(r, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(r);
	return ret;
}
