/*
 * Congestion-control algorithms behind one small interface, selected per
 * socket (TERN_TCP_OPT_CONGESTION). The loss-recovery machinery (fast
 * retransmit, NewReno and SACK recovery, RTO) is shared and lives in
 * tcp_input.c/tcp_timer.c; an algorithm only decides how cwnd grows and what
 * ssthresh becomes after a loss. To add one: write tcp_cc_<name>.c with a
 * const tcp_cc_ops, add a case to ops() in tcp_cc.c and to enum tern_tcp_cc.
 */
#ifndef TERN_TCP_CC_H
#define TERN_TCP_CC_H

#include "tcp_private.h"

typedef struct tcp_cc_ops {
    const char *name;
    /* Connection start: algorithm state reset (cwnd is set by the caller, RFC 6928). */
    void (*init)(tcp_pcb *p);
    /* New data acknowledged while cwnd >= ssthresh and no recovery is going on. */
    void (*cong_avoid)(tcp_pcb *p, uint32_t acked, uint64_t now);
    /* The new ssthresh after a loss (fast retransmit or RTO); may record its own state. */
    uint32_t (*ssthresh)(tcp_pcb *p, uint64_t now, bool rto);
    /* Fast recovery ended. */
    void (*recovery_done)(tcp_pcb *p, uint64_t now);
    /* cwnd went back to the restart window after an idle period (RFC 5681 §4.1). */
    void (*idle_restart)(tcp_pcb *p);
    /* Optional (BBR): the algorithm sets cwnd itself at the end of every
     * acceptable ACK, from the ACK's delivery-rate sample (tcp_rate.c) and
     * the data in flight after it; the shared slow start and congestion
     * avoidance are then off for it. */
    void (*cong_control)(tern_stack *st, tcp_pcb *p, uint64_t now, const tcp_rate_sample *rs,
                         uint32_t in_flight);
} tcp_cc_ops;

/* The algorithms (functions, not extern objects: no exported data symbols). */
const tcp_cc_ops *tcp_cc_newreno_ops(void);
const tcp_cc_ops *tcp_cc_cubic_ops(void);
const tcp_cc_ops *tcp_cc_bbr_ops(void);

/* What an ACK changes, taken before it is processed (tcp_cc_ack_begin). */
typedef struct tcp_cc_ack_ctx {
    uint32_t una, sacked, lost_to, in_flight;
} tcp_cc_ack_ctx;

/* The initial window per RFC 6928 §2 for `iw` segments. */
uint32_t tcp_cc_initial_window(uint32_t iw, uint32_t mss);
/* Integer cube root (floor). */
uint64_t tcp_cbrt_u64(uint64_t x);

/* ---- delivery-rate estimation (tcp_rate.c, draft-cheng-iccrg-delivery-rate-estimation) ---- */
/* Connection start: no delivery state, empty log. */
void tcp_rate_reset(tcp_pcb *p);
/* [seq, seq+len) of the sequence space is being sent now (before SND.NXT moves for new data). */
void tcp_rate_sent(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len);
/* The sender ran out of data (data_waiting false) with room in cwnd and no loss to repair:
 * mark the delivery state app-limited (the draft's app-limited detection). */
void tcp_rate_check_app_limited(tcp_pcb *p, uint32_t in_flight, bool data_waiting,
                                bool lost_waiting);
/* An ACK delivered newly_delivered bytes (SND.UNA and scoreboard already updated): fill rs
 * (zeroed by the caller); samples whose interval is below min_rtt (0: no check) are invalid. */
void tcp_rate_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t newly_delivered,
                     uint64_t min_rtt, tcp_rate_sample *rs);

/* ---- pacing (tcp_pacing.c) ---- */
/* True when the connection paces and its next send time is still ahead: the pacing timer is
 * armed for it and no data segment may go now. */
bool tcp_pace_hold(tcp_pcb *p, uint64_t now);
/* A data segment of len bytes went out now: the next may go len / pacing_rate later. */
void tcp_pace_sent(tcp_pcb *p, uint64_t now, uint32_t len);

#endif /* TERN_TCP_CC_H */
