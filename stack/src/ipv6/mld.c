/* The MLDv2 listener of one interface, RFC 3810 (see ipv6/mld.h). */
#include "ipv6/mld.h"

#include <string.h>

#define MS 1000000ull
#define QSRC_GROUP 0xff /* nqsources: the pending answer is for the whole group */

static const uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t all_routers[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t all_mldv2_routers[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                              0,    0,    0, 0, 0, 0, 0, 0x16};

void tern_mld_init(struct tern_mld *m, uint64_t (*rand_below)(void *ctx, uint64_t n),
                   void *rand_ctx) {
    memset(m, 0, sizeof *m);
    m->general_at = TERN_MLD_NEVER;
    m->robustness = TERN_MLD_ROBUSTNESS;
    m->uri_ns = TERN_MLD_URI_NS;
    m->rand_below = rand_below;
    m->rand_ctx = rand_ctx;
}

bool tern_mld_reportable(const tern_addr *group) {
    unsigned scope = group->bytes[1] & 0x0f;
    if (scope == 0 || scope == 1) {
        return false;
    }
    return memcmp(group->bytes, all_nodes, 16) != 0;
}

static bool v1_mode(const struct tern_mld *m, uint64_t now) {
    return m->v1_until != 0 && now < m->v1_until;
}

static struct tern_mld_group *find(struct tern_mld *m, const tern_addr *group) {
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        if (m->g[i].in_use && memcmp(m->g[i].group.bytes, group->bytes, 16) == 0) {
            return &m->g[i];
        }
    }
    return NULL;
}

/* A delay in the open interval (0, max) (RFC 3810 sections 6.1 and 6.2);
 * 0 when the interval holds no nanosecond. */
static uint64_t open_delay(struct tern_mld *m, uint64_t max) {
    if (max <= 1) {
        return 0;
    }
    return 1 + m->rand_below(m->rand_ctx, max - 1);
}

/* Start the reports of a state change (join or leave) at once. */
static void state_change(struct tern_mld *m, struct tern_mld_group *g, uint64_t now, uint8_t type) {
    g->change_type = type;
    g->change_left = m->robustness;
    g->change_at = now;
}

bool tern_mld_join(struct tern_mld *m, uint64_t now, const tern_addr *group) {
    struct tern_mld_group *g = find(m, group);
    if (g != NULL && g->refs > 0) {
        if (g->refs < UINT8_MAX) {
            g->refs++;
        }
        return true;
    }
    if (g == NULL) {
        for (size_t i = 0; i < TERN_MLD_MAX_GROUPS && g == NULL; i++) {
            if (!m->g[i].in_use) {
                g = &m->g[i];
            }
        }
        if (g == NULL) {
            m->groups_full++;
            return false;
        }
        memset(g, 0, sizeof *g);
        g->in_use = true;
        g->group = *group;
        g->query_at = TERN_MLD_NEVER;
        g->change_at = TERN_MLD_NEVER;
    }
    g->refs = 1;
    if (tern_mld_reportable(group)) {
        /* RFC 3810 section 6.1: INCLUDE {} -> EXCLUDE {} is reported as
         * CHANGE_TO_EXCLUDE_MODE {}, "immediately". */
        state_change(m, g, now, TERN_MLD_CHANGE_TO_EXCLUDE);
    }
    return true;
}

bool tern_mld_join_silent(struct tern_mld *m, const tern_addr *group) {
    if (!tern_mld_join(m, 0, group)) {
        return false;
    }
    struct tern_mld_group *g = find(m, group);
    if (g != NULL && g->refs == 1) {
        g->change_left = 0;
        g->change_at = TERN_MLD_NEVER;
    }
    return true;
}

bool tern_mld_leave(struct tern_mld *m, uint64_t now, const tern_addr *group) {
    struct tern_mld_group *g = find(m, group);
    if (g == NULL || g->refs == 0) {
        return false;
    }
    if (--g->refs > 0) {
        return true;
    }
    g->query_at = TERN_MLD_NEVER;
    if (!tern_mld_reportable(group) || (v1_mode(m, now) && !g->v1_last)) {
        /* Nothing to tell: RFC 2710 section 4 lets a listener whose last
         * report was suppressed leave silently. */
        g->in_use = false;
        return true;
    }
    state_change(m, g, now, TERN_MLD_CHANGE_TO_INCLUDE);
    if (v1_mode(m, now)) {
        g->change_left = 1; /* one Done (RFC 2710 section 4) */
    }
    return true;
}

bool tern_mld_is_member(const struct tern_mld *m, const tern_addr *group) {
    if (memcmp(group->bytes, all_nodes, 16) == 0) {
        return true; /* RFC 3810 section 6: joined at initialisation, never left */
    }
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        if (m->g[i].in_use && m->g[i].refs > 0 &&
            memcmp(m->g[i].group.bytes, group->bytes, 16) == 0) {
            return true;
        }
    }
    return false;
}

/* RFC 3810 section 8.2.1: entering MLDv1 mode cancels what is pending. */
static void enter_v1(struct tern_mld *m, uint64_t now) {
    if (!v1_mode(m, now)) {
        m->general_at = TERN_MLD_NEVER;
        for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
            struct tern_mld_group *g = &m->g[i];
            g->query_at = TERN_MLD_NEVER;
            g->change_left = 0;
            g->change_at = TERN_MLD_NEVER;
            if (g->in_use && g->refs == 0) {
                g->in_use = false;
            }
        }
    }
    /* RFC 3810 section 9.12: Older Version Querier Present Timeout =
     * [Robustness Variable] times [Query Interval] plus [Query Response
     * Interval]. */
    m->v1_until = now + (uint64_t)m->robustness * TERN_MLD_QI_NS + TERN_MLD_QRI_NS;
}

static void v1_query(struct tern_mld *m, uint64_t now, const struct tern_mld_query *q) {
    enter_v1(m, now);
    bool general = tern_addr_is_unspecified(&q->group);
    uint64_t max = (uint64_t)q->max_resp_ms * MS;
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        struct tern_mld_group *g = &m->g[i];
        if (!g->in_use || g->refs == 0 || !tern_mld_reportable(&g->group) ||
            (!general && memcmp(g->group.bytes, q->group.bytes, 16) != 0)) {
            continue;
        }
        /* RFC 2710 section 4: a delay in [0, Maximum Response Delay]; a
         * running timer is reset only when the new delay is shorter. */
        uint64_t at = now + m->rand_below(m->rand_ctx, max + 1);
        if (g->query_at == TERN_MLD_NEVER || at < g->query_at) {
            g->query_at = at;
        }
    }
}

/* Add the queried sources to g's pending source list (RFC 3810 section 6.2 rule 5). */
static void add_sources(struct tern_mld_group *g, const struct tern_mld_query *q) {
    for (uint16_t i = 0; i < q->nsources && g->nqsources != QSRC_GROUP; i++) {
        const uint8_t *s = q->sources + (size_t)i * 16;
        bool known = false;
        for (uint8_t j = 0; j < g->nqsources && !known; j++) {
            known = memcmp(g->qsources[j], s, 16) == 0;
        }
        if (known) {
            continue;
        }
        if (g->nqsources == TERN_MLD_MAX_QSOURCES) {
            /* More sources than remembered: answer for the whole group
             * (a superset of the answer asked for). */
            g->nqsources = QSRC_GROUP;
            break;
        }
        memcpy(g->qsources[g->nqsources++], s, 16);
    }
}

void tern_mld_query(struct tern_mld *m, uint64_t now, const struct tern_mld_query *q) {
    m->queries_in++;
    if (q->version == 1) {
        v1_query(m, now, q);
        return;
    }
    if (v1_mode(m, now)) {
        return; /* RFC 3810 section 8.2.1: MLDv2 queries are ignored in MLDv1 mode */
    }
    if (q->qrv != 0) {
        m->robustness = q->qrv; /* RFC 3810 section 9.1: the querier's QRV */
    }
    uint64_t at = now + open_delay(m, (uint64_t)q->max_resp_ms * MS);
    /* Rule 1: "If there is a pending response to a previous General Query
     * scheduled sooner than the selected delay, no additional response
     * needs to be scheduled." */
    if (m->general_at != TERN_MLD_NEVER && m->general_at <= at) {
        return;
    }
    if (tern_addr_is_unspecified(&q->group)) {
        /* Rule 2: the Interface Timer; a previous pending answer is replaced. */
        m->general_at = at;
        return;
    }
    struct tern_mld_group *g = find(m, &q->group);
    if (g == NULL || g->refs == 0) {
        return; /* not a listener of the group: nothing to answer */
    }
    bool specific = q->nsources == 0;
    if (g->query_at == TERN_MLD_NEVER) {
        /* Rule 3: the Multicast Address Timer, with the queried sources. */
        g->query_at = at;
        g->nqsources = specific ? QSRC_GROUP : 0;
        if (!specific) {
            add_sources(g, q);
        }
        return;
    }
    /* Rules 4 and 5: the earliest of the pending and the new time; a group
     * query (or a pending one) makes the answer one for the whole group,
     * otherwise the source lists are merged. */
    if (at < g->query_at) {
        g->query_at = at;
    }
    if (specific || g->nqsources == QSRC_GROUP) {
        g->nqsources = QSRC_GROUP;
    } else {
        add_sources(g, q);
    }
}

void tern_mld_v1_report_heard(struct tern_mld *m, uint64_t now, const tern_addr *group) {
    if (!v1_mode(m, now)) {
        return; /* RFC 3810 section 8.2.1: MLDv2 hosts do not suppress */
    }
    struct tern_mld_group *g = find(m, group);
    if (g != NULL && g->query_at != TERN_MLD_NEVER) {
        g->query_at = TERN_MLD_NEVER;
        g->v1_last = false;
    }
}

static void add_record(struct tern_mld_msg *msg, uint8_t type, const tern_addr *group,
                       uint16_t nsources, const uint8_t *sources) {
    struct tern_mld_record *r = &msg->records[msg->nrecords++];
    memset(r, 0, sizeof *r);
    r->type = type;
    r->group = *group;
    r->nsources = nsources;
    r->sources = sources;
}

static void v2_report(struct tern_mld_msg *msg) {
    msg->kind = TERN_MLD_MSG_V2_REPORT;
    msg->dst = tern_addr_v6_from_bytes(all_mldv2_routers);
}

static bool next_v1(struct tern_mld *m, uint64_t now, struct tern_mld_msg *msg) {
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        struct tern_mld_group *g = &m->g[i];
        if (!g->in_use) {
            continue;
        }
        if (g->change_left > 0 && g->change_at <= now) {
            g->change_left--;
            g->change_at = g->change_left ? now + open_delay(m, m->uri_ns) : TERN_MLD_NEVER;
            if (g->change_type == TERN_MLD_CHANGE_TO_INCLUDE) {
                msg->kind = TERN_MLD_MSG_V1_DONE;
                msg->dst = tern_addr_v6_from_bytes(all_routers);
                msg->v1_group = g->group;
                g->in_use = false;
                return true;
            }
            msg->kind = TERN_MLD_MSG_V1_REPORT;
            msg->dst = g->group;
            msg->v1_group = g->group;
            g->v1_last = true;
            return true;
        }
        if (g->refs > 0 && g->query_at != TERN_MLD_NEVER && g->query_at <= now) {
            g->query_at = TERN_MLD_NEVER;
            msg->kind = TERN_MLD_MSG_V1_REPORT;
            msg->dst = g->group;
            msg->v1_group = g->group;
            g->v1_last = true;
            return true;
        }
    }
    return false;
}

bool tern_mld_next_message(struct tern_mld *m, uint64_t now, struct tern_mld_msg *msg) {
    memset(msg, 0, sizeof *msg);
    if (v1_mode(m, now)) {
        return next_v1(m, now, msg);
    }
    /* State Change Reports (RFC 3810 section 6.1): every group whose next
     * (re)transmission is due goes into one report. */
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        struct tern_mld_group *g = &m->g[i];
        if (!g->in_use || g->change_left == 0 || g->change_at > now) {
            continue;
        }
        add_record(msg, g->change_type, &g->group, 0, NULL);
        g->change_left--;
        /* "[Robustness Variable] - 1 retransmissions are scheduled ... at
         * intervals chosen at random from the range (0, [Unsolicited Report
         * Interval])" */
        g->change_at = g->change_left ? now + open_delay(m, m->uri_ns) : TERN_MLD_NEVER;
        if (g->change_left == 0 && g->refs == 0) {
            g->in_use = false; /* a leave fully reported */
        }
    }
    if (msg->nrecords > 0) {
        v2_report(msg);
        return true;
    }
    /* The answer to a General Query: a Current State Record for every
     * group (RFC 3810 section 6.3: MODE_IS_EXCLUDE {} in any-source mode). */
    if (m->general_at != TERN_MLD_NEVER && m->general_at <= now) {
        m->general_at = TERN_MLD_NEVER;
        for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
            struct tern_mld_group *g = &m->g[i];
            if (g->in_use && g->refs > 0 && tern_mld_reportable(&g->group)) {
                add_record(msg, TERN_MLD_MODE_IS_EXCLUDE, &g->group, 0, NULL);
            }
        }
        if (msg->nrecords > 0) {
            v2_report(msg);
            return true;
        }
    }
    /* Answers to group and group-and-source specific queries (RFC 3810
     * section 6.3): EXCLUDE {} for the group, IS_IN (queried sources) for a
     * source list, since no source is excluded. */
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        struct tern_mld_group *g = &m->g[i];
        if (!g->in_use || g->refs == 0 || g->query_at == TERN_MLD_NEVER || g->query_at > now) {
            continue;
        }
        g->query_at = TERN_MLD_NEVER;
        if (g->nqsources == QSRC_GROUP) {
            add_record(msg, TERN_MLD_MODE_IS_EXCLUDE, &g->group, 0, NULL);
        } else if (g->nqsources > 0) {
            add_record(msg, TERN_MLD_MODE_IS_INCLUDE, &g->group, g->nqsources, g->qsources[0]);
        }
    }
    if (msg->nrecords > 0) {
        v2_report(msg);
        return true;
    }
    return false;
}

uint64_t tern_mld_poll_at(const struct tern_mld *m) {
    uint64_t t = m->general_at;
    for (size_t i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        const struct tern_mld_group *g = &m->g[i];
        if (!g->in_use) {
            continue;
        }
        if (g->change_left > 0 && g->change_at < t) {
            t = g->change_at;
        }
        if (g->refs > 0 && g->query_at < t) {
            t = g->query_at;
        }
    }
    return t;
}
