/*
 * The shared part of congestion control: slow start (RFC 5681 §3.1), the
 * initial window (RFC 6928), cwnd after an RTO (RFC 5681 §3.1: one segment),
 * and dispatch to the socket's algorithm.
 *
 * Slow start's increase per ACK. RFC 5681 §3.1: "During slow start, a TCP
 * increments cwnd by at most SMSS bytes for each ACK received that
 * cumulatively acknowledges new data", "cwnd += min (N, SMSS)", and "We note
 * that [RFC3465] allows for cwnd increases of more than SMSS bytes for
 * incoming acknowledgments during slow start on an experimental basis;
 * however, such behavior is not allowed as part of the standard." With a
 * receiver that acknowledges every second full-sized segment (RFC 5681 §4.2,
 * what Tern's and the kernel's receivers do in a bulk transfer), 1 SMSS per
 * ACK grows cwnd by half a window per round trip instead of doubling it, and
 * the window at the first loss is that much smaller (issue 22: a third of
 * the goodput under bursty loss against a Tern receiver). The kernel's sender
 * adds every segment an ACK covers. So the default (tern_tcp_config.abc_l2)
 * is RFC 3465's byte counting with the limit L = 2 SMSS (its §2.3, an
 * experimental RFC): slow start doubles per round trip with a delayed-ACK
 * receiver too. The slow start that follows a retransmission timeout keeps
 * L = 1 SMSS (an ACK then may cover data sent before the timeout, which says
 * nothing about what the network delivers now). The classic profile turns
 * abc_l2 off and has RFC 5681's (2) exactly.
 */
#include "tcp_cc.h"

static const tcp_cc_ops *ops(const tcp_pcb *p) {
    switch (p->cc_id) {
    case TERN_TCP_CC_CUBIC:
        return tcp_cc_cubic_ops();
    case TERN_TCP_CC_BBR:
        return tcp_cc_bbr_ops();
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
    p->ss_after_rto = 0;
    p->flags |= TCPF_CC_INIT;
    ops(p)->init(p);
}

void tcp_cc_on_ack(tcp_pcb *p, uint32_t acked, uint64_t now) {
    if (ops(p)->cong_control) {
        return; /* the algorithm sets cwnd at the end of the ACK (tcp_cc_ack_end) */
    }
    if (p->cwnd < p->ssthresh) {
        /* slow start: cwnd += min(N, L) per ACK, L = SMSS (RFC 5681 §3.1 (2))
         * or 2 SMSS (RFC 3465 §2.3) but after an RTO */
        uint32_t limit = p->abc_l2 && !p->ss_after_rto ? 2 * p->snd_mss : p->snd_mss;
        uint32_t inc = acked < limit ? acked : limit;
        p->cwnd += inc;
        return;
    }
    p->ss_after_rto = 0; /* slow start after the RTO is over */
    ops(p)->cong_avoid(p, acked, now);
}

void tcp_cc_on_loss(tcp_pcb *p, uint64_t now, bool rto) {
    tcp_undo_begin(p); /* RFC 3708: the window before, in case the loss was spurious */
    p->ssthresh = ops(p)->ssthresh(p, now, rto);
    if (rto) {
        p->ss_after_rto = 1; /* L = 1 SMSS until cwnd reaches ssthresh */
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

void tcp_cc_reinit(tcp_pcb *p) {
    if (p->flags & TCPF_CC_INIT) {
        ops(p)->init(p);
    }
}

bool tcp_cc_controls(const tcp_pcb *p) {
    return ops(p)->cong_control != NULL;
}

/* Data in flight as loss recovery counts it: RFC 6675 pipe with SACK, else FlightSize. */
static uint32_t in_flight(const tern_stack *st, const tcp_pcb *p) {
    return (p->flags & TCPF_SACK_OK) ? tcp_pipe(st, p) : tcp_flight(p);
}

void tcp_cc_ack_begin(const tern_stack *st, const tcp_pcb *p, tcp_cc_ack_ctx *cx) {
    cx->una = p->snd_una;
    cx->lost_to = p->lost_to;
    cx->sacked = 0;
    cx->in_flight = 0;
    if (ops(p)->cong_control) {
        cx->sacked = (p->flags & TCPF_SACK_OK) ? tcp_sacked_bytes(st, p) : 0;
        cx->in_flight = in_flight(st, p);
    }
}

void tcp_cc_ack_end(tern_stack *st, tcp_pcb *p, uint64_t now, const tcp_cc_ack_ctx *cx) {
    const tcp_cc_ops *o = ops(p);
    if (!o->cong_control || !(p->flags & TCPF_CC_INIT)) {
        return;
    }
    tcp_rate_sample rs = {0};
    uint32_t sacked = (p->flags & TCPF_SACK_OK) ? tcp_sacked_bytes(st, p) : 0;
    /* RFC 6937's DeliveredData: the change in SND.UNA plus the change in SACKed octets */
    int64_t nd = (int64_t)(uint32_t)(p->snd_una - cx->una) + (int64_t)sacked - (int64_t)cx->sacked;
    rs.prior_in_flight = cx->in_flight;
    /* Newly lost: unSACKed octets between the old and the new lost boundary. */
    uint32_t from = seq_max(cx->lost_to, p->snd_una);
    if (seq_gt(p->lost_to, from)) {
        uint32_t span = p->lost_to - from;
        uint32_t cov = (p->flags & TCPF_SACK_OK) && p->sack_n
                           ? tcp_ranges_covered(tcp_sack_ranges(st, p), p->sack_n, from, p->lost_to)
                           : 0;
        rs.losses = span - cov;
    }
    tcp_rate_on_ack(st, p, now, nd > 0 ? (uint32_t)nd : 0, p->bbr.rtprop, &rs);
    o->cong_control(st, p, now, &rs, in_flight(st, p));
}
