/* cmd_debug.c: to be filled. */
#include "cmdtab.h"

void cmd_debug_register(void) {}
