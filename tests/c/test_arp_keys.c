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

static void test_freed_entry_is_not_found(void) {
    check_current = __func__;
    tern_stack_config c;
    test_host_cfg_v4(&c, 7, 0, 1);
    c.arp_entries = 4;
    c.output = out_fn;
    size_t n = tern_stack_memory_size(&c);
    void *mem = aligned_alloc(64, (n + 63) / 64 * 64);
    tern_stack *st;
    CHECK(tern_stack_init(mem, n, &c, &st, NULL, 0) == TERN_OK);
    memset(&w, 0, sizeof w);
    now_ns = 0;
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

int main(void) {
    RUN(test_freed_entry_is_not_found);
    return check_summary();
}
