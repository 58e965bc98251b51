/*
 * The scripted peer: a node whose frames come from outside the simulation
 * (a C caller or a Python test) and whose received frames wait in a bounded
 * queue until the outside takes them.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"

typedef struct peer_state {
    sim *s;
    sim_node_id id;
    sim_frame *head, *tail;
    size_t pending;
    size_t limit;
    uint64_t dropped;
} peer_state;

static void peer_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame, size_t len) {
    peer_state *p = state;
    if (p->pending >= p->limit) {
        p->dropped++;
        return;
    }
    /* The frame being delivered is kept by reference, not copied (frame_pool.c). */
    sim_frame *d = p->s->delivering;
    sim_frame *f = d && frame == d->bytes && len == d->len ? sim_frame_share(p->s, d)
                                                           : sim_frame_alloc(p->s, frame, len);
    if (!f) {
        p->dropped++;
        return;
    }
    f->time = now;
    f->port = port;
    if (p->tail) {
        p->tail->next = f;
    } else {
        p->head = f;
    }
    p->tail = f;
    p->pending++;
    p->s->peer_rx_flag = true;
}

static const sim_node_ops peer_ops = {peer_input, NULL, NULL, NULL};

void sim_peer_destroy_state(sim *s, void *state) {
    peer_state *p = state;
    while (p->head) {
        sim_frame *next = p->head->next;
        sim_frame_free(s, p->head);
        p->head = next;
    }
    free(p);
}

tern_err sim_peer_add(sim *s, const char *name, uint32_t nports, uint32_t rx_limit,
                      sim_node_id *out) {
    if (rx_limit > (1u << 24)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "peer '%s' rx_limit=%u: at most %u",
                        name ? name : "", rx_limit, 1u << 24);
    }
    peer_state *p = calloc(1, sizeof *p);
    if (!p) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "peer: out of memory");
    }
    p->s = s;
    p->limit = rx_limit ? rx_limit : 65536;
    tern_err err = sim_node_add(s, name, "peer", nports, &peer_ops, p, &p->id);
    if (err != TERN_OK) {
        free(p);
        return err;
    }
    s->nodes[p->id].type = NODE_PEER;
    *out = p->id;
    return TERN_OK;
}

static peer_state *get_peer(sim *s, sim_node_id id, tern_err *err) {
    sim_node *n = sim_get_node(s, id);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "node id %u: no such node", id);
        return NULL;
    }
    if (n->type != NODE_PEER) {
        *err = sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is a %s, not a peer", n->name, n->kind);
        return NULL;
    }
    return n->state;
}

tern_err sim_peer_send(sim *s, sim_node_id peer, uint32_t port, const uint8_t *frame, size_t len) {
    tern_err err = TERN_OK;
    if (!get_peer(s, peer, &err)) {
        return err;
    }
    return sim_node_send(s, peer, port, frame, len);
}

size_t sim_peer_pending(const sim *s, sim_node_id peer) {
    if (peer >= s->nnodes || s->nodes[peer].type != NODE_PEER) {
        return 0;
    }
    return ((peer_state *)s->nodes[peer].state)->pending;
}

uint64_t sim_peer_rx_dropped(const sim *s, sim_node_id peer) {
    if (peer >= s->nnodes || s->nodes[peer].type != NODE_PEER) {
        return 0;
    }
    return ((peer_state *)s->nodes[peer].state)->dropped;
}

tern_err sim_peer_recv(sim *s, sim_node_id peer, uint8_t *buf, size_t cap, size_t *len,
                       uint32_t *port, uint64_t *time) {
    tern_err err = TERN_OK;
    peer_state *p = get_peer(s, peer, &err);
    if (!p) {
        return err;
    }
    sim_frame *f = p->head;
    if (!f) {
        return TERN_ERR_EMPTY;
    }
    *len = f->len;
    if (cap < f->len) {
        return sim_fail(s, TERN_ERR_BUFFER_TOO_SMALL, "peer recv cap=%zu: frame is %u bytes", cap,
                        f->len);
    }
    memcpy(buf, f->bytes, f->len);
    if (port) {
        *port = f->port;
    }
    if (time) {
        *time = f->time;
    }
    p->head = f->next;
    if (!p->head) {
        p->tail = NULL;
    }
    p->pending--;
    sim_frame_free(s, f);
    return TERN_OK;
}
