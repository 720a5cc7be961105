/*
 * crl.c - X.509 v2 CRLs written with the DER writer (cert/derw.h).
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
 *                                  signatureValue }
 *   TBSCertList ::= SEQUENCE {
 *     version INTEGER 1 (v2),  signature AlgorithmIdentifier,
 *     issuer Name,  thisUpdate Time,  nextUpdate Time,
 *     revokedCertificates SEQUENCE OF SEQUENCE {
 *       userCertificate INTEGER, revocationDate Time,
 *       crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 *
 * Why not X509_CRL: OpenSSL builds an object per entry, per time and per
 * extension and then encodes them through its templates (~13 us an entry
 * with reason codes; notes/performance.md). Here an entry is a few dozen
 * bytes appended to the output, whose room is reserved once: no
 * allocation per entry, no OpenSSL until the one signature.
 */
#include "cert/crl.h"

#include <stdlib.h>
#include <string.h>

#include "cert/der.h"
#include "cert/derw.h"
#include "lib/error.h"
#include "lib/mem.h"

/* id-ce (2.5.29) extensions, as OBJECT IDENTIFIER contents */
#define OID_CRL_NUMBER   CS_OID("\x55\x1d\x14")
#define OID_REASON_CODE  CS_OID("\x55\x1d\x15")
#define OID_INVALIDITY   CS_OID("\x55\x1d\x18")
#define OID_DELTA_CRL    CS_OID("\x55\x1d\x1b")
#define OID_AKI          CS_OID("\x55\x1d\x23")
#define OID_FRESHEST_CRL CS_OID("\x55\x1d\x2e")

/* Bytes of a typical entry with a reason code (2 + 19 + 15 + 14 = 50 for
 * a 16-byte serial), rounded up: the room reserved up front. */
#define ENTRY_GUESS 64

/* Opens Extension { extnID, critical, extnValue OCTET STRING { ... } };
 * returns the two marks to close, value first. */
static void
ext_begin(struct cs_derw *w, struct cs_oid oid, bool critical, size_t m[2])
{
	m[0] = cs_derw_begin(w, CS_DER_SEQUENCE);
	cs_derw_oid(w, oid);
	if (critical)
		cs_derw_bool(w, true); /* FALSE is the DEFAULT: left out */
	m[1] = cs_derw_begin(w, CS_DER_OCTET_STRING);
}

static void
ext_end(struct cs_derw *w, const size_t m[2])
{
	cs_derw_end(w, m[1]);
	cs_derw_end(w, m[0]);
}

static bool
reason_valid(uint8_t r)
{
	return r < CS_REASON__MAX && r != 7;
}

/* One revokedCertificates element. */
static void
entry(struct cs_derw *w, const struct cs_crl_entry *e)
{
	size_t seq, exts, m[2];
	bool reason = e->reason != CS_REASON_UNSPECIFIED;

	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	cs_derw_int(w, e->serial.b, e->serial.len, e->serial.neg);
	cs_derw_time(w, e->time);
	if (reason || e->invalidity_date != 0) {
		exts = cs_derw_begin(w, CS_DER_SEQUENCE);
		if (reason) {
			ext_begin(w, OID_REASON_CODE, false, m);
			cs_derw_enum(w, e->reason);
			ext_end(w, m);
		}
		if (e->invalidity_date != 0) {
			ext_begin(w, OID_INVALIDITY, false, m);
			cs_derw_gentime(w, e->invalidity_date);
			ext_end(w, m);
		}
		cs_derw_end(w, exts);
	}
	cs_derw_end(w, seq);
}

/* What a Time can hold: years 0000..9999. */
static bool
time_ok(int64_t t)
{
	return t >= -62167219200 && t <= 253402300799;
}

static int
check_params(const struct cs_crl_params *p, char *errmsg)
{
	struct cs_der in = {p->issuer_name, p->issuer_name_len};

	if (p->number == 0) {
		cs_errmsg_printf(errmsg, "CRL: number 0 (numbers start at 1)");
		return CS_EINVAL;
	}
	if (p->next_update <= p->this_update) {
		cs_errmsg_printf(errmsg,
		    "CRL: nextUpdate %lld is not after thisUpdate %lld",
		    (long long)p->next_update, (long long)p->this_update);
		return CS_EINVAL;
	}
	if (!time_ok(p->this_update) || !time_ok(p->next_update)) {
		cs_errmsg_printf(errmsg, "CRL: update times past year 9999");
		return CS_EINVAL;
	}
	if (p->delta_base != 0 && p->delta_base >= p->number) {
		cs_errmsg_printf(errmsg,
		    "CRL: delta %llu on base %llu (the base must be older)",
		    (unsigned long long)p->number,
		    (unsigned long long)p->delta_base);
		return CS_EINVAL;
	}
	if (p->issuer_name == NULL ||
	    cs_der_expect(&in, CS_DER_SEQUENCE, NULL, NULL) < 0 ||
	    in.len != 0) {
		cs_errmsg_printf(errmsg, "CRL: issuer is not one DER Name");
		return CS_EINVAL;
	}
	if (p->issuer_ski != NULL && p->issuer_ski_len == 0) {
		cs_errmsg_printf(errmsg, "CRL: empty issuer key identifier");
		return CS_EINVAL;
	}
	if (p->n > 0 && p->entries == NULL) {
		cs_errmsg_printf(errmsg, "CRL: %zu entries missing", p->n);
		return CS_EINVAL;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct cs_crl_entry *e = &p->entries[i];

		if (!reason_valid(e->reason) ||
		    (e->reason == CS_REASON_REMOVE_FROM_CRL &&
			p->delta_base == 0)) {
			/* RFC 5280 5.3.1: removeFromCRL only in delta CRLs */
			cs_errmsg_printf(errmsg, "CRL: entry %zu: reason %u %s",
			    i, e->reason,
			    reason_valid(e->reason) ? "only in a delta CRL"
						    : "does not exist");
			return CS_EINVAL;
		}
		if (e->serial.len > CS_SERIAL_MAX || !time_ok(e->time) ||
		    !time_ok(e->invalidity_date)) {
			cs_errmsg_printf(errmsg,
			    "CRL: entry %zu: serial or time out of range", i);
			return CS_EINVAL;
		}
	}
	return 0;
}

int
cs_crl_build(const struct cs_crl_params *p, const struct cs_signer *signer,
    struct cs_buf *out, char *errmsg)
{
	struct cs_derw w;
	size_t start = out->len;
	size_t outer, tbs, list, exts, m[2], seq;
	int rc;

	rc = check_params(p, errmsg);
	if (rc < 0)
		return rc;
	cs_derw_init(&w, out);

	/* Entries dominate: make room once (growth would copy megabytes a
	 * few times over; cs_buf_reserve refuses past the cap, in which
	 * case the appends below report it). */
	if (p->n > 0 && p->n < (out->max - out->len) / ENTRY_GUESS)
		(void)cs_buf_reserve(out, p->n * ENTRY_GUESS + 1024);

	outer = cs_derw_begin(&w, CS_DER_SEQUENCE);
	tbs = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_u64(&w, 1); /* v2 */
	cs_derw_raw(&w, signer->algid, signer->algid_len);
	cs_derw_raw(&w, p->issuer_name, p->issuer_name_len);
	cs_derw_time(&w, p->this_update);
	cs_derw_time(&w, p->next_update);

	/* An empty SEQUENCE OF is not DER for an absent OPTIONAL list.
	 * Entries are under 128 bytes (short lengths: nothing moves), and
	 * check_params() made sure they encode: only the cap can stop them,
	 * and the writer's sticky error reports that below. */
	if (p->n > 0) {
		list = cs_derw_begin(&w, CS_DER_SEQUENCE);
		for (size_t i = 0; i < p->n && w.err == 0; i++)
			entry(&w, &p->entries[i]);
		cs_derw_end(&w, list);
	}

	exts = cs_derw_begin(&w, CS_DER_CTX0);
	seq = cs_derw_begin(&w, CS_DER_SEQUENCE);
	if (p->issuer_ski != NULL) {
		size_t aki;

		/* AuthorityKeyIdentifier { keyIdentifier [0] IMPLICIT } */
		ext_begin(&w, OID_AKI, false, m);
		aki = cs_derw_begin(&w, CS_DER_SEQUENCE);
		cs_derw_tlv(&w, 0x80, p->issuer_ski, p->issuer_ski_len);
		cs_derw_end(&w, aki);
		ext_end(&w, m);
	}
	ext_begin(&w, OID_CRL_NUMBER, false, m);
	cs_derw_u64(&w, p->number);
	ext_end(&w, m);
	if (p->delta_base != 0) {
		/* critical: a client that does not know deltas must not take
		 * this for a complete CRL (RFC 5280 5.2.4) */
		ext_begin(&w, OID_DELTA_CRL, true, m);
		cs_derw_u64(&w, p->delta_base);
		ext_end(&w, m);
	} else if (p->freshest_url != NULL) {
		/* CRLDistributionPoints { DistributionPoint {
		 *   distributionPoint [0] { fullName [0] { URI [6] } } } } */
		size_t dps, dp, dpn, full;

		ext_begin(&w, OID_FRESHEST_CRL, false, m);
		dps = cs_derw_begin(&w, CS_DER_SEQUENCE);
		dp = cs_derw_begin(&w, CS_DER_SEQUENCE);
		dpn = cs_derw_begin(&w, CS_DER_CTX0);
		full = cs_derw_begin(&w, CS_DER_CTX0);
		cs_derw_str(&w, 0x86, p->freshest_url);
		cs_derw_end(&w, full);
		cs_derw_end(&w, dpn);
		cs_derw_end(&w, dp);
		cs_derw_end(&w, dps);
		ext_end(&w, m);
	}
	cs_derw_end(&w, seq);
	cs_derw_end(&w, exts);
	cs_derw_end(&w, tbs);

	rc = cs_signer_append(signer, &w, tbs, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "CRL");
		goto fail;
	}
	cs_derw_end(&w, outer);
	if (w.err != 0) {
		rc = w.err;
		cs_errmsg_printf(errmsg, "CRL: %s", cs_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	cs_buf_truncate(out, start); /* nothing appended on error */
	return rc;
}

struct collect {
	struct cs_crl_entry *v;
	size_t n, cap;
};

static void
on_entry(void *arg, const struct cs_cert *c)
{
	struct collect *col = arg;
	struct cs_crl_entry *e;

	if (col->n == col->cap) {
		col->cap = col->cap == 0 ? 256 : col->cap * 2;
		col->v = cs_reallocarray(col->v, col->cap, sizeof *col->v);
	}
	e = &col->v[col->n++];
	cs_cert_serial(c, &e->serial);
	e->time = c->revoked_at;
	e->reason = c->reason;
	e->invalidity_date = c->invalidity_date;
}

void
cs_crl_collect(const struct cs_store *s, const char *issuer,
    uint64_t changed_after, struct cs_crl_entry **out, size_t *n)
{
	struct collect col = {NULL, 0, 0};

	cs_store_crl_entries(s, issuer, changed_after, on_entry, &col);
	*out = col.v;
	*n = col.n;
}
