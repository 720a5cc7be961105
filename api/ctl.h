/*
 * ctl.h - what every certctl command shares: the run's settings and HTTP
 * handle, calling the API (retries, errors), checking input, printing.
 *
 * Exit statuses, the contract with scripts:
 *   0  success;
 *   1  the server said no (4xx, 5xx): "certctl: <status> <title>:
 *      <detail>" from the problem document on stderr (and, with --json,
 *      the document itself on stdout);
 *   2  a usage error: a bad option, argument or input file, always found
 *      before any request is sent;
 *   3  no answer: cannot connect, TLS failed, or timed out.
 * Command functions return one of these rather than a CS_E* code: they
 * are main()'s delegates and the status is their result.
 *
 * Writes carry X-Request-Id: --request-id, else a fresh random id per
 * write. A 503 with Retry-After is retried after the delay the server
 * asks for, with the same id, until --timeout: the cluster answers a
 * repeated id with the first outcome, so a retry never applies a write
 * twice.
 */
#ifndef CS_CTL_H
#define CS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "api/ctl_args.h"
#include "api/ctl_http.h"
#include "lib/text.h"

enum {
	CS_CTL_EXIT_OK = 0,
	CS_CTL_EXIT_REFUSED = 1,
	CS_CTL_EXIT_USAGE = 2,
	CS_CTL_EXIT_UNREACHABLE = 3
};

struct cs_ctl;

/* One command: "certctl <name> <synopsis>". */
struct cs_ctl_command {
	const char *name;               /* "cluster join"; NULL ends a table */
	const char *synopsis;           /* "ID RAFT_ADDR API_URL [--site S]" */
	const char *summary;            /* one line for the command list */
	const struct cs_ctl_opt *opts;  /* its own options, or NULL */
	size_t min_args;                /* positional arguments */
	size_t max_args;                /* SIZE_MAX: any number */
	int (*run)(struct cs_ctl *ctl); /* returns an exit status */
};

/* The run: main() fills it, commands read it. */
struct cs_ctl {
	const struct cs_ctl_command *cmd;
	const struct cs_ctl_args *args; /* options and positional arguments */
	const char *url;
	/* the same node's plain-HTTP URL for CRLs, OCSP and CA
	 * certificates (ctl_conf.h); NULL: ask url */
	const char *http_url;
	const char *cacert; /* for another handle to the same cluster */
	struct cs_ctl_http *http;
	bool json;              /* --json */
	bool consistent;        /* --consistent */
	long timeout_ms;        /* --timeout, per call including retries */
	const char *request_id; /* --request-id, lower-case, or NULL */
	FILE *out;              /* stdout */
};

/* ---- arguments ---- */

/* Positional argument i (it exists: the counts were checked). */
const char *cs_ctl_arg(const struct cs_ctl *ctl, size_t i);
const char *cs_ctl_opt(const struct cs_ctl *ctl, const char *name);
bool cs_ctl_flag(const struct cs_ctl *ctl, const char *name);

/* Prints "certctl: <message>" and the command's synopsis on stderr;
 * returns CS_CTL_EXIT_USAGE. */
int cs_ctl_usage(const struct cs_ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Input checks. Each returns CS_CTL_EXIT_OK with the normalised value in
 * out, or reports a usage error naming what (an option or argument) and
 * returns CS_CTL_EXIT_USAGE. */
/* A SHA-256 (fingerprint or key id): 64 hex digits, either case, ':'
 * separators allowed (as `openssl x509 -fingerprint -sha256` prints). */
int cs_ctl_check_sha256(const struct cs_ctl *ctl, const char *what,
    const char *in, char out[65]);
/* An RFC 3339 time, rewritten in UTC ("2026-11-27T09:45:49Z"). */
int cs_ctl_check_time(const struct cs_ctl *ctl, const char *what,
    const char *in, char out[CS_TIME_TEXT_SIZE]);
/* A positive duration ("30d", "12h", "90m", "45s", "2w"), rewritten in
 * the largest exact unit. */
int cs_ctl_check_duration(const struct cs_ctl *ctl, const char *what,
    const char *in, char out[24], int64_t *secs);
/* A decimal integer in [min, max]. */
int cs_ctl_check_uint(const struct cs_ctl *ctl, const char *what,
    const char *in, uint64_t min, uint64_t max, uint64_t *out);
/* A revocation reason by its API name; removeFromCRL only if allowed. */
int cs_ctl_check_reason(const struct cs_ctl *ctl, const char *in,
    bool allow_remove);

/* ---- calls ---- */

/* Sends req (the request id and timeout are filled in here; a GET gets
 * consistency=leader with --consistent). Returns CS_CTL_EXIT_OK with a
 * 2xx answer in resp. Otherwise reports on stderr and returns the exit
 * status; for a 4xx/5xx answer resp holds it and, with --json, its JSON
 * body was printed on stdout. */
int cs_ctl_call(struct cs_ctl *ctl, struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp);
/* The same, except that a 4xx/5xx answer is left to the caller (it
 * returns CS_CTL_EXIT_REFUSED without a word): for answers that are
 * results, such as a broken audit chain. */
int cs_ctl_call_quiet(struct cs_ctl *ctl, struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp);
/* Reports an answer that is not a success (4xx, 5xx, or a 3xx that
 * certctl does not follow): "certctl: <status> <title>: <detail>" on
 * stderr, and its JSON on stdout with --json. Returns
 * CS_CTL_EXIT_REFUSED. */
int cs_ctl_report(struct cs_ctl *ctl, const struct cs_ctl_http_resp *resp);

/* GET path?query and parse the JSON answer: *out is new (json_decref).
 * With raw != NULL the answer is kept there (for --json). */
int cs_ctl_get_json(struct cs_ctl *ctl, const char *path, const char *query,
    json_t **out, struct cs_ctl_http_resp *raw);
/* A write with a JSON body (borrowed; NULL sends {}, or no body for a
 * DELETE). *out is the parsed answer (NULL for 204); out may be NULL. */
int cs_ctl_send_json(struct cs_ctl *ctl, const char *method, const char *path,
    json_t *body, json_t **out, struct cs_ctl_http_resp *raw);

/* A list ({"items", "next_cursor"}) from path with query; the first
 * page starts at cursor (NULL: the beginning), passed as the query
 * parameter cursor_param ("cursor"; the audit log calls it "from").
 * With all, follows next_cursor to the end. *out is new: the server's
 * page, or with all one document {"items": every item, "next_cursor":
 * null}. */
int cs_ctl_list(struct cs_ctl *ctl, const char *path, const char *query,
    const char *cursor_param, const char *cursor, bool all, json_t **out);

/* ---- output ---- */

/* --json: the answer's body as the server sent it, newline-terminated. */
void cs_ctl_print_raw(struct cs_ctl *ctl, const struct cs_ctl_http_resp *r);
/* --json: a document certctl put together (pages, batches). */
void cs_ctl_print_json(struct cs_ctl *ctl, const json_t *doc);
/* After a one-page list in a table: tells people how to see more (on
 * stderr, naming the option that takes the cursor). */
void cs_ctl_print_more(struct cs_ctl *ctl, const json_t *list,
    const char *option);

/* JSON field access that tolerates absent and mistyped fields: a string
 * or NULL, an integer or 0, a boolean or false. */
const char *cs_ctl_jstr(const json_t *o, const char *key);
long long cs_ctl_jint(const json_t *o, const char *key);
bool cs_ctl_jbool(const json_t *o, const char *key);
/* The strings of an array field joined with sep into out (emptied);
 * returns its text, "" when there are none. */
const char *cs_ctl_jjoin(const json_t *o, const char *key, const char *sep,
    struct cs_buf *out);
/* A certificate document's names ("sans": dns, ip, uri, email) as
 * "dns:a, ip:b" into out (emptied). */
void cs_ctl_jnames(const json_t *cert, struct cs_buf *out);

/* 32 random hex digits (a request id). */
void cs_ctl_random_id(char out[33]);

#endif
