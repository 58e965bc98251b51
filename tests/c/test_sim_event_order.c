/*
 * The simulator's event order, against a recorded trace (issue 19: the
 * simulator's per-frame work may be cut, its order may not change).
 *
 * One simulation with every kind of link direction the pipeline has: plain
 * zero-delay links carrying bursts of frames at one instant (ties), delay with
 * jitter (in order and reordering), loss, duplication, corruption, a rate with
 * a queue limit, a token-bucket shaper, a size limit, scripted faults (delay,
 * drop, duplicate), a link going down and up, a learning switch, and two Tern
 * hosts running a TCP transfer through a relay. Scripted "talker" nodes send
 * bursts on all their ports when polled and answer some frames at once from
 * their input (so that both directions of a link interleave at one instant).
 * Every input and every poll of the scripted nodes is one line of the trace:
 * virtual time, the count of events processed so far, the node, the port, the
 * length and a hash of the bytes. The trace is compared line by line with
 * sim_event_order.txt next to this file, recorded before the simulator's
 * per-frame work was cut; so are the link counters and the events processed.
 *
 * After an intended change of the order (which no performance work may make),
 * regenerate it with
 *     SIM_ORDER_UPDATE=1 build/tests/c/test_sim_event_order
 * and explain the change in its commit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "core/sim_internal.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/stack.h"

#define US 1000ull
#define MS 1000000ull

#define MAX_LINES 20000
#define LINE 112

static char (*trace)[LINE];
static size_t nlines;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
    if (nlines >= MAX_LINES) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trace[nlines++], LINE, fmt, ap);
    va_end(ap);
}

static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

static sim *g_sim;

/* ---- scripted talkers ---------------------------------------------------- */

/* Frame layout: Ethernet (dst, src, type 0x88b5, local experimental), then
 * talker id, hop count, sequence (4 bytes), padding to the length. */
#define TYPE_HI 0x88
#define TYPE_LO 0xb5

typedef struct talker {
    sim_node_id id;
    uint8_t me;
    uint32_t nports;
    uint32_t seq;
    uint32_t round; /* bursts sent */
    uint64_t next;  /* next burst time, SIM_NEVER when done */
    uint32_t burst; /* frames per port per burst */
} talker;

static void build(uint8_t *f, size_t len, uint8_t from, uint8_t to, uint8_t hop, uint32_t seq) {
    memset(f, 0, len);
    if (to == 0xff) {
        memset(f, 0xff, 6);
    } else {
        f[0] = 0x02;
        f[5] = to;
    }
    f[6] = 0x02;
    f[11] = from;
    f[12] = TYPE_HI;
    f[13] = TYPE_LO;
    f[14] = from;
    f[15] = hop;
    f[16] = (uint8_t)(seq >> 24);
    f[17] = (uint8_t)(seq >> 16);
    f[18] = (uint8_t)(seq >> 8);
    f[19] = (uint8_t)seq;
    for (size_t i = 20; i < len; i++) {
        f[i] = (uint8_t)(seq * 7u + i);
    }
}

static void talker_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame,
                         size_t len) {
    talker *t = state;
    emit("%llu ev=%llu in t%u port=%u len=%zu h=%016llx", (unsigned long long)now,
         (unsigned long long)sim_events_processed(g_sim), t->me, port, len,
         (unsigned long long)fnv(frame, len));
    /* Answer frames of hop 0 from other talkers at once, on the same port: the answer enters the
     * link back while frames of the burst are still arriving. */
    if (len >= 20 && frame[12] == TYPE_HI && frame[13] == TYPE_LO && frame[15] == 0 &&
        frame[14] != t->me && (frame[19] & 1) == 0) {
        uint8_t out[200];
        size_t n = 60 + (frame[19] % 5) * 30;
        build(out, n, t->me, frame[14], 1, t->seq++);
        sim_node_send(g_sim, t->id, port, out, n);
    }
}

static void talker_poll(void *state, uint64_t now) {
    talker *t = state;
    emit("%llu ev=%llu poll t%u", (unsigned long long)now,
         (unsigned long long)sim_events_processed(g_sim), t->me);
    if (now < t->next) {
        return;
    }
    for (uint32_t k = 0; k < t->burst; k++) {
        for (uint32_t p = 0; p < t->nports; p++) {
            uint8_t out[1514];
            size_t n = 60 + ((t->seq * 131u + p * 17u) % 1454);
            uint8_t to = (uint8_t)((k % 3 == 2) ? 0xff : (t->me + 1 + p) % 4);
            build(out, n, t->me, to, 0, t->seq++);
            sim_node_send(g_sim, t->id, p, out, n);
        }
    }
    t->round++;
    /* Bursts at uneven times, two of them at the same instant as another talker's. */
    static const uint64_t gap[] = {0, 700 * US, 1 * MS, 0, 2300 * US, 50 * US, 4 * MS};
    uint64_t g = gap[(t->round + t->me) % (sizeof gap / sizeof gap[0])];
    t->next = t->round >= 12 ? SIM_NEVER : now + (g ? g : 1 * MS);
}

static uint64_t talker_poll_at(void *state) {
    talker *t = state;
    return t->next;
}

/* ---- a relay between two Tern hosts --------------------------------------- */

typedef struct relay {
    sim_node_id id;
} relay;

static void relay_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame,
                        size_t len) {
    relay *r = state;
    emit("%llu ev=%llu in relay port=%u len=%zu h=%016llx", (unsigned long long)now,
         (unsigned long long)sim_events_processed(g_sim), port, len,
         (unsigned long long)fnv(frame, len));
    sim_node_send(g_sim, r->id, 1 - port, frame, len); /* the very bytes: shared */
}

static void host_cfg(tern_stack_config *c, uint8_t last) {
    test_host_cfg_v4(c, 90 + last, 1, last);
}

static void link_counters(sim *s, sim_link_id l) {
    for (int d = 0; d < 2; d++) {
        sim_link_counters c;
        CHECK(sim_link_get_counters(s, l, (sim_dir)d, &c) == TERN_OK);
        emit("link %u dir %d in=%llu del=%llu loss=%llu dup=%llu corr=%llu q=%llu down=%llu "
             "fault=%llu size=%llu shaper=%llu/%llu reord=%llu qmax=%llu",
             l, d, (unsigned long long)c.frames_in, (unsigned long long)c.delivered,
             (unsigned long long)c.dropped_loss, (unsigned long long)c.duplicated,
             (unsigned long long)c.corrupted, (unsigned long long)c.dropped_queue,
             (unsigned long long)c.dropped_down, (unsigned long long)c.dropped_fault,
             (unsigned long long)c.dropped_size, (unsigned long long)c.shaper_delayed,
             (unsigned long long)c.dropped_shaper_limit, (unsigned long long)c.reordered,
             (unsigned long long)c.queue_max);
    }
}

/* Frames the simulation holds at this moment (white box): one per delivery event pending, per
 * frame waiting in a delivery FIFO and per frame queued in front of a line, and the frame whose
 * bytes shared ones read (a switch's flood) when it is not itself in flight any more; the hosts
 * hold no lent frame between calls. */
#define MAX_FLIGHT 4096
static const sim_frame *flight[MAX_FLIGHT];

static uint64_t frames_in_flight(const sim *s) {
    size_t n = 0;
    const sim_event_queue *q = &s->q;
    for (unsigned b = 0; b < SIM_EQ_BUCKETS; b++) {
        for (size_t k = b == 0 ? q->head0 : 0; k < q->b[b].len; k++) {
            uint32_t slot = (uint32_t)(q->b[b].v[k].tag & ((1u << 24) - 1));
            if (q->slots[slot].kind == EV_LINK_DELIVER && n < MAX_FLIGHT) {
                flight[n++] = q->slots[slot].ptr;
            }
        }
    }
    for (uint32_t i = 0; i < s->nlinks; i++) {
        for (int d = 0; d < 2; d++) {
            for (const sim_frame *f = s->links[i].d[d].q_head; f && n < MAX_FLIGHT; f = f->next) {
                flight[n++] = f;
            }
            for (const sim_frame *f = s->links[i].d[d].dq_head; f && n < MAX_FLIGHT; f = f->next) {
                flight[n++] = f;
            }
        }
    }
    size_t total = n;
    for (size_t i = 0; i < n; i++) {
        const sim_frame *root = flight[i]->owner;
        bool seen = root == NULL;
        for (size_t j = 0; j < total && !seen; j++) {
            seen = flight[j] == root;
        }
        if (!seen && total < MAX_FLIGHT) {
            flight[total++] = root;
        }
    }
    CHECK(total < MAX_FLIGHT);
    return total;
}

/* Every frame taken from the pool comes back exactly once: after each step of the run, the
 * frames taken and not returned are exactly those in flight (a leak counts more, a second
 * return fewer, and aborts). */
static uint64_t live_mismatches;

/* The event queue renumbers its pending events after this many insertions (SIM_EQ_SEQ_LIMIT, or
 * lower to make it happen in a short run), and how often it did. */
static uint64_t seq_limit = SIM_EQ_SEQ_LIMIT;
static uint64_t renumbered;

static void run_scenario(void) {
    sim *s;
    CHECK(sim_create(2026, &s) == TERN_OK);
    s->q.seq_limit = seq_limit;
    g_sim = s;
    static const sim_node_ops tops = {talker_input, talker_poll, talker_poll_at, NULL};
    static talker t[4];
    char name[8];
    for (uint8_t i = 0; i < 4; i++) {
        t[i] = (talker){.me = i, .nports = 3, .burst = 4u + i, .next = (i % 2) * 300 * US};
        snprintf(name, sizeof name, "t%u", i);
        CHECK(sim_node_add(s, name, "talker", 3, &tops, &t[i], &t[i].id) == TERN_OK);
    }
    sim_node_id sw;
    CHECK(sim_switch_add(s, "sw", 4, 1000 * MS, 0, &sw) == TERN_OK);
    sim_link_id l[12];
    /* 0: plain, zero delay: bursts at one instant, both directions */
    CHECK(sim_link_add(s, t[0].id, 0, t[1].id, 0, &l[0]) == TERN_OK);
    /* 1: delay with in-order jitter, Bernoulli loss */
    CHECK(sim_link_add(s, t[0].id, 1, t[2].id, 0, &l[1]) == TERN_OK);
    CHECK(sim_link_set_delay(s, l[1], SIM_DIR_BOTH, 1 * MS, 300 * US, false) == TERN_OK);
    CHECK(sim_link_set_loss_bernoulli(s, l[1], SIM_DIR_BOTH, 0.1) == TERN_OK);
    /* 2: a line rate with a short queue, duplication, corruption */
    CHECK(sim_link_add(s, t[1].id, 1, t[2].id, 1, &l[2]) == TERN_OK);
    CHECK(sim_link_set_rate(s, l[2], SIM_DIR_BOTH, 10000000) == TERN_OK);
    CHECK(sim_link_set_queue_limit(s, l[2], SIM_DIR_A_TO_B, 5) == TERN_OK);
    CHECK(sim_link_set_duplicate(s, l[2], SIM_DIR_BOTH, 0.2) == TERN_OK);
    CHECK(sim_link_set_corrupt(s, l[2], SIM_DIR_BOTH, 0.1) == TERN_OK);
    /* 3: reordering jitter and reordering, a shaper one way, Gilbert-Elliott the other */
    CHECK(sim_link_add(s, t[0].id, 2, t[3].id, 0, &l[3]) == TERN_OK);
    CHECK(sim_link_set_delay(s, l[3], SIM_DIR_BOTH, 500 * US, 400 * US, true) == TERN_OK);
    CHECK(sim_link_set_reorder(s, l[3], SIM_DIR_BOTH, 0.2) == TERN_OK);
    sim_tbf_params tp;
    memset(&tp, 0, sizeof tp);
    tp.rate = 2000000;
    tp.burst = 4000;
    tp.limit = 20000;
    CHECK(sim_link_set_tbf(s, l[3], SIM_DIR_A_TO_B, &tp) == TERN_OK);
    CHECK(sim_link_set_loss_gilbert_elliott(s, l[3], SIM_DIR_B_TO_A, 0.1, 0.5, 0.9, 0.01) ==
          TERN_OK);
    /* 4-6: a switch, with scripted faults on one port, a size limit on another, and a link that
     * goes down and comes back */
    CHECK(sim_link_add(s, t[1].id, 2, sw, 0, &l[4]) == TERN_OK);
    CHECK(sim_link_add(s, t[2].id, 2, sw, 1, &l[5]) == TERN_OK);
    CHECK(sim_link_add(s, t[3].id, 1, sw, 2, &l[6]) == TERN_OK);
    CHECK(sim_link_fault_nth(s, l[4], SIM_DIR_A_TO_B, 3, SIM_FAULT_DELAY, 2 * MS, NULL) == TERN_OK);
    CHECK(sim_link_fault_nth(s, l[4], SIM_DIR_A_TO_B, 5, SIM_FAULT_DROP, 0, NULL) == TERN_OK);
    CHECK(sim_link_fault_nth(s, l[4], SIM_DIR_B_TO_A, 2, SIM_FAULT_DUPLICATE, 0, NULL) == TERN_OK);
    CHECK(sim_link_fault_window(s, l[4], SIM_DIR_B_TO_A, 3 * MS, 4 * MS, SIM_FAULT_CORRUPT, 0,
                                NULL) == TERN_OK);
    CHECK(sim_link_set_size_limit(s, l[5], SIM_DIR_BOTH, 1000) == TERN_OK);
    CHECK(sim_link_set_delay(s, l[6], SIM_DIR_BOTH, 20 * US, 0, false) == TERN_OK);
    CHECK(sim_link_schedule_state(s, l[6], 2 * MS, false) == TERN_OK);
    CHECK(sim_link_schedule_state(s, l[6], 5 * MS, true) == TERN_OK);
    /* 7-8: two Tern hosts through a relay (a TCP transfer), one plain link, one with a delay */
    tern_stack_config ca, cb;
    host_cfg(&ca, 1);
    host_cfg(&cb, 2);
    sim_node_id ha, hb;
    CHECK(sim_host_add(s, "ha", &ca, &ha) == TERN_OK);
    CHECK(sim_host_add(s, "hb", &cb, &hb) == TERN_OK);
    static const sim_node_ops rops = {relay_input, NULL, NULL, NULL};
    static relay r;
    CHECK(sim_node_add(s, "relay", "relay", 2, &rops, &r, &r.id) == TERN_OK);
    CHECK(sim_link_add(s, ha, 0, r.id, 0, &l[7]) == TERN_OK);
    CHECK(sim_link_add(s, r.id, 1, hb, 0, &l[8]) == TERN_OK);
    CHECK(sim_link_set_delay(s, l[8], SIM_DIR_BOTH, 100 * US, 0, false) == TERN_OK);
    /* 9: t3's third port to the switch, plain */
    CHECK(sim_link_add(s, t[3].id, 2, sw, 3, &l[9]) == TERN_OK);

    tern_stack *sa = sim_host_stack(s, ha), *sb = sim_host_stack(s, hb);
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(sb, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(sb, lis, NULL, 80) == TERN_OK);
    CHECK(tern_tcp_listen(sb, lis, 4) == TERN_OK);
    CHECK(tern_tcp_open(sa, &cl) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(sa, cl, &dst, 80) == TERN_OK);
    const uint32_t total = 300000;
    uint32_t sent = 0, got = 0;
    static uint8_t buf[65536];
    for (uint64_t now = 250 * US; now <= 60 * MS; now += 250 * US) {
        if (!sv && tern_tcp_accept(sb, lis, &sv) != TERN_OK) {
            sv = 0;
        }
        while (sent < total) {
            size_t k = total - sent < sizeof buf ? total - sent : sizeof buf;
            for (size_t i = 0; i < k; i++) {
                buf[i] = (uint8_t)((sent + i) * 31u);
            }
            size_t w = 0;
            if (tern_tcp_send(sa, cl, buf, k, &w) != TERN_OK || w == 0) {
                break;
            }
            sent += (uint32_t)w;
        }
        size_t n = 0;
        while (sv && tern_tcp_recv(sb, sv, buf, sizeof buf, &n) == TERN_OK && n > 0) {
            for (size_t i = 0; i < n; i++) {
                CHECK(buf[i] == (uint8_t)((got + i) * 31u));
            }
            got += (uint32_t)n;
        }
        sim_node_wake(s, ha);
        sim_node_wake(s, hb);
        CHECK(sim_run(s, now, 0, NULL) == TERN_OK);
        if (s->pool.live != frames_in_flight(s) && live_mismatches++ < 5) {
            fprintf(stderr, "  at %llu ns: %llu frames live, %llu in flight\n",
                    (unsigned long long)now, (unsigned long long)s->pool.live,
                    (unsigned long long)frames_in_flight(s));
        }
    }
    CHECK_EQ_U64(got, total);
    for (int i = 0; i < 8; i++) {
        link_counters(s, l[i]);
    }
    link_counters(s, l[8]);
    link_counters(s, l[9]);
    emit("events %llu", (unsigned long long)sim_events_processed(s));
    size_t recorded = nlines;
    CHECK(sim_run(s, 2000 * MS, 0, NULL) == TERN_OK); /* everything in flight delivered */
    nlines = recorded;                                /* the trace ends at 60 ms */
    CHECK_EQ_U64(frames_in_flight(s), 0);
    CHECK_EQ_U64(s->pool.live, 0);
    CHECK_EQ_U64(live_mismatches, 0);
    renumbered = s->q.renumbers;
    sim_destroy(s);
}

static void trace_path(char *out, size_t cap) {
    const char *f =
        __FILE__; /* this source file's directory (CMake compiles with absolute paths) */
    const char *slash = strrchr(f, '/');
    size_t n = slash ? (size_t)(slash - f) : 0;
    if (n == 0) {
        snprintf(out, cap, "sim_event_order.txt");
        return;
    }
    snprintf(out, cap, "%.*s/sim_event_order.txt", (int)n, f);
}

/* Run the scenario and compare its trace with the recorded one (or record it). */
static void check_trace(void) {
    trace = calloc(MAX_LINES, LINE);
    CHECK(trace != NULL);
    if (!trace) {
        return;
    }
    nlines = 0;
    live_mismatches = 0;
    run_scenario();
    CHECK(nlines < MAX_LINES);
    char path[1024];
    trace_path(path, sizeof path);
    if (getenv("SIM_ORDER_UPDATE")) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) {
            fputs("# The simulator's event order (tests/c/test_sim_event_order.c).\n"
                  "# Regenerate: SIM_ORDER_UPDATE=1 build/tests/c/test_sim_event_order\n",
                  f);
            for (size_t k = 0; k < nlines; k++) {
                fprintf(f, "%s\n", trace[k]);
            }
            fclose(f);
            fprintf(stderr, "  wrote %s (%zu lines)\n", path, nlines);
        }
        free(trace);
        return;
    }
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) {
        fprintf(stderr, "  %s missing: regenerate with SIM_ORDER_UPDATE=1\n", path);
        free(trace);
        return;
    }
    char line[LINE * 2];
    size_t k = 0;
    int diffs = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || line[0] == 0) {
            continue;
        }
        if (k >= nlines || strcmp(line, trace[k]) != 0) {
            if (diffs < 10) {
                fprintf(stderr, "  line %zu\n  - %s\n  + %s\n", k + 1, line,
                        k < nlines ? trace[k] : "(none)");
            }
            diffs++;
        }
        k++;
    }
    fclose(f);
    if (k != nlines) {
        fprintf(stderr, "  %zu lines recorded, %zu now\n", k, nlines);
        diffs++;
    }
    CHECK_EQ_U64(diffs, 0);
    free(trace);
}

static void test_event_order_unchanged(void) {
    seq_limit = SIM_EQ_SEQ_LIMIT;
    check_trace();
    CHECK_EQ_U64(renumbered, 0);
}

/* The insertion sequences run out (after 2^40 events; here after 400) while frames wait in
 * delivery FIFOs with sequences reserved: they enter the queue before it renumbers, and the order
 * stays the recorded one. */
static void test_event_order_through_renumbering(void) {
    if (getenv("SIM_ORDER_UPDATE")) {
        return;
    }
    seq_limit = 400;
    check_trace();
    CHECK(renumbered >= 5);
    seq_limit = SIM_EQ_SEQ_LIMIT;
}

/* sim_next_event_time asked by a node while it takes in a frame of a burst: the burst's next frame
 * is the next event (it waits in the link's delivery FIFO, not in the queue, at that moment). */
static uint64_t seen_next[8];
static size_t nseen;

static void note_next(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    (void)state, (void)now, (void)port, (void)frame, (void)len;
    if (nseen < 8) {
        seen_next[nseen++] = sim_next_event_time(g_sim);
    }
}

static bool burst_sent;

static void send_burst(void *state, uint64_t now) {
    (void)now;
    sim_node_id *me = state;
    for (uint32_t k = 0; k < 3; k++) {
        uint8_t f[60];
        build(f, sizeof f, 9, 0xff, 1, k);
        CHECK(sim_node_send(g_sim, *me, 0, f, sizeof f) == TERN_OK);
    }
    burst_sent = true;
}

static uint64_t burst_at(void *state) {
    (void)state;
    return burst_sent ? SIM_NEVER : 1000;
}

static void test_next_event_time_inside_a_burst(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    g_sim = s;
    static const sim_node_ops aops = {NULL, send_burst, burst_at, NULL};
    static const sim_node_ops bops = {note_next, NULL, NULL, NULL};
    static sim_node_id a, b;
    CHECK(sim_node_add(s, "a", "sender", 1, &aops, &a, &a) == TERN_OK);
    CHECK(sim_node_add(s, "b", "receiver", 1, &bops, &b, &b) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(s, a, 0, b, 0, &l) == TERN_OK);
    CHECK(sim_link_set_delay(s, l, SIM_DIR_A_TO_B, 500, 0, false) == TERN_OK);
    nseen = 0;
    burst_sent = false;
    CHECK(sim_run(s, 1 * MS, 0, NULL) == TERN_OK);
    CHECK_EQ_U64(nseen, 3);
    CHECK_EQ_U64(seen_next[0], 1500); /* frames 2 and 3 arrive at 1500 too */
    CHECK_EQ_U64(seen_next[1], 1500);
    CHECK_EQ_U64(seen_next[2], SIM_NEVER);
    sim_destroy(s);
}

int main(void) {
    RUN(test_next_event_time_inside_a_burst);
    RUN(test_event_order_unchanged);
    RUN(test_event_order_through_renumbering);
    return check_summary();
}
