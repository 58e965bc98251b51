/*
 * The throughput matrix (issue 4 "Tests"): receive buffer sizes x loss rates
 * at a fixed seed, 4 MiB from one Tern host to another over 100 Mbit/s with
 * a 20 ms RTT (CUBIC, SACK, timestamps, window scaling). The goodputs
 * (virtual time, integer bits per second) are committed in
 * tcp_throughput_matrix.txt next to this file and compared exactly, so that
 * any change in TCP behaviour shows up as a diff.
 *
 * On a mismatch the test prints the differing lines and fails. After an
 * intended behaviour change, regenerate the file with
 *     TCP_MATRIX_UPDATE=1 build/tests/c/test_tcp_throughput_matrix
 * (it rewrites tests/c/tcp_throughput_matrix.txt in the source tree) and
 * commit the new figures with the change that explains them.
 */
#include <stdio.h>

#include "test_tcp_pair.h"

static const uint32_t rx_buffers[] = {8192, 65536, 262144, 1048576};
static const uint32_t loss_ppm[] = {0, 1000, 10000, 50000}; /* 0, 0.1 %, 1 %, 5 % */
#define NB (sizeof rx_buffers / sizeof rx_buffers[0])
#define NL (sizeof loss_ppm / sizeof loss_ppm[0])
#define LINE 128

static void matrix_path(char *out, size_t cap) {
    /* this source file's directory (CMake compiles with absolute paths) */
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    size_t n = slash ? (size_t)(slash - f) : 0;
    if (n == 0) {
        snprintf(out, cap, "tcp_throughput_matrix.txt");
        return;
    }
    snprintf(out, cap, "%.*s/tcp_throughput_matrix.txt", (int)n, f);
}

static void test_matrix(void) {
    static char got[NB * NL][LINE];
    for (size_t i = 0; i < NB; i++) {
        for (size_t j = 0; j < NL; j++) {
            pair_cfg o;
            memset(&o, 0, sizeof o);
            o.bytes = 4u << 20;
            o.seed = 2026;
            o.options = true;
            o.cc = TERN_TCP_CC_CUBIC;
            o.loss = (double)loss_ppm[j] / 1e6;
            o.rate_bps = 100000000;
            o.delay_ns = 10 * MS;
            o.rx_buffer = rx_buffers[i];
            o.tx_buffer = 1u << 20;
            o.step_ns = 1 * MS;
            pair_result r = pair_run(&o);
            CHECK(r.ok);
            snprintf(got[i * NL + j], LINE, "rx_buffer %7u loss_ppm %5u goodput_bps %10llu",
                     rx_buffers[i], loss_ppm[j], (unsigned long long)r.goodput_bps);
        }
    }
    char path[1024];
    matrix_path(path, sizeof path);
    const char *header =
        "# TCP throughput matrix (tests/c/test_tcp_throughput_matrix.c): 4 MiB, 100 Mbit/s,\n"
        "# 20 ms RTT, CUBIC + SACK/TS/WS, seed 2026; virtual-time goodput in bit/s.\n"
        "# Regenerate: TCP_MATRIX_UPDATE=1 build/tests/c/test_tcp_throughput_matrix\n";
    if (getenv("TCP_MATRIX_UPDATE")) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
            return;
        fputs(header, f);
        for (size_t k = 0; k < NB * NL; k++)
            fprintf(f, "%s\n", got[k]);
        fclose(f);
        fprintf(stderr, "  wrote %s\n", path);
        return;
    }
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) {
        fprintf(stderr, "  %s missing: regenerate with TCP_MATRIX_UPDATE=1\n", path);
        return;
    }
    char line[LINE * 2];
    size_t k = 0;
    int diffs = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        if (k >= NB * NL) {
            fprintf(stderr, "  - %s\n", line);
            diffs++;
            continue;
        }
        if (strcmp(line, got[k]) != 0) {
            fprintf(stderr, "  - %s\n  + %s\n", line, got[k]);
            diffs++;
        }
        k++;
    }
    for (; k < NB * NL; k++) {
        fprintf(stderr, "  + %s\n", got[k]);
        diffs++;
    }
    fclose(f);
    if (diffs)
        fprintf(stderr,
                "  the throughput matrix changed (%d lines; - committed, + now). If intended:\n"
                "  TCP_MATRIX_UPDATE=1 %s, and commit %s\n",
                diffs, "build/tests/c/test_tcp_throughput_matrix", path);
    CHECK_EQ_U64(diffs, 0);
}

int main(void) {
    RUN(test_matrix);
    return check_summary();
}
