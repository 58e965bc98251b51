/*
 * The shared part of congestion control: slow start (RFC 5681 §3.1), the
 * initial window (RFC 6928), cwnd after an RTO (RFC 5681 §3.1: one segment),
 * and dispatch to the socket's algorithm.
 */
#include "tcp_cc.h"

static const tcp_cc_ops *ops(const tcp_pcb *p) {
    switch (p->cc_id) {
    case TERN_TCP_CC_CUBIC:
        return tcp_cc_cubic_ops();
    default:
        return tcp_cc_newreno_ops();
    }
}

uint32_t tcp_cc_initial_window(uint32_t iw, uint32_t mss) {
    /* RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)), generalised to iw segments. */
    uint64_t a = (uint64_t)iw * mss, b = (uint64_t)iw * 1460;
    if (b < 2ull * mss) {
        b = 2ull * mss;
    }
    uint64_t w = a < b ? a : b;
    return w > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)w;
}

uint64_t tcp_cbrt_u64(uint64_t x) {
    uint64_t lo = 0, hi = 2642245; /* 2642245^3 < 2^64 */
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (mid * mid * mid <= x) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

/* The connection's IW: RFC 6928 §2, and one segment after a lost SYN or SYN-ACK. */
static uint32_t connection_iw(const tcp_pcb *p) {
    if (p->flags & TCPF_SYN_RETRANSMITTED) {
        return p->snd_mss;
    }
    return tcp_cc_initial_window(p->iw, p->snd_mss);
}

void tcp_cc_init(tcp_pcb *p) {
    p->cwnd = connection_iw(p);
    p->ssthresh = UINT32_MAX / 2; /* RFC 5681 §3.1: arbitrarily high */
    p->bytes_acked_ca = 0;
    p->flags |= TCPF_CC_INIT;
    ops(p)->init(p);
}

void tcp_cc_on_ack(tcp_pcb *p, uint32_t acked, uint64_t now) {
    if (p->cwnd < p->ssthresh) {
        /* RFC 5681 §3.1 slow start with RFC 3465 byte counting, L = 1 SMSS:
         * cwnd += min(N, SMSS) per ACK. */
        uint32_t inc = acked < p->snd_mss ? acked : p->snd_mss;
        p->cwnd += inc;
        return;
    }
    ops(p)->cong_avoid(p, acked, now);
}

void tcp_cc_on_loss(tcp_pcb *p, uint64_t now, bool rto) {
    tcp_undo_begin(p); /* RFC 3708: the window before, in case the loss was spurious */
    p->ssthresh = ops(p)->ssthresh(p, now, rto);
    if (rto) {
        /* RFC 5681 §3.1: after an RTO cwnd is the loss window, 1 SMSS. */
        p->cwnd = p->snd_mss;
        p->bytes_acked_ca = 0;
    }
}

void tcp_cc_recovery_done(tcp_pcb *p, uint64_t now) {
    ops(p)->recovery_done(p, now);
}

void tcp_cc_restart_after_idle(tcp_pcb *p) {
    /* RFC 5681 §4.1: RW = min(IW, cwnd); ssthresh is kept. */
    uint32_t rw = connection_iw(p);
    if (p->cwnd > rw) {
        p->cwnd = rw;
    }
    p->bytes_acked_ca = 0;
    ops(p)->idle_restart(p);
}
