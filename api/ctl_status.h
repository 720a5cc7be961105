/*
 * ctl_status.h - certctl crl and ocsp: what a relying party learns about
 * certificates, asked of one node's plain-HTTP listener (the URLs issued
 * certificates carry point there).
 *
 * Both verify what they get before they show it, as a relying party
 * would: the CRL's signature with the issuer's certificate, the OCSP
 * response's signature, its responder's authority, its nonce and its
 * times. An answer that does not verify is exit 1.
 */
#ifndef CS_CTL_STATUS_H
#define CS_CTL_STATUS_H

#include "api/ctl.h"

extern const struct cs_ctl_command cs_ctl_status_commands[];

#endif
