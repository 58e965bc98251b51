/*
 * Nodes from a user's shared library (bring your own stack, issue 17).
 *
 * A stack built by its own build system becomes a simulator node without
 * linking against Tern: its shared library exports one entry function, and
 * sim_node_add_plugin() loads the library by path and calls it. The library
 * does not resolve any Tern symbol itself (the simulator lives inside the
 * Python extension, whose symbols are not global); it reaches the simulator
 * only through the function table it is given (sim_plugin_api), which stays
 * valid as long as the process runs.
 *
 * Frame buffers: the `frame` given to a node's input() is valid only during
 * that call (the simulator frees it when input() returns); a node that keeps
 * a frame must copy it. Frames given to sim_node_send() are copied at once.
 */
#ifndef TERN_SIM_PLUGIN_H
#define TERN_SIM_PLUGIN_H

#ifndef TERN_CDEF
#include <stddef.h>
#include <stdint.h>
#endif

#include <tern/errors.h>
#include <tern/sim.h>

/* Version of sim_plugin_api; an entry function refuses a table it does not know. */
#define SIM_PLUGIN_API_VERSION 1

/* The entry function a plugin library exports when none is named is "tern_node_create". */

/* The simulator's functions as a plugin calls them (same contracts as in sim.h). */
typedef struct sim_plugin_api {
    uint32_t version; /* SIM_PLUGIN_API_VERSION */
    tern_err (*node_add)(sim *s, const char *name, const char *kind, uint32_t nports,
                         const sim_node_ops *ops, void *state, sim_node_id *out);
    tern_err (*node_send)(sim *s, sim_node_id node, uint32_t port, const uint8_t *frame,
                          size_t len);
    tern_err (*node_wake)(sim *s, sim_node_id node);
    uint64_t (*now)(const sim *s);
} sim_plugin_api;

/*
 * The type of a plugin's entry function. It builds its node and attaches it
 * with api->node_add(s, name, ...), writing the node id to *out.
 *   api     the simulator's functions; valid for the life of the process.
 *   s       the simulation.
 *   name    the node's name (as for sim_node_add).
 *   config  the plugin's own configuration text (may be ""); its format is
 *           the plugin's, e.g. "ip=10.0.0.1/24 mac=02:00:00:00:00:01".
 *   err     a buffer of errlen bytes for a message saying what is wrong
 *           when the function fails (NUL-terminated).
 *   out     receives the node id.
 * Returns TERN_OK or a tern_err (TERN_ERR_INVALID_ARGUMENT for a bad config).
 */
typedef tern_err (*sim_plugin_entry)(const sim_plugin_api *api, sim *s, const char *name,
                                     const char *config, char *err, size_t errlen,
                                     sim_node_id *out);

/*
 * sim_node_add_plugin: load the shared library at `path` (dlopen, once per
 * path and process: loading it again gives the same library, so a library
 * with global state must support several nodes itself or refuse a second
 * one), look up its entry function `entry` (NULL: "tern_node_create")
 * and call it to add node `name` with `config`.
 *   out  receives the node id; sim_node_state(s, *out) is the plugin's state.
 * Returns TERN_OK; TERN_ERR_IO if the library cannot be loaded or has no
 * such function (sim_last_error says why); what the entry function returns
 * (its message in sim_last_error); TERN_ERR_INVALID_ARGUMENT for a NULL path,
 * name or config.
 */
tern_err sim_node_add_plugin(sim *s, const char *path, const char *entry, const char *name,
                             const char *config, sim_node_id *out);

#endif
