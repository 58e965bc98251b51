/*
 * Memory by configuration (issue 19): the tables an instance carries are
 * sized by its configuration, so a small host costs little memory, and the
 * tables sized that way still do their job. White box where a table's own
 * rule is checked (tcp/tcp_ports.h), over the API otherwise.
 */
#include <stdlib.h>

#include "check.h"
#include "tcp/tcp_ports.h"
#include "tern/dns.h"
#include "tern/stack.h"

/* A host like bench_scale's: one interface, three TCP sockets of 16 KB buffers, small pools. */
static void small_host(tern_stack_config *c) {
    tern_stack_config_default(c, 1);
    c->niface = 1;
    c->iface[0].mac[0] = 2;
    c->iface[0].naddrs = 1;
    c->iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    c->iface[0].prefix_len[0] = 24;
    c->tcp_sockets = 3;
    c->tcp.rx_buffer = c->tcp.tx_buffer = 16384;
    c->packet_buffers = 8;
    c->udp_sockets = 2;
    c->udp_queue = 2;
    c->ping_sockets = 1;
    c->arp_entries = 8;
    c->arp_queue = 4;
    c->nd_entries = 8;
    c->nd_queue = 4;
    c->reasm_slots = 1;
    c->reasm_max_bytes = 1500;
}

static tern_stack *make(const tern_stack_config *c, void **mem) {
    size_t n = tern_stack_memory_size(c);
    CHECK(n > 0);
    *mem = aligned_alloc(64, (n + 63) / 64 * 64);
    tern_stack *st = NULL;
    char msg[200];
    CHECK(tern_stack_init(*mem, n, c, &st, msg, sizeof msg) == TERN_OK);
    return st;
}

/* The port-owner table against a plain array of 65536 counters, through a long deterministic
 * sequence of owns and disowns of ports chosen to collide (a few home slots, runs that wrap
 * around the table's end) so that every case of the backward-shift deletion happens. */
static void test_ports_against_counters(void) {
    static uint32_t ref[65536];
    static tcp_port_entry mem[64];
    const uint32_t nsock = 20; /* capacity 64 */
    CHECK_EQ_U64(tcp_ports_capacity(nsock), 64);
    CHECK_EQ_U64(tcp_ports_memory_size(nsock), 64 * sizeof(tcp_port_entry));
    tcp_ports t;
    tcp_ports_init(&t, mem, nsock);
    memset(ref, 0, sizeof ref);
    /* Ports whose home slots are 61..63 and 0..1 (runs across the end) and a few others. */
    uint16_t pool[24];
    for (uint32_t i = 0; i < 24; i++) {
        pool[i] = (uint16_t)(((61 + i % 5) & 63) + 64 * (i / 5) + 1024);
    }
    uint32_t owned = 0, mismatches = 0, rng = 12345;
    for (uint32_t step = 0; step < 200000; step++) {
        rng = rng * 1103515245u + 12345u;
        uint16_t port = pool[(rng >> 16) % 24];
        bool own = ((rng >> 8) & 1) != 0;
        if (own && owned < nsock) {
            tcp_ports_own(&t, port);
            ref[port]++;
            owned++;
        } else if (ref[port] > 0) {
            tcp_ports_disown(&t, port);
            ref[port]--;
            owned--;
        }
        for (uint32_t i = 0; i < 24; i++) {
            mismatches += tcp_ports_owners(&t, pool[i]) != ref[pool[i]];
        }
        mismatches += tcp_ports_owners(&t, 7) != 0; /* never owned */
    }
    CHECK_EQ_U64(mismatches, 0);
}

/* At 32768 sockets and more the table has a slot per port: every port owned at once. */
static void test_ports_full_space(void) {
    static tcp_port_entry mem[65536];
    tcp_ports t;
    CHECK_EQ_U64(tcp_ports_capacity(100000), 65536);
    tcp_ports_init(&t, mem, 100000);
    for (uint32_t p = 1; p < 65536; p++) {
        tcp_ports_own(&t, (uint16_t)p);
    }
    uint32_t wrong = 0;
    for (uint32_t p = 1; p < 65536; p++) {
        wrong += tcp_ports_owners(&t, (uint16_t)p) != 1;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(tcp_ports_owners(&t, 0), 0);
}

/* Over the API: ports that share a home slot in a small table are told apart by bind, and a
 * port frees when its socket closes (positive control: the bind that succeeds). */
static void test_bind_conflicts_in_small_table(void) {
    tern_stack_config c;
    small_host(&c);
    c.tcp_sockets = 8; /* a table of 16 entries: 5001, 5017, 5033 share slot 9 */
    void *mem;
    tern_stack *st = make(&c, &mem);
    tern_sock s[8];
    const uint16_t ports[4] = {5001, 5017, 5033, 5049};
    for (int i = 0; i < 4; i++) {
        CHECK(tern_tcp_open(st, &s[i]) == TERN_OK);
        CHECK(tern_tcp_bind(st, s[i], NULL, ports[i]) == TERN_OK);
    }
    CHECK(tern_tcp_open(st, &s[4]) == TERN_OK);
    for (int i = 0; i < 4; i++) {
        CHECK(tern_tcp_bind(st, s[4], NULL, ports[i]) == TERN_ERR_ADDR_IN_USE);
    }
    CHECK(strstr(tern_stack_last_error(st), "port 5049 is in use") != NULL);
    /* The second of the run goes: the others stay owned, it is free. */
    CHECK(tern_tcp_close(st, s[1]) == TERN_OK);
    CHECK(tern_tcp_bind(st, s[4], NULL, 5033) == TERN_ERR_ADDR_IN_USE);
    CHECK(tern_tcp_bind(st, s[4], NULL, 5049) == TERN_ERR_ADDR_IN_USE);
    CHECK(tern_tcp_bind(st, s[4], NULL, 5001) == TERN_ERR_ADDR_IN_USE);
    CHECK(tern_tcp_bind(st, s[4], NULL, 5017) == TERN_OK);
    free(mem);
}

/* A small host costs no table sized by the port space (the port-owner table was 65536 counters,
 * 256 KB, in every instance) */
static void test_small_host_memory(void) {
    tern_stack_config c;
    small_host(&c);
    size_t three = tern_stack_memory_size(&c);
    c.tcp_sockets = 4;
    size_t four = tern_stack_memory_size(&c);
    /* One more socket: its control block, logs and two 16 KB buffers, not a port table. */
    CHECK(four - three < 2 * 16384 + 8192);
    CHECK(three < 400000);
    printf("small host: %zu bytes\n", three);
}

/* The resolver sized by dns_queries / dns_cache: TERN_POOL_NONE costs no memory and refuses a
 * resolution naming the setting; the default resolves (the positive control). */
static void test_dns_pool_none(void) {
    tern_stack_config c;
    small_host(&c);
    size_t with = tern_stack_memory_size(&c);
    c.dns_queries = TERN_POOL_NONE;
    c.dns_cache = TERN_POOL_NONE;
    size_t without = tern_stack_memory_size(&c);
    CHECK(with - without >= 4 * 4096 + 8 * 600);
    void *mem;
    tern_stack *st = make(&c, &mem);
    tern_dns_config dc = {.servers = {0x0a000002}, .n_servers = 1};
    CHECK(tern_dns_configure(st, &dc) == TERN_OK);
    uint32_t id;
    CHECK(tern_dns_resolve(st, 0, "example.com", &id) == TERN_ERR_NO_BUFFER);
    CHECK(strstr(tern_stack_last_error(st), "dns_queries = TERN_POOL_NONE") != NULL);
    tern_dns_answer a;
    CHECK(tern_dns_result(st, 0, &a) == TERN_ERR_INVALID_ARGUMENT);
    tern_dns_flush_cache(st); /* no cache: nothing to clear, nothing written */
    free(mem);
    /* Positive control: the defaults resolve (the query is pending, a frame goes out on poll). */
    small_host(&c);
    st = make(&c, &mem);
    CHECK(tern_dns_configure(st, &dc) == TERN_OK);
    CHECK(tern_dns_resolve(st, 0, "example.com", &id) == TERN_OK);
    CHECK(tern_dns_result(st, id, &a) == TERN_OK);
    CHECK(a.status == TERN_DNS_PENDING);
    /* Two queries of a pool of two, the third refused by the pool's size. */
    free(mem);
    small_host(&c);
    c.dns_queries = 2;
    st = make(&c, &mem);
    CHECK(tern_dns_configure(st, &dc) == TERN_OK);
    CHECK(tern_dns_resolve(st, 0, "a.example", &id) == TERN_OK);
    CHECK(tern_dns_resolve(st, 0, "b.example", &id) == TERN_OK);
    CHECK(tern_dns_resolve(st, 0, "c.example", &id) == TERN_ERR_NO_BUFFER);
    CHECK(strstr(tern_stack_last_error(st), "2 queries pending") != NULL);
    free(mem);
    /* Out of range: named. */
    char msg[200];
    small_host(&c);
    c.dns_queries = 65;
    CHECK(tern_stack_validate(&c, msg, sizeof msg) == TERN_ERR_INVALID_ARGUMENT);
    CHECK(strstr(msg, "dns_queries=65") != NULL);
}

/* Delivery-rate logs only for BBR sockets, from a pool of tcp.bbr_sockets: the pool's size is
 * what a host of many non-BBR sockets pays, a BBR socket beyond it is refused by name, and a log
 * comes back when its socket leaves BBR or closes (the positive controls). */
static void test_bbr_log_pool(void) {
    tern_stack_config c;
    small_host(&c);
    c.tcp_sockets = 1000;
    c.tcp.rx_buffer = c.tcp.tx_buffer = 4096;
    size_t dflt = tern_stack_memory_size(&c);
    c.tcp.bbr_sockets = TERN_POOL_NONE;
    size_t none = tern_stack_memory_size(&c);
    c.tcp.bbr_sockets = 1000;
    size_t all = tern_stack_memory_size(&c);
    /* 4 logs by default without BBR; every socket one when asked: 18 records of 40 bytes each. */
    CHECK(dflt - none <= 4 * 18 * 40 + 16);
    CHECK(all - none >= 1000 * 18 * 40);

    small_host(&c);
    c.tcp_sockets = 8;
    c.tcp.bbr_sockets = 2;
    void *mem;
    tern_stack *st = make(&c, &mem);
    tern_sock s[4];
    for (int i = 0; i < 4; i++) {
        CHECK(tern_tcp_open(st, &s[i]) == TERN_OK); /* NewReno sockets take no log */
    }
    CHECK(tern_tcp_set_option(st, s[0], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[1], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[2], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) ==
          TERN_ERR_NO_BUFFER);
    CHECK(strstr(tern_stack_last_error(st), "tcp.bbr_sockets") != NULL);
    /* A socket leaving BBR gives its log back; BBR again on one that has a log costs none. */
    CHECK(tern_tcp_set_option(st, s[1], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_CUBIC) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[0], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[2], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[3], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) ==
          TERN_ERR_NO_BUFFER);
    /* A closed socket gives its log back. */
    CHECK(tern_tcp_close(st, s[0]) == TERN_OK);
    CHECK(tern_tcp_set_option(st, s[3], TERN_TCP_OPT_CONGESTION, TERN_TCP_CC_BBR) == TERN_OK);
    free(mem);

    /* Congestion BBR for every socket, a pool of one: the second open is refused by name. */
    small_host(&c);
    c.tcp.congestion = TERN_TCP_CC_BBR;
    c.tcp.bbr_sockets = 1;
    st = make(&c, &mem);
    CHECK(tern_tcp_open(st, &s[0]) == TERN_OK);
    CHECK(tern_tcp_open(st, &s[1]) == TERN_ERR_NO_BUFFER);
    CHECK(strstr(tern_stack_last_error(st), "tcp.bbr_sockets") != NULL);
    CHECK(tern_tcp_close(st, s[0]) == TERN_OK);
    CHECK(tern_tcp_open(st, &s[1]) == TERN_OK);
    free(mem);
}

/* tcp.lend_extents TERN_POOL_NONE: no table, and a lend refused by name; the default lends. */
static void test_lend_none(void) {
    static const uint8_t data[100];
    tern_stack_config c;
    small_host(&c);
    size_t dflt = tern_stack_memory_size(&c);
    c.tcp.lend_extents = TERN_POOL_NONE;
    size_t none = tern_stack_memory_size(&c);
    CHECK(dflt - none >= 3 * 8 * 16);
    for (int on = 0; on < 2; on++) {
        small_host(&c);
        if (!on) {
            c.tcp.lend_extents = TERN_POOL_NONE;
        }
        void *mem;
        tern_stack *st = make(&c, &mem);
        tern_sock s;
        CHECK(tern_tcp_open(st, &s) == TERN_OK);
        tern_addr peer = tern_addr_v4(10, 0, 0, 2);
        CHECK(tern_tcp_connect(st, s, &peer, 80) == TERN_OK);
        size_t lent = 0;
        tern_err e = tern_tcp_lend(st, s, data, sizeof data, &lent);
        if (on) {
            CHECK(e == TERN_OK || e == TERN_ERR_WOULD_BLOCK); /* lending works (SYN-SENT) */
        } else {
            CHECK(e == TERN_ERR_NO_BUFFER);
            CHECK(strstr(tern_stack_last_error(st), "tcp.lend_extents = TERN_POOL_NONE") != NULL);
        }
        free(mem);
    }
}

int main(void) {
    RUN(test_ports_against_counters);
    RUN(test_ports_full_space);
    RUN(test_bind_conflicts_in_small_table);
    RUN(test_small_host_memory);
    RUN(test_dns_pool_none);
    RUN(test_bbr_log_pool);
    RUN(test_lend_none);
    return check_summary();
}
