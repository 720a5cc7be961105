/*
 * gencerts.c - prints N distinct leaf certificates as one PEM bundle, for
 * tests that need many certificates to import:
 *
 *   gencerts [--issuer-cert F --issuer-key F] [--threads T] N [PREFIX]
 *
 * Without an issuer, a fresh throwaway CA signs them; the leaves share one
 * key (generation is the slow part of making a certificate) and differ in
 * serial, subject and SAN (PREFIX-<i>.test).
 *
 * With --issuer-cert and --issuer-key (PEM, unencrypted, matching), that
 * CA signs them, so a cluster that has it as an issuer answers OCSP and
 * lists them in its CRLs. These come from tests/lib/certgen.h (tens of
 * thousands per second): CN <p><num as %07u> where <p> is the first three
 * characters of PREFIX (letters and digits; "dev" if PREFIX is shorter),
 * random 16-byte serials, distinct keys; see certgen.h for the rest.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "lib/mem.h"
#include "tests/lib/ca.h"
#include "tests/lib/certgen.h"

static void
usage(void)
{
	fprintf(stderr, "usage: gencerts [--issuer-cert F --issuer-key F] "
			"[--threads T] N [PREFIX]\n");
}

/* n certificates signed by the CA in files, from certgen. */
static int
from_issuer(const char *cert_file, const char *key_file, long n,
    const char *prefix, unsigned threads)
{
	struct cs_certgen_config cfg = {0};
	struct cs_certgen_out out;
	struct cs_certgen *gen;
	struct cs_test_ca *ca;
	char p[4] = "dev";
	uint8_t r[8];

	if ((unsigned long)n > CS_CERTGEN_MAX_NUM) {
		fprintf(stderr, "gencerts: at most %u with an issuer\n",
		    CS_CERTGEN_MAX_NUM);
		return 2;
	}
	ca = cs_test_ca_load(cert_file, key_file, "gencerts");
	if (ca == NULL)
		return 1;
	if (strlen(prefix) >= 3 &&
	    strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789") >= 3)
		memcpy(p, prefix, 3);
	if (RAND_bytes(r, sizeof r) != 1) {
		cs_test_ca_free(ca);
		return 1;
	}
	cfg.prefix = p;
	for (int i = 0; i < 8; i++)
		cfg.key_base = cfg.key_base << 8 | r[i];
	gen = cs_certgen_new(ca, &cfg);
	out.der = cs_calloc((size_t)n, sizeof *out.der);
	out.len = cs_calloc((size_t)n, sizeof *out.len);
	out.fp = NULL;
	cs_certgen_run(gen, 0, (size_t)n, threads, &out);
	for (long i = 0; i < n; i++) {
		char *pem = cs_test_pem(out.der[i], out.len[i]);

		fputs(pem, stdout);
		free(pem);
		free(out.der[i]);
	}
	free(out.der);
	free(out.len);
	cs_certgen_free(gen);
	cs_test_ca_free(ca);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"issuer-cert", required_argument, NULL, 'c'},
	    {"issuer-key", required_argument, NULL, 'k'},
	    {"threads", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *issuer_cert = NULL, *issuer_key = NULL, *prefix;
	unsigned threads = 2;
	struct cs_test_ca *ca;
	EVP_PKEY *key;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			issuer_cert = optarg;
			break;
		case 'k':
			issuer_key = optarg;
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
			return 2;
		}
	}
	n = optind < argc ? strtol(argv[optind], NULL, 10) : 0;
	prefix = optind + 1 < argc ? argv[optind + 1] : "device";
	if (n <= 0 || (issuer_cert == NULL) != (issuer_key == NULL) ||
	    threads == 0 || threads > 64) {
		usage();
		return 2;
	}
	if (issuer_cert != NULL)
		return from_issuer(issuer_cert, issuer_key, n, prefix, threads);
	ca = cs_test_ca_new("gencerts CA", CS_TEST_P256, NULL);
	key = cs_test_key_new(CS_TEST_P256);
	for (long i = 0; i < n; i++) {
		char cn[128];
		const char *dns[] = {cn, NULL};
		struct cs_test_leaf l = {.cn = cn, .dns = dns, .key = key};
		size_t len;
		uint8_t *der;
		char *pem;

		snprintf(cn, sizeof cn, "%s-%ld.test", prefix, i);
		der = cs_test_issue(ca, &l, &len, NULL);
		pem = cs_test_pem(der, len);
		fputs(pem, stdout);
		free(pem);
		free(der);
	}
	EVP_PKEY_free(key);
	cs_test_ca_free(ca);
	return 0;
}
