/*
 * cmd.h - the commands of the replicated log: encode, decode, apply.
 *
 * Every write is one command carried in one raft entry:
 *
 *   [u32 payload length LE][u32 format version LE][msgpack payload]
 *   [zero padding to a multiple of 8 bytes]
 *
 * (libraft 0.15 silently corrupts entries whose length is not a multiple
 * of 8: see notes/raft-0.15.md.) The payload is a msgpack array:
 *
 *   [type, request_id (bin 16), actor (str), time (int), args...]
 *
 * with args per type as documented at enum cs_cmd_type. Decoding is
 * strict: wrong types, lengths over the caps, unknown types or versions,
 * trailing bytes and non-zero padding are CS_EPROTO with a message.
 *
 * cs_cmd_apply() is the FSM transition. It is deterministic (its effect
 * depends only on the store and the command; the leader decided every
 * time, serial and signature before proposing) and it never fails: a
 * business outcome ("already revoked", "unknown certificate") is a result
 * code in struct cs_result, identical on every replica, and leaves the
 * store unchanged except for the audit chain and the request-id table.
 * A request id seen among the last CS_DEDUPE_MAX commands returns the
 * first result and changes nothing (retries after a leader change are
 * safe).
 *
 * Pure. Loop thread only.
 */
#ifndef CS_CMD_H
#define CS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/mp.h"
#include "cert/store.h"
#include "lib/buf.h"

#define CS_CMD_FORMAT     1          /* the u32 format version in the frame */
#define CS_CMD_MAX_ENTRY  (8u << 20) /* whole entry, bytes */
#define CS_CMD_MAX_CERTS  1000       /* certificates per import */
#define CS_CMD_MAX_TAGS   32
#define CS_CMD_MAX_STR    1024       /* owner, tag, profile, actor, doc keys */
#define CS_CMD_MAX_DOC    (1u << 20) /* document values */
#define CS_REQUEST_ID_LEN 16
#define CS_DEDUPE_MAX     8192

enum cs_cmd_type {
	/* args: [certs (array of bin DER, 1..MAX_CERTS), source (uint),
	 *        profile (str), owner (str), tags (array of str),
	 *        key location (uint)]
	 * Adds the certificates that are not present yet (all or none parse);
	 * their keys are recorded. count = added, count2 = already present,
	 * fingerprint = the first certificate. */
	CS_CMD_IMPORT = 1,
	/* args: [fingerprint (bin 32), reason (uint), invalidity date (int,
	 *        0 none)]
	 * valid -> revoked at cmd time. A certificate on hold may be revoked
	 * again with another reason. CS_ENOTFOUND, CS_ECONFLICT (already
	 * revoked), CS_EINVAL (reason removeFromCRL or unknown). */
	CS_CMD_REVOKE,
	/* args: [fingerprint]
	 * removeFromCRL: undoes certificateHold only (CS_ECONFLICT else). */
	CS_CMD_UNREVOKE,
	/* args: [key id (bin 32), reason (uint)]
	 * Key compromise: marks the key compromised and revokes every
	 * certificate that uses it, in this one entry. count = certificates
	 * revoked. CS_ENOTFOUND, CS_ECONFLICT (key destroyed). */
	CS_CMD_REVOKE_KEY,
	/* args: [selector (uint: 0 owner, 1 tag, 2 issuer), value (str),
	 *        reason (uint)]
	 * Bulk revocation of every valid (or on hold) certificate matching;
	 * count = revoked. */
	CS_CMD_REVOKE_BULK,
	/* args: [key id, state (uint), location (uint, or 255 = keep)]
	 * active -> destroyed, compromised -> destroyed; a destroyed key is
	 * final (CS_ECONFLICT); use REVOKE_KEY to mark a compromise. */
	CS_CMD_KEY_STATE,
	/* args: [fingerprint, owner (str or nil = keep), tags (array or nil
	 *        = keep)] */
	CS_CMD_SET_META,
	/* args: [namespace (uint), key (str), value (bin)]
	 * Creates or replaces a document. The value must decode as the
	 * namespace's document type (CS_EINVAL otherwise). count = 1 when
	 * created, 0 when replaced. */
	CS_CMD_DOC_PUT,
	/* args: [namespace, key]. CS_ENOTFOUND when absent. */
	CS_CMD_DOC_DEL,
	/* args: [issuer (str), number (uint), this_update (int),
	 *        next_update (int), delta base (uint, 0 = full CRL)]
	 * Records a CRL publication decided by the leader. The number must
	 * exceed the issuer's last number (CS_ECONFLICT else). */
	CS_CMD_CRL_PUBLISH,
	CS_CMD__MAX
};

const char *cs_cmd_type_name(enum cs_cmd_type t);

struct cs_cmd {
	enum cs_cmd_type type;
	uint8_t request_id[CS_REQUEST_ID_LEN];
	struct cs_bytes actor; /* authenticated identity (UTF-8) */
	int64_t time;          /* leader's wall clock when proposed */
	union {
		struct {
			size_t n;
			struct cs_bytes der[CS_CMD_MAX_CERTS];
			uint8_t source;
			uint8_t location;
			struct cs_bytes profile, owner;
			size_t ntags;
			struct cs_bytes tags[CS_CMD_MAX_TAGS];
		} import;
		struct {
			uint8_t fp[CS_SHA256_LEN];
			uint8_t reason;
			int64_t invalidity_date;
		} revoke; /* also UNREVOKE (fp only) */
		struct {
			uint8_t key_id[CS_SHA256_LEN];
			uint8_t reason;
		} revoke_key;
		struct {
			uint8_t selector;
			struct cs_bytes value;
			uint8_t reason;
		} bulk;
		struct {
			uint8_t key_id[CS_SHA256_LEN];
			uint8_t state;
			uint8_t location;
		} key_state;
		struct {
			uint8_t fp[CS_SHA256_LEN];
			bool set_owner, set_tags;
			struct cs_bytes owner;
			size_t ntags;
			struct cs_bytes tags[CS_CMD_MAX_TAGS];
		} meta;
		struct {
			uint8_t ns;
			struct cs_bytes key;
			struct cs_bytes value;
		} doc;
		struct {
			struct cs_bytes issuer;
			uint64_t number;
			int64_t this_update, next_update;
			uint64_t delta_base;
		} crl;
	} u;
};

enum {
	CS_BULK_OWNER = 0,
	CS_BULK_TAG = 1,
	CS_BULK_ISSUER = 2
};
#define CS_KEYLOC_KEEP 255

/* The outcome of one command, returned to the proposer and remembered
 * under its request id. */
struct cs_result {
	int32_t rc;     /* 0 or a CS_E* business outcome */
	uint32_t count; /* see enum cs_cmd_type */
	uint32_t count2;
	uint32_t pad;
	uint64_t index; /* log index of the entry that produced it */
	uint8_t fingerprint[CS_SHA256_LEN];
};

/* Encodes cmd as a padded entry appended to out (CS_ETOOBIG past
 * CS_CMD_MAX_ENTRY or out's cap; CS_EINVAL for out-of-range fields). */
int cs_cmd_encode(const struct cs_cmd *cmd, struct cs_buf *out);

/* Decodes an entry. On success *cmd holds views into `entry`; use
 * cs_cmd_decoded_close() when done. */
struct cs_cmd_decoded;
int cs_cmd_decode(const uint8_t *entry, size_t len, struct cs_cmd_decoded **out,
    char *errmsg);
const struct cs_cmd *cs_cmd_decoded_get(const struct cs_cmd_decoded *d);
void cs_cmd_decoded_close(struct cs_cmd_decoded *d);

/* Applies a decoded command committed at log `index` (> the store's
 * applied index). Never fails: the outcome is in *res. Also extends the
 * audit chain with the digest of `entry` (the bytes as logged). */
void cs_cmd_apply(struct cs_store *s, const struct cs_cmd *cmd,
    const uint8_t *entry, size_t entry_len, uint64_t index,
    struct cs_result *res);

/* Decode + apply in one step, as the FSM does. An entry that does not
 * decode is applied as a no-op with res->rc = CS_EPROTO (and audited):
 * every replica sees the same bytes, so they all agree. */
void cs_cmd_apply_entry(struct cs_store *s, const uint8_t *entry, size_t len,
    uint64_t index, struct cs_result *res);

/* The result remembered for a request id, or NULL. */
const struct cs_result *cs_cmd_seen(const struct cs_store *s,
    const uint8_t request_id[CS_REQUEST_ID_LEN]);

#endif
