/*
 * Big-endian (network byte order, RFC 1700 "Data notations") reads and writes
 * on byte buffers.
 *
 * The wire layer never casts a struct over a packet buffer and never makes an
 * unaligned access (DESIGN.md section 3): every multi-byte field goes through
 * these helpers, which assemble the value from single bytes. The caller has
 * already checked that the bytes are present.
 */
#ifndef TERN_WIRE_BYTES_H
#define TERN_WIRE_BYTES_H

#include <stdint.h>

/* tern_get_u16: the 16-bit big-endian value at p[0..1]. */
static inline uint16_t tern_get_u16(const uint8_t *p) {
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* tern_get_u32: the 32-bit big-endian value at p[0..3]. */
static inline uint32_t tern_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The stores: where the compiler says the host is little-endian, the value's bytes are swapped
 * and then copied into place with memcpy (no cast, no alignment assumed: one store instruction
 * where the target allows any alignment). GCC 12 did not merge the four byte stores below into one
 * when several fields were written in a row (a TCP header from its template: seq, ack, TSval,
 * TSecr), and spent some 25 instructions on each such field (issue 19). Elsewhere, byte by byte.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TERN_BYTES_SWAP_STORE 1
#endif

/* tern_put_u16: store v big-endian at p[0..1]. */
static inline void tern_put_u16(uint8_t *p, uint16_t v) {
#ifdef TERN_BYTES_SWAP_STORE
    uint16_t be = __builtin_bswap16(v);
    __builtin_memcpy(p, &be, 2);
#else
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
#endif
}

/* tern_put_u32: store v big-endian at p[0..3]. */
static inline void tern_put_u32(uint8_t *p, uint32_t v) {
#ifdef TERN_BYTES_SWAP_STORE
    uint32_t be = __builtin_bswap32(v);
    __builtin_memcpy(p, &be, 4);
#else
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
#endif
}

#endif /* TERN_WIRE_BYTES_H */
