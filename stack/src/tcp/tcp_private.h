/*
 * TCP's private structures: the control block (RFC 9293 §3.3.1 names), the
 * module state laid out in the memory the core gives (no malloc), and the
 * functions the tcp_*.c files share.
 *
 * Memory (tern_tcp_memory_size): [tern_tcp_module][pcb x N][aux x N]
 * [timer heap x N][hash buckets][port owners (tcp_ports.h)][buffers x N]. Each
 * socket has its receive and transmit ring buffers at a fixed place; the aux
 * block holds its out-of-order ranges and SACK scoreboard.
 *
 * Sockets are found by 4-tuple through a hash table (chained by index), and
 * timers through a binary min-heap of the sockets' next deadlines, so that
 * input, poll and poll_at stay O(log N) with 100,000 connections.
 */
#ifndef TERN_TCP_PRIVATE_H
#define TERN_TCP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack_internal.h"
#include "tcp_bbr.h"
#include "tcp_ranges.h"
#include "tcp_rtt.h"
#include "tcp_seq.h"
#include "tcp_ports.h"
#include "tcp_timewait.h"
#include "wire/tcp.h"

/* ---- what the other layers see of TCP ------------------------------------------- */

/* Bytes of memory TCP needs (control blocks and buffers). */
size_t tern_tcp_memory_size(const tern_stack_config *cfg);
/* Lay TCP out in `mem` (tern_tcp_memory_size bytes, 16-byte aligned). */
void tern_tcp_init(tern_stack *st, uint8_t *mem);
/* A segment for us: ip->payload/payload_len is the TCP segment (checksum not yet verified). */
void tern_tcp_input(tern_stack *st, uint64_t now, const tern_ip_rx *ip, uint32_t iface);
/* An ICMP error about a segment we sent: `quoted` is the quoted IP header, `l4` its first bytes. */
void tern_tcp_icmp_error(tern_stack *st, uint64_t now, const tern_sock_error *err,
                         const tern_ip_rx *quoted, const uint8_t *l4, size_t l4_len);
void tern_tcp_poll(tern_stack *st, uint64_t now);
uint64_t tern_tcp_poll_at(const tern_stack *st);
/* Is a local TCP port in use (for ephemeral port choice)? */
bool tern_tcp_port_in_use(const tern_stack *st, uint16_t port);

#define TCP_NONE UINT32_MAX
#define TCP_HANDLE_INDEX_BITS 20 /* up to 2^20 - 1 sockets */
#define TCP_HANDLE_INDEX_MASK ((1u << TCP_HANDLE_INDEX_BITS) - 1)
#define TCP_MAX_SOCKETS (TCP_HANDLE_INDEX_MASK - 1)
#define TCP_DEFAULT_MSS 536   /* RFC 9293 §3.7.1: absent MSS option, IPv4 */
#define TCP_DEFAULT_MSS6 1220 /* RFC 9293 §3.7.1: absent MSS option, IPv6 (1280 - 60) */
#define TCP_MIN_MSS 64        /* a peer's tiny MSS is raised to this (never 0-size segments) */
#define TCP_QUICK_ACKS 16     /* segments ACKed at once after out-of-order data */
#define TCP_DUPTHRESH 3       /* RFC 5681 §3.2, RFC 6675 DupThresh */
#define TCP_MAX_WSCALE 14     /* RFC 7323 §2.3 */
#define TCP_PAWS_IDLE_NS (24ULL * 24 * 3600 * 1000000000ULL) /* RFC 7323 §5.5: 24 days */
/* RFC 9293 §3.8.3: "R2 for a SYN segment MUST be set large enough to provide
 * retransmission of the segment for at least 3 minutes (MUST-23)." */
#define TCP_SYN_R2_MIN_NS (180ULL * 1000000000ULL)

/* kinds of pool entries */
enum { TCP_FREE = 0, TCP_SOCKET = 1 };

/* congestion-avoidance state (RFC 5681 / 6582 / 6675) */
enum {
    TCP_CA_OPEN = 0,     /* no loss being repaired */
    TCP_CA_RECOVERY = 1, /* fast recovery (NewReno RFC 6582, or SACK RFC 6675) */
    TCP_CA_LOSS = 2,     /* after a retransmission timeout: everything below recover is lost */
};

/* tcp_pcb.undo_state (RFC 3708 §3 per loss episode, tcp_undo.c) */
enum {
    TCP_UNDO_NONE = 0,  /* no episode tracked */
    TCP_UNDO_ARMED = 1, /* retransmissions counted, D-SACKs awaited */
    TCP_UNDO_OFF = 2,   /* some data went out more than twice: no undo this episode */
};

/* pcb flags */
enum {
    TCPF_HANDLE = 1u << 0,     /* a user handle refers to it (not orphaned) */
    TCPF_DIRTY = 1u << 1,      /* on the output list */
    TCPF_ACK_NOW = 1u << 2,    /* send an ACK at the next output */
    TCPF_FIN_QUEUED = 1u << 3, /* the user shut down sending: FIN after the data */
    TCPF_FIN_SENT = 1u << 4,   /* our FIN has a sequence number (snd_nxt covers it) */
    TCPF_RCV_SHUT = 1u << 5,   /* shutdown(0): received data discarded */
    TCPF_FIN_RCVD = 1u << 6,   /* the peer's FIN was processed (end of stream) */
    TCPF_NODELAY = 1u << 7,    /* no Nagle */
    TCPF_KEEPALIVE = 1u << 8,  /* keep-alive on */
    TCPF_SACK_OK = 1u << 9,    /* negotiated */
    TCPF_TS_OK = 1u << 10,     /* negotiated */
    TCPF_WS_OK = 1u << 11,     /* negotiated */
    TCPF_WANT_SACK = 1u << 12, /* offer/accept */
    TCPF_WANT_TS = 1u << 13,   /* offer/accept */
    TCPF_WANT_WS = 1u << 14,   /* offer/accept */
    TCPF_SYN_RETRANSMITTED = 1u << 15,
    TCPF_PERSIST = 1u << 16,         /* t_rexmt is the persist timer (RFC 9293 §3.8.6.1) */
    TCPF_RTT_TIMING = 1u << 17,      /* rtt_seq/rtt_time measure one segment */
    TCPF_SEND_RST = 1u << 18,        /* aborted: send RST at the next output, then free */
    TCPF_PASSIVE = 1u << 19,         /* created by a listener */
    TCPF_IN_ACCEPTQ = 1u << 20,      /* on its listener's accept queue */
    TCPF_BOUND = 1u << 21,           /* owns its local port (counted in the ports table) */
    TCPF_OOO_FIN = 1u << 22,         /* a FIN beyond a hole: rcv_fin_seq */
    TCPF_HASHED = 1u << 23,          /* in the 4-tuple table */
    TCPF_ZWP_OUT = 1u << 24,         /* a zero-window probe byte is outstanding */
    TCPF_CC_INIT = 1u << 25,         /* the congestion window has been initialised */
    TCPF_NEED_ISS = 1u << 26,        /* connect called: ISN and SYN at the next output */
    TCPF_RTO_SYN_TIMEOUT = 1u << 27, /* a SYN timed out: RFC 6298 (5.7) */
    TCPF_RESCUE_SET = 1u << 28,      /* RFC 6675 RescueRxt is defined (rescue_rxt) */
    TCPF_TLP = 1u << 29,             /* tail loss probes on (RFC 8985 §7) */
    TCPF_RXT_TSVAL = 1u << 30,       /* rxt_tsval: no ACK has echoed it or later yet */
};

/* tail loss probe state (tcp_pcb.tlp, RFC 8985 §7) */
enum {
    TCP_TLP_OUT = 1u << 0,     /* a probe went out and no ACK has made progress since */
    TCP_TLP_RXT = 1u << 1,     /* that probe was a retransmission ending at tlp_end (§7.4) */
    TCP_TLP_RESTART = 1u << 2, /* new data sent or ACK progress: restart the PTO (§7.2) */
};

/* urgent mechanism state (tcp_pcb.urg, RFC 9293 §3.8.5, tcp_urgent.c) */
enum {
    /* RCV.UP is ahead of what the user read: urgent mode */
    TCP_URG_RCV = 1u << 0,
    /* SND.UP is ahead of SND.UNA: our segments carry URG */
    TCP_URG_SND = 1u << 1,
    /* before the ISS is chosen, snd_up is an offset into the send buffer */
    TCP_URG_SND_OFF = 1u << 2,
    /* rcv_up came with a SYN's queued text: in force once ESTABLISHED */
    TCP_URG_SYN = 1u << 3,
};

/* CUBIC's state (RFC 9438 §4), in bytes and nanoseconds. */
typedef struct tcp_cubic {
    uint32_t w_max;      /* W_max, bytes */
    uint32_t w_last_max; /* for fast convergence (§4.7) */
    uint32_t k_ms;       /* K in milliseconds */
    uint32_t origin;     /* W_max at the epoch, bytes */
    uint32_t w_est;      /* Reno-friendly estimate (§4.3), bytes */
    uint32_t est_acc;    /* remainder for W_est growth */
    uint32_t
        cwnd_prior; /* the window the last reduction was applied to (§4.3's cwnd_prior), bytes */
    uint64_t epoch; /* start of the congestion-avoidance epoch, ns (0 = none) */
} tcp_cubic;

/*
 * A connection's TCP header template (tcp_hdr_tmpl.c, issue 19): the header of its steady-state
 * segments (ACK, maybe PSH or FIN; no SACK blocks, no urgent pointer; RFC 7323 Appendix A's
 * <NOP><NOP><Timestamps> or no options) up to TSval, with the fields that change per segment zero,
 * and the
 * partial sum of that header and of the pseudo-header without its length (RFC 9293 §3.1).
 */
typedef struct tcp_hdr_tmpl {
    uint8_t hdr[24]; /* ports, data offset, the options' kinds and lengths; the rest zero */
    uint32_t sum;    /* partial sum (RFC 1071) of hdr[0..hlen) and the pseudo-header, length 0 */
    uint8_t hlen;    /* 20 (no options) or 32 (timestamps); 0: not built */
} tcp_hdr_tmpl;

/* A segment's fields that the template leaves zero (tcp_hdr_tmpl_emit). */
typedef struct tcp_hdr_vals {
    uint32_t seq, ack;
    uint8_t flags; /* TERN_TCP_ACK, with TERN_TCP_PSH and TERN_TCP_FIN as the segment needs */
    uint16_t window;
    uint32_t ts_val, ts_ecr; /* written when the template has timestamps */
} tcp_hdr_vals;

typedef struct tcp_pcb {
    /* --- identity and lists --- */
    tern_addr laddr, raddr;
    uint16_t lport, rport;
    uint16_t gen; /* handle generation */
    uint8_t kind;
    uint8_t state; /* tern_tcp_module */
    uint32_t flags;
    uint32_t hash_next;  /* 4-tuple chain; free list */
    uint32_t heap_pos;   /* in the timer heap, TCP_NONE if not there */
    uint32_t dirty_next; /* output list */
    uint32_t parent;     /* listener of a passive child */
    uint32_t q_next;     /* accept queue / listener list link */

    /* --- send sequence space (RFC 9293 §3.3.1) --- */
    uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, snd_up;
    uint32_t max_snd_wnd; /* largest window the peer offered (RFC 5961 §5.2, SWS) */
    uint32_t snd_buf_seq; /* sequence number of the first byte in the send buffer */
    uint32_t recover;     /* RFC 6582 "recover", RFC 6675 RecoveryPoint */
    uint32_t high_rxt;    /* RFC 6675 HighRxt: below it, unSACKed data was retransmitted */
    uint32_t lost_to;     /* unSACKed data below lost_to counts as lost */
    uint32_t rescue_rxt;  /* RFC 6675 RescueRxt (TCPF_RESCUE_SET) */
    uint32_t rxt_mark;    /* SND.NXT when the latest retransmission was sent */
    uint32_t tlp_end;     /* RFC 8985 TLP.end_seq: SND.NXT after the probe */
    /* --- receive sequence space --- */
    uint32_t irs, rcv_nxt, rcv_adv, rcv_up;
    uint32_t rcv_fin_seq;   /* TCPF_OOO_FIN */
    uint32_t last_ack_sent; /* RFC 7323 Last.ACK.sent */
    uint32_t rcv_wnd_ann;   /* window last announced (bytes) */
    uint16_t snd_mss;       /* data bytes per segment we send (options excluded) */
    uint16_t peer_mss;      /* the peer's MSS option (536 absent) */
    uint16_t rcv_mss;       /* the MSS we announce */
    uint16_t mss_clamp;     /* user clamp (0 none) */
    uint16_t pmtu;          /* path MTU (RFC 1191) */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t ttl;
    uint8_t cc_id;     /* tern_tcp_cc */
    uint8_t ca_state;  /* TCP_CA_* */
    uint8_t dupacks;   /* consecutive duplicate ACKs */
    uint8_t retries;   /* consecutive expiries of t_rexmt */
    uint8_t ka_probes; /* unanswered keep-alive probes */
    uint8_t syn_retries, data_retries, keep_cnt, iw;
    uint8_t segs_unacked; /* full-size segments received since our last ACK */
    uint8_t quick_acks;   /* in-order segments still acknowledged at once after a hole */
    uint8_t tlp;          /* TCP_TLP_* */
    uint8_t urg;          /* TCP_URG_* */
    uint32_t urg_signals; /* urgent notifications given to the user (RFC 9293 MUST-32) */
    uint16_t syn_data; /* octets of a SYN's text queued at the ring's head (RFC 9293 §3.10.7.2) */
    int8_t err;        /* tern_err: why the connection ended */
    int8_t soft_err;   /* last ICMP soft error (RFC 5927), reported on timeout */

    /* --- timestamps (RFC 7323) --- */
    uint32_t ts_recent, ts_offset;
    uint64_t ts_recent_time;
    /* the TSval of the latest retransmission (tcp_send_range): an ACK echoing
     * an older TSval gives no RTT sample (tcp_input.c ts_rtt_sample) */
    uint32_t rxt_tsval;

    /* --- RTT (RFC 6298) --- */
    tcp_rtt rtt;
    uint32_t rtt_seq;
    uint64_t rtt_time;

    /* --- congestion control --- */
    uint32_t cwnd, ssthresh, bytes_acked_ca;
    uint32_t lt_bytes; /* sent beyond cwnd by limited transmit since the first dup ACK (RFC 3042) */
    uint64_t last_snd; /* when data was last sent (RFC 5681 §4.1 restart after idle), 0 never */

    /* --- timers (absolute ns, TERN_NEVER when off) --- */
    uint64_t t_rexmt;  /* RTO, SYN retransmission, or persist */
    uint64_t t_delack; /* delayed ACK */
    uint64_t t_keep;   /* keep-alive; TIME-WAIT and FIN-WAIT-2 (orphan) expiry */
    uint64_t t_user;   /* user timeout (RFC 9293 §3.8.3) */
    uint64_t t_tlp;    /* tail loss probe timeout, PTO (RFC 8985 §7.2) */
    uint64_t t_pace;   /* pacing: the next send time of a paced connection (0: off) */
    uint64_t deadline; /* min of the above, the heap key */
    uint64_t last_rcv; /* time of the last segment received (keep-alive idleness) */

    /* --- per-socket settings (the others in the cold part) --- */
    uint64_t delack_ns;

    /* --- buffers (rings at fixed places, see tcp_rx_base/tcp_tx_base) --- */
    uint32_t rx_head, rx_len, rx_cap; /* rx_len: in-order bytes not yet read */
    uint32_t tx_head, tx_len, tx_cap; /* tx_len: bytes from snd_buf_seq on */
    /* --- lent bytes (tcp_sendq.c): of the tx_len bytes queued, tx_lent_len live in the
     *     application's buffers, described by the lend_n extents from lend_head on in the
     *     socket's table; the other tx_len - tx_lent_len are in the ring from tx_head on.
     *     tx_pos: the stream position (bytes ever queued, mod 2^32) of the byte at
     *     snd_buf_seq; extents are placed by stream position, so that they need no ISS. --- */
    uint32_t tx_lent_len, tx_pos;
    uint32_t lend_head, lend_n;
    uint64_t lend_total; /* bytes ever lent; those done: lend_total - tx_lent_len */
    /* --- a posted read (tcp_rx_post.c): the application's buffer post_buf[0 .. post_cap), the
     *     first post_len bytes of it filled with the stream (as if read on arrival); NULL: none
     *     posted. The pointer is the application's; the stack only writes through it. --- */
    uint8_t *post_buf;
    uint32_t post_cap, post_len;
    uint32_t ooo_n, sack_n; /* ranges in aux */

    /* --- statistics (tern_tcp_info) --- */
    uint64_t bytes_acked, bytes_received;
    uint32_t segs_in, segs_out;
    uint32_t total_retransmits, fast_retransmits, rto_timeouts, dup_acks_in, sack_blocks_in;
    uint32_t ooo_segments, zero_window_probes, keepalives_sent, challenge_acks;
    uint32_t tlp_probes;

    /* --- SACK blocks sent (RFC 2018 §4, RFC 2883) and D-SACKs received
     *     (RFC 3708): tcp_sack_out.c and tcp_undo.c --- */
    /* One sequence number inside each of the blocks most recently reported
     * first, newest first (RFC 2018 §4: later blocks repeat them). */
    uint32_t sack_recent[TERN_TCP_MAX_SACK_BLOCKS];
    uint8_t sack_recent_n;
    uint8_t dsack_on;      /* report duplicates with D-SACK (TERN_TCP_OPT_DSACK) */
    uint8_t dsack_pending; /* dsack_left..dsack_right goes first in the next ACK */
    uint8_t undo_state;    /* TCP_UNDO_* */
    uint32_t dsack_left, dsack_right;
    uint32_t dsack_blocks_in;

    /* --- RACK (RFC 8985 §6, tcp_rack.c): the transmission log's ring
     *     [rack_head, rack_head + rack_n), RACK.xmit_ts / end_seq / fack /
     *     rtt / min_RTT / reord, and the reordering timer --- */
    uint32_t rack_head, rack_n;
    uint32_t rack_end, rack_fack;
    uint64_t rack_xmit, rack_rtt, rack_min_rtt;
    uint64_t t_rack;
    uint8_t rack_on, rack_reord;
    /* RACK marked a retransmission lost that has not gone again yet: NextSeg
     * and SetPipe look for it in the log (tcp_rack_next_relost) */
    uint8_t rack_relost;
    /* slow start's byte counting limit is 2 SMSS (RFC 3465 §2.3); the slow
     * start that follows an RTO (until cwnd reaches ssthresh) keeps 1 SMSS */
    uint8_t abc_l2, ss_after_rto;
    /* retransmission records (RACK_RXT) in the log: with none, the log holds
     * originals only, in sequence order as well as time order, and the
     * per-ACK scans stop at the first record in flight (tcp_rack.c) */
    uint32_t rack_rxt_n;
    /* RACK.min_RTT as a windowed minimum (RFC 8985 §6.2 Step 2): the
     * minimum of the current epoch (started at rack_epoch) and of the one
     * before, each half of TCP_RACK_MIN_RTT_WIN_NS long */
    uint64_t rack_min_cur, rack_min_prev, rack_epoch;
    /* RFC 8985 §6.2 Step 4: RACK.reo_wnd_mult, RACK.reo_wnd_persist,
     * RACK.dsack_round (rack_dsack_round_on: not "None"); D-SACKs already
     * seen (dsack_blocks_in then); in fast or RTO recovery at the last ACK,
     * and the recovery episodes counted then */
    uint8_t rack_reo_mult, rack_reo_persist, rack_dsack_round_on, rack_in_recovery;
    uint32_t rack_dsack_round, rack_dsack_seen;
    /* D-SACKs that may widen RACK's reordering window (rack_dsack_n), and
     * the range [rack_trxt_lo, rack_trxt_hi) whose retransmissions a timer
     * made (the RTO's recovery, a tail loss probe): a D-SACK inside it
     * reports a lost ACK, not reordering (tcp_rack.c) */
    uint32_t rack_dsack_n, rack_trxt_lo, rack_trxt_hi;
    uint32_t rack_episodes; /* fast_retransmits + rto_timeouts at the last ACK */
    /* Spurious RTOs (tcp_frto.c): F-RTO's step (RFC 5682 §3.1) and Eifel's (RFC 3522), which
     * every ACK asks; their "recover", RetransmitTS, the window before the RTO and the undos
     * done are in the cold part */
    uint8_t frto, eifel;
    tern_route_cache route; /* IPv4: the route to raddr from laddr (tern_route_cached) */
    tern_ip4_tmpl tmpl;     /* IPv4: its segments' Ethernet + IPv4 headers (ipv4/tx_template.c) */
    tcp_hdr_tmpl hdr_tmpl;  /* its steady-state segments' TCP header (tcp_hdr_tmpl.c) */

    /* ---- cold: what the steady state of a connection does not read (issue 19: with thousands
     * of hosts every line a segment touches is a miss, so the lines above hold what the
     * established path reads and writes) ---- */
    /* --- listener --- */
    uint32_t backlog, synq_len, acceptq_len, acceptq_head, acceptq_tail;
    uint64_t cookie_time; /* when the listener last answered with a SYN cookie, 0 never */
    /* --- RFC 5961 §7 challenge ACKs, and the limit on ACKs to unacceptable segments --- */
    uint64_t chal_start;
    uint32_t chal_count;   /* RFC 5961 §7 challenge ACKs in the current second */
    uint64_t oow_ack_next; /* no ACK to an unacceptable data-less segment before (0: any time) */
    /* --- per-socket settings --- */
    uint64_t user_timeout_ns, keep_idle_ns, keep_intvl_ns;
    /* --- RFC 3708 §3 on one loss episode: the window before the reduction, the retransmitted
     *     range [undo_una, undo_high) and its bytes, and the bytes of it the peer reported as
     *     duplicates (tcp_undo.c) --- */
    uint32_t undo_cwnd, undo_ssthresh;
    uint32_t undo_una, undo_high, undo_recover;
    uint32_t undo_rexmit_bytes, undo_dsacked_bytes;
    uint32_t spurious_rexmits, dsack_undos;
    /* --- PRR (RFC 6937) during a RACK connection's fast recovery: data delivered and sent since
     *     it began, and the flight then (RecoverFS) --- */
    uint32_t prr_delivered, prr_out, prr_recover_fs;
    /* --- spurious RTOs (tcp_frto.c, beside frto and eifel above) --- */
    uint32_t frto_recover, frto_sacked, eifel_ts;
    uint32_t frto_cwnd, frto_ssthresh;
    uint32_t spurious_rtos;
    /* --- the congestion controls' own state: CUBIC, and BBR's with its delivery-rate log --- */
    tcp_cubic cubic;
    tcp_rate rate; /* delivery-rate estimation (tcp_rate.c), BBR connections only */
    uint32_t rlog; /* its delivery-rate log in the pool + 1 (tcp_rate_log); 0: none (not BBR) */
    tcp_bbr bbr;   /* BBR (tcp_cc_bbr.c) and its pacing (tcp_pacing.c) */
    /* to a whole number of lines: the pool's control blocks start lines (tcp_socket.c), so that
     * the hot part of each touches as few as it can */
    uint8_t pad_to_line[8];
} tcp_pcb;
_Static_assert(sizeof(tcp_pcb) % 64 == 0, "tcp_pcb: pad_to_line");

/* One segment sent, in the RACK transmission log (tcp_rack.c). */
typedef struct tcp_xmit {
    uint32_t seq, end; /* [seq, end): data (and FIN) it carried */
    uint64_t xmit;     /* when it was sent */
    uint32_t flags;    /* RACK_* in tcp_rack.c */
} tcp_xmit;

/* One lent buffer (tern_tcp_lend): len bytes at data, the stream's bytes from position pos on. */
typedef struct tcp_lent {
    const uint8_t *data;
    uint32_t pos, len;
} tcp_lent;

/* The module's state. */
struct tern_tcp_module {
    /* Laid out by use (issue 19): with thousands of hosts every line an event touches is a miss.
     * The module starts a line (core/stack.c's layout). Line 0: what poll_at (after every event),
     * poll and a segment's lookup read. */
    uint32_t dirty_head, dirty_tail;
    uint32_t heap_len;
    uint32_t tw_oldest; /* the TIME-WAIT table's oldest entry (tcp_timewait.c) */
    uint32_t nsock;
    uint32_t hash_mask;
    /* tcp_lookup's last answer, as pool index + 1 (0: none). A connection's segments come in
     * runs, so the next lookup is most often for the same tuple; the entry is believed only while
     * that control block is in the table (TCPF_HASHED) with the very tuple asked for, which no
     * other one in the table can have (tcp_lookup.c). */
    uint32_t lookup_last;
    uint32_t rx_cap;
    tcp_pcb *pcb;
    uint32_t *heap;
    uint32_t *hash;
    tcp_tw *tw; /* TIME-WAIT table (tcp_timewait.c) */
    /* Line 1: a segment's input and output (the per-socket arrays and buffers). */
    uint32_t tx_cap;
    uint32_t ooo_cap;  /* OOO ranges per socket */
    uint32_t sack_cap; /* SACK scoreboard ranges per socket (tcp_sack_cap) */
    uint32_t rack_cap; /* RACK transmission log records per socket (tcp_rack_log_cap) */
    tcp_range *aux;    /* per socket: ooo_cap OOO ranges, then sack_cap scoreboard ranges */
    tcp_xmit *xlog;    /* per socket: rack_cap records */
    uint8_t *buffers;  /* per socket: rx_cap + tx_cap bytes */
    /* The payload of the segment being processed that tcp_rx_parse already copied into its
     * connection's ring while verifying it (tcp_rx_place.c); NULL outside tern_tcp_input. */
    const uint8_t *rx_placed;
    const tcp_pcb *rx_placed_pcb;
    uint32_t rx_placed_seq, rx_placed_len;
    /* Line 2 and on. */
    uint32_t rx_placed_head, rx_placed_at; /* the ring's rx_head and rx_len then */
    /* Of rx_placed_len, the first rx_placed_post bytes went to the posted buffer at its
     * rx_placed_post_at (its post_len then), the rest to the ring. */
    uint32_t rx_placed_post, rx_placed_post_at;
    uint32_t free_head;
    uint32_t listeners; /* list of listeners through q_next */
    tcp_rate_rec *rlog; /* rlog_n logs of rack_cap delivery-rate records (tcp_rate.c), each
                         * held by a BBR socket (tcp_pcb.rlog) or free */
    uint32_t rlog_n;    /* logs in the pool (tern_tcp_config.bbr_sockets) */
    uint32_t rlog_free; /* first free log, TCP_NONE: none (the next in its first record's seq) */
    tcp_ports ports;    /* sockets owning each local port (tcp_ports.c) */
    tcp_lent *lend;     /* per socket: lend_cap lent extents (a ring, tcp_sendq.c) */
    uint32_t lend_cap;
    tern_tcp_config cfg; /* defaults filled in */
    /* the rest of the TIME-WAIT table */
    uint32_t *tw_hash;
    uint32_t tw_cap, tw_hash_mask, tw_free, tw_newest, tw_count;
    bool tw_reopen;             /* a SYN reopened a TIME-WAIT tuple: next passive ISN above */
    uint32_t tw_reopen_snd_nxt; /* the old incarnation's SND.NXT */
};
_Static_assert(offsetof(struct tern_tcp_module, tx_cap) == 64 &&
                   offsetof(struct tern_tcp_module, rx_placed_head) == 128,
               "tern_tcp_module's first two lines");

/* ---- helpers (tcp_socket.c, tcp_lookup.c, tcp_heap.c) ---- */

static inline uint32_t tcp_index(const tern_stack *st, const tcp_pcb *p) {
    return (uint32_t)(p - st->tcp->pcb);
}
static inline uint8_t *tcp_rx_base(const tern_stack *st, const tcp_pcb *p) {
    const tern_tcp_module *t = st->tcp;
    return t->buffers + (size_t)tcp_index(st, p) * (t->rx_cap + t->tx_cap);
}
static inline uint8_t *tcp_tx_base(const tern_stack *st, const tcp_pcb *p) {
    return tcp_rx_base(st, p) + st->tcp->rx_cap;
}
static inline tcp_range *tcp_ooo_ranges(const tern_stack *st, const tcp_pcb *p) {
    return st->tcp->aux + (size_t)tcp_index(st, p) * (st->tcp->ooo_cap + st->tcp->sack_cap);
}
static inline tcp_xmit *tcp_rack_log(const tern_stack *st, const tcp_pcb *p) {
    return st->tcp->xlog + (size_t)tcp_index(st, p) * st->tcp->rack_cap;
}
static inline tcp_lent *tcp_lend_table(const tern_stack *st, const tcp_pcb *p) {
    return st->tcp->lend + (size_t)tcp_index(st, p) * st->tcp->lend_cap;
}
/* A BBR socket's delivery-rate log (every BBR socket holds one: tcp_rate_log_attach). */
static inline tcp_rate_rec *tcp_rate_log(const tern_stack *st, const tcp_pcb *p) {
    return st->tcp->rlog + (size_t)(p->rlog - 1) * st->tcp->rack_cap;
}
/*
 * Match p's delivery-rate log to its congestion control: a BBR socket without one takes one
 * from the pool, a socket that is not BBR gives its back. Returns false (p unchanged) when p
 * runs BBR and every log is held.
 */
bool tcp_rate_log_attach(tern_stack *st, tcp_pcb *p);
static inline tcp_range *tcp_sack_ranges(const tern_stack *st, const tcp_pcb *p) {
    return tcp_ooo_ranges(st, p) + st->tcp->ooo_cap;
}
/* The fixed IP and TCP headers of the connection's family: 40 bytes over IPv4, 60 over IPv6. */
static inline uint32_t tcp_hdrs(const tcp_pcb *p) {
    return tern_ip_hdr_len(p->raddr.family) + 20u;
}
/* RFC 9293 §3.7.1: the send MSS assumed without an MSS option: 536 over IPv4, 1220 over IPv6
 * (MUST-15). */
static inline uint16_t tcp_default_mss(const tcp_pcb *p) {
    return p->raddr.family == TERN_AF_INET6 ? TCP_DEFAULT_MSS6 : TCP_DEFAULT_MSS;
}
static inline bool tcp_synchronized(const tcp_pcb *p) {
    return p->state >= TERN_TCP_ESTABLISHED;
}

/* the pool, lookups, lists */
tcp_pcb *tcp_pcb_alloc(tern_stack *st);
void tcp_pcb_free(tern_stack *st, tcp_pcb *p);
void tcp_pcb_defaults(tern_stack *st, tcp_pcb *p);
/* The 4-tuple hash shared by the connection and TIME-WAIT tables. */
uint32_t tcp_tuple_hash(const tern_addr *la, uint16_t lp, const tern_addr *ra, uint16_t rp);
void tcp_hash_insert(tern_stack *st, tcp_pcb *p);
void tcp_hash_remove(tern_stack *st, tcp_pcb *p);
tcp_pcb *tcp_lookup(tern_stack *st, const tern_addr *laddr, uint16_t lport, const tern_addr *raddr,
                    uint16_t rport);
tcp_pcb *tcp_lookup_listener(tern_stack *st, const tern_addr *laddr, uint16_t lport);
void tcp_mark_dirty(tern_stack *st, tcp_pcb *p);
void tcp_timers_update(tern_stack *st, tcp_pcb *p);
void tcp_set_state(tern_stack *st, tcp_pcb *p, uint8_t state);
/* The connection ends with `err` (TERN_OK for a normal close): to CLOSED, freed if orphaned. */
void tcp_close_conn(tern_stack *st, tcp_pcb *p, tern_err err);
/* Enter TIME-WAIT: 2 x MSL (RFC 9293 §3.10.7.4). */
void tcp_enter_time_wait(tern_stack *st, tcp_pcb *p, uint64_t now);
/* Choose our window scale and MSS for a new connection (RFC 7323 §2.2, RFC 9293 §3.7.1). */
void tcp_setup_local_options(tern_stack *st, tcp_pcb *p, uint32_t mtu);
/* Recompute snd_mss from peer_mss, the path MTU and the options in use. */
void tcp_update_snd_mss(tcp_pcb *p);

/* ---- handles (tcp_socket.c) ---- */
/* The handle of p: its generation and index. */
tern_sock tcp_handle_make(const tern_stack *st, const tcp_pcb *p);
/* The socket of handle s: TERN_ERR_INVALID_ARGUMENT (no such slot) or TERN_ERR_CLOSED (stale). */
tern_err tcp_handle_get(const tern_stack *st, tern_sock s, tcp_pcb **out);
/* p's tern_tcp_info (tcp_sockopt.c; tern_tcp_get_info, and introspection of sockets no handle
 * refers to). */
void tcp_fill_info(const tern_stack *st, const tcp_pcb *p, tern_tcp_info *out);

/* ---- timer heap (tcp_heap.c) ---- */
/* Take p off the heap (it has no deadline any more, or is freed). */
void tcp_heap_remove(tern_stack *st, tcp_pcb *p);

/* ---- listen/accept (tcp_listen.c) ---- */
/* A passive child became ESTABLISHED: move it to the accept queue (false: the queue is full). */
bool tcp_child_established(tern_stack *st, tcp_pcb *child);
/* A passive child leaves its listener's queues. */
void tcp_detach_child(tern_stack *st, tcp_pcb *c);
/* A listener closes: off the listener list, its children not yet accepted reset. */
void tcp_close_listener(tern_stack *st, tcp_pcb *l);

/* ---- input (tcp_input.c) ---- */
/*
 * A passive child for a SYN (or the SYN a valid cookie stands for): the
 * listener's settings, the SYN's options, ISN. Not yet in SYN-RECEIVED,
 * hashed or counted in the SYN queue. NULL when no socket is free.
 */
tcp_pcb *tcp_listen_child(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                          const struct tern_tcp_repr *seg);

/* ---- SYN cookies (tcp_syncookie.c, RFC 4987 §3.6) ---- */
/* Answer a SYN that finds the listener's SYN queue full with a cookie SYN-ACK. */
void tcp_syncookie_send(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                        const struct tern_tcp_repr *seg);
/*
 * An ACK for a listener: if it carries a valid cookie, create the child
 * (SYN-RECEIVED, hashed, *child) for the caller to process the ACK with.
 * Returns 1 (child made), 0 (valid, but the accept queue is full or no
 * socket is free: dropped, counted), -1 (no valid cookie).
 */
int tcp_syncookie_ack(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                      const struct tern_tcp_repr *seg, tcp_pcb **child);
/* ---- the send queue's bytes (tcp_sendq.c): the ring and lent extents ---- */
/* Copy len queued bytes from queue offset off (bytes past snd_buf_seq) to dst and return their
 * partial checksum, taken in the same pass (tern_csum_copy), as if dst[0] were at an even offset.
 */
uint32_t tcp_sendq_copy(const tern_stack *st, const tcp_pcb *p, uint32_t off, uint8_t *dst,
                        uint32_t len);
/* Append n bytes (n <= tx_cap - tx_len) to the queue by copying them into the ring. */
void tcp_sendq_append(tern_stack *st, tcp_pcb *p, const uint8_t *data, uint32_t n);
/* The first n queued bytes (n <= tx_len) are acknowledged: drop them (the caller moves
 * snd_buf_seq); lent extents they finish count as done. */
void tcp_sendq_acked(tern_stack *st, tcp_pcb *p, uint32_t n);
/* The connection will send no more data: release every lent buffer (counted as done) and drop
 * the lent bytes from the queue. */
void tcp_sendq_release_lent(tcp_pcb *p);
/* How many of `len` bytes the user may queue now (tern_tcp_send, tern_tcp_lend): TERN_OK with *n
 * the bytes the send queue takes (0 when len is 0), TERN_ERR_WOULD_BLOCK when the queue is full,
 * or the error the state gives; `who` names the call in the error message. */
tern_err tcp_send_room(tern_stack *st, const tcp_pcb *p, const char *who, size_t len, uint32_t *n);

/* ---- output (tcp_output.c) ---- */
/* Send what the windows allow, plus any pending ACK. */
void tcp_output(tern_stack *st, tcp_pcb *p, uint64_t now);
/* Send one segment: [seq, seq+len) of the send buffer (len 0: none) with flags. */
tern_err tcp_send_segment(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len,
                          uint8_t flags);

/* ---- the TCP header template (tcp_hdr_tmpl.c) ---- */
/* May a segment with flags and len payload bytes have the template's header? Not when it is a SYN
 * or RST, carries urgent data, or SACK blocks are due (tcp_send_segment builds those in full). */
bool tcp_hdr_tmpl_applies(const tcp_pcb *p, uint8_t flags, uint32_t len);
/* p's template for its option layout (timestamps or none), built when empty or of the other. */
const tcp_hdr_tmpl *tcp_hdr_tmpl_get(tcp_pcb *p);
/* Write the header of a segment with v's fields and len payload bytes whose partial sum is
 * payload_sum (tern_csum_copy's) at buf, its checksum finished incrementally (RFC 1624 §3). */
void tcp_hdr_tmpl_emit(const tcp_hdr_tmpl *t, uint8_t *buf, const tcp_hdr_vals *v, uint32_t len,
                       uint32_t payload_sum);
/* Send an ACK now (RFC 9293: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>). */
void tcp_send_ack(tern_stack *st, tcp_pcb *p, uint64_t now);
/* An ACK in answer to an unacceptable segment, throttled per RFC 5961 §7 when challenge is set. */
void tcp_send_challenge_ack(tern_stack *st, tcp_pcb *p, uint64_t now);
/* The ACK in answer to an unacceptable segment (RFC 9293 §3.10.7.4 first check, RFC 7323 §5.3
 * PAWS), throttled to one per invalid_ack_interval_ns when the segment carries no data. */
void tcp_send_oow_ack(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_repr *seg);
/* RST for a segment that has no connection (RFC 9293 §3.10.7.1). */
void tcp_send_rst_reply(tern_stack *st, uint64_t now, const tern_ip_rx *ip,
                        const struct tern_tcp_repr *seg);
/* RST on a connection: <SEQ=SND.NXT><CTL=RST> (abort). */
void tcp_send_rst(tern_stack *st, tcp_pcb *p, uint64_t now);
/* The window we would announce now, in bytes (receiver SWS avoidance, never shrinking). */
uint32_t tcp_rcv_window(const tcp_pcb *p);
/* The connection's timestamp clock at `now` (RFC 7323 §5.4: 1 ms ticks plus
 * a random per-connection offset): the TSval we send. */
uint32_t tcp_ts_clock(const tcp_pcb *p, uint64_t now);
/* Retransmit the first unacknowledged segment (fast retransmit). */
void tcp_retransmit_first(tern_stack *st, tcp_pcb *p, uint64_t now);
/* Send [seq, seq+n) of the sequence space (it may end with our FIN); rexmit counts it. */
void tcp_send_range(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t n,
                    bool rexmit);
/* Send our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) with seq ISS. */
void tcp_send_syn(tern_stack *st, tcp_pcb *p, uint64_t now);
/* Arm the retransmission timer if data is outstanding and it is off (RFC 6298 (5.1)). */
void tcp_arm_rexmt(tcp_pcb *p, uint64_t now);

/* ---- timers (tcp_timer.c) ---- */
void tcp_timer_fire(tern_stack *st, tcp_pcb *p, uint64_t now);

/* ---- tail loss probe (tcp_tlp.c, RFC 8985 §7) ---- */
/* (Re)arm or stop the PTO timer after output (RFC 8985 §7.2). */
void tcp_tlp_schedule(tcp_pcb *p, uint64_t now);
/* The PTO timer expired: send a probe if one is still due (RFC 8985 §7.3). */
void tcp_tlp_fire(tern_stack *st, tcp_pcb *p, uint64_t now);
/*
 * An acceptable ACK: progress (SND.UNA advanced or new SACK information)
 * ends a probe episode and restarts the PTO. A probe that was a
 * retransmission ends its episode (RFC 8985 §7.4) with a D-SACK (dsack) or a
 * duplicate ACK without SACK blocks (sack_blocks false): it was redundant;
 * or with an ACK above it without either: it repaired a loss, and congestion
 * control responds. An ACK of exactly its end leaves the episode open.
 */
void tcp_tlp_on_ack(tcp_pcb *p, uint64_t now, uint32_t ack, bool progress, bool dsack,
                    bool sack_blocks);
/* One new segment (at most SMSS, within the peer's window, cwnd not
 * consulted): a probe, or F-RTO's new data. False when none can go. */
bool tcp_tlp_new_segment(tern_stack *st, tcp_pcb *p, uint64_t now);

/* ---- spurious RTOs (tcp_frto.c, RFC 5682 F-RTO, RFC 3522 Eifel, RFC 4015) ---- */
/* The retransmission timer expired (before cwnd and ssthresh are reduced;
 * p->retries counts this expiry): arm the detection. */
void tcp_frto_on_rto(tcp_pcb *p, uint64_t now);
/* After an acceptable ACK updated SND.UNA (from una0) and the scoreboard
 * (new_sack: it SACKed new octets): detect a spurious RTO and undo it, or
 * take F-RTO's next step (new data in step 2 b). */
void tcp_frto_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, const struct tern_tcp_options *opt,
                     uint32_t una0, bool new_sack);

/* ---- urgent data (tcp_urgent.c, RFC 9293 §3.8.5, RFC 6093) ---- */
/* Sixth step of SEGMENT ARRIVES: the URG bit and urgent pointer of an acceptable segment. */
void tcp_urg_input(tcp_pcb *p, const struct tern_tcp_repr *seg);
/* A SYN's text is queued (RFC 9293 §3.10.7.2/3): keep its urgent pointer for later. */
void tcp_urg_syn_text(tcp_pcb *p, const struct tern_tcp_repr *seg);
/* The queued SYN text was delivered: its urgent pointer takes effect. */
void tcp_urg_established(tcp_pcb *p);
/* The user read or discarded data: leave urgent mode once the urgent data is consumed. */
void tcp_urg_consumed(tcp_pcb *p);
/* Bytes the user may read in one call without crossing the end of urgent data (max when none). */
uint32_t tcp_urg_read_limit(const tcp_pcb *p, uint32_t max);
/* The ISS was chosen: urgent data queued before it gets its sequence number. */
void tcp_urg_iss_chosen(tcp_pcb *p);
/* Set URG and the urgent pointer of an outgoing segment while SND.UP is ahead of it. */
void tcp_urg_output(tcp_pcb *p, struct tern_tcp_repr *r);

/* ---- receive reassembly (tcp_ooo.c) ---- */
/*
 * Place a segment's data at seq (after trimming to the window) into the
 * receive ring. Returns the bytes by which rcv_nxt advanced (0 for data kept
 * out of order or dropped). *ooo tells whether the segment was out of order.
 */
uint32_t tcp_ooo_receive(tern_stack *st, tcp_pcb *p, uint32_t seq, const uint8_t *data,
                         uint32_t len, bool *ooo);

/* ---- copy-and-checksum on receive (tcp_rx_place.c) ---- */
/*
 * Parse the TCP segment ip carries into seg and verify its checksum, as
 * tern_tcp_parse does (same results, same order of checks). For the next
 * in-order data segment of a connection the payload is copied into the
 * connection's receive ring, past RCV.NXT, in the same pass as its sum; it is
 * committed only by tcp_ooo_receive (tcp_rx_placed), never on a bad checksum.
 *   pcb        the connection of the segment's 4-tuple when it was looked up
 *              (NULL when there is none, or when *looked_up is false)
 *   looked_up  whether the lookup was made (the caller then need not repeat it)
 * Returns TERN_OK, TERN_ERR_BAD_CHECKSUM, TERN_ERR_TRUNCATED or TERN_ERR_MALFORMED.
 */
tern_err tcp_rx_parse(tern_stack *st, const tern_ip_rx *ip, struct tern_tcp_repr *seg,
                      tcp_pcb **pcb, bool *looked_up);
/* Whether the len bytes at data, in order at seq for p, are already in place (placed by
 * tcp_rx_parse for the segment being processed): the first tcp_rx_placed_post(st, len) of them
 * at the end of p's posted buffer, the rest in p's ring at rx_head + rx_len. */
bool tcp_rx_placed(const tern_stack *st, const tcp_pcb *p, uint32_t seq, const uint8_t *data,
                   uint32_t len);
static inline uint32_t tcp_rx_placed_post(const tern_stack *st, uint32_t len) {
    return st->tcp->rx_placed_post < len ? st->tcp->rx_placed_post : len;
}

/* ---- a posted read (tcp_rx_post.c) ---- */
/* How many in-order bytes arriving now may go straight into p's posted buffer: its room, or 0
 * when none is posted or the ring holds bytes to read first (or urgent data is pending, which is
 * read from the ring with tern_tcp_recv, RFC 9293 §3.9.1.3). */
static inline uint32_t tcp_post_room(const tcp_pcb *p) {
    if (!p->post_buf || p->rx_len != 0 || (p->urg & TCP_URG_RCV)) {
        return 0;
    }
    return p->post_cap - p->post_len;
}
/* Move in-order bytes waiting in p's ring into its posted buffer while it has room (at the post,
 * and after text was received that could not go there directly), as reads of them. */
void tcp_post_fill(tern_stack *st, tcp_pcb *p);
/* The read call's refusal while a buffer is posted: TERN_ERR_BAD_STATE, with a message. */
tern_err tcp_post_refuses(tern_stack *st, const char *call);
/* tcp_socket.c's read helpers, shared with tcp_rx_post.c: what a read may return now (TERN_OK
 * with *n readable in one read, 0 meaning end of stream; or the read's error), and the
 * application took the first n readable bytes (free them, open the window). */
tern_err tcp_readable_now(const tcp_pcb *p, uint32_t *n);
void tcp_rx_consumed(tern_stack *st, tcp_pcb *p, uint32_t n);

/* ---- header prediction (tcp_predict.c) ---- */
typedef enum {
    TCP_HP_NONE = 0, /* the general path of RFC 9293 §3.10.7.4 */
    TCP_HP_DATA,     /* in-order data, placed in the ring, acknowledging nothing new */
    TCP_HP_ACK,      /* a pure ACK that moves SND.UNA, outside recovery, no SACK */
    TCP_HP_ACK_LEAN, /* such an ACK for which only what it can change is done (tcp_predict.c) */
} tcp_hp_kind;
/* Whether seg (checksum verified, for p's 4-tuple) may take a short path that
 * does exactly what conn_input's general path would (conditions in tcp_predict.c). */
tcp_hp_kind tcp_predict(const tern_stack *st, const tcp_pcb *p, const struct tern_tcp_repr *seg);

/* ---- SACK blocks we send (tcp_sack_out.c, RFC 2018 §4, RFC 2883 §4) ---- */
/* Data at seq was queued out of order: its block is reported first from now on. */
void tcp_sack_note_ooo(tern_stack *st, tcp_pcb *p, uint32_t seq);
/* Received [left, right) again: a D-SACK block in the next ACK (if D-SACK is on). */
void tcp_dsack_note(tcp_pcb *p, uint32_t left, uint32_t right);
/* The segment [seq, seq+len) at or above RCV.NXT: D-SACK what is queued already. */
void tcp_dsack_note_ooo(tern_stack *st, tcp_pcb *p, uint32_t seq, uint32_t len);
/* Fill at most max SACK blocks for an outgoing ACK: the D-SACK block, the
 * block of the latest segment, the most recently reported ones, the others. */
uint8_t tcp_sack_blocks_out(const tern_stack *st, const tcp_pcb *p, struct tern_tcp_sack_block *out,
                            uint8_t max);

/* ---- D-SACKs received (tcp_undo.c, RFC 3708, RFC 4015) ---- */
/* A loss episode starts (before cwnd and ssthresh are reduced). */
void tcp_undo_begin(tcp_pcb *p);
/* [seq, seq+len) was retransmitted during the episode. */
void tcp_undo_rexmit(tcp_pcb *p, uint32_t seq, uint32_t len);
/* After an ACK was processed: count its D-SACK, undo a spurious reduction. */
void tcp_undo_on_ack(tcp_pcb *p, const struct tern_tcp_options *opt, uint32_t ack);

/* ---- SACK scoreboard (tcp_sack.c) ---- */
/* Record the SACK blocks of an ACK; returns the number of valid blocks. */
/* SACK scoreboard ranges per socket for a send buffer of tx_cap bytes: one
 * per hole a full buffer of segments of at least 536 octets (RFC 9293's
 * default MSS) can have, at least 16. */
uint32_t tcp_sack_cap(uint32_t tx_cap);
uint32_t tcp_sack_update(tern_stack *st, tcp_pcb *p, const struct tern_tcp_options *opt);
/* RACK (RFC 8985 §6), tcp_rack.c. */
/* Records in the transmission log for a send buffer of tx_cap bytes: a full
 * buffer of 536-octet segments, half of them retransmitted once, plus 8. */
uint32_t tcp_rack_log_cap(uint32_t tx_cap);
/* RACK.min_RTT's window (RFC 8985 §6.2 Step 2 asks for a windowed minimum
 * without a length): 300 s, as Linux's net.ipv4.tcp_min_rtt_wlen. */
#define TCP_RACK_MIN_RTT_WIN_NS (300ULL * 1000000000ULL)
/* RFC 8985 §6.2 Step 4: recoveries without a D-SACK before reo_wnd_mult falls back to 1 */
#define TCP_RACK_REO_PERSIST 16
/* tcp_rack_reset: empty log, no RACK state (connection start, option change). */
void tcp_rack_reset(tcp_pcb *p);
/* tcp_rack_sent: log a segment of len sequence octets (data and FIN) sent now. */
void tcp_rack_sent(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len);
/* tcp_rack_on_ack: after an ACK updated SND.UNA and the scoreboard: RACK.rtt,
 * RACK.xmit_ts, RACK.fack, reordering (RFC 8985 §6.2 Steps 1-3). has_tsecr:
 * the ACK carried a timestamp option on a connection that uses them; tsecr:
 * its TSecr (tells retransmissions' ACKs from the originals'). */
void tcp_rack_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, bool has_tsecr, uint32_t tsecr);
/* tcp_rack_in_order: whether the next ACK that moves SND.UNA without SACK blocks is delivered
 * in sequence order (no SACKed ranges, no retransmissions in the log) and leaves tcp_rack_detect
 * nothing to find: no record after the latest delivered one was sent before it. */
bool tcp_rack_in_order(const tern_stack *st, const tcp_pcb *p);
/* tcp_rack_on_ack_in_order: tcp_rack_on_ack and tcp_rack_detect for such an ACK (SND.UNA
 * already moved): RACK.rtt, RACK.min_RTT and the latest delivered record, the acknowledged head
 * leaves the log, and the reordering timer is off. */
void tcp_rack_on_ack_in_order(tern_stack *st, tcp_pcb *p, uint64_t now);
/* tcp_rack_timer_rxt: the retransmissions of [seq, end) are made by a timer
 * (RTO recovery, a tail loss probe); their D-SACKs leave the reordering
 * window as it is. */
void tcp_rack_timer_rxt(tcp_pcb *p, uint32_t seq, uint32_t end);
/* tcp_rack_dsack: a D-SACK block [left, right) arrived: counts for the
 * reordering window (RFC 8985 §6.2 Step 4) unless a timer retransmitted it. */
void tcp_rack_dsack(tcp_pcb *p, uint32_t left, uint32_t right);
/* tcp_rack_detect: RFC 8985 §6.2 Step 5: mark lost segments (moves lost_to;
 * a lost retransmission waits in the log for tcp_rack_next_relost, or pulls
 * HighRxt back to it: tcp_rack_rxt_alone), arm or stop the reordering timer
 * t_rack. Returns true if it marked a segment lost. */
bool tcp_rack_detect(tern_stack *st, tcp_pcb *p, uint64_t now);
/* tcp_rack_rxt_alone: RACK's lost retransmissions go again one by one
 * (tcp_rack_next_relost), and a new recovery leaves HighRxt where it is, so
 * that retransmissions still in flight are not sent again. On for BBR
 * connections, which send at their model's rate whatever the loss, so that
 * every needless copy takes the place of new data (issue 22: 1,100-1,500
 * copies per 10 MiB at 15 % loss). NewReno and CUBIC keep HighRxt as
 * before (pulled back to a lost retransmission, SND.UNA at a recovery's
 * start): their figures and timelines were measured that way, and the
 * change gave CUBIC mixed results (bench_tcp_loss, 5 seeds: -3 % to +1 %). */
static inline bool tcp_rack_rxt_alone(const tcp_pcb *p) {
    return p->rack_on && p->cc_id == TERN_TCP_CC_BBR;
}
/* tcp_rack_next_relost: the lowest unSACKed range (at most one SMSS) of a
 * retransmission RACK marked lost that has not been sent again, below
 * HighRxt; false if there is none. */
bool tcp_rack_next_relost(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len);
/* tcp_rack_relost_bytes: unSACKed octets of those retransmissions (below
 * HighRxt, where SetPipe counts them as retransmitted and in flight). */
uint32_t tcp_rack_relost_bytes(const tern_stack *st, const tcp_pcb *p);
/* tcp_rack_timer_fire: t_rack expired: detect again, recover, send. */
void tcp_rack_timer_fire(tern_stack *st, tcp_pcb *p, uint64_t now);
/* RFC 6675 IsLost boundary: unSACKed data below the returned sequence is lost. */
uint32_t tcp_sack_lost_boundary(const tern_stack *st, const tcp_pcb *p);
/* RFC 6675 §4 SetPipe (with lost_to and high_rxt). */
uint32_t tcp_pipe(const tern_stack *st, const tcp_pcb *p);
/* Bytes SACKed above snd_una. */
uint32_t tcp_sacked_bytes(const tern_stack *st, const tcp_pcb *p);
/*
 * RFC 6675 NextSeg rule (1): the next unSACKed range at or above
 * max(high_rxt, snd_una) and below lost_to, at most mss long. Returns false if none.
 */
bool tcp_next_rexmit(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len);
/*
 * RFC 6675 NextSeg rule (3): the next unSACKed range above max(high_rxt,
 * snd_una) and below the highest SACKed octet, lost or not, at most mss long.
 */
bool tcp_next_rexmit_rule3(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len);
/*
 * RFC 6675 NextSeg rule (4), the rescue retransmission: once per recovery,
 * when HighACK > RescueRxt (or RescueRxt is undefined), one segment of at
 * most mss ending with the highest outstanding unSACKed octet.
 */
bool tcp_next_rescue(const tern_stack *st, const tcp_pcb *p, uint32_t *seq, uint32_t *len);
/*
 * Lost retransmissions: true when more than (DupThresh - 1) * SMSS octets or
 * DupThresh ranges sent after the latest retransmission (above rxt_mark) are
 * SACKed while retransmitted data (below high_rxt) is still unSACKed. Every
 * retransmission is older than that data, so by the IsLost reasoning of
 * RFC 6675 §4 all of them are presumed lost.
 */
bool tcp_sack_rexmit_lost(const tern_stack *st, const tcp_pcb *p);

/* ---- congestion control (tcp_cc*.c) ---- */
void tcp_cc_init(tcp_pcb *p);
void tcp_cc_on_ack(tcp_pcb *p, uint32_t acked, uint64_t now);
/* A loss was detected (fast retransmit or RTO): ssthresh per the algorithm. */
void tcp_cc_on_loss(tcp_pcb *p, uint64_t now, bool rto);
/* Fast recovery ended (full ACK). */
void tcp_cc_recovery_done(tcp_pcb *p, uint64_t now);
/* Idle for longer than the RTO: cwnd to the restart window (RFC 5681 §4.1). */
void tcp_cc_restart_after_idle(tcp_pcb *p);
/* The algorithm changed on a live connection: its state starts afresh. */
void tcp_cc_reinit(tcp_pcb *p);
/* Whether the algorithm sets cwnd itself on every ACK (BBR): no PRR then. */
bool tcp_cc_controls(const tcp_pcb *p);
/* An acceptable ACK: before (begin, into the caller's context) and after (end) it updated
 * SND.UNA, the scoreboard, loss recovery and cwnd; end gives the algorithm that controls
 * cwnd (BBR) its rate sample. */
typedef struct tcp_cc_ack_ctx tcp_cc_ack_ctx;
void tcp_cc_ack_begin(const tern_stack *st, const tcp_pcb *p, tcp_cc_ack_ctx *cx);
void tcp_cc_ack_end(tern_stack *st, tcp_pcb *p, uint64_t now, const tcp_cc_ack_ctx *cx);

/* flight size (RFC 5681): data sent but not cumulatively acknowledged */
static inline uint32_t tcp_flight(const tcp_pcb *p) {
    return p->snd_nxt - p->snd_una;
}

/*
 * FlightSize for ssthresh (RFC 5681 §3.2 step 2, equation (4)): "additional
 * data sent in limited transmit MUST NOT be included in this calculation"
 * (RFC 3042 §2: those segments are sent beyond cwnd and leave it unchanged).
 */
static inline uint32_t tcp_flight_for_ssthresh(const tcp_pcb *p) {
    uint32_t f = tcp_flight(p);
    return f > p->lt_bytes ? f - p->lt_bytes : 0;
}

#endif /* TERN_TCP_PRIVATE_H */
