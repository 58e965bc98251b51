/*
 * The native ping responder (tern/sim_virtio.h): the seL4 CAmkES demo's PingClient, done right.
 * It answers ARP requests for its own address and ICMP echo requests addressed to it (RFC 792:
 * "The data received in the echo message must be returned in the echo reply message"; "The
 * identifier and sequence number may be used by the echo sender to aid in matching the replies
 * with the echo requests"), and logs each request as the demo prints it, with the seed's bugs
 * fixed: identifier and sequence number in host order, dump offsets and bytes both in hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "virtio/ping_responder_private.h"

/* RFC 1071 Internet checksum over len bytes; 0 when a received header with its checksum
 * verifies. */
static uint16_t inet_sum(const uint8_t *p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += rd16(p + i);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

void pr_send_frame(responder *r, size_t len) {
    /* an Ethernet frame is at least 60 bytes before the FCS: pad with zeros */
    if (len < 60) {
        memset(r->out + len, 0, 60 - len);
        len = 60;
    }
    sim_node_send(r->s, r->id, 0, r->out, len);
}

/* ARP (RFC 826): a request for our protocol address gets a reply with our hardware address. */
static void on_arp(responder *r, const uint8_t *f, size_t len) {
    const uint8_t *a = f + 14;
    if (len < 14 + 28 || rd16(a) != 1 || rd16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
        rd16(a + 6) != 1 || memcmp(a + 24, r->ip, 4) != 0) {
        r->c.ignored++;
        return;
    }
    uint8_t *o = r->out;
    memcpy(o, a + 8, 6); /* to the sender's hardware address */
    memcpy(o + 6, r->mac, 6);
    wr16(o + 12, 0x0806);
    uint8_t *p = o + 14;
    wr16(p, 1);
    wr16(p + 2, 0x0800);
    p[4] = 6;
    p[5] = 4;
    wr16(p + 6, 2);
    memcpy(p + 8, r->mac, 6); /* our MAC (the seed put the requester's own here) */
    memcpy(p + 14, r->ip, 4);
    memcpy(p + 18, a + 8, 6);
    memcpy(p + 24, a + 14, 4);
    r->c.arp_replies++;
    pr_send_frame(r, 14 + 28);
}

/* The request as the demo prints it: dump, then the IP Header and ICMP Header lines (for an IPv6
 * request, the IPv6 Header and ICMPv6 Header lines of the same layout). */
static char *render(const uint8_t *ip, size_t ip_len, const sim_ping_record *rec) {
    size_t cap = 64 + ip_len * 3 + (ip_len / 16 + 1) * 8 + 320;
    char *t = malloc(cap);
    if (!t) {
        return NULL;
    }
    size_t n = (size_t)snprintf(t, cap, "Packet Contents:");
    for (size_t i = 0; i < ip_len; i++) {
        if (i % 16 == 0) {
            n += (size_t)snprintf(t + n, cap - n, "\n%04zx:\t", i);
        }
        n += (size_t)snprintf(t + n, cap - n, "%02x ", ip[i]);
    }
    if (rec->version == 6) {
        /* addresses in RFC 5952 text, as inet_ntop writes them */
        char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET6, rec->src_ip6, src, sizeof src);
        inet_ntop(AF_INET6, rec->dst_ip6, dst, sizeof dst);
        n += (size_t)snprintf(t + n, cap - n,
                              "\nIPv6 Header - Version: IPv6 next header: 58 | src address: %s | "
                              "dest address: %s\n",
                              src, dst);
        snprintf(t + n, cap - n, "ICMPv6 Header - Type: 128 | id: %u | seq: %u\n\n", rec->ident,
                 rec->seq);
        return t;
    }
    n += (size_t)snprintf(t + n, cap - n,
                          "\nIP Header - Version: IPv4 protocol: 1 | src address: %u.%u.%u.%u | "
                          "dest address: %u.%u.%u.%u\n",
                          rec->src_ip[0], rec->src_ip[1], rec->src_ip[2], rec->src_ip[3],
                          rec->dst_ip[0], rec->dst_ip[1], rec->dst_ip[2], rec->dst_ip[3]);
    snprintf(t + n, cap - n, "ICMP Header - Type: 8 | id: %u | seq: %u\n\n", rec->ident, rec->seq);
    return t;
}

void pr_log_request(responder *r, const sim_ping_record *rec, const uint8_t *ip, size_t ip_len) {
    if (r->log_n == r->log_limit) { /* forget the oldest */
        free(r->log[r->log_first].text);
        r->log_first = (r->log_first + 1) % r->log_limit;
        r->log_n--;
    }
    pr_entry *e = &r->log[(r->log_first + r->log_n) % r->log_limit];
    e->rec = *rec;
    e->text = render(ip, ip_len, rec);
    r->log_n++;
    r->logged++;
}

static void on_ipv4(responder *r, uint64_t now, const uint8_t *f, size_t len) {
    const uint8_t *ip = f + 14;
    size_t avail = len - 14;
    if (avail < 20 || ip[0] >> 4 != 4) {
        r->c.ignored++;
        return;
    }
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = rd16(ip + 2);
    if (ihl < 20 || tot < ihl || tot > avail) {
        r->c.ignored++;
        return;
    }
    /* only datagrams for us, whole (no fragments: the responder does not reassemble) */
    if (memcmp(ip + 16, r->ip, 4) != 0 || ip[9] != 1 || (rd16(ip + 6) & 0x3fff) != 0) {
        r->c.ignored++;
        return;
    }
    if (inet_sum(ip, ihl) != 0) {
        r->c.bad_checksum++;
        return;
    }
    const uint8_t *icmp = ip + ihl;
    size_t icmp_len = tot - ihl;
    if (icmp_len < 8) {
        r->c.ignored++;
        return;
    }
    if (inet_sum(icmp, icmp_len) != 0) {
        r->c.bad_checksum++;
        return;
    }
    if (icmp[0] != 8 || icmp[1] != 0) { /* echo requests only */
        r->c.ignored++;
        return;
    }
    r->c.requests++;
    sim_ping_record rec = {0};
    rec.time = now;
    rec.version = 4;
    memcpy(rec.src_ip, ip + 12, 4);
    memcpy(rec.dst_ip, ip + 16, 4);
    rec.ttl = ip[8];
    rec.ip_len = (uint16_t)tot;
    rec.ident = rd16(icmp + 4); /* network to host order: the seed printed them unconverted */
    rec.seq = rd16(icmp + 6);
    rec.payload_len = (uint32_t)(icmp_len - 8);
    /* the reply: a fresh IPv4 header (no options) and the whole ICMP message echoed */
    size_t out_tot = 20 + icmp_len;
    if (14 + out_tot <= sizeof r->out && out_tot <= 65535) {
        uint8_t *o = r->out;
        memcpy(o, f + 6, 6);
        memcpy(o + 6, r->mac, 6);
        wr16(o + 12, 0x0800);
        uint8_t *h = o + 14;
        h[0] = 0x45;
        h[1] = 0;
        wr16(h + 2, (uint16_t)out_tot);
        wr16(h + 4, r->ip_id++);
        wr16(h + 6, 0x4000); /* DF */
        h[8] = 64;
        h[9] = 1;
        wr16(h + 10, 0);
        memcpy(h + 12, r->ip, 4);
        memcpy(h + 16, ip + 12, 4);
        wr16(h + 10, inet_sum(h, 20));
        uint8_t *m = h + 20;
        memcpy(m, icmp, icmp_len);
        m[0] = 0; /* echo reply */
        wr16(m + 2, 0);
        wr16(m + 2, inet_sum(m, icmp_len));
        rec.replied = true;
        r->c.replies++;
        pr_log_request(r, &rec, ip, tot);
        pr_send_frame(r, 14 + out_tot);
        return;
    }
    pr_log_request(r, &rec, ip, tot);
}

static void pr_input(void *state, uint64_t now, uint32_t port, const uint8_t *f, size_t len) {
    (void)port;
    responder *r = state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (len < 14) {
        r->c.ignored++;
        return;
    }
    bool to_us = memcmp(f, r->mac, 6) == 0, to_all = memcmp(f, bcast, 6) == 0;
    uint16_t type = rd16(f + 12);
    if (type == 0x0806 && (to_us || to_all)) {
        on_arp(r, f, len);
    } else if (type == 0x0800 && to_us) {
        on_ipv4(r, now, f, len);
    } else if (type == 0x86dd) { /* its own MAC or its solicited-node group's: pr_on_ipv6 looks */
        pr_on_ipv6(r, now, f, len);
    } else {
        r->c.ignored++;
    }
}

static void pr_destroy(void *state) {
    responder *r = state;
    for (uint32_t i = 0; i < r->log_n; i++) {
        free(r->log[(r->log_first + i) % r->log_limit].text);
    }
    free(r->log);
    free(r);
}

static const sim_node_ops pr_ops = {pr_input, NULL, NULL, pr_destroy};

tern_err sim_ping_responder_add(sim *s, const char *name, const uint8_t mac[6], const uint8_t ip[4],
                                uint32_t log_limit, sim_node_id *out) {
    const char *who = name ? name : "";
    if (!mac || !ip || (mac[0] & 1)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "ping-responder '%s': mac must be a unicast MAC address", who);
    }
    if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "ping-responder '%s': ip 0.0.0.0 is not an address it can answer for", who);
    }
    responder *r = calloc(1, sizeof *r);
    if (!r) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "ping-responder '%s': out of memory", who);
    }
    r->log_limit = log_limit ? log_limit : 1024;
    r->log = calloc(r->log_limit, sizeof *r->log);
    if (!r->log) {
        free(r);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "ping-responder '%s': out of memory", who);
    }
    r->s = s;
    memcpy(r->mac, mac, 6);
    memcpy(r->ip, ip, 4);
    tern_err err = sim_node_add(s, name, "ping-responder", 1, &pr_ops, r, &r->id);
    if (err != TERN_OK) {
        pr_destroy(r);
        return err;
    }
    *out = r->id;
    return TERN_OK;
}

static responder *get(sim *s, sim_node_id node, tern_err *err) {
    sim_node *n = sim_get_node(s, node);
    if (!n) {
        *err = sim_fail(s, TERN_ERR_UNKNOWN_NODE, "unknown node %u", node);
        return NULL;
    }
    if (n->ops.input != pr_input) {
        *err = sim_fail(s, TERN_ERR_WRONG_KIND, "node '%s' is not a ping-responder", n->name);
        return NULL;
    }
    return n->state;
}

tern_err sim_ping_responder_set_ipv6(sim *s, sim_node_id node, const uint8_t ip6[16]) {
    tern_err err = TERN_OK;
    responder *r = get(s, node, &err);
    if (!r) {
        return err;
    }
    if (!ip6) {
        r->has_ip6 = false;
        memset(r->ip6, 0, sizeof r->ip6);
        return TERN_OK;
    }
    static const uint8_t unspecified[16];
    if (memcmp(ip6, unspecified, 16) == 0 || ip6[0] == 0xff) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "ping-responder: ipv6 must be a unicast address (not :: or multicast)");
    }
    memcpy(r->ip6, ip6, 16);
    r->has_ip6 = true;
    return TERN_OK;
}

uint32_t sim_ping_responder_count(sim *s, sim_node_id node) {
    sim_node *n = sim_get_node(s, node);
    return n && n->ops.input == pr_input ? ((responder *)n->state)->log_n : 0;
}

tern_err sim_ping_responder_record(sim *s, sim_node_id node, uint32_t i, sim_ping_record *out) {
    tern_err err = TERN_OK;
    responder *r = get(s, node, &err);
    if (!r) {
        return err;
    }
    if (i >= r->log_n) {
        return TERN_ERR_EMPTY;
    }
    *out = r->log[(r->log_first + i) % r->log_limit].rec;
    return TERN_OK;
}

tern_err sim_ping_responder_text(sim *s, sim_node_id node, uint32_t i, char *buf, size_t cap,
                                 size_t *len) {
    tern_err err = TERN_OK;
    responder *r = get(s, node, &err);
    if (!r) {
        return err;
    }
    if (i >= r->log_n) {
        return TERN_ERR_EMPTY;
    }
    const char *t = r->log[(r->log_first + i) % r->log_limit].text;
    if (!t) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "ping-responder: the text of record %u was lost", i);
    }
    size_t need = strlen(t) + 1;
    if (len) {
        *len = need;
    }
    if (cap < need) {
        return TERN_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(buf, t, need);
    return TERN_OK;
}

tern_err sim_ping_responder_get_counters(sim *s, sim_node_id node, sim_ping_counters *out) {
    tern_err err = TERN_OK;
    responder *r = get(s, node, &err);
    if (!r) {
        return err;
    }
    *out = r->c;
    return TERN_OK;
}
