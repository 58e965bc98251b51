/*
 * ICMPv6 (RFC 4443): echo replies, error messages with the rules of section
 * 2.4 on when not to send them and a token-bucket rate limit, errors
 * received delivered to the socket they concern, Packet Too Big recorded as a
 * path MTU (RFC 8201), and the dispatch of ND and MLD messages.
 */
#include <string.h>

#include "ipv4/ipv4.h"
#include "ipv6_state.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "wire/bytes.h"

#define NS_PER_SEC 1000000000ull

/* ---- errors we send ---------------------------------------------------------------- */

/* RFC 4443 section 2.4 (f): a token bucket, kept in nanoseconds of credit like the link shaper. */
static bool rate_limit_allows(tern_stack *st, uint64_t now) {
    tern_ipv6_module *m = st->ip6;
    uint64_t cost = NS_PER_SEC / st->cfg.icmp_rate;
    uint64_t bucket = cost * st->cfg.icmp_burst;
    uint64_t tokens = m->icmp_tokens_ns + (now - m->icmp_last);
    if (now < m->icmp_last || tokens > bucket) {
        tokens = bucket;
    }
    m->icmp_last = now;
    if (tokens < cost) {
        m->icmp_tokens_ns = tokens;
        return false;
    }
    m->icmp_tokens_ns = tokens - cost;
    return true;
}

/* Is pkt (from its IPv6 header) an ICMPv6 error or a Redirect? (RFC 4443 section 2.4 (e.1, e.2)) */
static bool is_icmp_error_or_redirect(const uint8_t *pkt, size_t len) {
    struct tern_ipv6_chain ch;
    tern_ipv6_walk(pkt[6], pkt + TERN_IPV6_HDR_LEN, len - TERN_IPV6_HDR_LEN, &ch);
    if (ch.upper != TERN_IPPROTO_ICMPV6) {
        return false;
    }
    if (ch.count && ch.ext[ch.count - 1].type == TERN_IPPROTO_FRAGMENT &&
        (tern_get_u16(ch.ext[ch.count - 1].data + 2) & 0xfff8) != 0) {
        return false; /* a later fragment: what follows is data, not an ICMPv6 header */
    }
    size_t at = TERN_IPV6_HDR_LEN + ch.upper_offset;
    if (at >= len) {
        return true; /* an ICMPv6 message we cannot see: assume the worst */
    }
    return tern_icmpv6_is_error(pkt[at]) || pkt[at] == TERN_ICMPV6_REDIRECT;
}

void tern_icmpv6_send_error(tern_stack *st, uint64_t now, uint8_t type, uint8_t code,
                            uint32_t param, const uint8_t *pkt, size_t len, bool link_multicast) {
    if (len < TERN_IPV6_HDR_LEN) {
        return;
    }
    tern_addr src = tern_addr_v6_from_bytes(pkt + 8), dst = tern_addr_v6_from_bytes(pkt + 24);
    /* (e.1) "An ICMPv6 error message." (e.2) "An ICMPv6 redirect message". */
    if (is_icmp_error_or_redirect(pkt, len)) {
        return;
    }
    /* (e.3)-(e.5) the exceptions: Packet Too Big, and Parameter Problem code 2 about an option
     * whose type's highest-order two bits are 10. */
    bool exempt = type == TERN_ICMPV6_PKT_TOO_BIG ||
                  (type == TERN_ICMPV6_PARAM_PROBLEM && code == TERN_ICMPV6_PARAM_OPTION &&
                   param < len && TERN_IPV6_OPT_ACTION(pkt[param]) == TERN_IPV6_OPT_DISCARD_ICMP);
    if (!exempt && (tern_addr_is_multicast(&dst) || link_multicast)) {
        return;
    }
    /* (e.6) "a packet whose source address does not uniquely identify a single node" */
    if (tern_addr_is_unspecified(&src) || tern_addr_is_multicast(&src)) {
        return;
    }
    if (!rate_limit_allows(st, now)) {
        st->c.icmp6_rate_limited++;
        return;
    }
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.dst = src;
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.oif = st->ip6->rx_iface + 1;
    if (tern_ipv6_is_local(st, &dst, NULL)) {
        tx.src = dst; /* from the address the packet was sent to */
    }
    tern_route_result rr;
    if (tern_ipv6_route_lookup(st, &tx.dst, &tx.src, tx.oif, &rr) != TERN_OK) {
        st->c.ip6_no_route++;
        return;
    }
    tx.src = rr.src;
    /* (c) "as much of invoking packet as possible without the ICMPv6 packet exceeding the minimum
     * IPv6 MTU" */
    size_t room = TERN_ICMPV6_ERROR_MAX - TERN_IPV6_HDR_LEN - TERN_ICMPV6_ERR_HDR_LEN;
    size_t quote = len < room ? len : room;
    uint8_t *p = tern_ip_tx_payload(st);
    memmove(p + TERN_ICMPV6_ERR_HDR_LEN, pkt, quote);
    struct tern_icmpv6_repr r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.code = code;
    r.word = param;
    r.payload = NULL;
    r.payload_len = quote;
    size_t w;
    if (tern_icmpv6_emit(&r, &tx.src, &tx.dst, p, TERN_IP_PAYLOAD_MAX, &w) != TERN_OK) {
        return;
    }
    st->c.icmp6_errors_sent++;
    tern_ipv6_send(st, now, &tx, w);
}

/* ---- path MTU (RFC 8201) -------------------------------------------------------------- */

uint32_t tern_ipv6_path_mtu(const tern_stack *st, uint64_t now, const tern_addr *dst,
                            uint32_t iface_mtu) {
    const tern_ipv6_module *m = st->ip6;
    for (int i = 0; i < TERN_IPV6_PMTU_ENTRIES; i++) {
        const tern_pmtu6 *e = &m->pmtu[i];
        /* RFC 8201 section 4: an estimate older than the aging time is forgotten. */
        if (e->used && tern_addr_eq(&e->dst, dst) && now - e->time < TERN_IPV6_PMTU_AGE_NS) {
            return e->mtu < iface_mtu ? e->mtu : iface_mtu;
        }
    }
    return iface_mtu;
}

static void pmtu_lower(tern_stack *st, uint64_t now, const tern_addr *dst, uint32_t mtu) {
    tern_ipv6_module *m = st->ip6;
    tern_pmtu6 *slot = &m->pmtu[0];
    for (int i = 0; i < TERN_IPV6_PMTU_ENTRIES; i++) {
        tern_pmtu6 *e = &m->pmtu[i];
        if (e->used && tern_addr_eq(&e->dst, dst)) {
            if (now - e->time < TERN_IPV6_PMTU_AGE_NS && e->mtu <= mtu) {
                /* RFC 8201 section 4: "A node must not increase its estimate of the Path MTU in
                 * response to the contents of a Packet Too Big message." */
                return;
            }
            slot = e;
            break;
        }
        if (!e->used || e->time < slot->time) {
            slot = e;
        }
    }
    slot->used = true;
    slot->dst = *dst;
    slot->mtu = mtu;
    slot->time = now;
}

void tern_ipv6_pmtu_update(tern_stack *st, uint64_t now, const tern_addr *dst, uint32_t mtu) {
    if (mtu >= TERN_IPV6_MIN_MTU) {
        pmtu_lower(st, now, dst, mtu);
    }
}

/* ---- input ---------------------------------------------------------------------------- */

static void echo_reply(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const struct tern_icmpv6_repr *req) {
    tern_ip6_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.dst = ip->src;
    tx.next_header = TERN_IPPROTO_ICMPV6;
    tx.oif = iface + 1;
    /* RFC 4443 section 4.2: to a multicast or anycast address, "the source address of the reply
     * MUST be a unicast address belonging to the interface on which the Echo Request message was
     * received"; to a unicast address, that address. */
    if (!tern_addr_is_multicast(&ip->dst)) {
        tx.src = ip->dst;
    }
    tern_route_result rr;
    if (tern_ipv6_route_lookup(st, &tx.dst, &tx.src, tx.oif, &rr) != TERN_OK) {
        st->c.ip6_no_route++;
        return;
    }
    tx.src = rr.src;
    struct tern_icmpv6_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV6_ECHO_REPLY;
    r.echo_id = req->echo_id;
    r.echo_seq = req->echo_seq;
    r.payload = req->payload; /* "The data received in the ICMPv6 Echo Request message MUST be
                                 returned entirely and unmodified" */
    r.payload_len = req->payload_len;
    size_t w;
    if (tern_icmpv6_emit(&r, &tx.src, &tx.dst, tern_ip_tx_payload(st), TERN_IP_PAYLOAD_MAX, &w) !=
        TERN_OK) {
        return;
    }
    st->c.icmp6_echo_replies_sent++;
    tern_ipv6_send(st, now, &tx, w);
}

/* An error for us: find the socket that sent the quoted packet (RFC 4443 section 2.4 (a)). */
static void error_received(tern_stack *st, uint64_t now, const struct tern_ipv6_repr *ip,
                           const struct tern_icmpv6_repr *r) {
    st->c.icmp6_errors_in++;
    struct tern_ipv6_repr q;
    size_t present;
    if (tern_ipv6_parse_quoted(r->payload, r->payload_len, &q, &present) != TERN_OK ||
        !tern_ipv6_is_local(st, &q.src, NULL)) {
        return; /* not about a packet of ours */
    }
    if (r->type == TERN_ICMPV6_PKT_TOO_BIG) {
        /* RFC 8201 section 4: "If a node receives a Packet Too Big message reporting a next-hop MTU
         * that is less than the IPv6 minimum link MTU, it must discard it. A node must not reduce
         * its estimate of the Path MTU below the IPv6 minimum link MTU on receipt of a Packet Too
         * Big message." */
        if (r->word < TERN_IPV6_MIN_MTU) {
            st->c.icmp6_malformed++;
            return;
        }
        pmtu_lower(st, now, &q.dst, r->word);
    }
    struct tern_ipv6_chain ch;
    tern_ipv6_walk(q.next_header, q.payload, present, &ch);
    if (ch.upper_offset > present) {
        return;
    }
    const uint8_t *l4 = q.payload + ch.upper_offset;
    size_t l4_len = present - ch.upper_offset;
    tern_sock_error e;
    memset(&e, 0, sizeof e);
    e.icmp_type = r->type;
    e.icmp_code = r->code;
    if (r->type == TERN_ICMPV6_PKT_TOO_BIG) {
        e.mtu = (uint16_t)(r->word > 65535 ? 65535 : r->word);
    }
    e.from = ip->src;
    e.dst = q.dst;
    e.time = now;
    struct tern_ipv4_repr v; /* the family-neutral view (ipv6.h) */
    memset(&v, 0, sizeof v);
    v.src = q.src;
    v.dst = q.dst;
    v.ttl = q.hop_limit;
    v.protocol = ch.upper;
    v.payload = l4;
    v.payload_len = l4_len;
    switch (ch.upper) {
    case TERN_IPPROTO_UDP:
        tern_udp_icmp_error(st, now, &e, &v, l4, l4_len);
        break;
    case TERN_IPPROTO_TCP:
        tern_tcp_icmp_error(st, now, &e, &v, l4, l4_len);
        break;
    case TERN_IPPROTO_ICMPV6:
        if (l4_len >= 8 && l4[0] == TERN_ICMPV6_ECHO_REQUEST) {
            tern_ping_deliver_error(st, tern_get_u16(l4 + 4), &e);
        }
        break;
    default:
        break;
    }
}

void tern_icmpv6_input(tern_stack *st, uint64_t now, uint32_t iface,
                       const struct tern_ipv6_repr *ip, const uint8_t *msg, size_t len,
                       bool link_multicast) {
    (void)link_multicast;
    st->c.icmp6_in++;
    struct tern_icmpv6_repr r;
    tern_err err = tern_icmpv6_parse(msg, len, &ip->src, &ip->dst, &r);
    if (err == TERN_ERR_BAD_CHECKSUM) {
        st->c.icmp6_bad_checksum++;
        return;
    }
    if (err != TERN_OK) {
        st->c.icmp6_malformed++;
        return;
    }
    switch (r.type) {
    case TERN_ICMPV6_ECHO_REQUEST:
        st->c.icmp6_echo_requests++;
        echo_reply(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_ECHO_REPLY:
        tern_ping_deliver_reply(st, now, &ip->src, &ip->dst, ip->hop_limit, r.echo_id, r.echo_seq,
                                r.payload, r.payload_len);
        break;
    case TERN_ICMPV6_RS:
    case TERN_ICMPV6_RA:
    case TERN_ICMPV6_NS:
    case TERN_ICMPV6_NA:
    case TERN_ICMPV6_REDIRECT:
        tern_nd_input(st, now, iface, ip, &r);
        break;
    case TERN_ICMPV6_MLD_QUERY:
    case TERN_ICMPV6_MLD_REPORT:
    case TERN_ICMPV6_MLD_DONE:
    case TERN_ICMPV6_MLD2_REPORT:
        tern_mld_input(st, now, iface, ip, &r);
        break;
    default:
        if (tern_icmpv6_is_error(r.type)) {
            /* Section 2.4 (a): errors, of known types or not, go to the upper layer. */
            error_received(st, now, ip, &r);
        } else {
            /* Section 2.4 (b): "If an ICMPv6 informational message of unknown type is received,
             * it MUST be silently discarded." */
            st->c.icmp6_unknown_type++;
        }
        break;
    }
}
