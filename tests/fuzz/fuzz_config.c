/* fuzz_config.c - the INI config loader (inih underneath, then faultline's
 * settings table) and fl_config_set: the input is written to a file and
 * loaded; each "name=value" line is also applied with fl_config_set; the
 * effective config is printed and must load back. */
#include <stdio.h>
#include <string.h>

#include "fl_config.h"
#include "fuzz.h"

static void set_lines(fl_config *c, const uint8_t *data, size_t size)
{
    char line[2048];
    size_t i = 0;
    while (i < size) {
        size_t n = 0;
        while (i < size && data[i] != '\n') {
            if (n < sizeof line - 1)
                line[n++] = (char)data[i];
            i++;
        }
        i++;
        line[n] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char err[512];
        (void)fl_config_set(c, line, eq + 1, err, sizeof err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fl_config c, back;
    if (size > 1u << 16)
        return 0;
    fl_config_defaults(&c);
    const char *path = fl_fuzz_scratch(data, size, ".conf");
    char err[1024];
    if (path)
        (void)fl_config_load(&c, path, err, sizeof err);
    set_lines(&c, data, size);
    /* the effective config must read back as itself */
    char buf[16384];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    if (!mem)
        return 0;
    fl_config_print(&c, mem);
    long n = ftell(mem);
    fclose(mem);
    if (n <= 0 || (size_t)n >= sizeof buf)
        return 0;
    path = fl_fuzz_scratch((const uint8_t *)buf, (size_t)n, ".conf");
    fl_config_defaults(&back);
    /* values too long for an INI line are refused with a clear message
     * (config.c: the INI reader's line limit); anything else must load */
    if (path && !fl_config_load(&back, path, err, sizeof err) &&
        !strstr(err, "the INI reader's limit")) {
        fprintf(stderr, "printed config does not load back: %s\n", err);
        __builtin_trap();
    }
    return 0;
}
