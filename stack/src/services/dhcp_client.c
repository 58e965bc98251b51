/*
 * The DHCPv4 client (RFC 2131 section 4.4, options of RFC 2132, address
 * conflict detection of RFC 5227); the API is in tern/dhcp.h.
 *
 * Each client has one timer (next_at) whose meaning depends on the state:
 * the next retransmission (SELECTING, REQUESTING, REBOOTING, RENEWING,
 * REBINDING), the next probe or the end of probing (CHECKING), T1 (BOUND).
 * T2 and the lease end are checked against the lease's own times whenever
 * the timer fires, and the timer is never set past them.
 *
 * Messages are built and sent here rather than through a UDP socket: until
 * it has an address the client must send from 0.0.0.0 (RFC 2131 section
 * 4.1), which no socket may do.
 */
#include <string.h>

#include "core/stack_internal.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/dhcpv4.h"
#include "wire/ethernet.h"
#include "wire/udp.h"

#define SEC 1000000000ULL

/* RFC 2131 section 4.1: "the delay before the first retransmission SHOULD
 * be 4 seconds randomized by the value of a uniform random number chosen
 * from the range -1 to +1. ... The retransmission delay SHOULD be doubled
 * with subsequent retransmissions up to a maximum of 64 seconds." */
#define RETX_FIRST (4 * SEC)
#define RETX_MAX (64 * SEC)
/* REQUESTING and REBOOTING stop after this many transmissions (their waits
 * are 4, 8, 16, 32 and 64 s); RFC 2131 section 3.1 step 3 speaks of the
 * client that "might retransmit the DHCPREQUEST message four times, for a
 * total delay of 60 seconds" before it returns to INIT. */
#define REQUEST_TRIES 5
/* RFC 2131 section 4.4.5: "the client SHOULD wait one-half of the remaining
 * time until T2 (in RENEWING state) and one-half of the remaining lease
 * time (in REBINDING state), down to a minimum of 60 seconds, before
 * retransmitting the DHCPREQUEST message." */
#define RENEW_MIN (60 * SEC)
/* RFC 5227 section 1.1: "PROBE_WAIT 1 second (initial random delay)",
 * "PROBE_NUM 3", "PROBE_MIN 1 second", "PROBE_MAX 2 seconds",
 * "ANNOUNCE_WAIT 2 seconds", "ANNOUNCE_NUM 2", "ANNOUNCE_INTERVAL 2 seconds". */
#define PROBE_WAIT (1 * SEC)
#define PROBE_NUM 3
#define PROBE_MIN (1 * SEC)
#define PROBE_MAX (2 * SEC)
#define ANNOUNCE_WAIT (2 * SEC)
#define ANNOUNCE_NUM 2
#define ANNOUNCE_INTERVAL (2 * SEC)
/* RFC 2131 section 3.1 step 5: after a DHCPDECLINE "the client SHOULD wait
 * a minimum of ten seconds before restarting the configuration process". */
#define DECLINE_WAIT (10 * SEC)

static const uint8_t param_list[] = {
    TERN_DHCP_OPT_SUBNET_MASK, TERN_DHCP_OPT_ROUTER, TERN_DHCP_OPT_DNS,
    TERN_DHCP_OPT_HOSTNAME,    TERN_DHCP_OPT_MTU,    TERN_DHCP_OPT_LEASE_TIME,
    TERN_DHCP_OPT_SERVER_ID,   TERN_DHCP_OPT_T1,     TERN_DHCP_OPT_T2,
};

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static tern_addr v4(uint32_t a) {
    return tern_addr_v4((uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a);
}

static uint8_t mask_to_prefix(uint32_t mask) {
    uint8_t n = 0;
    while (n < 32 && (mask & (0x80000000u >> n))) {
        n++;
    }
    return n;
}

static void push_event(tern_dhcp_client *c, tern_dhcp_event_kind kind, uint64_t now,
                       uint32_t addr) {
    if (c->ev_count == TERN_DHCP_EVENTS) {
        c->ev_head = (c->ev_head + 1) % TERN_DHCP_EVENTS; /* drop the oldest */
        c->ev_count--;
    }
    tern_dhcp_event *e = &c->ev[(c->ev_head + c->ev_count) % TERN_DHCP_EVENTS];
    e->kind = kind;
    e->time = now;
    e->address = addr;
    c->ev_count++;
}

/* The wait before retransmission number `tries` (1 = the first): 4 s
 * doubled up to 64 s, plus a uniform -1..+1 s in whole nanoseconds. */
static uint64_t backoff(tern_stack *st, uint32_t tries) {
    uint64_t base = RETX_FIRST;
    for (uint32_t i = 1; i < tries && base < RETX_MAX; i++) {
        base *= 2;
    }
    if (base > RETX_MAX) {
        base = RETX_MAX;
    }
    return base - SEC + tern_rng_below(&st->rng, 2 * SEC + 1);
}

/* ---- output ---------------------------------------------------------------- */

/* Send a DHCP message m from src:68 to dst:67: unicast from a configured
 * address through the routing layer, broadcast in a frame built here. */
static void send_msg(tern_stack *st, uint64_t now, uint32_t iface, struct tern_dhcpv4_repr *m,
                     uint32_t src, uint32_t dst) {
    uint8_t buf[1024];
    size_t n = 0;
    if (tern_dhcpv4_emit(m, buf, sizeof buf, &n) != TERN_OK) {
        return;
    }
    if (src != 0 && dst != 0xffffffffu) {
        tern_services_send_udp_routed(st, now, src, dst, TERN_DHCP_CLIENT_PORT,
                                      TERN_DHCP_SERVER_PORT, buf, n);
    } else {
        tern_services_send_udp(st, iface, bcast_mac, src, dst, TERN_DHCP_CLIENT_PORT,
                               TERN_DHCP_SERVER_PORT, buf, n);
    }
}

/* The fields every client message shares (RFC 2131 section 4.4.1 table 5). */
static void base_msg(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now,
                     uint8_t type, struct tern_dhcpv4_repr *m) {
    memset(m, 0, sizeof *m);
    m->op = TERN_DHCP_OP_REQUEST;
    m->htype = 1;
    m->hlen = 6;
    m->xid = c->lease.xid;
    uint64_t secs = (now - c->started_at) / SEC;
    m->secs = secs > 0xffff ? 0xffff : (uint16_t)secs;
    memcpy(m->chaddr, st->iface[iface].mac, 6);
    m->msg_type = type;
    m->present = TERN_DHCP_HAS_CLIENT_ID;
    if (c->cfg.client_id_len) {
        m->client_id = c->cfg.client_id;
        m->client_id_len = c->cfg.client_id_len;
    } else {
        /* RFC 2132 section 9.14: type 1 (Ethernet) and the hardware address. */
        c->cfg.client_id[0] = 1;
        memcpy(c->cfg.client_id + 1, st->iface[iface].mac, 6);
        m->client_id = c->cfg.client_id;
        m->client_id_len = 7;
    }
    if (c->cfg.hostname[0]) {
        m->present |= TERN_DHCP_HAS_HOSTNAME;
        m->hostname = (const uint8_t *)c->cfg.hostname;
        m->hostname_len = (uint8_t)strlen(c->cfg.hostname);
    }
    if (type == TERN_DHCP_DISCOVER || type == TERN_DHCP_REQUEST) {
        m->present |= TERN_DHCP_HAS_PARAM_LIST;
        m->param_list = param_list;
        m->param_list_len = sizeof param_list;
    }
}

static void send_discover(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    struct tern_dhcpv4_repr m;
    base_msg(st, iface, c, now, TERN_DHCP_DISCOVER, &m);
    /* RFC 2131 section 4.1: "A client that cannot receive unicast IP
     * datagrams until its protocol software has been configured with an IP
     * address SHOULD set the BROADCAST bit in the 'flags' field to 1 in any
     * DHCPDISCOVER or DHCPREQUEST messages that client sends." */
    m.flags = TERN_DHCP_FLAG_BROADCAST;
    c->lease.discovers++;
    send_msg(st, now, iface, &m, 0, 0xffffffffu);
}

static void send_request(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    struct tern_dhcpv4_repr m;
    base_msg(st, iface, c, now, TERN_DHCP_REQUEST, &m);
    uint32_t src = 0, dst = 0xffffffffu;
    switch (c->lease.state) {
    case TERN_DHCP_REQUESTING:
        /* RFC 2131 section 4.3.2, SELECTING state: "Client inserts the
         * address of the selected server in 'server identifier', 'ciaddr'
         * MUST be zero, 'requested IP address' MUST be filled in with the
         * yiaddr value from the chosen DHCPOFFER." */
        m.present |= TERN_DHCP_HAS_SERVER_ID | TERN_DHCP_HAS_REQUESTED_IP;
        m.server_id = c->offer_server;
        m.requested_ip = c->offered;
        m.flags = TERN_DHCP_FLAG_BROADCAST;
        break;
    case TERN_DHCP_REBOOTING:
        /* INIT-REBOOT: "'server identifier' MUST NOT be filled in,
         * 'requested IP address' option MUST be filled in with client's
         * notion of its previously assigned address. 'ciaddr' MUST be zero." */
        m.present |= TERN_DHCP_HAS_REQUESTED_IP;
        m.requested_ip = c->cfg.previous_address;
        m.flags = TERN_DHCP_FLAG_BROADCAST;
        break;
    case TERN_DHCP_RENEWING:
        /* RENEWING: "'server identifier' MUST NOT be filled in, 'requested
         * IP address' option MUST NOT be filled in, 'ciaddr' MUST be filled
         * in with client's IP address." Unicast to the server. */
        m.ciaddr = c->lease.address;
        src = c->lease.address;
        dst = c->lease.server_id;
        break;
    case TERN_DHCP_REBINDING:
        /* REBINDING: as RENEWING, but "broadcast". */
        m.ciaddr = c->lease.address;
        src = c->lease.address;
        break;
    default:
        return;
    }
    c->lease.requests++;
    send_msg(st, now, iface, &m, src, dst);
}

static void send_arp(tern_stack *st, uint32_t iface, uint32_t spa, uint32_t tpa) {
    struct tern_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = TERN_ARP_OP_REQUEST;
    memcpy(a.sha.b, st->iface[iface].mac, 6);
    a.spa = v4(spa);
    a.tpa = v4(tpa);
    uint8_t *p = st->tx2 + TERN_ETH_HDR;
    size_t w = 0;
    if (tern_arp_emit(&a, p, sizeof st->tx2 - TERN_ETH_HDR, &w) == TERN_OK) {
        st->c.arp_requests_sent++;
        tern_eth_output(st, iface, bcast_mac, TERN_ETHERTYPE_ARP, p, w);
    }
}

/* ---- address installation --------------------------------------------------- */

static void uninstall(tern_stack *st, uint32_t iface, tern_dhcp_client *c) {
    if (!c->addr_installed) {
        return;
    }
    tern_addr a = v4(c->lease.address);
    (void)tern_iface_del_addr(st, iface, &a);
    if (c->lease.router) {
        tern_addr any = v4(0);
        (void)tern_route_del(st, &any, 0);
    }
    c->addr_installed = false;
}

static void install(tern_stack *st, uint32_t iface, tern_dhcp_client *c) {
    tern_addr a = v4(c->lease.address);
    uint8_t prefix = c->lease.subnet_mask ? mask_to_prefix(c->lease.subnet_mask) : 32;
    if (tern_iface_add_addr(st, iface, &a, prefix) != TERN_OK) {
        return;
    }
    c->addr_installed = true;
    if (c->lease.router) {
        tern_addr any = v4(0), gw = v4(c->lease.router);
        (void)tern_route_add(st, &any, 0, &gw, iface);
    }
}

/* ---- state changes ------------------------------------------------------------- */

/* Enter INIT and send the first DISCOVER at `at` (now, or later after a
 * DECLINE). */
static void enter_init(tern_stack *st, tern_dhcp_client *c, uint64_t at) {
    c->lease.state = TERN_DHCP_INIT;
    c->lease.xid = (uint32_t)tern_rng_next(&st->rng);
    c->tries = 0;
    c->offered = 0;
    c->next_at = at;
}

/* The lease is gone (expiry or NAK): stop using the address, back to INIT. */
static void lose_lease(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    if (c->addr_installed) {
        push_event(c, TERN_DHCP_EV_LOST, now, c->lease.address);
    }
    uninstall(st, iface, c);
    c->had_lease = false;
    c->announces_left = 0;
    c->lease.address = 0;
    enter_init(st, c, now);
}

/* T1/T2 of a lease acknowledged at `now` (RFC 2131 section 4.4.5: "T1
 * defaults to (0.5 * duration_of_lease).  T2 defaults to (0.875 *
 * duration_of_lease)."); values that break T1 < T2 < lease fall back on
 * the defaults. An infinite lease (0xffffffff) never renews. */
static void set_lease_times(tern_dhcp_client *c, const struct tern_dhcpv4_repr *m, uint64_t now) {
    uint32_t lease = m->lease_time;
    uint32_t t1 = (m->present & TERN_DHCP_HAS_T1) ? m->t1 : lease / 2;
    uint32_t t2 = (m->present & TERN_DHCP_HAS_T2) ? m->t2 : (uint32_t)((uint64_t)lease * 7 / 8);
    if (!(t1 < t2 && t2 < lease)) {
        t1 = lease / 2;
        t2 = (uint32_t)((uint64_t)lease * 7 / 8);
    }
    c->lease.lease_secs = lease;
    c->lease.t1_secs = t1;
    c->lease.t2_secs = t2;
    c->lease.acquired_at = now;
    if (lease == 0xffffffffu) {
        c->lease.t1_at = c->lease.t2_at = c->lease.expires_at = TERN_NEVER;
    } else {
        c->lease.t1_at = now + (uint64_t)t1 * SEC;
        c->lease.t2_at = now + (uint64_t)t2 * SEC;
        c->lease.expires_at = now + (uint64_t)lease * SEC;
    }
}

static void take_params(tern_dhcp_client *c, const struct tern_dhcpv4_repr *m) {
    c->lease.address = m->yiaddr;
    c->lease.server_id = m->server_id;
    c->lease.subnet_mask = (m->present & TERN_DHCP_HAS_SUBNET_MASK) ? m->subnet_mask : 0;
    c->lease.router = m->n_routers ? m->routers[0] : 0;
    c->lease.n_dns = m->n_dns;
    memcpy(c->lease.dns, m->dns, sizeof c->lease.dns);
    c->lease.mtu = (m->present & TERN_DHCP_HAS_MTU) ? m->mtu : 0;
}

static void enter_bound(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    c->lease.state = TERN_DHCP_BOUND;
    install(st, iface, c);
    push_event(c, c->had_lease ? TERN_DHCP_EV_RENEWED : TERN_DHCP_EV_BOUND, now, c->lease.address);
    c->had_lease = true;
    c->next_at = c->lease.t1_at;
}

/* ---- input ------------------------------------------------------------------ */

static void on_ack(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now,
                   const struct tern_dhcpv4_repr *m) {
    /* RFC 2131 section 4.3.1 table 3: the lease time is "MUST" in a
     * DHCPACK to a DHCPREQUEST; an ACK without one (or without an address)
     * cannot start a lease. */
    if (!(m->present & TERN_DHCP_HAS_LEASE_TIME) || m->yiaddr == 0 || m->lease_time == 0) {
        c->lease.ignored++;
        return;
    }
    c->lease.acks++;
    tern_dhcp_state s = c->lease.state;
    if (s == TERN_DHCP_RENEWING || s == TERN_DHCP_REBINDING) {
        if (m->yiaddr != c->lease.address) {
            /* A different address: the old one is gone; start over with the
             * new one as if acquired now. */
            lose_lease(st, iface, c, now);
            return;
        }
        uint32_t keep_server = c->lease.server_id;
        take_params(c, m);
        if (!(m->present & TERN_DHCP_HAS_SERVER_ID)) {
            c->lease.server_id = keep_server;
        }
        set_lease_times(c, m, now);
        c->lease.state = TERN_DHCP_BOUND;
        push_event(c, TERN_DHCP_EV_RENEWED, now, c->lease.address);
        c->next_at = c->lease.t1_at;
        return;
    }
    take_params(c, m);
    if (!(m->present & TERN_DHCP_HAS_SERVER_ID)) {
        c->lease.server_id = c->offer_server;
    }
    set_lease_times(c, m, now);
    if (c->cfg.no_probe) {
        enter_bound(st, iface, c, now);
        return;
    }
    /* RFC 2131 section 4.4.1: "The client SHOULD perform a check on the
     * suggested address to ensure that the address is not already in use."
     * RFC 5227 section 2.1.1: "the host should first wait for a random time
     * interval selected uniformly in the range zero to PROBE_WAIT seconds,
     * and should then send PROBE_NUM probe packets, each of these probe
     * packets spaced randomly and uniformly, PROBE_MIN to PROBE_MAX seconds
     * apart." */
    c->lease.state = TERN_DHCP_CHECKING;
    st->poll_cache->active |= TERN_ACTIVE_DHCP4_CHECKING; /* ARP input reads the clients */
    c->offered = m->yiaddr;
    c->probes_sent = 0;
    c->next_at = now + tern_rng_below(&st->rng, PROBE_WAIT + 1);
}

static void on_nak(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    /* RFC 2131 section 4.4.1 (REQUESTING) and 3.2 step 3: "If the client
     * receives a DHCPNAK message, the client restarts the configuration
     * process." */
    c->lease.naks++;
    push_event(c, TERN_DHCP_EV_NAK, now, c->lease.address ? c->lease.address : c->offered);
    lose_lease(st, iface, c, now);
}

static void client_input(tern_stack *st, uint64_t now, uint32_t iface, tern_dhcp_client *c,
                         const struct tern_dhcpv4_repr *m) {
    switch (c->lease.state) {
    case TERN_DHCP_SELECTING:
        /* RFC 2131 section 4.3.1 table 3: a DHCPOFFER MUST carry the server
         * identifier; the first acceptable offer is taken (section 4.4.1
         * lets the client choose). */
        if (m->msg_type != TERN_DHCP_OFFER || !(m->present & TERN_DHCP_HAS_SERVER_ID) ||
            m->yiaddr == 0) {
            c->lease.ignored++;
            return;
        }
        c->lease.offers++;
        c->offered = m->yiaddr;
        c->offer_server = m->server_id;
        c->lease.state = TERN_DHCP_REQUESTING;
        c->tries = 0;
        c->next_at = now; /* the REQUEST goes out on this poll */
        return;
    case TERN_DHCP_REQUESTING:
    case TERN_DHCP_REBOOTING:
    case TERN_DHCP_RENEWING:
    case TERN_DHCP_REBINDING:
        if (m->msg_type == TERN_DHCP_ACK) {
            on_ack(st, iface, c, now, m);
        } else if (m->msg_type == TERN_DHCP_NAK) {
            /* In REQUESTING only the chosen server may refuse. */
            if (c->lease.state == TERN_DHCP_REQUESTING && (m->present & TERN_DHCP_HAS_SERVER_ID) &&
                m->server_id != c->offer_server) {
                c->lease.ignored++;
                return;
            }
            on_nak(st, iface, c, now);
        } else {
            c->lease.ignored++;
        }
        return;
    default:
        c->lease.ignored++;
        return;
    }
}

bool tern_dhcp_client_input(tern_stack *st, uint64_t now, const struct tern_udp_repr *udp) {
    if (udp->dst_port != TERN_DHCP_CLIENT_PORT || udp->src_port != TERN_DHCP_SERVER_PORT) {
        return false;
    }
    struct tern_dhcpv4_repr m;
    bool parsed = tern_dhcpv4_parse(udp->payload, udp->payload_len, &m) == TERN_OK;
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_dhcp_client *c = &st->dhcpc[i];
        if (c->lease.state == TERN_DHCP_OFF) {
            continue;
        }
        if (!parsed) {
            c->lease.ignored++; /* malformed: counted, never acted on */
            return true;
        }
        /* RFC 2131 section 4.4.1: the client matches replies on xid (and
         * the hardware address it sent). */
        if (m.op != TERN_DHCP_OP_REPLY || m.xid != c->lease.xid ||
            memcmp(m.chaddr, st->iface[i].mac, 6) != 0) {
            continue;
        }
        client_input(st, now, i, c, &m);
        return true;
    }
    return false;
}

/* No client ever probed (CHECKING): ARP input does not read the clients' lines (issue 19). The
 * flag is set where a client enters CHECKING and stays set: a host that ran the client reads its
 * state on every ARP input, as it did before the flag. */
static bool none_checking(const tern_stack *st) {
    if (st->poll_cache->active & TERN_ACTIVE_DHCP4_CHECKING) {
        return false;
    }
#ifdef TERN_POLL_CACHE_CHECK
    for (uint32_t i = 0; i < st->niface; i++) {
        if (st->dhcpc[i].lease.state == TERN_DHCP_CHECKING) {
            __builtin_trap(); /* a client probing without the flag */
        }
    }
#endif
    return true;
}

void tern_dhcp_client_arp_input(tern_stack *st, uint64_t now, uint32_t iface,
                                const struct tern_arp_repr *arp) {
    if (none_checking(st) || iface >= st->niface) {
        return;
    }
    tern_dhcp_client *c = &st->dhcpc[iface];
    if (c->lease.state != TERN_DHCP_CHECKING) {
        return;
    }
    /* A conflict below moves this client's timers: ARP input keeps poll_at's cache of the quiet
     * modules' deadline otherwise (core/stack.c, keeps_quiet_timers), so it goes here. */
    tern_poll_cache_drop(st);
    uint32_t spa = tern_addr_v4_to_u32(&arp->spa), tpa = tern_addr_v4_to_u32(&arp->tpa);
    bool ours = memcmp(arp->sha.b, st->iface[iface].mac, 6) == 0;
    /* RFC 5227 section 2.1.1: "If during this period, from the beginning of
     * the probing process until ANNOUNCE_WAIT seconds after the last probe
     * packet is sent, the host receives any ARP packet (Request *or* Reply)
     * on the interface where the probe is being performed, where the
     * packet's 'sender IP address' is the address being probed for, then
     * the host MUST treat this address as being in use by some other host
     * ... In addition, if during this period the host receives any ARP
     * Probe where the packet's 'target IP address' is the address being
     * probed for, and the packet's 'sender hardware address' is not the
     * hardware address of any of the host's interfaces, then the host
     * SHOULD similarly treat this as an address conflict". */
    bool conflict = spa == c->offered || (!ours && spa == 0 && tpa == c->offered);
    if (!conflict) {
        return;
    }
    /* RFC 2131 section 3.1 step 5: "If the client detects that the address
     * is already in use (e.g., through the use of ARP), the client MUST
     * send a DHCPDECLINE message to the server and restarts the
     * configuration process." */
    struct tern_dhcpv4_repr m;
    base_msg(st, iface, c, now, TERN_DHCP_DECLINE, &m);
    /* RFC 2131 section 4.4.1 table 5: DECLINE carries the requested IP
     * address (MUST) and the server identifier (MUST), ciaddr 0. */
    m.present |= TERN_DHCP_HAS_REQUESTED_IP | TERN_DHCP_HAS_SERVER_ID;
    m.requested_ip = c->offered;
    m.server_id = c->lease.server_id;
    c->lease.declines++;
    send_msg(st, now, iface, &m, 0, 0xffffffffu);
    push_event(c, TERN_DHCP_EV_CONFLICT, now, c->offered);
    c->lease.address = 0;
    c->had_lease = false;
    enter_init(st, c, now + DECLINE_WAIT);
}

/* ---- timers ------------------------------------------------------------------- */

static void client_timer(tern_stack *st, uint32_t iface, tern_dhcp_client *c, uint64_t now) {
    /* Lease end and T2 come first, whatever the timer was for. */
    if (c->had_lease &&
        (c->lease.state == TERN_DHCP_BOUND || c->lease.state == TERN_DHCP_RENEWING ||
         c->lease.state == TERN_DHCP_REBINDING)) {
        if (now >= c->lease.expires_at) {
            /* RFC 2131 section 4.4.5: "If the lease expires before the
             * client receives a DHCPACK, the client moves to INIT state,
             * MUST immediately stop any other network processing". */
            lose_lease(st, iface, c, now);
        } else if (now >= c->lease.t2_at && c->lease.state != TERN_DHCP_REBINDING) {
            c->lease.state = TERN_DHCP_REBINDING;
            c->tries = 0;
        } else if (now >= c->lease.t1_at && c->lease.state == TERN_DHCP_BOUND) {
            c->lease.state = TERN_DHCP_RENEWING;
            c->lease.xid = (uint32_t)tern_rng_next(&st->rng);
            c->started_at = now;
            c->tries = 0;
        }
    }
    switch (c->lease.state) {
    case TERN_DHCP_INIT:
        c->lease.state = TERN_DHCP_SELECTING;
        c->started_at = now;
        c->tries = 0;
        /* fall through */
    case TERN_DHCP_SELECTING:
        send_discover(st, iface, c, now);
        c->tries++;
        c->next_at = now + backoff(st, c->tries);
        return;
    case TERN_DHCP_INIT_REBOOT:
        c->lease.state = TERN_DHCP_REBOOTING;
        c->started_at = now;
        c->tries = 0;
        /* fall through */
    case TERN_DHCP_REQUESTING:
    case TERN_DHCP_REBOOTING:
        if (c->tries >= REQUEST_TRIES) {
            /* RFC 2131 section 3.1 step 3 / 3.2 step 3: no DHCPACK or
             * DHCPNAK after the retransmissions: back to INIT. */
            c->lease.address = 0;
            enter_init(st, c, now);
            client_timer(st, iface, c, now);
            return;
        }
        send_request(st, iface, c, now);
        c->tries++;
        c->next_at = now + backoff(st, c->tries);
        return;
    case TERN_DHCP_RENEWING:
    case TERN_DHCP_REBINDING: {
        send_request(st, iface, c, now);
        c->tries++;
        uint64_t until =
            c->lease.state == TERN_DHCP_RENEWING ? c->lease.t2_at : c->lease.expires_at;
        uint64_t wait = (until - now) / 2;
        if (wait < RENEW_MIN) {
            wait = RENEW_MIN;
        }
        c->next_at = now + wait < until ? now + wait : until;
        return;
    }
    case TERN_DHCP_CHECKING:
        if (c->probes_sent < PROBE_NUM) {
            /* RFC 5227 section 2.1.1: a probe has "'sender IP address' field
             * MUST be set to all zeroes". */
            send_arp(st, iface, 0, c->offered);
            c->probes_sent++;
            c->next_at =
                now + (c->probes_sent < PROBE_NUM
                           ? PROBE_MIN + tern_rng_below(&st->rng, PROBE_MAX - PROBE_MIN + 1)
                           : ANNOUNCE_WAIT);
            return;
        }
        /* ANNOUNCE_WAIT passed without conflict: the address is ours.
         * RFC 5227 section 2.3: "the host MUST ... broadcast ANNOUNCE_NUM
         * ARP Announcements, spaced ANNOUNCE_INTERVAL seconds apart". */
        c->announces_left = ANNOUNCE_NUM;
        c->announce_at = now;
        enter_bound(st, iface, c, now);
        return;
    case TERN_DHCP_BOUND:
        c->next_at = c->lease.t1_at;
        return;
    default:
        c->next_at = TERN_NEVER;
        return;
    }
}

void tern_dhcp_client_poll(tern_stack *st, uint64_t now) {
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_dhcp_client *c = &st->dhcpc[i];
        if (c->lease.state == TERN_DHCP_OFF) {
            continue;
        }
        if (c->announces_left && now >= c->announce_at) {
            /* An announcement: sender and target are both our address. */
            send_arp(st, i, c->lease.address, c->lease.address);
            c->announces_left--;
            c->announce_at = now + ANNOUNCE_INTERVAL;
        }
        if (now >= c->next_at) {
            client_timer(st, i, c, now);
        }
    }
}

uint64_t tern_dhcp_client_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    for (uint32_t i = 0; i < st->niface; i++) {
        const tern_dhcp_client *c = &st->dhcpc[i];
        if (c->lease.state == TERN_DHCP_OFF) {
            continue;
        }
        if (c->next_at < t) {
            t = c->next_at;
        }
        if (c->announces_left && c->announce_at < t) {
            t = c->announce_at;
        }
    }
    return t;
}

/* ---- API ---------------------------------------------------------------------- */

tern_err tern_dhcp_start(tern_stack *st, uint32_t iface, uint64_t now,
                         const tern_dhcp_client_config *cfg) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp: no interface %u", iface);
    }
    tern_dhcp_client *c = &st->dhcpc[iface];
    if (c->lease.state != TERN_DHCP_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "dhcp: client already runs on interface %u",
                         iface);
    }
    if (cfg && memchr(cfg->hostname, 0, sizeof cfg->hostname) == NULL) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp: hostname longer than %d characters",
                         TERN_DHCP_HOSTNAME_MAX);
    }
    if (cfg && cfg->client_id_len == 1) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "dhcp: client_id_len 1 (RFC 2132 section 9.14: at least 2)");
    }
    memset(c, 0, sizeof *c);
    if (cfg) {
        c->cfg = *cfg;
    }
    enter_init(st, c, now);
    if (c->cfg.previous_address) {
        c->lease.state = TERN_DHCP_INIT_REBOOT;
    }
    return TERN_OK;
}

tern_err tern_dhcp_release(tern_stack *st, uint32_t iface, uint64_t now) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcp: no interface %u", iface);
    }
    tern_dhcp_client *c = &st->dhcpc[iface];
    if (c->lease.state == TERN_DHCP_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "dhcp: no client on interface %u", iface);
    }
    if (c->addr_installed) {
        /* RFC 2131 section 4.4.1 table 5: DHCPRELEASE has ciaddr and the
         * server identifier, and goes unicast to the server (4.4.6). */
        struct tern_dhcpv4_repr m;
        c->lease.xid = (uint32_t)tern_rng_next(&st->rng);
        base_msg(st, iface, c, now, TERN_DHCP_RELEASE, &m);
        m.secs = 0;
        m.ciaddr = c->lease.address;
        m.present |= TERN_DHCP_HAS_SERVER_ID;
        m.server_id = c->lease.server_id;
        c->lease.releases++;
        send_msg(st, now, iface, &m, c->lease.address, c->lease.server_id);
        uninstall(st, iface, c);
    }
    c->lease.state = TERN_DHCP_OFF;
    c->lease.address = 0;
    c->next_at = TERN_NEVER;
    c->announces_left = 0;
    return TERN_OK;
}

tern_err tern_dhcp_get_lease(const tern_stack *st, uint32_t iface, tern_dhcp_lease *out) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    *out = st->dhcpc[iface].lease;
    return TERN_OK;
}

tern_err tern_dhcp_next_event(tern_stack *st, uint32_t iface, tern_dhcp_event *out) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    tern_dhcp_client *c = &st->dhcpc[iface];
    if (c->ev_count == 0) {
        return TERN_ERR_EMPTY;
    }
    *out = c->ev[c->ev_head];
    c->ev_head = (c->ev_head + 1) % TERN_DHCP_EVENTS;
    c->ev_count--;
    return TERN_OK;
}

const char *tern_dhcp_state_name(int state) {
    static const char *const names[] = {"OFF",         "INIT",     "SELECTING", "REQUESTING",
                                        "CHECKING",    "BOUND",    "RENEWING",  "REBINDING",
                                        "INIT-REBOOT", "REBOOTING"};
    if (state < 0 || state >= (int)(sizeof names / sizeof names[0])) {
        return "?";
    }
    return names[state];
}
