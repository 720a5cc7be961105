/*
 * ctl_certs.h - certctl's certificate commands: search, show, set,
 * revoke, unhold, revoke-bulk, expiring, rotation-due.
 */
#ifndef CS_CTL_CERTS_H
#define CS_CTL_CERTS_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_certs_commands[];

/* Prints a certificate document (GET /v1/certs/{fp}) as "key  value"
 * lines with the full fingerprint; with its PEM when it has one. */
void cs_ctl_certs_print(struct cs_ctl *ctl, const json_t *cert);

#endif
