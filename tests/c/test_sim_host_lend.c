/*
 * A Tern host in the simulator lends its stack pool frames (tern_frame_alloc_fn,
 * docs/frame-lending.md): TCP segments are built where the link carries them
 * and enter it without the wire copy; the frame check still runs on every
 * one, where its bytes lie. White box: the simulation's count of bytes copied
 * into frames (core/sim_internal.h), and the stack's configured frame_output
 * (core/stack_internal.h) wrapped to spoil one segment.
 */
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "core/sim_internal.h"
#include "core/stack_internal.h"
#include "tern/sim.h"
#include "tern/sim_host.h"

#define MS 1000000ull
#define BYTES 200000u

typedef struct net {
    sim *s;
    sim_node_id a, b, sw;
    tern_stack *sa, *sb;
} net;

static void host_cfg(tern_stack_config *c, uint8_t last) {
    test_host_cfg_v4(c, 70 + last, 0, last);
}

/* Hosts a and b on a switch: a switch forwards the very frame it is handed, sharing its bytes. */
static net make_net(void) {
    net n;
    CHECK(sim_create(5, &n.s) == TERN_OK);
    tern_stack_config ca, cb;
    host_cfg(&ca, 1);
    host_cfg(&cb, 2);
    CHECK(sim_host_add(n.s, "a", &ca, &n.a) == TERN_OK);
    CHECK(sim_host_add(n.s, "b", &cb, &n.b) == TERN_OK);
    CHECK(sim_switch_add(n.s, "sw", 2, 10000 * MS, 0, &n.sw) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(n.s, n.a, 0, n.sw, 0, &l) == TERN_OK);
    CHECK(sim_link_add(n.s, n.b, 0, n.sw, 1, &l) == TERN_OK);
    n.sa = sim_host_stack(n.s, n.a);
    n.sb = sim_host_stack(n.s, n.b);
    return n;
}

static uint8_t pattern(uint32_t i) {
    return (uint8_t)(i * 13u + (i >> 9));
}

/* a sends BYTES to b; returns the bytes b read and checked (or stops at the first sim error). */
static uint32_t transfer(net *n, tern_err *run_err) {
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(n->sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(n->sb, lis, NULL, 80) == TERN_OK);
    CHECK(tern_tcp_listen(n->sb, lis, 4) == TERN_OK);
    CHECK(tern_tcp_open(n->sa, &cl) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(n->sa, cl, &dst, 80) == TERN_OK);
    uint32_t sent = 0, got = 0;
    bool accepted = false;
    *run_err = TERN_OK;
    for (uint64_t now = MS; now < 10000 * MS && got < BYTES; now += MS) {
        if (!accepted && tern_tcp_accept(n->sb, lis, &sv) == TERN_OK) {
            accepted = true;
        }
        uint8_t buf[8192];
        while (sent < BYTES) {
            uint32_t k = BYTES - sent < sizeof buf ? BYTES - sent : (uint32_t)sizeof buf;
            for (uint32_t i = 0; i < k; i++) {
                buf[i] = pattern(sent + i);
            }
            size_t w = 0;
            if (tern_tcp_send(n->sa, cl, buf, k, &w) != TERN_OK || w == 0) {
                break;
            }
            sent += (uint32_t)w;
        }
        size_t r = 0;
        while (accepted && tern_tcp_recv(n->sb, sv, buf, sizeof buf, &r) == TERN_OK && r > 0) {
            for (size_t i = 0; i < r; i++) {
                CHECK_EQ_U64(buf[i], pattern(got + (uint32_t)i));
            }
            got += (uint32_t)r;
        }
        sim_node_wake(n->s, n->a);
        sim_node_wake(n->s, n->b);
        *run_err = sim_run(n->s, now, 0, NULL);
        if (*run_err != TERN_OK) {
            break;
        }
    }
    return got;
}

/* The TCP segments cross a host's output and a switch without a copy; only the frames the stack
 * built in its own buffer are copied: the ARP request and reply (60 bytes each) and the SYN,
 * held for ARP and sent from its queue (74 bytes: MSS, SACK-permitted, timestamps, window scale).
 */
static void test_tcp_segments_travel_uncopied(void) {
    net n = make_net();
    tern_err e;
    CHECK_EQ_U64(transfer(&n, &e), BYTES);
    CHECK(e == TERN_OK);
    tern_counters ca;
    tern_stack_get_counters(n.sa, &ca);
    CHECK(ca.frames_out > BYTES / 1460);
    CHECK_EQ_U64(n.s->frame_bytes_copied, 60 + 60 + 74);
    sim_destroy(n.s);
}

static tern_frame_output_fn real_output;
static uint32_t spoil_at; /* the lent frame to spoil, counted from 1 */
static uint32_t lent_seen;

/* Flip one payload bit of the spoil_at-th frame a hands over in a lent buffer. */
static void spoiling_output(void *ctx, uint32_t iface, uint8_t *buf, size_t offset, size_t len) {
    if (++lent_seen == spoil_at) {
        buf[offset + len - 1] ^= 0x01;
    }
    real_output(ctx, iface, buf, offset, len);
}

/* A lent frame is checked where it lies: a wrong TCP checksum fails the run, naming the host,
 * the frame and the field, as for a copied frame. */
static void test_lent_frame_checked_in_place(void) {
    net n = make_net();
    real_output = n.sa->cfg.frame_output;
    n.sa->cfg.frame_output = spoiling_output;
    lent_seen = 0;
    spoil_at = 10; /* a data segment; frames #1 and #2 (ARP request, held SYN) were copied */
    tern_err e;
    CHECK(transfer(&n, &e) < BYTES);
    CHECK(e == TERN_ERR_BAD_CHECKSUM);
    CHECK_CONTAINS(sim_last_error(n.s), "host 'a' sent a frame with a wrong checksum: frame #12");
    CHECK_CONTAINS(sim_last_error(n.s), "bytes: TCP checksum 0x");
    sim_destroy(n.s);
}

int main(void) {
    RUN(test_tcp_segments_travel_uncopied);
    RUN(test_lent_frame_checked_in_place);
    return check_summary();
}
