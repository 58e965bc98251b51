/*
 * Which datagram held for neighbour resolution a new one replaces
 * (core/held.c, issue 22): a TCP segment of the same connection whose
 * sequence space covers the held one's, which has some (SYN, data, FIN).
 * Never a pure ACK, never across connections, never with a RST, never a
 * SYN for data or data for a SYN, over IPv4 and IPv6, sequence numbers
 * modulo 2^32.
 */
#include <string.h>

#include "check.h"
#include "core/stack_internal.h"

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

typedef struct seg {
    uint8_t b[100];
    size_t len;
} seg;

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An IPv4 (v6 false) or IPv6 datagram: 10.0.0.1:sport -> 10.0.0.src_last:5001
 * (fd00::1 -> fd00::last), TCP without options, `data` bytes of payload. */
static seg tcp(bool v6, uint8_t last, uint16_t sport, uint32_t seqno, uint8_t flags, size_t data) {
    seg s;
    memset(&s, 0, sizeof s);
    size_t hl = v6 ? 40 : 20;
    uint8_t *ip = s.b;
    size_t total = hl + 20 + data;
    if (v6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)((total - 40) >> 8);
        ip[5] = (uint8_t)(total - 40);
        ip[6] = 6;
        ip[7] = 64;
        ip[8] = 0xfd;
        ip[23] = 1;
        ip[24] = 0xfd;
        ip[39] = last;
    } else {
        ip[0] = 0x45;
        ip[2] = (uint8_t)(total >> 8);
        ip[3] = (uint8_t)total;
        ip[6] = 0x40; /* DF */
        ip[8] = 64;
        ip[9] = 6;
        ip[12] = 10;
        ip[15] = 1;
        ip[16] = 10;
        ip[19] = last;
    }
    uint8_t *t = ip + hl;
    t[0] = (uint8_t)(sport >> 8);
    t[1] = (uint8_t)sport;
    t[2] = 5001 >> 8;
    t[3] = 5001 & 0xff;
    put32(t + 4, seqno);
    t[12] = 5 << 4;
    t[13] = flags;
    s.len = total;
    return s;
}

static bool sup(const seg *old, const seg *nw) {
    return tern_held_supersedes(old->b, old->len, nw->b, nw->len);
}

static void test_a_retransmission_replaces_its_original(void) {
    for (int v6 = 0; v6 < 2; v6++) {
        seg syn = tcp(v6, 2, 40000, 1000, SYN, 0);
        CHECK(sup(&syn, &syn)); /* the SYN's retransmission */
        seg d = tcp(v6, 2, 40000, 1001, ACK | PSH, 40);
        CHECK(sup(&d, &d));
        seg more = tcp(v6, 2, 40000, 1001, ACK | PSH, 60); /* covers it, and more */
        CHECK(sup(&d, &more));
        CHECK(!sup(&more, &d)); /* a shorter one does not cover a longer one */
        seg fin = tcp(v6, 2, 40000, 1041, ACK | FIN, 0);
        CHECK(sup(&fin, &fin));
        seg data_fin = tcp(v6, 2, 40000, 1001, ACK | FIN, 40); /* 40 bytes and the FIN */
        CHECK(sup(&fin, &data_fin));
        CHECK(sup(&d, &data_fin));
        CHECK(!sup(&data_fin, &d)); /* the FIN's octet is not covered */
    }
}

static void test_what_is_never_replaced(void) {
    seg d = tcp(false, 2, 40000, 1001, ACK, 40);
    seg next = tcp(false, 2, 40000, 1041, ACK, 40); /* the next segment, not a copy */
    CHECK(!sup(&d, &next));
    seg before = tcp(false, 2, 40000, 1000, ACK, 40); /* starts before, ends before the end */
    CHECK(!sup(&d, &before));
    seg ack = tcp(false, 2, 40000, 1041, ACK, 0);
    CHECK(!sup(&ack, &ack)); /* pure ACKs (and duplicate ACKs) each tell the peer something */
    CHECK(!sup(&ack, &next));
    seg other_port = tcp(false, 2, 40001, 1001, ACK, 40);
    CHECK(!sup(&d, &other_port));
    seg other_dport = d;
    other_dport.b[20 + 3] ^= 1; /* the same source port, another destination port */
    CHECK(!sup(&d, &other_dport));
    seg other_host = tcp(false, 3, 40000, 1001, ACK, 40);
    CHECK(!sup(&d, &other_host));
    seg rst = tcp(false, 2, 40000, 1001, RST | ACK, 40);
    CHECK(!sup(&d, &rst));
    CHECK(!sup(&rst, &d));
    seg syn = tcp(false, 2, 40000, 1000, SYN, 0);
    seg data_at_isn = tcp(false, 2, 40000, 1000, ACK, 40);
    CHECK(!sup(&syn, &data_at_isn)); /* a SYN is replaced by a SYN only */
    seg v6 = tcp(true, 2, 40000, 1001, ACK, 40);
    CHECK(!sup(&d, &v6));
    CHECK(!sup(&v6, &d));
}

static void test_sequence_numbers_wrap(void) {
    seg d = tcp(false, 2, 40000, 0xffffffe0u, ACK, 64); /* 32 octets either side of 2^32 */
    CHECK(sup(&d, &d));
    seg later = tcp(false, 2, 40000, 0xfffffff0u, ACK, 64);
    CHECK(!sup(&d, &later));
    seg wider = tcp(false, 2, 40000, 0xffffffd0u, ACK, 80);
    CHECK(sup(&d, &wider));
}

static void test_what_is_not_tcp_or_is_cut(void) {
    seg d = tcp(false, 2, 40000, 1001, ACK, 40);
    seg udp = d;
    udp.b[9] = 17;
    CHECK(!sup(&udp, &udp));
    seg frag = d;
    frag.b[6] = 0x20; /* MF */
    CHECK(!sup(&frag, &frag));
    for (size_t n = 0; n < 40; n++) {
        CHECK(!tern_held_supersedes(d.b, n, d.b, d.len)); /* headers cut short */
        CHECK(!tern_held_supersedes(d.b, d.len, d.b, n));
    }
    seg bad_hl = d;
    bad_hl.b[0] = 0x44; /* IHL 16 bytes */
    CHECK(!sup(&bad_hl, &bad_hl));
    seg bad_off = d;
    bad_off.b[20 + 12] = 4 << 4; /* TCP data offset 16 bytes */
    CHECK(!sup(&bad_off, &bad_off));
}

int main(void) {
    RUN(test_a_retransmission_replaces_its_original);
    RUN(test_what_is_never_replaced);
    RUN(test_sequence_numbers_wrap);
    RUN(test_what_is_not_tcp_or_is_cut);
    return check_summary();
}
