/* fuzz.h - shared by the fuzz targets: the libFuzzer entry point and small
 * helpers to split one input into the pieces a target needs. */
#ifndef FL_FUZZ_H
#define FL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write the input to this process's scratch file (created once, in TMPDIR)
 * and return its path; NULL if the file cannot be written. */
const char *fl_fuzz_scratch(const uint8_t *data, size_t size, const char *suffix);

#endif
