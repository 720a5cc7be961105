/*
 * certctl.c - the command-line client of the certstore REST API
 * (docs/api.md): main(), the command list, global options, help.
 *
 *   certctl [global options] COMMAND [arguments] [options]
 *
 * Options may come before or after the command's words; "certctl
 * COMMAND -h" explains one command. The exit statuses are in ctl.h; the
 * settings' sources and their precedence in ctl_conf.h.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/ctl.h"
#include "api/ctl_admin.h"
#include "api/ctl_args.h"
#include "api/ctl_ca.h"
#include "api/ctl_certs.h"
#include "api/ctl_cluster.h"
#include "api/ctl_conf.h"
#include "api/ctl_import.h"
#include "api/ctl_issue.h"
#include "api/ctl_status.h"
#include "lib/error.h"

#define DEFAULT_TIMEOUT "30s"

static const struct cs_ctl_opt global_opts[] = {
    {"url", 0, "URL", false, "the node to ask (https://host:port)"},
    {"node", 0, "N", false,
	"the node NODE<N>_API of the environment or config file"},
    {"config", 0, "FILE", false,
	"settings file (KEY=VALUE; default $CERTCTL_CONFIG, "
	"./var/cluster.env, ~/.config/certctl/config)"},
    {"cacert", 0, "FILE", false, "CA certificate(s) to verify the node"},
    {"cert", 0, "FILE", false, "client certificate (PEM)"},
    {"key", 0, "FILE", false, "client key (PEM)"},
    {"json", 0, NULL, false, "print the server's JSON, one document"},
    {"consistent", 0, NULL, false,
	"reads: linearizable, through the leader (?consistency=leader)"},
    {"request-id", 0, "HEX", false,
	"X-Request-Id for a write (32 hex digits; default: random)"},
    {"timeout", 0, "S", false,
	"seconds for each call, retries included (default 30)"},
    {"help", 'h', NULL, false, "this help"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_command *const tables[] = {
    cs_ctl_cluster_commands,
    cs_ctl_import_commands,
    cs_ctl_certs_commands,
    cs_ctl_admin_commands,
    cs_ctl_ca_commands,
    cs_ctl_issue_commands,
    cs_ctl_status_commands,
};
#define NTABLES (sizeof tables / sizeof tables[0])

static void
list_commands(FILE *f)
{
	fprintf(f, "usage: certctl [options] COMMAND [arguments]\n\n"
		   "commands:\n");
	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cs_ctl_command *c = tables[t];
		     c->name != NULL; c++)
			/* the summary's first line; the rest is for -h */
			fprintf(f, "  %-18s %.*s\n", c->name,
			    (int)strcspn(c->summary, "\n"), c->summary);
	}
	fprintf(f, "\noptions of every command:\n");
	cs_ctl_args_help(f, global_opts);
	fprintf(f,
	    "\nSettings: flags, then CERTCTL_URL, CERTCTL_CACERT, "
	    "CERTCTL_CERT, CERTCTL_KEY\n"
	    "(or NODE1_API, CLUSTER_CACERT, ADMIN_CERT, ADMIN_KEY), then the "
	    "config file;\n"
	    "crl and ocsp ask the plain-HTTP URL paired with the API URL "
	    "(CERTCTL_HTTP_URL,\nNODE<N>_HTTP) or --http-url.\n"
	    "Exit status: 0 done, 1 the server said no, 2 usage error, 3 no "
	    "answer\n(connection, TLS, timeout). \"certctl COMMAND -h\" "
	    "explains a command.\n");
}

static void
command_help(const struct cs_ctl_command *c)
{
	printf("usage: certctl %s%s%s\n\n%s\n", c->name,
	    c->synopsis[0] ? " " : "", c->synopsis, c->summary);
	if (c->opts != NULL) {
		printf("\noptions:\n");
		cs_ctl_args_help(stdout, c->opts);
	}
	printf("\nglobal options:\n");
	cs_ctl_args_help(stdout, global_opts);
}

/* The usage lines of the commands "<w> ...". */
static void
list_group(FILE *f, const char *w)
{
	size_t n = strlen(w);

	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cs_ctl_command *c = tables[t];
		     c->name != NULL; c++) {
			if (strncmp(c->name, w, n) == 0 &&
			    (c->name[n] == ' ' || c->name[n] == '\0'))
				fprintf(f, "usage: certctl %s%s%s\n", c->name,
				    c->synopsis[0] ? " " : "", c->synopsis);
		}
	}
}

static const struct cs_ctl_command *
find(const char *name)
{
	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cs_ctl_command *c = tables[t];
		     c->name != NULL; c++) {
			if (strcmp(c->name, name) == 0)
				return c;
		}
	}
	return NULL;
}

/* True when some command's name starts with the word w and a space
 * ("key" for "key show"): w needs a second word. */
static bool
is_group(const char *w)
{
	size_t n = strlen(w);

	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cs_ctl_command *c = tables[t];
		     c->name != NULL; c++) {
			if (strncmp(c->name, w, n) == 0 && c->name[n] == ' ')
				return true;
		}
	}
	return false;
}

/* Finds the command's words in argv (after global options that may
 * precede them) and removes them: argv keeps the options and the
 * arguments. NULL for no or an unknown command, with its first word in
 * *word (NULL when there is none). */
static const struct cs_ctl_command *
take_command(int *argc, char **argv, const char **word)
{
	const struct cs_ctl_opt *const globals[] = {global_opts};
	const struct cs_ctl_command *c = NULL;
	int i, words = 0;
	char two[128];

	*word = NULL;
	for (i = 0; i < *argc; i++) {
		const struct cs_ctl_opt *o;

		if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
			break;
		if (strcmp(argv[i], "--") == 0)
			return NULL;
		o = cs_ctl_args_lookup(argv[i], globals, 1);
		/* a global option's separate value is not the command */
		if (o != NULL && o->value != NULL &&
		    strchr(argv[i], '=') == NULL)
			i++;
	}
	if (i >= *argc)
		return NULL;
	*word = argv[i];
	if (i + 1 < *argc) {
		snprintf(two, sizeof two, "%s %s", argv[i], argv[i + 1]);
		c = find(two);
		words = c != NULL ? 2 : 0;
	}
	if (c == NULL) {
		c = find(argv[i]);
		words = c != NULL ? 1 : 0;
	}
	if (c == NULL)
		return NULL;
	memmove(&argv[i], &argv[i + words],
	    (size_t)(*argc - i - words) * sizeof *argv);
	*argc -= words;
	return c;
}

static int
check_readable(const char *opt, const char *path)
{
	if (path != NULL && access(path, R_OK) != 0) {
		fprintf(stderr, "certctl: %s %s: cannot read it\n", opt, path);
		return CS_CTL_EXIT_USAGE;
	}
	return CS_CTL_EXIT_OK;
}

/* The global options into ctl and flags; a usage error otherwise. */
static int
globals(struct cs_ctl *ctl, struct cs_ctl_conf_flags *flags, char *id)
{
	const char *node = cs_ctl_opt(ctl, "node");
	const char *timeout = cs_ctl_opt(ctl, "timeout");
	const char *request_id = cs_ctl_opt(ctl, "request-id");
	char norm[24];
	int64_t secs;
	uint64_t n;
	int rc;

	memset(flags, 0, sizeof *flags);
	flags->config = cs_ctl_opt(ctl, "config");
	flags->url = cs_ctl_opt(ctl, "url");
	flags->cacert = cs_ctl_opt(ctl, "cacert");
	flags->cert = cs_ctl_opt(ctl, "cert");
	flags->key = cs_ctl_opt(ctl, "key");
	flags->http_url = cs_ctl_opt(ctl, "http-url"); /* crl, ocsp */
	if (node != NULL && flags->url != NULL)
		return cs_ctl_usage(ctl, "--node and --url disagree: give one");
	if (node != NULL) {
		rc = cs_ctl_check_uint(ctl, "--node", node, 1, 999, &n);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		flags->node = (long)n;
	}
	rc = cs_ctl_check_duration(ctl, "--timeout",
	    timeout != NULL ? timeout : DEFAULT_TIMEOUT, norm, &secs);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	if (secs > 86400)
		return cs_ctl_usage(ctl, "--timeout: at most a day");
	ctl->timeout_ms = (long)secs * 1000;
	if (request_id != NULL) {
		if (strlen(request_id) != 32 ||
		    strspn(request_id, "0123456789abcdefABCDEF") != 32)
			return cs_ctl_usage(ctl,
			    "--request-id \"%s\": 32 hexadecimal digits",
			    request_id);
		for (size_t i = 0; i < 32; i++)
			id[i] = (char)tolower((unsigned char)request_id[i]);
		id[32] = '\0';
		ctl->request_id = id;
	}
	ctl->json = cs_ctl_flag(ctl, "json");
	ctl->consistent = cs_ctl_flag(ctl, "consistent");
	rc = check_readable("--cacert", flags->cacert);
	if (rc == CS_CTL_EXIT_OK)
		rc = check_readable("--cert", flags->cert);
	if (rc == CS_CTL_EXIT_OK)
		rc = check_readable("--key", flags->key);
	return rc;
}

/* The settings, checked: a URL certctl can use, files it can read. */
static int
settings(struct cs_ctl *ctl, const struct cs_ctl_conf_flags *flags,
    struct cs_ctl_conf *conf)
{
	char err[CS_ERRMSG_SIZE] = "";
	int rc;

	if (cs_ctl_conf_resolve(conf, flags, err) < 0)
		return cs_ctl_usage(NULL, "%s", err);
	if (strncmp(conf->url, "https://", 8) != 0 &&
	    strncmp(conf->url, "http://", 7) != 0)
		return cs_ctl_usage(NULL, "URL \"%s\": https://host:port",
		    conf->url);
	if (conf->http_url != NULL &&
	    strncmp(conf->http_url, "https://", 8) != 0 &&
	    strncmp(conf->http_url, "http://", 7) != 0)
		return cs_ctl_usage(NULL,
		    "plain-HTTP URL \"%s\": http://host:port", conf->http_url);
	rc = check_readable("CA file", conf->cacert);
	if (rc == CS_CTL_EXIT_OK)
		rc = check_readable("certificate file", conf->cert);
	if (rc == CS_CTL_EXIT_OK)
		rc = check_readable("key file", conf->key);
	if (rc == CS_CTL_EXIT_OK && (conf->cert == NULL) != (conf->key == NULL))
		rc = cs_ctl_usage(NULL,
		    "a client certificate needs its key and the other way "
		    "round (--cert and --key)");
	ctl->url = conf->url;
	ctl->http_url = conf->http_url;
	ctl->cacert = conf->cacert;
	return rc;
}

/* "certctl -h", "certctl help [COMMAND]": help on stdout, exit 0; else
 * the command is missing or unknown. */
static int
no_command(int argc, char **argv, const char *word)
{
	const struct cs_ctl_command *c = NULL;
	int i;

	for (i = 0; (word == NULL || is_group(word)) && i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			if (word != NULL)
				list_group(stdout, word);
			else
				list_commands(stdout);
			return CS_CTL_EXIT_OK;
		}
	}
	if (word != NULL && strcmp(word, "help") == 0) {
		for (i = 0; argv[i] != word; i++)
			;
		if (i + 2 < argc) {
			char two[128];

			snprintf(two, sizeof two, "%s %s", argv[i + 1],
			    argv[i + 2]);
			c = find(two);
		}
		if (c == NULL && i + 1 < argc)
			c = find(argv[i + 1]);
		if (c != NULL) {
			command_help(c);
			return CS_CTL_EXIT_OK;
		}
		if (i + 1 == argc) {
			list_commands(stdout);
			return CS_CTL_EXIT_OK;
		}
		word = argv[i + 1];
	}
	if (word != NULL && is_group(word)) {
		fprintf(stderr, "certctl: %s what?\n", word);
		list_group(stderr, word);
		return CS_CTL_EXIT_USAGE;
	}
	if (word != NULL) {
		fprintf(stderr,
		    "certctl: unknown command \"%s\" (certctl -h lists "
		    "them)\n",
		    word);
		return CS_CTL_EXIT_USAGE;
	}
	list_commands(stderr);
	return CS_CTL_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct cs_ctl ctl = {.out = stdout};
	struct cs_ctl_args args = {0};
	struct cs_ctl_conf conf = {0};
	struct cs_ctl_conf_flags flags;
	struct cs_ctl_http_config hc;
	const struct cs_ctl_opt *opt_tables[2] = {global_opts, NULL};
	const struct cs_ctl_command *cmd;
	const char *word;
	char err[CS_ERRMSG_SIZE] = "", id[33];
	int rc = CS_CTL_EXIT_USAGE;

	argc--;
	argv++;
	cmd = take_command(&argc, argv, &word);
	if (cmd == NULL)
		return no_command(argc, argv, word);
	ctl.cmd = cmd;
	ctl.args = &args;
	opt_tables[1] = cmd->opts;
	if (cs_ctl_args_parse(&args, argc, argv, opt_tables,
		cmd->opts != NULL ? 2 : 1, err) < 0)
		return cs_ctl_usage(&ctl, "%s", err);
	if (cs_ctl_flag(&ctl, "help")) {
		command_help(cmd);
		rc = CS_CTL_EXIT_OK;
		goto out;
	}
	if (args.npos < cmd->min_args || args.npos > cmd->max_args) {
		rc = cs_ctl_usage(&ctl, "%s",
		    args.npos < cmd->min_args ? "missing arguments"
					      : "too many arguments");
		goto out;
	}
	rc = globals(&ctl, &flags, id);
	if (rc == CS_CTL_EXIT_OK)
		rc = settings(&ctl, &flags, &conf);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "certctl: libcurl cannot start\n");
		rc = CS_CTL_EXIT_UNREACHABLE;
		goto out;
	}
	hc = (struct cs_ctl_http_config){.url = conf.url,
	    .cacert = conf.cacert,
	    .cert = conf.cert,
	    .key = conf.key};
	if (cs_ctl_http_new(&hc, &ctl.http, err) < 0) {
		fprintf(stderr, "certctl: %s\n", err);
		rc = CS_CTL_EXIT_UNREACHABLE;
	} else {
		rc = cmd->run(&ctl);
	}
	cs_ctl_http_free(ctl.http);
	curl_global_cleanup();
out:
	if (fflush(stdout) != 0 && rc == CS_CTL_EXIT_OK) {
		perror("certctl: standard output");
		rc = CS_CTL_EXIT_REFUSED;
	}
	cs_ctl_conf_close(&conf);
	cs_ctl_args_close(&args);
	return rc;
}
