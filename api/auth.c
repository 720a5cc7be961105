/*
 * auth.c - client certificate -> identity -> roles.
 *
 * An identity is read from the TLS peer certificate with cert/x509 (its
 * RFC 4514 subject, its SANs, its SHA-256 fingerprint) and cached by
 * fingerprint, so a keep-alive connection pays for it once. A peer is a
 * node when its certificate chains to the cluster CA (checked here, apart
 * from the listener's own verification against the union of client and
 * cluster CAs); only a node may act for a forwarded client.
 *
 * Roles come from the replicated role bindings (CS_NS_ROLE documents,
 * keyed by "fp:<hex>", the subject, or "san:<value>"), plus admin for the
 * configured first admin. An identity may match several bindings; its
 * roles are their union.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "cert/doc.h"
#include "cert/pem.h"
#include "cert/x509.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/text.h"

static const struct {
	const char *name;
	unsigned bit;
} role_names[] = {
    {"auditor", CS_ROLE_AUDITOR},
    {"enroller", CS_ROLE_ENROLLER},
    {"operator", CS_ROLE_OPERATOR},
    {"admin", CS_ROLE_ADMIN},
};

const char *
cs_api__role_name(unsigned role)
{
	for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
		if (role_names[i].bit == role)
			return role_names[i].name;
	}
	return "none";
}

int
cs_api__role_parse(const char *name, unsigned *out)
{
	for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
		if (strcmp(role_names[i].name, name) == 0) {
			*out = role_names[i].bit;
			return 0;
		}
	}
	return CS_EINVAL;
}

int
cs_api__cluster_store_load(struct cs_api *api, char *errmsg)
{
	const char *file =
	    api->cfg.cluster_ca != NULL && api->cfg.cluster_ca[0] != '\0'
		? api->cfg.cluster_ca
		: api->cfg.client_ca;
	X509_STORE *st = X509_STORE_new();

	if (st == NULL || X509_STORE_load_file(st, file) != 1) {
		cs_errmsg_printf(errmsg, "cluster CA %s: cannot load", file);
		X509_STORE_free(st);
		return CS_EINVAL;
	}
	X509_STORE_free(api->cluster_store);
	api->cluster_store = st;
	return 0;
}

static bool
chains_to_cluster(struct cs_api *api, X509 *cert)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = false;

	if (ctx != NULL &&
	    X509_STORE_CTX_init(ctx, api->cluster_store, cert, NULL) == 1)
		ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	return ok;
}

static void
identity_free(struct cs_identity *id)
{
	free(id->subject);
	for (size_t i = 0; i < id->nsans; i++)
		free(id->sans[i]);
	free(id->sans);
	free(id->der_b64);
	free(id);
}

void
cs_api__identity_unref(struct cs_identity *id)
{
	if (id != NULL && --id->refs == 0)
		identity_free(id);
}

/* Builds an identity from DER; NULL when it does not parse. */
static struct cs_identity *
identity_from_der(const uint8_t *der, size_t len)
{
	struct cs_cert_info *ci = NULL;
	struct cs_identity *id;
	const struct cs_strv *lists[4];
	size_t n = 0;

	if (cs_x509_parse_der(der, len, &ci, NULL) < 0)
		return NULL;
	id = cs_calloc(1, sizeof *id);
	id->refs = 1;
	memcpy(id->fp, ci->fingerprint, 32);
	id->subject = ci->subject;
	ci->subject = NULL;
	lists[0] = &ci->sans.dns;
	lists[1] = &ci->sans.ip;
	lists[2] = &ci->sans.uri;
	lists[3] = &ci->sans.email;
	id->sans = cs_calloc(cs_names_count(&ci->sans) + 1, sizeof *id->sans);
	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; i < lists[l]->n; i++)
			id->sans[n++] = cs_strdup(lists[l]->v[i]);
	}
	id->nsans = n;
	id->der_b64 = cs_malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)id->der_b64, der, (int)len);
	cs_cert_info_free(ci);
	return id;
}

/* The cache: a small array scanned by fingerprint, least recently used
 * out. */
static struct cs_identity *
cache_get(struct cs_api *api, const uint8_t fp[32])
{
	for (size_t i = 0; i < CS_API_IDENTITY_CACHE; i++) {
		struct cs_identity *id = api->ids[i];

		if (id != NULL && memcmp(id->fp, fp, 32) == 0) {
			id->last_used = ++api->id_clock;
			id->refs++;
			return id;
		}
	}
	return NULL;
}

static void
cache_put(struct cs_api *api, struct cs_identity *id)
{
	size_t victim = 0;

	for (size_t i = 0; i < CS_API_IDENTITY_CACHE; i++) {
		if (api->ids[i] == NULL) {
			victim = i;
			break;
		}
		if (api->ids[i]->last_used < api->ids[victim]->last_used)
			victim = i;
	}
	cs_api__identity_unref(api->ids[victim]);
	id->refs++; /* the cache's */
	id->last_used = ++api->id_clock;
	api->ids[victim] = id;
}

struct cs_identity *
cs_api__identity(struct cs_api *api, X509 *cert)
{
	uint8_t fp[32];
	unsigned int n = sizeof fp;
	unsigned char *der = NULL;
	struct cs_identity *id;
	int len;

	if (X509_digest(cert, EVP_sha256(), fp, &n) != 1)
		return NULL;
	id = cache_get(api, fp);
	if (id != NULL)
		return id;
	len = i2d_X509(cert, &der);
	if (len <= 0)
		return NULL;
	id = identity_from_der(der, (size_t)len);
	OPENSSL_free(der);
	if (id == NULL)
		return NULL;
	id->node = chains_to_cluster(api, cert);
	cache_put(api, id);
	return id;
}

struct cs_identity *
cs_api__identity_b64(struct cs_api *api, const char *b64)
{
	uint8_t *der = NULL;
	size_t len = 0;
	struct cs_identity *id, *cached;
	uint8_t fp[32];

	if (cs_base64_decode((const uint8_t *)b64, strlen(b64), CS_X509_MAX_DER,
		&der, &len, NULL) < 0)
		return NULL;
	/* a forwarded client is never a node: it acts for itself only, so
	 * a cached identity that is a node's is not reused (nor replaced) */
	SHA256(der, len, fp);
	cached = cache_get(api, fp);
	if (cached != NULL && !cached->node) {
		free(der);
		return cached;
	}
	id = identity_from_der(der, len);
	free(der);
	if (id != NULL && cached == NULL)
		cache_put(api, id);
	cs_api__identity_unref(cached);
	return id;
}

void
cs_api__identities_free(struct cs_api *api)
{
	for (size_t i = 0; i < CS_API_IDENTITY_CACHE; i++) {
		cs_api__identity_unref(api->ids[i]);
		api->ids[i] = NULL;
	}
}

/* The roles one binding document gives. */
static unsigned
binding_roles(struct cs_store *s, const char *key)
{
	struct cs_role_binding b;
	const uint8_t *v;
	size_t len;
	unsigned bit = 0;

	v = cs_store_doc(s, CS_NS_ROLE, key, &len);
	if (v == NULL || cs_role_decode(v, len, &b, NULL) < 0)
		return 0;
	if (cs_api__role_parse(b.role, &bit) < 0)
		bit = 0;
	cs_role_close(&b);
	return bit;
}

static bool
matches(const struct cs_identity *id, const char *who)
{
	char hex[65];

	if (who == NULL || who[0] == '\0')
		return false;
	if (strcmp(who, id->subject) == 0)
		return true;
	if (strncmp(who, "fp:", 3) == 0) {
		cs_hex_encode(id->fp, 32, hex);
		return strcasecmp(who + 3, hex) == 0;
	}
	if (strncmp(who, "san:", 4) == 0) {
		for (size_t i = 0; i < id->nsans; i++) {
			if (strcasecmp(who + 4, id->sans[i]) == 0)
				return true;
		}
	}
	return false;
}

unsigned
cs_api__roles(struct cs_api *api, const struct cs_identity *id)
{
	struct cs_store *s = cs_api__store(api);
	char key[CS_CMD_MAX_STR];
	char hex[65];
	unsigned roles = 0;

	if (matches(id, api->cfg.admin_identity))
		roles |= CS_ROLE_ADMIN;
	cs_hex_encode(id->fp, 32, hex);
	snprintf(key, sizeof key, "fp:%s", hex);
	roles |= binding_roles(s, key);
	roles |= binding_roles(s, id->subject);
	for (size_t i = 0; i < id->nsans; i++) {
		snprintf(key, sizeof key, "san:%s", id->sans[i]);
		roles |= binding_roles(s, key);
	}
	return roles;
}
