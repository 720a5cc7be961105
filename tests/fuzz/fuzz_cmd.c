/*
 * fuzz_cmd.c - libFuzzer target for everything that decodes bytes from
 * the log or from a peer: command entries (and applying what decodes),
 * snapshots, and the namespace documents.
 *
 * Build: ./configure CC=clang --enable-fuzzing && make fuzz
 * Run:   tests/fuzz/run.sh (one minute per target)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cmd.h"
#include "cert/doc.h"
#include "cert/snapshot.h"
#include "cert/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_store *s = cs_store_new();
	struct cs_store *back = NULL;
	struct cs_result res;
	uint8_t *entry;
	size_t len = (size + 8 + 7) / 8 * 8;

	/* as a raw entry (header included in the input) */
	cs_cmd_apply_entry(s, data, size, 1, &res);
	/* as a payload in a well-formed frame, so the fuzzer reaches the
	 * msgpack reader without having to guess the header */
	entry = calloc(1, len);
	if (entry != NULL) {
		uint32_t plen = (uint32_t)size, version = CS_CMD_FORMAT;

		memcpy(entry, &plen, 4);
		memcpy(entry + 4, &version, 4);
		memcpy(entry + 8, data, size);
		cs_cmd_apply_entry(s, entry, len, 2, &res);
		free(entry);
	}
	if (cs_snapshot_decode(data, size, &back, NULL) == 0)
		cs_store_free(back);
	for (int ns = 1; ns < CS_NS__MAX; ns++)
		cs_doc_validate((enum cs_ns)ns, data, size, NULL);
	cs_store_free(s);
	return 0;
}
