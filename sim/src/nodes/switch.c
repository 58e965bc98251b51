/*
 * A learning Ethernet switch (IEEE 802.1D transparent bridging without
 * spanning tree): learn source MACs per port, forward known unicast, flood
 * the rest, forget entries not refreshed within the ageing time.
 *
 * The MAC table is an open-addressing hash table of fixed size. Its hash is
 * of the MAC bytes only, so the behaviour never depends on addresses in
 * memory. Expired entries are found lazily when looked up (no timers).
 *
 * The table's slots live in blocks of BLOCK slots, each allocated when an
 * entry is first written into it; a slot of a block not allocated is empty.
 * Why: the default table (4,096 entries, 8,192 slots of 24 bytes) is 196 KB,
 * of which a switch of a few ports uses a few entries, each on a page of its
 * own (the hash spreads them). With a thousand switches (bench_scale at
 * 10,000 hosts) the first touch of those pages, inside the run, was a third
 * of the run's page faults, and every lookup a line on a page of its own for
 * the TLB (issue 19). The slots, the hash and the probe order are the same
 * as in one array, so which slot an entry takes, and so every lookup, ageing
 * and table_full count, is unchanged.
 *
 * Each port keeps two hints, in the switch's own allocation: the slot of the
 * source MAC last seen on it and of the destination its last frame was
 * looked up for. A host's port sees one source and mostly one destination,
 * so a frame's two lookups usually read their slots only, not the block
 * pointer first (with a thousand switches each a miss of its own, issue 19).
 * A hint is used only when its slot holds the MAC looked up, and then it is
 * the slot find would return (below): what is learned, aged and forwarded is
 * unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"

typedef struct mac_entry {
    uint8_t mac[6];
    bool used;
    uint32_t port;
    uint64_t last_seen;
} mac_entry;

/* Slots per block (the table has at least 16 slots: a block never holds more than the table). */
#define BLOCK_BITS 4u
#define BLOCK (1u << BLOCK_BITS)

/* A port's hints: slots (never freed while the switch lives), or NULL. */
typedef struct port_hint {
    mac_entry *src, *dst;
} port_hint;

typedef struct switch_state {
    sim *s;
    sim_node_id id;
    uint32_t nports;
    uint64_t ageing;
    mac_entry **blocks; /* slots / BLOCK pointers; NULL: a block whose slots are all empty */
    uint32_t slots;     /* power of two, at least twice the capacity */
    uint32_t capacity;
    uint32_t count;
    sim_switch_counters c;
    port_hint hint[]; /* nports */
} switch_state;

static uint32_t mac_hash(const uint8_t mac[6]) {
    /* FNV-1a over the six bytes: deterministic and spreads OUIs well enough. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++) {
        h = (h ^ mac[i]) * 16777619u;
    }
    return h;
}

static bool expired(const switch_state *sw, const mac_entry *e, uint64_t now) {
    return now - e->last_seen >= sw->ageing;
}

/* Slot i, or NULL when its block was never written (the slot is empty). */
static mac_entry *slot_at(const switch_state *sw, uint32_t i) {
    mac_entry *b = sw->blocks[i >> BLOCK_BITS];
    return b ? &b[i & (BLOCK - 1)] : NULL;
}

/* The slot holding mac (live or expired), or NULL. */
static mac_entry *find(switch_state *sw, const uint8_t mac[6]) {
    uint32_t mask = sw->slots - 1;
    for (uint32_t i = mac_hash(mac) & mask, n = 0; n < sw->slots; i = (i + 1) & mask, n++) {
        mac_entry *e = slot_at(sw, i);
        if (!e || !e->used) {
            return NULL;
        }
        if (memcmp(e->mac, mac, 6) == 0) {
            return e;
        }
    }
    return NULL;
}

/* find, tried at *hint first. Exact: a MAC is in one slot at most (learn adds one only when find
 * finds none) and slots never empty (a probe path never breaks), so a slot holding mac is the one
 * find returns. */
static mac_entry *find_hinted(switch_state *sw, mac_entry **hint, const uint8_t mac[6]) {
    mac_entry *e = *hint;
    if (e && memcmp(e->mac, mac, 6) == 0) {
        return e;
    }
    e = find(sw, mac);
    if (e) {
        *hint = e;
    }
    return e;
}

static void learn(switch_state *sw, const uint8_t mac[6], uint32_t port, uint64_t now) {
    mac_entry *e = find_hinted(sw, &sw->hint[port].src, mac);
    if (e) {
        if (expired(sw, e, now)) {
            sw->c.aged++;
        } else if (e->port != port) {
            sw->c.moved++;
        }
        e->port = port;
        e->last_seen = now;
        return;
    }
    /* New MAC: reuse the first expired slot on its probe path, else an empty one. */
    uint32_t mask = sw->slots - 1;
    mac_entry *slot = NULL;
    for (uint32_t i = mac_hash(mac) & mask, n = 0; n < sw->slots; i = (i + 1) & mask, n++) {
        mac_entry *cand = slot_at(sw, i);
        if (!cand || !cand->used) {
            if (sw->count >= sw->capacity) {
                sw->c.table_full++;
                return;
            }
            if (!cand) {
                mac_entry *b = calloc(BLOCK, sizeof *b);
                if (!b) {
                    sw->c.table_full++; /* out of memory: not learned, as with a full table */
                    return;
                }
                sw->blocks[i >> BLOCK_BITS] = b;
                cand = &b[i & (BLOCK - 1)];
            }
            sw->count++;
            slot = cand;
            break;
        }
        if (expired(sw, cand, now)) {
            sw->c.aged++;
            slot = cand;
            break;
        }
    }
    if (!slot) {
        sw->c.table_full++;
        return;
    }
    memcpy(slot->mac, mac, 6);
    slot->used = true;
    slot->port = port;
    slot->last_seen = now;
    sw->hint[port].src = slot;
    sw->c.learned++;
}

static void switch_input(void *state, uint64_t now, uint32_t port, const uint8_t *frame,
                         size_t len) {
    switch_state *sw = state;
    if (len < 12) {
        sw->c.runts++;
        return;
    }
    const uint8_t *dst = frame;
    const uint8_t *src = frame + 6;
    /* A multicast source address is invalid (IEEE 802.3 §3.2.3); never learn it. */
    if (!(src[0] & 1)) {
        learn(sw, src, port, now);
    }
    if (!(dst[0] & 1)) {
        mac_entry *e = find_hinted(sw, &sw->hint[port].dst, dst);
        if (e && !expired(sw, e, now)) {
            if (e->port == port) {
                sw->c.filtered++;
            } else {
                sw->c.forwarded++;
                sim_node_send(sw->s, sw->id, e->port, frame, len);
            }
            return;
        }
    }
    sw->c.flooded++;
    sim_node *n = sim_get_node(sw->s, sw->id);
    for (uint32_t p = 0; p < sw->nports; p++) {
        if (p != port && n->port_dir[p]) {
            sim_node_send(sw->s, sw->id, p, frame, len);
        }
    }
}

static const sim_node_ops switch_ops = {switch_input, NULL, NULL, NULL};

void sim_switch_destroy_state(void *state) {
    switch_state *sw = state;
    if (sw->blocks) {
        for (uint32_t b = 0; b < sw->slots / BLOCK; b++) {
            free(sw->blocks[b]);
        }
    }
    free(sw->blocks);
    free(sw);
}

tern_err sim_switch_add(sim *s, const char *name, uint32_t nports, uint64_t ageing_ns,
                        uint32_t table_size, sim_node_id *out) {
    if (table_size > (1u << 24)) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "switch '%s' table_size=%u: at most %u",
                        name ? name : "", table_size, 1u << 24);
    }
    /* Hints for every port; none when nports is out of range, which sim_node_add refuses. */
    size_t hints = nports <= 1024 ? nports : 0;
    switch_state *sw = calloc(1, sizeof *sw + hints * sizeof(port_hint));
    if (!sw) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "switch: out of memory");
    }
    sw->s = s;
    sw->nports = nports;
    sw->ageing = ageing_ns ? ageing_ns : 300ull * 1000000000ull;
    sw->capacity = table_size ? table_size : 4096;
    sw->slots = 16;
    while (sw->slots < 2 * sw->capacity) {
        sw->slots <<= 1;
    }
    _Static_assert(16 % BLOCK == 0, "the smallest table is whole blocks");
    sw->blocks = calloc(sw->slots / BLOCK, sizeof *sw->blocks);
    if (!sw->blocks) {
        free(sw);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "switch: out of memory");
    }
    tern_err err = sim_node_add(s, name, "switch", nports, &switch_ops, sw, &sw->id);
    if (err != TERN_OK) {
        sim_switch_destroy_state(sw);
        return err;
    }
    s->nodes[sw->id].type = NODE_SWITCH;
    *out = sw->id;
    return TERN_OK;
}

static switch_state *get_switch(const sim *s, sim_node_id id, tern_err *err) {
    if (id >= s->nnodes) {
        *err = TERN_ERR_UNKNOWN_NODE;
        return NULL;
    }
    if (s->nodes[id].type != NODE_SWITCH) {
        *err = TERN_ERR_WRONG_KIND;
        return NULL;
    }
    return s->nodes[id].state;
}

tern_err sim_switch_get_counters(const sim *s, sim_node_id id, sim_switch_counters *out) {
    tern_err err = TERN_OK;
    switch_state *sw = get_switch(s, id, &err);
    if (!sw) {
        return err;
    }
    *out = sw->c;
    return TERN_OK;
}

tern_err sim_switch_lookup(const sim *s, sim_node_id id, const uint8_t mac[6], uint32_t *port) {
    tern_err err = TERN_OK;
    switch_state *sw = get_switch(s, id, &err);
    if (!sw) {
        return err;
    }
    mac_entry *e = find(sw, mac);
    if (!e || expired(sw, e, s->now)) {
        return TERN_ERR_EMPTY;
    }
    *port = e->port;
    return TERN_OK;
}
