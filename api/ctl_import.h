/*
 * ctl_import.h - certctl import: PEM bundles and DER files, checked
 * locally with the server's own parser, sent in batches of at most 1000
 * certificates (the API's cap per request), with a progress bar.
 */
#ifndef CS_CTL_IMPORT_H
#define CS_CTL_IMPORT_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_import_commands[];

#endif
