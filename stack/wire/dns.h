/*
 * DNS messages (RFC 1035 section 4; the A record of section 3.4.1).
 *
 * Layout: a 12-byte header (ID, flags QR/OPCODE/AA/TC/RD/RA/Z/RCODE,
 * QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT), then the question entries (name, type,
 * class) and the resource records (name, type, class, TTL, RDLENGTH, RDATA).
 *
 * Names are sequences of labels, each a length octet and that many bytes,
 * ended by the zero-length root label, or by a compression pointer (two
 * octets, top bits 11, RFC 1035 section 4.1.4) to a name elsewhere in the
 * message. Compression is where parsers fail (the NAME:WRECK class of bugs),
 * so tern_dns_name_read rejects, never follows:
 *   - a pointer whose target is not strictly before every byte of the name
 *     read so far (this rules out loops and forward pointers: each jump
 *     lands strictly earlier than the last, so the walk ends);
 *   - a label or pointer that runs past the end of the message;
 *   - a label longer than 63 octets, or a label type other than 00 and 11
 *     (the 01 and 10 types, RFC 6891 section 5, are not supported);
 *   - a name whose uncompressed wire form exceeds 255 octets (RFC 1035
 *     section 3.1: "the total length of a domain name (i.e., label octets
 *     and label length octets) is restricted to 255 octets or less");
 *   - a label holding a '.' or a NUL byte, which the dotted text form
 *     could not represent faithfully.
 */
#ifndef TERN_WIRE_DNS_H
#define TERN_WIRE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"

#define TERN_DNS_PORT 53
#define TERN_DNS_HDR_LEN 12
#define TERN_DNS_MAX_NAME_WIRE 255 /* RFC 1035 section 3.1 */
/* The longest dotted text form (253 characters) plus its NUL. */
#define TERN_DNS_NAME_TEXT_CAP 254
#define TERN_DNS_MAX_LABEL 63

#define TERN_DNS_FLAG_QR 0x8000
#define TERN_DNS_FLAG_AA 0x0400
#define TERN_DNS_FLAG_TC 0x0200
#define TERN_DNS_FLAG_RD 0x0100
#define TERN_DNS_FLAG_RA 0x0080
#define TERN_DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define TERN_DNS_RCODE(flags) ((flags)&0xf)

#define TERN_DNS_TYPE_A 1
#define TERN_DNS_TYPE_CNAME 5
#define TERN_DNS_TYPE_SOA 6
#define TERN_DNS_TYPE_AAAA 28
#define TERN_DNS_CLASS_IN 1

/* The 12-byte header. */
struct tern_dns_header {
    uint16_t id;
    uint16_t flags;
    uint16_t qdcount, ancount, nscount, arcount;
};

/* One question entry; name in dotted text form ("www.example.org", "" for
 * the root). */
struct tern_dns_question {
    char name[TERN_DNS_NAME_TEXT_CAP];
    uint16_t type;
    uint16_t klass;
};

/* One resource record; rdata points into the message. */
struct tern_dns_rr {
    char name[TERN_DNS_NAME_TEXT_CAP];
    uint16_t type;
    uint16_t klass;
    uint32_t ttl;
    uint16_t rdlength;
    const uint8_t *rdata;
    size_t rdata_off; /* offset of rdata in the message, for names inside it */
};

/*
 * tern_dns_header_parse: the header of a message.
 *   msg, len  the whole message (the UDP payload)
 *   out       receives the header
 * Returns TERN_OK or TERN_ERR_TRUNCATED when len < 12.
 */
tern_err tern_dns_header_parse(const uint8_t *msg, size_t len, struct tern_dns_header *out);

/*
 * tern_dns_name_read: read the (possibly compressed) name at msg[*off]
 * into dotted text.
 *   msg, len  the whole message (pointers are offsets into it)
 *   off       in: where the name starts; out: the offset just after the
 *             name as it appears at that place (after the first pointer,
 *             if any) - unchanged on error
 *   out,cap   receives the NUL-terminated dotted name, labels' bytes as
 *             they are (no case folding); cap >= TERN_DNS_NAME_TEXT_CAP
 *             always suffices
 * Returns TERN_OK; TERN_ERR_TRUNCATED when a label or pointer runs past the
 * message; TERN_ERR_MALFORMED for a loop or forward pointer, a name over 255
 * octets, a bad label type or a '.'/NUL inside a label (file comment);
 * TERN_ERR_BUFFER_TOO_SMALL when cap is short.
 */
tern_err tern_dns_name_read(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap);

/*
 * tern_dns_question_parse: the question entry at msg[*off]; *off advances
 * past it. Errors as tern_dns_name_read, and TERN_ERR_TRUNCATED when type
 * and class are not all present.
 */
tern_err tern_dns_question_parse(const uint8_t *msg, size_t len, size_t *off,
                                 struct tern_dns_question *out);

/*
 * tern_dns_rr_parse: the resource record at msg[*off]; *off advances past
 * it. Errors as tern_dns_name_read, and TERN_ERR_TRUNCATED when the fixed
 * fields or RDLENGTH bytes of RDATA are not all present.
 */
tern_err tern_dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct tern_dns_rr *out);

/*
 * tern_dns_soa_minimum: the MINIMUM field of an SOA record's RDATA (RFC 1035
 * section 3.3.13: MNAME, RNAME, then SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM,
 * 32 bits each), the two names read (compression allowed) within the RDATA.
 *   msg, len  the whole message; rr a record parsed from it with type SOA
 *   minimum   receives MINIMUM
 * Returns TERN_OK; the errors of tern_dns_name_read; TERN_ERR_MALFORMED
 * when the names and the five fields do not fill RDLENGTH exactly.
 */
tern_err tern_dns_soa_minimum(const uint8_t *msg, size_t len, const struct tern_dns_rr *rr,
                              uint32_t *minimum);

/*
 * tern_dns_name_eq: whether two dotted names are equal, ASCII letters
 * compared without case (RFC 1035 section 2.3.3: "comparisons ... are done
 * in a case-insensitive manner"), a final '.' ignored on either side.
 */
bool tern_dns_name_eq(const char *a, const char *b);

/*
 * tern_dns_query_emit: write a query with one question, no compression.
 *   id        the message ID
 *   rd        whether to set RD (recursion desired)
 *   name      the dotted name (a final '.' allowed; "" or "." for the root)
 *   qtype     the question type (TERN_DNS_TYPE_A ...), class IN
 *   buf,cap   output buffer
 *   written   receives the length
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when the name has an empty
 * label ("a..b"), a label over 63 octets, or is over 255 octets in wire
 * form; TERN_ERR_BUFFER_TOO_SMALL when cap is short (nothing written on
 * error).
 */
tern_err tern_dns_query_emit(uint16_t id, bool rd, const char *name, uint16_t qtype, uint8_t *buf,
                             size_t cap, size_t *written);

/*
 * tern_dns_name_encode: the uncompressed wire form of a dotted name.
 *   name      as for tern_dns_query_emit
 *   buf,cap   output (at most 255 bytes are needed)
 *   written   receives the length, root label included
 * Returns as tern_dns_query_emit.
 */
tern_err tern_dns_name_encode(const char *name, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_DNS_H */
