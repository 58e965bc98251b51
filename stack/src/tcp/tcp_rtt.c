/* RFC 6298 retransmission-timeout estimator (see tcp_rtt.h). */
#include "tcp_rtt.h"

static uint64_t clamp_rto(const tcp_rtt *r, uint64_t rto) {
    if (rto < r->rto_min) { /* RFC 6298 (2.4) */
        rto = r->rto_min;
    }
    if (rto > r->rto_max) { /* RFC 6298 (2.5) */
        rto = r->rto_max;
    }
    return rto;
}

static void compute(tcp_rtt *r) {
    uint64_t k = 4 * r->rttvar; /* RFC 6298 §2: K = 4 */
    r->rto = clamp_rto(r, r->srtt + (k > TCP_RTT_CLOCK_G_NS ? k : TCP_RTT_CLOCK_G_NS));
}

void tcp_rtt_init(tcp_rtt *r, uint64_t initial, uint64_t rto_min, uint64_t rto_max) {
    r->srtt = 0;
    r->rttvar = 0;
    r->rto_min = rto_min;
    r->rto_max = rto_max;
    r->have_sample = false;
    r->provisional = false;
    /* RFC 6298 (2.1): the initial RTO is not subject to the minimum. */
    r->rto = initial > rto_max ? rto_max : initial;
}

void tcp_rtt_sample(tcp_rtt *r, uint64_t sample) {
    if (!r->have_sample || r->provisional) {
        /* RFC 6298 (2.2); after a SYN timeout, the first sample of data
         * (RFC 6298 §5: "once a new RTT measurement is obtained (which can
         * only happen when new data has been sent and acknowledged), the
         * computations outlined in Section 2 are performed") replaces the
         * handshake's, which may include time the SYN waited for ARP. */
        r->provisional = false;
        r->srtt = sample;
        r->rttvar = sample / 2;
        r->have_sample = true;
    } else {
        /* RFC 6298 (2.3): RTTVAR first, with the old SRTT. */
        uint64_t delta = r->srtt > sample ? r->srtt - sample : sample - r->srtt;
        r->rttvar = (3 * r->rttvar + delta) / 4;
        r->srtt = (7 * r->srtt + sample) / 8;
    }
    compute(r);
}

void tcp_rtt_backoff(tcp_rtt *r) {
    /* RFC 6298 (5.5), with the upper bound of (2.5). */
    r->rto = r->rto >= r->rto_max / 2 ? r->rto_max : r->rto * 2;
}

void tcp_rtt_syn_timed_out_established(tcp_rtt *r) {
    /* RFC 6298 (5.7), with or without a sample from the handshake's
     * timestamps: the next sample recomputes the RTO, as (2.2)'s first one
     * if the handshake gave the only one (tcp_rtt_sample). */
    r->rto = TCP_RTT_AFTER_SYN_TIMEOUT_NS;
    if (r->rto > r->rto_max) {
        r->rto = r->rto_max;
    }
    r->provisional = r->have_sample;
}

void tcp_rtt_collapse(tcp_rtt *r) {
    if (r->have_sample) {
        compute(r);
    }
}

void tcp_rtt_set_min(tcp_rtt *r, uint64_t rto_min) {
    r->rto_min = rto_min;
    if (r->have_sample) {
        compute(r);
    }
}
