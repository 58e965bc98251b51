/* The simulator core: event ordering (with ties), node scheduling, the livelock guard (polls
 * without progress, frames at one instant), bad configuration. */
#include <stdlib.h>

#include "check.h"
#include "core/event_queue.h"
#include "tern/sim.h"

static void test_queue_orders_by_time_then_insertion(void) {
    sim_event_queue q;
    sim_eq_init(&q);
    /* Many ties at a handful of times, inserted in a scrambled time order. */
    uint64_t times[] = {50, 10, 50, 30, 10, 10, 50, 30, 0, 0};
    for (uint32_t i = 0; i < 10; i++) {
        CHECK(sim_eq_push(&q, times[i], 1, i, 0, NULL));
    }
    uint64_t last_t = 0;
    int64_t last_target_at_t = -1;
    sim_event ev;
    int n = 0;
    while (sim_eq_pop(&q, &ev)) {
        CHECK(ev.time >= last_t);
        if (ev.time != last_t) {
            last_target_at_t = -1;
        }
        /* Targets were pushed in increasing order, so ties come out increasing. */
        CHECK((int64_t)ev.target > last_target_at_t);
        last_target_at_t = ev.target;
        last_t = ev.time;
        n++;
    }
    CHECK_EQ_U64(n, 10);
    sim_eq_free(&q);
}

static void test_queue_large_random(void) {
    sim_event_queue q;
    sim_eq_init(&q);
    uint64_t x = 12345;
    for (uint32_t i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        CHECK(sim_eq_push(&q, (x >> 33) % 1000, 1, i, 0, NULL));
    }
    sim_event prev = {0}, ev;
    bool first = true, ok = true;
    while (sim_eq_pop(&q, &ev)) {
        if (!first && (ev.time < prev.time || (ev.time == prev.time && ev.seq < prev.seq))) {
            ok = false;
        }
        prev = ev;
        first = false;
    }
    CHECK(ok);
    sim_eq_free(&q);
}

/* Pops interleaved with pushes (the hold model), with many ties at each
 * time, including pushes at exactly the time just popped: the order out is
 * always (time, insertion). */
static void test_queue_hold_model_with_ties(void) {
    sim_event_queue q;
    sim_eq_init(&q);
    uint64_t x = 99;
    for (uint32_t i = 0; i < 1000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        CHECK(sim_eq_push(&q, (x >> 33) % 50, 1, i, 0, NULL));
    }
    sim_event prev = {0}, ev;
    bool ok = true;
    for (uint32_t i = 0; i < 200000; i++) {
        uint64_t peek = sim_eq_peek_time(&q);
        if (!sim_eq_pop(&q, &ev)) {
            ok = false;
            break;
        }
        if (ev.time != peek ||
            (i && (ev.time < prev.time || (ev.time == prev.time && ev.seq <= prev.seq)))) {
            ok = false;
        }
        prev = ev;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* Half the new events land on the current time (ties), the rest later. */
        uint64_t delta = (x >> 62) < 2 ? 0 : (x >> 33) % 7;
        CHECK(sim_eq_push(&q, ev.time + delta, 1, i, 0, NULL));
    }
    CHECK(ok);
    CHECK_EQ_U64(sim_eq_len(&q), 1000);
    sim_eq_free(&q);
}

/*
 * Events entering with reserved sequences (sim_eq_push_seq, a delivery FIFO's next frame) at the
 * instant being run, among thousands of newer events of that instant, as in a large simulation
 * whose hosts all wake at the same millisecond: they come out in (time, sequence) order, mixed
 * with events pushed at later times, and placing them costs a few key moves each, not a move of
 * every newer key of the instant (issue 19: that made the cost per event grow with the hosts).
 */
static void test_queue_reserved_seqs_at_one_instant(void) {
    enum { K = 2000, M = 8 };
    sim_event_queue q;
    sim_eq_init(&q);
    static uint64_t reserved[K];
    CHECK(sim_eq_push(&q, 0, 1, 0, 0, NULL)); /* the event run first */
    for (uint32_t i = 0; i < K; i++) {
        reserved[i] = sim_eq_reserve_seq(&q);
        for (uint32_t j = 0; j < M; j++) {
            CHECK(sim_eq_push(&q, 0, 1, 0, 0, NULL));
        }
    }
    CHECK(sim_eq_push(&q, 3, 1, 0, 0, NULL)); /* a later time: after every event at 0 */
    /* The first event of the instant runs, then the reserved sequences enter (the first just
     * before the pending keys, the others between them), with pops and pushes between them. */
    sim_event ev, prev;
    bool ok = true;
    uint32_t popped = 1, pushed = K * M + 2, late_pushes = 0;
    CHECK(sim_eq_pop(&q, &ev));
    CHECK_EQ_U64(ev.seq, 0);
    prev = ev;
    for (uint32_t i = 0; i < K; i++) {
        CHECK(sim_eq_before(&q, 0, reserved[i]) == (i == 0));
        CHECK(sim_eq_push_seq(&q, 0, reserved[i], 1, 1, 0, NULL));
        if (i % 4 == 3) {
            CHECK(sim_eq_pop(&q, &ev));
            ok = ok && ev.time == 0 && ev.seq > prev.seq;
            prev = ev;
            popped++;
            CHECK(sim_eq_push(&q, i % 8 == 7 ? 0 : 2, 1, 2, 0, NULL)); /* newest of its time */
            pushed++;
        }
        late_pushes++;
    }
    pushed += late_pushes;
    uint64_t t = 0, n_at_0 = popped;
    while (sim_eq_pop(&q, &ev)) {
        ok = ok && (ev.time > t || (ev.time == t && ev.seq > prev.seq));
        t = ev.time;
        n_at_0 += ev.time == 0;
        prev = ev;
        popped++;
    }
    CHECK(ok);
    CHECK_EQ_U64(popped, pushed);
    CHECK_EQ_U64(n_at_0, 1 + K * M + K + K / 8);
    CHECK_EQ_U64(t, 3);
    /* O(log K) moves per reserved sequence; moving every newer key of the instant took about
     * K * K * M / 2 (16 million). */
    CHECK(q.moves < 32u * K);
    sim_eq_free(&q);
}

/* A node that wants to run at a list of times and records when it ran. */
typedef struct timed_node {
    sim *s;
    sim_node_id id;
    uint64_t want[8];
    int nwant, next;
    uint64_t *log;
    int *nlog;
    int tag;
} timed_node;

static int order_log[64];
static int order_n;

static void timed_poll(void *state, uint64_t now) {
    timed_node *t = state;
    CHECK_EQ_U64(now, t->want[t->next]);
    t->next++;
    order_log[order_n++] = t->tag;
}

static uint64_t timed_poll_at(void *state) {
    timed_node *t = state;
    return t->next < t->nwant ? t->want[t->next] : SIM_NEVER;
}

static const sim_node_ops timed_ops = {NULL, timed_poll, timed_poll_at, NULL};

static void test_nodes_run_at_their_deadlines_ties_in_order(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    timed_node a = {.want = {100, 200, 300}, .nwant = 3, .tag = 1};
    timed_node b = {.want = {200, 300, 1000}, .nwant = 3, .tag = 2};
    CHECK(sim_node_add(s, "a", "test", 1, &timed_ops, &a, &a.id) == TERN_OK);
    CHECK(sim_node_add(s, "b", "test", 1, &timed_ops, &b, &b.id) == TERN_OK);
    order_n = 0;
    CHECK_EQ_U64(sim_next_event_time(s), 100);
    sim_stop why;
    CHECK(sim_run(s, 250, 0, &why) == TERN_OK);
    CHECK_EQ_U64(sim_now(s), 250);
    CHECK(why == SIM_STOP_TIME);
    CHECK_EQ_U64(a.next, 2);
    CHECK_EQ_U64(b.next, 1);
    CHECK(sim_run(s, SIM_NEVER, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(sim_now(s), 1000); /* stays at the last event */
    /* a@100 (rescheduled for 200 then). At the tie at 200, b's event was
     * inserted at creation, before a's rescheduling, so b runs first, and is
     * rescheduled for 300 before a is: b again first at 300. */
    int expect[] = {1, 2, 1, 2, 1, 2};
    CHECK_EQ_U64(order_n, 6);
    for (int i = 0; i < 6 && i < order_n; i++) {
        CHECK_EQ_U64(order_log[i], expect[i]);
    }
    CHECK(sim_run(s, 10, 0, NULL) == TERN_ERR_TIME_BACKWARDS);
    CHECK_CONTAINS(sim_last_error(s), "until=10");
    sim_destroy(s);
}

/* A node that always asks to run now and never does anything. */
static uint64_t stuck_poll_at(void *state) {
    return *(uint64_t *)state;
}
static void stuck_poll(void *state, uint64_t now) {
    *(uint64_t *)state = now;
}
static const sim_node_ops stuck_ops = {NULL, stuck_poll, stuck_poll_at, NULL};

static void test_livelock_guard_reports_the_node(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    uint64_t when = 5000;
    sim_node_id id;
    CHECK(sim_node_add(s, "spinner", "test", 1, &stuck_ops, &when, &id) == TERN_OK);
    tern_err err = sim_run(s, 1000000, 0, NULL);
    CHECK(err == TERN_ERR_LIVELOCK);
    CHECK_CONTAINS(sim_last_error(s), "spinner");
    CHECK_CONTAINS(sim_last_error(s), "t=5000");
    CHECK_EQ_U64(sim_now(s), 5000);
    sim_destroy(s);
}

/* A node that asks to run now again but sends a frame each time: progress, no livelock. */
typedef struct busy_node {
    sim *s;
    sim_node_id id;
    int left;
} busy_node;
static uint64_t busy_poll_at(void *state) {
    busy_node *b = state;
    return b->left > 0 ? 7 : SIM_NEVER;
}
static void busy_poll(void *state, uint64_t now) {
    busy_node *b = state;
    (void)now;
    uint8_t frame[60] = {0};
    sim_node_send(b->s, b->id, 0, frame, sizeof frame);
    b->left--;
}
static const sim_node_ops busy_ops = {NULL, busy_poll, busy_poll_at, NULL};

static void test_progress_is_not_livelock(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    busy_node b = {.s = s, .left = 5 * SIM_LIVELOCK_POLLS};
    CHECK(sim_node_add(s, "busy", "test", 1, &busy_ops, &b, &b.id) == TERN_OK);
    CHECK(sim_run(s, 100, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(b.left, 0);
    sim_node_counters c;
    CHECK(sim_node_get_counters(s, b.id, &c) == TERN_OK);
    CHECK_EQ_U64(c.tx_frames, 5 * SIM_LIVELOCK_POLLS);
    CHECK_EQ_U64(c.tx_no_link, 5 * SIM_LIVELOCK_POLLS);
    sim_destroy(s);
}

/* A node that sends `per_poll` frames (out of a port without a link) on every poll, at `at`,
 * for ever or `left` polls. */
typedef struct flood_node {
    sim *s;
    sim_node_id id;
    uint64_t at;
    uint32_t per_poll;
    int64_t left; /* polls still to run; -1: for ever */
} flood_node;
static uint64_t flood_poll_at(void *state) {
    flood_node *f = state;
    return f->left != 0 ? f->at : SIM_NEVER;
}
static void flood_poll(void *state, uint64_t now) {
    flood_node *f = state;
    uint8_t frame[60] = {0};
    for (uint32_t i = 0; i < f->per_poll; i++) {
        sim_node_send(f->s, f->id, 0, frame, sizeof frame); /* the result ignored, as nodes do */
    }
    if (f->left > 0) {
        f->left--;
        if (f->left == 0 && now < 2) {
            f->at = 2; /* ...and once more at the next instant */
            f->left = (int64_t)(SIM_LIVELOCK_FRAMES / f->per_poll);
        }
    }
}
static const sim_node_ops flood_ops = {NULL, flood_poll, flood_poll_at, NULL};

/* Sending is progress for the poll guard, so a node that sends without end at one instant was
 * never stopped: the run never returned. The frame guard stops it and names it. */
static void test_livelock_guard_stops_a_node_flooding_one_instant(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    flood_node f = {.s = s, .at = 9, .per_poll = 1000, .left = -1};
    CHECK(sim_node_add(s, "flooder", "test", 1, &flood_ops, &f, &f.id) == TERN_OK);
    CHECK(sim_run(s, 100, 0, NULL) == TERN_ERR_LIVELOCK);
    CHECK_CONTAINS(sim_last_error(s), "'flooder'");
    CHECK_CONTAINS(sim_last_error(s), "t=9 ");
    CHECK_EQ_U64(sim_now(s), 9);
    sim_node_counters c;
    CHECK(sim_node_get_counters(s, f.id, &c) == TERN_OK);
    CHECK_EQ_U64(c.tx_frames, SIM_LIVELOCK_FRAMES); /* the frames beyond were not sent */
    CHECK_EQ_U64(c.max_burst_frames, SIM_LIVELOCK_FRAMES);
    sim_destroy(s);
}

/* The positive control: SIM_LIVELOCK_FRAMES at one instant, and as many at the next, are fine. */
static void test_livelock_frame_limit_is_per_instant(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    flood_node f = {.s = s, .at = 1, .per_poll = 1000, .left = SIM_LIVELOCK_FRAMES / 1000};
    CHECK(sim_node_add(s, "bulk", "test", 1, &flood_ops, &f, &f.id) == TERN_OK);
    CHECK(sim_run(s, 100, 0, NULL) == TERN_OK);
    sim_node_counters c;
    CHECK(sim_node_get_counters(s, f.id, &c) == TERN_OK);
    CHECK_EQ_U64(c.tx_frames, 2 * (uint64_t)SIM_LIVELOCK_FRAMES);
    CHECK_EQ_U64(c.max_burst_frames, SIM_LIVELOCK_FRAMES);
    /* A peer sending past the limit outside sim_run is refused at once, by name, and the next
     * run is not charged with it. */
    sim_node_id p;
    CHECK(sim_peer_add(s, "talker", 1, 0, &p) == TERN_OK);
    uint8_t frame[60] = {0};
    tern_err last = TERN_OK;
    for (uint64_t i = 0; i <= SIM_LIVELOCK_FRAMES && last == TERN_OK; i++) {
        last = sim_peer_send(s, p, 0, frame, sizeof frame);
    }
    CHECK(last == TERN_ERR_LIVELOCK);
    CHECK_CONTAINS(sim_last_error(s), "'talker'");
    CHECK(sim_run(s, 200, 0, NULL) == TERN_OK);
    sim_destroy(s);
}

/* Two nodes that answer every frame with a frame, over a link without delay: an ACK ping-pong
 * between two ends that disagree, at one instant, without end. */
typedef struct echo_node {
    sim *s;
    sim_node_id id;
    bool start; /* sends the first frame */
} echo_node;
static void echo_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    echo_node *e = state;
    (void)now;
    sim_node_send(e->s, e->id, port, frame, len);
}
static uint64_t echo_poll_at(void *state) {
    echo_node *e = state;
    return e->start ? 4 : SIM_NEVER;
}
static void echo_poll(void *state, uint64_t now) {
    echo_node *e = state;
    (void)now;
    uint8_t frame[60] = {0};
    e->start = false;
    sim_node_send(e->s, e->id, 0, frame, sizeof frame);
}
static const sim_node_ops echo_ops = {echo_input, echo_poll, echo_poll_at, NULL};

static void test_livelock_guard_stops_a_ping_pong(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    echo_node a = {.s = s, .start = true}, b = {.s = s};
    CHECK(sim_node_add(s, "ping", "test", 1, &echo_ops, &a, &a.id) == TERN_OK);
    CHECK(sim_node_add(s, "pong", "test", 1, &echo_ops, &b, &b.id) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(s, a.id, 0, b.id, 0, &l) == TERN_OK);
    CHECK(sim_run(s, SIM_NEVER, 0, NULL) == TERN_ERR_LIVELOCK);
    CHECK_CONTAINS(sim_last_error(s), "'ping'"); /* it sent first, so it reaches the limit first */
    char pong[64];
    snprintf(pong, sizeof pong, "also at this instant: 'pong' %u", (unsigned)SIM_LIVELOCK_FRAMES);
    CHECK_CONTAINS(sim_last_error(s), pong);
    CHECK_EQ_U64(sim_now(s), 4);
    sim_node_counters ca, cb;
    CHECK(sim_node_get_counters(s, a.id, &ca) == TERN_OK);
    CHECK(sim_node_get_counters(s, b.id, &cb) == TERN_OK);
    CHECK_EQ_U64(ca.tx_frames, SIM_LIVELOCK_FRAMES);
    CHECK_EQ_U64(cb.tx_frames, SIM_LIVELOCK_FRAMES);
    sim_destroy(s);
}

static void test_bad_node_configuration(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_node_id a, b, x;
    CHECK(sim_peer_add(s, "a", 1, 0, &a) == TERN_OK);
    CHECK(sim_peer_add(s, "b", 2, 0, &b) == TERN_OK);
    CHECK(sim_peer_add(s, "a", 1, 0, &x) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "'a'");
    CHECK(sim_peer_add(s, "", 1, 0, &x) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(sim_peer_add(s, "z", 0, 0, &x) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "ports=0");
    CHECK(sim_switch_add(s, "sw", 2000, 0, 0, &x) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "ports=2000");
    sim_link_id l;
    CHECK(sim_link_add(s, a, 0, 99, 0, &l) == TERN_ERR_UNKNOWN_NODE);
    CHECK_CONTAINS(sim_last_error(s), "b=99");
    CHECK(sim_link_add(s, a, 3, b, 0, &l) == TERN_ERR_UNKNOWN_PORT);
    CHECK_CONTAINS(sim_last_error(s), "port_a=3");
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    CHECK(sim_link_add(s, b, 1, a, 0, &l) == TERN_ERR_PORT_IN_USE);
    CHECK_CONTAINS(sim_last_error(s), "port_b=0");
    CHECK_CONTAINS(sim_last_error(s), "'a'");
    CHECK(sim_link_add(s, b, 1, b, 1, &l) == TERN_ERR_INVALID_ARGUMENT);
    uint8_t f[2000] = {0};
    CHECK(sim_peer_send(s, a, 5, f, 60) == TERN_ERR_UNKNOWN_PORT);
    CHECK(sim_peer_send(s, a, 0, f, 0) == TERN_ERR_FRAME_SIZE);
    CHECK(sim_peer_send(s, 42, 0, f, 60) == TERN_ERR_UNKNOWN_NODE);
    sim_node_id sw;
    CHECK(sim_switch_add(s, "sw", 4, 0, 0, &sw) == TERN_OK);
    CHECK(sim_peer_send(s, sw, 0, f, 60) == TERN_ERR_WRONG_KIND);
    CHECK_CONTAINS(sim_last_error(s), "not a peer");
    size_t len;
    CHECK(sim_peer_recv(s, a, f, sizeof f, &len, NULL, NULL) == TERN_ERR_EMPTY);
    sim_destroy(s);
}

int main(void) {
    RUN(test_queue_orders_by_time_then_insertion);
    RUN(test_queue_large_random);
    RUN(test_queue_hold_model_with_ties);
    RUN(test_queue_reserved_seqs_at_one_instant);
    RUN(test_nodes_run_at_their_deadlines_ties_in_order);
    RUN(test_livelock_guard_reports_the_node);
    RUN(test_progress_is_not_livelock);
    RUN(test_livelock_guard_stops_a_node_flooding_one_instant);
    RUN(test_livelock_frame_limit_is_per_instant);
    RUN(test_livelock_guard_stops_a_ping_pong);
    RUN(test_bad_node_configuration);
    return check_summary();
}
