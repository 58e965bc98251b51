/*
 * The mDNS responder for the host's own name (RFC 6762); the API and the
 * behaviour in brief are in tern/mdns.h. Messages are built here by hand
 * (header, question, one A record, names uncompressed), parsed with the
 * resolver's checked readers (wire/dns.h).
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
/* Records looked at per message, at most: bounded work. */
#define MAX_RECORDS 32

static tern_addr v4(uint32_t a) {
    return tern_addr_v4((uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a);
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
    memcpy(m->p + m->len, data, n);
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
                       uint16_t ns) {
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, 0);
}

/* The host's A record. */
static void put_a(msgbuf *m, const tern_mdns_responder *r, uint16_t klass, uint32_t ttl) {
    put_name(m, r->name);
    put16(m, TERN_DNS_TYPE_A);
    put16(m, klass);
    put32(m, ttl);
    put16(m, 4);
    put32(m, r->addr);
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

/* Section 8.1: a probe is a query "for all records of that name" (type ANY) with the
 * unicast-response bit ("...should set the QU bit"), "...the proposed records in the Authority
 * Section" (section 8.2). ID 0 (section 18.1). */
static void send_probe(tern_stack *st, uint64_t now) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[512];
    msgbuf m = {buf, sizeof buf, 0, true};
    put_header(&m, 0, 0, 1, 0, 1);
    put_name(&m, r->name);
    put16(&m, TYPE_ANY);
    put16(&m, CLASS_TOP | TERN_DNS_CLASS_IN);
    put_a(&m, r, TERN_DNS_CLASS_IN, TERN_MDNS_TTL);
    r->c.probes_sent++;
    send_msg(st, now, GROUP, TERN_MDNS_PORT, &m);
}

/* A response with the A record, cache-flush bit set (section 10.2: "...the cache-flush bit set
 * ... for records that are unique"), QR and AA, no question (section 6: "Multicast DNS
 * responses MUST NOT contain any questions in the Question Section"), to dst:5353. */
static void send_answer(tern_stack *st, uint64_t now, uint32_t dst) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[512];
    msgbuf m = {buf, sizeof buf, 0, true};
    put_header(&m, 0, TERN_DNS_FLAG_QR | TERN_DNS_FLAG_AA, 0, 1, 0);
    put_a(&m, r, CLASS_TOP | TERN_DNS_CLASS_IN, TERN_MDNS_TTL);
    if (dst == GROUP) {
        r->last_multicast = now;
        r->multicast_once = true;
    }
    send_msg(st, now, dst, TERN_MDNS_PORT, &m);
}

/* Section 6.7: the answer to a legacy resolver (a query from a port other than 5353) "MUST be a
 * conventional unicast response as would be generated by a conventional Unicast DNS server;
 * for example, it MUST repeat the query ID and the question given in the query message", no
 * cache-flush bit, TTL at most 10 s. */
static void send_legacy(tern_stack *st, uint64_t now, uint32_t dst, uint16_t dport, uint16_t id,
                        const struct tern_dns_question *q) {
    tern_mdns_responder *r = &st->mdns;
    uint8_t buf[512];
    msgbuf m = {buf, sizeof buf, 0, true};
    put_header(&m, id, TERN_DNS_FLAG_QR | TERN_DNS_FLAG_AA, 1, 1, 0);
    put_name(&m, q->name);
    put16(&m, q->type);
    put16(&m, q->klass);
    put_a(&m, r, TERN_DNS_CLASS_IN, LEGACY_TTL);
    send_msg(st, now, dst, dport, &m);
}

/* ---- state ------------------------------------------------------------------------- */

static void set_name(tern_mdns_responder *r) {
    if (r->renames == 0) {
        snprintf(r->name, sizeof r->name, "%s.local", r->label);
    } else {
        snprintf(r->name, sizeof r->name, "%s-%u.local", r->label, r->renames + 1);
    }
}

/* Section 8.1: "When the host is ready to send its probe packets, it should first wait for a
 * short random delay time, uniformly distributed in the range 0-250 ms." */
static void begin_probing(tern_stack *st, uint64_t now, uint64_t extra) {
    tern_mdns_responder *r = &st->mdns;
    r->state = TERN_MDNS_PROBING;
    r->sent = 0;
    r->next_at = now + extra + tern_rng_below(&st->rng, PROBE_INTERVAL + 1);
}

tern_err tern_mdns_start(tern_stack *st, uint32_t iface, const char *label, uint64_t now) {
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

tern_err tern_mdns_stop(tern_stack *st) {
    tern_mdns_responder *r = &st->mdns;
    if (r->state == TERN_MDNS_OFF) {
        return tern_fail(st, TERN_ERR_BAD_STATE, "mdns: not running");
    }
    tern_addr group = v4(GROUP);
    tern_igmp_leave(st, r->iface, &group);
    r->state = TERN_MDNS_OFF;
    r->next_at = TERN_NEVER;
    return TERN_OK;
}

void tern_mdns_get_info(const tern_stack *st, tern_mdns_info *out) {
    const tern_mdns_responder *r = &st->mdns;
    memset(out, 0, sizeof *out);
    out->state = r->state;
    memcpy(out->name, r->name, sizeof out->name);
    out->renames = r->renames;
    out->c = r->c;
}

/* ---- input ------------------------------------------------------------------------- */

/* Is this record ours exactly (name, type A, class IN, our address)? */
static bool is_our_a(const tern_mdns_responder *r, const struct tern_dns_rr *rr) {
    return tern_dns_name_eq(rr->name, r->name) && rr->type == TERN_DNS_TYPE_A &&
           (rr->klass & ~CLASS_TOP) == TERN_DNS_CLASS_IN && rr->rdlength == 4 &&
           tern_get_u32(rr->rdata) == r->addr;
}

/* Section 8.2 tiebreak: compare their record with ours "...first the record class (excluding
 * the cache-flush bit described in Section 10.2), then the record type, then raw comparison of
 * the binary content of the rdata". Returns >0 when theirs is lexicographically later. */
static int compare_with_ours(const tern_mdns_responder *r, const struct tern_dns_rr *rr) {
    uint16_t klass = rr->klass & ~CLASS_TOP;
    if (klass != TERN_DNS_CLASS_IN) {
        return klass > TERN_DNS_CLASS_IN ? 1 : -1;
    }
    if (rr->type != TERN_DNS_TYPE_A) {
        return rr->type > TERN_DNS_TYPE_A ? 1 : -1;
    }
    uint8_t ours[4];
    tern_put_u32(ours, r->addr);
    size_t n = rr->rdlength < 4 ? rr->rdlength : 4;
    int c = memcmp(rr->rdata, ours, n);
    if (c != 0) {
        return c;
    }
    return rr->rdlength > 4 ? 1 : rr->rdlength < 4 ? -1 : 0;
}

/* A response from another host: does it claim our name with other data? */
static void input_response(tern_stack *st, uint64_t now, const uint8_t *msg, size_t len, size_t off,
                           const struct tern_dns_header *h) {
    tern_mdns_responder *r = &st->mdns;
    unsigned n = (unsigned)h->ancount + h->nscount + h->arcount;
    n = n > MAX_RECORDS ? MAX_RECORDS : n;
    for (unsigned i = 0; i < n; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            r->c.malformed++;
            return;
        }
        if (!tern_dns_name_eq(rr.name, r->name) || is_our_a(r, &rr)) {
            continue;
        }
        if (r->state == TERN_MDNS_PROBING) {
            /* Section 8.1: "If any conflicting Multicast DNS response is received, then the
             * probing host MUST defer to the existing host, and MUST choose new names". */
            r->c.conflicts++;
            r->renames++;
            set_name(r);
            begin_probing(st, now, 0);
            return;
        }
        if (rr.type == TERN_DNS_TYPE_A || rr.type == TYPE_ANY) {
            /* Section 9: "...the host MUST immediately reset its conflicted unique record to
             * probing state". */
            r->c.conflicts++;
            begin_probing(st, now, 0);
            return;
        }
    }
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
    if (h.flags & TERN_DNS_FLAG_QR) {
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
    r->c.queries_in++;
    bool asked = false, qu = false, probe = false;
    struct tern_dns_question asked_q;
    for (unsigned i = 0; i < h.qdcount && i < MAX_RECORDS; i++) {
        struct tern_dns_question q;
        if (tern_dns_question_parse(msg, len, &off, &q) != TERN_OK) {
            r->c.malformed++;
            return true;
        }
        uint16_t klass = q.klass & ~CLASS_TOP;
        if (tern_dns_name_eq(q.name, r->name) &&
            (q.type == TERN_DNS_TYPE_A || q.type == TYPE_ANY) &&
            (klass == TERN_DNS_CLASS_IN || klass == TYPE_ANY) && !asked) {
            asked = true;
            asked_q = q;
            qu = (q.klass & CLASS_TOP) != 0;
        }
    }
    if (!asked) {
        return true;
    }
    /* Known answers (answer section) and proposed records of a probe (authority section). */
    bool known = false;
    int tiebreak = 0;
    unsigned n = (unsigned)h.ancount + h.nscount;
    n = n > MAX_RECORDS ? MAX_RECORDS : n;
    for (unsigned i = 0; i < n; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            r->c.malformed++;
            return true;
        }
        if (i < h.ancount) {
            /* Section 7.1: "...if the TTL of the answer as given in the Known-Answer list is
             * at least half the true TTL" the responder does not answer. */
            if (is_our_a(r, &rr) && rr.ttl >= TERN_MDNS_TTL / 2) {
                known = true;
            }
        } else if (tern_dns_name_eq(rr.name, r->name)) {
            probe = true;
            if (tiebreak == 0) {
                tiebreak = compare_with_ours(r, &rr);
            }
        }
    }
    uint32_t src = tern_addr_v4_to_u32(&ip->src);
    if (r->state == TERN_MDNS_PROBING) {
        /* Section 8.2: a probe for the same name at the same time: the lexicographically later
         * data wins; the loser waits one second and probes again. */
        if (probe && tiebreak > 0) {
            r->c.conflicts++;
            begin_probing(st, now, DEFER);
        }
        return true; /* the name is not ours yet: no answers */
    }
    if (udp->src_port != TERN_MDNS_PORT) {
        r->c.answers_legacy++;
        send_legacy(st, now, src, udp->src_port, h.id, &asked_q);
        return true;
    }
    if (known) {
        r->c.known_answer_suppressed++;
        return true;
    }
    bool recent = r->multicast_once && now - r->last_multicast < (uint64_t)TERN_MDNS_TTL * SEC / 4;
    if (qu && recent && !probe) {
        /* Section 5.4: answer a QU question by unicast, unless the record was not multicast
         * within a quarter of its TTL ("...the responder SHOULD instead multicast"). */
        r->c.answers_unicast++;
        send_answer(st, now, src);
        return true;
    }
    /* Section 6: "a Multicast DNS responder MUST NOT (except in the one special case of
     * answering probe queries) multicast a record on a given interface until at least one
     * second has elapsed since the last time that record was multicast"; a probe is answered
     * if 250 ms passed. */
    uint64_t gap = probe ? PROBE_INTERVAL : SEC;
    if (r->multicast_once && now - r->last_multicast < gap) {
        r->c.rate_limited++;
        return true;
    }
    r->c.answers_multicast++;
    send_answer(st, now, GROUP);
    return true;
}

/* ---- timers ------------------------------------------------------------------------ */

void tern_mdns_poll(tern_stack *st, uint64_t now) {
    tern_mdns_responder *r = &st->mdns;
    if (r->state == TERN_MDNS_OFF || r->state == TERN_MDNS_READY || now < r->next_at) {
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
    r->c.announcements_sent++;
    send_answer(st, now, GROUP);
    if (++r->sent < ANNOUNCEMENTS) {
        r->next_at = now + ANNOUNCE_INTERVAL;
    } else {
        r->state = TERN_MDNS_READY;
        r->next_at = TERN_NEVER;
    }
}

uint64_t tern_mdns_poll_at(const tern_stack *st) {
    const tern_mdns_responder *r = &st->mdns;
    return (r->state == TERN_MDNS_PROBING || r->state == TERN_MDNS_ANNOUNCING) ? r->next_at
                                                                               : TERN_NEVER;
}
