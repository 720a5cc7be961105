/*
 * bench_store.c - the store at scale: bench_store N [--json]
 *
 * Fills a store with N synthetic certificates from a test CA (real,
 * signed DER of ~650 bytes: a distinct P-256 key each, subject, DNS and IP
 * SANs, key usage, EKU, AKI, CRL DP, AIA, expiry spread over two years)
 * through the real write path (IMPORT commands of 100 certificates,
 * decoded and applied), then measures lookups, expiry windows and
 * snapshots. Prints key=value lines.
 *
 * The certificates come from tests/lib/certgen.h (a signed template whose
 * TBSCertificate bytes are patched, then signed with ECDSA), on two
 * threads.
 */
#include <malloc.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert/cmd.h"
#include "cert/snapshot.h"
#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "tests/lib/ca.h"
#include "tests/lib/certgen.h"

#define BATCH       100   /* certificates per IMPORT command */
#define CHUNK       20000 /* certificates generated between applies */
#define DAY         86400
#define GEN_THREADS 2

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * sysconf(_SC_PAGESIZE);
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_store: %s\n", what);
	exit(1);
}

/* ---- measurements ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
p99(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[(n * 99) / 100];
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	struct cs_test_ca *ca =
	    cs_test_ca_new("Bench Issuing CA", CS_TEST_P256, NULL);
	struct cs_certgen *gen = NULL;
	struct cs_certgen_out gout = {NULL, NULL, NULL};
	int64_t now;
	struct cs_store *s = cs_store_new();
	struct cs_cmd *cmd = calloc(1, sizeof *cmd);
	uint8_t **der = calloc(CHUNK, sizeof *der);
	size_t *len = calloc(CHUNK, sizeof *len);
	struct cs_buf entry;
	double t_apply = 0, t_gen = 0;
	size_t der_total = 0;
	uint64_t index = 0;
	long rss0, rss1;

	if (n == 0)
		die("usage: bench_store N");
	gen = cs_certgen_new(ca, NULL);
	now = cs_certgen_now(gen);
	gout.der = der;
	gout.len = len;
	cs_buf_init(&entry, CS_CMD_MAX_ENTRY);
	malloc_trim(0);
	rss0 = rss_bytes();

	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < CHUNK ? n - done : CHUNK;
		double t0 = now_s();

		cs_certgen_run(gen, done, k, GEN_THREADS, &gout);
		t_gen += now_s() - t0;
		t0 = now_s();
		for (unsigned i = 0; i < k; i += BATCH) {
			struct cs_result res;
			unsigned m = k - i < BATCH ? k - i : BATCH;

			memset(cmd, 0, sizeof *cmd);
			cmd->type = CS_CMD_IMPORT;
			cmd->actor.p = (const uint8_t *)"bench";
			cmd->actor.len = 5;
			cmd->time = now;
			memcpy(cmd->request_id, &index, sizeof index);
			cmd->request_id[15] = 1;
			cmd->u.import.n = m;
			cmd->u.import.owner.p = (const uint8_t *)"icu";
			cmd->u.import.owner.len = 3;
			for (unsigned j = 0; j < m; j++) {
				cmd->u.import.der[j].p = der[i + j];
				cmd->u.import.der[j].len = len[i + j];
				der_total += len[i + j];
			}
			cs_buf_reset(&entry);
			if (cs_cmd_encode(cmd, &entry) < 0)
				die("encode");
			cs_cmd_apply_entry(s, entry.data, entry.len, ++index,
			    &res);
			if (res.rc != 0 || res.count != m)
				die("import failed");
		}
		t_apply += now_s() - t0;
		for (unsigned i = 0; i < k; i++)
			free(der[i]);
		done += k;
		fprintf(stderr, "\r%u/%u", done, n);
	}
	fprintf(stderr, "\n");
	cs_buf_close(&entry);
	malloc_trim(0);
	rss1 = rss_bytes();

	printf("certs=%zu\n", cs_store_cert_count(s));
	printf("der_bytes_avg=%.0f\n", (double)der_total / n);
	printf("generate_per_s=%.0f\n", n / t_gen);
	printf("insert_per_s=%.0f\n", n / t_apply);
	printf("rss_store_bytes=%ld\n", rss1 - rss0);
	printf("rss_per_cert_bytes=%.0f\n",
	    ((double)(rss1 - rss0) - (double)der_total) / n);

	/* serial lookups within the issuer, random certificates */
	{
		enum {
			L = 100000
		};
		double *lat = malloc(L * sizeof *lat);
		const struct cs_cert *out[2];

		srand(42);
		for (int i = 0; i < L; i++) {
			const struct cs_cert *c = cs_store_cert(s,
			    (uint32_t)(1 + (unsigned)rand() % n));
			struct cs_serial sn;
			double t0;

			cs_cert_serial(c, &sn);
			t0 = now_s();
			if (cs_store_get_serial(s, cs_cert_issuer(c), &sn, out,
				2) != 1)
				die("serial lookup");
			lat[i] = (now_s() - t0) * 1e6;
		}
		printf("serial_lookup_p99_us=%.2f\n", p99(lat, L));
		free(lat);
	}

	/* expiry: a page of the 30-day window, and counting all of it */
	{
		enum {
			Q = 200,
			PAGE = 1000
		};
		double lat[Q], latc[Q];
		const struct cs_cert **page = malloc(PAGE * sizeof *page);
		size_t got = 0, window = 0;
		bool more;

		for (int i = 0; i < Q; i++) {
			int64_t from = now + (int64_t)(i % 20) * 30 * DAY;
			double t0 = now_s();

			cs_store_expiring(s, from, from + 30 * DAY, INT64_MIN,
			    0, PAGE, page, &got, &more);
			lat[i] = (now_s() - t0) * 1e3;
			t0 = now_s();
			window = cs_store_count_expiring(s, from, 30 * DAY);
			latc[i] = (now_s() - t0) * 1e3;
		}
		printf("expiry_30d_window_certs=%zu\n", window);
		printf("expiry_30d_query_p99_ms=%.3f\n", p99(lat, Q));
		printf("expiry_30d_count_p99_ms=%.3f\n", p99(latc, Q));
		free(page);
	}

	/* snapshots */
	{
		struct cs_snapshot *snap;
		struct cs_store *back = NULL;
		struct cs_buf b;
		double t0 = now_s(), take, take2, stream, enc, dec;
		char err[CS_ERRMSG_SIZE];
		uint8_t h1[32], h2[32];

		snap = cs_snapshot_take(s);
		take = now_s() - t0;
		cs_snapshot_release(snap);
		/* the steady state: later snapshots reuse the buffer array */
		t0 = now_s();
		snap = cs_snapshot_take(s);
		take2 = now_s() - t0;
		{
			/* the least any consumer does (raft's compressor, the
			 * hash, a backup download): read every byte once */
			size_t nb;
			const struct cs_bytes *bb = cs_snapshot_bufs(snap, &nb);
			EVP_MD_CTX *md = EVP_MD_CTX_new();
			uint8_t h[32];

			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			for (size_t i = 0; i < nb; i++)
				EVP_DigestUpdate(md, bb[i].p, bb[i].len);
			EVP_DigestFinal_ex(md, h, NULL);
			EVP_MD_CTX_free(md);
		}
		stream = now_s() - t0;
		cs_snapshot_release(snap);
		cs_buf_init(&b, SIZE_MAX);
		t0 = now_s();
		if (cs_store_encode(s, &b) < 0)
			die("encode snapshot");
		enc = now_s() - t0;
		printf("snapshot_take_first_ms=%.1f\n", take * 1e3);
		printf("snapshot_take_ms=%.1f\n", take2 * 1e3);
		printf("snapshot_encode_s=%.2f\n", stream);
		printf("snapshot_flatten_s=%.2f\n", enc);
		printf("snapshot_bytes=%zu\n", b.len);
		/* as a restore does: the store takes the buffer and keeps its
		 * records where they are */
		{
			size_t blen = b.len;
			uint8_t *bytes = cs_buf_steal(&b, &blen);

			t0 = now_s();
			if (cs_snapshot_load(bytes, blen, free, &back, err) < 0)
				die(err);
			dec = now_s() - t0;
		}
		printf("snapshot_decode_s=%.2f\n", dec);
		t0 = now_s();
		cs_store_hash(s, h1);
		printf("state_hash_s=%.2f\n", now_s() - t0);
		cs_store_hash(back, h2);
		printf("snapshot_round_trip_equal=%s\n",
		    memcmp(h1, h2, 32) == 0 ? "yes" : "no");
		cs_store_free(back);
	}
	cs_store_free(s);
	free(der);
	free(len);
	free(cmd);
	cs_certgen_free(gen);
	cs_test_ca_free(ca);
	return 0;
}
