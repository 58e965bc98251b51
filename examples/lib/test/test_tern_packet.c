/*
 * Packet sockets (AF_PACKET, SOCK_RAW) of the sockets layer over the stack's
 * (tern/packet.h), in virtual time: two Tern hosts A (10.0.0.1) and B
 * (10.0.0.2) on a link of 1 ms each way.
 *
 *  1. A's packet socket sees every frame in and out: B sends a UDP datagram
 *     to a closed port of A; A's socket gets B's ARP request (in, broadcast,
 *     at 1 ms), A's ARP reply (out, 1 ms), the datagram (in, to A's MAC,
 *     3 ms) and A's ICMP port unreachable (out, 3 ms), each byte for byte as
 *     B's own packet socket saw it leave or arrive.
 *  2. A sends raw frames: one of EtherType 0x88b5 (IEEE 802 local
 *     experimental), which B's stack drops as unknown (counted) and B's
 *     packet socket filtered on 0x88b5 receives byte for byte 1 ms later; and
 *     a hand-made ICMP echo request, which B's stack answers: the reply comes
 *     back into A's packet socket. A second socket of A sees A's raw frames
 *     go out (PACKET_OUTGOING), the sending socket does not.
 *  3. The bounded queue: a socket nobody reads keeps packet_queue frames and
 *     counts the rest as dropped (PACKET_STATISTICS, reset when read).
 *  4. Errors as Linux gives them.
 * Exit 0 on success, 1 with the first difference.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>

#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern_socket.h"

static int fails;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0x0b};

static sim_node_id add_host(sim *s, const char *name, const uint8_t mac[6], uint8_t last,
                            uint32_t packet_sockets, uint32_t queue) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, last);
    cfg.niface = 1;
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 1;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    cfg.iface[0].prefix_len[0] = 24;
    cfg.packet_sockets = packet_sockets;
    cfg.packet_queue = queue;
    sim_node_id id;
    if (sim_host_add(s, name, &cfg, &id) != TERN_OK) {
        fprintf(stderr, "host %s: %s\n", name, sim_last_error(s));
        return (sim_node_id)-1;
    }
    return id;
}

static uint16_t csum(const uint8_t *p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        sum += (uint32_t)(p[n - 1] << 8);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* An Ethernet + IPv4 + ICMP echo request from A to B, 42 + 8 bytes of data. */
static size_t echo_request(uint8_t *f) {
    memset(f, 0, 64);
    memcpy(f, MAC_B, 6);
    memcpy(f + 6, MAC_A, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[3] = 20 + 16; /* total length */
    ip[4] = 0x12;    /* identification 0x1234 */
    ip[5] = 0x34;
    ip[8] = 64; /* TTL */
    ip[9] = 1;  /* ICMP */
    uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *icmp = ip + 20;
    icmp[0] = 8; /* echo request */
    icmp[4] = 0xbe;
    icmp[5] = 0xef; /* identifier */
    icmp[7] = 1;    /* sequence 1 */
    memcpy(icmp + 8, "tern-raw", 8);
    c = csum(icmp, 16);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    return 14 + 36;
}

typedef struct got {
    ssize_t n;
    uint8_t frame[2048];
    struct sockaddr_ll from;
    uint64_t time;
} got;

static void take(tern_sockets *ts, int fd, got *g) {
    socklen_t fl = sizeof g->from;
    memset(&g->from, 0, sizeof g->from);
    g->n = tern_recvfrom(ts, fd, g->frame, sizeof g->frame, 0, (struct sockaddr *)&g->from, &fl);
    g->time = sim_now(ts->s);
}

static uint16_t type_of(const got *g) {
    return (uint16_t)(g->frame[12] << 8 | g->frame[13]);
}

int main(void) {
    sim *s;
    if (sim_create(1, &s) != TERN_OK) {
        return 1;
    }
    sim_node_id a = add_host(s, "A", MAC_A, 1, 3, 4), b = add_host(s, "B", MAC_B, 2, 2, 16);
    sim_link_id link;
    if (a == (sim_node_id)-1 || b == (sim_node_id)-1 || sim_link_add(s, a, 0, b, 0, &link) ||
        sim_link_set_delay(s, link, SIM_DIR_BOTH, 1000000, 0, false)) {
        return 1;
    }
    static tern_sockets ta, tb;
    if (tern_sockets_init_sim(&ta, s, a) != 0 || tern_sockets_init_sim(&tb, s, b) != 0) {
        return 1;
    }
    struct timeval tv = {0, 500000};

    /* ---- 1. every frame in and out of A ---- */
    int pa = tern_socket(&ta, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int pb = tern_socket(&tb, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(pa >= 0 && pb >= 0, "packet sockets: %s", strerror(errno));
    struct sockaddr_ll bind_ll = {.sll_family = AF_PACKET, .sll_ifindex = 1};
    CHECK(tern_bind(&ta, pa, (struct sockaddr *)&bind_ll, sizeof bind_ll) == 0, "bind: %s",
          strerror(errno));
    tern_setsockopt(&ta, pa, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int u = tern_socket(&tb, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "10.0.0.1", &to.sin_addr);
    CHECK(tern_sendto(&tb, u, "hello", 5, 0, (struct sockaddr *)&to, sizeof to) == 5, "sendto");
    got g[4], gb[4];
    for (int i = 0; i < 4; i++) {
        take(&ta, pa, &g[i]);
    }
    /* ARP request in (broadcast, from B) and ARP reply out, at 1 ms; UDP in, ICMP out, at 3 ms. */
    static const struct {
        uint16_t type;
        uint8_t pkttype;
        uint64_t time;
    } want[4] = {{ETH_P_ARP, PACKET_BROADCAST, 1000000},
                 {ETH_P_ARP, PACKET_OUTGOING, 1000000},
                 {ETH_P_IP, PACKET_HOST, 3000000},
                 {ETH_P_IP, PACKET_OUTGOING, 3000000}};
    for (int i = 0; i < 4; i++) {
        CHECK(g[i].n == 60 || (i == 3 && g[i].n == 14 + 20 + 8 + 20 + 8 + 5), "frame %d: %zd bytes",
              i, g[i].n);
        CHECK(type_of(&g[i]) == want[i].type, "frame %d: EtherType 0x%04x", i, type_of(&g[i]));
        CHECK(g[i].from.sll_pkttype == want[i].pkttype, "frame %d: pkttype %u", i,
              g[i].from.sll_pkttype);
        CHECK(g[i].time == want[i].time, "frame %d: at %llu ns", i, (unsigned long long)g[i].time);
        CHECK(g[i].from.sll_ifindex == 1 && g[i].from.sll_protocol == htons(want[i].type) &&
                  g[i].from.sll_halen == 6 && g[i].from.sll_hatype == ARPHRD_ETHER,
              "frame %d: sockaddr_ll", i);
        CHECK(memcmp(g[i].from.sll_addr, i % 2 ? MAC_A : MAC_B, 6) == 0, "frame %d: source MAC", i);
    }
    CHECK(g[3].frame[14 + 9] == 1 && g[3].frame[14 + 20] == 3 && g[3].frame[14 + 21] == 3,
          "A's answer is an ICMP port unreachable");
    /* The same four frames, seen from B: out, in, out, in, byte for byte. */
    tern_setsockopt(&tb, pb, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 4; i++) {
        take(&tb, pb, &gb[i]);
        CHECK(gb[i].n == g[i].n && memcmp(gb[i].frame, g[i].frame, (size_t)g[i].n) == 0,
              "frame %d differs between A and B", i);
        CHECK((gb[i].from.sll_pkttype == PACKET_OUTGOING) == (i % 2 == 0),
              "frame %d: B's direction", i);
    }
    tern_close(&tb, u);

    /* ---- 2. raw frames out of A ---- */
    int pa2 = tern_socket(&ta, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(tern_bind(&ta, pa2, (struct sockaddr *)&bind_ll, sizeof bind_ll) == 0, "bind 2");
    tern_setsockopt(&ta, pa2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_ll only = {.sll_family = AF_PACKET, .sll_protocol = htons(0x88b5)};
    CHECK(tern_bind(&tb, pb, (struct sockaddr *)&only, sizeof only) == 0, "B's filter");
    tern_setsockopt(&tb, pb, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    tern_counters before, after;
    tern_stack_get_counters(tb.st, &before);
    uint8_t exp[100];
    memcpy(exp, MAC_B, 6);
    memcpy(exp + 6, MAC_A, 6);
    exp[12] = 0x88;
    exp[13] = 0xb5;
    for (int i = 14; i < 100; i++) {
        exp[i] = (uint8_t)i;
    }
    uint64_t t0 = sim_now(s);
    CHECK(tern_send(&ta, pa, exp, sizeof exp, 0) == (ssize_t)sizeof exp, "raw send: %s",
          strerror(errno));
    got r;
    take(&tb, pb, &r);
    CHECK(r.n == (ssize_t)sizeof exp && memcmp(r.frame, exp, sizeof exp) == 0,
          "B got %zd bytes of the raw frame", r.n);
    CHECK(r.time == t0 + 1000000 && r.from.sll_pkttype == PACKET_HOST, "B got it at %llu ns",
          (unsigned long long)(r.time - t0));
    tern_stack_get_counters(tb.st, &after);
    CHECK(after.eth_unknown_type == before.eth_unknown_type + 1,
          "B's stack did not count the unknown EtherType");
    got out2;
    take(&ta, pa2, &out2);
    CHECK(out2.n == (ssize_t)sizeof exp && memcmp(out2.frame, exp, sizeof exp) == 0 &&
              out2.from.sll_pkttype == PACKET_OUTGOING,
          "A's other socket sees the raw frame go out");
    /* A hand-made echo request: B's stack answers it. */
    uint8_t req[64];
    size_t rl = echo_request(req);
    t0 = sim_now(s);
    CHECK(tern_send(&ta, pa, req, rl, 0) == (ssize_t)rl, "echo request");
    take(&ta, pa, &r); /* the sender's own socket does not see its frame: next is the reply */
    CHECK(r.n == 60 && type_of(&r) == ETH_P_IP && r.frame[14 + 20] == 0 /* echo reply */ &&
              memcmp(r.frame + 14 + 28, "tern-raw", 8) == 0 && r.from.sll_pkttype == PACKET_HOST,
          "the echo reply (%zd bytes, type %u)", r.n, r.frame[14 + 20]);
    CHECK(r.time == t0 + 2000000, "reply after %llu ns, expected 2 ms",
          (unsigned long long)(r.time - t0));

    /* ---- 3. the bounded queue of pa2 (packet_queue 4) ---- */
    struct tpacket_stats st;
    socklen_t sl = sizeof st;
    /* pa2 has had the raw frame (read above) and holds the echo request (out) and its reply
     * (in); two UDP datagrams from B (ARP is resolved) make 2 in + 2 ICMP errors out: the first
     * two fill the queue, the last two are dropped. 7 copies in all, as Linux's tp_packets
     * counts them (the dropped ones included). */
    u = tern_socket(&tb, AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < 2; i++) {
        tern_sendto(&tb, u, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
    }
    tern_close(&tb, u);
    tern_poll(&ta, NULL, 0, 10);
    CHECK(tern_getsockopt(&ta, pa2, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0, "stats");
    CHECK(st.tp_packets == 7 && st.tp_drops == 2, "PACKET_STATISTICS %u packets, %u drops",
          st.tp_packets, st.tp_drops);
    CHECK(tern_getsockopt(&ta, pa2, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0 &&
              st.tp_packets == 0 && st.tp_drops == 0,
          "PACKET_STATISTICS is reset when read");
    int queued = 0;
    while (tern_recv(&ta, pa2, r.frame, sizeof r.frame, MSG_DONTWAIT) > 0) {
        queued++;
    }
    CHECK(queued == 4, "%d frames queued, expected the 4 of packet_queue", queued);

    /* ---- 4. errors ---- */
    int unbound = tern_socket(&ta, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    CHECK(tern_send(&ta, unbound, exp, sizeof exp, 0) == -1 && errno == ENXIO,
          "send with no interface: ENXIO");
    uint8_t big[1515];
    memcpy(big, exp, 14);
    CHECK(tern_send(&ta, pa, big, sizeof big, 0) == -1 && errno == EMSGSIZE,
          "1515 bytes: EMSGSIZE");
    CHECK(tern_send(&ta, pa, exp, 10, 0) == -1 && errno == EINVAL, "10 bytes: EINVAL");
    CHECK(tern_socket(&ta, AF_PACKET, SOCK_DGRAM, 0) == -1 && errno == ESOCKTNOSUPPORT,
          "SOCK_DGRAM packet sockets: ESOCKTNOSUPPORT");
    CHECK(tern_socket(&ta, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) == -1 && errno == ENOBUFS,
          "a 4th packet socket of 3: ENOBUFS");
    CHECK(tern_listen(&ta, pa, 1) == -1 && errno == EOPNOTSUPP, "listen: EOPNOTSUPP");
    struct sockaddr_ll bad = {.sll_family = AF_PACKET, .sll_ifindex = 7};
    CHECK(tern_bind(&ta, unbound, (struct sockaddr *)&bad, sizeof bad) == -1 && errno == ENODEV,
          "bind to interface 7: ENODEV");
    /* Protocol 0: nothing received until bound with a protocol (packet(7)). */
    tern_close(&ta, unbound);
    int zero = tern_socket(&ta, AF_PACKET, SOCK_RAW, 0);
    tern_setsockopt(&ta, zero, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(tern_send(&ta, pa, exp, sizeof exp, 0) == (ssize_t)sizeof exp, "send");
    CHECK(tern_recv(&ta, zero, r.frame, sizeof r.frame, 0) == -1 && errno == EAGAIN,
          "protocol 0 receives nothing");
    CHECK(tern_recv(&ta, pa2, r.frame, sizeof r.frame, 0) == (ssize_t)sizeof exp,
          "the positive control: pa2 saw that frame go out");
    sim_destroy(s);
    if (fails == 0) {
        printf("packet sockets: frames both ways as expected\n");
    }
    return fails ? 1 : 0;
}
