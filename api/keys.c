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

static int
load_file(const char *path, EVP_PKEY **out, char *errmsg)
{
	struct stat st;
	EVP_PKEY *key;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		cs_errmsg_printf(errmsg, "key file %s: %s", path,
		    strerror(errno));
		return errno == ENOENT ? CS_ENOTFOUND : CS_EPERM;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		cs_errmsg_printf(errmsg, "key file %s: not a regular file",
		    path);
		return CS_EINVAL;
	}
	if (st.st_mode & 077) {
		fclose(f);
		cs_errmsg_printf(errmsg,
		    "key file %s: mode %03o lets others read it; chmod 600 "
		    "(readable by the service user only)",
		    path, (unsigned)(st.st_mode & 0777));
		return CS_EPERM;
	}
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
	key = ENGINE_load_private_key(engine, ref, NULL, NULL);
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
