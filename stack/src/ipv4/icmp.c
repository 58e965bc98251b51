/*
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo replies, error generation with the
 * rules of RFC 1122 §3.2.2 and a rate limit, errors delivered to the socket
 * they concern. Echo (ping) sockets live in udp/ping_sock.c.
 */
#include <string.h>

#include "core/sock_handle.h"
#include "ipv4.h"
#include "ipv6/ipv6.h"
#include "tcp/tcp_private.h"
#include "udp/udp.h"
#include "core/stack_internal.h"
#include "wire/icmpv4.h"

#define NS_PER_SEC 1000000000ull
/* RFC 1812 §4.3.2.3: an error should not exceed 576 bytes in all. */
#define ICMP_ERROR_MAX 576

/* ---- errors we send ----------------------------------------------------------- */

/* RFC 1122 §3.2.2: a source that does not define a single host gets no error. */
static bool source_is_unique_host(const tern_addr *src) {
    const uint8_t *b = src->bytes;
    return !tern_addr_is_unspecified(src) && !tern_addr_is_limited_broadcast(src) &&
           !tern_addr_is_multicast(src) && b[0] != 127 && b[0] < 240;
}

/* Token bucket of RFC 1122 §3.2.2 "SHOULD limit", kept in nanoseconds of credit. */
static bool rate_limit_allows(tern_stack *st, uint64_t now) {
    uint64_t cost = NS_PER_SEC / st->cfg.icmp_rate;
    uint64_t bucket = cost * st->cfg.icmp_burst;
    uint64_t tokens = st->icmp_tokens_ns + (now - st->icmp_last);
    if (now < st->icmp_last || tokens > bucket) {
        tokens = bucket;
    }
    st->icmp_last = now;
    if (tokens < cost) {
        st->icmp_tokens_ns = tokens;
        return false;
    }
    st->icmp_tokens_ns = tokens - cost;
    return true;
}

void tern_icmp_send_error(tern_stack *st, uint64_t now, uint8_t type, uint8_t code, uint16_t mtu,
                          const struct tern_ipv4_repr *ip, const uint8_t *hdr_bytes,
                          bool link_broadcast) {
    if (tern_addr_is_v6(&ip->src)) {
        /* An upper layer's error about an IPv6 packet (the family-neutral view): ICMPv6. */
        size_t len;
        bool mcast;
        const uint8_t *pkt = tern_ipv6_current_packet(st, &len, &mcast);
        if (!pkt || type != TERN_ICMPV4_DEST_UNREACH) {
            return;
        }
        if (code == TERN_ICMPV4_UNREACH_PORT) {
            tern_icmpv6_send_error(st, now, TERN_ICMPV6_DEST_UNREACH, TERN_ICMPV6_UNREACH_PORT, 0,
                                   pkt, len, mcast);
        }
        return;
    }
    /* RFC 1122 §3.2.2: never about an ICMP error, a broadcast or multicast, a
     * fragment other than the first, or a source that is not one host. */
    if (ip->protocol == TERN_IPPROTO_ICMP &&
        (ip->payload_len == 0 || tern_icmpv4_is_error(ip->payload[0]))) {
        return;
    }
    if (link_broadcast || tern_addr_is_multicast(&ip->dst) ||
        tern_addr_is_limited_broadcast(&ip->dst) || ip->frag_offset != 0 ||
        !source_is_unique_host(&ip->src)) {
        return;
    }
    for (uint32_t i = 0; i < st->niface; i++) {
        if (tern_is_broadcast_addr(st, &ip->dst, i)) {
            return;
        }
    }
    if (!rate_limit_allows(st, now)) {
        st->c.icmp_rate_limited++;
        return;
    }
    /* The quote: the original header and as much data as fits in 576 bytes. */
    size_t room = ICMP_ERROR_MAX - TERN_IPV4_MIN_HDR_LEN - TERN_ICMPV4_HDR_LEN - ip->header_len;
    size_t data = ip->payload_len < room ? ip->payload_len : room;
    uint8_t *p = tern_ip_tx_payload(st);
    uint8_t *quote = p + TERN_ICMPV4_HDR_LEN;
    memmove(quote + ip->header_len, ip->payload, data);
    memmove(quote, hdr_bytes, ip->header_len);
    struct tern_icmpv4_repr r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.code = code;
    r.next_hop_mtu = mtu;
    r.payload = NULL; /* in place */
    r.payload_len = ip->header_len + data;
    size_t w;
    if (tern_icmpv4_emit(&r, p, TERN_ICMPV4_HDR_LEN + r.payload_len, &w) != TERN_OK) {
        return;
    }
    /* From the address the datagram was sent to when it is ours, else from
     * the address the route to the source chooses (a router's case). */
    tern_ip_tx tx = {.dst = ip->src, .protocol = TERN_IPPROTO_ICMP};
    if (tern_is_local_addr(st, &ip->dst, NULL)) {
        tx.src = ip->dst;
    }
    st->c.icmp_errors_sent++;
    tern_ip_send(st, now, &tx, w);
}

/* ---- input ------------------------------------------------------------------- */

/*
 * The options of an echo reply (RFC 1122 §3.2.2.6): a Record Route or
 * Timestamp option of the request SHOULD be updated to include this host and
 * returned without truncation. Other options are not returned (a source
 * route would have to be reversed; Tern does not source-route). Writes the
 * reply's options into out (a multiple of 4 bytes) and returns their length.
 */
static size_t echo_reply_options(uint64_t now, const struct tern_ipv4_repr *ip, uint8_t *out) {
    const uint8_t *opt = ip->options;
    size_t len = ip->options_len, n = 0;
    const uint8_t *me = ip->dst.bytes;
    for (size_t i = 0; i < len;) {
        uint8_t type = opt[i];
        if (type == 0) {
            break;
        }
        if (type == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || opt[i + 1] < 4 || i + opt[i + 1] > len) {
            break; /* malformed: return what came before */
        }
        uint8_t olen = opt[i + 1];
        uint8_t *o = out + n;
        if (type == 7) { /* Record Route (RFC 791 §3.1): add our address if there is room */
            memcpy(o, opt + i, olen);
            uint8_t ptr = o[2];
            if (ptr >= 4 && ptr + 3 <= olen) {
                memcpy(o + ptr - 1, me, 4);
                o[2] = (uint8_t)(ptr + 4);
            }
            n += olen;
        } else if (type == 68 && olen >= 5) { /* Timestamp (RFC 791 §3.1) */
            memcpy(o, opt + i, olen);
            uint8_t ptr = o[2], flag = o[3] & 0x0f;
            /* Milliseconds since midnight UT, here of virtual time. */
            uint32_t ms = (uint32_t)((now / 1000000u) % 86400000u);
            size_t need = flag == 0 ? 4 : 8;
            bool ours =
                flag != 3 || (ptr >= 5 && ptr + 7 <= olen && memcmp(o + ptr - 1, me, 4) == 0);
            if (ptr >= 5 && ptr + need - 1 <= olen && ours) {
                uint8_t *slot = o + ptr - 1;
                if (flag != 0) {
                    memcpy(slot, me, 4);
                    slot += 4;
                }
                slot[0] = (uint8_t)(ms >> 24);
                slot[1] = (uint8_t)(ms >> 16);
                slot[2] = (uint8_t)(ms >> 8);
                slot[3] = (uint8_t)ms;
                o[2] = (uint8_t)(ptr + need);
            } else if (ptr + need - 1 > olen) {
                /* No room: count the overflow (RFC 791), saturating at 15. */
                uint8_t oflw = o[3] >> 4;
                if (oflw < 15) {
                    o[3] = (uint8_t)(((oflw + 1) << 4) | flag);
                }
            }
            n += olen;
        }
        i += olen;
    }
    while (n % 4) {
        out[n++] = 0; /* end of option list, then padding */
    }
    return n;
}

static void echo_reply(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                       const struct tern_icmpv4_repr *req) {
    uint8_t *p = tern_ip_tx_payload(st);
    struct tern_icmpv4_repr r;
    memset(&r, 0, sizeof r);
    r.type = TERN_ICMPV4_ECHO_REPLY;
    r.echo_id = req->echo_id;
    r.echo_seq = req->echo_seq;
    r.payload = req->payload; /* copied (it lives in the received frame) */
    r.payload_len = req->payload_len;
    size_t w;
    if (tern_icmpv4_emit(&r, p, TERN_IP_PAYLOAD_MAX, &w) != TERN_OK) {
        return;
    }
    uint8_t options[TERN_IPV4_MAX_HDR_LEN - TERN_IPV4_MIN_HDR_LEN];
    tern_ip_tx tx = {.src = ip->dst, .dst = ip->src, .protocol = TERN_IPPROTO_ICMP};
    if (ip->options_len) {
        tx.options = options;
        tx.options_len = (uint8_t)echo_reply_options(now, ip, options);
    }
    st->c.icmp_echo_replies_sent++;
    tern_ip_send(st, now, &tx, w);
}

static void echo_reply_received(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                                const struct tern_icmpv4_repr *r) {
    tern_ping_deliver_reply(st, now, &ip->src, &ip->dst, ip->ttl, r->echo_id, r->echo_seq,
                            r->payload, r->payload_len);
}

/* An ICMP error for us: find the socket that sent the quoted datagram. */
static void error_received(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                           const struct tern_icmpv4_repr *r) {
    st->c.icmp_errors_in++;
    struct tern_ipv4_repr q;
    if (tern_ipv4_parse_quoted(r->payload, r->payload_len, &q) != TERN_OK ||
        !tern_is_local_addr(st, &q.src, NULL)) {
        return; /* not about a datagram of ours */
    }
    tern_sock_error e;
    memset(&e, 0, sizeof e);
    e.icmp_type = r->type;
    e.icmp_code = r->code;
    e.mtu = r->next_hop_mtu;
    e.from = ip->src;
    e.dst = q.dst;
    e.time = now;
    /* the quoted datagram as the transport layers see one */
    const tern_ip_rx quoted = {.src = q.src,
                               .dst = q.dst,
                               .payload = q.payload,
                               .payload_len = q.payload_len,
                               .ttl = q.ttl,
                               .protocol = q.protocol};
    switch (q.protocol) {
    case TERN_IPPROTO_UDP:
        tern_udp_icmp_error(st, now, &e, &quoted, q.payload, q.payload_len);
        break;
    case TERN_IPPROTO_TCP:
        tern_tcp_icmp_error(st, now, &e, &quoted, q.payload, q.payload_len);
        break;
    case TERN_IPPROTO_ICMP:
        /* About one of our echo requests: identifier at bytes 4..5. */
        if (q.payload_len >= 8 && q.payload[0] == TERN_ICMPV4_ECHO_REQUEST) {
            uint16_t ident = (uint16_t)((q.payload[4] << 8) | q.payload[5]);
            tern_ping_deliver_error(st, ident, &e);
        }
        break;
    default:
        break;
    }
}

void tern_icmp_input(tern_stack *st, uint64_t now, const struct tern_ipv4_repr *ip,
                     const uint8_t *hdr, bool link_broadcast) {
    (void)hdr;
    st->hc.icmp_in++;
    struct tern_icmpv4_repr r;
    tern_err err = tern_icmpv4_parse(ip->payload, ip->payload_len, &r);
    if (err == TERN_ERR_BAD_CHECKSUM) {
        st->c.icmp_bad_checksum++;
        return;
    }
    if (err != TERN_OK) {
        st->c.icmp_malformed++;
        return;
    }
    switch (r.type) {
    case TERN_ICMPV4_ECHO_REQUEST:
        st->c.icmp_echo_requests++;
        /* RFC 1122 §3.2.2.6 lets a host ignore echo requests to broadcast
         * and multicast addresses; like Linux by default, we do. */
        if (link_broadcast || tern_addr_is_multicast(&ip->dst) ||
            !tern_is_local_addr(st, &ip->dst, NULL)) {
            return;
        }
        echo_reply(st, now, ip, &r);
        break;
    case TERN_ICMPV4_ECHO_REPLY:
        echo_reply_received(st, now, ip, &r);
        break;
    case TERN_ICMPV4_DEST_UNREACH:
    case TERN_ICMPV4_TIME_EXCEEDED:
    case TERN_ICMPV4_PARAM_PROBLEM:
    case TERN_ICMPV4_SOURCE_QUENCH:
        error_received(st, now, ip, &r);
        break;
    default:
        break; /* RFC 1122 §3.2.2: unknown types are silently discarded */
    }
}
