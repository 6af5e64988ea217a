/* dump.c: to be filled. */
#include "cmdtab.h"

void cmd_dump_register(void) {}
