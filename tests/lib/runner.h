/*
 * runner.h - CS_TEST_MAIN(suite_fn): the main() of every Check binary.
 *
 * Runs the suite with CK_ENV verbosity (CK_VERBOSITY=verbose for names),
 * honours CK_RUN_SUITE / CK_RUN_CASE and CK_FORK=no (for gdb/valgrind),
 * and exits non-zero when any test failed.
 */
#ifndef CS_TEST_RUNNER_H
#define CS_TEST_RUNNER_H

#include <check.h>
#include <stdlib.h>

#define CS_TEST_MAIN(suite_fn)                                                 \
	int main(void)                                                         \
	{                                                                      \
		SRunner *sr = srunner_create(suite_fn());                      \
		int failed;                                                    \
		srunner_run_all(sr, CK_ENV);                                   \
		failed = srunner_ntests_failed(sr);                            \
		srunner_free(sr);                                              \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;              \
	}

#endif
