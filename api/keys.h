/*
 * keys.h - resolve a CA key reference to a private key on this node.
 *
 * Keys never enter the log, a snapshot or an API response: an issuer
 * document carries a reference that each node resolves for itself.
 *
 *   file:/var/lib/certstore/keys/local-ca.key
 *       a PEM private key (PKCS#8 or traditional), unencrypted, in a file
 *       that only its owner may read: a file that the group or others can
 *       read or write is refused.
 *   pkcs11:token=certstore;object=local-ca;type=private?pin-value=1234
 *       a key in an HSM (RFC 7512 URI; pin-value or pin-source), through
 *       the PKCS#11 engine of libengine-pkcs11-openssl and the module
 *       configured as pkcs11-module (SoftHSM2 by default).
 *
 * Blocking I/O: called when an issuer is first used or changes, which is
 * rare; an HSM login takes a few milliseconds.
 */
#ifndef CS_API_KEYS_H
#define CS_API_KEYS_H

struct evp_pkey_st;

#define CS_PKCS11_MODULE_DEFAULT "/usr/lib/softhsm/libsofthsm2.so"

/* Sets the PKCS#11 module (a copy is kept); NULL or "" for the default.
 * Call before the first pkcs11: reference is loaded. */
void cs_keys_set_pkcs11_module(const char *path);

/* Loads the private key ref names. 0 with *out new (EVP_PKEY_free()), or
 * CS_EINVAL (a reference of no known kind), CS_EPERM (file permissions),
 * CS_ENOTFOUND, CS_ECRYPTO (unreadable key, engine or token failure),
 * with errmsg. */
int cs_keys_load(const char *ref, struct evp_pkey_st **out, char *errmsg);

/* Frees the engine, at exit. */
void cs_keys_cleanup(void);

#endif
