/*
 * The retransmission timer's estimator, RFC 6298 exactly, in integer
 * nanoseconds of virtual time.
 *
 *   (2.1) before any sample, RTO = the initial RTO (1 s by default);
 *   (2.2) first sample R:  SRTT = R, RTTVAR = R/2,
 *   (2.3) later samples R': RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'| (first),
 *                           SRTT = 7/8 SRTT + 1/8 R' (then);
 *         RTO = SRTT + max(G, 4 * RTTVAR), G = TCP_RTT_CLOCK_G_NS;
 *   (2.4) RTO below the minimum (1 s by default, configurable) is raised to it;
 *   (2.5) RTO above the maximum (60 s by default) is lowered to it;
 *   (5.5) each expiry doubles RTO (capped by the maximum) until a new sample
 *         recomputes it (Karn's algorithm: retransmitted segments are never
 *         sampled, which the caller ensures), or, with RACK-TLP and
 *         timestamps, until an ACK of new data (tcp_rtt_collapse, as Linux);
 *   (5.7) when the SYN timed out, RTO is set to 3 s when the connection is
 *         established, even if the handshake's timestamps gave a sample
 *         (SRTT is then known: the probe timeout uses it). That sample is
 *         provisional: the first measurement of data starts the estimator
 *         afresh, as (2.2)'s first sample, because a SYN sent again may have
 *         waited below TCP before it left (ARP or ND resolution holds it,
 *         up to their retry interval of 1 s) and its echo then times the
 *         wait with the path.
 * Integer divisions truncate: RTTVAR = (3 * RTTVAR + |SRTT - R'|) / 4 and
 * SRTT = (7 * SRTT + R') / 8, both in nanoseconds.
 */
#ifndef TERN_TCP_RTT_H
#define TERN_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

/* G, the clock granularity of RFC 6298 §2: 1 ms (the timestamp clock's tick). */
#define TCP_RTT_CLOCK_G_NS 1000000ULL
/* RFC 6298 (5.7). */
#define TCP_RTT_AFTER_SYN_TIMEOUT_NS 3000000000ULL

typedef struct tcp_rtt {
    uint64_t srtt, rttvar; /* 0 until the first sample */
    uint64_t rto;          /* the current RTO, backoff included */
    uint64_t rto_min, rto_max;
    bool have_sample;
    bool provisional; /* the only sample is the handshake's after a SYN timeout (5.7) */
} tcp_rtt;

/* tcp_rtt_init: (2.1) no sample, RTO = initial (clamped to max). */
void tcp_rtt_init(tcp_rtt *r, uint64_t initial, uint64_t rto_min, uint64_t rto_max);
/* tcp_rtt_sample: a new measurement (ns) per (2.2)/(2.3) ((2.2) also after a provisional
 * sample); recomputes RTO (drops the backoff). */
void tcp_rtt_sample(tcp_rtt *r, uint64_t sample);
/* tcp_rtt_backoff: (5.5) RTO = min(2 RTO, max). */
void tcp_rtt_backoff(tcp_rtt *r);
/* tcp_rtt_syn_timed_out_established: (5.7) RTO = 3 s (SRTT and RTTVAR kept, provisional). */
void tcp_rtt_syn_timed_out_established(tcp_rtt *r);
/* tcp_rtt_collapse: RTO from SRTT and RTTVAR again (drops the backoff), if there is a sample. */
void tcp_rtt_collapse(tcp_rtt *r);
/* tcp_rtt_set_min: change the minimum (socket option) and re-clamp. */
void tcp_rtt_set_min(tcp_rtt *r, uint64_t rto_min);

#endif /* TERN_TCP_RTT_H */
