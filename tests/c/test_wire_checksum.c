/* Unit tests of wire/checksum.h: RFC 1071 and the pseudo-headers. */
#include <stdlib.h>

#include "check.h"
#include "wire/checksum.h"

/* The reference: 16-bit words, one at a time, exactly as RFC 1071 section 4.1. */
static uint16_t ref_csum(const uint8_t *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

static void test_rfc1071_example(void) {
    /* RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ_U64(tern_csum_add(0, d, sizeof d), 0xddf2);
    CHECK_EQ_U64(tern_csum(d, sizeof d), 0x220d);
    CHECK_EQ_U64(tern_csum(NULL, 0), 0xffff);
}

static void test_ipv4_header(void) {
    /* A real header (10.0.0.1 -> 10.0.0.2, UDP) whose checksum is 0x1498. */
    const uint8_t h[] = {0x45, 0x00, 0x00, 0x1f, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
                         0x14, 0x98, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02};
    CHECK_EQ_U64(tern_csum(h, sizeof h), 0);
    uint8_t z[sizeof h];
    memcpy(z, h, sizeof h);
    z[10] = z[11] = 0;
    CHECK_EQ_U64(tern_csum(z, sizeof z), 0x1498);
}

static void test_against_reference(void) {
    /* Every length 0-300 at every alignment 0-7, pseudo-random contents,
     * including all-0xff runs where the carries pile up. */
    uint8_t *buf = malloc(320);
    uint32_t x = 12345;
    int ok = 1;
    for (int fill = 0; fill < 2; fill++) {
        for (size_t i = 0; i < 320; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = fill ? 0xff : (uint8_t)(x >> 16);
        }
        for (size_t align = 0; align < 8; align++) {
            for (size_t n = 0; n + align <= 308; n++) {
                ok &= tern_csum(buf + align, n) == ref_csum(buf + align, n);
            }
        }
    }
    CHECK(ok);
    free(buf);
}

/* tern_csum_copy: every length 0-300 from every source alignment 0-7 to every destination
 * alignment 0-3, random bytes and 0xff runs: the copy is exact, the bytes around it untouched,
 * and the sum is tern_csum_add's (and the RFC 1071 reference's). */
static void test_copy_and_sum(void) {
    uint8_t *src = malloc(320), *dst = malloc(320);
    uint32_t x = 777;
    int ok = 1;
    for (int fill = 0; fill < 2; fill++) {
        for (size_t i = 0; i < 320; i++) {
            x = x * 1103515245u + 12345u;
            src[i] = fill ? 0xff : (uint8_t)(x >> 16);
        }
        for (size_t sa = 0; sa < 8; sa++) {
            for (size_t da = 0; da < 4; da++) {
                for (size_t n = 0; n + sa <= 308 && n + da + 1 <= 320; n++) {
                    memset(dst, 0xa5, 320);
                    uint32_t s = tern_csum_copy(dst + da, src + sa, n);
                    ok &= s == tern_csum_add(0, src + sa, n);
                    ok &= tern_csum_finish(s) == ref_csum(src + sa, n);
                    ok &= memcmp(dst + da, src + sa, n) == 0;
                    ok &= (da == 0 || dst[da - 1] == 0xa5) && dst[da + n] == 0xa5;
                }
            }
        }
    }
    CHECK(ok);
    free(src);
    free(dst);
}

/* tern_csum_copy over a segment's and a jumbo datagram's lengths (the vector loop's 64-byte steps,
 * its 32-byte half step and the 8- and 4-byte tails after them, at both parities of the source):
 * random bytes and all-ones runs, where every 32-bit lane carries out on each step. The copy is
 * exact and the sum is the RFC 1071 reference's. */
static void test_copy_and_sum_long(void) {
    static uint8_t src[70000], dst[70008];
    uint32_t x = 4242;
    int ok = 1;
    for (int fill = 0; fill < 2; fill++) {
        for (size_t i = 0; i < sizeof src; i++) {
            x = x * 1103515245u + 12345u;
            src[i] = fill ? 0xff : (uint8_t)(x >> 16);
        }
        for (size_t sa = 0; sa < 2; sa++) {
            for (size_t n = 300; n <= 1600; n++) {
                uint32_t s = tern_csum_copy(dst + 1, src + sa, n);
                ok &= tern_csum_finish(s) == ref_csum(src + sa, n);
                ok &= memcmp(dst + 1, src + sa, n) == 0;
            }
        }
        size_t big[] = {9000, 65535, 65536 + 7, 69999};
        for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
            memset(dst, 0xa5, sizeof dst);
            uint32_t s = tern_csum_copy(dst + 3, src, big[k]);
            ok &= tern_csum_finish(s) == ref_csum(src, big[k]);
            ok &= memcmp(dst + 3, src, big[k]) == 0 && dst[3 + big[k]] == 0xa5 && dst[2] == 0xa5;
        }
    }
    CHECK(ok);
}

/* tern_csum_copy_at: a buffer copied in three chunks at every split, odd offsets included (the
 * receive ring's wrap point can fall anywhere in a segment): the copy is exact and the sum is the
 * whole buffer's. */
static void test_copy_at_splits(void) {
    uint8_t d[101], out[101];
    for (size_t i = 0; i < sizeof d; i++) {
        d[i] = (uint8_t)(i * 53 + 7);
    }
    uint16_t whole = tern_csum(d, sizeof d);
    int ok = 1;
    for (size_t a = 0; a <= sizeof d; a++) {
        for (size_t b = a; b <= sizeof d; b += 5) {
            memset(out, 0, sizeof out);
            uint32_t s = tern_csum_copy_at(0x1234, out, d, a, 0);
            s = tern_csum_copy_at(s, out + a, d + a, b - a, a);
            s = tern_csum_copy_at(s, out + b, d + b, sizeof d - b, b);
            ok &= tern_csum_finish(s) == tern_csum_finish(tern_csum_add(0x1234, d, sizeof d));
            ok &= memcmp(out, d, sizeof d) == 0;
            uint32_t z = tern_csum_copy_at(0, out, d, a, 0);
            z = tern_csum_copy_at(z, out + a, d + a, sizeof d - a, a);
            ok &= tern_csum_finish(z) == whole;
        }
    }
    CHECK(ok);
}

static void test_incremental(void) {
    uint8_t d[101];
    for (size_t i = 0; i < sizeof d; i++) {
        d[i] = (uint8_t)(i * 37 + 11);
    }
    uint16_t whole = tern_csum(d, sizeof d);
    int ok = 1;
    /* Any split, odd offsets included, through tern_csum_add_at. */
    for (size_t a = 0; a <= sizeof d; a++) {
        for (size_t b = a; b <= sizeof d; b += 7) {
            uint32_t s = tern_csum_add_at(0, d, a, 0);
            s = tern_csum_add_at(s, d + a, b - a, a);
            s = tern_csum_add_at(s, d + b, sizeof d - b, b);
            ok &= tern_csum_finish(s) == whole;
        }
    }
    CHECK(ok);
    /* Even splits with plain tern_csum_add. */
    uint32_t s = tern_csum_add(0, d, 40);
    s = tern_csum_add(s, d + 40, 61);
    CHECK_EQ_U64(tern_csum_finish(s), whole);
    CHECK_EQ_U64(tern_csum_finish(tern_csum_add_u16(tern_csum_add(0, d, 2), 0x1234)),
                 ref_csum((const uint8_t[]){d[0], d[1], 0x12, 0x34}, 4));
}

static void test_pseudo(void) {
    tern_addr s = tern_addr_v4(10, 0, 0, 1), d = tern_addr_v4(10, 0, 0, 2);
    const uint8_t ph[] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0x00, 0x11};
    CHECK_EQ_U64(tern_csum_pseudo(&s, &d, 17, 0x11), tern_csum_add(0, ph, sizeof ph));
    CHECK_EQ_U64(tern_csum_pseudo_v4(s.bytes, d.bytes, 17, 0x11), tern_csum_add(0, ph, sizeof ph));
    /* RFC 8200 section 8.1 layout for IPv6. */
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8}, b6[16] = {0xfe, 0x80};
    a6[15] = 1;
    b6[15] = 2;
    tern_addr s6 = tern_addr_v6_from_bytes(a6), d6 = tern_addr_v6_from_bytes(b6);
    uint8_t ph6[40] = {0};
    memcpy(ph6, a6, 16);
    memcpy(ph6 + 16, b6, 16);
    ph6[32] = 0x00;
    ph6[33] = 0x01;
    ph6[34] = 0x00;
    ph6[35] = 0x08;
    ph6[39] = 6;
    CHECK_EQ_U64(tern_csum_pseudo(&s6, &d6, 6, 0x10008), tern_csum_add(0, ph6, sizeof ph6));
    CHECK_EQ_U64(tern_csum_pseudo(&s, &d6, 6, 20), 0);
    /* All-ones addresses and lengths: the carries of the one-pass pseudo-header sums. */
    uint8_t ff[16];
    memset(ff, 0xff, sizeof ff);
    tern_addr f4 = tern_addr_v4(255, 255, 255, 255), f6 = tern_addr_v6_from_bytes(ff);
    const uint8_t pf[] = {255, 255, 255, 255, 255, 255, 255, 255, 0, 255, 0xff, 0xff};
    CHECK_EQ_U64(tern_csum_pseudo_v4(f4.bytes, f4.bytes, 255, 0xffff),
                 tern_csum_add(0, pf, sizeof pf));
    uint8_t pf6[40];
    memset(pf6, 0xff, sizeof pf6);
    pf6[36] = pf6[37] = pf6[38] = 0;
    CHECK_EQ_U64(tern_csum_pseudo(&f6, &f6, 255, 0xffffffffu), tern_csum_add(0, pf6, sizeof pf6));
}

/* The plain RFC 1071 sum, 16 bits at a time: the reference for the fast one. */
static uint16_t reference_csum(const uint8_t *d, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)d[i] << 8 | d[i + 1];
    }
    if (n & 1) {
        sum += (uint32_t)d[n - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static void test_fast_sum_matches_reference(void) {
    static uint8_t buf[70000];
    uint64_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(x >> 56);
    }
    /* Every length up to 600 at every alignment 0..7, and a few large ones;
     * all-ones data pushes the carries hardest. */
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n <= 600; n++) {
            CHECK_EQ_U64(tern_csum(buf + off, n), reference_csum(buf + off, n));
        }
    }
    size_t big[] = {1460, 1480, 9000, 65535, 65536 + 7};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
        CHECK_EQ_U64(tern_csum(buf, big[k]), reference_csum(buf, big[k]));
    }
    memset(buf, 0xff, sizeof buf);
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n <= 130; n++) { /* the header-sized loop and the vector one */
            CHECK_EQ_U64(tern_csum(buf + off, n), reference_csum(buf + off, n));
        }
    }
    for (size_t n = 0; n <= 70000; n += 997) {
        CHECK_EQ_U64(tern_csum(buf, n), reference_csum(buf, n));
    }
}

int main(void) {
    RUN(test_rfc1071_example);
    RUN(test_ipv4_header);
    RUN(test_against_reference);
    RUN(test_copy_and_sum);
    RUN(test_copy_and_sum_long);
    RUN(test_copy_at_splits);
    RUN(test_incremental);
    RUN(test_pseudo);
    RUN(test_fast_sum_matches_reference);
    return check_summary();
}
