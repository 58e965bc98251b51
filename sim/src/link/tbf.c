/*
 * Token-bucket shaper with Linux tbf semantics, in integer nanoseconds
 * (notes/link-models.md). Buckets hold time: a frame of L bytes at rate r
 * costs ceil(L * 1e9 / r) ns of tokens, and tokens accrue at one ns per ns.
 * Keeping time rather than bytes makes the wake-up time exact: a refused
 * frame can go precisely when the missing tokens have accrued.
 */
#include "tbf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#define NS_PER_SEC 1000000000LL

/*
 * Largest bucket (and latency-derived limit) we accept. tokens + elapsed is
 * bounded by twice a bucket, so 2^61 ns (about 73 years) keeps every sum far
 * from int64 overflow; nothing sensible comes near it.
 */
#define TBF_MAX_NS ((int64_t)1 << 61)
#define TBF_MAX_LIMIT ((uint64_t)1 << 62)

/* ceil(bytes * 1e9 / r), saturated at INT64_MAX so absurd inputs stay defined. */
static int64_t bytes_to_ns(__int128 bytes, int64_t r) {
    if (bytes <= 0) {
        return 0;
    }
    unsigned __int128 num = (unsigned __int128)bytes * (unsigned __int128)NS_PER_SEC;
    unsigned __int128 q = (num + (unsigned __int128)r - 1) / (unsigned __int128)r;
    return q > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)q;
}

/* The bytes a frame of len is charged: max(len + overhead, mpu, 1). */
static __int128 charged(int64_t overhead, int64_t mpu, uint32_t len) {
    __int128 size = (__int128)len + overhead;
    if (size < mpu) {
        size = mpu;
    }
    /* A negative overhead may not make a frame free (sim.h: never below 1 byte). */
    return size < 1 ? 1 : size;
}

int64_t sim_tbf_cost(const sim_tbf *t, int64_t r, uint32_t len) {
    if (r <= 0) {
        return 0; /* no peak bucket: frames cost nothing there */
    }
    return bytes_to_ns(charged(t->overhead, t->mpu, len), r);
}

/* Writes the message (parameter and value) and returns the error, so callers can `return
 * fail(...)`. */
static tern_err fail(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static tern_err fail(char *msg, size_t cap, const char *fmt, ...) {
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return TERN_ERR_INVALID_ARGUMENT;
}

/* The backlog limit in bytes as tc computes it from a latency (floor of the byte count). */
static unsigned __int128 limit_from_latency(const sim_tbf_params *p) {
    unsigned __int128 lim =
        (unsigned __int128)p->rate * (unsigned __int128)p->latency_ns / NS_PER_SEC +
        (unsigned __int128)p->burst;
    if (p->peak_rate > 0) {
        unsigned __int128 lim2 =
            (unsigned __int128)p->peak_rate * (unsigned __int128)p->latency_ns / NS_PER_SEC +
            (unsigned __int128)p->mtu;
        if (lim2 < lim) {
            lim = lim2;
        }
    }
    return lim;
}

tern_err sim_tbf_validate(const sim_tbf_params *p, char *msg, size_t cap) {
    if (msg && cap) {
        msg[0] = '\0';
    }
    if (!p) {
        return fail(msg, cap, "tbf: no parameters given");
    }
    if (p->rate <= 0) {
        return fail(msg, cap, "tbf rate=%" PRId64 ": must be > 0", p->rate);
    }
    if (p->burst <= 0) {
        return fail(msg, cap, "tbf burst=%" PRId64 ": must be > 0", p->burst);
    }
    if (p->peak_rate < 0) {
        return fail(msg, cap, "tbf peak_rate=%" PRId64 ": must be >= 0", p->peak_rate);
    }
    if (p->mtu < 0) {
        return fail(msg, cap, "tbf mtu=%" PRId64 ": must be >= 0", p->mtu);
    }
    if (p->limit < 0) {
        return fail(msg, cap, "tbf limit=%" PRId64 ": must be >= 0", p->limit);
    }
    if (p->latency_ns < 0) {
        return fail(msg, cap, "tbf latency_ns=%" PRId64 ": must be >= 0", p->latency_ns);
    }
    if (p->mpu < 0) {
        return fail(msg, cap, "tbf mpu=%" PRId64 ": must be >= 0", p->mpu);
    }
    /* Larger than any frame plus any link-layer framing; beyond it the charge means nothing. */
    if (p->overhead < -SIM_MAX_FRAME || p->overhead > SIM_MAX_FRAME) {
        return fail(msg, cap, "tbf overhead=%" PRId64 ": must be within [-%d, %d]", p->overhead,
                    SIM_MAX_FRAME, SIM_MAX_FRAME);
    }
    if ((p->limit > 0) == (p->latency_ns > 0)) {
        return fail(msg, cap,
                    "tbf limit=%" PRId64 ", latency_ns=%" PRId64
                    ": exactly one of limit and latency_ns must be > 0",
                    p->limit, p->latency_ns);
    }
    if (p->peak_rate > 0 && p->mtu == 0) {
        return fail(msg, cap, "tbf peak_rate=%" PRId64 ": needs mtu > 0 (mtu=0)", p->peak_rate);
    }
    if (p->peak_rate == 0 && p->mtu > 0) {
        return fail(msg, cap, "tbf mtu=%" PRId64 ": needs a peak_rate (peak_rate=0)", p->mtu);
    }
    if (p->peak_rate > 0 && p->peak_rate <= p->rate) {
        return fail(msg, cap, "tbf peak_rate=%" PRId64 ": must be > rate=%" PRId64, p->peak_rate,
                    p->rate);
    }
    int64_t buffer = bytes_to_ns(p->burst, p->rate);
    if (buffer > TBF_MAX_NS) {
        return fail(msg, cap,
                    "tbf burst=%" PRId64 ": at rate=%" PRId64 " the bucket is %" PRId64
                    " ns, more than the ns arithmetic allows",
                    p->burst, p->rate, buffer);
    }
    /* Smallest possible frame: 1 byte, charged with overhead and mpu. */
    __int128 minimum = charged(p->overhead, p->mpu, 1);
    if (minimum > p->burst) {
        return fail(msg, cap,
                    "tbf burst=%" PRId64
                    ": too small to ever send a minimum frame (charged %" PRId64
                    " bytes with overhead=%" PRId64 ", mpu=%" PRId64 ")",
                    p->burst, (int64_t)minimum, p->overhead, p->mpu);
    }
    if (p->peak_rate > 0) {
        int64_t pbuffer = bytes_to_ns(p->mtu, p->peak_rate);
        if (pbuffer > TBF_MAX_NS) {
            return fail(msg, cap,
                        "tbf mtu=%" PRId64 ": at peak_rate=%" PRId64 " the bucket is %" PRId64
                        " ns, more than the ns arithmetic allows",
                        p->mtu, p->peak_rate, pbuffer);
        }
        if (minimum > p->mtu) {
            return fail(msg, cap,
                        "tbf mtu=%" PRId64
                        ": too small to ever send a minimum frame (charged %" PRId64
                        " bytes with overhead=%" PRId64 ", mpu=%" PRId64 ")",
                        p->mtu, (int64_t)minimum, p->overhead, p->mpu);
        }
    }
    if (p->latency_ns > 0 && limit_from_latency(p) > TBF_MAX_LIMIT) {
        return fail(msg, cap,
                    "tbf latency_ns=%" PRId64
                    ": the limit rate*latency+burst it gives is too large",
                    p->latency_ns);
    }
    return TERN_OK;
}

void sim_tbf_init(sim_tbf *t, const sim_tbf_params *p, uint64_t now) {
    t->rate = p->rate;
    t->peak = p->peak_rate;
    t->overhead = p->overhead;
    t->mpu = p->mpu;
    /*
     * The buckets are burst and mtu bytes of time, as in Linux, where tc
     * converts burst to time with no overhead: overhead and mpu charge
     * frames, not the bucket's size.
     */
    t->buffer = bytes_to_ns(p->burst, p->rate);
    t->pbuffer = p->peak_rate > 0 ? bytes_to_ns(p->mtu, p->peak_rate) : 0;
    t->tokens = t->buffer;
    t->ptokens = t->pbuffer;
    t->t_c = now;
    t->limit = p->limit > 0 ? (uint64_t)p->limit : (uint64_t)limit_from_latency(p);
    t->backlog = 0;
}

sim_tbf_verdict sim_tbf_admit(sim_tbf *t, uint32_t len) {
    /*
     * A frame costing more than a full bucket would wait forever and block
     * the FIFO behind it, so it is refused at the door (tbf's max_size).
     */
    if (sim_tbf_cost(t, t->rate, len) > t->buffer) {
        return SIM_TBF_OVERSIZE;
    }
    if (t->peak > 0 && sim_tbf_cost(t, t->peak, len) > t->pbuffer) {
        return SIM_TBF_OVERSIZE;
    }
    if (t->backlog + len > t->limit) {
        return SIM_TBF_LIMIT;
    }
    t->backlog += len;
    return SIM_TBF_ADMITTED;
}

uint64_t sim_tbf_try_send(sim_tbf *t, uint64_t now, uint32_t len) {
    /* Time never goes backwards; should a caller try, it simply earns nothing. */
    uint64_t dt = now > t->t_c ? now - t->t_c : 0;
    int64_t e = dt < (uint64_t)t->buffer ? (int64_t)dt : t->buffer;

    int64_t toks = t->tokens + e;
    if (toks > t->buffer) {
        toks = t->buffer;
    }
    toks -= sim_tbf_cost(t, t->rate, len);

    int64_t ptoks = 0;
    if (t->peak > 0) {
        ptoks = t->ptokens + e;
        if (ptoks > t->pbuffer) {
            ptoks = t->pbuffer;
        }
        ptoks -= sim_tbf_cost(t, t->peak, len);
    }

    if (toks >= 0 && ptoks >= 0) {
        t->tokens = toks;
        t->ptokens = ptoks;
        t->t_c = now;
        t->backlog = t->backlog > len ? t->backlog - len : 0;
        return 0;
    }
    /*
     * Nothing is written back: the tokens a refused attempt computed are
     * recomputed from t_c next time, so early attempts cost nothing. The
     * wait is exact because the buckets fill at one ns per ns.
     */
    int64_t wait = -toks > -ptoks ? -toks : -ptoks;
    return (uint64_t)wait;
}

void sim_tbf_forget(sim_tbf *t, uint32_t len) {
    t->backlog = t->backlog > len ? t->backlog - len : 0;
}
