/*
 * Loss models with Linux netem semantics (notes/link-models.md): Bernoulli,
 * Gilbert-Elliott and the 4-state Markov model.
 *
 * Probabilities are turned into 32-bit fixed point once, at init; per frame
 * everything is an integer comparison against a 32-bit draw, so the fate of a
 * frame never depends on floating-point rounding. Each model draws the same
 * number of values for every frame, whatever happens to it, so a stream's
 * position depends only on how many frames went through.
 */
#include "loss.h"

#include <stdarg.h>
#include <stdio.h>

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

static void clear(char *msg, size_t cap) {
    if (msg && cap) {
        msg[0] = '\0';
    }
}

bool sim_is_probability(double x) {
    /* Written so that NaN, which compares false with everything, is refused. */
    return x >= 0.0 && x <= 1.0;
}

static tern_err check_one(const char *name, double x, char *msg, size_t cap) {
    if (!sim_is_probability(x)) {
        return fail(msg, cap, "loss %s=%g: probability must be in [0, 1]", name, x);
    }
    return TERN_OK;
}

tern_err sim_loss_check_bernoulli(double p, char *msg, size_t cap) {
    clear(msg, cap);
    return check_one("p", p, msg, cap);
}

tern_err sim_loss_check_gilbert_elliott(double p, double r, double one_minus_h, double one_minus_k,
                                        char *msg, size_t cap) {
    clear(msg, cap);
    tern_err e;
    if ((e = check_one("p", p, msg, cap)) != TERN_OK ||
        (e = check_one("r", r, msg, cap)) != TERN_OK ||
        (e = check_one("1-h", one_minus_h, msg, cap)) != TERN_OK ||
        (e = check_one("1-k", one_minus_k, msg, cap)) != TERN_OK) {
        return e;
    }
    return TERN_OK;
}

tern_err sim_loss_check_markov4(double p13, double p31, double p32, double p23, double p14,
                                char *msg, size_t cap) {
    clear(msg, cap);
    tern_err e;
    if ((e = check_one("p13", p13, msg, cap)) != TERN_OK ||
        (e = check_one("p31", p31, msg, cap)) != TERN_OK ||
        (e = check_one("p32", p32, msg, cap)) != TERN_OK ||
        (e = check_one("p23", p23, msg, cap)) != TERN_OK ||
        (e = check_one("p14", p14, msg, cap)) != TERN_OK) {
        return e;
    }
    /*
     * The ranges of one state are laid end to end on [0, 2^32), so their sum
     * must fit. Judged in the fixed point the model uses, so 0.9 + 0.1 is not
     * refused for a rounding error of the doubles.
     */
    if (sim_prob_from_double(p13) + sim_prob_from_double(p14) > SIM_PROB_ONE) {
        return fail(msg, cap, "loss markov4: in state 1, p13+p14=%g exceeds 1 (p13=%g, p14=%g)",
                    p13 + p14, p13, p14);
    }
    if (sim_prob_from_double(p31) + sim_prob_from_double(p32) > SIM_PROB_ONE) {
        return fail(msg, cap, "loss markov4: in state 3, p31+p32=%g exceeds 1 (p31=%g, p32=%g)",
                    p31 + p32, p31, p32);
    }
    return TERN_OK;
}

void sim_loss_init_none(sim_loss *l) {
    *l = (sim_loss){.kind = SIM_LOSS_NONE, .state = 0};
}

void sim_loss_init_bernoulli(sim_loss *l, double p) {
    *l = (sim_loss){.kind = SIM_LOSS_BERNOULLI, .state = 0};
    l->p[0] = sim_prob_from_double(p);
}

void sim_loss_init_gilbert_elliott(sim_loss *l, double p, double r, double one_minus_h,
                                   double one_minus_k) {
    *l = (sim_loss){.kind = SIM_LOSS_GILBERT_ELLIOTT, .state = 0};
    l->p[0] = sim_prob_from_double(p);
    l->p[1] = sim_prob_from_double(r);
    l->p[2] = sim_prob_from_double(one_minus_h);
    l->p[3] = sim_prob_from_double(one_minus_k);
}

void sim_loss_init_markov4(sim_loss *l, double p13, double p31, double p32, double p23,
                           double p14) {
    *l = (sim_loss){.kind = SIM_LOSS_MARKOV4, .state = 1};
    l->p[0] = sim_prob_from_double(p13);
    l->p[1] = sim_prob_from_double(p31);
    l->p[2] = sim_prob_from_double(p32);
    l->p[3] = sim_prob_from_double(p23);
    l->p[4] = sim_prob_from_double(p14);
}

unsigned sim_loss_draws(const sim_loss *l) {
    switch (l->kind) {
    case SIM_LOSS_BERNOULLI:
        return 1;
    case SIM_LOSS_GILBERT_ELLIOTT:
        return 2;
    case SIM_LOSS_MARKOV4:
        return 1;
    case SIM_LOSS_NONE:
    default:
        return 0;
    }
}

enum { GE_GOOD = 0, GE_BAD = 1 };
enum { M_GAP_RX = 1, M_BURST_RX = 2, M_BURST_LOST = 3, M_ISOLATED_LOST = 4 };

static bool decide_gilbert_elliott(sim_loss *l, sim_rng *r) {
    /* Both draws always, u1 first, so the stream advances by two per frame. */
    uint32_t u1 = sim_rng_u32(r);
    uint32_t u2 = sim_rng_u32(r);
    bool lost;
    if (l->state == GE_GOOD) {
        lost = sim_prob_hit(l->p[3], u2); /* 1-k, judged in the state the frame started in */
        if (sim_prob_hit(l->p[0], u1)) {
            l->state = GE_BAD;
        }
    } else {
        lost = sim_prob_hit(l->p[2], u2); /* 1-h */
        if (sim_prob_hit(l->p[1], u1)) {
            l->state = GE_GOOD;
        }
    }
    return lost;
}

static bool decide_markov4(sim_loss *l, sim_rng *r) {
    const sim_prob p13 = l->p[0], p31 = l->p[1], p32 = l->p[2], p23 = l->p[3], p14 = l->p[4];
    /* One draw in every state, state 4 included, so the draw count is fixed. */
    uint64_t u = sim_rng_u32(r);
    switch (l->state) {
    case M_GAP_RX:
        if (u < p14) {
            l->state = M_ISOLATED_LOST;
        } else if (u < p13 + p14) {
            l->state = M_BURST_LOST;
        }
        break;
    case M_BURST_RX:
        if (u < p23) {
            l->state = M_BURST_LOST;
        }
        break;
    case M_BURST_LOST:
        if (u < p32) {
            l->state = M_BURST_RX;
        } else if (u < p31 + p32) {
            l->state = M_GAP_RX;
        }
        break;
    case M_ISOLATED_LOST:
    default:
        l->state = M_GAP_RX;
        break;
    }
    /* The frame's fate is the state it moved to: 3 and 4 are the losing states. */
    return l->state == M_BURST_LOST || l->state == M_ISOLATED_LOST;
}

bool sim_loss_decide(sim_loss *l, sim_rng *r) {
    switch (l->kind) {
    case SIM_LOSS_BERNOULLI:
        return sim_prob_hit(l->p[0], sim_rng_u32(r));
    case SIM_LOSS_GILBERT_ELLIOTT:
        return decide_gilbert_elliott(l, r);
    case SIM_LOSS_MARKOV4:
        return decide_markov4(l, r);
    case SIM_LOSS_NONE:
    default:
        return false;
    }
}

/* The probability that the next original frame would be lost, given the current state. */
static sim_prob current_loss_prob(const sim_loss *l) {
    switch (l->kind) {
    case SIM_LOSS_BERNOULLI:
        return l->p[0];
    case SIM_LOSS_GILBERT_ELLIOTT:
        return l->state == GE_GOOD ? l->p[3] : l->p[2];
    case SIM_LOSS_MARKOV4:
        switch (l->state) {
        case M_GAP_RX:
            return l->p[0] + l->p[4]; /* p13 + p14 */
        case M_BURST_RX:
            return l->p[3]; /* p23 */
        case M_BURST_LOST: {
            sim_prob leave = l->p[1] + l->p[2]; /* p31 + p32 */
            return leave >= SIM_PROB_ONE ? 0 : SIM_PROB_ONE - leave;
        }
        default:
            return 0; /* state 4 always moves back to 1, a receiving state */
        }
    case SIM_LOSS_NONE:
    default:
        return 0;
    }
}

bool sim_loss_judge_copy(const sim_loss *l, sim_rng *r) {
    /* Always exactly one draw, so a copy stream advances by one per copy. */
    uint32_t u = sim_rng_u32(r);
    return sim_prob_hit(current_loss_prob(l), u);
}
