/*
 * bench_x509.c - what parsing one certificate costs: bench_x509 [N]
 *
 * Makes N distinct leaves from tests/lib/certgen.h (the typical imported
 * certificate: P-256 key, O/OU/CN subject, DNS and IP SANs, basic
 * constraints, key usage, EKU, AKI, CRL DP and AIA; ~660 bytes) and
 * parses them round-robin for about a second, with cs_x509_parse_der()
 * ("parse") and with cs_x509__parse_der_openssl(), which leaves names,
 * times and extensions to OpenSSL's decoders as the parser did before
 * cert/dn.c and cert/ext.c ("parse_openssl"). Prints key=value lines:
 * microseconds and allocations per parse.
 *
 * Allocations are counted by wrapping malloc, calloc and realloc here
 * (glibc's __libc_* entry points), which catches OpenSSL's as well as
 * ours. Under ASan the wrappers would fight the sanitizer's, so they are
 * left out and the count reads 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert/x509.h"
#include "lib/error.h"
#include "tests/lib/ca.h"
#include "tests/lib/certgen.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MALLOC_HOOK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NO_MALLOC_HOOK 1
#endif

/* The one mutable static: a benchmark's allocation counter. Only the
 * main thread counts (the generator threads have finished by then). */
static unsigned long n_alloc;

#ifndef NO_MALLOC_HOOK
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

void *
malloc(size_t n)
{
	n_alloc++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	n_alloc++;
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	n_alloc++;
	return __libc_realloc(p, n);
}
#endif

typedef int (
    *parse_fn)(const uint8_t *, size_t, struct cs_cert_info **, char *);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_x509: %s\n", what);
	exit(1);
}

/* Parses the certificates round-robin for about a second; prints the
 * mean microseconds and allocations per parse under the name given. */
static void
measure(const char *name, parse_fn parse, uint8_t **der, size_t *len, size_t n)
{
	char errmsg[CS_ERRMSG_SIZE];
	struct cs_cert_info *ci;
	unsigned long parses = 0, allocs;
	double t0, t;

	/* warm up: OpenSSL's lazy initialisation is not a parse's cost */
	for (size_t i = 0; i < n; i++) {
		if (parse(der[i], len[i], &ci, errmsg) < 0)
			die(errmsg);
		cs_cert_info_free(ci);
	}
	n_alloc = 0;
	t0 = now_s();
	do {
		for (size_t i = 0; i < n; i++) {
			if (parse(der[i], len[i], &ci, errmsg) < 0)
				die(errmsg);
			cs_cert_info_free(ci);
		}
		parses += n;
		t = now_s() - t0;
	} while (t < 1.0);
	allocs = n_alloc;
	printf("%s_us=%.2f\n", name, t * 1e6 / (double)parses);
	printf("%s_mallocs=%.1f\n", name, (double)allocs / (double)parses);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	struct cs_test_ca *ca = NULL;
	struct cs_certgen *gen = NULL;
	struct cs_certgen_out out;
	uint8_t **der;
	size_t *len;
	size_t total = 0;

	if (n == 0 || n > CS_CERTGEN_MAX_NUM)
		die("usage: bench_x509 [N]");
	ca = cs_test_ca_new("Bench Issuing CA", CS_TEST_P256, NULL);
	gen = cs_certgen_new(ca, NULL);
	der = calloc(n, sizeof *der);
	len = calloc(n, sizeof *len);
	if (der == NULL || len == NULL)
		die("out of memory");
	out.der = der;
	out.len = len;
	out.fp = NULL;
	cs_certgen_run(gen, 0, n, 1, &out);
	for (size_t i = 0; i < n; i++)
		total += len[i];
	printf("certs=%zu\n", n);
	printf("der_bytes_avg=%.0f\n", (double)total / (double)n);
	measure("parse", cs_x509_parse_der, der, len, n);
	measure("parse_openssl", cs_x509__parse_der_openssl, der, len, n);
	for (size_t i = 0; i < n; i++)
		free(der[i]);
	free(der);
	free(len);
	cs_certgen_free(gen);
	cs_test_ca_free(ca);
	return 0;
}
