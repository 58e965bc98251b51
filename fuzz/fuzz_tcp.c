/*
 * libFuzzer target for TCP: a live connection whose segments are mutated.
 *
 * Each run builds a stack at 10.0.0.1 with a listener on port 80 (SACK,
 * timestamps and window scaling on), completes a handshake from a scripted
 * peer at 10.0.0.2 (its SYN carries every option), and queues data to send.
 * The input is then read as records, each one of:
 *   segment  a segment for the live connection, its fields taken near the
 *            right values (seq/ack offsets, flags, window, options, SACK
 *            blocks, payload all from the input), optionally with raw bytes
 *            of the header XORed afterwards; the checksum is always made
 *            right so the segment reaches TCP;
 *   time     virtual time moves on (timers fire: RTO, persist, delayed ACK,
 *            keep-alive, TIME-WAIT);
 *   user     a socket call (send, recv, shutdown, close, abort, connect, option).
 * Every frame the stack sends must parse (TCP with a valid checksum); the
 * sanitizers catch the rest. Work per input is bounded by its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tern/stack.h"
#include "wire/arp.h"
#include "wire/checksum.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static const uint8_t HOST_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t PEER_MAC[6] = {2, 0, 0, 0, 0, 2};

typedef struct fz {
    tern_stack *st;
    uint64_t now;
    uint32_t host_seq, host_ack; /* what the host last sent: its seq end and ack */
    bool seen;
} fz;

static void output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)iface;
    fz *f = ctx;
    struct tern_eth_repr e;
    REQUIRE(tern_eth_parse(frame, len, &e) == TERN_OK);
    if (e.ethertype != TERN_ETHERTYPE_IPV4)
        return;
    struct tern_ipv4_repr ip;
    REQUIRE(tern_ipv4_parse(e.payload, e.payload_len, &ip) == TERN_OK);
    if (ip.protocol != TERN_IPPROTO_TCP)
        return;
    struct tern_tcp_repr t;
    REQUIRE(tern_tcp_parse(ip.payload, ip.payload_len, &ip.src, &ip.dst, &t) == TERN_OK);
    if (t.src_port == 80 && t.dst_port == 4000) {
        f->host_seq = t.seq + (uint32_t)t.payload_len + ((t.flags & TERN_TCP_SYN) ? 1 : 0) +
                      ((t.flags & TERN_TCP_FIN) ? 1 : 0);
        f->host_ack = t.ack;
        f->seen = true;
    }
}

static void send_tcp_bytes(fz *f, uint8_t *seg, size_t len) {
    static uint8_t buf[2000], frame[2100];
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_TCP;
    ip.src = tern_addr_v4(10, 0, 0, 2);
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
    tern_stack_input(f->st, f->now, 0, frame, fw);
}

static void send_repr(fz *f, const struct tern_tcp_repr *r, const uint8_t * xor, size_t nxor) {
    static uint8_t seg[1600];
    tern_addr src = tern_addr_v4(10, 0, 0, 2), dst = tern_addr_v4(10, 0, 0, 1);
    size_t w;
    if (tern_tcp_emit(r, &src, &dst, seg, sizeof seg, &w) != TERN_OK)
        return;
    if (nxor) {
        size_t hl = (size_t)(seg[12] >> 4) * 4;
        for (size_t i = 0; i < nxor && i < hl; i++)
            seg[i] ^= xor[i];
        /* keep the checksum right so the mutation reaches TCP */
        seg[16] = seg[17] = 0;
        uint32_t s = tern_csum_pseudo(&src, &dst, TERN_IPPROTO_TCP, (uint32_t)w);
        uint16_t c = tern_csum_finish(tern_csum_add(s, seg, w));
        seg[16] = (uint8_t)(c >> 8);
        seg[17] = (uint8_t)c;
    }
    send_tcp_bytes(f, seg, w);
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
    for (int i = 0; i < 64; i++) {
        uint64_t at = tern_stack_poll_at(f->st);
        if (at > t)
            break;
        if (at > f->now)
            f->now = at;
        tern_stack_poll(f->st, f->now);
    }
    if (t > f->now)
        f->now = t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static void *mem;
    static size_t memsz;
    fz f;
    memset(&f, 0, sizeof f);
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, 1);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, HOST_MAC, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    cfg.iface[0].prefix_len[0] = 24;
    cfg.tcp_sockets = 4;
    cfg.tcp.rx_buffer = 8192;
    cfg.tcp.tx_buffer = 8192;
    cfg.tcp.ooo_max_holes = 4;
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
    REQUIRE(tern_stack_init(mem, need, &cfg, &f.st, NULL, 0) == TERN_OK);
    tern_sock l, c = 0, a = 0;
    REQUIRE(tern_tcp_open(f.st, &l) == TERN_OK);
    REQUIRE(tern_tcp_bind(f.st, l, NULL, 80) == TERN_OK);
    REQUIRE(tern_tcp_listen(f.st, l, 2) == TERN_OK);
    /* the peer introduces itself (ARP request for us), then its SYN with every option */
    {
        struct tern_arp_repr ar;
        memset(&ar, 0, sizeof ar);
        ar.op = 1;
        memcpy(ar.sha.b, PEER_MAC, 6);
        ar.spa = tern_addr_v4(10, 0, 0, 2);
        ar.tpa = tern_addr_v4(10, 0, 0, 1);
        uint8_t ab[28], fr[64];
        size_t w, fw;
        REQUIRE(tern_arp_emit(&ar, ab, sizeof ab, &w) == TERN_OK);
        struct tern_eth_repr e;
        memset(&e, 0, sizeof e);
        memcpy(e.dst.b, HOST_MAC, 6);
        memcpy(e.src.b, PEER_MAC, 6);
        e.ethertype = TERN_ETHERTYPE_ARP;
        e.payload = ab;
        e.payload_len = w;
        REQUIRE(tern_eth_emit(&e, fr, sizeof fr, &fw) == TERN_OK);
        tern_stack_input(f.st, 1, 0, fr, fw);
    }
    uint32_t peer_seq = 1000;
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
    send_repr(&f, &r, NULL, 0);
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
    uint64_t steps = 0;
    while (rd.n > 0 && steps++ < 256) {
        uint8_t op = rd8(&rd);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
        case 3: { /* a segment near the right values */
            struct tern_tcp_repr s = ack;
            s.seq = peer_seq + (uint32_t)(int32_t)(int16_t)rd16(&rd) * (op & 4 ? 1 : 0);
            s.ack = f.host_seq + (uint32_t)(int32_t)(int16_t)rd16(&rd) * (op & 8 ? 1 : 0);
            s.flags = rd8(&rd);
            if (!(op & 16))
                s.flags = (uint8_t)((s.flags & ~TERN_TCP_SYN) | TERN_TCP_ACK);
            s.window = rd16(&rd);
            s.urgent = rd16(&rd);
            s.opt.ts_val = (op & 32) ? rd32(&rd) : ts++;
            s.opt.ts_ecr = rd32(&rd);
            s.opt.has_timestamps = !(op & 64);
            uint8_t nsack = rd8(&rd) % 5;
            s.opt.sack_count = nsack;
            for (uint8_t k = 0; k < nsack; k++) {
                s.opt.sack[k].left = f.host_ack + rd16(&rd);
                s.opt.sack[k].right = s.opt.sack[k].left + rd16(&rd) % 3000;
            }
            if (s.opt.has_timestamps && nsack > 3)
                s.opt.sack_count = 3;
            size_t plen = rd8(&rd) * 8u;
            static uint8_t payload[2048];
            for (size_t k = 0; k < plen; k++)
                payload[k] = (uint8_t)(k + op);
            s.payload = payload;
            s.payload_len = plen;
            uint8_t nx = (op & 128) ? rd8(&rd) % 24 : 0;
            uint8_t xr[24];
            for (uint8_t k = 0; k < nx; k++)
                xr[k] = rd8(&rd);
            send_repr(&f, &s, xr, nx);
            if ((s.flags & TERN_TCP_ACK) && !(op & 4))
                peer_seq += (uint32_t)plen;
            break;
        }
        case 4: /* time passes */
            poll_until(&f, f.now + (uint64_t)rd16(&rd) * (op & 8 ? 1000000000ull : 1000000ull));
            break;
        case 5: { /* accept, send, recv */
            if (!a) {
                if (tern_tcp_accept(f.st, l, &a) != TERN_OK)
                    a = 0;
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
                tern_tcp_recv(f.st, a, buf, rd16(&rd) % sizeof buf, &n);
                /* oracle: in urgent mode some octets are always left up to the mark */
                tern_tcp_urgent_info u;
                if (tern_tcp_get_urgent(f.st, a, &u) == TERN_OK) {
                    REQUIRE(u.pending == (u.mark > 0));
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
            case 0:
                tern_tcp_shutdown(f.st, t, what >> 4 & 3);
                break;
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
                tern_addr d = tern_addr_v4(10, 0, 0, 2);
                if (tern_tcp_connect(f.st, c, &d, 4001) != TERN_OK) {
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
            send_tcp_bytes(&f, raw, n); /* checksum likely wrong: counted, dropped */
            poll_until(&f, f.now);
            break;
        }
        }
    }
    poll_until(&f, f.now + 300ull * 1000000000ull);
    return 0;
}
