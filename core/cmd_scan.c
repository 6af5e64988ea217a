/* cmd_scan.c: to be filled. */
#include "cmdtab.h"

void cmd_scan_register(void) {}
