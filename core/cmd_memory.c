/* cmd_memory.c: to be filled. */
#include "cmdtab.h"

void cmd_memory_register(void) {}
