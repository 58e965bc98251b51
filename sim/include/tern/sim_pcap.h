/*
 * pcap files through libpcap, with nanosecond timestamps: what the Python
 * harness uses to read captures and write golden traces, so that nobody
 * parses the file format by hand.
 *
 * Errors: TERN_ERR_IO with a message (naming the path and libpcap's reason)
 * in the caller's buffer.
 */
#ifndef TERN_SIM_PCAP_H
#define TERN_SIM_PCAP_H

#ifndef TERN_CDEF
#include <stddef.h>
#include <stdint.h>

#include "tern/errors.h"
#endif

typedef struct sim_pcap_reader sim_pcap_reader;
typedef struct sim_pcap_writer sim_pcap_writer;

/*
 * sim_pcap_reader_open: open a pcap file (microsecond or nanosecond
 * resolution; timestamps are returned in nanoseconds either way).
 *   linktype  receives the file's link type (1 = Ethernet), may be NULL.
 * Returns TERN_OK, TERN_ERR_IO (msg says why), TERN_ERR_NO_MEMORY.
 */
tern_err sim_pcap_reader_open(const char *path, sim_pcap_reader **out, int *linktype, char *msg,
                              size_t cap);

/*
 * sim_pcap_reader_next: the next frame. *data stays valid until the next call.
 *   len       captured length; wire_len (may be NULL) the original length.
 * Returns TERN_OK; TERN_ERR_EMPTY at the end of the file; TERN_ERR_IO (a
 * truncated or corrupt file; msg says where).
 */
tern_err sim_pcap_reader_next(sim_pcap_reader *r, const uint8_t **data, size_t *len,
                              size_t *wire_len, uint64_t *time_ns, char *msg, size_t cap);

/* sim_pcap_reader_close: close; NULL is a no-op. */
void sim_pcap_reader_close(sim_pcap_reader *r);

/*
 * sim_pcap_writer_open: create (truncate) a nanosecond pcap file of Ethernet frames.
 * Returns TERN_OK, TERN_ERR_IO (msg says why), TERN_ERR_NO_MEMORY.
 */
tern_err sim_pcap_writer_open(const char *path, sim_pcap_writer **out, char *msg, size_t cap);

/* sim_pcap_writer_write: append a frame with its time. Returns TERN_OK or TERN_ERR_IO. */
tern_err sim_pcap_writer_write(sim_pcap_writer *w, uint64_t time_ns, const uint8_t *data,
                               size_t len);

/* sim_pcap_writer_close: flush and close; returns TERN_ERR_IO if the flush failed. NULL is a no-op.
 */
tern_err sim_pcap_writer_close(sim_pcap_writer *w);

#endif /* TERN_SIM_PCAP_H */
