/*
 * audit.h - the audit hash chain over every applied command.
 *
 * Each applied command (also a rejected or replayed one) appends an
 * entry whose hash chains to the previous one:
 *
 *   hash = SHA-256(prev_hash || index (u64 BE) || time (i64 BE) ||
 *                  actor || 0x00 || type (u16 BE) || rc (i16 BE) || digest)
 *
 * where prev_hash is 32 zero bytes for the first entry and digest is the
 * SHA-256 of the command entry exactly as logged. Any node can prove its
 * history by recomputing the chain (cs_audit_verify()), and two replicas
 * agree on their history when their head hashes are equal.
 *
 * Entries live in fixed chunks that never move, so a snapshot references
 * them without copying. Pure; loop thread only.
 */
#ifndef CS_AUDIT_H
#define CS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "cert/x509.h"

struct cs_store;

struct cs_audit {
	uint64_t index;
	int64_t time;
	uint32_t actor; /* position in the actor table */
	uint16_t type;  /* enum cs_cmd_type */
	int16_t rc;     /* the command's result */
	uint8_t digest[CS_SHA256_LEN];
	uint8_t hash[CS_SHA256_LEN];
};

size_t cs_audit_count(const struct cs_store *s);
/* The i-th entry (0-based) or NULL. View. */
const struct cs_audit *cs_audit_get(const struct cs_store *s, size_t i);
/* Position of the first entry with index >= from (count if none). */
size_t cs_audit_find(const struct cs_store *s, uint64_t from);
/* The actor's name ("" when out of range). View. */
const char *cs_audit_actor(const struct cs_store *s, uint32_t actor);
/* The chain's head hash (zeros when empty). */
const uint8_t *cs_audit_head(const struct cs_store *s);
/* Recomputes the chain: 0 when intact, else CS_EPROTO and the first bad
 * position in *bad. */
int cs_audit_verify(const struct cs_store *s, size_t *bad);

/* A frozen view of the first entries of a chain, to verify off the
 * loop: it copies the chunk and actor pointer arrays (the entries and the
 * actor names themselves never change). The store's memory must outlive
 * the view: hold a snapshot of it (cert/snapshot.h) meanwhile. */
struct cs_audit_view;
struct cs_audit_view *cs_audit_view_new(const struct cs_store *s);
void cs_audit_view_free(struct cs_audit_view *v);
size_t cs_audit_view_count(const struct cs_audit_view *v);
const uint8_t *cs_audit_view_head(const struct cs_audit_view *v);
/* Thread-safe against the loop going on with the store. Same result as
 * cs_audit_verify(). */
int cs_audit_view_verify(const struct cs_audit_view *v, size_t *bad);

/* Store internals (cmd.c, snapshot.c). */
uint32_t cs_audit__actor(struct cs_store *s, const char *name, size_t len);
void cs_audit__append(struct cs_store *s, uint64_t index, int64_t time,
    uint32_t actor, uint16_t type, int16_t rc,
    const uint8_t digest[CS_SHA256_LEN]);
void cs_audit__hash(const uint8_t prev[CS_SHA256_LEN], const struct cs_audit *a,
    const char *actor, uint8_t out[CS_SHA256_LEN]);

#endif
