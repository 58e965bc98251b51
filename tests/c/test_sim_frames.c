/*
 * Frame ownership through links (issue 19): a node forwarding the frame it is
 * receiving (a switch) shares its bytes with every link it sends on instead
 * of copying them, and a link that changes a frame (corruption, a corrupting
 * fault, a corrupted duplicate) works on a private copy, so no other receiver
 * ever sees the change. White-box: the simulation's count of bytes copied
 * into frames (core/sim_internal.h) shows which copies were made.
 */
#include <string.h>

#include "check.h"
#include "core/sim_internal.h"
#include "tern/sim.h"

#define SEC 1000000000ull
#define LEN 1500u
#define PEERS 4

typedef struct lan {
    sim *s;
    sim_node_id sw, h[PEERS];
    sim_link_id l[PEERS];
} lan;

/* PEERS peers on one switch; peer i on switch port i (link a = peer, b = switch). */
static lan make_lan(void) {
    lan n;
    CHECK(sim_create(7, &n.s) == TERN_OK);
    CHECK(sim_switch_add(n.s, "sw", PEERS, 10 * SEC, 0, &n.sw) == TERN_OK);
    const char *names[PEERS] = {"h0", "h1", "h2", "h3"};
    for (uint32_t i = 0; i < PEERS; i++) {
        CHECK(sim_peer_add(n.s, names[i], 1, 0, &n.h[i]) == TERN_OK);
        CHECK(sim_link_add(n.s, n.h[i], 0, n.sw, i, &n.l[i]) == TERN_OK);
    }
    return n;
}

/* A broadcast frame of LEN bytes from h0, every byte a function of its offset. */
static void make_frame(uint8_t *f) {
    for (uint32_t i = 0; i < LEN; i++) {
        f[i] = (uint8_t)(i * 131u + 7u);
    }
    memset(f, 0xff, 6);
    f[6] = 2; /* a unicast source address */
}

/* The one frame peer h has received. */
static void recv_one(lan *n, sim_node_id h, uint8_t *buf) {
    size_t len = 0;
    CHECK_EQ_U64(sim_peer_pending(n->s, h), 1);
    CHECK(sim_peer_recv(n->s, h, buf, SIM_MAX_FRAME, &len, NULL, NULL) == TERN_OK);
    CHECK_EQ_U64(len, LEN);
}

/* How many bits differ between a and b. */
static unsigned bits_differing(const uint8_t *a, const uint8_t *b) {
    unsigned d = 0;
    for (uint32_t i = 0; i < LEN; i++) {
        d += (unsigned)__builtin_popcount(a[i] ^ b[i]);
    }
    return d;
}

static uint8_t sent[LEN], buf[SIM_MAX_FRAME];

static void test_flooding_shares_one_copy(void) {
    lan n = make_lan();
    make_frame(sent);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    for (uint32_t i = 1; i < PEERS; i++) {
        recv_one(&n, n.h[i], buf);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    CHECK_EQ_U64(sim_peer_pending(n.s, n.h[0]), 0);
    /* The sender's frame is copied once; the switch floods it to three ports without a copy. */
    CHECK_EQ_U64(n.s->frame_bytes_copied, LEN);
    sim_destroy(n.s);
}

static void test_corruption_on_one_port_stays_there(void) {
    lan n = make_lan();
    make_frame(sent);
    CHECK(sim_link_set_corrupt(n.s, n.l[2], SIM_DIR_B_TO_A, 1.0) == TERN_OK);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    recv_one(&n, n.h[2], buf);
    CHECK_EQ_U64(bits_differing(buf, sent), 1);
    for (uint32_t i = 1; i < PEERS; i++) {
        if (i != 2) {
            recv_one(&n, n.h[i], buf);
            CHECK(memcmp(buf, sent, LEN) == 0);
        }
    }
    /* The sender's copy, and the corrupting link's private one. */
    CHECK_EQ_U64(n.s->frame_bytes_copied, 2 * LEN);
    sim_link_counters c;
    CHECK(sim_link_get_counters(n.s, n.l[2], SIM_DIR_B_TO_A, &c) == TERN_OK);
    CHECK_EQ_U64(c.corrupted, 1);
    sim_destroy(n.s);
}

static void test_corrupting_fault_on_one_port_stays_there(void) {
    lan n = make_lan();
    make_frame(sent);
    CHECK(sim_link_fault_nth(n.s, n.l[3], SIM_DIR_B_TO_A, 1, SIM_FAULT_CORRUPT, 0, NULL) ==
          TERN_OK);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    recv_one(&n, n.h[3], buf);
    CHECK_EQ_U64(bits_differing(buf, sent), 1);
    for (uint32_t i = 1; i < 3; i++) {
        recv_one(&n, n.h[i], buf);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    sim_destroy(n.s);
}

/* A duplicate shares its original's bytes; each one corrupted gets its own single flipped bit. */
static void test_duplicates_are_corrupted_apart(void) {
    sim *s;
    CHECK(sim_create(11, &s) == TERN_OK);
    sim_node_id a, b;
    sim_link_id l;
    CHECK(sim_peer_add(s, "a", 1, 0, &a) == TERN_OK);
    CHECK(sim_peer_add(s, "b", 1, 0, &b) == TERN_OK);
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    CHECK(sim_link_set_duplicate(s, l, SIM_DIR_A_TO_B, 1.0) == TERN_OK);
    CHECK(sim_link_set_corrupt(s, l, SIM_DIR_A_TO_B, 1.0) == TERN_OK);
    make_frame(sent);
    uint32_t frames = 50, got = 0;
    for (uint32_t i = 0; i < frames; i++) {
        CHECK(sim_peer_send(s, a, 0, sent, LEN) == TERN_OK);
    }
    CHECK(sim_run(s, SEC, 0, NULL) == TERN_OK);
    size_t len;
    while (sim_peer_recv(s, b, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
        CHECK_EQ_U64(len, LEN);
        /* Had the duplicate read its original's corrupted bytes, it would differ by 0 or 2. */
        CHECK_EQ_U64(bits_differing(buf, sent), 1);
        got++;
    }
    CHECK_EQ_U64(got, 2 * frames);
    sim_destroy(s);
}

/* Without sharing (two peers, no switch) the sender's copy is the only one, delivered intact. */
static void test_direct_link_delivers_the_one_copy(void) {
    sim *s;
    CHECK(sim_create(3, &s) == TERN_OK);
    sim_node_id a, b;
    sim_link_id l;
    CHECK(sim_peer_add(s, "a", 1, 0, &a) == TERN_OK);
    CHECK(sim_peer_add(s, "b", 1, 0, &b) == TERN_OK);
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    make_frame(sent);
    CHECK(sim_peer_send(s, a, 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(s, SEC, 0, NULL) == TERN_OK);
    size_t len;
    CHECK(sim_peer_recv(s, b, buf, sizeof buf, &len, NULL, NULL) == TERN_OK);
    CHECK_EQ_U64(len, LEN);
    CHECK(memcmp(buf, sent, LEN) == 0);
    CHECK_EQ_U64(s->frame_bytes_copied, LEN);
    /* the size checks still hold for a frame entering a link */
    CHECK(sim_peer_send(s, a, 0, sent, 0) == TERN_ERR_FRAME_SIZE);
    sim_destroy(s);
}

int main(void) {
    RUN(test_flooding_shares_one_copy);
    RUN(test_corruption_on_one_port_stays_there);
    RUN(test_corrupting_fault_on_one_port_stays_there);
    RUN(test_duplicates_are_corrupted_apart);
    RUN(test_direct_link_delivers_the_one_copy);
    return check_summary();
}
