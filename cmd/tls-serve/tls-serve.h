/* tls-serve internals: the TLS side of one connection. */
#ifndef TLS_SERVE_H
#define TLS_SERVE_H

#include <tls.h>

enum {
	RELAY_BUF = 16384,              /* one TLS record of cleartext */
	CLOSE_MS = 2000,                /* close_notify and lingering drain */
	REASON_MAX = 200,
	SNI_NAME_MAX = 253              /* a host name, RFC 1035 */
};

struct conn {
	struct tls *tls;
	int netr, netw;                 /* the network: tcpserver's fds 0 and 1 */
	int to_prog, from_prog;         /* cleartext pipes to and from prog */
	unsigned long long bytes_in;    /* cleartext client -> prog */
	unsigned long long bytes_out;   /* cleartext prog -> client */
	int handshaken;                 /* the handshake completed */
	const char *result;             /* "ok", or why the session ended */
	char reason[REASON_MAX];        /* libtls's error text, or empty */
};

/* 0 handshake done; -1 failed (c->result, c->reason say why). */
int conn_accept(struct conn *c, struct tls *server, int timeout_ms);
/* Relays until prog closes its output and that output is delivered, an
 * error, the idle timeout, or flush_ms after prog closed its output. */
void conn_relay(struct conn *c, int idle_ms, int flush_ms);
/* close_notify, FIN, and a drain until the peer closes or CLOSE_MS, so the
 * peer gets our last bytes. */
void conn_close(struct conn *c);

/* The private key into cfg; dies 111 when it cannot be read or when its
 * mode lets others read or write it, or its group write it. */
void key_load(struct tls_config *cfg, const char *path);

/* One more keypair for SNI, its key read as key_load reads it; what
 * names it in a fatal line. Dies 111 when a file cannot be read. */
void keypair_add(struct tls_config *cfg, const char *what, const char *cert, const char *key);
/* Dies 111 saying why when this pair alone fails tls_configure (a broken
 * chain, a key that is not the certificate's); returns when it loads. */
void keypair_probe(const char *what, const char *cert, const char *key);

/* The CERTFILE:name / KEYFILE:name pairs from the environment into cfg;
 * dies 111 on a bad name, a missing half, an unreadable file. */
void sni_load(struct tls_config *cfg);
/* After tls_configure failed: dies 111 naming the pair to blame, if one
 * alone fails; returns if none does. */
void sni_blame(void);
/* After tls_configure: dies 111 unless each name gets a certificate that
 * covers it. */
void sni_check(struct tls *srv);
/* Keeps the pairs' variables from prog, as s6-tlsd does. */
void sni_unsetenv(void);
/* The name the client asked for, lowercased into buf; NULL when none or
 * not a plain host name. */
const char *sni_client(struct tls *conn, char buf[SNI_NAME_MAX + 1]);

/* To -u (uid:gid or a user) or else $UID/$GID; dies 100/111 on failure.
 * 1 when it left root for another uid. */
int drop_privileges(const char *user);
/* After the drop: dies 111 if we, and so prog, could still open the key
 * (its group is prog's, or an ACL lets it). */
void key_private(const char *path);
/* key_private for each KEYFILE:name. */
void sni_keys_private(void);

#endif
