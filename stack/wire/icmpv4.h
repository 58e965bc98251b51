/*
 * ICMP for IPv4 (RFC 792, with RFC 1122 section 3.2.2 and RFC 1191).
 *
 * Every message starts with type, code, checksum (over the whole ICMP
 * message, RFC 792) and four type-specific bytes ("rest of header"), then a
 * body: the echo data for echo request/reply, or for error messages the
 * quoted original datagram (its IP header and at least the first 8 bytes of
 * its data, RFC 1122 section 3.2.2).
 *
 * The representation decodes the rest-of-header for the types the stack
 * uses and keeps it raw for the others:
 *   echo request (8) / reply (0):     id, seq         (RFC 792 "Echo")
 *   destination unreachable (3):      code 4 (fragmentation needed) carries
 *                                     the next-hop MTU (RFC 1191 section 4)
 *   parameter problem (12):           pointer         (RFC 792)
 *   redirect (5):                     gateway         (RFC 792)
 *   time exceeded (11), source quench (4): unused
 */
#ifndef TERN_WIRE_ICMPV4_H
#define TERN_WIRE_ICMPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_ICMPV4_HDR_LEN 8

/* Types (RFC 792). */
#define TERN_ICMPV4_ECHO_REPLY 0
#define TERN_ICMPV4_DEST_UNREACH 3
#define TERN_ICMPV4_SOURCE_QUENCH 4
#define TERN_ICMPV4_REDIRECT 5
#define TERN_ICMPV4_ECHO_REQUEST 8
#define TERN_ICMPV4_TIME_EXCEEDED 11
#define TERN_ICMPV4_PARAM_PROBLEM 12

/* Destination unreachable codes (RFC 792, RFC 1122 section 3.2.2.1). */
#define TERN_ICMPV4_UNREACH_NET 0
#define TERN_ICMPV4_UNREACH_HOST 1
#define TERN_ICMPV4_UNREACH_PROTOCOL 2
#define TERN_ICMPV4_UNREACH_PORT 3
#define TERN_ICMPV4_UNREACH_FRAG_NEEDED 4 /* with next-hop MTU, RFC 1191 */
#define TERN_ICMPV4_UNREACH_SRC_ROUTE 5

/* Time exceeded codes (RFC 792). */
#define TERN_ICMPV4_EXCEEDED_TTL 0
#define TERN_ICMPV4_EXCEEDED_REASSEMBLY 1

/* One ICMPv4 message. */
struct tern_icmpv4_repr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum;     /* as received; computed by emit */
    uint32_t rest;         /* the raw rest-of-header, filled by parse; emitted
                              as is only for types without a decoding below */
    uint16_t echo_id;      /* echo request/reply */
    uint16_t echo_seq;     /* echo request/reply */
    uint16_t next_hop_mtu; /* dest unreachable, code 4 (RFC 1191); 0 from an
                              RFC 792 router that predates RFC 1191 */
    uint8_t pointer;       /* parameter problem */
    tern_addr gateway;     /* redirect (IPv4) */
    /* Echo data, or for error messages (tern_icmpv4_is_error) the quoted
     * original datagram: parse it with tern_ipv4_parse_quoted. */
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * tern_icmpv4_is_error: true for the error types (3, 4, 5, 11, 12), whose
 * body quotes an original datagram (RFC 1122 section 3.2.2).
 */
bool tern_icmpv4_is_error(uint8_t type);

/*
 * tern_icmpv4_parse: parse and check an ICMPv4 message.
 *   buf, len  the IPv4 payload (exactly the message: ICMP has no length field
 *             of its own, so the IP total length delimits it)
 *   out       receives the fields; payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 8 bytes are present;
 * TERN_ERR_BAD_CHECKSUM when the checksum over the message does not verify
 * (RFC 1122 section 3.2.2: discard); TERN_ERR_MALFORMED for an error message
 * whose body is shorter than a 20-byte IP header plus 8 bytes (RFC 1122
 * section 3.2.2 requires at least that much). On error *out is unspecified.
 */
tern_err tern_icmpv4_parse(const uint8_t *buf, size_t len, struct tern_icmpv4_repr *out);

/* tern_icmpv4_header_len: always 8; the body follows. */
size_t tern_icmpv4_header_len(const struct tern_icmpv4_repr *r);

/*
 * tern_icmpv4_emit: write the message for r with its checksum computed.
 *   r        the message; the rest-of-header is built from echo_id/echo_seq,
 *            next_hop_mtu (type 3 code 4; other type 3 codes write zero),
 *            pointer, gateway, or zero (types 4, 11), and from r->rest for
 *            any other type
 *   buf,cap  output buffer
 *   written  receives 8 + r->payload_len
 * When r->payload is NULL the body is taken to be in place already at
 * buf + 8 and is not touched (but it is checksummed); otherwise it is copied
 * there (memmove).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a redirect whose gateway is
 * not IPv4; TERN_ERR_BUFFER_TOO_SMALL when cap < 8 + payload length.
 * Nothing is written on error.
 */
tern_err tern_icmpv4_emit(const struct tern_icmpv4_repr *r, uint8_t *buf, size_t cap,
                          size_t *written);

#endif /* TERN_WIRE_ICMPV4_H */
