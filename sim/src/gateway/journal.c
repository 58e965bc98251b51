/*
 * The host bridge's journal (tern/sim_hostbridge.h): a file of fixed-size
 * records, each followed by its data. It is written by the real-time driver
 * and the host-bridge nodes while a run uses the real host, and read back in
 * replay mode instead of the host. Records are in host byte order: a journal
 * is replayed on the machine kind that wrote it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sim_internal.h"
#include "tern/sim_hostbridge.h"

static const char MAGIC[16] = "TERN-JOURNAL-v1\n";

struct sim_journal {
    sim *s;
    FILE *f;
    sim_journal_mode mode;
    uint64_t count;
    bool have; /* a peeked record waits */
    sim_journal_rec rec;
    uint8_t *data;
};

tern_err sim_journal_open(sim *s, const char *path, sim_journal_mode mode, sim_journal **out) {
    if (mode != SIM_JOURNAL_RECORD && mode != SIM_JOURNAL_REPLAY) {
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "journal mode: %d, must be 1 or 2",
                        (int)mode);
    }
    sim_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->data = malloc(SIM_JOURNAL_MAX_DATA))) {
        free(j);
        return sim_fail(s, TERN_ERR_NO_MEMORY, "journal: out of memory");
    }
    j->s = s;
    j->mode = mode;
    j->f = fopen(path, mode == SIM_JOURNAL_RECORD ? "wb" : "rb");
    if (!j->f) {
        int e = errno;
        sim_journal_close(j);
        return sim_fail(s, TERN_ERR_IO, "journal %s: %s", path, strerror(e));
    }
    char m[sizeof MAGIC];
    if (mode == SIM_JOURNAL_RECORD) {
        fwrite(MAGIC, 1, sizeof MAGIC, j->f);
    } else if (fread(m, 1, sizeof m, j->f) != sizeof m || memcmp(m, MAGIC, sizeof m) != 0) {
        sim_journal_close(j);
        return sim_fail(s, TERN_ERR_INVALID_ARGUMENT, "journal %s: not a Tern host-bridge journal",
                        path);
    }
    *out = j;
    sim_ok(s);
    return TERN_OK;
}

void sim_journal_close(sim_journal *j) {
    if (!j) {
        return;
    }
    if (j->f) {
        fclose(j->f);
    }
    free(j->data);
    free(j);
}

sim_journal_mode sim_journal_get_mode(const sim_journal *j) {
    return j->mode;
}

uint64_t sim_journal_count(const sim_journal *j) {
    return j->count;
}

tern_err sim_journal_write(sim_journal *j, const sim_journal_rec *rec, const uint8_t *data) {
    if (j->mode != SIM_JOURNAL_RECORD) {
        return sim_fail(j->s, TERN_ERR_BAD_STATE, "journal: written in replay mode");
    }
    if (rec->len > SIM_JOURNAL_MAX_DATA || fwrite(rec, sizeof *rec, 1, j->f) != 1 ||
        (rec->len && fwrite(data, 1, rec->len, j->f) != rec->len)) {
        return sim_fail(j->s, TERN_ERR_IO, "journal: write of record %llu failed",
                        (unsigned long long)j->count);
    }
    /* Not flushed here: a write(2) per host event was 5 % of the bridge's time per connection.
     * The real-time driver flushes before each wait and at the end of each run
     * (sim_journal_flush), so a run that crashes keeps its journal up to its last wait. */
    j->count++;
    return TERN_OK;
}

tern_err sim_journal_flush(sim_journal *j) {
    if (j->mode != SIM_JOURNAL_RECORD || fflush(j->f) == 0) {
        return TERN_OK;
    }
    return sim_fail(j->s, TERN_ERR_IO, "journal: write after record %llu failed: %s",
                    (unsigned long long)j->count, strerror(errno));
}

tern_err sim_journal_peek(sim_journal *j, sim_journal_rec *rec, const uint8_t **data) {
    if (j->mode != SIM_JOURNAL_REPLAY) {
        return sim_fail(j->s, TERN_ERR_BAD_STATE, "journal: read in record mode");
    }
    if (!j->have) {
        size_t got = fread(&j->rec, 1, sizeof j->rec, j->f);
        if (got == 0 && feof(j->f)) {
            return TERN_ERR_EMPTY;
        }
        if (got != sizeof j->rec || j->rec.len > SIM_JOURNAL_MAX_DATA ||
            (j->rec.len && fread(j->data, 1, j->rec.len, j->f) != j->rec.len)) {
            return sim_fail(j->s, TERN_ERR_IO, "journal: record %llu is truncated or corrupt",
                            (unsigned long long)j->count);
        }
        j->have = true;
    }
    *rec = j->rec;
    if (data) {
        *data = j->data;
    }
    return TERN_OK;
}

void sim_journal_next(sim_journal *j) {
    if (j->have) {
        j->have = false;
        j->count++;
    }
}
