/* cmd_command.c: to be filled. */
#include "cmdtab.h"

void cmd_command_register(void) {}
