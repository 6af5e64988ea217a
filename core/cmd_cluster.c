/*
 * cmd_cluster.c: Redis Cluster's protocol for one node (`--cluster_mode=emulated`, or Redis's
 * `cluster-enabled yes`), as Dragonfly offers it: this server owns all 16384 slots, so
 * cluster clients (redis-py's RedisCluster, redis-cli -c, Lettuce, ...) connect to it as to a
 * one-shard cluster and route every key here. CLUSTER INFO / MYID / NODES / SLOTS / SHARDS /
 * KEYSLOT / HELP, READONLY / READWRITE / ASKING. The node announces the address the client
 * reached it at. Without cluster mode CLUSTER answers Redis's "cluster support disabled".
 */
#include <stdio.h>
#include <string.h>

#include "cmdtab.h"
#include "config.h"
#include "conn.h"
#include "info.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM), the cluster's key hash. */
static uint16_t cluster_crc16(const char *p, size_t n) {
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++) crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* The slot of a key: the CRC of its {hash tag} when it has a non-empty one. */
static int cluster_slot(const char *k, size_t n) {
    const char *open = memchr(k, '{', n);
    if (open) {
        const char *close = memchr(open + 1, '}', n - (size_t)(open + 1 - k));
        if (close && close > open + 1) return cluster_crc16(open + 1, (size_t)(close - open - 1)) & 16383;
    }
    return cluster_crc16(k, n) & 16383;
}

int cluster_enabled(void) { return g_config.cluster_mode != 0 || g_config.cluster_enabled; }

/* 1 if cluster mode is on, else replies Redis's error and returns 0. */
static int cluster_check(dfm_ctx_t *ctx) {
    if (cluster_enabled()) return 1;
    reply_error(ctx, "ERR This instance has cluster support disabled");
    return 0;
}

/* Cluster mode on (else the error is replied and 0 returned): the address this client
   reached us at (host part of its local address) and our port. */
static int cluster_me(dfm_ctx_t *ctx, char *ip, size_t cap, int *port) {
    if (!cluster_check(ctx)) return 0;
    snprintf(ip, cap, "%s", ctx->conn ? ctx->conn->laddr : "127.0.0.1:0");
    char *colon = strrchr(ip, ':');
    if (colon) *colon = '\0';
    *port = g_server.tcp_port;
    return 1;
}

static const char *cluster_id(void) { return g_server.run_id; }

static void cluster_info_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    if (!cluster_check(ctx)) return;
    static const char text[] =
        "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"
        "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\n"
        "cluster_size:1\r\ncluster_current_epoch:1\r\ncluster_my_epoch:1\r\n"
        "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
        "total_cluster_links_buffer_limit_exceeded:0\r\n";
    reply_bulk(ctx, text, sizeof text - 1);
}

static void cluster_myid_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    if (cluster_check(ctx)) reply_bulk(ctx, cluster_id(), 40);
}

static void cluster_nodes_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char ip[64], line[256];
    int port;
    if (!cluster_me(ctx, ip, sizeof ip, &port)) return;
    int n = snprintf(line, sizeof line, "%.40s %s:%d@%d myself,master - 0 0 1 connected 0-16383\n",
                     cluster_id(), ip, port, port + 10000);
    reply_bulk(ctx, line, (size_t)n);
}

static void cluster_slots_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char ip[64];
    int port;
    if (!cluster_me(ctx, ip, sizeof ip, &port)) return;
    reply_array(ctx, 1);
    reply_array(ctx, 3);
    reply_int(ctx, 0);
    reply_int(ctx, CLUSTER_SLOTS - 1);
    reply_array(ctx, 4);
    reply_cstr(ctx, ip);
    reply_int(ctx, port);
    reply_bulk(ctx, cluster_id(), 40);
    reply_array(ctx, 0);
}

static void cluster_shards_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    char ip[64];
    int port;
    if (!cluster_me(ctx, ip, sizeof ip, &port)) return;
    reply_array(ctx, 1);
    reply_map(ctx, 2);
    reply_cstr(ctx, "slots");
    reply_array(ctx, 2);
    reply_int(ctx, 0);
    reply_int(ctx, CLUSTER_SLOTS - 1);
    reply_cstr(ctx, "nodes");
    reply_array(ctx, 1);
    reply_map(ctx, 7);
    reply_cstr(ctx, "id");
    reply_bulk(ctx, cluster_id(), 40);
    reply_cstr(ctx, "port");
    reply_int(ctx, port);
    reply_cstr(ctx, "ip");
    reply_cstr(ctx, ip);
    reply_cstr(ctx, "endpoint");
    reply_cstr(ctx, ip);
    reply_cstr(ctx, "role");
    reply_cstr(ctx, "master");
    reply_cstr(ctx, "replication-offset");
    reply_int(ctx, 0);
    reply_cstr(ctx, "health");
    reply_cstr(ctx, "online");
}

static void cluster_keyslot_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc;
    if (cluster_check(ctx)) reply_int(ctx, cluster_slot(argv[2].ptr, argv[2].len));
}

static void cluster_help_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    static const char *const help[] = {
        "INFO", "    Return information about the cluster.",
        "KEYSLOT <key>", "    Return the hash slot for <key>.",
        "MYID", "    Return the node id.",
        "NODES", "    Return cluster configuration seen by node.",
        "SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
        "SLOTS", "    Return information about slots range mappings.",
        NULL};
    command_reply_help(ctx, "CLUSTER", help);
}

static void cluster_ok_cmd(dfm_ctx_t *ctx, int argc, const dfm_str_t *argv) {
    (void)argc, (void)argv;
    if (cluster_check(ctx)) reply_ok(ctx);
}

#define CLUSTER_SUB(n, ar, f, doc, fn)                                                          \
    {.name = "cluster|" n, .arity = ar, .flags = f, .acl_categories = "@slow",               \
     .summary = doc, .since = "3.0.0", .group = "cluster", .complexity = "O(1)", .handler = fn}

static const dfm_command_t cluster_cmds[] = {
    CLUSTER_SUB("info", 2, "loading stale", "Returns information about the state of a node.", cluster_info_cmd),
    CLUSTER_SUB("myid", 2, "loading stale", "Returns the ID of a node.", cluster_myid_cmd),
    CLUSTER_SUB("nodes", 2, "loading stale", "Returns the cluster configuration for a node.", cluster_nodes_cmd),
    CLUSTER_SUB("slots", 2, "loading stale", "Returns the mapping of cluster slots to nodes.", cluster_slots_cmd),
    CLUSTER_SUB("shards", 2, "loading stale", "Returns the mapping of cluster slots to shards.", cluster_shards_cmd),
    CLUSTER_SUB("keyslot", 3, "loading stale", "Returns the hash slot for a key.", cluster_keyslot_cmd),
    CLUSTER_SUB("help", 2, "loading stale", "Returns helpful text about the different subcommands.", cluster_help_cmd),
    {.name = "readonly", .arity = 1, .flags = "loading stale fast", .acl_categories = "@fast @connection",
     .summary = "Enables read-only queries for a connection to a Redis Cluster replica node.",
     .since = "3.0.0", .group = "cluster", .complexity = "O(1)", .handler = cluster_ok_cmd},
    {.name = "readwrite", .arity = 1, .flags = "loading stale fast", .acl_categories = "@fast @connection",
     .summary = "Enables read-write queries for a connection to a Redis Cluster replica node.",
     .since = "3.0.0", .group = "cluster", .complexity = "O(1)", .handler = cluster_ok_cmd},
    {.name = "asking", .arity = 1, .flags = "fast", .acl_categories = "@fast @connection",
     .summary = "Signals that a cluster client is following an -ASK redirect.", .since = "3.0.0",
     .group = "cluster", .complexity = "O(1)", .handler = cluster_ok_cmd},
};

void cmd_cluster_register(void) { cmdtab_register(cluster_cmds, CMDTAB_COUNT(cluster_cmds)); }
