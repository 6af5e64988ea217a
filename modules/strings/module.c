/*
 * module.c: the strings module: Redis's string and bitmap commands (GET, SET, INCR, APPEND,
 * SETBIT, BITFIELD, LCS ...). This file keeps the core's API table, registers the "string"
 * type (its bytes live in the core's key entries, so the type has no vtable of its own) and
 * ends with the command table, one designated-initialiser entry per command, and the init
 * function that registers it.
 */
#include "strings.h"

DFM_DESCRIPTOR("strings", "1.0.0");

const dfm_api_t *str_api;

static const char *const str_encodings[] = {"int", "embstr", "raw", NULL};
static const int str_rdb_types[] = {0, -1};

static const dfm_type_t str_type = {
    .name = "string",
    .encodings = str_encodings,
    .rdb_types = str_rdb_types,
};

#define STR_AMORTIZED                                                                         \
    "O(1). The amortized time complexity is O(1) assuming the appended value is small and the " \
    "already present value is of any size, since the dynamic string library used by Redis "   \
    "will double the free space available on every reallocation."
#define STR_RANGE_CPLX                                                                        \
    "O(N) where N is the length of the returned string. The complexity is ultimately "        \
    "determined by the returned length, but because creating a substring from an existing "   \
    "string is very cheap, it can be considered O(1) for small strings."
#define STR_SETRANGE_CPLX                                                                     \
    "O(1), not counting the time taken to copy the new string in place. Usually, this string " \
    "is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M " \
    "being the length of the value argument."
#define STR_BITFIELD_ARGS                                                                     \
    "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY "     \
    "encoding offset increment [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding "   \
    "offset value|INCRBY encoding offset increment ...]]"

static const dfm_command_t str_commands[] = {
    {.name = "get", .arity = 2, .flags = "readonly fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast", .summary = "Get the value of a key",
     .since = "1.0.0", .group = "string", .complexity = "O(1)", .args_doc = "key",
     .handler = str_cmd_get},
    {.name = "set", .arity = -3, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Set the string value of a key", .since = "1.0.0", .group = "string",
     .complexity = "O(1)",
     .args_doc = "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                 "PXAT unix-time-milliseconds|KEEPTTL]",
     .handler = str_cmd_set},
    {.name = "setnx", .arity = 3, .flags = "write denyoom fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Set the value of a key, only if the key does not exist", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key value",
     .handler = str_cmd_setnx},
    {.name = "setex", .arity = 4, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Set the value and expiration of a key", .since = "2.0.0", .group = "string",
     .complexity = "O(1)", .args_doc = "key seconds value", .handler = str_cmd_setex},
    {.name = "psetex", .arity = 4, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Set the value and expiration in milliseconds of a key", .since = "2.6.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key milliseconds value",
     .handler = str_cmd_psetex},
    {.name = "getset", .arity = 3, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Set the string value of a key and return its old value", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key value",
     .handler = str_cmd_getset},
    {.name = "getdel", .arity = 2, .flags = "write fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Get the value of a key and delete the key", .since = "6.2.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key", .handler = str_cmd_getdel},
    {.name = "getex", .arity = -2, .flags = "write fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Get the value of a key and optionally set its expiration", .since = "6.2.0",
     .group = "string", .complexity = "O(1)",
     .args_doc = "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                 "PXAT unix-time-milliseconds|PERSIST]",
     .handler = str_cmd_getex},
    {.name = "mget", .arity = -2, .flags = "readonly fast", .first_key = 1, .last_key = -1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Get the values of all the given keys", .since = "1.0.0", .group = "string",
     .complexity = "O(N) where N is the number of keys to retrieve.",
     .args_doc = "key [key ...]", .multi = &str_mget_multi},
    {.name = "mset", .arity = -3, .flags = "write denyoom", .first_key = 1, .last_key = -1,
     .key_step = 2, .acl_categories = "@string @slow",
     .summary = "Set multiple keys to multiple values", .since = "1.0.1", .group = "string",
     .complexity = "O(N) where N is the number of keys to set.",
     .args_doc = "key value [key value ...]", .multi = &str_mset_multi},
    {.name = "msetnx", .arity = -3, .flags = "write denyoom", .first_key = 1, .last_key = -1,
     .key_step = 2, .acl_categories = "@string @slow",
     .summary = "Set multiple keys to multiple values, only if none of the keys exist",
     .since = "1.0.1", .group = "string",
     .complexity = "O(N) where N is the number of keys to set.",
     .args_doc = "key value [key value ...]", .multi = &str_msetnx_multi},
    {.name = "append", .arity = 3, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Append a value to a key", .since = "2.0.0", .group = "string",
     .complexity = STR_AMORTIZED, .args_doc = "key value", .handler = str_cmd_append},
    {.name = "strlen", .arity = 2, .flags = "readonly fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Get the length of the value stored in a key", .since = "2.2.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key", .handler = str_cmd_strlen},
    {.name = "incr", .arity = 2, .flags = "write denyoom fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Increment the integer value of a key by one", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key", .handler = str_cmd_incr},
    {.name = "decr", .arity = 2, .flags = "write denyoom fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Decrement the integer value of a key by one", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key", .handler = str_cmd_decr},
    {.name = "incrby", .arity = 3, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Increment the integer value of a key by the given amount", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key increment",
     .handler = str_cmd_incrby},
    {.name = "decrby", .arity = 3, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Decrement the integer value of a key by the given number", .since = "1.0.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key decrement",
     .handler = str_cmd_decrby},
    {.name = "incrbyfloat", .arity = 3, .flags = "write denyoom fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@string @fast",
     .summary = "Increment the float value of a key by the given amount", .since = "2.6.0",
     .group = "string", .complexity = "O(1)", .args_doc = "key increment",
     .handler = str_cmd_incrbyfloat},
    {.name = "getrange", .arity = 4, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Get a substring of the string stored at a key", .since = "2.4.0",
     .group = "string", .complexity = STR_RANGE_CPLX, .args_doc = "key start end",
     .handler = str_cmd_getrange},
    {.name = "substr", .arity = 4, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Get a substring of the string stored at a key", .since = "1.0.0",
     .group = "string", .complexity = STR_RANGE_CPLX, .args_doc = "key start end",
     .handler = str_cmd_getrange},
    {.name = "setrange", .arity = 4, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Overwrite part of a string at key starting at the specified offset",
     .since = "2.2.0", .group = "string", .complexity = STR_SETRANGE_CPLX,
     .args_doc = "key offset value", .handler = str_cmd_setrange},
    {.name = "lcs", .arity = -3, .flags = "readonly", .first_key = 1, .last_key = 2,
     .key_step = 1, .acl_categories = "@string @slow",
     .summary = "Find longest common substring", .since = "7.0.0", .group = "string",
     .complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively",
     .args_doc = "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
     .multi = &str_lcs_multi},
    {.name = "setbit", .arity = 4, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@bitmap @slow",
     .summary = "Sets or clears the bit at offset in the string value stored at key",
     .since = "2.2.0", .group = "bitmap", .complexity = "O(1)",
     .args_doc = "key offset value", .handler = str_cmd_setbit},
    {.name = "getbit", .arity = 3, .flags = "readonly fast", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@bitmap @fast",
     .summary = "Returns the bit value at offset in the string value stored at key",
     .since = "2.2.0", .group = "bitmap", .complexity = "O(1)", .args_doc = "key offset",
     .handler = str_cmd_getbit},
    {.name = "bitcount", .arity = -2, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@bitmap @slow", .summary = "Count set bits in a string",
     .since = "2.6.0", .group = "bitmap", .complexity = "O(N)",
     .args_doc = "key [start end [BYTE|BIT]]", .handler = str_cmd_bitcount},
    {.name = "bitpos", .arity = -3, .flags = "readonly", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@bitmap @slow",
     .summary = "Find first bit set or clear in a string", .since = "2.8.7",
     .group = "bitmap", .complexity = "O(N)",
     .args_doc = "key bit [start [end [BYTE|BIT]]]", .handler = str_cmd_bitpos},
    {.name = "bitop", .arity = -4, .flags = "write denyoom", .first_key = 2, .last_key = -1,
     .key_step = 1, .acl_categories = "@bitmap @slow",
     .summary = "Perform bitwise operations between strings", .since = "2.6.0",
     .group = "bitmap", .complexity = "O(N)", .args_doc = "operation destkey key [key ...]",
     .multi = &str_bitop_multi},
    {.name = "bitfield", .arity = -2, .flags = "write denyoom", .first_key = 1, .last_key = 1,
     .key_step = 1, .acl_categories = "@bitmap @slow",
     .summary = "Perform arbitrary bitfield integer operations on strings", .since = "3.2.0",
     .group = "bitmap", .complexity = "O(1) for each subcommand specified",
     .args_doc = STR_BITFIELD_ARGS, .handler = str_cmd_bitfield},
    {.name = "bitfield_ro", .arity = -2, .flags = "readonly fast", .first_key = 1,
     .last_key = 1, .key_step = 1, .acl_categories = "@bitmap @fast",
     .summary = "Perform arbitrary bitfield integer operations on strings. Read-only variant "
                "of BITFIELD",
     .since = "6.0.0", .group = "bitmap", .complexity = "O(1) for each subcommand specified",
     .args_doc = "key [GET encoding offset [GET encoding offset ...]]",
     .handler = str_cmd_bitfield_ro},
    {.name = NULL},
};

/* Called once by the core on the main thread: keep the API, register the type and commands. */
DFM_EXPORT int dfm_module_init(dfm_module_t *self, const dfm_api_t *api, int argc, char **argv) {
    (void)argc;
    (void)argv;
    str_api = api;
    int type_id;
    if (api->register_type(self, &str_type, &type_id) < 0) return -1;
    for (const dfm_command_t *c = str_commands; c->name != NULL; c++)
        if (api->register_command(self, c) < 0) return -1;
    return 0;
}
