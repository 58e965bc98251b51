/*
 * The DHCPv4 server (RFC 2131 section 4.3); the API is in tern/dhcp.h.
 *
 * Address choice for a DISCOVER follows RFC 2131 section 4.3.1: "The
 * client's current address as recorded in the client's current binding,
 * ELSE The client's previous address as recorded in the client's (now
 * expired or released) binding, if that address is in the server's pool of
 * available addresses and not already allocated, ELSE The address requested
 * in the 'Requested IP Address' option, if that address is valid and not
 * already allocated, ELSE A new address allocated from the server's pool";
 * a static reservation comes before all of them.
 *
 * Clients are identified by the client identifier option when they send
 * one, else by chaddr (RFC 2131 section 4.2).
 */
#include <string.h>

#include "core/stack_internal.h"
#include "wire/dhcpv4.h"
#include "wire/udp.h"

#define SEC 1000000000ULL

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- the client's identity ---------------------------------------------------- */

typedef struct client_key {
    const uint8_t *id; /* client identifier, or NULL */
    uint8_t id_len;
    const uint8_t *mac;
} client_key;

static client_key key_of(const struct tern_dhcpv4_repr *m) {
    client_key k = {.id = m->client_id, .id_len = m->client_id_len, .mac = m->chaddr};
    return k;
}

static bool lease_is(const tern_dhcps_lease *l, const client_key *k) {
    if (k->id_len || l->client_id_len) {
        return l->client_id_len == k->id_len && memcmp(l->client_id, k->id, k->id_len) == 0;
    }
    return memcmp(l->mac, k->mac, 6) == 0;
}

static bool reservation_is(const tern_dhcps_reservation *r, const client_key *k) {
    if (r->client_id_len) {
        return r->client_id_len == k->id_len && memcmp(r->client_id, k->id, k->id_len) == 0;
    }
    return memcmp(r->mac, k->mac, 6) == 0;
}

/* ---- the table --------------------------------------------------------------- */

/* A lease whose time ran out counts as released (its client remembered). */
static tern_dhcps_lease_state state_at(const tern_dhcps_lease *l, uint64_t now) {
    if ((l->state == TERN_DHCPS_OFFERED || l->state == TERN_DHCPS_BOUND ||
         l->state == TERN_DHCPS_DECLINED) &&
        now >= l->expires_at) {
        return l->state == TERN_DHCPS_DECLINED ? TERN_DHCPS_FREE : TERN_DHCPS_RELEASED;
    }
    return l->state;
}

static tern_dhcps_lease *by_client(tern_dhcp_server *s, const client_key *k) {
    for (uint32_t i = 0; i < TERN_DHCPS_LEASES; i++) {
        tern_dhcps_lease *l = &s->leases[i];
        if (l->state != TERN_DHCPS_FREE && l->state != TERN_DHCPS_DECLINED && lease_is(l, k)) {
            return l;
        }
    }
    return NULL;
}

static tern_dhcps_lease *by_addr(tern_dhcp_server *s, uint32_t a) {
    for (uint32_t i = 0; i < TERN_DHCPS_LEASES; i++) {
        if (s->leases[i].state != TERN_DHCPS_FREE && s->leases[i].address == a) {
            return &s->leases[i];
        }
    }
    return NULL;
}

static bool reserved_for_other(const tern_dhcp_server *s, uint32_t a, const client_key *k) {
    for (uint32_t i = 0; i < s->cfg.n_reservations; i++) {
        const tern_dhcps_reservation *r = &s->cfg.reservations[i];
        if (r->address == a && !reservation_is(r, k)) {
            return true;
        }
    }
    return false;
}

static bool in_pool(const tern_dhcp_server *s, uint32_t a) {
    for (uint32_t i = 0; i < s->cfg.n_ranges; i++) {
        if (a >= s->cfg.ranges[i].first && a <= s->cfg.ranges[i].last) {
            return true;
        }
    }
    return false;
}

/* Can address a be given to client k now? (In the pool or reserved for k,
 * not the server's own, not held by another client.) */
static bool available(tern_dhcp_server *s, uint32_t a, const client_key *k, uint64_t now) {
    if (a == 0 || a == s->cfg.server_ip || reserved_for_other(s, a, k)) {
        return false;
    }
    bool reserved_for_k = false;
    for (uint32_t i = 0; i < s->cfg.n_reservations; i++) {
        reserved_for_k |= s->cfg.reservations[i].address == a;
    }
    if (!reserved_for_k && !in_pool(s, a)) {
        return false;
    }
    tern_dhcps_lease *l = by_addr(s, a);
    if (!l) {
        return true;
    }
    tern_dhcps_lease_state st = state_at(l, now);
    if (st == TERN_DHCPS_DECLINED) {
        return false;
    }
    return lease_is(l, k) || st == TERN_DHCPS_FREE || st == TERN_DHCPS_RELEASED;
}

/* A table slot for address a: the one holding it, else a free one, else
 * the released one that expired first. */
static tern_dhcps_lease *slot_for(tern_dhcp_server *s, uint32_t a, uint64_t now) {
    tern_dhcps_lease *l = by_addr(s, a);
    if (l) {
        return l;
    }
    tern_dhcps_lease *best = NULL;
    for (uint32_t i = 0; i < TERN_DHCPS_LEASES; i++) {
        tern_dhcps_lease *c = &s->leases[i];
        tern_dhcps_lease_state st = state_at(c, now);
        if (c->state == TERN_DHCPS_FREE || st == TERN_DHCPS_FREE) {
            return c;
        }
        if (st == TERN_DHCPS_RELEASED && (!best || c->expires_at < best->expires_at)) {
            best = c;
        }
    }
    return best;
}

/* The address to offer client k (section 4.3.1 order), or 0. */
static uint32_t choose(tern_dhcp_server *s, const client_key *k, uint32_t requested, uint64_t now) {
    for (uint32_t i = 0; i < s->cfg.n_reservations; i++) {
        if (reservation_is(&s->cfg.reservations[i], k)) {
            uint32_t a = s->cfg.reservations[i].address;
            return available(s, a, k, now) ? a : 0;
        }
    }
    tern_dhcps_lease *l = by_client(s, k);
    if (l && available(s, l->address, k, now)) {
        return l->address;
    }
    if (requested && available(s, requested, k, now)) {
        return requested;
    }
    /* A never-used address first, so released ones stay with their clients. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t r = 0; r < s->cfg.n_ranges; r++) {
            for (uint32_t a = s->cfg.ranges[r].first;; a++) {
                tern_dhcps_lease *h = by_addr(s, a);
                bool ok =
                    pass == 0 ? (h == NULL && available(s, a, k, now)) : available(s, a, k, now);
                if (ok) {
                    return a;
                }
                if (a == s->cfg.ranges[r].last) {
                    break;
                }
            }
        }
    }
    return 0;
}

static void bind_lease(tern_dhcps_lease *l, tern_dhcps_lease_state state, uint32_t a,
                       const client_key *k, uint64_t until) {
    l->state = state;
    l->address = a;
    memcpy(l->mac, k->mac, 6);
    l->client_id_len = k->id_len;
    memset(l->client_id, 0, sizeof l->client_id);
    if (k->id_len) {
        memcpy(l->client_id, k->id, k->id_len);
    }
    l->expires_at = until;
}

static uint64_t lease_end(const tern_dhcp_server *s, uint64_t now) {
    return s->cfg.lease_secs == 0xffffffffu ? TERN_NEVER : now + (uint64_t)s->cfg.lease_secs * SEC;
}

/* ---- replies ------------------------------------------------------------------- */

/*
 * Where a reply goes, RFC 2131 section 4.1: "If the 'giaddr' field in a
 * DHCP message from a client is non-zero, the server sends any return
 * messages to the 'DHCP server' port on the BOOTP relay agent whose address
 * appears in 'giaddr'. If the 'giaddr' field is zero and the 'ciaddr' field
 * is nonzero, then the server unicasts DHCPOFFER and DHCPACK messages to the
 * address in 'ciaddr'. If 'giaddr' is zero and 'ciaddr' is zero, and the
 * broadcast bit is set, then the server broadcasts DHCPOFFER and DHCPACK
 * messages to 0xffffffff. If the broadcast bit is not set and 'giaddr' is
 * zero and 'ciaddr' is zero, then the server unicasts DHCPOFFER and DHCPACK
 * messages to the client's hardware address and 'yiaddr' address. In all
 * cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages
 * to 0xffffffff."
 */
static void send_reply(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                       const struct tern_dhcpv4_repr *req, struct tern_dhcpv4_repr *m) {
    uint8_t buf[1024];
    size_t n = 0;
    if (tern_dhcpv4_emit(m, buf, sizeof buf, &n) != TERN_OK) {
        return;
    }
    uint32_t me = s->cfg.server_ip;
    if (req->giaddr) {
        tern_services_send_udp_routed(st, now, me, req->giaddr, TERN_DHCP_SERVER_PORT,
                                      TERN_DHCP_SERVER_PORT, buf, n);
    } else if (m->msg_type == TERN_DHCP_NAK) {
        tern_services_send_udp(st, s->cfg.iface, bcast_mac, me, 0xffffffffu, TERN_DHCP_SERVER_PORT,
                               TERN_DHCP_CLIENT_PORT, buf, n);
    } else if (req->ciaddr) {
        tern_services_send_udp_routed(st, now, me, req->ciaddr, TERN_DHCP_SERVER_PORT,
                                      TERN_DHCP_CLIENT_PORT, buf, n);
    } else if (req->flags & TERN_DHCP_FLAG_BROADCAST) {
        tern_services_send_udp(st, s->cfg.iface, bcast_mac, me, 0xffffffffu, TERN_DHCP_SERVER_PORT,
                               TERN_DHCP_CLIENT_PORT, buf, n);
    } else {
        tern_services_send_udp(st, s->cfg.iface, req->chaddr, me, m->yiaddr, TERN_DHCP_SERVER_PORT,
                               TERN_DHCP_CLIENT_PORT, buf, n);
    }
}

/* The fields of every reply (RFC 2131 section 4.3.1 table 3). */
static void base_reply(const tern_dhcp_server *s, const struct tern_dhcpv4_repr *req, uint8_t type,
                       struct tern_dhcpv4_repr *m) {
    memset(m, 0, sizeof *m);
    m->op = TERN_DHCP_OP_REPLY;
    m->htype = req->htype;
    m->hlen = req->hlen;
    m->xid = req->xid;
    m->flags = req->flags;
    m->giaddr = req->giaddr;
    memcpy(m->chaddr, req->chaddr, 16);
    m->msg_type = type;
    m->present = TERN_DHCP_HAS_SERVER_ID;
    m->server_id = s->cfg.server_ip;
}

/* Configuration parameters (OFFER, ACK; INFORM's ACK without lease times). */
static void add_params(const tern_dhcp_server *s, struct tern_dhcpv4_repr *m, bool lease) {
    m->present |= TERN_DHCP_HAS_SUBNET_MASK;
    m->subnet_mask = s->cfg.subnet_mask;
    if (s->cfg.router) {
        m->present |= TERN_DHCP_HAS_ROUTER;
        m->routers[0] = s->cfg.router;
        m->n_routers = 1;
    }
    if (s->cfg.n_dns) {
        m->present |= TERN_DHCP_HAS_DNS;
        memcpy(m->dns, s->cfg.dns, sizeof m->dns);
        m->n_dns = (uint8_t)s->cfg.n_dns;
    }
    if (s->cfg.mtu) {
        m->present |= TERN_DHCP_HAS_MTU;
        m->mtu = s->cfg.mtu;
    }
    if (!lease) {
        return;
    }
    m->present |= TERN_DHCP_HAS_LEASE_TIME;
    m->lease_time = s->cfg.lease_secs;
    if (s->cfg.t1_secs) {
        m->present |= TERN_DHCP_HAS_T1;
        m->t1 = s->cfg.t1_secs;
    }
    if (s->cfg.t2_secs) {
        m->present |= TERN_DHCP_HAS_T2;
        m->t2 = s->cfg.t2_secs;
    }
}

static void ack(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                const struct tern_dhcpv4_repr *req, tern_dhcps_lease *l, uint32_t a,
                const client_key *k) {
    bind_lease(l, TERN_DHCPS_BOUND, a, k, lease_end(s, now));
    struct tern_dhcpv4_repr m;
    base_reply(s, req, TERN_DHCP_ACK, &m);
    m.ciaddr = req->ciaddr;
    m.yiaddr = a;
    add_params(s, &m, true);
    s->c.acks++;
    send_reply(st, s, now, req, &m);
}

static void nak(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                const struct tern_dhcpv4_repr *req) {
    struct tern_dhcpv4_repr m;
    base_reply(s, req, TERN_DHCP_NAK, &m);
    /* Table 3: a DHCPNAK has yiaddr 0 and no configuration parameters; the
     * client is told by broadcast (send_reply). */
    m.flags = req->flags;
    s->c.naks++;
    send_reply(st, s, now, req, &m);
}

static bool on_subnet(const tern_dhcp_server *s, uint32_t a) {
    return (a & s->cfg.subnet_mask) == (s->cfg.server_ip & s->cfg.subnet_mask);
}

/* ---- message handlers --------------------------------------------------------------- */

static void on_discover(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                        const struct tern_dhcpv4_repr *req) {
    client_key k = key_of(req);
    s->c.discovers++;
    uint32_t requested = (req->present & TERN_DHCP_HAS_REQUESTED_IP) ? req->requested_ip : 0;
    uint32_t a = choose(s, &k, requested, now);
    tern_dhcps_lease *l = a ? slot_for(s, a, now) : NULL;
    if (!l) {
        s->c.exhausted++;
        return;
    }
    /* Keep an existing binding's time; a new one is held for the offer. */
    tern_dhcps_lease *cur = by_client(s, &k);
    if (cur && cur != l && state_at(cur, now) == TERN_DHCPS_OFFERED) {
        cur->state = TERN_DHCPS_RELEASED; /* the old offer is superseded */
    }
    if (!(l->state == TERN_DHCPS_BOUND && state_at(l, now) == TERN_DHCPS_BOUND &&
          lease_is(l, &k))) {
        bind_lease(l, TERN_DHCPS_OFFERED, a, &k, now + (uint64_t)s->cfg.offer_hold_secs * SEC);
    }
    struct tern_dhcpv4_repr m;
    base_reply(s, req, TERN_DHCP_OFFER, &m);
    m.yiaddr = a;
    add_params(s, &m, true);
    s->c.offers++;
    send_reply(st, s, now, req, &m);
}

/* A REQUEST in INIT-REBOOT, RENEWING or REBINDING for address a (RFC 2131
 * §4.3.2): a client we have no record of gets silence ("If the DHCP server has
 * no record of this client, then it MUST remain silent"); a client whose
 * lease is a, and a still free for it, gets an ACK; anything else a NAK. */
static void confirm_lease(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                          const struct tern_dhcpv4_repr *req, tern_dhcps_lease *l, uint32_t a,
                          const client_key *k) {
    if (!l) {
        s->c.ignored++;
        return;
    }
    if (l->address == a && available(s, a, k, now)) {
        ack(st, s, now, req, l, a, k);
    } else {
        nak(st, s, now, req);
    }
}

static void on_request(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                       const struct tern_dhcpv4_repr *req) {
    client_key k = key_of(req);
    s->c.requests++;
    bool has_sid = req->present & TERN_DHCP_HAS_SERVER_ID;
    bool has_req = req->present & TERN_DHCP_HAS_REQUESTED_IP;
    tern_dhcps_lease *l = by_client(s, &k);
    if (has_sid) {
        /* SELECTING (section 4.3.2): "If the DHCPREQUEST message contains a
         * 'server identifier' option, the message is in response to a
         * DHCPOFFER message." A client that chose another server frees our
         * offer. */
        if (req->server_id != s->cfg.server_ip) {
            if (l && l->state == TERN_DHCPS_OFFERED) {
                l->state = TERN_DHCPS_RELEASED;
            }
            s->c.ignored++;
            return;
        }
        uint32_t a = has_req ? req->requested_ip : req->ciaddr;
        if (l && l->address == a && state_at(l, now) != TERN_DHCPS_DECLINED &&
            available(s, a, &k, now)) {
            ack(st, s, now, req, l, a, &k);
        } else {
            nak(st, s, now, req);
        }
        return;
    }
    if (has_req && req->ciaddr == 0) {
        /* INIT-REBOOT: "If the DHCP server detects that the client is on the
         * wrong network (i.e., the result of applying the local subnet mask
         * or remote subnet mask (if 'giaddr' is not zero) to 'requested IP
         * address' option value doesn't match reality), then the server
         * SHOULD send a DHCPNAK message to the client. ... If the DHCP
         * server has no record of this client, then it MUST remain silent". */
        uint32_t a = req->requested_ip;
        if (req->giaddr == 0 && !on_subnet(s, a)) {
            nak(st, s, now, req);
            return;
        }
        confirm_lease(st, s, now, req, l, a, &k);
        return;
    }
    if (req->ciaddr) {
        /* RENEWING or REBINDING: "'ciaddr' MUST be filled in with client's
         * IP address"; the server "SHOULD check 'ciaddr' for correctness". */
        uint32_t a = req->ciaddr;
        confirm_lease(st, s, now, req, l, a, &k);
        return;
    }
    s->c.ignored++; /* neither: not a request we can interpret */
}

static void on_decline(tern_dhcp_server *s, uint64_t now, const struct tern_dhcpv4_repr *req) {
    client_key k = key_of(req);
    s->c.declines++;
    /* Section 4.3.3: "If the server receives a DHCPDECLINE message, the
     * client has discovered through some other means that the suggested
     * network address is already in use. The server MUST mark the network
     * address as not available". */
    if (!(req->present & TERN_DHCP_HAS_REQUESTED_IP) ||
        ((req->present & TERN_DHCP_HAS_SERVER_ID) && req->server_id != s->cfg.server_ip)) {
        s->c.ignored++;
        return;
    }
    tern_dhcps_lease *l = by_addr(s, req->requested_ip);
    if (!l || !lease_is(l, &k)) {
        s->c.ignored++;
        return;
    }
    l->state = TERN_DHCPS_DECLINED;
    l->expires_at = lease_end(s, now);
    l->client_id_len = 0;
    memset(l->mac, 0, 6);
}

static void on_release(tern_dhcp_server *s, uint64_t now, const struct tern_dhcpv4_repr *req) {
    client_key k = key_of(req);
    s->c.releases++;
    (void)now;
    /* Section 4.3.4: "Upon receipt of a DHCPRELEASE message, the server
     * marks the network address as not allocated. The server SHOULD retain
     * a record of the client's initialization parameters for possible
     * reuse". */
    tern_dhcps_lease *l = by_addr(s, req->ciaddr);
    if (!l || !lease_is(l, &k) || l->state != TERN_DHCPS_BOUND) {
        s->c.ignored++;
        return;
    }
    l->state = TERN_DHCPS_RELEASED;
    l->expires_at = now;
}

static void on_inform(tern_stack *st, tern_dhcp_server *s, uint64_t now,
                      const struct tern_dhcpv4_repr *req) {
    s->c.informs++;
    /* Section 4.3.5: "The server responds to a DHCPINFORM message by sending
     * a DHCPACK message directly to the address given in the 'ciaddr' field
     * of the DHCPINFORM message. The server MUST NOT send a lease
     * expiration time to the client and SHOULD NOT fill in 'yiaddr'." */
    if (req->ciaddr == 0) {
        s->c.ignored++;
        return;
    }
    struct tern_dhcpv4_repr m;
    base_reply(s, req, TERN_DHCP_ACK, &m);
    m.ciaddr = req->ciaddr;
    add_params(s, &m, false);
    s->c.acks++;
    send_reply(st, s, now, req, &m);
}

/*
 * The server a message is for. Each interface has at most one server and
 * answers only what arrives on it, so that two segments get their own pools
 * and options; a message relayed by a BOOTP relay agent (giaddr set, RFC
 * 2131 section 4.1: "the server ... may use the 'giaddr' field to select
 * the subnet") goes to the server whose subnet holds giaddr, whatever
 * interface it came in on.
 */
static tern_dhcp_server *server_for(tern_stack *st, uint32_t iface, uint32_t dst, uint32_t giaddr) {
    for (uint32_t i = 0; giaddr && i < st->ndhcps; i++) {
        tern_dhcp_server *s = &st->dhcps[i];
        if (s->running &&
            (giaddr & s->cfg.subnet_mask) == (s->cfg.server_ip & s->cfg.subnet_mask)) {
            return s;
        }
    }
    for (uint32_t i = 0; i < st->ndhcps; i++) {
        if (st->dhcps[i].running && st->dhcps[i].cfg.iface == iface) {
            return &st->dhcps[i];
        }
    }
    /* A client in RENEWING state unicasts to the server's address (section 4.4.5), also
     * through routers: the server owning that address answers. */
    for (uint32_t i = 0; i < st->ndhcps; i++) {
        if (st->dhcps[i].running && st->dhcps[i].cfg.server_ip == dst) {
            return &st->dhcps[i];
        }
    }
    return NULL;
}

bool tern_dhcp_server_input(tern_stack *st, uint64_t now, uint32_t iface, uint32_t dst,
                            const struct tern_udp_repr *udp) {
    struct tern_dhcpv4_repr m;
    tern_err perr = tern_dhcpv4_parse(udp->payload, udp->payload_len, &m);
    tern_dhcp_server *s = server_for(st, iface, dst, perr == TERN_OK ? m.giaddr : 0);
    if (!s) {
        return false; /* no server for this segment: not ours */
    }
    if (perr != TERN_OK || m.op != TERN_DHCP_OP_REQUEST || m.hlen != 6 || m.htype != 1) {
        s->c.ignored++;
        return true;
    }
    switch (m.msg_type) {
    case TERN_DHCP_DISCOVER:
        on_discover(st, s, now, &m);
        break;
    case TERN_DHCP_REQUEST:
        on_request(st, s, now, &m);
        break;
    case TERN_DHCP_DECLINE:
        on_decline(s, now, &m);
        break;
    case TERN_DHCP_RELEASE:
        on_release(s, now, &m);
        break;
    case TERN_DHCP_INFORM:
        on_inform(st, s, now, &m);
        break;
    default:
        s->c.ignored++; /* BOOTP without a DHCP type, or a server's message */
        break;
    }
    return true;
}

/* ---- API ------------------------------------------------------------------------ */

tern_err tern_dhcp_server_start(tern_stack *st, const tern_dhcp_server_config *cfg) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (cfg->iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp server: no interface %u", cfg->iface);
    }
    tern_dhcp_server *s = NULL;
    for (uint32_t i = 0; i < st->ndhcps; i++) {
        if (st->dhcps[i].running && st->dhcps[i].cfg.iface == cfg->iface) {
            return tern_fail(st, TERN_ERR_BAD_STATE, "dhcp server: already running on interface %u",
                             cfg->iface);
        }
        if (!st->dhcps[i].running && !s) {
            s = &st->dhcps[i];
        }
    }
    if (!s) {
        return tern_fail(st, TERN_ERR_NO_BUFFER,
                         "dhcp server: all %u servers run (tern_stack_config.dhcp_servers)",
                         st->ndhcps);
    }
    tern_dhcp_server_config c = *cfg;
    const tern_iface *f = &st->iface[c.iface];
    if (c.server_ip == 0 && f->naddrs > 0) {
        c.server_ip = tern_addr_v4_to_u32(&f->addr[0]);
        if (c.subnet_mask == 0) {
            uint8_t p = f->prefix_len[0];
            c.subnet_mask = p == 0 ? 0 : 0xffffffffu << (32 - p);
        }
    }
    if (c.server_ip == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "dhcp server: server_ip 0 and interface %u has no IPv4 address", c.iface);
    }
    if (c.subnet_mask == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp server: subnet_mask 0");
    }
    if (c.n_ranges == 0 || c.n_ranges > TERN_DHCPS_RANGES) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp server: n_ranges %u (1..%d)",
                         c.n_ranges, TERN_DHCPS_RANGES);
    }
    for (uint32_t i = 0; i < c.n_ranges; i++) {
        if (c.ranges[i].first > c.ranges[i].last || c.ranges[i].first == 0 ||
            !((c.ranges[i].first & c.subnet_mask) == (c.server_ip & c.subnet_mask) &&
              (c.ranges[i].last & c.subnet_mask) == (c.server_ip & c.subnet_mask))) {
            return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                             "dhcp server: range %u (0x%08x..0x%08x) empty or outside the subnet",
                             i, c.ranges[i].first, c.ranges[i].last);
        }
    }
    if (c.n_reservations > TERN_DHCPS_RESERVATIONS) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp server: n_reservations %u (0..%d)",
                         c.n_reservations, TERN_DHCPS_RESERVATIONS);
    }
    for (uint32_t i = 0; i < c.n_reservations; i++) {
        if (c.reservations[i].address == 0 ||
            c.reservations[i].client_id_len > TERN_DHCP_CLIENT_ID_MAX) {
            return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                             "dhcp server: reservation %u has address 0 or a bad client_id_len", i);
        }
    }
    if (c.n_dns > TERN_DHCP_LEASE_DNS_MAX) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp server: n_dns %u (0..%d)", c.n_dns,
                         TERN_DHCP_LEASE_DNS_MAX);
    }
    if (c.lease_secs == 0) {
        c.lease_secs = 3600;
    }
    if (c.offer_hold_secs == 0) {
        c.offer_hold_secs = 60;
    }
    if ((c.t1_secs && c.t2_secs && c.t1_secs >= c.t2_secs) ||
        (c.t2_secs && c.t2_secs >= c.lease_secs) || (c.t1_secs && c.t1_secs >= c.lease_secs)) {
        return tern_fail(
            st, TERN_ERR_INVALID_ARGUMENT,
            "dhcp server: t1 %u, t2 %u, lease %u: RFC 2131 4.4.5 needs t1 < t2 < lease", c.t1_secs,
            c.t2_secs, c.lease_secs);
    }
    memset(s, 0, sizeof *s);
    s->cfg = c;
    s->running = true;
    return TERN_OK;
}

tern_err tern_dhcp_server_leases(const tern_stack *st, uint64_t now, tern_dhcps_lease *out,
                                 uint32_t cap, uint32_t *n) {
    uint32_t k = 0;
    bool any = false;
    for (uint32_t j = 0; j < st->ndhcps; j++) {
        const tern_dhcp_server *s = &st->dhcps[j];
        if (!s->running) {
            continue;
        }
        any = true;
        for (uint32_t i = 0; i < TERN_DHCPS_LEASES; i++) {
            const tern_dhcps_lease *l = &s->leases[i];
            tern_dhcps_lease_state state = state_at(l, now);
            if (l->state == TERN_DHCPS_FREE || state == TERN_DHCPS_FREE) {
                continue;
            }
            if (k < cap) {
                out[k] = *l;
                out[k].state = state;
                out[k].iface = s->cfg.iface;
            }
            k++;
        }
    }
    if (!any) {
        return TERN_ERR_BAD_STATE;
    }
    *n = k;
    return TERN_OK;
}

void tern_dhcp_server_counters(const tern_stack *st, tern_dhcps_counters *out) {
    memset(out, 0, sizeof *out);
    for (uint32_t j = 0; j < st->ndhcps; j++) {
        const tern_dhcps_counters *c = &st->dhcps[j].c;
        out->discovers += c->discovers;
        out->requests += c->requests;
        out->declines += c->declines;
        out->releases += c->releases;
        out->informs += c->informs;
        out->offers += c->offers;
        out->acks += c->acks;
        out->naks += c->naks;
        out->ignored += c->ignored;
        out->exhausted += c->exhausted;
    }
}

tern_err tern_dhcp_server_counters_on(const tern_stack *st, uint32_t iface,
                                      tern_dhcps_counters *out) {
    for (uint32_t j = 0; j < st->ndhcps; j++) {
        if (st->dhcps[j].running && st->dhcps[j].cfg.iface == iface) {
            *out = st->dhcps[j].c;
            return TERN_OK;
        }
    }
    return TERN_ERR_BAD_STATE;
}
