/*
 * libFuzzer target for TCP: a live connection driven through a long
 * conversation whose segments are mutated, with oracles beyond "no crash".
 *
 * Each run builds a stack at 10.0.0.1 with a listener on port 80 (SACK,
 * timestamps and window scaling on), completes a handshake from a scripted
 * peer at 10.0.0.2 (its SYN carries every option), and reads the input as up
 * to MAX_RECORDS records. Each record is an op byte (op % 8 picks the kind):
 *   0-3 segment  a segment for the connection (op & 1: FIN, op & 2: PSH,
 *                (op >> 3) % 5 SACK blocks): a modifier byte `m`, then its
 *                fields near the right values:
 *                  m & 1    seq = the peer's next seq + a signed 16-bit offset
 *                           (else exactly the peer's next seq)
 *                  m & 2    ack = the host's next seq + a signed offset
 *                  m & 4    flags taken raw (SYN may be set; else SYN cleared, ACK set)
 *                  m & 8    TSval from the input (else the next one)
 *                  m & 16   no timestamp option
 *                  m & 32   raw header bytes XORed afterwards
 *                  m & 64   sent from the host's own address (10.0.0.1), with a
 *                           source port from the input: land SYNs and
 *                           own-source segments (RFC 1122 §3.2.1.3)
 *                  m & 128  the peer's next seq does not move on (a retransmission)
 *                window, urgent pointer, TSecr, SACK blocks and the payload
 *                length (up to 2040 bytes) come from the input;
 *   4 time       virtual time moves on (timers fire: RTO, persist, delayed
 *                ACK, keep-alive, TIME-WAIT);
 *   5 user       accept, send, recv;
 *   6 user       shutdown, close, abort, an option, get_info;
 *   7 raw        an active connection to the peer, and raw TCP bytes.
 * A few input bytes make a long conversation: a payload costs one byte.
 *
 * Payload bytes are never taken from the input: the byte at peer sequence
 * number s is always stream_byte(s), in every segment (even after the header
 * was XORed: the payload is rewritten for the sequence number the mutated
 * header carries). That makes the data oracle exact:
 *
 * Oracles (a failure aborts, naming what broke):
 *  - every frame the host sends parses, with valid checksums;
 *  - data: every byte the application reads is stream_byte of its sequence
 *    number (irs + 1 + offset), so bytes arrive in order and unchanged; and
 *    at the end of the input, once every readable byte is read, the bytes read
 *    are exactly those the host acknowledged (its highest ACK minus irs + 1,
 *    minus one for a FIN), unless the connection was reset or its receive
 *    side shut down;
 *  - TCP invariants of every control block after every record (check_pcbs);
 *  - bounded output and work per call, and no livelock (oracle.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "tcp/tcp_private.h"
#include "tern/stack.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond, why)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "ORACLE: %s (%s:%d: %s)\n", why, __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_RECORDS 2048
#define PEER_ISN 1000u
#define RX_BUFFER 8192u
#define TX_BUFFER 8192u
#define OOO_HOLES 4u

static const uint8_t HOST_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t PEER_MAC[6] = {2, 0, 0, 0, 0, 2};

/* The byte the peer sends at sequence number s: a function of s alone. */
static uint8_t stream_byte(uint32_t s) {
    return (uint8_t)((s * 2654435761u) >> 24);
}

typedef struct fz {
    tern_stack *st;
    uint64_t now;
    uint32_t host_seq;   /* what the host last sent on 80 -> 4000: its seq end */
    uint32_t host_ack;   /* and its ack */
    uint32_t conn_irs;   /* irs of the newest connection (from the host's SYN-ACK) */
    uint32_t max_ack;    /* the highest ACK the host sent on it */
    bool have_conn;      /* a SYN-ACK was seen */
    uint32_t read_irs;   /* irs of the accepted socket whose bytes we read */
    uint64_t read_total; /* bytes read from it */
    bool read_shut;      /* its receive side was shut down (data discarded) */
    bool read_eof;       /* recv reported the end of stream */
} fz;

static void output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    fz *f = ctx;
    oracle_count_frame();
    REQUIRE(iface == 0, "frame sent on an interface the host does not have");
    struct tern_eth_repr e;
    REQUIRE(tern_eth_parse(frame, len, &e) == TERN_OK, "host sent an unparsable Ethernet frame");
    if (e.ethertype != TERN_ETHERTYPE_IPV4)
        return;
    struct tern_ipv4_repr ip;
    REQUIRE(tern_ipv4_parse(e.payload, e.payload_len, &ip) == TERN_OK,
            "host sent an IPv4 header that does not parse (or a wrong checksum)");
    if (ip.protocol != TERN_IPPROTO_TCP)
        return;
    struct tern_tcp_repr t;
    REQUIRE(tern_tcp_parse(ip.payload, ip.payload_len, &ip.src, &ip.dst, &t) == TERN_OK,
            "host sent a TCP segment that does not parse (or a wrong checksum)");
    if (t.src_port != 80 || t.dst_port != 4000 || (t.flags & TERN_TCP_RST))
        return;
    f->host_seq = t.seq + (uint32_t)t.payload_len + ((t.flags & TERN_TCP_SYN) ? 1 : 0) +
                  ((t.flags & TERN_TCP_FIN) ? 1 : 0);
    f->host_ack = t.ack;
    if ((t.flags & (TERN_TCP_SYN | TERN_TCP_ACK)) == (TERN_TCP_SYN | TERN_TCP_ACK)) {
        f->conn_irs = t.ack - 1; /* a (new) connection: its SYN was at ack - 1 */
        f->max_ack = t.ack;
        f->have_conn = true;
    } else if ((t.flags & TERN_TCP_ACK) && f->have_conn &&
               seq_in(t.ack, f->conn_irs + 1, f->conn_irs + 0x40000000u) &&
               seq_gt(t.ack, f->max_ack)) {
        f->max_ack = t.ack;
    }
}

/*
 * Rewrite the payload of the TCP segment seg[0..len) (data offset from its
 * header) with the stream bytes of its sequence number, and set its checksum:
 * right if `good`, else off by one.
 */
static void normalize_segment(uint8_t *seg, size_t len, const tern_addr *src, const tern_addr *dst,
                              bool good) {
    if (len < 20)
        return;
    size_t hl = (size_t)(seg[12] >> 4) * 4;
    if (hl >= 20 && hl <= len) {
        uint32_t seq =
            (uint32_t)seg[4] << 24 | (uint32_t)seg[5] << 16 | (uint32_t)seg[6] << 8 | seg[7];
        if (seg[13] & TERN_TCP_SYN)
            seq++; /* a SYN's text starts after the SYN */
        for (size_t k = hl; k < len; k++)
            seg[k] = stream_byte(seq + (uint32_t)(k - hl));
    }
    seg[16] = seg[17] = 0;
    uint32_t s = tern_csum_pseudo(src, dst, TERN_IPPROTO_TCP, (uint32_t)len);
    uint16_t c = tern_csum_finish(tern_csum_add(s, seg, len));
    if (!good)
        c = (uint16_t)(c + 1);
    seg[16] = (uint8_t)(c >> 8);
    seg[17] = (uint8_t)c;
}

static void send_tcp_bytes(fz *f, const tern_addr *src, uint8_t *seg, size_t len) {
    static uint8_t buf[2200], frame[2300];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_TCP;
    ip.src = *src;
    ip.dst = tern_addr_v4(10, 0, 0, 1);
    ip.payload = seg;
    ip.payload_len = len;
    size_t w;
    if (tern_ipv4_emit(&ip, buf, sizeof buf, &w) != TERN_OK)
        return;
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, HOST_MAC, 6);
    memcpy(e.src.b, PEER_MAC, 6);
    e.ethertype = TERN_ETHERTYPE_IPV4;
    e.payload = buf;
    e.payload_len = w;
    size_t fw;
    if (tern_eth_emit(&e, frame, sizeof frame, &fw) != TERN_OK)
        return;
    oracle_input(f->st, f->now, 0, frame, fw);
}

static void send_repr(fz *f, const tern_addr *src, const struct tern_tcp_repr *r, const uint8_t *xr,
                      size_t nxor) {
    static uint8_t seg[2200];
    tern_addr dst = tern_addr_v4(10, 0, 0, 1);
    size_t w;
    if (tern_tcp_emit(r, src, &dst, seg, sizeof seg, &w) != TERN_OK)
        return;
    size_t hl = (size_t)(seg[12] >> 4) * 4;
    for (size_t i = 0; i < nxor && i < hl; i++)
        seg[i] ^= xr[i];
    /* the checksum right, so the mutation reaches TCP; the payload follows the seq */
    normalize_segment(seg, w, src, &dst, true);
    send_tcp_bytes(f, src, seg, w);
}

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t rd8(reader *r) {
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}
static uint16_t rd16(reader *r) {
    return (uint16_t)(rd8(r) << 8 | rd8(r));
}
static uint32_t rd32(reader *r) {
    return (uint32_t)rd16(r) << 16 | rd16(r);
}

static void poll_until(fz *f, uint64_t t) {
    oracle_new_work();
    for (int i = 0; i < 256; i++) {
        uint64_t at = tern_stack_poll_at(f->st);
        if (at > t)
            break;
        if (at > f->now)
            f->now = at;
        oracle_poll(f->st, f->now);
    }
    if (t > f->now)
        f->now = t;
}

/*
 * TCP invariants of every control block (RFC 9293 §3.3.1 sequence spaces, the
 * buffers' accounting). Checked after every record.
 */
static void check_pcbs(const tern_stack *st) {
    const tern_tcp_module *t = st->tcp;
    for (uint32_t i = 0; i < t->nsock; i++) {
        const tcp_pcb *p = &t->pcb[i];
        if (p->kind != TCP_SOCKET)
            continue;
        REQUIRE(p->rx_len <= p->rx_cap && p->tx_len <= p->tx_cap,
                "buffer holds more than its capacity");
        REQUIRE(p->rx_cap == 0 || (p->rx_head < p->rx_cap && p->tx_head < p->tx_cap),
                "ring head outside its buffer");
        REQUIRE(p->ooo_n <= t->ooo_cap && p->sack_n <= t->sack_cap,
                "more out-of-order or SACK ranges than their arrays hold");
        REQUIRE(p->snd_wscale <= TCP_MAX_WSCALE && p->rcv_wscale <= TCP_MAX_WSCALE,
                "window scale above 14 (RFC 7323 §2.3)");
        if (p->state == TERN_TCP_LISTEN || p->state == TERN_TCP_CLOSED ||
            (p->flags & TCPF_NEED_ISS))
            continue;
        REQUIRE(seq_leq(p->snd_una, p->snd_nxt), "SND.UNA beyond SND.NXT");
        /* what is in flight is in the send buffer (+ SYN and FIN) */
        REQUIRE(p->snd_nxt - p->snd_una <= p->tx_cap + 2, "more in flight than the send buffer");
        REQUIRE(p->snd_wnd <= (uint32_t)65535 << p->snd_wscale,
                "SND.WND above what a 16-bit field scaled by SND.WND.SCALE can announce");
        if (!tcp_synchronized(p))
            continue;
        REQUIRE(seq_leq(p->snd_nxt, p->snd_buf_seq + p->tx_len + 1),
                "SND.NXT beyond the data in the send buffer (+ FIN)");
        REQUIRE(seq_leq(p->snd_buf_seq, p->snd_una + 1),
                "bytes not yet acknowledged were dropped from the send buffer");
        /* the window announced is never above the free receive buffer + one scale unit
         * (rounding). RCV.NXT may pass RCV.ADV: the host keeps the part of a segment
         * beyond the window's right edge when its buffer has room (RFC 9293 §3.10.7.4:
         * one "could" trim it, it need not), so only the buffer bounds what it takes. */
        REQUIRE(!seq_gt(p->rcv_adv, p->rcv_nxt) ||
                    p->rcv_adv - p->rcv_nxt <= p->rx_cap + (1u << p->rcv_wscale),
                "announced window beyond the receive buffer");
        const tcp_range *ooo = tcp_ooo_ranges(st, p);
        for (uint32_t k = 0; k < p->ooo_n; k++) {
            REQUIRE(seq_lt(ooo[k].start, ooo[k].end), "empty or reversed out-of-order range");
            REQUIRE(seq_gt(ooo[k].start, p->rcv_nxt), "out-of-order range at or below RCV.NXT");
            REQUIRE(ooo[k].end - p->rcv_nxt <= p->rx_cap + (1u << p->rcv_wscale),
                    "out-of-order data beyond the receive buffer");
        }
        /* SACK scoreboard: inside what was sent */
        const tcp_range *sk = tcp_sack_ranges(st, p);
        for (uint32_t k = 0; k < p->sack_n; k++) {
            REQUIRE(seq_lt(sk[k].start, sk[k].end), "empty or reversed SACK range");
            REQUIRE(seq_leq(sk[k].end, p->snd_nxt) || seq_leq(sk[k].end, p->snd_una),
                    "SACK scoreboard beyond SND.NXT");
        }
    }
}

/* Read what `a` has and check it is the stream, in order (the data oracle). */
static tern_err drain(fz *f, tern_sock a, size_t cap) {
    static uint8_t buf[RX_BUFFER];
    size_t n = 0;
    if (cap > sizeof buf)
        cap = sizeof buf;
    tern_err e = tern_tcp_recv(f->st, a, buf, cap, &n);
    if (e == TERN_OK && n == 0 && cap > 0 && !f->read_shut)
        f->read_eof = true;
    for (size_t k = 0; k < n; k++) {
        uint32_t s = f->read_irs + 1 + (uint32_t)(f->read_total + k);
        REQUIRE(buf[k] == stream_byte(s),
                "the application read a byte that is not the peer's byte at its sequence number");
    }
    f->read_total += n;
    return e;
}

static void track_accept(fz *f, tern_sock a) {
    tern_tcp_info i;
    REQUIRE(tern_tcp_get_info(f->st, a, &i) == TERN_OK, "get_info fails on an accepted socket");
    f->read_irs = i.irs;
    f->read_total = 0;
    f->read_shut = f->read_eof = false;
}

/* End of input: everything the host acknowledged reached the application. */
static void check_acked_delivered(fz *f, tern_sock a) {
    if (!a || f->read_shut || !f->have_conn || f->read_irs != f->conn_irs)
        return;
    tern_err e;
    while ((e = drain(f, a, RX_BUFFER)) == TERN_OK && !f->read_eof) {
    }
    if (e != TERN_OK && e != TERN_ERR_WOULD_BLOCK)
        return; /* reset or aborted: RFC 9293 §3.10.7.4 lets queued data go */
    uint64_t acked = (uint32_t)(f->max_ack - (f->conn_irs + 1));
    if (f->read_eof && acked > 0)
        acked--; /* the FIN's sequence number */
    if (getenv("FUZZ_TCP_TRACE"))
        fprintf(stderr, "fuzz_tcp: irs %u, host acked %llu bytes%s, application read %llu\n",
                f->conn_irs, (unsigned long long)acked, f->read_eof ? " and a FIN" : "",
                (unsigned long long)f->read_total);
    REQUIRE(f->read_total == acked,
            "bytes read differ from the bytes the host acknowledged (lost or invented data)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static void *mem;
    static size_t memsz;
    fz f;
    memset(&f, 0, sizeof f);
    oracle_reset();
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 1);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    cfg.tcp_sockets = 4;
    cfg.tcp.rx_buffer = RX_BUFFER;
    cfg.tcp.tx_buffer = TX_BUFFER;
    cfg.tcp.ooo_max_holes = OOO_HOLES;
    cfg.tcp.sack = cfg.tcp.timestamps = cfg.tcp.window_scaling = true;
    cfg.arp_timeout_ns = 1ull << 62;
    cfg.output = output;
    cfg.output_ctx = &f;
    size_t need = tern_stack_memory_size(&cfg);
    if (need > memsz) {
        free(mem);
        mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
        memsz = need;
    }
    REQUIRE(tern_stack_init(mem, need, &cfg, &f.st, NULL, 0) == TERN_OK, "stack init");
    tern_sock l, c = 0, a = 0;
    REQUIRE(tern_tcp_open(f.st, &l) == TERN_OK, "open");
    REQUIRE(tern_tcp_bind(f.st, l, NULL, 80) == TERN_OK, "bind");
    REQUIRE(tern_tcp_listen(f.st, l, 2) == TERN_OK, "listen");
    const tern_addr peer = tern_addr_v4(10, 0, 0, 2), self = tern_addr_v4(10, 0, 0, 1);
    /* the peer introduces itself (ARP request for us), then its SYN with every option */
    {
        struct tern_arp_repr ar;
        memset(&ar, 0, sizeof ar);
        ar.op = 1;
        memcpy(ar.sha.b, PEER_MAC, 6);
        ar.spa = peer;
        ar.tpa = self;
        uint8_t ab[28], fr[64];
        size_t w, fw;
        REQUIRE(tern_arp_emit(&ar, ab, sizeof ab, &w) == TERN_OK, "arp emit");
        struct tern_eth_repr e;
        memset(&e, 0, sizeof e);
        memcpy(e.dst.b, HOST_MAC, 6);
        memcpy(e.src.b, PEER_MAC, 6);
        e.ethertype = TERN_ETHERTYPE_ARP;
        e.payload = ab;
        e.payload_len = w;
        REQUIRE(tern_eth_emit(&e, fr, sizeof fr, &fw) == TERN_OK, "eth emit");
        oracle_input(f.st, 1, 0, fr, fw);
    }
    uint32_t peer_seq = PEER_ISN;
    struct tern_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = 4000;
    r.dst_port = 80;
    r.seq = peer_seq;
    r.flags = TERN_TCP_SYN;
    r.window = 65535;
    r.opt.has_mss = true;
    r.opt.mss = 1000;
    r.opt.has_wscale = true;
    r.opt.wscale = 2;
    r.opt.sack_permitted = true;
    r.opt.has_timestamps = true;
    r.opt.ts_val = 100;
    f.now = 1000000;
    send_repr(&f, &peer, &r, NULL, 0);
    peer_seq++;
    uint32_t ts = 101;
    reader rd = {data, size};
    /* the segments that follow: the first plain ACK completes the handshake */
    struct tern_tcp_repr ack;
    memset(&ack, 0, sizeof ack);
    ack.src_port = 4000;
    ack.dst_port = 80;
    ack.flags = TERN_TCP_ACK;
    ack.window = 16000;
    ack.opt.has_timestamps = true;
    unsigned steps = 0;
    while (rd.n > 0 && steps++ < MAX_RECORDS) {
        uint8_t op = rd8(&rd);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
        case 3: { /* a segment near the right values */
            uint8_t m = rd8(&rd);
            struct tern_tcp_repr s = ack;
            s.seq = peer_seq;
            if (m & 1)
                s.seq += (uint32_t)(int32_t)(int16_t)rd16(&rd);
            s.ack = f.host_seq;
            if (m & 2)
                s.ack += (uint32_t)(int32_t)(int16_t)rd16(&rd);
            s.flags = (uint8_t)(TERN_TCP_ACK | ((op & 1) ? TERN_TCP_FIN : 0) |
                                ((op & 2) ? TERN_TCP_PSH : 0));
            if (m & 4)
                s.flags = rd8(&rd);
            s.window = rd16(&rd);
            s.urgent = (s.flags & TERN_TCP_URG) ? rd16(&rd) : 0;
            s.opt.ts_val = (m & 8) ? rd32(&rd) : ts++;
            s.opt.ts_ecr = (m & 8) ? rd32(&rd) : 0;
            s.opt.has_timestamps = !(m & 16);
            tern_addr src = peer;
            if (m & 64) {
                src = self;
                s.src_port = rd16(&rd);
            }
            uint8_t nsack = (op >> 3) % 5;
            s.opt.sack_count = nsack;
            for (uint8_t k = 0; k < nsack; k++) {
                s.opt.sack[k].left = f.host_ack + rd16(&rd);
                s.opt.sack[k].right = s.opt.sack[k].left + rd16(&rd) % 3000;
            }
            if (s.opt.has_timestamps && nsack > 3)
                s.opt.sack_count = 3;
            size_t plen = (s.flags & TERN_TCP_SYN) ? rd8(&rd) % 8u : rd8(&rd) * 8u;
            static uint8_t payload[2048]; /* rewritten with the stream by send_repr */
            s.payload = payload;
            s.payload_len = plen;
            uint8_t nx = (m & 32) ? rd8(&rd) % 24 : 0;
            uint8_t xr[24];
            for (uint8_t k = 0; k < nx; k++)
                xr[k] = rd8(&rd);
            send_repr(&f, &src, &s, xr, nx);
            if (!(m & 128) && !(m & 64))
                peer_seq = s.seq + (uint32_t)plen + ((s.flags & TERN_TCP_FIN) ? 1 : 0);
            break;
        }
        case 4: /* time passes */
            poll_until(&f, f.now + (uint64_t)rd16(&rd) * (op & 8 ? 1000000000ull : 1000000ull));
            break;
        case 5: { /* accept, send, recv */
            if (!a) {
                if (tern_tcp_accept(f.st, l, &a) != TERN_OK)
                    a = 0;
                else
                    track_accept(&f, a);
            }
            static uint8_t buf[4096];
            size_t n;
            if (a) {
                size_t len = rd16(&rd) % sizeof buf;
                if (op & 8) {
                    tern_tcp_send_urgent(f.st, a, buf, len, &n); /* RFC 9293 §3.8.5 */
                } else {
                    tern_tcp_send(f.st, a, buf, len, &n);
                }
                drain(&f, a, rd16(&rd) % sizeof buf);
                /* oracle: in urgent mode some octets are always left up to the mark */
                tern_tcp_urgent_info u;
                if (tern_tcp_get_urgent(f.st, a, &u) == TERN_OK) {
                    REQUIRE(u.pending == (u.mark > 0),
                            "urgent mode with no octet left up to the mark");
                }
            }
            poll_until(&f, f.now);
            break;
        }
        case 6: { /* shutdown / close / abort / options */
            uint8_t what = rd8(&rd);
            tern_sock t = (what & 1) ? a : c;
            if (!t)
                break;
            switch ((what >> 1) % 5) {
            case 0: {
                int how = what >> 4 & 3;
                tern_tcp_shutdown(f.st, t, how);
                if (t == a && (how == 0 || how == 2))
                    f.read_shut = true;
                break;
            }
            case 1:
                tern_tcp_close(f.st, t);
                if (t == a)
                    a = 0;
                else
                    c = 0;
                break;
            case 2:
                tern_tcp_abort(f.st, t);
                if (t == a)
                    a = 0;
                else
                    c = 0;
                break;
            case 3:
                tern_tcp_set_option(f.st, t, (tern_tcp_option)(1 + rd8(&rd) % 19),
                                    (int64_t)rd32(&rd));
                break;
            default: {
                tern_tcp_info i;
                tern_tcp_get_info(f.st, t, &i);
            }
            }
            poll_until(&f, f.now);
            break;
        }
        default: { /* an active connection to the peer, and raw TCP bytes */
            if (!c && tern_tcp_open(f.st, &c) == TERN_OK) {
                if (tern_tcp_connect(f.st, c, &peer, 4001) != TERN_OK) {
                    tern_tcp_close(f.st, c);
                    c = 0;
                }
            }
            uint8_t raw[80];
            size_t n = rd8(&rd) % sizeof raw;
            for (size_t k = 0; k < n; k++)
                raw[k] = rd8(&rd);
            if (n >= 4) {
                raw[0] = 0x0f;
                raw[1] = 0xa0; /* from port 4000 */
                raw[2] = 0;
                raw[3] = 80;
            }
            /* the checksum right or wrong as op says; the payload is the stream */
            tern_addr dst = self;
            normalize_segment(raw, n, &peer, &dst, op & 8);
            send_tcp_bytes(&f, &peer, raw, n);
            poll_until(&f, f.now);
            break;
        }
        }
        check_pcbs(f.st);
    }
    /* every timer runs out (the delayed ACK of the last data goes out), then the
     * data oracle compares what was read with what was acknowledged */
    poll_until(&f, f.now + 300ull * 1000000000ull);
    check_pcbs(f.st);
    if (!a && tern_tcp_accept(f.st, l, &a) == TERN_OK)
        track_accept(&f, a);
    check_acked_delivered(&f, a);
    return 0;
}
