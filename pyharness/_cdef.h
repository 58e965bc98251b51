/*
 * The C API that pyharness binds, as one header. pyharness/_ffi_build.py runs
 * the C preprocessor on it with TERN_CDEF defined (so the public headers skip
 * their system includes) and hands the result to cffi as its cdef.
 */
#include "tern/errors.h"
#include "tern/sim.h"
