/*
 * fuzz_x509.c - libFuzzer target for the certificate and request parsers.
 *
 * Every input goes through cs_x509_parse_bundle(), cs_x509_parse_der()
 * and cs_csr_parse(). Besides crashes and leaks (ASan/LSan), it checks
 * the contracts a sanitizer cannot see, and aborts when one breaks:
 * failures leave *out untouched and say why in errmsg; every accepted
 * certificate survives cs_x509_der_to_pem() and a second parse unchanged.
 *
 *   CC=clang ./configure --enable-fuzzing && make tests/fuzz/fuzz_x509
 *   ./tests/fuzz/fuzz_x509 -max_total_time=60 corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cert/csr.h"
#include "cert/x509.h"
#include "lib/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int ok, const char *what, const char *errmsg)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_x509: broken contract: %s (errmsg '%s')\n", what,
	    errmsg);
	abort();
}

static void
check_failure(int rc, const void *out, const void *sentinel, const char *errmsg)
{
	require(rc < 0 && rc >= CS_E__MIN, "rc is a CS_E* code", errmsg);
	require(out == sentinel, "*out untouched on error", errmsg);
	require(memchr(errmsg, '\0', CS_ERRMSG_SIZE) != NULL,
	    "errmsg terminated", "");
	require(errmsg[0] != '\0', "errmsg set on error", errmsg);
}

/* What the parser accepted, it must accept again from its own PEM. */
static void
check_round_trip(const struct cs_cert_info *ci)
{
	struct cs_cert_info **v = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";
	char *pem = cs_x509_der_to_pem(ci->der, ci->der_len);
	size_t n = 0;
	int rc;

	rc = cs_x509_parse_bundle((const uint8_t *)pem, strlen(pem), 1, &v, &n,
	    errmsg);
	require(rc == 0 && n == 1, "PEM round trip parses", errmsg);
	require(v[0]->der_len == ci->der_len &&
		    memcmp(v[0]->der, ci->der, ci->der_len) == 0 &&
		    memcmp(v[0]->fingerprint, ci->fingerprint, CS_SHA256_LEN) ==
			0 &&
		    strcmp(v[0]->subject, ci->subject) == 0 &&
		    cs_names_count(&v[0]->sans) == cs_names_count(&ci->sans),
	    "PEM round trip is identical", errmsg);
	cs_cert_info_free_all(v, n);
	free(pem);
}

/* A name the fast path prints (cert/dn.c) OpenSSL must parse and print
 * the same way. */
static void
check_dn(const uint8_t *data, size_t size)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	const unsigned char *p = data;
	X509_NAME *name;
	char *fast, *slow;

	if (!cs_dn_fast(data, size, &fast))
		return;
	name = d2i_X509_NAME(NULL, &p, (long)size);
	require(name != NULL && p == data + size,
	    "a name the fast path takes parses in OpenSSL", fast);
	require(cs_x509__name_text(name, &slow, errmsg) == 0, "and prints",
	    errmsg);
	require(strcmp(fast, slow) == 0, "fast and OpenSSL text agree", fast);
	free(fast);
	free(slow);
	X509_NAME_free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cs_cert_info sentinel_ci;
	static struct cs_csr_info sentinel_csr;
	struct cs_cert_info *sentinel_v[1] = {&sentinel_ci};
	struct cs_cert_info **v = sentinel_v;
	struct cs_cert_info *ci = &sentinel_ci;
	struct cs_csr_info *csr = &sentinel_csr;
	char errmsg[CS_ERRMSG_SIZE];
	size_t n = 0;
	int rc;

	errmsg[0] = '\0';
	rc = cs_x509_parse_bundle(data, size, 8, &v, &n, errmsg);
	if (rc == 0) {
		require(n >= 1 && n <= 8, "bundle count in 1..max", errmsg);
		for (size_t i = 0; i < n; i++)
			check_round_trip(v[i]);
		cs_cert_info_free_all(v, n);
	} else {
		check_failure(rc, v, sentinel_v, errmsg);
	}

	errmsg[0] = '\0';
	rc = cs_x509_parse_der(data, size, &ci, errmsg);
	if (rc == 0) {
		require(ci->der_len == size, "DER is exactly the input",
		    errmsg);
		cs_cert_info_free(ci);
	} else {
		check_failure(rc, ci, &sentinel_ci, errmsg);
	}

	check_dn(data, size);

	errmsg[0] = '\0';
	rc = cs_csr_parse(data, size, &csr, errmsg);
	if (rc == 0)
		cs_csr_info_free(csr);
	else
		check_failure(rc, csr, &sentinel_csr, errmsg);
	return 0;
}
