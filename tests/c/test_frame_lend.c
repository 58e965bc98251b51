/*
 * Frame-buffer lending (tern/stack.h, tern_frame_alloc_fn; docs/frame-lending.md):
 * two stacks wired back to back by hand (no simulator), one TCP transfer,
 * run three ways: the environment lends every buffer asked for, lends none
 * (frame_alloc returns NULL), or has no lending callbacks at all. The wire
 * must carry the same frames, byte for byte, in the same order, each way;
 * every lent buffer must come back exactly once (through frame_output with a
 * frame that lies within the capacity asked for, or frame_release); TCP
 * segments must leave in lent buffers when buffers are lent. Also: a
 * partial set of callbacks is refused, naming them.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/stack.h"

#define MS 1000000ull
#define BYTES 40000u
#define SLOTS 4
#define SLOT_CAP 2048
#define WIRE_MAX 4096

enum lend_mode { LEND_ALL, LEND_NONE, NO_CALLBACKS };

/* Everything either stack put on the wire, in order: both directions. */
typedef struct wire {
    uint8_t *bytes; /* concatenated frames */
    size_t used, cap;
    uint32_t n;
    uint32_t len[WIRE_MAX];
    uint8_t from[WIRE_MAX]; /* 0: a, 1: b */
    bool lent[WIRE_MAX];    /* handed over in a lent buffer (frame_output) */
    /* frames waiting for delivery to the other side */
    uint32_t next; /* wire index of the first not yet delivered */
} wire;

/* One side's environment: its lent buffers and what came back through which door. */
typedef struct side {
    wire *w;
    uint8_t who;
    bool refuse; /* frame_alloc returns NULL */
    uint8_t slot[SLOTS][SLOT_CAP];
    bool out[SLOTS];      /* lent, not back yet */
    size_t asked[SLOTS];  /* the cap asked for */
    uint32_t allocs;      /* buffers lent */
    uint32_t lent_frames; /* frames handed back through frame_output */
    uint32_t releases;    /* buffers handed back through frame_release */
    uint32_t copied;      /* frames through output */
    uint32_t refused;     /* frame_alloc calls answered NULL */
    uint32_t errors;      /* a buffer back that was not out, or a frame past the cap */
} side;

static void wire_put(wire *w, uint8_t who, const uint8_t *frame, size_t len, bool lent) {
    CHECK(w->n < WIRE_MAX);
    if (w->used + len > w->cap) {
        w->cap = (w->used + len) * 2;
        w->bytes = realloc(w->bytes, w->cap);
        CHECK(w->bytes != NULL);
    }
    memcpy(w->bytes + w->used, frame, len);
    w->used += len;
    w->len[w->n] = (uint32_t)len;
    w->from[w->n] = who;
    w->lent[w->n] = lent;
    w->n++;
}

static int slot_of(side *sd, const uint8_t *buf) {
    for (int i = 0; i < SLOTS; i++) {
        if (buf == sd->slot[i]) {
            return i;
        }
    }
    return -1;
}

static void env_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    side *sd = ctx;
    (void)iface;
    sd->copied++;
    wire_put(sd->w, sd->who, frame, len, false);
}

static uint8_t *env_alloc(void *ctx, size_t cap) {
    side *sd = ctx;
    if (sd->refuse || cap > SLOT_CAP) {
        sd->refused++;
        return NULL;
    }
    for (int i = 0; i < SLOTS; i++) {
        if (!sd->out[i]) {
            sd->out[i] = true;
            sd->asked[i] = cap;
            sd->allocs++;
            /* stale bytes, so that a frame relying on a zeroed buffer shows on the wire */
            memset(sd->slot[i], 0xa5, SLOT_CAP);
            return sd->slot[i];
        }
    }
    sd->refused++;
    return NULL;
}

static void env_frame_output(void *ctx, uint32_t iface, uint8_t *buf, size_t offset, size_t len) {
    side *sd = ctx;
    (void)iface;
    int i = slot_of(sd, buf);
    if (i < 0 || !sd->out[i] || offset + len > sd->asked[i]) {
        sd->errors++;
        return;
    }
    sd->out[i] = false;
    sd->lent_frames++;
    wire_put(sd->w, sd->who, buf + offset, len, true);
    memset(buf, 0x5a, SLOT_CAP); /* ours again: the stack must not read it any more */
}

static void env_release(void *ctx, uint8_t *buf) {
    side *sd = ctx;
    int i = slot_of(sd, buf);
    if (i < 0 || !sd->out[i]) {
        sd->errors++;
        return;
    }
    sd->out[i] = false;
    sd->releases++;
}

static void host_cfg(tern_stack_config *c, uint8_t last, side *sd, enum lend_mode mode) {
    test_host_cfg_v4(c, 40 + last, 0, last);
    c->tcp.rx_buffer = 16384; /* a window that fills: zero-window and window-update segments */
    /* b without timestamps: its pure ACKs are 54-byte frames, padded to the Ethernet minimum */
    c->tcp.timestamps = last == 1;
    c->output = env_output;
    c->output_ctx = sd;
    if (mode != NO_CALLBACKS) {
        c->frame_alloc = env_alloc;
        c->frame_output = env_frame_output;
        c->frame_release = env_release;
        c->frame_ctx = sd;
    }
    sd->refuse = mode == LEND_NONE;
}

static tern_stack *make_stack(tern_stack_config *c) {
    size_t size = tern_stack_memory_size(c);
    void *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    CHECK(mem != NULL);
    tern_stack *st = NULL;
    char msg[256];
    CHECK(tern_stack_init(mem, size, c, &st, msg, sizeof msg) == TERN_OK);
    return st;
}

/* Deliver every frame on the wire not yet delivered (and what the deliveries send in turn). */
static void deliver(wire *w, tern_stack *a, tern_stack *b, uint64_t now) {
    size_t at = 0;
    for (uint32_t i = 0; i < w->next; i++) {
        at += w->len[i];
    }
    while (w->next < w->n) {
        uint32_t i = w->next++;
        size_t len = w->len[i];
        uint8_t frame[SLOT_CAP];
        CHECK(len <= sizeof frame);
        memcpy(frame, w->bytes + at, len); /* w->bytes may move while the frame is read */
        at += len;
        tern_stack_input(w->from[i] == 0 ? b : a, now, 0, frame, len);
    }
}

typedef struct run {
    wire w;
    side a, b;
    tern_counters ca, cb;
} run;

static uint8_t pattern(uint32_t i) {
    return (uint8_t)(i * 7u + (i >> 8));
}

/* a connects to b and sends BYTES; b reads and checks them; a closes. */
static void transfer(run *r, enum lend_mode mode) {
    memset(r, 0, sizeof *r);
    r->a.w = r->b.w = &r->w;
    r->b.who = 1;
    tern_stack_config ca, cb;
    host_cfg(&ca, 1, &r->a, mode);
    host_cfg(&cb, 2, &r->b, mode);
    tern_stack *a = make_stack(&ca), *b = make_stack(&cb);
    tern_sock lis, cl, sv = 0;
    CHECK(tern_tcp_open(b, &lis) == TERN_OK);
    CHECK(tern_tcp_bind(b, lis, NULL, 80) == TERN_OK);
    CHECK(tern_tcp_listen(b, lis, 4) == TERN_OK);
    CHECK(tern_tcp_open(a, &cl) == TERN_OK);
    tern_addr dst = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_tcp_connect(a, cl, &dst, 80) == TERN_OK);
    uint32_t sent = 0, got = 0;
    bool accepted = false, closed = false;
    for (uint64_t now = 0; now < 20000 * MS && got < BYTES; now += MS) {
        tern_stack_poll(a, now);
        tern_stack_poll(b, now);
        deliver(&r->w, a, b, now);
        if (!accepted && tern_tcp_accept(b, lis, &sv) == TERN_OK) {
            accepted = true;
        }
        while (sent < BYTES) {
            uint8_t chunk[3000];
            uint32_t n = BYTES - sent < sizeof chunk ? BYTES - sent : (uint32_t)sizeof chunk;
            for (uint32_t i = 0; i < n; i++) {
                chunk[i] = pattern(sent + i);
            }
            size_t w = 0;
            if (tern_tcp_send(a, cl, chunk, n, &w) != TERN_OK || w == 0) {
                break;
            }
            sent += (uint32_t)w;
        }
        if (sent == BYTES && !closed) {
            CHECK(tern_tcp_close(a, cl) == TERN_OK);
            closed = true;
        }
        deliver(&r->w, a, b, now);
        if (accepted && now % (5 * MS) == 0) { /* a slow reader: the window closes and opens */
            uint8_t buf[4096];
            size_t n = 0;
            while (tern_tcp_recv(b, sv, buf, sizeof buf, &n) == TERN_OK && n > 0) {
                for (size_t i = 0; i < n; i++) {
                    CHECK_EQ_U64(buf[i], pattern(got + (uint32_t)i));
                }
                got += (uint32_t)n;
            }
        }
        deliver(&r->w, a, b, now);
    }
    CHECK_EQ_U64(got, BYTES);
    tern_stack_release_frame(a);
    tern_stack_release_frame(b);
    tern_stack_get_counters(a, &r->ca);
    tern_stack_get_counters(b, &r->cb);
    free(a);
    free(b);
}

/* Every buffer lent came back once, none is out, nothing came back wrong. */
/* How many frames of the run went through output (not lent) and were IPv4 TCP with these flags. */
static uint32_t copied_tcp(const run *r, uint8_t flags) {
    uint32_t n = 0;
    size_t at = 0;
    for (uint32_t i = 0; i < r->w.n; i++) {
        const uint8_t *f = r->w.bytes + at;
        if (!r->w.lent[i] && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6 && f[47] == flags) {
            n++;
        }
        at += r->w.len[i];
    }
    return n;
}

static void check_returns(const side *sd) {
    CHECK_EQ_U64(sd->errors, 0);
    CHECK_EQ_U64(sd->allocs, sd->lent_frames + sd->releases);
    for (int i = 0; i < SLOTS; i++) {
        CHECK(!sd->out[i]);
    }
}

static void same_wire(const run *x, const run *y) {
    CHECK_EQ_U64(x->w.n, y->w.n);
    CHECK_EQ_U64(x->w.used, y->w.used);
    CHECK(memcmp(x->w.len, y->w.len, x->w.n * sizeof x->w.len[0]) == 0);
    CHECK(memcmp(x->w.from, y->w.from, x->w.n) == 0);
    CHECK(memcmp(x->w.bytes, y->w.bytes, x->w.used) == 0);
    CHECK_EQ_U64(x->ca.frames_out, y->ca.frames_out);
    CHECK_EQ_U64(x->ca.bytes_out, y->ca.bytes_out);
    CHECK_EQ_U64(x->cb.frames_out, y->cb.frames_out);
}

static void test_lent_frames_same_bytes_every_buffer_back_once(void) {
    static run lent, refused, plain;
    transfer(&lent, LEND_ALL);
    transfer(&refused, LEND_NONE);
    transfer(&plain, NO_CALLBACKS);
    same_wire(&lent, &plain);
    same_wire(&refused, &plain);
    check_returns(&lent.a);
    check_returns(&lent.b);
    /* Lending: every TCP segment leaves in a lent buffer but the SYN, built before the MAC of b
     * is known and held for ARP: its buffer comes back unused, and the SYN leaves from the ARP
     * queue through output once the reply is in. */
    CHECK(lent.a.lent_frames > BYTES / 1460);
    CHECK_EQ_U64(lent.a.copied, 2); /* the ARP request, the held SYN */
    CHECK_EQ_U64(copied_tcp(&lent, 0x02), 1);
    CHECK_EQ_U64(lent.a.releases, 1);
    CHECK_EQ_U64(lent.a.lent_frames + lent.a.copied, lent.ca.frames_out);
    CHECK_EQ_U64(lent.b.copied, 1); /* the ARP reply */
    CHECK_EQ_U64(lent.b.lent_frames + lent.b.copied, lent.cb.frames_out);
    /* None lent: every frame through output, and nothing to give back. */
    CHECK_EQ_U64(refused.a.allocs + refused.a.lent_frames + refused.a.releases, 0);
    CHECK(refused.a.refused > BYTES / 1460);
    CHECK_EQ_U64(refused.a.copied, refused.ca.frames_out);
    CHECK_EQ_U64(plain.a.refused, 0);
}

static void config_with(tern_stack_config *c, bool alloc, bool output, bool release) {
    static side sd;
    host_cfg(c, 1, &sd, NO_CALLBACKS);
    c->frame_alloc = alloc ? env_alloc : NULL;
    c->frame_output = output ? env_frame_output : NULL;
    c->frame_release = release ? env_release : NULL;
}

static void test_partial_lending_callbacks_refused(void) {
    tern_stack_config c;
    char msg[256];
    config_with(&c, true, true, false);
    CHECK(tern_stack_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(msg, "frame_alloc=set frame_output=set frame_release=NULL: frame lending needs "
                      "all three callbacks or none") == 0);
    config_with(&c, false, true, false);
    CHECK(tern_stack_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(msg, "frame_alloc=NULL frame_output=set frame_release=NULL") != NULL);
    /* positive controls: all three, or none */
    config_with(&c, true, true, true);
    CHECK(tern_stack_validate(&c, msg, sizeof msg) == TERN_OK);
    config_with(&c, false, false, false);
    CHECK(tern_stack_validate(&c, msg, sizeof msg) == TERN_OK);
}

int main(void) {
    RUN(test_lent_frames_same_bytes_every_buffer_back_once);
    RUN(test_partial_lending_callbacks_refused);
    return check_summary();
}
