/*
 * certcmp.h - struct cs_cert_info compared field by field, and the two
 * parse paths of cert/x509.c compared on one input (tests and fuzzer).
 *
 * cs_x509_parse_der() reads what it can with the strict DER reader and
 * leaves the rest to OpenSSL; cs_x509__parse_der_openssl() leaves it all
 * to OpenSSL. They must agree on every input: the same return code, the
 * same message when they refuse, and equal records when they accept.
 *
 * Pure apart from the allocation of the records compared; never aborts.
 */
#ifndef CS_TEST_CERTCMP_H
#define CS_TEST_CERTCMP_H

#include <stddef.h>
#include <stdint.h>

#include "cert/x509.h"

#define CS_CERTCMP_WHY_SIZE 512

/* 0 when a and b are equal in every field of struct cs_cert_info;
 * otherwise -1 and why (CS_CERTCMP_WHY_SIZE bytes) names the first field
 * that differs, with both values. Borrows a and b. */
int cs_certcmp(const struct cs_cert_info *a, const struct cs_cert_info *b,
    char *why);

/* Parses der both ways: 0 when the paths agree, -1 with why set when they
 * do not. *accepted (nullable) says whether they accepted it. */
int cs_certcmp_paths(const uint8_t *der, size_t len, int *accepted, char *why);

#endif
