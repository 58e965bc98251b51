/* IPv6 default source address selection, RFC 6724 (see ipv6/addrsel.h). */
#include "ipv6/addrsel.h"

#include <string.h>

/* One row of the policy table: prefix, precedence, label. */
struct policy_row {
    uint8_t prefix[16];
    uint8_t len;
    uint8_t precedence;
    uint8_t label;
};

/* RFC 6724 section 2.1, the default policy table. */
static const struct policy_row default_policy[] = {
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, 50, 0}, /* ::1/128 */
    {{0}, 0, 40, 1},                                                /* ::/0 */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, 35, 4},        /* ::ffff:0:0/96 */
    {{0x20, 0x02}, 16, 30, 2},                                      /* 2002::/16 */
    {{0x20, 0x01, 0, 0}, 32, 5, 5},                                 /* 2001::/32 */
    {{0xfc}, 7, 3, 13},                                             /* fc00::/7 */
    {{0}, 96, 1, 3},                                                /* ::/96 */
    {{0xfe, 0xc0}, 10, 1, 11},                                      /* fec0::/10 */
    {{0x3f, 0xfe}, 16, 1, 12},                                      /* 3ffe::/16 */
};

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned len) {
    unsigned whole = len / 8, rest = len % 8;
    if (memcmp(a, p, whole) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (p[whole] & mask);
}

void tern_addrsel_policy(const tern_addr *a, uint8_t *precedence, uint8_t *label) {
    const struct policy_row *best = &default_policy[1]; /* ::/0 matches everything */
    for (size_t i = 0; i < sizeof default_policy / sizeof default_policy[0]; i++) {
        const struct policy_row *r = &default_policy[i];
        if (r->len > best->len && prefix_match(a->bytes, r->prefix, r->len)) {
            best = r;
        }
    }
    *precedence = best->precedence;
    *label = best->label;
}

unsigned tern_addrsel_scope(const tern_addr *a) {
    const uint8_t *b = a->bytes;
    if (b[0] == 0xff) {
        return b[1] & 0x0f; /* RFC 4291 section 2.7: the multicast scope field */
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        return TERN_SCOPE_LINK; /* fe80::/10 */
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
        return TERN_SCOPE_SITE; /* fec0::/10, deprecated but still scoped */
    }
    static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(b, loopback, 16) == 0) {
        return TERN_SCOPE_LINK; /* RFC 6724 section 3.1: loopback is link-local scope */
    }
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
        /* RFC 6724 section 3.2: 127/8 and 169.254/16 are link-local, the rest global. */
        if (b[12] == 127 || (b[12] == 169 && b[13] == 254)) {
            return TERN_SCOPE_LINK;
        }
    }
    return TERN_SCOPE_GLOBAL;
}

unsigned tern_addrsel_common_prefix_len(const tern_addr *a, const tern_addr *b) {
    unsigned n = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t x = a->bytes[i] ^ b->bytes[i];
        if (x == 0) {
            n += 8;
            continue;
        }
        while ((x & 0x80) == 0) {
            n++;
            x = (uint8_t)(x << 1);
        }
        return n;
    }
    return n;
}

/* The rule verdicts: prefer a (-1), prefer b (+1). */
#define PREFER_A(r)                                                                                \
    do {                                                                                           \
        *rule = (r);                                                                               \
        return -1;                                                                                 \
    } while (0)
#define PREFER_B(r)                                                                                \
    do {                                                                                           \
        *rule = (r);                                                                               \
        return 1;                                                                                  \
    } while (0)

static int compare(const struct tern_addrsel_cand *a, const struct tern_addrsel_cand *b,
                   const tern_addr *dst, uint32_t out_iface, bool prefer_temporary,
                   unsigned *rule) {
    /* Rule 1: Prefer same address. */
    bool a_same = memcmp(a->addr.bytes, dst->bytes, 16) == 0;
    bool b_same = memcmp(b->addr.bytes, dst->bytes, 16) == 0;
    if (a_same != b_same) {
        if (a_same) {
            PREFER_A(1);
        }
        PREFER_B(1);
    }
    /* Rule 2: "If Scope(SA) < Scope(SB): If Scope(SA) < Scope(D), then prefer
     * SB and otherwise prefer SA." and the same the other way round. */
    unsigned sa = tern_addrsel_scope(&a->addr), sb = tern_addrsel_scope(&b->addr);
    unsigned sd = tern_addrsel_scope(dst);
    if (sa < sb) {
        if (sa < sd) {
            PREFER_B(2);
        }
        PREFER_A(2);
    }
    if (sb < sa) {
        if (sb < sd) {
            PREFER_A(2);
        }
        PREFER_B(2);
    }
    /* Rule 3: Avoid deprecated addresses. */
    if (a->deprecated != b->deprecated) {
        if (b->deprecated) {
            PREFER_A(3);
        }
        PREFER_B(3);
    }
    /* Rule 4 (home addresses) does not apply: no Mobile IPv6 here. */
    /* Rule 5: Prefer outgoing interface. */
    bool a_out = a->iface == out_iface, b_out = b->iface == out_iface;
    if (a_out != b_out) {
        if (a_out) {
            PREFER_A(5);
        }
        PREFER_B(5);
    }
    /* Rule 6: Prefer matching label. */
    uint8_t prec, la, lb, ld;
    tern_addrsel_policy(&a->addr, &prec, &la);
    tern_addrsel_policy(&b->addr, &prec, &lb);
    tern_addrsel_policy(dst, &prec, &ld);
    if ((la == ld) != (lb == ld)) {
        if (la == ld) {
            PREFER_A(6);
        }
        PREFER_B(6);
    }
    /* Rule 7: Prefer temporary addresses (or public ones, reversed). */
    if (a->temporary != b->temporary) {
        if (a->temporary == prefer_temporary) {
            PREFER_A(7);
        }
        PREFER_B(7);
    }
    /* Rule 8: Use longest matching prefix, CommonPrefixLen compared "only
     * up to the length of S's prefix" (RFC 6724 section 2.2). */
    unsigned ca = tern_addrsel_common_prefix_len(&a->addr, dst);
    unsigned cb = tern_addrsel_common_prefix_len(&b->addr, dst);
    if (ca > a->prefix_len) {
        ca = a->prefix_len;
    }
    if (cb > b->prefix_len) {
        cb = b->prefix_len;
    }
    if (ca != cb) {
        if (ca > cb) {
            PREFER_A(8);
        }
        PREFER_B(8);
    }
    *rule = 0;
    return 0;
}

int tern_addrsel_compare(const struct tern_addrsel_cand *a, const struct tern_addrsel_cand *b,
                         const tern_addr *dst, uint32_t out_iface, bool prefer_temporary,
                         unsigned *rule) {
    unsigned dummy;
    return compare(a, b, dst, out_iface, prefer_temporary, rule ? rule : &dummy);
}

int tern_addrsel_select(const struct tern_addrsel_cand *c, size_t n, const tern_addr *dst,
                        uint32_t out_iface, bool prefer_temporary) {
    if (n == 0) {
        return -1;
    }
    size_t best = 0;
    for (size_t i = 1; i < n; i++) {
        if (tern_addrsel_compare(&c[i], &c[best], dst, out_iface, prefer_temporary, NULL) < 0) {
            best = i;
        }
    }
    return (int)best;
}
