/*
 * A minimal test harness for the C unit tests: each test_*.c defines test
 * functions, lists them in main with RUN(), and returns check_summary().
 * A failing CHECK prints file:line and the expression, and the test goes on.
 */
#ifndef TERN_TEST_CHECK_H
#define TERN_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;
static const char *check_current = "";

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, check_current,    \
                    #cond);                                                                        \
        }                                                                                          \
    } while (0)

/* Compare two unsigned 64-bit values and print both on failure. */
#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                               \
        check_count++;                                                                             \
        if (check_a_ != check_b_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s: CHECK_EQ failed: %s == %s (%" PRIu64 " != %" PRIu64 ")\n", \
                    __FILE__, __LINE__, check_current, #a, #b, check_a_, check_b_);                \
        }                                                                                          \
    } while (0)

/* Compare two signed 64-bit values and print both on failure. */
#define CHECK_EQ_I64(a, b)                                                                         \
    do {                                                                                           \
        int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);                                  \
        check_count++;                                                                             \
        if (check_a_ != check_b_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s: CHECK_EQ failed: %s == %s (%" PRId64 " != %" PRId64 ")\n", \
                    __FILE__, __LINE__, check_current, #a, #b, check_a_, check_b_);                \
        }                                                                                          \
    } while (0)

/* Check that a string contains a substring (for error messages). */
#define CHECK_CONTAINS(haystack, needle)                                                           \
    do {                                                                                           \
        const char *check_h_ = (haystack);                                                         \
        check_count++;                                                                             \
        if (!check_h_ || !strstr(check_h_, (needle))) {                                            \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,     \
                    check_current, check_h_ ? check_h_ : "(null)", (needle));                      \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        check_current = #fn;                                                                       \
        fn();                                                                                      \
    } while (0)

static inline int check_summary(void) {
    if (check_failures) {
        fprintf(stderr, "%d of %d checks failed\n", check_failures, check_count);
        return 1;
    }
    printf("all %d checks passed\n", check_count);
    return 0;
}

#endif /* TERN_TEST_CHECK_H */
