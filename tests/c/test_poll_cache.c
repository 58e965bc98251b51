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
#include "tern/stack.h"

#define MS 1000000ull

static uint64_t frames_out;

static void count_output(void *ctx, uint32_t iface, const uint8_t *frame, size_t len) {
    (void)ctx;
    (void)iface;
    (void)frame;
    (void)len;
    frames_out++;
}

/* A host with IPv6 on (link-local address, DAD, MLD reports, Router Solicitations at start-up),
 * IGMP and an IPv4 address: every quiet module but DHCP and mDNS has timers. */
static tern_stack *host(void **mem) {
    tern_stack_config c;
    tern_stack_config_default(&c, 1);
    c.niface = 1;
    uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
    memcpy(c.iface[0].mac, mac, 6);
    c.iface[0].naddrs = 1;
    c.iface[0].addr[0] = tern_addr_v4(10, 0, 0, 1);
    c.iface[0].prefix_len[0] = 24;
    c.ipv6_autoconf = true;
    c.output = count_output;
    size_t size = tern_stack_memory_size(&c);
    *mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
    tern_stack *st = NULL;
    char msg[128];
    CHECK(tern_stack_init(*mem, size, &c, &st, msg, sizeof msg) == TERN_OK);
    return st;
}

static void test_quiet_poll_keeps_the_cache(void) {
    void *mem;
    tern_stack *st = host(&mem);
    if (!st) {
        return;
    }
    /* Start-up (DAD, MLD reports, Router Solicitations): poll at every deadline the stack asks
     * for until a quiet module's timer is at least 100 ms ahead and nothing is due in the next
     * 5 ms. */
    const tern_poll_cache *pc = st->poll_cache;
    uint64_t now = 1000 * MS, next = 0;
    tern_stack_poll(st, now);
    for (int i = 0; i < 200; i++) {
        next = tern_stack_poll_at(st);
        if (next == TERN_NEVER ||
            (pc->valid && pc->at != TERN_NEVER && pc->at > now + 100 * MS && next > now + 5 * MS)) {
            break;
        }
        now = next > now ? next : now + 1;
        tern_stack_poll(st, now);
    }
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

int main(void) {
    RUN(test_quiet_poll_keeps_the_cache);
    return check_summary();
}
