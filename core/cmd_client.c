/* cmd_client.c: to be filled. */
#include "cmdtab.h"

void cmd_client_register(void) {}
