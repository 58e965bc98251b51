/*
 * Link capture through libpcap: Ethernet link type, nanosecond timestamps
 * taken from virtual time, so the same seed gives the same file byte for byte.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>

#include "sim_internal.h"

void sim_capture_close_link(sim_link *l) {
    if (l->capture) {
        pcap_dump_close(l->capture);
        l->capture = NULL;
    }
    if (l->capture_pcap) {
        pcap_close(l->capture_pcap);
        l->capture_pcap = NULL;
    }
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
    sim_capture_close_link(l);
    l->capture = d;
    l->capture_pcap = p;
    l->capture_side = side;
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

void sim_capture_write(sim *s, sim_link *l, uint64_t time, const uint8_t *data, size_t len) {
    (void)s;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    /* With nanosecond precision libpcap stores tv_usec as nanoseconds. */
    time += l->capture_epoch; /* 0 unless sim_link_capture_set_epoch */
    h.ts.tv_sec = (time_t)(time / 1000000000ull);
    h.ts.tv_usec = (suseconds_t)(time % 1000000000ull);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)l->capture, &h, data);
}
