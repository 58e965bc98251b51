/*
 * The one error list of Tern, shared by the stack (libternstack) and the
 * simulator (libternsim).
 *
 * TERN_ERROR_LIST is an X-macro: each entry is
 *     X(NAME, value, PythonException, "message")
 * and generates the tern_err enum (TERN_ERR_NAME = value), the message table
 * behind tern_strerror(), and the Python exception table (pyharness maps each
 * code to the named exception class, see pyharness/errors.py). Add an error
 * here and all three follow.
 *
 * Every function in Tern that can fail returns a tern_err: TERN_OK (0) on
 * success, a negative code otherwise. Functions that take a simulation also
 * leave a detailed message (naming the parameter and the value) readable
 * with sim_last_error().
 */
#ifndef TERN_ERRORS_H
#define TERN_ERRORS_H

#define TERN_ERROR_LIST(X)                                                                         \
    X(OK, 0, TernError, "success")                                                                 \
    X(INVALID_ARGUMENT, -1, ConfigError, "invalid argument")                                       \
    X(NO_MEMORY, -2, ResourceError, "out of memory")                                               \
    X(UNKNOWN_NODE, -3, ConfigError, "unknown node")                                               \
    X(UNKNOWN_PORT, -4, ConfigError, "unknown port")                                               \
    X(PORT_IN_USE, -5, ConfigError, "port already has a link")                                     \
    X(UNKNOWN_LINK, -6, ConfigError, "unknown link")                                               \
    X(BAD_FILTER, -7, ConfigError, "filter expression does not compile")                           \
    X(IO, -8, TernIOError, "file could not be opened or written")                                  \
    X(LIVELOCK, -9, LivelockError, "a node asked to run again without making progress")            \
    X(TIME_BACKWARDS, -10, ConfigError, "time would go backwards")                                 \
    X(FRAME_SIZE, -11, FrameError, "frame too short or too long")                                  \
    X(EMPTY, -12, EmptyError, "nothing to receive")                                                \
    X(WRONG_KIND, -13, ConfigError, "operation does not apply to this kind of node")               \
    X(BUFFER_TOO_SMALL, -14, ResourceError, "buffer too small")                                    \
    X(TRUNCATED, -15, FrameError, "packet truncated")                                              \
    X(MALFORMED, -16, FrameError, "packet malformed")                                              \
    X(UNSUPPORTED, -17, FrameError, "unsupported protocol or version")                             \
    X(BAD_CHECKSUM, -18, FrameError, "checksum does not verify")                                   \
    X(NO_BUFFER, -19, ResourceError, "no buffer available")                                        \
    X(NO_ROUTE, -20, NetworkError, "no route to host")                                             \
    X(MSG_TOO_LONG, -21, NetworkError, "message too long")                                         \
    X(ADDR_IN_USE, -22, NetworkError, "address already in use")                                    \
    X(WOULD_BLOCK, -23, WouldBlockError, "operation would block")                                  \
    X(NOT_CONNECTED, -24, NetworkError, "socket is not connected")                                 \
    X(CONN_REFUSED, -25, NetworkError, "connection refused")                                       \
    X(CONN_RESET, -26, NetworkError, "connection reset")                                           \
    X(TIMED_OUT, -27, NetworkError, "connection timed out")                                        \
    X(HOST_UNREACHABLE, -28, NetworkError, "host unreachable")                                     \
    X(BAD_STATE, -29, StateError, "operation not allowed in the current state")                    \
    X(CLOSED, -30, StateError, "object already closed")                                            \
    X(USER_TIMEOUT, -31, NetworkError, "user timeout: sent data not acknowledged in time")

typedef enum tern_err {
#define TERN_ERR_ENUM_(name, value, pyclass, text) TERN_ERR_##name = value,
    TERN_ERROR_LIST(TERN_ERR_ENUM_)
#undef TERN_ERR_ENUM_
} tern_err;

/* TERN_OK is the usual spelling of success. */
#define TERN_OK TERN_ERR_OK

/*
 * tern_strerror: the message of an error code ("unknown node"), or
 * "unknown error" for a value not in the list. Never NULL.
 */
const char *tern_strerror(int err);

/*
 * tern_error_name: the symbolic name of an error code without the prefix
 * ("UNKNOWN_NODE"), or NULL for a value not in the list.
 */
const char *tern_error_name(int err);

/*
 * tern_error_pyclass: the name of the Python exception class that stands
 * for the code ("ConfigError"), or NULL for a value not in the list.
 */
const char *tern_error_pyclass(int err);

#endif /* TERN_ERRORS_H */
