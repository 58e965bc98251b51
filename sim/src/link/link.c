/*
 * Links: creation, configuration and counters. Every setter validates all of
 * its arguments before it changes anything, and names the parameter and the
 * value in its message (DESIGN.md §4, §7). The pipeline itself is in
 * link_pipeline.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"

static const char *const dir_names[] = {"a_to_b", "b_to_a", "both"};

/* Resolve (link, dir) into the range of directions [*lo, *hi]. */
static tern_err resolve(sim *s, sim_link_id link, sim_dir dir, bool allow_both, sim_link **l,
                        uint32_t *lo, uint32_t *hi) {
    *l = sim_get_link(s, link);
    if (!*l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    if (dir == SIM_DIR_A_TO_B || dir == SIM_DIR_B_TO_A) {
        *lo = *hi = (uint32_t)dir;
        return TERN_OK;
    }
    if (dir == SIM_DIR_BOTH && allow_both) {
        *lo = 0;
        *hi = 1;
        return TERN_OK;
    }
    return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link %u direction=%d: must be %s", link,
                    (int)dir,
                    allow_both ? "a_to_b (0), b_to_a (1) or both (2)" : "a_to_b (0) or b_to_a (1)");
}

/* "link 2 (a:0 -> b:1)" for messages. */
static const char *describe(sim *s, const sim_link *l, sim_dir dir, char *buf, size_t cap) {
    snprintf(buf, cap, "link %u (%s:%u <-> %s:%u) %s", l->id, s->nodes[l->node[0]].name, l->port[0],
             s->nodes[l->node[1]].name, l->port[1], dir_names[dir <= SIM_DIR_BOTH ? dir : 2]);
    return buf;
}

#define RESOLVE(allow_both)                                                                        \
    sim_link *l;                                                                                   \
    uint32_t lo = 0, hi = 0;                                                                       \
    char where[200];                                                                               \
    do {                                                                                           \
        tern_err rerr_ = resolve(s, link, dir, allow_both, &l, &lo, &hi);                          \
        if (rerr_ != TERN_OK) {                                                                    \
            return rerr_;                                                                          \
        }                                                                                          \
        describe(s, l, dir, where, sizeof where);                                                  \
    } while (0)

tern_err sim_link_add(sim *s, sim_node_id a, uint32_t port_a, sim_node_id b, uint32_t port_b,
                      sim_link_id *out) {
    sim_node_id ids[2] = {a, b};
    uint32_t ports[2] = {port_a, port_b};
    for (int i = 0; i < 2; i++) {
        sim_node *n = sim_get_node(s, ids[i]);
        if (!n) {
            return sim_fail(s, TERN_ERR_UNKNOWN_NODE, "link %s=%u: no such node", i ? "b" : "a",
                            ids[i]);
        }
        if (ports[i] >= n->nports) {
            return sim_fail(s, TERN_ERR_UNKNOWN_PORT, "link port_%s=%u: node '%s' has ports 0..%u",
                            i ? "b" : "a", ports[i], n->name, n->nports - 1);
        }
        if (n->port_dir[ports[i]]) {
            return sim_fail(s, TERN_ERR_PORT_IN_USE,
                            "link port_%s=%u: port %u of node '%s' already has link %u",
                            i ? "b" : "a", ports[i], ports[i], n->name,
                            (n->port_dir[ports[i]] - 1) >> 1);
        }
    }
    if (a == b && port_a == port_b) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link: port %u of node '%s' to itself",
                        port_a, s->nodes[a].name);
    }
    if (s->nlinks == s->links_cap) {
        uint32_t ncap = s->links_cap ? s->links_cap * 2 : 16;
        /* Aligned (sim_linkdir): realloc would not keep the alignment, so a new array. */
        sim_link *nl = aligned_alloc(_Alignof(sim_link), ncap * sizeof *nl);
        if (!nl) {
            return sim_fail(s, TERN_ERR_NO_MEMORY, "link: out of memory");
        }
        sim_dest *nd = realloc(s->dest, 2 * (size_t)ncap * sizeof *nd);
        if (!nd) {
            free(nl);
            return sim_fail(s, TERN_ERR_NO_MEMORY, "link: out of memory");
        }
        s->dest = nd;
        if (s->nlinks) {
            memcpy(nl, s->links, s->nlinks * sizeof *nl);
        }
        free(s->links);
        s->links = nl;
        s->links_cap = ncap;
    }
    sim_link *l = &s->links[s->nlinks];
    memset(l, 0, sizeof *l);
    l->id = s->nlinks;
    l->node[0] = a;
    l->node[1] = b;
    l->port[0] = port_a;
    l->port[1] = port_b;
    l->up = true;
    sim_linkdir_init(s, l, 0);
    sim_linkdir_init(s, l, 1);
    s->dest[l->id << 1 | 0] = (sim_dest){s->nodes[b].state, s->nodes[b].hot}; /* a->b: to b */
    s->dest[l->id << 1 | 1] = (sim_dest){s->nodes[a].state, s->nodes[a].hot};
    s->nodes[a].port_dir[port_a] = (l->id << 1 | 0) + 1; /* a sends into a->b */
    s->nodes[b].port_dir[port_b] = (l->id << 1 | 1) + 1;
    *out = s->nlinks++;
    sim_ok(s);
    return TERN_OK;
}

static tern_err check_prob(sim *s, const char *where, const char *param, double p) {
    if (!sim_is_probability(p)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s %s=%g: probability must be in [0, 1]",
                        where, param, p);
    }
    return TERN_OK;
}

tern_err sim_link_set_rate(sim *s, sim_link_id link, sim_dir dir, int64_t bits_per_sec) {
    RESOLVE(true);
    if (bits_per_sec <= 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s rate=%lld bit/s: must be > 0", where,
                        (long long)bits_per_sec);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].rate_bps = (uint64_t)bits_per_sec;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_clear_rate(sim *s, sim_link_id link, sim_dir dir) {
    RESOLVE(true);
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].rate_bps = 0;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_delay(sim *s, sim_link_id link, sim_dir dir, int64_t delay_ns,
                            int64_t jitter_ns, bool jitter_reorders) {
    RESOLVE(true);
    if (delay_ns < 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s delay=%lld ns: must be >= 0", where,
                        (long long)delay_ns);
    }
    if (jitter_ns < 0 || jitter_ns > delay_ns) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "%s jitter=%lld ns: must be >= 0 and at most delay=%lld ns", where,
                        (long long)jitter_ns, (long long)delay_ns);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].delay_ns = (uint64_t)delay_ns;
        l->d[d].jitter_ns = (uint64_t)jitter_ns;
        l->d[d].jitter_reorders = jitter_reorders;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_clear_loss(sim *s, sim_link_id link, sim_dir dir) {
    RESOLVE(true);
    for (uint32_t d = lo; d <= hi; d++) {
        sim_loss_init_none(&l->d[d].loss);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_loss_bernoulli(sim *s, sim_link_id link, sim_dir dir, double p) {
    RESOLVE(true);
    char msg[200];
    if (sim_loss_check_bernoulli(p, msg, sizeof msg) != TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s %s", where, msg);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        sim_loss_init_bernoulli(&l->d[d].loss, p);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_loss_gilbert_elliott(sim *s, sim_link_id link, sim_dir dir, double p,
                                           double r, double one_minus_h, double one_minus_k) {
    RESOLVE(true);
    char msg[200];
    if (sim_loss_check_gilbert_elliott(p, r, one_minus_h, one_minus_k, msg, sizeof msg) !=
        TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s %s", where, msg);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        sim_loss_init_gilbert_elliott(&l->d[d].loss, p, r, one_minus_h, one_minus_k);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_loss_markov4(sim *s, sim_link_id link, sim_dir dir, double p13, double p31,
                                   double p32, double p23, double p14) {
    RESOLVE(true);
    char msg[200];
    if (sim_loss_check_markov4(p13, p31, p32, p23, p14, msg, sizeof msg) != TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s %s", where, msg);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        sim_loss_init_markov4(&l->d[d].loss, p13, p31, p32, p23, p14);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_duplicate(sim *s, sim_link_id link, sim_dir dir, double p) {
    RESOLVE(true);
    tern_err err = check_prob(s, where, "duplicate", p);
    if (err != TERN_OK) {
        return err;
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].duplicate = sim_prob_from_double(p);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_corrupt(sim *s, sim_link_id link, sim_dir dir, double p) {
    RESOLVE(true);
    tern_err err = check_prob(s, where, "corrupt", p);
    if (err != TERN_OK) {
        return err;
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].corrupt = sim_prob_from_double(p);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_reorder(sim *s, sim_link_id link, sim_dir dir, double p) {
    RESOLVE(true);
    tern_err err = check_prob(s, where, "reorder", p);
    if (err != TERN_OK) {
        return err;
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].reorder = sim_prob_from_double(p);
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_queue_limit(sim *s, sim_link_id link, sim_dir dir, int64_t frames) {
    RESOLVE(true);
    if (frames < 0 || frames > (1ll << 32)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "%s queue_limit=%lld frames: must be 1..2^32 (0 for the default)", where,
                        (long long)frames);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].queue_limit = (uint64_t)frames;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_size_limit(sim *s, sim_link_id link, sim_dir dir, int64_t bytes) {
    RESOLVE(true);
    if (bytes < 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "%s size_limit=%lld bytes: must be >= 1 (0 for no limit)", where,
                        (long long)bytes);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].size_limit = (uint64_t)bytes;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_set_tbf(sim *s, sim_link_id link, sim_dir dir, const sim_tbf_params *p) {
    RESOLVE(true);
    if (!p) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s tbf: parameters must not be NULL", where);
    }
    char msg[200];
    if (sim_tbf_validate(p, msg, sizeof msg) != TERN_OK) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s %s", where, msg);
    }
    for (uint32_t d = lo; d <= hi; d++) {
        if (l->d[d].q_len) {
            return sim_fail(s, TERN_ERR_BAD_STATE,
                            "%s tbf: cannot replace the shaper while %llu frames are queued", where,
                            (unsigned long long)l->d[d].q_len);
        }
    }
    for (uint32_t d = lo; d <= hi; d++) {
        sim_tbf_init(&l->d[d].tbf, p, s->now);
        l->d[d].has_tbf = true;
        sim_linkdir_configured(&l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_clear_tbf(sim *s, sim_link_id link, sim_dir dir) {
    RESOLVE(true);
    for (uint32_t d = lo; d <= hi; d++) {
        l->d[d].has_tbf = false;
        sim_linkdir_configured(&l->d[d]);
        sim_linkdir_service(s, &l->d[d]);
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_get_counters(const sim *cs, sim_link_id link, sim_dir dir,
                               sim_link_counters *out) {
    sim *s = (sim *)cs; /* only the error message is written */
    RESOLVE(false);
    (void)hi;
    *out = sim_linkdir_counters(&l->d[lo]);
    return TERN_OK;
}

tern_err sim_link_endpoint(const sim *s, sim_link_id link, uint32_t side, sim_node_id *node,
                           uint32_t *port) {
    if (link >= s->nlinks) {
        return TERN_ERR_UNKNOWN_LINK;
    }
    if (side > 1) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    *node = s->links[link].node[side];
    *port = s->links[link].port[side];
    return TERN_OK;
}

/* ---- scripted faults (configuration; matching is in fault.c) ------------ */

static tern_err add_fault(sim *s, sim_link_id link, sim_dir dir, sim_fault *f, int64_t delay_ns,
                          uint32_t *id) {
    RESOLVE(false);
    (void)hi;
    if (f->action > SIM_FAULT_CORRUPT) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "%s fault action=%d: must be drop, delay, duplicate or corrupt", where,
                        (int)f->action);
    }
    if (f->action == SIM_FAULT_DELAY ? delay_ns < 0 : delay_ns != 0) {
        return sim_fail(
            s, TERN_ERR_INVALID_ARGUMENT, "%s fault delay=%lld ns: %s", where, (long long)delay_ns,
            f->action == SIM_FAULT_DELAY ? "must be >= 0" : "only a delay fault takes a delay");
    }
    f->delay_ns = (uint64_t)delay_ns;
    sim_linkdir *ld = &l->d[lo];
    if (ld->nfaults == ld->faults_cap) {
        uint32_t ncap = ld->faults_cap ? ld->faults_cap * 2 : 4;
        sim_fault *nf = realloc(ld->faults, ncap * sizeof *nf);
        if (!nf) {
            return sim_fail(s, TERN_ERR_NO_MEMORY, "%s fault: out of memory", where);
        }
        ld->faults = nf;
        ld->faults_cap = ncap;
    }
    f->id = ld->next_fault_id++;
    ld->faults[ld->nfaults++] = *f;
    sim_linkdir_configured(ld);
    if (id) {
        *id = f->id;
    }
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_fault_nth(sim *s, sim_link_id link, sim_dir dir, uint64_t n,
                            sim_fault_action action, int64_t delay_ns, uint32_t *id) {
    if (n == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link %u fault nth=0: frames count from 1",
                        link);
    }
    sim_fault f = {0};
    f.selector = FAULT_NTH;
    f.action = action;
    f.nth = n;
    return add_fault(s, link, dir, &f, delay_ns, id);
}

tern_err sim_link_fault_window(sim *s, sim_link_id link, sim_dir dir, uint64_t start_ns,
                               uint64_t end_ns, sim_fault_action action, int64_t delay_ns,
                               uint32_t *id) {
    if (end_ns <= start_ns) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "link %u fault window=[%llu, %llu) ns: end must be after start", link,
                        (unsigned long long)start_ns, (unsigned long long)end_ns);
    }
    sim_fault f = {0};
    f.selector = FAULT_WINDOW;
    f.action = action;
    f.start = start_ns;
    f.end = end_ns;
    return add_fault(s, link, dir, &f, delay_ns, id);
}

tern_err sim_link_fault_filter(sim *s, sim_link_id link, sim_dir dir, const char *bpf,
                               uint64_t count, sim_fault_action action, int64_t delay_ns,
                               uint32_t *id) {
    return sim_link_fault_filter_nth(s, link, dir, bpf, 1, count, action, delay_ns, id);
}

tern_err sim_link_fault_filter_nth(sim *s, sim_link_id link, sim_dir dir, const char *bpf,
                                   uint64_t nth, uint64_t count, sim_fault_action action,
                                   int64_t delay_ns, uint32_t *id) {
    if (nth == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "link %u fault nth=0: the first matching frame is 1", link);
    }
    if (count == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link %u fault count=0: must be >= 1", link);
    }
    if (!bpf) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link %u fault filter: must not be NULL",
                        link);
    }
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    char where[200];
    describe(s, l, dir, where, sizeof where);
    sim_fault f = {0};
    f.selector = FAULT_FILTER;
    f.action = action;
    f.remaining = count;
    f.skip = nth - 1;
    tern_err err = sim_fault_compile(s, where, bpf, &f.bpf);
    if (err != TERN_OK) {
        return err;
    }
    err = add_fault(s, link, dir, &f, delay_ns, id);
    if (err != TERN_OK) {
        sim_fault_free(&f);
    }
    return err;
}

tern_err sim_link_fault_hits(const sim *cs, sim_link_id link, sim_dir dir, uint32_t id,
                             uint64_t *hits) {
    sim *s = (sim *)cs; /* only the error message is written */
    RESOLVE(false);
    (void)hi;
    const sim_linkdir *ld = &l->d[lo];
    for (uint32_t i = 0; i < ld->nfaults; i++) {
        if (ld->faults[i].id == id) {
            *hits = ld->faults[i].hits;
            return TERN_OK;
        }
    }
    return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "%s fault id=%u: no such fault", where, id);
}
