/*
 * bench_store.c - the store at scale: bench_store N [--json]
 *
 * Fills a store with N synthetic certificates from a test CA (real,
 * signed DER of ~650 bytes: a distinct P-256 key each, subject, DNS and IP
 * SANs, key usage, EKU, AKI, CRL DP, AIA, expiry spread over two years)
 * through the
 * real write path (IMPORT commands of 100 certificates, decoded and
 * applied), then measures lookups, expiry windows and snapshots. Prints
 * key=value lines.
 *
 * Generating realistic DER for a million certificates through OpenSSL's
 * X509 builder takes ~10 minutes (public-key re-encoding dominates), so
 * the generator patches a signed template: it rewrites the serial, the
 * names, the IP, the expiry and the EC point in the TBSCertificate bytes
 * and signs each with ECDSA on two threads.
 */
#include <malloc.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
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

#define BATCH 100   /* certificates per IMPORT command */
#define CHUNK 20000 /* certificates generated between applies */
#define DAY   86400

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

/* ---- the template ---- */

#define NAME_FMT "dev%07u" /* 10 characters */
#define IP_MARK                                                                \
	{                                                                      \
		10, 123, 45, 67                                                \
	}

struct tmpl {
	uint8_t *tbs;
	size_t tbs_len;
	size_t off_serial;  /* 16 bytes */
	size_t off_name[4]; /* occurrences of the 10-char name */
	size_t nname;
	size_t off_ip;        /* 4 bytes */
	size_t off_not_after; /* 13 bytes "YYMMDDHHMMSSZ" */
	size_t off_point;     /* 65 bytes: 04 X Y */
	uint8_t sigalg[16];
	size_t sigalg_len;
	EVP_PKEY *ca_key;
	int64_t now;
};

static size_t
find(const uint8_t *hay, size_t n, const void *needle, size_t m, size_t from)
{
	for (size_t i = from; i + m <= n; i++) {
		if (memcmp(hay + i, needle, m) == 0)
			return i;
	}
	die("template field not found");
	return 0;
}

static void
two(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* UTCTime text "YYMMDDHHMMSSZ" */
static void
utc(int64_t t, char out[14])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	two(out, tm.tm_year % 100);
	two(out + 2, tm.tm_mon + 1);
	two(out + 4, tm.tm_mday);
	two(out + 6, tm.tm_hour);
	two(out + 8, tm.tm_min);
	two(out + 10, tm.tm_sec);
	out[12] = 'Z';
	out[13] = '\0';
}

static void
make_template(struct tmpl *t, const struct cs_test_ca *ca)
{
	static const uint8_t serial[16] = {0x4f, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
	static const uint8_t ip_mark[4] = IP_MARK;
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	X509 *x = X509_new();
	X509V3_CTX v3;
	BIGNUM *bn = BN_bin2bn(serial, 16, NULL);
	ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
	X509_NAME *name = X509_NAME_new();
	char dn[64], san[160], na[14];
	uint8_t point[65];
	size_t plen = sizeof point;
	X509_EXTENSION *ext;
	unsigned char *p = NULL;
	int len;
	const X509_ALGOR *alg;

	t->now = (int64_t)time(NULL);
	t->ca_key = ca->key;
	snprintf(dn, sizeof dn, NAME_FMT, 0u);
	X509_set_version(x, 2);
	X509_set_serialNumber(x, sn);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Hospital", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC,
	    (const unsigned char *)"Infusion pumps", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)dn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, X509_get_subject_name(ca->cert));
	X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, NULL);
	/* a UTCTime far enough to stay 13 characters */
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(t->now + 400 * DAY));
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	snprintf(san, sizeof san, "DNS:%s.site-a.hospital.test,IP:10.123.45.67",
	    dn);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
	    "critical,digitalSignature");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "clientAuth");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_crl_distribution_points,
	    "URI:http://pki.hospital.test/crl/local-ca.crl");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_info_access,
	    "OCSP;URI:http://pki.hospital.test/ocsp,"
	    "caIssuers;URI:http://pki.hospital.test/ca/local-ca.crt");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier,
	    "keyid:always");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(x, ca->key, EVP_sha256()) == 0)
		die("template sign");
	len = i2d_re_X509_tbs(x, &p);
	if (len <= 0)
		die("template tbs");
	t->tbs = p;
	t->tbs_len = (size_t)len;
	t->off_serial = find(p, t->tbs_len, serial, 16, 0);
	for (size_t from = 0; t->nname < 4;) {
		size_t at;

		/* find() dies at the end: count first */
		if (from + 10 > t->tbs_len ||
		    memmem(p + from, t->tbs_len - from, dn, 10) == NULL)
			break;
		at = find(p, t->tbs_len, dn, 10, from);
		t->off_name[t->nname++] = at;
		from = at + 10;
	}
	t->off_ip = find(p, t->tbs_len, ip_mark, 4, 0);
	utc(t->now + 400 * DAY, na);
	t->off_not_after = find(p, t->tbs_len, na, 13, 0);
	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point,
		sizeof point, &plen) != 1 ||
	    plen != 65)
		die("template key");
	t->off_point = find(p, t->tbs_len, point, 65, 0);
	X509_get0_signature(NULL, &alg, x);
	{
		unsigned char *q = t->sigalg;

		t->sigalg_len = (size_t)i2d_X509_ALGOR(alg, NULL);
		i2d_X509_ALGOR(alg, &q);
	}
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* ---- generation ---- */

struct gen {
	const struct tmpl *t;
	unsigned first, n; /* certificate numbers */
	uint8_t **der;
	size_t *len;
};

static size_t
der_len_bytes(size_t n)
{
	return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 4;
}

static uint8_t *
put_len(uint8_t *w, size_t n)
{
	if (n < 128) {
		*w++ = (uint8_t)n;
	} else if (n < 256) {
		*w++ = 0x81;
		*w++ = (uint8_t)n;
	} else {
		*w++ = 0x82;
		*w++ = (uint8_t)(n >> 8);
		*w++ = (uint8_t)n;
	}
	return w;
}

static void *
gen_run(void *arg)
{
	struct gen *g = arg;
	const struct tmpl *t = g->t;
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = EC_POINT_new(grp);
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *k = BN_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *tbs = malloc(t->tbs_len);

	/* P_i = (i + 1) * G, advanced by one addition per certificate:
	 * distinct, valid, cheap public keys */
	BN_set_word(k, (BN_ULONG)g->first + 1);
	EC_POINT_mul(grp, pt, k, NULL, NULL, bc);
	for (unsigned i = 0; i < g->n; i++) {
		unsigned num = g->first + i;
		char name[16], na[14];
		uint8_t sig[80];
		size_t siglen = sizeof sig;
		size_t bitlen, body, total;
		uint8_t *der, *w;

		memcpy(tbs, t->tbs, t->tbs_len);
		RAND_bytes(tbs + t->off_serial + 1, 15);
		snprintf(name, sizeof name, NAME_FMT, num);
		for (size_t j = 0; j < t->nname; j++)
			memcpy(tbs + t->off_name[j], name, 10);
		tbs[t->off_ip + 1] = (uint8_t)(num >> 16);
		tbs[t->off_ip + 2] = (uint8_t)(num >> 8);
		tbs[t->off_ip + 3] = (uint8_t)num;
		/* expiry spread over 2 years, 1 day .. 730 days ahead */
		utc(t->now + DAY + (int64_t)((num * 7919u) % 729u) * DAY +
			(num % DAY),
		    na);
		memcpy(tbs + t->off_not_after, na, 13);
		EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED,
		    tbs + t->off_point, 65, bc);
		EC_POINT_add(grp, pt, pt, EC_GROUP_get0_generator(grp), bc);
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
			t->ca_key) != 1 ||
		    EVP_DigestSign(md, sig, &siglen, tbs, t->tbs_len) != 1)
			die("sign");
		EVP_MD_CTX_reset(md);
		bitlen = siglen + 1;
		body = t->tbs_len + t->sigalg_len + 1 + der_len_bytes(bitlen) +
		       bitlen;
		total = 1 + der_len_bytes(body) + body;
		der = malloc(total);
		w = der;
		*w++ = 0x30;
		w = put_len(w, body);
		memcpy(w, tbs, t->tbs_len);
		w += t->tbs_len;
		memcpy(w, t->sigalg, t->sigalg_len);
		w += t->sigalg_len;
		*w++ = 0x03;
		w = put_len(w, bitlen);
		*w++ = 0;
		memcpy(w, sig, siglen);
		g->der[i] = der;
		g->len[i] = total;
	}
	free(tbs);
	EVP_MD_CTX_free(md);
	BN_free(k);
	BN_CTX_free(bc);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return NULL;
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
	struct tmpl t;
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
	memset(&t, 0, sizeof t);
	make_template(&t, ca);
	cs_buf_init(&entry, CS_CMD_MAX_ENTRY);
	malloc_trim(0);
	rss0 = rss_bytes();

	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < CHUNK ? n - done : CHUNK;
		struct gen g[2] = {{&t, done, k / 2, der, len},
		    {&t, done + k / 2, k - k / 2, der + k / 2, len + k / 2}};
		pthread_t th;
		double t0 = now_s();

		pthread_create(&th, NULL, gen_run, &g[1]);
		gen_run(&g[0]);
		pthread_join(th, NULL);
		t_gen += now_s() - t0;
		t0 = now_s();
		for (unsigned i = 0; i < k; i += BATCH) {
			struct cs_result res;
			unsigned m = k - i < BATCH ? k - i : BATCH;

			memset(cmd, 0, sizeof *cmd);
			cmd->type = CS_CMD_IMPORT;
			cmd->actor.p = (const uint8_t *)"bench";
			cmd->actor.len = 5;
			cmd->time = t.now;
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
			int64_t from = t.now + (int64_t)(i % 20) * 30 * DAY;
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
	OPENSSL_free(t.tbs);
	cs_test_ca_free(ca);
	return 0;
}
