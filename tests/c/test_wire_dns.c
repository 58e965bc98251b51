/* Unit tests of wire/dns.h: DNS messages and name compression (RFC 1035),
 * including the NAME:WRECK class of compression bugs. */
#include "test_wire_util.h"
#include "wire/dns.h"

/* A response to "www.example.org A": CNAME www.example.org -> web.example.org
 * (compressed, pointing at offset 16 "example.org"), then web.example.org A
 * 192.0.2.7 (the name a pointer to the CNAME's RDATA). */
static const uint8_t resp[] = {
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    /* 12: question */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0x00, 0x01, 0x00,
    0x01,
    /* 33: answer 1: name ptr 12, CNAME IN ttl 300 rdlen 6: "web" + ptr 16 */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06, 3, 'w', 'e', 'b', 0xc0,
    0x10,
    /* 51: answer 2: name ptr 45 (web...), A IN ttl 60 rdlen 4 */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 192, 0, 2, 7};

struct rr_ctx {
    struct tern_dns_rr rr;
    size_t off;
};

static tern_err parse_all(const uint8_t *buf, size_t len, void *ctx) {
    struct rr_ctx *c = ctx;
    struct tern_dns_header h;
    tern_err err = tern_dns_header_parse(buf, len, &h);
    if (err != TERN_OK) {
        return err;
    }
    size_t off = TERN_DNS_HDR_LEN;
    struct tern_dns_question q;
    for (unsigned i = 0; i < h.qdcount; i++) {
        if ((err = tern_dns_question_parse(buf, len, &off, &q)) != TERN_OK) {
            return err;
        }
    }
    for (unsigned i = 0; i < h.ancount; i++) {
        if ((err = tern_dns_rr_parse(buf, len, &off, &c->rr)) != TERN_OK) {
            return err;
        }
    }
    c->off = off;
    return TERN_OK;
}

static void test_response(void) {
    struct tern_dns_header h;
    CHECK_EQ_I64(tern_dns_header_parse(resp, sizeof resp, &h), TERN_OK);
    CHECK_EQ_U64(h.id, 0x1234);
    CHECK_EQ_U64(h.flags & TERN_DNS_FLAG_QR, TERN_DNS_FLAG_QR);
    CHECK_EQ_U64(TERN_DNS_RCODE(h.flags), 0);
    CHECK_EQ_U64(h.qdcount, 1);
    CHECK_EQ_U64(h.ancount, 2);
    size_t off = 12;
    struct tern_dns_question q;
    CHECK_EQ_I64(tern_dns_question_parse(resp, sizeof resp, &off, &q), TERN_OK);
    CHECK(strcmp(q.name, "www.example.org") == 0);
    CHECK_EQ_U64(q.type, 1);
    CHECK_EQ_U64(off, 33);
    struct tern_dns_rr rr;
    CHECK_EQ_I64(tern_dns_rr_parse(resp, sizeof resp, &off, &rr), TERN_OK);
    CHECK(strcmp(rr.name, "www.example.org") == 0);
    CHECK_EQ_U64(rr.type, TERN_DNS_TYPE_CNAME);
    CHECK_EQ_U64(rr.ttl, 300);
    CHECK_EQ_U64(rr.rdlength, 6);
    CHECK_EQ_U64(off, 51);
    char target[TERN_DNS_NAME_TEXT_CAP];
    size_t roff = rr.rdata_off;
    CHECK_EQ_I64(tern_dns_name_read(resp, sizeof resp, &roff, target, sizeof target), TERN_OK);
    CHECK(strcmp(target, "web.example.org") == 0);
    CHECK_EQ_U64(roff, 51);
    CHECK_EQ_I64(tern_dns_rr_parse(resp, sizeof resp, &off, &rr), TERN_OK);
    CHECK(strcmp(rr.name, "web.example.org") == 0);
    CHECK(tern_dns_name_eq(rr.name, target));
    CHECK_EQ_U64(rr.type, TERN_DNS_TYPE_A);
    CHECK_EQ_U64(rr.ttl, 60);
    CHECK_EQ_U64(rr.rdata[0], 192);
    CHECK_EQ_U64(rr.rdata[3], 7);
    CHECK_EQ_U64(off, sizeof resp);
}

/* Every prefix of the response fails, and none reads past its end (ASan). */
static void test_truncations(void) {
    struct rr_ctx c;
    CHECK_EQ_I64(wire_parse_exact(parse_all, resp, sizeof resp, &c), TERN_OK);
    int all = 1;
    for (size_t len = 0; len < sizeof resp; len++) {
        if (wire_parse_exact(parse_all, resp, len, &c) != TERN_ERR_TRUNCATED) {
            all = 0;
            fprintf(stderr, "  length %zu not refused as truncated\n", len);
        }
    }
    CHECK(all);
}

static tern_err read_name_at(const uint8_t *m, size_t len, size_t off, char *out) {
    uint8_t *p = wire_dup(m, len);
    size_t o = off;
    tern_err err = tern_dns_name_read(p, len, &o, out, TERN_DNS_NAME_TEXT_CAP);
    free(p);
    return err;
}

/* NAME:WRECK: pointer loops, forward pointers, labels past the message. */
static void test_name_wreck(void) {
    char out[TERN_DNS_NAME_TEXT_CAP];
    /* a pointer to itself */
    const uint8_t self[] = {0, 0, 0xc0, 0x02};
    CHECK_EQ_I64(read_name_at(self, sizeof self, 2, out), TERN_ERR_MALFORMED);
    /* two pointers pointing at each other */
    const uint8_t pair[] = {0xc0, 0x02, 0xc0, 0x00};
    CHECK_EQ_I64(read_name_at(pair, sizeof pair, 2, out), TERN_ERR_MALFORMED);
    /* a label, then a pointer back to that label: loops through the label */
    const uint8_t through[] = {1, 'a', 0xc0, 0x00};
    CHECK_EQ_I64(read_name_at(through, sizeof through, 0, out), TERN_ERR_MALFORMED);
    /* a forward pointer (even to a valid name) */
    const uint8_t fwd[] = {0xc0, 0x02, 1, 'a', 0};
    CHECK_EQ_I64(read_name_at(fwd, sizeof fwd, 0, out), TERN_ERR_MALFORMED);
    /* ... while the backward one is accepted */
    const uint8_t back[] = {1, 'a', 0, 1, 'b', 0xc0, 0x00};
    CHECK_EQ_I64(read_name_at(back, sizeof back, 3, out), TERN_OK);
    CHECK(strcmp(out, "b.a") == 0);
    /* a pointer past the message */
    const uint8_t past[] = {0, 0xc0, 0x40};
    CHECK_EQ_I64(read_name_at(past, sizeof past, 1, out), TERN_ERR_MALFORMED);
    /* a label longer than the message */
    const uint8_t lab[] = {5, 'a', 'b'};
    CHECK_EQ_I64(read_name_at(lab, sizeof lab, 0, out), TERN_ERR_TRUNCATED);
    /* a half pointer */
    const uint8_t half[] = {1, 'a', 0xc0};
    CHECK_EQ_I64(read_name_at(half, sizeof half, 0, out), TERN_ERR_TRUNCATED);
    /* label types 01 and 10 */
    const uint8_t t40[] = {0x41, 'a', 0};
    CHECK_EQ_I64(read_name_at(t40, sizeof t40, 0, out), TERN_ERR_MALFORMED);
    const uint8_t t80[] = {0x81, 'a', 0};
    CHECK_EQ_I64(read_name_at(t80, sizeof t80, 0, out), TERN_ERR_MALFORMED);
    /* a dot or NUL inside a label */
    const uint8_t dot[] = {3, 'a', '.', 'b', 0};
    CHECK_EQ_I64(read_name_at(dot, sizeof dot, 0, out), TERN_ERR_MALFORMED);
    const uint8_t nul[] = {3, 'a', 0, 'b', 0};
    CHECK_EQ_I64(read_name_at(nul, sizeof nul, 0, out), TERN_ERR_MALFORMED);
    /* the root */
    const uint8_t root[] = {0};
    CHECK_EQ_I64(read_name_at(root, sizeof root, 0, out), TERN_OK);
    CHECK(strcmp(out, "") == 0);
}

/* Names over 255 octets: built from labels, and from a chain of pointers
 * each adding a label (the classic way to inflate a name cheaply). */
static void test_name_length(void) {
    char out[TERN_DNS_NAME_TEXT_CAP];
    uint8_t m[600];
    /* 4 labels of 63 = 256 + root = 257 > 255 */
    size_t w = 0;
    for (int i = 0; i < 4; i++) {
        m[w++] = 63;
        memset(m + w, 'x', 63);
        w += 63;
    }
    m[w++] = 0;
    CHECK_EQ_I64(read_name_at(m, w, 0, out), TERN_ERR_MALFORMED);
    /* 3 labels of 63 + one of 61 = 255 exactly: accepted, 253 characters */
    m[3 * 64] = 61;
    m[3 * 64 + 62] = 0;
    CHECK_EQ_I64(read_name_at(m, 3 * 64 + 63, 0, out), TERN_OK);
    CHECK_EQ_U64(strlen(out), 253);
    /* one more octet is too many */
    m[3 * 64] = 62;
    memset(m + 3 * 64 + 1, 'x', 62);
    m[3 * 64 + 63] = 0;
    CHECK_EQ_I64(read_name_at(m, 3 * 64 + 64, 0, out), TERN_ERR_MALFORMED);
    /* a pointer chain: name k is "ab" + pointer to name k-1 */
    w = 0;
    m[w++] = 0; /* name 0: root at offset 0 */
    size_t prev = 0;
    for (int k = 0; k < 40; k++) {
        size_t here = w;
        m[w++] = 10;
        memset(m + w, 'c', 10);
        w += 10;
        m[w++] = (uint8_t)(0xc0 | prev >> 8);
        m[w++] = (uint8_t)prev;
        prev = here;
    }
    CHECK_EQ_I64(read_name_at(m, w, prev, out), TERN_ERR_MALFORMED);
    /* a short chain is fine */
    CHECK_EQ_I64(read_name_at(m, w, 14, out), TERN_OK);
    CHECK(strcmp(out, "cccccccccc.cccccccccc") == 0);
    /* a too-small text buffer */
    size_t o = 14;
    CHECK_EQ_I64(tern_dns_name_read(m, w, &o, out, 3), TERN_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U64(o, 14);
}

struct q_ctx {
    const char *name;
};

static tern_err emit_q(const void *ctx, uint8_t *buf, size_t cap, size_t *written) {
    const struct q_ctx *c = ctx;
    return tern_dns_query_emit(0xbeef, true, c->name, TERN_DNS_TYPE_A, buf, cap, written);
}

static void test_query_emit(void) {
    static const uint8_t expect[] = {0xbe, 0xef, 0x01, 0x00, 0,   1,   0,   0,   0, 0, 0, 0, 3,
                                     'w',  'w',  'w',  4,    't', 'e', 'r', 'n', 0, 0, 1, 0, 1};
    struct q_ctx c = {"www.tern"};
    wire_check_emit(emit_q, &c, expect, sizeof expect);
    c.name = "www.tern.";
    wire_check_emit(emit_q, &c, expect, sizeof expect);
    uint8_t buf[600];
    size_t w;
    CHECK_EQ_I64(tern_dns_query_emit(1, true, "a..b", 1, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(tern_dns_query_emit(1, true, ".a", 1, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    char big[300];
    memset(big, 'x', 64);
    big[64] = 0;
    CHECK_EQ_I64(tern_dns_query_emit(1, true, big, 1, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    /* 254 characters in labels of 1: 127 labels, wire 2*127+1 = 255: fine;
     * 129 labels: 259: refused */
    size_t n = 0;
    for (int i = 0; i < 127; i++) {
        big[n++] = 'a';
        big[n++] = '.';
    }
    big[n - 1] = 0;
    CHECK_EQ_I64(tern_dns_query_emit(1, true, big, 1, buf, sizeof buf, &w), TERN_OK);
    big[n - 1] = '.';
    big[n++] = 'a';
    big[n] = 0;
    CHECK_EQ_I64(tern_dns_query_emit(1, true, big, 1, buf, sizeof buf, &w),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(tern_dns_query_emit(1, false, "", 2, buf, sizeof buf, &w), TERN_OK);
    CHECK_EQ_U64(w, 17);
    CHECK(tern_dns_name_eq("WWW.Example.org.", "www.example.ORG"));
    CHECK(!tern_dns_name_eq("www.example.org", "www.example.or"));
}

/* An SOA record after a 12-byte header: owner "org" (compressed names inside the RDATA point back
 * at it), MNAME "ns.org" as a label and a pointer, RNAME a pointer, then the five fields. */
static void test_soa_minimum(void) {
    uint8_t msg[] = {
        0,    0,   0,   0,    0,  0, 0,    0,    0, 0,  0, 0, /* header (not read) */
        3,    'o', 'r', 'g',  0,                              /* owner at 12 */
        0,    6,   0,   1,    0,  0, 0x0e, 0x10, 0, 27,       /* SOA IN TTL 3600 RDLENGTH 27 */
        2,    'n', 's', 0xc0, 12,                             /* MNAME ns.org */
        0xc0, 12,                                             /* RNAME org */
        0,    0,   0,   1,    0,  0, 0,    2,    0, 0,  0, 3,
        0,    0,   0,   4,  /* serial refresh retry expire */
        0,    0,   0,   60, /* MINIMUM */
    };
    size_t off = 12;
    struct tern_dns_rr rr;
    CHECK_EQ_I64(tern_dns_rr_parse(msg, sizeof msg, &off, &rr), TERN_OK);
    CHECK_EQ_U64(rr.type, TERN_DNS_TYPE_SOA);
    uint32_t minimum = 0;
    CHECK_EQ_I64(tern_dns_soa_minimum(msg, sizeof msg, &rr, &minimum), TERN_OK);
    CHECK_EQ_U64(minimum, 60);
    /* RDATA one byte short of the fields, or one byte long: malformed, never read past */
    rr.rdlength = 26;
    CHECK(tern_dns_soa_minimum(msg, sizeof msg, &rr, &minimum) != TERN_OK);
    rr.rdlength = 28;
    CHECK(tern_dns_soa_minimum(msg, sizeof msg, &rr, &minimum) != TERN_OK);
    /* a name running past the RDATA */
    rr.rdlength = 3;
    CHECK(tern_dns_soa_minimum(msg, sizeof msg, &rr, &minimum) != TERN_OK);
}

int main(void) {
    RUN(test_soa_minimum);
    RUN(test_response);
    RUN(test_truncations);
    RUN(test_name_wreck);
    RUN(test_name_length);
    RUN(test_query_emit);
    return check_summary();
}
