/* SLAAC bookkeeping: RFC 4862, RFC 7217, RFC 8981 (see ipv6/slaac.h). */
#include "ipv6/slaac.h"

#include <string.h>

#include "core/stack_internal.h"

#define NS_PER_S 1000000000ull

/* ---- identifiers -------------------------------------------------------- */

void tern_slaac_iid_eui64(const uint8_t mac[6], uint8_t iid[8]) {
    /* RFC 4291 appendix A: insert ff:fe and invert the universal/local bit. */
    iid[0] = (uint8_t)(mac[0] ^ 0x02);
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xff;
    iid[4] = 0xfe;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

void tern_slaac_iid_stable(const uint8_t secret[16], const tern_addr *prefix, uint32_t iface,
                           const uint8_t mac[6], uint8_t dad_counter, uint8_t iid[8]) {
    /* RFC 7217 section 5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
     * secret_key); F a pseudorandom function (SipHash-2-4 keyed with the secret). */
    uint8_t in[8 + 4 + 6 + 1];
    memcpy(in, prefix->bytes, 8);
    in[8] = (uint8_t)(iface >> 24);
    in[9] = (uint8_t)(iface >> 16);
    in[10] = (uint8_t)(iface >> 8);
    in[11] = (uint8_t)iface;
    memcpy(in + 12, mac, 6);
    in[18] = dad_counter;
    uint64_t h = tern_siphash(secret, in, sizeof in);
    for (int i = 0; i < 8; i++) {
        iid[i] = (uint8_t)(h >> (56 - 8 * i));
    }
}

bool tern_slaac_iid_reserved(const uint8_t iid[8]) {
    static const uint8_t zero[8] = {0};
    if (memcmp(iid, zero, 8) == 0) {
        return true; /* Subnet-Router anycast (RFC 4291 section 2.6.1) */
    }
    /* RFC 5453: fdff:ffff:ffff:ff80 - fdff:ffff:ffff:ffff, reserved subnet anycast. */
    static const uint8_t anycast[7] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (memcmp(iid, anycast, 7) == 0 && iid[7] >= 0x80) {
        return true;
    }
    /* RFC 5453: 0200:5eff:fe00:0000 - 0200:5eff:fe00:5212, proxy mobile IPv6. */
    static const uint8_t pmip[5] = {0x02, 0x00, 0x5e, 0xff, 0xfe};
    if (memcmp(iid, pmip, 5) == 0 && iid[5] == 0 && ((unsigned)iid[6] << 8 | iid[7]) <= 0x5212) {
        return true;
    }
    return false;
}

tern_addr tern_slaac_solicited_node(const tern_addr *addr) {
    uint8_t b[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    memcpy(b + 13, addr->bytes + 13, 3);
    return tern_addr_v6_from_bytes(b);
}

/* ---- helpers --------------------------------------------------------------- */

static uint64_t add_s(uint64_t now, uint32_t s) {
    if (s == TERN_SLAAC_INFINITE) {
        return TERN_SLAAC_NEVER;
    }
    return now + (uint64_t)s * NS_PER_S;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

static uint64_t retrans(const struct tern_slaac *s) {
    return s->cfg.retrans_ns ? s->cfg.retrans_ns : TERN_SLAAC_RETRANS_TIMER_NS;
}

static uint64_t temp_valid_ns(const struct tern_slaac *s) {
    return (uint64_t)(s->cfg.temp_valid_s ? s->cfg.temp_valid_s
                                          : TERN_SLAAC_TEMP_VALID_LIFETIME_S) *
           NS_PER_S;
}

static uint64_t temp_preferred_ns(const struct tern_slaac *s) {
    return (uint64_t)(s->cfg.temp_preferred_s ? s->cfg.temp_preferred_s
                                              : TERN_SLAAC_TEMP_PREFERRED_LIFETIME_S) *
           NS_PER_S;
}

/* RFC 8981 section 3.8: REGEN_ADVANCE = 2 + (TEMP_IDGEN_RETRIES *
 * DupAddrDetectTransmits * RetransTimer / 1000) seconds. */
static uint64_t regen_advance_ns(const struct tern_slaac *s) {
    return 2 * NS_PER_S + (uint64_t)TERN_SLAAC_IDGEN_RETRIES * s->cfg.dad_transmits * retrans(s);
}

/* RFC 8981 section 3.8: MAX_DESYNC_FACTOR = 0.4 * TEMP_PREFERRED_LIFETIME. */
static uint64_t max_desync_ns(const struct tern_slaac *s) {
    return temp_preferred_ns(s) / 5 * 2;
}

static void push_event(struct tern_slaac *s, uint8_t kind, const struct tern_slaac_addr *a,
                       bool disable) {
    size_t cap = sizeof s->pending / sizeof s->pending[0];
    if (s->npending == cap) {
        /* Cannot happen: at most two events per slot wait here. Keep the newest. */
        s->pending_head = (uint8_t)((s->pending_head + 1) % cap);
        s->npending--;
    }
    struct tern_slaac_event *e = &s->pending[(s->pending_head + s->npending) % cap];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->addr_kind = a->kind;
    e->addr = a->addr;
    e->disable_ipv6 = disable;
    s->npending++;
}

static struct tern_slaac_addr *free_slot(struct tern_slaac *s) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state == TERN_SLAAC_FREE) {
            return &s->a[i];
        }
    }
    s->table_full++;
    return NULL;
}

static bool is_ours(const struct tern_slaac *s, const uint8_t b[16]) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state != TERN_SLAAC_FREE && memcmp(s->a[i].addr.bytes, b, 16) == 0) {
            return true;
        }
    }
    return false;
}

/* Begin DAD on a tentative slot, its first probe at `first` (RFC 4862 5.4). */
static void dad_begin(struct tern_slaac *s, struct tern_slaac_addr *a, uint64_t now,
                      uint64_t first) {
    a->state = TERN_SLAAC_TENTATIVE;
    a->joined = false;
    a->ready_told = false;
    a->dad_left = s->cfg.dad_transmits;
    a->dad_at = first;
    if (s->cfg.dad_transmits == 0) {
        /* RFC 4862 section 5.1: "A value of zero indicates that Duplicate
         * Address Detection is not performed on tentative addresses." */
        a->dad_at = now;
    }
}

/* The identifier for slot a (stable or EUI-64), retrying reserved ones
 * (RFC 7217 section 5). Returns false when every try was reserved. */
static bool make_iid(struct tern_slaac *s, struct tern_slaac_addr *a, uint8_t iid[8]) {
    if (a->kind == TERN_SLAAC_TEMPORARY) {
        /* RFC 8981 section 3.3.1: a random identifier, never a reserved one. */
        for (int tries = 0; tries < 8; tries++) {
            uint64_t hi = s->cfg.rand_below(s->cfg.rand_ctx, 1ull << 32);
            uint64_t lo = s->cfg.rand_below(s->cfg.rand_ctx, 1ull << 32);
            uint64_t v = hi << 32 | lo;
            for (int i = 0; i < 8; i++) {
                iid[i] = (uint8_t)(v >> (56 - 8 * i));
            }
            uint8_t b[16];
            memcpy(b, a->addr.bytes, 8);
            memcpy(b + 8, iid, 8);
            if (!tern_slaac_iid_reserved(iid) && !is_ours(s, b)) {
                return true;
            }
        }
        return false;
    }
    if (!s->cfg.stable_iid) {
        tern_slaac_iid_eui64(s->cfg.mac, iid);
        return true;
    }
    while (a->dad_counter <= TERN_SLAAC_IDGEN_RETRIES) {
        tern_slaac_iid_stable(s->cfg.secret, &a->addr, s->cfg.iface, s->cfg.mac, a->dad_counter,
                              iid);
        if (!tern_slaac_iid_reserved(iid)) {
            return true;
        }
        a->dad_counter++;
    }
    return false;
}

/* Put prefix (its first 64 bits, already in a->addr) and a fresh identifier together. */
static bool form(struct tern_slaac *s, struct tern_slaac_addr *a) {
    uint8_t iid[8];
    if (!make_iid(s, a, iid)) {
        return false;
    }
    memcpy(a->addr.bytes + 8, iid, 8);
    return true;
}

/* ---- lifecycle -------------------------------------------------------------- */

void tern_slaac_init(struct tern_slaac *s, const struct tern_slaac_config *cfg) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
}

void tern_slaac_set_retrans(struct tern_slaac *s, uint64_t retrans_ns) {
    if (retrans_ns != 0) {
        s->cfg.retrans_ns = retrans_ns;
    }
}

static uint64_t random_delay(struct tern_slaac *s) {
    /* "a random delay between 0 and MAX_RTR_SOLICITATION_DELAY" (RFC 4862 5.4.2), both ends in. */
    return s->cfg.rand_below(s->cfg.rand_ctx, TERN_SLAAC_MAX_RTR_SOLICITATION_DELAY_NS + 1);
}

bool tern_slaac_start(struct tern_slaac *s, uint64_t now) {
    struct tern_slaac_addr *a = free_slot(s);
    if (a == NULL) {
        return false;
    }
    memset(a, 0, sizeof *a);
    uint8_t ll[16] = {0xfe, 0x80};
    a->addr = tern_addr_v6_from_bytes(ll);
    a->prefix_len = 64;
    a->kind = TERN_SLAAC_LINK_LOCAL;
    a->created = now;
    a->preferred_until = a->valid_until = TERN_SLAAC_NEVER;
    if (!form(s, a)) {
        a->state = TERN_SLAAC_FREE;
        return false;
    }
    /* RFC 4862 section 5.4.2: the first message after initialisation waits
     * a random delay in [0, MAX_RTR_SOLICITATION_DELAY]. */
    s->started = true;
    dad_begin(s, a, now, now + random_delay(s));
    return true;
}

bool tern_slaac_add_static(struct tern_slaac *s, uint64_t now, const tern_addr *addr,
                           uint8_t prefix_len) {
    uint64_t first = now;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        const struct tern_slaac_addr *ll = &s->a[i];
        if (ll->kind == TERN_SLAAC_LINK_LOCAL && ll->state == TERN_SLAAC_TENTATIVE &&
            ll->dad_left == s->cfg.dad_transmits && ll->dad_at > now) {
            first = ll->dad_at;
        }
    }
    struct tern_slaac_addr *a = free_slot(s);
    if (a == NULL) {
        return false;
    }
    memset(a, 0, sizeof *a);
    a->addr = *addr;
    a->prefix_len = prefix_len;
    a->kind = TERN_SLAAC_STATIC;
    a->created = now;
    a->preferred_until = a->valid_until = TERN_SLAAC_NEVER;
    dad_begin(s, a, now, first);
    return true;
}

bool tern_slaac_forget(struct tern_slaac *s, const tern_addr *addr) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state != TERN_SLAAC_FREE && tern_addr_eq(&s->a[i].addr, addr)) {
            s->a[i].state = TERN_SLAAC_FREE;
            return true;
        }
    }
    return false;
}

/* A temporary address beside public address pub (RFC 8981 section 3.4). */
static void make_temporary(struct tern_slaac *s, const struct tern_slaac_addr *pub, uint64_t now,
                           uint64_t first_probe) {
    uint64_t desync = s->cfg.rand_below(s->cfg.rand_ctx, max_desync_ns(s) + 1);
    uint64_t pref = min_u64(pub->preferred_until, now + temp_preferred_ns(s) - desync);
    uint64_t valid = min_u64(pub->valid_until, now + temp_valid_ns(s));
    /* RFC 8981 section 3.4: a temporary address whose preferred lifetime
     * would not exceed REGEN_ADVANCE is not created. */
    if (pref <= now || pref - now <= regen_advance_ns(s)) {
        return;
    }
    struct tern_slaac_addr *t = free_slot(s);
    if (t == NULL) {
        return;
    }
    memset(t, 0, sizeof *t);
    memcpy(t->addr.bytes, pub->addr.bytes, 8);
    t->addr.family = TERN_AF_INET6;
    t->prefix_len = 64;
    t->kind = TERN_SLAAC_TEMPORARY;
    t->created = now;
    t->desync_ns = desync;
    t->preferred_until = pref;
    t->valid_until = valid;
    if (!form(s, t)) {
        t->state = TERN_SLAAC_FREE;
        return;
    }
    dad_begin(s, t, now, first_probe);
}

static bool same_prefix64(const tern_addr *a, const tern_addr *b) {
    return memcmp(a->bytes, b->bytes, 8) == 0;
}

/* RFC 4862 section 5.5.3 (e): the new valid lifetime of an existing address. */
static uint64_t two_hour_rule(uint64_t now, uint64_t valid_until, uint32_t adv_valid_s) {
    uint64_t two_hours = (uint64_t)TERN_SLAAC_TWO_HOURS_S * NS_PER_S;
    uint64_t adv = add_s(now, adv_valid_s);
    uint64_t remaining = valid_until == TERN_SLAAC_NEVER ? TERN_SLAAC_NEVER : valid_until - now;
    /* 1. "If the received Valid Lifetime is greater than 2 hours or greater
     *    than RemainingLifetime, set the valid lifetime of the
     *    corresponding address to the advertised Valid Lifetime." */
    if (adv_valid_s == TERN_SLAAC_INFINITE || (uint64_t)adv_valid_s * NS_PER_S > two_hours ||
        (remaining != TERN_SLAAC_NEVER && (uint64_t)adv_valid_s * NS_PER_S > remaining)) {
        return adv;
    }
    /* 2. "If RemainingLifetime is less than or equal to 2 hours, ignore the
     *    Prefix Information option with regards to the valid lifetime" */
    if (remaining <= two_hours) {
        return valid_until;
    }
    /* 3. "Otherwise, reset the valid lifetime of the corresponding address
     *    to 2 hours." */
    return now + two_hours;
}

enum tern_slaac_pio_result tern_slaac_prefix(struct tern_slaac *s, uint64_t now,
                                             const struct tern_slaac_pio *pio,
                                             bool from_multicast) {
    const uint8_t *p = pio->prefix.bytes;
    /* (a) "If the Autonomous flag is not set, silently ignore the Prefix
     * Information option."  (b) "If the prefix is the link-local prefix,
     * silently ignore the Prefix Information option."  (c) "If the
     * preferred lifetime is greater than the valid lifetime, silently
     * ignore the Prefix Information option." */
    if (s->disabled || !pio->autonomous || pio->prefix.family != TERN_AF_INET6 ||
        (p[0] == 0xfe && (p[1] & 0xc0) == 0x80) || pio->preferred_s > pio->valid_s) {
        s->prefixes_ignored++;
        return TERN_SLAAC_PIO_IGNORED;
    }
    /* (e) an address formed from this prefix already exists. */
    struct tern_slaac_addr *pub = NULL;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        struct tern_slaac_addr *a = &s->a[i];
        if (a->state != TERN_SLAAC_FREE && a->kind == TERN_SLAAC_PUBLIC &&
            a->prefix_len == pio->prefix_len && same_prefix64(&a->addr, &pio->prefix)) {
            pub = a;
        }
    }
    if (pub != NULL) {
        /* "the preferred lifetime of the address is reset to the Preferred
         * Lifetime in the received advertisement" */
        pub->preferred_until = add_s(now, pio->preferred_s);
        pub->valid_until = two_hour_rule(now, pub->valid_until, pio->valid_s);
        if (pub->state == TERN_SLAAC_DEPRECATED && pub->preferred_until > now) {
            pub->state = TERN_SLAAC_PREFERRED;
        }
        /* RFC 8981 section 3.4: the temporary addresses of the prefix follow,
         * never beyond their own maximum lifetimes. */
        for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
            struct tern_slaac_addr *t = &s->a[i];
            if (t->state == TERN_SLAAC_FREE || t->kind != TERN_SLAAC_TEMPORARY ||
                !same_prefix64(&t->addr, &pio->prefix)) {
                continue;
            }
            t->valid_until = min_u64(pub->valid_until, t->created + temp_valid_ns(s));
            uint64_t cap = t->created + temp_preferred_ns(s) - t->desync_ns;
            t->preferred_until = min_u64(pub->preferred_until, cap);
            if (t->state == TERN_SLAAC_DEPRECATED && t->preferred_until > now) {
                t->state = TERN_SLAAC_PREFERRED;
            }
        }
        return TERN_SLAAC_PIO_UPDATED;
    }
    /* (d) a new prefix: "If the sum of the prefix length and interface
     * identifier length does not equal 128 bits, the Prefix Information
     * option MUST be ignored."; a valid lifetime of 0 forms nothing. */
    if (pio->valid_s == 0 || pio->prefix_len != 64) {
        s->prefixes_ignored++;
        return TERN_SLAAC_PIO_IGNORED;
    }
    pub = free_slot(s);
    if (pub == NULL) {
        return TERN_SLAAC_PIO_NO_ROOM;
    }
    memset(pub, 0, sizeof *pub);
    memcpy(pub->addr.bytes, p, 8);
    pub->addr.family = TERN_AF_INET6;
    pub->prefix_len = 64;
    pub->kind = TERN_SLAAC_PUBLIC;
    pub->created = now;
    pub->preferred_until = add_s(now, pio->preferred_s);
    pub->valid_until = add_s(now, pio->valid_s);
    if (!form(s, pub)) {
        pub->state = TERN_SLAAC_FREE;
        s->prefixes_ignored++;
        return TERN_SLAAC_PIO_IGNORED;
    }
    /* RFC 4862 section 5.4.2: for an address from a Router Advertisement
     * sent to a multicast address, the join waits a random delay too. */
    uint64_t first = from_multicast ? now + random_delay(s) : now;
    dad_begin(s, pub, now, first);
    if (s->cfg.temporary) {
        make_temporary(s, pub, now, first);
    }
    return TERN_SLAAC_PIO_FORMED;
}

bool tern_slaac_dad_conflict(struct tern_slaac *s, uint64_t now, const tern_addr *target) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        struct tern_slaac_addr *a = &s->a[i];
        if (a->state != TERN_SLAAC_TENTATIVE || !tern_addr_eq(&a->addr, target)) {
            continue;
        }
        /* RFC 4862 section 5.4.5: the address is not assigned. A link-local
         * address from the MAC: "IP operation on the interface SHOULD be
         * disabled". */
        bool hw = a->kind == TERN_SLAAC_LINK_LOCAL && !s->cfg.stable_iid;
        a->state = TERN_SLAAC_DUPLICATED;
        a->dad_at = TERN_SLAAC_NEVER;
        push_event(s, TERN_SLAAC_EV_DUPLICATE, a, hw);
        if (hw) {
            s->disabled = true;
            return true;
        }
        /* RFC 7217 section 6 (DAD_Counter) and RFC 8981 section 3.4 (a new
         * randomized identifier): try again, at most IDGEN_RETRIES times. */
        bool stable = s->cfg.stable_iid && a->kind != TERN_SLAAC_TEMPORARY;
        bool retry = stable || a->kind == TERN_SLAAC_TEMPORARY;
        if (retry && a->dad_counter < TERN_SLAAC_IDGEN_RETRIES) {
            a->dad_counter++;
            if (form(s, a)) {
                dad_begin(s, a, now, now);
            }
        }
        return true;
    }
    return false;
}

/* ---- time ----------------------------------------------------------------------- */

static uint64_t regen_at(const struct tern_slaac *s, const struct tern_slaac_addr *a) {
    if (a->kind != TERN_SLAAC_TEMPORARY || a->regen_done || a->state != TERN_SLAAC_PREFERRED ||
        a->preferred_until == TERN_SLAAC_NEVER) {
        return TERN_SLAAC_NEVER;
    }
    uint64_t adv = regen_advance_ns(s);
    return a->preferred_until > adv ? a->preferred_until - adv : 0;
}

/* The public address of t's prefix, if it is still preferred. */
static const struct tern_slaac_addr *preferred_public(const struct tern_slaac *s,
                                                      const struct tern_slaac_addr *t) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        const struct tern_slaac_addr *a = &s->a[i];
        if (a->state == TERN_SLAAC_PREFERRED && a->kind == TERN_SLAAC_PUBLIC &&
            same_prefix64(&a->addr, &t->addr)) {
            return a;
        }
    }
    return NULL;
}

bool tern_slaac_next_event(struct tern_slaac *s, uint64_t now, struct tern_slaac_event *ev) {
    memset(ev, 0, sizeof *ev);
    if (s->npending > 0) {
        size_t cap = sizeof s->pending / sizeof s->pending[0];
        *ev = s->pending[s->pending_head];
        s->pending_head = (uint8_t)((s->pending_head + 1) % cap);
        s->npending--;
        return true;
    }
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        struct tern_slaac_addr *a = &s->a[i];
        if (a->state == TERN_SLAAC_FREE) {
            continue;
        }
        ev->addr = a->addr;
        ev->addr_kind = a->kind;
        if (a->valid_until != TERN_SLAAC_NEVER && a->valid_until <= now) {
            /* RFC 4862 section 5.5.4: "An address (and its association with
             * an interface) becomes invalid when its valid lifetime expires." */
            ev->kind = TERN_SLAAC_EV_REMOVED;
            a->state = TERN_SLAAC_FREE;
            return true;
        }
        if (a->state == TERN_SLAAC_TENTATIVE && a->dad_at <= now) {
            if (a->dad_left > 0) {
                /* RFC 4862 section 5.4.2: DupAddrDetectTransmits solicitations,
                 * "each separated by RetransTimer milliseconds". */
                a->dad_left--;
                a->joined = true;
                a->dad_at = now + retrans(s);
                ev->kind = TERN_SLAAC_EV_DAD_PROBE;
                return true;
            }
            a->state = a->preferred_until > now ? TERN_SLAAC_PREFERRED : TERN_SLAAC_DEPRECATED;
            a->dad_at = TERN_SLAAC_NEVER;
            a->ready_told = true;
            ev->kind = TERN_SLAAC_EV_READY;
            return true;
        }
        if (a->state == TERN_SLAAC_PREFERRED && a->preferred_until != TERN_SLAAC_NEVER &&
            a->preferred_until <= now) {
            a->state = TERN_SLAAC_DEPRECATED;
            ev->kind = TERN_SLAAC_EV_DEPRECATED;
            return true;
        }
        if (regen_at(s, a) != TERN_SLAAC_NEVER && regen_at(s, a) <= now) {
            /* RFC 8981 section 3.5: REGEN_ADVANCE before a temporary address
             * is deprecated, a new one is made while the prefix is preferred. */
            a->regen_done = true;
            const struct tern_slaac_addr *pub = preferred_public(s, a);
            if (pub != NULL) {
                make_temporary(s, pub, now, now);
            }
            i = (size_t)-1; /* rescan: the new slot may be due at once */
            continue;
        }
    }
    memset(ev, 0, sizeof *ev);
    return false;
}

uint64_t tern_slaac_poll_at(const struct tern_slaac *s) {
    if (s->npending > 0) {
        return 0;
    }
    uint64_t t = TERN_SLAAC_NEVER;
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        const struct tern_slaac_addr *a = &s->a[i];
        if (a->state == TERN_SLAAC_FREE) {
            continue;
        }
        t = min_u64(t, a->valid_until);
        if (a->state == TERN_SLAAC_TENTATIVE) {
            t = min_u64(t, a->dad_at);
        }
        if (a->state == TERN_SLAAC_PREFERRED) {
            t = min_u64(t, a->preferred_until);
        }
        t = min_u64(t, regen_at(s, a));
    }
    return t;
}

const struct tern_slaac_addr *tern_slaac_find(const struct tern_slaac *s, const tern_addr *addr) {
    for (size_t i = 0; i < TERN_SLAAC_MAX_ADDRS; i++) {
        if (s->a[i].state != TERN_SLAAC_FREE && tern_addr_eq(&s->a[i].addr, addr)) {
            return &s->a[i];
        }
    }
    return NULL;
}

bool tern_slaac_usable(const struct tern_slaac_addr *a) {
    return a->state == TERN_SLAAC_PREFERRED || a->state == TERN_SLAAC_DEPRECATED;
}
