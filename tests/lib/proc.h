/*
 * proc.h - run the openssl CLI (or any shell command) from a test, in a
 * temporary directory that the test removes again (tests only).
 *
 * Used where a test cross-checks our encoders against what `openssl crl`,
 * `openssl verify` and `openssl ocsp` say. Everything here aborts on
 * failure to run (a test that cannot start a process is broken); the
 * command's own exit status is returned for the test to judge.
 */
#ifndef CS_TEST_PROC_H
#define CS_TEST_PROC_H

#include <stddef.h>

/* Runs the formatted command with `sh -c`, stderr joined to stdout.
 * Returns its output (new, free()); *status gets the exit status (-1 if
 * it did not exit normally). */
char *cs_test_run(int *status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A new, empty directory /tmp/cs-test-<tag>-XXXXXX. Returns its path
 * (new; give it to cs_test_tmpdir_free()). */
char *cs_test_tmpdir_new(const char *tag);

/* A new, empty directory inside parent (parent/t-XXXXXX), the same way.
 * A Check test that fails leaves its forked child with _exit(), without
 * its teardown: make the parent directory in an unchecked fixture (the
 * runner's process) and one of these per test in the checked one, and
 * the unchecked teardown removes whatever a failed test left. */
char *cs_test_tmpdir_sub(const char *parent);

/* Removes dir and everything in it, and frees the path. NULL is a
 * no-op. */
void cs_test_tmpdir_free(char *dir);

/* "dir/name" (new, free()). */
char *cs_test_path(const char *dir, const char *name);

/* Reads a whole file (new, free(); NUL-terminated beyond *len), or NULL
 * when it cannot be opened. */
char *cs_test_slurp(const char *path, size_t *len);

#endif
