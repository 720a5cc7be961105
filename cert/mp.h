/*
 * mp.h - msgpack for the log and the documents: msgpack-c's packer for
 * writing, a strict cursor for reading.
 *
 * Why not msgpack-c's unpacker for reading: it allocates count * 24 bytes
 * as soon as it reads an array header, so a 5-byte input claiming 4
 * billion elements asks for 96 GiB (and aborts under ASan). Log entries
 * and snapshots come from the network, so the reader here allocates
 * nothing, returns views into the input, checks every declared length
 * against the bytes that remain, and refuses what the schema does not
 * expect (wrong type, over the cap, too deep).
 *
 * Pure. Errors are sticky: after the first failure every call is a no-op
 * and the error (CS_EPROTO, or CS_ETOOBIG for the writer's cap) is in
 * ->err; callers check once at the end.
 */
#ifndef CS_MP_H
#define CS_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* A view of bytes inside some buffer. */
struct cs_bytes {
	const uint8_t *p;
	size_t len;
};

struct cs_mp_out {
	msgpack_packer pk;
	struct cs_buf *buf;
	int err;
};

void cs_mp_out_init(struct cs_mp_out *w, struct cs_buf *b);
void cs_mp_array(struct cs_mp_out *w, size_t n);
void cs_mp_map(struct cs_mp_out *w, size_t n);
void cs_mp_uint(struct cs_mp_out *w, uint64_t v);
void cs_mp_int(struct cs_mp_out *w, int64_t v);
void cs_mp_bool(struct cs_mp_out *w, bool v);
void cs_mp_nil(struct cs_mp_out *w);
void cs_mp_str(struct cs_mp_out *w, const void *s, size_t len);
void cs_mp_cstr(struct cs_mp_out *w, const char *s); /* NULL packs "" */
void cs_mp_bin(struct cs_mp_out *w, const void *p, size_t len);

struct cs_mp_in {
	const uint8_t *p;
	const uint8_t *end;
	int err;
	char *errmsg; /* nullable; receives the first failure */
};

void cs_mp_in_init(struct cs_mp_in *r, const void *p, size_t len, char *errmsg);
/* Containers: *n is at most the remaining bytes (each element takes one
 * byte at least) and at most max. */
void cs_mp_read_array(struct cs_mp_in *r, size_t max, size_t *n);
void cs_mp_read_map(struct cs_mp_in *r, size_t max, size_t *n);
void cs_mp_read_uint(struct cs_mp_in *r, uint64_t max, uint64_t *v);
void cs_mp_read_int(struct cs_mp_in *r, int64_t *v);
void cs_mp_read_bool(struct cs_mp_in *r, bool *v);
/* A str of at most max bytes without NUL bytes (they would truncate the
 * C strings the store keeps). */
void cs_mp_read_str(struct cs_mp_in *r, size_t max, struct cs_bytes *out);
/* A bin of min..max bytes. */
void cs_mp_read_bin(struct cs_mp_in *r, size_t min, size_t max,
    struct cs_bytes *out);
/* Consumes a nil and returns true, or returns false and consumes nothing. */
bool cs_mp_read_nil(struct cs_mp_in *r);
/* Skips one value of any type, nesting at most 16 deep. */
void cs_mp_skip(struct cs_mp_in *r);
/* Fails the reader with a message (for schema errors found by callers). */
void cs_mp_fail(struct cs_mp_in *r, const char *what);
/* True when the input is fully consumed without error. */
bool cs_mp_done(const struct cs_mp_in *r);

/* Compares a str view to a C string. */
bool cs_bytes_eq(struct cs_bytes b, const char *s);
/* A new NUL-terminated copy of a view (free()). */
char *cs_bytes_dup(struct cs_bytes b);

#endif
