/*
 * cmds.h - build, encode and apply commands in tests (tests only).
 *
 * The store is changed only through cs_cmd_apply(); these helpers make
 * that a one-liner. Every helper encodes the command to a real entry and
 * applies it at the store's next index, so tests exercise the codec too.
 * They abort if encoding fails (a broken helper is a broken test).
 */
#ifndef CS_TEST_CMDS_H
#define CS_TEST_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include "cert/cmd.h"
#include "cert/store.h"

/* A command with a fresh (counter-based, non-zero) request id, actor
 * "test" and the given time. */
void cs_test_cmd_init(struct cs_cmd *c, enum cs_cmd_type type, int64_t time);

/* Encodes c into a new padded entry (free()); *len set. */
uint8_t *cs_test_encode(const struct cs_cmd *c, size_t *len);

/* Applies c at index applied + 1 under a fresh request id (so that
 * applying one struct twice is two requests). Returns res.rc. */
int cs_test_apply(struct cs_store *s, const struct cs_cmd *c,
    struct cs_result *res);
/* The same, keeping c's request id (for retries and replays). */
int cs_test_apply_exact(struct cs_store *s, const struct cs_cmd *c,
    struct cs_result *res);

/* Imports one DER certificate with owner/tags (NULL-terminated, may be
 * NULL). Returns res.rc. */
int cs_test_import(struct cs_store *s, const uint8_t *der, size_t len,
    const char *owner, const char *const *tags, struct cs_result *res);

int cs_test_revoke(struct cs_store *s, const uint8_t fp[32], int reason,
    int64_t time);

/* A view of a C string. */
struct cs_bytes cs_test_bytes(const char *s);

#endif
