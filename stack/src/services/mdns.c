/*
 * The mDNS responder for the host's own name (RFC 6762) and one DNS-SD
 * service instance (RFC 6763); the API and the behaviour in brief are in
 * tern/mdns.h. Messages are built here by hand (header, questions, records,
 * names uncompressed), parsed with the resolver's checked readers
 * (wire/dns.h).
 *
 * The responder owns up to five records, numbered R_A..R_ENUM: the host's A
 * record, and with a service its SRV, TXT, the service-type PTR and the
 * services-enumeration PTR. A, SRV and TXT are unique (cache-flush bit,
 * probed, answered at once); the two PTRs are shared (answered after
 * 20-120 ms, RFC 6762 section 6). A sixth, R_AAAA, stands for the host's
 * AAAA records (one per usable IPv6 address of the interface, RFC 3596): they
 * answer AAAA (and ANY) questions for the host name but are not probed or
 * announced (the name is claimed through the A record).
 */
#include <stdio.h>
#include <string.h>

#include "core/stack_internal.h"
#include "ipv4/ipv4.h"
#include "wire/bytes.h"
#include "wire/dns.h"
#include "wire/udp.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define GROUP 0xe00000fbu /* 224.0.0.251 */
#define TYPE_PTR 12
#define TYPE_TXT 16
#define TYPE_SRV 33
#define TYPE_ANY 255
#define CLASS_TOP 0x8000 /* unicast-response bit in a question, cache-flush bit in a record */
/* RFC 6762 section 8.1: "250 ms after the first query, the host should send a second; then,
 * 250 ms after that, a third." */
#define PROBE_INTERVAL (250 * MS)
#define PROBES 3
/* Section 8.3: "at least two unsolicited responses, one second apart". */
#define ANNOUNCE_INTERVAL (1 * SEC)
#define ANNOUNCEMENTS 2
/* Section 8.2: the loser of a simultaneous probe "MUST defer to the winning host by waiting one
 * second, and then begin probing for this record again." */
#define DEFER (1 * SEC)
/* Section 6.7: "The resource record TTL given in a legacy unicast response SHOULD NOT be greater
 * than ten seconds". */
#define LEGACY_TTL 10
/* Section 6: "each responder SHOULD delay its response by a random amount of time selected with
 * uniform random distribution in the range 20-120 ms" (shared records). */
#define SHARED_MIN (20 * MS)
#define SHARED_SPAN (100 * MS)
/* Records looked at per message, at most: bounded work. */
#define MAX_RECORDS 32

enum { R_A, R_SRV, R_TXT, R_PTR, R_ENUM, R_AAAA };
#define R_LAST R_AAAA
#define TYPE_AAAA 28
#define BIT(i) (uint8_t)(1u << (i))
#define UNIQUE (BIT(R_A) | BIT(R_SRV) | BIT(R_TXT))
#define SHARED (BIT(R_PTR) | BIT(R_ENUM))

static const char enum_name[] = "_services._dns-sd._udp.local";

static tern_addr v4(uint32_t a) {
    return tern_addr_v4((uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a);
}

/* ---- the records ---------------------------------------------------------------------- */

static bool rec_present(const tern_mdns_responder *r, int i) {
    if (i == R_AAAA) {
        return r->n_addr6 > 0;
    }
    return i == R_A || r->svc;
}

static const char *rec_name(const tern_mdns_responder *r, int i) {
    switch (i) {
    case R_A:
    case R_AAAA:
        return r->name;
    case R_SRV:
    case R_TXT:
        return r->svc_name;
    case R_PTR:
        return r->svc_ptr;
    default:
        return enum_name;
    }
}

static uint16_t rec_type(int i) {
    static const uint16_t types[] = {TERN_DNS_TYPE_A, TYPE_SRV, TYPE_TXT,
                                     TYPE_PTR,        TYPE_PTR, TYPE_AAAA};
    return types[i];
}

/* RFC 6762 section 10: "The recommended TTL value for Multicast DNS resource records with a host
 * name as the resource record's name (e.g., A, AAAA, HINFO) or a host name contained within the
 * resource record's rdata (e.g., SRV, reverse mapping PTR record) SHOULD be 120 seconds. The
 * recommended TTL value for other Multicast DNS resource records is 75 minutes." */
static uint32_t rec_ttl(int i) {
    return (i == R_A || i == R_SRV || i == R_AAAA) ? TERN_MDNS_TTL : TERN_MDNS_TTL_OTHER;
}

/* ---- building messages ------------------------------------------------------------ */

typedef struct msgbuf {
    uint8_t *p;
    size_t cap, len;
    bool ok;
} msgbuf;

static void put(msgbuf *m, const void *data, size_t n) {
    if (!m->ok || m->cap - m->len < n) {
        m->ok = false;
        return;
    }
    if (n) {
        memcpy(m->p + m->len, data, n);
    }
    m->len += n;
}

static void put16(msgbuf *m, uint16_t v) {
    uint8_t b[2];
    tern_put_u16(b, v);
    put(m, b, 2);
}

static void put32(msgbuf *m, uint32_t v) {
    uint8_t b[4];
    tern_put_u32(b, v);
    put(m, b, 4);
}

static void put_name(msgbuf *m, const char *name) {
    uint8_t w[TERN_DNS_MAX_NAME_WIRE];
    size_t n = 0;
    if (tern_dns_name_encode(name, w, sizeof w, &n) != TERN_OK) {
        m->ok = false;
        return;
    }
    put(m, w, n);
}

static void put_header(msgbuf *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                       uint16_t ns, uint16_t ar) {
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

/* The RDATA of record i (for R_AAAA: of address k). */
static void put_rdata(msgbuf *m, const tern_mdns_responder *r, int i, uint8_t k) {
    switch (i) {
    case R_A:
        put32(m, r->addr);
        break;
    case R_AAAA: /* RFC 3596 section 2.2: the 128-bit address in network byte order */
        put(m, r->addr6[k], 16);
        break;
    case R_SRV: /* RFC 2782: priority, weight, port, target */
        put16(m, 0);
        put16(m, 0);
        put16(m, r->svc_port);
        put_name(m, r->name);
        break;
    case R_TXT:
        put(m, r->svc_txt, r->svc_txt_len);
        break;
    case R_PTR:
        put_name(m, r->svc_name);
        break;
    default:
        put_name(m, r->svc_ptr);
        break;
    }
}

/* Record i; `legacy`: no cache-flush bit and the TTL capped (section 6.7); `probe`: the
 * proposed record of a probe's authority section (no cache-flush bit either); a goodbye
 * (r->goodbye) has TTL 0. */
static void put_rec(msgbuf *m, const tern_mdns_responder *r, int i, bool legacy, bool probe) {
    /* AAAA records are unique like A (RFC 6762 section 10.2: the cache-flush bit). */
    bool flush = ((UNIQUE | BIT(R_AAAA)) & BIT(i)) && !legacy && !probe;
    uint32_t ttl = r->goodbye ? 0 : rec_ttl(i);
    uint8_t n = i == R_AAAA ? r->n_addr6 : 1;
    for (uint8_t k = 0; k < n; k++) {
        put_name(m, rec_name(r, i));
        put16(m, rec_type(i));
        put16(m, (uint16_t)(TERN_DNS_CLASS_IN | (flush ? CLASS_TOP : 0)));
        put32(m, legacy && ttl > LEGACY_TTL ? LEGACY_TTL : ttl);
        size_t at = m->len;
        put16(m, 0);
        put_rdata(m, r, i, k);
        if (m->ok) {
            tern_put_u16(m->p + at, (uint16_t)(m->len - at - 2));
        }
    }
}

/* The number of resource records the records of mask make (R_AAAA: one per address). */
static uint16_t count_of(const tern_mdns_responder *r, uint8_t mask) {
    uint16_t n = (uint16_t)__builtin_popcount(mask);
    if ((mask & BIT(R_AAAA)) && r->n_addr6 > 1) {
        n = (uint16_t)(n + r->n_addr6 - 1);
    }
    return n;
}

static void put_recs(msgbuf *m, const tern_mdns_responder *r, uint8_t mask, bool legacy) {
    for (int i = R_A; i <= R_LAST; i++) {
        if (mask & BIT(i)) {
            put_rec(m, r, i, legacy, false);
        }
    }
}

/* Send a message from port 5353 with IP TTL 255 (section 11: "All Multicast DNS responses
 * (including responses sent via unicast) SHOULD be sent with IP TTL set to 255"). */
static void send_msg(tern_stack *st, uint64_t now, uint32_t dst, uint16_t dport, const msgbuf *m) {
    if (!m->ok) {
        return;
    }
    tern_addr s = v4(st->mdns.addr), d = v4(dst);
    struct tern_udp_repr u = {
        .src_port = TERN_MDNS_PORT, .dst_port = dport, .payload = m->p, .payload_len = m->len};
    size_t w = 0;
    if (tern_udp_emit(&u, &s, &d, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) != TERN_OK) {
        return;
    }
    tern_ip_tx tx = {.src = s, .dst = d, .protocol = TERN_IPPROTO_UDP, .ttl = 255};
    if (tern_ip_send(st, now, &tx, w) == TERN_OK) {
        st->c.udp_out++;
    }
}

/* The records every probe carries in its authority section: the unique ones. */
static uint8_t probed(const tern_mdns_responder *r) {
    return r->svc ? UNIQUE : BIT(R_A);
}

/* Section 8.1: a probe is a query "for all records of that name" (type ANY) with the
 * unicast-response bit, the proposed records in the authority section (section 8.2); one
 * question per name. ID 0 (section 18.1). */
static void send_probe(tern_stack *st, uint64_t now) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[1024];
    msgbuf m = {buf, sizeof buf, 0, true};
    uint8_t mask = probed(r);
    put_header(&m, 0, 0, r->svc ? 2 : 1, 0, count_of(r, mask), 0);
    put_name(&m, r->name);
    put16(&m, TYPE_ANY);
    put16(&m, CLASS_TOP | TERN_DNS_CLASS_IN);
    if (r->svc) {
        put_name(&m, r->svc_name);
        put16(&m, TYPE_ANY);
        put16(&m, CLASS_TOP | TERN_DNS_CLASS_IN);
    }
    for (int i = R_A; i <= R_TXT; i++) {
        if (mask & BIT(i)) {
            put_rec(&m, r, i, false, true);
        }
    }
    r->c.probes_sent++;
    send_msg(st, now, GROUP, TERN_MDNS_PORT, &m);
}

/* A response (QR, AA, no question: section 6 "Multicast DNS responses MUST NOT contain any
 * questions in the Question Section") with the answers and additional records, to dst:5353. */
static void send_answer(tern_stack *st, uint64_t now, uint32_t dst, uint8_t answers,
                        uint8_t additional) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[1400];
    msgbuf m = {buf, sizeof buf, 0, true};
    additional &= (uint8_t)~answers;
    put_header(&m, 0, TERN_DNS_FLAG_QR | TERN_DNS_FLAG_AA, 0, count_of(r, answers), 0,
               count_of(r, additional));
    put_recs(&m, r, answers, false);
    put_recs(&m, r, additional, false);
    if (dst == GROUP) {
        for (int i = R_A; i <= R_LAST; i++) {
            if (answers & BIT(i)) {
                r->last_mc[i] = now;
                r->mc_once |= BIT(i);
            }
        }
    }
    send_msg(st, now, dst, TERN_MDNS_PORT, &m);
}

/* Section 6.7: the answer to a legacy resolver (a query from a port other than 5353) "MUST be a
 * conventional unicast response as would be generated by a conventional Unicast DNS server;
 * for example, it MUST repeat the query ID and the question given in the query message", no
 * cache-flush bit, TTL at most 10 s. */
static void send_legacy(tern_stack *st, uint64_t now, uint32_t dst, uint16_t dport, uint16_t id,
                        const struct tern_dns_question *q, uint8_t answers, uint8_t additional) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[1400];
    msgbuf m = {buf, sizeof buf, 0, true};
    additional &= (uint8_t)~answers;
    put_header(&m, id, TERN_DNS_FLAG_QR | TERN_DNS_FLAG_AA, 1, count_of(r, answers), 0,
               count_of(r, additional));
    put_name(&m, q->name);
    put16(&m, q->type);
    put16(&m, q->klass);
    put_recs(&m, r, answers, true);
    put_recs(&m, r, additional, true);
    send_msg(st, now, dst, dport, &m);
}

/* RFC 6763 section 12.1: with a PTR "the SRV record(s) named in the PTR rdata", "the TXT
 * record(s) named in the PTR rdata" and "All address records (type "A" and "AAAA") named in the
 * SRV rdata"; section 12.2: with an SRV, its address records. */
static uint8_t additional_for(uint8_t answers) {
    uint8_t add = 0;
    if (answers & BIT(R_PTR)) {
        add |= BIT(R_SRV) | BIT(R_TXT) | BIT(R_A);
    }
    if (answers & BIT(R_SRV)) {
        add |= BIT(R_A);
    }
    return add;
}

/* ---- state ------------------------------------------------------------------------- */

static void set_name(tern_mdns_responder *r) {
    if (r->renames == 0) {
        snprintf(r->name, sizeof r->name, "%s.local", r->label);
    } else {
        snprintf(r->name, sizeof r->name, "%s-%u.local", r->label, r->renames + 1);
    }
}

/* RFC 6763 section 9 of the instance name: a conflict makes "Name (2)", "Name (3)"... */
static void set_service_name(tern_mdns_responder *r) {
    if (r->svc_renames == 0) {
        snprintf(r->svc_name, sizeof r->svc_name, "%s.%s.local", r->svc_instance, r->svc_type);
    } else {
        snprintf(r->svc_name, sizeof r->svc_name, "%s (%u).%s.local", r->svc_instance,
                 r->svc_renames + 1, r->svc_type);
    }
    snprintf(r->svc_ptr, sizeof r->svc_ptr, "%s.local", r->svc_type);
}

/* A conflict at `now`: counted, and the extra wait before probing again. Section 8.1: "If
 * fifteen conflicts occur within any ten-second period, then the host MUST wait at least five
 * seconds before each successive additional probe attempt." */
static uint64_t conflict(tern_mdns_responder *r, uint64_t now) {
    r->c.conflicts++;
    r->conflict_at[r->conflict_next % 15] = now;
    r->conflict_next++;
    /* the ring holds the last 15 conflicts, this one included; the oldest is next to go */
    uint64_t oldest = r->conflict_at[r->conflict_next % 15];
    return r->conflict_next >= 15 && now - oldest < 10 * SEC ? 5 * SEC : 0;
}

/* Section 8.1: "When the host is ready to send its probe packets, it should first wait for a
 * short random delay time, uniformly distributed in the range 0-250 ms." */
static void begin_probing(tern_stack *st, uint64_t now, uint64_t extra) {
    tern_mdns_responder *r = &st->mdns;
    r->state = TERN_MDNS_PROBING;
    r->sent = 0;
    r->pending = 0;
    r->next_at = now + extra + tern_rng_below(&st->rng, PROBE_INTERVAL + 1);
}

tern_err tern_mdns_start(tern_stack *st, uint32_t iface, const char *label, uint64_t now) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    tern_mdns_responder *r = &st->mdns;
    if (r->state != TERN_MDNS_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "mdns: already running as %s", r->name);
    }
    size_t n = label ? strlen(label) : 0;
    if (n == 0 || n > TERN_MDNS_LABEL_MAX || memchr(label, '.', n)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "mdns label: 1 to %d octets without a dot (got %zu octets)",
                         TERN_MDNS_LABEL_MAX, n);
    }
    if (iface >= st->niface || st->iface[iface].naddrs == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "mdns iface=%u: no such interface, or it has no IPv4 address yet", iface);
    }
    tern_addr group = v4(GROUP);
    if (r->goodbye) { /* stopped and started again before the goodbye went: it never goes */
        tern_igmp_leave(st, r->iface, &group);
        r->goodbye = false;
    }
    tern_err err = tern_igmp_join(st, iface, &group);
    if (err != TERN_OK) {
        return err;
    }
    memset(r, 0, sizeof *r);
    memcpy(r->label, label, n + 1);
    r->iface = iface;
    r->addr = tern_addr_v4_to_u32(&st->iface[iface].addr[0]);
    set_name(r);
    begin_probing(st, now, 0);
    return TERN_OK;
}

/* RFC 6335 section 5.1: a service name is 1-15 characters of letters, digits and hyphens. */
static bool valid_type(const char *type) {
    size_t n = strlen(type);
    if (n < 7 || n > TERN_MDNS_TYPE_MAX || type[0] != '_' ||
        (strcmp(type + n - 5, "._tcp") != 0 && strcmp(type + n - 5, "._udp") != 0)) {
        return false;
    }
    for (size_t i = 1; i < n - 5; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-')) {
            return false;
        }
    }
    return n - 6 <= 15;
}

/* The TXT RDATA is a sequence of length-prefixed strings filling it exactly. */
static bool valid_txt(const uint8_t *txt, size_t len) {
    size_t off = 0;
    while (off < len) {
        off += 1u + txt[off];
    }
    return off == len;
}

tern_err tern_mdns_add_service(tern_stack *st, const char *instance, const char *type,
                               uint16_t port, const uint8_t *txt, size_t txt_len, uint64_t now) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    tern_mdns_responder *r = &st->mdns;
    if (r->state == TERN_MDNS_OFF || r->svc) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "mdns service: %s",
                         r->svc ? "one service is registered already"
                                : "start the responder first (tern_mdns_start)");
    }
    size_t n = instance ? strlen(instance) : 0;
    if (n == 0 || n > TERN_MDNS_INSTANCE_MAX - 5 || memchr(instance, '.', n) ||
        memchr(instance, '\\', n)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "mdns service instance: 1 to %d octets without '.' or '\\' (got %zu)",
                         TERN_MDNS_INSTANCE_MAX - 5, n);
    }
    if (!type || !valid_type(type)) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "mdns service type '%s': must be _name._tcp or _name._udp, the name 1-15 "
                         "letters, digits or '-'",
                         type ? type : "(null)");
    }
    if (port == 0) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT, "mdns service port=0: must be 1..65535");
    }
    if (txt_len > TERN_MDNS_TXT_MAX || (txt_len && (!txt || !valid_txt(txt, txt_len)))) {
        return tern_fail(st, TERN_ERR_INVALID_ARGUMENT,
                         "mdns service txt (%zu octets): length-prefixed strings, at most %d "
                         "octets in all",
                         txt_len, TERN_MDNS_TXT_MAX);
    }
    memcpy(r->svc_instance, instance, n + 1);
    memcpy(r->svc_type, type, strlen(type) + 1);
    r->svc_port = port;
    if (txt_len) {
        memcpy(r->svc_txt, txt, txt_len);
        r->svc_txt_len = (uint16_t)txt_len;
    } else {
        /* RFC 6763 section 6.1: "An empty TXT record containing zero strings is not allowed
         * ... every DNS-SD service MUST have a TXT record ... containing a single zero byte." */
        r->svc_txt[0] = 0;
        r->svc_txt_len = 1;
    }
    r->svc = true;
    r->svc_renames = 0;
    set_service_name(r);
    begin_probing(st, now, 0); /* the new unique records are probed before use (section 8) */
    return TERN_OK;
}

tern_err tern_mdns_stop(tern_stack *st) {
    tern_poll_cache_drop(st); /* may change a quiet module's timers */
    tern_mdns_responder *r = &st->mdns;
    if (r->state == TERN_MDNS_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "mdns: not running");
    }
    /* Section 10.1: "...the host SHOULD send an unsolicited Multicast DNS response packet,
     * giving the same resource record name, rrtype, rrclass, and rdata, but an RR TTL of zero"
     * — for records it announced; on the next poll, then the group is left. */
    bool announced = r->state == TERN_MDNS_ANNOUNCING || r->state == TERN_MDNS_READY;
    r->state = TERN_MDNS_OFF;
    r->next_at = TERN_NEVER;
    r->pending = 0;
    if (announced) {
        r->goodbye = true;
    } else {
        tern_addr group = v4(GROUP);
        tern_igmp_leave(st, r->iface, &group);
        r->svc = false;
    }
    return TERN_OK;
}

void tern_mdns_get_info(const tern_stack *st, tern_mdns_info *out) {
    const tern_mdns_responder *r = &st->mdns;
    memset(out, 0, sizeof *out);
    out->state = r->state;
    memcpy(out->name, r->name, sizeof out->name);
    out->renames = r->renames;
    if (r->svc) {
        memcpy(out->service, r->svc_name, sizeof out->service);
    }
    out->service_renames = r->svc_renames;
    out->c = r->c;
}

/* ---- input ------------------------------------------------------------------------- */

/* The interface's IPv6 addresses that may be used (not tentative), for the AAAA records. */
static void take_addr6(const tern_stack *st, tern_mdns_responder *r) {
    const tern_iface *f = &st->iface[r->iface];
    r->n_addr6 = 0;
    for (uint32_t a = 0; a < f->naddrs6 && r->n_addr6 < TERN_MDNS_ADDR6_MAX; a++) {
        if (f->addr6[a].state != TERN_ADDR6_TENTATIVE) {
            memcpy(r->addr6[r->n_addr6++], f->addr6[a].addr.bytes, 16);
        }
    }
}

/* Does rr (in msg) carry exactly our record i: name, type, class IN, RDATA (names inside it
 * compared decoded, so compression does not matter)? */
static bool rr_is_ours(const tern_mdns_responder *r, int i, const uint8_t *msg, size_t len,
                       const struct tern_dns_rr *rr) {
    if (!rec_present(r, i) || rr->type != rec_type(i) ||
        (rr->klass & ~CLASS_TOP) != TERN_DNS_CLASS_IN ||
        !tern_dns_name_eq(rr->name, rec_name(r, i))) {
        return false;
    }
    char name[TERN_DNS_NAME_TEXT_CAP];
    size_t off = rr->rdata_off, end = rr->rdata_off + rr->rdlength;
    if (end > len) {
        return false; /* not from tern_dns_rr_parse of msg */
    }
    switch (i) {
    case R_A:
        return rr->rdlength == 4 && tern_get_u32(rr->rdata) == r->addr;
    case R_AAAA:
        for (uint8_t k = 0; rr->rdlength == 16 && k < r->n_addr6; k++) {
            if (memcmp(rr->rdata, r->addr6[k], 16) == 0) {
                return true;
            }
        }
        return false;
    case R_TXT:
        return rr->rdlength == r->svc_txt_len && memcmp(rr->rdata, r->svc_txt, rr->rdlength) == 0;
    case R_SRV:
        if (rr->rdlength < 7 || tern_get_u16(rr->rdata + 4) != r->svc_port) {
            return false;
        }
        off += 6;
        break;
    default:
        break;
    }
    return tern_dns_name_read(msg, end, &off, name, sizeof name) == TERN_OK && off == end &&
           tern_dns_name_eq(name, i == R_SRV   ? r->name
                                  : i == R_PTR ? r->svc_name
                                               : r->svc_ptr);
}

/* Section 8.2 tiebreak: compare their record with ours "...first the record class (excluding
 * the cache-flush bit described in Section 10.2), then the record type, then raw comparison of
 * the binary content of the rdata". Returns >0 when theirs is lexicographically later. (One
 * record per name is compared: the first of theirs with ours of the same name, A for the host,
 * SRV for the instance.) */
static int compare_with_ours(const tern_mdns_responder *r, int i, const struct tern_dns_rr *rr) {
    uint16_t klass = rr->klass & ~CLASS_TOP;
    if (klass != TERN_DNS_CLASS_IN) {
        return klass > TERN_DNS_CLASS_IN ? 1 : -1;
    }
    if (rr->type != rec_type(i)) {
        return rr->type > rec_type(i) ? 1 : -1;
    }
    uint8_t ours[300];
    msgbuf m = {ours, sizeof ours, 0, true};
    put_rdata(&m, r, i, 0);
    size_t n = rr->rdlength < m.len ? rr->rdlength : m.len;
    int c = memcmp(rr->rdata, ours, n);
    if (c != 0) {
        return c;
    }
    return rr->rdlength > m.len ? 1 : rr->rdlength < m.len ? -1 : 0;
}

/* A response from another host: does it claim one of our unique names with other data? */
static void input_response(tern_stack *st, uint64_t now, const uint8_t *msg, size_t len, size_t off,
                           const struct tern_dns_header *h) {
    tern_mdns_responder *r = &st->mdns;
    unsigned n = (unsigned)h->ancount + h->nscount + h->arcount;
    n = n > MAX_RECORDS ? MAX_RECORDS : n;
    for (unsigned k = 0; k < n; k++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            r->c.malformed++;
            return;
        }
        bool host = tern_dns_name_eq(rr.name, r->name);
        bool inst = r->svc && tern_dns_name_eq(rr.name, r->svc_name);
        if (!host && !inst) {
            continue;
        }
        if (rr_is_ours(r, R_A, msg, len, &rr) || rr_is_ours(r, R_SRV, msg, len, &rr) ||
            rr_is_ours(r, R_TXT, msg, len, &rr)) {
            continue;
        }
        if (r->state == TERN_MDNS_PROBING) {
            /* Section 8.1: "If any conflicting Multicast DNS response is received, then the
             * probing host MUST defer to the existing host, and MUST choose new names". */
            uint64_t wait = conflict(r, now);
            if (host) {
                r->renames++;
                set_name(r);
            } else {
                r->svc_renames++;
                set_service_name(r);
            }
            begin_probing(st, now, wait);
            return;
        }
        bool ours_type =
            host ? (rr.type == TERN_DNS_TYPE_A) : (rr.type == TYPE_SRV || rr.type == TYPE_TXT);
        if (ours_type) {
            /* Section 9: "...the host MUST immediately reset its conflicted unique record to
             * probing state". */
            begin_probing(st, now, conflict(r, now));
            return;
        }
    }
}

/* A query from another host. */
static void input_query(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                        const struct tern_udp_repr *udp, const uint8_t *msg, size_t len, size_t off,
                        const struct tern_dns_header *h) {
    tern_mdns_responder *r = &st->mdns;
    r->c.queries_in++;
    uint8_t answers = 0;
    bool qu = true, any = false;
    struct tern_dns_question asked_q;
    for (unsigned k = 0; k < h->qdcount && k < MAX_RECORDS; k++) {
        struct tern_dns_question q;
        if (tern_dns_question_parse(msg, len, &off, &q) != TERN_OK) {
            r->c.malformed++;
            return;
        }
        uint16_t klass = q.klass & ~CLASS_TOP;
        if (klass != TERN_DNS_CLASS_IN && klass != TYPE_ANY) {
            continue;
        }
        for (int i = R_A; i <= R_LAST; i++) {
            if (rec_present(r, i) && tern_dns_name_eq(q.name, rec_name(r, i)) &&
                (q.type == rec_type(i) || q.type == TYPE_ANY)) {
                answers |= BIT(i);
                if (!any) {
                    asked_q = q;
                    any = true;
                }
                qu = qu && (q.klass & CLASS_TOP);
            }
        }
    }
    if (!any) {
        return;
    }
    /* Known answers (answer section) and proposed records of a probe (authority section). */
    uint8_t known = 0;
    bool probe = false;
    int tiebreak = 0;
    unsigned n = (unsigned)h->ancount + h->nscount;
    n = n > MAX_RECORDS ? MAX_RECORDS : n;
    for (unsigned k = 0; k < n; k++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            r->c.malformed++;
            return;
        }
        if (k < h->ancount) {
            /* Section 7.1: "A Multicast DNS responder MUST NOT answer a Multicast DNS query if
             * the answer it would give is already included in the Answer Section with an RR
             * TTL at least half the correct value." */
            for (int i = R_A; i <= R_LAST; i++) {
                if ((answers & BIT(i)) && rr_is_ours(r, i, msg, len, &rr) &&
                    rr.ttl >= rec_ttl(i) / 2) {
                    known |= BIT(i);
                }
            }
            continue;
        }
        int mine = tern_dns_name_eq(rr.name, r->name)                   ? R_A
                   : (r->svc && tern_dns_name_eq(rr.name, r->svc_name)) ? R_SRV
                                                                        : -1;
        if (mine >= 0) {
            probe = true;
            if (tiebreak == 0) {
                tiebreak = compare_with_ours(r, mine, &rr);
            }
        }
    }
    uint32_t src = tern_addr_v4_to_u32(&ip->src);
    if (r->state == TERN_MDNS_PROBING) {
        /* Section 8.2: a probe for the same name at the same time: the lexicographically later
         * data wins; the loser waits one second and probes again. */
        if (probe && tiebreak > 0) {
            begin_probing(st, now, DEFER + conflict(r, now));
        }
        return; /* the names are not ours yet: no answers */
    }
    if (udp->src_port != TERN_MDNS_PORT) {
        r->c.answers_legacy++;
        send_legacy(st, now, src, udp->src_port, h->id, &asked_q, answers, additional_for(answers));
        return;
    }
    answers &= (uint8_t)~known;
    if (!answers) {
        r->c.known_answer_suppressed++;
        return;
    }
    /* Section 5.4: a QU question is answered by unicast, unless a record was not multicast
     * within a quarter of its TTL ("...the responder SHOULD instead multicast the response"). */
    bool recent = true;
    for (int i = R_A; i <= R_LAST; i++) {
        if ((answers & BIT(i)) &&
            (!(r->mc_once & BIT(i)) || now - r->last_mc[i] >= (uint64_t)rec_ttl(i) * SEC / 4)) {
            recent = false;
        }
    }
    if (qu && recent && !probe) {
        r->c.answers_unicast++;
        send_answer(st, now, src, answers, additional_for(answers));
        return;
    }
    /* Section 6: "a Multicast DNS responder MUST NOT (except in the one special case of
     * answering probe queries) multicast a record on a given interface until at least one
     * second has elapsed since the last time that record was multicast"; a probe is answered
     * if 250 ms passed. */
    uint64_t gap = probe ? PROBE_INTERVAL : SEC;
    for (int i = R_A; i <= R_LAST; i++) {
        if ((answers & BIT(i)) && (r->mc_once & BIT(i)) && now - r->last_mc[i] < gap) {
            answers &= (uint8_t)~BIT(i);
        }
    }
    if (!answers) {
        r->c.rate_limited++;
        return;
    }
    if ((answers & SHARED) && !probe) {
        /* Section 6: shared records wait 20-120 ms; a pending response takes the new
         * records and keeps its time. */
        if (!r->pending) {
            r->pending_at = now + SHARED_MIN + tern_rng_below(&st->rng, SHARED_SPAN + 1);
        }
        r->pending |= answers;
        return;
    }
    r->c.answers_multicast++;
    send_answer(st, now, GROUP, answers, additional_for(answers));
}

bool tern_mdns_input(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                     const struct tern_udp_repr *udp) {
    tern_mdns_responder *r = &st->mdns;
    if (r->state == TERN_MDNS_OFF) {
        return false;
    }
    const uint8_t *msg = udp->payload;
    size_t len = udp->payload_len;
    struct tern_dns_header h;
    if (tern_dns_header_parse(msg, len, &h) != TERN_OK) {
        r->c.malformed++;
        return true;
    }
    /* Section 18.3: "Multicast DNS messages received with an OPCODE other than zero MUST be
     * silently ignored." */
    if (TERN_DNS_OPCODE(h.flags) != 0) {
        return true;
    }
    size_t off = TERN_DNS_HDR_LEN;
    if (!(h.flags & TERN_DNS_FLAG_QR)) {
        take_addr6(st, r);
        input_query(st, now, ip, udp, msg, len, off, &h);
        return true;
    }
    /* responses carry no questions we use; skip them (section 6: there should be none) */
    for (unsigned i = 0; i < h.qdcount && i < MAX_RECORDS; i++) {
        struct tern_dns_question q;
        if (tern_dns_question_parse(msg, len, &off, &q) != TERN_OK) {
            r->c.malformed++;
            return true;
        }
    }
    input_response(st, now, msg, len, off, &h);
    return true;
}

/* ---- timers ------------------------------------------------------------------------ */

static uint8_t all_records(const tern_mdns_responder *r) {
    return r->svc ? (uint8_t)(UNIQUE | SHARED) : BIT(R_A);
}

void tern_mdns_poll(tern_stack *st, uint64_t now) {
    tern_mdns_responder *r = &st->mdns;
    if (r->goodbye) {
        send_answer(st, now, GROUP, all_records(r), 0); /* TTL 0: put_rec reads r->goodbye */
        r->goodbye = false;
        r->svc = false;
        tern_addr group = v4(GROUP);
        tern_igmp_leave(st, r->iface, &group);
        return;
    }
    if (r->state == TERN_MDNS_OFF) {
        return;
    }
    if (r->pending && now >= r->pending_at) {
        uint8_t answers = r->pending;
        r->pending = 0;
        r->c.answers_multicast++;
        send_answer(st, now, GROUP, answers, additional_for(answers));
    }
    if (r->state == TERN_MDNS_READY || now < r->next_at) {
        return;
    }
    if (r->state == TERN_MDNS_PROBING) {
        if (r->sent < PROBES) {
            send_probe(st, now);
            r->sent++;
            r->next_at = now + PROBE_INTERVAL;
            return;
        }
        /* Section 8.1: "If, by 250 ms after the third probe, no conflicting Multicast DNS
         * responses have been received, the host may move to the next step, announcing." */
        r->state = TERN_MDNS_ANNOUNCING;
        r->sent = 0;
    }
    /* Section 8.3: "the Multicast DNS responder MUST send an unsolicited Multicast DNS response
     * containing, in the Answer Section, all of its newly registered resource records". */
    r->c.announcements_sent++;
    send_answer(st, now, GROUP, all_records(r), 0);
    if (++r->sent < ANNOUNCEMENTS) {
        r->next_at = now + ANNOUNCE_INTERVAL;
    } else {
        r->state = TERN_MDNS_READY;
        r->next_at = TERN_NEVER;
    }
}

uint64_t tern_mdns_poll_at(const tern_stack *st) {
    const tern_mdns_responder *r = &st->mdns;
    if (r->goodbye) {
        return 0;
    }
    if (r->state == TERN_MDNS_OFF) {
        return TERN_NEVER;
    }
    uint64_t t = (r->state == TERN_MDNS_PROBING || r->state == TERN_MDNS_ANNOUNCING) ? r->next_at
                                                                                     : TERN_NEVER;
    if (r->pending && r->pending_at < t) {
        t = r->pending_at;
    }
    return t;
}
