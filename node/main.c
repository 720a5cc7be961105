/*
 * main.c - certstored's command line: -f FILE (configuration, default
 * /etc/certstore/certstored.conf), -d (debug logging), -n (check the
 * configuration and the files it names, then exit). Nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "node/node.h"

static void
usage(void)
{
	fprintf(stderr, "usage: certstored [-dn] [-f config]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = "/etc/certstore/certstored.conf";
	struct cs_config cfg;
	char err[CS_ERRMSG_SIZE] = "";
	enum cs_log_level level;
	int check = 0, debug = 0, ch;

	while ((ch = getopt(argc, argv, "df:n")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (cs_node_read_config(path, &cfg, err) < 0) {
		fprintf(stderr, "certstored: %s\n", err);
		return 1;
	}
	if (check) {
		if (cs_node_check_files(&cfg, err) < 0) {
			fprintf(stderr, "certstored: %s: %s\n", path, err);
			return 1;
		}
		printf("%s: OK\n", path);
		return 0;
	}
	if (cs_log_level_parse(cfg.log_level, &level) == 0)
		cs_log_set_level(debug ? CS_LOG_DEBUG : level);
	return cs_node_run(&cfg, path);
}
