/*
 * A link direction's counters as sim_link_get_counters reports them (issue 19): the per-frame
 * ones (frames_in, bytes_in, delivered, bytes_delivered) are kept 32 bits wide in the
 * direction's first line, carrying into the public struct's fields, and put together when read.
 * Every count is checked against what the peers sent and received, over a mix of delivered,
 * dropped (down, fault, loss) and duplicated frames in both directions, and past 2^32
 * (white-box: the 32-bit parts set near their end).
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "test_peer_pair.h"
#include "core/sim_internal.h"
#include "tern/sim.h"

#define SEC 1000000000ull

/* A frame of len bytes (a unicast Ethernet header, seq in bytes 14..17) from `from`. */
static void send_seq(pair *p, sim_node_id from, uint32_t seq, size_t len) {
    uint8_t f[2000];
    memset(f, 0, len);
    f[0] = 2;
    f[6] = 2;
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental EtherType */
    f[14] = (uint8_t)(seq >> 24);
    f[15] = (uint8_t)(seq >> 16);
    f[16] = (uint8_t)(seq >> 8);
    f[17] = (uint8_t)seq;
    CHECK(sim_peer_send(p->s, from, 0, f, len) == TERN_OK);
}

/* Receive everything `at` has: how many frames, their bytes, and their sequence numbers. */
static uint64_t drain(pair *p, sim_node_id at, uint64_t *bytes, uint32_t *seqs, size_t cap) {
    uint8_t buf[SIM_MAX_FRAME];
    size_t len;
    uint64_t n = 0;
    while (sim_peer_recv(p->s, at, buf, sizeof buf, &len, NULL, NULL) == TERN_OK) {
        if (seqs && n < cap) {
            seqs[n] = ((uint32_t)buf[14] << 24) | ((uint32_t)buf[15] << 16) |
                      ((uint32_t)buf[16] << 8) | buf[17];
        }
        *bytes += len;
        n++;
    }
    return n;
}

static size_t len_of(uint32_t i) {
    return 60 + (i * 37u) % 1400u;
}

static void test_counters_over_a_mix(void) {
    pair p = make_pair(11);
    uint64_t sent_ab = 0, bytes_ab = 0, sent_ba = 0, bytes_ba = 0;
    uint64_t got_b = 0, got_b_bytes = 0, got_a = 0, got_a_bytes = 0;
    uint32_t i = 0;
    /* Plain: every frame delivered, both ways (b sends one in three as many). */
    for (; i < 30; i++) {
        send_seq(&p, p.a, i, len_of(i));
        sent_ab++;
        bytes_ab += len_of(i);
        if (i % 3 == 0) {
            send_seq(&p, p.b, i, len_of(i + 5));
            sent_ba++;
            bytes_ba += len_of(i + 5);
        }
    }
    CHECK(sim_run(p.s, SEC, 0, NULL) == TERN_OK);
    /* Scripted faults: frame 31 dropped, 33 duplicated. */
    CHECK(sim_link_fault_nth(p.s, p.l, SIM_DIR_A_TO_B, 31, SIM_FAULT_DROP, 0, NULL) == TERN_OK);
    CHECK(sim_link_fault_nth(p.s, p.l, SIM_DIR_A_TO_B, 33, SIM_FAULT_DUPLICATE, 0, NULL) ==
          TERN_OK);
    for (; i < 40; i++) {
        send_seq(&p, p.a, i, len_of(i));
        sent_ab++;
        bytes_ab += len_of(i);
    }
    CHECK(sim_run(p.s, 2 * SEC, 0, NULL) == TERN_OK);
    /* Down: 4 frames each way lost. */
    CHECK(sim_link_set_up(p.s, p.l, false) == TERN_OK);
    for (; i < 44; i++) {
        send_seq(&p, p.a, i, len_of(i));
        send_seq(&p, p.b, i, len_of(i));
        sent_ab++;
        sent_ba++;
        bytes_ab += len_of(i);
        bytes_ba += len_of(i);
    }
    CHECK(sim_run(p.s, 3 * SEC, 0, NULL) == TERN_OK);
    CHECK(sim_link_set_up(p.s, p.l, true) == TERN_OK);
    /* Drawn: loss and duplication a to b. */
    CHECK(sim_link_set_loss_bernoulli(p.s, p.l, SIM_DIR_A_TO_B, 0.3) == TERN_OK);
    CHECK(sim_link_set_duplicate(p.s, p.l, SIM_DIR_A_TO_B, 0.2) == TERN_OK);
    for (; i < 1044; i++) {
        send_seq(&p, p.a, i, len_of(i));
        sent_ab++;
        bytes_ab += len_of(i);
    }
    CHECK(sim_run(p.s, 4 * SEC, 0, NULL) == TERN_OK);
    got_b = drain(&p, p.b, &got_b_bytes, NULL, 0);
    got_a = drain(&p, p.a, &got_a_bytes, NULL, 0);
    /* One more each way, still on the wire when the counters are read. */
    CHECK(sim_link_set_delay(p.s, p.l, SIM_DIR_BOTH, SEC, 0, false) == TERN_OK);
    send_seq(&p, p.a, i, 1000);
    send_seq(&p, p.b, i, 900);
    sent_ab++;
    sent_ba++;
    bytes_ab += 1000;
    bytes_ba += 900;
    CHECK(sim_run(p.s, 4 * SEC + SEC / 2, 0, NULL) == TERN_OK);

    sim_link_counters ab, ba;
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_A_TO_B, &ab) == TERN_OK);
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_B_TO_A, &ba) == TERN_OK);
    CHECK_EQ_U64(ab.frames_in, sent_ab);
    CHECK_EQ_U64(ab.bytes_in, bytes_ab);
    CHECK_EQ_U64(ab.delivered, got_b);
    CHECK_EQ_U64(ab.bytes_delivered, got_b_bytes);
    CHECK_EQ_U64(ba.frames_in, sent_ba);
    CHECK_EQ_U64(ba.bytes_in, bytes_ba);
    CHECK_EQ_U64(ba.delivered, got_a);
    CHECK_EQ_U64(ba.bytes_delivered, got_a_bytes);
    CHECK_EQ_U64(ba.delivered, 10);
    CHECK_EQ_U64(ab.dropped_down, 4);
    CHECK_EQ_U64(ba.dropped_down, 4);
    CHECK_EQ_U64(ab.dropped_fault, 1);
    CHECK_EQ_U64(ab.fault_duplicated, 1);
    CHECK(ab.dropped_loss > 200 && ab.duplicated > 100);
    /* Every frame in, and every copy made, is delivered, dropped or (one) on the wire. */
    CHECK_EQ_U64(ab.frames_in + ab.duplicated + ab.fault_duplicated,
                 ab.delivered + ab.dropped_down + ab.dropped_fault + ab.dropped_loss + 1);
    /* The two on the wire arrive and are counted. */
    CHECK(sim_run(p.s, SIM_NEVER, 0, NULL) == TERN_OK);
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_A_TO_B, &ab) == TERN_OK);
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_B_TO_A, &ba) == TERN_OK);
    got_b += drain(&p, p.b, &got_b_bytes, NULL, 0);
    got_a += drain(&p, p.a, &got_a_bytes, NULL, 0);
    CHECK_EQ_U64(ab.delivered, got_b);
    CHECK_EQ_U64(ab.bytes_delivered, got_b_bytes);
    CHECK_EQ_U64(ba.delivered, 11);
    CHECK_EQ_U64(ba.bytes_delivered, got_a_bytes);
    sim_destroy(p.s);
}

/* The counts go on past 2^32, and the faults select by the full frame number. */
static void test_counters_carry_past_32_bits(void) {
    pair p = make_pair(12);
    sim_linkdir *ld = &p.s->links[p.l].d[SIM_DIR_A_TO_B];
    /* As if 2^32 - 2 frames (of UINT32_MAX - 100 bytes in all) had entered and 2^32 - 1 had been
     * delivered. */
    ld->n.frames_in = UINT32_MAX - 1;
    ld->n.bytes_in = UINT32_MAX - 100;
    ld->n.delivered = UINT32_MAX;
    ld->n.bytes_delivered = UINT32_MAX - 50;
    /* Entering: frames 2^32 - 1, 2^32, 2^32 + 1; the middle one dropped. */
    CHECK(sim_link_fault_nth(p.s, p.l, SIM_DIR_A_TO_B, UINT64_C(1) << 32, SIM_FAULT_DROP, 0,
                             NULL) == TERN_OK);
    for (uint32_t i = 0; i < 3; i++) {
        send_seq(&p, p.a, i, 100);
    }
    CHECK(sim_run(p.s, SIM_NEVER, 0, NULL) == TERN_OK);
    uint32_t seqs[4];
    uint64_t bytes = 0;
    CHECK_EQ_U64(drain(&p, p.b, &bytes, seqs, 4), 2);
    CHECK_EQ_U64(seqs[0], 0);
    CHECK_EQ_U64(seqs[1], 2);
    sim_link_counters c;
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_A_TO_B, &c) == TERN_OK);
    CHECK_EQ_U64(c.frames_in, (UINT64_C(1) << 32) + 1);
    CHECK_EQ_U64(c.bytes_in, (uint64_t)UINT32_MAX - 100 + 300);
    CHECK_EQ_U64(c.delivered, (uint64_t)UINT32_MAX + 2);
    CHECK_EQ_U64(c.bytes_delivered, (uint64_t)UINT32_MAX - 50 + 200);
    CHECK_EQ_U64(c.dropped_fault, 1);
    /* The other direction, untouched, counts from 0. */
    CHECK(sim_link_get_counters(p.s, p.l, SIM_DIR_B_TO_A, &c) == TERN_OK);
    CHECK_EQ_U64(c.frames_in, 0);
    CHECK_EQ_U64(c.delivered, 0);
    sim_destroy(p.s);
}

int main(void) {
    RUN(test_counters_over_a_mix);
    RUN(test_counters_carry_past_32_bits);
    return check_summary();
}
