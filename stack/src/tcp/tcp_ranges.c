/* Sorted disjoint sequence ranges (see tcp_ranges.h). */
#include "tcp_ranges.h"

#include <string.h>

#include "tcp_seq.h"

int tcp_ranges_add(tcp_range *r, uint32_t *n, uint32_t cap, uint32_t start, uint32_t end) {
    if (!seq_lt(start, end)) {
        return -1;
    }
    uint32_t cnt = *n;
    /* first range whose end reaches start (touching counts as overlap) */
    uint32_t i = 0;
    while (i < cnt && seq_lt(r[i].end, start)) {
        i++;
    }
    /* ranges i..j-1 overlap or touch [start, end) */
    uint32_t j = i;
    while (j < cnt && seq_leq(r[j].start, end)) {
        j++;
    }
    if (j == i) {
        if (cnt >= cap) {
            return -1;
        }
        memmove(&r[i + 1], &r[i], (cnt - i) * sizeof *r);
        r[i].start = start;
        r[i].end = end;
        *n = cnt + 1;
        return (int)i;
    }
    uint32_t s = seq_min(start, r[i].start);
    uint32_t e = seq_max(end, r[j - 1].end);
    r[i].start = s;
    r[i].end = e;
    if (j - i > 1) {
        memmove(&r[i + 1], &r[j], (cnt - j) * sizeof *r);
        *n = cnt - (j - i - 1);
    }
    return (int)i;
}

void tcp_ranges_trim(tcp_range *r, uint32_t *n, uint32_t seq) {
    uint32_t cnt = *n, i = 0;
    while (i < cnt && seq_leq(r[i].end, seq)) {
        i++;
    }
    if (i > 0) {
        memmove(&r[0], &r[i], (cnt - i) * sizeof *r);
        cnt -= i;
    }
    if (cnt > 0 && seq_lt(r[0].start, seq)) {
        r[0].start = seq;
    }
    *n = cnt;
}

uint32_t tcp_ranges_covered(const tcp_range *r, uint32_t n, uint32_t a, uint32_t b) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = seq_max(r[i].start, a), e = seq_min(r[i].end, b);
        if (seq_lt(s, e)) {
            total += e - s;
        }
    }
    return total;
}

int tcp_ranges_find(const tcp_range *r, uint32_t n, uint32_t seq) {
    for (uint32_t i = 0; i < n; i++) {
        if (seq_in(seq, r[i].start, r[i].end)) {
            return (int)i;
        }
    }
    return -1;
}

uint32_t tcp_ranges_total(const tcp_range *r, uint32_t n) {
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        total += r[i].end - r[i].start;
    }
    return total;
}
