/* info.c: to be filled. */
#include "info.h"

void cmd_info_register(void) {}
