/*
 * fuzz_ocsp.c - libFuzzer target for the OCSP request parser, which reads
 * whatever the public, unauthenticated OCSP endpoint receives.
 *
 * Besides crashes and leaks (ASan/LSan), it checks the contracts a
 * sanitizer cannot see, and aborts when one breaks: errors are CS_EINVAL
 * or CS_ETOOBIG with a message and leave *out untouched; an accepted
 * request has 1..CS_OCSP_MAX_IDS CertIDs whose views lie inside the input,
 * hashes of the algorithm's length, a nonce of 0 or 1..32 bytes; and a
 * response echoing it builds and reads back in OpenSSL with one
 * SingleResponse per CertID.
 *
 *   CC=clang ./configure --enable-fuzzing && make tests/fuzz/fuzz_ocsp
 *   ./tests/fuzz/fuzz_ocsp -max_total_time=60 corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "cert/ocsp.h"
#include "lib/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int ok, const char *what, const char *errmsg)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_ocsp: broken contract: %s (errmsg '%s')\n", what,
	    errmsg);
	abort();
}

static int
inside(struct cs_der v, const uint8_t *p, size_t len)
{
	return v.p != NULL && v.p >= p && v.len <= len &&
	       (size_t)(v.p - p) <= len - v.len;
}

/* One P-256 responder key for the whole run (the fuzzer never frees it:
 * LSan counts only what is lost, not what is still referenced). */
static const struct cs_signer *
responder(void)
{
	static struct cs_signer s;
	static int ready;

	if (!ready) {
		EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		require(key != NULL, "P-256 key for the responder", "");
		require(cs_signer_init(&s, key, NULL) == 0, "signer", "");
		EVP_PKEY_free(key); /* the signer holds a reference */
		ready = 1;
	}
	return &s;
}

/* What the parser took, the builder must answer and OpenSSL must read. */
static void
check_answer(const struct cs_ocsp_request *req)
{
	struct cs_ocsp_single singles[CS_OCSP_MAX_IDS];
	struct cs_ocsp_response r = {0};
	char errmsg[CS_ERRMSG_SIZE] = "";
	const unsigned char *q;
	OCSP_RESPONSE * or ;
	OCSP_BASICRESP *bs;
	struct cs_buf out;
	int rc;

	for (size_t i = 0; i < req->n; i++) {
		memset(&singles[i], 0, sizeof singles[i]);
		singles[i].certid = req->ids[i].whole;
		singles[i].status = (enum cs_ocsp_cert_status)(i % 3);
		singles[i].revoked_at = 1700000000;
		singles[i].reason = (int)i - 1;
		singles[i].this_update = 1700000000;
		singles[i].next_update = 1700003600;
	}
	r.singles = singles;
	r.n = req->n;
	r.produced_at = 1700000000;
	if (req->nonce.len > 0) {
		r.nonce = req->nonce.p;
		r.nonce_len = req->nonce.len;
	}
	cs_buf_init(&out, 1 << 16);
	rc = cs_ocsp_build(&r, responder(), &out, errmsg);
	require(rc == 0, "an accepted request can be answered", errmsg);
	q = out.data;
	or = d2i_OCSP_RESPONSE(NULL, &q, (long)out.len);
	require(or != NULL && q == out.data + out.len,
	    "OpenSSL reads the response", "");
	bs = OCSP_response_get1_basic(or);
	require(bs != NULL && OCSP_resp_count(bs) == (int)req->n,
	    "one SingleResponse per CertID", "");
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(or);
	cs_buf_close(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ocsp_request req, sentinel;
	char errmsg[CS_ERRMSG_SIZE];
	int rc;

	memset(&req, 0xa5, sizeof req);
	memcpy(&sentinel, &req, sizeof req);
	errmsg[0] = '\0';
	rc = cs_ocsp_parse_request(data, size, &req, errmsg);
	require(memchr(errmsg, '\0', sizeof errmsg) != NULL,
	    "errmsg terminated", "");
	if (rc != 0) {
		require(rc == CS_EINVAL || rc == CS_ETOOBIG,
		    "rc is CS_EINVAL or CS_ETOOBIG", errmsg);
		require(errmsg[0] != '\0', "errmsg set on error", errmsg);
		require(memcmp(&req, &sentinel, sizeof req) == 0,
		    "*out untouched on error", errmsg);
		return 0;
	}
	require(size <= CS_OCSP_MAX_REQUEST, "size under the cap", "");
	require(req.n >= 1 && req.n <= CS_OCSP_MAX_IDS, "1..MAX CertIDs", "");
	for (size_t i = 0; i < req.n; i++) {
		const struct cs_ocsp_certid *id = &req.ids[i];
		size_t hl = cs_ocsp_hash_len(id->hash);

		require(hl != 0, "a known hash", "");
		require(inside(id->whole, data, size) &&
			    inside(id->name_hash, data, size) &&
			    inside(id->key_hash, data, size),
		    "views inside the input", "");
		require(id->whole.len >= 2 && id->whole.p[0] == 0x30,
		    "CertID is a SEQUENCE", "");
		require(id->name_hash.p > id->whole.p &&
			    id->key_hash.p + id->key_hash.len <=
				id->whole.p + id->whole.len,
		    "hashes inside their CertID", "");
		require(id->name_hash.len == hl && id->key_hash.len == hl,
		    "hash lengths match the algorithm", "");
		require(id->serial.len <= CS_SERIAL_MAX &&
			    (id->serial.len == 0 || id->serial.b[0] != 0),
		    "serial within bounds, no leading zero", "");
	}
	if (req.nonce.len > 0)
		require(req.nonce.len <= CS_OCSP_MAX_NONCE &&
			    inside(req.nonce, data, size),
		    "nonce of 1..32 bytes inside the input", "");
	check_answer(&req);
	return 0;
}
