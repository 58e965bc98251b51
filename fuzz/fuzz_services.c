/*
 * libFuzzer target for the service parsers: DHCPv4 (wire/dhcpv4.h) and DNS
 * (wire/dns.h), including DNS name decompression (the NAME:WRECK class).
 *
 * Each input is parsed as a DHCP message and as a DNS message (header,
 * questions, records, and every name found inside CNAME RDATA). What parses
 * as DHCP is emitted again and re-parsed: it must parse to the same
 * representation. What parses as a DHCPv6 message (wire/dhcpv6.h) is
 * emitted again: the bytes must parse to the same representation, and the
 * Domain Search List's first name must stay within its bounds. Every DNS question name must encode
 * again and, as a query, parse back to the same name. IGMP (wire/igmp.h): a v3 report's records are
 * walked to the end and emitted again to the same bytes. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/dhcpv4.h"
#include "wire/dhcpv6.h"
#include "wire/dns.h"
#include "wire/igmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERN_DHCPV6_DOMAIN_TEXT 256

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint8_t out[2048];

static void same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    REQUIRE(alen == blen);
    REQUIRE(alen == 0 || memcmp(a, b, alen) == 0);
}

static void fuzz_dhcp(const uint8_t *data, size_t size) {
    struct tern_dhcpv4_repr r, p;
    if (tern_dhcpv4_parse(data, size, &r) != TERN_OK) {
        return;
    }
    size_t w = 0;
    REQUIRE(tern_dhcpv4_emit(&r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == tern_dhcpv4_emit_len(&r));
    size_t w2;
    REQUIRE(tern_dhcpv4_emit(&r, out, w - 1, &w2) == TERN_ERR_BUFFER_TOO_SMALL);
    REQUIRE(tern_dhcpv4_parse(out, w, &p) == TERN_OK);
    REQUIRE(p.op == r.op && p.htype == r.htype && p.hlen == r.hlen && p.hops == r.hops);
    REQUIRE(p.xid == r.xid && p.secs == r.secs && p.flags == r.flags);
    REQUIRE(p.ciaddr == r.ciaddr && p.yiaddr == r.yiaddr && p.siaddr == r.siaddr);
    REQUIRE(p.giaddr == r.giaddr && memcmp(p.chaddr, r.chaddr, 16) == 0);
    REQUIRE(p.msg_type == r.msg_type && p.present == r.present);
    REQUIRE(p.subnet_mask == r.subnet_mask && p.mtu == r.mtu && p.lease_time == r.lease_time);
    REQUIRE(p.requested_ip == r.requested_ip && p.server_id == r.server_id);
    REQUIRE(p.t1 == r.t1 && p.t2 == r.t2 && p.max_size == r.max_size);
    REQUIRE(p.n_routers == r.n_routers && p.n_dns == r.n_dns);
    REQUIRE(memcmp(p.routers, r.routers, sizeof p.routers) == 0);
    REQUIRE(memcmp(p.dns, r.dns, sizeof p.dns) == 0);
    same_bytes(p.hostname, p.hostname_len, r.hostname, r.hostname_len);
    same_bytes(p.param_list, p.param_list_len, r.param_list, r.param_list_len);
    same_bytes(p.message, p.message_len, r.message, r.message_len);
    same_bytes(p.client_id, p.client_id_len, r.client_id, r.client_id_len);
}

static void same_dhcpv6(const struct tern_dhcpv6_repr *a, const struct tern_dhcpv6_repr *b) {
    REQUIRE(a->msg_type == b->msg_type && a->xid == b->xid && a->present == b->present);
    REQUIRE(a->iaid == b->iaid && a->t1 == b->t1 && a->t2 == b->t2 && a->naddrs == b->naddrs);
    REQUIRE(a->preference == b->preference && a->elapsed == b->elapsed && a->status == b->status);
    REQUIRE(a->ia_status == b->ia_status && a->n_dns == b->n_dns && a->n_oro == b->n_oro);
    REQUIRE(a->info_refresh == b->info_refresh && a->sol_max_rt == b->sol_max_rt);
    for (uint8_t i = 0; i < a->naddrs; i++) {
        REQUIRE(memcmp(a->addrs[i].addr.bytes, b->addrs[i].addr.bytes, 16) == 0);
        REQUIRE(a->addrs[i].preferred == b->addrs[i].preferred &&
                a->addrs[i].valid == b->addrs[i].valid &&
                a->addrs[i].has_status == b->addrs[i].has_status &&
                a->addrs[i].status == b->addrs[i].status);
    }
    REQUIRE(memcmp(a->dns, b->dns, sizeof a->dns) == 0);
    REQUIRE(memcmp(a->oro, b->oro, sizeof a->oro) == 0);
    same_bytes(a->client_id, a->client_id_len, b->client_id, b->client_id_len);
    same_bytes(a->server_id, a->server_id_len, b->server_id, b->server_id_len);
    same_bytes(a->domains, a->domains_len, b->domains, b->domains_len);
    same_bytes(a->status_msg, a->status_msg_len, b->status_msg, b->status_msg_len);
}

static void fuzz_dhcpv6(const uint8_t *data, size_t size) {
    struct tern_dhcpv6_repr r, p;
    if (tern_dhcpv6_parse(data, size, &r) != TERN_OK) {
        return;
    }
    size_t w = 0;
    REQUIRE(tern_dhcpv6_emit(&r, out, sizeof out, &w) == TERN_OK);
    REQUIRE(w == tern_dhcpv6_emit_len(&r) && w <= size);
    REQUIRE(tern_dhcpv6_parse(out, w, &p) == TERN_OK);
    same_dhcpv6(&r, &p);
    if (r.present & TERN_DHCPV6_HAS_DOMAINS) {
        char name[TERN_DHCPV6_DOMAIN_TEXT];
        if (tern_dhcpv6_domain_first(r.domains, r.domains_len, name, sizeof name) == TERN_OK) {
            REQUIRE(strlen(name) < sizeof name);
        }
    }
}

static void name_roundtrip(const char *name) {
    size_t w = 0;
    /* read accepted the name: labels of 1..63 octets without '.', at most
     * 255 octets in all, so it must encode again. */
    REQUIRE(tern_dns_query_emit(7, true, name, TERN_DNS_TYPE_A, out, sizeof out, &w) == TERN_OK);
    size_t off = TERN_DNS_HDR_LEN;
    struct tern_dns_question q;
    REQUIRE(tern_dns_question_parse(out, w, &off, &q) == TERN_OK);
    REQUIRE(strcmp(q.name, name) == 0 && off == w);
}

static void fuzz_dns(const uint8_t *data, size_t size) {
    struct tern_dns_header h;
    if (tern_dns_header_parse(data, size, &h) != TERN_OK) {
        return;
    }
    size_t off = TERN_DNS_HDR_LEN;
    for (unsigned i = 0; i < h.qdcount; i++) {
        struct tern_dns_question q;
        size_t before = off;
        if (tern_dns_question_parse(data, size, &off, &q) != TERN_OK) {
            REQUIRE(off == before);
            return;
        }
        REQUIRE(off > before && off <= size && strlen(q.name) <= 253);
        name_roundtrip(q.name);
    }
    unsigned records = (unsigned)h.ancount + h.nscount + h.arcount;
    for (unsigned i = 0; i < records; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(data, size, &off, &rr) != TERN_OK) {
            return;
        }
        REQUIRE(off <= size && rr.rdata_off + rr.rdlength == off);
        if (rr.type == TERN_DNS_TYPE_CNAME) {
            char target[TERN_DNS_NAME_TEXT_CAP];
            size_t roff = rr.rdata_off;
            if (tern_dns_name_read(data, size, &roff, target, sizeof target) == TERN_OK) {
                name_roundtrip(target);
            }
        }
    }
}

static void fuzz_igmp(const uint8_t *data, size_t size) {
    struct tern_igmp_repr r;
    if (tern_igmp_parse(data, size, &r) != TERN_OK || r.type != TERN_IGMP_V3_REPORT) {
        return;
    }
    struct tern_igmp_record recs[64];
    size_t off = 0;
    uint16_t n = 0;
    while (n < 64 && tern_igmp_record_at(&r, &off, &recs[n]) == TERN_OK) {
        n++;
    }
    REQUIRE(n == r.nrecords || n == 64);
    if (n == r.nrecords && off == r.records_len) {
        size_t w;
        if (tern_igmp_emit_v3_report(recs, n, out, sizeof out, &w) == TERN_OK) {
            same_bytes(out + 6, w - 6, data + 6, 2 + r.records_len); /* reserved bytes: 0 */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_dhcp(data, size);
    fuzz_dhcpv6(data, size);
    fuzz_igmp(data, size);
    fuzz_dns(data, size);
    /* Names anywhere in the input, not only where the header says. */
    for (size_t start = 0; start < size && start < 64; start++) {
        char name[TERN_DNS_NAME_TEXT_CAP];
        size_t off = start;
        if (tern_dns_name_read(data, size, &off, name, sizeof name) == TERN_OK) {
            REQUIRE(off > start && off <= size);
        } else {
            REQUIRE(off == start);
        }
    }
    return 0;
}
