/* faultline.c - command line (placeholder until the engine lands). */
#include <stdio.h>
int main(void)
{
    puts("faultline " FL_VERSION);
    return 0;
}
