/* main.c: the dragonfly server binary. Everything else lives in the core library. */
#include "server.h"

int main(int argc, char **argv) { return server_main(argc, argv); }
