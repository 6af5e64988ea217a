/*
 * module.c: the pubsub module: Redis 7.0's publish/subscribe commands (SUBSCRIBE,
 * UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and
 * PUBSUB's subcommands) over shared-nothing per-thread registries (see pubsub.h).
 *
 * All of them are keyless, so they run on the client's own thread, SSUBSCRIBE, SUNSUBSCRIBE
 * and SPUBLISH included (Redis gives those a key spec for cluster routing; a single node has
 * nothing to route). The module is also the core's publisher of keyspace events.
 */
#include <time.h>

#include "pubsub.h"

DFM_DESCRIPTOR("pubsub", "1.0.0");

const dfm_api_t *ps_api;
int ps_slot = -1;

#define PS_CMD(NAME, ARITY, FLAGS, ACL, SUMMARY, SINCE, CPLX, ARGS, HANDLER)                     \
    {.name = NAME, .arity = ARITY, .flags = FLAGS, .acl_categories = ACL, .summary = SUMMARY,   \
     .since = SINCE, .group = "pubsub", .complexity = CPLX, .args_doc = ARGS, .handler = HANDLER}

#define PS_SUB_FLAGS "pubsub noscript loading stale"
#define PS_PUB_FLAGS "pubsub loading stale fast"
#define PS_INFO_FLAGS "pubsub loading stale"

static const dfm_command_t ps_commands[] = {
    PS_CMD("subscribe", -2, PS_SUB_FLAGS, "@pubsub @slow",
           "Listen for messages published to the given channels", "2.0.0",
           "O(N) where N is the number of channels to subscribe to.", "channel [channel ...]",
           ps_cmd_subscribe),
    PS_CMD("unsubscribe", -1, PS_SUB_FLAGS, "@pubsub @slow",
           "Stop listening for messages posted to the given channels", "2.0.0",
           "O(N) where N is the number of clients already subscribed to a channel.",
           "[channel [channel ...]]", ps_cmd_unsubscribe),
    PS_CMD("psubscribe", -2, PS_SUB_FLAGS, "@pubsub @slow",
           "Listen for messages published to channels matching the given patterns", "2.0.0",
           "O(N) where N is the number of patterns the client is already subscribed to.",
           "pattern [pattern ...]", ps_cmd_psubscribe),
    PS_CMD("punsubscribe", -1, PS_SUB_FLAGS, "@pubsub @slow",
           "Stop listening for messages posted to channels matching the given patterns",
           "2.0.0",
           "O(N+M) where N is the number of patterns the client is already subscribed and M "
           "is the number of total patterns subscribed in the system (by any client).",
           "[pattern [pattern ...]]", ps_cmd_punsubscribe),
    PS_CMD("ssubscribe", -2, PS_SUB_FLAGS, "@pubsub @slow",
           "Listen for messages published to the given shard channels", "7.0.0",
           "O(N) where N is the number of shard channels to subscribe to.",
           "shardchannel [shardchannel ...]", ps_cmd_ssubscribe),
    PS_CMD("sunsubscribe", -1, PS_SUB_FLAGS, "@pubsub @slow",
           "Stop listening for messages posted to the given shard channels", "7.0.0",
           "O(N) where N is the number of clients already subscribed to a shard channel.",
           "[shardchannel [shardchannel ...]]", ps_cmd_sunsubscribe),
    PS_CMD("publish", 3, PS_PUB_FLAGS, "@pubsub @fast", "Post a message to a channel", "2.0.0",
           "O(N+M) where N is the number of clients subscribed to the receiving channel and M "
           "is the total number of subscribed patterns (by any client).",
           "channel message", ps_cmd_publish),
    PS_CMD("spublish", 3, PS_PUB_FLAGS, "@pubsub @fast", "Post a message to a shard channel",
           "7.0.0",
           "O(N) where N is the number of clients subscribed to the receiving shard channel.",
           "shardchannel message", ps_cmd_spublish),
    PS_CMD("pubsub|channels", -2, PS_INFO_FLAGS, "@pubsub @slow", "List active channels",
           "2.8.0",
           "O(N) where N is the number of active channels, and assuming constant time pattern "
           "matching (relatively short channels and patterns)",
           "[pattern]", ps_cmd_channels),
    PS_CMD("pubsub|numsub", -2, PS_INFO_FLAGS, "@pubsub @slow",
           "Get the count of subscribers for channels", "2.8.0",
           "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
           "[channel [channel ...]]", ps_cmd_numsub),
    PS_CMD("pubsub|help", 2, "loading stale", "@slow",
           "Show helpful text about the different subcommands", "6.2.0", "O(1)", "",
           ps_cmd_help),
    PS_CMD("pubsub|numpat", 2, PS_INFO_FLAGS, "@pubsub @slow",
           "Get the count of unique patterns pattern subscriptions", "2.8.0", "O(1)", "",
           ps_cmd_numpat),
    PS_CMD("pubsub|shardnumsub", -2, PS_INFO_FLAGS, "@pubsub @slow",
           "Get the count of subscribers for shard channels", "7.0.0",
           "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard "
           "channels",
           "[shardchannel [shardchannel ...]]", ps_cmd_shardnumsub),
    PS_CMD("pubsub|shardchannels", -2, PS_INFO_FLAGS, "@pubsub @slow",
           "List active shard channels", "7.0.0",
           "O(N) where N is the number of active shard channels, and assuming constant time "
           "pattern matching (relatively short shard channels).",
           "[pattern]", ps_cmd_shardchannels),
    {0},
};

DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    ps_api = api;
    if (!DFM_HAS(api, register_pubsub_stats)) {
        api->log(DFM_LOG_WARNING, "pubsub: the core lacks the ABI 1.5 client functions");
        return -1;
    }
    if (api->num_threads() > PS_MAX_THREADS) {
        api->log(DFM_LOG_WARNING, "pubsub: at most %d threads are supported", PS_MAX_THREADS);
        return -1;
    }
    int local;
    ps_hash_seed((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&local);
    if (api->register_client_slot(self, ps_client_release, &ps_slot) < 0) return -1;
    /* Keyspace events (notify-keyspace-events) are published through this module. */
    if (DFM_HAS(api, register_publish_hook) &&
        api->register_publish_hook(self, ps_publish_hook) < 0)
        return -1;
    if (api->register_shutdown(self, ps_hint_free_all) < 0) return -1;
    if (api->register_pubsub_stats(self, ps_info_counts) < 0) return -1;
    for (const dfm_command_t *c = ps_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    return 0;
}
