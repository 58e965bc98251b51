/*
 * Multicast Listener Discovery: MLDv2 (RFC 3810) and the MLDv1 messages a
 * version-2 listener must understand (RFC 2710, RFC 3810 section 8).
 *
 * MLD messages are ICMPv6 messages (next header 58); their checksum covers
 * the IPv6 pseudo-header (RFC 8200 section 8.1, RFC 4443 section 2.3). The
 * functions here take the whole ICMPv6 message, from its type byte.
 *
 * Query (type 130), RFC 3810 section 5.1 (MLDv2, at least 28 bytes) and
 * RFC 2710 section 3 (MLDv1, exactly 24 bytes):
 *   type, code, checksum, Maximum Response Code (16), reserved (16),
 *   Multicast Address (16 bytes); MLDv2 only: Resv(4) S(1) QRV(3), QQIC (8),
 *   Number of Sources N (16), N source addresses.
 * Version 2 Multicast Listener Report (type 143), RFC 3810 section 5.2:
 *   type, reserved (8), checksum, reserved (16), Nr of Mcast Address Records
 *   M (16), then M records: Record Type (8), Aux Data Len (8, in 32-bit
 *   words), Number of Sources N (16), Multicast Address (16 bytes), N source
 *   addresses, aux data.
 * MLDv1 Report (131) and Done (132), RFC 2710 section 3: the 24-byte layout
 *   of the MLDv1 query.
 */
#ifndef TERN_WIRE_MLD_H
#define TERN_WIRE_MLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

/* ICMPv6 types (RFC 2710 section 3, RFC 3810 section 5). */
#define TERN_MLD_QUERY 130
#define TERN_MLD_V1_REPORT 131
#define TERN_MLD_V1_DONE 132
#define TERN_MLD_V2_REPORT 143

#define TERN_MLD_V1_LEN 24       /* every MLDv1 message, and the MLDv1 query */
#define TERN_MLD_V2_QUERY_MIN 28 /* MLDv2 query without sources */
#define TERN_MLD_V2_REPORT_HDR 8 /* report header before the records */
#define TERN_MLD_RECORD_HDR 20   /* record header before its sources */

/* Multicast address record types (RFC 3810 section 5.2.12). */
#define TERN_MLD_MODE_IS_INCLUDE 1
#define TERN_MLD_MODE_IS_EXCLUDE 2
#define TERN_MLD_CHANGE_TO_INCLUDE 3
#define TERN_MLD_CHANGE_TO_EXCLUDE 4
#define TERN_MLD_ALLOW_NEW_SOURCES 5
#define TERN_MLD_BLOCK_OLD_SOURCES 6

/* A query of either version. */
struct tern_mld_query {
    uint8_t version;        /* 1 (24 bytes) or 2 (28 bytes and more) */
    uint8_t code;           /* ICMPv6 code (0; kept as received) */
    uint16_t max_resp_code; /* raw Maximum Response Code (v1: Maximum Response Delay) */
    uint32_t max_resp_ms;   /* the delay it encodes, in milliseconds */
    tern_addr group;        /* :: for a general query */
    bool s_flag;            /* v2: Suppress Router-Side Processing */
    uint8_t qrv;            /* v2: Querier's Robustness Variable, 0..7 */
    uint8_t qqic;           /* v2: raw Querier's Query Interval Code */
    uint32_t qqi_s;         /* v2: the interval it encodes, in seconds */
    uint16_t nsources;      /* v2: Number of Sources */
    const uint8_t *sources; /* v2: nsources x 16 bytes, network order (into the buffer) */
};

/* One multicast address record of a version 2 report. */
struct tern_mld_record {
    uint8_t type;           /* TERN_MLD_MODE_IS_INCLUDE .. TERN_MLD_BLOCK_OLD_SOURCES (any
                               value is carried; RFC 3810 section 5.2.12 lists 1..6) */
    uint8_t aux_words;      /* Aux Data Len, in 32-bit words */
    uint16_t nsources;      /* Number of Sources */
    tern_addr group;        /* Multicast Address */
    const uint8_t *sources; /* nsources x 16 bytes, network order */
    const uint8_t *aux;     /* aux_words x 4 bytes */
};

/* A version 2 report as parsed: the records stay in the buffer. */
struct tern_mld_report {
    uint16_t nrecords;      /* Nr of Mcast Address Records */
    const uint8_t *records; /* the first record */
    size_t records_len;     /* bytes of all records */
};

/* A parsed MLD message of any of the four types. */
struct tern_mld_repr {
    uint8_t type;                  /* TERN_MLD_QUERY, _V1_REPORT, _V1_DONE or _V2_REPORT */
    uint16_t checksum;             /* as received */
    struct tern_mld_query query;   /* type 130 */
    struct tern_mld_report report; /* type 143 */
    tern_addr v1_group;            /* types 131 and 132: the Multicast Address */
};

/*
 * tern_mld_code_to_ms: the Maximum Response Delay a Maximum Response Code
 * stands for, in milliseconds (RFC 3810 section 5.1.3: below 32768 the code
 * is the delay; from 32768 on it is a floating-point value 1|exp(3)|mant(12)
 * and the delay is (mant | 0x1000) << (exp + 3)).
 */
uint32_t tern_mld_code_to_ms(uint16_t code);

/*
 * tern_mld_qqic_to_s: the Querier's Query Interval a QQIC stands for, in
 * seconds (RFC 3810 section 5.1.9: below 128 the code is the interval; from
 * 128 on it is 1|exp(3)|mant(4) and the interval is (mant | 0x10) << (exp + 3)).
 */
uint32_t tern_mld_qqic_to_s(uint8_t qqic);

/*
 * tern_mld_parse: parse and check an MLD message.
 *   buf, len  the ICMPv6 message (the IPv6 payload after any extension
 *             headers), exactly
 *   src, dst  the IPv6 source and destination for the checksum's
 *             pseudo-header; both NULL to skip the checksum (the ICMPv6
 *             layer has verified it already)
 *   out       receives the fields; sources and records point into buf
 * Returns TERN_OK;
 *   TERN_ERR_TRUNCATED when fewer than 24 bytes are present, or fewer than
 *     a v2 query's sources or a v2 report's records need;
 *   TERN_ERR_MALFORMED for a query of 25..27 bytes (RFC 3810 section 8.1:
 *     neither version, "MUST be silently ignored"), a v2 report shorter
 *     than 8 bytes, or bytes left over after the last record of a v2 report;
 *   TERN_ERR_UNSUPPORTED when the type is not an MLD type;
 *   TERN_ERR_BAD_CHECKSUM when src/dst are given and the checksum does not
 *     verify.
 * Bytes after a v2 query's sources, and after the first 24 bytes of a v1
 * report or done, are ignored (RFC 3810 section 5.1.12 allows additional
 * data). On error *out is unspecified.
 */
tern_err tern_mld_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_mld_repr *out);

/*
 * tern_mld_record_next: read the record at *offset of a parsed report and
 * advance *offset past it. Start with *offset = 0; parse has checked that
 * every one of report->nrecords records lies inside the buffer.
 *   report  a report filled by tern_mld_parse
 *   offset  in/out: the record's offset in report->records
 *   rec     receives the record; sources and aux point into the buffer
 * Returns TERN_OK, or TERN_ERR_EMPTY when *offset is at the end.
 */
tern_err tern_mld_record_next(const struct tern_mld_report *report, size_t *offset,
                              struct tern_mld_record *rec);

/* tern_mld_source: the i-th source address (IPv6) of sources. */
tern_addr tern_mld_source(const uint8_t *sources, uint16_t i);

/*
 * tern_mld_query_emit: write a query.
 *   q         version 1 writes the 24-byte MLDv1 query (RFC 2710 section 3);
 *             version 2 writes max_resp_code, group, s_flag, qrv (low three
 *             bits), qqic and q->nsources sources from q->sources
 *   src, dst  IPv6 addresses for the checksum
 *   buf, cap  output buffer; written receives the length
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for a version other than 1 and
 * 2, a group that is neither :: nor IPv6, or src/dst not IPv6;
 * TERN_ERR_BUFFER_TOO_SMALL when cap is short. Nothing is written on error.
 */
tern_err tern_mld_query_emit(const struct tern_mld_query *q, const tern_addr *src,
                             const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written);

/*
 * tern_mld_report_emit: write a version 2 report (RFC 3810 section 5.2).
 *   recs, n   the records (n at most 65535); each copies its nsources x 16
 *             source bytes and aux_words x 4 aux bytes (sources/aux may be
 *             NULL when their count is zero)
 *   src, dst  IPv6 addresses for the checksum
 *   buf, cap  output buffer; written receives the length
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when a group is not IPv6, a
 * count is non-zero with a NULL pointer, n > 65535, or src/dst are not IPv6;
 * TERN_ERR_MSG_TOO_LONG above 65535 bytes; TERN_ERR_BUFFER_TOO_SMALL when
 * cap is short. Nothing is written on error.
 */
tern_err tern_mld_report_emit(const struct tern_mld_record *recs, size_t n, const tern_addr *src,
                              const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written);

/* tern_mld_report_len: the bytes tern_mld_report_emit writes for recs[0..n). */
size_t tern_mld_report_len(const struct tern_mld_record *recs, size_t n);

/*
 * tern_mld_v1_emit: write an MLDv1 Report (131) or Done (132) for group
 * (RFC 2710 section 3: Maximum Response Delay zero in both).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT for another type or a group,
 * src or dst that is not IPv6; TERN_ERR_BUFFER_TOO_SMALL when cap < 24.
 */
tern_err tern_mld_v1_emit(uint8_t type, const tern_addr *group, const tern_addr *src,
                          const tern_addr *dst, uint8_t *buf, size_t cap, size_t *written);

#endif /* TERN_WIRE_MLD_H */
