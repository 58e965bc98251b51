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
} tcp_cc_ops;

/* The algorithms (functions, not extern objects: no exported data symbols). */
const tcp_cc_ops *tcp_cc_newreno_ops(void);
const tcp_cc_ops *tcp_cc_cubic_ops(void);

/* The initial window per RFC 6928 §2 for `iw` segments. */
uint32_t tcp_cc_initial_window(uint32_t iw, uint32_t mss);
/* Integer cube root (floor). */
uint64_t tcp_cbrt_u64(uint64_t x);

#endif /* TERN_TCP_CC_H */
