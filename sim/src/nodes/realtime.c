/*
 * The real-time driver (tern/sim_realtime.h): the one place of libternsim
 * that reads a clock (DESIGN.md §2). Virtual time is the anchor plus the
 * CLOCK_MONOTONIC time elapsed since it was taken; each round of the loop
 * dispatches what is due up to the wall clock, reads what the kernel sent on
 * the TAP nodes, and sleeps in ppoll(2) until the next event or a readable
 * device, whichever comes first.
 *
 * A frame from the kernel must never enter virtual time before it really
 * arrived, or a link's delay would shrink by the difference (the kernel
 * would measure less than the configured delay). The clock read at the top
 * of a round is already old when the devices are read (sim_run and the
 * scheduler take their time), so the clock is read again after each frame
 * is read, and virtual time is brought to it before the frame goes in.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sim_internal.h"
#include "tern/sim_hostbridge.h"
#include "tern/sim_realtime.h"
#include "tern/sim_tap.h"

/* Frames read from one device per round, so that one busy device cannot starve the timers. */
#define RT_TAP_BATCH 256

struct sim_realtime {
    sim *s;
    bool anchored;
    uint64_t anchor_mono; /* CLOCK_MONOTONIC at the anchor, ns */
    uint64_t anchor_virt; /* virtual time at the anchor, ns */
    sim_realtime_stats st;
    struct pollfd *fds;
    sim_node_id *fd_node;
    uint32_t nfds, fds_cap;
    bool peer_rx; /* a scripted peer received a frame while frames from a device were clocked in */
    sim_journal *j;      /* the host bridge's journal: clock values and host events (NULL: none) */
    struct pollfd *wfds; /* what a round waits on: the TAP devices and the host bridges' sockets */
    uint32_t wcap;
};

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

tern_err sim_realtime_create(sim *s, sim_realtime **out) {
    sim_realtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        return TERN_ERR_NO_MEMORY;
    }
    rt->s = s;
    *out = rt;
    return TERN_OK;
}

void sim_realtime_destroy(sim_realtime *rt) {
    if (!rt) {
        return;
    }
    free(rt->fds);
    free(rt->fd_node);
    free(rt->wfds);
    free(rt);
}

static uint64_t rt_now(sim_realtime *rt) {
    uint64_t m = mono_ns();
    uint64_t sim_t = rt->s->now;
    if (!rt->anchored) {
        rt->anchored = true;
        rt->anchor_mono = m;
        rt->anchor_virt = sim_t;
    }
    uint64_t v = rt->anchor_virt + (m - rt->anchor_mono);
    if (v < sim_t) {
        /* Virtual time was run ahead (sim_run) since: slide the anchor. */
        rt->anchor_virt += sim_t - v;
        v = sim_t;
    }
    return v;
}

/* Out to the file before the driver waits or returns: what a crash loses is at most what
 * happened since (sim_journal_write buffers). */
static tern_err journal_flush(sim_realtime *rt) {
    if (!rt->j || sim_journal_get_mode(rt->j) != SIM_JOURNAL_RECORD) {
        return TERN_OK;
    }
    return sim_journal_flush(rt->j);
}

static tern_err journal(sim_realtime *rt, sim_journal_kind kind, uint64_t t, int32_t arg) {
    if (!rt->j || sim_journal_get_mode(rt->j) != SIM_JOURNAL_RECORD) {
        return TERN_OK;
    }
    sim_journal_rec r = {.kind = kind, .t = t, .arg = arg};
    return sim_journal_write(rt->j, &r, NULL);
}

static bool replaying(const sim_realtime *rt) {
    return rt->j && sim_journal_get_mode(rt->j) == SIM_JOURNAL_REPLAY;
}

/* The next record of a replay, which must be of `kind`; consumed. */
static tern_err expect(sim_realtime *rt, sim_journal_kind kind, sim_journal_rec *r) {
    tern_err err = sim_journal_peek(rt->j, r, NULL);
    if (err == TERN_ERR_EMPTY) {
        return sim_fail(rt->s, TERN_ERR_BAD_STATE,
                        "replay: the journal ends after %llu records, the run goes on",
                        (unsigned long long)sim_journal_count(rt->j));
    }
    if (err != TERN_OK) {
        return err;
    }
    if (r->kind != (uint32_t)kind) {
        return sim_fail(rt->s, TERN_ERR_BAD_STATE,
                        "replay: journal record %llu is of kind %u where the run asks for kind %u "
                        "(the test does not repeat the recorded run)",
                        (unsigned long long)sim_journal_count(rt->j), r->kind, (unsigned)kind);
    }
    sim_journal_next(rt->j);
    return TERN_OK;
}

uint64_t sim_realtime_now(sim_realtime *rt) {
    if (replaying(rt)) {
        sim_journal_rec r;
        /* On a journal that does not match, the error waits for the next run. */
        return expect(rt, SIM_JR_NOW, &r) == TERN_OK ? r.t : rt->s->now;
    }
    uint64_t v = rt_now(rt);
    journal(rt, SIM_JR_NOW, v, 0);
    journal_flush(rt); /* between runs: the caller's code runs next */
    return v;
}

void sim_realtime_set_journal(sim_realtime *rt, sim_journal *j) {
    rt->j = j;
}

void sim_realtime_get_stats(const sim_realtime *rt, sim_realtime_stats *out) {
    *out = rt->st;
}

/* The descriptors of the simulation's TAP nodes, taken afresh at each run. */
static tern_err collect_taps(sim_realtime *rt) {
    sim *s = rt->s;
    rt->nfds = 0;
    for (sim_node_id i = 0; i < s->nnodes; i++) {
        int fd;
        if (sim_tap_fd(s, i, &fd) != TERN_OK) {
            continue;
        }
        if (rt->nfds == rt->fds_cap) {
            uint32_t ncap = rt->fds_cap ? rt->fds_cap * 2 : 4;
            struct pollfd *nf = realloc(rt->fds, ncap * sizeof *nf);
            if (!nf) {
                return sim_fail(s, TERN_ERR_NO_MEMORY, "realtime: out of memory");
            }
            rt->fds = nf;
            sim_node_id *nn = realloc(rt->fd_node, ncap * sizeof *nn);
            if (!nn) {
                return sim_fail(s, TERN_ERR_NO_MEMORY, "realtime: out of memory");
            }
            rt->fd_node = nn;
            rt->fds_cap = ncap;
        }
        rt->fds[rt->nfds].fd = fd;
        rt->fds[rt->nfds].events = POLLIN;
        rt->fds[rt->nfds].revents = 0;
        rt->fd_node[rt->nfds] = i;
        rt->nfds++;
    }
    return TERN_OK;
}

/* Dispatch what is due up to virtual time `target`, noting how late the oldest due event runs. */
static tern_err run_to(sim_realtime *rt, uint64_t target, unsigned run_flags, sim_stop *stopped) {
    sim *s = rt->s;
    uint64_t next = sim_eq_peek_time(&s->q);
    if (next <= target && target - next > rt->st.max_late_ns) {
        rt->st.max_late_ns = target - next;
    }
    return sim_run(s, target, run_flags, stopped);
}

/* sim_tap_arrival_fn: a frame was just read; bring virtual time to the wall clock of this moment.
 */
static tern_err clock_in(void *ctx, sim *s) {
    sim_realtime *rt = ctx;
    uint64_t t = rt_now(rt); /* read after the frame was: t >= its arrival */
    if (t <= s->now) {
        return TERN_OK;
    }
    sim_stop stopped;
    tern_err err = run_to(rt, t, 0, &stopped);
    /* No stop here (the frame must go in first); the round reports it after. */
    rt->peer_rx |= s->peer_rx_flag;
    return err;
}

/* Read what every device has (a batch each), each frame entering at its time of reading. */
static tern_err service_taps(sim_realtime *rt, size_t *total) {
    *total = 0;
    for (uint32_t i = 0; i < rt->nfds; i++) {
        size_t n = 0;
        tern_err err =
            sim_tap_service_clocked(rt->s, rt->fd_node[i], RT_TAP_BATCH, clock_in, rt, &n);
        *total += n;
        if (err != TERN_OK) {
            return err;
        }
    }
    rt->st.tap_frames += *total;
    /* The host bridges' sockets: each event clocked in, journalled and applied the same way. */
    for (sim_node_id i = 0; i < rt->s->nnodes; i++) {
        size_t n = 0;
        if (!sim_hostbridge_is(rt->s, i)) {
            continue;
        }
        tern_err err = sim_hostbridge_service(rt->s, i, clock_in, rt, &n);
        *total += n;
        if (err != TERN_OK) {
            return err;
        }
    }
    return TERN_OK;
}

/* Sleep until virtual time `until` (by the wall clock) or until a device is readable. */
static tern_err wait_until(sim_realtime *rt, uint64_t until) {
    uint64_t now = rt_now(rt);
    if (until <= now) {
        return TERN_OK;
    }
    uint64_t d = until - now;
    struct timespec ts = {(time_t)(d / 1000000000ull), (long)(d % 1000000000ull)};
    rt->st.sleeps++;
    sim *s = rt->s;
    uint32_t need = rt->nfds;
    for (sim_node_id i = 0; i < s->nnodes; i++) {
        need += sim_hostbridge_is(s, i) ? SIM_HB_MAX_FLOWS : 0;
    }
    if (need > rt->wcap) {
        struct pollfd *w = realloc(rt->wfds, need * sizeof *w);
        if (!w) {
            return sim_fail(s, TERN_ERR_NO_MEMORY, "realtime: out of memory");
        }
        rt->wfds = w;
        rt->wcap = need;
    }
    uint32_t n = rt->nfds;
    if (n) {
        memcpy(rt->wfds, rt->fds, n * sizeof *rt->fds);
    }
    for (sim_node_id i = 0; i < s->nnodes; i++) {
        if (sim_hostbridge_is(s, i)) {
            n += sim_hostbridge_pollfds(s, i, rt->wfds + n, rt->wcap - n);
        }
    }
    tern_err err = journal_flush(rt);
    if (err != TERN_OK) {
        return err;
    }
    int r = ppoll(n ? rt->wfds : NULL, n, &ts, NULL);
    if (r < 0 && errno != EINTR) {
        return sim_fail(rt->s, TERN_ERR_IO, "realtime: ppoll on %u TAP device(s): %s", rt->nfds,
                        strerror(errno));
    }
    return TERN_OK;
}

static tern_err finish(sim_realtime *rt, sim_realtime_stop reason, sim_realtime_stop *why) {
    tern_err err = journal(rt, SIM_JR_RUN, rt->s->now, (int32_t)reason);
    if (err == TERN_OK) {
        err = journal_flush(rt);
    }
    if (err != TERN_OK) {
        return err;
    }
    if (why) {
        *why = reason;
    }
    sim_ok(rt->s);
    return TERN_OK;
}

/*
 * A run fed from the journal: the recorded host events at their virtual times, the driver's
 * deliveries after each batch, and the recorded end, with the same calls into the simulation
 * that the live run made, so the run reproduces byte for byte.
 */
static tern_err replay_run(sim_realtime *rt, unsigned run_flags, sim_realtime_stop *why) {
    sim *s = rt->s;
    sim_stop stopped;
    for (;;) {
        sim_journal_rec r;
        const uint8_t *data;
        tern_err err = sim_journal_peek(rt->j, &r, &data);
        if (err == TERN_ERR_EMPTY) {
            return expect(rt, SIM_JR_RUN, &r);
        }
        if (err != TERN_OK) {
            return err;
        }
        if (r.kind == SIM_JR_RUN) {
            sim_journal_next(rt->j);
            err = sim_run(s, r.t, run_flags, &stopped);
            if (err != TERN_OK) {
                return err;
            }
            if (why) {
                *why = (sim_realtime_stop)r.arg;
            }
            sim_ok(s);
            return TERN_OK;
        }
        if (r.kind == SIM_JR_SYNC) {
            sim_journal_next(rt->j);
            err = sim_run(s, r.t, run_flags, &stopped);
        } else if (r.kind >= SIM_JR_CONNECT && r.kind != SIM_JR_BOUND) {
            if (r.t > s->now && (err = sim_run(s, r.t, 0, &stopped)) != TERN_OK) {
                return err;
            }
            err = sim_hostbridge_apply(s, &r, data);
            sim_journal_next(rt->j);
        } else {
            return expect(rt, SIM_JR_RUN, &r);
        }
        if (err != TERN_OK) {
            return err;
        }
    }
}

tern_err sim_realtime_run(sim_realtime *rt, uint64_t duration_ns, unsigned flags,
                          sim_realtime_step_fn step, void *ctx, sim_realtime_stop *why) {
    sim *s = rt->s;
    if (replaying(rt)) {
        return replay_run(rt, (flags & SIM_RT_STOP_ON_PEER_RX) ? SIM_RUN_STOP_ON_PEER_RX : 0, why);
    }
    if (duration_ns == SIM_NEVER && !step &&
        !(flags & (SIM_RT_STOP_ON_PEER_RX | SIM_RT_STOP_ON_TAP_RX))) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "realtime run duration=never: needs a stop flag or a step callback");
    }
    tern_err err = collect_taps(rt);
    if (err != TERN_OK) {
        return err;
    }
    rt->st.runs++;
    uint64_t start = rt_now(rt);
    rt->st.catchup_ns += start - s->now;
    uint64_t deadline = duration_ns >= SIM_NEVER - start ? SIM_NEVER : start + duration_ns;
    unsigned run_flags = (flags & SIM_RT_STOP_ON_PEER_RX) ? SIM_RUN_STOP_ON_PEER_RX : 0;
    for (;;) {
        rt->st.rounds++;
        /* Up to the wall clock, also past the deadline when the process was
         * late: what is due by now has happened in the real world. */
        uint64_t now = rt_now(rt);
        sim_stop stopped;
        err = run_to(rt, now, run_flags, &stopped);
        if (err != TERN_OK) {
            return err;
        }
        if (stopped == SIM_STOP_PEER_RX) {
            return finish(rt, SIM_RT_STOP_PEER_RX, why);
        }
        size_t got;
        rt->peer_rx = false;
        err = service_taps(rt, &got);
        if (err != TERN_OK) {
            return err;
        }
        if (got) {
            /* Deliver at once what needs no time (a link without delay). */
            err = sim_run(s, s->now, run_flags, &stopped);
            if (err == TERN_OK) {
                err = journal(rt, SIM_JR_SYNC, s->now, 0);
            }
            if (err != TERN_OK) {
                return err;
            }
            if (stopped == SIM_STOP_PEER_RX || (rt->peer_rx && (flags & SIM_RT_STOP_ON_PEER_RX))) {
                return finish(rt, SIM_RT_STOP_PEER_RX, why);
            }
            if (flags & SIM_RT_STOP_ON_TAP_RX) {
                return finish(rt, SIM_RT_STOP_TAP_RX, why);
            }
        }
        if (step && step(ctx, s, s->now)) {
            return finish(rt, SIM_RT_STOP_CALLBACK, why);
        }
        if (now >= deadline) {
            return finish(rt, SIM_RT_STOP_TIME, why);
        }
        if (got) {
            continue; /* a device may hold more than a batch */
        }
        uint64_t next = sim_eq_peek_time(&s->q);
        if (next <= s->now) {
            continue; /* the step callback woke a node: run it now */
        }
        err = wait_until(rt, next < deadline ? next : deadline);
        if (err != TERN_OK) {
            return err;
        }
    }
}
