/*
 * TCP sequence-number arithmetic, modulo 2^32 (RFC 9293 §3.4: "all arithmetic
 * dealing with sequence numbers must be performed modulo 2**32").
 *
 * a < b means b lies in the half of the sequence space that follows a; this is
 * the usual signed-difference comparison, exact whenever the two numbers are
 * less than 2^31 apart (always the case inside one window).
 */
#ifndef TERN_TCP_SEQ_H
#define TERN_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* tcp_seq_diff: a - b as a signed distance. */
static inline int32_t tcp_seq_diff(uint32_t a, uint32_t b) {
    return (int32_t)(uint32_t)(a - b);
}
static inline bool seq_lt(uint32_t a, uint32_t b) {
    return tcp_seq_diff(a, b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b) {
    return tcp_seq_diff(a, b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b) {
    return tcp_seq_diff(a, b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b) {
    return tcp_seq_diff(a, b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b) {
    return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b) {
    return seq_lt(a, b) ? a : b;
}
/* seq_in: lo <= a < hi. */
static inline bool seq_in(uint32_t a, uint32_t lo, uint32_t hi) {
    return seq_geq(a, lo) && seq_lt(a, hi);
}

#endif /* TERN_TCP_SEQ_H */
