/*
 * ctl_pki.c - keys, requests and self-signed certificates on certctl's
 * side (ctl_pki.h).
 */
#include "api/ctl_pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/issue.h"
#include "cert/signer.h"
#include "lib/error.h"
#include "lib/mem.h"

#define NAME_MAX_AVAS   32
#define NAME_MAX_TEXT   4096
#define ISSUER_NAME_MAX 64
#define SAN_MAX_LEN     1024

/* ---- values people type ---- */

int
cs_ctl_pki_alg_parse(const char *name, bool allow_ed25519,
    enum cs_ctl_pki_alg *out)
{
	if (strcmp(name, "p256") == 0)
		*out = CS_CTL_PKI_P256;
	else if (strcmp(name, "p384") == 0)
		*out = CS_CTL_PKI_P384;
	else if (allow_ed25519 && strcmp(name, "ed25519") == 0)
		*out = CS_CTL_PKI_ED25519;
	else
		return CS_EINVAL;
	return 0;
}

bool
cs_ctl_pki_issuer_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > ISSUER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* One attribute of the text, in text order. */
struct ava {
	char type[64];
	char *value; /* unescaped, NUL-terminated */
	size_t len;
	bool joined; /* "+": in the same RDN as the previous one */
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads one "type=value" at *pp up to an unescaped ',' or '+' (left at
 * *pp). */
static int
parse_ava(const char **pp, struct ava *a, char *errmsg)
{
	const char *p = *pp, *t;
	size_t tlen, keep = 0;
	char *v;

	while (*p == ' ')
		p++;
	t = p;
	while (*p != '\0' && *p != '=' && *p != ',' && *p != '+')
		p++;
	tlen = (size_t)(p - t);
	while (tlen > 0 && t[tlen - 1] == ' ')
		tlen--;
	if (*p != '=' || tlen == 0 || tlen >= sizeof a->type) {
		cs_errmsg_printf(errmsg,
		    "\"%.*s\": expected TYPE=value (CN=..., O=...)",
		    (int)(p - t > 40 ? 40 : p - t), t);
		return CS_EINVAL;
	}
	memcpy(a->type, t, tlen);
	a->type[tlen] = '\0';
	p++;
	while (*p == ' ')
		p++;
	if (*p == '#' || *p == '"') {
		cs_errmsg_printf(errmsg,
		    "%s: write the value as text (no #hex, no quotes; "
		    "\\, escapes a comma)",
		    a->type);
		return CS_EINVAL;
	}
	v = cs_malloc(strlen(p) + 1);
	a->value = v;
	a->len = 0;
	while (*p != '\0' && *p != ',' && *p != '+') {
		if (*p == '\\') {
			int hi = hexval((unsigned char)p[1]);
			int lo = hi >= 0 ? hexval((unsigned char)p[2]) : -1;

			if (hi >= 0 && lo >= 0) {
				v[a->len++] = (char)(hi * 16 + lo);
				p += 3;
			} else if (p[1] != '\0' &&
				   strchr(",+\"\\<>;= #", p[1])) {
				v[a->len++] = p[1];
				p += 2;
			} else {
				cs_errmsg_printf(errmsg,
				    "%s: a bad escape \"\\%c\"", a->type,
				    p[1] != '\0' ? p[1] : ' ');
				return CS_EINVAL;
			}
			keep = a->len; /* an escaped blank stays */
			continue;
		}
		if (*p == '"' || *p == ';' || *p == '<' || *p == '>') {
			cs_errmsg_printf(errmsg, "%s: \"%c\" must be escaped",
			    a->type, *p);
			return CS_EINVAL;
		}
		v[a->len++] = *p++;
		if (v[a->len - 1] != ' ')
			keep = a->len;
	}
	a->len = keep; /* trailing blanks are not part of the value */
	v[a->len] = '\0';
	if (a->len == 0) {
		cs_errmsg_printf(errmsg, "%s: an empty value", a->type);
		return CS_EINVAL;
	}
	*pp = p;
	return 0;
}

int
cs_ctl_pki_name_parse(const char *text, struct cs_buf *der, char *errmsg)
{
	struct ava avas[NAME_MAX_AVAS];
	size_t n = 0, end;
	const char *p = text;
	X509_NAME *name = NULL;
	unsigned char *out = NULL;
	int len, rc = CS_EINVAL;

	memset(avas, 0, sizeof avas);
	if (strlen(text) > NAME_MAX_TEXT) {
		cs_errmsg_printf(errmsg, "a name of at most %d bytes",
		    NAME_MAX_TEXT);
		return CS_EINVAL;
	}
	for (;;) {
		if (n == NAME_MAX_AVAS) {
			cs_errmsg_printf(errmsg, "at most %d attributes",
			    NAME_MAX_AVAS);
			goto out;
		}
		avas[n].joined = n > 0 && p > text && p[-1] == '+';
		if (parse_ava(&p, &avas[n], errmsg) < 0) {
			n++;
			goto out;
		}
		n++;
		if (*p == '\0')
			break;
		p++; /* ',' or '+' */
	}
	name = X509_NAME_new();
	if (name == NULL)
		goto crypto;
	/* the text names the most significant RDN last; DER first */
	end = n;
	while (end > 0) {
		size_t start = end - 1;

		while (start > 0 && avas[start].joined)
			start--;
		for (size_t i = start; i < end; i++) {
			ASN1_OBJECT *obj = OBJ_txt2obj(avas[i].type, 0);
			int ok;

			if (obj == NULL) {
				ERR_clear_error();
				cs_errmsg_printf(errmsg,
				    "%s: not an attribute type OpenSSL "
				    "knows (CN, O, OU, C, L, ST, ... or an "
				    "OID)",
				    avas[i].type);
				goto out;
			}
			ok = X509_NAME_add_entry_by_OBJ(name, obj,
			    MBSTRING_UTF8, (const unsigned char *)avas[i].value,
			    (int)avas[i].len, -1, i == start ? 0 : -1);
			ASN1_OBJECT_free(obj);
			if (!ok) {
				char why[CS_ERRMSG_SIZE] = "";

				cs_x509__crypto_errmsg(why, "refused");
				cs_errmsg_printf(errmsg,
				    "%s=%s: %s (too long, or not valid for "
				    "this attribute)",
				    avas[i].type, avas[i].value, why);
				goto out;
			}
		}
		end = start;
	}
	len = i2d_X509_NAME(name, &out);
	if (len <= 0)
		goto crypto;
	cs_buf_append(der, out, (size_t)len);
	rc = 0;
	goto out;
crypto:
	cs_x509__crypto_errmsg(errmsg, "name");
	rc = CS_ECRYPTO;
out:
	for (size_t i = 0; i < n; i++)
		free(avas[i].value);
	OPENSSL_free(out);
	X509_NAME_free(name);
	return rc;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	}
	return true;
}

static bool
host_ok(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	if (n > 253 || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

int
cs_ctl_pki_san_check(enum cs_ctl_pki_san kind, const char *v, char *errmsg)
{
	static const char *const what[] = {"--dns", "--ip", "--uri", "--email"};
	uint8_t addr[16];
	const char *at, *colon;
	bool ok = false;

	if (v[0] == '\0' || strlen(v) > SAN_MAX_LEN || !printable(v)) {
		cs_errmsg_printf(errmsg,
		    "%s \"%.64s\": 1 to %d printable ASCII characters, no "
		    "blanks",
		    what[kind], v, SAN_MAX_LEN);
		return CS_EINVAL;
	}
	switch (kind) {
	case CS_CTL_PKI_SAN_DNS:
		ok = host_ok(v);
		break;
	case CS_CTL_PKI_SAN_IP:
		ok = inet_pton(AF_INET, v, addr) == 1 ||
		     inet_pton(AF_INET6, v, addr) == 1;
		break;
	case CS_CTL_PKI_SAN_URI:
		colon = strchr(v, ':');
		ok = colon != NULL && colon > v && colon[1] != '\0' &&
		     isalpha((unsigned char)v[0]);
		for (const char *p = v; ok && p < colon; p++)
			ok = isalnum((unsigned char)*p) || *p == '+' ||
			     *p == '-' || *p == '.';
		break;
	case CS_CTL_PKI_SAN_EMAIL:
		at = strchr(v, '@');
		ok = at != NULL && at > v && strchr(at + 1, '@') == NULL &&
		     host_ok(at + 1) && at[1] != '*';
		break;
	}
	if (!ok) {
		static const char *const like[] =
		    {"a host name, like pump-7.hospital.test",
			"an IPv4 or IPv6 address",
			"a URI with a scheme, like urn:device:pump-7",
			"an e-mail address, like ward7@hospital.test"};

		cs_errmsg_printf(errmsg, "%s \"%.64s\": %s", what[kind], v,
		    like[kind]);
		return CS_EINVAL;
	}
	return 0;
}

/* ---- keys ---- */

int
cs_ctl_pki_keygen(enum cs_ctl_pki_alg alg, EVP_PKEY **out, char *errmsg)
{
	EVP_PKEY *key = NULL;

	ERR_clear_error();
	switch (alg) {
	case CS_CTL_PKI_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CS_CTL_PKI_P384:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CS_CTL_PKI_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		break;
	}
	if (key == NULL) {
		cs_x509__crypto_errmsg(errmsg, "key generation");
		return CS_ECRYPTO;
	}
	*out = key;
	return 0;
}

int
cs_ctl_pki_keyfile_open(struct cs_ctl_pki_keyfile *k, const char *path,
    char *errmsg)
{
	int fd;

	k->path = NULL;
	k->fd = -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		int e = errno;

		if (e == EEXIST)
			cs_errmsg_printf(errmsg,
			    "%s exists: certctl never overwrites a key file",
			    path);
		else
			cs_errmsg_printf(errmsg, "%s: %s", path, strerror(e));
		return e == EEXIST ? CS_EEXIST : CS_EIO;
	}
	/* 0600 exactly, whatever the umask: a CA key that the group can
	 * read is one the server refuses */
	k->path = realpath(path, NULL);
	if (k->path == NULL || fchmod(fd, 0600) < 0) {
		cs_errmsg_printf(errmsg, "%s: %s", path, strerror(errno));
		close(fd);
		if (k->path == NULL)
			unlink(path);
		else
			unlink(k->path);
		free(k->path);
		k->path = NULL;
		return CS_EIO;
	}
	k->fd = fd;
	return 0;
}

int
cs_ctl_pki_keyfile_write(struct cs_ctl_pki_keyfile *k, EVP_PKEY *key,
    char *errmsg)
{
	BIO *b = NULL;
	int rc = CS_ECRYPTO;

	ERR_clear_error();
	b = BIO_new_fd(k->fd, BIO_NOCLOSE);
	if (b == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    BIO_flush(b) != 1) {
		cs_x509__crypto_errmsg(errmsg, "writing the key");
		cs_errmsg_wrapf(errmsg, "%s", k->path);
		goto out;
	}
	if (fsync(k->fd) < 0 || close(k->fd) < 0) {
		k->fd = -1;
		cs_errmsg_printf(errmsg, "%s: %s", k->path, strerror(errno));
		rc = CS_EIO;
		goto out;
	}
	k->fd = -1;
	rc = 0;
out:
	BIO_free(b);
	return rc;
}

void
cs_ctl_pki_keyfile_keep(struct cs_ctl_pki_keyfile *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free(k->path);
	k->path = NULL;
}

void
cs_ctl_pki_keyfile_remove(struct cs_ctl_pki_keyfile *k)
{
	if (k->path != NULL)
		unlink(k->path);
	cs_ctl_pki_keyfile_keep(k);
}

void
cs_ctl_pki_keyfile_end(struct cs_ctl_pki_keyfile *k, bool ok, bool sent,
    int status, const char *maybe_text)
{
	if (k->path != NULL && !ok) {
		if (!sent || (status >= 400 && status <= 499)) {
			cs_ctl_pki_keyfile_remove(k);
			return;
		}
		fprintf(stderr, "certctl: the key stays in %s: %s\n", k->path,
		    maybe_text);
	}
	cs_ctl_pki_keyfile_keep(k);
}

/* ---- requests and certificates ---- */

static const EVP_MD *
digest_for(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
		return NULL;
	if (id == EVP_PKEY_EC && EVP_PKEY_get_bits(key) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

static int
add_names(GENERAL_NAMES *gens, int type, const struct cs_strv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();

		if (g == NULL)
			return -1;
		if (type == GEN_IPADD) {
			ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v->v[i]);

			if (ip == NULL) {
				GENERAL_NAME_free(g);
				return -1;
			}
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			if (s == NULL || ASN1_STRING_set(s, v->v[i],
					     (int)strlen(v->v[i])) != 1) {
				ASN1_IA5STRING_free(s);
				GENERAL_NAME_free(g);
				return -1;
			}
			GENERAL_NAME_set0_value(g, type, s);
		}
		if (sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			return -1;
		}
	}
	return 0;
}

int
cs_ctl_pki_csr(EVP_PKEY *key, const uint8_t *subject, size_t subject_len,
    const struct cs_names *sans, char **pem, char *errmsg)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	BIO *b = NULL;
	BUF_MEM *mem;
	int rc = CS_ECRYPTO;

	ERR_clear_error();
	req = X509_REQ_new();
	if (req == NULL || X509_REQ_set_version(req, 0) != 1)
		goto out;
	if (subject != NULL) {
		const unsigned char *p = subject;

		name = d2i_X509_NAME(NULL, &p, (long)subject_len);
		if (name == NULL || X509_REQ_set_subject_name(req, name) != 1)
			goto out;
	}
	if (X509_REQ_set_pubkey(req, key) != 1)
		goto out;
	if (sans != NULL && cs_names_count(sans) > 0) {
		gens = sk_GENERAL_NAME_new_null();
		if (gens == NULL || add_names(gens, GEN_DNS, &sans->dns) < 0 ||
		    add_names(gens, GEN_IPADD, &sans->ip) < 0 ||
		    add_names(gens, GEN_URI, &sans->uri) < 0 ||
		    add_names(gens, GEN_EMAIL, &sans->email) < 0) {
			cs_x509__crypto_errmsg(errmsg,
			    "subject alternative names");
			rc = CS_EINVAL;
			goto out2;
		}
		/* critical when the subject is empty (RFC 5280 4.2.1.6) */
		ext =
		    X509V3_EXT_i2d(NID_subject_alt_name, subject == NULL, gens);
		exts = sk_X509_EXTENSION_new_null();
		if (ext == NULL || exts == NULL ||
		    sk_X509_EXTENSION_push(exts, ext) <= 0)
			goto out;
		ext = NULL;
		if (X509_REQ_add_extensions(req, exts) != 1)
			goto out;
	}
	if (X509_REQ_sign(req, key, digest_for(key)) <= 0)
		goto out;
	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_X509_REQ(b, req) != 1)
		goto out;
	BIO_get_mem_ptr(b, &mem);
	*pem = cs_malloc(mem->length + 1);
	memcpy(*pem, mem->data, mem->length);
	(*pem)[mem->length] = '\0';
	rc = 0;
out:
	if (rc < 0)
		cs_x509__crypto_errmsg(errmsg, "certificate request");
out2:
	BIO_free(b);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

int
cs_ctl_pki_self_signed(EVP_PKEY *key, const uint8_t *subject,
    size_t subject_len, int64_t not_before, int64_t not_after, int path_len,
    const uint8_t rnd[20], struct cs_buf *der, char *errmsg)
{
	struct cs_issue_params p = {0};
	struct cs_issue_ca ca;
	struct cs_signer signer;
	struct cs_serial sn;
	uint8_t ski[20];
	int rc;

	rc = cs_signer_init(&signer, key, errmsg);
	if (rc < 0)
		return rc;
	rc = cs_issue_ski(signer.spki, signer.spki_len, ski);
	if (rc < 0) {
		cs_errmsg_printf(errmsg, "the key's SubjectPublicKeyInfo");
		goto out;
	}
	cs_serial_from_random(&sn, rnd, 20);
	p.subject = subject;
	p.subject_len = subject_len;
	p.spki = signer.spki;
	p.spki_len = signer.spki_len;
	p.serial = &sn;
	p.not_before = not_before;
	p.not_after = not_after;
	p.ca = true;
	p.path_len = path_len;
	p.key_usage =
	    CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN | CS_KU_DIGITAL_SIGNATURE;
	ca = (struct cs_issue_ca){subject, subject_len, ski, sizeof ski,
	    &signer};
	rc = cs_issue_build(&p, &ca, der, errmsg);
out:
	cs_signer_close(&signer);
	return rc;
}
