#include "cert/profile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>

#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

static const struct {
	const char *name;
	uint32_t bit;
} keyspecs[] = {
    {"rsa2048", CS_KEYSPEC_RSA2048},
    {"rsa3072", CS_KEYSPEC_RSA3072},
    {"rsa4096", CS_KEYSPEC_RSA4096},
    {"p256", CS_KEYSPEC_P256},
    {"p384", CS_KEYSPEC_P384},
    {"ed25519", CS_KEYSPEC_ED25519},
};

static const struct {
	const char *name;
	uint32_t bit;
} kus[] = {
    {"digitalSignature", CS_KU_DIGITAL_SIGNATURE},
    {"nonRepudiation", CS_KU_NON_REPUDIATION},
    {"keyEncipherment", CS_KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", CS_KU_DATA_ENCIPHERMENT},
    {"keyAgreement", CS_KU_KEY_AGREEMENT},
    {"keyCertSign", CS_KU_KEY_CERT_SIGN},
    {"cRLSign", CS_KU_CRL_SIGN},
    {"encipherOnly", CS_KU_ENCIPHER_ONLY},
    {"decipherOnly", CS_KU_DECIPHER_ONLY},
};

#define N(t) (sizeof t / sizeof t[0])

const char *
cs_keyspec_name(uint32_t bit)
{
	for (size_t i = 0; i < N(keyspecs); i++) {
		if (keyspecs[i].bit == bit)
			return keyspecs[i].name;
	}
	return "?";
}

int
cs_keyspec_parse(const char *name, uint32_t *bit)
{
	for (size_t i = 0; i < N(keyspecs); i++) {
		if (strcmp(keyspecs[i].name, name) == 0) {
			*bit = keyspecs[i].bit;
			return 0;
		}
	}
	return CS_EINVAL;
}

int
cs_keyspec_of(enum cs_key_type type, int bits, const char *curve, uint32_t *bit)
{
	if (type == CS_KEY_RSA && bits == 2048)
		*bit = CS_KEYSPEC_RSA2048;
	else if (type == CS_KEY_RSA && bits == 3072)
		*bit = CS_KEYSPEC_RSA3072;
	else if (type == CS_KEY_RSA && bits == 4096)
		*bit = CS_KEYSPEC_RSA4096;
	else if (type == CS_KEY_EC && strcmp(curve, "P-256") == 0)
		*bit = CS_KEYSPEC_P256;
	else if (type == CS_KEY_EC && strcmp(curve, "P-384") == 0)
		*bit = CS_KEYSPEC_P384;
	else if (type == CS_KEY_ED25519)
		*bit = CS_KEYSPEC_ED25519;
	else
		return CS_EINVAL;
	return 0;
}

const char *
cs_ku_name(uint32_t bit)
{
	for (size_t i = 0; i < N(kus); i++) {
		if (kus[i].bit == bit)
			return kus[i].name;
	}
	return "?";
}

int
cs_ku_parse(const char *name, uint32_t *bit)
{
	for (size_t i = 0; i < N(kus); i++) {
		if (strcmp(kus[i].name, name) == 0) {
			*bit = kus[i].bit;
			return 0;
		}
	}
	return CS_EINVAL;
}

/* ---- patterns ---- */

static bool
dns_label_ok(const char *p, size_t n)
{
	if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!isalnum(c) && c != '-')
			return false;
	}
	return true;
}

static bool
dns_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253)
		return false;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!dns_label_ok(p, n))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

static bool
dns_pattern_ok(const char *s)
{
	if (strncmp(s, "*.", 2) == 0)
		return strchr(s + 2, '.') != NULL && dns_name_ok(s + 2);
	return dns_name_ok(s);
}

bool
cs_profile_dns_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, name) == 0;
	dot = strchr(name, '.');
	/* exactly one label in place of the star */
	return dot != NULL && dot != name &&
	       strcasecmp(dot + 1, pattern + 2) == 0;
}

/* Parses "addr" or "addr/len" into family, bytes and prefix length. */
static bool
cidr_parse(const char *s, int *af, uint8_t *addr, int *prefix)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	int max;

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*af = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	*prefix = max;
	if (slash != NULL) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max)
			return false;
		*prefix = (int)p;
	}
	return true;
}

bool
cs_profile_ip_match(const char *pattern, const char *ip)
{
	uint8_t net[16], addr[16];
	int af, af2, prefix, dummy;

	if (!cidr_parse(pattern, &af, net, &prefix) ||
	    !cidr_parse(ip, &af2, addr, &dummy) || af != af2)
		return false;
	for (int i = 0; i < prefix; i++) {
		uint8_t mask = (uint8_t)(0x80 >> (i % 8));

		if ((net[i / 8] & mask) != (addr[i / 8] & mask))
			return false;
	}
	return true;
}

bool
cs_profile_glob_match(const char *pattern, const char *s)
{
	/* '*' matches any run; case-insensitive (DNS parts of URIs and
	 * e-mail domains are) */
	const char *star = NULL, *ss = NULL;

	while (*s != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			ss = s;
		} else if (tolower((unsigned char)*pattern) ==
			   tolower((unsigned char)*s)) {
			pattern++;
			s++;
		} else if (star != NULL) {
			pattern = star + 1;
			s = ++ss;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static bool
printable(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s <= 0x20 || *s > 0x7e)
			return false;
	}
	return true;
}

static bool
url_ok(const char *s)
{
	return (strncmp(s, "http://", 7) == 0 ||
		   strncmp(s, "https://", 8) == 0) &&
	       printable(s);
}

int
cs_profile_validate(const struct cs_profile *p, char *errmsg)
{
	uint8_t buf[16];
	int af, prefix;

	if (p->issuer == NULL || p->issuer[0] == '\0') {
		cs_errmsg_printf(errmsg, "issuer: required");
		return CS_EINVAL;
	}
	if (p->key_specs == 0 || (p->key_specs & ~(uint32_t)CS_KEYSPEC_ALL)) {
		cs_errmsg_printf(errmsg, "key_types: at least one of rsa2048, "
					 "rsa3072, rsa4096, p256, p384, "
					 "ed25519");
		return CS_EINVAL;
	}
	if (p->max_validity <= 0 || p->max_validity > 100LL * 366 * 86400) {
		cs_errmsg_printf(errmsg, "max_validity: more than 0 and at "
					 "most 100 years");
		return CS_EINVAL;
	}
	if (p->rotate_after < 0 || p->rotate_after > p->max_validity) {
		cs_errmsg_printf(errmsg, "rotate_after: at most max_validity "
					 "(rotation later than expiry means "
					 "nothing)");
		return CS_EINVAL;
	}
	for (size_t i = 0; i < p->allow.dns.n; i++) {
		if (!dns_pattern_ok(p->allow.dns.v[i])) {
			cs_errmsg_printf(errmsg,
			    "allow.dns: \"%s\" is not a name or *.<name>",
			    p->allow.dns.v[i]);
			return CS_EINVAL;
		}
	}
	for (size_t i = 0; i < p->allow.ip.n; i++) {
		if (!cidr_parse(p->allow.ip.v[i], &af, buf, &prefix)) {
			cs_errmsg_printf(errmsg,
			    "allow.ip: \"%s\" is not an address or CIDR range",
			    p->allow.ip.v[i]);
			return CS_EINVAL;
		}
	}
	for (size_t i = 0; i < p->allow.uri.n; i++) {
		if (!printable(p->allow.uri.v[i])) {
			cs_errmsg_printf(errmsg, "allow.uri: an empty or "
						 "non-printable pattern");
			return CS_EINVAL;
		}
	}
	for (size_t i = 0; i < p->allow.email.n; i++) {
		if (!printable(p->allow.email.v[i]) ||
		    strchr(p->allow.email.v[i], '@') == NULL) {
			cs_errmsg_printf(errmsg,
			    "allow.email: \"%s\" is not a mailbox pattern",
			    p->allow.email.v[i]);
			return CS_EINVAL;
		}
	}
	for (size_t i = 0; i < p->allow_cn.n; i++) {
		const char *c = p->allow_cn.v[i];

		while (*c >= 0x20 && *c <= 0x7e)
			c++;
		if (p->allow_cn.v[i][0] == '\0' || *c != '\0') {
			cs_errmsg_printf(errmsg, "allow.cn: an empty or "
						 "non-printable pattern");
			return CS_EINVAL;
		}
	}
	if (cs_names_count(&p->allow) == 0 && !p->allow_no_san) {
		cs_errmsg_printf(errmsg, "allow: no name pattern: the profile "
					 "could issue nothing (or set "
					 "allow_no_san)");
		return CS_EINVAL;
	}
	if (p->key_usage & ~(uint32_t)0x80ff) {
		cs_errmsg_printf(errmsg, "key_usage: unknown bits");
		return CS_EINVAL;
	}
	for (size_t i = 0; i < p->eku.n; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(p->eku.v[i], 0);

		if (o == NULL) {
			cs_errmsg_printf(errmsg,
			    "eku: \"%s\" is not a known name or an OID",
			    p->eku.v[i]);
			return CS_EINVAL;
		}
		ASN1_OBJECT_free(o);
	}
	for (size_t i = 0; i < p->crl_urls.n + p->ocsp_urls.n; i++) {
		const char *u = i < p->crl_urls.n
				    ? p->crl_urls.v[i]
				    : p->ocsp_urls.v[i - p->crl_urls.n];

		if (!url_ok(u)) {
			cs_errmsg_printf(errmsg,
			    "crl_urls/ocsp_urls: \"%s\" is not an http(s) URL",
			    u);
			return CS_EINVAL;
		}
	}
	return 0;
}

static void violation(struct cs_strv *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
violation(struct cs_strv *out, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	out->v = cs_reallocarray(out->v, out->n + 1, sizeof *out->v);
	out->v[out->n++] = cs_strdup(buf);
}

static bool
any_match(const struct cs_strv *patterns, const char *value,
    bool (*match)(const char *, const char *))
{
	for (size_t i = 0; i < patterns->n; i++)
		if (match(patterns->v[i], value))
			return true;
	return false;
}

static bool
is_san(const struct cs_names *n, const char *value)
{
	const struct cs_strv *lists[4] = {&n->dns, &n->ip, &n->uri, &n->email};

	for (int l = 0; l < 4; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (strcasecmp(lists[l]->v[i], value) == 0)
				return true;
	return false;
}

/* The allowed key specs as text ("p256, p384"). */
static void
keyspecs_text(uint32_t specs, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t bit = 1; bit <= CS_KEYSPEC_ALL; bit <<= 1) {
		if ((specs & bit) && off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
			    off > 0 ? ", " : "", cs_keyspec_name(bit));
	}
}

size_t
cs_profile_check(const struct cs_profile *p, const struct cs_csr_info *csr,
    int64_t validity, struct cs_strv *out)
{
	static const struct {
		const char *kind;
		size_t off;
		bool (*match)(const char *, const char *);
	} kinds[] = {
	    {"dns", offsetof(struct cs_names, dns), cs_profile_dns_match},
	    {"ip", offsetof(struct cs_names, ip), cs_profile_ip_match},
	    {"uri", offsetof(struct cs_names, uri), cs_profile_glob_match},
	    {"email", offsetof(struct cs_names, email), cs_profile_glob_match},
	};
	size_t before = out->n;
	uint32_t spec;
	char allowed[128];

	if (cs_keyspec_of(csr->key_type, csr->key_bits, csr->curve, &spec) <
		0 ||
	    !(p->key_specs & spec)) {
		keyspecs_text(p->key_specs, allowed, sizeof allowed);
		violation(out, "key: %s %d%s%s is not allowed (allowed: %s)",
		    cs_key_type_name(csr->key_type), csr->key_bits,
		    csr->curve[0] != '\0' ? " " : "", csr->curve, allowed);
	}
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		const struct cs_strv *names =
		    (const struct cs_strv *)(const void
			    *)((const char *)&csr->names + kinds[k].off);
		const struct cs_strv *pats = (const struct cs_strv *)(const void
			*)((const char *)&p->allow + kinds[k].off);

		for (size_t i = 0; i < names->n; i++) {
			if (any_match(pats, names->v[i], kinds[k].match))
				continue;
			if (pats->n == 0)
				violation(out,
				    "%s: \"%s\" is not allowed (the profile "
				    "allows no %s names)",
				    kinds[k].kind, names->v[i], kinds[k].kind);
			else
				violation(out,
				    "%s: \"%s\" matches none of the "
				    "profile's %s patterns",
				    kinds[k].kind, names->v[i], kinds[k].kind);
		}
	}
	if (cs_names_count(&csr->names) == 0 && !p->allow_no_san)
		violation(out, "names: the request has no subjectAltName and "
			       "the profile requires one");
	if (csr->ncn > 1) {
		violation(out, "subject: %d commonNames (at most one)",
		    csr->ncn);
	} else if (csr->ncn == 1 && csr->cn == NULL) {
		violation(out, "subject: the commonName must be a UTF8String, "
			       "PrintableString or IA5String");
	} else if (csr->cn != NULL) {
		bool ok = p->allow_cn.n > 0
			      ? any_match(&p->allow_cn, csr->cn,
				    cs_profile_glob_match)
			      : is_san(&csr->names, csr->cn) ||
				    any_match(&p->allow.dns, csr->cn,
					cs_profile_dns_match);

		if (!ok)
			violation(out, "subject: CN \"%s\" is not allowed (%s)",
			    csr->cn,
			    p->allow_cn.n > 0
				? "it matches none of allow_cn"
				: "not one of the request's names nor allowed "
				  "by allow.dns; or set allow_cn");
	}
	if (validity < 0 || validity > p->max_validity) {
		char want[32], max[32];

		cs_duration_format(validity, want);
		cs_duration_format(p->max_validity, max);
		violation(out,
		    "validity: %s is more than the profile's maximum %s", want,
		    max);
	}
	return out->n - before;
}
