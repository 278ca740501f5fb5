/* The protocol-server side of UCSPI-TLS (ucspi-ssl's sslserver -n,
 * s6-networking's s6-ucspitlsd, and our tls-serve):
 *
 *   SSLCTLFD   control fd; the server writes "Y" to it to start TLS
 *   SSLREADFD  after that, read cleartext from here
 *   SSLWRITEFD after that, write cleartext here
 *   UCSPITLS   set when STARTTLS is possible; "!" means TLS is mandatory
 *              before AUTH/MAIL/USER/LOGIN
 *
 * After a successful handshake tls-serve writes the TLS facts on the
 * control fd as "SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=...\0\0" (with
 * "SSL_TLS_SNI_SERVERNAME=name\0" before the last NUL when the client
 * asked for a server name, as s6-ucspitlsd sends it); with implicit
 * TLS (tls-serve -i) the same variables are in the environment. Other
 * wrappers may send nothing, so the facts are read without blocking.
 * tls-serve sends them before the first cleartext byte, so ask once the
 * first command inside TLS has been read (e.g. at EHLO or when writing
 * Received:), not right after ucspitls_start: the handshake is not done
 * yet then. A later call finishes reading what an earlier one began. */
#ifndef UCSPITLS_H
#define UCSPITLS_H

#include "str.h"

int ucspitls_available(void);   /* 1 if SSLCTLFD, SSLREADFD, SSLWRITEFD are usable */
int ucspitls_required(void);    /* 1 if UCSPITLS is "!" */
int ucspitls_implicit(void);    /* 1 if already inside TLS (SSL_PROTOCOL in env) */

/* Ask the wrapper for TLS. On 0, *rfd and *wfd are the new cleartext fds
 * (the caller must discard anything buffered from the old ones and reset
 * its session state). -1 errno. */
int ucspitls_start(int *rfd, int *wfd);

/* The negotiated protocol and cipher, e.g. "TLSv1.3:TLS_AES_256_GCM_SHA384",
 * from the environment or (after ucspitls_start) the control fd, read
 * without blocking. 1 known, 0 unknown. */
int ucspitls_info(struct str *protocol, struct str *cipher);

#endif
