/*
 * ctl.c - certctl's shared command machinery (ctl.h): arguments, input
 * checks, calls with retries, error reports, JSON helpers.
 */
#include "api/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

/* ---- arguments ---- */

const char *
cs_ctl_arg(const struct cs_ctl *ctl, size_t i)
{
	return i < ctl->args->npos ? ctl->args->pos[i] : NULL;
}

const char *
cs_ctl_opt(const struct cs_ctl *ctl, const char *name)
{
	return cs_ctl_args_get(ctl->args, name);
}

bool
cs_ctl_flag(const struct cs_ctl *ctl, const char *name)
{
	return cs_ctl_args_has(ctl->args, name);
}

int
cs_ctl_usage(const struct cs_ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fputs("certctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctl != NULL && ctl->cmd != NULL)
		fprintf(stderr, "usage: certctl %s%s%s (certctl %s -h)\n",
		    ctl->cmd->name, ctl->cmd->synopsis[0] ? " " : "",
		    ctl->cmd->synopsis, ctl->cmd->name);
	return CS_CTL_EXIT_USAGE;
}

/* ---- input checks ---- */

int
cs_ctl_check_sha256(const struct cs_ctl *ctl, const char *what, const char *in,
    char out[65])
{
	size_t n = 0;

	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 64)
			goto bad;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 64)
		goto bad;
	out[64] = '\0';
	return CS_CTL_EXIT_OK;
bad:
	return cs_ctl_usage(ctl,
	    "%s \"%s\": a SHA-256 is 64 hexadecimal digits", what, in);
}

int
cs_ctl_check_time(const struct cs_ctl *ctl, const char *what, const char *in,
    char out[CS_TIME_TEXT_SIZE])
{
	int64_t t;

	if (cs_time_parse(in, &t) < 0)
		return cs_ctl_usage(ctl,
		    "%s \"%s\": an RFC 3339 time, like 2026-11-27T09:45:49Z",
		    what, in);
	cs_time_format(t, out);
	return CS_CTL_EXIT_OK;
}

int
cs_ctl_check_duration(const struct cs_ctl *ctl, const char *what,
    const char *in, char out[24], int64_t *secs)
{
	int64_t s;

	if (cs_duration_parse(in, &s) < 0 || s <= 0)
		return cs_ctl_usage(ctl,
		    "%s \"%s\": a duration like 30d, 12h, 90m or 45s", what,
		    in);
	cs_duration_format(s, out);
	if (secs != NULL)
		*secs = s;
	return CS_CTL_EXIT_OK;
}

int
cs_ctl_check_uint(const struct cs_ctl *ctl, const char *what, const char *in,
    uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(in, &end, 10);
	if (!isdigit((unsigned char)in[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		return cs_ctl_usage(ctl,
		    "%s \"%s\": a number from %llu to %llu", what, in,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return CS_CTL_EXIT_OK;
}

int
cs_ctl_check_reason(const struct cs_ctl *ctl, const char *in, bool allow_remove)
{
	enum cs_reason r;

	if (cs_reason_parse(in, &r) < 0 ||
	    (r == CS_REASON_REMOVE_FROM_CRL && !allow_remove))
		return cs_ctl_usage(ctl,
		    "--reason \"%s\": one of unspecified, keyCompromise, "
		    "cACompromise, affiliationChanged, superseded, "
		    "cessationOfOperation, certificateHold, "
		    "privilegeWithdrawn, aACompromise%s",
		    in,
		    allow_remove ? ", removeFromCRL"
				 : " (certctl unhold lifts a hold)");
	return CS_CTL_EXIT_OK;
}

/* ---- calls ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
cs_ctl_random_id(char out[33])
{
	uint8_t b[16];

	/* unique, not secret: time and pid if the kernel says no */
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		uint64_t t = now_ms() ^ ((uint64_t)getpid() << 40);

		memset(b, 0, sizeof b);
		memcpy(b, &t, sizeof t);
	}
	cs_hex_encode(b, sizeof b, out);
}

static bool
is_json(const struct cs_ctl_http_resp *r)
{
	const char *slash = strchr(r->ctype, '/');
	size_t n;

	/* application/json, application/problem+json, ...+json */
	if (slash == NULL)
		return false;
	n = strcspn(slash, ";");
	return n >= 5 && strncmp(slash + n - 4, "json", 4) == 0;
}

int
cs_ctl_report(struct cs_ctl *ctl, const struct cs_ctl_http_resp *resp)
{
	json_t *o = NULL;
	const char *title = resp->reason, *detail = NULL;
	struct cs_buf text;

	cs_buf_init(&text, 4096);
	if (is_json(resp) && resp->body.len > 0) {
		o = json_loadb((const char *)resp->body.data, resp->body.len, 0,
		    NULL);
		if (ctl->json)
			cs_ctl_print_raw(ctl, resp);
	}
	if (o != NULL) {
		if (cs_ctl_jstr(o, "title") != NULL)
			title = cs_ctl_jstr(o, "title");
		detail = cs_ctl_jstr(o, "detail");
		if (detail == NULL)
			detail = cs_ctl_jstr(o, "reason"); /* /readyz */
	} else if (resp->body.len > 0 && !is_json(resp)) {
		/* not a problem document (a proxy's page?): its first line */
		size_t n = strcspn((const char *)resp->body.data, "\r\n");

		cs_buf_append(&text, resp->body.data, n < 200 ? n : 200);
		detail = (const char *)text.data;
	}
	if (detail != NULL && detail[0] != '\0')
		fprintf(stderr, "certctl: %ld %s: %s\n", resp->status, title,
		    detail);
	else
		fprintf(stderr, "certctl: %ld %s\n", resp->status, title);
	json_decref(o);
	cs_buf_close(&text);
	return CS_CTL_EXIT_REFUSED;
}

int
cs_ctl_call_quiet(struct cs_ctl *ctl, struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp)
{
	const char *saved_query = req->query, *saved_id = req->request_id;
	bool write = strcmp(req->method, "GET") != 0;
	uint64_t deadline = now_ms() + (uint64_t)ctl->timeout_ms;
	char err[CS_ERRMSG_SIZE] = "";
	char id[33];
	struct cs_buf query;
	struct cs_ctl_http_resp last; /* the previous 503 */
	bool retried = false;
	int rc;

	cs_buf_init(&query, 1u << 20);
	cs_ctl_http_resp_init(&last);
	if (write && req->request_id == NULL) {
		if (ctl->request_id != NULL) {
			req->request_id = ctl->request_id;
		} else {
			cs_ctl_random_id(id);
			req->request_id = id;
		}
	}
	if (!write && ctl->consistent) {
		if (req->query != NULL && req->query[0] != '\0')
			cs_buf_printf(&query, "%s&", req->query);
		cs_buf_append_str(&query, "consistency=leader");
		req->query = (const char *)query.data;
	}
	for (;;) {
		uint64_t now = now_ms(), wait;
		struct cs_ctl_http_resp tmp;

		req->timeout_ms = deadline > now ? (long)(deadline - now) : 1;
		rc = cs_ctl_http_do(ctl->http, req, resp, err);
		if (rc == CS_ETIMEDOUT && retried) {
			/* out of time while the cluster still had no leader:
			 * its last word, the 503, is the answer */
			tmp = *resp;
			*resp = last;
			last = tmp;
			rc = 0;
			break;
		}
		if (rc < 0 || resp->status != 503 || resp->retry_after < 0)
			break;
		/* the cluster is between leaders: ask again, same id */
		wait = resp->retry_after > 0
			   ? (uint64_t)resp->retry_after * 1000
			   : 200;
		if (now_ms() + wait >= deadline)
			break;
		tmp = *resp;
		*resp = last;
		last = tmp;
		retried = true;
		sleep_ms(wait);
	}
	cs_ctl_http_resp_close(&last);
	req->query = saved_query;
	req->request_id = saved_id;
	cs_buf_close(&query);
	switch (rc) {
	case 0:
		break;
	case CS_EIO:
		fprintf(stderr, "certctl: no answer from %s: %s\n", ctl->url,
		    err);
		return CS_CTL_EXIT_UNREACHABLE;
	case CS_ECRYPTO:
		fprintf(stderr, "certctl: TLS with %s failed: %s\n", ctl->url,
		    err);
		return CS_CTL_EXIT_UNREACHABLE;
	case CS_ETIMEDOUT:
		fprintf(stderr, "certctl: %s %s: no answer within %ld s: %s\n",
		    req->method, req->path, ctl->timeout_ms / 1000, err);
		return CS_CTL_EXIT_UNREACHABLE;
	default:
		fprintf(stderr, "certctl: %s %s: %s\n", req->method, req->path,
		    err);
		return CS_CTL_EXIT_REFUSED;
	}
	if (resp->status < 200 || resp->status > 299)
		return CS_CTL_EXIT_REFUSED;
	return CS_CTL_EXIT_OK;
}

int
cs_ctl_call(struct cs_ctl *ctl, struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp)
{
	int rc = cs_ctl_call_quiet(ctl, req, resp);

	/* an answer that is not a success (a local failure such as an
	 * answer over the size cap was reported already) */
	if (rc == CS_CTL_EXIT_REFUSED && resp->status >= 100 &&
	    (resp->status < 200 || resp->status > 299))
		return cs_ctl_report(ctl, resp);
	return rc;
}

static int
parse_answer(const struct cs_ctl_http_req *req,
    const struct cs_ctl_http_resp *resp, json_t **out)
{
	json_error_t e;

	*out = json_loadb((const char *)resp->body.data, resp->body.len, 0, &e);
	if (*out == NULL) {
		fprintf(stderr, "certctl: %s %s: the answer is not JSON: %s\n",
		    req->method, req->path, e.text);
		return CS_CTL_EXIT_REFUSED;
	}
	return CS_CTL_EXIT_OK;
}

int
cs_ctl_get_json(struct cs_ctl *ctl, const char *path, const char *query,
    json_t **out, struct cs_ctl_http_resp *raw)
{
	struct cs_ctl_http_req req = {.method = "GET",
	    .path = path,
	    .query = query};
	struct cs_ctl_http_resp own;
	struct cs_ctl_http_resp *resp = raw != NULL ? raw : &own;
	int rc;

	if (raw == NULL)
		cs_ctl_http_resp_init(&own);
	rc = cs_ctl_call(ctl, &req, resp);
	if (rc == CS_CTL_EXIT_OK)
		rc = parse_answer(&req, resp, out);
	if (raw == NULL)
		cs_ctl_http_resp_close(&own);
	return rc;
}

int
cs_ctl_send_json(struct cs_ctl *ctl, const char *method, const char *path,
    json_t *body, json_t **out, struct cs_ctl_http_resp *raw)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	/* a DELETE says it all in its path; other writes send {} at least */
	bool none = text == NULL && strcmp(method, "DELETE") == 0;
	struct cs_ctl_http_req req = {.method = method,
	    .path = path,
	    .ctype = none ? NULL : "application/json",
	    .body = text != NULL ? text : "{}",
	    .len = none           ? 0
		   : text != NULL ? strlen(text)
				  : 2};
	struct cs_ctl_http_resp own;
	struct cs_ctl_http_resp *resp = raw != NULL ? raw : &own;
	int rc;

	if (raw == NULL)
		cs_ctl_http_resp_init(&own);
	if (out != NULL)
		*out = NULL;
	rc = cs_ctl_call(ctl, &req, resp);
	if (rc == CS_CTL_EXIT_OK && out != NULL && resp->status != 204)
		rc = parse_answer(&req, resp, out);
	if (raw == NULL)
		cs_ctl_http_resp_close(&own);
	free(text);
	return rc;
}

int
cs_ctl_list(struct cs_ctl *ctl, const char *path, const char *query,
    const char *cursor_param, const char *cursor, bool all, json_t **out)
{
	struct cs_buf q;
	json_t *items = NULL, *page = NULL;
	char *at = cursor != NULL ? cs_strdup(cursor) : NULL;
	int rc;

	cs_buf_init(&q, 1u << 20);
	for (;;) {
		json_t *list;
		const char *next;

		cs_buf_reset(&q);
		if (query != NULL && query[0] != '\0')
			cs_buf_append_str(&q, query);
		if (at != NULL)
			cs_ctl_http_query_add(&q, cursor_param, at);
		rc = cs_ctl_get_json(ctl, path,
		    q.len > 0 ? (const char *)q.data : NULL, &page, NULL);
		if (rc != CS_CTL_EXIT_OK)
			goto out;
		if (!all) {
			*out = page;
			page = NULL;
			goto out;
		}
		list = json_object_get(page, "items");
		if (items == NULL)
			items = json_array();
		if (json_is_array(list))
			json_array_extend(items, list);
		next = cs_ctl_jstr(page, "next_cursor");
		/* a cursor that does not move would loop forever */
		if (next == NULL || (at != NULL && strcmp(next, at) == 0))
			break;
		free(at);
		at = cs_strdup(next);
		json_decref(page);
		page = NULL;
	}
	*out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
	items = NULL;
	rc = CS_CTL_EXIT_OK;
out:
	json_decref(page);
	json_decref(items);
	free(at);
	cs_buf_close(&q);
	return rc;
}

/* ---- output ---- */

void
cs_ctl_print_raw(struct cs_ctl *ctl, const struct cs_ctl_http_resp *r)
{
	fwrite(r->body.data != NULL ? r->body.data : (const uint8_t *)"", 1,
	    r->body.len, ctl->out);
	if (r->body.len == 0 || r->body.data[r->body.len - 1] != '\n')
		fputc('\n', ctl->out);
}

void
cs_ctl_print_json(struct cs_ctl *ctl, const json_t *doc)
{
	json_dumpf(doc, ctl->out, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', ctl->out);
}

void
cs_ctl_print_more(struct cs_ctl *ctl, const json_t *list, const char *option)
{
	const char *next = cs_ctl_jstr(list, "next_cursor");

	if (!ctl->json && next != NULL)
		fprintf(stderr, "more: %s %s, or --all\n", option, next);
}

const char *
cs_ctl_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long
cs_ctl_jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

bool
cs_ctl_jbool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

const char *
cs_ctl_jjoin(const json_t *o, const char *key, const char *sep,
    struct cs_buf *out)
{
	const json_t *a = json_object_get(o, key);

	cs_buf_reset(out);
	for (size_t i = 0; json_is_array(a) && i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s == NULL)
			continue;
		if (out->len > 0)
			cs_buf_append_str(out, sep);
		cs_buf_append_str(out, s);
	}
	return out->len > 0 ? (const char *)out->data : "";
}

void
cs_ctl_jnames(const json_t *cert, struct cs_buf *out)
{
	static const char *const kinds[] = {"dns", "ip", "uri", "email"};
	const json_t *sans = json_object_get(cert, "sans");

	cs_buf_reset(out);
	for (size_t k = 0; k < 4; k++) {
		const json_t *a = json_object_get(sans, kinds[k]);

		for (size_t i = 0; json_is_array(a) && i < json_array_size(a);
		     i++) {
			const char *s = json_string_value(json_array_get(a, i));

			if (s != NULL)
				cs_buf_printf(out, "%s%s:%s",
				    out->len > 0 ? ", " : "", kinds[k], s);
		}
	}
}
