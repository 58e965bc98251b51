/*
 * The MLDv2 multicast listener of one interface (RFC 3810 sections 4, 6 and
 * 8), with the MLDv1 host compatibility mode (RFC 3810 section 8.2.1).
 *
 * Any-source listening only: a joined group is in EXCLUDE mode with an
 * empty source list (the socket API here has no source filters), so the
 * state changes are "join" (INCLUDE {} -> EXCLUDE {}: CHANGE_TO_EXCLUDE_MODE
 * {}) and "leave" (EXCLUDE {} -> INCLUDE {}: CHANGE_TO_INCLUDE_MODE {}).
 *
 * Pure state and time, like ipv6/slaac.h: the IPv6 layer calls join/leave,
 * feeds parsed queries (and MLDv1 reports of other listeners), and drains
 * the messages to send with tern_mld_next_message; random delays come from
 * the caller's seeded generator.
 */
#ifndef TERN_IPV6_MLD_H
#define TERN_IPV6_MLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/addr.h"
#include "wire/mld.h"

#define TERN_MLD_MAX_GROUPS 16  /* groups per interface */
#define TERN_MLD_MAX_QSOURCES 8 /* sources remembered of a source-specific query */
#define TERN_MLD_NEVER UINT64_MAX
/* RFC 3810 section 9: Robustness Variable 2, Unsolicited Report Interval 1 s,
 * Query Interval 125 s, Query Response Interval 10 s. */
#define TERN_MLD_ROBUSTNESS 2
#define TERN_MLD_URI_NS 1000000000ull
#define TERN_MLD_QI_NS 125000000000ull
#define TERN_MLD_QRI_NS 10000000000ull

/* One group this interface listens to (or has just left). */
struct tern_mld_group {
    tern_addr group;
    uint8_t refs;        /* joins not yet left (several addresses share a solicited-node group) */
    uint8_t change_left; /* state-change reports still to send for the last change */
    uint8_t change_type; /* TERN_MLD_CHANGE_TO_EXCLUDE (join) or _TO_INCLUDE (leave) */
    bool in_use;         /* slot taken (a left group stays until its reports are sent) */
    bool v1_last;        /* MLDv1: we sent the last report (RFC 2710 section 4: Done on leave) */
    uint8_t nqsources;   /* sources of a pending source-specific query; 0xff: group-specific */
    uint64_t change_at;  /* next state-change report */
    uint64_t query_at; /* pending answer to a query for this group (its Multicast Address Timer) */
    uint8_t qsources[TERN_MLD_MAX_QSOURCES][16];
};

/* One interface's listener state. */
struct tern_mld {
    struct tern_mld_group g[TERN_MLD_MAX_GROUPS];
    uint64_t general_at; /* the Interface Timer: pending answer to a General Query */
    uint64_t v1_until;   /* Older Version Querier Present: MLDv1 mode until then */
    uint8_t robustness;  /* from the querier's QRV when non-zero (RFC 3810 section 9.1) */
    uint64_t uri_ns;     /* Unsolicited Report Interval */
    uint64_t (*rand_below)(void *ctx, uint64_t n); /* uniform in [0, n), n >= 1 */
    void *rand_ctx;
    uint64_t groups_full; /* joins refused: every slot taken */
    uint64_t queries_in;  /* queries taken (general, group, source-specific) */
};

/* A message tern_mld_next_message hands out. */
enum tern_mld_msg_kind {
    TERN_MLD_MSG_NONE = 0,
    TERN_MLD_MSG_V2_REPORT, /* to ff02::16 (RFC 3810 section 5.2.14) */
    TERN_MLD_MSG_V1_REPORT, /* to the group (RFC 2710 section 3) */
    TERN_MLD_MSG_V1_DONE,   /* to ff02::2 (RFC 2710 section 3) */
};

#define TERN_MLD_MSG_MAX_RECORDS TERN_MLD_MAX_GROUPS

struct tern_mld_msg {
    uint8_t kind;                                             /* enum tern_mld_msg_kind */
    tern_addr dst;                                            /* the IPv6 destination */
    tern_addr v1_group;                                       /* MLDv1 report or done: the group */
    size_t nrecords;                                          /* v2 report: its records */
    struct tern_mld_record records[TERN_MLD_MSG_MAX_RECORDS]; /* sources point into the state */
};

/* tern_mld_init: an interface with no group; rand_below must be set. */
void tern_mld_init(struct tern_mld *m, uint64_t (*rand_below)(void *ctx, uint64_t n),
                   void *rand_ctx);

/*
 * tern_mld_reportable: false for groups no MLD message is ever sent about
 * (RFC 3810 section 6: the link-scope all-nodes address ff02::1, and
 * scopes 0 (reserved) and 1 (interface-local)).
 */
bool tern_mld_reportable(const tern_addr *group);

/*
 * tern_mld_join: listen to group (one more reference when already joined).
 * A new membership of a reportable group sends a State Change Report at
 * once and [Robustness Variable] - 1 more (RFC 3810 section 6.1), or an
 * MLDv1 report in MLDv1 mode. Returns false when every membership slot is taken (counted).
 */
bool tern_mld_join(struct tern_mld *m, uint64_t now, const tern_addr *group);

/*
 * tern_mld_join_silent: like tern_mld_join without the State Change Report
 * (for a host that does not announce itself: it still answers queries).
 */
bool tern_mld_join_silent(struct tern_mld *m, const tern_addr *group);

/*
 * tern_mld_leave: drop one reference; the last one leaves the group with
 * CHANGE_TO_INCLUDE_MODE {} reports (or an MLDv1 Done). Returns false when
 * the group was not joined.
 */
bool tern_mld_leave(struct tern_mld *m, uint64_t now, const tern_addr *group);

/* tern_mld_is_member: true while group is joined (ff02::1 always is). */
bool tern_mld_is_member(const struct tern_mld *m, const tern_addr *group);

/*
 * tern_mld_query: a query arrived (already checked by the IPv6 layer: a
 * link-local source, hop limit 1). Schedules the answer as RFC 3810 section
 * 6.2 says, after a random delay in (0, Maximum Response Delay); an MLDv1
 * query (RFC 3810 section 8.2.1) switches to MLDv1 mode for the Older
 * Version Querier Present Timeout.
 */
void tern_mld_query(struct tern_mld *m, uint64_t now, const struct tern_mld_query *q);

/*
 * tern_mld_v1_report_heard: another listener's MLDv1 report for group (RFC
 * 2710 section 4: in MLDv1 mode it cancels our pending report for the group).
 */
void tern_mld_v1_report_heard(struct tern_mld *m, uint64_t now, const tern_addr *group);

/*
 * tern_mld_next_message: the next message due at now, if any. Call until it
 * returns false: every call consumes what it returns.
 */
bool tern_mld_next_message(struct tern_mld *m, uint64_t now, struct tern_mld_msg *msg);

/* tern_mld_poll_at: the earliest time a message is due (TERN_MLD_NEVER if none). */
uint64_t tern_mld_poll_at(const struct tern_mld *m);

#endif /* TERN_IPV6_MLD_H */
