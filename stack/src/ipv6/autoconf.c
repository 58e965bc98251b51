/*
 * IPv6 host autoconfiguration (see ipv6/autoconf.h): DAD and SLAAC (RFC
 * 4862) through ipv6/slaac.c, the MLDv2 listener (RFC 3810) through
 * ipv6/mld.c, Router Discovery's host side (RFC 4861 sections 6.3.4, 6.3.6,
 * 6.3.7) and RFC 6724 source selection through ipv6/addrsel.c.
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6/addrsel.h"
#include "ipv6_state.h"
#include "tern/prng.h"
#include "wire/mld.h"

#define NS_PER_S 1000000000ull

static const uint8_t ALL_ROUTERS[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* RFC 3810 section 5: "MLDv2 messages ... MUST be sent ... with an IPv6 Router Alert option
 * [RFC2711] in a Hop-by-Hop Options header": Router Alert (type 5, length 2, value 0 = MLD)
 * and a PadN of two bytes to fill the 8. */
static const uint8_t ROUTER_ALERT_HBH[8] = {0, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00};

static uint64_t ac_rand(void *ctx, uint64_t n) {
    tern_stack *st = ctx;
    return tern_rng_below(&st->ip6->ac_rng, n);
}

static tern_ac_iface *ac_of(tern_stack *st, uint32_t iface) {
    return &st->ip6->ac[iface];
}

static uint8_t dad_transmits(const tern_stack *st) {
    if (!st->cfg.ipv6_autoconf || st->cfg.ipv6_dad_transmits == TERN_DAD_OFF) {
        return 0;
    }
    return st->cfg.ipv6_dad_transmits;
}

static uint8_t origin_of(uint8_t kind) {
    switch (kind) {
    case TERN_SLAAC_LINK_LOCAL:
        return TERN_ADDR6_LINK_LOCAL;
    case TERN_SLAAC_PUBLIC:
        return TERN_ADDR6_SLAAC;
    case TERN_SLAAC_TEMPORARY:
        return TERN_ADDR6_TEMPORARY;
    default:
        return TERN_ADDR6_STATIC;
    }
}

/* ---- sending ------------------------------------------------------------------------- */

/* The link-local address of iface if it may be used as a source (not tentative). */
static bool usable_link_local(const tern_stack *st, uint32_t iface, tern_addr *out) {
    const tern_iface *f = &st->iface[iface];
    for (uint32_t a = 0; a < f->naddrs6; a++) {
        if (tern_ipv6_is_link_local(&f->addr6[a].addr) &&
            f->addr6[a].state != TERN_ADDR6_TENTATIVE) {
            *out = f->addr6[a].addr;
            return true;
        }
    }
    return false;
}

static void send_mld(tern_stack *st, uint64_t now, uint32_t iface, const struct tern_mld_msg *msg) {
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    /* RFC 3810 section 5.2.13: "An MLDv2 Report MUST be sent with a valid IPv6 link-local
     * source address, or the unspecified address (::), if the sending interface has not acquired
     * a valid link-local address yet." */
    if (!usable_link_local(st, iface, &tx.src)) {
        tx.src = tern_addr_v6_from_bytes((const uint8_t[16]){0});
        tx.unspecified_src = true;
    }
    tx.dst = msg->dst;
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.hop_limit = 1; /* RFC 3810 section 5: "an IPv6 Hop Limit of 1" */
    tx.hbh = ROUTER_ALERT_HBH;
    tx.hbh_len = sizeof ROUTER_ALERT_HBH;
    tx.oif = iface + 1;
    uint8_t *buf = tern_ip_tx_payload(st);
    size_t w = 0;
    tern_err err;
    if (msg->kind == TERN_MLD_MSG_V2_REPORT) {
        err = tern_mld_report_emit(msg->records, msg->nrecords, &tx.src, &tx.dst, buf,
                                   TERN_IP_PAYLOAD_MAX, &w);
    } else {
        uint8_t type = msg->kind == TERN_MLD_MSG_V1_DONE ? TERN_MLD_V1_DONE : TERN_MLD_V1_REPORT;
        err =
            tern_mld_v1_emit(type, &msg->v1_group, &tx.src, &tx.dst, buf, TERN_IP_PAYLOAD_MAX, &w);
    }
    if (err == TERN_OK && tern_ipv6_send(st, now, &tx, w) == TERN_OK) {
        st->c.mld_reports_sent++;
    }
}

static void flush_mld(tern_stack *st, uint64_t now, uint32_t iface) {
    struct tern_mld_msg msg;
    /* Each call consumes what it returns: at most a few messages per group. */
    while (tern_mld_next_message(&ac_of(st, iface)->mld, now, &msg)) {
        send_mld(st, now, iface, &msg);
    }
}

static void send_rs(tern_stack *st, uint64_t now, uint32_t iface) {
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    /* RFC 4861 section 6.3.7: "The IP source address is set to either one of the interface's
     * unicast addresses or the unspecified address. The Source Link-Layer Address option SHOULD
     * be set to the host's link-layer address, if the IP source address is not the unspecified
     * address." */
    struct tern_ndp_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_RS;
    if (usable_link_local(st, iface, &tx.src)) {
        r.opts.has_sll = true;
        memcpy(r.opts.sll, st->iface[iface].mac, 6);
    } else {
        tx.src = tern_addr_v6_from_bytes((const uint8_t[16]){0});
        tx.unspecified_src = true;
    }
    tx.dst = tern_addr_v6_from_bytes(ALL_ROUTERS);
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.hop_limit = 255; /* RFC 4861 section 4.1: Hop Limit 255 */
    tx.oif = iface + 1;
    size_t w;
    if (tern_ndp_emit(&r, &tx.src, &tx.dst, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) ==
            TERN_OK &&
        tern_ipv6_send(st, now, &tx, w) == TERN_OK) {
        st->c.nd_rs_sent++;
    }
}

/* ---- the solicited-node groups of our addresses ---------------------------------------- */

static void sn_join(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *addr,
                    bool announce) {
    tern_ac_iface *ac = ac_of(st, iface);
    tern_ac_sn *free_sn = NULL;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (ac->sn[i].used && tern_addr_eq(&ac->sn[i].addr, addr)) {
            return; /* joined already for this address */
        }
        if (!ac->sn[i].used && free_sn == NULL) {
            free_sn = &ac->sn[i];
        }
    }
    if (free_sn == NULL) {
        return;
    }
    free_sn->used = true;
    free_sn->addr = *addr;
    /* RFC 4862 section 5.4.2: "the node MUST join ... the solicited-node multicast address of
     * the tentative address"; several addresses may share a group (reference counted). */
    tern_addr sn = tern_ipv6_solicited_node(addr);
    if (announce) {
        tern_mld_join(&ac->mld, now, &sn);
    } else {
        tern_mld_join_silent(&ac->mld, &sn);
    }
}

static void sn_leave(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *addr) {
    tern_ac_iface *ac = ac_of(st, iface);
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (ac->sn[i].used && tern_addr_eq(&ac->sn[i].addr, addr)) {
            ac->sn[i].used = false;
            tern_addr sn = tern_ipv6_solicited_node(addr);
            tern_mld_leave(&ac->mld, now, &sn);
            return;
        }
    }
}

/* ---- the address table follows the SLAAC state ----------------------------------------- */

static void put_addr(tern_stack *st, uint32_t iface, const struct tern_slaac_addr *s) {
    int ai = tern_ipv6_addr_index(st, iface, &s->addr);
    if (ai < 0) {
        if (tern_ipv6_add_addr(st, iface, &s->addr, s->prefix_len, TERN_ADDR6_TENTATIVE,
                               origin_of(s->kind)) != TERN_OK) {
            return;
        }
        ai = tern_ipv6_addr_index(st, iface, &s->addr);
    }
    tern_ifaddr6 *a = &st->iface[iface].addr6[ai];
    a->state = s->state == TERN_SLAAC_PREFERRED    ? TERN_ADDR6_PREFERRED
               : s->state == TERN_SLAAC_DEPRECATED ? TERN_ADDR6_DEPRECATED
                                                   : TERN_ADDR6_TENTATIVE;
    a->preferred_until = s->preferred_until;
    a->valid_until = s->valid_until;
}

/* Newly formed (tentative) addresses enter the table at once, so that ND sees DAD traffic for
 * them and their solicited-node group reaches us during the delay (RFC 4862 section 5.4.2). */
static void sync_new(tern_stack *st, uint32_t iface) {
    const struct tern_slaac *s = &ac_of(st, iface)->slaac;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state == TERN_SLAAC_TENTATIVE &&
            tern_ipv6_addr_index(st, iface, &s->a[i].addr) < 0) {
            put_addr(st, iface, &s->a[i]);
        }
    }
}

/* Lifetimes and states changed by an RA (RFC 4862 5.5.3 (e)) reach the table. */
static void sync_states(tern_stack *st, uint32_t iface) {
    const struct tern_slaac *s = &ac_of(st, iface)->slaac;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state != TERN_SLAAC_FREE && s->a[i].state != TERN_SLAAC_DUPLICATED &&
            tern_ipv6_addr_index(st, iface, &s->a[i].addr) >= 0) {
            put_addr(st, iface, &s->a[i]);
        }
    }
}

static void start_rs(tern_stack *st, uint64_t now, uint32_t iface, bool delayed) {
    tern_ac_iface *ac = ac_of(st, iface);
    if (ac->rs_sent > 0 || ac->rs_at != TERN_NEVER) {
        return;
    }
    /* RFC 4861 section 6.3.7: "Before a host sends an initial solicitation, it SHOULD delay the
     * transmission for a random amount of time between 0 and MAX_RTR_SOLICITATION_DELAY. ... If a
     * host has already performed a random delay since the interface became (re)enabled (e.g., as
     * part of Duplicate Address Detection [ADDRCONF]), there is no need to delay again before
     * sending the first Router Solicitation message." */
    ac->rs_at = now;
    if (!delayed) {
        ac->rs_at += tern_rng_below(&st->ip6->ac_rng, TERN_AC_MAX_RTR_SOLICITATION_DELAY_NS + 1);
    }
}

static void handle_events(tern_stack *st, uint64_t now, uint32_t iface) {
    tern_ac_iface *ac = ac_of(st, iface);
    struct tern_slaac_event ev;
    while (tern_slaac_next_event(&ac->slaac, now, &ev)) {
        const struct tern_slaac_addr *s = tern_slaac_find(&ac->slaac, &ev.addr);
        switch (ev.kind) {
        case TERN_SLAAC_EV_DAD_PROBE:
            if (s != NULL) {
                put_addr(st, iface, s);
            }
            /* Join first (its report goes out now), then the solicitation, from :: to the
             * tentative address's solicited-node group (RFC 4862 section 5.4.2). */
            sn_join(st, now, iface, &ev.addr, true);
            flush_mld(st, now, iface);
            tern_nd_send_ns(st, now, iface, &(tern_addr){.family = TERN_AF_INET6}, NULL, &ev.addr,
                            false);
            st->c.dad_probes_sent++;
            break;
        case TERN_SLAAC_EV_READY:
            if (s != NULL) {
                put_addr(st, iface, s);
            }
            sn_join(st, now, iface, &ev.addr, true);
            if (ev.addr_kind == TERN_SLAAC_LINK_LOCAL && st->cfg.ipv6_autoconf) {
                start_rs(st, now, iface, dad_transmits(st) > 0);
            }
            break;
        case TERN_SLAAC_EV_DEPRECATED:
            if (s != NULL) {
                put_addr(st, iface, s);
            }
            break;
        case TERN_SLAAC_EV_REMOVED:
        case TERN_SLAAC_EV_DUPLICATE:
            if (tern_ipv6_addr_index(st, iface, &ev.addr) >= 0) {
                tern_ipv6_del_addr(st, iface, &ev.addr);
            }
            sn_leave(st, now, iface, &ev.addr);
            if (ev.kind == TERN_SLAAC_EV_DUPLICATE) {
                st->c.dad_duplicates++;
                if (ev.disable_ipv6) {
                    ac->disabled = true;
                    ac->rs_at = TERN_NEVER;
                }
            } else {
                st->c.slaac_addrs_expired++;
            }
            break;
        default:
            break;
        }
        /* A replacement identifier after a conflict is tentative at once. */
        sync_new(st, iface);
    }
    flush_mld(st, now, iface);
}

/* ---- init, poll ----------------------------------------------------------------------- */

void tern_ac_init(tern_stack *st) {
    tern_ipv6_module *m = st->ip6;
    /* A stream of its own: autoconfiguration never shifts ND's or fragment ids' draws. */
    tern_rng_seed(&m->ac_rng, st->cfg.seed, 7);
    uint8_t secret[16];
    memcpy(secret, st->cfg.ipv6_secret, 16);
    static const uint8_t zero[16] = {0};
    if (memcmp(secret, zero, 16) == 0) {
        /* No secret configured: one derived from the seed (stable for a given seed). */
        uint64_t x = st->cfg.seed ^ 0x7217721772177217ull;
        for (int i = 0; i < 16; i += 8) {
            uint64_t v = tern_splitmix64_next(&x);
            memcpy(secret + i, &v, 8);
        }
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_ac_iface *ac = &m->ac[i];
        memset(ac, 0, sizeof *ac);
        ac->rs_at = TERN_NEVER;
        struct tern_slaac_config sc;
        memset(&sc, 0, sizeof sc);
        memcpy(sc.mac, st->iface[i].mac, 6);
        sc.iface = i;
        sc.stable_iid = st->cfg.ipv6_stable_iid;
        memcpy(sc.secret, secret, 16);
        sc.temporary = st->cfg.ipv6_temporary;
        sc.temp_valid_s = st->cfg.ipv6_temp_valid_s;
        sc.temp_preferred_s = st->cfg.ipv6_temp_preferred_s;
        sc.dad_transmits = dad_transmits(st);
        sc.retrans_ns = m->nd_if[i].retrans_ns;
        sc.rand_below = ac_rand;
        sc.rand_ctx = st;
        tern_slaac_init(&ac->slaac, &sc);
        tern_mld_init(&ac->mld, ac_rand, st);
        tern_iface *f = &st->iface[i];
        if (!st->cfg.ipv6_autoconf) {
            /* Addresses are usable at once; their groups are listened to without a report. */
            for (uint32_t a = 0; a < f->naddrs6; a++) {
                sn_join(st, 0, i, &f->addr6[a].addr, false);
            }
            continue;
        }
        /* RFC 4862 section 5.3: the link-local address first, tentative until DAD says. */
        if (f->naddrs6 > 0 && f->addr6[0].origin == TERN_ADDR6_LINK_LOCAL &&
            tern_slaac_start(&ac->slaac, 0)) {
            const struct tern_slaac_addr *ll = &ac->slaac.a[0];
            f->addr6[0].addr = ll->addr; /* the RFC 7217 one when configured */
            f->addr6[0].state = TERN_ADDR6_TENTATIVE;
        }
        for (uint32_t a = 0; a < f->naddrs6; a++) {
            if (f->addr6[a].origin == TERN_ADDR6_STATIC &&
                tern_slaac_add_static(&ac->slaac, 0, &f->addr6[a].addr, f->addr6[a].prefix_len)) {
                f->addr6[a].state = TERN_ADDR6_TENTATIVE;
            }
        }
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

static void expire_lists(tern_stack *st, uint64_t now, uint32_t iface) {
    tern_ac_iface *ac = ac_of(st, iface);
    for (size_t r = 0; r < TERN_AC_ROUTERS; r++) {
        /* RFC 4861 section 6.3.5: "Whenever the invalidation timer expires for a Default Router
         * List entry, the entry is discarded." */
        if (ac->routers[r].used && ac->routers[r].until <= now) {
            ac->routers[r].used = false;
            st->c.nd_routers_expired++;
        }
    }
    for (size_t p = 0; p < TERN_AC_PREFIXES; p++) {
        /* "Whenever the invalidation timer expires for a Prefix List entry, that entry is
         * discarded." */
        if (ac->prefixes[p].used && ac->prefixes[p].until <= now) {
            ac->prefixes[p].used = false;
        }
    }
}

void tern_ac_poll(tern_stack *st, uint64_t now) {
    st->ip6->ac_now = now;
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_ac_iface *ac = ac_of(st, i);
        expire_lists(st, now, i);
        handle_events(st, now, i);
        if (ac->rs_at <= now && !ac->disabled) {
            send_rs(st, now, i);
            ac->rs_sent++;
            /* RFC 4861 section 6.3.7: up to MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL
             * apart; an RA that came before the first one ends them after it. */
            bool more = ac->rs_sent < TERN_AC_MAX_RTR_SOLICITATIONS && !ac->rs_done;
            ac->rs_at = more ? now + TERN_AC_RTR_SOLICITATION_INTERVAL_NS : TERN_NEVER;
        }
        flush_mld(st, now, i);
    }
}

uint64_t tern_ac_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    for (uint32_t i = 0; i < st->niface; i++) {
        const tern_ac_iface *ac = &st->ip6->ac[i];
        t = min_u64(t, tern_slaac_poll_at(&ac->slaac));
        t = min_u64(t, tern_mld_poll_at(&ac->mld));
        if (!ac->disabled) {
            t = min_u64(t, ac->rs_at);
        }
        for (size_t r = 0; r < TERN_AC_ROUTERS; r++) {
            if (ac->routers[r].used) {
                t = min_u64(t, ac->routers[r].until);
            }
        }
        for (size_t p = 0; p < TERN_AC_PREFIXES; p++) {
            if (ac->prefixes[p].used) {
                t = min_u64(t, ac->prefixes[p].until);
            }
        }
    }
    return t;
}

/* ---- Router Advertisements ---------------------------------------------------------------- */

static uint64_t lifetime_until(uint64_t now, uint32_t seconds) {
    return seconds == 0xffffffffu ? TERN_NEVER : now + (uint64_t)seconds * NS_PER_S;
}

static void update_router(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *router,
                          uint16_t lifetime) {
    tern_ac_iface *ac = ac_of(st, iface);
    tern_ac_router *e = NULL, *free_e = NULL;
    for (size_t r = 0; r < TERN_AC_ROUTERS; r++) {
        if (ac->routers[r].used && tern_addr_eq(&ac->routers[r].addr, router)) {
            e = &ac->routers[r];
        } else if (!ac->routers[r].used && free_e == NULL) {
            free_e = &ac->routers[r];
        }
    }
    /* RFC 4861 section 6.3.4: "If the address is already present in the host's Default Router
     * List and the received Router Lifetime value is zero, immediately time-out the entry" */
    if (e != NULL && lifetime == 0) {
        e->used = false;
        return;
    }
    if (e == NULL) {
        /* "If the address is not already present in the host's Default Router List, and the
         * advertisement's Router Lifetime is non-zero, create a new entry in the list" */
        if (lifetime == 0) {
            return;
        }
        if (free_e == NULL) {
            st->c.nd_routers_full++;
            return;
        }
        e = free_e;
        e->used = true;
        e->addr = *router;
    }
    /* "initialize its invalidation timer value from the advertisement's Router Lifetime field"
     * / "reset its invalidation timer to the Router Lifetime value" */
    e->until = now + (uint64_t)lifetime * NS_PER_S;
}

static void update_prefix(tern_stack *st, uint64_t now, uint32_t iface,
                          const struct tern_ndp_prefix *p) {
    tern_ac_iface *ac = ac_of(st, iface);
    /* RFC 4861 section 6.3.4: "If the prefix is the link-local prefix, silently ignore the
     * Prefix Information option." / on-link flag clear: no on-link information. */
    if (!p->on_link || tern_ipv6_is_link_local(&p->prefix)) {
        return;
    }
    tern_ac_prefix *e = NULL, *free_e = NULL;
    for (size_t i = 0; i < TERN_AC_PREFIXES; i++) {
        tern_ac_prefix *x = &ac->prefixes[i];
        if (x->used && x->len == p->prefix_len &&
            tern_addr_prefix_match(&x->prefix, &p->prefix, p->prefix_len)) {
            e = x;
        } else if (!x->used && free_e == NULL) {
            free_e = x;
        }
    }
    if (e == NULL) {
        /* "If the prefix is not already in the Prefix List, and the Prefix Information option's
         * Valid Lifetime field is non-zero, create a new entry for the prefix" */
        if (p->valid_lifetime == 0 || free_e == NULL) {
            return;
        }
        e = free_e;
        e->used = true;
        e->prefix = p->prefix;
        e->len = p->prefix_len;
    } else if (p->valid_lifetime == 0) {
        /* "If the new Lifetime value is zero, time-out the prefix immediately." */
        e->used = false;
        return;
    }
    e->until = lifetime_until(now, p->valid_lifetime);
}

void tern_ac_router_advert(tern_stack *st, uint64_t now, uint32_t iface,
                           const struct tern_ipv6_repr *ip, const struct tern_ndp_repr *ra) {
    tern_ipv6_module *m = st->ip6;
    tern_ac_iface *ac = ac_of(st, iface);
    m->ac_now = now;
    if (ac->disabled) {
        return;
    }
    tern_slaac_set_retrans(&ac->slaac, m->nd_if[iface].retrans_ns);
    update_router(st, now, iface, &ip->src, ra->router_lifetime);
    if (ra->router_lifetime != 0) {
        /* RFC 4861 section 6.3.7: "Once the host sends a Router Solicitation, and receives a
         * valid Router Advertisement with a non-zero Router Lifetime, the host MUST desist from
         * sending additional solicitations on that interface"; "a host SHOULD send at least one
         * solicitation in the case where an advertisement is received prior to having sent a
         * solicitation." */
        ac->rs_done = true;
        if (ac->rs_sent > 0) {
            ac->rs_at = TERN_NEVER;
        }
    }
    bool slaac = st->cfg.ipv6_autoconf && !st->cfg.ipv6_no_slaac;
    for (uint8_t i = 0; i < ra->opts.nprefix; i++) {
        const struct tern_ndp_prefix *p = &ra->opts.prefix[i];
        update_prefix(st, now, iface, p);
        if (!slaac) {
            continue;
        }
        struct tern_slaac_pio pio = {.prefix = p->prefix,
                                     .prefix_len = p->prefix_len,
                                     .autonomous = p->autonomous,
                                     .valid_s = p->valid_lifetime,
                                     .preferred_s = p->preferred_lifetime};
        enum tern_slaac_pio_result r =
            tern_slaac_prefix(&ac->slaac, now, &pio, tern_addr_is_multicast(&ip->dst));
        if (r == TERN_SLAAC_PIO_FORMED) {
            st->c.slaac_addrs_formed++;
        } else if (r == TERN_SLAAC_PIO_IGNORED || r == TERN_SLAAC_PIO_NO_ROOM) {
            st->c.slaac_prefixes_ignored++;
        }
        sync_new(st, iface);
    }
    sync_states(st, iface);
    handle_events(st, now, iface);
}

/* ---- DAD and MLD input ----------------------------------------------------------------------- */

void tern_ac_dad_input(tern_stack *st, uint64_t now, uint32_t iface, const tern_addr *target,
                       bool from_ns, const struct tern_ipv6_repr *ip) {
    st->ip6->ac_now = now;
    /* RFC 4862 section 5.4.3: a solicitation for a tentative address from a unicast source is
     * address resolution: "the solicitation is silently discarded"; from :: it is another node's
     * DAD: the address is a duplicate. Section 5.4.4: any advertisement for it is. */
    if (from_ns && !tern_addr_is_unspecified(&ip->src)) {
        return;
    }
    if (tern_slaac_dad_conflict(&ac_of(st, iface)->slaac, now, target)) {
        handle_events(st, now, iface);
    }
}

void tern_ac_mld_input(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *icmp) {
    st->ip6->ac_now = now;
    tern_ac_iface *ac = ac_of(st, iface);
    /* MLD messages have the 4-byte ICMPv6 header only before their body. */
    const uint8_t *msg = icmp->payload - TERN_ICMPV6_HDR_LEN;
    size_t len = icmp->payload_len + TERN_ICMPV6_HDR_LEN;
    struct tern_mld_repr r;
    if (tern_mld_parse(msg, len, NULL, NULL, &r) != TERN_OK) {
        st->c.mld_malformed++;
        return;
    }
    if (r.type == TERN_MLD_QUERY) {
        /* RFC 3810 section 5.1.14: "If a node (router or host) receives a Query message with
         * the IPv6 Source Address set to the unspecified address (::), or any other address that
         * is not a valid IPv6 link-local address, it MUST silently discard the message" */
        if (!tern_ipv6_is_link_local(&ip->src)) {
            st->c.mld_bad_queries++;
            return;
        }
        st->c.mld_queries_in++;
        tern_mld_query(&ac->mld, now, &r.query);
        flush_mld(st, now, iface);
    } else if (r.type == TERN_MLD_V1_REPORT) {
        tern_mld_v1_report_heard(&ac->mld, now, &r.v1_group);
    }
}

/* ---- routing ------------------------------------------------------------------------------ */

static bool router_usable(const tern_stack *st, const tern_ac_router *r, bool known_only) {
    if (!r->used || r->until <= st->ip6->ac_now) {
        return false;
    }
    if (!known_only) {
        return true;
    }
    /* RFC 4861 section 6.3.6: "routers that are reachable or probably reachable (i.e., in any
     * state other than INCOMPLETE) SHOULD be preferred over routers whose reachability is unknown
     * or suspect." */
    uint8_t mac[6];
    int s = tern_nd_state_of(st, &r->addr, mac);
    return s != TERN_ND_FREE && s != TERN_ND_INCOMPLETE;
}

bool tern_ac_default_router(const tern_stack *st, uint32_t iface_hint, uint32_t *iface,
                            tern_addr *router) {
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < st->niface; k++) {
            /* The hinted interface (the source's) first. */
            uint32_t i = k == 0 ? iface_hint : (k == iface_hint ? 0 : k);
            if (i >= st->niface || st->ip6->ac[i].disabled) {
                continue;
            }
            const tern_ac_iface *ac = &st->ip6->ac[i];
            for (size_t r = 0; r < TERN_AC_ROUTERS; r++) {
                if (router_usable(st, &ac->routers[r], pass == 0)) {
                    *iface = i;
                    *router = ac->routers[r].addr;
                    return true;
                }
            }
        }
    }
    return false;
}

void tern_ac_router_lost(tern_stack *st, uint32_t iface, const tern_addr *router) {
    tern_ac_iface *ac = ac_of(st, iface);
    for (size_t r = 0; r < TERN_AC_ROUTERS; r++) {
        if (ac->routers[r].used && tern_addr_eq(&ac->routers[r].addr, router)) {
            ac->routers[r].used = false;
        }
    }
}

bool tern_ac_onlink(const tern_stack *st, const tern_addr *dst, unsigned *len, uint32_t *iface) {
    bool found = false;
    for (uint32_t i = 0; i < st->niface; i++) {
        const tern_ac_iface *ac = &st->ip6->ac[i];
        for (size_t p = 0; p < TERN_AC_PREFIXES; p++) {
            const tern_ac_prefix *x = &ac->prefixes[p];
            if (x->used && x->until > st->ip6->ac_now && (!found || x->len > *len) &&
                tern_addr_prefix_match(&x->prefix, dst, x->len)) {
                *len = x->len;
                *iface = i;
                found = true;
            }
        }
    }
    return found;
}

bool tern_ac_select_source(const tern_stack *st, uint32_t iface, const tern_addr *dst,
                           tern_addr *out) {
    if (st->ip6->ac[iface].disabled) {
        return false;
    }
    const tern_iface *f = &st->iface[iface];
    struct tern_addrsel_cand c[TERN_MAX_IFACE_ADDRS6];
    size_t n = 0;
    for (uint32_t a = 0; a < f->naddrs6; a++) {
        const tern_ifaddr6 *x = &f->addr6[a];
        if (x->state == TERN_ADDR6_TENTATIVE) {
            continue; /* RFC 4862 section 5.4: not assigned yet */
        }
        c[n].addr = x->addr;
        c[n].prefix_len = x->prefix_len;
        c[n].iface = iface;
        c[n].deprecated = x->state == TERN_ADDR6_DEPRECATED;
        c[n].temporary = x->origin == TERN_ADDR6_TEMPORARY;
        n++;
    }
    int best = tern_addrsel_select(c, n, dst, iface, !st->cfg.ipv6_prefer_public);
    if (best < 0) {
        return false;
    }
    *out = c[best].addr;
    return true;
}

/* ---- static addresses at run time ---------------------------------------------------------- */

void tern_ipv6_addr_added(tern_stack *st, uint32_t iface, const tern_addr *addr,
                          uint8_t prefix_len) {
    tern_ac_iface *ac = ac_of(st, iface);
    uint64_t now = st->ip6->ac_now;
    if (!st->cfg.ipv6_autoconf) {
        sn_join(st, now, iface, addr, false);
        return;
    }
    /* RFC 4862 section 5.4: "Duplicate Address Detection MUST be performed on all unicast
     * addresses prior to assigning them to an interface, regardless of whether they are obtained
     * through stateless autoconfiguration, DHCPv6, or manual configuration". */
    int ai = tern_ipv6_addr_index(st, iface, addr);
    if (ai >= 0 && tern_slaac_add_static(&ac->slaac, now, addr, prefix_len)) {
        st->iface[iface].addr6[ai].state = TERN_ADDR6_TENTATIVE;
    }
}

void tern_ipv6_addr_removed(tern_stack *st, uint32_t iface, const tern_addr *addr) {
    tern_slaac_forget(&ac_of(st, iface)->slaac, addr);
    sn_leave(st, st->ip6->ac_now, iface, addr);
}

/* ---- public: joining groups ------------------------------------------------------------------ */

tern_err tern_ipv6_join_group(tern_stack *st, uint32_t iface, const tern_addr *group) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface || !tern_addr_is_v6(group) || !tern_addr_is_multicast(group)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "join_group: iface=%u must exist and the group be IPv6 multicast", iface);
    }
    tern_err err = tern_ipv6_mcast_join(st, iface, group);
    if (err != TERN_OK) {
        return err;
    }
    tern_ac_iface *ac = ac_of(st, iface);
    if (!tern_mld_join(&ac->mld, st->ip6->ac_now, group)) {
        tern_ipv6_mcast_leave(st, iface, group);
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "join_group: iface %u listens to %d groups already", iface,
                         TERN_MLD_MAX_GROUPS);
    }
    return TERN_OK;
}

tern_err tern_ipv6_leave_group(tern_stack *st, uint32_t iface, const tern_addr *group) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface || !tern_addr_is_v6(group)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "leave_group: iface=%u, group not IPv6",
                         iface);
    }
    tern_err err = tern_ipv6_mcast_leave(st, iface, group);
    if (err != TERN_OK) {
        return err;
    }
    tern_mld_leave(&ac_of(st, iface)->mld, st->ip6->ac_now, group);
    return TERN_OK;
}
