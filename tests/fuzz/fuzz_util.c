/* fuzz_util.c - the scratch file the file-reading targets write each input
 * to (capture files and config files are opened by path). One file per
 * process, rewritten per input, removed at exit; in /dev/shm when there is
 * one (a disk-backed /tmp made the file targets 4x slower), else $TMPDIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char scratch_dir[256];
static char scratch_path[300];

static void remove_scratch(void)
{
    if (scratch_path[0])
        unlink(scratch_path);
    if (scratch_dir[0])
        rmdir(scratch_dir);
}

const char *fl_fuzz_scratch(const uint8_t *data, size_t size, const char *suffix)
{
    if (!scratch_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        if (access("/dev/shm", W_OK) == 0)
            tmp = "/dev/shm";
        snprintf(scratch_dir, sizeof scratch_dir, "%s/flfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch_dir)) {
            scratch_dir[0] = '\0';
            return NULL;
        }
        atexit(remove_scratch);
    }
    snprintf(scratch_path, sizeof scratch_path, "%s/input%s", scratch_dir, suffix);
    FILE *f = fopen(scratch_path, "wb");
    if (!f)
        return NULL;
    size_t w = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || w != size)
        return NULL;
    return scratch_path;
}
