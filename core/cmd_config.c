/* cmd_config.c: to be filled. */
#include "cmdtab.h"

void cmd_config_register(void) {}
