/*
 * Link capture through libpcap: Ethernet link type, nanosecond timestamps
 * taken from virtual time, so the same seed gives the same file byte for byte.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"

static void close_side(sim_link *l, uint32_t side) {
    if (l->capture[side]) {
        pcap_dump_close(l->capture[side]);
        l->capture[side] = NULL;
    }
    if (l->capture_pcap[side]) {
        pcap_close(l->capture_pcap[side]);
        l->capture_pcap[side] = NULL;
    }
    if (l->capture_events[side]) {
        fclose(l->capture_events[side]);
        l->capture_events[side] = NULL;
    }
    free(l->capture_events_path[side]);
    l->capture_events_path[side] = NULL;
    l->capture_count[side] = 0;
    sim_link_watched(l);
}

void sim_capture_close_link(sim_link *l) {
    close_side(l, 0);
    close_side(l, 1);
}

tern_err sim_link_capture(sim *s, sim_link_id link, uint32_t side, const char *path) {
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    if (side > 1) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT,
                        "link %u capture side=%u: must be 0 (a) or 1 (b)", link, side);
    }
    if (!path || !*path) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "link %u capture path: must not be empty",
                        link);
    }
    pcap_t *p =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SIM_MAX_FRAME, PCAP_TSTAMP_PRECISION_NANO);
    if (!p) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "link %u capture: libpcap could not start", link);
    }
    errno = 0;
    pcap_dumper_t *d = pcap_dump_open(p, path);
    if (!d) {
        tern_err err =
            sim_fail(s, TERN_ERR_IO, "link %u capture path='%s': %s", link, path, pcap_geterr(p));
        pcap_close(p);
        return err;
    }
    /* The events file: libpcap's savefile format has no per-frame comment, and
     * pcapng (which has) cannot be written through libpcap, so what the link
     * did to a frame goes beside the pcap, one "<frame> <time ns> <what>" line.
     * It is created at the first event (most captures have none); one left by
     * an earlier capture to the same path is removed now so it cannot mislead. */
    size_t plen = strlen(path);
    char *events_path = malloc(plen + sizeof ".events");
    if (!events_path) {
        pcap_dump_close(d);
        pcap_close(p);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "link %u capture: no memory for the events path",
                        link);
    }
    memcpy(events_path, path, plen);
    memcpy(events_path + plen, ".events", sizeof ".events");
    (void)remove(events_path);
    close_side(l, side); /* a new capture of the same end replaces it; the other end's stays */
    l->capture[side] = d;
    l->capture_pcap[side] = p;
    l->capture_events_path[side] = events_path;
    l->capture_count[side] = 0;
    sim_link_watched(l);
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_capture_set_epoch(sim *s, sim_link_id link, uint64_t epoch_ns) {
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    l->capture_epoch = epoch_ns;
    sim_ok(s);
    return TERN_OK;
}

tern_err sim_link_capture_close(sim *s, sim_link_id link) {
    sim_link *l = sim_get_link(s, link);
    if (!l) {
        return sim_fail(s, TERN_ERR_UNKNOWN_LINK, "link id %u: no such link", link);
    }
    sim_capture_close_link(l);
    sim_ok(s);
    return TERN_OK;
}

uint64_t sim_capture_write(sim *s, sim_link *l, uint32_t side, uint64_t time, const uint8_t *data,
                           size_t len) {
    (void)s;
    if (!l->capture[side]) {
        return 0;
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    /* With nanosecond precision libpcap stores tv_usec as nanoseconds. */
    time += l->capture_epoch; /* 0 unless sim_link_capture_set_epoch */
    h.ts.tv_sec = (time_t)(time / 1000000000ull);
    h.ts.tv_usec = (suseconds_t)(time % 1000000000ull);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)l->capture[side], &h, data);
    return ++l->capture_count[side];
}

void sim_capture_note(sim *s, sim_link *l, uint32_t side, uint64_t cap_no, const char *what) {
    if (!cap_no || !l->capture_events_path[side]) {
        return;
    }
    if (!l->capture_events[side]) {
        l->capture_events[side] = fopen(l->capture_events_path[side], "w");
        if (!l->capture_events[side]) {
            /* The pcap itself is fine; say once why its events are missing. */
            fprintf(stderr, "tern sim: cannot write %s: %s\n", l->capture_events_path[side],
                    strerror(errno));
            free(l->capture_events_path[side]);
            l->capture_events_path[side] = NULL;
            return;
        }
    }
    fprintf(l->capture_events[side], "%llu %llu %s\n", (unsigned long long)cap_no,
            (unsigned long long)s->now, what);
}
