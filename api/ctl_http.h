/*
 * ctl_http.h - certctl's HTTPS client: libcurl's easy interface, simple
 * and blocking, one request at a time.
 *
 * One handle serves every call of a command, so they share a kept-alive
 * connection (an import of 50 batches does one TLS handshake). TLS
 * verification is always on: the server's certificate and host name are
 * checked against the given CA file and only that file (no system store:
 * a certstore cluster has its own CA); the client certificate and key
 * are presented when given.
 *
 * No retries here: one call is one exchange. The caller (ctl.c) decides
 * what a 503 means.
 */
#ifndef CS_CTL_HTTP_H
#define CS_CTL_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"

/* Bodies are buffered up to this; larger ones go to a sink. */
#define CS_CTL_HTTP_MAX_BODY (256u * 1024 * 1024)

struct cs_ctl_http_config {
	const char *url;    /* the base, "https://127.0.0.1:8443" */
	const char *cacert; /* NULL: none (no server can be verified) */
	const char *cert;   /* NULL: no client certificate */
	const char *key;
};

struct cs_ctl_http_req {
	const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;   /* percent-encoded where needed */
	const char *query;  /* "a=1&b=2", encoded, or NULL */
	const char *ctype;  /* of the body; NULL: no body */
	const void *body;
	size_t len;
	const char *request_id; /* X-Request-Id (32 hex digits) or NULL */
	long timeout_ms;        /* the whole exchange */
	FILE *sink; /* NULL: buffer the body; else a 2xx body goes here */
};

struct cs_ctl_http_resp {
	long status;
	char reason[64]; /* the status line's reason phrase */
	char ctype[96];
	long retry_after; /* seconds; -1 when absent */
	char request_id[48];
	char index[24];          /* X-Certstore-Index, "" when absent */
	char node[24];           /* X-Certstore-Node */
	char snapshot_index[24]; /* X-Certstore-Snapshot-Index */
	struct cs_buf body;      /* NUL-terminated; empty when sunk */
	size_t sunk;             /* bytes written to the sink */
};

void cs_ctl_http_resp_init(struct cs_ctl_http_resp *r);
void cs_ctl_http_resp_close(struct cs_ctl_http_resp *r);

struct cs_ctl_http;

/* Returns 0 with *out new (cs_ctl_http_free()), or CS_EINVAL with
 * errmsg. Borrows cfg's strings for the life of the handle. */
int cs_ctl_http_new(const struct cs_ctl_http_config *cfg,
    struct cs_ctl_http **out, char *errmsg);
void cs_ctl_http_free(struct cs_ctl_http *h); /* NULL is a no-op */

/* Sends req and reads the answer into resp (emptied first). Returns 0
 * when an answer came, whatever its status. Otherwise, with errmsg:
 * CS_EIO (no connection, or it broke), CS_ECRYPTO (TLS: the server's or
 * our certificate), CS_ETIMEDOUT, CS_ETOOBIG (the body is over
 * CS_CTL_HTTP_MAX_BODY), CS_ECANCELED (writing to the sink failed). */
int cs_ctl_http_do(struct cs_ctl_http *h, const struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp, char *errmsg);

/* Appends "name=value" (value percent-encoded, "&" before it unless q is
 * empty) to a query string. */
void cs_ctl_http_query_add(struct cs_buf *q, const char *name,
    const char *value);
/* Appends s percent-encoded: everything but RFC 3986 unreserved
 * characters, so "/" and "," inside a path segment stay inside it. */
void cs_ctl_http_pct_encode(struct cs_buf *out, const char *s);

#endif
