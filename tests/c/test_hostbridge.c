/*
 * The host bridge's journal and its replay, without the host: records
 * written and read back, files that are not journals or are cut short, bad
 * configurations, and a replayed host datagram leaving the bridge at its
 * recorded virtual time as a UDP datagram from the bridge's address (the
 * host's 127.0.0.1) to the NAT mapping that sent the first one, a replayed
 * ICMP error quoting the guest's datagram, the journal on disk after each run,
 * and more connections in a row than the bridge has flow slots, each closed by
 * the guest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/frame_check.h"
#include "tern/sim.h"
#include "tern/sim_host.h"
#include "tern/sim_hostbridge.h"
#include "tern/sim_realtime.h"

#define MS 1000000ull
#define BRIDGE 0xc6336401u /* 198.51.100.1 */
#define GW 0xc6336402u     /* 198.51.100.2 */

static char path[64];

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define GW_FRAME_LEN (14 + 28 + 3)

/* The gateway (peer) sends the bridge the UDP datagram 198.51.100.2:1024 -> 198.51.100.1:dport
 * carrying "abc" (UDP checksum 0: none), with the given IP identification and TTL; the frame it
 * sent is left in f. */
static void send_gateway_datagram(sim *s, sim_node_id peer, uint16_t ident, uint8_t ttl,
                                  uint16_t dport, uint8_t f[GW_FRAME_LEN]) {
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    memset(f, 0, GW_FRAME_LEN);
    memcpy(f, eth, sizeof eth);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, 28 + 3);
    put16(ip + 4, ident);
    ip[8] = ttl;
    ip[9] = 17;
    ip[12] = 198, ip[13] = 51, ip[14] = 100, ip[15] = 2;
    ip[16] = 198, ip[17] = 51, ip[18] = 100, ip[19] = 1;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += get16(ip + i);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, (uint16_t)~sum);
    put16(ip + 20, 1024);
    put16(ip + 22, dport);
    put16(ip + 24, 11);
    memcpy(ip + 28, "abc", 3);
    CHECK(sim_peer_send(s, peer, 0, f, GW_FRAME_LEN) == TERN_OK);
}

static void test_round_trip(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_journal_rec r = {.kind = SIM_JR_DATA, .node = 3, .flow = 7, .t = 42, .len = 5};
    CHECK(sim_journal_write(j, &r, (const uint8_t *)"hello") == TERN_OK);
    sim_journal_rec r2 = {.kind = SIM_JR_EOF, .node = 3, .flow = 7, .t = 43};
    CHECK(sim_journal_write(j, &r2, NULL) == TERN_OK);
    CHECK(sim_journal_peek(j, &r, NULL) == TERN_ERR_BAD_STATE);
    CHECK_EQ_U64(sim_journal_count(j), 2);
    sim_journal_close(j);

    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_OK);
    const uint8_t *d;
    sim_journal_rec got;
    CHECK(sim_journal_peek(j, &got, &d) == TERN_OK);
    CHECK(got.kind == SIM_JR_DATA && got.flow == 7 && got.t == 42 && got.len == 5);
    CHECK(memcmp(d, "hello", 5) == 0);
    CHECK(sim_journal_peek(j, &got, &d) == TERN_OK); /* peeking does not consume */
    CHECK(got.kind == SIM_JR_DATA);
    sim_journal_next(j);
    CHECK(sim_journal_peek(j, &got, &d) == TERN_OK);
    CHECK(got.kind == SIM_JR_EOF && got.t == 43);
    sim_journal_next(j);
    CHECK(sim_journal_peek(j, &got, &d) == TERN_ERR_EMPTY);
    CHECK(sim_journal_write(j, &r, NULL) == TERN_ERR_BAD_STATE);
    sim_journal_close(j);
    sim_destroy(s);
}

static void test_bad_files(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, "/nonexistent/dir/j", SIM_JOURNAL_RECORD, &j) == TERN_ERR_IO);
    CHECK_CONTAINS(sim_last_error(s), "/nonexistent/dir/j");
    CHECK(sim_journal_open(s, path, 3, &j) == TERN_ERR_INVALID_ARGUMENT);
    FILE *f = fopen(path, "wb");
    fputs("not a journal at all, really", f);
    fclose(f);
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "not a Tern host-bridge journal");
    /* a record cut short */
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_journal_rec r = {.kind = SIM_JR_DATA, .len = 100};
    uint8_t data[100] = {0};
    CHECK(sim_journal_write(j, &r, data) == TERN_OK);
    sim_journal_close(j);
    CHECK(truncate(path, 16 + (off_t)sizeof r + 50) == 0);
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_OK);
    sim_journal_rec got;
    CHECK(sim_journal_peek(j, &got, NULL) == TERN_ERR_IO);
    CHECK_CONTAINS(sim_last_error(s), "record 0 is truncated");
    sim_journal_close(j);
    sim_destroy(s);
}

static void test_bad_config(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_hostbridge_config c = {.addr = BRIDGE, .prefix_len = 24, .gateway = GW};
    sim_node_id id;
    CHECK(sim_hostbridge_add(s, "hb", &c, NULL, &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "journal");
    c.gateway = 0x0a000002u;
    CHECK(sim_hostbridge_add(s, "hb", &c, j, &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "gateway");
    c.gateway = GW;
    c.prefix_len = 31;
    CHECK(sim_hostbridge_add(s, "hb", &c, j, &id) == TERN_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(sim_last_error(s), "prefix_len");
    sim_journal_close(j);
    sim_destroy(s);
}

/* Write a journal by hand: a datagram from the host's 127.0.0.1:7007 at 5 ms, the run's end at
 * 10 ms. Replayed: the bridge sends it to the NAT endpoint 198.51.100.2:1024 at 5 ms. */
static void test_replayed_datagram(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_journal_rec d = {.kind = SIM_JR_DGRAM,
                         .node = 1, /* the bridge is the second node */
                         .flow = 1,
                         .t = 5 * MS,
                         .addr = 0x7f000001u,
                         .port = 7007,
                         .len = 2};
    CHECK(sim_journal_write(j, &d, (const uint8_t *)"hi") == TERN_OK);
    sim_journal_rec end = {.kind = SIM_JR_RUN, .t = 10 * MS, .arg = SIM_RT_STOP_TIME};
    CHECK(sim_journal_write(j, &end, NULL) == TERN_OK);
    /* 331 s later the flow has been idle longer than HB_IDLE_NS (330 s): closed, the late datagram
     * has nowhere to go */
    d.t = 331000 * MS;
    CHECK(sim_journal_write(j, &d, (const uint8_t *)"hi") == TERN_OK);
    end.t = 332000 * MS;
    CHECK(sim_journal_write(j, &end, NULL) == TERN_OK);
    sim_journal_close(j);
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_OK);

    sim_node_id peer, hb;
    CHECK(sim_peer_add(s, "gw", 1, 0, &peer) == TERN_OK);
    sim_hostbridge_config c = {
        .mac = {2, 0, 0, 0, 0, 1}, .addr = BRIDGE, .prefix_len = 24, .gateway = GW};
    CHECK(sim_hostbridge_add(s, "hb", &c, j, &hb) == TERN_OK);
    CHECK(hb == 1);
    sim_link_id l;
    CHECK(sim_link_add(s, peer, 0, hb, 0, &l) == TERN_OK);
    /* the NAT's first datagram: 198.51.100.2:1024 -> 198.51.100.1:7007 (UDP checksum 0: none) */
    uint8_t f[GW_FRAME_LEN];
    send_gateway_datagram(s, peer, 0, 64, 7007, f);

    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);
    sim_realtime_set_journal(rt, j);
    sim_realtime_stop why = SIM_RT_STOP_CALLBACK;
    CHECK(sim_realtime_run(rt, 1000 * MS, 0, NULL, NULL, &why) == TERN_OK);
    CHECK(why == SIM_RT_STOP_TIME);
    CHECK_EQ_U64(sim_now(s), 10 * MS);
    uint8_t buf[2048];
    size_t len;
    uint32_t port;
    uint64_t t;
    CHECK(sim_peer_recv(s, peer, buf, sizeof buf, &len, &port, &t) == TERN_OK);
    CHECK_EQ_U64(t, 5 * MS);
    CHECK_EQ_U64(len, 14 + 28 + 2);
    CHECK(sim_frame_check(buf, len, NULL, 0));
    CHECK(memcmp(buf, "\x02\0\0\0\0\x02", 6) == 0); /* to the gateway's MAC, learned */
    CHECK_EQ_U64(get32(buf + 14 + 12), BRIDGE);     /* 127.0.0.1 appears as the bridge */
    CHECK_EQ_U64(get32(buf + 14 + 16), GW);
    CHECK_EQ_U64(get16(buf + 34), 7007);
    CHECK_EQ_U64(get16(buf + 36), 1024);
    CHECK(memcmp(buf + 42, "hi", 2) == 0);
    CHECK(sim_realtime_run(rt, 1000 * MS, 0, NULL, NULL, &why) == TERN_OK);
    CHECK_EQ_U64(sim_now(s), 332000 * MS);
    CHECK_EQ_U64(sim_peer_pending(s, peer), 0);
    /* the journal is used up: another run fails naming it, never runs on the wall clock */
    CHECK(sim_realtime_run(rt, 1000 * MS, 0, NULL, NULL, &why) == TERN_ERR_BAD_STATE);
    CHECK_CONTAINS(sim_last_error(s), "journal ends");
    sim_hostbridge_counters hc;
    CHECK(sim_hostbridge_get_counters(s, hb, &hc) == TERN_OK);
    CHECK_EQ_U64(hc.udp_out, 1);
    CHECK_EQ_U64(hc.udp_in, 1);
    CHECK_EQ_U64(hc.events, 2);
    sim_realtime_destroy(rt);
    sim_destroy(s);
    sim_journal_close(j);
}

/* A journalled ICMP error (the host's error queue: port unreachable from 127.0.0.1 about the
 * datagram 198.51.100.2:1024 -> 198.51.100.1:9 "abc") replayed at 7 ms: the bridge sends the
 * gateway, at 7 ms, Destination Unreachable / Port Unreachable from its own address quoting the
 * datagram as the gateway sent it (its IP identification 0x1234 and TTL 63, UDP header, payload).
 */
static void test_replayed_icmp_error(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    const uint8_t err[4 + 3] = {127, 0, 0, 1, 'a', 'b', 'c'}; /* offender, quoted payload */
    sim_journal_rec e = {.kind = SIM_JR_ICMP,
                         .node = 1,
                         .flow = 1,
                         .t = 7 * MS,
                         .addr = 0x7f000001u,
                         .port = 9,
                         .arg = 3 | 3 << 8,
                         .len = sizeof err};
    CHECK(sim_journal_write(j, &e, err) == TERN_OK);
    sim_journal_rec end = {.kind = SIM_JR_RUN, .t = 10 * MS, .arg = SIM_RT_STOP_TIME};
    CHECK(sim_journal_write(j, &end, NULL) == TERN_OK);
    sim_journal_close(j);
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_OK);

    sim_node_id peer, hb;
    CHECK(sim_peer_add(s, "gw", 1, 0, &peer) == TERN_OK);
    sim_hostbridge_config c = {
        .mac = {2, 0, 0, 0, 0, 1}, .addr = BRIDGE, .prefix_len = 24, .gateway = GW};
    CHECK(sim_hostbridge_add(s, "hb", &c, j, &hb) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(s, peer, 0, hb, 0, &l) == TERN_OK);
    uint8_t f[GW_FRAME_LEN];
    send_gateway_datagram(s, peer, 0x1234, 63, 9, f);

    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);
    sim_realtime_set_journal(rt, j);
    sim_realtime_stop why = SIM_RT_STOP_CALLBACK;
    CHECK(sim_realtime_run(rt, 1000 * MS, 0, NULL, NULL, &why) == TERN_OK);
    CHECK_EQ_U64(sim_now(s), 10 * MS);
    uint8_t buf[2048];
    size_t len;
    uint32_t port;
    uint64_t t;
    CHECK(sim_peer_recv(s, peer, buf, sizeof buf, &len, &port, &t) == TERN_OK);
    CHECK_EQ_U64(t, 7 * MS);
    CHECK_EQ_U64(len, 14 + 20 + 8 + 28 + 3);
    CHECK(sim_frame_check(buf, len, NULL, 0));
    const uint8_t *rip = buf + 14, *icmp = buf + 34;
    CHECK_EQ_U64(rip[9], 1);
    CHECK_EQ_U64(get32(rip + 12), BRIDGE); /* the host's 127.0.0.1 appears as the bridge */
    CHECK_EQ_U64(get32(rip + 16), GW);
    CHECK_EQ_U64(icmp[0], 3);
    CHECK_EQ_U64(icmp[1], 3);
    CHECK(memcmp(icmp + 8, f + 14, 28 + 3) == 0); /* the datagram as the gateway sent it */
    sim_hostbridge_counters hc;
    CHECK(sim_hostbridge_get_counters(s, hb, &hc) == TERN_OK);
    CHECK_EQ_U64(hc.icmp_errors, 1);
    sim_realtime_destroy(rt);
    sim_destroy(s);
    sim_journal_close(j);
}

static long long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* The journal buffers its records (no write(2) per host event), yet each real-time run leaves
 * it complete on disk when it returns: a process that dies between runs loses nothing. */
static void test_journal_on_disk_after_each_run(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_realtime *rt;
    CHECK(sim_realtime_create(s, &rt) == TERN_OK);
    sim_realtime_set_journal(rt, j);
    sim_realtime_stop why;
    const long long magic = 16, rec = (long long)sizeof(sim_journal_rec);
    for (int i = 1; i <= 3; i++) {
        CHECK(sim_realtime_run(rt, MS, 0, NULL, NULL, &why) == TERN_OK);
        CHECK(why == SIM_RT_STOP_TIME);
        CHECK_EQ_U64(sim_journal_count(j), (uint64_t)i); /* one RUN record per run */
        CHECK_EQ_U64((uint64_t)file_size(path), (uint64_t)(magic + i * rec));
    }
    sim_realtime_now(rt); /* a NOW record, read by the caller's code between runs */
    CHECK_EQ_U64((uint64_t)file_size(path), (uint64_t)(magic + 4 * rec));
    sim_realtime_destroy(rt);
    sim_destroy(s);
    sim_journal_close(j);
}

/* A host event of flow `flow` applied as a replay applies it. */
static void apply(sim *s, sim_node_id hb, sim_journal_kind kind, uint32_t flow) {
    sim_journal_rec r = {.kind = kind, .node = hb, .flow = flow, .t = sim_now(s)};
    CHECK(sim_hostbridge_apply(s, &r, NULL) == TERN_OK);
}

/*
 * 1100 connections one after the other (more than SIM_HB_MAX_FLOWS = 1024), each closed by the
 * guest first and then by the host, 4 ms each, so all within 4.4 s of virtual time. The
 * bridge's stack ends each in CLOSED (LAST-ACK acknowledged): nothing more leaves for it, so its
 * flow slot must be free again at once. Held for the 11 s TIME-WAIT rewriting instead, the
 * 1025th SYN found no slot and was dropped.
 */
static void test_closed_flows_free_their_slots(void) {
    sim *s;
    CHECK(sim_create(1, &s) == TERN_OK);
    sim_journal *j;
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_RECORD, &j) == TERN_OK);
    sim_journal_close(j);
    CHECK(sim_journal_open(s, path, SIM_JOURNAL_REPLAY, &j) == TERN_OK);
    tern_stack_config gc;
    tern_stack_config_default(&gc, 3);
    gc.niface = 1;
    memcpy(gc.iface[0].mac, "\x02\0\0\0\0\x02", 6);
    gc.iface[0].naddrs = 1;
    gc.iface[0].addr[0] = tern_addr_v4_from_u32(GW);
    gc.iface[0].prefix_len[0] = 24;
    gc.tcp_sockets = 64; /* the guest's TIME-WAIT sockets are recycled, oldest first */
    sim_node_id guest, hb;
    CHECK(sim_host_add(s, "guest", &gc, &guest) == TERN_OK);
    sim_hostbridge_config c = {
        .mac = {2, 0, 0, 0, 0, 1}, .addr = BRIDGE, .prefix_len = 24, .gateway = GW};
    CHECK(sim_hostbridge_add(s, "hb", &c, j, &hb) == TERN_OK);
    sim_link_id l;
    CHECK(sim_link_add(s, guest, 0, hb, 0, &l) == TERN_OK);
    tern_stack *st = sim_host_stack(s, guest);
    tern_addr dst = tern_addr_v4_from_u32(BRIDGE); /* the host's 127.0.0.1 */
    const uint32_t n = SIM_HB_MAX_FLOWS + 76;
    uint32_t established = 0;
    for (uint32_t k = 1; k <= n; k++) {
        tern_sock sk;
        CHECK(tern_tcp_open(st, &sk) == TERN_OK);
        CHECK(tern_tcp_connect(st, sk, &dst, 7007) == TERN_OK);
        sim_node_wake(s, guest);
        CHECK(sim_run(s, sim_now(s) + MS, 0, NULL) == TERN_OK); /* the SYN is held */
        apply(s, hb, SIM_JR_CONNECT, k);                        /* the host connected */
        CHECK(sim_run(s, sim_now(s) + MS, 0, NULL) == TERN_OK);
        tern_tcp_info info;
        CHECK(tern_tcp_get_info(st, sk, &info) == TERN_OK);
        if (info.state != TERN_TCP_ESTABLISHED) {
            break;
        }
        established++;
        CHECK(tern_tcp_close(st, sk) == TERN_OK); /* the guest's FIN: the host socket shut */
        sim_node_wake(s, guest);
        CHECK(sim_run(s, sim_now(s) + MS, 0, NULL) == TERN_OK);
        apply(s, hb, SIM_JR_EOF, k); /* the host closes too: the bridge's FIN, LAST-ACK */
        CHECK(sim_run(s, sim_now(s) + MS, 0, NULL) == TERN_OK);
    }
    CHECK_EQ_U64(established, n);
    CHECK(sim_now(s) < 11000 * MS);
    sim_hostbridge_counters hc;
    CHECK(sim_hostbridge_get_counters(s, hb, &hc) == TERN_OK);
    CHECK_EQ_U64(hc.tcp_connects, n);
    CHECK_EQ_U64(hc.dropped, 0);
    sim_destroy(s);
    sim_journal_close(j);
}

int main(void) {
    snprintf(path, sizeof path, "hostbridge-test-%d.journal", (int)getpid());
    RUN(test_round_trip);
    RUN(test_bad_files);
    RUN(test_bad_config);
    RUN(test_replayed_datagram);
    RUN(test_replayed_icmp_error);
    RUN(test_closed_flows_free_their_slots);
    RUN(test_journal_on_disk_after_each_run);
    unlink(path);
    return check_summary();
}
