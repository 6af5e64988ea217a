/*
 * shebang.c: Redis 7's script shebang, "#!lua" optionally followed by "flags=a,b": the only
 * engine is lua; flags no-writes, allow-oom, allow-stale, no-cluster and
 * allow-cross-slot-keys are accepted (only no-writes changes anything here); functions use
 * the same flags. Pure.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scripting.h"

const char *const sc_flag_names[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                     "allow-cross-slot-keys", NULL};

int sc_flag_bit(const char *w, size_t n, int nocase) {
    for (int i = 0; sc_flag_names[i]; i++) {
        if (strlen(sc_flag_names[i]) != n) continue;
        if (nocase ? strncasecmp(sc_flag_names[i], w, n) == 0 : memcmp(sc_flag_names[i], w, n) == 0)
            return 1 << i;
    }
    return 0;
}

/* One flag word of length n: 0 and *flags updated, or -1. */
static int sc_shebang_flag(const char *w, size_t n, int *flags) {
    int bit = sc_flag_bit(w, n, 0);
    *flags |= bit;
    return bit ? 0 : -1;
}

/* "flags=a,b" (or "flags="): 0, or -1 with err. */
static int sc_shebang_flags(const char *p, size_t n, int *flags, char *err, size_t cap) {
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != ',') j++;
        if (j > i && sc_shebang_flag(p + i, j - i, flags) < 0) {
            snprintf(err, cap, "ERR Unexpected flag in script shebang: %.*s", (int)(j - i), p + i);
            return -1;
        }
        i = j + 1;
    }
    return 0;
}

int sc_shebang(const char *body, size_t len, size_t *skip, int *flags, char *err, size_t cap) {
    *skip = 0;
    *flags = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return 0;
    const char *nl = memchr(body, '\n', len);
    size_t line = nl ? (size_t)(nl - body) : len;
    *skip = line;
    size_t eng = 2;
    while (eng < line && body[eng] != ' ') eng++;
    if (eng - 2 != 3 || memcmp(body + 2, "lua", 3) != 0) {
        snprintf(err, cap, "ERR Unexpected engine in script shebang: %.*s", (int)eng, body);
        return -1;
    }
    size_t i = eng;
    while (i < line) {
        while (i < line && body[i] == ' ') i++;
        size_t j = i;
        while (j < line && body[j] != ' ') j++;
        if (j == i) break;
        if (j - i >= 6 && memcmp(body + i, "flags=", 6) == 0) {
            if (sc_shebang_flags(body + i + 6, j - i - 6, flags, err, cap) < 0) return -1;
        } else {
            snprintf(err, cap, "ERR Unknown lua shebang option: %.*s", (int)(j - i), body + i);
            return -1;
        }
        i = j;
    }
    return 0;
}
