/*
 * aof_manifest.c: Redis 7.0's AOF manifest: one line per file, "file <name> seq <n> type <t>"
 * (t: b base, i incr, h history), names quoted when they hold spaces; the base first, then
 * the incr files in order. Written to a temporary file, fsynced and renamed over the old one,
 * so a crash leaves either manifest, never half of one.
 */
#include "aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define AOF_MANIFEST_LINE_MAX 1024

char *aof_dir_path(void) { return config_dir_file(g_config.appenddirname); }

char *aof_legacy_path(void) { return config_dir_file(g_config.appendfilename); }

char *aof_file_path(const char *name) {
    char *dir = aof_dir_path(), *p = NULL;
    if (dir && asprintf(&p, "%s/%s", dir, name) < 0) p = NULL;
    free(dir);
    return p;
}

char *aof_manifest_path(const char *suffix) {
    char name[512];
    snprintf(name, sizeof name, "%s.manifest%s", g_config.appendfilename, suffix);
    return aof_file_path(name);
}

void aof_manifest_free(aof_manifest_t *m) {
    free(m->base.name);
    for (int i = 0; i < m->nincr; i++) free(m->incr[i].name);
    df_free(m->incr);
    memset(m, 0, sizeof *m);
}

/* The next token of a manifest line (a word, or a "quoted" name with \" and \\ escapes),
   NUL-terminated in place; NULL at the end or on a bad quote. */
static char *manifest_token(char **s) {
    char *p = *s;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return NULL;
    char *tok = p;
    if (*p == '"') {
        char *out = ++tok;
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1]) p++;
            *out++ = *p;
        }
        if (*p != '"') return NULL;
        *out = '\0';
        *s = p + 1;
        return tok;
    }
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = '\0';
    *s = p;
    return tok;
}

/* One line: 0 taken, -1 malformed. */
static int manifest_line(aof_manifest_t *m, char *line) {
    char *name = NULL, *type = NULL, *seq = NULL, *k, *v;
    while ((k = manifest_token(&line)) != NULL) {
        if (!(v = manifest_token(&line))) return -1;
        if (!strcmp(k, "file")) name = v;
        else if (!strcmp(k, "seq")) seq = v;
        else if (!strcmp(k, "type")) type = v;
    }
    long long n;
    if (!name || !type || !seq || util_str2ll(seq, strlen(seq), &n) < 0 || n < 1 || strchr(name, '/'))
        return -1;
    aof_file_t f = {strdup(name), n};
    if (!strcmp(type, "b")) {
        if (m->base.name) {
            free(f.name);
            return -1;
        }
        m->base = f;
        if (n > m->base_seq) m->base_seq = n;
    } else if (!strcmp(type, "i")) {
        aof_manifest_add_incr(m, f);
    } else if (!strcmp(type, "h")) {
        free(f.name); /* a history file of an unfinished cleanup: not part of the data */
    } else {
        free(f.name);
        return -1;
    }
    return 0;
}

int aof_manifest_load(aof_manifest_t *m, char *err, size_t cap) {
    memset(m, 0, sizeof *m);
    char *path = aof_manifest_path("");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        int absent = errno == ENOENT;
        if (!absent) snprintf(err, cap, "Can't open the AOF manifest %s: %s", path, strerror(errno));
        free(path);
        return absent ? 0 : -1;
    }
    char line[AOF_MANIFEST_LINE_MAX + 2];
    int rc = 1, lineno = 0;
    while (rc == 1 && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len > AOF_MANIFEST_LINE_MAX || (len && line[len - 1] != '\n' && !feof(f))) rc = -1;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (rc == 1 && len && line[0] != '#' && manifest_line(m, line) < 0) rc = -1;
    }
    fclose(f);
    if (rc < 0) {
        snprintf(err, cap, "Invalid AOF manifest file format (%s, line %d)", path, lineno);
        aof_manifest_free(m);
    } else if (!m->base.name && !m->nincr) {
        snprintf(err, cap, "Found an empty AOF manifest %s", path);
        rc = -1;
    }
    free(path);
    return rc;
}

/* A name as the manifest writes it: quoted when it holds a space, a quote or a backslash. */
static void manifest_put_name(FILE *f, const char *name) {
    if (!strpbrk(name, " \t\"\\")) {
        fputs(name, f);
        return;
    }
    fputc('"', f);
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void manifest_put(FILE *f, const aof_file_t *x, char type) {
    fputs("file ", f);
    manifest_put_name(f, x->name);
    fprintf(f, " seq %lld type %c\n", x->seq, type);
}

/* fsync a directory, so a rename in it is durable. */
static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

int aof_manifest_save(const aof_manifest_t *m) {
    char *tmp = aof_manifest_path(".tmp"), *path = aof_manifest_path(""), *dir = aof_dir_path();
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    int rc = -1;
    if (f) {
        if (m->base.name) manifest_put(f, &m->base, 'b');
        for (int i = 0; i < m->nincr; i++) manifest_put(f, &m->incr[i], 'i');
        rc = (fflush(f) == 0 && fsync(fileno(f)) == 0) ? 0 : -1;
        if (fclose(f) != 0) rc = -1;
        if (rc == 0 && rename(tmp, path) < 0) rc = -1;
        if (rc == 0) fsync_dir(dir);
    }
    if (rc < 0) log_warning("Can't write the AOF manifest %s: %s", path ? path : "?", strerror(errno));
    free(tmp);
    free(path);
    free(dir);
    return rc;
}

void aof_manifest_next_base(aof_manifest_t *m, aof_file_t *out) {
    out->seq = ++m->base_seq;
    if (asprintf(&out->name, "%s.%lld.base.rdb", g_config.appendfilename, out->seq) < 0) out->name = NULL;
}

void aof_manifest_next_incr(aof_manifest_t *m, aof_file_t *out) {
    out->seq = ++m->incr_seq;
    if (asprintf(&out->name, "%s.%lld.incr.aof", g_config.appendfilename, out->seq) < 0) out->name = NULL;
}

void aof_manifest_add_incr(aof_manifest_t *m, aof_file_t f) {
    m->incr = df_realloc(m->incr, sizeof *m->incr * (size_t)(m->nincr + 1));
    m->incr[m->nincr++] = f;
    if (f.seq > m->incr_seq) m->incr_seq = f.seq;
}
