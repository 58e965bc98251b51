/*
 * IPv4 headers (RFC 791 section 3.1, with the receive rules of RFC 1122
 * section 3.2.1).
 *
 * Options are parsed for length only: the representation exposes where the
 * option bytes are, and the IP layer skips them (RFC 1122 section 3.2.1.8
 * lets a host ignore options it does not implement). The header checksum is
 * verified on parse (RFC 1122 section 3.2.1.2: "a host MUST verify the IP
 * header checksum on every received datagram and silently discard every
 * datagram that has a bad checksum") and generated on emit.
 *
 * Layout: version/IHL, DSCP/ECN, total length, identification,
 * flags/fragment offset, TTL, protocol, header checksum, source, destination,
 * options (IHL*4 - 20 bytes), then the payload up to total length.
 */
#ifndef TERN_WIRE_IPV4_H
#define TERN_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_IPV4_MIN_HDR_LEN 20
#define TERN_IPV4_MAX_HDR_LEN 60
#define TERN_IPV4_OPTIONS_OFFSET 20 /* options always start right after the fixed header */
#define TERN_IPV4_MAX_LEN 65535

#define TERN_IPPROTO_ICMP 1
#define TERN_IPPROTO_TCP 6
#define TERN_IPPROTO_UDP 17

/* One IPv4 header and the payload it delimits. */
struct tern_ipv4_repr {
    uint8_t header_len;     /* bytes, 20-60 (IHL * 4); computed by emit */
    uint8_t dscp;           /* differentiated services code point, 6 bits (RFC 2474) */
    uint8_t ecn;            /* 2 bits (RFC 3168) */
    uint16_t total_len;     /* header + payload; computed by emit */
    uint16_t id;            /* identification */
    bool flag_reserved;     /* the reserved flag bit; MUST be zero on send (RFC 791) */
    bool df;                /* don't fragment */
    bool mf;                /* more fragments */
    uint16_t frag_offset;   /* in bytes (the 13-bit wire field times 8) */
    uint8_t ttl;            /* time to live */
    uint8_t protocol;       /* TERN_IPPROTO_* */
    uint16_t checksum;      /* as received; computed by emit */
    tern_addr src;          /* IPv4 */
    tern_addr dst;          /* IPv4 */
    const uint8_t *options; /* header_len - 20 bytes at TERN_IPV4_OPTIONS_OFFSET, or NULL */
    size_t options_len;
    const uint8_t *payload; /* total_len - header_len bytes */
    size_t payload_len;
};

/*
 * tern_ipv4_parse: parse and check an IPv4 datagram.
 *   buf, len  the Ethernet payload; bytes after total length (Ethernet
 *             padding) are allowed and ignored
 *   out       receives the fields; options and payload point into buf
 * Checks, in this order:
 *   - TERN_ERR_TRUNCATED when fewer than 20 bytes are present;
 *   - TERN_ERR_UNSUPPORTED when the version is not 4;
 *   - TERN_ERR_MALFORMED when IHL < 5 (RFC 791: the minimum is 5);
 *   - TERN_ERR_TRUNCATED when fewer than IHL*4 bytes are present;
 *   - TERN_ERR_MALFORMED when total length < IHL*4;
 *   - TERN_ERR_TRUNCATED when fewer than total length bytes are present;
 *   - TERN_ERR_BAD_CHECKSUM when the header checksum does not verify;
 *   - TERN_ERR_MALFORMED when fragment offset + payload length exceeds 65535
 *     (no reassembled datagram could hold it: "ping of death").
 * Returns TERN_OK when all pass. On error *out is unspecified.
 */
tern_err tern_ipv4_parse(const uint8_t *buf, size_t len, struct tern_ipv4_repr *out);

/*
 * tern_ipv4_parse_quoted: parse the IPv4 header quoted in an ICMP error
 * (RFC 792; RFC 1122 section 3.2.2: the quote is the original header plus at
 * least 8 bytes of its data). The quote is cut short by design, so total
 * length is not checked against the bytes present and the checksum is not
 * verified (a router may have rewritten the TTL).
 *   buf, len  the quoted bytes
 *   out       as tern_ipv4_parse, except that payload_len is the number of
 *             quoted payload bytes actually present (at most total length -
 *             header length) and total_len is the original datagram's
 * Returns TERN_OK; TERN_ERR_TRUNCATED when the header (20 bytes, then IHL*4)
 * is not all present; TERN_ERR_UNSUPPORTED when the version is not 4;
 * TERN_ERR_MALFORMED when IHL < 5 or total length < IHL*4.
 */
tern_err tern_ipv4_parse_quoted(const uint8_t *buf, size_t len, struct tern_ipv4_repr *out);

/*
 * tern_ipv4_header_len: the header length emit writes for r:
 * 20 + r->options_len.
 */
size_t tern_ipv4_header_len(const struct tern_ipv4_repr *r);

/*
 * tern_ipv4_emit: write the header for r, followed by the payload, with the
 * total length and header checksum computed (r->header_len, r->total_len and
 * r->checksum are ignored).
 *   r        the header; r->options / r->options_len are copied as they are
 *            (options_len must be a multiple of 4, at most 40: RFC 791 pads
 *            options to a 32-bit boundary); frag_offset must be a multiple of
 *            8 below 65536; src and dst must be IPv4
 *   buf,cap  output buffer
 *   written  receives header length + r->payload_len
 * When r->payload is NULL the payload is taken to be in place already at
 * buf + tern_ipv4_header_len(r) (zero copy: UDP or TCP emitted it there) and
 * is not touched; otherwise it is copied there (memmove).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a bad options length,
 * fragment offset or address family; TERN_ERR_MSG_TOO_LONG when header +
 * payload exceed 65535 bytes; TERN_ERR_BUFFER_TOO_SMALL when cap is less
 * than header + payload. Nothing is written on error.
 */
tern_err tern_ipv4_emit(const struct tern_ipv4_repr *r, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_IPV4_H */
