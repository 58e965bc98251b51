/* Empty on purpose: pyharness/_ffi_build.py preprocesses the public headers for
 * cffi, which knows bool, size_t and the intN_t types by itself. */
