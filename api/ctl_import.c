/*
 * ctl_import.c - certctl import FILE... (ctl_import.h).
 *
 * Every file is read and parsed before the first request, with the same
 * parser the server uses (cert/x509.c): a broken certificate is a usage
 * error naming its file and PEM block, and nothing was imported. Then
 * the certificates go in batches of at most 1000 (the API's cap) and
 * at most BATCH_BYTES of DER (under the server's 8 MiB body and entry
 * caps, whatever the certificates' sizes), each
 * batch one write with its own request id. With --request-id R, batch i
 * uses R + i (as a 128-bit number), so running the same command again
 * replays every batch's first outcome instead of importing twice.
 *
 * The batches are sent as JSON ({"pem", "owner", "tags"}), not as a PEM
 * body with ?tags=a,b: a tag may hold a comma.
 */
#include "api/ctl_import.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "cert/cmd.h"
#include "cert/x509.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

#define BATCH_MAX   CS_CMD_MAX_CERTS /* certificates per request */
#define BATCH_BYTES (3u << 20)       /* DER per request; PEM is 4/3 */
#define FILE_MAX    (512u * 1024 * 1024)
#define MAX_TAGS    CS_CMD_MAX_TAGS
#define MAX_STR     CS_CMD_MAX_STR
#define LIST_LIMIT  20 /* a table of results up to this many */
#define BODY_MAX    (64u * 1024 * 1024)

struct import {
	struct cs_cert_info **ci; /* every certificate, in input order */
	size_t n;
	const char **file; /* the file each came from (argv views) */
	size_t batch;      /* certificates per request, at most */
	size_t *starts;    /* where each batch starts; starts[nbatches] = n */
	size_t nbatches;
	const char *owner;
	const char *tags[MAX_TAGS];
	size_t ntags;
	/* results */
	long long imported, existing, index;
	json_t *certs; /* the answers' certificates, when they are wanted */
};

static void
import_close(struct import *im)
{
	cs_cert_info_free_all(im->ci, im->n);
	free(im->file);
	free(im->starts);
	json_decref(im->certs);
}

/* Reads and parses every file; a usage error on the first bad one. */
static int
read_inputs(struct cs_ctl *ctl, struct import *im)
{
	struct cs_buf text;
	char err[CS_ERRMSG_SIZE] = "";
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&text, FILE_MAX);
	for (size_t i = 0; i < ctl->args->npos; i++) {
		const char *path = ctl->args->pos[i];
		struct cs_cert_info **v = NULL;
		size_t n = 0;

		cs_buf_reset(&text);
		if (cs_ctl_file_read(path, FILE_MAX, &text, err) < 0) {
			rc = cs_ctl_usage(ctl, "%s", err);
			break;
		}
		if (cs_x509_parse_bundle(text.data, text.len, SIZE_MAX, &v, &n,
			err) < 0) {
			rc = cs_ctl_usage(ctl, "%s: %s",
			    strcmp(path, "-") == 0 ? "standard input" : path,
			    err);
			break;
		}
		im->ci = cs_reallocarray(im->ci, im->n + n, sizeof *im->ci);
		im->file =
		    cs_reallocarray(im->file, im->n + n, sizeof *im->file);
		for (size_t k = 0; k < n; k++) {
			im->ci[im->n + k] = v[k];
			im->file[im->n + k] = path;
		}
		im->n += n;
		free(v); /* the records moved to im->ci */
	}
	cs_buf_close(&text);
	return rc;
}

/* Cuts the certificates into batches of at most im->batch certificates
 * and BATCH_BYTES of DER (a single larger certificate goes alone: the
 * server judges it). */
static void
plan_batches(struct import *im)
{
	size_t bytes = 0, count = 0;

	im->starts = cs_calloc(im->n + 2, sizeof *im->starts);
	im->nbatches = 0;
	for (size_t i = 0; i < im->n; i++) {
		size_t len = im->ci[i]->der_len;

		if (count == 0 || count == im->batch ||
		    bytes + len > BATCH_BYTES) {
			im->starts[im->nbatches++] = i;
			bytes = 0;
			count = 0;
		}
		bytes += len;
		count++;
	}
	im->starts[im->nbatches] = im->n;
}

/* The request id of batch i: base + i, big-endian 128-bit. */
static void
batch_id(const char *base, size_t i, char out[33])
{
	uint8_t b[16];
	size_t n;
	uint64_t carry = i;

	cs_hex_decode(base, 32, b, sizeof b, &n); /* checked by main */
	for (size_t k = 16; k-- > 0 && carry != 0;) {
		uint64_t sum = b[k] + (carry & 0xff);

		b[k] = (uint8_t)sum;
		carry = (carry >> 8) + (sum >> 8);
	}
	cs_hex_encode(b, sizeof b, out);
}

/* Sends certificates [from, to) as one request. */
static int
send_batch(struct cs_ctl *ctl, struct import *im, size_t from, size_t to,
    size_t number, struct cs_ctl_http_resp *resp)
{
	struct cs_buf pem;
	json_t *body, *tags, *answer = NULL;
	char *text = NULL, id[33];
	struct cs_ctl_http_req req = {.method = "POST",
	    .path = "/v1/certs",
	    .ctype = "application/json"};
	json_error_t e;
	int rc;

	cs_buf_init(&pem, BODY_MAX);
	for (size_t i = from; i < to; i++) {
		char *p =
		    cs_x509_der_to_pem(im->ci[i]->der, im->ci[i]->der_len);

		cs_buf_append_str(&pem, p);
		free(p);
	}
	body = json_pack("{s:s%}", "pem", (const char *)pem.data, pem.len);
	if (im->owner != NULL)
		json_object_set_new(body, "owner", json_string(im->owner));
	tags = json_array();
	for (size_t i = 0; i < im->ntags; i++)
		json_array_append_new(tags, json_string(im->tags[i]));
	json_object_set_new(body, "tags", tags);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	cs_buf_close(&pem);
	if (ctl->request_id != NULL) {
		batch_id(ctl->request_id, number, id);
		req.request_id = id;
	}
	req.body = text;
	req.len = strlen(text);
	rc = cs_ctl_call(ctl, &req, resp);
	free(text);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	answer =
	    json_loadb((const char *)resp->body.data, resp->body.len, 0, &e);
	if (answer == NULL) {
		fprintf(stderr,
		    "certctl: POST /v1/certs: the answer is not "
		    "JSON: %s\n",
		    e.text);
		return CS_CTL_EXIT_REFUSED;
	}
	im->imported += cs_ctl_jint(answer, "imported");
	im->existing += cs_ctl_jint(answer, "existing");
	im->index = cs_ctl_jint(answer, "index");
	if (im->certs != NULL)
		json_array_extend(im->certs,
		    json_object_get(answer, "certificates"));
	json_decref(answer);
	return CS_CTL_EXIT_OK;
}

static void
print_results(struct cs_ctl *ctl, const struct import *im)
{
	size_t batches = im->nbatches;

	static const char *const head[] = {"FINGERPRINT", "RESULT", "SUBJECT"};

	if (im->certs != NULL && json_array_size(im->certs) > 0) {
		struct cs_ctl_out_table *t = cs_ctl_out_table_new(3, head);

		for (size_t i = 0; i < json_array_size(im->certs); i++) {
			const json_t *c = json_array_get(im->certs, i);
			char fp[CS_CTL_OUT_SHORT_FP_SIZE];

			cs_ctl_out_short_fp(cs_ctl_jstr(c, "fingerprint"), fp);
			cs_ctl_out_table_cell(t, fp);
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "result"));
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "subject"));
		}
		cs_ctl_out_table_print(t, ctl->out);
		cs_ctl_out_table_free(t);
	}
	fprintf(ctl->out,
	    "imported %lld, existing %lld: %zu certificate%s in %zu "
	    "request%s (log index %lld)\n",
	    im->imported, im->existing, im->n, im->n == 1 ? "" : "s", batches,
	    batches == 1 ? "" : "s", im->index);
}

static int
check_options(struct cs_ctl *ctl, struct import *im)
{
	const char *batch = cs_ctl_opt(ctl, "batch");
	uint64_t n = BATCH_MAX;
	int rc;

	im->owner = cs_ctl_opt(ctl, "owner");
	if (im->owner != NULL &&
	    (im->owner[0] == '\0' || strlen(im->owner) > MAX_STR))
		return cs_ctl_usage(ctl, "--owner: a text of 1 to %d bytes",
		    MAX_STR);
	im->ntags = cs_ctl_args_all(ctl->args, "tag", im->tags, MAX_TAGS);
	if (im->ntags > MAX_TAGS)
		return cs_ctl_usage(ctl, "--tag: at most %d tags", MAX_TAGS);
	for (size_t i = 0; i < im->ntags; i++) {
		if (im->tags[i][0] == '\0' || strlen(im->tags[i]) > MAX_STR)
			return cs_ctl_usage(ctl,
			    "--tag: a text of 1 to %d bytes", MAX_STR);
	}
	if (batch != NULL) {
		rc = cs_ctl_check_uint(ctl, "--batch", batch, 1, BATCH_MAX, &n);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
	}
	im->batch = n;
	return CS_CTL_EXIT_OK;
}

static int
run_import(struct cs_ctl *ctl)
{
	struct import im = {0};
	struct cs_ctl_out_progress bar = {0};
	struct cs_ctl_http_resp resp;
	size_t b;
	int rc;

	cs_ctl_http_resp_init(&resp);
	rc = check_options(ctl, &im);
	if (rc == CS_CTL_EXIT_OK)
		rc = read_inputs(ctl, &im);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	plan_batches(&im);
	/* the certificates are shown: all of them with --json (one
	 * document, as a single batch's answer would be), a few in a
	 * table otherwise */
	if ((ctl->json && im.nbatches > 1) ||
	    (!ctl->json && im.n <= LIST_LIMIT))
		im.certs = json_array();
	if (cs_ctl_flag(ctl, "progress") ||
	    (im.n > BATCH_MAX && isatty(STDERR_FILENO)))
		cs_ctl_out_progress_start(&bar, stderr, "importing", im.n);
	for (b = 0; b < im.nbatches; b++) {
		rc = send_batch(ctl, &im, im.starts[b], im.starts[b + 1], b,
		    &resp);
		if (rc != CS_CTL_EXIT_OK)
			break;
		cs_ctl_out_progress_update(&bar, im.starts[b + 1]);
	}
	cs_ctl_out_progress_finish(&bar);
	if (rc != CS_CTL_EXIT_OK) {
		fprintf(stderr,
		    "certctl: batch %zu of %zu failed (certificates %zu to "
		    "%zu, from %s); before it: imported %lld, existing %lld\n",
		    b + 1, im.nbatches, im.starts[b] + 1, im.starts[b + 1],
		    im.file[im.starts[b]], im.imported, im.existing);
		goto out;
	}
	if (ctl->json && im.nbatches == 1) {
		cs_ctl_print_raw(ctl, &resp);
	} else if (ctl->json) {
		json_t *doc = json_pack("{s:I, s:I, s:I, s:O}", "imported",
		    (json_int_t)im.imported, "existing",
		    (json_int_t)im.existing, "index", (json_int_t)im.index,
		    "certificates", im.certs);

		cs_ctl_print_json(ctl, doc);
		json_decref(doc);
	} else {
		print_results(ctl, &im);
	}
out:
	cs_ctl_http_resp_close(&resp);
	import_close(&im);
	return rc;
}

static const struct cs_ctl_opt import_opts[] = {
    {"owner", 0, "O", false, "the certificates' owner"},
    {"tag", 0, "T", true, "a tag for every certificate"},
    {"batch", 0, "N", false, "certificates per request (1..1000, 1000)"},
    {"progress", 0, NULL, false,
	"show a progress bar on stderr (default: for more than 1000 "
	"certificates, on a terminal)"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_import_commands[] = {
    {"import", "FILE... [--owner O] [--tag T]...",
	"import certificates from PEM bundles or DER files (- : stdin)",
	import_opts, 1, SIZE_MAX, run_import},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
