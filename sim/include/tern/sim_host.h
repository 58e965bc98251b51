/*
 * A Tern stack host as a simulator node: the stack instance behind the node
 * interface, its interface i attached to node port i. The simulator provides
 * the instance's memory and the output callback; frames the stack sends leave
 * at the current virtual time.
 *
 * After calling socket functions on the stack from outside the simulation
 * (a test), call sim_node_wake() so the simulator asks the host for its next
 * deadline again (socket calls queue; the host sends on its next poll).
 */
#ifndef TERN_SIM_HOST_H
#define TERN_SIM_HOST_H

#ifndef TERN_CDEF
#include "tern/sim.h"
#include "tern/stack.h"
#endif

/*
 * sim_host_add: a Tern stack host with one port per configured interface.
 *   cfg  the stack configuration; its output callback is ignored (the
 *        simulator sets its own). The seed is used as given.
 * Returns TERN_OK; TERN_ERR_INVALID_ARGUMENT (the message names the
 * parameter: a bad stack configuration, or no interface); what
 * sim_node_add returns; TERN_ERR_NO_MEMORY.
 */
tern_err sim_host_add(sim *s, const char *name, const tern_stack_config *cfg, sim_node_id *out);

/* sim_host_stack: the stack instance of a host node, or NULL if the node is not a host. */
tern_stack *sim_host_stack(sim *s, sim_node_id node);

/*
 * sim_host_app_fn: an application running on a host inside the simulation, called with the
 * host's stack after every frame the stack takes in and after every poll of it, at that event's
 * virtual time `now`. Its socket calls act at that instant: the simulator asks the stack for its
 * next deadline after the call, so what it queued is sent at `now`. It is woken by its own
 * host's events only (a simulation of many hosts never visits the others for it), and must not
 * add or remove nodes or links.
 */
typedef void (*sim_host_app_fn)(void *ctx, tern_stack *st, uint64_t now);

/*
 * sim_host_set_app: run fn(ctx, stack, now) on host `node` after each of its inputs and polls
 * (fn NULL: no application, the default).
 * Returns TERN_OK; TERN_ERR_UNKNOWN_NODE when `node` is not a host (the message names it).
 */
tern_err sim_host_set_app(sim *s, sim_node_id node, sim_host_app_fn fn, void *ctx);

#endif /* TERN_SIM_HOST_H */
