/*
 * The DHCPv6 client (RFC 8415 sections 15 and 18.2, DNS options of RFC
 * 3646); the API and the timing summary are in tern/dhcpv6.h.
 *
 * Each client runs one message exchange at a time (Solicit, Request, Renew,
 * Rebind, Information-request, Decline, Release) with one timer, next_at:
 * the first transmission, a retransmission, the end of the exchange (MRD),
 * or in BOUND and INFO_DONE the next exchange (T1, the information
 * refresh). T2 and the end of the valid lifetime are checked against the
 * lease's own times whenever the timer fires, and the timer is never set
 * past them. In CHECKING the client follows the address's DAD in the
 * interface's table (ipv6/autoconf.c runs DAD for it) at every poll.
 *
 * Messages are built here and sent through tern_ipv6_send from the
 * interface's link-local address (RFC 8415 section 13.1 has a client use a
 * link-local source; no socket is involved).
 */
#include <string.h>

#include "core/stack_internal.h"
#include "ipv6/ipv6.h"
#include "wire/dhcpv6.h"
#include "wire/udp.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

/* RFC 8415 section 7.6, Table 1 ("Transmission and Retransmission Parameters"):
 * "SOL_MAX_DELAY | 1 sec | Max delay of first Solicit", "SOL_TIMEOUT | 1 sec",
 * "SOL_MAX_RT | 3600 secs", "REQ_TIMEOUT | 1 sec", "REQ_MAX_RT | 30 secs",
 * "REQ_MAX_RC | 10", "REN_TIMEOUT | 10 secs", "REN_MAX_RT | 600 secs",
 * "REB_TIMEOUT | 10 secs", "REB_MAX_RT | 600 secs", "INF_MAX_DELAY | 1 sec",
 * "INF_TIMEOUT | 1 sec", "INF_MAX_RT | 3600 secs", "REL_TIMEOUT | 1 sec",
 * "REL_MAX_RC | 4", "DEC_TIMEOUT | 1 sec", "DEC_MAX_RC | 4",
 * "IRT_DEFAULT | 86400 secs (24 hours)", "IRT_MINIMUM | 600 secs". */
#define SOL_MAX_DELAY (1 * SEC)
#define SOL_TIMEOUT (1 * SEC)
#define SOL_MAX_RT_S 3600u
#define REQ_TIMEOUT (1 * SEC)
#define REQ_MAX_RT (30 * SEC)
#define REQ_MAX_RC 10
#define REN_TIMEOUT (10 * SEC)
#define REN_MAX_RT (600 * SEC)
#define REB_TIMEOUT (10 * SEC)
#define REB_MAX_RT (600 * SEC)
#define INF_MAX_DELAY (1 * SEC)
#define INF_TIMEOUT (1 * SEC)
#define INF_MAX_RT (3600 * SEC)
#define REL_TIMEOUT (1 * SEC)
#define REL_MAX_RC 4
#define DEC_TIMEOUT (1 * SEC)
#define DEC_MAX_RC 4
#define IRT_DEFAULT_S 86400u
#define IRT_MINIMUM_S 600u

/* How long a message waits for the interface's link-local address to become usable. */
#define NO_SOURCE_WAIT (100 * MS)

/* RAND in millionths: uniform in [-RAND_PPM, +RAND_PPM]. */
#define RAND_PPM 100000
#define PPM 1000000

static const uint8_t all_dhcp_servers[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2};

static void push_event(tern_dhcpv6_client *c, tern_dhcpv6_event_kind kind, uint64_t now,
                       const tern_addr *addr, uint16_t status) {
    if (c->ev_count == TERN_DHCP_EVENTS) {
        c->ev_head = (c->ev_head + 1) % TERN_DHCP_EVENTS; /* drop the oldest */
        c->ev_count--;
    }
    tern_dhcpv6_event *e = &c->ev[(c->ev_head + c->ev_count) % TERN_DHCP_EVENTS];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->time = now;
    if (addr) {
        e->addr = *addr;
    }
    e->status = status;
    c->ev_count++;
}

/* ---- retransmission (RFC 8415 section 15) ------------------------------------------- */

/* base + RAND*base for a RAND of ppm millionths (|ppm| <= RAND_PPM): integer nanoseconds. */
static uint64_t randomize(uint64_t base, int32_t ppm) {
    uint64_t mag = base / PPM * (uint64_t)(ppm < 0 ? -ppm : ppm) +
                   base % PPM * (uint64_t)(ppm < 0 ? -ppm : ppm) / PPM;
    return ppm < 0 ? base - mag : base + mag;
}

/* RFC 8415 section 15: "Each of the computations of a new RT includes a randomization factor
 * (RAND), which is a random number chosen with a uniform distribution between -0.1 and +0.1."
 * The first Solicit's (section 18.2.1): "the first RT MUST be selected to be strictly greater
 * than IRT by choosing RAND to be strictly greater than 0." */
static int32_t draw_rand(tern_stack *st, bool positive) {
    if (positive) {
        return (int32_t)(1 + tern_rng_below(&st->rng, RAND_PPM));
    }
    return (int32_t)tern_rng_below(&st->rng, 2 * RAND_PPM + 1) - RAND_PPM;
}

typedef struct params {
    uint64_t irt, mrt;
    uint32_t mrc;
} params;

static params params_of(const tern_dhcpv6_client *c, uint8_t type) {
    switch (type) {
    case TERN_DHCPV6_MSG_SOLICIT:
        return (params){SOL_TIMEOUT, (uint64_t)c->sol_max_rt * SEC, 0};
    case TERN_DHCPV6_MSG_REQUEST:
        return (params){REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC};
    case TERN_DHCPV6_MSG_RENEW:
        return (params){REN_TIMEOUT, REN_MAX_RT, 0};
    case TERN_DHCPV6_MSG_REBIND:
        return (params){REB_TIMEOUT, REB_MAX_RT, 0};
    case TERN_DHCPV6_MSG_RELEASE:
        return (params){REL_TIMEOUT, 0, REL_MAX_RC};
    case TERN_DHCPV6_MSG_DECLINE:
        return (params){DEC_TIMEOUT, 0, DEC_MAX_RC};
    default: /* Information-request */
        return (params){INF_TIMEOUT, INF_MAX_RT, 0};
    }
}

/* The next RT after a transmission (tx_count already counts it). RFC 8415 section 15: "RT for
 * the first message transmission is based on IRT: RT = IRT + RAND*IRT"; "RT for each subsequent
 * message transmission is based on the previous value of RT: RT = 2*RTprev + RAND*RTprev";
 * "MRT specifies an upper bound on the value of RT (disregarding the randomization added by the
 * use of RAND). If MRT has a value of 0, there is no upper limit on the value of RT. Otherwise:
 * if (RT > MRT) RT = MRT + RAND*MRT". */
static void next_rt(tern_stack *st, tern_dhcpv6_client *c) {
    params p = params_of(c, c->msg_type);
    tern_dhcpv6_lease *l = &c->lease;
    bool first = l->tx_count == 1;
    int32_t r = draw_rand(st, first && c->msg_type == TERN_DHCPV6_MSG_SOLICIT);
    l->rand_ppm = r;
    uint64_t rt = first ? randomize(p.irt, r) : 2 * l->rt_ns + randomize(l->rt_ns, r) - l->rt_ns;
    if (p.mrt && rt > p.mrt) {
        rt = randomize(p.mrt, r);
    }
    l->rt_ns = rt;
}

/* ---- output --------------------------------------------------------------------------- */

static bool link_local_of(const tern_stack *st, uint32_t iface, tern_addr *out) {
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

static void send_msg(tern_stack *st, uint64_t now, uint32_t iface,
                     const struct tern_dhcpv6_repr *m) {
    uint8_t buf[512];
    size_t n = 0;
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    if (tern_dhcpv6_emit(m, buf, sizeof buf, &n) != TERN_OK || !link_local_of(st, iface, &tx.src)) {
        return;
    }
    /* RFC 8415 sections 7.1 and 13.1: clients send to All_DHCP_Relay_Agents_and_Servers
     * (ff02::1:2), from UDP port 546 to port 547. */
    tx.dst = tern_addr_v6_from_bytes(all_dhcp_servers);
    tx.next_header = TERN_IPPROTO_UDP;
    tx.oif = iface + 1;
    struct tern_udp_repr u = {.src_port = TERN_DHCPV6_CLIENT_PORT,
                              .dst_port = TERN_DHCPV6_SERVER_PORT,
                              .payload = buf,
                              .payload_len = n};
    size_t w = 0;
    if (tern_udp_emit(&u, &tx.src, &tx.dst, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) !=
        TERN_OK) {
        return;
    }
    if (tern_ipv6_send(st, now, &tx, w) == TERN_OK) {
        st->c.udp_out++;
    }
}

static const uint16_t oro_codes[] = {TERN_DHCPV6_OPT_DNS_SERVERS, TERN_DHCPV6_OPT_DOMAIN_LIST,
                                     TERN_DHCPV6_OPT_SOL_MAX_RT};
static const uint16_t oro_codes_info[] = {TERN_DHCPV6_OPT_DNS_SERVERS, TERN_DHCPV6_OPT_DOMAIN_LIST,
                                          TERN_DHCPV6_OPT_INFORMATION_REFRESH_TIME};

/* Build and send the current exchange's message (a transmission or retransmission). */
static void transmit(tern_stack *st, uint64_t now, uint32_t iface, tern_dhcpv6_client *c) {
    tern_dhcpv6_lease *l = &c->lease;
    tern_addr ll;
    if (!link_local_of(st, iface, &ll)) {
        /* No link-local address to send from yet (its DAD still runs): look again shortly,
         * without counting a transmission. */
        l->next_at = now + NO_SOURCE_WAIT;
        return;
    }
    struct tern_dhcpv6_repr m;
    memset(&m, 0, sizeof m);
    m.msg_type = c->msg_type;
    m.xid = l->xid;
    if (l->tx_count == 0) {
        l->exchange_started_at = now;
    }
    /* Section 21.2: the client's DUID. */
    m.present = TERN_DHCPV6_HAS_CLIENTID | TERN_DHCPV6_HAS_ELAPSED;
    m.client_id = l->duid;
    m.client_id_len = l->duid_len;
    /* Section 21.9: "A client MUST include an Elapsed Time option in messages to indicate how
     * long the client has been trying to complete a DHCP message exchange. The elapsed time is
     * measured from the time at which the client sent the first message in the message
     * exchange, and the elapsed-time field is set to 0 in the first message in the message
     * exchange." In hundredths of a second; "The client uses the value 0xffff to represent any
     * elapsed time values greater than the largest" it can hold. */
    uint64_t cs = (now - l->exchange_started_at) / (10 * MS);
    m.elapsed = cs > 0xffff ? 0xffff : (uint16_t)cs;
    bool with_ia = c->msg_type != TERN_DHCPV6_MSG_INFORMATION_REQUEST;
    bool with_server =
        c->msg_type == TERN_DHCPV6_MSG_REQUEST || c->msg_type == TERN_DHCPV6_MSG_RENEW ||
        c->msg_type == TERN_DHCPV6_MSG_RELEASE || c->msg_type == TERN_DHCPV6_MSG_DECLINE;
    if (with_server) {
        m.present |= TERN_DHCPV6_HAS_SERVERID;
        m.server_id = l->server_id;
        m.server_id_len = l->server_id_len;
    }
    if (with_ia) {
        m.present |= TERN_DHCPV6_HAS_IA_NA;
        m.iaid = l->iaid;
        /* Section 18.2: addresses the client wants (Request: the advertised one) or holds. */
        if (c->msg_type != TERN_DHCPV6_MSG_SOLICIT && l->address.family == TERN_AF_INET6) {
            m.naddrs = 1;
            m.addrs[0].addr = l->address;
            if (c->msg_type == TERN_DHCPV6_MSG_RENEW || c->msg_type == TERN_DHCPV6_MSG_REBIND) {
                m.addrs[0].preferred = l->preferred_secs;
                m.addrs[0].valid = l->valid_secs;
            }
        }
    }
    if (c->msg_type != TERN_DHCPV6_MSG_RELEASE && c->msg_type != TERN_DHCPV6_MSG_DECLINE) {
        m.present |= TERN_DHCPV6_HAS_ORO;
        const uint16_t *codes = with_ia ? oro_codes : oro_codes_info;
        size_t n = with_ia ? sizeof oro_codes / 2 : sizeof oro_codes_info / 2;
        for (size_t i = 0; i < n; i++) {
            m.oro[m.n_oro++] = codes[i];
        }
    }
    switch (c->msg_type) {
    case TERN_DHCPV6_MSG_SOLICIT:
        l->solicits++;
        break;
    case TERN_DHCPV6_MSG_REQUEST:
        l->requests++;
        break;
    case TERN_DHCPV6_MSG_RENEW:
        l->renews++;
        break;
    case TERN_DHCPV6_MSG_REBIND:
        l->rebinds++;
        break;
    case TERN_DHCPV6_MSG_RELEASE:
        l->releases++;
        break;
    case TERN_DHCPV6_MSG_DECLINE:
        l->declines++;
        break;
    default:
        l->info_requests++;
        break;
    }
    send_msg(st, now, iface, &m);
    l->tx_count++;
    next_rt(st, c);
    uint64_t at = now + l->rt_ns;
    c->lease.next_at = at < c->mrd_at ? at : c->mrd_at;
}

/* Begin an exchange of `type` whose first message goes at `at`; mrd_at bounds it (MRD). */
static void begin(tern_stack *st, tern_dhcpv6_client *c, tern_dhcpv6_state state, uint8_t type,
                  uint64_t at, uint64_t mrd_at) {
    tern_dhcpv6_lease *l = &c->lease;
    l->state = state;
    c->msg_type = type;
    /* Section 8: the transaction ID identifies the message exchange; a new one per exchange,
     * 24 bits from the seeded generator. */
    l->xid = (uint32_t)(tern_rng_next(&st->rng) & 0xffffffu);
    l->tx_count = 0;
    l->rt_ns = 0;
    c->mrc = params_of(c, type).mrc;
    c->mrd_at = mrd_at;
    l->next_at = at;
    c->first_rt_over = false;
    c->have_advert = false;
}

static void start_solicit(tern_stack *st, tern_dhcpv6_client *c, uint64_t now) {
    /* Section 18.2.1: "The first Solicit message from the client on the interface SHOULD be
     * delayed by a random amount of time between 0 and SOL_MAX_DELAY." */
    uint64_t at = now + tern_rng_below(&st->rng, SOL_MAX_DELAY + 1);
    c->lease.address = (tern_addr){0};
    begin(st, c, TERN_DHCPV6_SOLICIT, TERN_DHCPV6_MSG_SOLICIT, at, TERN_NEVER);
}

static void start_info(tern_stack *st, tern_dhcpv6_client *c, uint64_t now) {
    /* Section 21.23 (at a refresh) and section 18.2.6 (on start): "the client MUST delay
     * sending the first Information-request by a random amount of time between 0 and
     * INF_MAX_DELAY". */
    uint64_t at = now + tern_rng_below(&st->rng, INF_MAX_DELAY + 1);
    begin(st, c, TERN_DHCPV6_INFO_REQ, TERN_DHCPV6_MSG_INFORMATION_REQUEST, at, TERN_NEVER);
}

/* ---- the address --------------------------------------------------------------------- */

static void uninstall(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c) {
    if (c->addr_installed) {
        (void)tern_iface_del_addr(st, iface, &c->lease.address);
        c->addr_installed = false;
    }
}

/* The lease is gone: the address leaves the interface, and a new Solicit exchange starts. */
static void lose(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now) {
    if (c->addr_installed) {
        push_event(c, TERN_DHCPV6_EV_LOST, now, &c->lease.address, 0);
    }
    uninstall(st, iface, c);
    c->had_lease = false;
    start_solicit(st, c, now);
}

static uint64_t at_secs(uint64_t now, uint32_t s) {
    return s == TERN_DHCPV6_INFINITY ? TERN_NEVER : now + (uint64_t)s * SEC;
}

/* Lifetimes and T1/T2 of an IA's address from a Reply at `now`. */
static void set_times(tern_dhcpv6_client *c, const struct tern_dhcpv6_repr *m,
                      const struct tern_dhcpv6_iaaddr *a, uint64_t now) {
    tern_dhcpv6_lease *l = &c->lease;
    uint32_t t1 = m->t1, t2 = m->t2;
    if (t1 == 0 || t2 == 0) {
        /* Section 14.2 / 21.4: T1 and T2 of 0 leave the times to the client; it uses 0.5 and
         * 0.8 of the shortest preferred lifetime (the ratios section 21.4 recommends). */
        uint32_t pl = a->preferred;
        t1 = pl == TERN_DHCPV6_INFINITY ? pl : pl / 2;
        t2 = pl == TERN_DHCPV6_INFINITY ? pl : (uint32_t)((uint64_t)pl * 4 / 5);
    }
    l->preferred_secs = a->preferred;
    l->valid_secs = a->valid;
    l->t1_secs = t1;
    l->t2_secs = t2;
    l->acquired_at = now;
    l->expires_at = at_secs(now, a->valid);
    l->t1_at = at_secs(now, t1);
    l->t2_at = at_secs(now, t2);
    /* Never renew past the end of the address. */
    if (l->t2_at > l->expires_at) {
        l->t2_at = l->expires_at;
    }
    if (l->t1_at > l->t2_at) {
        l->t1_at = l->t2_at;
    }
}

/* The first usable address of the IA_NA: section 21.6: "The client MUST discard any addresses for
 * which the preferred lifetime is greater than the valid lifetime"; a valid lifetime of 0 means
 * the address is withdrawn; an address with a failure status is not assigned. */
static const struct tern_dhcpv6_iaaddr *usable_addr(const struct tern_dhcpv6_repr *m) {
    if (!(m->present & TERN_DHCPV6_HAS_IA_NA)) {
        return NULL;
    }
    for (uint8_t i = 0; i < m->naddrs; i++) {
        const struct tern_dhcpv6_iaaddr *a = &m->addrs[i];
        if (a->preferred > a->valid || a->valid == 0 ||
            (a->has_status && a->status != TERN_DHCPV6_STATUS_SUCCESS) ||
            !tern_addr_is_v6(&a->addr) || tern_addr_is_multicast(&a->addr) ||
            tern_addr_is_unspecified(&a->addr)) {
            continue;
        }
        return a;
    }
    return NULL;
}

/* The IA's status: the IA_NA's own Status Code, else the message's. */
static uint16_t ia_status(const struct tern_dhcpv6_repr *m) {
    if (m->present & TERN_DHCPV6_HAS_IA_STATUS) {
        return m->ia_status;
    }
    return (m->present & TERN_DHCPV6_HAS_STATUS) ? m->status : TERN_DHCPV6_STATUS_SUCCESS;
}

static void take_dns(tern_dhcpv6_client *c, const struct tern_dhcpv6_repr *m) {
    tern_dhcpv6_lease *l = &c->lease;
    if (m->present & TERN_DHCPV6_HAS_DNS) {
        l->n_dns = m->n_dns;
        memcpy(l->dns, m->dns, sizeof l->dns);
    }
    if (m->present & TERN_DHCPV6_HAS_DOMAINS) {
        if (tern_dhcpv6_domain_first(m->domains, m->domains_len, l->domain, sizeof l->domain) !=
            TERN_OK) {
            l->domain[0] = '\0';
        }
    }
}

/* ---- input ----------------------------------------------------------------------------- */

static void note_status(tern_dhcpv6_client *c, uint64_t now, uint16_t status) {
    c->lease.last_status = status;
    push_event(c, TERN_DHCPV6_EV_STATUS, now, NULL, status);
}

static void choose_advert(tern_dhcpv6_client *c) {
    tern_dhcpv6_lease *l = &c->lease;
    memcpy(l->server_id, c->adv_server, c->adv_server_len);
    l->server_id_len = c->adv_server_len;
    l->preference = c->adv_pref;
    l->address = c->adv_addr;
}

static void go_request(tern_stack *st, tern_dhcpv6_client *c, uint64_t now) {
    choose_advert(c);
    begin(st, c, TERN_DHCPV6_REQUEST, TERN_DHCPV6_MSG_REQUEST, now, TERN_NEVER);
}

static void on_advertise(tern_stack *st, tern_dhcpv6_client *c, uint64_t now,
                         const struct tern_dhcpv6_repr *m) {
    /* Section 18.2.9: the client processes a SOL_MAX_RT option in any Advertise, even one it
     * ignores otherwise; values outside 60..86400 are ignored (section 21.24). */
    if ((m->present & TERN_DHCPV6_HAS_SOL_MAX_RT) && m->sol_max_rt >= 60 &&
        m->sol_max_rt <= 86400) {
        c->sol_max_rt = m->sol_max_rt;
    }
    const struct tern_dhcpv6_iaaddr *a = usable_addr(m);
    uint16_t status = ia_status(m);
    /* Section 18.2.9: "The client MUST ignore any Advertise message that contains no
     * addresses ... with the exception that the client: MUST process an included SOL_MAX_RT
     * option". A failure status in the IA is no address either. */
    if (a == NULL || status != TERN_DHCPV6_STATUS_SUCCESS) {
        c->lease.ignored++;
        if (status != TERN_DHCPV6_STATUS_SUCCESS) {
            note_status(c, now, status);
        }
        return;
    }
    c->lease.advertises++;
    uint8_t pref = (m->present & TERN_DHCPV6_HAS_PREFERENCE) ? m->preference : 0;
    /* Section 18.2.9: "A client MUST collect valid Advertise messages for the first RT
     * seconds, unless it receives a valid Advertise message with a preference value of 255";
     * "Those Advertise messages with the highest server preference value SHOULD be preferred
     * over all other Advertise messages." "Any valid Advertise that does not include a
     * Preference option is considered to have a preference value of 0." Among equals the
     * first. */
    if (!c->have_advert || pref > c->adv_pref) {
        c->have_advert = true;
        c->adv_pref = pref;
        c->adv_addr = a->addr;
        memcpy(c->adv_server, m->server_id, m->server_id_len);
        c->adv_server_len = m->server_id_len;
    }
    /* Section 18.2.1: "If the client receives a valid Advertise message that includes a
     * Preference option with a preference value of 255, the client immediately begins a
     * client-initiated message exchange". After the first RT: "The client terminates the
     * retransmission process as soon as it receives any Advertise message, and the client acts
     * on the received Advertise message without waiting for any additional Advertise
     * messages." */
    if (pref == 255 || c->first_rt_over) {
        go_request(st, c, now);
    }
}

/* Install the leased address (DAD runs on it) and wait in CHECKING. */
static void check_address(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now) {
    tern_dhcpv6_lease *l = &c->lease;
    l->state = TERN_DHCPV6_CHECKING;
    l->next_at = l->expires_at;
    /* Section 18.2.10.1: the client performs Duplicate Address Detection (RFC 4862) on the
     * received address before using it. A /128: RFC 8415 gives no prefix length (on-link is
     * the RA's business). */
    if (tern_iface_add_addr(st, iface, &l->address, 128) == TERN_OK) {
        c->addr_installed = true;
    }
    (void)now;
}

static void on_reply(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now,
                     const struct tern_dhcpv6_repr *m) {
    tern_dhcpv6_lease *l = &c->lease;
    tern_dhcpv6_state s = l->state;
    if (s == TERN_DHCPV6_INFO_REQ) {
        l->replies++;
        take_dns(c, m);
        /* Section 21.23: without an Information Refresh Time option the client refreshes after
         * IRT_DEFAULT; a value below IRT_MINIMUM is raised to IRT_MINIMUM. */
        uint32_t refresh =
            (m->present & TERN_DHCPV6_HAS_INFO_REFRESH) ? m->info_refresh : IRT_DEFAULT_S;
        if (refresh < IRT_MINIMUM_S) {
            refresh = IRT_MINIMUM_S;
        }
        l->state = TERN_DHCPV6_INFO_DONE;
        l->info_refresh_at = at_secs(now, refresh);
        l->next_at = l->info_refresh_at;
        push_event(c, TERN_DHCPV6_EV_INFO, now, NULL, 0);
        return;
    }
    if (s == TERN_DHCPV6_RELEASE || s == TERN_DHCPV6_DECLINE) {
        /* Sections 18.2.7 / 18.2.8: the exchange ends with the server's Reply, whatever its
         * status. */
        l->replies++;
        if (s == TERN_DHCPV6_RELEASE) {
            l->state = TERN_DHCPV6_OFF;
            l->next_at = TERN_NEVER;
            push_event(c, TERN_DHCPV6_EV_RELEASED, now, NULL, 0);
        } else {
            start_solicit(st, c, now);
        }
        return;
    }
    if (s != TERN_DHCPV6_REQUEST && s != TERN_DHCPV6_RENEW && s != TERN_DHCPV6_REBIND) {
        l->ignored++;
        return;
    }
    uint16_t status = (m->present & TERN_DHCPV6_HAS_STATUS) ? m->status : 0;
    if (status == TERN_DHCPV6_STATUS_UNSPEC_FAIL || status == TERN_DHCPV6_STATUS_USE_MULTICAST) {
        /* Section 18.2.10: UnspecFail - the server could not process the message; the
         * retransmission goes on (we always multicast, so UseMulticast changes nothing). */
        l->ignored++;
        note_status(c, now, status);
        return;
    }
    /* Section 21.4: "If a client receives an IA_NA with T1 greater than T2 and both T1 and T2
     * are greater than 0, the client discards the IA_NA option and processes the remainder of
     * the message as though the server had not included the invalid IA_NA option." */
    struct tern_dhcpv6_repr fixed;
    if ((m->present & TERN_DHCPV6_HAS_IA_NA) && m->t1 > m->t2 && m->t2 > 0) {
        fixed = *m;
        fixed.present &= ~(TERN_DHCPV6_HAS_IA_NA | TERN_DHCPV6_HAS_IA_STATUS);
        fixed.naddrs = 0;
        m = &fixed;
    }
    l->replies++;
    take_dns(c, m);
    uint16_t ia = ia_status(m);
    if (ia == TERN_DHCPV6_STATUS_NO_BINDING && s != TERN_DHCPV6_REQUEST) {
        /* Section 18.2.10.1: a NoBinding status in the IA of a Reply to Renew or Rebind: the
         * client sends a Request to the server that responded. */
        note_status(c, now, ia);
        if (s == TERN_DHCPV6_REBIND) {
            memcpy(l->server_id, m->server_id, m->server_id_len);
            l->server_id_len = m->server_id_len;
        }
        begin(st, c, TERN_DHCPV6_REQUEST, TERN_DHCPV6_MSG_REQUEST, now, TERN_NEVER);
        return;
    }
    const struct tern_dhcpv6_iaaddr *a = NULL;
    for (uint8_t i = 0; i < m->naddrs && (m->present & TERN_DHCPV6_HAS_IA_NA); i++) {
        if (tern_addr_eq(&m->addrs[i].addr, &l->address)) {
            a = &m->addrs[i];
        }
    }
    if (s == TERN_DHCPV6_REQUEST) {
        if (a == NULL || a->valid == 0 || a->preferred > a->valid ||
            ia != TERN_DHCPV6_STATUS_SUCCESS) {
            a = usable_addr(m);
        }
        if (a == NULL || ia != TERN_DHCPV6_STATUS_SUCCESS) {
            /* Section 18.2.10.1: no address for the IA (NoAddrsAvail, NotOnLink, or none
             * usable): this client starts over with a Solicit. */
            note_status(c, now,
                        ia == TERN_DHCPV6_STATUS_SUCCESS ? TERN_DHCPV6_STATUS_NO_ADDRS_AVAIL : ia);
            start_solicit(st, c, now);
            return;
        }
        l->address = a->addr;
        set_times(c, m, a, now);
        check_address(st, iface, c, now);
        return;
    }
    /* Renew / Rebind. */
    if (a == NULL || a->valid == 0 || a->preferred > a->valid) {
        /* Section 18.2.10.1: an address with a valid lifetime of 0 is withdrawn; an address
         * left out keeps its old lifetimes until they end. */
        if (a != NULL && a->valid == 0) {
            lose(st, iface, c, now);
            return;
        }
        l->ignored++;
        return;
    }
    if (s == TERN_DHCPV6_REBIND) {
        /* The lease now lives with the server that answered. */
        memcpy(l->server_id, m->server_id, m->server_id_len);
        l->server_id_len = m->server_id_len;
    }
    set_times(c, m, a, now);
    l->state = TERN_DHCPV6_BOUND;
    l->next_at = l->t1_at;
    push_event(c, TERN_DHCPV6_EV_RENEWED, now, &l->address, 0);
}

static bool duid_eq(const uint8_t *a, uint16_t alen, const uint8_t *b, uint16_t blen) {
    return alen == blen && memcmp(a, b, alen) == 0;
}

bool tern_dhcpv6_input(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_udp_repr *udp) {
    if (iface >= st->niface || udp->src_port != TERN_DHCPV6_SERVER_PORT) {
        return false;
    }
    tern_dhcpv6_client *c = &st->dhcp6c[iface];
    tern_dhcpv6_lease *l = &c->lease;
    if (l->state == TERN_DHCPV6_OFF || l->state == TERN_DHCPV6_WAIT_RA ||
        l->state == TERN_DHCPV6_INFO_DONE || l->state == TERN_DHCPV6_BOUND ||
        l->state == TERN_DHCPV6_CHECKING) {
        return false; /* no exchange in progress: nothing to match */
    }
    struct tern_dhcpv6_repr m;
    if (tern_dhcpv6_parse(udp->payload, udp->payload_len, &m) != TERN_OK) {
        l->ignored++; /* malformed: counted, never acted on */
        return true;
    }
    /* Section 16 (RFC 3315 section 15.3 before it): clients discard an Advertise or Reply when
     * "the message does not include a Server Identifier option", "the message does not include
     * a Client Identifier option", "the contents of the Client Identifier option does not
     * match the client's DUID", or "the "transaction-id" field value does not match the value
     * the client used". */
    bool want_adv = l->state == TERN_DHCPV6_SOLICIT;
    if (m.msg_type != (want_adv ? TERN_DHCPV6_MSG_ADVERTISE : TERN_DHCPV6_MSG_REPLY) ||
        m.xid != l->xid || !(m.present & TERN_DHCPV6_HAS_SERVERID) ||
        !(m.present & TERN_DHCPV6_HAS_CLIENTID) ||
        !duid_eq(m.client_id, m.client_id_len, l->duid, l->duid_len)) {
        l->ignored++;
        return true;
    }
    /* Replies to messages that name a server come from that server (section 18.2.10: to a
     * Request, Renew, Release or Decline). */
    bool named = l->state == TERN_DHCPV6_REQUEST || l->state == TERN_DHCPV6_RENEW ||
                 l->state == TERN_DHCPV6_RELEASE || l->state == TERN_DHCPV6_DECLINE;
    if (named && !duid_eq(m.server_id, m.server_id_len, l->server_id, l->server_id_len)) {
        l->ignored++;
        return true;
    }
    if (want_adv) {
        on_advertise(st, c, now, &m);
    } else {
        on_reply(st, iface, c, now, &m);
    }
    return true;
}

void tern_dhcpv6_router_advert(tern_stack *st, uint64_t now, uint32_t iface, bool managed,
                               bool other) {
    if (iface >= st->niface) {
        return;
    }
    tern_dhcpv6_client *c = &st->dhcp6c[iface];
    if (c->cfg.mode != TERN_DHCPV6_FROM_RA) {
        return;
    }
    /* RFC 4861 section 4.2, M: "When set, it indicates that addresses are available via
     * Dynamic Host Configuration Protocol [DHCPv6]. If the M flag is set, the O flag is
     * redundant and can be ignored because DHCPv6 will return all available configuration
     * information." O: "When set, it indicates that other configuration information is
     * available via DHCPv6." */
    tern_dhcpv6_state s = c->lease.state;
    bool stateless = s == TERN_DHCPV6_INFO_REQ || s == TERN_DHCPV6_INFO_DONE;
    if (managed && (s == TERN_DHCPV6_WAIT_RA || stateless)) {
        c->lease.mode = TERN_DHCPV6_STATEFUL;
        start_solicit(st, c, now);
    } else if (other && !managed && s == TERN_DHCPV6_WAIT_RA) {
        c->lease.mode = TERN_DHCPV6_STATELESS;
        start_info(st, c, now);
    }
}

/* ---- timers --------------------------------------------------------------------------- */

/* The exchange in progress ran out of transmissions (MRC) or time (MRD). */
static void exchange_failed(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now) {
    switch (c->lease.state) {
    case TERN_DHCPV6_REQUEST:
    case TERN_DHCPV6_DECLINE:
        start_solicit(st, c, now);
        return;
    case TERN_DHCPV6_RENEW:
        /* Section 18.2.4: the Renew exchange's MRD is the time until T2; at T2 the client
         * Rebinds (section 18.2.5: "At time T2 (which will only be reached if the server to
         * which the Renew message was sent ..."). */
        begin(st, c, TERN_DHCPV6_REBIND, TERN_DHCPV6_MSG_REBIND, now, c->lease.expires_at);
        return;
    case TERN_DHCPV6_REBIND:
        lose(st, iface, c, now);
        return;
    case TERN_DHCPV6_RELEASE:
        c->lease.state = TERN_DHCPV6_OFF;
        c->lease.next_at = TERN_NEVER;
        push_event(c, TERN_DHCPV6_EV_RELEASED, now, NULL, 0);
        return;
    default:
        return;
    }
}

static void client_timer(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now) {
    tern_dhcpv6_lease *l = &c->lease;
    tern_dhcpv6_state s = l->state;
    bool leased = s == TERN_DHCPV6_BOUND || s == TERN_DHCPV6_RENEW || s == TERN_DHCPV6_REBIND ||
                  s == TERN_DHCPV6_CHECKING;
    if (leased && now >= l->expires_at) {
        /* Section 18.2.5: once the valid lifetimes have expired the address is no longer the
         * client's; it stops using it and locates a server again with a Solicit. */
        lose(st, iface, c, now);
        return; /* the Solicit waits its random delay */
    } else if (s == TERN_DHCPV6_BOUND && now >= l->t1_at) {
        /* Section 18.2.4: "At time T1, the client initiates a Renew/Reply message exchange to
         * extend the lifetimes on any leases in the IA." Its MRD is the time left until T2. */
        if (now >= l->t2_at) {
            begin(st, c, TERN_DHCPV6_REBIND, TERN_DHCPV6_MSG_REBIND, now, l->expires_at);
        } else {
            begin(st, c, TERN_DHCPV6_RENEW, TERN_DHCPV6_MSG_RENEW, now, l->t2_at);
        }
    } else if (s == TERN_DHCPV6_INFO_DONE) {
        /* Section 21.23: at the refresh time the client asks again, after the same random
         * delay as the first time. */
        start_info(st, c, now);
        return;
    }
    s = l->state;
    switch (s) {
    case TERN_DHCPV6_SOLICIT:
        if (l->tx_count >= 1 && !c->first_rt_over) {
            c->first_rt_over = true;
            /* Section 18.2.1: the first RT is over; an Advertise collected meanwhile is
             * chosen and a Request goes to its server. */
            if (c->have_advert) {
                go_request(st, c, now);
                transmit(st, now, iface, c);
                return;
            }
        }
        transmit(st, now, iface, c);
        return;
    case TERN_DHCPV6_REQUEST:
    case TERN_DHCPV6_RENEW:
    case TERN_DHCPV6_REBIND:
    case TERN_DHCPV6_INFO_REQ:
    case TERN_DHCPV6_RELEASE:
    case TERN_DHCPV6_DECLINE:
        /* Section 15: "MRC specifies an upper bound on the number of times a client may
         * retransmit a message. Unless MRC is zero, the message exchange fails once the client
         * has transmitted the message MRC times." "MRD specifies an upper bound on the length
         * of time a client may retransmit a message. Unless MRD is zero, the message exchange
         * fails once MRD seconds have elapsed since the client first transmitted the
         * message." */
        if ((c->mrc && l->tx_count >= c->mrc) || (l->tx_count > 0 && now >= c->mrd_at)) {
            exchange_failed(st, iface, c, now);
            if (l->state != s && l->state != TERN_DHCPV6_OFF && l->next_at <= now) {
                client_timer(st, iface, c, now);
            }
            return;
        }
        transmit(st, now, iface, c);
        return;
    case TERN_DHCPV6_BOUND:
        l->next_at = l->t1_at;
        return;
    case TERN_DHCPV6_CHECKING:
        l->next_at = l->expires_at;
        return;
    default:
        l->next_at = TERN_NEVER;
        return;
    }
}

/* CHECKING: the address's DAD result, from the interface table (ipv6/autoconf.c removes an
 * address DAD found duplicated and makes a good one PREFERRED). */
static void follow_dad(tern_stack *st, uint32_t iface, tern_dhcpv6_client *c, uint64_t now) {
    tern_dhcpv6_lease *l = &c->lease;
    int ai = tern_ipv6_addr_index(st, iface, &l->address);
    if (ai >= 0 && st->iface[iface].addr6[ai].state == TERN_ADDR6_TENTATIVE) {
        return;
    }
    if (ai < 0 || !c->addr_installed) {
        /* Section 18.2.10.1: "If any of the addresses are found to be in use on the link, the
         * client sends a Decline message to the server for those addresses as described in
         * Section 18.2.8." */
        c->addr_installed = false;
        push_event(c, TERN_DHCPV6_EV_DECLINED, now, &l->address, 0);
        begin(st, c, TERN_DHCPV6_DECLINE, TERN_DHCPV6_MSG_DECLINE, now, TERN_NEVER);
        return;
    }
    l->state = TERN_DHCPV6_BOUND;
    l->next_at = l->t1_at;
    push_event(c, c->had_lease ? TERN_DHCPV6_EV_RENEWED : TERN_DHCPV6_EV_BOUND, now, &l->address,
               0);
    c->had_lease = true;
}

void tern_dhcpv6_dad_input(tern_stack *st, uint64_t now, uint32_t iface) {
    if (iface < st->niface && st->dhcp6c[iface].lease.state == TERN_DHCPV6_CHECKING) {
        follow_dad(st, iface, &st->dhcp6c[iface], now);
    }
}

/* No client runs: the clients' lines are not read (issue 19). Clients leave OFF only through
 * tern_dhcpv6_start, which sets the flag; a poll that finds every client OFF clears it. */
static bool none_running(const tern_stack *st) {
    if (st->poll_cache->active & TERN_ACTIVE_DHCP6) {
        return false;
    }
#ifdef TERN_POLL_CACHE_CHECK
    for (uint32_t i = 0; i < st->niface; i++) {
        if (st->dhcp6c[i].lease.state != TERN_DHCPV6_OFF) {
            __builtin_trap(); /* a client running without the flag */
        }
    }
#endif
    return true;
}

void tern_dhcpv6_poll(tern_stack *st, uint64_t now) {
    if (none_running(st)) {
        return;
    }
    bool running = false;
    for (uint32_t i = 0; i < st->niface; i++) {
        tern_dhcpv6_client *c = &st->dhcp6c[i];
        if (c->lease.state == TERN_DHCPV6_OFF) {
            continue;
        }
        if (c->lease.state == TERN_DHCPV6_CHECKING && now < c->lease.expires_at) {
            follow_dad(st, i, c, now);
        }
        if (now >= c->lease.next_at) {
            client_timer(st, i, c, now);
        }
        running |= c->lease.state != TERN_DHCPV6_OFF;
    }
    if (!running) {
        st->poll_cache->active &= (uint8_t)~TERN_ACTIVE_DHCP6;
    }
}

uint64_t tern_dhcpv6_poll_at(const tern_stack *st) {
    uint64_t t = TERN_NEVER;
    if (none_running(st)) {
        return t;
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        const tern_dhcpv6_client *c = &st->dhcp6c[i];
        if (c->lease.state != TERN_DHCPV6_OFF && c->lease.next_at < t) {
            t = c->lease.next_at;
        }
    }
    return t;
}

/* ---- API ---------------------------------------------------------------------------- */

tern_err tern_dhcpv6_start(tern_stack *st, uint32_t iface, uint64_t now,
                           const tern_dhcpv6_config *cfg) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcpv6: no interface %u", iface);
    }
    tern_dhcpv6_client *c = &st->dhcp6c[iface];
    if (c->lease.state != TERN_DHCPV6_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "dhcpv6: client already runs on interface %u",
                         iface);
    }
    tern_dhcpv6_config k = {0};
    if (cfg) {
        k = *cfg;
    }
    if (k.mode == 0) {
        k.mode = TERN_DHCPV6_STATEFUL;
    }
    if (k.mode < TERN_DHCPV6_STATEFUL || k.mode > TERN_DHCPV6_FROM_RA) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "dhcpv6: mode %d (1 stateful, 2 stateless, 3 from RA flags)", (int)k.mode);
    }
    memset(c, 0, sizeof *c);
    st->poll_cache->active |= TERN_ACTIVE_DHCP6; /* leaves OFF below: the polls read the clients */
    c->cfg = k;
    tern_dhcpv6_lease *l = &c->lease;
    const uint8_t *mac = st->iface[iface].mac;
    /* RFC 8415 section 11.4, DUID-LL: DUID-Type 3, hardware type 1 (Ethernet), the MAC. */
    l->duid[0] = 0;
    l->duid[1] = 3;
    l->duid[2] = 0;
    l->duid[3] = 1;
    memcpy(l->duid + 4, mac, 6);
    l->duid_len = 10;
    l->iaid =
        k.iaid ? k.iaid
               : (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
    l->mode = k.mode;
    l->next_at = TERN_NEVER;
    c->sol_max_rt = SOL_MAX_RT_S;
    c->mrd_at = TERN_NEVER;
    if (k.mode == TERN_DHCPV6_STATEFUL) {
        start_solicit(st, c, now);
    } else if (k.mode == TERN_DHCPV6_STATELESS) {
        start_info(st, c, now);
    } else {
        l->state = TERN_DHCPV6_WAIT_RA;
    }
    return TERN_OK;
}

tern_err tern_dhcpv6_stop(tern_stack *st, uint32_t iface, uint64_t now) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    if (iface >= st->niface) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "dhcpv6: no interface %u", iface);
    }
    tern_dhcpv6_client *c = &st->dhcp6c[iface];
    if (c->lease.state == TERN_DHCPV6_OFF || c->lease.state == TERN_DHCPV6_RELEASE) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "dhcpv6: no client running on interface %u",
                         iface);
    }
    if (c->addr_installed && c->lease.server_id_len) {
        /* Section 18.2.7 (RFC 3315 section 18.1.6 before it): "The client MUST stop using all
         * of the addresses being released as soon as the client begins the Release message
         * exchange process." */
        uninstall(st, iface, c);
        begin(st, c, TERN_DHCPV6_RELEASE, TERN_DHCPV6_MSG_RELEASE, now, TERN_NEVER);
        return TERN_OK;
    }
    uninstall(st, iface, c);
    c->lease.state = TERN_DHCPV6_OFF;
    c->lease.next_at = TERN_NEVER;
    return TERN_OK;
}

tern_err tern_dhcpv6_get_lease(const tern_stack *st, uint32_t iface, tern_dhcpv6_lease *out) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    *out = st->dhcp6c[iface].lease;
    return TERN_OK;
}

tern_err tern_dhcpv6_next_event(tern_stack *st, uint32_t iface, tern_dhcpv6_event *out) {
    if (iface >= st->niface) {
        return TERN_ERR_INVALID_ARGUMENT;
    }
    tern_dhcpv6_client *c = &st->dhcp6c[iface];
    if (c->ev_count == 0) {
        return TERN_ERR_EMPTY;
    }
    *out = c->ev[c->ev_head];
    c->ev_head = (c->ev_head + 1) % TERN_DHCP_EVENTS;
    c->ev_count--;
    return TERN_OK;
}

const char *tern_dhcpv6_state_name(int state) {
    static const char *const names[] = {"OFF",     "WAIT-RA", "INFO-REQUEST", "INFO-DONE",
                                        "SOLICIT", "REQUEST", "CHECKING",     "BOUND",
                                        "RENEW",   "REBIND",  "DECLINE",      "RELEASE"};
    if (state < 0 || state >= (int)(sizeof names / sizeof names[0])) {
        return "?";
    }
    return names[state];
}
