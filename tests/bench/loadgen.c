/*
 * loadgen.c - a closed-loop HTTP(S) load generator with client certificates.
 *
 *   loadgen --url BASE[,BASE...] --mode MODE [--concurrency C]
 *           [--duration S] [--warmup S] [--cacert F] [--cert F --key F]
 *           [--path P] [--timeout MS] [--pool N] [--max-rate R]
 *           [--batch N] [--threads T] [--value-size N] [--first N]
 *           [--issuer-cert F --issuer-key F] [--ca-out F] [--show-errors N]
 *
 * wrk, hey and ab cannot present a client certificate, and certstore's REST
 * API requires one (shared/notes/performance.md), so the benchmarks drive
 * certstore and its peers (etcd's JSON gateway) with this one client:
 * api/client.h, libcurl's multi interface on a libuv loop, HTTP/1.1 with
 * keep-alive connections.
 *
 * Closed loop: C request slots, each sending its next request from the
 * callback of the previous one, so exactly C requests are in flight at
 * any time of the run. Request i goes to BASE number i mod (number of
 * BASEs), round-robin. The client may keep up to C connections per BASE
 * alive, so connections are made once and then reused.
 *
 * Modes (the expected status in brackets; anything else is an error):
 *   etcd-put          POST BASE/v3/kv/put {"key": b64, "value": b64} with a
 *                     unique key and a value of --value-size bytes (1024)
 *                     (etcd 3.4's gRPC JSON gateway) [200]
 *   certstore-import  POST BASE/v1/certs, application/pkix-cert, one DER
 *                     certificate, a new one for each request [201]
 *   certstore-revoke  first, untimed: POST BASE/v1/certs with
 *                     application/x-pem-file bundles of --batch (1000)
 *                     certificates, the whole pool [201; any failure ends
 *                     the run]; then POST BASE/v1/certs/{fp}/revoke
 *                     {"reason":"superseded"} once per certificate [200]
 *   get               GET BASE + --path [200]
 * Every request carries "X-Request-Id: <32 lower-case hex>", unique (8
 * random bytes of the run, then a counter).
 *
 * Certificates (import, revoke) come from tests/lib/certgen.h, generated on
 * --threads threads before any request is sent, and are never reused: the
 * pool holds min(C * 3000, --max-rate) * (warmup + duration) + C of them
 * (at most 2,000,000) unless --pool says otherwise. A run that uses up the
 * pool ends its measurement right there (pool_exhausted=yes). Each run
 * signs with a new throwaway CA (or --issuer-cert/--issuer-key), with a
 * random CN prefix and key base, so runs do not repeat certificates.
 *
 * Phases, and what a completed request counts towards:
 *
 *   [import] --> warmup --(--warmup s)--> measure --(--duration s, or the
 *                                         pool is used up)--> drain --> done
 *
 *   A response is counted in the phase in which it arrives. Only the
 *   measure phase gives the figures (requests, errors, per_s, latencies);
 *   warmup_requests and drain_requests count the others, and
 *   total_requests = all requests answered or failed (total_ok and
 *   total_errors_* split them by class over all phases, to reconcile
 *   with a server's own counts). No request is sent
 *   after measure; drain waits for those in flight (each bounded by
 *   --timeout). SIGINT or SIGTERM ends the current phase early; a second
 *   one cancels what is in flight.
 *
 * Output, key=value lines on stdout:
 *   requests   answered or failed in the measure phase (ok + errors)
 *   errors     of which not the expected status, by class:
 *              errors_http_4xx, errors_http_5xx, errors_http_other (1xx-3xx
 *              or a 2xx that is not the expected one), errors_transport
 *              (connect, TLS, reset, timeout: no HTTP status)
 *   per_s      successful requests per second of the measure phase
 *   p50_ms p90_ms p99_ms p999_ms max_ms mean_ms
 *              latency (send to callback) of the successful requests, from
 *              a log-linear histogram (HDR style: 128 linear sub-buckets
 *              per power of two of nanoseconds, <= 0.8% error; a
 *              percentile is its bucket's midpoint; max is exact)
 *   client_cpu_s, client_cpu_pct
 *              loadgen's own CPU time (user + system) during the measure
 *              phase, and as a percentage of one core: it shares the
 *              machine with the servers
 * The first --show-errors (5) error responses go to stderr with their
 * bodies. Exit status: 0 when the run completed (errors are results), 1
 * when it could not (setup, the revoke pool's import), 2 on bad usage.
 *
 * All state lives in one struct loadgen owned by main(). Loop thread only,
 * apart from certificate generation, which is done before the loop runs.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <uv.h>

#include "api/client.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"
#include "tests/lib/ca.h"
#include "tests/lib/certgen.h"

#define MAX_CONCURRENCY   1000
#define MAX_URLS          16
#define MAX_POOL          2000000
#define MAX_BATCH         1000
#define PER_CONN_RATE     3000 /* the pool's sizing: requests/s per slot */
#define DEFAULT_MAX_RATE  30000
#define DEFAULT_TIMEOUT   10000 /* ms */
#define DEFAULT_VALUE     1024
#define MAX_VALUE         (512 * 1024)
#define MAX_BODY_SHOWN    400
#define REQUEST_ID_HEADER "X-Request-Id: "
#define NS_PER_MS         1000000.0

/* ---- latency histogram ---- */

/* Values below 2 * HIST_SUB ns have a bucket each; above, each power of two
 * [2^k, 2^(k+1)) is split into HIST_SUB equal buckets. 64-bit values need
 * (63 - HIST_SUB_BITS + 2) * HIST_SUB buckets. */
#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t counts[HIST_BUCKETS];
	uint64_t n;
	uint64_t max;
	uint64_t min;
	double sum;
};

static size_t
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (size_t)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (size_t)(shift + 1) * HIST_SUB + (size_t)(v >> shift) - HIST_SUB;
}

/* The middle of bucket i. */
static uint64_t
hist_mid(size_t i)
{
	uint64_t shift, sub;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	sub = i % HIST_SUB + HIST_SUB;
	return (sub << shift) + ((UINT64_C(1) << shift) >> 1);
}

static void
hist_add(struct hist *h, uint64_t v)
{
	h->counts[hist_index(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->sum += (double)v;
}

/* The value at or below which p percent of the samples lie; 0 if none. */
static uint64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	uint64_t v;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)((p / 100.0) * (double)h->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			v = hist_mid(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* ---- the run ---- */

enum mode {
	MODE_ETCD_PUT = 0,
	MODE_IMPORT,
	MODE_REVOKE,
	MODE_GET,
	MODE_POST,
	MODE__MAX
};

static const char *const mode_names[MODE__MAX] = {
    [MODE_ETCD_PUT] = "etcd-put",
    [MODE_IMPORT] = "certstore-import",
    [MODE_REVOKE] = "certstore-revoke",
    [MODE_GET] = "get",
    [MODE_POST] = "post",
};

static const int mode_expect[MODE__MAX] = {
    [MODE_ETCD_PUT] = 200,
    [MODE_IMPORT] = 201,
    [MODE_REVOKE] = 200,
    [MODE_GET] = 200,
    [MODE_POST] = 200, /* or --expect */
};

enum phase {
	PHASE_IMPORT = 0, /* revoke: loading the pool, not timed */
	PHASE_WARMUP,
	PHASE_MEASURE,
	PHASE_DRAIN,
	PHASE_DONE,
	PHASE__MAX
};

enum err_class {
	ERR_4XX = 0,
	ERR_5XX,
	ERR_OTHER,
	ERR_TRANSPORT,
	ERR__MAX
};

struct tally {
	uint64_t ok;
	uint64_t err[ERR__MAX];
};

struct opts {
	char *urls[MAX_URLS]; /* without a trailing '/' */
	size_t nurls;
	enum mode mode;
	unsigned concurrency;
	double duration; /* s */
	double warmup;   /* s */
	const char *cacert;
	const char *cert;
	const char *key;
	const char *path;
	uint64_t timeout_ms;
	size_t pool; /* 0: computed */
	unsigned max_rate;
	unsigned batch;
	unsigned threads;
	size_t value_size;
	uint32_t first;
	const char *issuer_cert;
	const char *issuer_key;
	const char *ca_out;
	unsigned show_errors;
	const char *bodies;       /* post: a directory of request bodies */
	const char *paths;        /* get: a file of paths, one per line */
	const char *content_type; /* post */
	int expect;               /* post: the status that counts as done */
};

struct loadgen;

/* One request slot: the request in flight and the memory it borrows. */
struct slot {
	struct cs_client_req req; /* container_of in on_response() */
	struct loadgen *lg;
	uint64_t sent;     /* uv_hrtime() */
	size_t cert;       /* import: the pool index in flight */
	int importing;     /* a revoke-import batch is in flight */
	size_t batch_from; /* revoke import: the pool range in flight */
	size_t batch_to;
	struct cs_buf url;
	struct cs_buf body;
	char rid[sizeof REQUEST_ID_HEADER + 32];
	const char *headers[2];
};

struct loadgen {
	const struct opts *o;
	uv_loop_t loop;
	struct cs_client *client;
	uv_timer_t timer;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	struct slot *slots;
	unsigned inflight;
	enum phase phase;
	int signals; /* received */
	int failed;  /* the run could not complete: exit 1 */
	unsigned errors_shown;
	size_t next_url;

	uint64_t t_measure; /* uv_hrtime() at the start of measure */
	uint64_t t_end;     /* ... and at its end */
	double cpu_measure; /* our CPU seconds (user + system) then */
	double cpu_end;
	uint64_t t_import; /* revoke: the import's start and end */
	uint64_t t_import_end;
	struct tally tally[PHASE__MAX];
	struct hist lat; /* successful requests of measure */

	uint8_t rid_base[8]; /* the run's random half of the request ids */
	uint64_t rid_next;

	/* get --paths: the paths, asked in turn */
	char **path_list;
	size_t npaths, next_path;

	/* post: the bodies, sent in turn */
	uint8_t **body;
	size_t *body_len;
	size_t nbody, next_body;
	char ctype_header[160];

	/* etcd-put */
	char *value_b64;
	uint64_t key_next;

	/* import, revoke: the pool */
	uint8_t **der;
	size_t *der_len;
	uint8_t (*fp)[CS_CERTGEN_FP_LEN];
	size_t npool;
	size_t next_cert;
	int exhausted;
	size_t next_batch; /* revoke import: the next pool index to send */
	size_t imported;
	double generate_s;
	char cert_prefix[4];
};

static void send_next(struct slot *s);
static void run_done(struct loadgen *lg);

static uint64_t
now_ns(void)
{
	return uv_hrtime();
}

/* CPU seconds this process used so far (all threads). */
static double
cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static const char *
mode_content_type(enum mode m)
{
	switch (m) {
	case MODE_ETCD_PUT:
	case MODE_REVOKE:
		return "Content-Type: application/json";
	case MODE_IMPORT:
		return "Content-Type: application/pkix-cert";
	default:
		return NULL;
	}
}

static void
b64(struct cs_buf *out, const uint8_t *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3);
	int w;

	cs_buf_reserve(out, need + 1);
	w = EVP_EncodeBlock(out->data + out->len, p, (int)n);
	out->len += (size_t)w;
	out->data[out->len] = '\0';
}

/* One certificate as PEM with 64-character lines. */
static void
pem_append(struct cs_buf *out, const uint8_t *der, size_t len)
{
	cs_buf_append_str(out, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < len; i += 48) {
		b64(out, der + i, len - i < 48 ? len - i : 48);
		cs_buf_append_byte(out, '\n');
	}
	cs_buf_append_str(out, "-----END CERTIFICATE-----\n");
}

static void
request_id(struct loadgen *lg, struct slot *s)
{
	uint8_t id[16];
	uint64_t n = lg->rid_next++;

	memcpy(id, lg->rid_base, 8);
	for (int i = 0; i < 8; i++)
		id[8 + i] = (uint8_t)(n >> (56 - 8 * i));
	memcpy(s->rid, REQUEST_ID_HEADER, sizeof REQUEST_ID_HEADER - 1);
	cs_hex_encode(id, sizeof id, s->rid + sizeof REQUEST_ID_HEADER - 1);
}

static const char *
next_base(struct loadgen *lg)
{
	const char *u = lg->o->urls[lg->next_url % lg->o->nurls];

	lg->next_url++;
	return u;
}

/* Fills s->req for the next request of the current phase. Returns 0, or 1
 * when the pool is used up (nothing to send). */
static int
prepare(struct loadgen *lg, struct slot *s)
{
	const struct opts *o = lg->o;
	struct cs_client_req *req = &s->req;
	const char *ctype = mode_content_type(o->mode);
	char hex[2 * CS_CERTGEN_FP_LEN + 1];
	char key[128];
	size_t nh = 0;

	cs_buf_reset(&s->url);
	cs_buf_reset(&s->body);
	req->body = NULL;
	req->body_len = 0;
	req->method = CS_CLIENT_METHOD_POST;

	if (lg->phase == PHASE_IMPORT) {
		if (lg->next_batch >= lg->npool)
			return 1;
		s->batch_from = lg->next_batch;
		s->batch_to = s->batch_from + o->batch;
		if (s->batch_to > lg->npool)
			s->batch_to = lg->npool;
		lg->next_batch = s->batch_to;
		s->importing = 1;
		for (size_t i = s->batch_from; i < s->batch_to; i++)
			pem_append(&s->body, lg->der[i], lg->der_len[i]);
		cs_buf_printf(&s->url, "%s/v1/certs", next_base(lg));
		ctype = "Content-Type: application/x-pem-file";
		req->body = s->body.data;
		req->body_len = s->body.len;
		goto headers;
	}

	switch (o->mode) {
	case MODE_ETCD_PUT:
		cs_hex_encode(lg->rid_base, sizeof lg->rid_base, hex);
		snprintf(key, sizeof key, "loadgen/%s/%llu", hex,
		    (unsigned long long)lg->key_next++);
		cs_buf_append_str(&s->body, "{\"key\":\"");
		b64(&s->body, (const uint8_t *)key, strlen(key));
		cs_buf_append_str(&s->body, "\",\"value\":\"");
		cs_buf_append_str(&s->body, lg->value_b64);
		cs_buf_append_str(&s->body, "\"}");
		cs_buf_printf(&s->url, "%s/v3/kv/put", next_base(lg));
		req->body = s->body.data;
		req->body_len = s->body.len;
		break;
	case MODE_IMPORT:
		if (lg->next_cert >= lg->npool)
			return 1;
		s->cert = lg->next_cert++;
		cs_buf_printf(&s->url, "%s/v1/certs", next_base(lg));
		req->body = lg->der[s->cert];
		req->body_len = lg->der_len[s->cert];
		break;
	case MODE_REVOKE:
		if (lg->next_cert >= lg->npool)
			return 1;
		s->cert = lg->next_cert++;
		cs_hex_encode(lg->fp[s->cert], CS_CERTGEN_FP_LEN, hex);
		cs_buf_printf(&s->url, "%s/v1/certs/%s/revoke", next_base(lg),
		    hex);
		cs_buf_append_str(&s->body, "{\"reason\":\"superseded\"}");
		req->body = s->body.data;
		req->body_len = s->body.len;
		break;
	case MODE_POST: {
		size_t b = lg->next_body++ % lg->nbody;

		cs_buf_printf(&s->url, "%s%s", next_base(lg), o->path);
		req->body = lg->body[b];
		req->body_len = lg->body_len[b];
		ctype = lg->ctype_header;
		break;
	}
	case MODE_GET:
	default:
		cs_buf_printf(&s->url, "%s%s", next_base(lg),
		    lg->npaths > 0 ? lg->path_list[lg->next_path++ % lg->npaths]
				   : o->path);
		req->method = CS_CLIENT_METHOD_GET;
		break;
	}
headers:
	if (ctype != NULL)
		s->headers[nh++] = ctype;
	request_id(lg, s);
	s->headers[nh++] = s->rid;
	req->url = (const char *)s->url.data;
	req->headers = s->headers;
	req->nheaders = nh;
	req->timeout_ms = o->timeout_ms;
	return 0;
}

/* Prints an error response (or failure) to stderr, for the first few. */
static void
show_error(struct loadgen *lg, const struct slot *s, int status)
{
	const struct cs_client_req *req = &s->req;
	size_t n;

	if (lg->errors_shown >= lg->o->show_errors)
		return;
	lg->errors_shown++;
	if (status != 0) {
		fprintf(stderr, "loadgen: error %s %s: %s (%s)\n",
		    req->method == CS_CLIENT_METHOD_GET ? "GET" : "POST",
		    (const char *)s->url.data, cs_errname(status), req->errmsg);
		return;
	}
	fprintf(stderr, "loadgen: error %s %s: HTTP %d, body: ",
	    req->method == CS_CLIENT_METHOD_GET ? "GET" : "POST",
	    (const char *)s->url.data, req->http_status);
	n = req->resp_len < MAX_BODY_SHOWN ? req->resp_len : MAX_BODY_SHOWN;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = req->resp[i];
		fputc(c >= 0x20 && c < 0x7f ? c : '.', stderr);
	}
	fprintf(stderr, "%s\n", req->resp_len > n ? "..." : "");
}

static enum err_class
classify(int status, int http_status)
{
	if (status != 0)
		return ERR_TRANSPORT;
	if (http_status >= 400 && http_status < 500)
		return ERR_4XX;
	if (http_status >= 500 && http_status < 600)
		return ERR_5XX;
	return ERR_OTHER;
}

/* ---- phases ---- */

static void on_timer(uv_timer_t *t);

/* Starts a phase of the given length in seconds (0: until the pool is
 * used up or a signal). */
static void
phase_start(struct loadgen *lg, enum phase p, double seconds)
{
	uint64_t ms = (uint64_t)(seconds * 1000.0 + 0.5);

	lg->phase = p;
	if (p == PHASE_MEASURE) {
		lg->t_measure = now_ns();
		lg->cpu_measure = cpu_s();
	}
	uv_timer_stop(&lg->timer);
	if (seconds > 0)
		uv_timer_start(&lg->timer, on_timer, ms, 0);
}

/* Ends the measurement: no more requests are sent. */
static void
measure_end(struct loadgen *lg)
{
	uv_timer_stop(&lg->timer);
	if (lg->phase == PHASE_MEASURE) {
		lg->t_end = now_ns();
		lg->cpu_end = cpu_s();
	}
	if (lg->phase == PHASE_WARMUP)
		lg->t_measure = lg->t_end = now_ns();
	lg->phase = PHASE_DRAIN;
	if (lg->inflight == 0)
		run_done(lg);
}

/* Sends on every idle slot; the start of warmup, measure and import. */
static void
fill(struct loadgen *lg)
{
	for (unsigned i = 0; i < lg->o->concurrency; i++) {
		if (lg->phase >= PHASE_DRAIN)
			break;
		if (lg->slots[i].req.state != CS_CLIENT_REQ_ACTIVE)
			send_next(&lg->slots[i]);
	}
}

static void
traffic_start(struct loadgen *lg)
{
	if (lg->o->warmup > 0)
		phase_start(lg, PHASE_WARMUP, lg->o->warmup);
	else
		phase_start(lg, PHASE_MEASURE, lg->o->duration);
	fill(lg);
}

static void
on_timer(uv_timer_t *t)
{
	struct loadgen *lg = cs_container_of(t, struct loadgen, timer);

	if (lg->phase == PHASE_WARMUP) {
		phase_start(lg, PHASE_MEASURE, lg->o->duration);
		return;
	}
	if (lg->phase == PHASE_MEASURE)
		measure_end(lg);
}

/* The pool is used up: nothing more to send. */
static void
exhausted(struct loadgen *lg)
{
	if (lg->phase == PHASE_IMPORT) {
		if (lg->inflight == 0) {
			lg->t_import_end = now_ns();
			traffic_start(lg);
		}
		return;
	}
	if (!lg->exhausted && lg->phase <= PHASE_MEASURE)
		fprintf(stderr,
		    "loadgen: the pool of %zu certificates is used up: the "
		    "measurement ends here (a larger --pool runs longer)\n",
		    lg->npool);
	lg->exhausted = 1;
	if (lg->phase == PHASE_WARMUP || lg->phase == PHASE_MEASURE)
		measure_end(lg);
	else if (lg->phase == PHASE_DRAIN && lg->inflight == 0)
		run_done(lg);
}

/* ---- requests ---- */

static void on_response(struct cs_client_req *req, int status);

static void
send_next(struct slot *s)
{
	struct loadgen *lg = s->lg;
	int rc;

	if (prepare(lg, s) != 0) {
		exhausted(lg);
		return;
	}
	s->sent = now_ns();
	rc = cs_client_send(lg->client, &s->req, on_response);
	if (rc < 0) {
		/* not the server's doing: a bug or a local limit */
		fprintf(stderr, "loadgen: send %s: %s (%s)\n",
		    (const char *)s->url.data, cs_errname(rc), s->req.errmsg);
		lg->failed = 1;
		measure_end(lg);
		return;
	}
	lg->inflight++;
}

/* A batch of the revoke pool answered. The first failure ends the run:
 * the revocations would hit certificates the server does not have. */
static void
import_response(struct loadgen *lg, struct slot *s, int status)
{
	s->importing = 0;
	if (status == 0 && s->req.http_status == 201) {
		lg->imported += s->batch_to - s->batch_from;
		for (size_t i = s->batch_from; i < s->batch_to; i++) {
			free(lg->der[i]);
			lg->der[i] = NULL;
		}
	} else if (!lg->failed) {
		lg->errors_shown = 0; /* this one is always shown */
		show_error(lg, s, status);
		fprintf(stderr,
		    "loadgen: importing the pool failed (certificates "
		    "%zu..%zu)\n",
		    s->batch_from, s->batch_to - 1);
		lg->failed = 1;
		lg->phase = PHASE_DRAIN;
	}
	if (lg->phase == PHASE_IMPORT)
		send_next(s);
	else if (lg->phase == PHASE_DRAIN && lg->inflight == 0)
		run_done(lg);
}

static void
on_response(struct cs_client_req *req, int status)
{
	struct slot *s = cs_container_of(req, struct slot, req);
	struct loadgen *lg = s->lg;
	uint64_t lat = now_ns() - s->sent;
	enum phase p = lg->phase;
	struct tally *t = &lg->tally[p];

	lg->inflight--;
	if (status == CS_ECANCELED) /* our own close: not a result */
		goto next;
	if (s->importing) {
		import_response(lg, s, status);
		return;
	}
	if (status == 0 &&
	    req->http_status == (lg->o->mode == MODE_POST
					? lg->o->expect
					: mode_expect[lg->o->mode])) {
		t->ok++;
		if (p == PHASE_MEASURE)
			hist_add(&lg->lat, lat);
	} else {
		t->err[classify(status, req->http_status)]++;
		show_error(lg, s, status);
	}
	if (lg->o->mode == MODE_IMPORT && lg->der[s->cert] != NULL) {
		free(lg->der[s->cert]);
		lg->der[s->cert] = NULL;
	}
next:
	if (lg->phase == PHASE_WARMUP || lg->phase == PHASE_MEASURE)
		send_next(s);
	else if (lg->phase == PHASE_DRAIN && lg->inflight == 0)
		run_done(lg);
}

/* ---- start and end ---- */

static void
on_signal(uv_signal_t *h, int signum)
{
	struct loadgen *lg = h->data;

	lg->signals++;
	fprintf(stderr, "loadgen: signal %d: %s\n", signum,
	    lg->signals == 1 ? "ending the measurement"
			     : "cancelling the requests in flight");
	if (lg->signals == 1 && lg->phase < PHASE_DRAIN) {
		if (lg->phase == PHASE_IMPORT) {
			lg->failed = 1;
			lg->phase = PHASE_DRAIN;
			if (lg->inflight == 0)
				run_done(lg);
			return;
		}
		measure_end(lg);
		return;
	}
	run_done(lg);
}

/* Closes every handle; uv_run() returns when they are closed. Idempotent.
 * Requests still in flight are cancelled (their callbacks see
 * CS_ECANCELED). */
static void
run_done(struct loadgen *lg)
{
	if (lg->phase == PHASE_DONE)
		return;
	if (lg->phase == PHASE_MEASURE) {
		lg->t_end = now_ns();
		lg->cpu_end = cpu_s();
	}
	lg->phase = PHASE_DONE;
	uv_close((uv_handle_t *)&lg->timer, NULL);
	uv_close((uv_handle_t *)&lg->sigint, NULL);
	uv_close((uv_handle_t *)&lg->sigterm, NULL);
	cs_client_close(lg->client, NULL);
}

static uint64_t
tally_requests(const struct tally *t)
{
	uint64_t n = t->ok;

	for (int i = 0; i < ERR__MAX; i++)
		n += t->err[i];
	return n;
}

static void
print_ms(const char *name, uint64_t ns)
{
	printf("%s=%.3f\n", name, (double)ns / NS_PER_MS);
}

static void
report(const struct loadgen *lg)
{
	const struct opts *o = lg->o;
	const struct tally *m = &lg->tally[PHASE_MEASURE];
	double secs = lg->t_end > lg->t_measure
			  ? (double)(lg->t_end - lg->t_measure) / 1e9
			  : 0.0;
	uint64_t errors = tally_requests(m) - m->ok;
	struct tally all = {0, {0}};
	uint64_t total = 0;

	for (int p = 0; p < PHASE__MAX; p++) {
		total += tally_requests(&lg->tally[p]);
		all.ok += lg->tally[p].ok;
		for (int e = 0; e < ERR__MAX; e++)
			all.err[e] += lg->tally[p].err[e];
	}
	printf("mode=%s\n", mode_names[o->mode]);
	printf("urls=%zu\n", o->nurls);
	printf("concurrency=%u\n", o->concurrency);
	printf("seconds=%.3f\n", secs);
	printf("requests=%llu\n", (unsigned long long)tally_requests(m));
	printf("ok=%llu\n", (unsigned long long)m->ok);
	printf("errors=%llu\n", (unsigned long long)errors);
	printf("errors_http_4xx=%llu\n", (unsigned long long)m->err[ERR_4XX]);
	printf("errors_http_5xx=%llu\n", (unsigned long long)m->err[ERR_5XX]);
	printf("errors_http_other=%llu\n",
	    (unsigned long long)m->err[ERR_OTHER]);
	printf("errors_transport=%llu\n",
	    (unsigned long long)m->err[ERR_TRANSPORT]);
	printf("per_s=%.1f\n", secs > 0 ? (double)m->ok / secs : 0.0);
	print_ms("p50_ms", hist_percentile(&lg->lat, 50));
	print_ms("p90_ms", hist_percentile(&lg->lat, 90));
	print_ms("p99_ms", hist_percentile(&lg->lat, 99));
	print_ms("p999_ms", hist_percentile(&lg->lat, 99.9));
	print_ms("max_ms", lg->lat.max);
	printf("mean_ms=%.3f\n",
	    lg->lat.n > 0 ? lg->lat.sum / (double)lg->lat.n / NS_PER_MS : 0.0);
	printf("client_cpu_s=%.2f\n", lg->cpu_end - lg->cpu_measure);
	printf("client_cpu_pct=%.0f\n",
	    secs > 0 ? 100.0 * (lg->cpu_end - lg->cpu_measure) / secs : 0.0);
	printf("warmup_requests=%llu\n",
	    (unsigned long long)tally_requests(&lg->tally[PHASE_WARMUP]));
	printf("warmup_errors=%llu\n",
	    (unsigned long long)(tally_requests(&lg->tally[PHASE_WARMUP]) -
				 lg->tally[PHASE_WARMUP].ok));
	printf("drain_requests=%llu\n",
	    (unsigned long long)(tally_requests(&lg->tally[PHASE_DRAIN]) +
				 tally_requests(&lg->tally[PHASE_DONE])));
	printf("total_requests=%llu\n", (unsigned long long)total);
	printf("total_ok=%llu\n", (unsigned long long)all.ok);
	printf("total_errors_http_4xx=%llu\n",
	    (unsigned long long)all.err[ERR_4XX]);
	printf("total_errors_http_5xx=%llu\n",
	    (unsigned long long)all.err[ERR_5XX]);
	printf("total_errors_http_other=%llu\n",
	    (unsigned long long)all.err[ERR_OTHER]);
	printf("total_errors_transport=%llu\n",
	    (unsigned long long)all.err[ERR_TRANSPORT]);
	if (o->mode == MODE_IMPORT || o->mode == MODE_REVOKE) {
		printf("pool=%zu\n", lg->npool);
		printf("pool_used=%zu\n", lg->next_cert);
		printf("pool_exhausted=%s\n", lg->exhausted ? "yes" : "no");
		printf("generate_s=%.2f\n", lg->generate_s);
		printf("cert_prefix=%s\n", lg->cert_prefix);
	}
	if (o->mode == MODE_REVOKE) {
		double is = (double)(lg->t_import_end - lg->t_import) / 1e9;

		printf("imported=%zu\n", lg->imported);
		printf("import_s=%.2f\n", lg->t_import_end > 0 ? is : 0.0);
	}
	printf("interrupted=%s\n", lg->signals > 0 ? "yes" : "no");
	printf("complete=%s\n", lg->failed ? "no" : "yes");
}

/* ---- setup ---- */

static size_t
pool_size(const struct opts *o)
{
	double rate, n;

	if (o->pool != 0)
		return o->pool;
	rate = (double)o->concurrency * PER_CONN_RATE;
	if (rate > o->max_rate)
		rate = o->max_rate;
	n = rate * (o->warmup + o->duration) + o->concurrency;
	return n > MAX_POOL ? MAX_POOL : (size_t)n;
}

static int
make_pool(struct loadgen *lg)
{
	const struct opts *o = lg->o;
	struct cs_test_ca *ca = NULL;
	struct cs_certgen *gen = NULL;
	struct cs_certgen_config cfg;
	struct cs_certgen_out out;
	uint8_t r[11];
	uint64_t t0;
	int rc = -1;

	lg->npool = pool_size(o);
	if (lg->npool > CS_CERTGEN_MAX_NUM - o->first) {
		fprintf(stderr, "loadgen: --first %u + pool %zu over %u\n",
		    (unsigned)o->first, lg->npool, CS_CERTGEN_MAX_NUM);
		goto out;
	}
	if (o->issuer_cert != NULL)
		ca = cs_test_ca_load(o->issuer_cert, o->issuer_key, "loadgen");
	else
		ca = cs_test_ca_new("Loadgen Issuing CA", CS_TEST_P256, NULL);
	if (ca == NULL)
		goto out;
	if (o->ca_out != NULL) {
		FILE *f = fopen(o->ca_out, "w");
		int ok = f != NULL && PEM_write_X509(f, ca->cert) == 1;

		if (f != NULL && fclose(f) != 0)
			ok = 0;
		if (!ok) {
			fprintf(stderr, "loadgen: cannot write %s\n",
			    o->ca_out);
			goto out;
		}
	}
	if (RAND_bytes(r, sizeof r) != 1)
		goto out;
	/* a random CN prefix of [a-z0-9] and key base: runs differ */
	for (int i = 0; i < 3; i++)
		lg->cert_prefix[i] =
		    "abcdefghijklmnopqrstuvwxyz0123456789"[r[i] % 36];
	lg->cert_prefix[3] = '\0';
	memset(&cfg, 0, sizeof cfg);
	cfg.prefix = lg->cert_prefix;
	for (int i = 0; i < 8; i++)
		cfg.key_base = cfg.key_base << 8 | r[3 + i];
	gen = cs_certgen_new(ca, &cfg);
	lg->der = cs_calloc(lg->npool, sizeof *lg->der);
	lg->der_len = cs_calloc(lg->npool, sizeof *lg->der_len);
	if (o->mode == MODE_REVOKE)
		lg->fp = cs_calloc(lg->npool, sizeof *lg->fp);
	out.der = lg->der;
	out.len = lg->der_len;
	out.fp = lg->fp;
	fprintf(stderr, "loadgen: generating %zu certificates on %u threads\n",
	    lg->npool, o->threads);
	t0 = now_ns();
	cs_certgen_run(gen, o->first, lg->npool, o->threads, &out);
	lg->generate_s = (double)(now_ns() - t0) / 1e9;
	fprintf(stderr, "loadgen: generated in %.1f s (%.0f/s)\n",
	    lg->generate_s,
	    lg->generate_s > 0 ? (double)lg->npool / lg->generate_s : 0.0);
	rc = 0;
out:
	cs_certgen_free(gen);
	cs_test_ca_free(ca);
	return rc;
}

/* A PEM file of a throwaway CA for plain-http runs without --cacert:
 * the client insists on a trust anchor, which http never uses. */
static char *
dummy_cacert(void)
{
	struct cs_test_ca *ca =
	    cs_test_ca_new("loadgen unused", CS_TEST_P256, NULL);
	char *path = cs_strdup("/tmp/loadgen-ca-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(ca->pem);
	int ok = fd >= 0 && write(fd, ca->pem, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	cs_test_ca_free(ca);
	if (!ok) {
		if (fd >= 0)
			unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: loadgen --url BASE[,BASE...] --mode MODE "
	    "[--concurrency C] [--duration S]\n"
	    "               [--warmup S] [--cacert F] [--cert F --key F] "
	    "[--path P]\n"
	    "               [--timeout MS] [--pool N] [--max-rate R] "
	    "[--batch N] [--threads T]\n"
	    "               [--value-size N] [--first N] "
	    "[--issuer-cert F --issuer-key F]\n"
	    "               [--ca-out F] [--show-errors N]\n"
	    "modes (expected status):\n"
	    "  etcd-put          POST BASE/v3/kv/put, unique key, "
	    "--value-size bytes (200)\n"
	    "  certstore-import  POST BASE/v1/certs, one new DER "
	    "certificate each (201)\n"
	    "  certstore-revoke  imports the pool in PEM batches of --batch "
	    "(201), then\n"
	    "                    POST BASE/v1/certs/FP/revoke once per "
	    "certificate (200)\n"
	    "  get               GET BASE + --path, or the lines of --paths "
	    "FILE in turn (200)\n"
	    "  post              POST BASE + --path, the files of --bodies DIR "
	    "in turn,\n"
	    "                    with --content-type T (--expect N, "
	    "default 200)\n"
	    "defaults: --concurrency 1 --duration 10 --warmup 0 --timeout "
	    "%d --max-rate %d\n"
	    "          --batch %d --value-size %d --threads: the CPUs; "
	    "https needs --cacert\n"
	    "output: key=value lines on stdout (see tests/bench/loadgen.c)\n",
	    DEFAULT_TIMEOUT, DEFAULT_MAX_RATE, MAX_BATCH, DEFAULT_VALUE);
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_seconds(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min) ||
	    v > 86400.0)
		return -1;
	*out = v;
	return 0;
}

/* Splits the comma-separated list into o->urls. */
static int
parse_urls(struct opts *o, const char *list)
{
	char *copy = cs_strdup(list);
	char *save = NULL;
	int rc = 0;

	for (char *u = strtok_r(copy, ",", &save); u != NULL;
	     u = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(u);

		if (o->nurls == MAX_URLS ||
		    (strncmp(u, "http://", 7) != 0 &&
			strncmp(u, "https://", 8) != 0)) {
			rc = -1;
			break;
		}
		while (len > 0 && u[len - 1] == '/')
			len--;
		o->urls[o->nurls++] = cs_strndup(u, len);
	}
	free(copy);
	return o->nurls == 0 ? -1 : rc;
}

enum {
	OPT_URL = 256,
	OPT_MODE,
	OPT_CONCURRENCY,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_PATH,
	OPT_TIMEOUT,
	OPT_POOL,
	OPT_MAX_RATE,
	OPT_BATCH,
	OPT_THREADS,
	OPT_VALUE_SIZE,
	OPT_FIRST,
	OPT_ISSUER_CERT,
	OPT_ISSUER_KEY,
	OPT_CA_OUT,
	OPT_SHOW_ERRORS,
	OPT_BODIES,
	OPT_PATHS,
	OPT_CONTENT_TYPE,
	OPT_EXPECT,
	OPT_HELP
};

static const struct option long_opts[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"mode", required_argument, NULL, OPT_MODE},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"path", required_argument, NULL, OPT_PATH},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"pool", required_argument, NULL, OPT_POOL},
    {"max-rate", required_argument, NULL, OPT_MAX_RATE},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"value-size", required_argument, NULL, OPT_VALUE_SIZE},
    {"first", required_argument, NULL, OPT_FIRST},
    {"issuer-cert", required_argument, NULL, OPT_ISSUER_CERT},
    {"issuer-key", required_argument, NULL, OPT_ISSUER_KEY},
    {"ca-out", required_argument, NULL, OPT_CA_OUT},
    {"show-errors", required_argument, NULL, OPT_SHOW_ERRORS},
    {"bodies", required_argument, NULL, OPT_BODIES},
    {"paths", required_argument, NULL, OPT_PATHS},
    {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Returns 0, 1 after --help, or -1 after printing why. */
static int
parse_opts(struct opts *o, int argc, char **argv)
{
	const char *url = NULL;
	const char *mode = NULL;
	const char *bad = NULL;
	unsigned long v = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	memset(o, 0, sizeof *o);
	o->mode = MODE__MAX;
	o->concurrency = 1;
	o->duration = 10;
	o->timeout_ms = DEFAULT_TIMEOUT;
	o->max_rate = DEFAULT_MAX_RATE;
	o->batch = MAX_BATCH;
	o->threads = ncpu > 0 && ncpu < 64 ? (unsigned)ncpu : 2;
	o->value_size = DEFAULT_VALUE;
	o->show_errors = 5;
	o->expect = 0;

	for (;;) {
		c = getopt_long(argc, argv, "", long_opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_URL:
			url = optarg;
			break;
		case OPT_MODE:
			mode = optarg;
			break;
		case OPT_CONCURRENCY:
			if (parse_ulong(optarg, 1, MAX_CONCURRENCY, &v) < 0)
				bad = "--concurrency";
			o->concurrency = (unsigned)v;
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, 0.001, &o->duration) < 0)
				bad = "--duration";
			break;
		case OPT_WARMUP:
			if (parse_seconds(optarg, 0, &o->warmup) < 0)
				bad = "--warmup";
			break;
		case OPT_CACERT:
			o->cacert = optarg;
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_PATH:
			o->path = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_ulong(optarg, 1, 3600000, &v) < 0)
				bad = "--timeout";
			o->timeout_ms = v;
			break;
		case OPT_POOL:
			if (parse_ulong(optarg, 1, MAX_POOL, &v) < 0)
				bad = "--pool";
			o->pool = v;
			break;
		case OPT_MAX_RATE:
			if (parse_ulong(optarg, 1, 10000000, &v) < 0)
				bad = "--max-rate";
			o->max_rate = (unsigned)v;
			break;
		case OPT_BATCH:
			if (parse_ulong(optarg, 1, MAX_BATCH, &v) < 0)
				bad = "--batch";
			o->batch = (unsigned)v;
			break;
		case OPT_THREADS:
			if (parse_ulong(optarg, 1, 64, &v) < 0)
				bad = "--threads";
			o->threads = (unsigned)v;
			break;
		case OPT_VALUE_SIZE:
			if (parse_ulong(optarg, 1, MAX_VALUE, &v) < 0)
				bad = "--value-size";
			o->value_size = v;
			break;
		case OPT_FIRST:
			if (parse_ulong(optarg, 0, CS_CERTGEN_MAX_NUM - 1, &v) <
			    0)
				bad = "--first";
			o->first = (uint32_t)v;
			break;
		case OPT_ISSUER_CERT:
			o->issuer_cert = optarg;
			break;
		case OPT_ISSUER_KEY:
			o->issuer_key = optarg;
			break;
		case OPT_CA_OUT:
			o->ca_out = optarg;
			break;
		case OPT_SHOW_ERRORS:
			if (parse_ulong(optarg, 0, 100000, &v) < 0)
				bad = "--show-errors";
			o->show_errors = (unsigned)v;
			break;
		case OPT_BODIES:
			o->bodies = optarg;
			break;
		case OPT_PATHS:
			o->paths = optarg;
			break;
		case OPT_CONTENT_TYPE:
			o->content_type = optarg;
			break;
		case OPT_EXPECT:
			if (parse_ulong(optarg, 100, 599, &v) < 0)
				bad = "--expect";
			o->expect = (int)v;
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
		if (bad != NULL) {
			fprintf(stderr, "loadgen: bad value for %s: %s\n", bad,
			    optarg);
			return -1;
		}
	}
	if (optind != argc || url == NULL || mode == NULL) {
		usage(stderr);
		return -1;
	}
	for (int m = 0; m < MODE__MAX; m++)
		if (strcmp(mode, mode_names[m]) == 0)
			o->mode = (enum mode)m;
	if (o->mode == MODE__MAX) {
		fprintf(stderr, "loadgen: unknown mode %s\n", mode);
		usage(stderr);
		return -1;
	}
	if (parse_urls(o, url) < 0) {
		fprintf(stderr,
		    "loadgen: --url wants 1 to %d http(s) URLs, "
		    "comma-separated\n",
		    MAX_URLS);
		return -1;
	}
	if ((o->mode == MODE_GET || o->mode == MODE_POST) &&
	    (o->path == NULL || o->path[0] != '/') &&
	    !(o->mode == MODE_GET && o->paths != NULL)) {
		fprintf(stderr, "loadgen: mode %s needs --path /...\n",
		    mode_names[o->mode]);
		return -1;
	}
	if (o->mode == MODE_POST &&
	    (o->bodies == NULL || o->content_type == NULL)) {
		fprintf(stderr, "loadgen: mode post needs --bodies DIR and "
				"--content-type T\n");
		return -1;
	}
	if (o->expect == 0)
		o->expect = 200;
	if ((o->cert == NULL) != (o->key == NULL) ||
	    (o->issuer_cert == NULL) != (o->issuer_key == NULL)) {
		fprintf(stderr, "loadgen: --cert goes with --key, "
				"--issuer-cert with --issuer-key\n");
		return -1;
	}
	for (size_t i = 0; i < o->nurls; i++) {
		if (o->cacert == NULL && strncmp(o->urls[i], "https", 5) == 0) {
			fprintf(stderr, "loadgen: https needs --cacert\n");
			return -1;
		}
	}
	return 0;
}

static void
opts_close(struct opts *o)
{
	for (size_t i = 0; i < o->nurls; i++)
		free(o->urls[i]);
	o->nurls = 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* post: every regular file of o->bodies, in name order. */
static int
load_bodies(struct loadgen *lg)
{
	const struct opts *o = lg->o;
	DIR *d = opendir(o->bodies);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (d == NULL) {
		fprintf(stderr, "loadgen: --bodies %s: %s\n", o->bodies,
		    strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = cs_reallocarray(names, n + 1, sizeof *names);
		names[n++] = cs_strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	lg->body = cs_calloc(n + 1, sizeof *lg->body);
	lg->body_len = cs_calloc(n + 1, sizeof *lg->body_len);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		FILE *f;
		struct cs_buf b;
		uint8_t chunk[8192];
		size_t got;

		snprintf(path, sizeof path, "%s/%s", o->bodies, names[i]);
		f = fopen(path, "rb");
		free(names[i]);
		if (f == NULL)
			continue;
		cs_buf_init(&b, 4 * 1024 * 1024);
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			cs_buf_append(&b, chunk, got);
		fclose(f);
		lg->body[lg->nbody] =
		    cs_buf_steal(&b, &lg->body_len[lg->nbody]);
		lg->nbody++;
	}
	free(names);
	if (lg->nbody == 0) {
		fprintf(stderr, "loadgen: --bodies %s: no files\n", o->bodies);
		return -1;
	}
	snprintf(lg->ctype_header, sizeof lg->ctype_header, "Content-Type: %s",
	    o->content_type);
	return 0;
}

/* get --paths: every line of the file that starts with '/'. */
static int
load_paths(struct loadgen *lg)
{
	FILE *f = fopen(lg->o->paths, "r");
	char line[4096];

	if (f == NULL) {
		fprintf(stderr, "loadgen: --paths %s: %s\n", lg->o->paths,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '/')
			continue;
		lg->path_list = cs_reallocarray(lg->path_list, lg->npaths + 1,
		    sizeof *lg->path_list);
		lg->path_list[lg->npaths++] = cs_strdup(line);
	}
	fclose(f);
	if (lg->npaths == 0) {
		fprintf(stderr, "loadgen: --paths %s: no path\n", lg->o->paths);
		return -1;
	}
	return 0;
}

/* So that C * URLs keep-alive connections fit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct loadgen *lg = NULL;
	struct cs_client_config cfg;
	char errmsg[CS_ERRMSG_SIZE] = "";
	char *dummy_ca = NULL;
	uint8_t *value = NULL;
	struct cs_buf vb;
	int rc = 1;
	int lrc;

	rc = parse_opts(&o, argc, argv);
	if (rc != 0) {
		opts_close(&o);
		return rc < 0 ? 2 : 0;
	}
	rc = 1;
	signal(SIGPIPE, SIG_IGN); /* libcurl with NOSIGNAL leaves it to us */
	raise_nofile();
	lg = cs_calloc(1, sizeof *lg);
	lg->o = &o;
	lg->phase = PHASE_IMPORT;
	cs_buf_init(&vb, SIZE_MAX);
	if (RAND_bytes(lg->rid_base, sizeof lg->rid_base) != 1)
		goto out;

	if (o.mode == MODE_ETCD_PUT) {
		value = cs_malloc(o.value_size);
		if (RAND_bytes(value, (int)o.value_size) != 1)
			goto out;
		b64(&vb, value, o.value_size);
		lg->value_b64 = (char *)vb.data;
	}
	if ((o.mode == MODE_IMPORT || o.mode == MODE_REVOKE) &&
	    make_pool(lg) < 0)
		goto out;
	if (o.mode == MODE_POST && load_bodies(lg) < 0)
		goto out;
	if (o.mode == MODE_GET && o.paths != NULL && load_paths(lg) < 0)
		goto out;

	if (o.cacert == NULL) {
		dummy_ca = dummy_cacert();
		if (dummy_ca == NULL) {
			fprintf(stderr, "loadgen: cannot write a CA file\n");
			goto out;
		}
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.ca_file = o.cacert != NULL ? o.cacert : dummy_ca;
	cfg.cert_file = o.cert;
	cfg.key_file = o.key;
	cfg.timeout_ms = o.timeout_ms;
	cfg.max_host_connections = o.concurrency;
	cfg.max_connections = o.concurrency * (unsigned)o.nurls;
	cfg.max_requests = o.concurrency;
	cfg.max_body = 4 * 1024 * 1024;

	lrc = uv_loop_init(&lg->loop);
	if (lrc != 0) {
		fprintf(stderr, "loadgen: uv_loop_init: %s\n",
		    uv_strerror(lrc));
		goto out;
	}
	lg->client = cs_client_new(&lg->loop, &cfg, errmsg);
	if (lg->client == NULL) {
		fprintf(stderr, "loadgen: %s\n", errmsg);
		uv_loop_close(&lg->loop);
		goto out;
	}
	uv_timer_init(&lg->loop, &lg->timer);
	uv_signal_init(&lg->loop, &lg->sigint);
	uv_signal_init(&lg->loop, &lg->sigterm);
	lg->sigint.data = lg;
	lg->sigterm.data = lg;
	uv_signal_start(&lg->sigint, on_signal, SIGINT);
	uv_signal_start(&lg->sigterm, on_signal, SIGTERM);
	lg->slots = cs_calloc(o.concurrency, sizeof *lg->slots);
	for (unsigned i = 0; i < o.concurrency; i++) {
		struct slot *s = &lg->slots[i];

		cs_client_req_init(&s->req);
		s->lg = lg;
		cs_buf_init(&s->url, 16384);
		cs_buf_init(&s->body, SIZE_MAX);
	}

	if (o.mode == MODE_REVOKE) {
		fprintf(stderr,
		    "loadgen: importing %zu certificates, %u per "
		    "request\n",
		    lg->npool, o.batch);
		lg->t_import = now_ns();
		fill(lg);
	} else {
		traffic_start(lg);
	}
	uv_run(&lg->loop, UV_RUN_DEFAULT);
	lrc = uv_loop_close(&lg->loop);
	if (lrc != 0)
		fprintf(stderr, "loadgen: uv_loop_close: %s\n",
		    uv_strerror(lrc));

	report(lg);
	rc = lg->failed || lrc != 0 ? 1 : 0;
	for (unsigned i = 0; i < o.concurrency; i++) {
		cs_buf_close(&lg->slots[i].url);
		cs_buf_close(&lg->slots[i].body);
	}
out:
	if (dummy_ca != NULL) {
		unlink(dummy_ca);
		free(dummy_ca);
	}
	for (size_t i = 0; lg->der != NULL && i < lg->npool; i++)
		free(lg->der[i]);
	free(lg->der);
	free(lg->der_len);
	free(lg->fp);
	for (size_t i = 0; i < lg->nbody; i++)
		free(lg->body[i]);
	for (size_t i = 0; i < lg->npaths; i++)
		free(lg->path_list[i]);
	free(lg->path_list);
	free(lg->body);
	free(lg->body_len);
	free(lg->slots);
	free(value);
	cs_buf_close(&vb);
	free(lg);
	opts_close(&o);
	return rc;
}
