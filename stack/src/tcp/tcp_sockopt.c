/*
 * Per-socket options (tern_tcp_set_option: no-delay, keep-alive, buffers,
 * congestion control, retransmission limits, RFC 7323/2018 options, ...)
 * and the tcp_info-like status (tern_tcp_get_info, RFC 9293 §3.9.1 STATUS).
 */
#include <string.h>

#include "tcp_cc.h"
#include "tcp_private.h"

tern_err tern_tcp_set_option(tern_stack *st, tern_sock s, tern_tcp_option opt, int64_t value) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    bool before_open = p->state == TERN_TCP_CLOSED && !(p->flags & TCPF_HASHED);
#define FLAG(f)                                                                                    \
    do {                                                                                           \
        if (value)                                                                                 \
            p->flags |= (f);                                                                       \
        else                                                                                       \
            p->flags &= ~(uint32_t)(f);                                                            \
    } while (0)
    switch (opt) {
    case TERN_TCP_OPT_NODELAY:
        FLAG(TCPF_NODELAY);
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_KEEPALIVE:
        FLAG(TCPF_KEEPALIVE);
        tcp_mark_dirty(st, p); /* output arms or stops the timer */
        return TERN_OK;
    case TERN_TCP_OPT_KEEPIDLE_NS:
        if (value <= 0)
            break;
        p->keep_idle_ns = (uint64_t)value;
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_KEEPINTVL_NS:
        if (value <= 0)
            break;
        p->keep_intvl_ns = (uint64_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_KEEPCNT:
        if (value <= 0 || value > 255)
            break;
        p->keep_cnt = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_RX_BUFFER:
        if (!before_open || p->state == TERN_TCP_LISTEN) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: buffer sizes are set before connect/listen");
        }
        if (value < 1 || value > st->tcp->rx_cap) {
            return tern_fail(
                st, TERN_ERR_INVALID_ARGUMENT,
                "tcp_set_option: RX_BUFFER %lld outside 1..%u (the configured rx_buffer)",
                (long long)value, st->tcp->rx_cap);
        }
        p->rx_cap = (uint32_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_TX_BUFFER:
        if (!before_open) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: buffer sizes are set before connect/listen");
        }
        if (value < 1 || value > st->tcp->tx_cap) {
            return tern_fail(
                st, TERN_ERR_INVALID_ARGUMENT,
                "tcp_set_option: TX_BUFFER %lld outside 1..%u (the configured tx_buffer)",
                (long long)value, st->tcp->tx_cap);
        }
        p->tx_cap = (uint32_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_CONGESTION:
        if (value != TERN_TCP_CC_NEWRENO && value != TERN_TCP_CC_CUBIC && value != TERN_TCP_CC_BBR)
            break;
        {
            uint8_t was = p->cc_id;
            p->cc_id = (uint8_t)value;
            if (!tcp_rate_log_attach(st, p)) {
                p->cc_id = was;
                return tern_fail(
                    st, TERN_ERR_NO_BUFFER,
                    "tcp_set_option: CONGESTION BBR needs a delivery-rate log and all %u "
                    "are held (tcp.bbr_sockets)",
                    st->tcp->rlog_n);
            }
        }
        p->t_pace = 0; /* only BBR paces */
        tcp_cc_reinit(p);
        return TERN_OK;
    case TERN_TCP_OPT_SYN_RETRIES:
        if (value < 1 || value > 255)
            break;
        p->syn_retries = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_DATA_RETRIES:
        if (value < 1 || value > 255)
            break;
        p->data_retries = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_USER_TIMEOUT_NS:
        if (value < 0)
            break;
        p->user_timeout_ns = (uint64_t)value;
        if (value == 0) {
            p->t_user = TERN_NEVER;
        } else if (p->t_user != TERN_NEVER) {
            p->t_user = TERN_NEVER; /* re-armed from the next transmission */
        }
        tcp_timers_update(st, p);
        tcp_mark_dirty(st, p);
        return TERN_OK;
    case TERN_TCP_OPT_MSS:
        if (value < TCP_MIN_MSS || value > 65535)
            break;
        p->mss_clamp = (uint16_t)value;
        if (!before_open) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: MSS is set before connect/listen");
        }
        return TERN_OK;
    case TERN_TCP_OPT_TTL:
        if (value < 0 || value > 255)
            break;
        p->ttl = (uint8_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_SACK:
    case TERN_TCP_OPT_TIMESTAMPS:
    case TERN_TCP_OPT_WINDOW_SCALING:
        if (!before_open && p->state != TERN_TCP_LISTEN) {
            return tern_fail(st, TERN_ERR_BAD_STATE,
                             "tcp_set_option: options are negotiated before connect");
        }
        FLAG(opt == TERN_TCP_OPT_SACK         ? TCPF_WANT_SACK
             : opt == TERN_TCP_OPT_TIMESTAMPS ? TCPF_WANT_TS
                                              : TCPF_WANT_WS);
        return TERN_OK;
    case TERN_TCP_OPT_TAIL_LOSS_PROBE:
        FLAG(TCPF_TLP);
        if (!value) {
            p->t_tlp = TERN_NEVER;
            p->tlp = 0;
            tcp_timers_update(st, p);
        }
        return TERN_OK;
    case TERN_TCP_OPT_RACK:
        if ((value != 0) != (p->rack_on != 0)) {
            tcp_rack_reset(p);
            tcp_timers_update(st, p);
        }
        p->rack_on = value ? 1 : 0; /* RFC 8985 §6 */
        return TERN_OK;
    case TERN_TCP_OPT_DSACK:
        p->dsack_on = value ? 1 : 0; /* RFC 2883 */
        return TERN_OK;
    case TERN_TCP_OPT_ABC_L2:
        p->abc_l2 = value ? 1 : 0; /* RFC 3465 §2.3 */
        return TERN_OK;
    case TERN_TCP_OPT_DELACK_NS:
        if (value < 0)
            break;
        p->delack_ns = (uint64_t)value;
        return TERN_OK;
    case TERN_TCP_OPT_RTO_MIN_NS:
        if (value <= 0)
            break;
        tcp_rtt_set_min(&p->rtt, (uint64_t)value);
        return TERN_OK;
    case TERN_TCP_OPT_INITIAL_WINDOW:
        if (value < 1 || value > 255)
            break;
        p->iw = (uint8_t)value;
        return TERN_OK;
    default:
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_set_option: unknown option %d",
                         (int)opt);
    }
#undef FLAG
    return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "tcp_set_option: option %d: bad value %lld",
                     (int)opt, (long long)value);
}

tern_err tern_tcp_get_info(const tern_stack *st, tern_sock s, tern_tcp_info *out) {
    tcp_pcb *p;
    tern_err e = tcp_handle_get(st, s, &p);
    if (e) {
        return e;
    }
    tcp_fill_info(st, p, out);
    return TERN_OK;
}

void tcp_fill_info(const tern_stack *st, const tcp_pcb *p, tern_tcp_info *out) {
    memset(out, 0, sizeof *out);
    out->state = (tern_tcp_state)p->state;
    out->local = p->laddr;
    out->remote = p->raddr;
    out->local_port = p->lport;
    out->remote_port = p->rport;
    out->srtt_ns = p->rtt.srtt;
    out->rttvar_ns = p->rtt.rttvar;
    out->rto_ns = p->rtt.rto;
    out->snd_mss = p->snd_mss;
    out->rcv_mss = p->rcv_mss;
    out->cwnd = p->cwnd;
    out->ssthresh = p->ssthresh;
    out->iss = p->iss;
    out->irs = p->irs;
    out->snd_una = p->snd_una;
    out->snd_nxt = p->snd_nxt;
    out->snd_wnd = p->snd_wnd;
    out->rcv_nxt = p->rcv_nxt;
    out->rcv_wnd = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    out->snd_wscale = p->snd_wscale;
    out->rcv_wscale = p->rcv_wscale;
    out->sack_ok = (p->flags & TCPF_SACK_OK) != 0;
    out->ts_ok = (p->flags & TCPF_TS_OK) != 0;
    out->retransmits = p->retries;
    out->total_retransmits = p->total_retransmits;
    out->segs_in = p->segs_in;
    out->segs_out = p->segs_out;
    out->bytes_acked = p->bytes_acked;
    out->bytes_received = p->bytes_received;
    out->fast_retransmits = p->fast_retransmits;
    out->rto_timeouts = p->rto_timeouts;
    out->dup_acks_in = p->dup_acks_in;
    out->sack_blocks_in = p->sack_blocks_in;
    out->ooo_segments = p->ooo_segments;
    out->zero_window_probes = p->zero_window_probes;
    out->keepalives_sent = p->keepalives_sent;
    out->challenge_acks = p->challenge_acks;
    out->tlp_probes = p->tlp_probes;
    out->dsack_blocks_in = p->dsack_blocks_in;
    out->spurious_retransmits = p->spurious_rexmits;
    out->dsack_undos = p->dsack_undos;
    out->spurious_rtos = p->spurious_rtos;
    if (p->cc_id == TERN_TCP_CC_BBR && (p->flags & TCPF_CC_INIT)) {
        out->bbr_mode = p->bbr.mode;
        out->bbr_btlbw = p->bbr.btlbw;
        out->bbr_pacing_rate = p->bbr.pacing_rate;
        out->bbr_rtprop_ns = p->bbr.rtprop;
        out->bbr_rtprop_stamp_ns = p->bbr.rtprop_stamp;
        out->bbr_pacing_gain = p->bbr.pacing_gain;
        out->bbr_cwnd_gain = p->bbr.cwnd_gain;
        out->bbr_cycle_index = p->bbr.cycle_index;
        out->bbr_round_count = p->bbr.round_count;
        out->bbr_filled_pipe = p->bbr.filled_pipe != 0;
        out->delivered = p->rate.delivered;
    }
    out->unacked = tcp_flight(p);
    out->sacked = tcp_sacked_bytes(st, p);
    out->lost = 0;
    if (seq_gt(p->lost_to, p->snd_una)) {
        uint32_t lt = seq_min(p->lost_to, p->snd_nxt);
        out->lost = (lt - p->snd_una) -
                    tcp_ranges_covered(tcp_sack_ranges(st, p), p->sack_n, p->snd_una, lt);
    }
    out->in_flight = tcp_synchronized(p) ? tcp_pipe(st, p) : tcp_flight(p);
    out->error = (tern_err)p->err;
}
