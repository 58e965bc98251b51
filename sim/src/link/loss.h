/*
 * Loss models with Linux netem semantics (internal to libternsim):
 * Bernoulli, Gilbert-Elliott and the 4-state Markov model, as
 * notes/link-models.md states them. Each model draws a fixed number of
 * values per frame: Bernoulli 1, Gilbert-Elliott 2, Markov 1.
 */
#ifndef TERN_SIM_LOSS_H
#define TERN_SIM_LOSS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "tern/errors.h"

typedef enum sim_loss_kind {
    SIM_LOSS_NONE = 0,
    SIM_LOSS_BERNOULLI = 1,
    SIM_LOSS_GILBERT_ELLIOTT = 2,
    SIM_LOSS_MARKOV4 = 3,
} sim_loss_kind;

typedef struct sim_loss {
    sim_loss_kind kind;
    /*
     * BERNOULLI: p[0] = p.
     * GILBERT_ELLIOTT: p[0] = p, p[1] = r, p[2] = 1-h, p[3] = 1-k.
     * MARKOV4: p[0] = p13, p[1] = p31, p[2] = p32, p[3] = p23, p[4] = p14.
     */
    sim_prob p[5];
    /* GILBERT_ELLIOTT: 0 good, 1 bad. MARKOV4: 1..4 as in the note. */
    int state;
} sim_loss;

/*
 * Validation of the public parameters, before anything changes. Each returns
 * TERN_OK or TERN_ERR_INVALID_ARGUMENT with a message naming the parameter and
 * its value ("loss p13=1.5: probability must be in [0, 1]") in msg.
 */
tern_err sim_loss_check_bernoulli(double p, char *msg, size_t cap);
tern_err sim_loss_check_gilbert_elliott(double p, double r, double one_minus_h, double one_minus_k,
                                        char *msg, size_t cap);
tern_err sim_loss_check_markov4(double p13, double p31, double p32, double p23, double p14,
                                char *msg, size_t cap);

/* Initialisers (arguments already validated); GE starts Good, Markov in state 1. */
void sim_loss_init_none(sim_loss *l);
void sim_loss_init_bernoulli(sim_loss *l, double p);
void sim_loss_init_gilbert_elliott(sim_loss *l, double p, double r, double one_minus_h,
                                   double one_minus_k);
void sim_loss_init_markov4(sim_loss *l, double p13, double p31, double p32, double p23, double p14);

/* sim_loss_draws: values one frame draws from the stream (0 for NONE). */
unsigned sim_loss_draws(const sim_loss *l);

/*
 * sim_loss_decide: the fate of the next frame: draws exactly
 * sim_loss_draws(l) values from r, advances the state, and returns true when
 * the frame is lost.
 */
bool sim_loss_decide(sim_loss *l, sim_rng *r);

/*
 * sim_loss_judge_copy: the fate of a duplicate copy: one draw from r against
 * the loss probability of the current state, without changing the state (so
 * copies never shift the originals' pattern). Always one draw, even for NONE.
 */
bool sim_loss_judge_copy(const sim_loss *l, sim_rng *r);

/* Helpers shared by validation code: is x a probability? */
bool sim_is_probability(double x);

#endif /* TERN_SIM_LOSS_H */
