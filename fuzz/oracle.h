/*
 * Oracles the stack fuzz targets share, beyond "no crash" (DESIGN.md §7:
 * "one input or poll does a bounded amount of work and sends a bounded number
 * of frames, whatever arrived").
 *
 * Bounded work per call. Every call into the stack (tern_stack_input, one
 * tern_stack_poll) is bracketed by oracle_call_begin/oracle_call_end. While it
 * runs, the target counts
 *   - the frames it hands to the output callback (oracle_count_frame), and
 *   - the datagrams it queues to itself (the loopback queue, and every other
 *     packet queue), through a link-time wrap of tern_pktq_push (the targets
 *     link with -Wl,--wrap=tern_pktq_push; the stack is a static library, so
 *     every call from another object file of the stack goes through the wrap).
 * Either count above ORACLE_MAX_PER_CALL aborts, inside the call: a frame that
 * makes a call loop for ever (the land SYN, answering itself through the
 * loopback queue) is caught at its 1025th datagram instead of hanging.
 *
 * Livelock. A host that asks to be polled "now" again and again without time
 * moving on is looping across calls: more than ORACLE_MAX_POLLS_AT_ONE_INSTANT
 * polls at one virtual instant abort (oracle_poll_at_instant).
 */
#ifndef TERN_FUZZ_ORACLE_H
#define TERN_FUZZ_ORACLE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/stack_internal.h"

/*
 * The most a host may send or queue in one call. The largest legitimate burst
 * in the targets: every TCP socket (at most 4) sends its whole transmit buffer
 * (at most 8192 bytes) in segments of the smallest MSS the stack accepts
 * (TCP_MIN_MSS, 64 bytes), 128 segments each, 512 in all, plus the queued UDP
 * and ICMP datagrams (at most the 128 packet buffers) and ARP: 1024 leaves
 * room and is still far below what a loop produces.
 */
#define ORACLE_MAX_PER_CALL 1024
/* Polls at one virtual instant before the host is taken to be livelocked. */
#define ORACLE_MAX_POLLS_AT_ONE_INSTANT 64

static unsigned oracle_frames, oracle_pushes;
static uint64_t oracle_last_poll = UINT64_MAX;
static unsigned oracle_polls_here;
static const char *oracle_what = "";

static inline void oracle_fail(const char *why) {
    fprintf(stderr, "ORACLE: %s (during %s)\n", why, oracle_what);
    abort();
}

static inline void oracle_call_begin(const char *what) {
    oracle_what = what;
    oracle_frames = oracle_pushes = 0;
}

static inline void oracle_call_end(void) {
    oracle_what = "";
}

/* Called by the target's output callback for every frame the host sends. */
static inline void oracle_count_frame(void) {
    if (++oracle_frames > ORACLE_MAX_PER_CALL) {
        oracle_fail("more than ORACLE_MAX_PER_CALL frames sent in one call: output not bounded by "
                    "input");
    }
}

tern_err __real_tern_pktq_push(tern_stack *st, tern_pktq *q, const tern_pkt_meta *meta,
                               const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
tern_err __wrap_tern_pktq_push(tern_stack *st, tern_pktq *q, const tern_pkt_meta *meta,
                               const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

tern_err __wrap_tern_pktq_push(tern_stack *st, tern_pktq *q, const tern_pkt_meta *meta,
                               const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    if (++oracle_pushes > ORACLE_MAX_PER_CALL) {
        oracle_fail(q == &st->loopback
                        ? "more than ORACLE_MAX_PER_CALL datagrams sent to itself (loopback) in "
                          "one call: the call does not do bounded work"
                        : "more than ORACLE_MAX_PER_CALL packets queued in one call");
    }
    return __real_tern_pktq_push(st, q, meta, a, alen, b, blen);
}

/* A new fuzz input: a new host, virtual time from the start. */
static inline void oracle_reset(void) {
    oracle_last_poll = UINT64_MAX;
    oracle_polls_here = 0;
}

/* One input frame, bracketed. New input is new work: the poll count restarts. */
static inline void oracle_input(tern_stack *st, uint64_t now, uint32_t iface, const uint8_t *frame,
                                size_t len) {
    oracle_polls_here = 0;
    oracle_call_begin("tern_stack_input");
    tern_stack_input(st, now, iface, frame, len);
    oracle_call_end();
}

/*
 * One poll, bracketed. Polls at one virtual instant with no input in between
 * are counted (a socket call between them also resets the count: call
 * oracle_new_work).
 */
static inline void oracle_new_work(void) {
    oracle_polls_here = 0;
}

static inline void oracle_poll(tern_stack *st, uint64_t now) {
    if (now == oracle_last_poll) {
        if (++oracle_polls_here > ORACLE_MAX_POLLS_AT_ONE_INSTANT) {
            oracle_fail("polled more than ORACLE_MAX_POLLS_AT_ONE_INSTANT times at one virtual "
                        "instant with work still due: livelock");
        }
    } else {
        oracle_last_poll = now;
        oracle_polls_here = 1;
    }
    oracle_call_begin("tern_stack_poll");
    tern_stack_poll(st, now);
    oracle_call_end();
}

#endif
