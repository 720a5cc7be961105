/*
 * ctl_http.c - one blocking HTTPS exchange at a time over libcurl's easy
 * interface (ctl_http.h).
 */
#include "api/ctl_http.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "config.h"
#include "lib/error.h"
#include "lib/mem.h"

struct cs_ctl_http {
	CURL *curl;
	const char *base;
	size_t base_len; /* without trailing slashes */
	char curl_err[CURL_ERROR_SIZE];
	/* the exchange in progress */
	struct cs_ctl_http_resp *resp;
	FILE *sink;
	int sink_errno;
	bool too_big;
};

void
cs_ctl_http_resp_init(struct cs_ctl_http_resp *r)
{
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
	cs_buf_init(&r->body, CS_CTL_HTTP_MAX_BODY);
}

void
cs_ctl_http_resp_close(struct cs_ctl_http_resp *r)
{
	cs_buf_close(&r->body);
}

static void
resp_reset(struct cs_ctl_http_resp *r)
{
	struct cs_buf body = r->body;

	cs_buf_reset(&body);
	memset(r, 0, sizeof *r);
	r->body = body;
	r->retry_after = -1;
}

/* Copies a header's value (without the line end) into out. */
static void
header_value(const char *v, size_t n, char *out, size_t size)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *data)
{
	struct cs_ctl_http *h = data;
	struct cs_ctl_http_resp *r = h->resp;
	size_t n = size * nitems;
	const char *colon, *v;
	size_t name_len, vlen;

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a status line: a new answer (after a 100 Continue too) */
		const char *sp = memchr(line, ' ', n);
		size_t rest;

		resp_reset(r);
		if (sp == NULL)
			return n;
		r->status = strtol(sp + 1, NULL, 10);
		sp = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line));
		if (sp != NULL) {
			rest = n - (size_t)(sp + 1 - line);
			header_value(sp + 1, rest, r->reason, sizeof r->reason);
		}
		return n;
	}
	colon = memchr(line, ':', n);
	if (colon == NULL)
		return n;
	name_len = (size_t)(colon - line);
	v = colon + 1;
	vlen = n - name_len - 1;
#define IS(name)                                                               \
	(name_len == sizeof(name) - 1 && strncasecmp(line, name, name_len) == 0)
	if (IS("Content-Type")) {
		header_value(v, vlen, r->ctype, sizeof r->ctype);
	} else if (IS("Retry-After")) {
		char text[32], *end;
		long s;

		header_value(v, vlen, text, sizeof text);
		s = strtol(text, &end, 10);
		/* an HTTP-date instead of seconds: try again soon */
		r->retry_after = end != text && *end == '\0' && s >= 0 ? s : 1;
	} else if (IS("X-Request-Id")) {
		header_value(v, vlen, r->request_id, sizeof r->request_id);
	} else if (IS("X-Certstore-Index")) {
		header_value(v, vlen, r->index, sizeof r->index);
	} else if (IS("X-Certstore-Node")) {
		header_value(v, vlen, r->node, sizeof r->node);
	} else if (IS("X-Certstore-Snapshot-Index")) {
		header_value(v, vlen, r->snapshot_index,
		    sizeof r->snapshot_index);
	}
#undef IS
	return n;
}

static size_t
on_body(char *p, size_t size, size_t nitems, void *data)
{
	struct cs_ctl_http *h = data;
	struct cs_ctl_http_resp *r = h->resp;
	size_t n = size * nitems;

	if (h->sink != NULL && r->status >= 200 && r->status < 300) {
		if (fwrite(p, 1, n, h->sink) != n) {
			h->sink_errno = errno != 0 ? errno : EIO;
			return 0; /* aborts the transfer */
		}
		r->sunk += n;
		return n;
	}
	if (cs_buf_append(&r->body, p, n) < 0) {
		h->too_big = true;
		return 0;
	}
	return n;
}

int
cs_ctl_http_new(const struct cs_ctl_http_config *cfg, struct cs_ctl_http **out,
    char *errmsg)
{
	struct cs_ctl_http *h = cs_calloc(1, sizeof *h);
	CURLcode cc = CURLE_OK;

	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		cs_errmsg_printf(errmsg, "libcurl cannot start");
		free(h);
		return CS_EINVAL;
	}
	h->base = cfg->url;
	h->base_len = strlen(cfg->url);
	while (h->base_len > 0 && cfg->url[h->base_len - 1] == '/')
		h->base_len--;
/* every option below must take: a handle half set up would, for one,
 * send requests without verifying the server */
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(h->curl, opt, val);              \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, h->curl_err);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_USERAGENT, "certctl/" PACKAGE_VERSION);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->cacert != NULL) {
		SET(CURLOPT_CAINFO, cfg->cacert);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (cfg->cert != NULL) {
		SET(CURLOPT_SSLCERT, cfg->cert);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (cfg->key != NULL)
		SET(CURLOPT_SSLKEY, cfg->key);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, h);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
#undef SET
	if (cc != CURLE_OK) {
		cs_errmsg_printf(errmsg, "libcurl: %s", curl_easy_strerror(cc));
		cs_ctl_http_free(h);
		return CS_EINVAL;
	}
	*out = h;
	return 0;
}

void
cs_ctl_http_free(struct cs_ctl_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

static int
from_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return CS_ETIMEDOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return CS_ECRYPTO;
	default:
		return CS_EIO;
	}
}

int
cs_ctl_http_do(struct cs_ctl_http *h, const struct cs_ctl_http_req *req,
    struct cs_ctl_http_resp *resp, char *errmsg)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct cs_buf url, line;
	CURLcode cc = CURLE_OK;
	int rc = CS_EIO;

	resp_reset(resp);
	h->resp = resp;
	h->sink = req->sink;
	h->sink_errno = 0;
	h->too_big = false;
	h->curl_err[0] = '\0';
	cs_buf_init(&url, 1u << 20);
	cs_buf_init(&line, 4096);
	cs_buf_append(&url, h->base, h->base_len);
	cs_buf_append_str(&url, req->path);
	if (req->query != NULL && req->query[0] != '\0')
		cs_buf_printf(&url, "?%s", req->query);

	/* curl_slist_append copies; a NULL return (out of memory) keeps the
	 * list as it was */
	tmp = curl_slist_append(hdrs, "Accept: application/json, "
				      "application/problem+json, */*");
	hdrs = tmp != NULL ? tmp : hdrs;
	/* no "Expect: 100-continue" for large imports: one round trip */
	tmp = curl_slist_append(hdrs, "Expect:");
	hdrs = tmp != NULL ? tmp : hdrs;
	if (req->ctype != NULL) {
		cs_buf_printf(&line, "Content-Type: %s", req->ctype);
		tmp = curl_slist_append(hdrs, (const char *)line.data);
		hdrs = tmp != NULL ? tmp : hdrs;
	}
	if (req->request_id != NULL) {
		cs_buf_reset(&line);
		cs_buf_printf(&line, "X-Request-Id: %s", req->request_id);
		tmp = curl_slist_append(hdrs, (const char *)line.data);
		hdrs = tmp != NULL ? tmp : hdrs;
	}

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(h->curl, opt, val);              \
	} while (0)
	SET(CURLOPT_URL, (const char *)url.data);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    req->timeout_ms > 0 && req->timeout_ms < 10000 ? req->timeout_ms
							   : 10000L);
	/* the handle is reused: every request sets its method afresh */
	if (req->ctype != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	SET(CURLOPT_CUSTOMREQUEST,
	    strcmp(req->method, req->ctype != NULL ? "POST" : "GET") == 0
		? NULL
		: req->method);
#undef SET
	if (cc != CURLE_OK) {
		cs_errmsg_printf(errmsg, "libcurl: %s", curl_easy_strerror(cc));
		rc = CS_EIO;
		goto out;
	}
	cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		if (h->too_big) {
			cs_errmsg_printf(errmsg,
			    "the answer is larger than %u bytes",
			    CS_CTL_HTTP_MAX_BODY);
			rc = CS_ETOOBIG;
		} else if (h->sink_errno != 0) {
			cs_errmsg_printf(errmsg, "%s", strerror(h->sink_errno));
			rc = CS_ECANCELED;
		} else {
			cs_errmsg_printf(errmsg, "%s",
			    h->curl_err[0] != '\0' ? h->curl_err
						   : curl_easy_strerror(cc));
			rc = from_curl(cc);
			/* TLS 1.3 sends the server's verdict on our
			 * certificate after the handshake: an alert on the
			 * first read ("certificate required") */
			if ((cc == CURLE_RECV_ERROR ||
				cc == CURLE_SEND_ERROR) &&
			    strstr(h->curl_err, "SSL") != NULL)
				rc = CS_ECRYPTO;
		}
		goto out;
	}
	if (resp->status == 0) {
		long code = 0;

		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
		resp->status = code;
	}
	rc = 0;
out:
	/* the handle keeps the option pointers: unhook what dies here */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	h->resp = NULL;
	h->sink = NULL;
	curl_slist_free_all(hdrs);
	cs_buf_close(&url);
	cs_buf_close(&line);
	return rc;
}

void
cs_ctl_http_pct_encode(struct cs_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		/* ASCII ranges, not isalnum(): no locale may widen them */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			cs_buf_append_byte(out, *p);
		} else {
			cs_buf_append_byte(out, '%');
			cs_buf_append_byte(out, (uint8_t)hex[*p >> 4]);
			cs_buf_append_byte(out, (uint8_t)hex[*p & 15]);
		}
	}
}

void
cs_ctl_http_query_add(struct cs_buf *q, const char *name, const char *value)
{
	if (q->len > 0)
		cs_buf_append_byte(q, '&');
	cs_buf_append_str(q, name);
	cs_buf_append_byte(q, '=');
	cs_ctl_http_pct_encode(q, value);
}
