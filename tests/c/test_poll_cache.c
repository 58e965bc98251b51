/*
 * poll_at's cache of the quiet modules' deadline (core/stack_internal.h, tern_poll_cache) across
 * polls: a quiet poll (nothing of IGMP, IPv6 autoconfiguration, the DHCPv4 client or mDNS due)
 * keeps it, so that the poll_at after it reads none of their state (issue 19); a poll with one of
 * them due drops it. Test builds trap when a kept cache differs from the modules' own deadline
 * (TERN_POLL_CACHE_CHECK), so every tern_stack_poll_at below also checks the value kept.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/stack_internal.h"
#include "ipv4/ipv4.h"
#include "ipv6/ipv6.h"
#include "ipv6/ipv6_state.h"
#include "tern/dhcpv6.h"
#include "tern/igmp.h"
#include "tern/stack.h"
#include "test_host_cfg.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"

#define MS 1000000ull

static uint64_t frames_out;
static uint64_t solicits_out; /* DHCPv6 messages to the servers' port (547) */

static void count_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)ctx;
    (void)iface;
    frames_out++;
    if (len >= 58 && frame[12] == 0x86 && frame[13] == 0xdd && frame[20] == 17 &&
        (frame[56] << 8 | frame[57]) == 547) {
        solicits_out++;
    }
}

/* A host with IPv6 on (link-local address, DAD, MLD reports, Router Solicitations at start-up),
 * IGMP and an IPv4 address: every quiet module but DHCP and mDNS has timers. */
static tern_stack *host_nd(void **mem, uint32_t nd_entries) {
    tern_stack_config c;
    test_host_cfg_v4(&c, 1, 0, 1); /* 02:00:00:00:00:01, 10.0.0.1/24 */
    c.nd_entries = nd_entries;     /* 0: the default */
    c.ipv6_autoconf = true;
    c.arp_retry_ns = 30 * MS; /* ARP's retransmissions before the quiet deadline (settle) */
    c.output = count_output;
    size_t size = tern_stack_memory_size(&c);
    *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    tern_stack *st = NULL;
    char msg[128];
    CHECK(tern_stack_init(*mem, size, &c, &st, msg, sizeof msg) == TERN_OK);
    return st;
}

static tern_stack *host(void **mem) {
    return host_nd(mem, 0);
}

/* Poll the host through its start-up until its cache is valid, a quiet deadline is at least
 * 100 ms ahead and nothing is due in the next 5 ms; returns the time reached. */
static uint64_t settle(tern_stack *st) {
    const tern_poll_cache *pc = st->poll_cache;
    uint64_t now = 1000 * MS;
    tern_stack_poll(st, now);
    for (int i = 0; i < 200; i++) {
        uint64_t next = tern_stack_poll_at(st);
        if (next == TERN_NEVER ||
            (pc->valid && pc->at != TERN_NEVER && pc->at > now + 100 * MS && next > now + 5 * MS)) {
            break;
        }
        now = next > now ? next : now + 1;
        tern_stack_poll(st, now);
    }
    return now;
}

/* A host past its start-up (settle) and the time 1 ms after it; NULL if it could not be made. */
static tern_stack *settled_host(void **mem, uint64_t *now) {
    tern_stack *st = host(mem);
    if (st) {
        *now = settle(st) + MS;
    }
    return st;
}

static void test_quiet_poll_keeps_the_cache(void) {
    void *mem;
    tern_stack *st = host(&mem);
    if (!st) {
        return;
    }
    /* Start-up (DAD, MLD reports, Router Solicitations) until a quiet module's timer is at least
     * 100 ms ahead and nothing is due in the next 5 ms. */
    const tern_poll_cache *pc = st->poll_cache;
    uint64_t now = settle(st), next = tern_stack_poll_at(st);
    CHECK(pc->valid);
    CHECK(next > now + 5 * MS);
    uint64_t skipped = pc->skipped, at = pc->at;
    CHECK(at != TERN_NEVER); /* the positive control below needs a quiet deadline */
    CHECK(next <= at);

    /* Quiet polls (an application's wake-ups, 1 ms apart): nothing due, nothing sent, and the
     * cache kept with the same deadlines. */
    uint64_t sent = frames_out;
    for (int i = 1; i <= 4; i++) {
        tern_stack_poll(st, now + (uint64_t)i * MS);
        CHECK(pc->valid);
        CHECK_EQ_U64(pc->skipped, skipped);
        CHECK_EQ_U64(pc->at, at);
        CHECK_EQ_U64(tern_stack_poll_at(st), next);
    }
    CHECK_EQ_U64(frames_out, sent);

    /* Positive control: the poll at the quiet deadline runs the modules, which act (a module
     * whose timer is due sends or moves its timer), and drops the cache; poll_at recomputes it
     * and it moves on. */
    if (at == TERN_NEVER) {
        free(mem);
        return;
    }
    tern_stack_poll(st, at);
    CHECK(!pc->valid);
    uint64_t after = tern_stack_poll_at(st);
    CHECK(pc->valid);
    CHECK(after > at);
    CHECK(frames_out > sent || pc->skipped != skipped);
    free(mem);
}

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2};

/* An Ethernet frame of the given type and payload from the peer to dst, into the host. */
static void input(tern_stack *st, uint64_t now, const uint8_t dst[6], uint16_t type,
                  const uint8_t *payload, size_t len) {
    uint8_t frame[1514];
    struct tern_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst.b, dst, 6);
    memcpy(e.src.b, peer_mac, 6);
    e.ethertype = type;
    e.payload = payload;
    e.payload_len = len;
    size_t w = 0;
    CHECK(tern_eth_emit(&e, frame, sizeof frame, &w) == TERN_OK);
    tern_stack_input(st, now, 0, frame, w);
}

/* An ARP request from the peer (10.0.0.2) for `target`, broadcast. */
static void arp_request(tern_stack *st, uint64_t now, uint8_t target) {
    struct tern_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = TERN_ARP_OP_REQUEST;
    memcpy(a.sha.b, peer_mac, 6);
    a.spa = tern_addr_v4(10, 0, 0, 2);
    a.tpa = tern_addr_v4(10, 0, 0, target);
    uint8_t buf[28];
    size_t w = 0;
    CHECK(tern_arp_emit(&a, buf, sizeof buf, &w) == TERN_OK);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    input(st, now, bcast, TERN_ETHERTYPE_ARP, buf, w);
}

/* An ICMPv4 message of `type` (echo: identifier 1, sequence 7) from the peer to us. */
static void icmp_in(tern_stack *st, uint64_t now, uint8_t type) {
    /* an echo carries the first 8 bytes; a timestamp request (type 13) its three 4-byte times */
    static const uint8_t data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct tern_icmpv4_repr m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.echo_id = 1;
    m.echo_seq = 7;
    m.rest = (1u << 16) | 7u; /* a timestamp request's identifier and sequence */
    m.payload = data;
    m.payload_len = type == 13 ? 12 : 8;
    uint8_t icmp[64] = {0};
    size_t iw = 0;
    CHECK(tern_icmpv4_emit(&m, icmp, sizeof icmp, &iw) == TERN_OK);
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_ICMP;
    ip.src = tern_addr_v4(10, 0, 0, 2);
    ip.dst = tern_addr_v4(10, 0, 0, 1);
    ip.payload = icmp;
    ip.payload_len = iw;
    uint8_t dgram[128];
    size_t w = 0;
    CHECK(tern_ipv4_emit(&ip, dgram, sizeof dgram, &w) == TERN_OK);
    input(st, now, our_mac, TERN_ETHERTYPE_IPV4, dgram, w);
}

/* An IPv6 datagram (an empty ICMPv6 body) to the MAC of multicast group ff02::<low>. */
static void ipv6_multicast_in(tern_stack *st, uint64_t now, uint8_t low) {
    uint8_t d[48] = {0x60, 0, 0, 0, 0, 8, 58, 255};
    d[8] = 0xfe;
    d[9] = 0x80;
    d[23] = 2; /* fe80::2 */
    d[24] = 0xff;
    d[25] = 0x02;
    d[39] = low;
    const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, low};
    input(st, now, mac, TERN_ETHERTYPE_IPV6, d, sizeof d);
}

/*
 * Input that cannot move a quiet module's timer keeps the cache (core/stack.c,
 * keeps_quiet_timers): ARP for us (answered) and not for us, an ICMP echo request (answered)
 * and an echo reply (queued for the ping socket, then taken with tern_ping_recv), an IPv6
 * multicast to a group the host is not in (refused by the MAC filter). Each is checked to have
 * done its work, and poll_at after it checks the kept deadline against the modules' own
 * (TERN_POLL_CACHE_CHECK). Positive controls: an ICMP timestamp request and an IPv6 multicast to
 * all-nodes, which the host receives, drop it.
 */
static void test_inputs_that_keep_the_cache(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    const tern_poll_cache *pc = st->poll_cache;
    tern_sock ping;
    tern_addr peer = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_ping_open(st, 1, &ping) == TERN_OK);
    uint64_t at = tern_stack_poll_at(st); /* recomputed after the public call */
    CHECK(pc->valid);
    uint64_t quiet = pc->at;
    CHECK(quiet > now + 50 * MS);

    /* ARP request for us: answered, the peer's entry learned, the cache kept. */
    uint64_t sent = frames_out;
    tern_counters c0;
    tern_stack_get_counters(st, &c0);
    arp_request(st, now, 1);
    CHECK_EQ_U64(frames_out, sent + 1);
    CHECK(pc->valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), at);
    /* ARP request for another host: nothing sent, the cache kept. */
    arp_request(st, now, 3);
    CHECK_EQ_U64(frames_out, sent + 1);
    CHECK(pc->valid);
    tern_counters c1;
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.arp_in, c0.arp_in + 2);
    CHECK_EQ_U64(c1.arp_replies_sent, c0.arp_replies_sent + 1);

    /* Echo request: answered at once (the peer's address is resolved), the cache kept. */
    icmp_in(st, now, TERN_ICMPV4_ECHO_REQUEST);
    CHECK_EQ_U64(frames_out, sent + 2);
    CHECK(pc->valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), at);

    /* Our echo request out; the reply in: queued, taken, the cache kept throughout. */
    CHECK(tern_ping_send(st, ping, &peer, 7, NULL, 8, 0, false) == TERN_OK);
    tern_stack_poll(st, now);
    CHECK_EQ_U64(frames_out, sent + 3);
    tern_stack_poll_at(st);
    CHECK(pc->valid);
    icmp_in(st, now, TERN_ICMPV4_ECHO_REPLY);
    CHECK(pc->valid);
    tern_ping_reply r;
    CHECK(tern_ping_recv(st, ping, &r, NULL, 0) == TERN_OK);
    CHECK_EQ_U64(r.seq, 7);
    CHECK(pc->valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), at);

    /* IPv6 to all-routers (ff02::2): a host is not in the group; refused, the cache kept. */
    tern_stack_get_counters(st, &c0);
    ipv6_multicast_in(st, now, 2);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.eth_not_for_us, c0.eth_not_for_us + 1);
    CHECK(pc->valid);
    CHECK_EQ_U64(pc->at, quiet);

    /* Positive controls: input the exemptions do not cover drops the cache. */
    icmp_in(st, now, 13); /* timestamp request */
    CHECK(!pc->valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), at);
    CHECK(pc->valid);
    ipv6_multicast_in(st, now, 1); /* all-nodes: the host is in it */
    CHECK(!pc->valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), at);
    free(mem);
}

/* An ARP reply from 10.0.0.<from> (the peer's MAC) to us. */
static void arp_reply(tern_stack *st, uint64_t now, uint8_t from) {
    struct tern_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = TERN_ARP_OP_REPLY;
    memcpy(a.sha.b, peer_mac, 6);
    a.spa = tern_addr_v4(10, 0, 0, from);
    memcpy(a.tha.b, our_mac, 6);
    a.tpa = tern_addr_v4(10, 0, 0, 1);
    uint8_t buf[28];
    size_t w = 0;
    CHECK(tern_arp_emit(&a, buf, sizeof buf, &w) == TERN_OK);
    input(st, now, our_mac, TERN_ETHERTYPE_ARP, buf, w);
}

/* An echo request to 10.0.0.<to>, sent by a poll at now (ARP resolves the address first). */
static void ping_to(tern_stack *st, tern_sock ping, uint64_t now, uint8_t to) {
    tern_addr dst = tern_addr_v4(10, 0, 0, to);
    CHECK(tern_ping_send(st, ping, &dst, to, NULL, 8, 0, false) == TERN_OK);
    tern_stack_poll(st, now);
}

/*
 * poll_at's cached neighbour deadline (tern_poll_cache.nb_at, branch poll20) follows ARP's
 * retransmissions exactly, and a move that leaves the minimum where it is keeps the cache: two
 * addresses resolving (A's next request first, B's 10 ms later), B answered (its deadline leaves,
 * A's is still the minimum: kept, no scan), A's retransmission (its deadline moves on: the
 * cache follows it), A answered (the minimum leaves: dropped; recomputed, nothing resolving).
 * Every poll_at checks the kept value against ARP's own in test builds (TERN_POLL_CACHE_CHECK);
 * the exact values are checked here as well, for Release builds.
 */
static void test_arp_moves_the_neighbour_deadline(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    const tern_poll_cache *pc = st->poll_cache;
    const uint64_t retry = st->cfg.arp_retry_ns;
    tern_sock ping;
    CHECK(tern_ping_open(st, 1, &ping) == TERN_OK);
    uint64_t idle = tern_stack_poll_at(st);
    CHECK(pc->nb_valid);
    CHECK_EQ_U64(pc->nb_at, TERN_NEVER);    /* nothing resolving */
    CHECK(idle > now + 2 * retry + 5 * MS); /* the quiet deadline is not what is measured below */

    /* A (10.0.0.5): one request out, its next one in `retry`. */
    tern_counters c0, c1;
    tern_stack_get_counters(st, &c0);
    ping_to(st, ping, now, 5);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.arp_requests_sent, c0.arp_requests_sent + 1);
    CHECK_EQ_U64(tern_stack_poll_at(st), now + retry);
    CHECK(pc->nb_valid);
    /* B (10.0.0.6) 10 ms later: a later deadline, A's is still the earliest. */
    ping_to(st, ping, now + 10 * MS, 6);
    CHECK(pc->nb_valid);
    CHECK_EQ_U64(pc->nb_at, now + retry);
    CHECK_EQ_U64(tern_stack_poll_at(st), now + retry);

    /* B answered: its deadline leaves, which was not the minimum: the cache is kept. */
    arp_reply(st, now + 20 * MS, 6);
    CHECK(pc->nb_valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), now + retry);

    /* A's retransmission at its deadline: the request goes out and the cache moves with it. */
    tern_stack_get_counters(st, &c0);
    tern_stack_poll(st, now + retry);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.arp_requests_sent, c0.arp_requests_sent + 1);
    CHECK_EQ_U64(tern_stack_poll_at(st), now + 2 * retry);

    /* Positive control: A answered, the minimum leaves: the cache is dropped, and poll_at is
     * back at the idle host's deadline. */
    arp_reply(st, now + retry + MS, 5);
    CHECK(!pc->nb_valid);
    CHECK_EQ_U64(tern_stack_poll_at(st), idle);
    CHECK(pc->nb_valid);
    CHECK_EQ_U64(pc->nb_at, TERN_NEVER);
    free(mem);
}

/*
 * The same for ND (RFC 4861 section 7.2.2): a UDP datagram to a link-local neighbour that never
 * answers leaves an INCOMPLETE entry whose retransmission timer poll_at returns through the
 * cache, moved at each solicitation, until the entry is given up and nothing is left.
 */
static void test_nd_moves_the_neighbour_deadline(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    const tern_poll_cache *pc = st->poll_cache;
    tern_sock udp;
    CHECK(tern_udp_open(st, &udp) == TERN_OK);
    tern_stack_poll_at(st);
    CHECK(pc->nb_valid);
    CHECK_EQ_U64(pc->nb_at, TERN_NEVER);
    tern_addr dst;
    CHECK(tern_addr_parse("fe80::5", &dst) == TERN_OK);
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(tern_udp_sendto(st, udp, &dst, 7, data, sizeof data) == TERN_OK);
    tern_stack_poll(st, now);
    uint64_t at = tern_stack_poll_at(st);
    CHECK(pc->nb_valid);
    CHECK(pc->nb_at > now && pc->nb_at != TERN_NEVER);
    CHECK(at <= pc->nb_at);
    /* The entry's deadline at each RetransTimer, moved on by the poll at it, until it goes. */
    uint64_t step = pc->nb_at - now;
    int polls = 0;
    while (pc->nb_at != TERN_NEVER && polls < 10) {
        uint64_t due = pc->nb_at;
        tern_stack_poll(st, due);
        tern_stack_poll_at(st);
        CHECK(pc->nb_valid);
        CHECK(pc->nb_at == TERN_NEVER || pc->nb_at == due + step);
        polls++;
    }
    CHECK_EQ_U64(pc->nb_at, TERN_NEVER);
    /* MAX_MULTICAST_SOLICIT (3) solicitations: two retransmission deadlines, then the entry is
     * given up at the third. */
    CHECK_EQ_U64(polls, TERN_ND_MAX_MULTICAST_SOLICIT);
    free(mem);
}

/*
 * An ND entry evicted for a new one (take_entry, the table full) takes its deadline out of the
 * cache. A one-entry table: fe80::5 learnt and confirmed reachable (its deadline ReachableTime
 * on), then, half a second before that deadline, a datagram to fe80::6 evicts it; the new
 * INCOMPLETE entry's retransmission (a RetransTimer on) is later, so a cache that kept the evicted
 * deadline would answer it (and trap in test builds).
 */
static void test_nd_eviction_moves_the_neighbour_deadline(void) {
    void *mem;
    tern_stack *st = host_nd(&mem, 1);
    if (!st) {
        return;
    }
    const tern_poll_cache *pc = st->poll_cache;
    uint64_t now = settle(st) + MS;
    tern_addr a, b;
    CHECK(tern_addr_parse("fe80::5", &a) == TERN_OK);
    CHECK(tern_addr_parse("fe80::6", &b) == TERN_OK);
    tern_nd_update_neighbor(st, now, 0, &a, peer_mac, false); /* STALE: no deadline */
    tern_stack_poll_at(st);
    CHECK_EQ_U64(pc->nb_at, TERN_NEVER);
    tern_nd_confirm_reachable(st, now, &a); /* REACHABLE until now + ReachableTime */
    tern_stack_poll_at(st);
    CHECK(pc->nb_valid);
    uint64_t reach = pc->nb_at;
    CHECK(reach > now + 1000 * MS && reach != TERN_NEVER);

    tern_sock udp;
    CHECK(tern_udp_open(st, &udp) == TERN_OK);
    tern_stack_poll(st, reach - 500 * MS);
    tern_stack_poll_at(st);
    CHECK_EQ_U64(pc->nb_at, reach); /* the control: still fe80::5's */
    tern_counters c0, c1;
    tern_stack_get_counters(st, &c0);
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(tern_udp_sendto(st, udp, &b, 7, data, sizeof data) == TERN_OK);
    tern_stack_poll(st, reach - 500 * MS);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.nd_table_full, c0.nd_table_full); /* fe80::5 was evicted, not refused */
    tern_stack_poll_at(st);
    CHECK(pc->nb_valid);
    CHECK(pc->nb_at > reach && pc->nb_at != TERN_NEVER); /* fe80::6's retransmission */
    free(mem);
}

/* An IPv4 fragment from the peer to us: 8 bytes of an ICMP datagram `id` at byte `off`. */
static void frag4_in(tern_stack *st, uint64_t now, uint16_t id, uint16_t off, bool mf) {
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.ttl = 64;
    ip.protocol = TERN_IPPROTO_ICMP;
    ip.id = id;
    ip.mf = mf;
    ip.frag_offset = off;
    ip.src = tern_addr_v4(10, 0, 0, 2);
    ip.dst = tern_addr_v4(10, 0, 0, 1);
    ip.payload = data;
    ip.payload_len = sizeof data;
    uint8_t dgram[64];
    size_t w = 0;
    CHECK(tern_ipv4_emit(&ip, dgram, sizeof dgram, &w) == TERN_OK);
    input(st, now, our_mac, TERN_ETHERTYPE_IPV4, dgram, w);
}

/* An IPv6 fragment from fe80::2 to all-nodes (ff02::1, which every host receives): 8 bytes of
 * datagram `ident` at byte `off`. */
static void frag6_in(tern_stack *st, uint64_t now, uint32_t ident, uint16_t off, bool more) {
    uint8_t d[56] = {0x60, 0, 0, 0, 0, 16, 44, 64};
    d[8] = 0xfe;
    d[9] = 0x80;
    d[23] = 2;
    d[24] = 0xff;
    d[25] = 0x02;
    d[39] = 1;
    d[40] = 58; /* the fragment header: next header ICMPv6 */
    uint16_t om = (uint16_t)(off | (more ? 1 : 0));
    d[42] = (uint8_t)(om >> 8);
    d[43] = (uint8_t)om;
    d[44] = (uint8_t)(ident >> 24);
    d[45] = (uint8_t)(ident >> 16);
    d[46] = (uint8_t)(ident >> 8);
    d[47] = (uint8_t)ident;
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    input(st, now, all_nodes_mac, TERN_ETHERTYPE_IPV6, d, sizeof d);
}

#define REASM_IS(st, v4, v6)                                                                       \
    do {                                                                                           \
        CHECK_EQ_U64((st)->reasm_used, (v4));                                                      \
        CHECK_EQ_U64(tern_reasm_used_scan(st), (v4));                                              \
        CHECK_EQ_U64((st)->reasm6_used, (v6));                                                     \
        CHECK_EQ_U64(tern_reasm6_used_scan(st), (v6));                                             \
    } while (0)

/*
 * The counts of reassembly slots in use (st->reasm_used, st->reasm6_used), which let every poll
 * and poll_at skip the slots while none is in use (issue 19), follow each claim and release:
 * a first fragment claims, its datagram completed releases, a fragment beyond the slots claims
 * nothing, the slots' timeouts release them (IPv4 30 s, IPv6 60 s after their first fragment),
 * and an IPv6 datagram given two different ends is dropped with its slot. The timeouts are
 * positive controls of the skip: with the counts right, the polls at the deadlines do the work
 * (timeout counters, ICMP Time Exceeded for a slot holding its first fragment).
 */
static void test_reassembly_counts(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    REASM_IS(st, 0, 0);
    tern_counters c0, c1;
    tern_stack_get_counters(st, &c0);
    /* IPv4: datagram 1 in two fragments: claimed, then completed and released. */
    frag4_in(st, now, 1, 8, false);
    REASM_IS(st, 1, 0);
    frag4_in(st, now, 1, 0, true);
    REASM_IS(st, 0, 0);
    /* Four slots (the default reasm_slots): four datagrams claim them all, a fifth nothing. */
    frag4_in(st, now, 2, 0, true); /* holds its first fragment: an ICMP error at its timeout */
    for (uint16_t id = 3; id <= 5; id++) {
        frag4_in(st, now, id, 8, true);
    }
    REASM_IS(st, 4, 0);
    frag4_in(st, now, 6, 8, true);
    REASM_IS(st, 4, 0);
    /* IPv6: the same, in its own slots. */
    frag6_in(st, now, 1, 8, false);
    REASM_IS(st, 4, 1);
    frag6_in(st, now, 1, 0, true);
    REASM_IS(st, 4, 0);
    frag6_in(st, now, 2, 8, true);
    frag6_in(st, now, 3, 0, true);
    REASM_IS(st, 4, 2);
    frag6_in(st, now, 4, 8, false); /* the last fragment: the datagram ends at byte 16 */
    REASM_IS(st, 4, 3);
    frag6_in(st, now, 4, 16, false); /* another end: dropped, its slot released */
    REASM_IS(st, 4, 2);
    /* The deadlines: one nanosecond early nothing times out, at them every slot does. */
    uint64_t sent = frames_out;
    tern_stack_poll(st, now + 30 * 1000 * MS - 1);
    REASM_IS(st, 4, 2);
    CHECK_EQ_U64(tern_stack_poll_at(st), now + 30 * 1000 * MS);
    tern_stack_poll(st, now + 30 * 1000 * MS);
    REASM_IS(st, 0, 2);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.ip_reasm_timeout, c0.ip_reasm_timeout + 4);
    CHECK_EQ_U64(c1.icmp_errors_sent, c0.icmp_errors_sent + 1); /* datagram 2's (RFC 792) */
    CHECK(frames_out > sent);
    tern_stack_poll(st, now + 60 * 1000 * MS - 1);
    REASM_IS(st, 0, 2);
    tern_stack_poll(st, now + 60 * 1000 * MS);
    REASM_IS(st, 0, 0);
    tern_stack_get_counters(st, &c1);
    CHECK_EQ_U64(c1.ip6_reasm_timeout, c0.ip6_reasm_timeout + 2);
    free(mem);
}

#define IGMP_GROUPS_ARE(st, n)                                                                     \
    do {                                                                                           \
        CHECK_EQ_U64(tern_igmp_groups_used(st), (n));                                              \
        CHECK_EQ_U64(tern_igmp_groups_used_scan(st), (n));                                         \
    } while (0)

/* Poll at every deadline up to `until`; returns the IGMP reports sent. */
static uint64_t poll_until(tern_stack *st, uint64_t now, uint64_t until) {
    tern_igmp_counters c;
    tern_igmp_get_counters(st, &c);
    uint64_t sent = c.reports_out;
    for (int i = 0; i < 100; i++) {
        uint64_t next = tern_stack_poll_at(st);
        if (next > until) {
            break;
        }
        now = next > now ? next : now;
        tern_stack_poll(st, now);
    }
    tern_igmp_get_counters(st, &c);
    return c.reports_out - sent;
}

/*
 * IGMP's count of groups in use (which lets poll and poll_at skip the 16-entry table while it is
 * empty, issue 19) follows every claim and release: a group's first join claims, a second socket
 * or a second join of it claims nothing, the all-systems group (not reported) is released at its
 * last leave, a reported group stays until its State-Change Reports are sent (RFC 3376 section
 * 5.1: Robustness Variable times) and goes with the last, and a socket's close leaves its groups.
 * The reports sent are the positive control of the skip: with groups in use, polls run the table.
 */
static void test_igmp_group_count(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    IGMP_GROUPS_ARE(st, 0);
    tern_sock a, b;
    CHECK(tern_udp_open(st, &a) == TERN_OK);
    CHECK(tern_udp_open(st, &b) == TERN_OK);
    tern_addr g1 = tern_addr_v4(239, 1, 1, 1), g2 = tern_addr_v4(239, 1, 1, 2);
    tern_addr all = tern_addr_v4(224, 0, 0, 1);
    CHECK(tern_udp_join(st, a, &g1, 0) == TERN_OK);
    IGMP_GROUPS_ARE(st, 1);
    CHECK(tern_udp_join(st, b, &g1, 0) == TERN_OK); /* a second member: the same entry */
    CHECK(tern_udp_join(st, a, &g2, 0) == TERN_OK);
    CHECK(tern_udp_join(st, a, &all, 0) == TERN_OK);
    IGMP_GROUPS_ARE(st, 3);
    /* The joins' reports (RFC 3376 section 5.1: the first at once, with both groups, then a
     * retransmission of each at its random time). */
    CHECK(poll_until(st, now, now + 5000 * MS) >= 2);
    IGMP_GROUPS_ARE(st, 3);
    CHECK(tern_udp_leave(st, a, &all, 0) == TERN_OK); /* not reported: released at once */
    IGMP_GROUPS_ARE(st, 2);
    CHECK(tern_udp_leave(st, a, &g1, 0) == TERN_OK); /* b is still a member */
    IGMP_GROUPS_ARE(st, 2);
    CHECK(tern_udp_close(st, a) == TERN_OK); /* leaves g2: its reports pending */
    IGMP_GROUPS_ARE(st, 2);
    now += 10000 * MS;
    CHECK_EQ_U64(poll_until(st, now, now + 5000 * MS), 2);
    IGMP_GROUPS_ARE(st, 1); /* g2 went with its last report */
    CHECK(tern_udp_leave(st, b, &g1, 0) == TERN_OK);
    IGMP_GROUPS_ARE(st, 1);
    now += 10000 * MS;
    CHECK_EQ_U64(poll_until(st, now, now + 5000 * MS), 2);
    IGMP_GROUPS_ARE(st, 0);
    CHECK_EQ_U64(poll_until(st, now, now + 5000 * MS), 0);
    free(mem);
}

/* What a host sent: how many frames, and a hash of their times, interfaces and bytes. */
struct sent_log {
    uint64_t now; /* the time of the call in progress */
    uint64_t frames;
    uint64_t hash;
};

static void log_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    struct sent_log *l = ctx;
    uint64_t h = l->hash ^ l->now ^ ((uint64_t)iface << 56);
    for (size_t i = 0; i < len; i++) {
        h = (h ^ frame[i]) * 0x100000001b3ull; /* FNV-1a */
    }
    l->hash = h;
    l->frames++;
}

/* A host with an IPv4 address, and IPv6 autoconfiguration if `v6`, that logs what it sends. */
static tern_stack *logging_host(void **mem, bool v6, struct sent_log *log) {
    tern_stack_config c;
    test_host_cfg_v4(&c, 1, 0, 1); /* our_mac, 10.0.0.1/24 */
    c.ipv6_autoconf = v6;
    c.output = log_output;
    c.output_ctx = log;
    size_t size = tern_stack_memory_size(&c);
    *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    tern_stack *st = NULL;
    char msg[128];
    CHECK(tern_stack_init(*mem, size, &c, &st, msg, sizeof msg) == TERN_OK);
    return st;
}

/* Poll from 0 (the simulator's first wake-up) at every deadline poll_at names, up to `until`;
 * returns the polls made. */
static int run_polls(tern_stack *st, struct sent_log *log, uint64_t until) {
    uint64_t now = 0;
    int polls = 0;
    for (; polls < 1000 && now <= until; polls++) {
        log->now = now;
        tern_stack_poll(st, now);
        uint64_t next = tern_stack_poll_at(st);
        now = next > now ? next : now + 1;
    }
    return polls;
}

/*
 * The cache is filled by tern_stack_init (issue 19: computed while the new instance's lines are
 * in the cache, so that a host's first poll can be quiet instead of reading every quiet module's
 * state cold), with what poll_at would compute then: the first poll of a host with nothing due
 * is quiet and keeps it. Nothing else changes: beside each host, its twin whose cache is dropped
 * before the first poll (the first poll then runs every module, as before) sends the same frames
 * at the same times through its start-up (IPv6: DAD, MLD reports, Router Solicitations at their
 * random delays; 5 s), with the same polls. Positive control: the twins did send.
 */
static void test_cache_filled_at_init(void) {
    for (int v6 = 0; v6 < 2; v6++) {
        void *mem[2];
        struct sent_log log[2] = {{0}, {0}};
        tern_stack *st[2];
        int polls[2];
        for (int twin = 0; twin < 2; twin++) {
            st[twin] = logging_host(&mem[twin], v6, &log[twin]);
            if (!st[twin]) {
                return;
            }
            tern_poll_cache *pc = st[twin]->poll_cache;
            CHECK(pc->valid);
            uint64_t at = pc->at, skipped = pc->skipped;
            CHECK(at > 0); /* nothing due at once: the first poll can be quiet */
            tern_poll_cache_drop(st[twin]);
            tern_stack_poll_at(st[twin]); /* recomputed: the same */
            CHECK_EQ_U64(pc->at, at);
            CHECK_EQ_U64(pc->skipped, skipped);
            if (twin == 1) {
                tern_poll_cache_drop(st[twin]);
            }
            log[twin].now = 0;
            tern_stack_poll(st[twin], 0);
            CHECK_EQ_U64(pc->valid, twin == 0); /* quiet: kept; dropped: not */
            CHECK_EQ_U64(log[twin].frames, 0);
            polls[twin] = run_polls(st[twin], &log[twin], 5000 * MS);
        }
        CHECK_EQ_U64(log[0].frames, log[1].frames);
        CHECK_EQ_U64(log[0].hash, log[1].hash);
        CHECK_EQ_U64(polls[0], polls[1]);
        CHECK(log[0].frames > 0 || !v6); /* IPv6's start-up went out */
        free(mem[0]);
        free(mem[1]);
    }
}

/*
 * Opening a ping socket and queueing an echo request keep the cache (they touch no quiet
 * module; the request leaves in a poll, which poll_at asks for at once), so that a host set up
 * with them still has its first poll quiet (bench_scale's hosts: issue 19). The request goes out
 * at that poll. Positive control: opening a UDP socket drops it.
 */
static void test_ping_calls_keep_the_cache(void) {
    void *mem;
    struct sent_log log = {0};
    tern_stack *st = logging_host(&mem, false, &log);
    if (!st) {
        return;
    }
    tern_poll_cache *pc = st->poll_cache;
    CHECK(pc->valid);
    uint64_t at = pc->at;
    tern_sock ping, udp;
    CHECK(tern_ping_open(st, 1, &ping) == TERN_OK);
    CHECK(pc->valid);
    tern_addr peer = tern_addr_v4(10, 0, 0, 2);
    CHECK(tern_ping_send(st, ping, &peer, 1, NULL, 56, 0, false) == TERN_OK);
    CHECK(pc->valid);
    CHECK_EQ_U64(pc->at, at);
    CHECK_EQ_U64(tern_stack_poll_at(st), 0); /* the request: a poll now */
    tern_stack_poll(st, 0);
    CHECK_EQ_U64(log.frames, 1); /* ARP for the peer, the request waiting for it */
    CHECK(pc->valid);
    CHECK(tern_udp_open(st, &udp) == TERN_OK);
    CHECK(!pc->valid);
    free(mem);
}

/*
 * The quiet-poll flags (tern_poll_cache.active): a host that never took an ND entry nor started a
 * DHCPv6 client has neither flag, and its polls read neither module. The first ND entry sets
 * ND's (its solicitations are retransmitted: test_nd_moves_the_neighbour_deadline); starting the
 * DHCPv6 client sets its flag and the client's Solicits go out at its timers, within the first
 * second (RFC 8415 section 18.2.1's SOL_MAX_DELAY) and again a second or so later; stopping it
 * (no lease: nothing to release) lets the next poll clear the flag, and no Solicit follows.
 */
static void test_active_flags(void) {
    void *mem;
    uint64_t now;
    tern_stack *st = settled_host(&mem, &now);
    if (!st) {
        return;
    }
    const tern_poll_cache *pc = st->poll_cache;
    CHECK_EQ_U64(pc->active, 0);
    CHECK_EQ_U64(st->ip6->nd_hi, 0);
    /* ND: a datagram to an unknown neighbour takes an entry */
    tern_sock udp;
    CHECK(tern_udp_open(st, &udp) == TERN_OK);
    tern_addr dst;
    CHECK(tern_addr_parse("fe80::5", &dst) == TERN_OK);
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(tern_udp_sendto(st, udp, &dst, 7, data, sizeof data) == TERN_OK);
    tern_stack_poll(st, now);
    CHECK_EQ_U64(st->ip6->nd_hi, 1);
    CHECK_EQ_U64(pc->active, TERN_ACTIVE_ND);
    /* DHCPv6: started, two Solicits in the first 2.5 s, driven by poll_at and poll alone */
    solicits_out = 0;
    CHECK(tern_dhcpv6_start(st, 0, now, NULL) == TERN_OK);
    CHECK_EQ_U64(pc->active, TERN_ACTIVE_ND | TERN_ACTIVE_DHCP6);
    uint64_t end = now + 2500 * MS;
    for (int i = 0; i < 100 && now < end; i++) {
        uint64_t at = tern_stack_poll_at(st);
        now = at > end ? end : (at > now ? at : now);
        tern_stack_poll(st, now);
    }
    CHECK_EQ_U64(solicits_out, 2);
    CHECK(pc->active & TERN_ACTIVE_DHCP6);
    /* stopped: the next poll clears the flag; nothing more is sent (the positive control above) */
    CHECK(tern_dhcpv6_stop(st, 0, now) == TERN_OK);
    tern_stack_poll(st, now);
    CHECK_EQ_U64(pc->active & TERN_ACTIVE_DHCP6, 0);
    for (int i = 0; i < 100 && now < end + 5000 * MS; i++) {
        uint64_t at = tern_stack_poll_at(st);
        if (at == TERN_NEVER) {
            break;
        }
        now = at > now ? at : now;
        tern_stack_poll(st, now);
    }
    CHECK_EQ_U64(solicits_out, 2);
    free(mem);
}

int main(void) {
    RUN(test_quiet_poll_keeps_the_cache);
    RUN(test_inputs_that_keep_the_cache);
    RUN(test_arp_moves_the_neighbour_deadline);
    RUN(test_nd_moves_the_neighbour_deadline);
    RUN(test_nd_eviction_moves_the_neighbour_deadline);
    RUN(test_reassembly_counts);
    RUN(test_igmp_group_count);
    RUN(test_cache_filled_at_init);
    RUN(test_ping_calls_keep_the_cache);
    RUN(test_active_flags);
    return check_summary();
}
