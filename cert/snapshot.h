/*
 * snapshot.h - the whole store as bytes: taken by reference, hashed,
 * decoded.
 *
 * Taking a snapshot (cs_snapshot_take) copies the store's arrays of
 * record pointers and sizes and encodes the small tables that are not
 * records (actor names, recent request ids) with msgpack: no record is
 * copied, encoded or even touched, because each record already is its own
 * encoding (store.h) and the store keeps retired records alive while
 * snapshots are outstanding (store_int.h). The
 * snapshot is the concatenation of cs_snapshot_bufs(); its buffers stay
 * valid and unchanged, also while the store goes on applying commands,
 * until cs_snapshot_release(). They may be read from another thread; take
 * and release run on the loop thread.
 *
 * Format, little-endian:
 *   header (64 bytes): "CSSNAP\0\0", u32 version, u32 header size,
 *     u64 applied index, u64 certificates, u64 keys, u64 documents,
 *     u64 audit entries, u32 meta length, u32 zero
 *   meta: msgpack [actors [str], recent requests [[id, rc, count, count2,
 *     index, fingerprint]] oldest first, audit head (bin 32)], zero-padded
 *     to 8
 *   certificate records in seq order, key records in seq order, document
 *     records in (namespace, key) order, audit entries (88 bytes each)
 *
 * The encoding is canonical: two stores that applied the same entries
 * produce identical bytes, so cs_snapshot_hash() compares replicas.
 * Decoding checks every length, offset, enumeration and order, the audit
 * chain, and rebuilds every index; anything wrong is CS_EPROTO.
 */
#ifndef CS_SNAPSHOT_H
#define CS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "cert/mp.h"
#include "cert/store.h"
#include "lib/buf.h"

#define CS_SNAPSHOT_VERSION 1

struct cs_snapshot;

/* Returns new (cs_snapshot_release()). Never NULL. */
struct cs_snapshot *cs_snapshot_take(const struct cs_store *s);
/* The buffers, in order. Views valid until release. */
const struct cs_bytes *cs_snapshot_bufs(const struct cs_snapshot *snap,
    size_t *n);
/* Total bytes. */
size_t cs_snapshot_size(const struct cs_snapshot *snap);
uint64_t cs_snapshot_index(const struct cs_snapshot *snap);
void cs_snapshot_release(struct cs_snapshot *snap); /* NULL is a no-op */

/* SHA-256 over the encoding. */
void cs_snapshot_hash(const struct cs_snapshot *snap, uint8_t out[32]);
/* Take, hash, release. */
void cs_store_hash(const struct cs_store *s, uint8_t out[32]);
/* Take, concatenate into out (appends), release. CS_ETOOBIG if out's cap
 * is too small. */
int cs_store_encode(const struct cs_store *s, struct cs_buf *out);

/* Loads the snapshot in buf into a new store (*out, cs_store_free()),
 * using the records where they are: on success the store takes buf and
 * frees it with free_fn once no record in it is in use any more (a record
 * replaced later is not freed on its own: the slab goes as a whole). buf
 * must be 8-aligned. On error *out is untouched and buf is still the
 * caller's. */
int cs_snapshot_load(uint8_t *buf, size_t len, void (*free_fn)(void *),
    struct cs_store **out, char *errmsg);

/* The same from bytes the caller keeps (copies them). */
int cs_snapshot_decode(const uint8_t *p, size_t len, struct cs_store **out,
    char *errmsg);

#endif
