/*
 * The real-time mode of the simulator: virtual time follows the wall clock
 * (CLOCK_MONOTONIC), so that a simulation can talk to the real world (the
 * Linux kernel through a TAP node, tern/sim_tap.h).
 *
 * A sim_realtime ties one simulation to the monotonic clock. The first run
 * anchors virtual time sim_now() to the clock; from then on virtual time is
 * anchor + elapsed wall time, also across runs: time spent outside a run
 * (a Python test checking its sockets between slices) passes in the
 * simulation too, and the events that fell due meanwhile are dispatched, in
 * their (time, insertion) order and at their own virtual times, as soon as
 * the next run starts. If virtual time was moved past the wall clock with
 * sim_run() in between, the anchor slides forward: time never goes back.
 *
 * During a run the driver dispatches each event when its time comes, and
 * sleeps in ppoll(2) on the descriptors of the simulation's TAP nodes with a
 * timeout to the next event, so frames from the kernel enter the simulation
 * as they come. Each one enters at the virtual time of the wall clock read
 * just after the frame was read from its device (what fell due before is
 * dispatched first): never earlier than the frame really arrived, so the
 * delay a link adds between the kernel and a node is at least the one it
 * was given, however late the process runs.
 *
 * This module is the one place of libternsim that reads a clock. Real-time
 * runs are, by nature, not reproducible; everything else stays deterministic.
 */
#ifndef TERN_SIM_REALTIME_H
#define TERN_SIM_REALTIME_H

#ifndef TERN_CDEF
#include "tern/sim.h"
#endif

typedef struct sim_realtime sim_realtime;

/* Flags for sim_realtime_run(). */
#define SIM_RT_STOP_ON_PEER_RX 1u /* return as soon as a scripted peer receives a frame */
#define SIM_RT_STOP_ON_TAP_RX 2u  /* return as soon as a frame came from a TAP device */

/* Why sim_realtime_run() returned. */
typedef enum sim_realtime_stop {
    SIM_RT_STOP_TIME = 0,     /* the duration has passed */
    SIM_RT_STOP_PEER_RX = 1,  /* a scripted peer received a frame (SIM_RT_STOP_ON_PEER_RX) */
    SIM_RT_STOP_TAP_RX = 2,   /* frames came from a TAP device (SIM_RT_STOP_ON_TAP_RX) */
    SIM_RT_STOP_CALLBACK = 3, /* the step callback asked to stop */
} sim_realtime_stop;

/*
 * A step callback, called after each round of the driver (events due
 * dispatched, frames from the kernel read), with the current virtual time.
 * It may use the simulation (socket calls on a host, then sim_node_wake).
 * Return true to end the run.
 */
typedef bool (*sim_realtime_step_fn)(void *ctx, sim *s, uint64_t now);

/* What the driver did so far. */
typedef struct sim_realtime_stats {
    uint64_t runs;        /* sim_realtime_run calls */
    uint64_t rounds;      /* rounds of the loop */
    uint64_t sleeps;      /* ppoll calls that waited */
    uint64_t tap_frames;  /* frames read from TAP devices */
    uint64_t max_late_ns; /* largest delay between an event falling due and its dispatch */
    uint64_t catchup_ns;  /* wall time that passed between runs (dispatched late) */
} sim_realtime_stats;

/*
 * sim_realtime_create: a real-time driver for simulation `s`. It does not
 * own s; destroy it before or after s, but use it only while s lives.
 * Returns TERN_OK or TERN_ERR_NO_MEMORY.
 */
tern_err sim_realtime_create(sim *s, sim_realtime **out);

/* sim_realtime_destroy: free the driver. NULL is a no-op. */
void sim_realtime_destroy(sim_realtime *rt);

/*
 * sim_realtime_run: run the simulation in real time for `duration_ns` of wall
 * time (SIM_NEVER: until a stop condition), dispatching events as they fall
 * due and frames from TAP devices as they arrive.
 *   flags  0, or SIM_RT_STOP_ON_PEER_RX and/or SIM_RT_STOP_ON_TAP_RX.
 *   step   optional callback after each round (may be NULL); ctx is its argument.
 *   why    if not NULL, receives the reason for returning.
 * On return sim_now() is the virtual time the wall clock had reached in the
 * last round: when the process ran late, it may lie past the end of the
 * duration (what was due by then has already happened in the real world).
 * Returns TERN_OK; TERN_ERR_LIVELOCK (as sim_run); TERN_ERR_IO when waiting on
 * or reading a TAP device fails (the message names the device and the errno
 * text); TERN_ERR_INVALID_ARGUMENT for a duration of SIM_NEVER with no way to
 * stop (no flag and no callback).
 */
tern_err sim_realtime_run(sim_realtime *rt, uint64_t duration_ns, unsigned flags,
                          sim_realtime_step_fn step, void *ctx, sim_realtime_stop *why);

/*
 * sim_realtime_now: the virtual time the wall clock corresponds to now (it
 * anchors the driver if no run did yet). It does not advance the simulation.
 */
uint64_t sim_realtime_now(sim_realtime *rt);

/*
 * sim_realtime_set_journal: record into, or replay from, a host-bridge journal
 * (tern/sim_hostbridge.h); NULL: neither. RECORD: every value
 * sim_realtime_now returns, every run's end and every host event go into it.
 * REPLAY: sim_realtime_now and sim_realtime_run read the clock and the host
 * from it instead (no clock read, no host I/O, no waiting); a run that asks
 * for something else than the journal's next record fails with
 * TERN_ERR_BAD_STATE naming the record.
 */
struct sim_journal;
void sim_realtime_set_journal(sim_realtime *rt, struct sim_journal *j);

/* sim_realtime_get_stats: copy the driver's statistics. */
void sim_realtime_get_stats(const sim_realtime *rt, sim_realtime_stats *out);

#endif /* TERN_SIM_REALTIME_H */
