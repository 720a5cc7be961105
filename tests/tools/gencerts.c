/*
 * gencerts.c - prints N distinct leaf certificates as one PEM bundle, for
 * tests that need many certificates to import: gencerts N [PREFIX]
 *
 * A fresh throwaway CA signs them; the leaves share one key (generation
 * is the slow part of making a certificate) and differ in serial, subject
 * and SAN (PREFIX-<i>.test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/ca.h"

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	const char *prefix = argc > 2 ? argv[2] : "device";
	struct cs_test_ca *ca;
	EVP_PKEY *key;

	if (n <= 0) {
		fprintf(stderr, "usage: gencerts N [PREFIX]\n");
		return 2;
	}
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
