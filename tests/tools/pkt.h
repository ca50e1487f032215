/* pkt.h — builds real test frames for ferry-pcapgen: Ethernet with optional outer and inner VLAN
 * tags, IPv4 or IPv6, UDP or TCP, with correct lengths and checksums, and a payload stamped with a
 * sequence number so that frames can be told apart in dumps. */
#ifndef FERRY_TEST_PKT_H
#define FERRY_TEST_PKT_H

#include <stdbool.h>
#include <stdint.h>

#define PKT_MAX      1514        /* net_pcap's default mbuf limit; no frame is longer */
#define PKT_MIN      60          /* minimum Ethernet frame without FCS */

#define TPID_8021Q   0x8100
#define TPID_8021AD  0x88a8
#define TPID_QINQ    0x9100      /* pre-standard QinQ: a tag TPID to ferry (doc/semantics.md) */

/* A MAC address literal: MAC(0x52, 0x54, 0, 0, 0, 1). */
#define MAC(a, b, c, d, e, f) ((const uint8_t[6]){ a, b, c, d, e, f })

extern const uint8_t mac_broadcast[6];

/* Unset fields (zero) mean: untagged, IPv4, UDP, PKT_MIN bytes (+4 per tag). */
struct frame_spec {
	const uint8_t *dst, *src;
	bool tagged;             /* outer tag */
	uint16_t tpid;           /* outer tag TPID, 0 = 0x8100 */
	uint16_t vid;
	uint8_t pcp;
	bool dei;
	bool inner;              /* a second (inner) tag after the outer one */
	uint16_t inner_tpid;     /* inner tag TPID, 0 = 0x8100 */
	uint16_t inner_vid;
	bool ipv6, tcp;          /* TCP is replaced by UDP for group destinations */
	uint32_t len;            /* frame length; raised to fit the headers */
	bool truncate;           /* cut the built frame to trunc_len bytes (runts) */
	uint32_t trunc_len;
	uint32_t seq;            /* stamped into the payload */
};

/* Writes the frame into buf (PKT_MAX bytes) and returns its length. */
uint32_t pkt_build(uint8_t *buf, const struct frame_spec *fs);

/* "aa:bb:cc:dd:ee:ff" into out (>= 18 bytes). */
const char *pkt_mac_str(const uint8_t *mac, char *out);

#endif
