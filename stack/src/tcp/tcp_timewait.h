/*
 * TIME-WAIT without a control block (RFC 9293 §3.6.1, §3.10.7.4).
 *
 * A connection that enters TIME-WAIT once its user has closed it keeps
 * only what TIME-WAIT needs (the 4-tuple, SND.NXT, RCV.NXT, the window and
 * timestamp state, the 2 x MSL deadline) in a fixed-size table in the
 * instance's memory (tern_stack_config.tcp_timewait entries), as the BSDs
 * and Linux do, and its socket goes back to the pool at once. A socket the
 * user still holds stays a full socket until it is closed, then moves here.
 *
 * When the table is full the entry closest to its end (the oldest) is
 * recycled and counted (tcp_timewait_recycled): the port keeps serving.
 */
#ifndef TERN_TCP_TIMEWAIT_H
#define TERN_TCP_TIMEWAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack_internal.h"
#include "wire/tcp.h"

struct tcp_pcb;

/* One TIME-WAIT connection (tcp_tw.flags). */
enum { TCP_TW_USED = 1u << 0, TCP_TW_TS = 1u << 1 };

typedef struct tcp_tw {
    tern_addr laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t rcv_wnd;              /* the window last announced, bytes */
    uint32_t ts_recent, ts_offset; /* RFC 7323 (TCP_TW_TS) */
    uint64_t ts_recent_time;       /* RFC 7323 §5.5 */
    uint64_t expires;              /* end of the 2 x MSL wait */
    uint64_t chal_start;           /* RFC 5961 §7 throttle */
    uint32_t chal_count;
    uint32_t hash_next, older, newer; /* 4-tuple chain; list by expiry, oldest first */
    uint8_t rcv_wscale, ttl, flags;
} tcp_tw;

/* Memory for `n` entries and their hash buckets. */
size_t tcp_tw_memory_size(uint32_t n);
/* Lay out the table in `mem` (tcp_tw_memory_size bytes). */
void tcp_tw_init(tern_stack *st, uint8_t *mem, uint32_t n);
/*
 * If p is in TIME-WAIT and its user has closed it, move it into the table
 * and free the socket. Returns true when p was freed.
 */
bool tcp_tw_absorb(tern_stack *st, struct tcp_pcb *p, uint64_t now);
/* The TIME-WAIT entry of a 4-tuple, or NULL. */
tcp_tw *tcp_tw_lookup(tern_stack *st, const tern_addr *laddr, uint16_t lport,
                      const tern_addr *raddr, uint16_t rport);
/*
 * A segment for a 4-tuple in TIME-WAIT (RFC 9293 §3.10.7.4, RFC 6191).
 * Returns true when the segment is a SYN that opens a new incarnation: the
 * entry is gone and the caller hands the SYN to the listener.
 */
bool tcp_tw_input(tern_stack *st, tcp_tw *tw, uint64_t now, const tern_ip_rx *ip,
                  const struct tern_tcp_repr *seg);
/*
 * RFC 6191 §2 with RFC 9293 §3.10.7.4: may a SYN (seq, timestamps) reopen
 * a connection in TIME-WAIT whose RCV.NXT is rcv_nxt and whose last
 * timestamp seen is ts_recent (ts_used: timestamps were in use)?
 * ts_new: timestamps would be enabled for the new incarnation.
 */
bool tcp_tw_syn_acceptable(uint32_t rcv_nxt, bool ts_used, uint32_t ts_recent, bool ts_new,
                           const struct tern_tcp_repr *seg);
/*
 * The ISN of a new incarnation that reopened a TIME-WAIT 4-tuple must lie
 * above everything the old one sent (RFC 9293 §3.4.1, RFC 1122
 * §4.2.2.13): returns iss, or a value above the old SND.NXT.
 */
uint32_t tcp_tw_new_iss(tern_stack *st, uint32_t iss);
/* End the entries whose 2 x MSL is over. */
void tcp_tw_poll(tern_stack *st, uint64_t now);
/* The earliest end of a TIME-WAIT entry, or TERN_NEVER. */
uint64_t tcp_tw_poll_at(const tern_stack *st);
/* Entries in use. */
uint32_t tcp_tw_count(const tern_stack *st);

#endif /* TERN_TCP_TIMEWAIT_H */
