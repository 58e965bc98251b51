/*
 * The simulation: virtual clock, run loop, nodes and error messages.
 *
 * Time only moves forward, and only here (DESIGN.md §2): sim_run pops the
 * earliest event, sets the clock to its time and dispatches it. Nodes are
 * driven by deadlines: after every input and poll the simulator asks the node
 * for its next deadline and keeps exactly one live poll event per node
 * (older ones are recognised as stale by their generation).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Other nodes a flood error names besides the one over the limit. */
#define SIM_FLOOD_LIST 3

tern_err sim_fail(sim *s, tern_err code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return code;
}

void sim_fail_later(sim *s, tern_err code, const char *fmt, ...) {
    if (s->pending != TERN_OK) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->pending = code;
}

void sim_ok(sim *s) {
    s->err[0] = '\0';
}

static void queue_full(sim *s) {
    /* Losing an event would silently break determinism; there is no way
     * to continue a simulation that cannot hold its own future. */
    fprintf(stderr, "tern sim: out of memory growing the event queue (%zu events)\n",
            sim_eq_len(&s->q));
    abort();
}

/* ---- delivery FIFOs ------------------------------------------------------
 *
 * Frames on one link direction mostly arrive in the order they leave. Such a frame does not get
 * an event of its own: it joins the direction's delivery FIFO with its arrival time and the
 * insertion sequence an event would have had (reserved from the queue), and only the FIFO's head
 * is in the queue. When the head has been delivered, the next frame runs at once if it comes
 * before every pending event (sim_run), else it enters the queue with its reserved sequence:
 * either way the events run in exactly the order one event per frame gave, ties included. A
 * frame that would overtake the FIFO's last one (reordering, jitter that reorders, a scripted
 * delay) gets an event of its own, as before.
 */

static sim_linkdir *linkdir_of(sim *s, uint32_t target) {
    return &s->links[target >> 1].d[target & 1];
}

static void queue_head(sim *s, sim_linkdir *ld, uint32_t target) {
    sim_frame *h = ld->dq_head;
    /* The head rides along as the event's ptr: a hint for prefetch_next only (deliver_head takes
     * the direction's head, which it is). */
    if (!sim_eq_push_seq(&s->q, h->deliver_at, h->deliver_seq, EV_LINK_FIFO, target, 0, h)) {
        queue_full(s);
    }
    ld->head_queued = true;
}

/*
 * Before the queue renumbers its pending events, every sequence held outside it must be in it:
 * the FIFOs' frames (but a head already queued) become events of their own.
 */
static void sequences_home(sim *s) {
    for (uint32_t i = 0; i < s->nlinks; i++) {
        for (uint32_t d = 0; d < 2; d++) {
            sim_linkdir *ld = &s->links[i].d[d];
            sim_frame *f = ld->dq_head;
            if (f && ld->head_queued) {
                f = f->next;
                ld->dq_head->next = NULL;
                ld->dq_tail = ld->dq_head;
            } else {
                ld->dq_head = ld->dq_tail = NULL;
            }
            while (f) {
                sim_frame *next = f->next;
                f->next = NULL;
                if (!sim_eq_push_seq(&s->q, f->deliver_at, f->deliver_seq, EV_LINK_DELIVER,
                                     (i << 1) | d, 0, f)) {
                    queue_full(s);
                }
                f = next;
            }
        }
    }
    sim_eq_renumber(&s->q);
}

void sim_schedule(sim *s, uint64_t time, uint32_t kind, uint32_t target, uint64_t arg, void *ptr) {
    assert(time >= s->now);
    if (sim_eq_seq_exhausted(&s->q)) {
        sequences_home(s);
    }
    if (!sim_eq_push(&s->q, time, kind, target, arg, ptr)) {
        queue_full(s);
    }
}

void sim_schedule_delivery(sim *s, sim_linkdir *ld, sim_frame *f, uint64_t arrival) {
    assert(arrival >= s->now);
    uint32_t target = ld->target;
    if (ld->dq_tail && arrival < ld->dq_tail->deliver_at) {
        sim_schedule(s, arrival, EV_LINK_DELIVER, target, 0, f); /* it overtakes the FIFO */
        return;
    }
    if (sim_eq_seq_exhausted(&s->q)) {
        sequences_home(s);
    }
    f->deliver_at = arrival;
    f->deliver_seq = sim_eq_reserve_seq(&s->q);
    f->next = NULL;
    if (ld->dq_tail) {
        ld->dq_tail->next = f;
        ld->dq_tail = f;
        return;
    }
    ld->dq_head = ld->dq_tail = f;
    /* The FIFO was empty: its new head enters the queue now (as an event per frame would). */
    queue_head(s, ld, target);
}

/* Deliver the head of a direction's FIFO (its event was just taken, or it runs directly). */
static void deliver_head(sim *s, uint32_t target) {
    sim_linkdir *ld = linkdir_of(s, target);
    sim_frame *f = ld->dq_head;
    ld->dq_head = f->next;
    if (!ld->dq_head) {
        ld->dq_tail = NULL;
    } else {
        /* The frame behind it is the next one after_head reads (its time), and mostly the next
         * one delivered: asked for now, its header and its first bytes (where a host builds
         * them; frame_pool.c) arrive while this frame is delivered. With thousands of hosts they
         * are misses, each on the run loop's one chain of loads (issue 19). */
        __builtin_prefetch(ld->dq_head);
        __builtin_prefetch((const uint8_t *)ld->dq_head + SIM_FRAME_ALIGN);
    }
    ld->head_queued = false;
    f->next = NULL;
    s->fifo_open = target;
    sim_linkdir_deliver(s, ld, f);
    s->fifo_open = UINT32_MAX;
}

/*
 * After a FIFO's head was delivered: the direction whose next frame runs next, directly (it
 * comes before every pending event and by `until`), or UINT32_MAX, with that frame queued if the
 * FIFO holds one whose event is not in the queue.
 */
static uint32_t after_head(sim *s, uint32_t target, uint64_t until) {
    sim_linkdir *ld = linkdir_of(s, target); /* again: the input may have added links */
    sim_frame *h = ld->dq_head;
    if (!h || ld->head_queued) {
        return UINT32_MAX;
    }
    if (h->deliver_at <= until && sim_eq_before(&s->q, h->deliver_at, h->deliver_seq)) {
        return target;
    }
    queue_head(s, ld, target);
    return UINT32_MAX;
}

tern_err sim_create(uint64_t seed, sim **out) {
    sim *s = calloc(1, sizeof *s);
    if (!s) {
        return TERN_ERR_NO_MEMORY;
    }
    s->seed = seed;
    s->fifo_open = UINT32_MAX;
    sim_eq_init(&s->q);
    *out = s;
    return TERN_OK;
}

void sim_destroy(sim *s) {
    if (!s) {
        return;
    }
    /* Frames in flight are owned by their delivery events. */
    sim_event ev;
    while (sim_eq_pop(&s->q, &ev)) {
        if (ev.kind == EV_LINK_DELIVER) {
            sim_frame_free(s, ev.ptr);
        }
    }
    sim_eq_free(&s->q);
    for (uint32_t i = 0; i < s->nlinks; i++) {
        sim_capture_close_link(&s->links[i]);
        sim_linkdir_destroy(s, &s->links[i].d[0]);
        sim_linkdir_destroy(s, &s->links[i].d[1]);
    }
    for (uint32_t i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        if (n->type == NODE_PEER) {
            sim_peer_destroy_state(s, n->state);
        } else if (n->type == NODE_SWITCH) {
            sim_switch_destroy_state(n->state);
        } else if (n->ops.destroy) {
            n->ops.destroy(n->state);
        }
        if (n->port_dir != n->port_inline) {
            free(n->port_dir);
        }
    }
    free(s->nodes);
    sim_node_names_free(&s->names);
    free(s->links);
    free(s->dest);
    sim_frame_pool_destroy(&s->pool);
    sim_host_arena_destroy(&s->host_mem);
    free(s);
}

const char *sim_last_error(const sim *s) {
    return s->err;
}

uint64_t sim_now(const sim *s) {
    return s->now;
}

uint64_t sim_seed(const sim *s) {
    return s->seed;
}

uint64_t sim_next_event_time(sim *s) {
    uint64_t t = sim_eq_peek_time(&s->q);
    /* Asked from a callback while a FIFO's head is delivered: the frame behind it is not queued. */
    if (s->fifo_open != UINT32_MAX) {
        const sim_linkdir *ld = &s->links[s->fifo_open >> 1].d[s->fifo_open & 1];
        if (ld->dq_head && !ld->head_queued && ld->dq_head->deliver_at < t) {
            t = ld->dq_head->deliver_at;
        }
    }
    return t == UINT64_MAX ? SIM_NEVER : t;
}

uint64_t sim_events_processed(const sim *s) {
    return s->events;
}

/* ---- nodes ------------------------------------------------------------- */

sim_node *sim_get_node(sim *s, sim_node_id id) {
    return id < s->nnodes ? &s->nodes[id] : NULL;
}

sim_link *sim_get_link(sim *s, sim_link_id id) {
    return id < s->nlinks ? &s->links[id] : NULL;
}

/* Node id's name, for the index of names (node_names.h). */
static const char *node_name_of(const void *ctx, uint32_t id) {
    return ((const sim *)ctx)->nodes[id].name;
}

tern_err sim_node_add(sim *s, const char *name, const char *kind, uint32_t nports,
                      const sim_node_ops *ops, void *state, sim_node_id *out) {
    if (!name || !*name) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node name: must not be empty");
    }
    if (strlen(name) >= sizeof s->nodes[0].name) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node name '%.80s...': longer than %zu bytes",
                        name, sizeof s->nodes[0].name - 1);
    }
    sim_node_id existing;
    if (sim_node_find(s, name, &existing) == TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node name '%s': already used by node %u",
                        name, existing);
    }
    if (nports < 1 || nports > 1024) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node '%s' ports=%u: must be 1..1024", name,
                        nports);
    }
    if (!ops) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "node '%s': ops must not be NULL", name);
    }
    if (!sim_node_names_reserve(&s->names, s->nnodes + 1, node_name_of, s)) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "node '%s': out of memory", name);
    }
    if (s->nnodes == s->nodes_cap) {
        uint32_t ncap = s->nodes_cap ? s->nodes_cap * 2 : 16;
        /* Aligned (sim_node): realloc would not keep the alignment, so a new array. */
        sim_node *nn = aligned_alloc(_Alignof(sim_node), ncap * sizeof *nn);
        if (!nn) {
            return sim_fail(s, TERN_ERR_NO_MEMORY, "node '%s': out of memory", name);
        }
        if (s->nnodes) {
            memcpy(nn, s->nodes, s->nnodes * sizeof *nn);
        }
        /* Ports kept inside a node moved with it. */
        for (uint32_t i = 0; i < s->nnodes; i++) {
            if (nn[i].nports <= SIM_NODE_PORTS_INLINE) {
                nn[i].port_dir = nn[i].port_inline;
            }
        }
        free(s->nodes);
        s->nodes = nn;
        s->nodes_cap = ncap;
    }
    uint32_t *ports = NULL;
    if (nports > SIM_NODE_PORTS_INLINE) {
        ports = calloc(nports, sizeof *ports);
        if (!ports) {
            return sim_fail(s, TERN_ERR_NO_MEMORY, "node '%s': out of memory", name);
        }
    }
    sim_node *n = &s->nodes[s->nnodes];
    memset(n, 0, sizeof *n);
    if (!ports) {
        ports = n->port_inline;
    }
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->kind, sizeof n->kind, "%s", kind ? kind : "node");
    n->type = NODE_GENERIC;
    n->nports = nports;
    n->port_dir = ports;
    n->ops = *ops;
    n->state = state;
    n->scheduled_at = SIM_NEVER;
    n->idle_time = SIM_NEVER;
    *out = s->nnodes++;
    sim_node_names_put(&s->names, *out, node_name_of, s);
    sim_node_reschedule(s, n);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_node_find(const sim *s, const char *name, sim_node_id *out) {
    return name && sim_node_names_find(&s->names, name, node_name_of, s, out)
               ? TERN_OK
               : TERN_ERR_UNKNOWN_NODE;
}

const char *sim_node_name(const sim *s, sim_node_id node) {
    return node < s->nnodes ? s->nodes[node].name : NULL;
}

void *sim_node_state(const sim *s, sim_node_id node) {
    return node < s->nnodes ? s->nodes[node].state : NULL;
}

tern_err sim_node_get_counters(const sim *s, sim_node_id node, sim_node_counters *out) {
    if (node >= s->nnodes) {
        return TERN_ERR_UNKNOWN_NODE;
    }
    *out = s->nodes[node].c;
    return TERN_OK;
}

void sim_node_reschedule(sim *s, sim_node *n) {
    uint64_t t = n->ops.poll_at ? n->ops.poll_at(n->state) : SIM_NEVER;
    if (t < s->now) {
        t = s->now;
    }
    if (t == n->scheduled_at) {
        return;
    }
    /* A later deadline keeps the earlier wake-up already queued: when it
     * fires, the node is polled (finding nothing due) and rescheduled. Only
     * an earlier deadline queues a new event. Otherwise every re-armed timer
     * (an RTO pushed back by each ACK) would leave a stale event behind, and
     * a bulk transfer would fill the queue with them. */
    if (t > n->scheduled_at) {
        return;
    }
    n->gen++;
    n->scheduled_at = t;
    if (t != SIM_NEVER) {
        sim_schedule(s, t, EV_NODE_POLL, (uint32_t)(n - s->nodes), n->gen, NULL);
    }
}

tern_err sim_node_wake(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        return sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node id %u: no such node", node);
    }
    sim_node_reschedule(s, n);
    return TERN_OK;
}

/*
 * What sim_node_send and sim_node_send_frame check and count before a frame
 * enters a link. Returns the link direction it enters, or NULL when the port
 * has no link (counted) or on an error (*err set).
 */
static sim_linkdir *send_prepare(sim *s, sim_node_id node, uint32_t port, size_t len,
                                 tern_err *err) {
    *err = TERN_OK;
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node id %u: no such node", node);
        return NULL;
    }
    if (port >= n->nports) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_PORT, "node '%s' port=%u: it has ports 0..%u", n->name,
                        port, n->nports - 1);
        return NULL;
    }
    if (len == 0 || len > SIM_MAX_FRAME) {
        *err = sim_fail(s, TERN_ERR_FRAME_SIZE, "node '%s' frame length=%zu: must be 1..%d",
                        n->name, len, SIM_MAX_FRAME);
        return NULL;
    }
    /* Livelock guard, second half (DESIGN.md §7): a bounded number of
     * frames per node and instant. */
    if (n->burst_time != s->now) {
        n->burst_time = s->now;
        n->burst_frames = 0;
    }
    if (n->burst_frames >= SIM_LIVELOCK_FRAMES) {
        if (s->running && !s->flooded) {
            s->flooded = true;
            s->flood_node = node;
        }
        *err = sim_fail(s, TERN_ERR_LIVELOCK,
                        "livelock: node '%s' (%s) sent more than %u frames at t=%llu ns", n->name,
                        n->kind, (unsigned)SIM_LIVELOCK_FRAMES, (unsigned long long)s->now);
        return NULL;
    }
    n->burst_frames++;
    if (n->burst_frames > n->c.max_burst_frames) {
        n->c.max_burst_frames = n->burst_frames;
    }
    n->progressed = true;
    n->c.tx_frames++;
    n->c.tx_bytes += len;
    if (!n->port_dir[port]) {
        n->c.tx_no_link++;
        return NULL;
    }
    return linkdir_of(s, n->port_dir[port] - 1);
}

static sim_frame *frame_or_die(sim_frame *f, size_t len) {
    if (!f) {
        /* A frame silently vanishing would be a lie in the counters. */
        fprintf(stderr, "tern sim: out of memory for a %zu-byte frame\n", len);
        abort();
    }
    return f;
}

tern_err sim_node_send(sim *s, sim_node_id node, uint32_t port, const uint8_t *frame, size_t len) {
    tern_err err;
    sim_linkdir *ld = send_prepare(s, node, port, len, &err);
    if (!ld) {
        return err;
    }
    /* A node sending on the very bytes it is being handed (a switch forwarding
     * or flooding a frame) shares them instead of copying: they cannot change
     * while shared (frame_pool.c). */
    sim_frame *d = s->delivering;
    sim_frame *f;
    if (d && frame == d->bytes && len == d->len) {
        if (!s->delivering_moved && ld->plain && ld->quiet) {
            /* The first such send takes the delivered frame itself on (its delivery then does
             * not free it) instead of a new frame sharing its bytes: one frame header fewer to
             * write, and none whose free reads the bytes' owner, a line elsewhere, when the
             * frame arrives (issue 19: a switch forwards every frame of a large simulation).
             * Only into a plain, quiet direction: there the frame goes straight to its delivery
             * (sim_linkdir_enter), never dropped, changed or freed while the node still reads
             * its bytes. Later sends of the same bytes share them, as before. */
            s->delivering_moved = true;
            f = sim_frame_reuse(d);
        } else {
            f = sim_frame_share(s, d);
        }
    } else {
        f = sim_frame_alloc(s, frame, len);
    }
    sim_linkdir_enter(s, ld, frame_or_die(f, len));
    return TERN_OK;
}

tern_err sim_node_send_frame(sim *s, sim_node_id node, uint32_t port, sim_frame *f) {
    tern_err err;
    sim_linkdir *ld = send_prepare(s, node, port, f->len, &err);
    if (!ld) {
        sim_frame_free(s, f);
        return err;
    }
    sim_linkdir_enter(s, ld, f);
    return TERN_OK;
}

/* ---- the run loop ------------------------------------------------------ */

static tern_err poll_node(sim *s, sim_node_id id, uint64_t gen) {
    sim_node *n = &s->nodes[id];
    if (gen != n->gen) {
        return TERN_OK; /* stale: the node was rescheduled since */
    }
    n->scheduled_at = SIM_NEVER;
    n->progressed = false;
    n->c.polls++;
    if (n->ops.poll) {
        sim_node_prefetch_out(s, n);
        n->ops.poll(n->state, s->now);
    }
    sim_node_reschedule(s, n);
    /* Livelock guard (DESIGN.md §2): asking to run at this same instant again
     * is fine while the node makes progress (sends or receives frames); many
     * times in a row without progress means it will never stop asking. */
    if (n->scheduled_at == s->now && !n->progressed) {
        if (n->idle_time == s->now) {
            n->idle_polls++;
        } else {
            n->idle_time = s->now;
            n->idle_polls = 1;
        }
        if (n->idle_polls >= SIM_LIVELOCK_POLLS) {
            n->idle_polls = 0;
            return sim_fail(s, TERN_ERR_LIVELOCK,
                            "livelock: node '%s' (%s) asked to run again at t=%llu ns %u times "
                            "without sending or receiving a frame",
                            n->name, n->kind, (unsigned long long)s->now, SIM_LIVELOCK_POLLS);
        }
    } else {
        n->idle_polls = 0;
    }
    return TERN_OK;
}

static void set_link_state(sim *s, sim_link *l, bool up) {
    (void)s;
    l->up = up;
    sim_link_watched(l);
}

static tern_err dispatch(sim *s, const sim_event *ev) {
    switch (ev->kind) {
    case EV_NODE_POLL:
        return poll_node(s, ev->target, ev->arg);
    case EV_LINK_SERVICE: {
        sim_linkdir *ld = &s->links[ev->target >> 1].d[ev->target & 1];
        if (ld->wake_at == ev->time) {
            ld->wake_at = SIM_NEVER;
            sim_linkdir_service(s, ld);
        }
        return TERN_OK;
    }
    case EV_LINK_DELIVER:
        sim_linkdir_deliver(s, &s->links[ev->target >> 1].d[ev->target & 1], ev->ptr);
        return TERN_OK;
    case EV_LINK_FIFO:
        deliver_head(s, ev->target);
        return TERN_OK;
    case EV_LINK_STATE:
        set_link_state(s, &s->links[ev->target], ev->arg != 0);
        return TERN_OK;
    default:
        return TERN_OK;
    }
}

/*
 * The error of a node that went over SIM_LIVELOCK_FRAMES: it, and the nodes
 * that sent most at this instant besides (a switch between two hosts that
 * answer each other reaches the limit first; the hosts are the cause).
 */
static tern_err flood_error(sim *s) {
    const sim_node *n = &s->nodes[s->flood_node];
    char others[256] = "";
    size_t len = 0;
    uint32_t pick[SIM_FLOOD_LIST];
    uint32_t npick = 0;
    for (; npick < SIM_FLOOD_LIST; npick++) { /* the busiest others, most first, ties by id */
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < s->nnodes; i++) {
            const sim_node *m = &s->nodes[i];
            bool taken = i == s->flood_node;
            for (uint32_t k = 0; k < npick; k++) {
                taken = taken || pick[k] == i;
            }
            if (taken || m->burst_time != s->now || m->burst_frames == 0) {
                continue;
            }
            if (best == UINT32_MAX || m->burst_frames > s->nodes[best].burst_frames) {
                best = i;
            }
        }
        if (best == UINT32_MAX) {
            break;
        }
        pick[npick] = best;
    }
    for (uint32_t k = 0; k < npick && len < sizeof others; k++) {
        const sim_node *m = &s->nodes[pick[k]];
        int w = snprintf(others + len, sizeof others - len, "%s'%s' %llu",
                         k ? ", " : "; also at this instant: ", m->name,
                         (unsigned long long)m->burst_frames);
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    return sim_fail(s, TERN_ERR_LIVELOCK,
                    "livelock: node '%s' (%s) sent more than %u frames at t=%llu ns "
                    "(SIM_LIVELOCK_FRAMES; the frames beyond were not sent)%s",
                    n->name, n->kind, (unsigned)SIM_LIVELOCK_FRAMES, (unsigned long long)s->now,
                    others);
}

/*
 * The first line the event after this one reads (its link direction, or its node), asked for
 * before this one runs: with thousands of hosts it is a miss that would start only when that
 * event is taken, at the head of its chain of loads (issue 19). One level only: what that line
 * points at would have to wait for it.
 */
static void prefetch_next(const sim *s) {
    const sim_eq_payload *p = sim_eq_next_hint(&s->q);
    if (!p) {
        return;
    }
    const void *line = NULL;
    if (p->kind == EV_LINK_FIFO) {
        line = &s->links[p->target >> 1].d[p->target & 1];
        __builtin_prefetch(p->ptr); /* the head frame (queue_head) */
        const sim_dest *d = &s->dest[p->target];
        __builtin_prefetch(d->state);
        if (d->hot) {
            __builtin_prefetch(d->hot);
            __builtin_prefetch(d->hot + 64);
            __builtin_prefetch(d->hot + 128);
        }
    } else if (p->kind == EV_NODE_POLL && p->target < s->nnodes) {
        line = &s->nodes[p->target];
    }
    if (line) {
        __builtin_prefetch(line);
        /* GCC drops a call whose only effect is a prefetch; this keeps it. */
        __asm__ volatile("" ::"r"(line));
    }
}

tern_err sim_run(sim *s, uint64_t until, unsigned flags, sim_stop *why) {
    if (until < s->now) {
        return sim_fail(s, TERN_ERR_TIME_BACKWARDS, "run until=%llu ns: before now=%llu ns",
                        (unsigned long long)until, (unsigned long long)s->now);
    }
    s->peer_rx_flag = false;
    s->running = true;
    sim_event ev;
    uint32_t direct = UINT32_MAX; /* a FIFO whose head runs next without the queue */
    for (;;) {
        if (direct != UINT32_MAX) {
            ev.kind = EV_LINK_FIFO;
            ev.target = direct;
            ev.time = linkdir_of(s, direct)->dq_head->deliver_at;
        } else if (!(sim_eq_peek_time(&s->q) <= until && sim_eq_pop(&s->q, &ev))) {
            break;
        } else {
            prefetch_next(s);
        }
        assert(ev.time >= s->now); /* time never goes backwards */
        s->now = ev.time;
        s->events++;
        tern_err err = dispatch(s, &ev);
        direct = ev.kind == EV_LINK_FIFO ? after_head(s, ev.target, until) : UINT32_MAX;
        if (direct != UINT32_MAX && (err != TERN_OK || s->flooded || s->pending != TERN_OK ||
                                     ((flags & SIM_RUN_STOP_ON_PEER_RX) && s->peer_rx_flag))) {
            /* sim_run returns below: the next frame waits in the queue like every other event. */
            queue_head(s, linkdir_of(s, direct), direct);
            direct = UINT32_MAX;
        }
        if (err == TERN_OK && s->flooded) {
            /* A node's own callbacks ignore what sim_node_send returns: the
             * run stops here instead, with the message naming the node. */
            s->flooded = false;
            err = flood_error(s);
        }
        if (err == TERN_OK && s->pending != TERN_OK) {
            err = s->pending; /* a node's callback failed (its message is in s->err) */
        }
        if (err != TERN_OK) {
            s->pending = TERN_OK;
            s->running = false;
            return err;
        }
        if ((flags & SIM_RUN_STOP_ON_PEER_RX) && s->peer_rx_flag) {
            s->running = false;
            if (why) {
                *why = SIM_STOP_PEER_RX;
            }
            sim_ok(s);
            return TERN_OK;
        }
    }
    s->running = false;
    if (until != SIM_NEVER) {
        s->now = until;
    }
    if (why) {
        *why = SIM_STOP_TIME;
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_up(sim *s, sim_link_id link, bool up) {
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    set_link_state(s, l, up);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_schedule_state(sim *s, sim_link_id link, uint64_t at, bool up) {
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    if (at < s->now) {
        return sim_fail(s, TERN_ERR_TIME_BACKWARDS,
                        "link %u state change at=%llu ns: before now=%llu ns", link,
                        (unsigned long long)at, (unsigned long long)s->now);
    }
    sim_schedule(s, at, EV_LINK_STATE, link, up ? 1 : 0, NULL);
    sim_ok(s);
    return TERN_OK;
}
