/*
 * Scripted faults: the first stage of a link direction. A fault selects
 * frames (the n-th, the next N matching a libpcap filter, or those entering
 * during a time window) and drops, delays, duplicates or corrupts them,
 * counting every hit so a test can assert that its fault happened.
 */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"

tern_err sim_fault_compile(sim *s, const char *where, const char *bpf, void **prog) {
    pcap_t *p = pcap_open_dead(DLT_EN10MB, SIM_MAX_FRAME);
    if (!p) {
        return sim_fail(s, TERN_ERR_NO_MEMORY, "%s fault filter: libpcap could not start", where);
    }
    struct bpf_program *bp = calloc(1, sizeof *bp);
    if (!bp) {
        pcap_close(p);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "%s fault filter: out of memory", where);
    }
    if (pcap_compile(p, bp, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        tern_err err = sim_fail(s, TERN_ERR_BAD_FILTER, "%s fault filter='%s': %s", where, bpf,
                                pcap_geterr(p));
        free(bp);
        pcap_close(p);
        return err;
    }
    pcap_close(p);
    *prog = bp;
    return TERN_OK;
}

void sim_fault_free(sim_fault *f) {
    if (f->bpf) {
        pcap_freecode(f->bpf);
        free(f->bpf);
        f->bpf = NULL;
    }
}

static bool selects(sim *s, sim_fault *f, uint64_t index, const uint8_t *data, size_t len) {
    switch (f->selector) {
    case FAULT_NTH:
        return index == f->nth;
    case FAULT_WINDOW:
        return s->now >= f->start && s->now < f->end;
    case FAULT_FILTER: {
        if (f->remaining == 0) {
            return false;
        }
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.caplen = (bpf_u_int32)len;
        h.len = (bpf_u_int32)len;
        if (pcap_offline_filter(f->bpf, &h, data) == 0) {
            return false;
        }
        if (f->skip) { /* counting matches only: the nth match is the first hit */
            f->skip--;
            return false;
        }
        f->remaining--;
        return true;
    }
    }
    return false;
}

bool sim_faults_apply(sim *s, sim_linkdir *ld, uint64_t index, uint8_t *data, size_t len,
                      bool *duplicate, uint64_t *extra_delay) {
    for (uint32_t i = 0; i < ld->nfaults; i++) {
        sim_fault *f = &ld->faults[i];
        if (!selects(s, f, index, data, len)) {
            continue;
        }
        f->hits++;
        switch (f->action) {
        case SIM_FAULT_DROP:
            return false;
        case SIM_FAULT_DELAY:
            *extra_delay += f->delay_ns;
            ld->c.fault_delayed++;
            break;
        case SIM_FAULT_DUPLICATE:
            *duplicate = true;
            ld->c.fault_duplicated++;
            break;
        case SIM_FAULT_CORRUPT: {
            uint64_t bit = sim_rng_below(&ld->rng_fault, (uint64_t)len * 8);
            data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ld->c.fault_corrupted++;
            break;
        }
        }
    }
    return true;
}
