/*
 * profile.h - issuance profiles: what a profile may say, checked before
 * it is stored, and (cert/issue) what a CSR must satisfy under it.
 *
 * Name patterns (struct cs_profile.allow):
 *   dns    exact names, or "*.<suffix>" for exactly one more label
 *          ("*.site-a.hospital.test" allows "pump-1.site-a.hospital.test"
 *          but not "site-a.hospital.test" nor "a.b.site-a.hospital.test")
 *   ip     an address or a CIDR range ("10.20.0.0/16", "2001:db8::/32")
 *   uri    a glob ('*' matches any run of characters)
 *   email  a glob ("*@hospital.example")
 * Matching is case-insensitive for DNS names and e-mail domains.
 *
 * Pure.
 */
#ifndef CS_PROFILE_H
#define CS_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "cert/csr.h"
#include "cert/doc.h"

/* Checks everything a profile says; 0 or CS_EINVAL naming the field. */
int cs_profile_validate(const struct cs_profile *p, char *errmsg);

/* What a request must satisfy to be issued under p: its key type and
 * size; every SAN against the allow patterns of its kind; at least one
 * SAN unless allow_no_san; at most one CN, which must match allow_cn or,
 * when allow_cn is empty, be one of the request's SANs or match
 * allow.dns; a requested validity (seconds; 0 = the profile's maximum)
 * within max_validity. Each violation is appended to out as a sentence
 * that names the value and the rule; returns how many. */
size_t cs_profile_check(const struct cs_profile *p,
    const struct cs_csr_info *csr, int64_t validity, struct cs_strv *out);

/* Key specs: "rsa2048", "rsa3072", "rsa4096", "p256", "p384",
 * "ed25519" <-> CS_KEYSPEC_* bits. */
const char *cs_keyspec_name(uint32_t bit);
int cs_keyspec_parse(const char *name, uint32_t *bit);
/* The spec of a key as parsed (CS_EINVAL for keys no profile allows). */
int cs_keyspec_of(enum cs_key_type type, int bits, const char *curve,
    uint32_t *bit);

/* Key usage names (RFC 5280: "digitalSignature", "nonRepudiation",
 * "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign",
 * "cRLSign", "encipherOnly", "decipherOnly") <-> CS_KU_* bits. */
const char *cs_ku_name(uint32_t bit);
int cs_ku_parse(const char *name, uint32_t *bit);

/* Whether name (already lower-cased or not) matches a pattern of its
 * kind. */
bool cs_profile_dns_match(const char *pattern, const char *name);
bool cs_profile_ip_match(const char *pattern, const char *ip);
bool cs_profile_glob_match(const char *pattern, const char *s);

#endif
