/*
 * config.h - certstored's configuration: `key value` lines, parsed by a
 * pure function that reports errors with line numbers.
 *
 * Format: one setting per line, `#` starts a comment, values may be
 * double-quoted (to hold spaces; \" and \\ escape). `member` repeats:
 *
 *   member ID RAFT_ADDRESS API_URL SITE [HTTP_URL [PUBLIC_URL]]
 *
 * lists the initial members (identical on every initial node); a node
 * whose id is among them bootstraps the cluster on an empty data dir, any
 * other node waits to be added (POST /v1/cluster/members on the leader).
 * Defaults live in one table (config.c); deploy/certstored.conf documents
 * every key. The config is immutable after start; SIGHUP reloads only the
 * log level and the TLS key pair.
 *
 * Pure: no I/O.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_CONFIG_MAX_MEMBERS 9
#define CS_CONFIG_STR         512

struct cs_config_member {
	uint64_t id;
	char raft_address[64];
	char api_url[CS_CONFIG_STR];
	char site[64];
	char http_url[CS_CONFIG_STR];
	char public_url[CS_CONFIG_STR];
};

struct cs_config {
	uint64_t node_id;
	char raft_address[64]; /* a.b.c.d:port */
	char data_dir[CS_CONFIG_STR];
	char site[64];
	char log_level[16];

	/* listeners ("" disables the public and plain ones) */
	char api_listen[64];    /* mTLS API: ip:port */
	char public_listen[64]; /* HTTPS without client certs */
	char http_listen[64];   /* plain HTTP: OCSP, CRL, CA certs */
	/* how others reach this node (default: derived from the listens) */
	char api_url[CS_CONFIG_STR];
	char public_url[CS_CONFIG_STR];
	char http_url[CS_CONFIG_STR];

	/* TLS */
	char tls_cert[CS_CONFIG_STR]; /* this node's certificate (chain) */
	char tls_key[CS_CONFIG_STR];
	char client_ca[CS_CONFIG_STR];      /* CA of client certificates */
	char cluster_ca[CS_CONFIG_STR];     /* CA of node certificates */
	char admin_identity[CS_CONFIG_STR]; /* the first admin */

	/* raft tuning */
	unsigned election_timeout_ms;
	unsigned heartbeat_timeout_ms;
	unsigned snapshot_threshold;
	unsigned snapshot_trailing;
	bool snapshot_compression;
	unsigned install_snapshot_timeout_ms;
	uint64_t segment_size;
	bool raft_trace;
	bool raft_kernel_aio; /* RWF_NOWAIT appends (raft/kaio.c) */

	/* writes */
	unsigned write_timeout_ms;   /* retry deadline for a write */
	unsigned forward_timeout_ms; /* one forwarded attempt */
	unsigned forward_batch;      /* writes per forwarded batch, 0: off */

	/* HTTP caps and deadlines */
	unsigned max_connections;
	uint64_t max_body_bytes;
	unsigned max_header_bytes;
	unsigned header_timeout_ms;
	unsigned body_timeout_ms;
	unsigned idle_timeout_ms;

	/* status checks */
	int64_t ocsp_staleness; /* seconds without a leader before tryLater */
	int64_t crl_interval;   /* seconds between full CRLs */
	int64_t crl_validity;   /* a CRL's nextUpdate - thisUpdate */
	int64_t crl_delay;      /* revocations to a delta CRL */
	char pkcs11_module[CS_CONFIG_STR]; /* for pkcs11: key references */

	struct cs_config_member members[CS_CONFIG_MAX_MEMBERS];
	size_t nmembers;
};

/* Parses text (len bytes, need not be NUL-terminated) into *out, starting
 * from the defaults. On error returns CS_EINVAL (or CS_ETOOBIG) and
 * errmsg says "line N: ..."; *out is then unspecified. */
int cs_config_parse(const char *text, size_t len, struct cs_config *out,
    char *errmsg);

/* The defaults alone (what an empty file gives, before validation). */
void cs_config_defaults(struct cs_config *out);

/* The member entry for id, or NULL. */
const struct cs_config_member *cs_config_member(const struct cs_config *c,
    uint64_t id);

#endif
