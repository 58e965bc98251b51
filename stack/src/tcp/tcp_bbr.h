/*
 * The state behind BBR (tcp_cc_bbr.c): delivery-rate estimation
 * (draft-cheng-iccrg-delivery-rate-estimation, tcp_rate.c), the BBR model
 * and state machine (BBRv1, draft-cardwell-iccrg-bbr-congestion-control-00)
 * and pacing (tcp_pacing.c). Windows and counts in bytes, rates in bytes per
 * second, times in nanoseconds, gains in 1/256 units: integers only, so the
 * same seed gives the same bytes (DESIGN.md §2).
 */
#ifndef TERN_TCP_BBR_H
#define TERN_TCP_BBR_H

#include <stdbool.h>
#include <stdint.h>

/* One transmission as the delivery-rate estimator sees it ("P." in the
 * draft): the connection's delivery state when it was sent. */
typedef struct tcp_rate_rec {
    uint32_t seq, end;        /* [seq, end): the sequence octets it carried */
    uint32_t delivered;       /* P.delivered: C.delivered when it was sent (bytes, mod 2^32) */
    uint32_t flags;           /* TCP_RATE_* in tcp_rate.c */
    uint64_t delivered_time;  /* P.delivered_time */
    uint64_t first_sent_time; /* P.first_sent_time */
    uint64_t sent_time;       /* P.sent_time */
} tcp_rate_rec;

/* The connection's delivery state ("C." in the draft) and the
 * transmission log's ring [head, head + n). */
typedef struct tcp_rate {
    uint32_t delivered;       /* C.delivered: bytes delivered (ACKed or SACKed), mod 2^32 */
    uint32_t app_limited;     /* C.app_limited: 0, or the C.delivered that ends the bubble */
    uint64_t delivered_time;  /* C.delivered_time */
    uint64_t first_sent_time; /* C.first_sent_time */
    uint32_t head, n;
} tcp_rate;

/* One ACK's rate sample ("rs." in the draft), and what BBR needs
 * besides: the bytes this ACK delivered and those it marked lost. */
typedef struct tcp_rate_sample {
    uint64_t delivery_rate;   /* rs.delivery_rate, bytes/s (valid only when `valid`) */
    uint64_t interval;        /* rs.interval, ns */
    uint64_t prior_time;      /* rs.prior_time (0: no packet delivered) */
    uint64_t rtt;             /* RTT of the newest never-retransmitted packet delivered, 0 none */
    uint32_t delivered;       /* rs.delivered, bytes */
    uint32_t prior_delivered; /* rs.prior_delivered */
    uint32_t newly_delivered; /* bytes this ACK ACKed or SACKed */
    uint32_t losses;          /* bytes this ACK marked lost */
    uint32_t prior_in_flight; /* data in flight before the ACK */
    bool is_app_limited;      /* rs.is_app_limited */
    bool valid;               /* a delivery rate was computed */
} tcp_rate_sample;

#define TCP_BBR_BW_ROUNDS 10 /* BtlBwFilterLen */

/* BBR's model and state machine (draft-cardwell-iccrg-bbr-congestion-control-00). */
typedef struct tcp_bbr {
    uint64_t bw_max[TCP_BBR_BW_ROUNDS]; /* the largest delivery rate of each of the last rounds */
    uint32_t bw_round[TCP_BBR_BW_ROUNDS];
    uint64_t btlbw;        /* BBR.BtlBw, bytes/s */
    uint64_t rtprop;       /* BBR.RTprop, ns (0: none yet, "Inf") */
    uint64_t rtprop_stamp; /* BBR.rtprop_stamp */
    uint64_t pacing_rate;  /* BBR.pacing_rate, bytes/s */
    uint64_t full_bw;      /* BBR.full_bw */
    uint64_t cycle_stamp;  /* BBR.cycle_stamp */
    uint64_t probe_rtt_done_stamp;
    uint64_t pace_next; /* pacing: no data segment before this time */
    uint32_t round_count, next_round_delivered;
    uint32_t cwnd;       /* BBR's own congestion window (the shared code's p->cwnd follows it) */
    uint32_t prior_cwnd; /* BBR.prior_cwnd */
    uint32_t target_cwnd;
    uint32_t send_quantum;           /* BBR.send_quantum, bytes: what pacing lets go at once */
    uint32_t round_max_inflight;     /* the most data in flight at an ACK of this round (STARTUP) */
    uint16_t pacing_gain, cwnd_gain; /* x/256 */
    uint8_t mode;                    /* TCP_BBR_* (tern_tcp_bbr_mode) */
    uint8_t cycle_index;
    uint8_t full_bw_count;
    uint8_t filled_pipe, round_start, rtprop_expired, idle_restart;
    uint8_t packet_conservation, probe_rtt_round_done, prev_ca_state;
} tcp_bbr;

#endif /* TERN_TCP_BBR_H */
