/* info.h: INFO (to be filled). */
#ifndef DF_INFO_H
#define DF_INFO_H
void cmd_info_register(void);
#endif
