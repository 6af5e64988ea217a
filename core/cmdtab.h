/*
 * cmdtab.h: the core's own command families. Each cmd_*.c registers its commands through
 * dispatch_register (the same path module commands take) from its *_register function.
 */
#ifndef DF_CMDTAB_H
#define DF_CMDTAB_H

#include "dragonfly/module.h"

void cmd_server_register(void);
void cmd_client_register(void);
void cmd_tracking_register(void);
void cmd_config_register(void);
void cmd_keys_register(void);
void cmd_expire_register(void);
void cmd_scan_register(void);
void cmd_multi_register(void);
void cmd_debug_register(void);
void cmd_memory_register(void);
void cmd_command_register(void);
void cmd_info_register(void);
void cmd_dump_register(void);
void cmd_snapshot_register(void);
void cmd_aof_register(void);
void cmd_replica_register(void);
void cmd_master_register(void);
void cmd_failover_register(void);
void cmd_cluster_register(void);
void cmd_monitor_register(void);
void cmd_slowlog_register(void);
void cmd_latency_register(void);
void cmd_migrate_register(void);
/* --cluster_mode=emulated or cluster-enabled yes: one node owning every slot. */
int cluster_enabled(void);

/* Register a table of core commands; aborts on a programming error (duplicate, bad flag). */
void cmdtab_register(const dfm_command_t *cmds, int n);
/* All of the above. */
void commands_register_core(void);

#define CMDTAB_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
