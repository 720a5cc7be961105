/*
 * ctl_ca.h - certctl's issuer commands: list, show, create (a root, an
 * intermediate, or --register an existing CA), delete.
 *
 * The key of a new CA is made here and written, mode 0600, to a file that
 * did not exist (it is reserved before anything is sent), or stays in an
 * HSM; only its reference (key_ref) goes to the cluster, and every node
 * resolves it itself. A new key file is removed again when the server
 * refuses the CA (4xx); after a 5xx or no answer it stays, since the
 * cluster may yet take it.
 */
#ifndef CS_CTL_CA_H
#define CS_CTL_CA_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_ca_commands[];

#endif
