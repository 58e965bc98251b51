/*
 * The gateway's decoded transcript (sim_gateway_transcript): one line per
 * DHCP, DNS and ICMP message the gateway received on or sent out of any of
 * its ports, with the virtual time, the direction and the port. Frames are
 * decoded as they are on the wire: received ones before NAT translation,
 * sent ones after. The messages are read with the stack's own parsers
 * (stack/wire), so a line says what the stack would understand; a message
 * that does not parse gets a line saying so rather than none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway_internal.h"
#include "wire/dhcpv4.h"
#include "wire/dns.h"

typedef struct line {
    char text[320];
    size_t len;
} line;

static void add(line *l, const char *fmt, ...) {
    if (l->len >= sizeof l->text - 1) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->len, sizeof l->text - l->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        l->len += (size_t)n;
        if (l->len > sizeof l->text - 1) {
            l->len = sizeof l->text - 1;
        }
    }
}

static void add_ip(line *l, uint32_t a) {
    add(l, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void add_ip6(line *l, const uint8_t *a) {
    /* RFC 5952 section 4.2.2: the longest run (first of equals) of two or more zero groups is "::".
     */
    uint16_t w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = gw_get16(a + 2 * i);
    }
    int best = -1, bestlen = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0) {
            j++;
        }
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            add(l, "::");
            i += bestlen - 1;
            continue;
        }
        add(l, "%s%x", (i > 0 && i != best + bestlen) ? ":" : "", w[i]);
    }
}

static const char *dhcp_type(uint8_t t) {
    static const char *const names[] = {"BOOTP", "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
                                        "ACK",   "NAK",      "RELEASE", "INFORM"};
    return t < sizeof names / sizeof names[0] ? names[t] : "type?";
}

static void dhcp_line(line *l, const uint8_t *msg, size_t len) {
    struct tern_dhcpv4_repr m;
    if (tern_dhcpv4_parse(msg, len, &m) != TERN_OK) {
        add(l, "DHCP malformed (%zu bytes)", len);
        return;
    }
    add(l, "DHCP %s xid 0x%08x chaddr %02x:%02x:%02x:%02x:%02x:%02x", dhcp_type(m.msg_type), m.xid,
        m.chaddr[0], m.chaddr[1], m.chaddr[2], m.chaddr[3], m.chaddr[4], m.chaddr[5]);
    if (m.ciaddr) {
        add(l, " ciaddr ");
        add_ip(l, m.ciaddr);
    }
    if (m.yiaddr) {
        add(l, " yiaddr ");
        add_ip(l, m.yiaddr);
    }
    if (m.present & TERN_DHCP_HAS_REQUESTED_IP) {
        add(l, " requested ");
        add_ip(l, m.requested_ip);
    }
    if (m.present & TERN_DHCP_HAS_SERVER_ID) {
        add(l, " server ");
        add_ip(l, m.server_id);
    }
    if (m.present & TERN_DHCP_HAS_LEASE_TIME) {
        add(l, " lease %u", m.lease_time);
    }
    if (m.hostname) {
        add(l, " hostname %.*s", (int)m.hostname_len, (const char *)m.hostname);
    }
}

static const char *qtype_name(uint16_t t, char *buf, size_t cap) {
    switch (t) {
    case TERN_DNS_TYPE_A:
        return "A";
    case TERN_DNS_TYPE_AAAA:
        return "AAAA";
    case TERN_DNS_TYPE_CNAME:
        return "CNAME";
    case TERN_DNS_TYPE_SOA:
        return "SOA";
    case 12:
        return "PTR";
    case 15:
        return "MX";
    case 16:
        return "TXT";
    default:
        snprintf(buf, cap, "TYPE%u", t);
        return buf;
    }
}

static const char *rcode_name(unsigned rc) {
    static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
    return rc < sizeof names / sizeof names[0] ? names[rc] : "RCODE?";
}

static void dns_line(line *l, const uint8_t *msg, size_t len) {
    struct tern_dns_header h;
    struct tern_dns_question q;
    size_t off = TERN_DNS_HDR_LEN;
    char tb[16];
    if (tern_dns_header_parse(msg, len, &h) != TERN_OK) {
        add(l, "DNS malformed (%zu bytes)", len);
        return;
    }
    if (h.qdcount == 0 && (h.flags & TERN_DNS_FLAG_QR)) {
        /* An error answer may carry no question (RFC 1035 4.1.1: FORMERR to what did not parse). */
        add(l, "DNS answer id 0x%04x (no question) %s an %u", h.id,
            rcode_name(TERN_DNS_RCODE(h.flags)), h.ancount);
        return;
    }
    if (h.qdcount < 1 || tern_dns_question_parse(msg, len, &off, &q) != TERN_OK) {
        add(l, "DNS malformed (%zu bytes)", len);
        return;
    }
    bool answer = (h.flags & TERN_DNS_FLAG_QR) != 0;
    add(l, "DNS %s id 0x%04x %s %s", answer ? "answer" : "query", h.id,
        qtype_name(q.type, tb, sizeof tb), q.name[0] ? q.name : ".");
    if (!answer) {
        return;
    }
    add(l, " %s an %u", rcode_name(TERN_DNS_RCODE(h.flags)), h.ancount);
    for (uint32_t i = 1; i < h.qdcount; i++) {
        if (tern_dns_question_parse(msg, len, &off, &q) != TERN_OK) {
            return;
        }
    }
    for (uint32_t i = 0; i < h.ancount; i++) {
        struct tern_dns_rr rr;
        if (tern_dns_rr_parse(msg, len, &off, &rr) != TERN_OK) {
            add(l, " (truncated)");
            return;
        }
        if (rr.type == TERN_DNS_TYPE_A && rr.rdlength == 4) {
            add(l, " ");
            add_ip(l, gw_get32(rr.rdata));
        } else if (rr.type == TERN_DNS_TYPE_AAAA && rr.rdlength == 16) {
            add(l, " ");
            add_ip6(l, rr.rdata);
        } else {
            add(l, " %s", qtype_name(rr.type, tb, sizeof tb));
        }
    }
}

static const char *unreach_name(uint8_t code) {
    static const char *const names[] = {"net",         "host",        "protocol",
                                        "port",        "frag needed", "source route failed",
                                        "net unknown", "host unknown"};
    if (code == 13) {
        return "admin prohibited";
    }
    return code < sizeof names / sizeof names[0] ? names[code] : "code?";
}

/* What an ICMP error quotes: "about udp 1.2.3.4:5 > 6.7.8.9:10". */
static void quote_line(line *l, const uint8_t *q, size_t n) {
    if (n < 20 || (q[0] >> 4) != 4) {
        return;
    }
    size_t ihl = (size_t)(q[0] & 15) * 4;
    uint8_t p = q[9];
    const char *pn = p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : NULL;
    add(l, " about ");
    if (pn) {
        add(l, "%s ", pn);
    } else {
        add(l, "proto %u ", p);
    }
    add_ip(l, gw_get32(q + 12));
    if ((p == 6 || p == 17) && n >= ihl + 4) {
        add(l, ":%u", gw_get16(q + ihl));
    }
    add(l, " > ");
    add_ip(l, gw_get32(q + 16));
    if ((p == 6 || p == 17) && n >= ihl + 4) {
        add(l, ":%u", gw_get16(q + ihl + 2));
    }
}

static void icmp_line(line *l, uint32_t src, uint32_t dst, const uint8_t *m, size_t n) {
    if (n < 8) {
        add(l, "ICMP truncated (%zu bytes)", n);
        return;
    }
    uint8_t type = m[0], code = m[1];
    switch (type) {
    case 0:
    case 8:
        add(l, "ICMP echo %s ", type == 8 ? "request" : "reply");
        break;
    case 3:
        add(l, "ICMP unreachable %s ", unreach_name(code));
        break;
    case 11:
        add(l, "ICMP time exceeded %s ", code == 0 ? "ttl" : "reassembly");
        break;
    default:
        add(l, "ICMP type %u code %u ", type, code);
        break;
    }
    add_ip(l, src);
    add(l, " > ");
    add_ip(l, dst);
    if (type == 0 || type == 8) {
        add(l, " id 0x%04x seq %u len %zu", gw_get16(m + 4), gw_get16(m + 6), n - 8);
    } else if (type == 3 || type == 11) {
        if (type == 3 && code == 4) {
            add(l, " mtu %u", gw_get16(m + 6));
        }
        quote_line(l, m + 8, n - 8);
    }
}

/* What an ICMPv6 error quotes: "about udp 2001:db8::1:5 > ..." (addresses, then ports). */
static void quote6_line(line *l, const uint8_t *q, size_t n) {
    if (n < 40 || (q[0] >> 4) != 6) {
        return;
    }
    uint8_t p = q[6];
    const char *pn = p == 6 ? "tcp" : p == 17 ? "udp" : p == 58 ? "icmpv6" : NULL;
    add(l, " about ");
    if (pn) {
        add(l, "%s ", pn);
    } else {
        add(l, "next header %u ", p);
    }
    bool ports = (p == 6 || p == 17) && n >= 44;
    add(l, "[");
    add_ip6(l, q + 8);
    add(l, "]");
    if (ports) {
        add(l, ":%u", gw_get16(q + 40));
    }
    add(l, " > [");
    add_ip6(l, q + 24);
    add(l, "]");
    if (ports) {
        add(l, ":%u", gw_get16(q + 42));
    }
}

static const char *unreach6_name(uint8_t code) {
    static const char *const names[] = {"no route", "admin prohibited", "beyond scope", "address",
                                        "port",     "policy",           "reject route"};
    return code < sizeof names / sizeof names[0] ? names[code] : "code?";
}

/* ICMPv6 (RFC 4443, and RFC 4861's router messages): Neighbor Solicitations and Advertisements and
 * MLD reports are left out, they are the link's housekeeping, not exchanges. */
static bool icmp6_line(line *l, const uint8_t *ip, const uint8_t *m, size_t n) {
    if (n < 8) {
        return false;
    }
    uint8_t type = m[0], code = m[1];
    switch (type) {
    case 128:
    case 129:
        add(l, "ICMPv6 echo %s ", type == 128 ? "request" : "reply");
        break;
    case 1:
        add(l, "ICMPv6 unreachable %s ", unreach6_name(code));
        break;
    case 2:
        add(l, "ICMPv6 packet too big ");
        break;
    case 3:
        add(l, "ICMPv6 time exceeded %s ", code == 0 ? "hop limit" : "reassembly");
        break;
    case 133:
        add(l, "ICMPv6 router solicitation ");
        break;
    case 134:
        add(l, "ICMPv6 router advertisement ");
        break;
    default:
        return false;
    }
    add_ip6(l, ip + 8);
    add(l, " > ");
    add_ip6(l, ip + 24);
    if (type == 128 || type == 129) {
        add(l, " id 0x%04x seq %u len %zu", gw_get16(m + 4), gw_get16(m + 6), n - 8);
    } else if (type == 2) {
        add(l, " mtu %u", gw_get32(m + 4));
        quote6_line(l, m + 8, n - 8);
    } else if (type == 1 || type == 3) {
        quote6_line(l, m + 8, n - 8);
    } else if (type == 134 && n >= 16) {
        add(l, " lifetime %u", gw_get16(m + 6));
        for (size_t off = 16; off + 2 <= n && m[off + 1] != 0 && off + m[off + 1] * 8u <= n;
             off += m[off + 1] * 8u) {
            const uint8_t *o = m + off;
            if (o[0] == 3 && o[1] == 4) {
                add(l, " prefix ");
                add_ip6(l, o + 16);
                add(l, "/%u valid %u preferred %u", o[2], gw_get32(o + 4), gw_get32(o + 8));
            } else if (o[0] == 5 && o[1] == 1) {
                add(l, " mtu %u", gw_get32(o + 4));
            } else if (o[0] == 25 && o[1] >= 3) { /* RDNSS (RFC 8106 section 5.1) */
                add(l, " rdnss");
                for (size_t a = 8; a + 16 <= o[1] * 8u; a += 16) {
                    add(l, " ");
                    add_ip6(l, o + a);
                }
                add(l, " lifetime %u", gw_get32(o + 4));
            }
        }
    }
    return true;
}

/* The line of one frame, or false when it is none of DHCP, DNS, ICMP, ICMPv6. */
static bool decode(line *l, const uint8_t *f, size_t len) {
    if (len >= 14 + 40 && gw_get16(f + 12) == 0x86dd) {
        const uint8_t *ip6 = f + 14;
        size_t plen = gw_get16(ip6 + 4);
        if ((ip6[0] >> 4) != 6 || ip6[6] != 58 || plen > len - 14 - 40) {
            return false;
        }
        return icmp6_line(l, ip6, ip6 + 40, plen);
    }
    if (len < 14 + 20 || gw_get16(f + 12) != 0x0800) {
        return false;
    }
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = gw_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total > len - 14 || total < ihl) {
        return false;
    }
    /* A fragment other than the first carries no header to decode. */
    if ((gw_get16(ip + 6) & 0x1fff) != 0) {
        return false;
    }
    uint32_t src = gw_get32(ip + 12), dst = gw_get32(ip + 16);
    const uint8_t *p = ip + ihl;
    size_t n = total - ihl;
    if (ip[9] == 1) {
        icmp_line(l, src, dst, p, n);
        return true;
    }
    if (ip[9] != 17 || n < 8) {
        return false;
    }
    uint16_t sport = gw_get16(p), dport = gw_get16(p + 2);
    bool dhcp = (sport == 67 || sport == 68) && (dport == 67 || dport == 68);
    bool dns = sport == TERN_DNS_PORT || dport == TERN_DNS_PORT;
    if (!dhcp && !dns) {
        return false;
    }
    size_t ulen = gw_get16(p + 4);
    if (ulen < 8 || ulen > n) {
        ulen = n;
    }
    if (dhcp) {
        dhcp_line(l, p + 8, ulen - 8);
    } else {
        dns_line(l, p + 8, ulen - 8);
    }
    add(l, " ");
    add_ip(l, src);
    add(l, ":%u > ", sport);
    add_ip(l, dst);
    add(l, ":%u", dport);
    return true;
}

void gw_transcript_frame(gw_state *g, uint64_t now, uint32_t port, bool out, const uint8_t *frame,
                         size_t len) {
    line l;
    l.len = 0;
    l.text[0] = 0;
    add(&l, "%llu.%09llu %s p%u ", (unsigned long long)(now / GW_SEC),
        (unsigned long long)(now % GW_SEC), out ? "out" : "in", port);
    if (!decode(&l, frame, len)) {
        return;
    }
    add(&l, "\n");
    if (g->tr_len + l.len > SIM_GW_TRANSCRIPT_MAX) {
        g->c.transcript_dropped++;
        return;
    }
    if (g->tr_len + l.len + 1 > g->tr_cap) {
        size_t cap = g->tr_cap ? g->tr_cap : 4096;
        while (cap < g->tr_len + l.len + 1) {
            cap *= 2;
        }
        char *p = realloc(g->tr, cap);
        if (!p) {
            g->c.transcript_dropped++;
            return;
        }
        g->tr = p;
        g->tr_cap = cap;
    }
    memcpy(g->tr + g->tr_len, l.text, l.len);
    g->tr_len += l.len;
    g->tr[g->tr_len] = 0;
    g->c.transcript_lines++;
}
