/*
 * acl_user.h: core-internal helpers of the ACL (acl.c, acl_user.c, acl_describe.c,
 * cmd_acl.c): command categories, and building one user version from Redis's rule words.
 * A version under construction belongs to the one writer that holds the ACL write lock;
 * once published (acl.c) it is never changed again.
 */
#ifndef DF_ACL_USER_H
#define DF_ACL_USER_H

#include <stddef.h>

#include "acl.h"
#include "reply.h"

/* --- categories (acl_user.c; built by acl__cats_init from the frozen command table) --- */
int acl__ncats(void);
const char *acl__cat_name(int i);
/* Index of a category name (any case), or -1. */
int acl__cat_find(const char *name, size_t len);
/* Category bits of a command id; the command of an id. */
uint32_t acl__cmd_cats(int id);
const cmd_t *acl__cmd_at(int id);
/* Words of the command bitmaps (dispatch_nids() + 1 bits: the last means "future commands"). */
int acl__nwords(void);
void acl__cats_init(void);
void acl__cats_free(void);

/* --- versions --- */
/* A new user as SETUSER creates it: off, no password, no commands, keys or channels. */
acl_user_t *acl__user_new(void);
acl_user_t *acl__user_dup(const acl_user_t *u);
void acl__user_free(acl_user_t *u);
/* Apply one rule word to a draft. 0, or -1 with *why set to Redis's reason text. */
int acl__user_apply(acl_user_t *u, const char *op, size_t len, const char **why);
/* Set the derived flags (ACL_U_FAST) before publishing. */
void acl__user_finish(acl_user_t *u);
/* SHA-256 of p as 64 lower-case hex digits plus NUL. */
void acl__sha256_hex(const char *p, size_t len, char out[65]);

/* --- descriptions (acl_describe.c), appended to out --- */
/* "on nopass #... ~* &* +@all": ACL LIST's text after "user <name> ". */
void acl__describe(const acl_user_t *u, rbuf_t *out);
void acl__describe_cmds(const acl_user_t *u, rbuf_t *out);
void acl__describe_keys(const acl_user_t *u, rbuf_t *out);
void acl__describe_chans(const acl_user_t *u, rbuf_t *out, int for_list);

/* --- the registry (acl.c); writers hold the write lock inside these calls --- */
typedef struct acl_reg {
    int n;
    acl_slot_t **slots; /* sorted by name */
} acl_reg_t;
/* The current user list (immutable). Any thread. */
const acl_reg_t *acl__reg(void);
/* ACL SETUSER: 0, or -1 with *err (malloc'd, full error text). */
int acl__setuser(const char *name, size_t nlen, int nops, const dfm_str_t *ops, char **err);
/* ACL DELUSER: the number deleted, or -1 with *err when "default" is named. */
int acl__deluser(int n, const dfm_str_t *names, char **err);
/* ACL LOAD / SAVE with the aclfile: 0, or -1 with *err. */
int acl__load_file(char **err);
int acl__save_file(char **err);

/* --- the log (acl_log.c) --- */
void acl__log_reply(dfm_ctx_t *ctx, long count);
void acl__log_reset(void);
void acl__log_free(void);

/* 1 if p[0..n) holds whitespace, a control character or NUL: user names and patterns are
   single words of an ACL file line, so they may hold none (nothing can inject a line). */
static inline int acl_bad_token(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) return 1;
    return 0;
}

#endif
