/*
 * ctl_conf.c - certctl's settings: flags, environment, KEY=VALUE file
 * (ctl_conf.h).
 */
#include "api/ctl_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ctl_file.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

#define CONF_MAX (1024 * 1024)

static bool
is_key_char(int c, bool first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

int
cs_ctl_conf_file_parse(const char *text, size_t len,
    struct cs_ctl_conf_file *out, char *errmsg)
{
	struct cs_ctl_conf_file f = {0};
	const char *p = text, *end = text + len;
	unsigned line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol != NULL ? eol : end;
		const char *k, *v;
		size_t klen;

		p = eol != NULL ? eol + 1 : end;
		line++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if ((size_t)(e - s) > 7 && strncmp(s, "export", 6) == 0 &&
		    (s[6] == ' ' || s[6] == '\t')) {
			s += 7;
			while (s < e && isspace((unsigned char)*s))
				s++;
		}
		k = s;
		while (s < e && is_key_char((unsigned char)*s, s == k))
			s++;
		klen = (size_t)(s - k);
		if (klen == 0 || s == e || *s != '=') {
			cs_errmsg_printf(errmsg, "line %u: expected KEY=VALUE",
			    line);
			cs_ctl_conf_file_close(&f);
			return CS_EINVAL;
		}
		v = s + 1;
		/* the shell's quotes, when the whole value is quoted */
		if (e - v >= 2 && (*v == '"' || *v == '\'') && e[-1] == *v) {
			v++;
			e--;
		}
		f.kv = cs_reallocarray(f.kv, f.n + 1, sizeof *f.kv);
		f.kv[f.n].key = cs_strndup(k, klen);
		f.kv[f.n].value = cs_strndup(v, (size_t)(e - v));
		f.n++;
	}
	*out = f;
	return 0;
}

void
cs_ctl_conf_file_close(struct cs_ctl_conf_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->kv[i].key);
		free(f->kv[i].value);
	}
	free(f->kv);
	free(f->path);
	memset(f, 0, sizeof *f);
}

const char *
cs_ctl_conf_file_get(const struct cs_ctl_conf_file *f, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->kv[i].key, key) == 0)
			v = f->kv[i].value;
	}
	return v;
}

/* The file to read: the explicit one (reading it fails when it does not
 * exist) or the first default that exists. Returns new or NULL. */
static char *
choose_file(const struct cs_ctl_conf_flags *flags)
{
	const char *home = getenv("HOME");
	const char *env = getenv("CERTCTL_CONFIG");
	char path[4096];

	if (flags->config != NULL)
		return cs_strdup(flags->config);
	if (env != NULL && env[0] != '\0')
		return cs_strdup(env);
	if (access("var/cluster.env", F_OK) == 0)
		return cs_strdup("var/cluster.env");
	if (home != NULL && home[0] != '\0') {
		snprintf(path, sizeof path, "%s/.config/certctl/config", home);
		if (access(path, F_OK) == 0)
			return cs_strdup(path);
	}
	return NULL;
}

static int
load_file(struct cs_ctl_conf *c, const struct cs_ctl_conf_flags *flags,
    char *errmsg)
{
	struct cs_buf text;
	char *path = choose_file(flags);
	int rc;

	if (path == NULL)
		return 0;
	cs_buf_init(&text, CONF_MAX);
	rc = cs_ctl_file_read(path, CONF_MAX, &text, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "configuration file");
		rc = CS_EINVAL;
		goto out;
	}
	rc = cs_ctl_conf_file_parse((const char *)text.data, text.len, &c->file,
	    errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "%s", path);
		goto out;
	}
	c->file.path = path;
	path = NULL;
out:
	cs_buf_close(&text);
	free(path);
	return rc;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A path from the file, relative to the file's directory. */
static const char *
file_path(struct cs_ctl_conf *c, int slot, const char *v)
{
	const char *slash;
	size_t dlen;

	if (v == NULL || v[0] == '/' || c->file.path == NULL)
		return v;
	slash = strrchr(c->file.path, '/');
	if (slash == NULL)
		return v;
	dlen = (size_t)(slash - c->file.path);
	free(c->owned[slot]);
	c->owned[slot] = cs_malloc(dlen + 1 + strlen(v) + 1);
	memcpy(c->owned[slot], c->file.path, dlen);
	c->owned[slot][dlen] = '/';
	strcpy(c->owned[slot] + dlen + 1, v);
	return c->owned[slot];
}

/* flag, then the environment's names, then the file's names. */
static const char *
pick(struct cs_ctl_conf *c, int slot, const char *flag, const char *name,
    const char *cluster_name)
{
	const char *v;

	if (flag != NULL)
		return flag;
	v = env(name);
	if (v == NULL)
		v = env(cluster_name);
	if (v != NULL)
		return v;
	v = cs_ctl_conf_file_get(&c->file, name);
	if (v == NULL || v[0] == '\0')
		v = cs_ctl_conf_file_get(&c->file, cluster_name);
	if (v != NULL && v[0] == '\0')
		v = NULL;
	return slot >= 0 ? file_path(c, slot, v) : v;
}

/* The value of name: the environment's, else the file's; NULL when
 * neither has a non-empty one. *from_env tells which. */
static const char *
lookup(struct cs_ctl_conf *c, const char *name, bool *from_env)
{
	const char *v = env(name);

	*from_env = v != NULL;
	if (v == NULL)
		v = cs_ctl_conf_file_get(&c->file, name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The value of name in one place only: the environment or the file. */
static const char *
lookup_in(struct cs_ctl_conf *c, const char *name, bool in_env)
{
	const char *v =
	    in_env ? env(name) : cs_ctl_conf_file_get(&c->file, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The API URL and the plain-HTTP URL that goes with it: the pair under
 * matching names in the same place. */
static int
resolve_urls(struct cs_ctl_conf *c, const struct cs_ctl_conf_flags *flags,
    char *errmsg)
{
	static const char *const pairs[][2] = {{"CERTCTL_URL",
						   "CERTCTL_HTTP_URL"},
	    {"NODE1_API", "NODE1_HTTP"}};
	bool in_env;

	if (flags->url != NULL) {
		c->url = flags->url;
	} else if (flags->node > 0) {
		char name[32], http[32];

		snprintf(name, sizeof name, "NODE%ld_API", flags->node);
		snprintf(http, sizeof http, "NODE%ld_HTTP", flags->node);
		c->url = lookup(c, name, &in_env);
		if (c->url == NULL) {
			cs_errmsg_printf(errmsg,
			    "--node %ld: %s is not set (in the environment "
			    "or %s)",
			    flags->node, name,
			    c->file.path != NULL ? c->file.path
						 : "a configuration file");
			return CS_EINVAL;
		}
		c->http_url = lookup_in(c, http, in_env);
	} else {
		/* the environment's names, then the file's */
		for (int place = 0; place < 2 && c->url == NULL; place++) {
			for (size_t i = 0; i < 2 && c->url == NULL; i++) {
				c->url = lookup_in(c, pairs[i][0], place == 0);
				if (c->url != NULL)
					c->http_url = lookup_in(c, pairs[i][1],
					    place == 0);
			}
		}
	}
	if (c->url == NULL) {
		cs_errmsg_printf(errmsg,
		    "no server: give --url, set CERTCTL_URL, or run where "
		    "var/cluster.env is (deploy/cluster.sh up)");
		return CS_EINVAL;
	}
	if (flags->http_url != NULL)
		c->http_url = flags->http_url;
	return 0;
}

int
cs_ctl_conf_resolve(struct cs_ctl_conf *c,
    const struct cs_ctl_conf_flags *flags, char *errmsg)
{
	int rc;

	memset(c, 0, sizeof *c);
	rc = load_file(c, flags, errmsg);
	if (rc < 0)
		return rc;
	rc = resolve_urls(c, flags, errmsg);
	if (rc < 0)
		return rc;
	c->cacert =
	    pick(c, 0, flags->cacert, "CERTCTL_CACERT", "CLUSTER_CACERT");
	c->cert = pick(c, 1, flags->cert, "CERTCTL_CERT", "ADMIN_CERT");
	c->key = pick(c, 2, flags->key, "CERTCTL_KEY", "ADMIN_KEY");
	return 0;
}

void
cs_ctl_conf_close(struct cs_ctl_conf *c)
{
	cs_ctl_conf_file_close(&c->file);
	for (size_t i = 0; i < 3; i++)
		free(c->owned[i]);
	memset(c, 0, sizeof *c);
}
