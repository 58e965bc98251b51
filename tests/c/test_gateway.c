/*
 * The gateway node (tern/sim_gateway.h) under bad input: every truncation of
 * an ICMP error quoting a live mapping, and many seeded random IPv4 frames with
 * right checksums (so that they reach the NAT and DNS parsers, not only the
 * checksum test), sent on both ports. Under ASan this finds reads past a
 * frame; sim_run failing would mean the gateway sent a frame with a wrong
 * checksum (its output is checked) or never stopped at one instant.
 * Also: the configuration messages name the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tern/sim.h"
#include "tern/sim_gateway.h"

#define IN_ADDR 0xac1433feu  /* 172.20.51.254 */
#define OUT_ADDR 0xc6336402u /* 198.51.100.2 */
#define GUEST 0xac143301u    /* 172.20.51.1 */
#define REMOTE 0xc6336450u   /* 198.51.100.80 */

static const uint8_t GW_IN_MAC[6] = {2, 0, 0, 0, 0, 0x10}, GW_OUT_MAC[6] = {2, 0, 0, 0, 0, 0x11};
static const uint8_t GUEST_MAC[6] = {2, 0, 0, 0, 0, 1}, REMOTE_MAC[6] = {2, 0, 0, 0, 0, 2};

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}
static uint32_t sum(const uint8_t *p, size_t n, uint32_t s) {
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}
static uint16_t fin(uint32_t s) {
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* Right IPv4 and transport checksums for an unfragmented datagram in f (Ethernet at 0). */
static void fix(uint8_t *f, size_t len) {
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = (size_t)(ip[2] << 8 | ip[3]);
    if (len < 14 + 20 || ihl < 20 || total < ihl || total > len - 14) {
        return;
    }
    put16(ip + 10, 0);
    put16(ip + 10, fin(sum(ip, ihl, 0)));
    if ((ip[6] & 0x3f) || ip[7]) {
        return;
    }
    uint8_t *l4 = ip + ihl;
    size_t l4len = total - ihl;
    size_t off = ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : ip[9] == 1 ? 2 : 0;
    if (!off || l4len < off + 2) {
        return;
    }
    put16(l4 + off, 0);
    uint32_t s = 0;
    if (ip[9] != 1) {
        s = sum(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
    }
    uint16_t c = fin(sum(l4, l4len, s));
    put16(l4 + off, (ip[9] == 17 && c == 0) ? 0xffff : c);
}

/* Ethernet + IPv4 header; returns the offset of the transport header. */
static size_t ip_head(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
                      uint32_t dst, uint8_t proto, size_t l4len) {
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + l4len));
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    return 34;
}

static sim *s;
static sim_node_id gw, in_peer, out_peer;

static void build(void) {
    CHECK(sim_create(5, &s) == TERN_OK);
    sim_gw_config c;
    sim_gateway_config_default(&c, 9);
    c.nports = 2;
    memcpy(c.port[0].mac, GW_IN_MAC, 6);
    c.port[0].naddrs = 1;
    c.port[0].addr[0] = IN_ADDR;
    c.port[0].prefix_len = 24;
    memcpy(c.port[1].mac, GW_OUT_MAC, 6);
    c.port[1].naddrs = 1;
    c.port[1].addr[0] = OUT_ADDR;
    c.port[1].prefix_len = 24;
    c.port[1].outside = true;
    c.dns = true;
    c.n_upstream = 1;
    c.upstream[0] = 0xc6336435u;
    c.nat_filtering = SIM_GW_FILTER_ADDRESS_PORT_DEPENDENT;
    CHECK(sim_gateway_add(s, "gw", &c, &gw) == TERN_OK);
    CHECK(sim_peer_add(s, "in", 1, 0, &in_peer) == TERN_OK);
    CHECK(sim_peer_add(s, "out", 1, 0, &out_peer) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(s, gw, 0, in_peer, 0, &l) == TERN_OK);
    CHECK(sim_link_add(s, gw, 1, out_peer, 0, &l) == TERN_OK);
}

/* The last DNS query the gateway forwarded upstream: its UDP source port and ID. */
static uint16_t up_port, up_id;
static int up_seen;

static void drain(sim_node_id p) {
    uint8_t buf[SIM_MAX_FRAME];
    size_t n;
    while (sim_peer_recv(s, p, buf, sizeof buf, &n, NULL, NULL) == TERN_OK) {
        if (p == out_peer && n >= 14 + 20 + 8 + 12 && buf[12] == 8 && buf[13] == 0 &&
            buf[23] == 17 && buf[36] == 0 && buf[37] == 53) {
            up_port = (uint16_t)(buf[34] << 8 | buf[35]);
            up_id = (uint16_t)(buf[42] << 8 | buf[43]);
            up_seen++;
        }
        if (p == out_peer && n >= 42 && buf[12] == 8 && buf[13] == 6 && buf[21] == 1) {
            /* answer the gateway's ARP request for the remote */
            uint8_t r[42];
            memcpy(r, buf + 6, 6);
            memcpy(r + 6, REMOTE_MAC, 6);
            memcpy(r + 12, buf + 12, 8);
            r[21] = 2;
            memcpy(r + 22, REMOTE_MAC, 6);
            memcpy(r + 28, buf + 38, 4);
            memcpy(r + 32, buf + 22, 10);
            sim_peer_send(s, out_peer, 0, r, sizeof r);
        }
    }
}

static void run_ms(uint64_t ms) {
    tern_err e = sim_run(s, sim_now(s) + ms * 1000000ULL, 0, NULL);
    if (e != TERN_OK) {
        fprintf(stderr, "sim_run: %s\n", sim_last_error(s));
    }
    CHECK(e == TERN_OK);
    drain(in_peer);
    drain(out_peer);
}

static void test_truncated_icmp_errors(void) {
    check_current = "truncated ICMP errors";
    build();
    /* A mapping: guest 172.20.51.1:5000 -> remote 198.51.100.80:7 (ARP for the gateway first). */
    uint8_t f[1600];
    size_t o = ip_head(f, GW_IN_MAC, GUEST_MAC, GUEST, REMOTE, 17, 8 + 4);
    put16(f + o, 5000);
    put16(f + o + 2, 7);
    put16(f + o + 4, 12);
    memcpy(f + o + 8, "ping", 4);
    fix(f, o + 12);
    CHECK(sim_peer_send(s, in_peer, 0, f, o + 12) == TERN_OK);
    run_ms(1);
    run_ms(1);
    uint32_t n = 0;
    CHECK(sim_gateway_nat_table(s, gw, NULL, 0, &n) == TERN_OK);
    CHECK_EQ_U64(n, 1);
    /* The remote's port unreachable quoting the translated datagram, cut at every length. */
    uint8_t quote[28];
    ip_head(f, GW_OUT_MAC, REMOTE_MAC, OUT_ADDR, REMOTE, 17, 8 + 4);
    memcpy(quote, f + 14, 20);
    put16(quote + 20, 5000);
    put16(quote + 22, 7);
    put16(quote + 24, 12);
    put16(quote + 26, 0);
    for (size_t cut = 0; cut <= sizeof quote; cut++) {
        for (int variant = 0; variant < 4; variant++) {
            o = ip_head(f, GW_OUT_MAC, REMOTE_MAC, REMOTE, OUT_ADDR, 1, 8 + cut);
            memset(f + o, 0, 8);
            f[o] = variant == 3 ? 11 : 3;
            f[o + 1] = 3;
            memcpy(f + o + 8, quote, cut);
            if (cut > 0 && variant == 1) {
                f[o + 8] = 0x4f; /* a quoted IHL of 60 bytes that is not there */
            }
            if (cut > 9 && variant == 2) {
                f[o + 8 + 9] = 1; /* quoting an ICMP message */
            }
            fix(f, o + 8 + cut);
            CHECK(sim_peer_send(s, out_peer, 0, f, o + 8 + cut) == TERN_OK);
            run_ms(1);
        }
    }
    sim_gw_counters c;
    CHECK(sim_gateway_get_counters(s, gw, &c) == TERN_OK);
    CHECK(c.nat_icmp_errors_in >= 2); /* the whole quotes, port unreachable and time exceeded */
    sim_destroy(s);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_random_frames(void) {
    check_current = "random frames";
    build();
    static const uint8_t protos[] = {1, 6, 17, 1, 6, 17, 47};
    static const uint32_t addrs[] = {IN_ADDR, OUT_ADDR, GUEST, REMOTE, 0xffffffffu, 0x0a000001u};
    uint8_t f[600];
    for (int i = 0; i < 20000; i++) {
        size_t l4len = next() % 300;
        bool outside = next() & 1;
        size_t o = ip_head(f, outside ? GW_OUT_MAC : GW_IN_MAC, outside ? REMOTE_MAC : GUEST_MAC,
                           addrs[next() % 6], addrs[next() % 6], protos[next() % 7], l4len);
        for (size_t k = 0; k < l4len; k++) {
            f[o + k] = (uint8_t)next();
        }
        if (l4len >= 4 && (next() & 1)) {
            put16(f + o + 2, (next() & 1) ? 53 : (uint16_t)(1024 + next() % 8));
        }
        if (f[23] == 1 && l4len >= 1) {
            static const uint8_t types[] = {0, 3, 8, 11, 5, 12, 4};
            f[o] = types[next() % 7];
        }
        size_t len = o + l4len;
        if (next() % 8 == 0) {
            f[14 + 6] = (uint8_t)(next() & 0x3f); /* a fragment */
        }
        fix(f, len);
        if (next() % 16 == 0) {
            len = 14 + next() % (len - 13); /* cut anywhere, checksums left as they are */
        }
        CHECK(sim_peer_send(s, outside ? out_peer : in_peer, 0, f, len < 60 ? 60 : len) == TERN_OK);
        if (i % 64 == 0) {
            run_ms(10);
        }
    }
    run_ms(5000);
    uint32_t n = 0;
    CHECK(sim_gateway_nat_table(s, gw, NULL, 0, &n) == TERN_OK);
    CHECK(n <= 1024);
    sim_destroy(s);
}

/* Upstream answers of any shape to queries the gateway forwarded: the relay and the cache parse
 * them (records, TTLs, compression) without reading past them. */
static void test_random_upstream_answers(void) {
    check_current = "random upstream answers";
    build();
    uint8_t f[700];
    for (int i = 0; i < 3000; i++) {
        char name[32];
        int nl = snprintf(name, sizeof name, "q%d.example", i % 50);
        uint8_t q[64];
        memset(q, 0, 12);
        put16(q, (uint16_t)i);
        q[2] = 1; /* RD */
        put16(q + 4, 1);
        size_t w = 12;
        const char *lab = name;
        while (*lab) {
            const char *dot = strchr(lab, '.');
            size_t ll = dot ? (size_t)(dot - lab) : strlen(lab);
            q[w++] = (uint8_t)ll;
            memcpy(q + w, lab, ll);
            w += ll;
            lab += ll + (dot ? 1 : 0);
        }
        q[w++] = 0;
        put16(q + w, 1);
        put16(q + w + 2, 1);
        w += 4;
        (void)nl;
        size_t o = ip_head(f, GW_IN_MAC, GUEST_MAC, GUEST, IN_ADDR, 17, 8 + w);
        put16(f + o, 5353);
        put16(f + o + 2, 53);
        put16(f + o + 4, (uint16_t)(8 + w));
        memcpy(f + o + 8, q, w);
        fix(f, o + 8 + w);
        int before = up_seen;
        CHECK(sim_peer_send(s, in_peer, 0, f, o + 8 + w) == TERN_OK);
        run_ms(1);
        run_ms(1);
        if (up_seen == before) {
            continue; /* answered from the cache */
        }
        /* The answer: the query's header and question, then random records. */
        size_t alen = w + next() % 400;
        o = ip_head(f, GW_OUT_MAC, REMOTE_MAC, 0xc6336435u, OUT_ADDR, 17, 8 + alen);
        uint8_t *a = f + o + 8;
        memcpy(a, q, w);
        for (size_t k = w; k < alen; k++) {
            a[k] = (uint8_t)next();
        }
        put16(a, up_id);
        a[2] = (uint8_t)(0x80 | (next() & 0x7f));
        a[3] = (uint8_t)(next() & 0x8f);
        put16(a + 6, (uint16_t)(next() % 40));
        put16(a + 8, (uint16_t)(next() % 4));
        put16(a + 10, (uint16_t)(next() % 4));
        for (size_t k = w; k + 1 < alen; k += 1 + next() % 24) {
            if (next() % 3 == 0) {
                a[k] = 0xc0; /* a compression pointer somewhere */
                a[k + 1] = (uint8_t)(next() % (alen + 8));
            }
        }
        if (i % 2 == 0) {
            /* Well-formed: NOERROR with 1..5 A records (cached), TTLs up to 2^32-1. */
            uint16_t an = (uint16_t)(1 + next() % 5);
            alen = w + 16u * an;
            a[2] = 0x81;
            a[3] = 0x80;
            put16(a + 6, an);
            put16(a + 8, 0);
            put16(a + 10, 0);
            for (uint16_t r = 0; r < an; r++) {
                uint8_t *rr = a + w + 16u * r;
                put16(rr, 0xc00c);
                put16(rr + 2, 1);
                put16(rr + 4, 1);
                put32(rr + 6, next() % 3 ? next() % 600 : 0xffffffffu);
                put16(rr + 10, 4);
                put32(rr + 12, next());
            }
            o = ip_head(f, GW_OUT_MAC, REMOTE_MAC, 0xc6336435u, OUT_ADDR, 17, 8 + alen);
        }
        put16(f + o, 53);
        put16(f + o + 2, up_port);
        put16(f + o + 4, (uint16_t)(8 + alen));
        fix(f, o + 8 + alen);
        CHECK(sim_peer_send(s, out_peer, 0, f, o + 8 + alen) == TERN_OK);
        run_ms(1);
    }
    run_ms(5000);
    sim_gw_counters c;
    CHECK(sim_gateway_get_counters(s, gw, &c) == TERN_OK);
    CHECK(c.dns_forwarded > 100);
    CHECK(c.dns_upstream_answers > 100);
    CHECK(c.dns_cache_hits > 100);
    sim_destroy(s);
}

static void test_messages(void) {
    check_current = "configuration messages";
    sim_gw_config c;
    char msg[256];
    sim_gateway_config_default(&c, 1);
    c.nports = 2;
    c.port[0].mac[0] = 2;
    c.port[0].mac[5] = 1;
    c.port[0].naddrs = 1;
    c.port[0].addr[0] = IN_ADDR;
    c.port[0].prefix_len = 24;
    c.port[1] = c.port[0];
    c.port[1].mac[5] = 2;
    c.port[1].addr[0] = GUEST + 8;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "port[1].addr[0]: 172.20.51.9/24 overlaps the segment of port[0]");
    c.port[1].addr[0] = OUT_ADDR;
    c.port[1].outside = true;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_OK);
    c.nat_udp_timeout_ns = 60ULL * 1000000000ULL;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "nat.udp_timeout: 60 s is below the 120 s of RFC 4787 REQ-5");
    c.nat_allow_short_timeouts = true;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_OK);
    c.default_router = OUT_ADDR;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "default_router: 198.51.100.2 is the gateway's own address");
    c.default_router = 0;
    c.port[0].outside = true;
    CHECK(sim_gateway_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "port[1].outside: port[0] is already the outside port");
}

int main(void) {
    test_messages();
    test_truncated_icmp_errors();
    test_random_frames();
    test_random_upstream_answers();
    return check_summary();
}
