/*
 * A Tern stack host as a simulator node (tern/sim_host.h). The simulator
 * owns the instance's memory (the stack itself never allocates); the
 * stack's output callback hands frames to sim_node_send on the port of the
 * same number as the interface.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame_check.h"
#include "core/sim_internal.h"
#include "tern/sim_host.h"

/* Under AddressSanitizer every host has its own allocation (sim_host_add). */
#if defined(__SANITIZE_ADDRESS__)
#define HOST_MEM_OWN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOST_MEM_OWN 1
#endif
#endif

typedef struct host_state {
    sim *s;
    sim_node_id id;
    tern_stack *stack;
    void *mem;
    bool mem_own;        /* mem is its own allocation (else in the simulation's host arena) */
    uint64_t sent;       /* frames sent so far: the number of the next one is sent + 1 */
    sim_host_app_fn app; /* sim_host_set_app, or NULL */
    void *app_ctx;
} host_state;

/* A frame's checksums were wrong (frame_check.h): fail the run, naming the host, the frame's
 * number, port, time and the field. */
static void host_bad_frame(host_state *h, uint32_t iface, size_t len, const char *why) {
    sim_node *n = sim_get_node(h->s, h->id);
    sim_fail_later(h->s, TERN_ERR_BAD_CHECKSUM,
                   "host '%s' sent a frame with a wrong checksum: frame #%llu out of port %u "
                   "at t=%llu ns, %zu bytes: %s",
                   n ? n->name : "?", (unsigned long long)h->sent, iface,
                   (unsigned long long)h->s->now, len, why);
}

/*
 * Every frame leaves through here or host_frame_output: its checksums are
 * verified before a link sees it (frame_check.h), so a link's deliberate
 * corruption never counts against the host. A wrong one fails the
 * simulation run (FrameError in Python).
 */
static void host_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    host_state *h = ctx;
    h->sent++;
    char why[160];
    bool ok;
    sim_frame *f = NULL;
    if (len >= 1 && len <= SIM_MAX_FRAME) {
        /* Built in the stack's own buffer: the simulator copies it out, and checks it in the
         * same pass; the copy is handed over to the link. */
        f = sim_frame_alloc_raw(h->s, len);
    }
    if (f) {
        ok = sim_frame_check_copy(f->data, frame, len, why, sizeof why);
        h->s->frame_bytes_copied += len;
    } else {
        ok = sim_frame_check(frame, len, why, sizeof why);
    }
    if (!ok) {
        host_bad_frame(h, iface, len, why);
    }
    if (f) {
        sim_node_send_frame(h->s, h->id, iface, f);
    } else {
        /* a size sim_node_send refuses (and reports), or no memory for the copy */
        sim_node_send(h->s, h->id, iface, frame, len);
    }
}

/* The pool frame whose data is buf (a buffer host_frame_alloc lent). */
static sim_frame *lent_frame(uint8_t *buf) {
    return (sim_frame *)(void *)(buf - offsetof(sim_frame, data));
}

/*
 * The stack's frame_alloc (tern/stack.h): a pool frame's data, so that the
 * frame built in it travels as it is. NULL (the stack then uses output) for
 * more than the largest pool class.
 */
static uint8_t *host_frame_alloc(void *ctx, size_t cap) {
    host_state *h = ctx;
    if (cap > SIM_FRAME_DATA_MAX) {
        return NULL;
    }
    sim_frame *f = sim_frame_alloc_raw(h->s, cap);
    return f ? f->data : NULL;
}

/* The stack's frame_output: the frame at buf + offset, in a lent pool frame, is checked where it
 * lies (no copy) and enters the link as that frame. */
static void host_frame_output(void *ctx, uint32_t iface, uint8_t *buf, size_t offset, size_t len) {
    host_state *h = ctx;
    h->sent++;
    sim_frame *f = lent_frame(buf);
    f->bytes = f->data + offset;
    f->len = (uint32_t)len;
    char why[160];
    if (!sim_frame_check(f->bytes, len, why, sizeof why)) {
        host_bad_frame(h, iface, len, why);
    }
    /* sim_node_send_frame reports a size a link refuses, and frees the frame in every case. */
    sim_node_send_frame(h->s, h->id, iface, f);
}

/* The stack's frame_release: a lent pool frame comes back unused. */
static void host_frame_release(void *ctx, uint8_t *buf) {
    host_state *h = ctx;
    sim_frame_free(h->s, lent_frame(buf));
}

static void host_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    host_state *h = state;
    tern_stack_input(h->stack, now, port, frame, len);
    if (h->app) {
        h->app(h->app_ctx, h->stack, now);
    }
}

static void host_poll(void *state, uint64_t now) {
    host_state *h = state;
    tern_stack_poll(h->stack, now);
    if (h->app) {
        h->app(h->app_ctx, h->stack, now);
    }
}

static uint64_t host_poll_at(void *state) {
    host_state *h = state;
    return tern_stack_poll_at(h->stack);
}

static void host_destroy(void *state) {
    host_state *h = state;
    if (h->stack) {
        tern_stack_release_frame(h->stack); /* a lent pool frame, back before the pool goes */
    }
    if (h->mem_own) {
        free(h->mem);
    }
    free(h);
}

static const sim_node_ops host_ops = {host_input, host_poll, host_poll_at, host_destroy};

tern_err sim_host_add(sim *s, const char *name, const tern_stack_config *cfg, sim_node_id *out) {
    const char *who = name ? name : "";
    if (!cfg) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "host '%s': configuration must not be NULL",
                        who);
    }
    if (cfg->niface == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "host '%s' niface=0: a host needs at least one interface", who);
    }
    char msg[256];
    if (tern_stack_validate(cfg, msg, sizeof msg) != TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "host '%s' %s", who, msg);
    }
    host_state *h = calloc(1, sizeof *h);
    if (!h) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "host '%s': out of memory", who);
    }
    tern_stack_config c = *cfg;
    c.output = host_output;
    c.output_ctx = h;
    /* Frames built in pool frames leave without a copy (tern_frame_alloc_fn). */
    c.frame_alloc = host_frame_alloc;
    c.frame_output = host_frame_output;
    c.frame_release = host_frame_release;
    c.frame_ctx = h;
    size_t size = tern_stack_memory_size(&c);
#ifdef HOST_MEM_OWN
    /* AddressSanitizer guards each allocation: one per host keeps an overrun of an
     * instance from landing silently in the next one. */
    h->mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    h->mem_own = true;
#else
    h->mem = sim_host_arena_alloc(&s->host_mem, size);
#endif
    if (!h->mem) {
        free(h);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "host '%s': out of memory for %zu bytes", who, size);
    }
    tern_err err = tern_stack_init(h->mem, size, &c, &h->stack, msg, sizeof msg);
    if (err != TERN_OK) {
        host_destroy(h);
        return sim_fail(s, err, "host '%s' %s", who, msg);
    }
    h->s = s;
    err = sim_node_add(s, name, "tern-host", cfg->niface, &host_ops, h, &h->id);
    if (err != TERN_OK) {
        host_destroy(h);
        return err;
    }
    /* What an input or poll reads first of the instance (tern_stack's hot lines come first). */
    s->nodes[h->id].hot = (const uint8_t *)h->stack;
    *out = h->id;
    return TERN_OK;
}

tern_stack *sim_host_stack(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    if (!n || n->ops.input != host_input) {
        return NULL;
    }
    return ((host_state *)n->state)->stack;
}

tern_err sim_host_set_app(sim *s, sim_node_id node, sim_host_app_fn fn, void *ctx) {
    sim_node *n = sim_get_node(s, node);
    if (!n || n->ops.input != host_input) {
        return sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node id %u: not a host", node);
    }
    host_state *h = n->state;
    h->app = fn;
    h->app_ctx = ctx;
    return TERN_OK;
}
