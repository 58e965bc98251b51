/*
 * ICMPv6 (RFC 4443): the message header shared by every type, with the
 * checksum over the IPv6 pseudo-header (RFC 4443 section 2.3, RFC 8200
 * section 8.1).
 *
 * Every message is type, code, checksum, then a body. For the error messages
 * (types 1-4) and echo (128, 129) the body starts with a 32-bit word (unused,
 * MTU, pointer, or identifier + sequence number) and the rest is the payload
 * (the invoking packet, or the echo data). For every other type (Neighbor
 * Discovery, MLD...) the payload is the whole body; wire/ndp.h reads it.
 */
#ifndef TERN_WIRE_ICMPV6_H
#define TERN_WIRE_ICMPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_ICMPV6_HDR_LEN 4 /* type, code, checksum */
#define TERN_ICMPV6_ERR_HDR_LEN 8

/* Types (RFC 4443 section 2.1, RFC 4861 section 4, RFC 3810 section 5). */
#define TERN_ICMPV6_DEST_UNREACH 1
#define TERN_ICMPV6_PKT_TOO_BIG 2
#define TERN_ICMPV6_TIME_EXCEEDED 3
#define TERN_ICMPV6_PARAM_PROBLEM 4
#define TERN_ICMPV6_ECHO_REQUEST 128
#define TERN_ICMPV6_ECHO_REPLY 129
#define TERN_ICMPV6_MLD_QUERY 130
#define TERN_ICMPV6_MLD_REPORT 131
#define TERN_ICMPV6_MLD_DONE 132
#define TERN_ICMPV6_RS 133
#define TERN_ICMPV6_RA 134
#define TERN_ICMPV6_NS 135
#define TERN_ICMPV6_NA 136
#define TERN_ICMPV6_REDIRECT 137
#define TERN_ICMPV6_MLD2_REPORT 143

/* Destination Unreachable codes (RFC 4443 section 3.1). */
#define TERN_ICMPV6_UNREACH_NO_ROUTE 0
#define TERN_ICMPV6_UNREACH_ADMIN 1
#define TERN_ICMPV6_UNREACH_BEYOND_SCOPE 2
#define TERN_ICMPV6_UNREACH_ADDR 3
#define TERN_ICMPV6_UNREACH_PORT 4
#define TERN_ICMPV6_UNREACH_POLICY 5
#define TERN_ICMPV6_UNREACH_REJECT_ROUTE 6
/* Time Exceeded codes (section 3.3). */
#define TERN_ICMPV6_EXCEEDED_HOP_LIMIT 0
#define TERN_ICMPV6_EXCEEDED_REASSEMBLY 1
/* Parameter Problem codes (section 3.4; RFC 7112 section 6 adds code 3). */
#define TERN_ICMPV6_PARAM_HEADER 0
#define TERN_ICMPV6_PARAM_NEXT_HEADER 1
#define TERN_ICMPV6_PARAM_OPTION 2
#define TERN_ICMPV6_PARAM_FIRST_FRAG_CHAIN 3

/* RFC 4443 section 2.4 (c): an error "MUST NOT exceed the minimum IPv6 MTU". */
#define TERN_ICMPV6_ERROR_MAX 1280

struct tern_icmpv6_repr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum; /* as received; computed by emit */
    /* errors and echo: the word after the checksum (unused / MTU / pointer; for echo
     * identifier << 16 | sequence) */
    uint32_t word;
    uint16_t echo_id, echo_seq; /* echo: the two halves of word */
    const uint8_t *payload;     /* errors, echo: from byte 8; other types: from byte 4 */
    size_t payload_len;
};

/* tern_icmpv6_is_error: types 0-127 are errors (RFC 4443 section 2.1). */
bool tern_icmpv6_is_error(uint8_t type);

/* tern_icmpv6_has_word: the types whose body starts with the 32-bit word (1-4, 128, 129). */
bool tern_icmpv6_has_word(uint8_t type);

/*
 * tern_icmpv6_parse: parse and verify an ICMPv6 message.
 *   buf, len  the message (the upper-layer payload of the IPv6 packet)
 *   src, dst  the IPv6 source and destination for the pseudo-header; both
 *             NULL to skip checksum verification
 *   out       receives the fields; payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED below 4 bytes, or below 8 for the
 * types with the 32-bit word; TERN_ERR_BAD_CHECKSUM (RFC 4443 section 2.3
 * says the checksum is verified and a bad message discarded).
 */
tern_err tern_icmpv6_parse(const uint8_t *buf, size_t len, const tern_addr *src,
                           const tern_addr *dst, struct tern_icmpv6_repr *out);

/*
 * tern_icmpv6_emit: write the message for r, checksum computed over the
 * pseudo-header of src and dst (IPv6). For echo, word is taken from echo_id
 * and echo_seq. When r->payload is NULL the payload is already in place (at
 * buf + 8 or buf + 4) and is not touched.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when an address is not IPv6;
 * TERN_ERR_MSG_TOO_LONG above 65535 bytes; TERN_ERR_BUFFER_TOO_SMALL when cap
 * is short (nothing written).
 */
tern_err tern_icmpv6_emit(const struct tern_icmpv6_repr *r, const tern_addr *src,
                          const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_ICMPV6_H */
