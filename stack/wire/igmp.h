/*
 * IGMP, the Internet Group Management Protocol: versions 1 (RFC 1112
 * appendix I), 2 (RFC 2236) and 3 (RFC 3376), IP protocol 2.
 *
 * Every message starts with a type byte and carries a 16-bit checksum at
 * offset 2 over the whole IGMP message (RFC 2236 section 2.3, RFC 3376
 * section 4.1.2). The layouts:
 *   v1/v2 messages (8 bytes): type, Max Resp Time (1/10 s; 0 in v1), checksum,
 *       Group Address. Types 0x11 query, 0x12 v1 report, 0x16 v2 report,
 *       0x17 v2 leave.
 *   v3 query (0x11, 12 bytes and more, RFC 3376 section 4.1): type, Max Resp
 *       Code, checksum, Group Address, Resv|S|QRV, QQIC, Number of Sources,
 *       the source addresses.
 *   v3 report (0x22, RFC 3376 section 4.2): type, reserved, checksum,
 *       reserved, Number of Group Records, then the records: Record Type, Aux
 *       Data Len (in 32-bit words), Number of Sources, Multicast Address, the
 *       sources, the auxiliary data.
 *
 * The query's version comes from its length and Max Resp field (RFC 3376
 * section 7.1): 8 bytes with Max Resp 0 is IGMPv1, 8 bytes otherwise IGMPv2,
 * 12 bytes or more IGMPv3; any other length is not a valid query.
 */
#ifndef TERN_WIRE_IGMP_H
#define TERN_WIRE_IGMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#ifndef TERN_IPPROTO_IGMP
#define TERN_IPPROTO_IGMP 2 /* the IP protocol number (RFC 1112 appendix I) */
#endif

#define TERN_IGMP_V2_LEN 8        /* a v1/v2 message */
#define TERN_IGMP_V3_QUERY_MIN 12 /* a v3 query without sources */
#define TERN_IGMP_V3_REPORT_MIN 8 /* a v3 report without records */
#define TERN_IGMP_V3_RECORD_MIN 8 /* a group record without sources or aux data */

/* Message types (RFC 2236 section 2.1, RFC 3376 section 4). */
#define TERN_IGMP_QUERY 0x11
#define TERN_IGMP_V1_REPORT 0x12
#define TERN_IGMP_V2_REPORT 0x16
#define TERN_IGMP_V2_LEAVE 0x17
#define TERN_IGMP_V3_REPORT 0x22

/* Group record types (RFC 3376 section 4.2.12). */
#define TERN_IGMP_MODE_IS_INCLUDE 1
#define TERN_IGMP_MODE_IS_EXCLUDE 2
#define TERN_IGMP_CHANGE_TO_INCLUDE 3
#define TERN_IGMP_CHANGE_TO_EXCLUDE 4
#define TERN_IGMP_ALLOW_NEW_SOURCES 5
#define TERN_IGMP_BLOCK_OLD_SOURCES 6

/* One group record of a v3 report. Sources and aux data point into the
 * message (parse) or are read from (emit): 4 bytes per source, 4 per aux word. */
struct tern_igmp_record {
    uint8_t type;
    uint8_t aux_words;
    uint16_t nsources;
    tern_addr group;
    const uint8_t *sources;
    const uint8_t *aux;
};

/* One IGMP message. */
struct tern_igmp_repr {
    uint8_t type;
    uint8_t version;        /* queries: 1, 2 or 3 (RFC 3376 section 7.1); reports: 1, 2 or 3 */
    uint8_t max_resp_code;  /* the raw byte at offset 1 */
    uint32_t max_resp_ds;   /* queries: Max Resp Time in tenths of a second (v3: decoded code;
                               v1: 100, the 10 seconds of RFC 2236 section 4) */
    tern_addr group;        /* v1/v2 messages and v3 queries */
    bool s_flag;            /* v3 query: Suppress Router-Side Processing */
    uint8_t qrv;            /* v3 query: Querier's Robustness Variable (0: none given) */
    uint8_t qqic;           /* v3 query: the raw QQIC byte */
    uint32_t qqi;           /* v3 query: the Querier's Query Interval in seconds (decoded) */
    uint16_t nsources;      /* v3 query: Number of Sources */
    const uint8_t *sources; /* v3 query: 4 * nsources bytes, in the message */
    uint16_t nrecords;      /* v3 report: Number of Group Records */
    const uint8_t *records; /* v3 report: the records' bytes, walk them with tern_igmp_record_at */
    size_t records_len;
};

/*
 * tern_igmp_code_decode: a v3 Max Resp Code or QQIC value (RFC 3376 sections
 * 4.1.1 and 4.1.7): below 128 the value itself, otherwise a floating-point
 * form (mant | 0x10) << (exp + 3).
 */
uint32_t tern_igmp_code_decode(uint8_t code);

/*
 * tern_igmp_code_encode: the code for a value (the inverse of
 * tern_igmp_code_decode, rounding down to a representable value; values
 * past 31744 give 0xff).
 */
uint8_t tern_igmp_code_encode(uint32_t value);

/*
 * tern_igmp_parse: parse and check one IGMP message (the IPv4 payload).
 *   buf, len  the message
 *   out       receives the fields; sources/records point into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 8 bytes are present or a
 * v3 query's sources or a v3 report's records run past len;
 * TERN_ERR_BAD_CHECKSUM when the checksum over the len bytes does not verify;
 * TERN_ERR_MALFORMED for a query of 9 to 11 bytes (RFC 3376 section 7.1: "MUST
 * be silently ignored"); TERN_ERR_UNSUPPORTED for an unknown type.
 * On error *out is unspecified.
 */
tern_err tern_igmp_parse(const uint8_t *buf, size_t len, struct tern_igmp_repr *out);

/*
 * tern_igmp_record_at: the group record at *off of a parsed v3 report
 * (start with *off = 0); *off advances past it. Returns TERN_OK or
 * TERN_ERR_TRUNCATED when no whole record is left (parse checked them all,
 * so this happens only after the last).
 */
tern_err tern_igmp_record_at(const struct tern_igmp_repr *r, size_t *off,
                             struct tern_igmp_record *out);

/* tern_igmp_source_at: source i (< nsources) of a v3 query or record (4 bytes at src). */
tern_addr tern_igmp_source_at(const uint8_t *src, uint16_t i);

/*
 * tern_igmp_emit_v2: an 8-byte v1/v2 message (query, report, leave).
 *   type       0x11, 0x12, 0x16 or 0x17
 *   max_resp   Max Resp Time in tenths of a second (0 in reports and leaves)
 *   group      an IPv4 address (0.0.0.0 in a general query)
 *   buf, cap   output; written receives 8
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a non-IPv4 group;
 * TERN_ERR_BUFFER_TOO_SMALL when cap < 8 (nothing written).
 */
tern_err tern_igmp_emit_v2(uint8_t type, uint8_t max_resp, const tern_addr *group, uint8_t *buf,
                           size_t cap, size_t *written);

/*
 * tern_igmp_emit_v3_report: a v3 Membership Report with n records.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a non-IPv4 group or a record
 * with sources == NULL and nsources > 0; TERN_ERR_BUFFER_TOO_SMALL when cap is
 * short (nothing written).
 */
tern_err tern_igmp_emit_v3_report(const struct tern_igmp_record *recs, uint16_t n, uint8_t *buf,
                                  size_t cap, size_t *written);

/*
 * tern_igmp_emit_v3_query: a v3 query (for tests and a querier): Max Resp
 * Code, group, S, QRV (0..7), QQIC, and nsources sources (4 bytes each at
 * sources). Returns as tern_igmp_emit_v3_report.
 */
tern_err tern_igmp_emit_v3_query(uint8_t max_resp_code, const tern_addr *group, bool s_flag,
                                 uint8_t qrv, uint8_t qqic, const uint8_t *sources,
                                 uint16_t nsources, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_IGMP_H */
