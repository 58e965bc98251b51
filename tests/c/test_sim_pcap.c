/* pcap files through libpcap: write, read back with nanosecond times, and bad files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tern/sim_pcap.h"

static void test_round_trip_nanoseconds(void) {
    sim_pcap_writer *w;
    char msg[300];
    CHECK(sim_pcap_writer_open("rt.pcap", &w, msg, sizeof msg) == TERN_OK);
    uint8_t f1[60] = {1, 2, 3}, f2[1514];
    memset(f2, 0xab, sizeof f2);
    CHECK(sim_pcap_writer_write(w, 1, f1, sizeof f1) == TERN_OK);
    CHECK(sim_pcap_writer_write(w, 12345678901234567ull, f2, sizeof f2) == TERN_OK);
    CHECK(sim_pcap_writer_close(w) == TERN_OK);
    sim_pcap_reader *r;
    int lt = -1;
    CHECK(sim_pcap_reader_open("rt.pcap", &r, &lt, msg, sizeof msg) == TERN_OK);
    CHECK_EQ_U64(lt, 1);
    const uint8_t *d;
    size_t len, wire;
    uint64_t t;
    CHECK(sim_pcap_reader_next(r, &d, &len, &wire, &t, msg, sizeof msg) == TERN_OK);
    CHECK_EQ_U64(t, 1);
    CHECK_EQ_U64(len, 60);
    CHECK(memcmp(d, f1, 60) == 0);
    CHECK(sim_pcap_reader_next(r, &d, &len, &wire, &t, msg, sizeof msg) == TERN_OK);
    CHECK_EQ_U64(t, 12345678901234567ull);
    CHECK_EQ_U64(len, 1514);
    CHECK(sim_pcap_reader_next(r, &d, &len, &wire, &t, msg, sizeof msg) == TERN_ERR_EMPTY);
    sim_pcap_reader_close(r);
    unlink("rt.pcap");
}

static void test_bad_files(void) {
    sim_pcap_reader *r;
    char msg[300];
    CHECK(sim_pcap_reader_open("/nonexistent/x.pcap", &r, NULL, msg, sizeof msg) == TERN_ERR_IO);
    CHECK_CONTAINS(msg, "/nonexistent/x.pcap");
    FILE *f = fopen("junk.pcap", "wb");
    fputs("this is not a pcap file at all", f);
    fclose(f);
    CHECK(sim_pcap_reader_open("junk.pcap", &r, NULL, msg, sizeof msg) == TERN_ERR_IO);
    CHECK_CONTAINS(msg, "junk.pcap");
    unlink("junk.pcap");
    sim_pcap_writer *w;
    CHECK(sim_pcap_writer_open("/nonexistent/y.pcap", &w, msg, sizeof msg) == TERN_ERR_IO);
    CHECK_CONTAINS(msg, "/nonexistent/y.pcap");
    /* A file cut in the middle of a record. */
    CHECK(sim_pcap_writer_open("cut.pcap", &w, msg, sizeof msg) == TERN_OK);
    uint8_t frame[100] = {0};
    sim_pcap_writer_write(w, 5, frame, sizeof frame);
    sim_pcap_writer_close(w);
    CHECK(truncate("cut.pcap", 24 + 16 + 50) == 0);
    CHECK(sim_pcap_reader_open("cut.pcap", &r, NULL, msg, sizeof msg) == TERN_OK);
    const uint8_t *d;
    size_t len;
    uint64_t t;
    CHECK(sim_pcap_reader_next(r, &d, &len, NULL, &t, msg, sizeof msg) == TERN_ERR_IO);
    CHECK_CONTAINS(msg, "cut.pcap");
    sim_pcap_reader_close(r);
    unlink("cut.pcap");
}

int main(void) {
    RUN(test_round_trip_nanoseconds);
    RUN(test_bad_files);
    return check_summary();
}
