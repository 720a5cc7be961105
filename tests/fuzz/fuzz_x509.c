/*
 * fuzz_x509.c - libFuzzer target for the certificate and request parsers.
 *
 * Every input goes through cs_x509_parse_bundle(), cs_x509_parse_der()
 * and cs_csr_parse(). Besides crashes and leaks (ASan/LSan), it checks
 * the contracts a sanitizer cannot see, and aborts when one breaks:
 * failures leave *out untouched and say why in errmsg; every accepted
 * certificate survives cs_x509_der_to_pem() and a second parse unchanged.
 *
 * Differential: cs_x509_parse_der() (the strict DER reader for what it
 * takes, OpenSSL for the rest) and cs_x509__parse_der_openssl() (OpenSSL
 * for all) must give the same return code, the same message and equal
 * records (tests/lib/certcmp.h), on the input itself and on a fixed
 * certificate whose extensions are the input: length-changing mutations
 * of a whole certificate mostly break its outer lengths, so the second
 * form is what reaches deep into cert/ext.c. Seeds for it are Extensions
 * SEQUENCEs (tests/fuzz/run.sh cuts them out of certificates).
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
#include "tests/lib/certcmp.h"

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

/* The paths of cert/x509.c agree on der. */
static void
check_paths(const uint8_t *der, size_t len, const char *what)
{
	char why[CS_CERTCMP_WHY_SIZE];

	if (cs_certcmp_paths(der, len, NULL, why) < 0) {
		fprintf(stderr,
		    "fuzz_x509: %s: fast and OpenSSL paths differ: %s\n", what,
		    why);
		abort();
	}
}

/* A DER header of tag and len at p; returns its size (at most 5). */
static size_t
header(uint8_t *p, uint8_t tag, size_t len)
{
	size_t n = 0;

	p[0] = tag;
	if (len < 0x80) {
		p[1] = (uint8_t)len;
		return 2;
	}
	for (size_t l = len; l > 0; l >>= 8)
		n++;
	p[1] = (uint8_t)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		p[2 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
	return 2 + n;
}

/* A v3 certificate up to its extensions: serial 1, CN=test issued and
 * subject, 2024-2034, a P-256 key (any 65 bytes pass as its point). */
static const uint8_t tbs_head[] = {0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01,
    0x01, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03,
    0x02, 0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,
    0x0c, 0x04, 't', 'e', 's', 't', 0x30, 0x1e, 0x17, 0x0d, '2', '4', '0', '1',
    '0', '1', '0', '0', '0', '0', '0', '0', 'Z', 0x17, 0x0d, '3', '4', '0', '1',
    '0', '1', '0', '0', '0', '0', '0', '0', 'Z', 0x30, 0x0f, 0x31, 0x0d, 0x30,
    0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 't', 'e', 's', 't', 0x30,
    0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42,
    0x00, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
    38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56,
    57, 58, 59, 60, 61, 62, 63, 64};
static const uint8_t cert_tail[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x01, 0x00};

/* The fixed certificate above with data as its extensions: the contents
 * of the Extensions SEQUENCE, after a SEQUENCE header of data's own if
 * it starts with one (whatever length that claims: the real one is put
 * back). */
static void
check_paths_extensions(const uint8_t *data, size_t size)
{
	uint8_t *der, *p, hdr[8];
	size_t seq, exts, tbs, body, skip = 0;

	if (size >= 2 && data[0] == 0x30) {
		skip = 2;
		if (data[1] & 0x80)
			skip += data[1] & 0x7f;
		if (skip > size)
			skip = size;
	}
	data += skip;
	size -= skip;
	if (size > CS_X509_MAX_DER)
		return;
	seq = size;
	exts = header(hdr, 0x30, seq) + seq;
	tbs = sizeof tbs_head + header(hdr, 0xa3, exts) + exts;
	body = header(hdr, 0x30, tbs) + tbs + sizeof cert_tail;
	der = malloc(header(hdr, 0x30, body) + body);
	if (der == NULL)
		abort();
	p = der;
	p += header(p, 0x30, body);
	p += header(p, 0x30, tbs);
	memcpy(p, tbs_head, sizeof tbs_head);
	p += sizeof tbs_head;
	p += header(p, 0xa3, exts);
	p += header(p, 0x30, seq);
	if (size > 0)
		memcpy(p, data, size);
	p += size;
	memcpy(p, cert_tail, sizeof cert_tail);
	p += sizeof cert_tail;
	if ((size_t)(p - der) != header(hdr, 0x30, body) + body)
		abort(); /* a bug here, not in what it tests */
	check_paths(der, (size_t)(p - der), "as extensions");
	free(der);
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
	check_paths(data, size, "as a certificate");
	check_paths_extensions(data, size);

	errmsg[0] = '\0';
	rc = cs_csr_parse(data, size, &csr, errmsg);
	if (rc == 0)
		cs_csr_info_free(csr);
	else
		check_failure(rc, csr, &sentinel_csr, errmsg);
	return 0;
}
