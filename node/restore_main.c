/*
 * restore_main.c - certstore-restore -f CONFIG BACKUP: puts a backup
 * (GET /v1/snapshot, certctl snapshot) into this node's empty data
 * directory, with the configuration's member list. Run it on every node
 * of the new cluster with the same backup, then start the nodes. See
 * README.md, "Backups".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/mem.h"
#include "node/node.h"
#include "raft/restore.h"

#define BACKUP_MAX (64ull << 30)

static int
usage(void)
{
	fprintf(stderr, "usage: certstore-restore -f config backup\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *path = "/etc/certstore/certstored.conf";
	struct cs_config cfg;
	struct cs_replica_peer peers[CS_CONFIG_MAX_MEMBERS];
	char err[CS_ERRMSG_SIZE] = "";
	struct stat st;
	uint8_t *backup;
	uint64_t index = 0;
	FILE *f;
	int ch, rc;

	while ((ch = getopt(argc, argv, "f:")) != -1) {
		if (ch != 'f')
			return usage();
		path = optarg;
	}
	if (optind != argc - 1)
		return usage();
	if (cs_node_read_config(path, &cfg, err) < 0) {
		fprintf(stderr, "certstore-restore: %s\n", err);
		return 1;
	}
	if (cfg.nmembers == 0 || cs_config_member(&cfg, cfg.node_id) == NULL) {
		fprintf(stderr,
		    "certstore-restore: %s: list every member of "
		    "the new cluster (this node included) with "
		    "\"member\" lines\n",
		    path);
		return 1;
	}
	f = fopen(argv[optind], "rb");
	if (f == NULL || fstat(fileno(f), &st) < 0 || st.st_size <= 0 ||
	    (unsigned long long)st.st_size > BACKUP_MAX) {
		fprintf(stderr, "certstore-restore: %s: %s\n", argv[optind],
		    f == NULL ? strerror(errno) : "empty or too large");
		if (f != NULL)
			fclose(f);
		return 1;
	}
	backup = cs_malloc((size_t)st.st_size);
	if (fread(backup, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "certstore-restore: %s: short read\n",
		    argv[optind]);
		fclose(f);
		free(backup);
		return 1;
	}
	fclose(f);
	if (mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "certstore-restore: %s: %s\n", cfg.data_dir,
		    strerror(errno));
		free(backup);
		return 1;
	}
	for (size_t i = 0; i < cfg.nmembers; i++) {
		peers[i].id = cfg.members[i].id;
		peers[i].address = cfg.members[i].raft_address;
	}
	rc = cs_restore(cfg.data_dir, cfg.node_id, cfg.raft_address, peers,
	    cfg.nmembers, backup, (size_t)st.st_size, &index, err);
	free(backup);
	if (rc < 0) {
		fprintf(stderr, "certstore-restore: %s\n", err);
		return 1;
	}
	printf("restored %s into %s at index %llu with %zu members\n",
	    argv[optind], cfg.data_dir, (unsigned long long)index,
	    cfg.nmembers);
	return 0;
}
