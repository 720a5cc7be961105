/*
 * keys.c - CA key references: PEM files and PKCS#11 through the engine.
 *
 * libengine-pkcs11-openssl is an ENGINE, an API that OpenSSL 3.0 marks
 * deprecated but keeps; Debian 12 has no PKCS#11 provider. The engine is
 * loaded once, on first use, and kept.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "api/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cert/x509.h"
#include "lib/error.h"
#include "lib/mem.h"

static char *pkcs11_module;
static ENGINE *engine;

void
cs_keys_set_pkcs11_module(const char *path)
{
	free(pkcs11_module);
	pkcs11_module =
	    path != NULL && path[0] != '\0' ? cs_strdup(path) : NULL;
}

/* Opens a secret the service user alone may read (a key or a PIN file):
 * the stream, or NULL with *rc and errmsg set. */
static FILE *
open_private(const char *path, const char *what, int *rc, char *errmsg)
{
	struct stat st;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		cs_errmsg_printf(errmsg, "%s %s: %s", what, path,
		    strerror(errno));
		*rc = errno == ENOENT ? CS_ENOTFOUND : CS_EPERM;
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		cs_errmsg_printf(errmsg, "%s %s: not a regular file", what,
		    path);
		*rc = CS_EINVAL;
		return NULL;
	}
	if (st.st_mode & 077) {
		fclose(f);
		cs_errmsg_printf(errmsg,
		    "%s %s: mode %03o lets others read it; chmod 600 "
		    "(readable by the service user only)",
		    what, path, (unsigned)(st.st_mode & 0777));
		*rc = CS_EPERM;
		return NULL;
	}
	return f;
}

static int
load_file(const char *path, EVP_PKEY **out, char *errmsg)
{
	EVP_PKEY *key;
	FILE *f;
	int rc;

	f = open_private(path, "key file", &rc, errmsg);
	if (f == NULL)
		return rc;
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL) {
		cs_x509__crypto_errmsg(errmsg, "key file: no readable private "
					       "key");
		return CS_ECRYPTO;
	}
	*out = key;
	return 0;
}

#define PIN_MAX 256

/*
 * pin-source=file:PATH in a PKCS#11 URI's query: the PIN is read here (the
 * file must be private; one trailing newline is not part of the PIN, as
 * "echo 1234 > hsm.pin" writes it) and handed to the engine, and *uri is
 * the reference without that attribute. Without one, *uri is a copy of
 * ref and pin is empty.
 */
static int
pin_source(const char *ref, char **uri, char *pin, char *errmsg)
{
	const char *q = strchr(ref, '?'), *a, *end;
	char path[4096];
	size_t n, plen;
	FILE *f;
	int rc;

	pin[0] = '\0';
	a = q != NULL ? strstr(q, "pin-source=") : NULL;
	if (a == NULL || (a[-1] != '?' && a[-1] != '&')) {
		*uri = cs_strdup(ref);
		return 0;
	}
	end = a + strcspn(a, "&");
	plen = (size_t)(end - a) - strlen("pin-source=");
	if (plen <= 5 || strncmp(a + strlen("pin-source="), "file:", 5) != 0 ||
	    plen - 5 >= sizeof path) {
		cs_errmsg_printf(errmsg,
		    "key_ref: pin-source takes file:/path (a file with the "
		    "PIN, mode 600)");
		return CS_EINVAL;
	}
	memcpy(path, a + strlen("pin-source=") + 5, plen - 5);
	path[plen - 5] = '\0';
	f = open_private(path, "PIN file", &rc, errmsg);
	if (f == NULL)
		return rc;
	n = fread(pin, 1, PIN_MAX - 1, f);
	fclose(f);
	pin[n] = '\0';
	if (n > 0 && pin[n - 1] == '\n')
		pin[--n] = '\0';
	if (n > 0 && pin[n - 1] == '\r')
		pin[--n] = '\0';
	if (n == 0 || n == PIN_MAX - 1 || strlen(pin) != n ||
	    strchr(pin, '\n') != NULL) {
		OPENSSL_cleanse(pin, PIN_MAX);
		cs_errmsg_printf(errmsg,
		    "PIN file %s: one line with the PIN (1 to %d bytes)", path,
		    PIN_MAX - 2);
		return CS_EINVAL;
	}
	/* the URI without the attribute (and its separator) */
	n = strlen(ref);
	*uri = cs_malloc(n + 1);
	if (*end == '&')
		end++;
	else
		a--; /* the last attribute: drop the '&' or '?' before it */
	memcpy(*uri, ref, (size_t)(a - ref));
	strcpy(*uri + (a - ref), end);
	return 0;
}

static int
engine_start(char *errmsg)
{
	const char *module =
	    pkcs11_module != NULL ? pkcs11_module : CS_PKCS11_MODULE_DEFAULT;
	ENGINE *e;

	if (engine != NULL)
		return 0;
	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (e == NULL) {
		cs_x509__crypto_errmsg(errmsg,
		    "pkcs11: no PKCS#11 engine (install "
		    "libengine-pkcs11-openssl)");
		return CS_ECRYPTO;
	}
	if (ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1 ||
	    ENGINE_init(e) != 1) {
		cs_x509__crypto_errmsg(errmsg, "pkcs11: engine with module");
		cs_errmsg_wrapf(errmsg, "%s", module);
		ENGINE_free(e);
		return CS_ECRYPTO;
	}
	engine = e;
	return 0;
}

int
cs_keys_load(const char *ref, EVP_PKEY **out, char *errmsg)
{
	char pin[PIN_MAX], *uri;
	EVP_PKEY *key;
	int rc;

	ERR_clear_error();
	if (strncmp(ref, "file:", 5) == 0) {
		if (ref[5] != '/') {
			cs_errmsg_printf(errmsg,
			    "key_ref \"%s\": file: takes an absolute path",
			    ref);
			return CS_EINVAL;
		}
		rc = load_file(ref + 5, out, errmsg);
		ERR_clear_error();
		return rc;
	}
	if (strncmp(ref, "pkcs11:", 7) != 0) {
		cs_errmsg_printf(errmsg,
		    "key_ref: file:/path or a pkcs11: URI, not \"%.40s\"", ref);
		return CS_EINVAL;
	}
	rc = engine_start(errmsg);
	if (rc < 0)
		return rc;
	rc = pin_source(ref, &uri, pin, errmsg);
	if (rc < 0)
		return rc;
	if (pin[0] != '\0' &&
	    ENGINE_ctrl_cmd_string(engine, "PIN", pin, 0) != 1) {
		OPENSSL_cleanse(pin, sizeof pin);
		free(uri);
		cs_x509__crypto_errmsg(errmsg,
		    "pkcs11: the engine took no PIN");
		return CS_ECRYPTO;
	}
	OPENSSL_cleanse(pin, sizeof pin);
	key = ENGINE_load_private_key(engine, uri, NULL, NULL);
	free(uri);
	/* the engine forgets the PIN (it stays logged in to the token) */
	ENGINE_ctrl_cmd(engine, "PIN", 0, NULL, NULL, 0);
	if (key == NULL) {
		cs_x509__crypto_errmsg(errmsg, "pkcs11: no such key, or the "
					       "token refused");
		return CS_ECRYPTO;
	}
	ERR_clear_error();
	*out = key;
	return 0;
}

void
cs_keys_cleanup(void)
{
	if (engine != NULL) {
		ENGINE_finish(engine);
		ENGINE_free(engine);
		engine = NULL;
	}
	free(pkcs11_module);
	pkcs11_module = NULL;
}
