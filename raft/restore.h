/*
 * restore.h - put a backup (a snapshot from GET /v1/snapshot) into an
 * empty raft data directory, offline.
 *
 * The backup becomes raft's snapshot at index max(its applied index, 1),
 * term 1, with the given members as the configuration (all voters). Run
 * it with the same backup and the same member list for every node of the
 * new cluster, each with its own id and data directory; the nodes then
 * start from identical state and elect a leader as usual. The snapshot is
 * checked completely before anything is written.
 */
#ifndef CS_RESTORE_H
#define CS_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "raft/replica.h"

/* dir must exist and hold no raft state. Returns 0, or CS_EPROTO (the
 * backup does not decode), CS_EEXIST (dir is not empty of raft state),
 * CS_EIO, with errmsg. */
int cs_restore(const char *dir, uint64_t id, const char *address,
    const struct cs_replica_peer *members, size_t nmembers,
    const uint8_t *backup, size_t len, uint64_t *index, char *errmsg);

#endif
