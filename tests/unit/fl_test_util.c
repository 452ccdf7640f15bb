/* fl_test_util.c - helpers shared by the Check suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_test_util.h"

int fl_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

char *fl_test_path(const char *relative)
{
    size_t n = strlen(FL_TEST_SRCDIR) + strlen(relative) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", FL_TEST_SRCDIR, relative);
    return p;
}

uint8_t *fl_test_exact_copy(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, data, len);
    return p;
}
