/* cmd_keys.c: to be filled. */
#include "cmdtab.h"

void cmd_keys_register(void) {}
