/* cmd_expire.c: to be filled. */
#include "cmdtab.h"

void cmd_expire_register(void) {}
