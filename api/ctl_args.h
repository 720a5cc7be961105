/*
 * ctl_args.h - certctl's command line: long options (--name VALUE or
 * --name=VALUE), one-letter aliases (-h), options and positional
 * arguments in any order, "--" ending the options.
 *
 * Each command states its options in const tables (the global ones and
 * its own); the parser checks the command line against them and keeps
 * every occurrence in order, so a command asks for the value of a
 * setting or for all values of a repeatable option (--tag T --tag U).
 * An option that is not repeatable may be given once: a filter given
 * twice is a mistake to report, not a choice to make silently.
 *
 * Pure except for cs_ctl_args_help(), which writes to a stream. The
 * parsed arguments borrow argv and the tables.
 */
#ifndef CS_CTL_ARGS_H
#define CS_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cs_ctl_opt {
	const char *name;  /* "owner" for --owner; NULL ends a table */
	char short_name;   /* 'h' for -h, or 0 */
	const char *value; /* the value's name in help ("O"); NULL: a flag */
	bool repeatable;
	const char *help;
};

struct cs_ctl_args {
	size_t npos;
	const char **pos; /* positional arguments, in order */
	size_t nopt;
	struct cs_ctl_arg {
		const struct cs_ctl_opt *opt;
		const char *value; /* "" for a flag */
	} * opt;
};

/* Parses argv[0..argc) (no program name) against the NULL-terminated
 * option tables tables[0..ntables). On success fills *a with new arrays
 * (cs_ctl_args_close()). CS_EINVAL for an unknown option, a missing or
 * unexpected value or a repeated single option; errmsg says which. */
int cs_ctl_args_parse(struct cs_ctl_args *a, int argc, char **argv,
    const struct cs_ctl_opt *const *tables, size_t ntables, char *errmsg);
void cs_ctl_args_close(struct cs_ctl_args *a);

/* The value of option name (a view into argv; "" for a flag), or NULL
 * when it was not given. */
const char *cs_ctl_args_get(const struct cs_ctl_args *a, const char *name);
bool cs_ctl_args_has(const struct cs_ctl_args *a, const char *name);
/* How many times name was given; with out != NULL, stores up to max of
 * their values in order. */
size_t cs_ctl_args_all(const struct cs_ctl_args *a, const char *name,
    const char **out, size_t max);

/* Finds the option that takes the text of argv element arg ("--node",
 * "--node=2", "-h") in the tables, or NULL. */
const struct cs_ctl_opt *cs_ctl_args_lookup(const char *arg,
    const struct cs_ctl_opt *const *tables, size_t ntables);

/* Writes the options of a table as help lines ("  --owner O   ...") to
 * f. */
void cs_ctl_args_help(FILE *f, const struct cs_ctl_opt *table);

#endif
