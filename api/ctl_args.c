/*
 * ctl_args.c - certctl's option parser (see ctl_args.h).
 */
#include "api/ctl_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/mem.h"

/* The option named by arg, which starts with '-'; *inline_value points
 * after '=' in "--name=value", else NULL. */
static const struct cs_ctl_opt *
lookup(const char *arg, const struct cs_ctl_opt *const *tables, size_t ntables,
    const char **inline_value)
{
	size_t len;

	*inline_value = NULL;
	if (arg[0] != '-' || arg[1] == '\0')
		return NULL;
	if (arg[1] != '-') {
		/* one letter, alone: "-h" (no bundling; certctl has few) */
		if (arg[2] != '\0')
			return NULL;
		for (size_t t = 0; t < ntables; t++) {
			for (const struct cs_ctl_opt *o = tables[t];
			     o->name != NULL; o++) {
				if (o->short_name == arg[1])
					return o;
			}
		}
		return NULL;
	}
	arg += 2;
	len = strcspn(arg, "=");
	if (arg[len] == '=')
		*inline_value = arg + len + 1;
	for (size_t t = 0; t < ntables; t++) {
		for (const struct cs_ctl_opt *o = tables[t]; o->name != NULL;
		     o++) {
			if (strlen(o->name) == len &&
			    strncmp(o->name, arg, len) == 0)
				return o;
		}
	}
	return NULL;
}

const struct cs_ctl_opt *
cs_ctl_args_lookup(const char *arg, const struct cs_ctl_opt *const *tables,
    size_t ntables)
{
	const char *v;

	return lookup(arg, tables, ntables, &v);
}

int
cs_ctl_args_parse(struct cs_ctl_args *a, int argc, char **argv,
    const struct cs_ctl_opt *const *tables, size_t ntables, char *errmsg)
{
	const char **pos = NULL;
	struct cs_ctl_arg *opt = NULL;
	size_t npos = 0, nopt = 0;
	bool options_done = false;
	int rc = CS_EINVAL;

	/* at most one entry per element of argv */
	pos = cs_calloc((size_t)argc + 1, sizeof *pos);
	opt = cs_calloc((size_t)argc + 1, sizeof *opt);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct cs_ctl_opt *o;
		const char *value;

		if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
			pos[npos++] = arg; /* "-" is a file: standard input */
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		o = lookup(arg, tables, ntables, &value);
		if (o == NULL) {
			cs_errmsg_printf(errmsg, "unknown option %.*s",
			    (int)strcspn(arg, "="), arg);
			goto out;
		}
		if (o->value == NULL && value != NULL) {
			cs_errmsg_printf(errmsg, "--%s takes no value",
			    o->name);
			goto out;
		}
		if (o->value != NULL && value == NULL) {
			if (i + 1 == argc) {
				cs_errmsg_printf(errmsg,
				    "--%s needs a value (%s)", o->name,
				    o->value);
				goto out;
			}
			value = argv[++i];
		}
		if (!o->repeatable) {
			for (size_t k = 0; k < nopt; k++) {
				if (opt[k].opt == o) {
					cs_errmsg_printf(errmsg,
					    "--%s given more than once",
					    o->name);
					goto out;
				}
			}
		}
		opt[nopt].opt = o;
		opt[nopt].value = value != NULL ? value : "";
		nopt++;
	}
	a->pos = pos;
	a->npos = npos;
	a->opt = opt;
	a->nopt = nopt;
	pos = NULL;
	opt = NULL;
	rc = 0;
out:
	free(pos);
	free(opt);
	return rc;
}

void
cs_ctl_args_close(struct cs_ctl_args *a)
{
	free(a->pos);
	free(a->opt);
	a->pos = NULL;
	a->opt = NULL;
	a->npos = 0;
	a->nopt = 0;
}

const char *
cs_ctl_args_get(const struct cs_ctl_args *a, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < a->nopt; i++) {
		if (strcmp(a->opt[i].opt->name, name) == 0)
			v = a->opt[i].value;
	}
	return v;
}

bool
cs_ctl_args_has(const struct cs_ctl_args *a, const char *name)
{
	return cs_ctl_args_get(a, name) != NULL;
}

size_t
cs_ctl_args_all(const struct cs_ctl_args *a, const char *name, const char **out,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nopt; i++) {
		if (strcmp(a->opt[i].opt->name, name) != 0)
			continue;
		if (out != NULL && n < max)
			out[n] = a->opt[i].value;
		n++;
	}
	return n;
}

void
cs_ctl_args_help(FILE *f, const struct cs_ctl_opt *table)
{
	for (const struct cs_ctl_opt *o = table; o->name != NULL; o++) {
		char head[64];

		if (o->short_name != 0)
			snprintf(head, sizeof head, "-%c, --%s%s%s",
			    o->short_name, o->name, o->value ? " " : "",
			    o->value ? o->value : "");
		else
			snprintf(head, sizeof head, "    --%s%s%s", o->name,
			    o->value ? " " : "", o->value ? o->value : "");
		fprintf(f, "  %-26s %s%s\n", head, o->help,
		    o->repeatable ? " (repeatable)" : "");
	}
}
