/*
 * NewReno (RFC 5681 congestion avoidance, RFC 6582 fast recovery; the
 * recovery itself is shared code).
 */
#include "tcp_cc.h"

static void reno_init(tcp_pcb *p) {
    (void)p;
}

/*
 * RFC 5681 §3.1 congestion avoidance with byte counting: bytes_acked counts
 * the bytes newly acknowledged; when it reaches cwnd, cwnd grows by one SMSS
 * and bytes_acked drops by cwnd (the old value).
 */
static void reno_cong_avoid(tcp_pcb *p, uint32_t acked, uint64_t now) {
    (void)now;
    p->bytes_acked_ca += acked;
    if (p->bytes_acked_ca >= p->cwnd) {
        p->bytes_acked_ca -= p->cwnd;
        p->cwnd += p->snd_mss;
    }
}

/* RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS), with
 * FlightSize not counting limited-transmit data (RFC 5681 §3.2 step 2). */
static uint32_t reno_ssthresh(tcp_pcb *p, uint64_t now, bool rto) {
    (void)now;
    (void)rto;
    uint32_t half = tcp_flight_for_ssthresh(p) / 2, floor = 2u * p->snd_mss;
    p->bytes_acked_ca = 0;
    return half > floor ? half : floor;
}

static void reno_recovery_done(tcp_pcb *p, uint64_t now) {
    (void)p;
    (void)now;
}

static void reno_idle_restart(tcp_pcb *p) {
    (void)p;
}

static const tcp_cc_ops ops_newreno = {
    .name = "newreno",
    .init = reno_init,
    .cong_avoid = reno_cong_avoid,
    .ssthresh = reno_ssthresh,
    .recovery_done = reno_recovery_done,
    .idle_restart = reno_idle_restart,
};

const tcp_cc_ops *tcp_cc_newreno_ops(void) {
    return &ops_newreno;
}
