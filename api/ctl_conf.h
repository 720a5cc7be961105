/*
 * ctl_conf.h - where certctl's settings come from.
 *
 * Precedence, highest first:
 *   1. flags: --url, --node N, --cacert, --cert, --key;
 *   2. the environment: CERTCTL_URL, CERTCTL_CACERT, CERTCTL_CERT,
 *      CERTCTL_KEY, then the names deploy/cluster.sh writes: NODE1_API,
 *      CLUSTER_CACERT, ADMIN_CERT, ADMIN_KEY;
 *   3. a file of KEY=VALUE lines with the same names: --config F, else
 *      $CERTCTL_CONFIG, else ./var/cluster.env when it exists, else
 *      ~/.config/certctl/config when it exists.
 * --node N picks NODE<N>_API from the environment, else from the file
 * (a `. var/cluster.env` in the shell and the file itself agree).
 *
 * The plain-HTTP URL of the public objects (CRLs, OCSP, CA certificates:
 * what relying parties fetch) goes with the API URL: --http-url, else the
 * name that pairs with the one the API URL came from, in the same place
 * (CERTCTL_HTTP_URL with CERTCTL_URL, NODE<N>_HTTP with NODE<N>_API);
 * none when the API URL was a flag or has no pair (the API URL serves
 * those objects too).
 *
 * The file format is what var/cluster.env holds: KEY=VALUE, blank lines
 * and # comments; a leading "export " and quotes around the value are
 * accepted so that a file written for a shell works too. Relative paths
 * in a file are relative to the file's directory, so a file can travel
 * with its certificates.
 */
#ifndef CS_CTL_CONF_H
#define CS_CTL_CONF_H

#include <stddef.h>

struct cs_ctl_conf_file {
	char *path; /* NULL when no file was read */
	size_t n;
	struct cs_ctl_conf_kv {
		char *key;
		char *value;
	} * kv;
};

/* Parses KEY=VALUE text into *out (new; cs_ctl_conf_file_close()).
 * CS_EINVAL with the line number in errmsg for a line that is not
 * blank, a comment or KEY=VALUE. Pure. */
int cs_ctl_conf_file_parse(const char *text, size_t len,
    struct cs_ctl_conf_file *out, char *errmsg);
void cs_ctl_conf_file_close(struct cs_ctl_conf_file *f);
/* The last value of key, a view valid until close; NULL when absent. */
const char *cs_ctl_conf_file_get(const struct cs_ctl_conf_file *f,
    const char *key);

/* What the flags said; NULL (0 for node) when not given. */
struct cs_ctl_conf_flags {
	const char *config;
	const char *url;
	long node; /* 1-based, 0: not given */
	const char *http_url;
	const char *cacert;
	const char *cert;
	const char *key;
};

struct cs_ctl_conf {
	/* the resolved settings; NULL when no source had them (the url
	 * is never NULL after a successful resolve) */
	const char *url;
	const char *http_url; /* may be NULL */
	const char *cacert;
	const char *cert;
	const char *key;
	/* private */
	struct cs_ctl_conf_file file;
	char *owned[3]; /* file paths made absolute */
};

/* Reads the configuration file (if any), then resolves every setting by
 * the precedence above. Reads the environment and the file system.
 * CS_EINVAL with errmsg for an explicit file that cannot be read, a file
 * that does not parse, --node N without a NODE<N>_API, or no URL at all.
 * Close *c with cs_ctl_conf_close() in any case. */
int cs_ctl_conf_resolve(struct cs_ctl_conf *c,
    const struct cs_ctl_conf_flags *flags, char *errmsg);
void cs_ctl_conf_close(struct cs_ctl_conf *c);

#endif
