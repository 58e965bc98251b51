/* Unit tests of ipv6/mld.h: the MLDv2 listener (RFC 3810) and its MLDv1 mode. */
#include "check.h"
#include "ipv6/mld.h"

#define MS 1000000ull
#define S 1000000000ull

/* A generator that returns a fixed fraction of n (per mille), and counts calls. */
struct fixed {
    uint64_t permille;
    uint64_t last_n;
    unsigned calls;
};

static uint64_t fixed_below(void *ctx, uint64_t n) {
    struct fixed *f = ctx;
    f->calls++;
    f->last_n = n;
    return n / 1000 * f->permille;
}

static tern_addr A(const char *text) {
    tern_addr a;
    CHECK_EQ_I64(tern_addr_parse(text, &a), TERN_OK);
    return a;
}

static struct tern_mld_query general(uint32_t mrd_ms) {
    struct tern_mld_query q = {.version = 2, .max_resp_ms = mrd_ms, .qrv = 2};
    return q;
}

static void test_reportable(void) {
    tern_addr a = A("ff02::1");
    CHECK(!tern_mld_reportable(&a));
    a = A("ff01::5");
    CHECK(!tern_mld_reportable(&a));
    a = A("ff00::5");
    CHECK(!tern_mld_reportable(&a));
    a = A("ff02::1:ff00:1");
    CHECK(tern_mld_reportable(&a));
    a = A("ff05::1:3");
    CHECK(tern_mld_reportable(&a));
    a = A("ff02::2");
    CHECK(tern_mld_reportable(&a));
}

static void test_join_reports(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 250};
    tern_mld_init(&m, fixed_below, &f);
    tern_addr g = A("ff05::1:3");
    CHECK(tern_mld_join(&m, 2 * S, &g));
    CHECK(tern_mld_is_member(&m, &g));
    CHECK_EQ_U64(tern_mld_poll_at(&m), 2 * S);
    struct tern_mld_msg msg;
    CHECK(tern_mld_next_message(&m, 2 * S, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V2_REPORT);
    tern_addr r16 = A("ff02::16");
    CHECK(tern_addr_eq(&msg.dst, &r16));
    CHECK_EQ_U64(msg.nrecords, 1);
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_EXCLUDE);
    CHECK(tern_addr_eq(&msg.records[0].group, &g));
    CHECK_EQ_U64(msg.records[0].nsources, 0);
    CHECK(!tern_mld_next_message(&m, 2 * S, &msg));
    /* The one retransmission (Robustness 2) in (0, 1 s): drawn from 1 s - 1 ns. */
    CHECK_EQ_U64(f.last_n, S - 1);
    uint64_t re = 2 * S + 1 + (S - 1) / 1000 * 250;
    CHECK_EQ_U64(tern_mld_poll_at(&m), re);
    CHECK(!tern_mld_next_message(&m, re - 1, &msg));
    CHECK(tern_mld_next_message(&m, re, &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_EXCLUDE);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* A second join of the same group is a reference, not a change. */
    CHECK(tern_mld_join(&m, 5 * S, &g));
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    CHECK(tern_mld_leave(&m, 6 * S, &g));
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    CHECK(tern_mld_is_member(&m, &g));
    /* The last leave: CHANGE_TO_INCLUDE_MODE {}, twice, then the slot is free. */
    CHECK(tern_mld_leave(&m, 7 * S, &g));
    CHECK(!tern_mld_is_member(&m, &g));
    CHECK(tern_mld_next_message(&m, 7 * S, &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_INCLUDE);
    CHECK(tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_INCLUDE);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    CHECK(!m.g[0].in_use);
    CHECK(!tern_mld_leave(&m, 8 * S, &g));
    /* Groups never reported: joined silently. */
    tern_addr all = A("ff02::1"), node = A("ff01::7");
    CHECK(tern_mld_join(&m, 9 * S, &all));
    CHECK(tern_mld_join(&m, 9 * S, &node));
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    CHECK(tern_mld_is_member(&m, &node));
    CHECK(tern_mld_leave(&m, 9 * S, &node));
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
}

static void test_two_joins_one_report(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 500};
    tern_mld_init(&m, fixed_below, &f);
    tern_addr a = A("ff02::1:ff00:1"), b = A("ff02::1:ff00:2");
    tern_mld_join(&m, S, &a);
    tern_mld_join(&m, S, &b);
    struct tern_mld_msg msg;
    CHECK(tern_mld_next_message(&m, S, &msg));
    CHECK_EQ_U64(msg.nrecords, 2);
    CHECK(!tern_mld_next_message(&m, S, &msg));
}

static void test_general_query(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 500};
    tern_mld_init(&m, fixed_below, &f);
    tern_addr a = A("ff02::1:ff00:1"), b = A("ff05::2"), all = A("ff02::1");
    tern_mld_join(&m, 0, &a);
    tern_mld_join(&m, 0, &b);
    tern_mld_join(&m, 0, &all);
    struct tern_mld_msg msg;
    while (tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg)) {
    }
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* Maximum Response Delay 10 s: answered at 100 + 1 ns + half of (10 s - 1 ns). */
    struct tern_mld_query q = general(10000);
    tern_mld_query(&m, 100 * S, &q);
    uint64_t at = 100 * S + 1 + (10 * S - 1) / 1000 * 500;
    CHECK_EQ_U64(tern_mld_poll_at(&m), at);
    /* Rule 1: a second query whose delay ends later changes nothing. */
    tern_mld_query(&m, 101 * S, &q);
    CHECK_EQ_U64(tern_mld_poll_at(&m), at);
    CHECK(!tern_mld_next_message(&m, at - 1, &msg));
    CHECK(tern_mld_next_message(&m, at, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V2_REPORT);
    CHECK_EQ_U64(msg.nrecords, 2); /* ff02::1 is never reported */
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_MODE_IS_EXCLUDE);
    CHECK_EQ_U64(msg.records[1].type, TERN_MLD_MODE_IS_EXCLUDE);
    CHECK(!tern_mld_next_message(&m, at, &msg));
    /* Rule 2: a general query with an earlier delay replaces the pending one. */
    tern_mld_query(&m, 200 * S, &q);
    struct tern_mld_query quick = general(1000);
    tern_mld_query(&m, 201 * S, &quick);
    CHECK_EQ_U64(tern_mld_poll_at(&m), 201 * S + 1 + (S - 1) / 1000 * 500);
    /* Maximum Response Delay 0: at once. */
    while (tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg)) {
    }
    struct tern_mld_query zero = general(0);
    tern_mld_query(&m, 300 * S, &zero);
    CHECK_EQ_U64(tern_mld_poll_at(&m), 300 * S);
    CHECK_EQ_U64(m.queries_in, 5);
}

static void test_group_queries(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 100};
    tern_mld_init(&m, fixed_below, &f);
    tern_addr a = A("ff05::a"), other = A("ff05::b");
    tern_mld_join(&m, 0, &a);
    struct tern_mld_msg msg;
    while (tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg)) {
    }
    /* Not a listener of the queried group: nothing. */
    struct tern_mld_query q = {.version = 2, .max_resp_ms = 1000, .group = other};
    tern_mld_query(&m, 10 * S, &q);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* A group-specific query: MODE_IS_EXCLUDE {} for it. */
    q.group = a;
    tern_mld_query(&m, 10 * S, &q);
    uint64_t at = 10 * S + 1 + (S - 1) / 1000 * 100;
    CHECK_EQ_U64(tern_mld_poll_at(&m), at);
    CHECK(tern_mld_next_message(&m, at, &msg));
    CHECK_EQ_U64(msg.nrecords, 1);
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_MODE_IS_EXCLUDE);
    CHECK(tern_addr_eq(&msg.records[0].group, &a));
    /* A group-and-source-specific query: IS_IN (the queried sources). */
    uint8_t srcs[32] = {0x20,        0x01,        0x0d,        0xb8,        [15] = 1,
                        [16] = 0x20, [17] = 0x01, [18] = 0x0d, [19] = 0xb8, [31] = 2};
    q.nsources = 2;
    q.sources = srcs;
    tern_mld_query(&m, 20 * S, &q);
    /* A second one with an overlapping list: merged, the earlier time kept. */
    q.nsources = 1;
    q.sources = srcs + 16;
    tern_mld_query(&m, 20 * S + 1, &q);
    at = 20 * S + 1 + (S - 1) / 1000 * 100;
    CHECK_EQ_U64(tern_mld_poll_at(&m), at);
    CHECK(tern_mld_next_message(&m, at, &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_MODE_IS_INCLUDE);
    CHECK_EQ_U64(msg.records[0].nsources, 2);
    CHECK(memcmp(msg.records[0].sources, srcs, 32) == 0);
    /* A group query on top of a pending source query: the whole group. */
    q.nsources = 2;
    q.sources = srcs;
    tern_mld_query(&m, 30 * S, &q);
    q.nsources = 0;
    tern_mld_query(&m, 30 * S, &q);
    CHECK(tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_MODE_IS_EXCLUDE);
    /* Leaving cancels a pending answer. */
    tern_mld_query(&m, 40 * S, &q);
    tern_mld_leave(&m, 40 * S, &a);
    CHECK(tern_mld_next_message(&m, 40 * S, &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_INCLUDE);
    CHECK(tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg));
    CHECK_EQ_U64(msg.records[0].type, TERN_MLD_CHANGE_TO_INCLUDE);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
}

static void test_qrv(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 0};
    tern_mld_init(&m, fixed_below, &f);
    struct tern_mld_query q = general(1000);
    q.qrv = 3;
    tern_mld_query(&m, 0, &q);
    CHECK_EQ_U64(m.robustness, 3);
    q.qrv = 0; /* zero leaves it alone */
    tern_mld_query(&m, 0, &q);
    CHECK_EQ_U64(m.robustness, 3);
    tern_addr g = A("ff05::3");
    tern_mld_join(&m, 5 * S, &g);
    struct tern_mld_msg msg;
    int reports = 0;
    uint64_t t = 5 * S;
    while (t != TERN_MLD_NEVER && tern_mld_next_message(&m, t, &msg)) {
        reports += msg.records[0].type == TERN_MLD_CHANGE_TO_EXCLUDE;
        t = tern_mld_poll_at(&m);
    }
    CHECK_EQ_I64(reports, 3);
}

static void test_v1_mode(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 500};
    tern_mld_init(&m, fixed_below, &f);
    tern_addr a = A("ff05::a"), b = A("ff05::b");
    tern_mld_join(&m, 0, &a);
    /* An MLDv1 query cancels the pending v2 retransmission and answers
     * with an MLDv1 report after a delay in [0, 5 s]. */
    struct tern_mld_msg msg;
    CHECK(tern_mld_next_message(&m, 0, &msg));
    struct tern_mld_query q1 = {.version = 1, .max_resp_ms = 5000};
    tern_mld_query(&m, S, &q1);
    CHECK_EQ_U64(f.last_n, 5 * S + 1);
    uint64_t at = S + (5 * S + 1) / 1000 * 500;
    CHECK_EQ_U64(tern_mld_poll_at(&m), at);
    CHECK(tern_mld_next_message(&m, at, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V1_REPORT);
    CHECK(tern_addr_eq(&msg.dst, &a));
    CHECK(tern_addr_eq(&msg.v1_group, &a));
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* MLDv2 queries are ignored in MLDv1 mode. */
    struct tern_mld_query q2 = general(1000);
    tern_mld_query(&m, 10 * S, &q2);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* A join in MLDv1 mode: MLDv1 reports to the group, twice. */
    tern_mld_join(&m, 20 * S, &b);
    CHECK(tern_mld_next_message(&m, 20 * S, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V1_REPORT);
    CHECK(tern_addr_eq(&msg.dst, &b));
    CHECK(tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V1_REPORT);
    /* Another listener's report suppresses ours, and then leaving is silent. */
    tern_mld_query(&m, 30 * S, &q1);
    tern_mld_v1_report_heard(&m, 30 * S, &a);
    CHECK(tern_mld_next_message(&m, tern_mld_poll_at(&m), &msg));
    CHECK(tern_addr_eq(&msg.v1_group, &b)); /* only b answers */
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    tern_mld_leave(&m, 40 * S, &a);
    CHECK_EQ_U64(tern_mld_poll_at(&m), TERN_MLD_NEVER);
    /* b sent the last report: its leave is a Done to ff02::2. */
    tern_mld_leave(&m, 41 * S, &b);
    CHECK(tern_mld_next_message(&m, 41 * S, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V1_DONE);
    tern_addr routers = A("ff02::2");
    CHECK(tern_addr_eq(&msg.dst, &routers));
    CHECK(!tern_mld_next_message(&m, 41 * S, &msg));
    /* Older Version Querier Present Timeout: 2 x 125 s + 10 s after the
     * last MLDv1 query (at 30 s); then MLDv2 again. */
    CHECK_EQ_U64(m.v1_until, 30 * S + 260 * S);
    tern_mld_join(&m, 290 * S - 1, &a);
    CHECK(tern_mld_next_message(&m, 290 * S - 1, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V1_REPORT);
    tern_mld_join(&m, 290 * S, &b);
    CHECK(tern_mld_next_message(&m, 290 * S, &msg));
    CHECK_EQ_U64(msg.kind, TERN_MLD_MSG_V2_REPORT);
}

static void test_full(void) {
    struct tern_mld m;
    struct fixed f = {.permille = 0};
    tern_mld_init(&m, fixed_below, &f);
    char text[32];
    for (int i = 0; i < TERN_MLD_MAX_GROUPS; i++) {
        snprintf(text, sizeof text, "ff05::%x", i + 1);
        tern_addr g = A(text);
        CHECK(tern_mld_join(&m, 0, &g));
    }
    tern_addr g = A("ff05::99");
    CHECK(!tern_mld_join(&m, 0, &g));
    CHECK_EQ_U64(m.groups_full, 1);
    struct tern_mld_msg msg;
    CHECK(tern_mld_next_message(&m, 0, &msg));
    CHECK_EQ_U64(msg.nrecords, TERN_MLD_MAX_GROUPS);
}

int main(void) {
    RUN(test_reportable);
    RUN(test_join_reports);
    RUN(test_two_joins_one_report);
    RUN(test_general_query);
    RUN(test_group_queries);
    RUN(test_qrv);
    RUN(test_v1_mode);
    RUN(test_full);
    return check_summary();
}
