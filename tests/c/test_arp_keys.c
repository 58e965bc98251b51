/*
 * ARP's table lookups (ipv4/arp.c) go through a line of keys, one per entry, which only filter:
 * an entry is still checked in full (in use, interface, address) before a lookup takes it. Test
 * builds also check every lookup against the scan of the entries.
 *
 * RFC 826, "Packet Reception": "If the pair <protocol type, sender protocol address> is already
 * in my translation table, update the sender hardware address field of the entry with the new
 * information in the packet and set Merge_flag to true. ?Am I the target protocol address? Yes:
 * If Merge_flag is false, add the triplet <protocol type, sender protocol address, sender
 * hardware address> to the translation table."
 *
 * A freed entry keeps its address (and so its key) until it is taken again: a resolution that
 * failed leaves one. A request from that address for another host must then not bring the entry
 * back: the host is not its target, and the address is in no entry.
 *
 * The table's head keeps copies of the configuration's ARP values (its size, the retry interval
 * and count, the lifetime) beside the keys; a copy that is not the configuration's shows in the
 * unicast poll's timing (RFC 1122 section 2.3.2.1), which a configuration other than the defaults
 * pins to the nanosecond.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_host_cfg.h"
#include "tern/introspect.h"
#include "tern/stack.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* The frames the host sent, by kind. */
typedef struct wire {
    uint32_t arp_requests, echo_requests;
    uint64_t last_arp_at, last_echo_at;
    uint32_t polls; /* ARP requests sent to 10.0.0.9's MAC (unicast polls) */
    uint64_t poll_at[16];
} wire;

static wire w;
static uint64_t now_ns;

static void out_fn(void *ctx, uint32_t iface, const uint8_t *f, size_t len) {
    (void)ctx;
    (void)iface;
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    if (type == 0x0806 && len >= 42 && f[21] == 1) {
        w.arp_requests++;
        w.last_arp_at = now_ns;
        static const uint8_t nine_mac[6] = {0x02, 0, 0, 0, 0, 9};
        if (memcmp(f, nine_mac, 6) == 0 && w.polls < 16) {
            w.poll_at[w.polls++] = now_ns;
        }
    } else if (type == 0x0800 && len >= 35 && f[23] == 1 && f[34] == 8) {
        w.echo_requests++;
        w.last_echo_at = now_ns;
    }
}

/* An ARP request from 10.0.0.9 (MAC 02:00:00:00:00:09) for `target`, broadcast. */
static void arp_request_from_9(tern_stack *st, uint8_t target) {
    uint8_t f[60] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0,     0,
        9,    0x08, 0x06, 0,    1,    0x08, 0,    6, 4, 0,     1, /* Ethernet, IPv4, request */
        0x02, 0,    0,    0,    0,    9,    10,   0, 0, 9,        /* sender */
        0,    0,    0,    0,    0,    0,    10,   0, 0, target};
    tern_stack_input(st, now_ns, 0, f, sizeof f);
}

static void run_until(tern_stack *st, uint64_t end) {
    for (int guard = 0; guard < 1000; guard++) {
        uint64_t at = tern_stack_poll_at(st);
        if (at > end) {
            break;
        }
        now_ns = at > now_ns ? at : now_ns;
        tern_stack_poll(st, now_ns);
    }
    now_ns = end;
}

/* Host 10.0.0.7 with a 4-entry ARP table and the configuration c, its wire record cleared, at 0. */
static tern_stack *start(tern_stack_config *c, void **mem) {
    c->arp_entries = 4;
    c->output = out_fn;
    size_t n = tern_stack_memory_size(c);
    *mem = aligned_alloc(64, (n + 63) / 64 * 64);
    tern_stack *st = NULL;
    CHECK(tern_stack_init(*mem, n, c, &st, NULL, 0) == TERN_OK);
    memset(&w, 0, sizeof w);
    now_ns = 0;
    return st;
}

static void test_freed_entry_is_not_found(void) {
    check_current = __func__;
    tern_stack_config c;
    test_host_cfg_v4(&c, 7, 0, 1);
    void *mem;
    tern_stack *st = start(&c, &mem);
    tern_sock ping;
    tern_addr nine = tern_addr_v4(10, 0, 0, 9);
    CHECK(tern_ping_open(st, 1, &ping) == TERN_OK);
    /* 10.0.0.9 does not answer: three requests a second apart, then the entry is freed */
    CHECK(tern_ping_send(st, ping, &nine, 1, NULL, 8, 0, false) == TERN_OK);
    run_until(st, 5 * SEC);
    CHECK_EQ_U64(w.arp_requests, 3);
    CHECK_EQ_U64(w.echo_requests, 0);
    tern_arp_info info;
    CHECK(tern_arp_get(st, 0, &info) == TERN_ERR_EMPTY); /* no entry in use */
    /* 10.0.0.9 asks for 10.0.0.7: not for us, so no entry (RFC 826) */
    arp_request_from_9(st, 7);
    CHECK(tern_arp_get(st, 0, &info) == TERN_ERR_EMPTY);
    /* so a ping to it resolves first: a request at once, no echo request before the answer */
    CHECK(tern_ping_send(st, ping, &nine, 2, NULL, 8, 0, false) == TERN_OK);
    run_until(st, now_ns + 10 * MS);
    CHECK_EQ_U64(w.arp_requests, 4);
    CHECK_EQ_U64(w.last_arp_at, 5 * SEC);
    CHECK_EQ_U64(w.echo_requests, 0);
    /* positive control: a request from 10.0.0.9 for us adds the entry, and the ping goes out */
    arp_request_from_9(st, 1);
    CHECK(tern_arp_get(st, 0, &info) == TERN_OK);
    run_until(st, now_ns + 10 * MS);
    CHECK_EQ_U64(w.echo_requests, 1);
    /* and one from it for another host now updates that entry (the merge): still one entry */
    arp_request_from_9(st, 7);
    CHECK(tern_arp_get(st, 0, &info) == TERN_OK);
    CHECK(tern_arp_get(st, 1, &info) == TERN_ERR_EMPTY);
    free(mem);
}

/*
 * RFC 1122 section 2.3.2.1: "(2) Unicast Poll -- Actively poll the remote host by periodically
 * sending a point-to-point ARP Request to it, and delete the entry if no ARP Reply is received
 * from N successive polls." An entry in use is polled from arp_retries x arp_retry before the end
 * of its lifetime until arp_retry before it, one request per arp_retry. With a lifetime of 10 s,
 * a retry of 250 ms and 5 retries, a neighbour learnt at 0 and used every 50 ms is polled at
 * 8.75, 9.0, 9.25, 9.5 and 9.75 s; with the defaults (1 s, 3) it would be at 7, 8 and 9 s, with
 * no retries never, and a lifetime of 60 s none before 10 s.
 */
static void test_unicast_poll_follows_the_configuration(void) {
    check_current = __func__;
    tern_stack_config c;
    test_host_cfg_v4(&c, 7, 0, 1);
    c.arp_timeout_ns = 10 * SEC;
    c.arp_retry_ns = 250 * MS;
    c.arp_retries = 5;
    void *mem;
    tern_stack *st = start(&c, &mem);
    arp_request_from_9(st, 1); /* for us: 10.0.0.9 learnt at 0, valid until 10 s */
    tern_arp_info info;
    CHECK(tern_arp_get(st, 0, &info) == TERN_OK);
    tern_sock ping;
    tern_addr nine = tern_addr_v4(10, 0, 0, 9);
    CHECK(tern_ping_open(st, 1, &ping) == TERN_OK);
    for (uint16_t seq = 1; now_ns < 10 * SEC - 50 * MS; seq++) {
        now_ns += 50 * MS;
        CHECK(tern_ping_send(st, ping, &nine, seq, NULL, 8, 0, false) == TERN_OK);
        run_until(st, now_ns);
    }
    CHECK_EQ_U64(w.echo_requests, 199); /* every ping went out: the entry stayed valid */
    CHECK_EQ_U64(w.polls, 5);
    for (uint32_t i = 0; i < 5; i++) {
        CHECK_EQ_U64(w.poll_at[i], 8750 * MS + i * 250 * MS);
    }
    CHECK_EQ_U64(w.arp_requests, 5); /* no broadcast request: nothing expired */
    free(mem);
}

int main(void) {
    RUN(test_freed_entry_is_not_found);
    RUN(test_unicast_poll_follows_the_configuration);
    return check_summary();
}
