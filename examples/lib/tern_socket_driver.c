/*
 * The sockets layer's drivers (tern_socket.h): how a blocking call lets the world run,
 * in virtual time (the simulation) or in real time (a TAP device).
 */
#include "tern_socket_private.h"

#include <errno.h>
#include <string.h>

#include "tern/sim_host.h"

/* ---- the simulation driver: virtual time ------------------------------------ */

static uint64_t sim_drv_now(void *ctx) {
    return sim_now(((tern_sockets *)ctx)->s);
}

static int sim_drv_advance(void *ctx, uint64_t deadline) {
    tern_sockets *ts = ctx;
    uint64_t next = sim_next_event_time(ts->s);
    if (next == SIM_NEVER && deadline == TERN_NEVER) {
        return -1; /* nothing will ever happen: blocking would never end */
    }
    uint64_t until = next < deadline ? next : deadline;
    if (until < sim_now(ts->s)) {
        until = sim_now(ts->s);
    }
    if (sim_run(ts->s, until, 0, NULL) != TERN_OK) {
        return -1;
    }
    /* After each instant: another program of the simulation (a server on another host,
     * written non-blocking) gets its turn at the same virtual time. */
    if (ts->on_round != NULL) {
        ts->on_round(ts->on_round_ctx, ts->s, sim_now(ts->s));
    }
    return 0;
}

static void sim_drv_wake(void *ctx) {
    tern_sockets *ts = ctx;
    sim_node_wake(ts->s, ts->node);
}

/* ---- the real-time driver: the wall clock ------------------------------------------ */

static uint64_t rt_drv_now(void *ctx) {
    return sim_now(((tern_sockets *)ctx)->s);
}

static int rt_drv_advance(void *ctx, uint64_t deadline) {
    tern_sockets *ts = ctx;
    uint64_t now = sim_now(ts->s);
    /* Slices of at most 1 ms: a blocking call rechecks its condition after every
     * frame from the kernel and at least every millisecond. */
    uint64_t slice = 1000000ull;
    if (deadline != TERN_NEVER && deadline > now && deadline - now < slice) {
        slice = deadline - now;
    }
    tern_err err = sim_realtime_run(ts->rt, slice, SIM_RT_STOP_ON_TAP_RX, NULL, NULL, NULL);
    /* Once per slice (at least every millisecond), whether or not an event or a frame
     * came: a shell reading standard input must not wait for the network. */
    if (ts->on_round != NULL) {
        ts->on_round(ts->on_round_ctx, ts->s, sim_now(ts->s));
    }
    return err == TERN_OK ? 0 : -1;
}

int tern_sockets_init_realtime(tern_sockets *ts, sim *s, sim_realtime *rt, sim_node_id node) {
    if (tern_sockets_init_sim(ts, s, node) != 0) {
        return -1;
    }
    ts->drv.now = rt_drv_now;
    ts->drv.advance = rt_drv_advance;
    ts->rt = rt;
    return 0;
}

void tern_sockets_init(tern_sockets *ts, tern_stack *st, const tern_sockets_driver *drv) {
    memset(ts, 0, sizeof *ts);
    ts->st = st;
    ts->drv = *drv;
}

int tern_sockets_init_sim(tern_sockets *ts, sim *s, sim_node_id node) {
    tern_stack *st = sim_host_stack(s, node);
    if (st == NULL) {
        errno = EINVAL;
        return -1;
    }
    tern_sockets_driver d = {ts, sim_drv_now, sim_drv_advance, sim_drv_wake};
    tern_sockets_init(ts, st, &d);
    ts->s = s;
    ts->node = node;
    return 0;
}
