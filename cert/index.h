/*
 * index.h - the two index shapes the store is built from.
 *
 * struct cs_index: a hash map from a byte-string key to a sorted set of
 * uint32 ids (a posting list). Used for fingerprints, serials, key ids,
 * subjects, SANs, issuers, owners, tags and request ids. Keys are copied.
 *
 * struct cs_tindex: an ordered set of (int64 time, uint32 id) pairs with
 * range iteration in O(log n + k). Used for not_after, so that "expiring
 * within 30 days" never scans the store. A sorted main array plus a small
 * sorted delta that is merged in when it fills (amortised O(sqrt n)
 * memmove per insert, cache-friendly scans).
 *
 * Both are pure data structures: no I/O, deterministic results (iteration
 * order never depends on hashing). Single-threaded.
 */
#ifndef CS_INDEX_H
#define CS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cs_index;

struct cs_index *cs_index_new(void);     /* never NULL */
void cs_index_free(struct cs_index *ix); /* NULL is a no-op */

/* Adds id to key's set (no-op if present). Borrows key. */
void cs_index_add(struct cs_index *ix, const void *key, size_t klen,
    uint32_t id);
/* Removes id from key's set (no-op if absent); a key whose set becomes
 * empty is dropped. */
void cs_index_remove(struct cs_index *ix, const void *key, size_t klen,
    uint32_t id);
/* Returns a view of key's ids in ascending order, valid until the next
 * add or remove on ix; NULL with *n = 0 when the key is absent. */
const uint32_t *cs_index_get(const struct cs_index *ix, const void *key,
    size_t klen, size_t *n);
/* Number of distinct keys. */
size_t cs_index_size(const struct cs_index *ix);
/* Makes room for n keys in all, so that bulk loads never rehash. */
void cs_index_reserve(struct cs_index *ix, size_t n);

/* Index of the first element of ids[0..n) that is > after (n if none). */
size_t cs_ids_upper_bound(const uint32_t *ids, size_t n, uint32_t after);

struct cs_tindex;

struct cs_tindex *cs_tindex_new(void);
void cs_tindex_free(struct cs_tindex *t);
void cs_tindex_add(struct cs_tindex *t, int64_t key, uint32_t id);
/* Removes the pair if present. */
void cs_tindex_remove(struct cs_tindex *t, int64_t key, uint32_t id);
size_t cs_tindex_size(const struct cs_tindex *t);

/* Each pair carries a small flag word (the store keeps "revoked" there,
 * so windows can be counted without touching the records). New pairs
 * have flags 0. Returns 0 or CS_ENOTFOUND. */
int cs_tindex_set_flags(struct cs_tindex *t, int64_t key, uint32_t id,
    uint32_t flags);

/* Bulk load into an empty index: n pairs in any order, one sort. */
void cs_tindex_build(struct cs_tindex *t, const int64_t *keys,
    const uint32_t *ids, const uint32_t *flags, size_t n);

/* A forward iterator; valid until the next add or remove. */
struct cs_tindex_iter {
	const struct cs_tindex *t;
	size_t i; /* position in main */
	size_t j; /* position in delta */
};

/* Positions it at the first pair >= (key, id). */
void cs_tindex_seek(const struct cs_tindex *t, struct cs_tindex_iter *it,
    int64_t key, uint32_t id);
/* Yields the next pair in (key, id) order and its flags (flags may be
 * NULL); false at the end. */
bool cs_tindex_next(struct cs_tindex_iter *it, int64_t *key, uint32_t *id,
    uint32_t *flags);

#endif
