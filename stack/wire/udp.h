/*
 * UDP (RFC 768; RFC 1122 section 4.1).
 *
 * Layout (8-byte header): source port, destination port, length (header +
 * data), checksum over the pseudo-header, header and data. A transmitted
 * checksum of zero means "no checksum" (RFC 768); a computed checksum of
 * zero is therefore sent as 0xffff (RFC 768: "If the computed checksum is
 * zero, it is transmitted as all ones").
 */
#ifndef TERN_WIRE_UDP_H
#define TERN_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_UDP_HDR_LEN 8

/* One UDP datagram. */
struct tern_udp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t length;   /* header + data, as received; computed by emit */
    uint16_t checksum; /* as received (0: none); computed by emit */
    const uint8_t *payload;
    size_t payload_len;
};

/*
 * tern_udp_parse: parse and check a UDP datagram.
 *   buf, len  the IP payload; bytes after the UDP length are ignored (the
 *             UDP length is authoritative, RFC 768)
 *   src, dst  the IP source and destination, for the pseudo-header; both
 *             NULL to skip checksum verification
 *   out       receives the fields; payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 8 bytes, or fewer than
 * the UDP length, are present; TERN_ERR_MALFORMED when the UDP length is
 * below 8; TERN_ERR_BAD_CHECKSUM when the checksum is non-zero and does not
 * verify (RFC 1122 section 4.1.3.4: discard), or when it is zero over IPv6
 * (RFC 8200 section 8.1 forbids omitting it there). A zero checksum over
 * IPv4 is accepted (RFC 768, RFC 1122 section 4.1.3.4).
 */
tern_err tern_udp_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_udp_repr *out);

/* tern_udp_header_len: always 8. */
size_t tern_udp_header_len(const struct tern_udp_repr *r);

/*
 * tern_udp_emit: write the datagram for r, with length and checksum computed
 * (r->length and r->checksum are ignored).
 *   r         the datagram
 *   src, dst  IP source and destination (same family) for the checksum
 *             (RFC 1122 section 4.1.3.4: a host MUST be able to generate it,
 *             and this stack always does); both NULL to send checksum zero
 *             ("none", RFC 768 - for tests that need it, IPv4 only)
 *   buf,cap   output buffer
 *   written   receives 8 + r->payload_len
 * When r->payload is NULL the data is taken to be in place already at
 * buf + 8 (zero copy) and is not touched (but it is checksummed); otherwise
 * it is copied there (memmove).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when only one of src/dst is
 * given or their families differ or are not IP; TERN_ERR_MSG_TOO_LONG when
 * 8 + payload exceeds 65535; TERN_ERR_BUFFER_TOO_SMALL when cap is short.
 * Nothing is written on error.
 */
tern_err tern_udp_emit(const struct tern_udp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_UDP_H */
