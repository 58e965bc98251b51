/*
 * tern-zperf: an iPerf 2 compatible throughput tool on a Tern host (Zephyr's
 * zperf): it talks to Debian's iperf 2 both ways, over TCP and UDP, with
 * iPerf 2's wire format. Written with the POSIX-shaped sockets layer
 * (examples/lib/tern_socket.h) in real time on a TAP device.
 *
 *   tern-zperf [options] tcp download       like iperf -s
 *   tern-zperf [options] udp download       like iperf -s -u
 *   tern-zperf [options] tcp upload ADDRESS like iperf -c ADDRESS
 *   tern-zperf [options] udp upload ADDRESS like iperf -c ADDRESS -u
 *
 * iPerf 2's wire format (iperf 2's src/payloads.h; every field big-endian):
 * TCP carries only the data, no header unless the client asks for a test
 * exchange (flags in the first 4 bytes; tern-zperf sends ASCII digits, whose
 * top bit is clear, like iperf's own pattern). A UDP datagram starts with
 * the 16-byte UDP_datagram: int32 sequence number (negative in the final
 * datagrams, the "FIN"), uint32 tv_sec, uint32 tv_usec (the sender's clock),
 * uint32 upper sequence bits; then the 24-byte client_hdr_v1 (flags,
 * numThreads, mPort, bufferlen, mWinBand, mAmount; all zero here: no
 * options). The server answers each FIN with the FIN's 16 bytes followed by
 * server_hdr_v1: flags (0x80000000, HEADER_VERSION1), total_len1/2 (bytes
 * received, upper and lower 32 bits), stop_sec/usec (the test's duration),
 * error_cnt (lost), outorder_cnt, datagrams, jitter1/2 (seconds and
 * microseconds). The client sends the FIN up to 10 times, 250 ms apart,
 * until the report comes.
 *
 * Output (one line per test, stable):
 *   zperf: tcp download from A:P: N bytes in S.SSS s, K kbit/s
 *   zperf: udp download from A:P: N bytes, D datagrams, L lost, O out of order, jitter J us,
 *          in S.SSS s                                          (one line)
 *   zperf: tcp upload to A:P: N bytes in S.SSS s, K kbit/s
 *   zperf: udp upload to A:P: N bytes, D datagrams in S.SSS s
 *   zperf: server report: N bytes, D datagrams, L lost, O out of order, jitter J us
 *   (or "zperf: no server report after 10 tries")
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "shell.h"
#include "tern_socket.h"

#define UDP_DGRAM_LEN 16  /* UDP_datagram */
#define CLIENT_HDR_LEN 24 /* client_hdr_v1 */
#define SERVER_HDR_LEN 40 /* server_hdr_v1 */
#define HEADER_VERSION1 0x80000000u
#define FIN_TRIES 10
#define FIN_INTERVAL_MS 250

static tern_sockets ts;
static int64_t opt_port = 5001, opt_time = 10, opt_len = 0, opt_bandwidth = 1000000, opt_count = 0;

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Wall-clock time (CLOCK_REALTIME) minus virtual time at the start: iperf stamps datagrams with
 * the wall clock, and its jitter and transit figures expect the same from its peer. */
static uint64_t wall_epoch_ns;

static uint64_t now_ns(void) {
    return sim_now(ts.s);
}

static uint64_t wall_ns(void) {
    return wall_epoch_ns + now_ns();
}

static void secs(char *out, size_t cap, uint64_t ns) {
    snprintf(out, cap, "%" PRIu64 ".%03" PRIu64, ns / 1000000000u, ns % 1000000000u / 1000000u);
}

static uint64_t kbits(uint64_t bytes, uint64_t ns) {
    if (ns == 0) {
        return 0;
    }
    return (uint64_t)((unsigned __int128)bytes * 8u * 1000000u / ns);
}

/* "A:P" for IPv4 (an IPv4-mapped address as its IPv4 address), "[A]:P" for IPv6. */
static const char *peer_text(const struct sockaddr_storage *a, char *buf, size_t cap) {
    char ip[INET6_ADDRSTRLEN];
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, ip, sizeof ip);
            snprintf(buf, cap, "%s:%u", ip, ntohs(s6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
            snprintf(buf, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
        }
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        snprintf(buf, cap, "%s:%u", ip, ntohs(s4->sin_port));
    }
    return buf;
}

static socklen_t sa_len(const struct sockaddr_storage *a) {
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void sys_die(const char *what) {
    ex_die("%s: %s", what, strerror(errno));
}

/* ---- the server (download): non-blocking, one step at a time ------------------------------
 *
 * One AF_INET6 socket bound to [::]:PORT serves IPv4 and IPv6 clients (the sockets layer's
 * dual-stack socket). zsrv_step does what can be done now and returns; on a TAP it runs
 * between polls, inside a simulation after each instant of virtual time. */

typedef struct udp_stats {
    bool active;
    struct sockaddr_storage peer;
    uint64_t start, last, bytes, datagrams;
    int64_t next_seq; /* the sequence number expected next */
    uint64_t lost, outorder;
    int64_t last_transit_ns;
    uint64_t jitter_ns; /* RFC 3550 A.8 interarrival jitter estimator, in ns */
} udp_stats;

typedef struct zsrv {
    tern_sockets *t;
    bool udp;
    int ls;   /* TCP listener, or the UDP socket */
    int conn; /* the TCP connection being measured, or -1 */
    struct sockaddr_storage peer;
    uint64_t start, bytes;
    udp_stats st;
    int64_t done; /* tests reported */
    uint8_t buf[65536];
} zsrv;

static void zsrv_open(zsrv *z, tern_sockets *t, bool udp) {
    memset(z, 0, sizeof *z);
    z->t = t;
    z->udp = udp;
    z->conn = -1;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)opt_port);
    z->ls = tern_socket(t, AF_INET6, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
    if (z->ls < 0 || tern_bind(t, z->ls, (struct sockaddr *)&a, sizeof a) != 0 ||
        (!udp && tern_listen(t, z->ls, 4) != 0)) {
        sys_die(udp ? "udp bind" : "tcp listen");
    }
}

static void tcp_step(zsrv *z, uint64_t now) {
    for (;;) {
        if (z->conn < 0) {
            socklen_t plen = sizeof z->peer;
            z->conn = tern_accept(z->t, z->ls, (struct sockaddr *)&z->peer, &plen);
            if (z->conn < 0) {
                if (errno != EAGAIN) {
                    sys_die("accept");
                }
                return;
            }
            z->start = now;
            z->bytes = 0;
        }
        ssize_t r;
        while ((r = tern_recv(z->t, z->conn, z->buf, sizeof z->buf, MSG_DONTWAIT)) > 0) {
            z->bytes += (uint64_t)r;
        }
        if (r < 0 && errno == EAGAIN) {
            return;
        }
        /* The end of the stream (or of the connection): the test is over. */
        uint64_t dur = now - z->start;
        tern_close(z->t, z->conn);
        z->conn = -1;
        char p[INET6_ADDRSTRLEN + 16], s[32];
        secs(s, sizeof s, dur);
        printf("zperf: tcp download from %s: %" PRIu64 " bytes in %s s, %" PRIu64 " kbit/s\n",
               peer_text(&z->peer, p, sizeof p), z->bytes, s, kbits(z->bytes, dur));
        fflush(stdout);
        z->done++;
    }
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    return a->ss_family == b->ss_family && memcmp(a, b, sa_len(a)) == 0;
}

static void udp_report(zsrv *z, const uint8_t *fin, size_t fin_len) {
    udp_stats *st = &z->st;
    uint8_t out[UDP_DGRAM_LEN + SERVER_HDR_LEN + 64];
    size_t len = fin_len > sizeof out ? sizeof out : fin_len;
    if (len < UDP_DGRAM_LEN + SERVER_HDR_LEN) {
        len = UDP_DGRAM_LEN + SERVER_HDR_LEN;
    }
    memset(out, 0, sizeof out);
    memcpy(out, fin, UDP_DGRAM_LEN);
    uint8_t *h = out + UDP_DGRAM_LEN;
    uint64_t dur = st->last - st->start;
    put32(h + 0, HEADER_VERSION1);
    put32(h + 4, (uint32_t)(st->bytes >> 32));
    put32(h + 8, (uint32_t)st->bytes);
    put32(h + 12, (uint32_t)(dur / 1000000000u));
    put32(h + 16, (uint32_t)(dur % 1000000000u / 1000u));
    put32(h + 20, (uint32_t)st->lost);
    put32(h + 24, (uint32_t)st->outorder);
    put32(h + 28, (uint32_t)(st->datagrams + st->lost));
    put32(h + 32, (uint32_t)(st->jitter_ns / 1000000000u));
    put32(h + 36, (uint32_t)(st->jitter_ns % 1000000000u / 1000u));
    tern_sendto(z->t, z->ls, out, len, 0, (struct sockaddr *)&st->peer, sa_len(&st->peer));
}

static void udp_datagram(zsrv *z, const struct sockaddr_storage *from, size_t r, uint64_t now) {
    udp_stats *st = &z->st;
    const uint8_t *buf = z->buf;
    int32_t seq = (int32_t)get32(buf);
    uint64_t arrival = wall_ns();
    if (seq < 0) {
        if (st->active && same_peer(from, &st->peer)) {
            /* The FIN carries -(its own sequence number): what came before it and never
             * arrived was lost. */
            int64_t fin_seq = -(int64_t)seq;
            if (fin_seq > st->next_seq) {
                st->lost += (uint64_t)(fin_seq - st->next_seq);
                st->next_seq = fin_seq;
            }
            char p[INET6_ADDRSTRLEN + 16], sec[32];
            secs(sec, sizeof sec, st->last - st->start);
            printf("zperf: udp download from %s: %" PRIu64 " bytes, %" PRIu64 " datagrams, %" PRIu64
                   " lost, %" PRIu64 " out of order, jitter %" PRIu64 " us, in %s s\n",
                   peer_text(&st->peer, p, sizeof p), st->bytes, st->datagrams, st->lost,
                   st->outorder, st->jitter_ns / 1000u, sec);
            fflush(stdout);
            udp_report(z, buf, r);
            st->active = false;
            z->done++;
        } else if (!st->active) {
            /* A repeated FIN (our report was lost): answer again with the last figures. */
            udp_report(z, buf, r);
        }
        return;
    }
    if (!st->active) {
        memset(st, 0, sizeof *st);
        st->active = true;
        st->peer = *from;
        st->start = now;
        st->next_seq = seq;
    }
    st->last = now;
    st->bytes += (uint64_t)r;
    st->datagrams++;
    if (seq < st->next_seq) {
        st->outorder++;
        if (st->lost) {
            st->lost--; /* counted lost when the gap appeared */
        }
    } else {
        st->lost += (uint64_t)(seq - st->next_seq);
        st->next_seq = (int64_t)seq + 1;
    }
    /* RFC 3550 A.8: D = difference of transit times, J += (|D| - J) / 16. */
    uint64_t sent = (uint64_t)get32(buf + 4) * 1000000000u + (uint64_t)get32(buf + 8) * 1000u;
    int64_t transit = (int64_t)(arrival - sent);
    if (st->datagrams > 1) {
        int64_t d = transit - st->last_transit_ns;
        uint64_t ad = (uint64_t)(d < 0 ? -d : d);
        st->jitter_ns = ad >= st->jitter_ns ? st->jitter_ns + (ad - st->jitter_ns) / 16
                                            : st->jitter_ns - (st->jitter_ns - ad) / 16;
    }
    st->last_transit_ns = transit;
}

static void udp_step(zsrv *z, uint64_t now) {
    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t r = tern_recvfrom(z->t, z->ls, z->buf, sizeof z->buf, MSG_DONTWAIT,
                                  (struct sockaddr *)&from, &flen);
        if (r < 0) {
            if (errno != EAGAIN) {
                sys_die("recvfrom");
            }
            return;
        }
        if ((size_t)r >= UDP_DGRAM_LEN) { /* shorter: not iPerf */
            udp_datagram(z, &from, (size_t)r, now);
        }
    }
}

static void zsrv_step(zsrv *z) {
    uint64_t now = sim_now(z->t->s);
    if (z->udp) {
        udp_step(z, now);
    } else {
        tcp_step(z, now);
    }
}

/* On a TAP: step, then wait (poll, in real time) until a socket has something. */
static void download(bool udp) {
    static zsrv z;
    zsrv_open(&z, &ts, udp);
    fprintf(stderr, "tern-zperf: %s download on port %" PRId64 "\n", udp ? "udp" : "tcp", opt_port);
    for (;;) {
        zsrv_step(&z);
        if (opt_count != 0 && z.done >= opt_count) {
            break;
        }
        struct pollfd p[2] = {{z.ls, POLLIN, 0}, {z.conn, POLLIN, 0}};
        if (tern_poll(&ts, p, z.conn >= 0 ? 2 : 1, -1) < 0) {
            sys_die("poll");
        }
    }
    tern_close(&ts, z.ls);
}

/* ---- the client (upload): blocking calls ---------------------------------------------- */

static void tcp_upload(const struct sockaddr_storage *to) {
    int c = tern_socket(&ts, to->ss_family, SOCK_STREAM, 0);
    if (c < 0 || tern_connect(&ts, c, (const struct sockaddr *)to, sa_len(to)) != 0) {
        sys_die("tcp connect");
    }
    size_t len = opt_len ? (size_t)opt_len : 131072;
    static uint8_t buf[1 << 20];
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)('0' + i % 10); /* iperf's pattern: the first word has no flag bits */
    }
    uint64_t start = now_ns(), end = start + (uint64_t)opt_time * 1000000000u, bytes = 0;
    while (now_ns() < end) {
        ssize_t w = tern_send(&ts, c, buf, len, 0);
        if (w < 0) {
            sys_die("send");
        }
        bytes += (uint64_t)w;
    }
    if (tern_shutdown(&ts, c, SHUT_WR) != 0) {
        sys_die("shutdown");
    }
    /* Wait for the server's FIN: everything sent was received. */
    uint8_t sink[512];
    while (tern_recv(&ts, c, sink, sizeof sink, 0) > 0) {
    }
    uint64_t dur = now_ns() - start;
    tern_close(&ts, c);
    char p[INET6_ADDRSTRLEN + 16], s[32];
    secs(s, sizeof s, dur);
    printf("zperf: tcp upload to %s: %" PRIu64 " bytes in %s s, %" PRIu64 " kbit/s\n",
           peer_text(to, p, sizeof p), bytes, s, kbits(bytes, dur));
}

static void udp_header(uint8_t *buf, int32_t seq, uint64_t now) {
    put32(buf, (uint32_t)seq);
    put32(buf + 4, (uint32_t)(now / 1000000000u));
    put32(buf + 8, (uint32_t)(now % 1000000000u / 1000u));
    put32(buf + 12, 0); /* upper sequence bits */
}

static void udp_upload(const struct sockaddr_storage *to) {
    int s = tern_socket(&ts, to->ss_family, SOCK_DGRAM, 0);
    if (s < 0 || tern_connect(&ts, s, (const struct sockaddr *)to, sa_len(to)) != 0) {
        sys_die("udp connect");
    }
    size_t len = opt_len ? (size_t)opt_len : 1470;
    if (len < UDP_DGRAM_LEN + CLIENT_HDR_LEN) {
        ex_usage_error("--len %zu: a UDP datagram needs at least %d bytes", len,
                       UDP_DGRAM_LEN + CLIENT_HDR_LEN);
    }
    static uint8_t buf[65536];
    for (size_t i = UDP_DGRAM_LEN + CLIENT_HDR_LEN; i < len; i++) {
        buf[i] = (uint8_t)('0' + i % 10);
    }
    /* client_hdr_v1 stays zero: flags 0, "the header is ignored" (no test exchange). */
    memset(buf + UDP_DGRAM_LEN, 0, CLIENT_HDR_LEN);
    uint64_t start = now_ns(), dur_ns = (uint64_t)opt_time * 1000000000u, bytes = 0;
    int32_t seq = 0;
    for (;;) {
        uint64_t elapsed = now_ns() - start;
        if (elapsed >= dur_ns) {
            break;
        }
        /* Paced: by `elapsed`, bandwidth * elapsed / (8 * len) datagrams are due. */
        uint64_t due = (uint64_t)((unsigned __int128)opt_bandwidth * elapsed /
                                  (8u * (unsigned __int128)len * 1000000000u)) +
                       1;
        while ((uint64_t)seq < due) {
            udp_header(buf, seq, wall_ns());
            if (tern_send(&ts, s, buf, len, 0) < 0) {
                sys_die("send");
            }
            bytes += len;
            seq++;
        }
        tern_poll(&ts, NULL, 0, 1);
    }
    uint64_t dur = now_ns() - start;
    char p[INET6_ADDRSTRLEN + 16], sec[32];
    secs(sec, sizeof sec, dur);
    printf("zperf: udp upload to %s: %" PRIu64 " bytes, %" PRId32 " datagrams in %s s\n",
           peer_text(to, p, sizeof p), bytes, seq, sec);
    fflush(stdout);
    /* The FIN: -(sequence number), up to FIN_TRIES times until the server's report. */
    struct timeval tv = {0, FIN_INTERVAL_MS * 1000};
    tern_setsockopt(&ts, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t rep[2048];
    for (int i = 0; i < FIN_TRIES; i++) {
        udp_header(buf, -seq, wall_ns());
        tern_send(&ts, s, buf, len, 0);
        ssize_t r = tern_recv(&ts, s, rep, sizeof rep, 0);
        if (r >= UDP_DGRAM_LEN + SERVER_HDR_LEN && (get32(rep + UDP_DGRAM_LEN) & HEADER_VERSION1)) {
            const uint8_t *h = rep + UDP_DGRAM_LEN;
            uint64_t rbytes = (uint64_t)get32(h + 4) << 32 | get32(h + 8);
            uint64_t jitter_us = (uint64_t)get32(h + 32) * 1000000u + get32(h + 36);
            printf("zperf: server report: %" PRIu64 " bytes, %" PRIu32 " datagrams, %" PRIu32
                   " lost, %" PRIu32 " out of order, jitter %" PRIu64 " us\n",
                   rbytes, get32(h + 28), get32(h + 20), get32(h + 24), jitter_us);
            tern_close(&ts, s);
            return;
        }
    }
    printf("zperf: no server report after %d tries\n", FIN_TRIES);
    tern_close(&ts, s);
}

static bool shell_round(void *ctx, sim *s, uint64_t now) {
    (void)s;
    ex_shell_step(ctx, now);
    return false;
}

/* ---- inside a simulation: two Tern hosts in virtual time ----------------------------------- */

static int64_t opt_sim_rate = 0, opt_sim_delay_us = 1000;

static bool server_round(void *ctx, sim *s, uint64_t now) {
    (void)s;
    (void)now;
    zsrv_step(ctx);
    return false;
}

static sim_node_id sim_host(sim *s, const ex_options *o, const char *name, uint8_t last) {
    tern_stack_config cfg;
    tern_stack_config_default(&cfg, o->seed + last);
    cfg.niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
    memcpy(cfg.iface[0].mac, mac, 6);
    cfg.iface[0].naddrs = 2;
    cfg.iface[0].addr[0] = tern_addr_v4(10, 0, 0, last);
    cfg.iface[0].prefix_len[0] = 24;
    uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
    cfg.iface[0].addr[1] = tern_addr_v6_from_bytes(v6);
    cfg.iface[0].prefix_len[1] = 64;
    cfg.tcp.rx_buffer = o->buffer;
    cfg.tcp.tx_buffer = o->buffer;
    cfg.tcp.sack = true;
    cfg.tcp.timestamps = true;
    cfg.tcp.window_scaling = true;
    sim_node_id id;
    if (sim_host_add(s, name, &cfg, &id) != TERN_OK) {
        ex_die("simulation: host %s: %s", name, sim_last_error(s));
    }
    return id;
}

/*
 * --sim-rate: the client on host "client" (10.0.0.1, fd00::1) uploads to the server on host
 * "server" (10.0.0.2, fd00::2) over a link of that rate and --sim-delay each way, in virtual
 * time: the same seed gives the same figures to the byte.
 */
static void run_sim(const ex_options *o, bool udp, const struct sockaddr_storage *to) {
    sim *s;
    if (sim_create(o->seed, &s) != TERN_OK) {
        ex_die("out of memory");
    }
    sim_node_id c = sim_host(s, o, "client", 1), sv = sim_host(s, o, "server", 2);
    sim_link_id link;
    if (sim_link_add(s, c, 0, sv, 0, &link) != TERN_OK ||
        sim_link_set_rate(s, link, SIM_DIR_BOTH, (uint64_t)opt_sim_rate) != TERN_OK ||
        sim_link_set_delay(s, link, SIM_DIR_BOTH, (uint64_t)opt_sim_delay_us * 1000u, 0, false) !=
            TERN_OK ||
        (o->drop_chance > 0 &&
         sim_link_set_loss_bernoulli(s, link, SIM_DIR_BOTH, o->drop_chance) != TERN_OK)) {
        ex_die("simulation: link: %s", sim_last_error(s));
    }
    static tern_sockets srv_ts;
    static zsrv z;
    if (tern_sockets_init_sim(&ts, s, c) != 0 || tern_sockets_init_sim(&srv_ts, s, sv) != 0) {
        ex_die("sockets");
    }
    zsrv_open(&z, &srv_ts, udp);
    ts.on_round = server_round;
    ts.on_round_ctx = &z;
    wall_epoch_ns = 0; /* datagram time stamps are virtual time too */
    udp ? udp_upload(to) : tcp_upload(to);
    fflush(stdout);
    sim_destroy(s);
}

int main(int argc, char **argv) {
    const ex_opt opts[] = {
        {"--port", "PORT", "server port (default 5001, as iperf 2)", EX_OPT_INT, 1, 65535,
         &opt_port},
        {"--time", "SECONDS", "upload: how long to send (1..3600, default 10)", EX_OPT_INT, 1, 3600,
         &opt_time},
        {"--len", "BYTES", "upload: write / datagram size (TCP 131072, UDP 1470)", EX_OPT_INT, 40,
         1048576, &opt_len},
        {"--bandwidth", "BITS/S", "udp upload: sending rate (default 1000000)", EX_OPT_INT, 1000,
         10000000000ll, &opt_bandwidth},
        {"--count", "N", "download: exit after N tests (default 0: never)", EX_OPT_INT, 0, 1000000,
         &opt_count},
        {"--sim-rate", "BITS/S",
         "no TAP: client and server on two Tern hosts in virtual time, a link of this rate",
         EX_OPT_INT, 1000, 100000000000ll, &opt_sim_rate},
        {"--sim-delay", "US", "with --sim-rate: one-way delay of the link (default 1000)",
         EX_OPT_INT, 0, 10000000, &opt_sim_delay_us},
    };
    const ex_program prog = {
        "iPerf 2 compatible throughput tests from a Tern host on a TAP interface (Zephyr's\n"
        "zperf): 'tcp download' / 'udp download' serve like iperf -s [-u]; 'tcp upload ADDRESS'\n"
        "/ 'udp upload ADDRESS' send like iperf -c ADDRESS [-u] (ADDRESS IPv4 or IPv6; the\n"
        "server takes both). One result line per test. With --sim-rate, no TAP: the upload\n"
        "runs from 10.0.0.1/fd00::1 to a zperf server at 10.0.0.2/fd00::2 (ADDRESS) inside a\n"
        "simulation, both result lines measured in virtual time.",
        "tcp|udp download|upload [ADDRESS]",
        2,
        3,
        opts,
        sizeof opts / sizeof opts[0],
        "UDP datagrams and reports use iPerf 2's headers (UDP_datagram, client_hdr_v1,\n"
        "server_hdr_v1); TCP carries no header (no -r/-d test exchange)."};
    ex_options o;
    ex_parse(&argc, argv, &o, &prog);
    bool udp = !strcmp(argv[1], "udp");
    if (!udp && strcmp(argv[1], "tcp")) {
        ex_usage_error("protocol '%s': must be tcp or udp", argv[1]);
    }
    bool upload = !strcmp(argv[2], "upload");
    if (!upload && strcmp(argv[2], "download")) {
        ex_usage_error("direction '%s': must be download or upload", argv[2]);
    }
    if (upload != (argc == 4)) {
        ex_usage_error(upload ? "upload needs ADDRESS" : "unexpected argument '%s'",
                       upload ? "" : argv[3]);
    }
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    if (upload) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&to;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;
        if (inet_pton(AF_INET, argv[3], &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)opt_port);
        } else if (inet_pton(AF_INET6, argv[3], &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)opt_port);
        } else {
            ex_usage_error("ADDRESS '%s': not an IPv4 (A.B.C.D) or IPv6 address", argv[3]);
        }
    }
    if (opt_sim_rate > 0) {
        if (!upload) {
            ex_usage_error("--sim-rate: give 'upload ADDRESS' (the simulation runs both ends)");
        }
        run_sim(&o, udp, &to);
        return 0;
    }
    ex_net n;
    ex_setup(&n, &o);
    signal(SIGINT, SIG_DFL); /* blocking socket calls do not look at ex_run's flag */
    signal(SIGTERM, SIG_DFL);
    if (tern_sockets_init_realtime(&ts, n.s, n.rt, n.host) != 0) {
        ex_die("sockets");
    }
    if (n.shell) { /* the shell also runs while a socket call blocks */
        ts.on_round = shell_round;
        ts.on_round_ctx = &n;
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    wall_epoch_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec - now_ns();
    if (upload) {
        udp ? udp_upload(&to) : tcp_upload(&to);
    } else {
        download(udp);
    }
    fflush(stdout);
    ex_run(&n, 200000000ull, NULL, NULL); /* let the last segments go out */
    ex_teardown(&n);
    return 0;
}
