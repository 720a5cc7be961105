#include "node/config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/text.h"

enum vtype {
	V_STR,  /* char[size] */
	V_UINT, /* unsigned, 0..max */
	V_U64,
	V_BOOL,
	V_DURATION, /* int64 seconds: "30d", "1h" */
	V_ADDR,     /* char[size], "a.b.c.d:port" */
	V_URL       /* char[size], http:// or https:// */
};

struct key {
	const char *name;
	enum vtype type;
	size_t off;
	size_t size; /* V_STR/V_ADDR/V_URL: buffer size */
	uint64_t max;
	const char *def; /* default, as text; NULL: none */
	bool required;
};

#define F(f) offsetof(struct cs_config, f), sizeof(((struct cs_config *)0)->f)

/* The one table of settings and their defaults. */
static const struct key keys[] = {
    {"node-id", V_U64, F(node_id), UINT32_MAX, NULL, true},
    {"raft-address", V_ADDR, F(raft_address), 0, NULL, true},
    {"data-dir", V_STR, F(data_dir), 0, NULL, true},
    {"site", V_STR, F(site), 0, "default", false},
    {"log-level", V_STR, F(log_level), 0, "info", false},
    {"api-listen", V_ADDR, F(api_listen), 0, NULL, true},
    {"public-listen", V_ADDR, F(public_listen), 0, "", false},
    {"http-listen", V_ADDR, F(http_listen), 0, "", false},
    {"api-url", V_URL, F(api_url), 0, "", false},
    {"public-url", V_URL, F(public_url), 0, "", false},
    {"http-url", V_URL, F(http_url), 0, "", false},
    {"tls-cert", V_STR, F(tls_cert), 0, NULL, true},
    {"tls-key", V_STR, F(tls_key), 0, NULL, true},
    {"client-ca", V_STR, F(client_ca), 0, NULL, true},
    {"cluster-ca", V_STR, F(cluster_ca), 0, "", false},
    {"admin-identity", V_STR, F(admin_identity), 0, "", false},
    {"election-timeout-ms", V_UINT, F(election_timeout_ms), 600000, "1000",
	false},
    {"heartbeat-timeout-ms", V_UINT, F(heartbeat_timeout_ms), 60000, "100",
	false},
    {"snapshot-threshold", V_UINT, F(snapshot_threshold), 1u << 30, "65536",
	false},
    {"snapshot-trailing", V_UINT, F(snapshot_trailing), 1u << 30, "8192",
	false},
    {"snapshot-compression", V_BOOL, F(snapshot_compression), 0, "yes", false},
    {"install-snapshot-timeout-ms", V_UINT, F(install_snapshot_timeout_ms),
	3600000, "120000", false},
    {"segment-size", V_U64, F(segment_size), 1ull << 30, "8388608", false},
    {"raft-trace", V_BOOL, F(raft_trace), 0, "no", false},
    {"raft-kernel-aio", V_BOOL, F(raft_kernel_aio), 0, "no", false},
    {"write-timeout-ms", V_UINT, F(write_timeout_ms), 600000, "10000", false},
    {"forward-timeout-ms", V_UINT, F(forward_timeout_ms), 600000, "5000",
	false},
    {"forward-batch", V_UINT, F(forward_batch), 64, "32", false},
    {"max-connections", V_UINT, F(max_connections), 1000000, "1024", false},
    {"max-body-bytes", V_U64, F(max_body_bytes), 1ull << 30, "8388608", false},
    {"max-header-bytes", V_UINT, F(max_header_bytes), 1u << 20, "16384", false},
    {"header-timeout-ms", V_UINT, F(header_timeout_ms), 600000, "10000", false},
    {"body-timeout-ms", V_UINT, F(body_timeout_ms), 600000, "30000", false},
    {"idle-timeout-ms", V_UINT, F(idle_timeout_ms), 3600000, "60000", false},
    {"ocsp-staleness", V_DURATION, F(ocsp_staleness), 0, "1h", false},
    {"crl-interval", V_DURATION, F(crl_interval), 0, "1h", false},
    {"crl-validity", V_DURATION, F(crl_validity), 0, "2h", false},
    {"crl-delay", V_DURATION, F(crl_delay), 0, "2s", false},
    {"pkcs11-module", V_STR, F(pkcs11_module), 0,
	"/usr/lib/softhsm/libsofthsm2.so", false},
};
#undef F

#define NKEYS (sizeof keys / sizeof keys[0])

static bool
valid_addr(const char *s)
{
	unsigned a, b, c, d, port;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail) != 5)
		return false;
	return a < 256 && b < 256 && c < 256 && d < 256 && port < 65536;
}

static bool
valid_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Stores text into the field of k. 0 or CS_EINVAL with a message. */
static int
set_value(const struct key *k, struct cs_config *c, const char *v, char *errmsg)
{
	char *field = (char *)c + k->off;
	char *end;
	unsigned long long u;
	int64_t d;

	switch (k->type) {
	case V_ADDR:
	case V_URL:
	case V_STR:
		if (k->type == V_ADDR && v[0] != '\0' && !valid_addr(v)) {
			cs_errmsg_printf(errmsg,
			    "%s: \"%s\" is not an IPv4 address:port", k->name,
			    v);
			return CS_EINVAL;
		}
		if (k->type == V_URL && v[0] != '\0' && !valid_url(v)) {
			cs_errmsg_printf(errmsg,
			    "%s: \"%s\" is not an http(s):// URL", k->name, v);
			return CS_EINVAL;
		}
		if (strlen(v) >= k->size) {
			cs_errmsg_printf(errmsg, "%s: value too long (max %zu)",
			    k->name, k->size - 1);
			return CS_EINVAL;
		}
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case V_UINT:
	case V_U64:
		if (!isdigit((unsigned char)v[0]))
			goto bad_number;
		u = strtoull(v, &end, 10);
		if (*end != '\0' || u > k->max)
			goto bad_number;
		if (k->type == V_UINT)
			*(unsigned *)(void *)field = (unsigned)u;
		else
			*(uint64_t *)(void *)field = u;
		return 0;
	case V_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "on") == 0)
			*(bool *)field = true;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
			 strcmp(v, "off") == 0)
			*(bool *)field = false;
		else {
			cs_errmsg_printf(errmsg, "%s: \"%s\" is not yes or no",
			    k->name, v);
			return CS_EINVAL;
		}
		return 0;
	case V_DURATION:
		if (cs_duration_parse(v, &d) < 0) {
			cs_errmsg_printf(errmsg,
			    "%s: \"%s\" is not a duration (like 30d, 12h, "
			    "90m)",
			    k->name, v);
			return CS_EINVAL;
		}
		*(int64_t *)(void *)field = d;
		return 0;
	}
bad_number:
	cs_errmsg_printf(errmsg, "%s: \"%s\" is not a number in 0..%llu",
	    k->name, v, (unsigned long long)k->max);
	return CS_EINVAL;
}

void
cs_config_defaults(struct cs_config *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].def != NULL)
			set_value(&keys[i], out, keys[i].def, NULL);
	}
}

#define MAX_WORDS 8
#define MAX_LINE  4096

/* Splits a line into words (quotes group, # comments). Returns the word
 * count or -1 with a message. Words point into buf. */
static int
split(const char *line, size_t len, char *buf, char **words, char *errmsg)
{
	size_t i = 0, o = 0;
	int n = 0;

	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len || line[i] == '#')
			break;
		if (n == MAX_WORDS) {
			cs_errmsg_printf(errmsg, "too many words");
			return -1;
		}
		words[n++] = buf + o;
		if (line[i] == '"') {
			i++;
			while (i < len && line[i] != '"') {
				if (line[i] == '\\' && i + 1 < len)
					i++;
				buf[o++] = line[i++];
			}
			if (i >= len) {
				cs_errmsg_printf(errmsg, "unterminated quote");
				return -1;
			}
			i++;
		} else {
			while (i < len && line[i] != ' ' && line[i] != '\t' &&
			       line[i] != '#')
				buf[o++] = line[i++];
		}
		buf[o++] = '\0';
	}
	return n;
}

static int
parse_member(struct cs_config *c, char **w, int n, char *errmsg)
{
	struct cs_config_member *m;
	char *end;
	unsigned long long id;

	if (n < 5 || n > 7) {
		cs_errmsg_printf(errmsg,
		    "member: expected ID RAFT_ADDRESS API_URL SITE "
		    "[HTTP_URL [PUBLIC_URL]]");
		return CS_EINVAL;
	}
	if (c->nmembers == CS_CONFIG_MAX_MEMBERS) {
		cs_errmsg_printf(errmsg, "member: more than %d members",
		    CS_CONFIG_MAX_MEMBERS);
		return CS_EINVAL;
	}
	id = strtoull(w[1], &end, 10);
	if (!isdigit((unsigned char)w[1][0]) || *end != '\0' || id == 0 ||
	    id > UINT32_MAX) {
		cs_errmsg_printf(errmsg, "member: bad id \"%s\"", w[1]);
		return CS_EINVAL;
	}
	if (cs_config_member(c, id) != NULL) {
		cs_errmsg_printf(errmsg, "member: id %llu listed twice", id);
		return CS_EINVAL;
	}
	for (size_t i = 0; i < c->nmembers; i++) {
		if (strcmp(c->members[i].raft_address, w[2]) == 0) {
			cs_errmsg_printf(errmsg,
			    "member: raft address %s listed twice", w[2]);
			return CS_EINVAL;
		}
	}
	if (!valid_addr(w[2])) {
		cs_errmsg_printf(errmsg,
		    "member: \"%s\" is not an IPv4 address:port", w[2]);
		return CS_EINVAL;
	}
	for (int i = 3; i < n; i++) {
		if (i != 4 && !valid_url(w[i])) {
			cs_errmsg_printf(errmsg,
			    "member: \"%s\" is not an http(s):// URL", w[i]);
			return CS_EINVAL;
		}
		if (strlen(w[i]) >= CS_CONFIG_STR) {
			cs_errmsg_printf(errmsg, "member: value too long");
			return CS_EINVAL;
		}
	}
	if (strlen(w[2]) >= sizeof m->raft_address ||
	    strlen(w[4]) >= sizeof m->site) {
		cs_errmsg_printf(errmsg, "member: value too long");
		return CS_EINVAL;
	}
	m = &c->members[c->nmembers++];
	memset(m, 0, sizeof *m);
	m->id = id;
	strcpy(m->raft_address, w[2]);
	strcpy(m->api_url, w[3]);
	strcpy(m->site, w[4]);
	if (n > 5)
		strcpy(m->http_url, w[5]);
	if (n > 6)
		strcpy(m->public_url, w[6]);
	return 0;
}

/* Checks across settings, after the whole file was read. */
static int
validate(struct cs_config *c, const bool *seen, char *errmsg)
{
	enum cs_log_level level;
	const struct cs_config_member *self;

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].required && !seen[i]) {
			cs_errmsg_printf(errmsg, "missing required setting %s",
			    keys[i].name);
			return CS_EINVAL;
		}
	}
	if (c->node_id == 0) {
		cs_errmsg_printf(errmsg, "node-id must be 1 or more");
		return CS_EINVAL;
	}
	if (cs_log_level_parse(c->log_level, &level) < 0) {
		cs_errmsg_printf(errmsg,
		    "log-level: \"%s\" is not err, warn, info or debug",
		    c->log_level);
		return CS_EINVAL;
	}
	if (c->heartbeat_timeout_ms == 0 ||
	    c->heartbeat_timeout_ms * 2 > c->election_timeout_ms) {
		/* raft only asserts this, and its asserts are compiled out */
		cs_errmsg_printf(errmsg,
		    "heartbeat-timeout-ms (%u) must be at most half of "
		    "election-timeout-ms (%u)",
		    c->heartbeat_timeout_ms, c->election_timeout_ms);
		return CS_EINVAL;
	}
	self = cs_config_member(c, c->node_id);
	if (self != NULL && strcmp(self->raft_address, c->raft_address) != 0) {
		cs_errmsg_printf(errmsg,
		    "member %llu has raft address %s but raft-address is %s",
		    (unsigned long long)c->node_id, self->raft_address,
		    c->raft_address);
		return CS_EINVAL;
	}
	/* advertised URLs: this node's member line, else the listens */
	if (c->api_url[0] == '\0' && self != NULL)
		strcpy(c->api_url, self->api_url);
	if (c->api_url[0] == '\0')
		snprintf(c->api_url, sizeof c->api_url, "https://%s",
		    c->api_listen);
	if (c->http_url[0] == '\0' && self != NULL)
		strcpy(c->http_url, self->http_url);
	if (c->http_url[0] == '\0' && c->http_listen[0] != '\0')
		snprintf(c->http_url, sizeof c->http_url, "http://%s",
		    c->http_listen);
	if (c->public_url[0] == '\0' && self != NULL)
		strcpy(c->public_url, self->public_url);
	if (c->public_url[0] == '\0' && c->public_listen[0] != '\0')
		snprintf(c->public_url, sizeof c->public_url, "https://%s",
		    c->public_listen);
	if (self != NULL && strcmp(c->site, "default") == 0)
		strcpy(c->site, self->site);
	return 0;
}

int
cs_config_parse(const char *text, size_t len, struct cs_config *out,
    char *errmsg)
{
	bool seen[NKEYS] = {false};
	size_t pos = 0;
	unsigned lineno = 0;
	char buf[MAX_LINE + MAX_WORDS];

	cs_config_defaults(out);
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		char *w[MAX_WORDS];
		int n;
		size_t k;

		pos += llen + (nl != NULL ? 1 : 0);
		lineno++;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > MAX_LINE) {
			cs_errmsg_printf(errmsg,
			    "line %u: longer than %d bytes", lineno, MAX_LINE);
			return CS_ETOOBIG;
		}
		if (memchr(line, '\0', llen) != NULL) {
			cs_errmsg_printf(errmsg, "line %u: NUL byte", lineno);
			return CS_EINVAL;
		}
		n = split(line, llen, buf, w, errmsg);
		if (n < 0)
			goto bad_line;
		if (n == 0)
			continue;
		if (strcmp(w[0], "member") == 0) {
			if (parse_member(out, w, n, errmsg) < 0)
				goto bad_line;
			continue;
		}
		for (k = 0; k < NKEYS; k++) {
			if (strcmp(keys[k].name, w[0]) == 0)
				break;
		}
		if (k == NKEYS) {
			cs_errmsg_printf(errmsg, "unknown setting \"%s\"",
			    w[0]);
			goto bad_line;
		}
		if (n != 2) {
			cs_errmsg_printf(errmsg, "%s: expected one value",
			    w[0]);
			goto bad_line;
		}
		if (seen[k]) {
			cs_errmsg_printf(errmsg, "%s: set twice", w[0]);
			goto bad_line;
		}
		seen[k] = true;
		if (set_value(&keys[k], out, w[1], errmsg) < 0)
			goto bad_line;
	}
	return validate(out, seen, errmsg);
bad_line:
	cs_errmsg_wrapf(errmsg, "line %u", lineno);
	return CS_EINVAL;
}

const struct cs_config_member *
cs_config_member(const struct cs_config *c, uint64_t id)
{
	for (size_t i = 0; i < c->nmembers; i++) {
		if (c->members[i].id == id)
			return &c->members[i];
	}
	return NULL;
}
