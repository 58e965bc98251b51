#!/bin/sh
# DESIGN.md section 3, checked on the built stack library: no heap, no clock,
# no unseeded randomness, and no writable globals.
#   usage: check_stack_rules.sh path/to/libternstack.a
set -eu
lib="$1"
status=0
forbidden='malloc|calloc|realloc|free|aligned_alloc|posix_memalign|clock_gettime|gettimeofday|time|rand|random|srand|srandom|getrandom'
bad=$(nm -u "$lib" | awk '{print $NF}' | grep -Ex "($forbidden)" | sort -u || true)
if [ -n "$bad" ]; then
    echo "libternstack calls functions the stack must not use (heap, clock or unseeded randomness):"
    echo "$bad"
    status=1
fi
# Writable data: objects in .data/.bss (and their per-symbol sections) or
# COMMON. Constant tables that hold pointers live in .data.rel.ro, which is
# read-only after relocation, and are allowed.
writable=$(objdump -t "$lib" | awk '$0 ~ / O / {
        for (i = 1; i <= NF; i++) if ($i ~ /^(\.data|\.bss|\*COM\*)/) sec = $i;
        if (sec != "" && sec !~ /^\.data\.rel\.ro/) print sec, $NF; sec = "" }' |
    grep -v ' __odr_asan\.' | sort -u || true)
# (ASan adds a one-byte "ODR indicator" in .bss for every global, constant or
# not: those are the sanitizer's, not ours.)
if [ -n "$writable" ]; then
    echo "libternstack has writable globals (all state must live in the instance):"
    echo "$writable"
    status=1
fi
[ $status -eq 0 ] && echo "libternstack: no heap, no clock, no writable globals"
exit $status
