/* pcap files through libpcap (tern/sim_pcap.h). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/sim_pcap.h"

struct sim_pcap_reader {
    pcap_t *p;
    char path[256];
};

struct sim_pcap_writer {
    pcap_t *p;
    pcap_dumper_t *d;
};

static void say(char *msg, size_t cap, const char *fmt, const char *a, const char *b) {
    if (msg && cap) {
        snprintf(msg, cap, fmt, a, b);
    }
}

tern_err sim_pcap_reader_open(const char *path, sim_pcap_reader **out, int *linktype, char *msg,
                              size_t cap) {
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        say(msg, cap, "pcap file '%s': %s", path, err);
        return TERN_ERR_IO;
    }
    sim_pcap_reader *r = calloc(1, sizeof *r);
    if (!r) {
        pcap_close(p);
        return TERN_ERR_NO_MEMORY;
    }
    r->p = p;
    snprintf(r->path, sizeof r->path, "%s", path);
    if (linktype) {
        *linktype = pcap_datalink(p);
    }
    *out = r;
    return TERN_OK;
}

tern_err sim_pcap_reader_next(sim_pcap_reader *r, const uint8_t **data, size_t *len,
                              size_t *wire_len, uint64_t *time_ns, char *msg, size_t cap) {
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(r->p, &h, &d);
    if (rc == PCAP_ERROR_BREAK) {
        return TERN_ERR_EMPTY;
    }
    if (rc != 1) {
        say(msg, cap, "pcap file '%s': %s", r->path, pcap_geterr(r->p));
        return TERN_ERR_IO;
    }
    *data = d;
    *len = h->caplen;
    if (wire_len) {
        *wire_len = h->len;
    }
    /* Opened with nanosecond precision: libpcap scales tv_usec to nanoseconds. */
    *time_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
    return TERN_OK;
}

void sim_pcap_reader_close(sim_pcap_reader *r) {
    if (r) {
        pcap_close(r->p);
        free(r);
    }
}

tern_err sim_pcap_writer_open(const char *path, sim_pcap_writer **out, char *msg, size_t cap) {
    pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65536, PCAP_TSTAMP_PRECISION_NANO);
    if (!p) {
        return TERN_ERR_NO_MEMORY;
    }
    pcap_dumper_t *d = pcap_dump_open(p, path);
    if (!d) {
        say(msg, cap, "pcap file '%s': %s", path, pcap_geterr(p));
        pcap_close(p);
        return TERN_ERR_IO;
    }
    sim_pcap_writer *w = calloc(1, sizeof *w);
    if (!w) {
        pcap_dump_close(d);
        pcap_close(p);
        return TERN_ERR_NO_MEMORY;
    }
    w->p = p;
    w->d = d;
    *out = w;
    return TERN_OK;
}

tern_err sim_pcap_writer_write(sim_pcap_writer *w, uint64_t time_ns, const uint8_t *data,
                               size_t len) {
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(time_ns / 1000000000ull);
    h.ts.tv_usec = (suseconds_t)(time_ns % 1000000000ull);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)w->d, &h, data);
    return TERN_OK;
}

tern_err sim_pcap_writer_close(sim_pcap_writer *w) {
    if (!w) {
        return TERN_OK;
    }
    tern_err err = pcap_dump_flush(w->d) == 0 ? TERN_OK : TERN_ERR_IO;
    pcap_dump_close(w->d);
    pcap_close(w->p);
    free(w);
    return err;
}
