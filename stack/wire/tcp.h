/*
 * TCP headers and options (RFC 9293 section 3.1; RFC 7323; RFC 2018).
 *
 * Layout: source port, destination port, sequence number, acknowledgment
 * number, data offset (4 bits, header length in 32-bit words) with 4
 * reserved/AE bits, the flags CWR ECE URG ACK PSH RST SYN FIN, window,
 * checksum (over the pseudo-header, header and data), urgent pointer, then
 * options up to the data offset, then data.
 *
 * Options parsed: EOL (0), NOP (1), MSS (2, RFC 9293 section 3.2), window
 * scale (3, RFC 7323 section 2), SACK-permitted (4) and SACK (5) (RFC 2018),
 * timestamps (8, RFC 7323 section 3). The option-list rules, all in bounded
 * time (each step consumes at least one byte of at most 40):
 *   - EOL ends the list; the bytes after it are padding and are ignored.
 *   - NOP is skipped.
 *   - Any other kind must have a length byte inside the header, a length of
 *     at least 2, and must not run past the header; otherwise the whole
 *     segment is TERN_ERR_MALFORMED (RFC 9293 section 3.1 / RFC 1122 section
 *     4.2.2.5: a TCP must be prepared for an illegal option length such as
 *     zero; dropping the segment is the safe answer).
 *   - Unknown kinds are skipped by their length (RFC 9293 section 3.2: "a
 *     TCP implementation MUST ignore without error any TCP option it does
 *     not implement").
 *   - A known kind with a length it should not have (MSS not 4, window scale
 *     not 3, SACK-permitted not 2, timestamps not 10, SACK not 2 + 8n with n
 *     1-4) is skipped like an unknown option, as Linux does.
 *   - When a kind appears twice, the last one wins.
 * Values are reported as received; policy (MSS clamping, a window shift
 * above 14 treated as 14 per RFC 7323 section 2.3, options only honoured
 * on SYN) belongs to the TCP layer.
 */
#ifndef TERN_WIRE_TCP_H
#define TERN_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "tern/errors.h"

#define TERN_TCP_MIN_HDR_LEN 20
#define TERN_TCP_MAX_HDR_LEN 60
#define TERN_TCP_MAX_OPTIONS_LEN 40
#define TERN_TCP_MAX_SACK_BLOCKS 4 /* 2 + 4*8 = 34 bytes, the most that fits in 40 */

/* Flag bits as in the 13th byte of the header. */
#define TERN_TCP_FIN 0x01
#define TERN_TCP_SYN 0x02
#define TERN_TCP_RST 0x04
#define TERN_TCP_PSH 0x08
#define TERN_TCP_ACK 0x10
#define TERN_TCP_URG 0x20
#define TERN_TCP_ECE 0x40 /* RFC 3168 */
#define TERN_TCP_CWR 0x80 /* RFC 3168 */

/* Option kinds. */
#define TERN_TCPOPT_EOL 0
#define TERN_TCPOPT_NOP 1
#define TERN_TCPOPT_MSS 2
#define TERN_TCPOPT_WSCALE 3
#define TERN_TCPOPT_SACK_PERMITTED 4
#define TERN_TCPOPT_SACK 5
#define TERN_TCPOPT_TIMESTAMPS 8

/* One SACK block: the sequence space [left, right) received (RFC 2018 section 3). */
struct tern_tcp_sack_block {
    uint32_t left;
    uint32_t right;
};

/* The options of one segment. */
struct tern_tcp_options {
    bool has_mss;
    uint16_t mss; /* RFC 9293 section 3.7.1 */
    bool has_wscale;
    uint8_t wscale; /* shift count as received (RFC 7323 section 2.2) */
    bool sack_permitted;
    uint8_t sack_count; /* 0-4 blocks in sack[] */
    struct tern_tcp_sack_block sack[TERN_TCP_MAX_SACK_BLOCKS];
    bool has_timestamps;
    uint32_t ts_val; /* RFC 7323 section 3.2 TSval */
    uint32_t ts_ecr; /* TSecr */
};

/* One TCP segment. */
struct tern_tcp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;
    uint8_t header_len; /* bytes, 20-60 (data offset * 4); computed by emit */
    uint8_t flags;      /* TERN_TCP_* */
    uint8_t reserved;   /* the 4 bits between data offset and flags (RFC 9293
                           "Rsrvd"; bit 0 is AE/NS); kept for round trips */
    uint16_t window;    /* unscaled, as on the wire */
    uint16_t checksum;  /* as received; computed by emit */
    uint16_t urgent;    /* urgent pointer, carried whatever URG says (RFC 6093) */
    struct tern_tcp_options opt;
    const uint8_t *payload;
    size_t payload_len;
    /* emit, payload NULL (already in place) only: payload_sum is its partial sum
     * (tern_csum_copy, as tern_csum_add(0, ...) gives), so emit sums the header alone */
    bool payload_summed;
    uint32_t payload_sum;
};

/*
 * tern_tcp_parse: parse and check a TCP segment.
 *   buf, len  the IP payload (exactly the segment: TCP has no length field,
 *             the IP total length delimits it)
 *   src, dst  the IP source and destination for the pseudo-header (RFC 9293
 *             section 3.1); both NULL to skip checksum verification
 *   out       receives the fields; payload points into buf
 * Returns TERN_OK; TERN_ERR_TRUNCATED when fewer than 20 bytes, or fewer than
 * the data offset says, are present; TERN_ERR_MALFORMED when the data offset
 * is below 5 or the option list breaks the rules above;
 * TERN_ERR_BAD_CHECKSUM when the checksum does not verify (RFC 9293 section
 * 3.1, MUST-3: checked on every segment; the segment is dropped). On error
 * *out is unspecified.
 */
tern_err tern_tcp_parse(const uint8_t *buf, size_t len, const tern_addr *src, const tern_addr *dst,
                        struct tern_tcp_repr *out);

/*
 * tern_tcp_options_len: the option bytes emit writes for opt, padded to a
 * multiple of 4 and at most 40. The layout is the one Linux uses:
 *   MSS                                   4 bytes
 *   SACK-permitted + timestamps           12 bytes (4,2,8,10,...)
 *   or NOP NOP + timestamps               12 bytes
 *   or NOP NOP + SACK-permitted           4 bytes
 *   NOP + window scale                    4 bytes
 *   NOP NOP + SACK, 8 bytes per block     4 + 8n bytes
 * SACK blocks that do not fit in the 40 bytes are left out from the end
 * (RFC 2018 section 4: the first block is the most recent one and is the
 * one that must be sent; with timestamps at most 3 fit). The other options
 * take at most 4 + 12 + 4 = 20 bytes, so at least 2 blocks always fit.
 */
size_t tern_tcp_options_len(const struct tern_tcp_options *opt);

/*
 * tern_tcp_sack_blocks_fit: how many of opt's SACK blocks emit will write
 * (at most opt->sack_count), so the TCP layer knows what the peer will see.
 */
uint8_t tern_tcp_sack_blocks_fit(const struct tern_tcp_options *opt);

/* tern_tcp_header_len: 20 + tern_tcp_options_len(&r->opt). */
size_t tern_tcp_header_len(const struct tern_tcp_repr *r);

/*
 * tern_tcp_emit: write the segment for r, with the data offset and checksum
 * computed (r->header_len and r->checksum are ignored).
 *   r         the segment; options as in tern_tcp_options_len
 *   src, dst  IP source and destination (same family, IPv4 or IPv6) for the
 *             pseudo-header checksum
 *   buf,cap   output buffer
 *   written   receives header length + r->payload_len
 * When r->payload is NULL the data is taken to be in place already at
 * buf + tern_tcp_header_len(r) (zero copy: the send buffer wrote it) and is
 * not touched (but it is checksummed); otherwise it is copied there
 * (memmove).
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT when src/dst are NULL, of
 * different families or not IP, or sack_count > 4; TERN_ERR_MSG_TOO_LONG when
 * header + data exceed 65535 bytes; TERN_ERR_BUFFER_TOO_SMALL when cap is
 * short. Nothing is written on error.
 */
tern_err tern_tcp_emit(const struct tern_tcp_repr *r, const tern_addr *src, const tern_addr *dst,
                       uint8_t *buf, size_t cap, size_t *written);

/*
 * tern_tcp_emit_pseudo: tern_tcp_emit with the pseudo-header's partial sum
 * given instead of the addresses: a sender that keeps the sum per connection
 * (a header template, issue 19) does not add the addresses up per segment.
 *   r        the segment, as for tern_tcp_emit
 *   pseudo   tern_csum_pseudo(src, dst, TERN_IPPROTO_TCP, 0): the pseudo-
 *            header without its length, which is added here
 *   buf,cap  output buffer
 *   written  receives header length + r->payload_len
 * Returns as tern_tcp_emit (no address check: the sum stands for them).
 */
tern_err tern_tcp_emit_pseudo(const struct tern_tcp_repr *r, uint32_t pseudo, uint8_t *buf,
                              size_t cap, size_t *written);

#endif /* TERN_WIRE_TCP_H */
