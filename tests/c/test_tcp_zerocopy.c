/*
 * The zero-copy calls under impairments: two Tern hosts over a link that loses, reorders or
 * corrupts segments; the sender mixes tern_tcp_send and tern_tcp_lend at random (lending from two
 * identical copies of the stream, so that some lends continue the previous lent buffer and some
 * take a new extent of a three-entry table), the receiver mixes tern_tcp_recv and
 * tern_tcp_recv_peek / tern_tcp_recv_consume of random lengths. Every byte must arrive exact, the
 * lent-done count must only grow and never pass what the peer acknowledged, and it must reach
 * every byte lent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define PERIOD (1u << 16)

static uint8_t stream_a[PERIOD], stream_b[PERIOD];

/* A small deterministic generator for the application's choices (xorshift32). */
static uint32_t next(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void host_cfg(tern_stack_config *c, uint8_t last) {
    test_host_cfg_v4(c, 300 + last, 0, last);
    c->tcp.rx_buffer = 8192;
    c->tcp.tx_buffer = 16384;
    c->tcp.lend_extents = 3;
    c->tcp_sockets = 4;
}

typedef struct impair {
    double loss, reorder, corrupt;
} impair;

static void run(const impair *im, uint64_t seed, uint64_t bytes) {
    sim *s;
    CHECK(sim_create(seed, &s) == TERN_OK);
    tern_stack_config ca, cb;
    host_cfg(&ca, 1);
    host_cfg(&cb, 2);
    sim_node_id a, b;
    sim_link_id l;
    CHECK(sim_host_add(s, "a", &ca, &a) == TERN_OK);
    CHECK(sim_host_add(s, "b", &cb, &b) == TERN_OK);
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    CHECK(sim_link_set_delay(s, l, SIM_DIR_BOTH, (int64_t)(2 * MS), 0, false) == TERN_OK);
    CHECK(sim_link_set_rate(s, l, SIM_DIR_BOTH, 50000000) == TERN_OK);
    if (im->loss > 0)
        CHECK(sim_link_set_loss_bernoulli(s, l, SIM_DIR_BOTH, im->loss) == TERN_OK);
    if (im->reorder > 0)
        CHECK(sim_link_set_reorder(s, l, SIM_DIR_BOTH, im->reorder) == TERN_OK);
    if (im->corrupt > 0)
        CHECK(sim_link_set_corrupt(s, l, SIM_DIR_BOTH, im->corrupt) == TERN_OK);
    tern_stack *sa = sim_host_stack(s, a), *sb = sim_host_stack(s, b);
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(sb, lis, NULL, 5001) == TERN_OK);
    CHECK(tern_tcp_listen(sb, lis, 8) == TERN_OK);
    CHECK(tern_tcp_open(sa, &cl) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(sa, cl, &dst, 5001) == TERN_OK);
    uint32_t rng = (uint32_t)seed * 2654435761u + 1;
    uint64_t sent = 0, lent = 0, got = 0, done = 0, now = 0;
    uint64_t no_buffer = 0, lends = 0, peeks = 0, wraps = 0;
    bool shut = false, eof = false, bad = false;
    static uint8_t sink[4096];
    while (!eof && now < 600 * SEC && !bad) {
        if (!sv && tern_tcp_accept(sb, lis, &sv) != TERN_OK)
            sv = 0;
        for (int k = 0; k < 8 && sent < bytes; k++) {
            uint32_t at = (uint32_t)(sent % PERIOD);
            size_t n = 1 + next(&rng) % 3000;
            if (n > PERIOD - at)
                n = PERIOD - at;
            if (n > bytes - sent)
                n = (size_t)(bytes - sent);
            uint32_t how = next(&rng) % 4; /* 0 copy, 1 lend from b, 2-3 lend from a */
            size_t w = 0;
            tern_err e;
            if (how == 0) {
                e = tern_tcp_send(sa, cl, stream_a + at, n, &w);
            } else {
                e = tern_tcp_lend(sa, cl, (how == 1 ? stream_b : stream_a) + at, n, &w);
                no_buffer += e == TERN_ERR_NO_BUFFER;
                lent += w;
                lends += w > 0;
            }
            if (e != TERN_OK)
                break;
            sent += w;
        }
        if (sent == bytes && !shut) {
            CHECK(tern_tcp_shutdown(sa, cl, 1) == TERN_OK);
            shut = true;
        }
        bool read_now = next(&rng) % 3 == 0; /* the reader wakes every third ms on average */
        while (sv && !bad && read_now) {
            const uint8_t *parts[2];
            size_t lens[2] = {0, 0}, n = 0;
            if (next(&rng) % 2) {
                if (tern_tcp_recv(sb, sv, sink, 1 + next(&rng) % sizeof sink, &n) != TERN_OK)
                    break;
                parts[0] = sink;
                lens[0] = n;
            } else {
                tern_tcp_span span[2];
                size_t avail;
                if (tern_tcp_recv_peek(sb, sv, span, &avail) != TERN_OK)
                    break;
                CHECK(avail == span[0].len + span[1].len);
                n = avail ? 1 + next(&rng) % avail : 0; /* consume part of what is shown */
                parts[0] = span[0].data;
                lens[0] = n < span[0].len ? n : span[0].len;
                parts[1] = span[1].data;
                lens[1] = n - lens[0];
                wraps += span[1].len > 0;
                peeks++;
            }
            for (int p = 0; p < 2 && !bad; p++) {
                for (size_t i = 0; i < lens[p]; i++) {
                    if (parts[p][i] != stream_a[(got + i) % PERIOD]) {
                        fprintf(stderr, "  byte %llu differs\n", (unsigned long long)(got + i));
                        bad = true;
                        break;
                    }
                }
                got += lens[p];
            }
            if (lens[1] > 0 || (lens[0] > 0 && parts[0] != sink))
                CHECK(tern_tcp_recv_consume(sb, sv, n) == TERN_OK);
            if (n == 0) {
                eof = true;
                break;
            }
            /* Now and then bytes stay unread until a later millisecond: a ring read empty starts
             * again at its first byte, so a reader that always empties it never sees a span
             * wrap. */
            if (next(&rng) % 4 == 0)
                break;
        }
        uint64_t d;
        CHECK(tern_tcp_lend_done(sa, cl, &d) == TERN_OK);
        tern_tcp_info info;
        CHECK(tern_tcp_get_info(sa, cl, &info) == TERN_OK);
        CHECK(d >= done);             /* only grows */
        CHECK(d <= lent);             /* never more than was lent */
        CHECK(d <= info.bytes_acked); /* never ahead of the peer's cumulative ACKs */
        CHECK(lent - d <= sent - (info.bytes_acked < sent ? info.bytes_acked : sent));
        done = d;
        sim_node_wake(s, a);
        sim_node_wake(s, b);
        now += 1 * MS;
        CHECK(sim_run(s, now, 0, NULL) == TERN_OK);
    }
    CHECK(!bad);
    CHECK(eof);
    CHECK(got == bytes);
    for (int i = 0; i < 200 && done < lent; i++) {
        now += 10 * MS;
        CHECK(sim_run(s, now, 0, NULL) == TERN_OK);
        CHECK(tern_tcp_lend_done(sa, cl, &done) == TERN_OK);
    }
    CHECK(done == lent);
    CHECK(lends > 100 && peeks > 100 && wraps > 0 && no_buffer > 0);
    if (getenv("TCP_VERBOSE"))
        fprintf(stderr,
                "  %llu bytes (%llu lent in %llu calls, %llu NO_BUFFER), %llu peeks (%llu "
                "wrapped), %.3f s\n",
                (unsigned long long)got, (unsigned long long)lent, (unsigned long long)lends,
                (unsigned long long)no_buffer, (unsigned long long)peeks, (unsigned long long)wraps,
                (double)now / 1e9);
    sim_destroy(s);
}

/* A clean link, loss, reordering, corruption, and the three together; 1 MiB each. */
static void test_mixed_calls_under_impairments(void) {
    const impair cases[] = {
        {0, 0, 0}, {0.02, 0, 0}, {0, 0.05, 0}, {0, 0, 0.01}, {0.01, 0.02, 0.01}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(&cases[i], 1 + i, 1u << 20);
}

int main(void) {
    for (uint32_t i = 0; i < PERIOD; i++)
        stream_a[i] = stream_b[i] = (uint8_t)(i ^ (i >> 8) * 31);
    RUN(test_mixed_calls_under_impairments);
    return check_summary();
}
