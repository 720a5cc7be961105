/*
 * error.h - the project's error codes and error-message buffers.
 *
 * Every function that can fail returns int: 0 on success, a negative CS_E*
 * code on failure. The codes are few on purpose: one per distinct reaction
 * in a caller. Detail for people goes into an error-message buffer of
 * CS_ERRMSG_SIZE bytes: long-lived objects embed one, pure functions take a
 * nullable `char *errmsg`.
 *
 * Foreign codes are translated once, at the boundary: cs_err_from_errno()
 * here for errno and libuv (libuv's codes are negative errno values on
 * Unix), cs_err_from_raft() in raft/, OpenSSL's error queue in cert/.
 *
 * Depends on nothing of ours. Thread-safe (no state).
 */
#ifndef CS_ERROR_H
#define CS_ERROR_H

#include <stddef.h>

enum {
	CS_OK = 0,
	CS_ENOMEM = -1,      /* out of memory (only where we do not abort) */
	CS_EINVAL = -2,      /* malformed or unacceptable input */
	CS_ENOTFOUND = -3,   /* no such object */
	CS_EEXIST = -4,      /* the object already exists */
	CS_ENOTLEADER = -5,  /* this node is not the raft leader */
	CS_EIO = -6,         /* file or network I/O failed */
	CS_ECRYPTO = -7,     /* a cryptographic operation failed */
	CS_EBUSY = -8,       /* try again later */
	CS_ECANCELED = -9,   /* the operation was cancelled (shutdown) */
	CS_ETOOBIG = -10,    /* input or result exceeds a size cap */
	CS_EPROTO = -11,     /* malformed wire or log data */
	CS_EPERM = -12,      /* not allowed: role or policy */
	CS_ETIMEDOUT = -13,  /* a deadline passed */
	CS_ECONFLICT = -14,  /* the object is in a state that forbids this */
	CS_ELEADERLOST = -15 /* leadership lost: the outcome is unknown */
};
#define CS_E__MIN (-15)

#define CS_ERRMSG_SIZE 256

/* Returns a static, human-readable text for rc (0 or CS_E*). */
const char *cs_strerror(int rc);

/* Returns the symbolic name of rc ("CS_EINVAL"), for logs and tests. */
const char *cs_errname(int rc);

/* Maps a positive errno or a negative libuv/errno code to CS_E*. */
int cs_err_from_errno(int e);

/* Writes a formatted message into errmsg (CS_ERRMSG_SIZE bytes). A NULL
 * errmsg is a no-op. */
void cs_errmsg_printf(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the message already in errmsg with a formatted context and
 * ": ", as in "parse bundle: certificate 3: bad DER". Truncates. A NULL
 * errmsg is a no-op; an empty one just receives the context. */
void cs_errmsg_wrapf(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
