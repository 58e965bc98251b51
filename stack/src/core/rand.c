/*
 * The instance's randomness (DESIGN.md §3): a xoshiro256** generator seeded
 * from the configuration's seed, and SipHash-2-4 for RFC 6528 initial
 * sequence numbers. Nothing here reads a clock or an unseeded source.
 */
#include <string.h>

#include "stack_internal.h"
#include "tern/prng.h"

void tern_rng_seed(tern_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    for (int i = 0; i < 4; i++) {
        r->s[i] = tern_splitmix64_next(&x);
    }
}

uint64_t tern_rng_next(tern_rng *r) {
    return tern_xoshiro256ss_next(r->s);
}

uint64_t tern_rng_below(tern_rng *r, uint64_t n) {
    return tern_scale_below(tern_rng_next(r), n);
}

/* SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 6528 §3 suggests for F. */
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = tern_rotl64(v1, 13);                                                                  \
        v1 ^= v0;                                                                                  \
        v0 = tern_rotl64(v0, 32);                                                                  \
        v2 += v3;                                                                                  \
        v3 = tern_rotl64(v3, 16);                                                                  \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = tern_rotl64(v3, 21);                                                                  \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = tern_rotl64(v1, 17);                                                                  \
        v1 ^= v2;                                                                                  \
        v2 = tern_rotl64(v2, 32);                                                                  \
    } while (0)

static uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t tern_siphash(const uint8_t key[16], const uint8_t *data, size_t len) {
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0;
    uint64_t v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0;
    uint64_t v3 = 0x7465646279746573ull ^ k1;
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(data + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = whole; i < len; i++) {
        b |= (uint64_t)data[i] << (8 * (i - whole));
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tern_isn(const tern_stack *st, uint64_t now, const tern_addr *laddr, uint16_t lport,
                  const tern_addr *raddr, uint16_t rport) {
    /* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
     * M a timer ticking every 4 microseconds (here: of virtual time). */
    uint8_t tuple[2 * 17 + 4];
    size_t n = 0;
    tuple[n++] = laddr->family;
    memcpy(tuple + n, laddr->bytes, 16);
    n += 16;
    tuple[n++] = raddr->family;
    memcpy(tuple + n, raddr->bytes, 16);
    n += 16;
    tuple[n++] = (uint8_t)(lport >> 8);
    tuple[n++] = (uint8_t)lport;
    tuple[n++] = (uint8_t)(rport >> 8);
    tuple[n++] = (uint8_t)rport;
    uint32_t m = (uint32_t)(now / 4000);
    return m + (uint32_t)tern_siphash(st->isn_key, tuple, n);
}
