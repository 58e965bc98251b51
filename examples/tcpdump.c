/*
 * tern-tcpdump: a tiny tcpdump (smoltcp's tcpdump example). It reads every
 * frame of a host interface (any: a veth, a TAP, ...) from a raw AF_PACKET
 * socket and prints one line per frame, decoded with Tern's own wire parsers
 * (stack/wire/). Needs CAP_NET_RAW.
 *   tern-tcpdump [--count N] IFNAME
 *   tern-tcpdump --sim-pings N       (no IFNAME: inside a simulation, see run_sim)
 *
 * Line format (stable; scenarios/interop/test_interop_tcpdump.py checks it):
 *   DIR SRCMAC > DSTMAC PROTOCOL...
 * DIR is "in" or "out" (sent by this host). Then one of
 *   ARP request who-has A tell B | ARP reply A is-at MAC | ARP op N A B
 *   IPv4 A > B ICMP echo request id N seq N len N  (echo reply, or "type N code N len N")
 *   IPv4 A:P > B:P TCP [FLAGS] seq N ack N win N len N  (ack only with the ACK flag)
 *   IPv4 A:P > B:P UDP len N
 *   IPv4 A > B proto N len N  (other protocols; and fragments after the first: "frag OFF")
 *   ethertype 0xXXXX len N  (no Tern parser for it)
 * followed by " [bad cksum]" when a checksum is wrong (not for frames this
 * host sends with the checksum left to the device, PACKET_AUXDATA's
 * TP_STATUS_CSUMNOTREADY), or, for what a parser refuses, "<protocol>
 * malformed: <reason>". FLAGS: S SYN, F FIN, R RST, P PSH, U URG, E ECE,
 * W CWR, "." ACK, as tcpdump prints them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tern/addr.h"
#include "tern/errors.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern_socket.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmpv4.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

#define PROG "tern-tcpdump"

static void usage_error(const char *what, const char *arg) {
    fprintf(stderr, PROG ": %s%s%s\nTry '" PROG " --help' for the options.\n", what, arg ? " " : "",
            arg ? arg : "");
    exit(2);
}

static void help(void) {
    printf(
        "usage: " PROG " [options] IFNAME\n"
        "       " PROG " [--count N] --sim-pings N\n\n"
        "Print one line per frame of the host interface IFNAME (sent and received), decoded\n"
        "with Tern's wire parsers: ARP, IPv4, ICMP, TCP, UDP. Needs CAP_NET_RAW.\n\n"
        "options:\n"
        "  --count N               exit after N frames (1..1000000000; default: until\n"
        "                          SIGINT or SIGTERM)\n"
        "  --sim-pings N           no IFNAME: inside a simulation, host 10.0.0.2 pings host\n"
        "                          10.0.0.1 N times (1..1000), 1 s apart, over a 1 ms link; the\n"
        "                          frames of 10.0.0.1 come from its packet socket (the sockets\n"
        "                          layer's AF_PACKET), each line after its virtual time in s\n"
        "  -h, --help              this help, to standard output\n\n"
        "Line: DIR SRCMAC > DSTMAC then the decoded protocols, e.g.\n"
        "  in 02:00:00:00:00:02 > 02:00:00:00:00:01 IPv4 10.0.0.2 > 10.0.0.1 ICMP echo reply "
        "id 7 seq 1 len 64\n");
    exit(0);
}

static void ip4(char *out, size_t cap, const tern_addr *a) {
    snprintf(out, cap, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
}

static void mac(char *out, size_t cap, const uint8_t *m) {
    snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_arp(const struct tern_eth_repr *eth) {
    struct tern_arp_repr a;
    tern_err err = tern_arp_parse(eth->payload, eth->payload_len, &a);
    if (err != TERN_OK) {
        printf("ARP malformed: %s", tern_strerror(err));
        return;
    }
    char spa[16], tpa[16], sha[18];
    ip4(spa, sizeof spa, &a.spa);
    ip4(tpa, sizeof tpa, &a.tpa);
    mac(sha, sizeof sha, a.sha.b);
    if (a.op == 1) {
        printf("ARP request who-has %s tell %s", tpa, spa);
    } else if (a.op == 2) {
        printf("ARP reply %s is-at %s", spa, sha);
    } else {
        printf("ARP op %u %s %s", a.op, spa, tpa);
    }
}

static void print_tcp(const struct tern_ipv4_repr *ip, const char *src, const char *dst,
                      bool check) {
    struct tern_tcp_repr t;
    tern_err err = tern_tcp_parse(ip->payload, ip->payload_len, NULL, NULL, &t);
    if (err != TERN_OK) {
        printf("IPv4 %s > %s TCP malformed: %s", src, dst, tern_strerror(err));
        return;
    }
    char flags[10];
    size_t n = 0;
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {{TERN_TCP_SYN, 'S'}, {TERN_TCP_FIN, 'F'}, {TERN_TCP_RST, 'R'},
                 {TERN_TCP_PSH, 'P'}, {TERN_TCP_URG, 'U'}, {TERN_TCP_ECE, 'E'},
                 {TERN_TCP_CWR, 'W'}, {TERN_TCP_ACK, '.'}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (t.flags & names[i].bit) {
            flags[n++] = names[i].c;
        }
    }
    flags[n] = '\0';
    printf("IPv4 %s:%u > %s:%u TCP [%s] seq %u", src, t.src_port, dst, t.dst_port, flags, t.seq);
    if (t.flags & TERN_TCP_ACK) {
        printf(" ack %u", t.ack);
    }
    printf(" win %u len %zu", t.window, t.payload_len);
    struct tern_tcp_repr verified;
    if (check &&
        tern_tcp_parse(ip->payload, ip->payload_len, &ip->src, &ip->dst, &verified) != TERN_OK) {
        printf(" [bad cksum]");
    }
}

static void print_udp(const struct tern_ipv4_repr *ip, const char *src, const char *dst,
                      bool check) {
    struct tern_udp_repr u;
    tern_err err = tern_udp_parse(ip->payload, ip->payload_len, NULL, NULL, &u);
    if (err != TERN_OK) {
        printf("IPv4 %s > %s UDP malformed: %s", src, dst, tern_strerror(err));
        return;
    }
    printf("IPv4 %s:%u > %s:%u UDP len %zu", src, u.src_port, dst, u.dst_port, u.payload_len);
    struct tern_udp_repr verified;
    if (check &&
        tern_udp_parse(ip->payload, ip->payload_len, &ip->src, &ip->dst, &verified) != TERN_OK) {
        printf(" [bad cksum]");
    }
}

static void print_icmp(const struct tern_ipv4_repr *ip, const char *src, const char *dst) {
    struct tern_icmpv4_repr m;
    tern_err err = tern_icmpv4_parse(ip->payload, ip->payload_len, &m);
    printf("IPv4 %s > %s ICMP ", src, dst);
    if (err == TERN_ERR_BAD_CHECKSUM) {
        printf("len %zu [bad cksum]", ip->payload_len);
    } else if (err != TERN_OK) {
        printf("malformed: %s", tern_strerror(err));
    } else if (m.type == 8 || m.type == 0) {
        printf("echo %s id %u seq %u len %zu", m.type == 8 ? "request" : "reply", m.echo_id,
               m.echo_seq, m.payload_len);
    } else {
        printf("type %u code %u len %zu", m.type, m.code, m.payload_len);
    }
}

static void print_ipv4(const struct tern_eth_repr *eth, bool check) {
    struct tern_ipv4_repr ip;
    tern_err err = tern_ipv4_parse(eth->payload, eth->payload_len, &ip);
    if (err != TERN_OK) {
        printf("IPv4 malformed: %s", tern_strerror(err));
        return;
    }
    char src[16], dst[16];
    ip4(src, sizeof src, &ip.src);
    ip4(dst, sizeof dst, &ip.dst);
    if (ip.frag_offset != 0) { /* no transport header in this fragment */
        printf("IPv4 %s > %s proto %u len %zu frag %u", src, dst, ip.protocol, ip.payload_len,
               ip.frag_offset);
        return;
    }
    switch (ip.protocol) {
    case TERN_IPPROTO_ICMP:
        print_icmp(&ip, src, dst);
        break;
    case TERN_IPPROTO_TCP:
        print_tcp(&ip, src, dst, check && !ip.mf);
        break;
    case TERN_IPPROTO_UDP:
        print_udp(&ip, src, dst, check && !ip.mf);
        break;
    default:
        printf("IPv4 %s > %s proto %u len %zu", src, dst, ip.protocol, ip.payload_len);
    }
}

/* One frame, one line. `check`: verify transport checksums (false when the device fills them). */
static void print_frame(const uint8_t *frame, size_t len, bool outgoing, bool check) {
    struct tern_eth_repr eth;
    printf("%s ", outgoing ? "out" : "in");
    tern_err err = tern_eth_parse(frame, len, &eth);
    if (err != TERN_OK) {
        printf("Ethernet malformed: %s len %zu\n", tern_strerror(err), len);
        return;
    }
    char s[18], d[18];
    mac(s, sizeof s, eth.src.b);
    mac(d, sizeof d, eth.dst.b);
    printf("%s > %s ", s, d);
    if (eth.ethertype == 0x0806) {
        print_arp(&eth);
    } else if (eth.ethertype == 0x0800) {
        print_ipv4(&eth, check);
    } else {
        printf("ethertype 0x%04x len %zu", eth.ethertype, eth.payload_len);
    }
    putchar('\n');
}

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/*
 * --sim-pings: two Tern hosts in virtual time, the frames of one read from its packet socket
 * (tern/packet.h through the sockets layer), printed as on a host interface with the virtual
 * time in front ("0.001000 in ..."): the same seed, the same lines.
 */
static int run_sim(long long pings, long long count) {
    sim *s;
    if (sim_create(1, &s) != TERN_OK) {
        return 1;
    }
    sim_node_id id[2];
    for (int i = 0; i < 2; i++) {
        tern_stack_config cfg;
        tern_stack_config_default(&cfg, (uint64_t)i + 1);
        cfg.niface = 1;
        uint8_t m[6] = {0x02, 0, 0, 0, 0, (uint8_t)(i + 1)};
        memcpy(cfg.iface[0].mac, m, 6);
        cfg.iface[0].naddrs = 1;
        cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, (uint8_t)(i + 1));
        cfg.iface[0].prefix_len[0] = 24;
        cfg.packet_sockets = i == 0 ? 1 : 0;
        cfg.packet_queue = 64;
        if (sim_host_add(s, i ? "b" : "a", &cfg, &id[i]) != TERN_OK) {
            fprintf(stderr, PROG ": simulation: %s\n", sim_last_error(s));
            return 1;
        }
    }
    sim_link_id link;
    static tern_sockets ts;
    if (sim_link_add(s, id[0], 0, id[1], 0, &link) != TERN_OK ||
        sim_link_set_delay(s, link, SIM_DIR_BOTH, 1000000, 0, false) != TERN_OK ||
        tern_sockets_init_sim(&ts, s, id[0]) != 0) {
        fprintf(stderr, PROG ": simulation: %s\n", sim_last_error(s));
        return 1;
    }
    int fd = tern_socket(&ts, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = 1};
    if (fd < 0 || tern_bind(&ts, fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
        fprintf(stderr, PROG ": packet socket: %s\n", strerror(errno));
        return 1;
    }
    /* b's pings: echo requests queued on its stack, one a second, from time 0. */
    tern_stack *b = sim_host_stack(s, id[1]);
    tern_sock ps;
    if (tern_ping_open(b, 0x7e57, &ps) != TERN_OK) {
        return 1;
    }
    tern_addr dst = tern_addr_v4(10, 0, 0, 1);
    long long sent = 0, seen = 0;
    uint64_t next = 0;
    static uint8_t frame[9022];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (count == 0 || seen < count) {
        if (sent < pings && sim_now(s) >= next) {
            tern_ping_send(b, ps, &dst, (uint16_t)++sent, NULL, 56, 0, false);
            sim_node_wake(s, id[1]);
            next += 1000000000ull;
        }
        /* Wait for a frame until the next ping is due, or 1 s after the last one. */
        uint64_t wait = sent < pings ? next - sim_now(s) : 1000000000ull;
        struct timeval tv = {(time_t)(wait / 1000000000u),
                             (suseconds_t)(wait % 1000000000u / 1000u)};
        tern_setsockopt(&ts, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = tern_recvfrom(&ts, fd, frame, sizeof frame, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EAGAIN && sent < pings) {
                continue; /* the next ping is due */
            }
            break; /* the pings are over and nothing more came for 1 s */
        }
        uint64_t t = sim_now(s);
        printf("%llu.%06llu ", (unsigned long long)(t / 1000000000u),
               (unsigned long long)(t % 1000000000u / 1000u));
        print_frame(frame, (size_t)n, from.sll_pkttype == PACKET_OUTGOING, true);
        seen++;
    }
    sim_destroy(s);
    return 0;
}

int main(int argc, char **argv) {
    long long count = 0, sim_pings = 0;
    const char *ifname = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help();
        } else if (!strcmp(a, "--count")) {
            if (i + 1 >= argc) {
                usage_error("option --count needs a value", NULL);
            }
            const char *v = argv[++i];
            char *end;
            errno = 0;
            count = strtoll(v, &end, 10);
            if (!isdigit((unsigned char)*v) || *end || errno || count < 1 || count > 1000000000) {
                fprintf(stderr, PROG ": --count '%s': not an integer in 1..1000000000\n", v);
                exit(2);
            }
        } else if (!strcmp(a, "--sim-pings")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            char *end;
            if (v == NULL) {
                usage_error("option --sim-pings needs a value", NULL);
            }
            errno = 0;
            sim_pings = strtoll(v, &end, 10);
            if (!isdigit((unsigned char)*v) || *end || errno || sim_pings < 1 || sim_pings > 1000) {
                fprintf(stderr, PROG ": --sim-pings '%s': not an integer in 1..1000\n", v);
                exit(2);
            }
        } else if (a[0] == '-') {
            fprintf(stderr, PROG ": unknown option '%s'\n", a);
            exit(2);
        } else if (ifname == NULL) {
            ifname = a;
        } else {
            fprintf(stderr, PROG ": unexpected argument '%s'\n", a);
            exit(2);
        }
    }
    if (sim_pings > 0) {
        if (ifname != NULL) {
            fprintf(stderr, PROG ": --sim-pings takes no IFNAME ('%s')\n", ifname);
            exit(2);
        }
        return run_sim(sim_pings, count);
    }
    if (ifname == NULL) {
        usage_error("missing argument IFNAME", NULL);
    }
    unsigned ifindex = if_nametoindex(ifname);
    if (ifindex == 0) {
        fprintf(stderr, PROG ": IFNAME '%s': %s\n", ifname, strerror(errno));
        return 1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        fprintf(stderr, PROG ": raw socket: %s (needs CAP_NET_RAW)\n", strerror(errno));
        return 1;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)ifindex;
    int one = 1;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
        fprintf(stderr, PROG ": %s: %s\n", ifname, strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: recvmsg returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    fprintf(stderr, PROG ": listening on %s\n", ifname);

    static uint8_t frame[65536];
    union {
        struct cmsghdr h;
        uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control;
    long long seen = 0;
    while (!stop && (count == 0 || seen < count)) {
        struct sockaddr_ll from;
        struct iovec iov = {frame, sizeof frame};
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.b;
        msg.msg_controllen = sizeof control.b;
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PROG ": %s: %s\n", ifname, strerror(errno));
            return 1;
        }
        bool check = true;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(c), sizeof aux);
                /* The checksum is left to the device (offload): not wrong, just not there yet. */
                if (aux.tp_status & TP_STATUS_CSUMNOTREADY) {
                    check = false;
                }
            }
        }
        size_t len = (size_t)n;
        if (msg.msg_flags & MSG_TRUNC) {
            len = sizeof frame;
        }
        print_frame(frame, len, from.sll_pkttype == PACKET_OUTGOING, check);
        seen++;
    }
    close(fd);
    return 0;
}
