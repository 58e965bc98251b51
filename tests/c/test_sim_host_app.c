/*
 * An application inside the simulation (sim_host_set_app, tern/sim_host.h): it runs after each
 * input and poll of its host, at that event's virtual time, and what it sends leaves at that
 * instant. Over the wire: a UDP echo on host b answers a's datagram the moment it arrives, so the
 * answer reaches a exactly one propagation delay later; without the application nothing comes
 * back (positive control).
 */
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/sim.h"
#include "tern/sim_host.h"

#define MS 1000000ull
#define DELAY (1 * MS)

typedef struct echo_app {
    tern_sock sock;
    uint32_t calls, echoed;
    uint64_t first_call, last_call;
    bool time_backwards;
} echo_app;

/* Every datagram the socket holds goes back to its sender at once. */
static void echo(void *ctx, tern_stack *st, uint64_t now) {
    echo_app *a = ctx;
    if (a->calls++ == 0) {
        a->first_call = now;
    }
    a->time_backwards = a->time_backwards || now < a->last_call;
    a->last_call = now;
    uint8_t buf[64];
    size_t len;
    tern_addr src;
    uint16_t sport;
    while (tern_udp_recvfrom(st, a->sock, buf, sizeof buf, &len, &src, &sport, NULL, NULL) ==
           TERN_OK) {
        if (tern_udp_sendto(st, a->sock, &src, sport, buf, len) == TERN_OK) {
            a->echoed++;
        }
    }
}

static void host_cfg(tern_stack_config *c, uint8_t last) {
    test_host_cfg_v4(c, 40 + last, 0, last);
}

typedef struct net {
    sim *s;
    sim_node_id a, b;
    tern_stack *sa, *sb;
    tern_sock ua;
    echo_app app;
} net;

/* a and b on one link of DELAY each way; b's UDP socket on port 7; a has sent "hello" to it at 0
 * (ARP first: the request reaches b at DELAY, the reply a at 2 DELAY, the datagram b at 3). */
static void make_net(net *n, bool with_app) {
    memset(n, 0, sizeof *n);
    CHECK(sim_create(3, &n->s) == TERN_OK);
    tern_stack_config ca, cb;
    host_cfg(&ca, 1);
    host_cfg(&cb, 2);
    CHECK(sim_host_add(n->s, "a", &ca, &n->a) == TERN_OK);
    CHECK(sim_host_add(n->s, "b", &cb, &n->b) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(n->s, n->a, 0, n->b, 0, &l) == TERN_OK);
    CHECK(sim_link_set_delay(n->s, l, SIM_DIR_BOTH, (int64_t)DELAY, 0, false) == TERN_OK);
    n->sa = sim_host_stack(n->s, n->a);
    n->sb = sim_host_stack(n->s, n->b);
    CHECK(tern_udp_open(n->sb, &n->app.sock) == TERN_OK);
    CHECK(tern_udp_bind(n->sb, n->app.sock, NULL, 7) == TERN_OK);
    if (with_app) {
        CHECK(sim_host_set_app(n->s, n->b, echo, &n->app) == TERN_OK);
    }
    CHECK(tern_udp_open(n->sa, &n->ua) == TERN_OK);
    CHECK(tern_udp_bind(n->sa, n->ua, NULL, 5000) == TERN_OK);
    tern_addr b = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_udp_sendto(n->sa, n->ua, &b, 7, (const uint8_t *)"hello", 5) == TERN_OK);
    CHECK(sim_node_wake(n->s, n->a) == TERN_OK);
}

static void test_app_answers_at_the_arrival_instant(void) {
    net n;
    make_net(&n, true);
    /* One nanosecond before the answer can arrive: nothing at a. */
    CHECK(sim_run(n.s, 4 * DELAY - 1, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(tern_udp_pending(n.sa, n.ua), 0);
    CHECK_EQ_U64(n.app.echoed, 1);
    CHECK(sim_run(n.s, 4 * DELAY, 0, NULL) == TERN_OK);
    uint8_t buf[16];
    size_t len = 0;
    tern_addr src;
    uint16_t sport = 0;
    uint64_t when = 0;
    CHECK(tern_udp_recvfrom(n.sa, n.ua, buf, sizeof buf, &len, &src, &sport, NULL, &when) ==
          TERN_OK);
    CHECK_EQ_U64(len, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ_U64(sport, 7);
    CHECK_EQ_U64(when, 4 * DELAY); /* sent by b's application at 3 DELAY, the datagram's arrival */
    /* Called at b's events only, first the ARP request's arrival, time never going back. */
    CHECK_EQ_U64(n.app.first_call, DELAY);
    CHECK(!n.app.time_backwards);
    CHECK(n.app.calls >= 2);
    sim_destroy(n.s);
}

static void test_without_app_nothing_answers(void) {
    net n;
    make_net(&n, false);
    CHECK(sim_run(n.s, 20 * DELAY, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(tern_udp_pending(n.sa, n.ua), 0);
    CHECK_EQ_U64(tern_udp_pending(n.sb, n.app.sock), 1); /* it arrived; nobody read it */
    CHECK_EQ_U64(n.app.calls, 0);
    /* Set later, the application first runs at b's next event: a poll (b's own datagram to a,
     * queued from outside, makes b ask for one at once), where it answers the waiting datagram. */
    CHECK(sim_host_set_app(n.s, n.b, echo, &n.app) == TERN_OK);
    uint64_t t = sim_now(n.s);
    tern_addr a = tern_addr_v4(10, 0, 0, 1);
    CHECK(tern_udp_sendto(n.sb, n.app.sock, &a, 5000, (const uint8_t *)"own", 3) == TERN_OK);
    CHECK(sim_node_wake(n.s, n.b) == TERN_OK);
    CHECK(sim_run(n.s, t + DELAY, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(n.app.first_call, t);
    CHECK_EQ_U64(n.app.echoed, 1);
    CHECK_EQ_U64(tern_udp_pending(n.sa, n.ua), 2); /* b's own and the echo, both sent at t */
    /* Taken away: no more calls, though b still has events (another datagram for it). */
    uint32_t calls = n.app.calls;
    CHECK(sim_host_set_app(n.s, n.b, NULL, NULL) == TERN_OK);
    tern_addr b = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_udp_sendto(n.sa, n.ua, &b, 7, (const uint8_t *)"again", 5) == TERN_OK);
    CHECK(sim_node_wake(n.s, n.a) == TERN_OK);
    CHECK(sim_run(n.s, t + 10 * DELAY, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(tern_udp_pending(n.sb, n.app.sock), 1);
    CHECK_EQ_U64(n.app.calls, calls);
    sim_destroy(n.s);
}

static void test_set_app_on_a_non_host(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_node_id sw;
    CHECK(sim_switch_add(s, "sw", 2, 0, 0, &sw) == TERN_OK);
    echo_app a = {0};
    CHECK(sim_host_set_app(s, sw, echo, &a) == TERN_ERR_UNKNOWN_NODE);
    CHECK_CONTAINS(sim_last_error(s), "not a host");
    CHECK(sim_host_set_app(s, 99, echo, &a) == TERN_ERR_UNKNOWN_NODE);
    sim_destroy(s);
}

int main(void) {
    RUN(test_app_answers_at_the_arrival_instant);
    RUN(test_without_app_nothing_answers);
    RUN(test_set_app_on_a_non_host);
    return check_summary();
}
