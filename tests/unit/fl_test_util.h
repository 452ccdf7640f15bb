/* fl_test_util.h - helpers shared by the Check suites. */
#ifndef FL_TEST_UTIL_H
#define FL_TEST_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Run one suite; returns the process exit status for main(). */
int fl_test_run(Suite *s);

/* Path under the source tree (static buffer per call site is not needed:
 * the result is malloc'd; the caller frees it). */
char *fl_test_path(const char *relative);

/* A heap copy of bytes placed so that the last byte sits right before the
 * end of the allocation: AddressSanitizer then catches any over-read. */
uint8_t *fl_test_exact_copy(const uint8_t *data, size_t len);

#endif
