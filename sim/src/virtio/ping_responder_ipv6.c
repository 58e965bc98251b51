/*
 * The ping responder's IPv6 side (tern/sim_virtio.h): Neighbor Solicitations for its address are
 * answered with a Neighbor Advertisement (RFC 4861 section 7.2.4), ICMPv6 Echo Requests with an
 * Echo Reply (RFC 4443 section 4.2: "The data received in the ICMPv6 Echo Request message MUST be
 * returned entirely and unmodified in the ICMPv6 Echo Reply message"). Parsed by hand like the
 * IPv4 side: the simulator does not link the stack's wire code.
 */
#include <string.h>

#include "virtio/ping_responder_private.h"

enum {
    ETH_HDR = 14,
    IP6_HDR = 40,
    NH_ICMPV6 = 58,
    ICMP6_ECHO_REQUEST = 128,
    ICMP6_ECHO_REPLY = 129,
    ND_NS = 135,
    ND_NA = 136,
    ND_MSG_LEN = 24, /* NS and NA: type, code, checksum, 4 bytes, target address */
    OPT_SLLA = 1,
    OPT_TLLA = 2,
};

/*
 * RFC 4443 section 2.3: "The checksum is the 16-bit one's complement of the one's complement sum
 * of the entire ICMPv6 message, starting with the ICMPv6 message type field, and prepended with a
 * "pseudo-header" of IPv6 header fields, as specified in [IPv6, Section 8.1]. The Next Header
 * value used in the pseudo-header is 58." The pseudo-header: source, destination, the 32-bit
 * upper-layer length, three zero bytes and the next header. 0 for a received message that
 * verifies.
 */
static uint16_t icmp6_sum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *m,
                          size_t len) {
    uint8_t tail[8] = {(uint8_t)(len >> 24),
                       (uint8_t)(len >> 16),
                       (uint8_t)(len >> 8),
                       (uint8_t)len,
                       0,
                       0,
                       0,
                       NH_ICMPV6};
    uint32_t sum = pr_sum_add(0, src, 16);
    sum = pr_sum_add(sum, dst, 16);
    sum = pr_sum_add(sum, tail, sizeof tail);
    return pr_sum_final(pr_sum_add(sum, m, len));
}

/* RFC 4291 section 2.7.1: the solicited-node group ff02::1:ffXX:XXXX of an address (its low 24
 * bits). */
static void solicited_node(const uint8_t ip[16], uint8_t out[16]) {
    static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    memcpy(out, prefix, sizeof prefix);
    memcpy(out + 13, ip + 13, 3);
}

static bool unspecified(const uint8_t a[16]) {
    static const uint8_t zero[16];
    return memcmp(a, zero, 16) == 0;
}

/* Ethernet and a fresh IPv6 header (version 6, traffic class and flow label 0, no extension
 * header) from its address in r->out; returns where the ICMPv6 message of icmp_len bytes goes. */
static uint8_t *ip6_header(responder *r, const uint8_t dst_mac[6], const uint8_t dst[16],
                           size_t icmp_len, uint8_t hop_limit) {
    uint8_t *o = r->out;
    memcpy(o, dst_mac, 6);
    memcpy(o + 6, r->mac, 6);
    wr16(o + 12, 0x86dd);
    uint8_t *h = o + ETH_HDR;
    h[0] = 0x60;
    h[1] = h[2] = h[3] = 0;
    wr16(h + 4, (uint16_t)icmp_len);
    h[6] = NH_ICMPV6;
    h[7] = hop_limit;
    memcpy(h + 8, r->ip6, 16);
    memcpy(h + 24, dst, 16);
    return h + IP6_HDR;
}

/*
 * A Neighbor Solicitation (checksum verified). RFC 4861 section 7.1.1: "A node MUST silently
 * discard any received Neighbor Solicitation messages that do not satisfy all of the following
 * validity checks: - The IP Hop Limit field has a value of 255 ... - ICMP Code is 0. - ICMP length
 * (derived from the IP length) is 24 or more octets. - Target Address is not a multicast address.
 * - All included options have a length that is greater than zero. - If the IP source address is
 * the unspecified address, the IP destination address is a solicited-node multicast address. - If
 * the IP source address is the unspecified address, there is no source link-layer address option
 * in the message." Then section 7.2.3: the target must be an address of ours.
 */
static void on_ns(responder *r, const uint8_t *f, const uint8_t *ip, const uint8_t *m,
                  size_t mlen) {
    const uint8_t *src = ip + 8, *dst = ip + 24;
    if (ip[7] != 255 || m[1] != 0 || mlen < ND_MSG_LEN || src[0] == 0xff) {
        r->c.ignored++;
        return;
    }
    const uint8_t *slla = NULL;
    for (size_t at = ND_MSG_LEN; at < mlen;) {
        size_t olen = mlen - at < 2 ? 0 : (size_t)m[at + 1] * 8;
        if (olen == 0 || olen > mlen - at) {
            r->c.ignored++;
            return;
        }
        if (m[at] == OPT_SLLA && olen == 8) {
            slla = m + at + 2;
        }
        at += olen;
    }
    uint8_t sn[16];
    solicited_node(r->ip6, sn);
    bool from_dad = unspecified(src);
    if ((from_dad && (memcmp(dst, sn, 16) != 0 || slla)) || memcmp(m + 8, r->ip6, 16) != 0) {
        r->c.ignored++;
        return;
    }
    /*
     * Section 7.2.4: "If the source of the solicitation is the unspecified address, the node MUST
     * set the Solicited flag to zero and multicast the advertisement to the all-nodes address.
     * Otherwise, the node MUST set the Solicited flag to one and unicast the advertisement to the
     * Source Address of the solicitation." Unicast to the link-layer address the solicitation
     * gave, else to the frame's source (a unicast solicitation need not carry one). The Target
     * Link-Layer Address option always goes with it ("MUST be included" when the solicitation
     * was multicast; harmless otherwise), and Override is set: the address is not an anycast or
     * proxied one.
     */
    static const uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    uint8_t to[16];
    memcpy(to, from_dad ? all_nodes : src, 16);
    const uint8_t *to_mac = from_dad ? all_nodes_mac : slla ? slla : f + 6;
    size_t n = ND_MSG_LEN + 8;
    uint8_t *a = ip6_header(r, to_mac, to, n, 255);
    memset(a, 0, n);
    a[0] = ND_NA;
    a[4] = (uint8_t)((from_dad ? 0 : 0x40) | 0x20); /* R=0, S, O=1 */
    memcpy(a + 8, r->ip6, 16);
    a[24] = OPT_TLLA;
    a[25] = 1; /* in units of 8 octets */
    memcpy(a + 26, r->mac, 6);
    wr16(a + 2, icmp6_sum(r->ip6, to, a, n));
    r->c.nd_replies++;
    pr_send_frame(r, ETH_HDR + IP6_HDR + n);
}

/* An ICMPv6 Echo Request (checksum verified): to our MAC and address only, from an address a
 * reply can go to. */
static void on_echo(responder *r, uint64_t now, const uint8_t *f, const uint8_t *ip,
                    const uint8_t *m, size_t mlen) {
    const uint8_t *src = ip + 8;
    if (m[1] != 0 || mlen < 8 || memcmp(f, r->mac, 6) != 0 || memcmp(ip + 24, r->ip6, 16) != 0 ||
        src[0] == 0xff || unspecified(src)) {
        r->c.ignored++;
        return;
    }
    r->c.requests++;
    sim_ping_record rec = {0};
    rec.time = now;
    rec.version = 6;
    memcpy(rec.src_ip6, src, 16);
    memcpy(rec.dst_ip6, ip + 24, 16);
    rec.ttl = ip[7];
    rec.ip_len = (uint16_t)(IP6_HDR + mlen);
    rec.ident = rd16(m + 4); /* network to host order */
    rec.seq = rd16(m + 6);
    rec.payload_len = (uint32_t)(mlen - 8);
    /* the reply: a fresh IPv6 header, hop limit 64 (RFC 4861 section 6.3.2's default
     * CurHopLimit), and the whole message echoed with type 129 */
    if (ETH_HDR + IP6_HDR + mlen <= sizeof r->out) {
        uint8_t to[16];
        memcpy(to, src, 16);
        uint8_t *o = ip6_header(r, f + 6, to, mlen, 64);
        memcpy(o, m, mlen);
        o[0] = ICMP6_ECHO_REPLY;
        wr16(o + 2, 0);
        wr16(o + 2, icmp6_sum(r->ip6, to, o, mlen));
        rec.replied = true;
        r->c.replies++;
        pr_log_request(r, &rec, ip, IP6_HDR + mlen);
        pr_send_frame(r, ETH_HDR + IP6_HDR + mlen);
        return;
    }
    pr_log_request(r, &rec, ip, IP6_HDR + mlen);
}

void pr_on_ipv6(responder *r, uint64_t now, const uint8_t *f, size_t len) {
    const uint8_t *ip = f + ETH_HDR;
    size_t avail = len - ETH_HDR;
    if (!r->has_ip6 || avail < IP6_HDR || ip[0] >> 4 != 6) {
        r->c.ignored++;
        return;
    }
    size_t plen = rd16(ip + 4);
    /* ICMPv6 right after the fixed header only: the responder reads no extension header */
    if (plen > avail - IP6_HDR || ip[6] != NH_ICMPV6 || plen < 4) {
        r->c.ignored++;
        return;
    }
    /* for it: its MAC or its solicited-node group's (RFC 2464 section 7: 33:33 and the group's
     * low 32 bits), and its address or its solicited-node group */
    uint8_t sn[16];
    solicited_node(r->ip6, sn);
    const uint8_t sn_mac[6] = {0x33, 0x33, sn[12], sn[13], sn[14], sn[15]};
    bool mac_ok = memcmp(f, r->mac, 6) == 0 || memcmp(f, sn_mac, 6) == 0;
    bool ip_ok = memcmp(ip + 24, r->ip6, 16) == 0 || memcmp(ip + 24, sn, 16) == 0;
    if (!mac_ok || !ip_ok) {
        r->c.ignored++;
        return;
    }
    const uint8_t *m = ip + IP6_HDR;
    if (icmp6_sum(ip + 8, ip + 24, m, plen) != 0) {
        r->c.bad_checksum++;
        return;
    }
    if (m[0] == ND_NS) {
        on_ns(r, f, ip, m, plen);
    } else if (m[0] == ICMP6_ECHO_REQUEST) {
        on_echo(r, now, f, ip, m, plen);
    } else { /* every other ICMPv6 message: not the responder's business */
        r->c.ignored++;
    }
}
