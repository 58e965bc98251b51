/*
 * Segment level, white box: the SYN's text queued and delivered after the
 * handshake (RFC 9293 §3.10.7.2), and the responses of SYN-RECEIVED,
 * FIN-WAIT-1, FIN-WAIT-2, CLOSING and LAST-ACK to each kind of segment
 * (RFC 9293 §3.10.7.4, RFC 5961): in-window and out-of-window data, RST in
 * and out of the window, SYN, FIN, an unacceptable ACK.
 */
#include "tcp_harness.h"

#define PPORT 40000
#define HPORT 80
#define PISS 1000u

enum { K_DATA_IN, K_DATA_OUT, K_RST_EXACT, K_RST_IN, K_RST_OUT, K_SYN, K_FIN, K_BAD_ACK };

typedef struct conn {
    harness h;
    tern_sock l, c;
    uint32_t hiss; /* the host's ISS */
    uint32_t pnxt; /* the peer's next sequence number */
} conn;

static void establish(conn *k) {
    h_init(&k->h);
    CHECK(tern_tcp_open(k->h.st, &k->l) == TERN_OK);
    CHECK(tern_tcp_bind(k->h.st, k->l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(k->h.st, k->l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    h_send(&k->h, &syn);
    h_seg s;
    CHECK(h_next(&k->h, &s));
    k->hiss = s.tcp.seq;
    k->pnxt = PISS + 1;
}

static void complete(conn *k) {
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, k->pnxt, k->hiss + 1, TERN_TCP_ACK, 65535);
    h_send(&k->h, &a);
    CHECK(tern_tcp_accept(k->h.st, k->l, &k->c) == TERN_OK);
}

/* Send one kind of segment; return the host's state after it, *reply the flags it answered with
 * (0: nothing), *ack the ACK number of that reply. */
static int poke(conn *k, int kind, uint32_t una, uint8_t *reply, uint32_t *ack) {
    struct tern_tcp_repr r = h_mk(PPORT, HPORT, k->pnxt, una, TERN_TCP_ACK, 65535);
    switch (kind) {
    case K_DATA_IN:
        r.flags |= TERN_TCP_PSH;
        r.payload = (const uint8_t *)"xy";
        r.payload_len = 2;
        break;
    case K_DATA_OUT:
        r.seq = k->pnxt + 200000; /* beyond the window */
        r.payload = (const uint8_t *)"xy";
        r.payload_len = 2;
        break;
    case K_RST_EXACT:
        r.flags = TERN_TCP_RST;
        break;
    case K_RST_IN:
        r.flags = TERN_TCP_RST;
        r.seq = k->pnxt + 10;
        break;
    case K_RST_OUT:
        r.flags = TERN_TCP_RST;
        r.seq = k->pnxt + 200000;
        break;
    case K_SYN:
        r.flags = TERN_TCP_SYN;
        r.ack = 0;
        break;
    case K_FIN:
        r.flags |= TERN_TCP_FIN;
        break;
    case K_BAD_ACK:
        r.ack = una + 100000; /* acknowledges what was never sent */
        break;
    }
    h_send(&k->h, &r);
    h_poll(&k->h);
    h_seg s;
    *reply = 0;
    *ack = 0;
    while (h_next(&k->h, &s)) {
        *reply = s.tcp.flags;
        *ack = s.tcp.ack;
    }
    tern_tcp_info i;
    if (tern_tcp_get_info(k->h.st, k->c, &i) != TERN_OK)
        return -1;
    return (int)i.state;
}

static void test_syn_data_queued(void) {
    harness h;
    h_init(&h);
    tern_sock l, c = 0;
    CHECK(tern_tcp_open(h.st, &l) == TERN_OK);
    CHECK(tern_tcp_bind(h.st, l, NULL, HPORT) == TERN_OK);
    CHECK(tern_tcp_listen(h.st, l, 4) == TERN_OK);
    struct tern_tcp_repr syn = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
    syn.payload = (const uint8_t *)"early";
    syn.payload_len = 5;
    h_send(&h, &syn);
    h_seg s;
    CHECK(h_next(&h, &s));
    CHECK_EQ_U64(s.tcp.flags, TERN_TCP_SYN | TERN_TCP_ACK);
    CHECK_EQ_U64(s.tcp.ack, PISS + 1); /* the SYN-ACK acknowledges the SYN only */
    uint32_t hiss = s.tcp.seq;
    CHECK(tern_tcp_accept(h.st, l, &c) == TERN_ERR_WOULD_BLOCK);
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, PISS + 1, hiss + 1, TERN_TCP_ACK, 65535);
    h_send(&h, &a);
    CHECK(h_next(&h, &s)); /* the queued text is processed: acknowledged at once */
    CHECK_EQ_U64(s.tcp.ack, PISS + 6);
    CHECK(tern_tcp_accept(h.st, l, &c) == TERN_OK);
    /* the peer sends it again (it was not acknowledged in the SYN-ACK): a duplicate */
    a.flags |= TERN_TCP_PSH;
    a.payload = (const uint8_t *)"early";
    a.payload_len = 5;
    h_send(&h, &a);
    uint8_t buf[16];
    size_t got = 0;
    CHECK(tern_tcp_recv(h.st, c, buf, sizeof buf, &got) == TERN_OK);
    CHECK_EQ_U64(got, 5);
    CHECK(memcmp(buf, "early", 5) == 0);
    CHECK(tern_tcp_recv(h.st, c, buf, sizeof buf, &got) == TERN_ERR_WOULD_BLOCK);
    CHECK_EQ_U64(h_info(&h, c).rcv_nxt, PISS + 6);
    h_free(&h);
}

static void test_syn_received(void) {
    /* SYN-RECEIVED (passive): the listener's child; state read through a raw
     * connection count is not possible before accept, so check the replies. */
    struct {
        int kind;
        uint8_t reply; /* expected flags back */
        bool established;
    } cases[] = {
        {K_DATA_OUT, TERN_TCP_ACK, false},           /* unacceptable: <ACK> */
        {K_RST_OUT, 0, false},                       /* out of window: dropped */
        {K_RST_IN, TERN_TCP_ACK, false},             /* RFC 5961 §3.2: challenge ACK */
        {K_BAD_ACK, TERN_TCP_RST, false},            /* §3.10.7.4 fifth: <SEQ=SEG.ACK><RST> */
        {K_SYN, TERN_TCP_SYN | TERN_TCP_ACK, false}, /* the SYN again: SYN-ACK again */
        {K_DATA_IN, 0, true},                        /* ACK + data: established, ACK delayed */
        {K_FIN, TERN_TCP_ACK, true},                 /* ACK + FIN: CLOSE-WAIT */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conn k;
        establish(&k);
        k.c = 0;
        uint8_t rep;
        uint32_t ack;
        int kind = cases[i].kind;
        if (kind == K_SYN) {
            struct tern_tcp_repr r = h_mk(PPORT, HPORT, PISS, 0, TERN_TCP_SYN, 65535);
            h_send(&k.h, &r);
            h_seg s;
            rep = 0;
            while (h_next(&k.h, &s))
                rep = s.tcp.flags;
        } else {
            poke(&k, kind, k.hiss + 1, &rep, &ack);
        }
        if (rep != cases[i].reply)
            fprintf(stderr, "  SYN-RECEIVED case %zu: reply %#x\n", i, rep);
        CHECK_EQ_U64(rep, cases[i].reply);
        tern_sock c;
        bool est = tern_tcp_accept(k.h.st, k.l, &c) == TERN_OK;
        CHECK(est == cases[i].established);
        if (kind == K_FIN && est)
            CHECK_EQ_U64(h_info(&k.h, c).state, TERN_TCP_CLOSE_WAIT);
        if (kind == K_RST_EXACT)
            CHECK(!est);
        h_free(&k.h);
    }
    /* RST at RCV.NXT: the child goes away, the listener stays */
    conn k;
    establish(&k);
    struct tern_tcp_repr r = h_mk(PPORT, HPORT, k.pnxt, 0, TERN_TCP_RST, 0);
    h_send(&k.h, &r);
    struct tern_tcp_repr a = h_mk(PPORT, HPORT, k.pnxt, k.hiss + 1, TERN_TCP_ACK, 65535);
    h_send(&k.h, &a); /* the final ACK now meets no connection: the listener answers RST */
    tern_sock c;
    CHECK(tern_tcp_accept(k.h.st, k.l, &c) == TERN_ERR_WOULD_BLOCK);
    h_seg s;
    bool rst = false;
    while (h_next(&k.h, &s))
        rst = rst || (s.tcp.flags & TERN_TCP_RST);
    CHECK(rst);
    h_free(&k.h);
}

/* Put a fresh connection into `state` (FIN-WAIT-1/2, CLOSING, LAST-ACK). */
static void into(conn *k, int state) {
    establish(k);
    complete(k);
    h_seg s;
    if (state == TERN_TCP_LAST_ACK) {
        struct tern_tcp_repr f =
            h_mk(PPORT, HPORT, k->pnxt, k->hiss + 1, TERN_TCP_ACK | TERN_TCP_FIN, 65535);
        h_send(&k->h, &f);
        k->pnxt++;
    }
    CHECK(tern_tcp_shutdown(k->h.st, k->c, 1) == TERN_OK);
    h_poll(&k->h);
    while (h_next(&k->h, &s)) {
    }
    if (state == TERN_TCP_FIN_WAIT_2) {
        struct tern_tcp_repr a = h_mk(PPORT, HPORT, k->pnxt, k->hiss + 2, TERN_TCP_ACK, 65535);
        h_send(&k->h, &a);
    } else if (state == TERN_TCP_CLOSING) {
        struct tern_tcp_repr f =
            h_mk(PPORT, HPORT, k->pnxt, k->hiss + 1, TERN_TCP_ACK | TERN_TCP_FIN, 65535);
        h_send(&k->h, &f);
        k->pnxt++;
    }
    h_poll(&k->h);
    while (h_next(&k->h, &s)) {
    }
    CHECK_EQ_U64(h_info(&k->h, k->c).state, (uint64_t)state);
}

static void test_closing_states(void) {
    const int states[] = {TERN_TCP_FIN_WAIT_1, TERN_TCP_FIN_WAIT_2, TERN_TCP_CLOSING,
                          TERN_TCP_LAST_ACK};
    for (size_t si = 0; si < 4; si++) {
        int st = states[si];
        for (int kind = K_DATA_IN; kind <= K_BAD_ACK; kind++) {
            conn k;
            into(&k, st);
            /* the ACK field: SND.UNA (our FIN not yet acknowledged) except in FIN-WAIT-2 */
            uint32_t una = st == TERN_TCP_FIN_WAIT_2 ? k.hiss + 2 : k.hiss + 1;
            uint8_t rep;
            uint32_t ack;
            int after = poke(&k, kind, una, &rep, &ack);
            int want = st;
            uint8_t want_rep = TERN_TCP_ACK;
            switch (kind) {
            case K_DATA_IN:
                /* text is taken in FIN-WAIT-1/2 (the ACK may be delayed); after
                 * the peer's FIN (CLOSING, LAST-ACK) it is ignored and ACKed */
                want_rep = (st == TERN_TCP_CLOSING || st == TERN_TCP_LAST_ACK) ? TERN_TCP_ACK : 0;
                break;
            case K_DATA_OUT:
                break; /* <ACK> */
            case K_RST_EXACT:
                want = -1; /* the connection is gone (CLOSED, handle reports it) */
                want_rep = 0;
                break;
            case K_RST_IN:
                break; /* RFC 5961 §3.2 challenge ACK */
            case K_RST_OUT:
                want_rep = 0;
                break;
            case K_SYN:
                break; /* RFC 5961 §4.2 challenge ACK */
            case K_FIN:
                if (st == TERN_TCP_FIN_WAIT_1)
                    want = TERN_TCP_CLOSING;
                else if (st == TERN_TCP_FIN_WAIT_2)
                    want = TERN_TCP_TIME_WAIT;
                /* CLOSING / LAST-ACK: a retransmitted FIN, ACKed, state kept */
                break;
            case K_BAD_ACK:
                break; /* RFC 5961 §5.2: challenge ACK, dropped */
            }
            if (after == (int)TERN_TCP_CLOSED)
                after = -1;
            if (after != want || rep != want_rep)
                fprintf(stderr, "  state %d kind %d: state %d (want %d), reply %#x (want %#x)\n",
                        st, kind, after, want, rep, want_rep);
            CHECK(after == want);
            CHECK_EQ_U64(rep, want_rep);
            if (kind == K_RST_EXACT) {
                tern_tcp_info i;
                if (tern_tcp_get_info(k.h.st, k.c, &i) == TERN_OK)
                    CHECK(i.error == TERN_ERR_CONN_RESET || i.error == TERN_OK);
            }
            h_free(&k.h);
        }
    }
}

int main(void) {
    RUN(test_syn_data_queued);
    RUN(test_syn_received);
    RUN(test_closing_states);
    return check_summary();
}
