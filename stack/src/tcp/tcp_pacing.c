/*
 * Pacing: a connection whose congestion control paces (BBR, tcp_cc_bbr.c)
 * sends a data segment of len bytes no earlier than len / pacing_rate after
 * the previous one, less the credit of one send quantum (a token bucket one
 * quantum deep: after an idle time a quantum may go at once, then segments
 * follow at the pacing rate). The next send time is a timer (tcp_pcb.t_pace) in the
 * socket's deadline, so the stack's poll_at names it and the simulator or
 * the real-time bridge wakes the stack then; tcp_output stops at it. Only
 * data segments are paced (ACKs, SYNs, RSTs never wait). Times are integer
 * nanoseconds (no floating point decides when a segment leaves).
 */
#include "tcp_cc.h"

/* The pacing credit: a send quantum (BBR.send_quantum) may leave at once, so a segment may go
 * (quantum - SMSS) / pacing_rate before its paced time. */
static uint64_t credit(const tcp_pcb *p) {
    uint32_t q = p->bbr.send_quantum;
    if (q <= p->snd_mss || p->bbr.pacing_rate == 0) {
        return 0;
    }
    return (uint64_t)((unsigned __int128)(q - p->snd_mss) * 1000000000ULL / p->bbr.pacing_rate);
}

bool tcp_pace_hold(tcp_pcb *p, uint64_t now) {
    if (p->cc_id != TERN_TCP_CC_BBR) {
        return false;
    }
    uint64_t c = credit(p);
    uint64_t at = p->bbr.pace_next > c ? p->bbr.pace_next - c : 0;
    if (now >= at) {
        return false;
    }
    p->t_pace = at;
    return true;
}

void tcp_pace_sent(tcp_pcb *p, uint64_t now, uint32_t len) {
    uint64_t rate = p->bbr.pacing_rate;
    if (rate == 0) {
        return;
    }
    /* A connection that was not sending starts from now: no credit for the
     * idle time (a burst), and no debt carried over. */
    uint64_t start = p->bbr.pace_next > now ? p->bbr.pace_next : now;
    p->bbr.pace_next = start + (uint64_t)((unsigned __int128)len * 1000000000ULL / rate);
}
