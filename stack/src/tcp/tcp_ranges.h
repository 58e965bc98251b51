/*
 * Sorted lists of disjoint sequence ranges [start, end), used by both the
 * receiver's out-of-order queue (RFC 9293 §3.10.7.4 "seventh": segments
 * beyond RCV.NXT kept for later) and the sender's SACK scoreboard (RFC 6675
 * §3). The list lives in a caller-provided array of fixed capacity, so memory
 * is bounded and every operation is O(capacity).
 *
 * Ranges are kept in ascending sequence order, never overlapping or touching
 * (adjacent ranges are merged). All comparisons are modulo 2^32; the ranges
 * of one list always lie within 2^31 of each other (one window).
 */
#ifndef TERN_TCP_RANGES_H
#define TERN_TCP_RANGES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tcp_range {
    uint32_t start, end;
} tcp_range;

/*
 * tcp_ranges_add: merge [start, end) into the list r[0..*n).
 * Returns the index of the range that now contains [start, end), or -1 when
 * the list was full and the new range touches none of the existing ones
 * (nothing changed then). An empty range returns -1.
 */
int tcp_ranges_add(tcp_range *r, uint32_t *n, uint32_t cap, uint32_t start, uint32_t end);
/* tcp_ranges_trim: drop everything below seq (ranges cut at seq). */
void tcp_ranges_trim(tcp_range *r, uint32_t *n, uint32_t seq);
/* tcp_ranges_covered: how many bytes of [a, b) the list covers. */
uint32_t tcp_ranges_covered(const tcp_range *r, uint32_t n, uint32_t a, uint32_t b);
/* tcp_ranges_find: the index of the range containing seq, or -1. */
int tcp_ranges_find(const tcp_range *r, uint32_t n, uint32_t seq);
/* tcp_ranges_total: bytes covered by the whole list. */
uint32_t tcp_ranges_total(const tcp_range *r, uint32_t n);

#endif /* TERN_TCP_RANGES_H */
