/*
 * Socket handles (tern_sock): a type tag, a generation and a pool index in
 * 32 bits, so that a handle of another socket type, or of a socket since
 * closed (whose slot may be reused), is refused instead of reaching the
 * wrong socket.
 *   bits 28..31  type (TERN_HANDLE_*)
 *   bits 16..27  generation of the slot (12 bits)
 *   bits  0..15  slot index + 1 (0 is never a valid handle)
 * TCP may use more slots than 65535: it encodes its own handles (see tcp*).
 */
#ifndef TERN_SOCK_HANDLE_H
#define TERN_SOCK_HANDLE_H

#include <stdbool.h>
#include <stdint.h>

enum { TERN_HANDLE_UDP = 1, TERN_HANDLE_PING = 2 };
#define TERN_HANDLE_GEN_MASK 0xfffu

static inline uint32_t tern_handle_encode(uint32_t type, uint32_t gen, uint32_t index) {
    return (type << 28) | ((gen & TERN_HANDLE_GEN_MASK) << 16) | ((index + 1) & 0xffffu);
}

static inline bool tern_handle_decode(uint32_t h, uint32_t type, uint32_t *index) {
    if ((h >> 28) != type || (h & 0xffffu) == 0) {
        return false;
    }
    *index = (h & 0xffffu) - 1;
    return true;
}

static inline uint16_t tern_handle_gen(uint32_t h) {
    return (uint16_t)((h >> 16) & TERN_HANDLE_GEN_MASK);
}

#endif /* TERN_SOCK_HANDLE_H */
