/*
 * IGMP, host side (tern/igmp.h): group membership per interface, the
 * socket memberships that hold it, reports (unsolicited, answering queries,
 * state changes), leaves, and the v1/v2/v3 compatibility modes.
 *
 * RFC 2236 section 3 (v2 host): "When a host joins a multicast group, it
 * should immediately transmit an unsolicited Version 2 Membership Report for
 * that group, in case it is the first member of that group on the network.
 * To cover the possibility of the initial Membership Report being lost or
 * damaged, it is recommended that it be repeated once or twice after short
 * delays [Unsolicited Report Interval]." Queries set a timer per group to a
 * random value in (0, Max Response Time]; another host's report for the group
 * stops it (suppression); the last reporter sends a Leave to 224.0.0.2.
 *
 * RFC 3376 section 5.1 (v3 host): a change of interface state sends a
 * State-Change Report at once, "retransmitted [Robustness Variable] - 1 more
 * times, at intervals chosen at random from the range (0, [Unsolicited Report
 * Interval])". Section 5.2: a General Query schedules one Current-State
 * Report of every group on the interface timer; a Group-Specific (or
 * Group-and-Source-Specific) Query one for the group, never later than a
 * pending one.
 *
 * Every timer is a deadline in virtual time; poll sends what is due. The
 * random delays come from the instance's generator, so the same seed gives
 * the same reports at the same nanoseconds.
 */
#include <string.h>

#include "core/sock_handle.h"
#include "ipv4.h"
#include "tern/igmp.h"
#include "udp/udp.h"
#include "wire/bytes.h"
#include "wire/igmp.h"

#define SEC 1000000000ull
#define DS (SEC / 10)
#define QSOURCES 8 /* sources of a Group-and-Source-Specific query kept per group */

/* RFC 2236 section 8.10 "Unsolicited Report Interval ... Default: 10 seconds";
 * RFC 3376 section 8.11 "Default: 1 second". */
#define URI_V2 (10 * SEC)
#define URI_V3 (1 * SEC)
/* RFC 2236 section 8.11 "Version 1 Router Present Timeout ... 400 seconds". */
#define V1_ROUTER_PRESENT (400 * SEC)
#define DEFAULT_ROBUSTNESS 2
#define DEFAULT_QI_S 125

static const tern_addr all_systems = {.family = TERN_AF_INET, .bytes = {224, 0, 0, 1}};
static const tern_addr all_routers = {.family = TERN_AF_INET, .bytes = {224, 0, 0, 2}};
static const tern_addr v3_reports = {.family = TERN_AF_INET, .bytes = {224, 0, 0, 22}};

typedef struct igmp_group {
    bool used;
    bool member; /* false: only a leave (v2) or CHANGE_TO_INCLUDE retransmissions left */
    uint32_t iface;
    tern_addr group;
    uint32_t refs;
    /* v1/v2 */
    uint64_t report_at;  /* delaying member: when the report goes */
    uint8_t unsolicited; /* unsolicited reports still to send after this one */
    bool last_reporter;  /* we sent the last report heard (RFC 2236 section 3) */
    bool leave_pending;  /* a v2 Leave goes on the next poll */
    /* v3 */
    uint64_t change_at;  /* next State-Change Report transmission */
    uint8_t change_left; /* transmissions still to make */
    uint8_t change_type; /* TERN_IGMP_CHANGE_TO_EXCLUDE or _INCLUDE */
    uint64_t query_at;   /* pending answer to a Group(-and-Source)-Specific query */
    uint16_t nqsrc;      /* 0: group-specific; else the queried sources */
    uint8_t qsrc[4 * QSOURCES];
} igmp_group;

typedef struct igmp_member {
    bool used;
    tern_sock sock; /* 0: the stack itself (mDNS) */
    uint32_t iface;
    tern_addr group;
} igmp_member;

typedef struct igmp_iface {
    uint8_t configured;  /* 2 or 3 */
    uint8_t mode;        /* the mode the timers below were set in */
    uint64_t v1_until;   /* an IGMPv1 querier was heard: v1 mode until then */
    uint64_t v2_until;   /* an IGMPv2 querier was heard */
    uint64_t general_at; /* v3 interface timer: the answer to a General Query */
    uint8_t robustness;
    uint32_t qi_s;
} igmp_iface;

struct tern_igmp {
    uint64_t now; /* the time of the last input or poll (for calls that take no time) */
    /* Entries of groups[] in use (group_claim, group_free): poll and poll_at, which read this
     * line anyway, skip the table's 16 lines while it is empty (issue 19: every host's first
     * poll read them cold). */
    uint32_t ngroups;
    igmp_iface ifs[TERN_MAX_IFACES];
    igmp_group groups[TERN_IGMP_GROUPS];
    igmp_member members[TERN_IGMP_MEMBERSHIPS];
    tern_igmp_counters c;
};

size_t tern_igmp_memory_size(void) {
    return sizeof(tern_igmp);
}

void tern_igmp_init(tern_stack *st, uint8_t *mem) {
    st->igmp = (tern_igmp *)mem;
    for (uint32_t i = 0; i < TERN_MAX_IFACES; i++) {
        igmp_iface *f = &st->igmp->ifs[i];
        f->configured = 3;
        f->mode = 3;
        f->general_at = TERN_NEVER;
        f->robustness = DEFAULT_ROBUSTNESS;
        f->qi_s = DEFAULT_QI_S;
    }
}

/* ---- helpers ---------------------------------------------------------------- */

/* The only writes of a group's `used`, which keep the count of groups in use exact. */
static void group_free(tern_igmp *g, igmp_group *e) {
    if (e->used) {
        g->ngroups--;
    }
    e->used = false;
}

static void group_claim(tern_igmp *g, igmp_group *e) {
    if (!e->used) {
        g->ngroups++;
    }
    e->used = true;
}

/* (0, max] in nanoseconds, from the instance's generator ("a random value ... selected from the
 * range (0, Max Response Time]", RFC 2236 section 3). */
static uint64_t rand_delay(tern_stack *st, uint64_t max) {
    return max ? 1 + tern_rng_below(&st->rng, max) : 0;
}

static uint8_t mode_at(const igmp_iface *f, uint64_t now) {
    if (now < f->v1_until) {
        return 1;
    }
    if (now < f->v2_until || f->configured == 2) {
        return 2;
    }
    return 3;
}

static igmp_group *find_group(tern_igmp *g, uint32_t iface, const tern_addr *group) {
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        igmp_group *e = &g->groups[i];
        if (e->used && e->iface == iface && tern_addr_eq(&e->group, group)) {
            return e;
        }
    }
    return NULL;
}

/* Cancel every pending response and retransmission of the interface: "Whenever a host changes
 * its compatibility mode, it cancels all its pending response and retransmission timers" (RFC
 * 3376 section 7.2.1). Groups being left are forgotten. */
static void cancel_timers(tern_igmp *g, uint32_t iface) {
    g->ifs[iface].general_at = TERN_NEVER;
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        igmp_group *e = &g->groups[i];
        if (!e->used || e->iface != iface) {
            continue;
        }
        if (!e->member) {
            group_free(g, e);
            continue;
        }
        e->report_at = e->change_at = e->query_at = TERN_NEVER;
        e->unsolicited = 0;
        e->change_left = 0;
        e->leave_pending = false;
    }
}

/* Bring the interface's mode up to date (an older querier's timeout may have passed). */
static uint8_t update_mode(tern_stack *st, uint32_t iface, uint64_t now) {
    igmp_iface *f = &st->igmp->ifs[iface];
    uint8_t m = mode_at(f, now);
    if (m != f->mode) {
        f->mode = m;
        st->igmp->c.mode_changes++;
        cancel_timers(st->igmp, iface);
    }
    return m;
}

/* Send one IGMP message (at tern_ip_tx_payload, len bytes) on iface: TTL 1 and the Router Alert
 * option, "all IGMP messages described in this document are sent with IP TTL 1, and contain the
 * IP Router Alert option [RFC 2113] in their IP header" (RFC 2236 section 2; RFC 3376 section
 * 4). The source is the interface's first address, 0.0.0.0 without one (RFC 3376 section 4.2.13
 * allows it). */
static void send_igmp(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *dst,
                      size_t len) {
    static const uint8_t router_alert[4] = {0x94, 0x04, 0x00, 0x00};
    const tern_iface *f = &st->iface[iface];
    struct tern_ipv4_repr h;
    memset(&h, 0, sizeof h);
    h.id = st->ip_id++;
    h.ttl = 1;
    h.protocol = TERN_IPPROTO_IGMP;
    h.src = f->naddrs ? f->addr[0] : tern_addr_v4(0, 0, 0, 0);
    h.dst = *dst;
    h.options = router_alert;
    h.options_len = sizeof router_alert;
    h.payload = NULL; /* in place */
    h.payload_len = len;
    uint8_t *ip = tern_ip_tx_payload(st) - (TERN_IPV4_MIN_HDR_LEN + sizeof router_alert);
    size_t w;
    if (tern_ipv4_emit(&h, ip, TERN_IPV4_MIN_HDR_LEN + sizeof router_alert + len, &w) != TERN_OK) {
        return;
    }
    tern_ipv4_output_resolved(st, now, iface, dst, ip, w);
}

static void send_v12(tern_stack *st, uint64_t now, uint32_t iface, uint8_t type,
                     const tern_addr *group, const tern_addr *dst) {
    size_t w;
    if (tern_igmp_emit_v2(type, 0, group, tern_ip_tx_payload(st), TERN_IGMP_V2_LEN, &w) !=
        TERN_OK) {
        return;
    }
    if (type == TERN_IGMP_V2_LEAVE) {
        st->igmp->c.leaves_out++;
    } else {
        st->igmp->c.reports_out++;
    }
    send_igmp(st, now, iface, dst, w);
}

/* RFC 2236 section 6: the all-systems group "never sends a report for that group"; RFC 3376
 * section 5: "No IGMP messages are ever sent regarding neither the 'non-existent' state nor the
 * all-systems multicast address". */
static bool reportable(const tern_addr *group) {
    return !tern_addr_eq(group, &all_systems);
}

/* ---- joining and leaving ------------------------------------------------------- */

/* The interface's state for the group gained its first member. */
static void group_joined(tern_stack *st, igmp_group *e) {
    igmp_iface *f = &st->igmp->ifs[e->iface];
    e->member = true;
    e->leave_pending = false;
    if (!reportable(&e->group)) {
        return;
    }
    if (f->mode == 3) {
        /* RFC 3376 section 5.1: a report at once (on the next poll, at this instant), then
         * [Robustness Variable] - 1 retransmissions. */
        e->change_type = TERN_IGMP_CHANGE_TO_EXCLUDE;
        e->change_left = f->robustness;
        e->change_at = 0;
    } else {
        e->report_at = 0;
        e->unsolicited = (uint8_t)(f->robustness - 1);
    }
}

/* The interface's state for the group lost its last member. */
static void group_left(tern_stack *st, igmp_group *e) {
    igmp_iface *f = &st->igmp->ifs[e->iface];
    e->member = false;
    e->report_at = e->query_at = TERN_NEVER;
    e->unsolicited = 0;
    if (!reportable(&e->group)) {
        group_free(st->igmp, e);
        return;
    }
    if (f->mode == 3) {
        e->change_type = TERN_IGMP_CHANGE_TO_INCLUDE;
        e->change_left = f->robustness;
        e->change_at = 0;
    } else if (f->mode == 2 && e->last_reporter) {
        /* RFC 2236 section 3: "If it was the last host to reply to a Query, it SHOULD send a
         * Leave Group message to the all-routers multicast group (224.0.0.2)." */
        e->leave_pending = true;
    } else {
        group_free(st->igmp, e); /* v1 has no leave; not the last reporter: "MAY send nothing" */
    }
}

static tern_err join(tern_stack *st, tern_sock sock, const tern_addr *group, uint32_t iface) {
    tern_igmp *g = st->igmp;
    if (!group || !tern_addr_is_v4(group) || !tern_addr_is_multicast(group) ||
        tern_addr_v4_to_u32(group) == 0xe0000000u) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "join group: must be an IPv4 multicast address (224.0.0.1 to "
                         "239.255.255.255)");
    }
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "join iface=%u: the host has %u interfaces",
                         iface, st->niface);
    }
    igmp_member *slot = NULL;
    for (uint32_t i = 0; i < TERN_IGMP_MEMBERSHIPS; i++) {
        igmp_member *m = &g->members[i];
        if (m->used && m->sock == sock && m->iface == iface && tern_addr_eq(&m->group, group)) {
            return tern_fail(st, TERN_ERR_ADDR_IN_USE, "join: already a member of that group");
        }
        if (!m->used && !slot) {
            slot = m;
        }
    }
    if (!slot) {
        return tern_fail(st, TERN_ERR_NO_BUFFER, "join: all %d memberships are in use",
                         TERN_IGMP_MEMBERSHIPS);
    }
    igmp_group *e = find_group(g, iface, group);
    if (!e) {
        for (uint32_t i = 0; i < TERN_IGMP_GROUPS && !e; i++) {
            if (!g->groups[i].used) {
                e = &g->groups[i];
            }
        }
        if (!e) {
            return tern_fail(st, TERN_ERR_NO_BUFFER, "join: all %d groups are in use",
                             TERN_IGMP_GROUPS);
        }
        memset(e, 0, sizeof *e);
        group_claim(g, e);
        e->iface = iface;
        e->group = *group;
        e->report_at = e->change_at = e->query_at = TERN_NEVER;
    }
    slot->used = true;
    slot->sock = sock;
    slot->iface = iface;
    slot->group = *group;
    if (e->refs++ == 0) {
        group_joined(st, e);
    }
    return TERN_OK;
}

static void drop_member(tern_stack *st, igmp_member *m) {
    m->used = false;
    igmp_group *e = find_group(st->igmp, m->iface, &m->group);
    if (e && e->refs && --e->refs == 0) {
        group_left(st, e);
    }
}

static tern_err leave(tern_stack *st, tern_sock sock, const tern_addr *group, uint32_t iface) {
    for (uint32_t i = 0; i < TERN_IGMP_MEMBERSHIPS; i++) {
        igmp_member *m = &st->igmp->members[i];
        if (m->used && m->sock == sock && m->iface == iface && group &&
            tern_addr_eq(&m->group, group)) {
            drop_member(st, m);
            return TERN_OK;
        }
    }
    return tern_fail(st, TERN_ERR_EMPTY, "leave: not a member of that group on iface %u", iface);
}

/* TERN_IFACE_BY_ROUTE: the interface of the route to the group (RFC 1112 section 6.1: without
 * an interface named, "a default interface should be used, preferably under the control of
 * system management" - the routing table). A group without a route: interface 0. */
static uint32_t iface_for(const tern_stack *st, const tern_addr *group, uint32_t iface) {
    if (iface != TERN_IFACE_BY_ROUTE) {
        return iface;
    }
    tern_route_result rr;
    if (tern_addr_is_v4(group) && tern_route_lookup(st, group, NULL, &rr) == TERN_OK) {
        return rr.iface;
    }
    return 0;
}

tern_err tern_udp_join(tern_stack *st, tern_sock s, const tern_addr *group, uint32_t iface) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    uint32_t idx;
    if (!tern_handle_decode(s, TERN_HANDLE_UDP, &idx) || !tern_udp_is_open(st, s)) {
        return tern_fail(st, TERN_ERR_CLOSED, "udp socket %#x: closed or not a UDP socket", s);
    }
    return join(st, s, group, iface_for(st, group, iface));
}

tern_err tern_udp_leave(tern_stack *st, tern_sock s, const tern_addr *group, uint32_t iface) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (!tern_udp_is_open(st, s)) {
        return tern_fail(st, TERN_ERR_CLOSED, "udp socket %#x: closed or not a UDP socket", s);
    }
    return leave(st, s, group, iface_for(st, group, iface));
}

tern_err tern_igmp_join(tern_stack *st, uint32_t iface, const tern_addr *group) {
    return join(st, 0, group, iface);
}

tern_err tern_igmp_leave(tern_stack *st, uint32_t iface, const tern_addr *group) {
    return leave(st, 0, group, iface);
}

void tern_igmp_sock_closed(tern_stack *st, tern_sock s) {
    for (uint32_t i = 0; i < TERN_IGMP_MEMBERSHIPS; i++) {
        igmp_member *m = &st->igmp->members[i];
        if (m->used && m->sock == s) {
            drop_member(st, m);
        }
    }
}

bool tern_igmp_is_member(const tern_stack *st, uint32_t iface, const tern_addr *group) {
    if (tern_addr_eq(group, &all_systems)) {
        return true;
    }
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        const igmp_group *e = &st->igmp->groups[i];
        if (e->used && e->member && e->iface == iface && tern_addr_eq(&e->group, group)) {
            return true;
        }
    }
    return false;
}

bool tern_igmp_sock_joined(const tern_stack *st, tern_sock s, const tern_addr *group) {
    for (uint32_t i = 0; i < TERN_IGMP_MEMBERSHIPS; i++) {
        const igmp_member *m = &st->igmp->members[i];
        if (m->used && m->sock == s && tern_addr_eq(&m->group, group)) {
            return true;
        }
    }
    return false;
}

tern_err tern_igmp_set_version(tern_stack *st, uint32_t iface, uint8_t version) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface || (version != 2 && version != 3)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "igmp version=%u iface=%u: the version must be 2 or 3 on an existing "
                         "interface",
                         version, iface);
    }
    igmp_iface *f = &st->igmp->ifs[iface];
    f->configured = version;
    uint8_t m = mode_at(f, st->igmp->now);
    if (m != f->mode) {
        f->mode = m;
        cancel_timers(st->igmp, iface);
    }
    return TERN_OK;
}

tern_err tern_igmp_get_iface_state(const tern_stack *st, uint32_t iface,
                                   tern_igmp_iface_state *out) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    const igmp_iface *f = &st->igmp->ifs[iface];
    out->configured = f->configured;
    out->mode = f->mode;
    out->robustness = f->robustness;
    out->query_interval_s = f->qi_s;
    return TERN_OK;
}

size_t tern_igmp_groups(const tern_stack *st, uint32_t iface, tern_addr *out, size_t cap) {
    size_t n = 0;
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        const igmp_group *e = &st->igmp->groups[i];
        if (e->used && e->member && e->iface == iface) {
            if (n < cap) {
                out[n] = e->group;
            }
            n++;
        }
    }
    return n;
}

void tern_igmp_get_counters(const tern_stack *st, tern_igmp_counters *out) {
    *out = st->igmp->c;
}

/* ---- input ----------------------------------------------------------------------- */

/* v1/v2 mode: a query asks for a report of `group` (or of every group when unspecified)
 * within max (RFC 2236 section 3): "If a timer for the group is already running, it is reset to
 * the random value only if the requested Max Response Time is less than the remaining value of
 * the running timer." */
static void query_v12(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *group,
                      uint64_t max) {
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        igmp_group *e = &st->igmp->groups[i];
        if (!e->used || !e->member || e->iface != iface || !reportable(&e->group) ||
            (!tern_addr_is_unspecified(group) && !tern_addr_eq(&e->group, group))) {
            continue;
        }
        if (e->report_at == TERN_NEVER || e->report_at <= now || max < e->report_at - now) {
            e->report_at = now + rand_delay(st, max);
        }
    }
}

/* v3 mode (RFC 3376 section 5.2). */
static void query_v3(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_igmp_repr *q) {
    igmp_iface *f = &st->igmp->ifs[iface];
    uint64_t delay = rand_delay(st, (uint64_t)q->max_resp_ds * DS);
    /* "1. If there is a pending response to a previous General Query scheduled sooner than the
     * selected delay, no additional response needs to be scheduled." */
    if (f->general_at != TERN_NEVER && f->general_at <= now + delay) {
        return;
    }
    if (tern_addr_is_unspecified(&q->group)) {
        /* "2. If the received Query is a General Query, the interface timer is used to schedule
         * a response to the General Query after the selected delay. Any previously pending
         * response to a General Query is canceled." */
        f->general_at = now + delay;
        return;
    }
    igmp_group *e = find_group(st->igmp, iface, &q->group);
    if (!e || !e->member) {
        return; /* "3. ... the interface has no reception state for the group: nothing" */
    }
    bool had = e->query_at != TERN_NEVER;
    if (!had) {
        /* "4. ... no pending response to a previous Query for this group, then the group timer
         * is used to schedule a report. If the received Query is a Group-and-Source-Specific
         * Query, the list of queried sources is recorded to be used when generating a
         * response." */
        e->query_at = now + delay;
        e->nqsrc = 0;
        if (q->nsources && q->nsources <= QSOURCES) {
            memcpy(e->qsrc, q->sources, 4u * q->nsources);
            e->nqsrc = q->nsources;
        }
        return;
    }
    /* "5. ... a pending response ... : the group source list is cleared and a single response
     * is scheduled using the group timer" when this is a Group-Specific Query or the pending one
     * was; otherwise the source lists are merged. "the new response is scheduled to be sent at
     * the earliest of the remaining time for the pending report and the selected delay." */
    if (now + delay < e->query_at) {
        e->query_at = now + delay;
    }
    if (q->nsources == 0 || e->nqsrc == 0) {
        e->nqsrc = 0;
        return;
    }
    for (uint16_t i = 0; i < q->nsources; i++) {
        bool dup = false;
        for (uint16_t j = 0; j < e->nqsrc && !dup; j++) {
            dup = memcmp(e->qsrc + 4u * j, q->sources + 4u * i, 4) == 0;
        }
        if (dup) {
            continue;
        }
        if (e->nqsrc == QSOURCES) {
            e->nqsrc = 0; /* more than we keep: answer for the whole group */
            return;
        }
        memcpy(e->qsrc + 4u * e->nqsrc, q->sources + 4u * i, 4);
        e->nqsrc++;
    }
}

static void input_query(tern_stack *st, uint64_t now, uint32_t iface,
                        const struct tern_ipv4_repr *ip, const struct tern_igmp_repr *q) {
    tern_igmp *g = st->igmp;
    igmp_iface *f = &g->ifs[iface];
    bool general = tern_addr_is_unspecified(&q->group);
    if (!general && !tern_addr_is_multicast(&q->group)) {
        g->c.queries_ignored++; /* the group field is neither 0 nor a group */
        return;
    }
    /* RFC 3376 section 4.1.12 / 9.1: General Queries go to 224.0.0.1 ("hosts SHOULD ignore v2 or
     * v3 General Queries sent to a multicast address other than 224.0.0.1"); a group-specific
     * query goes to the group itself. */
    if (tern_addr_is_multicast(&ip->dst) &&
        !tern_addr_eq(&ip->dst, general ? &all_systems : &q->group)) {
        g->c.queries_ignored++;
        return;
    }
    uint8_t version = q->version;
    if (f->configured == 2 && version == 3) {
        /* RFC 2236 section 2.5: "As long as the Type is one that is recognized, an IGMPv2
         * implementation MUST ignore anything past the first 8 octets while processing the
         * packet." A v3 query is then a v2 query with Max Response Time = the code byte. */
        version = 2;
    }
    if (version == 1) {
        g->c.queries_v1++;
        /* RFC 2236 section 4 / RFC 3376 section 7.2.1: v1 compatibility for the Older Version
         * Querier Present Timeout (v2 hosts: Version 1 Router Present Timeout, 400 s). */
        f->v1_until = now + (f->configured == 2 ? V1_ROUTER_PRESENT
                                                : (uint64_t)f->robustness * f->qi_s * SEC +
                                                      (uint64_t)q->max_resp_ds * DS);
    } else if (version == 2) {
        g->c.queries_v2++;
        if (f->configured == 3) {
            /* RFC 3376 section 8.12: "Older Version Querier Present Timeout ... (the Robustness
             * Variable times (the Query Interval in the last Query received)) plus (one Query
             * Response Interval)". */
            f->v2_until = now + (uint64_t)f->robustness * f->qi_s * SEC +
                          (uint64_t)(q->version == 3 ? q->max_resp_code : q->max_resp_ds) * DS;
        }
    } else {
        g->c.queries_v3++;
        /* RFC 3376 section 4.1.6: "If non-zero, the QRV field contains the [Robustness Variable]
         * value used by the querier"; section 4.1.7: the QQIC gives the [Query Interval]. */
        if (q->qrv) {
            f->robustness = q->qrv;
        }
        if (q->qqi) {
            f->qi_s = q->qqi;
        }
    }
    uint8_t mode = update_mode(st, iface, now);
    if (mode == 3) {
        query_v3(st, now, iface, q);
        return;
    }
    uint64_t max = version == 1      ? 100 * DS
                   : q->version == 3 ? (uint64_t)q->max_resp_code * DS
                                     : (uint64_t)q->max_resp_ds * DS;
    query_v12(st, now, iface, &q->group, max);
}

void tern_igmp_input(tern_stack *st, uint64_t now, uint32_t iface,
                     const struct tern_ipv4_repr *ip) {
    tern_igmp *g = st->igmp;
    g->c.in++;
    g->now = now;
    if (iface >= st->niface) {
        return;
    }
    struct tern_igmp_repr r;
    tern_err err = tern_igmp_parse(ip->payload, ip->payload_len, &r);
    if (err == TERN_ERR_BAD_CHECKSUM) {
        g->c.bad_checksum++; /* RFC 2236 section 2.3: "... MUST be checked" */
        return;
    }
    if (err != TERN_OK) {
        g->c.malformed++;
        return;
    }
    update_mode(st, iface, now);
    switch (r.type) {
    case TERN_IGMP_QUERY:
        input_query(st, now, iface, ip, &r);
        break;
    case TERN_IGMP_V1_REPORT:
    case TERN_IGMP_V2_REPORT: {
        g->c.reports_heard++;
        /* RFC 2236 section 3: "If the host receives another host's Report (version 1 or 2)
         * while it has a timer running, it stops its timer for the specified group and does
         * not send a Report, in order to suppress duplicate Reports." A v3 host does not
         * suppress (RFC 3376 section 5.2 has no such rule). */
        igmp_group *e = find_group(g, iface, &r.group);
        if (e && e->member && g->ifs[iface].mode != 3) {
            if (e->report_at != TERN_NEVER) {
                g->c.reports_suppressed++;
            }
            e->report_at = TERN_NEVER;
            e->unsolicited = 0;
            e->last_reporter = false;
        }
        break;
    }
    default:
        break; /* leaves and v3 reports are for routers */
    }
}

/* ---- output ---------------------------------------------------------------------- */

/* Up to this many records in one v3 report: the groups table fits, and 8 + 16 * (8 + 32) bytes
 * stay under the minimum MTU of 576 - 24. */
static void poll_v3(tern_stack *st, uint64_t now, uint32_t iface) {
    tern_igmp *g = st->igmp;
    igmp_iface *f = &g->ifs[iface];
    struct tern_igmp_record recs[TERN_IGMP_GROUPS];
    uint16_t n = 0;
    bool general = f->general_at <= now;
    if (general) {
        f->general_at = TERN_NEVER;
    }
    if (g->ngroups == 0) {
        return; /* no group to report (the scan below would find none) */
    }
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        igmp_group *e = &g->groups[i];
        if (!e->used || e->iface != iface || !reportable(&e->group)) {
            continue;
        }
        struct tern_igmp_record r = {.group = e->group};
        if (e->change_at <= now) {
            /* A State-Change Report (RFC 3376 section 5.1). */
            r.type = e->change_type;
            recs[n++] = r;
            if (--e->change_left) {
                e->change_at = now + rand_delay(st, URI_V3);
            } else {
                e->change_at = TERN_NEVER;
                if (!e->member) {
                    group_free(g, e);
                }
            }
        } else if (e->member && e->query_at <= now) {
            /* The answer to a Group(-and-Source)-Specific Query (RFC 3376 section 5.2): "If the
             * query was Group-Specific: IS_EX ({})"; group-and-source-specific in EXCLUDE mode
             * with no excluded source: IS_IN (the queried sources). */
            e->query_at = TERN_NEVER;
            r.type = e->nqsrc ? TERN_IGMP_MODE_IS_INCLUDE : TERN_IGMP_MODE_IS_EXCLUDE;
            r.nsources = e->nqsrc;
            r.sources = e->nqsrc ? e->qsrc : NULL;
            recs[n++] = r;
        } else if (general && e->member) {
            /* The Current-State Report of a General Query: one record per group. */
            r.type = TERN_IGMP_MODE_IS_EXCLUDE;
            recs[n++] = r;
        }
    }
    if (n == 0) {
        return;
    }
    size_t w;
    if (tern_igmp_emit_v3_report(recs, n, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) !=
        TERN_OK) {
        return;
    }
    g->c.reports_out++;
    send_igmp(st, now, iface, &v3_reports, w);
}

static void poll_v12(tern_stack *st, uint64_t now, uint32_t iface, uint8_t mode) {
    tern_igmp *g = st->igmp;
    if (g->ngroups == 0) {
        return; /* no group to report or leave */
    }
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        igmp_group *e = &g->groups[i];
        if (!e->used || e->iface != iface) {
            continue;
        }
        if (e->leave_pending) {
            send_v12(st, now, iface, TERN_IGMP_V2_LEAVE, &e->group, &all_routers);
            group_free(g, e);
            continue;
        }
        if (!e->member || e->report_at > now) {
            continue;
        }
        /* RFC 2236 section 3: the report goes to the group itself; in v1 compatibility a
         * Version 1 report ("the host MUST send Version 1 Membership Reports", section 4). */
        send_v12(st, now, iface, mode == 1 ? TERN_IGMP_V1_REPORT : TERN_IGMP_V2_REPORT, &e->group,
                 &e->group);
        e->last_reporter = true;
        if (e->unsolicited) {
            e->unsolicited--;
            e->report_at = now + rand_delay(st, URI_V2);
        } else {
            e->report_at = TERN_NEVER;
        }
    }
}

void tern_igmp_poll(tern_stack *st, uint64_t now) {
    st->igmp->now = now;
    for (uint32_t i = 0; i < st->niface; i++) {
        if (tern_call_budget_spent(st)) {
            return; /* the rest on the next poll (poll_at stays due) */
        }
        uint8_t mode = update_mode(st, i, now);
        if (mode == 3) {
            poll_v3(st, now, i);
        } else {
            poll_v12(st, now, i, mode);
        }
    }
}

void tern_igmp_set_now(tern_stack *st, uint64_t now) {
    st->igmp->now = now; /* what tern_igmp_poll would have set */
}

uint64_t tern_igmp_poll_at(const tern_stack *st) {
    const tern_igmp *g = st->igmp;
    uint64_t t = TERN_NEVER;
    for (uint32_t i = 0; i < st->niface; i++) {
        const igmp_iface *f = &g->ifs[i];
        t = f->general_at < t ? f->general_at : t;
        /* The end of an older querier's presence changes the mode (and cancels timers). */
        if (f->v1_until && f->mode == 1 && f->v1_until < t) {
            t = f->v1_until;
        }
        if (f->v2_until && f->mode == 2 && f->v2_until < t && f->configured == 3) {
            t = f->v2_until;
        }
    }
    if (g->ngroups == 0) {
        return t; /* no group's timer */
    }
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        const igmp_group *e = &g->groups[i];
        if (!e->used) {
            continue;
        }
        if (e->leave_pending) {
            return 0;
        }
        uint64_t x = e->report_at;
        x = e->change_at < x ? e->change_at : x;
        x = e->query_at < x ? e->query_at : x;
        t = x < t ? x : t;
    }
    return t;
}

uint32_t tern_igmp_groups_used_scan(const tern_stack *st) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < TERN_IGMP_GROUPS; i++) {
        n += st->igmp->groups[i].used;
    }
    return n;
}

uint32_t tern_igmp_groups_used(const tern_stack *st) {
    return st->igmp->ngroups;
}
