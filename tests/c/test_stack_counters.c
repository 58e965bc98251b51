/*
 * The per-frame counters (tern_counters: frames, bytes, ARP, IPv4, ICMP, TCP in and out, header
 * prediction's short paths) against the frames on the wire. Every frame writes them, so the
 * instance keeps them in two lines of its head (tern_counters_hot) and tern_stack_get_counters
 * reports them in tern_counters' place: each one must come out as the wire says.
 *
 * Two hosts wired back to back (no simulator): A pings B (ARP request and reply, echo request and
 * reply), then sends 64 KiB to B over TCP and closes. The test counts every frame each host sends
 * and receives by kind, and compares.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/packet.h"
#include "tern/stack.h"

#define MS 1000000ull
#define WIRE_MAX 512
#define XFER (64 * 1024)

/* Frames of each kind one host sent or received. */
typedef struct tally {
    uint64_t frames, bytes, arp, ip, icmp, tcp;
} tally;

typedef struct frame {
    uint8_t b[1600];
    size_t len;
} frame;

typedef struct host {
    tern_stack *st;
    void *mem;
    struct host *peer;
    frame *q; /* frames sent to the peer, not yet delivered */
    size_t nq;
    tally out, in;
    void (*app)(struct host *h); /* run after each frame the host takes, as an application would */
} host;

static void count(tally *t, const uint8_t *f, size_t len) {
    t->frames++;
    t->bytes += len;
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    if (type == 0x0806) {
        t->arp++;
    } else if (type == 0x0800) {
        t->ip++;
        t->icmp += f[14 + 9] == 1;
        t->tcp += f[14 + 9] == 6;
    }
}

static void out_fn(void *ctx, uint32_t iface, const uint8_t *f, size_t len) {
    host *h = ctx;
    (void)iface;
    count(&h->out, f, len);
    CHECK(h->nq < WIRE_MAX && len <= sizeof h->q[0].b);
    if (h->nq < WIRE_MAX && len <= sizeof h->q[0].b) {
        memcpy(h->q[h->nq].b, f, len);
        h->q[h->nq++].len = len;
    }
}

static void host_init(host *h, uint8_t last, uint32_t packet_sockets) {
    tern_stack_config c;
    test_host_cfg_v4(&c, 40 + last, 0, last);
    c.packet_sockets = packet_sockets;
    c.packet_queue = 4096;
    c.output = out_fn;
    c.output_ctx = h;
    size_t n = tern_stack_memory_size(&c);
    h->mem = aligned_alloc(64, (n + 63) / 64 * 64);
    h->q = calloc(WIRE_MAX, sizeof *h->q);
    CHECK(h->mem && h->q);
    CHECK(tern_stack_init(h->mem, n, &c, &h->st, NULL, 0) == TERN_OK);
}

/* Deliver what each host sent to the other at `now` (in the order sent), until both are quiet. */
static void exchange(host *a, host *b, uint64_t now) {
    frame *tmp = calloc(WIRE_MAX, sizeof *tmp);
    for (int round = 0; round < 1000 && (a->nq || b->nq); round++) {
        host *hs[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            host *h = hs[k];
            size_t n = h->nq;
            memcpy(tmp, h->q, n * sizeof *tmp);
            h->nq = 0;
            for (size_t i = 0; i < n; i++) {
                count(&h->peer->in, tmp[i].b, tmp[i].len);
                tern_stack_input(h->peer->st, now, 0, tmp[i].b, tmp[i].len);
                if (h->peer->app) {
                    h->peer->app(h->peer);
                }
            }
        }
    }
    free(tmp);
}

static void poll_due(host *h, uint64_t now) {
    if (tern_stack_poll_at(h->st) <= now) {
        tern_stack_poll(h->st, now);
    }
}

/* The host's counters as the wire counted them. */
static void check_host(const char *who, const host *h) {
    tern_counters c;
    tern_stack_get_counters(h->st, &c);
    check_current = who;
    CHECK_EQ_U64(c.frames_out, h->out.frames);
    CHECK_EQ_U64(c.bytes_out, h->out.bytes);
    CHECK_EQ_U64(c.ip_out, h->out.ip);
    CHECK_EQ_U64(c.tcp_out, h->out.tcp);
    CHECK_EQ_U64(c.frames_in, h->in.frames);
    CHECK_EQ_U64(c.bytes_in, h->in.bytes);
    CHECK_EQ_U64(c.arp_in, h->in.arp);
    CHECK_EQ_U64(c.ip_in, h->in.ip);
    /* every datagram here is unicast to the host and taken by ICMP or TCP */
    CHECK_EQ_U64(c.ip_delivered, h->in.ip);
    CHECK_EQ_U64(c.icmp_in, h->in.icmp);
    CHECK_EQ_U64(c.tcp_in, h->in.tcp);
    /* and the counters these do not cover are still counted where they were */
    CHECK(c.arp_replies_sent + c.arp_requests_sent >= 1);
    CHECK(h->out.frames > 20 && h->in.frames > 20 && h->in.arp == 1 && h->in.icmp == 1);
}

/* The receiver's application: accept, and read everything at once (the window it advertises
 * then stays open, and the sender's ACKs take header prediction's path). */
static tern_sock rx_lis, rx_sv;
static size_t rx_got;
static bool rx_eof;

static void receiver_app(host *h) {
    static uint8_t rbuf[XFER];
    if (!rx_sv && tern_tcp_accept(h->st, rx_lis, &rx_sv) != TERN_OK) {
        rx_sv = 0;
    }
    size_t n = 0;
    while (rx_sv && !rx_eof && tern_tcp_recv(h->st, rx_sv, rbuf, sizeof rbuf, &n) == TERN_OK) {
        if (n == 0) {
            rx_eof = true;
            break;
        }
        rx_got += n;
    }
}

/* The exchange; B with a packet socket that sees every frame (tap) or none configured. */
static void run(const char *name, bool tap) {
    check_current = name;
    host a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    host_init(&a, 1, 0);
    host_init(&b, 2, tap ? 1 : 0);
    a.peer = &b;
    b.peer = &a;
    rx_lis = rx_sv = 0;
    rx_got = 0;
    rx_eof = false;
    tern_sock pk = 0;
    if (tap) {
        CHECK(tern_packet_open(b.st, TERN_PACKET_ANY_IFACE, TERN_PACKET_ALL, &pk) == TERN_OK);
    }
    tern_sock ping, cl;
    tern_addr ab = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_ping_open(a.st, 7, &ping) == TERN_OK);
    CHECK(tern_ping_send(a.st, ping, &ab, 1, NULL, 32, 0, false) == TERN_OK);
    CHECK(tern_tcp_open(b.st, &rx_lis) == TERN_OK);
    CHECK(tern_tcp_bind(b.st, rx_lis, NULL, 5001) == TERN_OK);
    CHECK(tern_tcp_listen(b.st, rx_lis, 4) == TERN_OK);
    b.app = receiver_app;
    CHECK(tern_tcp_open(a.st, &cl) == TERN_OK);
    CHECK(tern_tcp_connect(a.st, cl, &ab, 5001) == TERN_OK);
    static uint8_t buf[XFER];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)(i * 7);
    }
    size_t sent = 0;
    bool pong = false, closed = false;
    for (uint64_t now = 0; now < 2000 * MS && !rx_eof; now += MS) {
        poll_due(&a, now);
        poll_due(&b, now);
        exchange(&a, &b, now);
        tern_ping_reply r;
        pong = pong || tern_ping_recv(a.st, ping, &r, NULL, 0) == TERN_OK;
        size_t w = 0;
        if (sent < XFER && tern_tcp_send(a.st, cl, buf + sent, XFER - sent, &w) == TERN_OK) {
            sent += w;
        }
        if (rx_got == XFER && !closed) { /* in FIN-WAIT-1 no ACK takes the short path */
            closed = tern_tcp_close(a.st, cl) == TERN_OK;
        }
        receiver_app(&b);
    }
    /* the FIN's ACK and whatever the close still sends */
    for (uint64_t now = 2000 * MS; now < 2010 * MS; now += MS) {
        poll_due(&a, now);
        poll_due(&b, now);
        exchange(&a, &b, now);
    }
    CHECK(pong && closed && rx_eof);
    CHECK_EQ_U64(rx_got, XFER);
    check_host("host A (ping, sender)", &a);
    check_host("host B (listener, receiver)", &b);
    /* header prediction's short paths: in-order data at the receiver, pure ACKs at the sender
     * (outside recovery, no SACK information: the lean path), each counted among tcp_in */
    tern_counters ca, cb;
    tern_stack_get_counters(a.st, &ca);
    tern_stack_get_counters(b.st, &cb);
    check_current = __func__;
    CHECK(cb.tcp_predicted_data > 10 && cb.tcp_predicted_data < cb.tcp_in);
    CHECK(ca.tcp_predicted_ack > 5 && ca.tcp_predicted_ack < ca.tcp_in);
    CHECK(ca.tcp_predicted_ack_lean > 5 && ca.tcp_predicted_ack_lean <= ca.tcp_predicted_ack);
    CHECK_EQ_U64(ca.tcp_predicted_data, 0); /* A receives no data */
    if (tap) {
        /* every frame B took in and sent, in the order it did */
        uint64_t received = 0, dropped = 0;
        CHECK(tern_packet_stats(b.st, pk, &received, &dropped) == TERN_OK);
        CHECK_EQ_U64(received, b.in.frames + b.out.frames);
        CHECK_EQ_U64(dropped, 0);
        /* a frame of its own: poll_at asks for a poll at once, which sends it as it is */
        uint8_t raw[60] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5, 'x'};
        uint64_t out0 = b.out.frames;
        CHECK(tern_packet_send(b.st, pk, 0, raw, sizeof raw) == TERN_OK);
        CHECK_EQ_U64(tern_stack_poll_at(b.st), 0);
        tern_stack_poll(b.st, 2010 * MS);
        CHECK_EQ_U64(b.out.frames, out0 + 1);
        CHECK(b.nq == 1 && b.q[0].len == sizeof raw && memcmp(b.q[0].b, raw, sizeof raw) == 0);
        check_host("host B after its packet socket's frame", &b);
    } else {
        CHECK(tern_packet_open(b.st, TERN_PACKET_ANY_IFACE, TERN_PACKET_ALL, &pk) ==
              TERN_ERR_NO_BUFFER);
    }
    free(a.mem);
    free(b.mem);
    free(a.q);
    free(b.q);
}

static void test_counters_match_the_wire(void) {
    run(__func__, false);
}

/* The same with a packet socket on B, which every frame in and out passes (tern_packet_tap), and
 * which sends a frame of its own through poll (the configuration's count of packet sockets, which
 * the instance keeps in a hot line). */
static void test_packet_socket_sees_every_frame(void) {
    run(__func__, true);
}

int main(void) {
    RUN(test_counters_match_the_wire);
    RUN(test_packet_socket_sees_every_frame);
    return check_summary();
}
