/* The Internet checksum, RFC 1071 (see wire/checksum.h). */
#include "wire/checksum.h"

#include <string.h>

/* Fold a wide one's complement sum to 16 bits (RFC 1071 section 4.1: add the
 * carries back in until none is left). */
static uint32_t fold(uint64_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint32_t)s;
}

static uint32_t swap16(uint32_t s) {
    return ((s & 0xff) << 8) | ((s >> 8) & 0xff);
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/*
 * The end of every sum: the words from byte i on in 32-bit steps into acc (a
 * host-order sum), swapped once to network order, then the last 0-3 bytes read
 * big-endian explicitly. Shared by the vector loop's tail and the header sum.
 */
static inline uint32_t sum_finish(uint64_t acc, const uint8_t *data, size_t i, size_t len) {
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, data + i, 4);
        acc += w;
    }
    uint32_t s = fold(acc);
    if (host_is_little_endian()) {
        s = swap16(s);
    }
    uint64_t tail = 0;
    for (; i + 2 <= len; i += 2) {
        tail += (uint32_t)data[i] << 8 | data[i + 1];
    }
    if (i < len) {
        tail += (uint32_t)data[i] << 8; /* odd byte padded with zero */
    }
    return fold((uint64_t)s + tail);
}

/*
 * The sum is taken over 32-bit words loaded in host order with memcpy (no
 * unaligned access, no aliasing): RFC 1071 section 2 (B) shows the one's
 * complement sum is byte-order independent, so a little-endian sum is the
 * big-endian one with its bytes swapped once at the end. A 64-bit
 * accumulator cannot overflow before 2^32 words, far beyond any packet.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
/* Two builds of each loop, the AVX2 one chosen once at load time where the CPU has it (GCC/Clang
 * function multi-versioning): the same sum, in about half the time. */
#define TERN_CSUM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TERN_CSUM_CLONES
#endif

#if defined(__GNUC__)
/*
 * The bulk of a sum, 64 bytes per step (issue 19: the copy-and-checksum of every payload byte,
 * on both sides of a transfer, was a sixth of the bulk benchmark's time). Four 64-bit lanes of
 * a 32-byte vector (one AVX2 register; two SSE2 ones in the default build) each take the low
 * and the high 32-bit half of their word into two accumulators, the same deferred carries as
 * the scalar loop below (RFC 1071 section 2 (C)), so the folded sum is the same. Two vectors
 * per step into separate accumulators: the loop the compiler made of the scalar one carried an
 * index vector it never used and one add chain, 11 instructions per 32 bytes; this is 16 per 64
 * for the copy (14 for the sum alone).
 * No lane overflows: each adds less than 2^33 per step, and a step is 32 or 64 bytes.
 */
typedef uint64_t csum_vec __attribute__((vector_size(32)));
#define CSUM_VEC_LO ((csum_vec){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu})

/* The four lanes' words, each split into its 32-bit halves and added: a 64-bit sum of 32-bit
 * words (the scalar loops' accumulator). */
#define CSUM_VEC_REDUCE(v)                                                                         \
    (((v)[0] & 0xffffffffu) + ((v)[0] >> 32) + ((v)[1] & 0xffffffffu) + ((v)[1] >> 32) +           \
     ((v)[2] & 0xffffffffu) + ((v)[2] >> 32) + ((v)[3] & 0xffffffffu) + ((v)[3] >> 32))

/* *i advances past the 64-byte steps of data[0..len) and one 32-byte step after them; returns
 * their sum (above). dst: where the bytes are copied on the way (NULL: none). Inlined into each
 * build of the callers' loops. */
static inline __attribute__((always_inline)) uint64_t sum_vec(uint8_t *dst, const uint8_t *data,
                                                              size_t len, size_t *i) {
    csum_vec a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    size_t k = 0;
    for (; k + 64 <= len; k += 64) {
        csum_vec x, y;
        memcpy(&x, data + k, 32);
        memcpy(&y, data + k + 32, 32);
        if (dst) {
            memcpy(dst + k, &x, 32);
            memcpy(dst + k + 32, &y, 32);
        }
        a0 += x & CSUM_VEC_LO;
        a1 += x >> 32;
        b0 += y & CSUM_VEC_LO;
        b1 += y >> 32;
    }
    if (k + 32 <= len) { /* one more half step: fewer bytes for the 8-byte loop after it */
        csum_vec x;
        memcpy(&x, data + k, 32);
        if (dst) {
            memcpy(dst + k, &x, 32);
        }
        a0 += x & CSUM_VEC_LO;
        a1 += x >> 32;
        k += 32;
    }
    *i = k;
    csum_vec t = (a0 + b0) + (a1 + b1); /* < 2^64: at most 2^33 per step in each */
    return CSUM_VEC_REDUCE(t);
}
#else
static inline uint64_t sum_vec(uint8_t *dst, const uint8_t *data, size_t len, size_t *i) {
    (void)dst;
    (void)data;
    (void)len;
    *i = 0;
    return 0;
}
#endif

TERN_CSUM_CLONES
static uint32_t sum_chunk(const uint8_t *data, size_t len) {
    /* One's-complement sums are byte-order independent up to a final swap
     * (RFC 1071 §2(B)), and any word size that is a multiple of 16 bits
     * works. The 64-byte steps (sum_vec), then native 64-bit loads split
     * into their 32-bit halves and added into 64-bit accumulators, which
     * cannot overflow for any IP datagram; the 0-7 trailing bytes follow in
     * 32-bit steps. */
    size_t i;
    uint64_t acc = sum_vec(NULL, data, len, &i);
    uint64_t lo = 0, hi = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        lo += w & 0xffffffffu;
        hi += w >> 32;
    }
    acc += (lo & 0xffffffffu) + (lo >> 32) + (hi & 0xffffffffu) + (hi >> 32);
    return sum_finish(acc, data, i, len);
}

/*
 * Headers (20-60 bytes) are summed with a plain loop of 32-bit words: the
 * multi-versioned sum_chunk is reached through an indirect call and sets up
 * its vector loop, which for a header costs more than the sum itself
 * (issue 19: a quarter of the checksum time went to headers). The same sum.
 */
#define SMALL_SUM_MAX 64

static inline uint32_t sum_small(const uint8_t *data, size_t len) {
    return sum_finish(0, data, 0, len);
}

static inline uint32_t sum_any(const uint8_t *data, size_t len) {
    return len <= SMALL_SUM_MAX ? sum_small(data, len) : sum_chunk(data, len);
}

/* sum_chunk's loops with a store of each word read: one pass for the copy and the sum. */
TERN_CSUM_CLONES
uint32_t tern_csum_copy(uint8_t *dst, const uint8_t *src, size_t len) {
    size_t i;
    uint64_t acc = sum_vec(dst, src, len, &i);
    uint64_t lo = 0, hi = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        memcpy(dst + i, &w, 8);
        lo += w & 0xffffffffu;
        hi += w >> 32;
    }
    acc += (lo & 0xffffffffu) + (lo >> 32) + (hi & 0xffffffffu) + (hi >> 32);
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, src + i, 4);
        memcpy(dst + i, &w, 4);
        acc += w;
    }
    uint32_t s = fold(acc);
    if (host_is_little_endian()) {
        s = swap16(s);
    }
    uint64_t tail = 0;
    for (; i + 2 <= len; i += 2) {
        dst[i] = src[i];
        dst[i + 1] = src[i + 1];
        tail += (uint32_t)src[i] << 8 | src[i + 1];
    }
    if (i < len) {
        dst[i] = src[i];
        tail += (uint32_t)src[i] << 8; /* odd byte padded with zero */
    }
    return fold((uint64_t)s + tail);
}

uint32_t tern_csum_add(uint32_t sum, const uint8_t *data, size_t len) {
    if (len == 0) {
        return fold(sum);
    }
    return fold((uint64_t)sum + sum_any(data, len));
}

uint32_t tern_csum_add_at(uint32_t sum, const uint8_t *data, size_t len, size_t offset) {
    if (len == 0) {
        return fold(sum);
    }
    uint32_t s = sum_any(data, len);
    if (offset & 1) {
        s = swap16(s);
    }
    return fold((uint64_t)sum + s);
}

uint32_t tern_csum_copy_at(uint32_t sum, uint8_t *dst, const uint8_t *src, size_t len,
                           size_t offset) {
    if (len == 0) {
        return fold(sum);
    }
    uint32_t s = tern_csum_copy(dst, src, len);
    if (offset & 1) {
        s = swap16(s); /* RFC 1071 section 2 (B), as tern_csum_add_at */
    }
    return fold((uint64_t)sum + s);
}

uint32_t tern_csum_add_u16(uint32_t sum, uint16_t v) {
    return fold((uint64_t)sum + v);
}

uint16_t tern_csum_finish(uint32_t sum) {
    return (uint16_t)~fold(sum);
}

uint16_t tern_csum(const uint8_t *data, size_t len) {
    return tern_csum_finish(tern_csum_add(0, data, len));
}

uint32_t tern_csum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                             uint16_t length) {
    /* The pseudo-header's 16-bit words, added at once and folded once. */
    uint64_t s = ((uint32_t)src[0] << 8 | src[1]) + ((uint32_t)src[2] << 8 | src[3]) +
                 ((uint32_t)dst[0] << 8 | dst[1]) + ((uint32_t)dst[2] << 8 | dst[3]) + protocol +
                 length;
    return fold(s);
}

uint32_t tern_csum_pseudo(const tern_addr *src, const tern_addr *dst, uint8_t protocol,
                          uint32_t length) {
    if (src->family != dst->family) {
        return 0;
    }
    if (src->family == TERN_AF_INET) {
        return tern_csum_pseudo_v4(src->bytes, dst->bytes, protocol, (uint16_t)length);
    }
    if (src->family == TERN_AF_INET6) {
        /* RFC 8200 section 8.1: 32-bit upper-layer length, 24 zero bits,
         * next header. */
        uint64_t s = (uint64_t)sum_small(src->bytes, 16) + sum_small(dst->bytes, 16) +
                     (length >> 16) + (length & 0xffff) + protocol;
        return fold(s);
    }
    return 0;
}
