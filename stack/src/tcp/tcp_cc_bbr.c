/*
 * BBR congestion control, version 1, as specified in
 * draft-cardwell-iccrg-bbr-congestion-control-00 (BBRv1; not BBRv2/v3's
 * loss- and ECN-driven bounds of draft-ietf-ccwg-bbr). BBR keeps a model of
 * the path, the bottleneck bandwidth BtlBw (windowed maximum of delivery
 * rate samples, tcp_rate.c, over 10 packet-timed round trips) and the
 * round-trip propagation time RTprop (windowed minimum of RTT samples over
 * 10 s), and derives from it the pacing rate (pacing_gain x BtlBw,
 * tcp_pacing.c) and the congestion window (cwnd_gain x BDP). A loss does
 * not reduce the model: during fast recovery the window follows packet
 * conservation for one round trip, and is restored when recovery ends.
 *
 * Everything is integer: rates in bytes per second, times in ns, windows in
 * bytes, gains in 1/256 units (BBR_UNIT); the draft's packet counts are
 * segments of SMSS bytes here. The random start of the PROBE_BW gain cycle
 * comes from the stack's seeded generator (same seed, same bytes).
 *
 * Comments name the draft's pseudocode functions (BBRSetCwnd, ...) and
 * paraphrase their rules; the draft's text could not be retrieved in the
 * session that wrote this file to quote it.
 */
#include "tcp_cc.h"

#define BBR_UNIT 256u
/* BBRHighGain = 2/ln(2) (2.885): 739/256 */
#define BBR_HIGH_GAIN 739u
/* DRAIN uses BBR.pacing_gain = 1/BBRHighGain: 88/256 */
#define BBR_DRAIN_GAIN 88u
/* PROBE_BW's cwnd_gain of 2 */
#define BBR_CWND_GAIN 512u
#define BBR_GAIN_CYCLE_LEN 8u
#define BBR_MIN_PIPE_SEGS 4u                         /* BBRMinPipeCwnd: 4 packets */
#define BBR_RTPROP_FILTER_NS (10ULL * 1000000000ULL) /* RTpropFilterLen: 10 s */
#define BBR_PROBE_RTT_NS (200ULL * 1000000ULL)       /* ProbeRTTDuration: 200 ms */
#define BBR_NO_SRTT_NS 1000000ULL                    /* SRTT ? SRTT : 1ms */

/* pacing_gain_cycle = [5/4, 3/4, 1, 1, 1, 1, 1, 1] */
static const uint16_t bbr_gain_cycle[BBR_GAIN_CYCLE_LEN] = {320, 192, 256, 256, 256, 256, 256, 256};

static uint32_t min_pipe_cwnd(const tcp_pcb *p) {
    return BBR_MIN_PIPE_SEGS * p->snd_mss;
}

/*
 * BBRSetSendQuantum: the data sent in one burst, by pacing rate: 1
 * segment below 1.2 Mbit/s, 2 below 24 Mbit/s, above that the data of 1 ms
 * at the pacing rate, at most 64 KB. Pacing lets a quantum go at once
 * (tcp_pacing.c); the window budgets 3 quanta for it (BBRInflight).
 */
static void set_send_quantum(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    uint64_t q;
    if (b->pacing_rate < 1200000 / 8) {
        q = p->snd_mss;
    } else if (b->pacing_rate < 24000000 / 8) {
        q = 2u * p->snd_mss;
    } else {
        q = b->pacing_rate / 1000;
        if (q > 65536) {
            q = 65536;
        }
        if (q < 2u * p->snd_mss) {
            q = 2u * p->snd_mss;
        }
    }
    b->send_quantum = (uint32_t)q;
}

/* BBRInflight(gain): gain x BDP plus the quantization budget (). */
static uint32_t bbr_inflight(const tcp_pcb *p, uint32_t gain) {
    const tcp_bbr *b = &p->bbr;
    if (b->rtprop == 0 || b->btlbw == 0) {
        /* if (BBR.RTprop == Inf) return InitialCwnd (no valid RTT samples yet) */
        return tcp_cc_initial_window(p->iw, p->snd_mss);
    }
    unsigned __int128 bdp = (unsigned __int128)b->btlbw * b->rtprop / 1000000000ULL;
    unsigned __int128 w = (bdp * gain + BBR_UNIT - 1) / BBR_UNIT;
    /* Quantization budget: 3 x send_quantum, and 2 segments more in the
     * 5/4 phase. */
    w += 3u * (uint64_t)(b->send_quantum ? b->send_quantum : p->snd_mss);
    if (b->mode == TERN_TCP_BBR_PROBE_BW && b->cycle_index == 0) {
        w += 2u * p->snd_mss;
    }
    if (w > UINT32_MAX / 2) {
        w = UINT32_MAX / 2;
    }
    return (uint32_t)w;
}

static void set_pacing_rate_with_gain(tcp_pcb *p, uint32_t gain) {
    tcp_bbr *b = &p->bbr;
    uint64_t rate = (uint64_t)((unsigned __int128)b->btlbw * gain / BBR_UNIT);
    /* if (BBR.filled_pipe || rate > BBR.pacing_rate)
     * BBR.pacing_rate = rate */
    if (rate > 0 && (b->filled_pipe || rate > b->pacing_rate)) {
        b->pacing_rate = rate;
    }
}

static void enter_startup(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    b->mode = TERN_TCP_BBR_STARTUP;
    b->pacing_gain = BBR_HIGH_GAIN;
    b->cwnd_gain = BBR_HIGH_GAIN;
}

static void advance_cycle_phase(tcp_pcb *p, uint64_t now) {
    tcp_bbr *b = &p->bbr;
    b->cycle_stamp = now;
    b->cycle_index = (uint8_t)((b->cycle_index + 1) % BBR_GAIN_CYCLE_LEN);
    b->pacing_gain = bbr_gain_cycle[b->cycle_index];
}

static void enter_probe_bw(tern_stack *st, tcp_pcb *p, uint64_t now) {
    tcp_bbr *b = &p->bbr;
    b->mode = TERN_TCP_BBR_PROBE_BW;
    b->pacing_gain = BBR_UNIT;
    b->cwnd_gain = BBR_CWND_GAIN;
    /* BBR.cycle_index = BBRGainCycleLen - 1 - random_int_between(0, 6)
     * -- any phase but the 3/4 one follows (it drains only after a 5/4). */
    b->cycle_index =
        (uint8_t)(BBR_GAIN_CYCLE_LEN - 1 - tern_rng_below(&st->rng, BBR_GAIN_CYCLE_LEN - 1));
    advance_cycle_phase(p, now);
}

static void save_cwnd(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    /* BBRSaveCwnd: the window before recovery or PROBE_RTT */
    if (p->ca_state == TCP_CA_OPEN && b->mode != TERN_TCP_BBR_PROBE_RTT) {
        b->prior_cwnd = b->cwnd;
    } else if (b->cwnd > b->prior_cwnd) {
        b->prior_cwnd = b->cwnd;
    }
}

static void restore_cwnd(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    if (b->prior_cwnd > b->cwnd) {
        b->cwnd = b->prior_cwnd;
    }
}

static void bbr_init(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    *b = (tcp_bbr){0};
    tcp_rate_reset(p);
    b->cwnd = p->cwnd;
    /* BBRInitRoundCounting, BBRInitFullPipe; RTprop = SRTT (the
     * handshake's sample) with its stamp set at the first ACK */
    b->rtprop = p->rtt.srtt;
    enter_startup(p);
    /* BBRInitPacingRate: nominal_bandwidth = InitialCwnd / (SRTT ?
     * SRTT : 1ms); BBR.pacing_rate = BBR.pacing_gain * nominal_bandwidth */
    uint64_t srtt = p->rtt.srtt ? p->rtt.srtt : BBR_NO_SRTT_NS;
    uint64_t nominal = (uint64_t)p->cwnd * 1000000000ULL / srtt;
    b->pacing_rate = nominal * BBR_HIGH_GAIN / BBR_UNIT;
    set_send_quantum(p);
    b->prev_ca_state = TCP_CA_OPEN;
}

/* BBR does not grow cwnd in the shared slow start / congestion avoidance:
 * cong_control sets it on every ACK. */
static void bbr_cong_avoid(tcp_pcb *p, uint32_t acked, uint64_t now) {
    (void)p;
    (void)acked;
    (void)now;
}

/* A loss (fast retransmit or RTO): no multiplicative decrease. */
static uint32_t bbr_ssthresh(tcp_pcb *p, uint64_t now, bool rto) {
    (void)now;
    tcp_bbr *b = &p->bbr;
    save_cwnd(p);
    if (rto) {
        /* On an RTO the draft saves cwnd (BBRSaveCwnd) and lets one
         * packet go (nothing counts in flight after the RTO marks it all
         * lost): the shared code sets cwnd to 1 SMSS. */
        b->cwnd = p->snd_mss;
        b->prev_ca_state = TCP_CA_LOSS;
        b->packet_conservation = 0;
        b->full_bw = 0;
        b->round_start = 1;
    }
    return p->cwnd;
}

static void bbr_recovery_done(tcp_pcb *p, uint64_t now) {
    (void)p;
    (void)now; /* restored by cong_control on this ACK (it sees ca_state OPEN) */
}

static void bbr_idle_restart(tcp_pcb *p) {
    tcp_bbr *b = &p->bbr;
    b->cwnd = p->cwnd;
    /* BBRHandleRestartFromIdle: BBR.idle_restart = true; if
     * (BBR.state == ProbeBW) BBRSetPacingRateWithGain(1) */
    b->idle_restart = 1;
    if (b->mode == TERN_TCP_BBR_PROBE_BW) {
        set_pacing_rate_with_gain(p, BBR_UNIT);
    }
}

/* BBRUpdateRound and the BtlBw max filter over 10 rounds. */
static void update_btlbw(tcp_pcb *p, const tcp_rate_sample *rs) {
    tcp_bbr *b = &p->bbr;
    b->round_start = 0;
    if (rs->prior_time != 0 && (int32_t)(rs->prior_delivered - b->next_round_delivered) >= 0) {
        /* if (packet.delivered >= BBR.next_round_delivered) */
        b->next_round_delivered = p->rate.delivered;
        b->round_count++;
        b->round_start = 1;
    }
    if (!rs->valid) {
        return;
    }
    /* if (rs.delivery_rate >= BBR.BtlBw || ! rs.is_app_limited)
     *   BBR.BtlBw = update_windowed_max_filter(..., BtlBwFilterLen) */
    if (rs->delivery_rate >= b->btlbw || !rs->is_app_limited) {
        uint32_t slot = b->round_count % TCP_BBR_BW_ROUNDS;
        if (b->bw_round[slot] != b->round_count) {
            b->bw_round[slot] = b->round_count;
            b->bw_max[slot] = 0;
        }
        if (rs->delivery_rate > b->bw_max[slot]) {
            b->bw_max[slot] = rs->delivery_rate;
        }
    }
    uint64_t m = 0;
    for (uint32_t i = 0; i < TCP_BBR_BW_ROUNDS; i++) {
        if (b->round_count - b->bw_round[i] < TCP_BBR_BW_ROUNDS && b->bw_max[i] > m) {
            m = b->bw_max[i];
        }
    }
    b->btlbw = m;
}

/* BBRIsNextCyclePhase */
static bool is_next_cycle_phase(const tcp_pcb *p, uint64_t now, const tcp_rate_sample *rs) {
    const tcp_bbr *b = &p->bbr;
    bool is_full_length = now - b->cycle_stamp > b->rtprop;
    if (b->pacing_gain == BBR_UNIT) {
        return is_full_length;
    }
    if (b->pacing_gain > BBR_UNIT) {
        return is_full_length &&
               (rs->losses > 0 || rs->prior_in_flight >= bbr_inflight(p, b->pacing_gain));
    }
    return is_full_length || rs->prior_in_flight <= bbr_inflight(p, BBR_UNIT);
}

/*
 * Whether the round that just ended could have shown the 25 % growth
 * BBRCheckFullPipe looks for. A round delivers at most the data it has in
 * flight per RTprop (Little's law), so a round whose flight never reached
 * 5/4 of the BDP at BBR.full_bw could not have delivered 5/4 x full_bw,
 * whatever the path's bandwidth. STARTUP's own window (2/ln 2 x BDP)
 * allows that flight; what held it lower was the peer's receive window or
 * the packet conservation of a recovery's first round (issue 22: at 10 %
 * loss a kernel receiver's early window, filled with out-of-order data,
 * held the flight at 26-72 KB for three rounds and ended STARTUP at 17
 * Mbit/s of 100). Such a round does not count towards the three, as an
 * application-limited one does not: a deviation from draft-00 (docs/bbr.md,
 * "bbr5a"). The test is the weakest that is sound: one ACK of the round
 * with that much in flight lets it count.
 */
static bool round_probed(const tcp_pcb *p) {
    const tcp_bbr *b = &p->bbr;
    if (b->rtprop == 0) {
        return true;
    }
    unsigned __int128 need = (unsigned __int128)b->full_bw * b->rtprop / 1000000000ULL;
    need += need / 4;
    return b->round_max_inflight >= need;
}

/* BBRCheckFullPipe: STARTUP ends after three rounds without
 * 25 % growth of BtlBw (rounds that could not show it do not count). */
static void check_full_pipe(tcp_pcb *p, const tcp_rate_sample *rs) {
    tcp_bbr *b = &p->bbr;
    if (b->filled_pipe || !b->round_start || rs->is_app_limited) {
        return;
    }
    if (b->btlbw >= b->full_bw + b->full_bw / 4) {
        b->full_bw = b->btlbw;
        b->full_bw_count = 0;
        return;
    }
    if (!round_probed(p)) {
        return;
    }
    if (++b->full_bw_count >= 3) {
        b->filled_pipe = 1;
    }
}

static void exit_probe_rtt(tern_stack *st, tcp_pcb *p, uint64_t now) {
    if (p->bbr.filled_pipe) {
        enter_probe_bw(st, p, now);
    } else {
        enter_startup(p);
    }
}

/* PROBE_RTT */
static void check_probe_rtt(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t in_flight,
                            const tcp_rate_sample *rs) {
    tcp_bbr *b = &p->bbr;
    if (b->mode != TERN_TCP_BBR_PROBE_RTT && b->rtprop_expired && !b->idle_restart) {
        /* BBREnterProbeRTT: BBR.state = ProbeRTT; BBR.pacing_gain = 1;
         * BBR.cwnd_gain = 1 */
        save_cwnd(p);
        b->mode = TERN_TCP_BBR_PROBE_RTT;
        b->pacing_gain = BBR_UNIT;
        b->cwnd_gain = BBR_UNIT;
        b->probe_rtt_done_stamp = 0;
    }
    if (b->mode == TERN_TCP_BBR_PROBE_RTT) {
        /* BBRHandleProbeRTT: Ignore low rate samples during ProbeRTT:
         * C.app_limited = (BBR.next_round_delivered + packets_in_flight) ? : 1 */
        uint32_t a = p->rate.delivered + in_flight;
        p->rate.app_limited = a ? a : 1;
        if (b->probe_rtt_done_stamp == 0 && in_flight <= min_pipe_cwnd(p)) {
            b->probe_rtt_done_stamp = now + BBR_PROBE_RTT_NS;
            b->probe_rtt_round_done = 0;
            b->next_round_delivered = p->rate.delivered;
        } else if (b->probe_rtt_done_stamp != 0) {
            if (b->round_start) {
                b->probe_rtt_round_done = 1;
            }
            if (b->probe_rtt_round_done && now > b->probe_rtt_done_stamp) {
                b->rtprop_stamp = now;
                restore_cwnd(p);
                exit_probe_rtt(st, p, now);
            }
        }
    }
    if (rs->newly_delivered > 0) {
        b->idle_restart = 0; /* BBR.idle_restart = false once data is delivered */
    }
}

/* BBRSetCwnd, with BBRModulateCwndForRecovery () and
 * BBRModulateCwndForProbeRTT (). */
static void set_cwnd(tcp_pcb *p, uint32_t in_flight, const tcp_rate_sample *rs) {
    tcp_bbr *b = &p->bbr;
    uint32_t delivered = rs->newly_delivered;
    b->target_cwnd = bbr_inflight(p, b->cwnd_gain);
    if (rs->losses > 0) {
        /* if (packets_lost > 0) cwnd = max(cwnd - packets_lost, 1) */
        b->cwnd = b->cwnd > rs->losses + p->snd_mss ? b->cwnd - rs->losses : p->snd_mss;
    }
    uint8_t state = p->ca_state;
    if (state == TCP_CA_RECOVERY && b->prev_ca_state == TCP_CA_OPEN) {
        /* Entering fast recovery: cwnd becomes the data in flight plus
         * what this ACK delivered (at least one segment, for the fast
         * retransmit): packet conservation for the first round. */
        b->packet_conservation = 1;
        b->next_round_delivered = p->rate.delivered;
        b->cwnd = in_flight + (delivered > p->snd_mss ? delivered : p->snd_mss);
    } else if (state == TCP_CA_OPEN && b->prev_ca_state != TCP_CA_OPEN) {
        /* Leaving fast or RTO recovery (repaired or undone): back to the
         * window saved when it began (BBRRestoreCwnd). */
        restore_cwnd(p);
        b->packet_conservation = 0;
    } else if (b->packet_conservation && b->round_start) {
        b->packet_conservation = 0; /* conservation lasts one round trip */
    }
    b->prev_ca_state = state;
    if (b->packet_conservation) {
        /* cwnd = max(cwnd, packets_in_flight + packets_delivered) */
        if (in_flight + delivered > b->cwnd) {
            b->cwnd = in_flight + delivered;
        }
    } else {
        if (b->filled_pipe) {
            /* cwnd = min(cwnd + packets_delivered, BBR.target_cwnd) */
            uint64_t w = (uint64_t)b->cwnd + delivered;
            b->cwnd = w < b->target_cwnd ? (uint32_t)w : b->target_cwnd;
        } else if (b->cwnd < b->target_cwnd ||
                   p->rate.delivered < tcp_cc_initial_window(p->iw, p->snd_mss)) {
            b->cwnd += delivered;
        }
        if (b->cwnd < min_pipe_cwnd(p)) {
            b->cwnd = min_pipe_cwnd(p);
        }
    }
    if (b->mode == TERN_TCP_BBR_PROBE_RTT && b->cwnd > min_pipe_cwnd(p)) {
        b->cwnd = min_pipe_cwnd(p); /* cwnd = min(cwnd, BBRMinPipeCwnd) */
    }
    if (b->cwnd > UINT32_MAX / 2) {
        b->cwnd = UINT32_MAX / 2;
    }
    p->cwnd = b->cwnd;
}

/* BBRUpdateOnACK: the model and state machine, then the control
 * parameters, from one ACK's rate sample. */
static void bbr_cong_control(tern_stack *st, tcp_pcb *p, uint64_t now, const tcp_rate_sample *rs,
                             uint32_t in_flight) {
    tcp_bbr *b = &p->bbr;
    if (b->rtprop_stamp == 0) {
        b->rtprop_stamp = now; /* BBRInit: BBR.rtprop_stamp = Now() */
    }
    /* BBRUpdateModelAndState */
    update_btlbw(p, rs);
    if (b->mode == TERN_TCP_BBR_PROBE_BW && is_next_cycle_phase(p, now, rs)) {
        advance_cycle_phase(p, now); /* BBRCheckCyclePhase */
    }
    /* the most data in flight this round: the data sent after the last
     * ACK is in this ACK's prior_in_flight */
    if (rs->prior_in_flight > b->round_max_inflight) {
        b->round_max_inflight = rs->prior_in_flight;
    }
    check_full_pipe(p, rs);
    if (b->round_start) {
        b->round_max_inflight = 0; /* a new round begins */
    }
    /* BBRCheckDrain */
    if (b->mode == TERN_TCP_BBR_STARTUP && b->filled_pipe) {
        b->mode = TERN_TCP_BBR_DRAIN;
        b->pacing_gain = BBR_DRAIN_GAIN;
        b->cwnd_gain = BBR_HIGH_GAIN;
    }
    if (b->mode == TERN_TCP_BBR_DRAIN && in_flight <= bbr_inflight(p, BBR_UNIT)) {
        enter_probe_bw(st, p, now);
    }
    /* BBRUpdateRTprop: BBR.rtprop_expired = Now() >
     * BBR.rtprop_stamp + RTpropFilterLen; if (packet.rtt >= 0 and
     * (packet.rtt <= BBR.RTprop or BBR.rtprop_expired)) */
    b->rtprop_expired = now > b->rtprop_stamp + BBR_RTPROP_FILTER_NS;
    if (rs->rtt != 0 && (b->rtprop == 0 || rs->rtt <= b->rtprop || b->rtprop_expired)) {
        b->rtprop = rs->rtt;
        b->rtprop_stamp = now;
    }
    check_probe_rtt(st, p, now, in_flight, rs);
    /* BBRUpdateControlParameters */
    set_pacing_rate_with_gain(p, b->pacing_gain);
    set_send_quantum(p);
    set_cwnd(p, in_flight, rs);
}

static const tcp_cc_ops ops_bbr = {
    .name = "bbr",
    .init = bbr_init,
    .cong_avoid = bbr_cong_avoid,
    .ssthresh = bbr_ssthresh,
    .recovery_done = bbr_recovery_done,
    .idle_restart = bbr_idle_restart,
    .cong_control = bbr_cong_control,
};

const tcp_cc_ops *tcp_cc_bbr_ops(void) {
    return &ops_bbr;
}
