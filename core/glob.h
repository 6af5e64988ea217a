/*
 * glob.h: Redis's glob-style pattern matching (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE):
 * '*', '?', '[abc]', '[^a]', '[a-z]', '\x' escapes. Binary safe.
 */
#ifndef DF_GLOB_H
#define DF_GLOB_H
#include <stddef.h>

/* 1 if s matches pattern, 0 otherwise. nocase compares ASCII letters without case. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

#endif
