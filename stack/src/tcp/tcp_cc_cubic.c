/*
 * CUBIC (RFC 9438), in integer arithmetic: windows in bytes, time in
 * milliseconds for the cubic function, C = 0.4 and beta_cubic = 0.7 as
 * fractions. No floating point decides when a segment leaves (DESIGN.md §2).
 */
#include "tcp_cc.h"

#define CUBIC_BETA_NUM 7 /* beta_cubic = 7/10, RFC 9438 §4.6 */
#define CUBIC_BETA_DEN 10
#define CUBIC_MAX_T_MS 3600000 /* the cubic function is evaluated at most 1 h into an epoch */

static void cubic_init(tcp_pcb *p) {
    p->cubic = (tcp_cubic){0};
}

/*
 * W_cubic(t) = C * (t - K)^3 + W_max (RFC 9438 §4.2 eq. 1), t and K in ms:
 * with C = 0.4 per s^3 in segments, the bytes are 4 * d^3 * mss / 10^10.
 */
static uint64_t w_cubic(const tcp_pcb *p, int64_t t_ms) {
    int64_t d = t_ms - (int64_t)p->cubic.k_ms;
    if (d > CUBIC_MAX_T_MS) {
        d = CUBIC_MAX_T_MS;
    }
    if (d < -CUBIC_MAX_T_MS) {
        d = -CUBIC_MAX_T_MS;
    }
    __int128 delta = (__int128)4 * d * d * d * p->snd_mss / 10000000000LL;
    __int128 w = (__int128)p->cubic.origin + delta;
    if (w < p->snd_mss) {
        w = p->snd_mss;
    }
    if (w > UINT32_MAX / 2) {
        w = UINT32_MAX / 2;
    }
    return (uint64_t)w;
}

static void cubic_cong_avoid(tcp_pcb *p, uint32_t acked, uint64_t now) {
    tcp_cubic *c = &p->cubic;
    /* RFC 9438 §5.8: "A flow is application limited if it is currently sending less than what is
     * allowed by the congestion window. This can happen if the flow is limited by either the
     * sender application or the receiver application (via the receiver's advertised window) and
     * thus sends less data than what is allowed by the sender's congestion window." and "CUBIC
     * does not increase its congestion window if a flow is application limited." Limited here:
     * the flight before this ACK left more than one segment of cwnd unused. (Without this, a
     * receiver-window-limited sender's cwnd grew far past the window, faster with α_cubic 1.) */
    if ((uint64_t)tcp_flight(p) + acked + p->snd_mss <= p->cwnd) {
        return;
    }
    if (c->epoch == 0) {
        /* RFC 9438 §4.2: a new congestion-avoidance epoch. */
        c->epoch = now ? now : 1;
        c->w_est = p->cwnd;
        c->est_acc = 0;
        p->bytes_acked_ca = 0;
        if (c->w_max <= p->cwnd) {
            c->k_ms = 0;
            c->origin = p->cwnd;
        } else {
            /* K = cbrt((W_max - cwnd_epoch) / C), eq. 2, in ms. */
            uint64_t segs_x = (uint64_t)(c->w_max - p->cwnd) * 2500000000ULL / p->snd_mss;
            c->k_ms = (uint32_t)tcp_cbrt_u64(segs_x);
            c->origin = c->w_max;
        }
    }
    uint64_t t_ms = (now - c->epoch) / 1000000ULL;
    uint64_t rtt_ms = p->rtt.srtt / 1000000ULL;
    /* §4.4-4.5: target = W_cubic(t + RTT), within [cwnd, 1.5 cwnd]. */
    uint64_t target = w_cubic(p, (int64_t)(t_ms + rtt_ms));
    if (target < p->cwnd) {
        target = p->cwnd;
    }
    if (target > (uint64_t)p->cwnd * 3 / 2) {
        target = (uint64_t)p->cwnd * 3 / 2;
    }
    /* §4.3 Reno-friendly region: W_est += alpha * acked / cwnd segments, alpha = 3(1-b)/(1+b) =
     * 9/17; and "Once _W_est_ has grown to reach the _cwnd_ at the time of most recently setting
     * _ssthresh_ -- that is, _W_est_ >= _cwnd_prior_ -- the sender SHOULD set α__cubic_ to 1 to
     * ensure that it can achieve the same congestion window increment rate as Reno, which uses
     * AIMD(1, 0.5)." (issue 22: at 15 % loss both ways the window lives at 2-4 segments, where
     * the window regained before the next loss decides the goodput) */
    uint64_t an = c->w_est >= c->cwnd_prior ? 17 : 9;
    uint64_t num = an * acked * p->snd_mss + c->est_acc;
    uint64_t den = (uint64_t)17 * p->cwnd;
    c->w_est += (uint32_t)(num / den);
    c->est_acc = (uint32_t)(num % den);
    uint64_t wc = w_cubic(p, (int64_t)t_ms);
    if (wc < c->w_est) {
        /* Reno-friendly: cwnd follows W_est. */
        if (c->w_est > p->cwnd) {
            p->cwnd = c->w_est;
        }
        return;
    }
    /* §4.4/4.5: cwnd += (target - cwnd) / cwnd per acked segment, in bytes with a remainder. */
    uint64_t n2 = (target - p->cwnd) * (uint64_t)acked + p->bytes_acked_ca;
    uint64_t inc = n2 / p->cwnd;
    p->bytes_acked_ca = (uint32_t)(n2 % p->cwnd);
    if (inc > (uint64_t)p->snd_mss * 2) {
        inc = (uint64_t)p->snd_mss * 2;
    }
    p->cwnd += (uint32_t)inc;
}

/*
 * The window a loss reduces (ssthresh, and W_max with it). RFC 9438 §4.6 reduces the data in
 * flight, "ssthresh = flight_size * β_cubic", and allows "Some implementations of CUBIC currently
 * use cwnd instead of flight_size when calculating a new ssthresh" (Linux does, so that an
 * application-limited sender, whose flight is below cwnd, is not cut twice as hard). Here the
 * larger of the two: cwnd when the flight is smaller, the flight when it is larger. It is larger
 * when an RTO ends a fast recovery (RFC 9438 §4.8 takes ssthresh on a timeout
 * as §4.6 does): PRR (RFC 6937) has
 * brought cwnd down towards the recovery's ssthresh by then, and 0.7 x cwnd
 * would reduce the window a second time for the same losses, where 0.7 x
 * FlightSize keeps one reduction per episode. At 15 % loss both ways a third
 * of the RTOs came during fast recovery and left ssthresh at its 2-segment
 * floor (issue 22: bench_tcp_loss cubic at 15 %, RTO.min 200 ms, 15 seeds:
 * 0.94 -> 0.98 Mbit/s mean). The flight leaves out limited-transmit data
 * (RFC 5681 §3.2 step 2, tcp_flight_for_ssthresh).
 */
static uint32_t reduced_window(const tcp_pcb *p) {
    uint32_t f = tcp_flight_for_ssthresh(p);
    return f > p->cwnd ? f : p->cwnd;
}

static uint32_t cubic_ssthresh(tcp_pcb *p, uint64_t now, bool rto) {
    (void)now;
    (void)rto;
    tcp_cubic *c = &p->cubic;
    uint32_t cw = reduced_window(p);
    /* §4.7 fast convergence */
    if (cw < c->w_last_max) {
        c->w_last_max = cw;
        c->w_max =
            (uint32_t)((uint64_t)cw * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) / (2 * CUBIC_BETA_DEN));
    } else {
        c->w_last_max = cw;
        c->w_max = cw;
    }
    c->cwnd_prior = cw; /* §4.3's cwnd_prior: the window this reduction applies to */
    c->epoch = 0;
    p->bytes_acked_ca = 0;
    /* §4.6: ssthresh = cwnd * beta_cubic, at least 2 segments. */
    uint32_t s = (uint32_t)((uint64_t)cw * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
    uint32_t floor = 2u * p->snd_mss;
    return s > floor ? s : floor;
}

static void cubic_recovery_done(tcp_pcb *p, uint64_t now) {
    (void)now;
    p->cubic.epoch = 0;
}

/* RFC 9438 §5.8: the idle time is no part of the cubic function's t: a new
 * epoch starts with the next congestion-avoidance ACK. */
static void cubic_idle_restart(tcp_pcb *p) {
    p->cubic.epoch = 0;
}

static const tcp_cc_ops ops_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .cong_avoid = cubic_cong_avoid,
    .ssthresh = cubic_ssthresh,
    .recovery_done = cubic_recovery_done,
    .idle_restart = cubic_idle_restart,
};

const tcp_cc_ops *tcp_cc_cubic_ops(void) {
    return &ops_cubic;
}
