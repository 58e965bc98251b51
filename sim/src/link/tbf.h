/*
 * Token-bucket shaper with Linux tbf semantics (internal to libternsim).
 * notes/link-models.md states the semantics; this is that, in integer
 * nanoseconds. The FIFO itself lives in the link; the shaper only keeps the
 * buckets and the backlog in bytes.
 */
#ifndef TERN_SIM_TBF_H
#define TERN_SIM_TBF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#include "tern/sim.h"

typedef struct sim_tbf {
    int64_t rate;     /* bytes per second, > 0 */
    int64_t peak;     /* bytes per second, 0 = no peak bucket */
    int64_t buffer;   /* ns: ceil(burst * 1e9 / rate); overhead/mpu charge frames only */
    int64_t pbuffer;  /* ns: ceil(mtu * 1e9 / peak), 0 without peak */
    int64_t tokens;   /* ns */
    int64_t ptokens;  /* ns */
    uint64_t t_c;     /* time of the last send (or of init) */
    int64_t overhead; /* bytes added to each frame for the computation */
    int64_t mpu;      /* minimum bytes charged per frame */
    uint64_t limit;   /* backlog limit, bytes */
    uint64_t backlog; /* bytes admitted and not yet sent */
} sim_tbf;

/* Why sim_tbf_admit refused a frame. */
typedef enum sim_tbf_verdict {
    SIM_TBF_ADMITTED = 0,
    SIM_TBF_OVERSIZE = 1, /* more than one full bucket can ever send */
    SIM_TBF_LIMIT = 2,    /* the backlog would pass `limit` */
} sim_tbf_verdict;

/*
 * sim_tbf_validate: check parameters (see sim_tbf_params in tern/sim.h).
 * Returns TERN_OK or TERN_ERR_INVALID_ARGUMENT with a message naming the
 * parameter and its value written into msg (cap bytes, NUL-terminated).
 */
tern_err sim_tbf_validate(const sim_tbf_params *p, char *msg, size_t cap);

/*
 * sim_tbf_init: buckets full, t_c = now, backlog 0. The limit comes from
 * p->limit, or from p->latency_ns as tc computes it:
 * rate*latency + burst, and with a peak min(that, peak*latency + mtu).
 * p must have passed sim_tbf_validate.
 */
void sim_tbf_init(sim_tbf *t, const sim_tbf_params *p, uint64_t now);

/* sim_tbf_cost: ns a frame of len bytes costs at rate r (bytes/s): ceil(max(len+overhead, mpu, 1) *
 * 1e9 / r). */
int64_t sim_tbf_cost(const sim_tbf *t, int64_t r, uint32_t len);

/* sim_tbf_admit: on enqueue; on SIM_TBF_ADMITTED adds len to the backlog. */
sim_tbf_verdict sim_tbf_admit(sim_tbf *t, uint32_t len);

/*
 * sim_tbf_try_send: try to dequeue the head frame (len bytes) at `now`.
 * Returns 0 when it may go (tokens taken, t_c = now, backlog reduced), else
 * the ns to wait before trying again; a refused attempt changes nothing.
 */
uint64_t sim_tbf_try_send(sim_tbf *t, uint64_t now, uint32_t len);

/* sim_tbf_forget: a queued frame of len bytes left the queue without being sent (backlog reduced).
 */
void sim_tbf_forget(sim_tbf *t, uint32_t len);

#endif /* TERN_SIM_TBF_H */
