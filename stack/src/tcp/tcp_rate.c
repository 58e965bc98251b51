/*
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02),
 * the measurement BBR (tcp_cc_bbr.c) builds its model on.
 *
 * Each transmission of data is logged with the connection's delivery state
 * at that moment (C.delivered, C.delivered_time, C.first_sent_time,
 * app-limited or not). An ACK that ACKs or SACKs logged transmissions takes
 * the most recently sent of them as the start of the sampling interval: the
 * bytes delivered since it was sent over the longer of its send and its ACK
 * interval is the rate sample. The log is a ring in send order, as the RACK
 * log (tcp_rack.c) but kept apart from it: it serves congestion control,
 * holds the per-packet delivery state RACK has no use for, and is written
 * only for BBR connections, so that NewReno and CUBIC pay nothing for it.
 * A retransmission appends a record of its own; when an ACK delivers a
 * range, every record of it is marked delivered and the newest one speaks
 * for the sample (the draft's most recently sent rule). Records leave at
 * the head once cumulatively acknowledged; a retransmission delivered sooner
 * than the minimum RTT after it was sent is not the copy that arrived, and
 * does not speak for the sample. When the ring is full a segment
 * is sent without a record: it gives no sample (bounded memory, bounded work
 * per ACK: O(records in flight x SACK ranges)).
 */
#include "tcp_cc.h"

#define TCP_RATE_APP_LIMITED 1u /* P.is_app_limited */
#define TCP_RATE_DELIVERED 2u   /* ACKed or SACKed: gave its sample (P.delivered_time = 0) */
#define TCP_RATE_RXT 4u         /* a retransmission: no RTT sample from it (Karn) */

static tcp_rate_rec *rec_at(const tern_stack *st, const tcp_pcb *p, uint32_t i) {
    uint32_t j = p->rate.head + i;
    if (j >= st->tcp->rack_cap) {
        j -= st->tcp->rack_cap;
    }
    return tcp_rate_log(st, p) + j;
}

void tcp_rate_reset(tcp_pcb *p) {
    p->rate = (tcp_rate){0};
}

void tcp_rate_sent(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t seq, uint32_t len) {
    /* The draft's send step (paraphrased): with nothing in flight, the
     * sampling interval starts now, both C.first_sent_time and
     * C.delivered_time; ACKs from here on measure delivery since now. */
    if (p->snd_nxt == p->snd_una) {
        p->rate.first_sent_time = now;
        p->rate.delivered_time = now;
    }
    if (p->rate.n >= st->tcp->rack_cap || len == 0) {
        return;
    }
    tcp_rate_rec *r = rec_at(st, p, p->rate.n++);
    r->seq = seq;
    r->end = seq + len;
    /* The packet keeps the connection's delivery state as it is now:
     * P.first_sent_time, P.delivered_time, P.delivered, P.is_app_limited. */
    r->first_sent_time = p->rate.first_sent_time;
    r->delivered_time = p->rate.delivered_time;
    r->delivered = p->rate.delivered;
    r->sent_time = now;
    r->flags = (p->rate.app_limited ? TCP_RATE_APP_LIMITED : 0u) |
               (seq_lt(seq, p->snd_nxt) ? TCP_RATE_RXT : 0u);
}

void tcp_rate_check_app_limited(tcp_pcb *p, uint32_t in_flight, bool data_waiting,
                                bool lost_waiting) {
    /* The draft's app-limited detection (paraphrased): no unsent data, data
     * in flight below cwnd, and no loss waiting for a retransmission mean
     * the application, not the network, sets the rate; samples up to the
     * data in flight now are marked app-limited: C.app_limited = C.delivered
     * + in flight, or 1 when that is 0. */
    if (!data_waiting && !lost_waiting && in_flight < p->cwnd) {
        uint32_t a = p->rate.delivered + in_flight;
        p->rate.app_limited = a ? a : 1;
    }
}

/* UpdateRateSample(P): the most recently sent packet delivered so far is
 * the sample's start. */
static void update_rate_sample(tcp_pcb *p, const tcp_rate_rec *r, tcp_rate_sample *rs,
                               uint64_t *chosen_sent) {
    bool newer = rs->prior_time == 0 || (int32_t)(r->delivered - rs->prior_delivered) > 0 ||
                 (r->delivered == rs->prior_delivered && r->sent_time > *chosen_sent);
    if (!newer) {
        return;
    }
    rs->prior_delivered = r->delivered;
    rs->prior_time = r->delivered_time ? r->delivered_time : 1;
    rs->is_app_limited = (r->flags & TCP_RATE_APP_LIMITED) != 0;
    uint64_t send_elapsed = r->sent_time - r->first_sent_time;
    uint64_t ack_elapsed = p->rate.delivered_time - r->delivered_time;
    /* rs.interval = max(rs.send_elapsed, rs.ack_elapsed) (GenerateRateSample) */
    rs->interval = send_elapsed > ack_elapsed ? send_elapsed : ack_elapsed;
    /* C.first_sent_time = P.sent_time */
    p->rate.first_sent_time = r->sent_time;
    *chosen_sent = r->sent_time;
}

static bool rec_delivered(const tern_stack *st, const tcp_pcb *p, const tcp_rate_rec *r) {
    if (seq_leq(r->end, p->snd_una)) {
        return true;
    }
    if (p->sack_n == 0 || seq_lt(r->seq, p->snd_una)) {
        return false;
    }
    return tcp_ranges_covered(tcp_sack_ranges(st, p), p->sack_n, r->seq, r->end) == r->end - r->seq;
}

void tcp_rate_on_ack(tern_stack *st, tcp_pcb *p, uint64_t now, uint32_t newly_delivered,
                     uint64_t min_rtt, tcp_rate_sample *rs) {
    rs->newly_delivered = newly_delivered;
    if (newly_delivered > 0) {
        /* C.delivered += P.data_length; C.delivered_time = Now() per
         * packet delivered; one ACK's packets share the time. */
        p->rate.delivered += newly_delivered;
        p->rate.delivered_time = now;
    }
    uint64_t chosen_sent = 0, newest_rtt_sent = 0;
    for (uint32_t i = 0; i < p->rate.n && newly_delivered > 0; i++) {
        tcp_rate_rec *r = rec_at(st, p, i);
        if ((r->flags & TCP_RATE_DELIVERED) || !rec_delivered(st, p, r)) {
            continue;
        }
        r->flags |= TCP_RATE_DELIVERED; /* P.delivered_time = 0 */
        if ((r->flags & TCP_RATE_RXT) && min_rtt && now - r->sent_time < min_rtt) {
            /* A retransmission sent less than the minimum RTT ago cannot
             * be the copy that made this ACK: an earlier copy did (the
             * reasoning of RFC 8985 §6.2 Step 2, "The segment was last
             * retransmitted less than RACK.min_rtt ago"). Its send state
             * would start the sample and the packet-timed round trip at
             * the retransmission, ending BBR's round trip a few ms after
             * it began (issue 22: at 10 and 15 % loss a third of the
             * rounds were such); the earlier copy's record speaks. */
            continue;
        }
        update_rate_sample(p, r, rs, &chosen_sent);
        if (!(r->flags & TCP_RATE_RXT) && r->sent_time >= newest_rtt_sent) {
            newest_rtt_sent = r->sent_time;
            rs->rtt = now - r->sent_time;
            if (rs->rtt == 0) {
                rs->rtt = 1;
            }
        }
    }
    while (p->rate.n > 0 && seq_leq(rec_at(st, p, 0)->end, p->snd_una)) {
        p->rate.head = p->rate.head + 1 >= st->tcp->rack_cap ? 0 : p->rate.head + 1;
        p->rate.n--;
    }
    /* GenerateRateSample: the app-limited bubble ends once everything in
     * flight when it began is delivered (C.delivered > C.app_limited). */
    if (p->rate.app_limited && (int32_t)(p->rate.delivered - p->rate.app_limited) > 0) {
        p->rate.app_limited = 0;
    }
    /* No packet delivered on this ACK: no sample. */
    if (rs->prior_time == 0) {
        return;
    }
    rs->delivered = p->rate.delivered - rs->prior_delivered;
    /* An interval shorter than the minimum RTT cannot be
     * the delivery of a whole flight (ACK compression, or a spurious
     * retransmission's ACK); such a sample is not used. */
    if (rs->interval == 0 || (min_rtt && rs->interval < min_rtt)) {
        return;
    }
    /* delivery_rate = delivered / interval (bytes per second here) */
    rs->delivery_rate = (uint64_t)((unsigned __int128)rs->delivered * 1000000000ULL / rs->interval);
    rs->valid = true;
}
