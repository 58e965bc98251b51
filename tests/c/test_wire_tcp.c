/* Unit tests of wire/tcp.h: TCP headers and options (RFC 9293 3.1, RFC 7323, RFC 2018). */
#include "test_wire_util.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* 10.0.0.1:40000 -> 10.0.0.2:80 SYN, Linux options: MSS 1460, SACK-permitted,
 * timestamps (0x11223344, 0), NOP, window scale 7. */
static const uint8_t tcp_syn[] = {
    0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0x54, 0x10, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* 10.0.0.2:80 -> 10.0.0.1:40000 SYN-ACK without timestamps: MSS 1400,
 * NOP NOP SACK-permitted, NOP window scale 14. */
static const uint8_t tcp_synack[] = {
    0x00, 0x50, 0x9c, 0x40, 0xa0, 0xb0, 0xc0, 0xd0, 0x01, 0x02, 0x03, 0x05, 0x80, 0x12, 0xfe, 0x88,
    0x5a, 0x92, 0x00, 0x00, 0x02, 0x04, 0x05, 0x78, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x0e,
};

/* 10.0.0.1 -> 10.0.0.2 PSH|ACK with NOP NOP timestamps and 18 bytes of data. */
static const uint8_t tcp_data_ts[] = {
    0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x05, 0xa0, 0xb0, 0xc0, 0xd1, 0x80,
    0x18, 0x01, 0xf6, 0x6e, 0x47, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x11, 0x22,
    0x33, 0x99, 0x55, 0x66, 0x77, 0x88, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48,
    0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a,
};

/* 10.0.0.2 -> 10.0.0.1 ACK with timestamps and three SACK blocks (40 bytes of options). */
static const uint8_t tcp_sack3_ts[] = {
    0x00, 0x50, 0x9c, 0x40, 0xa0, 0xb0, 0xc0, 0xd1, 0x01, 0x02, 0x03, 0x17, 0xf0, 0x10, 0x03,
    0xe8, 0x96, 0x63, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    0x00, 0x06, 0x01, 0x01, 0x05, 0x1a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
    0x00, 0x30, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x60, 0x00,
};

/* 10.0.0.1:1 -> 10.0.0.2:2 URG|PSH|ACK, urgent pointer 5, "urgent". */
static const uint8_t tcp_urg[] = {
    0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x50,
    0x38, 0x00, 0x03, 0x50, 0x4a, 0x00, 0x05, 0x75, 0x72, 0x67, 0x65, 0x6e, 0x74,
};

static tern_addr a1, a2;

struct tcp_ctx {
    struct tern_tcp_repr r;
    const tern_addr *src, *dst;
};

static tern_err parse_tcp(const uint8_t *buf, size_t len, void *ctx) {
    struct tcp_ctx *c = ctx;
    return tern_tcp_parse(buf, len, c->src, c->dst, &c->r);
}

static tern_err emit_tcp(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct tcp_ctx *c = ctx;
    return tern_tcp_emit(&c->r, c->src, c->dst, buf, cap, written);
}

static void test_syn(void) {
    struct tcp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(tern_tcp_parse(tcp_syn, sizeof tcp_syn, &a1, &a2, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.src_port, 40000);
    CHECK_EQ_U64(c.r.dst_port, 80);
    CHECK_EQ_U64(c.r.seq, 0x01020304);
    CHECK_EQ_U64(c.r.ack, 0);
    CHECK_EQ_U64(c.r.header_len, 40);
    CHECK_EQ_U64(c.r.flags, TERN_TCP_SYN);
    CHECK_EQ_U64(c.r.reserved, 0);
    CHECK_EQ_U64(c.r.window, 64240);
    CHECK_EQ_U64(c.r.checksum, 0x5410);
    CHECK_EQ_U64(c.r.urgent, 0);
    CHECK(c.r.opt.has_mss);
    CHECK_EQ_U64(c.r.opt.mss, 1460);
    CHECK(c.r.opt.sack_permitted);
    CHECK(c.r.opt.has_timestamps);
    CHECK_EQ_U64(c.r.opt.ts_val, 0x11223344);
    CHECK_EQ_U64(c.r.opt.ts_ecr, 0);
    CHECK(c.r.opt.has_wscale);
    CHECK_EQ_U64(c.r.opt.wscale, 7);
    CHECK_EQ_U64(c.r.opt.sack_count, 0);
    CHECK_EQ_U64(c.r.payload_len, 0);
    CHECK_EQ_U64(tern_tcp_header_len(&c.r), 40);
    wire_check_emit(emit_tcp, &c, tcp_syn, sizeof tcp_syn);
}

static void test_synack(void) {
    struct tcp_ctx c = {.src = &a2, .dst = &a1};
    CHECK_EQ_I64(tern_tcp_parse(tcp_synack, sizeof tcp_synack, &a2, &a1, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(c.r.ack, 0x01020305);
    CHECK_EQ_U64(c.r.opt.mss, 1400);
    CHECK(c.r.opt.sack_permitted);
    CHECK(!c.r.opt.has_timestamps);
    CHECK_EQ_U64(c.r.opt.wscale, 14);
    wire_check_emit(emit_tcp, &c, tcp_synack, sizeof tcp_synack);
}

static void test_data_ts(void) {
    struct tcp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(tern_tcp_parse(tcp_data_ts, sizeof tcp_data_ts, &a1, &a2, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.flags, TERN_TCP_PSH | TERN_TCP_ACK);
    CHECK_EQ_U64(c.r.window, 502);
    CHECK(!c.r.opt.has_mss);
    CHECK(!c.r.opt.has_wscale);
    CHECK(!c.r.opt.sack_permitted);
    CHECK(c.r.opt.has_timestamps);
    CHECK_EQ_U64(c.r.opt.ts_val, 0x11223399);
    CHECK_EQ_U64(c.r.opt.ts_ecr, 0x55667788);
    CHECK(c.r.payload == tcp_data_ts + 32);
    CHECK_EQ_U64(c.r.payload_len, 18);
    CHECK(memcmp(c.r.payload, "GET / HTTP/1.0\r\n\r\n", 18) == 0);
    wire_check_emit(emit_tcp, &c, tcp_data_ts, sizeof tcp_data_ts);
}

static void test_sack(void) {
    struct tcp_ctx c = {.src = &a2, .dst = &a1};
    CHECK_EQ_I64(tern_tcp_parse(tcp_sack3_ts, sizeof tcp_sack3_ts, &a2, &a1, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.header_len, 60);
    CHECK_EQ_U64(c.r.opt.sack_count, 3);
    CHECK_EQ_U64(c.r.opt.sack[0].left, 0x1000);
    CHECK_EQ_U64(c.r.opt.sack[0].right, 0x2000);
    CHECK_EQ_U64(c.r.opt.sack[2].left, 0x5000);
    CHECK_EQ_U64(c.r.opt.sack[2].right, 0x6000);
    CHECK_EQ_U64(c.r.opt.ts_val, 5);
    CHECK_EQ_U64(c.r.opt.ts_ecr, 6);
    wire_check_emit(emit_tcp, &c, tcp_sack3_ts, sizeof tcp_sack3_ts);
    /* A fourth block does not fit beside timestamps: it is left out
     * (RFC 2018 section 4 keeps the first, most recent, blocks). */
    c.r.opt.sack_count = 4;
    c.r.opt.sack[3].left = 0x7000;
    c.r.opt.sack[3].right = 0x8000;
    CHECK_EQ_U64(tern_tcp_sack_blocks_fit(&c.r.opt), 3);
    CHECK_EQ_U64(tern_tcp_header_len(&c.r), 60);
    wire_check_emit(emit_tcp, &c, tcp_sack3_ts, sizeof tcp_sack3_ts);
    /* Without timestamps all four fit. */
    c.r.opt.has_timestamps = false;
    CHECK_EQ_U64(tern_tcp_sack_blocks_fit(&c.r.opt), 4);
    CHECK_EQ_U64(tern_tcp_options_len(&c.r.opt), 36);
    uint8_t buf[80];
    size_t w;
    struct tern_tcp_repr p;
    CHECK_EQ_I64(tern_tcp_emit(&c.r, &a2, &a1, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &a2, &a1, &p), TERN_OK);
    CHECK_EQ_U64(p.opt.sack_count, 4);
    CHECK_EQ_U64(p.opt.sack[3].right, 0x8000);
    /* MSS + SACK-permitted + timestamps + window scale leaves room for 2. */
    c.r.opt.has_timestamps = c.r.opt.has_mss = c.r.opt.has_wscale = c.r.opt.sack_permitted = true;
    CHECK_EQ_U64(tern_tcp_sack_blocks_fit(&c.r.opt), 2);
    CHECK_EQ_U64(tern_tcp_options_len(&c.r.opt), 40);
    c.r.opt.sack_count = 5;
    CHECK_EQ_I64(tern_tcp_emit(&c.r, &a2, &a1, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
}

static void test_urgent(void) {
    struct tcp_ctx c = {.src = &a1, .dst = &a2};
    CHECK_EQ_I64(tern_tcp_parse(tcp_urg, sizeof tcp_urg, &a1, &a2, &c.r), TERN_OK);
    CHECK_EQ_U64(c.r.flags, TERN_TCP_URG | TERN_TCP_PSH | TERN_TCP_ACK);
    CHECK_EQ_U64(c.r.urgent, 5);
    CHECK_EQ_U64(c.r.header_len, 20);
    CHECK_EQ_U64(c.r.payload_len, 6);
    wire_check_emit(emit_tcp, &c, tcp_urg, sizeof tcp_urg);
    /* An urgent pointer beyond the data, or without URG, is carried as is
     * (RFC 6093: the TCP layer decides what to do with it). */
    c.r.urgent = 0xffff;
    c.r.flags = TERN_TCP_ACK;
    uint8_t buf[64];
    size_t w;
    struct tern_tcp_repr p;
    CHECK_EQ_I64(tern_tcp_emit(&c.r, &a1, &a2, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &a1, &a2, &p), TERN_OK);
    CHECK_EQ_U64(p.urgent, 0xffff);
}

static void sweep(const uint8_t *fx, size_t n, const tern_addr *src, const tern_addr *dst) {
    /* TCP has no length field: below the data offset the segment is
     * truncated; cut into the data, it fails the checksum. */
    struct tcp_ctx c = {.src = src, .dst = dst};
    size_t hlen = (size_t)(fx[12] >> 4) * 4;
    int ok = 1;
    for (size_t len = 0; len < n; len++) {
        tern_err err = wire_parse_exact(parse_tcp, fx, len, &c);
        tern_err want = len < hlen ? TERN_ERR_TRUNCATED : TERN_ERR_BAD_CHECKSUM;
        if (err != want) {
            fprintf(stderr, "  length %zu: %s\n", len, tern_error_name(err));
            ok = 0;
        }
    }
    CHECK(ok);
}

static void test_truncations(void) {
    sweep(tcp_syn, sizeof tcp_syn, &a1, &a2);
    sweep(tcp_synack, sizeof tcp_synack, &a2, &a1);
    sweep(tcp_data_ts, sizeof tcp_data_ts, &a1, &a2);
    sweep(tcp_sack3_ts, sizeof tcp_sack3_ts, &a2, &a1);
    sweep(tcp_urg, sizeof tcp_urg, &a1, &a2);
}

static void test_bad_checksum(void) {
    struct tcp_ctx c = {.src = &a1, .dst = &a2};
    int ok = 1;
    for (size_t i = 0; i < sizeof tcp_data_ts; i++) {
        if (i == 12) {
            continue; /* data offset: may change the header length first */
        }
        for (int bit = 0; bit < 8; bit++) {
            ok &= wire_parse_flipped(parse_tcp, tcp_data_ts, sizeof tcp_data_ts, i,
                                     (uint8_t)(1u << bit), &c) == TERN_ERR_BAD_CHECKSUM;
        }
    }
    CHECK(ok);
    tern_addr other = tern_addr_v4(10, 0, 0, 3);
    CHECK_EQ_I64(tern_tcp_parse(tcp_data_ts, sizeof tcp_data_ts, &other, &a2, &c.r),
                 TERN_ERR_BAD_CHECKSUM);
    /* Without addresses the checksum is not verified. */
    c.src = c.dst = NULL;
    CHECK_EQ_I64(wire_parse_flipped(parse_tcp, tcp_data_ts, sizeof tcp_data_ts, 40, 1, &c),
                 TERN_OK);
}

/* Build a segment with the given option bytes (olen a multiple of 4) and a
 * valid checksum, then parse it. */
static tern_err parse_with_options(const uint8_t *opts, size_t olen, struct tern_tcp_repr *out) {
    uint8_t seg[64];
    memcpy(seg, tcp_urg, 20);
    memcpy(seg + 20, opts, olen);
    seg[12] = (uint8_t)((20 + olen) / 4 << 4);
    seg[16] = seg[17] = 0;
    size_t n = 20 + olen;
    uint32_t s = tern_csum_pseudo(&a1, &a2, 6, (uint32_t)n);
    tern_put_u16(seg + 16, tern_csum_finish(tern_csum_add(s, seg, n)));
    uint8_t *p = wire_dup(seg, n);
    tern_err err = tern_tcp_parse(p, n, &a1, &a2, out);
    free(p);
    return err;
}

static void test_malformed_options(void) {
    struct tern_tcp_repr r;
    /* Length 0 and length 1. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){2, 0, 5, 180}, 4, &r), TERN_ERR_MALFORMED);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){1, 1, 8, 1}, 4, &r), TERN_ERR_MALFORMED);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){99, 0, 0, 0}, 4, &r), TERN_ERR_MALFORMED);
    /* Running past the header. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){8, 10, 0, 0}, 4, &r), TERN_ERR_MALFORMED);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){1, 1, 3, 3, 7, 1, 2, 5}, 8, &r),
                 TERN_ERR_MALFORMED);
    /* A kind in the last byte with no room for its length. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){1, 1, 1, 2}, 4, &r), TERN_ERR_MALFORMED);
    /* The largest option list, a 40-byte unknown option, is fine. */
    uint8_t big[40] = {253, 40};
    CHECK_EQ_I64(parse_with_options(big, 40, &r), TERN_OK);
    big[1] = 41;
    CHECK_EQ_I64(parse_with_options(big, 40, &r), TERN_ERR_MALFORMED);
}

static void test_option_rules(void) {
    struct tern_tcp_repr r;
    /* EOL ends the list; garbage after it is padding. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){0, 2, 0, 0}, 4, &r), TERN_OK);
    CHECK(!r.opt.has_mss);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){3, 3, 2, 0, 0xff, 0xff, 0xff, 0xff}, 8, &r),
                 TERN_OK);
    CHECK(r.opt.has_wscale);
    CHECK_EQ_U64(r.opt.wscale, 2);
    /* An unknown option (RFC 6994 experimental, kind 254) is skipped. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){254, 4, 0xf9, 0x89, 2, 4, 1, 0}, 8, &r),
                 TERN_OK);
    CHECK(r.opt.has_mss);
    CHECK_EQ_U64(r.opt.mss, 256);
    /* Known kinds with the wrong length are skipped like unknown ones. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){2, 3, 5, 4, 2, 1, 1, 1}, 8, &r), TERN_OK);
    CHECK(!r.opt.has_mss);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){4, 3, 0, 1}, 4, &r), TERN_OK);
    CHECK(!r.opt.sack_permitted);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1}, 12, &r),
                 TERN_OK);
    CHECK_EQ_U64(r.opt.sack_count, 0);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){5, 2, 1, 1}, 4, &r), TERN_OK);
    CHECK_EQ_U64(r.opt.sack_count, 0);
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){8, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, 12, &r),
                 TERN_OK);
    CHECK(!r.opt.has_timestamps);
    /* Window scale above 14 is reported as received (the TCP layer clamps it). */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){3, 3, 200, 0}, 4, &r), TERN_OK);
    CHECK_EQ_U64(r.opt.wscale, 200);
    /* MSS of zero is reported as zero (the TCP layer clamps it). */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){2, 4, 0, 0}, 4, &r), TERN_OK);
    CHECK(r.opt.has_mss);
    CHECK_EQ_U64(r.opt.mss, 0);
    /* Duplicates: the last one wins. */
    CHECK_EQ_I64(parse_with_options((const uint8_t[]){2, 4, 1, 0, 2, 4, 2, 0}, 8, &r), TERN_OK);
    CHECK_EQ_U64(r.opt.mss, 512);
    /* Four SACK blocks, the most that fit. */
    uint8_t four[36] = {1, 1, 5, 34};
    for (int i = 0; i < 8; i++) {
        tern_put_u32(four + 4 + 4 * i, (uint32_t)(i + 1) * 100);
    }
    CHECK_EQ_I64(parse_with_options(four, 36, &r), TERN_OK);
    CHECK_EQ_U64(r.opt.sack_count, 4);
    CHECK_EQ_U64(r.opt.sack[3].left, 700);
    CHECK_EQ_U64(r.opt.sack[3].right, 800);
}

static void test_data_offset(void) {
    struct tern_tcp_repr r;
    uint8_t b[sizeof tcp_urg];
    memcpy(b, tcp_urg, sizeof b);
    for (uint8_t off = 0; off < 5; off++) {
        b[12] = (uint8_t)(off << 4);
        CHECK_EQ_I64(tern_tcp_parse(b, sizeof b, NULL, NULL, &r), TERN_ERR_MALFORMED);
    }
    /* 15 words = 60 bytes, more than the 26 present. */
    b[12] = 0xf0;
    CHECK_EQ_I64(tern_tcp_parse(b, sizeof b, NULL, NULL, &r), TERN_ERR_TRUNCATED);
    /* The reserved bits are carried through. */
    b[12] = 0x5f;
    CHECK_EQ_I64(tern_tcp_parse(b, sizeof b, NULL, NULL, &r), TERN_OK);
    CHECK_EQ_U64(r.reserved, 0xf);
}

/* The option parser recognises <NOP><NOP><Timestamps> (RFC 7323 Appendix A) in one compare: the
 * same options as the general walk gives for the same option in other places of the list, and
 * near misses of the layout take the walk (a wrong length is malformed or ignored as before). */
static void test_timestamps_layout(void) {
    struct tern_tcp_repr fast, walk;
    static const uint8_t appendix_a[12] = {1,    1,    8,    10,   0xa1, 0xa2,
                                           0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4};
    static const uint8_t ts_first[12] = {8,    10,   0xa1, 0xa2, 0xa3, 0xa4,
                                         0xb1, 0xb2, 0xb3, 0xb4, 1,    1};
    static const uint8_t ts_middle[12] = {1,    8,    10,   0xa1, 0xa2, 0xa3,
                                          0xa4, 0xb1, 0xb2, 0xb3, 0xb4, 0};
    CHECK_EQ_I64(parse_with_options(appendix_a, 12, &fast), TERN_OK);
    CHECK(fast.opt.has_timestamps);
    CHECK_EQ_U64(fast.opt.ts_val, 0xa1a2a3a4);
    CHECK_EQ_U64(fast.opt.ts_ecr, 0xb1b2b3b4);
    CHECK(!fast.opt.has_mss && !fast.opt.has_wscale && !fast.opt.sack_permitted);
    CHECK_EQ_U64(fast.opt.sack_count, 0);
    CHECK_EQ_I64(parse_with_options(ts_first, 12, &walk), TERN_OK);
    CHECK(memcmp(&fast.opt, &walk.opt, sizeof fast.opt) == 0);
    CHECK_EQ_I64(parse_with_options(ts_middle, 12, &walk), TERN_OK);
    CHECK(memcmp(&fast.opt, &walk.opt, sizeof fast.opt) == 0);
    /* near misses: a timestamps option of length 11 runs past the list; one of kind 8 and
     * length 12 is the wrong length for timestamps and is ignored (RFC 7323 §2.1 layout) */
    CHECK_EQ_I64(
        parse_with_options((const uint8_t[]){1, 1, 8, 11, 1, 2, 3, 4, 5, 6, 7, 8}, 12, &walk),
        TERN_ERR_MALFORMED);
    CHECK_EQ_I64(
        parse_with_options((const uint8_t[]){8, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 12, &walk),
        TERN_OK);
    CHECK(!walk.opt.has_timestamps);
    /* the layout followed by more options (a SACK block): the walk, both options taken */
    static const uint8_t ts_sack[24] = {1, 1, 8, 10, 0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4,
                                        1, 1, 5, 10, 0,    0,    0,    1,    0,    0,    0,    2};
    CHECK_EQ_I64(parse_with_options(ts_sack, 24, &walk), TERN_OK);
    CHECK(walk.opt.has_timestamps && walk.opt.ts_val == 0xa1a2a3a4 &&
          walk.opt.ts_ecr == 0xb1b2b3b4);
    CHECK_EQ_U64(walk.opt.sack_count, 1);
}

static void test_random_option_lists(void) {
    /* Exhaustive over every 4-byte option list from a set of interesting
     * bytes, then pseudo-random 40-byte lists: only OK or MALFORMED, never a
     * crash (ASan) and never a SACK count above 4. */
    static const uint8_t alphabet[] = {0, 1, 2, 3, 4, 5, 8, 10, 34, 40, 0xff};
    const size_t k = ARRAY_LEN(alphabet);
    struct tern_tcp_repr r;
    int ok = 1;
    uint8_t o[40];
    for (size_t i = 0; i < k * k * k * k; i++) {
        size_t x = i;
        for (int j = 0; j < 4; j++) {
            o[j] = alphabet[x % k];
            x /= k;
        }
        tern_err err = parse_with_options(o, 4, &r);
        ok &= err == TERN_OK || err == TERN_ERR_MALFORMED;
    }
    uint32_t seed = 1;
    for (int i = 0; i < 20000; i++) {
        for (int j = 0; j < 40; j++) {
            seed = seed * 1664525u + 1013904223u;
            uint8_t v = (uint8_t)(seed >> 24);
            o[j] = (seed & 0x100) ? alphabet[v % k] : v;
        }
        tern_err err = parse_with_options(o, 40, &r);
        ok &= err == TERN_OK || err == TERN_ERR_MALFORMED;
        if (err == TERN_OK) {
            ok &= r.opt.sack_count <= 4;
        }
    }
    CHECK(ok);
}

static void test_emit_zero_copy_and_invalid(void) {
    struct tern_tcp_repr r;
    CHECK_EQ_I64(tern_tcp_parse(tcp_data_ts, sizeof tcp_data_ts, &a1, &a2, &r), TERN_OK);
    uint8_t buf[80];
    memset(buf, JUNK, sizeof buf);
    memcpy(buf + 32, tcp_data_ts + 32, 18);
    r.payload = NULL;
    size_t w;
    CHECK_EQ_I64(tern_tcp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, sizeof tcp_data_ts);
    CHECK(wire_bytes_eq(buf, tcp_data_ts, sizeof tcp_data_ts));
    CHECK_EQ_I64(tern_tcp_emit(&r, NULL, NULL, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    tern_addr none = {0};
    CHECK_EQ_I64(tern_tcp_emit(&r, &none, &none, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
    r.payload_len = 65535 - 32 + 1;
    CHECK_EQ_I64(tern_tcp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_ERR_MSG_TOO_LONG);
    r.payload_len = 65535 - 32;
    CHECK_EQ_I64(tern_tcp_emit(&r, &a1, &a2, buf, sizeof buf, &w), TERN_ERR_BUFFER_TOO_SMALL);
}

static void test_ipv6(void) {
    uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8}, d[16] = {0x20, 0x01, 0x0d, 0xb8};
    s[15] = 1;
    d[15] = 2;
    tern_addr s6 = tern_addr_v6_from_bytes(s), d6 = tern_addr_v6_from_bytes(d);
    struct tern_tcp_repr r, p;
    CHECK_EQ_I64(tern_tcp_parse(tcp_syn, sizeof tcp_syn, NULL, NULL, &r), TERN_OK);
    uint8_t buf[64];
    size_t w;
    CHECK_EQ_I64(tern_tcp_emit(&r, &s6, &d6, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &s6, &d6, &p), TERN_OK);
    CHECK_EQ_U64(p.opt.mss, 1460);
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &a1, &a2, &p), TERN_ERR_BAD_CHECKSUM);
}

/* A payload already in place with its sum given (payload_summed, as TCP's output gives it from
 * tern_csum_copy) emits the very bytes of the ordinary emit, and the checksum verifies. */
static void test_emit_payload_summed(void) {
    struct tern_tcp_repr r;
    CHECK_EQ_I64(tern_tcp_parse(tcp_data_ts, sizeof tcp_data_ts, &a1, &a2, &r), TERN_OK);
    uint8_t plain[64], summed[64];
    size_t wp, ws;
    CHECK_EQ_I64(tern_tcp_emit(&r, &a1, &a2, plain, sizeof plain, &wp), TERN_OK);
    size_t hlen = tern_tcp_header_len(&r);
    for (size_t n = 0; n <= r.payload_len; n++) {
        struct tern_tcp_repr q = r;
        q.payload_len = n;
        CHECK_EQ_I64(tern_tcp_emit(&q, &a1, &a2, plain, sizeof plain, &wp), TERN_OK);
        memset(summed, 0, sizeof summed);
        q.payload_sum = tern_csum_copy(summed + hlen, r.payload, n);
        q.payload = NULL;
        q.payload_summed = true;
        CHECK_EQ_I64(tern_tcp_emit(&q, &a1, &a2, summed, sizeof summed, &ws), TERN_OK);
        CHECK_EQ_U64(ws, wp);
        CHECK(memcmp(summed, plain, wp) == 0);
        struct tern_tcp_repr back;
        CHECK_EQ_I64(tern_tcp_parse(summed, ws, &a1, &a2, &back), TERN_OK);
    }
}

/* The pseudo-header's sum given (a sender's header template keeps it per connection, issue 19):
 * the very bytes of the ordinary emit in either family, the length added by emit; a sum for other
 * addresses does not verify. */
static void test_emit_pseudo(void) {
    struct tern_tcp_repr r;
    CHECK_EQ_I64(tern_tcp_parse(tcp_data_ts, sizeof tcp_data_ts, &a1, &a2, &r), TERN_OK);
    uint8_t buf[64], ref[64];
    size_t w, wr;
    uint32_t pseudo = tern_csum_pseudo(&a1, &a2, TERN_IPPROTO_TCP, 0);
    CHECK_EQ_I64(tern_tcp_emit_pseudo(&r, pseudo, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, sizeof tcp_data_ts);
    CHECK(wire_bytes_eq(buf, tcp_data_ts, sizeof tcp_data_ts));
    uint8_t s[16] = {0x20, 0x01, 0x0d, 0xb8}, d[16] = {0xfd, 0};
    s[15] = 1;
    d[15] = 2;
    tern_addr s6 = tern_addr_v6_from_bytes(s), d6 = tern_addr_v6_from_bytes(d);
    CHECK_EQ_I64(tern_tcp_emit(&r, &s6, &d6, ref, sizeof ref, &wr), TERN_OK);
    pseudo = tern_csum_pseudo(&s6, &d6, TERN_IPPROTO_TCP, 0);
    CHECK_EQ_I64(tern_tcp_emit_pseudo(&r, pseudo, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, wr);
    CHECK(memcmp(buf, ref, wr) == 0);
    tern_addr a3 = tern_addr_v4(10, 0, 0, 3);
    pseudo = tern_csum_pseudo(&a1, &a3, TERN_IPPROTO_TCP, 0);
    CHECK_EQ_I64(tern_tcp_emit_pseudo(&r, pseudo, buf, sizeof buf, &w), TERN_OK);
    struct tern_tcp_repr back;
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &a1, &a2, &back), TERN_ERR_BAD_CHECKSUM);
    CHECK_EQ_I64(tern_tcp_parse(buf, w, &a1, &a3, &back), TERN_OK);
    r.opt.sack_count = TERN_TCP_MAX_SACK_BLOCKS + 1;
    CHECK_EQ_I64(tern_tcp_emit_pseudo(&r, pseudo, buf, sizeof buf, &w), TERN_ERR_INVALID_ARGUMENT);
}

int main(void) {
    a1 = tern_addr_v4(10, 0, 0, 1);
    a2 = tern_addr_v4(10, 0, 0, 2);
    RUN(test_syn);
    RUN(test_synack);
    RUN(test_data_ts);
    RUN(test_sack);
    RUN(test_urgent);
    RUN(test_truncations);
    RUN(test_bad_checksum);
    RUN(test_malformed_options);
    RUN(test_option_rules);
    RUN(test_data_offset);
    RUN(test_timestamps_layout);
    RUN(test_random_option_lists);
    RUN(test_emit_zero_copy_and_invalid);
    RUN(test_ipv6);
    RUN(test_emit_payload_summed);
    RUN(test_emit_pseudo);
    return check_summary();
}
