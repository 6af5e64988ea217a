/*
 * replid.h: the server's replication history, as Redis keeps it (replid, replid2,
 * second_repl_offset). The id names the stream the data follows: our own as a master, our
 * master's as a replica. After a change of master that continues the same data (a promotion,
 * or a PSYNC answered with "+CONTINUE <new id>") the old id stays valid as the second one up
 * to the offset where the history forked, so a replica of the old master can still continue
 * here with a PSYNC.
 *
 * Any thread: the strings are under a mutex, taken only on control paths (INFO, PSYNC,
 * REPLICAOF), never per command.
 */
#ifndef DF_REPLID_H
#define DF_REPLID_H

#define REPLID_LEN 40

/* Copy the ids (NUL-terminated, REPLID_LEN hex characters; id2 all zeros when unset) and the
   first offset id2 is not valid for (-1 when unset). Any argument may be NULL. */
void replid_get(char id[REPLID_LEN + 1], char id2[REPLID_LEN + 1], long long *second);
/* A full sync from a master: its id, no previous one. */
void replid_set(const char *id);
/* The history goes on under a new id (NULL: a fresh random one): the current id becomes the
   second one, valid for PSYNC offsets up to offset + 1. */
void replid_shift(const char *id, long long offset);
/* A fresh random id and no previous one (a backlog started from scratch). */
void replid_reset(void);
/* 1 if "PSYNC id psync_offset" asks for our history: our id, or the previous one with an
   offset before the fork. The backlog decides whether the bytes are still there. */
int replid_accepts(const char *id, long long psync_offset);

#endif
