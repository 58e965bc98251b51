/*
 * Ethernet II frames (RFC 894), with an optional IEEE 802.1Q VLAN tag.
 *
 * Layout: destination MAC (6), source MAC (6), EtherType (2), payload. With
 * an 802.1Q tag the EtherType slot holds the TPID 0x8100, followed by the
 * tag control information (priority 3 bits, DEI 1 bit, VLAN id 12 bits) and
 * the real EtherType. The frame check sequence is not part of the frames the
 * stack sees (the simulated links and pcap carry frames without it).
 *
 * A received frame's payload may include padding up to the 60-byte minimum
 * (RFC 894: "the minimum length of the data field of a packet sent over an
 * Ethernet is 46 octets"); the upper layer trims it using its own length
 * field (IPv4 total length, ARP's fixed size).
 */
#ifndef TERN_WIRE_ETHERNET_H
#define TERN_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_ETH_HDR_LEN 14      /* untagged header */
#define TERN_ETH_VLAN_HDR_LEN 18 /* header with one 802.1Q tag */
#define TERN_ETH_MIN_FRAME 60    /* minimum frame length without the FCS */
#define TERN_ETH_MIN_TYPE 0x0600 /* values below are IEEE 802.3 lengths, not EtherTypes */

#define TERN_ETHERTYPE_IPV4 0x0800
#define TERN_ETHERTYPE_ARP 0x0806
#define TERN_ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q tag protocol identifier */
#define TERN_ETHERTYPE_IPV6 0x86dd

/* One Ethernet II frame. */
struct tern_eth_repr {
    tern_mac dst;
    tern_mac src;
    uint16_t ethertype; /* of the payload (after the tag, when tagged) */
    bool has_vlan;      /* an 802.1Q tag is present */
    uint8_t vlan_pcp;   /* priority code point, 0-7 */
    bool vlan_dei;      /* drop eligible indicator */
    uint16_t vlan_id;   /* 0-4095 */
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * tern_eth_parse: parse an Ethernet II frame.
 *   buf, len  the frame (without FCS)
 *   out       receives the fields; out->payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when the header (14 bytes, or 18 with
 * a tag) is not all present; TERN_ERR_UNSUPPORTED when the type field is an
 * IEEE 802.3 length (< 0x0600) rather than an EtherType, or when a second
 * 802.1Q tag follows the first (QinQ is not handled). On error *out is
 * unspecified.
 */
tern_err tern_eth_parse(const uint8_t *buf, size_t len, struct tern_eth_repr *out);

/* tern_eth_header_len: the header bytes emit writes for r (14 or 18). */
size_t tern_eth_header_len(const struct tern_eth_repr *r);

/*
 * tern_eth_emit: write the header for r, followed by the payload.
 *   r        the frame; r->vlan_pcp, r->vlan_dei and r->vlan_id are used only
 *            when r->has_vlan (vlan_id is masked to 12 bits, pcp to 3)
 *   buf,cap  output buffer
 *   written  receives header length + r->payload_len
 * When r->payload is NULL the payload is taken to be in place already at
 * buf + tern_eth_header_len(r) (zero copy) and is not touched; otherwise it
 * is copied there (memmove, so it may overlap buf). No padding is added: see
 * tern_eth_pad.
 * Returns TERN_OK or TERN_ERR_BUFFER_TOO_SMALL (nothing written) when cap is
 * less than header length + payload length.
 */
tern_err tern_eth_emit(const struct tern_eth_repr *r, uint8_t *buf, size_t cap, size_t *written);

/*
 * tern_eth_pad: zero-fill a frame of len bytes up to TERN_ETH_MIN_FRAME
 * (RFC 894 minimum data length), so that no uninitialised byte reaches the
 * wire (DESIGN.md section 6).
 *   buf, len  the frame; cap the buffer size
 *   out_len   receives max(len, 60)
 * Returns TERN_OK or TERN_ERR_BUFFER_TOO_SMALL when the padded frame does not
 * fit in cap (nothing written).
 */
tern_err tern_eth_pad(uint8_t *buf, size_t len, size_t cap, size_t *out_len);

#endif /* TERN_WIRE_ETHERNET_H */
