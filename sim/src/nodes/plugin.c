/* Nodes from a user's shared library: load by path, hand over the simulator's functions
 * (sim_plugin.h). */
#include <dlfcn.h>
#include <string.h>

#include <tern/sim_plugin.h>

#include "core/sim_internal.h"

/* Read-only: the functions a plugin calls, the same for every simulation. */
static const sim_plugin_api plugin_api = {
    SIM_PLUGIN_API_VERSION, sim_node_add, sim_node_send, sim_node_wake, sim_now,
};

tern_err sim_node_add_plugin(sim *s, const char *path, const char *entry, const char *name,
                             const char *config, sim_node_id *out) {
    if (!path || !name || !config || !out) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "plugin node: path, name, config and out must not be NULL");
    }
    const char *sym = entry ? entry : "tern_node_create";
    /* RTLD_LOCAL: the plugin's symbols do not leak into other plugins; loading a path twice gives
     * one library. */
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        return sim_fail(s, TERN_ERR_IO, "plugin node '%s': cannot load %s: %s", name, path,
                        why ? why : "?");
    }
    void *fn = dlsym(lib, sym);
    if (!fn) {
        return sim_fail(s, TERN_ERR_IO, "plugin node '%s': %s has no function %s", name, path, sym);
    }
    sim_plugin_entry create;
    /* POSIX guarantees a dlsym result converts to a function pointer; memcpy avoids -Wpedantic's
     * object/function cast. */
    memcpy(&create, &fn, sizeof create);
    char err[256] = {0};
    s->err[0] = '\0';
    tern_err rc = create(&plugin_api, s, name, config, err, sizeof err, out);
    if (rc != TERN_OK) {
        err[sizeof err - 1] = '\0';
        if (err[0]) {
            return sim_fail(s, rc, "plugin node '%s' (%s): %s", name, path, err);
        }
        if (s->err[0]) {
            return rc; /* the simulator's own message (node_add failed) */
        }
        return sim_fail(s, rc, "plugin node '%s' (%s): %s failed with code %d", name, path, sym,
                        (int)rc);
    }
    return TERN_OK;
}
