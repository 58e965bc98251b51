/* Checksums of a frame from its raw bytes (frame_check.h). */
#include "frame_check.h"

#include <stdio.h>
#include <string.h>

/* ones_sum's end: fold the 32-bit words' sum acc, add sum and the bytes p[i..n) past them. Inlined
 * into each build of the loops: a call per sum was a tenth of the check's instructions. */
static inline __attribute__((always_inline)) uint32_t
fold_tail(uint64_t acc, uint32_t sum, const uint8_t *p, size_t i, size_t n) {
    uint32_t folded = (uint32_t)(acc >> 32) + (uint32_t)acc;
    folded += folded < (uint32_t)acc;
    folded = (folded >> 16) + (folded & 0xffff);
    folded = (folded >> 16) + (folded & 0xffff);
    const uint16_t one = 1;
    uint8_t low_first;
    memcpy(&low_first, &one, 1);
    if (low_first) {
        folded = (folded >> 8 | folded << 8) & 0xffff;
    }
    uint32_t total = sum + folded;
    for (; i + 1 < n; i += 2) {
        total += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        total += (uint32_t)p[n - 1] << 8;
    }
    while (total >> 16) {
        total = (total & 0xffff) + (total >> 16);
    }
    return total;
}

/*
 * RFC 1071: the 16-bit one's-complement sum of data, folded, added to sum.
 * Eight bytes at a time, their two 32-bit words added into a 64-bit
 * accumulator that cannot overflow for any frame (the carries out of each
 * 32-bit word are kept, then folded back
 * in: RFC 1071 section 2 (C), deferred carries; any word size that is a
 * multiple of 16 bits gives the same folded sum). The words are loaded in
 * host order and the folded sum swapped once when the host is little-endian
 * (section 2 (B), byte-order independence). An odd trailing byte is the high
 * byte of a zero-padded word; the 0-7 bytes after the last eight are added
 * as 16-bit words by fold_tail. Every frame a host sends passes here: the
 * loop has no dependency but the sum, so the compiler vectorises it. It
 * counts its 8-byte steps with a counter of its own: 4-byte words widened to
 * the accumulator, in a loop on the byte offset the tail goes on from, made
 * GCC 12 spend eleven instructions per 32 bytes (two of them on an induction
 * vector nothing reads), eight now (issue 19).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
/* Two builds of the loop, the AVX2 one (32 bytes per step) chosen at load time where the CPU has
 * it (GCC/Clang function multi-versioning): the same sum, in half the time. */
__attribute__((target_clones("avx2", "default")))
#endif
static uint32_t
ones_sum(uint32_t sum, const uint8_t *p, size_t n) {
    uint64_t acc = 0;
    size_t pairs = n / 8;
    for (size_t k = 0; k < pairs; k++) {
        uint64_t w;
        memcpy(&w, p + 8 * k, 8);
        acc += (w & 0xffffffffu) + (w >> 32);
    }
    return fold_tail(acc, sum, p, 8 * pairs, n);
}

/*
 * ones_sum while copying p[0..n) to dst: the same sum (same loop, same
 * folding), the bytes written as they are read, so that the frame the
 * simulator copies anyway is checked in the same pass (sim_frame_check_copy).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint32_t
ones_sum_copy(uint32_t sum, uint8_t *restrict dst, const uint8_t *restrict p, size_t n) {
    uint64_t acc = 0;
    size_t pairs = n / 8;
    for (size_t k = 0; k < pairs; k++) {
        uint64_t w;
        memcpy(&w, p + 8 * k, 8);
        memcpy(dst + 8 * k, &w, 8);
        acc += (w & 0xffffffffu) + (w >> 32);
    }
    size_t i = 8 * pairs;
    for (size_t j = i; j < n; j++) {
        dst[j] = p[j];
    }
    return fold_tail(acc, sum, p, i, n);
}

static uint16_t get16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * ones_sum for a few bytes (an IPv4 header, a pure ACK): the same words, accumulator and folding
 * (so the same folded sum), without the call through the loops' load-time dispatch and their
 * vector prologue, which cost more than the 20 bytes of a header. The loop is not vectorised: a
 * header is five words.
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize")))
#endif
static uint32_t
small_sum(uint32_t sum, const uint8_t *p, size_t n) {
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        acc += w;
    }
    return fold_tail(acc, sum, p, i, n);
}

/* What the field should hold: the complement of the sum with the field taken as zero. */
static uint16_t expected(uint32_t sum_with_field, uint16_t field) {
    uint32_t s = sum_with_field + (uint16_t)~field; /* subtract the field (one's complement) */
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* Where the bytes go when the check copies the frame, and how far they have gone. */
typedef struct copier {
    uint8_t *dst; /* NULL: only check */
    const uint8_t *frame;
    size_t done; /* frame[0..done) copied */
} copier;

/* The sum of p[0..n) (a part of the frame past what was copied so far), copying it on the way. */
static uint32_t frame_sum(copier *c, uint32_t sum, const uint8_t *p, size_t n) {
    if (!c->dst) {
        return n <= 64 ? small_sum(sum, p, n) : ones_sum(sum, p, n);
    }
    size_t at = (size_t)(p - c->frame);
    memcpy(c->dst + c->done, c->frame + c->done, at - c->done);
    c->done = at + n;
    return ones_sum_copy(sum, c->dst + at, p, n);
}

static bool check(copier *c, const uint8_t *frame, size_t len, char *why, size_t cap) {
    if (len < 14) {
        return true;
    }
    size_t off = 12;
    uint16_t type = get16(frame + off);
    if (type == 0x8100 && len >= 18) {
        off += 4;
        type = get16(frame + off);
    }
    off += 2;
    if (type != 0x0800) {
        return true;
    }
    const uint8_t *ip = frame + off;
    size_t avail = len - off;
    size_t ihl = avail ? (size_t)(ip[0] & 0x0f) * 4 : 0;
    if (avail < 20 || (ip[0] >> 4) != 4 || ihl < 20 || ihl > avail) {
        snprintf(why, cap, "an IPv4 header that does not fit (version/IHL byte 0x%02x, %zu bytes)",
                 avail ? ip[0] : 0, avail);
        return false;
    }
    size_t total = get16(ip + 2);
    if (total < ihl || total > avail) {
        snprintf(why, cap, "IPv4 total length %zu outside %zu..%zu", total, ihl, avail);
        return false;
    }
    uint32_t hs = frame_sum(c, 0, ip, ihl);
    if (hs != 0xffff) {
        snprintf(why, cap, "IPv4 header checksum 0x%04x, should be 0x%04x", get16(ip + 10),
                 expected(hs, get16(ip + 10)));
        return false;
    }
    if ((get16(ip + 6) & 0x3fff) != 0) {
        return true; /* a fragment (MF or offset): its transport checksum spans the datagram */
    }
    uint8_t proto = ip[9];
    const uint8_t *l4 = ip + ihl;
    size_t l4len = total - ihl;
    uint32_t s;
    const char *name;
    size_t field;
    switch (proto) {
    case 1: /* ICMP: over the message alone */
        name = "ICMP";
        field = 2;
        if (l4len < 4) {
            snprintf(why, cap, "an ICMP message of %zu bytes (under 4)", l4len);
            return false;
        }
        s = frame_sum(c, 0, l4, l4len);
        break;
    case 6:
    case 17: { /* TCP, UDP: with the pseudo-header (RFC 9293 §3.1, RFC 768) */
        name = proto == 6 ? "TCP" : "UDP";
        field = proto == 6 ? 16 : 6;
        if (l4len < (proto == 6 ? 20u : 8u)) {
            snprintf(why, cap, "a %s header cut short (%zu bytes)", name, l4len);
            return false;
        }
        if (proto == 17 && get16(l4 + 6) == 0) {
            return true; /* RFC 768: zero, no checksum was computed */
        }
        /* The pseudo-header's six 16-bit words (source, destination, zero and protocol, length),
         * added as numbers: at most 6 * 0xffff, folded with the segment's sum. */
        uint32_t pseudo = (uint32_t)get16(ip + 12) + get16(ip + 14) + get16(ip + 16) +
                          get16(ip + 18) + proto + (uint32_t)l4len;
        s = frame_sum(c, pseudo, l4, l4len);
        break;
    }
    default:
        return true;
    }
    if (s != 0xffff) {
        uint16_t want = expected(s, get16(l4 + field));
        if (proto == 17 && want == 0) {
            want = 0xffff; /* RFC 768: a computed zero is sent as all ones */
        }
        snprintf(why, cap, "%s checksum 0x%04x, should be 0x%04x", name, get16(l4 + field), want);
        return false;
    }
    return true;
}

bool sim_frame_check(const uint8_t *frame, size_t len, char *why, size_t cap) {
    copier c = {NULL, frame, 0};
    return check(&c, frame, len, why, cap);
}

bool sim_frame_check_copy(uint8_t *dst, const uint8_t *frame, size_t len, char *why, size_t cap) {
    copier c = {dst, frame, 0};
    bool ok = check(&c, frame, len, why, cap);
    memcpy(dst + c.done, frame + c.done, len - c.done);
    return ok;
}
