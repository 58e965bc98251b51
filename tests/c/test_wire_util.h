/*
 * Shared helpers of the wire-layer unit tests (tests/c/test_wire_*.c).
 *
 * Parsers are always run on a heap block of exactly the length under test,
 * so that under ASan any read past the end is caught, and emitters are run
 * into junk-filled and exactly-sized blocks for the same reason.
 */
#ifndef TERN_TEST_WIRE_UTIL_H
#define TERN_TEST_WIRE_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/errors.h"

#define JUNK 0xA5
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A parser under test: parse buf[0..len) with whatever ctx it needs. */
typedef tern_err (*wire_parse_fn)(const uint8_t *buf, size_t len, void *ctx);
/* An emitter under test: emit the representation in ctx. */
typedef tern_err (*wire_emit_fn)(const void *ctx, uint8_t *buf, size_t cap, size_t *written);

/* A heap copy of exactly len bytes of src (malloc(0) avoided). */
static inline uint8_t *wire_dup(const uint8_t *src, size_t len) {
    uint8_t *p = malloc(len ? len : 1);
    if (len) {
        memcpy(p, src, len);
    }
    return p;
}

/* Parse the first len bytes of fx from an exactly-sized heap block. */
static inline tern_err wire_parse_exact(wire_parse_fn parse, const uint8_t *fx, size_t len,
                                        void *ctx) {
    uint8_t *p = wire_dup(fx, len);
    tern_err err = parse(p, len, ctx);
    free(p);
    return err;
}

static inline int wire_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            fprintf(stderr, "  bytes differ at offset %zu: 0x%02x != 0x%02x\n", i, a[i], b[i]);
            return 0;
        }
    }
    return 1;
}

/*
 * The emit checks every module shares:
 *  - into a junk-filled buffer larger than needed: TERN_OK, exactly n bytes
 *    written, identical to expect, nothing written past them;
 *  - into an exactly-sized buffer: the same;
 *  - into every shorter capacity: TERN_ERR_BUFFER_TOO_SMALL and not one byte
 *    of the buffer changed.
 */
static inline void wire_check_emit(wire_emit_fn emit, const void *ctx, const uint8_t *expect,
                                   size_t n) {
    size_t big = n + 32;
    uint8_t *buf = malloc(big);
    memset(buf, JUNK, big);
    size_t written = 0;
    CHECK_EQ_I64(emit(ctx, buf, big, &written), TERN_OK);
    CHECK_EQ_U64(written, n);
    CHECK(wire_bytes_eq(buf, expect, n));
    int tail_ok = 1;
    for (size_t i = n; i < big; i++) {
        tail_ok &= buf[i] == JUNK;
    }
    CHECK(tail_ok);
    free(buf);

    buf = malloc(n ? n : 1);
    memset(buf, JUNK, n);
    written = 0;
    CHECK_EQ_I64(emit(ctx, buf, n, &written), TERN_OK);
    CHECK_EQ_U64(written, n);
    CHECK(wire_bytes_eq(buf, expect, n));
    free(buf);

    int all_short_ok = 1, all_untouched = 1;
    for (size_t cap = 0; cap < n; cap++) {
        buf = malloc(cap ? cap : 1);
        memset(buf, JUNK, cap ? cap : 1);
        if (emit(ctx, buf, cap, &written) != TERN_ERR_BUFFER_TOO_SMALL) {
            all_short_ok = 0;
            fprintf(stderr, "  capacity %zu not refused\n", cap);
        }
        for (size_t i = 0; i < cap; i++) {
            all_untouched &= buf[i] == JUNK;
        }
        free(buf);
    }
    CHECK(all_short_ok);
    CHECK(all_untouched);
}

/* Flip one bit of a heap copy and parse it. */
static inline tern_err wire_parse_flipped(wire_parse_fn parse, const uint8_t *fx, size_t len,
                                          size_t byte, uint8_t mask, void *ctx) {
    uint8_t *p = wire_dup(fx, len);
    p[byte] ^= mask;
    tern_err err = parse(p, len, ctx);
    free(p);
    return err;
}

#endif /* TERN_TEST_WIRE_UTIL_H */
