/*
 * The posted read (tern_tcp_recv_post / tern_tcp_recv_posted / tern_tcp_recv_take) between two
 * Tern hosts.
 *
 * test_posted_reads_under_impairments: the receiver mixes posted buffers of random sizes at random
 * places of its memory with tern_tcp_recv, over a link that loses, reorders or corrupts segments.
 * Every byte must arrive exact and in order, the filled count of a posted buffer must only grow,
 * bytes once filled must never change, reads must be refused while a buffer is posted, and the
 * stream must end (FIN) with the buffer final.
 *
 * test_segment_goes_straight_to_the_posted_buffer (white box): the one-pass placement is real. With
 * the receive ring painted, a segment that fits lands in the posted buffer without touching the
 * ring; one larger than the room puts its first part in the buffer and only the rest in the ring.
 *
 * test_drained_ring_starts_over, test_held_out_of_order_data_keeps_its_place (white box): a receive
 * ring the application has read empty starts again at its first byte (tcp_rx_consumed), so a
 * host that reads as data comes keeps reusing the same few lines of its ring; but not while
 * out-of-order data is held in it, whose place is counted from the ring's head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcp/tcp_private.h" /* the receive ring, white box */
#include "test_host_cfg.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define PERIOD (1u << 16)

static uint8_t stream[PERIOD];

static uint32_t next(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void host_cfg(tern_stack_config *c, uint8_t last, uint32_t rx) {
    test_host_cfg_v4(c, 400 + last, 0, last);
    c->tcp.rx_buffer = rx;
    c->tcp.tx_buffer = 16384;
    c->tcp_sockets = 4;
}

typedef struct pair {
    sim *s;
    sim_link_id l;
    sim_node_id a, b;
    tern_stack *sa, *sb;
    tern_sock cl, sv;
    uint64_t now;
} pair;

/* The applications made calls: both hosts poll, then the simulation runs ns on. */
static void pair_run(pair *pr, uint64_t ns) {
    sim_node_wake(pr->s, pr->a);
    sim_node_wake(pr->s, pr->b);
    pr->now += ns;
    CHECK(sim_run(pr->s, pr->now, 0, NULL) == TERN_OK);
}

/* Two hosts, a connected socket pair (a -> b), the link with 2 ms delay at 50 Mbit/s. */
static void pair_open(pair *pr, uint64_t seed, uint32_t rx) {
    CHECK(sim_create(seed, &pr->s) == TERN_OK);
    tern_stack_config ca, cb;
    host_cfg(&ca, 1, rx);
    host_cfg(&cb, 2, rx);
    CHECK(sim_host_add(pr->s, "a", &ca, &pr->a) == TERN_OK);
    CHECK(sim_host_add(pr->s, "b", &cb, &pr->b) == TERN_OK);
    CHECK(sim_link_add(pr->s, pr->a, 0, pr->b, 0, &pr->l) == TERN_OK);
    CHECK(sim_link_set_delay(pr->s, pr->l, SIM_DIR_BOTH, (int64_t)(2 * MS), 0, false) == TERN_OK);
    CHECK(sim_link_set_rate(pr->s, pr->l, SIM_DIR_BOTH, 50000000) == TERN_OK);
    pr->sa = sim_host_stack(pr->s, pr->a);
    pr->sb = sim_host_stack(pr->s, pr->b);
    tern_sock lis;
    CHECK(tern_tcp_open(pr->sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(pr->sb, lis, NULL, 5001) == TERN_OK);
    CHECK(tern_tcp_listen(pr->sb, lis, 8) == TERN_OK);
    CHECK(tern_tcp_open(pr->sa, &pr->cl) == TERN_OK);
    /* segments as sent, not held for Nagle (the white-box test counts them) */
    CHECK(tern_tcp_set_option(pr->sa, pr->cl, TERN_TCP_OPT_NODELAY, 1) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(pr->sa, pr->cl, &dst, 5001) == TERN_OK);
    pr->now = 0;
    pr->sv = 0;
    for (int i = 0; i < 100 && !pr->sv; i++) {
        pair_run(pr, 10 * MS);
        if (tern_tcp_accept(pr->sb, lis, &pr->sv) != TERN_OK)
            pr->sv = 0;
    }
    CHECK(pr->sv != 0);
}

typedef struct impair {
    double loss, reorder, corrupt;
} impair;

static void run(const impair *im, uint64_t seed, uint64_t bytes) {
    pair pr;
    pair_open(&pr, seed, 8192);
    if (im->loss > 0)
        CHECK(sim_link_set_loss_bernoulli(pr.s, pr.l, SIM_DIR_BOTH, im->loss) == TERN_OK);
    if (im->reorder > 0)
        CHECK(sim_link_set_reorder(pr.s, pr.l, SIM_DIR_BOTH, im->reorder) == TERN_OK);
    if (im->corrupt > 0)
        CHECK(sim_link_set_corrupt(pr.s, pr.l, SIM_DIR_BOTH, im->corrupt) == TERN_OK);
    uint32_t rng = (uint32_t)seed * 2654435761u + 7;
    static uint8_t mem[20000], sink[3000];
    uint64_t sent = 0, got = 0;
    uint64_t posts = 0, partial_takes = 0, recvs = 0, final_seen = 0;
    bool shut = false, eof = false, bad = false, posted = false;
    uint8_t *buf = NULL;
    size_t cap = 0, seen = 0; /* the posted buffer, and how many of its bytes were checked */
    while (!eof && pr.now < 600 * SEC && !bad) {
        while (sent < bytes) {
            uint32_t at = (uint32_t)(sent % PERIOD);
            size_t n = 1 + next(&rng) % 4000, w = 0;
            if (n > PERIOD - at)
                n = PERIOD - at;
            if (n > bytes - sent)
                n = (size_t)(bytes - sent);
            if (tern_tcp_send(pr.sa, pr.cl, stream + at, n, &w) != TERN_OK)
                break;
            sent += w;
        }
        if (sent == bytes && !shut) {
            CHECK(tern_tcp_shutdown(pr.sa, pr.cl, 1) == TERN_OK);
            shut = true;
        }
        for (int step = 0; step < 4 && !eof && !bad; step++) {
            if (!posted && next(&rng) % 4 == 0) {
                /* a plain read now and then: it serves what the ring holds */
                size_t n = 0;
                tern_err e = tern_tcp_recv(pr.sb, pr.sv, sink, 1 + next(&rng) % sizeof sink, &n);
                if (e == TERN_ERR_WOULD_BLOCK)
                    break;
                CHECK(e == TERN_OK);
                for (size_t i = 0; i < n && !bad; i++)
                    bad = sink[i] != stream[(got + i) % PERIOD];
                got += n;
                recvs++;
                eof = n == 0;
                continue;
            }
            if (!posted) {
                cap = 1 + next(&rng) % 12000;
                buf = mem + next(&rng) % (sizeof mem - cap + 1);
                memset(buf, 0xA5, cap);
                CHECK(tern_tcp_recv_post(pr.sb, pr.sv, buf, cap) == TERN_OK);
                posted = true;
                seen = 0;
                posts++;
                size_t dummy;
                CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, sizeof sink, &dummy) == TERN_ERR_BAD_STATE);
                CHECK(tern_tcp_recv_post(pr.sb, pr.sv, sink, sizeof sink) == TERN_ERR_BAD_STATE);
            }
            size_t filled;
            bool final;
            CHECK(tern_tcp_recv_posted(pr.sb, pr.sv, &filled, &final) == TERN_OK);
            CHECK(filled >= seen && filled <= cap);
            for (size_t i = seen; i < filled && !bad; i++)
                bad = buf[i] != stream[(got + i) % PERIOD];
            seen = filled;
            final_seen += final;
            /* take when final, or (sometimes) part-filled */
            if (final || (filled > 0 && next(&rng) % 3 == 0)) {
                size_t took;
                CHECK(tern_tcp_recv_take(pr.sb, pr.sv, &took) == TERN_OK);
                CHECK(took == filled);
                for (size_t i = 0; i < took && !bad; i++) /* bytes once filled never change */
                    bad = buf[i] != stream[(got + i) % PERIOD];
                got += took;
                partial_takes += took < cap;
                posted = false;
                if (final && took < cap) {
                    /* not full: the end of the stream follows (no urgent data here) */
                    size_t n = 1;
                    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, sizeof sink, &n) == TERN_OK);
                    CHECK(n == 0);
                    eof = true;
                }
                continue;
            }
            break;
        }
        pair_run(&pr, 1 * MS);
    }
    if (bad)
        fprintf(stderr, "  a byte near stream offset %llu differs\n", (unsigned long long)got);
    CHECK(!bad);
    CHECK(eof);
    CHECK(got == bytes);
    CHECK(posts > 100 && partial_takes > 10 && recvs > 10 && final_seen > 0);
    if (getenv("TCP_VERBOSE"))
        fprintf(stderr, "  %llu bytes, %llu posts (%llu taken part-filled), %llu recvs, %.3f s\n",
                (unsigned long long)got, (unsigned long long)posts,
                (unsigned long long)partial_takes, (unsigned long long)recvs, (double)pr.now / 1e9);
    sim_destroy(pr.s);
}

/* A clean link, loss, reordering, corruption, and the three together; 512 KiB each. */
static void test_posted_reads_under_impairments(void) {
    const impair cases[] = {
        {0, 0, 0}, {0.02, 0, 0}, {0, 0.05, 0}, {0, 0, 0.01}, {0.01, 0.02, 0.01}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(&cases[i], 1 + i, 1u << 19);
}

static void test_segment_goes_straight_to_the_posted_buffer(void) {
    pair pr;
    pair_open(&pr, 11, 8192);
    tcp_pcb *p;
    CHECK(tcp_handle_get(pr.sb, pr.sv, &p) == TERN_OK);
    uint8_t *ring = tcp_rx_base(pr.sb, p);
    memset(ring, 0xEE, p->rx_cap);
    static uint8_t buf[4000];
    uint64_t fast = pr.sb->hc.tcp_predicted_data;
    /* One 1000-byte segment, room 4000: straight into the buffer, the ring untouched. */
    CHECK(tern_tcp_recv_post(pr.sb, pr.sv, buf, sizeof buf) == TERN_OK);
    size_t w, filled;
    bool final;
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 20 * MS);
    CHECK(tern_tcp_recv_posted(pr.sb, pr.sv, &filled, &final) == TERN_OK);
    CHECK(filled == 1000 && !final);
    CHECK(memcmp(buf, stream, 1000) == 0);
    bool untouched = true;
    for (uint32_t i = 0; i < p->rx_cap; i++)
        untouched &= ring[i] == 0xEE;
    CHECK(untouched);
    CHECK(pr.sb->hc.tcp_predicted_data == fast + 1); /* the short path took it, placed */
    /* Room 700 for the next segment of 1000: its first 700 bytes go to the buffer, only the last
     * 300 into the ring, at its head; the 700 before them there were never written. */
    size_t took;
    CHECK(tern_tcp_recv_take(pr.sb, pr.sv, &took) == TERN_OK && took == 1000);
    CHECK(tern_tcp_recv_post(pr.sb, pr.sv, buf, 700) == TERN_OK);
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream + 1000, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 20 * MS);
    CHECK(tern_tcp_recv_posted(pr.sb, pr.sv, &filled, &final) == TERN_OK);
    CHECK(filled == 700 && final);
    CHECK(memcmp(buf, stream + 1000, 700) == 0);
    CHECK(p->rx_len == 300);
    CHECK(tern_tcp_readable(pr.sb, pr.sv) == 300);
    uint32_t h = p->rx_head;
    bool rest = true;
    for (uint32_t i = 0; i < 300; i++)
        rest &= ring[(h + i) % p->rx_cap] == stream[1700 + i];
    CHECK(rest);
    untouched = true;
    for (uint32_t i = 1; i <= 700; i++)
        untouched &= ring[(h + p->rx_cap - i) % p->rx_cap] == 0xEE;
    CHECK(untouched);
    CHECK(tern_tcp_recv_take(pr.sb, pr.sv, &took) == TERN_OK && took == 700);
    uint8_t sink[400];
    size_t n;
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, sizeof sink, &n) == TERN_OK && n == 300);
    CHECK(memcmp(sink, stream + 1700, 300) == 0);
    sim_destroy(pr.s);
}

/* close and abort forget a posted buffer: the stack never writes it again, and take is refused
 * for the handle that is gone. */
static void test_close_forgets_the_buffer(void) {
    pair pr;
    pair_open(&pr, 12, 8192);
    static uint8_t buf[4000];
    size_t w, filled, took;
    bool final;
    CHECK(tern_tcp_recv_post(pr.sb, pr.sv, buf, sizeof buf) == TERN_OK);
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream, 500, &w) == TERN_OK && w == 500);
    pair_run(&pr, 20 * MS);
    CHECK(tern_tcp_recv_posted(pr.sb, pr.sv, &filled, &final) == TERN_OK && filled == 500);
    CHECK(tern_tcp_close(pr.sb, pr.sv) == TERN_OK);
    memset(buf, 0x5A, sizeof buf);
    /* the peer goes on sending into the half-closed connection: the data is not placed */
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream + 500, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 50 * MS);
    bool untouched = true;
    for (size_t i = 0; i < sizeof buf; i++)
        untouched &= buf[i] == 0x5A;
    CHECK(untouched);
    CHECK(tern_tcp_recv_take(pr.sb, pr.sv, &took) == TERN_ERR_CLOSED);
    CHECK(tern_tcp_recv_posted(pr.sb, pr.sv, &filled, NULL) == TERN_ERR_CLOSED);
    sim_destroy(pr.s);
}

/* Reads as data comes: a partial read leaves the head where the reading stopped; the read that
 * empties the ring puts it back at 0, and the next segment is written from there. */
static void test_drained_ring_starts_over(void) {
    pair pr;
    pair_open(&pr, 12, 8192);
    tcp_pcb *p;
    CHECK(tcp_handle_get(pr.sb, pr.sv, &p) == TERN_OK);
    uint8_t *ring = tcp_rx_base(pr.sb, p);
    size_t w, n;
    uint8_t sink[4000];
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 20 * MS);
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, 600, &n) == TERN_OK && n == 600);
    CHECK_EQ_U64(p->rx_head, 600); /* control: a partial read moves the head */
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink + 600, 400, &n) == TERN_OK && n == 400);
    CHECK(memcmp(sink, stream, 1000) == 0);
    CHECK_EQ_U64(p->rx_len, 0);
    CHECK_EQ_U64(p->rx_head, 0);
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream + 1000, 3000, &w) == TERN_OK && w == 3000);
    pair_run(&pr, 20 * MS);
    CHECK_EQ_U64(p->rx_len, 3000);
    CHECK(memcmp(ring, stream + 1000, 3000) == 0); /* from the ring's first byte */
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, sizeof sink, &n) == TERN_OK && n == 3000);
    CHECK(memcmp(sink, stream + 1000, 3000) == 0);
    CHECK_EQ_U64(p->rx_head, 0);
    sim_destroy(pr.s);
}

/* The second of three segments is lost: the third is held out of order while the application
 * reads the ring empty; the head must stay, or the third's bytes would be read at the wrong
 * place once the second is retransmitted. Every byte arrives exact, and the ring starts over
 * only when nothing is held. */
static void test_held_out_of_order_data_keeps_its_place(void) {
    pair pr;
    pair_open(&pr, 13, 8192);
    tcp_pcb *p;
    CHECK(tcp_handle_get(pr.sb, pr.sv, &p) == TERN_OK);
    size_t w, n;
    uint8_t sink[4000];
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 20 * MS);
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, 400, &n) == TERN_OK && n == 400);
    uint32_t id;
    CHECK(sim_link_fault_filter(pr.s, pr.l, SIM_DIR_A_TO_B, "tcp and greater 1000", 1,
                                SIM_FAULT_DROP, 0, &id) == TERN_OK);
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream + 1000, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 1 * MS);
    CHECK(tern_tcp_send(pr.sa, pr.cl, stream + 2000, 1000, &w) == TERN_OK && w == 1000);
    pair_run(&pr, 3 * MS);
    uint64_t hits = 0;
    CHECK(sim_link_fault_hits(pr.s, pr.l, SIM_DIR_A_TO_B, id, &hits) == TERN_OK && hits == 1);
    CHECK_EQ_U64(p->ooo_n, 1); /* the third segment, held */
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink + 400, 600, &n) == TERN_OK && n == 600);
    CHECK(memcmp(sink, stream, 1000) == 0);
    CHECK_EQ_U64(p->rx_len, 0);
    CHECK_EQ_U64(p->rx_head, 1000); /* not back at 0: the held bytes are counted from here */
    pair_run(&pr, 3000 * MS);       /* the second segment again (the tail loss probe or the RTO) */
    CHECK_EQ_U64(p->ooo_n, 0);
    CHECK(tern_tcp_recv(pr.sb, pr.sv, sink, sizeof sink, &n) == TERN_OK && n == 2000);
    CHECK(memcmp(sink, stream + 1000, 2000) == 0);
    CHECK_EQ_U64(p->rx_head, 0);
    sim_destroy(pr.s);
}

int main(void) {
    for (uint32_t i = 0; i < PERIOD; i++)
        stream[i] = (uint8_t)(i ^ (i >> 8) * 31);
    RUN(test_segment_goes_straight_to_the_posted_buffer);
    RUN(test_close_forgets_the_buffer);
    RUN(test_posted_reads_under_impairments);
    RUN(test_drained_ring_starts_over);
    RUN(test_held_out_of_order_data_keeps_its_place);
    return check_summary();
}
