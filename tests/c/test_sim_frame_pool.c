/*
 * The frame pool's size classes (sim/src/core/frame_pool.c, issue 19): a frame gets the smallest
 * class that holds it, and the class of a 1500-byte-MTU frame with the stack's headroom is the
 * 1,664-byte one, not the 2 KiB one. White-box: a frame's capacity and class are the pool's own.
 */
#include "check.h"
#include "core/sim_internal.h"
#include "tern/sim.h"

/* The capacity the pool gives a frame of len bytes (allocated, then freed back). */
static uint32_t cap_for(sim *s, size_t len) {
    sim_frame *f = sim_frame_alloc_raw(s, len);
    CHECK(f != NULL);
    if (f == NULL) {
        return 0;
    }
    uint32_t cap = f->cap;
    CHECK(cap >= len);
    sim_frame_free(s, f);
    return cap;
}

static void test_smallest_class_that_holds_the_frame(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    CHECK_EQ_U64(cap_for(s, 1), 128);
    CHECK_EQ_U64(cap_for(s, 128), 128);
    CHECK_EQ_U64(cap_for(s, 129), 256);
    CHECK_EQ_U64(cap_for(s, 1024), 1024);
    CHECK_EQ_U64(cap_for(s, 1025), SIM_FRAME_MTU_CAP);
    /* a full-sized IPv4 TCP segment as a Tern host asks for it: the largest IPv4 header's headroom
     * (14 + 60) and 1,480 bytes of IP payload */
    CHECK_EQ_U64(cap_for(s, 74 + 1480), SIM_FRAME_MTU_CAP);
    CHECK_EQ_U64(cap_for(s, 1514), SIM_FRAME_MTU_CAP); /* a whole 1500-MTU Ethernet frame */
    CHECK_EQ_U64(cap_for(s, SIM_FRAME_MTU_CAP), SIM_FRAME_MTU_CAP);
    CHECK_EQ_U64(cap_for(s, SIM_FRAME_MTU_CAP + 1), 2048);
    CHECK_EQ_U64(cap_for(s, 2048), 2048);
    CHECK_EQ_U64(cap_for(s, 2049), 4096);
    CHECK_EQ_U64(cap_for(s, 9018), 16384);
    CHECK_EQ_U64(cap_for(s, SIM_FRAME_DATA_MAX - 1), SIM_FRAME_DATA_MAX);
    CHECK_EQ_U64(cap_for(s, SIM_FRAME_DATA_MAX), SIM_FRAME_DATA_MAX);
    sim_destroy(s);
}

static void test_each_class_reuses_its_own_frames(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    /* a frame freed into a class comes back for the next request of that class, and only then */
    sim_frame *a = sim_frame_alloc_raw(s, 1554);
    sim_frame *b = sim_frame_alloc_raw(s, 2000);
    CHECK(a != NULL && b != NULL && a != b);
    sim_frame_free(s, a);
    sim_frame_free(s, b);
    CHECK(sim_frame_alloc_raw(s, 1100) == a);
    CHECK(sim_frame_alloc_raw(s, 1700) == b);
    CHECK_EQ_U64(a->size_class, SIM_FRAME_MTU_CLASS);
    CHECK_EQ_U64(b->size_class, SIM_FRAME_MTU_CLASS + 1);
    sim_frame_free(s, a);
    sim_frame_free(s, b);
    CHECK_EQ_U64(s->pool.live, 0);
    sim_destroy(s);
}

int main(void) {
    RUN(test_smallest_class_that_holds_the_frame);
    RUN(test_each_class_reuses_its_own_frames);
    return check_summary();
}
