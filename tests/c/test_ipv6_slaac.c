/* Unit tests of ipv6/slaac.h: RFC 4862 address bookkeeping, RFC 7217, RFC 8981. */
#include "check.h"
#include "ipv6/slaac.h"

#define S 1000000000ull

/* A scripted generator: returns the next value of `vals` (mod n), cycling. */
struct script {
    uint64_t vals[8];
    size_t n, i, calls;
};

static uint64_t scripted(void *ctx, uint64_t n) {
    struct script *sc = ctx;
    sc->calls++;
    uint64_t v = sc->vals[sc->i % sc->n];
    sc->i++;
    return v % n;
}

static tern_addr A(const char *text) {
    tern_addr a;
    CHECK_EQ_I64(tern_addr_parse(text, &a), TERN_OK);
    return a;
}

static void setup(struct tern_slaac *s, struct script *sc, bool stable, bool temporary,
                  uint8_t transmits) {
    struct tern_slaac_config cfg = {.mac = {0x02, 0, 0, 0, 0, 0x01},
                                    .iface = 0,
                                    .stable_iid = stable,
                                    .temporary = temporary,
                                    .dad_transmits = transmits,
                                    .rand_below = scripted,
                                    .rand_ctx = sc};
    for (int i = 0; i < 16; i++) {
        cfg.secret[i] = (uint8_t)i;
    }
    tern_slaac_init(s, &cfg);
}

static bool next(struct tern_slaac *s, uint64_t now, struct tern_slaac_event *ev) {
    return tern_slaac_next_event(s, now, ev);
}

static void test_identifiers(void) {
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, iid[8];
    tern_slaac_iid_eui64(mac, iid);
    /* RFC 4291 appendix A: 52:54:00:12:34:56 -> 5054:00ff:fe12:3456 */
    static const uint8_t want[8] = {0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56};
    CHECK(memcmp(iid, want, 8) == 0);
    tern_addr a = A("2001:db8::1:2:3"), sn = tern_slaac_solicited_node(&a);
    tern_addr want_sn = A("ff02::1:ff02:3");
    CHECK(tern_addr_eq(&sn, &want_sn));
    /* RFC 7217: the same inputs give the same identifier; a different
     * prefix, DAD counter, interface or secret gives another. */
    uint8_t key[16] = {1}, i1[8], i2[8];
    tern_addr p1 = A("2001:db8:1::"), p2 = A("2001:db8:2::");
    tern_slaac_iid_stable(key, &p1, 0, mac, 0, i1);
    tern_slaac_iid_stable(key, &p1, 0, mac, 0, i2);
    CHECK(memcmp(i1, i2, 8) == 0);
    tern_slaac_iid_stable(key, &p2, 0, mac, 0, i2);
    CHECK(memcmp(i1, i2, 8) != 0);
    tern_slaac_iid_stable(key, &p1, 0, mac, 1, i2);
    CHECK(memcmp(i1, i2, 8) != 0);
    tern_slaac_iid_stable(key, &p1, 1, mac, 0, i2);
    CHECK(memcmp(i1, i2, 8) != 0);
    key[0] = 2;
    tern_slaac_iid_stable(key, &p1, 0, mac, 0, i2);
    CHECK(memcmp(i1, i2, 8) != 0);
    /* RFC 5453 reserved identifiers. */
    uint8_t r0[8] = {0}, r1[8] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80};
    uint8_t r2[8] = {0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x12};
    uint8_t ok1[8] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    uint8_t ok2[8] = {0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13};
    CHECK(tern_slaac_iid_reserved(r0));
    CHECK(tern_slaac_iid_reserved(r1));
    CHECK(tern_slaac_iid_reserved(r2));
    CHECK(!tern_slaac_iid_reserved(ok1));
    CHECK(!tern_slaac_iid_reserved(ok2));
}

static void test_link_local_dad(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {300000000}, .n = 1};
    setup(&s, &sc, false, false, 1);
    CHECK(tern_slaac_start(&s, 5 * S));
    tern_addr ll = A("fe80::ff:fe00:1");
    const struct tern_slaac_addr *a = tern_slaac_find(&s, &ll);
    CHECK(a != NULL && a->state == TERN_SLAAC_TENTATIVE && !tern_slaac_usable(a));
    /* The join and the probe wait the random delay (0.3 s here). */
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 5 * S + 300000000);
    struct tern_slaac_event ev;
    CHECK(!next(&s, 5 * S + 299999999, &ev));
    CHECK(next(&s, 5 * S + 300000000, &ev));
    CHECK_EQ_U64(ev.kind, TERN_SLAAC_EV_DAD_PROBE);
    CHECK(tern_addr_eq(&ev.addr, &ll));
    CHECK(!next(&s, 5 * S + 300000000, &ev));
    /* RetransTimer (1 s) after the one probe the address is preferred. */
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 6 * S + 300000000);
    CHECK(!next(&s, 6 * S + 299999999, &ev));
    CHECK(next(&s, 6 * S + 300000000, &ev));
    CHECK_EQ_U64(ev.kind, TERN_SLAAC_EV_READY);
    CHECK(a->state == TERN_SLAAC_PREFERRED && tern_slaac_usable(a));
    CHECK_EQ_U64(tern_slaac_poll_at(&s), TERN_SLAAC_NEVER);
    /* The delay is drawn from [0, 1 s] inclusive. */
    CHECK_EQ_U64(sc.calls, 1);
}

static void test_dad_transmits(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {0}, .n = 1};
    setup(&s, &sc, false, false, 3);
    s.cfg.retrans_ns = 2 * S;
    CHECK(tern_slaac_start(&s, 0));
    struct tern_slaac_event ev;
    uint64_t probes[3] = {0, 2 * S, 4 * S};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_U64(tern_slaac_poll_at(&s), probes[i]);
        CHECK(next(&s, probes[i], &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    }
    CHECK(next(&s, 6 * S, &ev) && ev.kind == TERN_SLAAC_EV_READY);
    /* DupAddrDetectTransmits 0: no DAD, ready at once. */
    setup(&s, &sc, false, false, 0);
    CHECK(tern_slaac_start(&s, 0));
    CHECK(next(&s, 0, &ev) && ev.kind == TERN_SLAAC_EV_READY);
}

static void test_conflicts(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {0}, .n = 1};
    struct tern_slaac_event ev;
    /* EUI-64 link-local duplicated: disable IPv6 (RFC 4862 5.4.5). */
    setup(&s, &sc, false, false, 1);
    tern_slaac_start(&s, 0);
    CHECK(next(&s, 0, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    tern_addr ll = A("fe80::ff:fe00:1"), other = A("fe80::99");
    CHECK(!tern_slaac_dad_conflict(&s, S / 2, &other));
    CHECK(tern_slaac_dad_conflict(&s, S / 2, &ll));
    CHECK(next(&s, S / 2, &ev) && ev.kind == TERN_SLAAC_EV_DUPLICATE && ev.disable_ipv6);
    CHECK(s.disabled);
    CHECK(!next(&s, 10 * S, &ev));
    CHECK(!tern_slaac_usable(tern_slaac_find(&s, &ll)));
    struct tern_slaac_pio pio = {.prefix = A("2001:db8:1::"),
                                 .prefix_len = 64,
                                 .autonomous = true,
                                 .valid_s = 3600,
                                 .preferred_s = 1800};
    CHECK_EQ_U64(tern_slaac_prefix(&s, S, &pio, false), TERN_SLAAC_PIO_IGNORED);
    /* Stable identifiers: a new one (DAD_Counter + 1), at most 3 times. */
    setup(&s, &sc, true, false, 1);
    tern_slaac_start(&s, 0);
    tern_addr addrs[5];
    for (int i = 0; i < 5; i++) {
        CHECK(next(&s, (uint64_t)i, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
        addrs[i] = ev.addr;
        for (int j = 0; j < i; j++) {
            CHECK(!tern_addr_eq(&addrs[i], &addrs[j]));
        }
        CHECK(tern_slaac_dad_conflict(&s, (uint64_t)i, &ev.addr));
        CHECK(next(&s, (uint64_t)i, &ev) && ev.kind == TERN_SLAAC_EV_DUPLICATE);
        CHECK(!ev.disable_ipv6);
        if (i == 3) {
            break; /* the fourth conflict ends the tries */
        }
    }
    CHECK(!next(&s, 100 * S, &ev));
    CHECK_EQ_U64(s.a[0].state, TERN_SLAAC_DUPLICATED);
    CHECK_EQ_U64(s.a[0].dad_counter, 3);
}

static struct tern_slaac_pio pio64(const char *prefix, uint32_t valid, uint32_t pref) {
    struct tern_slaac_pio p = {.prefix = A(prefix),
                               .prefix_len = 64,
                               .autonomous = true,
                               .valid_s = valid,
                               .preferred_s = pref};
    return p;
}

static void test_prefix_rules(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {0}, .n = 1};
    setup(&s, &sc, false, false, 1);
    struct tern_slaac_pio p = pio64("2001:db8:1::", 3600, 1800);
    p.autonomous = false; /* (a) */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_IGNORED);
    p = pio64("fe80::", 3600, 1800); /* (b) */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_IGNORED);
    p = pio64("2001:db8:1::", 100, 200); /* (c) */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_IGNORED);
    p = pio64("2001:db8:1::", 3600, 1800);
    p.prefix_len = 48; /* (d) 48 + 64 != 128 */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_IGNORED);
    p = pio64("2001:db8:1::", 0, 0); /* (d) valid lifetime 0 */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_IGNORED);
    CHECK_EQ_U64(s.prefixes_ignored, 5);
    /* A good one: formed, tentative, DAD at once (unicast RA). */
    p = pio64("2001:db8:1::", 3600, 1800);
    CHECK_EQ_U64(tern_slaac_prefix(&s, 10 * S, &p, false), TERN_SLAAC_PIO_FORMED);
    tern_addr g = A("2001:db8:1:0:0:ff:fe00:1");
    const struct tern_slaac_addr *a = tern_slaac_find(&s, &g);
    CHECK(a != NULL && a->state == TERN_SLAAC_TENTATIVE);
    struct tern_slaac_event ev;
    CHECK(next(&s, 10 * S, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    CHECK(next(&s, 11 * S, &ev) && ev.kind == TERN_SLAAC_EV_READY);
    /* Deprecated when the preferred lifetime ends, removed at the valid one. */
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 1810 * S);
    CHECK(next(&s, 1810 * S, &ev) && ev.kind == TERN_SLAAC_EV_DEPRECATED);
    CHECK(a->state == TERN_SLAAC_DEPRECATED && tern_slaac_usable(a));
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 3610 * S);
    CHECK(!next(&s, 3610 * S - 1, &ev));
    CHECK(next(&s, 3610 * S, &ev) && ev.kind == TERN_SLAAC_EV_REMOVED);
    CHECK(tern_slaac_find(&s, &g) == NULL);
    /* Multicast RA: the DAD waits a random delay (0.7 s from the script). */
    sc.vals[0] = 700000000;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 4000 * S, &p, true), TERN_SLAAC_PIO_FORMED);
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 4000 * S + 700000000);
}

/* RFC 4862 section 5.5.3 (e), the two-hour rule. */
static void test_two_hours(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {0}, .n = 1};
    setup(&s, &sc, false, false, 1);
    struct tern_slaac_pio p = pio64("2001:db8:1::", 10800, 10800); /* 3 h */
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_FORMED);
    struct tern_slaac_addr *a = &s.a[0];
    /* A short valid lifetime (60 s) with 3 h remaining: reset to 2 hours (rule 3). */
    p.valid_s = 60;
    p.preferred_s = 30;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, 7200 * S);
    CHECK_EQ_U64(a->preferred_until, 30 * S); /* the preferred lifetime is simply reset */
    /* Remaining 2 h or less: a short one is ignored (rule 2). */
    p.valid_s = 10;
    p.preferred_s = 10;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 100 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, 7200 * S);
    /* Greater than the remaining lifetime: taken (rule 1). */
    p.valid_s = 7150;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 100 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, 7250 * S);
    /* Greater than 2 hours: taken (rule 1), also shorter than remaining. */
    p.valid_s = TERN_SLAAC_INFINITE;
    p.preferred_s = TERN_SLAAC_INFINITE;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 200 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, TERN_SLAAC_NEVER);
    p.valid_s = 7201;
    p.preferred_s = 0;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 200 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, (200 + 7201) * S);
    /* An infinite remaining lifetime is more than 2 hours: rule 3. */
    p.valid_s = p.preferred_s = TERN_SLAAC_INFINITE;
    tern_slaac_prefix(&s, 300 * S, &p, false);
    p.valid_s = 0;
    p.preferred_s = 0;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 300 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(a->valid_until, (300 + 7200) * S);
}

static void test_temporary(void) {
    struct tern_slaac s;
    /* desync draw 0; identifiers from the script (not reserved). */
    struct script sc = {.vals = {0, 0x12345678, 0x9abcdef0}, .n = 3};
    setup(&s, &sc, false, true, 1);
    s.cfg.temp_preferred_s = 1000;
    s.cfg.temp_valid_s = 3000;
    struct tern_slaac_pio p = pio64("2001:db8:1::", 86400, 86400);
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_FORMED);
    const struct tern_slaac_addr *pub = &s.a[0], *tmp = &s.a[1];
    CHECK_EQ_U64(pub->kind, TERN_SLAAC_PUBLIC);
    CHECK_EQ_U64(tmp->kind, TERN_SLAAC_TEMPORARY);
    tern_addr want = A("2001:db8:1:0:1234:5678:9abc:def0");
    CHECK(tern_addr_eq(&tmp->addr, &want));
    CHECK_EQ_U64(tmp->preferred_until, 1000 * S);
    CHECK_EQ_U64(tmp->valid_until, 3000 * S);
    struct tern_slaac_event ev;
    CHECK(next(&s, 0, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    CHECK(next(&s, 0, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    CHECK(next(&s, S, &ev) && ev.kind == TERN_SLAAC_EV_READY);
    CHECK(next(&s, S, &ev) && ev.kind == TERN_SLAAC_EV_READY);
    /* REGEN_ADVANCE = 2 + 3 x 1 x 1 = 5 s before deprecation, a successor. */
    CHECK_EQ_U64(tern_slaac_poll_at(&s), 995 * S);
    CHECK(next(&s, 995 * S, &ev) && ev.kind == TERN_SLAAC_EV_DAD_PROBE);
    CHECK(!tern_addr_eq(&ev.addr, &tmp->addr));
    CHECK_EQ_U64(s.a[2].kind, TERN_SLAAC_TEMPORARY);
    CHECK_EQ_U64(s.a[2].preferred_until, 1995 * S);
    CHECK(next(&s, 996 * S, &ev) && ev.kind == TERN_SLAAC_EV_READY);
    CHECK(next(&s, 1000 * S, &ev) && ev.kind == TERN_SLAAC_EV_DEPRECATED);
    CHECK(tern_addr_eq(&ev.addr, &tmp->addr));
    /* An RA that shortens the prefix caps the temporaries too. */
    p.valid_s = 7300;
    p.preferred_s = 100;
    CHECK_EQ_U64(tern_slaac_prefix(&s, 1100 * S, &p, false), TERN_SLAAC_PIO_UPDATED);
    CHECK_EQ_U64(s.a[2].preferred_until, 1200 * S);
    CHECK_EQ_U64(s.a[2].valid_until, (995 + 3000) * S);
    /* A temporary address whose preferred lifetime would not exceed
     * REGEN_ADVANCE is not made. */
    setup(&s, &sc, false, true, 1);
    p = pio64("2001:db8:2::", 600, 5);
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_FORMED);
    CHECK_EQ_U64(s.a[1].state, TERN_SLAAC_FREE);
}

static void test_table_full(void) {
    struct tern_slaac s;
    struct script sc = {.vals = {0}, .n = 1};
    setup(&s, &sc, false, false, 1);
    char text[32];
    for (int i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        snprintf(text, sizeof text, "2001:db8:%x::", i + 1);
        struct tern_slaac_pio p = pio64(text, 600, 600);
        CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_FORMED);
    }
    struct tern_slaac_pio p = pio64("2001:db8:99::", 600, 600);
    CHECK_EQ_U64(tern_slaac_prefix(&s, 0, &p, false), TERN_SLAAC_PIO_NO_ROOM);
    CHECK_EQ_U64(s.table_full, 1);
}

int main(void) {
    RUN(test_identifiers);
    RUN(test_link_local_dad);
    RUN(test_dad_transmits);
    RUN(test_conflicts);
    RUN(test_prefix_rules);
    RUN(test_two_hours);
    RUN(test_temporary);
    RUN(test_table_full);
    return check_summary();
}
