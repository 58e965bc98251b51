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
/* Two builds of the loop, the AVX2 one (32 bytes per step) chosen once at load time where the CPU
 * has it (GCC/Clang function multi-versioning): the same sum, in about half the time. */
__attribute__((target_clones("avx2", "default")))
#endif
static uint32_t
sum_chunk(const uint8_t *data, size_t len) {
    /* One's-complement sums are byte-order independent up to a final swap
     * (RFC 1071 §2(B)), and any word size that is a multiple of 16 bits
     * works. Native 64-bit loads are split into their 32-bit halves and
     * added into 64-bit accumulators, which cannot overflow for any IP
     * datagram and carry no dependency between iterations, so the compiler
     * vectorises the loop. The 0-7 trailing bytes follow in 32-bit steps.
     * The loop counts words with a counter of its own: a loop on the byte
     * offset that the tail goes on from (`for (; i + 8 <= len; i += 8)`)
     * made GCC 12 keep an induction vector nothing reads in the vectorised
     * loop, two instructions of eleven per 32 bytes (issue 19). */
    uint64_t lo = 0, hi = 0;
    size_t words = len / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w;
        memcpy(&w, data + 8 * k, 8);
        lo += w & 0xffffffffu;
        hi += w >> 32;
    }
    return sum_finish((lo & 0xffffffffu) + (lo >> 32) + (hi & 0xffffffffu) + (hi >> 32), data,
                      8 * words, len);
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

/* sum_chunk's loop with a store of each word read: one pass for the copy and the sum. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
uint32_t
tern_csum_copy(uint8_t *dst, const uint8_t *src, size_t len) {
    uint64_t lo = 0, hi = 0;
    size_t words = len / 8; /* the loop's own counter: see sum_chunk */
    for (size_t k = 0; k < words; k++) {
        uint64_t w;
        memcpy(&w, src + 8 * k, 8);
        memcpy(dst + 8 * k, &w, 8);
        lo += w & 0xffffffffu;
        hi += w >> 32;
    }
    size_t i = 8 * words;
    uint64_t acc = (lo & 0xffffffffu) + (lo >> 32) + (hi & 0xffffffffu) + (hi >> 32);
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
