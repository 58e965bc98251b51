/*
 * The split virtqueue (virtio v1.2 §2.7), device and driver side: chains, indirect tables, ring
 * wrap past 65535, notification suppression both ways (flags and VIRTIO_F_EVENT_IDX), the lost
 * wake-up, and every validation rule of the device.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/sim_virtio.h"
#include "virtio/virtio_private.h"

#define BASE 0x100000ull
#define MEMSZ (4u << 20)
static uint8_t *ram;
static sim_vmem mem;

/* Parts of a queue of size n laid out from BASE; buffers from BASE + 2 MiB. */
static uint64_t q_desc, q_avail, q_used, q_ind, q_buf;

static void layout(uint32_t n) {
    memset(ram, 0, MEMSZ);
    q_desc = BASE;
    q_avail = q_desc + 16ull * n;
    q_used = (q_avail + 6 + 2ull * n + 3) & ~3ull;
    q_ind = (q_used + 6 + 8ull * n + 15) & ~15ull;
    q_buf = BASE + (2u << 20);
}

static const uint64_t EV = 1ull << SIM_VIRTIO_F_EVENT_IDX;
static const uint64_t IND = 1ull << SIM_VIRTIO_F_INDIRECT_DESC;

static void setup(sim_vq_dev *d, sim_vq_drv *v, uint32_t n, uint64_t feat, sim_vq_drv_mode mode) {
    layout(n);
    CHECK_EQ_I64(sim_vq_drv_init(v, &mem, n, q_desc, q_avail, q_used, feat,
                                 (feat & IND) ? q_ind : 0, (feat & IND) ? 4 : 0, mode),
                 TERN_OK);
    CHECK_EQ_I64(sim_vq_dev_init(d, &mem, n, q_desc, q_avail, q_used, feat), TERN_OK);
}

static void teardown(sim_vq_dev *d, sim_vq_drv *v) {
    sim_vq_dev_free(d);
    sim_vq_drv_free(v);
}

/* One readable and one writable element; the device reads 3 bytes, writes `wlen`. */
static void test_basic_chain(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, 0, SIM_VQ_DRV_CORRECT);
    sim_vmem_write(&mem, q_buf, "abc", 3);
    sim_vq_seg segs[2] = {{q_buf, 3, false}, {q_buf + 64, 100, true}};
    uint16_t head;
    CHECK_EQ_I64(sim_vq_drv_add(&v, segs, 2, false, 77, &head), TERN_OK);
    CHECK_EQ_I64(sim_vq_dev_pending(&d), 0); /* not visible before the flush */
    CHECK(sim_vq_drv_flush(&v));             /* used flags 0: kick */
    CHECK_EQ_I64(sim_vq_dev_pending(&d), 1);
    sim_vq_chain c;
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    CHECK_EQ_U64(c.head, head);
    CHECK_EQ_U64(c.nseg, 2);
    CHECK_EQ_U64(c.readable, 3);
    CHECK_EQ_U64(c.writable, 100);
    CHECK(!c.indirect);
    char got[4] = {0};
    CHECK_EQ_U64(sim_vq_dev_read(&d, &c, 0, got, 10), 3);
    CHECK(memcmp(got, "abc", 3) == 0);
    CHECK_EQ_U64(sim_vq_dev_write(&d, &c, 90, "0123456789ab", 12), 10); /* the part ends */
    CHECK_EQ_I64(sim_vq_dev_push(&d, c.head, 40), TERN_OK);
    CHECK(sim_vq_dev_need_notify(&d)); /* avail flags 0: "the device MUST send a notification" */
    uint64_t tok;
    uint32_t len;
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &tok, &len), 1);
    CHECK_EQ_U64(tok, 77);
    CHECK_EQ_U64(len, 40);
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &tok, &len), 0);
    CHECK_EQ_U64(v.num_free, 8);
    /* the used element in guest memory: le32 id, le32 len */
    uint32_t id, l;
    vq_rd32(&mem, q_used + 4, &id);
    vq_rd32(&mem, q_used + 8, &l);
    CHECK_EQ_U64(id, head);
    CHECK_EQ_U64(l, 40);
    teardown(&d, &v);
}

/* Free-running 16-bit indices: 70000 buffers through queues of 4 and 256 entries. */
static void wrap_run(uint32_t n, uint64_t feat) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, n, feat, SIM_VQ_DRV_CORRECT);
    uint32_t bad = 0, wrapped_seen = 0;
    for (uint32_t i = 0; i < 70000; i++) {
        sim_vq_seg s = {q_buf + (i % n) * 64, 64, true};
        if (sim_vq_drv_add(&v, &s, 1, false, i, NULL) != TERN_OK) {
            bad++;
        }
        sim_vq_drv_flush(&v);
        sim_vq_chain c;
        if (sim_vq_dev_pop(&d, &c) != 1) {
            bad++;
            break;
        }
        uint32_t w = i & 0xffff;
        sim_vq_dev_write(&d, &c, 0, &w, 4);
        sim_vq_dev_push(&d, c.head, 4 + (i & 7));
        sim_vq_dev_need_notify(&d);
        uint64_t tok;
        uint32_t len;
        if (sim_vq_drv_get_used(&v, &tok, &len) != 1 || tok != i || len != 4 + (i & 7)) {
            bad++;
        }
        uint16_t aidx, uidx;
        vq_rd16(&mem, q_avail + 2, &aidx);
        vq_rd16(&mem, q_used + 2, &uidx);
        if (aidx != (uint16_t)(i + 1) || uidx != (uint16_t)(i + 1)) {
            bad++;
        }
        if (i + 1 == 65536 && aidx == 0 && uidx == 0) {
            wrapped_seen = 1;
        }
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(wrapped_seen, 1);
    CHECK_EQ_U64(d.popped, 70000);
    CHECK_EQ_U64(d.last_avail, 70000 & 0xffff);
    CHECK_EQ_U64(v.num_free, n);
    teardown(&d, &v);
}

static void test_wrap_past_65535(void) {
    wrap_run(4, 0);
    wrap_run(256, EV);
}

/* A full queue across the wrap: `size` buffers outstanding while the indices go 65535 -> 0. */
static void test_full_queue_across_wrap(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, EV, SIM_VQ_DRV_CORRECT);
    uint64_t next_tok = 0, want_tok = 0;
    uint32_t bad = 0;
    while (next_tok < 65536 + 40) {
        for (int k = 0; k < 8; k++) { /* fill it */
            sim_vq_seg s = {q_buf, 16, true};
            if (sim_vq_drv_add(&v, &s, 1, false, next_tok++, NULL) != TERN_OK) {
                bad++;
            }
        }
        sim_vq_seg s = {q_buf, 16, true};
        CHECK_EQ_I64(sim_vq_drv_add(&v, &s, 1, false, 0, NULL), TERN_ERR_NO_BUFFER);
        sim_vq_drv_flush(&v);
        if (sim_vq_dev_pending(&d) != 8) { /* 8 ahead is allowed: not a jump */
            bad++;
        }
        sim_vq_chain c;
        while (sim_vq_dev_pop(&d, &c) == 1) {
            sim_vq_dev_push(&d, c.head, 0);
        }
        uint64_t tok;
        uint32_t len;
        while (sim_vq_drv_get_used(&v, &tok, &len) == 1) {
            if (tok != want_tok++) {
                bad++;
            }
        }
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(want_tok, next_tok);
    CHECK(!d.broken && !v.broken);
    teardown(&d, &v);
}

/* §2.7.7 without EVENT_IDX: avail flags 1 suppresses used buffer notifications; §2.7.10: used
 * flags 1 suppresses kicks. */
static void test_flags_suppression(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, 0, SIM_VQ_DRV_CORRECT);
    sim_vq_seg s = {q_buf, 16, true};
    sim_vq_dev_set_notify(&d, false); /* used flags = NO_NOTIFY */
    sim_vq_drv_add(&v, &s, 1, false, 1, NULL);
    CHECK(!sim_vq_drv_flush(&v));
    CHECK_EQ_U64(v.kicks_suppressed, 1);
    sim_vq_dev_set_notify(&d, true);
    sim_vq_drv_add(&v, &s, 1, false, 2, NULL);
    CHECK(sim_vq_drv_flush(&v));
    CHECK(!sim_vq_drv_flush(&v)); /* nothing new: no kick */
    sim_vq_chain c;
    sim_vq_drv_disable_cb(&v); /* avail flags = NO_INTERRUPT */
    uint16_t f;
    vq_rd16(&mem, q_avail, &f);
    CHECK_EQ_U64(f, 1);
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    sim_vq_dev_push(&d, c.head, 0);
    CHECK(!sim_vq_dev_need_notify(&d));
    CHECK(sim_vq_drv_enable_cb(&v)); /* a buffer waits: the re-check finds it */
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    sim_vq_dev_push(&d, c.head, 0);
    CHECK(sim_vq_dev_need_notify(&d));
    CHECK_EQ_U64(d.notifications, 1);
    CHECK_EQ_U64(d.suppressed, 1);
    teardown(&d, &v);
}

/* §2.7.7 with EVENT_IDX: the device notifies exactly when used idx passes used_event; the driver
 * kicks exactly when avail idx passes avail_event; both across the 16-bit wrap. */
static void test_event_idx_suppression(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 16, EV, SIM_VQ_DRV_CORRECT);
    sim_vq_seg s = {q_buf, 16, true};
    /* driver -> device: avail_event starts at 0, so the first buffer kicks, the next don't */
    sim_vq_drv_add(&v, &s, 1, false, 0, NULL);
    CHECK(sim_vq_drv_flush(&v));
    sim_vq_drv_add(&v, &s, 1, false, 1, NULL);
    CHECK(!sim_vq_drv_flush(&v));
    sim_vq_drv_add(&v, &s, 1, false, 2, NULL);
    CHECK(!sim_vq_drv_flush(&v));
    sim_vq_dev_set_notify(&d, true); /* avail_event = 0 still (the device popped nothing) */
    sim_vq_chain c;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    }
    sim_vq_dev_set_notify(&d, true); /* avail_event = 3: the next entry (index 3) kicks */
    uint16_t ae;
    vq_rd16(&mem, q_used + VQ_AVAIL_EVENT(16), &ae);
    CHECK_EQ_U64(ae, 3);
    sim_vq_drv_add(&v, &s, 1, false, 3, NULL);
    sim_vq_drv_add(&v, &s, 1, false, 4, NULL); /* two in one flush: idx 3 -> 5 crosses 3 */
    CHECK(sim_vq_drv_flush(&v));
    /* the flags are ignored with EVENT_IDX: used flags stay 0 */
    uint16_t uf;
    vq_rd16(&mem, q_used, &uf);
    CHECK_EQ_U64(uf, 0);

    /* device -> driver: used_event 0: notify after the first used buffer only */
    for (int i = 0; i < 3; i++) {
        sim_vq_dev_push(&d, (uint16_t)i, 0);
        CHECK(sim_vq_dev_need_notify(&d) == (i == 0));
    }
    /* the driver asks for a notification when entry 5 is written (used idx reaches 6) */
    vq_wr16(&mem, q_avail + VQ_USED_EVENT(16), 5);
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    sim_vq_dev_push(&d, 3, 0); /* idx 3 -> 4 */
    CHECK(!sim_vq_dev_need_notify(&d));
    sim_vq_dev_push(&d, 4, 0); /* idx 4 -> 5 */
    CHECK(!sim_vq_dev_need_notify(&d));
    teardown(&d, &v);

    /* across the wrap: indices 65534 -> 65535 -> 0 with used_event 65535 */
    CHECK(!vq_need_event(65535, 65535, 65534));
    CHECK(vq_need_event(65535, 0, 65535));
    CHECK(vq_need_event(65535, 1, 65534)); /* a batch jumping over it */
    CHECK(!vq_need_event(65535, 1, 0));
    CHECK(vq_need_event(0, 1, 0)); /* the spec's note: used_event 0 -> notify after the first */
}

/* Event idx through a real wrap: the driver keeps used_event at last_used; every used buffer
 * notifies once (no batching) for 66000 buffers, so exactly 66000 notifications. */
static void test_event_idx_wrap(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 4, EV, SIM_VQ_DRV_CORRECT);
    uint32_t kicks = 0, notes = 0;
    for (uint32_t i = 0; i < 66000; i++) {
        sim_vq_seg s = {q_buf, 16, true};
        sim_vq_drv_add(&v, &s, 1, false, i, NULL);
        kicks += sim_vq_drv_flush(&v);
        sim_vq_chain c;
        sim_vq_dev_pop(&d, &c);
        sim_vq_dev_set_notify(&d, true);
        sim_vq_dev_push(&d, c.head, 0);
        notes += sim_vq_dev_need_notify(&d);
        uint64_t t;
        uint32_t l;
        sim_vq_drv_get_used(&v, &t, &l);
    }
    CHECK_EQ_U64(kicks, 66000);
    CHECK_EQ_U64(notes, 66000);
    teardown(&d, &v);
}

/* The lost wake-up (§2.7.14's note): the driver drains the used ring with notifications off,
 * the device uses one more buffer before the driver enables them again. A correct driver finds
 * it by re-checking; a driver that does not re-check is never notified of it. */
static void lost_wakeup(sim_vq_drv_mode mode, uint64_t feat, bool *found, bool *notified_later) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, feat, mode);
    sim_vq_seg s = {q_buf, 16, true};
    for (int i = 0; i < 4; i++) {
        sim_vq_drv_add(&v, &s, 1, false, (uint64_t)i, NULL);
    }
    sim_vq_drv_flush(&v);
    sim_vq_chain c;
    sim_vq_dev_pop(&d, &c);
    sim_vq_dev_push(&d, c.head, 0);
    CHECK(sim_vq_dev_need_notify(&d)); /* interrupt: the driver's handler runs */
    sim_vq_drv_disable_cb(&v);
    uint64_t t;
    uint32_t l;
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), 1);
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), 0); /* drained */
    /* the device, in parallel, uses the next buffer: notifications are off, none is sent */
    sim_vq_dev_pop(&d, &c);
    sim_vq_dev_push(&d, c.head, 0);
    CHECK(!sim_vq_dev_need_notify(&d));
    *found = sim_vq_drv_enable_cb(&v);
    /* and later another: is the driver told now? */
    sim_vq_dev_pop(&d, &c);
    sim_vq_dev_push(&d, c.head, 0);
    *notified_later = sim_vq_dev_need_notify(&d);
    teardown(&d, &v);
}

static void test_lost_wakeup(void) {
    bool found, later;
    lost_wakeup(SIM_VQ_DRV_CORRECT, EV, &found, &later);
    CHECK(found); /* the re-check finds the buffer */
    lost_wakeup(SIM_VQ_DRV_NO_RECHECK, EV, &found, &later);
    CHECK(!found);
    /* used_event = 1 but used idx is already 2: no notification until the idx wraps round */
    CHECK(!later);
    lost_wakeup(SIM_VQ_DRV_CORRECT, 0, &found, &later);
    CHECK(found);
    lost_wakeup(SIM_VQ_DRV_NO_RECHECK, 0, &found, &later);
    CHECK(!found);
    CHECK(later); /* flags-based: the next buffer notifies, so the bug only delays */
}

/* A driver that ignores suppression kicks on every flush. */
static void test_no_suppress_driver(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, EV, SIM_VQ_DRV_NO_SUPPRESS);
    sim_vq_seg s = {q_buf, 16, true};
    for (int i = 0; i < 5; i++) {
        sim_vq_drv_add(&v, &s, 1, false, (uint64_t)i, NULL);
        CHECK(sim_vq_drv_flush(&v));
    }
    CHECK_EQ_U64(v.kicks, 5);
    teardown(&d, &v);
}

/* Chains of several elements, and indirect tables (§2.7.5.3), the driver's and hand-made ones. */
static void test_chained_and_indirect(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, IND, SIM_VQ_DRV_CORRECT);
    sim_vq_seg segs[4] = {{q_buf, 12, false},
                          {q_buf + 100, 50, false},
                          {q_buf + 200, 30, true},
                          {q_buf + 300, 70, true}};
    CHECK_EQ_I64(sim_vq_drv_add(&v, segs, 4, false, 1, NULL), TERN_OK);
    CHECK_EQ_U64(v.num_free, 4);
    CHECK_EQ_I64(sim_vq_drv_add(&v, segs, 4, true, 2, NULL), TERN_OK);
    CHECK_EQ_U64(v.num_free, 3); /* an indirect buffer takes one table descriptor */
    sim_vq_drv_flush(&v);
    for (int k = 0; k < 2; k++) {
        sim_vq_chain c;
        CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
        CHECK_EQ_U64(c.nseg, 4);
        CHECK_EQ_U64(c.readable, 62);
        CHECK_EQ_U64(c.writable, 100);
        CHECK(c.indirect == (k == 1));
        for (int i = 0; i < 4; i++) {
            CHECK_EQ_U64(c.seg[i].addr, segs[i].addr);
            CHECK_EQ_U64(c.seg[i].len, segs[i].len);
            CHECK(c.seg[i].write == segs[i].write);
        }
        /* write across the two writable elements */
        uint8_t pat[100];
        for (int i = 0; i < 100; i++) {
            pat[i] = (uint8_t)i;
        }
        CHECK_EQ_U64(sim_vq_dev_write(&d, &c, 0, pat, 100), 100);
        uint8_t back[70];
        sim_vmem_read(&mem, q_buf + 300, back, 70);
        CHECK(back[0] == 30 && back[69] == 99);
        sim_vq_dev_push(&d, c.head, 100);
    }
    uint64_t t;
    uint32_t l;
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), 1);
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), 1);
    CHECK_EQ_U64(v.num_free, 8);

    /* §2.7.5.3.2: "zero or more normal chained descriptors followed by a single descriptor with
     * INDIRECT", and the WRITE flag of the INDIRECT descriptor is ignored */
    layout(8);
    sim_vq_dev_free(&d);
    sim_vq_dev_init(&d, &mem, 8, q_desc, q_avail, q_used, IND);
    vq_desc a = {q_buf, 10, SIM_VIRTQ_DESC_F_NEXT, 5};
    vq_desc b = {q_ind, 32, SIM_VIRTQ_DESC_F_INDIRECT | SIM_VIRTQ_DESC_F_WRITE, 0};
    vq_desc i0 = {q_buf + 64, 20, SIM_VIRTQ_DESC_F_NEXT, 1};
    vq_desc i1 = {q_buf + 128, 40, SIM_VIRTQ_DESC_F_WRITE, 0};
    vq_wr_desc(&mem, q_desc + 2 * 16, &a);
    vq_wr_desc(&mem, q_desc + 5 * 16, &b);
    vq_wr_desc(&mem, q_ind, &i0);
    vq_wr_desc(&mem, q_ind + 16, &i1);
    vq_wr16(&mem, q_avail + 4, 2);
    vq_wr16(&mem, q_avail + 2, 1);
    sim_vq_chain c;
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    CHECK_EQ_U64(c.head, 2);
    CHECK_EQ_U64(c.nseg, 3);
    CHECK_EQ_U64(c.readable, 30);
    CHECK_EQ_U64(c.writable, 40);
    teardown(&d, &v);
}

/* Hand-written rings that break a rule: the device faults with the right code and message, never
 * crashes, and stays broken. */
typedef struct bad_case {
    const char *name;
    vq_desc desc[4]; /* table entries 0..3 */
    vq_desc ind[3];  /* indirect table at q_ind */
    uint16_t head;
    uint16_t avail_idx;
    uint64_t feat;
    sim_virtio_fault want;
    const char *msg;
} bad_case;

static void test_validation(void) {
    const uint64_t OUT = BASE + MEMSZ; /* first byte past guest memory */
    const uint16_t N = SIM_VIRTQ_DESC_F_NEXT, W = SIM_VIRTQ_DESC_F_WRITE,
                   I = SIM_VIRTQ_DESC_F_INDIRECT;
    bad_case cases[] = {
        {"head out of range", {{0}}, {{0}}, 8, 1, 0, SIM_VIRTIO_FAULT_DESC_INDEX, "holds head 8"},
        {"next out of range",
         {{BASE, 4, N, 9}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_DESC_INDEX,
         "next 9"},
        {"buffer outside memory",
         {{OUT - 4, 8, 0, 0}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_DESC_ADDR,
         "not inside guest memory"},
        {"address wraps 2^64",
         {{~0ull - 2, 8, 0, 0}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_DESC_ADDR,
         "not inside"},
        {"loop",
         {{BASE, 4, N, 1}, {BASE, 4, N, 2}, {BASE, 4, N, 0}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_LOOP,
         "a loop"},
        {"self loop", {{BASE, 4, N, 0}}, {{0}}, 0, 1, 0, SIM_VIRTIO_FAULT_LOOP, "a loop"},
        {"readable after writable",
         {{BASE, 4, N | W, 1}, {BASE, 4, 0, 0}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_WRITE_ORDER,
         "device-readable after"},
        {"indirect not negotiated",
         {{0, 16, I, 0}},
         {{0}},
         0,
         1,
         0,
         SIM_VIRTIO_FAULT_INDIRECT_FEATURE,
         "VIRTIO_F_INDIRECT_DESC"},
        {"indirect and next",
         {{0, 16, I | N, 1}},
         {{0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_INDIRECT_NEXT,
         "both INDIRECT and NEXT"},
        {"indirect len 0",
         {{0, 0, I, 0}},
         {{0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_INDIRECT_LEN,
         "length 0"},
        {"indirect len 24",
         {{0, 24, I, 0}},
         {{0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_INDIRECT_LEN,
         "length 24"},
        {"indirect table outside",
         {{OUT - 16, 32, I, 0}},
         {{0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_DESC_ADDR,
         "indirect table"},
        {"nested indirect",
         {{0, 32, I, 0}},
         {{BASE, 4, N, 1}, {0, 16, I, 0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_NESTED_INDIRECT,
         "INDIRECT again"},
        {"loop in indirect table",
         {{0, 48, I, 0}},
         {{BASE, 4, N, 1}, {BASE, 4, N, 2}, {BASE, 4, N, 0}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_LOOP,
         "a loop"},
        {"next beyond indirect table",
         {{0, 32, I, 0}},
         {{BASE, 4, N, 2}},
         0,
         1,
         IND,
         SIM_VIRTIO_FAULT_DESC_INDEX,
         "table size 2"},
        {"avail idx jumps",
         {{BASE, 4, 0, 0}},
         {{0}},
         0,
         9,
         0,
         SIM_VIRTIO_FAULT_AVAIL_JUMP,
         "9 entries ahead"},
        {"avail idx decremented",
         {{BASE, 4, 0, 0}},
         {{0}},
         0,
         0xffff,
         0,
         SIM_VIRTIO_FAULT_AVAIL_JUMP,
         "65535 entries ahead"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        bad_case *bc = &cases[k];
        check_current = bc->name;
        layout(8);
        sim_vq_dev d;
        CHECK_EQ_I64(sim_vq_dev_init(&d, &mem, 8, q_desc, q_avail, q_used, bc->feat), TERN_OK);
        for (int i = 0; i < 4; i++) {
            vq_desc e = bc->desc[i];
            if (e.flags & I && e.addr == 0) {
                e.addr = q_ind;
            }
            vq_wr_desc(&mem, q_desc + 16u * i, &e);
        }
        for (int i = 0; i < 3; i++) {
            vq_desc e = bc->ind[i];
            if (e.flags & I && e.addr == 0) {
                e.addr = q_ind;
            }
            vq_wr_desc(&mem, q_ind + 16u * i, &e);
        }
        vq_wr16(&mem, q_avail + 4, bc->head);
        vq_wr16(&mem, q_avail + 2, bc->avail_idx);
        sim_vq_chain c;
        CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), -1);
        CHECK_EQ_I64(d.fault, bc->want);
        CHECK_CONTAINS(d.why, bc->msg);
        CHECK(d.broken);
        CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), -1); /* stays broken */
        CHECK_EQ_I64(sim_vq_dev_push(&d, 0, 0), TERN_ERR_BAD_STATE);
        sim_vq_dev_free(&d);
    }
    check_current = "test_validation";
    /* a chain of exactly `size` descriptors is legal; the loop check is not off by one */
    layout(4);
    sim_vq_dev d;
    sim_vq_dev_init(&d, &mem, 4, q_desc, q_avail, q_used, 0);
    for (int i = 0; i < 4; i++) {
        vq_desc e = {BASE, 4, (uint16_t)(i < 3 ? N : 0), (uint16_t)(i + 1)};
        vq_wr_desc(&mem, q_desc + 16u * i, &e);
    }
    vq_wr16(&mem, q_avail + 2, 1);
    sim_vq_chain c;
    CHECK_EQ_I64(sim_vq_dev_pop(&d, &c), 1);
    CHECK_EQ_U64(c.nseg, 4);
    sim_vq_dev_free(&d);
}

/* Ring placement and size rules at set-up. */
static void test_layout_rules(void) {
    sim_vq_dev d;
    layout(8);
    CHECK_EQ_I64(sim_vq_dev_init(&d, &mem, 6, q_desc, q_avail, q_used, 0),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(d.why, "power of 2");
    CHECK_EQ_I64(sim_vq_dev_init(&d, &mem, 65536, q_desc, q_avail, q_used, 0),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(sim_vq_dev_init(&d, &mem, 8, q_desc + 8, q_avail, q_used, 0),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(d.fault, SIM_VIRTIO_FAULT_RING_ADDR);
    CHECK_EQ_I64(sim_vq_dev_init(&d, &mem, 8, q_desc, BASE + MEMSZ - 10, q_used, 0),
                 TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(d.why, "available ring");
    /* 32768 entries: 512 KiB of descriptors, the largest queue, works end to end */
    sim_vq_drv v;
    setup(&d, &v, 32768, EV | IND, SIM_VQ_DRV_CORRECT);
    sim_vq_seg s = {q_buf, 16, true};
    for (uint32_t i = 0; i < 32768; i++) {
        sim_vq_drv_add(&v, &s, 1, false, i, NULL);
    }
    CHECK_EQ_I64(sim_vq_drv_add(&v, &s, 1, false, 0, NULL), TERN_ERR_NO_BUFFER);
    sim_vq_drv_flush(&v);
    CHECK_EQ_I64(sim_vq_dev_pending(&d), 32768);
    sim_vq_chain c;
    uint32_t n = 0;
    while (sim_vq_dev_pop(&d, &c) == 1) {
        sim_vq_dev_push(&d, c.head, 16);
        n++;
    }
    CHECK_EQ_U64(n, 32768);
    uint64_t t;
    uint32_t l;
    n = 0;
    while (sim_vq_drv_get_used(&v, &t, &l) == 1) {
        n++;
    }
    CHECK_EQ_U64(n, 32768);
    teardown(&d, &v);
}

/* The driver validates what the device wrote into the used ring. */
static void test_driver_validates_used(void) {
    sim_vq_dev d;
    sim_vq_drv v;
    setup(&d, &v, 8, 0, SIM_VQ_DRV_CORRECT);
    sim_vq_seg s = {q_buf, 16, true};
    sim_vq_drv_add(&v, &s, 1, false, 5, NULL);
    sim_vq_drv_flush(&v);
    vq_wr32(&mem, q_used + 4, 3); /* id 3 was never made available */
    vq_wr16(&mem, q_used + 2, 1);
    uint64_t t;
    uint32_t l;
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), -1);
    CHECK_EQ_I64(v.fault, SIM_VIRTIO_FAULT_USED_ID);
    teardown(&d, &v);

    setup(&d, &v, 8, 0, SIM_VQ_DRV_CORRECT);
    sim_vq_drv_add(&v, &s, 1, false, 5, NULL);
    sim_vq_drv_flush(&v);
    vq_wr32(&mem, q_used + 4, 0);
    vq_wr32(&mem, q_used + 8, 17); /* 17 > 16 writable bytes */
    vq_wr16(&mem, q_used + 2, 1);
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), -1);
    CHECK_EQ_I64(v.fault, SIM_VIRTIO_FAULT_USED_LEN);
    CHECK_CONTAINS(v.why, "len 17");
    teardown(&d, &v);

    setup(&d, &v, 8, 0, SIM_VQ_DRV_CORRECT);
    vq_wr16(&mem, q_used + 2, 2); /* two used, none outstanding */
    CHECK_EQ_I64(sim_vq_drv_get_used(&v, &t, &l), -1);
    CHECK_EQ_I64(v.fault, SIM_VIRTIO_FAULT_USED_JUMP);
    teardown(&d, &v);
}

static void test_vmem(void) {
    sim_vmem m = {0};
    static uint8_t a[64], b[64];
    CHECK_EQ_I64(sim_vmem_add_region(&m, 0x1000, 64, a), TERN_OK);
    CHECK_EQ_I64(sim_vmem_add_region(&m, 0x1040, 64, b), TERN_OK); /* adjacent */
    CHECK_EQ_I64(sim_vmem_add_region(&m, 0x1030, 64, b), TERN_ERR_INVALID_ARGUMENT);
    CHECK_EQ_I64(sim_vmem_add_region(&m, ~0ull - 4, 64, b), TERN_ERR_INVALID_ARGUMENT);
    uint8_t x[32];
    memset(x, 7, sizeof x);
    CHECK(sim_vmem_write(&m, 0x1030, x, 32)); /* spans both */
    CHECK(a[63] == 7 && b[15] == 7 && b[16] == 0);
    CHECK(!sim_vmem_write(&m, 0x1070, x, 32)); /* runs off the end */
    CHECK(b[48] == 0);                         /* nothing written */
    CHECK(!sim_vmem_read(&m, 0xfff, x, 2));
    CHECK(sim_vmem_read(&m, 0x10c0, x, 0));
    CHECK(!sim_vmem_contains(&m, ~0ull, 2));
    CHECK(strcmp(sim_virtio_fault_name(SIM_VIRTIO_FAULT_LOOP), "LOOP") == 0);
    CHECK(strcmp(sim_virtio_fault_name(99), "?") == 0);
}

int main(void) {
    ram = calloc(1, MEMSZ);
    sim_vmem_add_region(&mem, BASE, MEMSZ, ram);
    RUN(test_vmem);
    RUN(test_basic_chain);
    RUN(test_wrap_past_65535);
    RUN(test_full_queue_across_wrap);
    RUN(test_flags_suppression);
    RUN(test_event_idx_suppression);
    RUN(test_event_idx_wrap);
    RUN(test_lost_wakeup);
    RUN(test_no_suppress_driver);
    RUN(test_chained_and_indirect);
    RUN(test_validation);
    RUN(test_layout_rules);
    RUN(test_driver_validates_used);
    free(ram);
    return check_summary();
}
