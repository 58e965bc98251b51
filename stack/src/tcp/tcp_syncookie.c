/*
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, a SYN
 * is answered without keeping any state. The SYN-ACK's sequence number (the
 * cookie) carries a keyed hash of the 4-tuple, the peer's ISN and a time
 * counter, plus the MSS chosen from a table; the connection is created when
 * an ACK comes back whose acknowledgment number is cookie + 1.
 *
 * As Linux does, the options the cookie cannot hold travel in the low 6
 * bits of our timestamp (TSval), which the peer echoes in TSecr: window
 * scale (4 bits, 15 = none) and SACK-permitted (1 bit). Without timestamps
 * the SYN-ACK offers neither window scaling nor SACK, so that nothing is
 * promised that the cookie cannot remember.
 *
 * Layout of the cookie: bits 31..24 the low 8 bits of the time counter
 * (64 s ticks); bits 23..2 a keyed hash of the 4-tuple, the peer's ISN,
 * the counter and the MSS index; bits 1..0 the MSS index. A cookie is valid
 * for the counter's current and two previous values, and only while the
 * listener has sent cookies recently (within that time).
 */
#include <string.h>

#include "tcp_private.h"

#define COOKIE_TICK_NS (64ULL * 1000000000ULL)
#define COOKIE_MAX_AGE 2u
#define TS_OPT_BITS 6u
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_OPT_WSCALE_NONE 0xfu
#define TS_OPT_SACK 0x10u

/* MSS values a cookie can name (Linux's tables): over IPv4, and over IPv6 the MTUs 1280 (the
 * IPv6 minimum, RFC 8200 §5), 1480, 1500 and 9000 less 60 bytes of headers. */
static const uint16_t mss_table4[] = {536, 1300, 1440, 1460};
static const uint16_t mss_table6[] = {1220, 1420, 1440, 8940};
#define MSS_N (sizeof mss_table4 / sizeof mss_table4[0])

static const uint16_t *mss_table(const tern_ip_rx *ip) {
    return ip->src.family == TERN_AF_INET6 ? mss_table6 : mss_table4;
}

static uint64_t keyed(const tern_stack *st, const tern_addr *la, uint16_t lp, const tern_addr *ra,
                      uint16_t rp, uint32_t a, uint32_t b, uint8_t domain) {
    uint8_t m[1 + 2 * 16 + 4 + 8];
    size_t n = 0;
    m[n++] = domain; /* separates cookie hashes from ISNs under the same key */
    memcpy(m + n, la->bytes, 16);
    n += 16;
    memcpy(m + n, ra->bytes, 16);
    n += 16;
    m[n++] = (uint8_t)(lp >> 8);
    m[n++] = (uint8_t)lp;
    m[n++] = (uint8_t)(rp >> 8);
    m[n++] = (uint8_t)rp;
    for (int i = 0; i < 4; i++) {
        m[n++] = (uint8_t)(a >> (8 * i));
        m[n++] = (uint8_t)(b >> (8 * i));
    }
    return tern_siphash(st->isn_key, m, n);
}

/* The low 24 bits of a cookie: 22 bits of keyed hash over everything the
 * cookie stands for (MSS index included, so that a neighbouring value is
 * not another valid cookie), then the MSS index. */
static uint32_t cookie_low(const tern_stack *st, const tern_ip_rx *ip,
                           const struct tern_tcp_repr *seg, uint32_t peer_isn, uint32_t count,
                           uint32_t idx) {
    uint32_t h = (uint32_t)keyed(st, &ip->dst, seg->dst_port, &ip->src, seg->src_port, peer_isn,
                                 count << 2 | idx, 0xc0);
    return (h << 2 | idx) & 0xffffffu;
}

/* The timestamp offset of a cookie connection: a keyed hash of the 4-tuple
 * (no state to keep it in; RFC 7323 §5.4 allows any per-connection offset). */
static uint32_t cookie_ts_offset(const tern_stack *st, const tern_ip_rx *ip,
                                 const struct tern_tcp_repr *seg) {
    return (uint32_t)keyed(st, &ip->dst, seg->dst_port, &ip->src, seg->src_port, 0, 0, 0xc1);
}

static uint32_t mss_index(const uint16_t *table, uint32_t peer_mss) {
    uint32_t i = MSS_N - 1;
    while (i > 0 && table[i] > peer_mss) {
        i--;
    }
    return i;
}

void tcp_syncookie_send(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                        const struct tern_tcp_repr *seg) {
    const struct tern_tcp_options *o = &seg->opt;
    uint32_t count = (uint32_t)(now / COOKIE_TICK_NS);
    /* RFC 9293 §3.7.1: no MSS option means 536 over IPv4, 1220 over IPv6. */
    uint32_t idx = mss_index(mss_table(ip), o->has_mss                        ? o->mss
                                            : ip->src.family == TERN_AF_INET6 ? TCP_DEFAULT_MSS6
                                                                              : TCP_DEFAULT_MSS);
    uint32_t cookie = (count & 0xffu) << 24 | cookie_low(st, ip, seg, seg->seq, count, idx);
    /* the SYN-ACK, built on a scratch control block as the child would be */
    tcp_pcb s;
    memset(&s, 0, sizeof s);
    s.kind = TCP_SOCKET;
    s.state = TERN_TCP_SYN_RECEIVED;
    s.laddr = ip->dst;
    s.raddr = ip->src;
    s.lport = seg->dst_port;
    s.rport = seg->src_port;
    s.rx_cap = l->rx_cap;
    s.ttl = l->ttl;
    s.mss_clamp = l->mss_clamp;
    s.flags = l->flags & (TCPF_WANT_SACK | TCPF_WANT_TS | TCPF_WANT_WS);
    tern_route_result rr;
    uint32_t mtu = 1500;
    if (tern_route_lookup(st, &ip->src, &ip->dst, &rr) == TERN_OK) {
        mtu = rr.mtu;
    }
    tcp_setup_local_options(st, &s, mtu);
    bool ts = (s.flags & TCPF_WANT_TS) && o->has_timestamps;
    uint32_t opts = TS_OPT_WSCALE_NONE;
    if (ts) {
        s.flags |= TCPF_TS_OK;
        if ((s.flags & TCPF_WANT_WS) && o->has_wscale) {
            s.flags |= TCPF_WS_OK;
            opts = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
        }
        if ((s.flags & TCPF_WANT_SACK) && o->sack_permitted) {
            s.flags |= TCPF_SACK_OK;
            opts |= TS_OPT_SACK;
        }
        /* TSval = (clock + offset) with its low bits replaced by the options,
         * never above the clock, so the connection's later TSvals grow. */
        uint32_t clock = (uint32_t)(now / 1000000ULL) + cookie_ts_offset(st, ip, seg);
        uint32_t tsval = (clock & ~TS_OPT_MASK) | opts;
        if (seq_gt(tsval, clock)) {
            tsval -= 1u << TS_OPT_BITS;
        }
        s.ts_offset = tsval - (uint32_t)(now / 1000000ULL);
        s.ts_recent = o->ts_val;
    } else {
        s.rcv_wscale = 0;
    }
    s.iss = cookie;
    s.snd_una = s.snd_nxt = cookie;
    s.rcv_nxt = seg->seq + 1;
    s.rcv_adv = s.rcv_nxt;
    tcp_send_segment(st, &s, now, cookie, 0, TERN_TCP_SYN | TERN_TCP_ACK);
    l->cookie_time = now ? now : 1;
    st->c.tcp_syncookies_sent++;
}

int tcp_syncookie_ack(tern_stack *st, tcp_pcb *l, uint64_t now, const tern_ip_rx *ip,
                      const struct tern_tcp_repr *seg, tcp_pcb **child) {
    if (l->cookie_time == 0 || now > l->cookie_time + (COOKIE_MAX_AGE + 1) * COOKIE_TICK_NS ||
        (seg->flags & (TERN_TCP_RST | TERN_TCP_SYN))) {
        return -1;
    }
    uint32_t cookie = seg->ack - 1;
    uint32_t peer_isn = seg->seq - 1;
    uint32_t count = (uint32_t)(now / COOKIE_TICK_NS);
    uint32_t age = (count - (cookie >> 24)) & 0xffu;
    if (age > COOKIE_MAX_AGE) {
        st->c.tcp_syncookies_failed++;
        return -1;
    }
    uint32_t idx = cookie & 3u;
    if ((cookie & 0xffffffu) != cookie_low(st, ip, seg, peer_isn, count - age, idx)) {
        st->c.tcp_syncookies_failed++;
        return -1;
    }
    if (l->acceptq_len >= l->backlog) {
        st->c.tcp_listen_overflow++; /* the peer retransmits its data or ACK */
        return 0;
    }
    /* the SYN the cookie stands for */
    struct tern_tcp_repr syn = *seg;
    memset(&syn.opt, 0, sizeof syn.opt);
    syn.flags = TERN_TCP_SYN;
    syn.seq = peer_isn;
    syn.ack = 0;
    syn.payload = NULL;
    syn.payload_len = 0;
    syn.opt.has_mss = true;
    syn.opt.mss = mss_table(ip)[idx];
    bool ts = (l->flags & TCPF_WANT_TS) && seg->opt.has_timestamps;
    if (ts) {
        uint32_t opts = seg->opt.ts_ecr & TS_OPT_MASK;
        syn.opt.has_timestamps = true;
        syn.opt.ts_val = seg->opt.ts_val;
        if ((opts & 0xfu) != TS_OPT_WSCALE_NONE) {
            syn.opt.has_wscale = true;
            syn.opt.wscale = (uint8_t)(opts & 0xfu);
        }
        syn.opt.sack_permitted = (opts & TS_OPT_SACK) != 0;
    }
    tcp_pcb *c = tcp_listen_child(st, l, now, ip, &syn);
    if (!c) {
        st->c.tcp_no_pcb_rst++;
        tcp_send_rst_reply(st, now, ip, seg);
        return 0;
    }
    if (!ts) {
        c->rcv_wscale = 0; /* the SYN-ACK offered no window scaling */
    } else {
        c->ts_offset = cookie_ts_offset(st, ip, seg);
    }
    c->iss = cookie;
    c->snd_una = cookie;
    c->snd_nxt = cookie + 1;
    c->snd_buf_seq = cookie + 1;
    c->recover = c->high_rxt = c->lost_to = cookie;
    c->snd_wl2 = cookie;
    c->rcv_adv = c->rcv_nxt + tcp_rcv_window(c);
    c->last_ack_sent = c->rcv_nxt;
    c->segs_in = 0;
    tcp_set_state(st, c, TERN_TCP_SYN_RECEIVED);
    l->synq_len++;
    tcp_hash_insert(st, c);
    st->c.tcp_syncookies_ok++;
    *child = c;
    return 1;
}
