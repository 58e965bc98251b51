/*
 * Frame ownership through links (issue 19): a node forwarding the frame it is
 * receiving (a switch) shares its bytes with every link it sends on instead
 * of copying them, and a link that changes a frame (corruption, a corrupting
 * fault, a corrupted duplicate) works on a private copy, so no other receiver
 * ever sees the change. The first send of those bytes into a plain, quiet
 * direction takes the delivered frame itself on (sim_node_send): it must then
 * start its new traversal afresh, and no later send or delivery may see it
 * freed or changed. White-box: the simulation's count of bytes copied into
 * frames and the pool's counts of frames taken and live (core/sim_internal.h)
 * show which copies and frames were made.
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

/* The one frame peer h has received, and when. */
static uint64_t recv_one_at(lan *n, sim_node_id h, uint8_t *out) {
    size_t len = 0;
    uint64_t at = 0;
    CHECK_EQ_U64(sim_peer_pending(n->s, h), 1);
    CHECK(sim_peer_recv(n->s, h, out, SIM_MAX_FRAME, &len, NULL, &at) == TERN_OK);
    CHECK_EQ_U64(len, LEN);
    return at;
}

/* A unicast frame to a known port: the switch sends the delivered frame itself on, no frame of
 * its own; the receiver gets every byte, and every frame goes back to the pool. */
static void test_forward_takes_the_frame_on(void) {
    lan n = make_lan();
    /* h1 speaks first, so that the switch learns it (a broadcast: flooded to h0, h2, h3) */
    uint8_t hello[LEN];
    make_frame(hello);
    hello[6] = 2, hello[11] = 1; /* h1's address: 02:00:00:00:00:01 (make_frame: 02:..) */
    memset(hello + 7, 0, 4);
    CHECK(sim_peer_send(n.s, n.h[1], 0, hello, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    for (uint32_t i = 0; i < PEERS; i++) {
        if (i != 1) {
            recv_one(&n, n.h[i], buf);
        }
    }
    CHECK_EQ_U64(n.s->pool.live, 0);
    make_frame(sent);
    memcpy(sent, hello + 6, 6); /* to h1 */
    sent[6] = 2, sent[11] = 0;  /* from 02:xx:xx:xx:xx:00 */
    uint64_t taken = n.s->pool.taken;
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, 2 * SEC, 0, NULL) == TERN_OK);
    sim_switch_counters sc;
    CHECK(sim_switch_get_counters(n.s, n.sw, &sc) == TERN_OK);
    CHECK_EQ_U64(sc.forwarded, 1);
    recv_one(&n, n.h[1], buf);
    CHECK(memcmp(buf, sent, LEN) == 0);
    CHECK_EQ_U64(sim_peer_pending(n.s, n.h[2]) + sim_peer_pending(n.s, n.h[3]), 0);
    /* h0's frame, and the one h1's receive queue shares its bytes with: none for the switch */
    CHECK_EQ_U64(n.s->pool.taken - taken, 2);
    CHECK_EQ_U64(n.s->pool.live, 0);
    CHECK_EQ_U64(n.s->frame_bytes_copied, 2 * LEN);
    sim_destroy(n.s);
}

/* A flood whose first port is plain: that port takes the frame on, the other two share its bytes
 * (the positive control of the two tests below, whose first port is not plain or not up). */
static void test_flood_moves_to_its_first_port_only(void) {
    lan n = make_lan();
    make_frame(sent);
    uint64_t taken = n.s->pool.taken;
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    /* h0's frame, the shares for ports 2 and 3, and the three receive queues' shares */
    CHECK_EQ_U64(n.s->pool.taken - taken, 6);
    for (uint32_t i = 1; i < PEERS; i++) {
        recv_one(&n, n.h[i], buf);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    CHECK_EQ_U64(n.s->pool.live, 0);
    sim_destroy(n.s);
}

/* The first port of a flood corrupts: the frame is not taken on there (it would be changed in
 * place under the switch and the other ports), so the other ports get the bytes intact. */
static void test_flood_first_port_corrupts(void) {
    lan n = make_lan();
    make_frame(sent);
    CHECK(sim_link_set_corrupt(n.s, n.l[1], SIM_DIR_B_TO_A, 1.0) == TERN_OK);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    recv_one(&n, n.h[1], buf);
    CHECK_EQ_U64(bits_differing(buf, sent), 1);
    for (uint32_t i = 2; i < PEERS; i++) {
        recv_one(&n, n.h[i], buf);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    CHECK_EQ_U64(n.s->pool.live, 0);
    sim_destroy(n.s);
}

/* The first port of a flood is down: the frame is not taken on there (it would be freed while
 * the switch still sends its bytes on), so the other ports get it intact. */
static void test_flood_first_port_down(void) {
    lan n = make_lan();
    make_frame(sent);
    CHECK(sim_link_set_up(n.s, n.l[1], false) == TERN_OK);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(sim_peer_pending(n.s, n.h[1]), 0);
    for (uint32_t i = 2; i < PEERS; i++) {
        recv_one(&n, n.h[i], buf);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    sim_link_counters c;
    CHECK(sim_link_get_counters(n.s, n.l[1], SIM_DIR_B_TO_A, &c) == TERN_OK);
    CHECK_EQ_U64(c.dropped_down, 1);
    CHECK_EQ_U64(n.s->pool.live, 0);
    sim_destroy(n.s);
}

/* A frame delayed by a scripted fault on its way to the switch is not delayed again on its way
 * out: the frame taken on starts its traversal afresh. Exact times: the fault's 300 us plus the
 * two links' 10 us each. */
static void test_moved_frame_starts_afresh(void) {
    lan n = make_lan();
    for (uint32_t i = 0; i < PEERS; i++) {
        CHECK(sim_link_set_delay(n.s, n.l[i], SIM_DIR_BOTH, 10000, 0, false) == TERN_OK);
    }
    CHECK(sim_link_fault_nth(n.s, n.l[0], SIM_DIR_A_TO_B, 1, SIM_FAULT_DELAY, 300000, NULL) ==
          TERN_OK);
    make_frame(sent);
    CHECK(sim_peer_send(n.s, n.h[0], 0, sent, LEN) == TERN_OK);
    CHECK(sim_run(n.s, SEC, 0, NULL) == TERN_OK);
    for (uint32_t i = 1; i < PEERS; i++) {
        CHECK_EQ_U64(recv_one_at(&n, n.h[i], buf), 320000);
        CHECK(memcmp(buf, sent, LEN) == 0);
    }
    CHECK_EQ_U64(n.s->pool.live, 0);
    sim_destroy(n.s);
}

int main(void) {
    RUN(test_flooding_shares_one_copy);
    RUN(test_corruption_on_one_port_stays_there);
    RUN(test_corrupting_fault_on_one_port_stays_there);
    RUN(test_duplicates_are_corrupted_apart);
    RUN(test_direct_link_delivers_the_one_copy);
    RUN(test_forward_takes_the_frame_on);
    RUN(test_flood_moves_to_its_first_port_only);
    RUN(test_flood_first_port_corrupts);
    RUN(test_flood_first_port_down);
    RUN(test_moved_frame_starts_afresh);
    return check_summary();
}
