/* tls-serve's keypairs for other server names, chosen by the client's SNI,
 * named the way s6-networking's s6-tlsd names them: CERTFILE:name and
 * KEYFILE:name in the environment, next to the default pair (-c, -k).
 *
 * libtls does not look at "name": it serves the first added pair whose
 * certificate covers the name the client sent (wildcard certificates
 * included), else the default pair. A pair whose certificate does not
 * cover its own name would never be served, so each name is tried once
 * with a handshake in memory, and tls-serve refuses to start unless the
 * certificate served for it covers it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "str.h"
#include "tls-serve.h"

enum {
	SNI_PAIRS_MAX = 64,
	SHOWN_MAX = 80,         /* bytes of a bad name in a fatal line */
	TRY_STEPS = 64          /* handshake steps each side; a few suffice */
};

static const char CERTVAR[] = "CERTFILE:", KEYVAR[] = "KEYFILE:";

extern char **environ;

static struct {
	char *names[SNI_PAIRS_MAX];
	size_t n;
} pairs;

/* A host name (conf_valid_domain: labels of 1 to 63 letters, digits and
 * '-', at most 253 in all); with wild, "*." may lead. */
static int
host_ok(const char *s, size_t len, int wild)
{
	if (len > SNI_NAME_MAX)
		return 0;
	if (wild && len > 2 && s[0] == '*' && s[1] == '.')
		return conf_valid_domain(s + 2, len - 2);
	return conf_valid_domain(s, len);
}

/* "CERTFILE:name" as the object of a fatal line */
static const char *
var_name(struct str *s, const char *prefix, const char *name)
{
	if (str_copys(s, prefix) < 0 || str_cats(s, name) < 0 || str_0(s) < 0)
		die_nomem(EXIT_TEMP);
	return s->s;
}

static const char *
var_value(const char *prefix, const char *name)
{
	struct str v = STR_INIT;
	const char *val = getenv(var_name(&v, prefix, name));
	str_free(&v);
	return val && *val ? val : NULL;
}

static int
known(const char *name, size_t len)
{
	size_t i;
	for (i = 0; i < pairs.n; i++)
		if (strlen(pairs.names[i]) == len && memcmp(pairs.names[i], name, len) == 0)
			return 1;
	return 0;
}

/* The name in one environment entry "PREFIXname=value", checked. */
static char *
entry_name(const char *e, const char *prefix)
{
	const char *name = e + strlen(prefix), *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	char *copy;
	if (!host_ok(name, len, 1)) {
		struct str shown = STR_INIT;
		size_t i;
		/* the admin's own environment, but shown only as printable ASCII */
		if (str_copys(&shown, prefix) < 0)
			die_nomem(EXIT_TEMP);
		for (i = 0; i < len && i < SHOWN_MAX; i++)
			if (str_catc(&shown, name[i] > ' ' && name[i] < 0x7f ? name[i] : '?') < 0)
				die_nomem(EXIT_TEMP);
		if (str_cats(&shown, i < len ? "..." : "") < 0 || str_0(&shown) < 0)
			die_nomem(EXIT_TEMP);
		die_x(EXIT_TEMP, "use", shown.s,
		      "not a host name (letters, digits, '-' and '.', or '*.' first)");
	}
	if (!(copy = strndup(name, len)))
		die_nomem(EXIT_TEMP);
	return copy;
}

/* "CERTFILE:name (cert.pem)" */
static const char *
pair_what(struct str *s, const char *name)
{
	if (str_copys(s, CERTVAR) < 0 || str_cats(s, name) < 0 || str_cats(s, " (") < 0 ||
	    str_cats(s, var_value(CERTVAR, name)) < 0 || str_catc(s, ')') < 0 || str_0(s) < 0)
		die_nomem(EXIT_TEMP);
	return s->s;
}

void
sni_load(struct tls_config *cfg)
{
	char **e;
	for (e = environ; *e; e++) {
		struct str what = STR_INIT, v = STR_INIT;
		const char *cert, *key;
		char *name;
		if (strncmp(*e, KEYVAR, sizeof KEYVAR - 1) == 0) {
			name = entry_name(*e, KEYVAR);
			if (!var_value(CERTVAR, name))
				die_x(EXIT_TEMP, "use", var_name(&v, KEYVAR, name), "no CERTFILE for that name");
			free(name);
			continue;
		}
		if (strncmp(*e, CERTVAR, sizeof CERTVAR - 1) != 0)
			continue;
		name = entry_name(*e, CERTVAR);
		if (known(name, strlen(name))) {   /* the same variable twice: getenv saw the first */
			free(name);
			continue;
		}
		if (pairs.n == SNI_PAIRS_MAX)
			die_x(EXIT_TEMP, "use", var_name(&v, CERTVAR, name), "more than 64 server names");
		if (!(cert = var_value(CERTVAR, name)))
			die_x(EXIT_TEMP, "use", var_name(&v, CERTVAR, name), "empty");
		if (!(key = var_value(KEYVAR, name)))
			die_x(EXIT_TEMP, "use", var_name(&v, CERTVAR, name), "no KEYFILE for that name");
		keypair_add(cfg, pair_what(&what, name), cert, key);
		pairs.names[pairs.n++] = name;
		str_free(&what);
	}
}

/* One handshake in memory with SNI "name" (a wildcard's "*" becomes a
 * label): 1 if the certificate served covers the name. */
static int
try_name(struct tls *srv, const char *name, struct str *why)
{
	struct tls_config *cc = tls_config_new();
	struct tls *cli = tls_client(), *conn = NULL;
	struct str asked = STR_INIT;
	int sv[2], cdone = 0, sdone = 0, i, covered = 0;
	if (!cc || !cli)
		die_nomem(EXIT_TEMP);
	if (str_copys(&asked, name[0] == '*' ? "sni-check" : "") < 0 ||
	    str_cats(&asked, name[0] == '*' ? name + 1 : name) < 0 || str_0(&asked) < 0)
		die_nomem(EXIT_TEMP);
	/* only which certificate comes is asked, not whether a client trusts it */
	tls_config_insecure_noverifycert(cc);
	tls_config_insecure_noverifyname(cc);
	tls_config_insecure_noverifytime(cc);
	if (tls_configure(cli, cc) < 0)
		die_x(EXIT_TEMP, "configure", "TLS", tls_error(cli));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		die_sys(EXIT_TEMP, "create", "socket pair");
	if (tls_connect_socket(cli, sv[0], asked.s) < 0)
		die_x(EXIT_TEMP, "check", name, tls_error(cli));
	if (tls_accept_socket(srv, &conn, sv[1]) < 0)
		die_x(EXIT_TEMP, "check", name, tls_error(srv));
	for (i = 0; i < TRY_STEPS && !(cdone && sdone); i++) {
		int r;
		if (!cdone && (r = tls_handshake(cli)) != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) {
			if (r < 0)
				break;
			cdone = 1;
		}
		if (!sdone && (r = tls_handshake(conn)) != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) {
			if (r < 0)
				break;
			sdone = 1;
		}
	}
	if (!cdone) {
		const char *err = tls_error(conn) ? tls_error(conn) : tls_error(cli);
		if (str_copys(why, err ? err : "the handshake did not finish") < 0)
			die_nomem(EXIT_TEMP);
	} else {
		covered = tls_peer_cert_contains_name(cli, asked.s) == 1;
	}
	tls_free(conn);
	tls_free(cli);
	tls_config_free(cc);
	close(sv[0]);
	close(sv[1]);
	str_free(&asked);
	return covered;
}

void
sni_blame(void)
{
	size_t i;
	for (i = 0; i < pairs.n; i++) {
		struct str what = STR_INIT;
		keypair_probe(pair_what(&what, pairs.names[i]), var_value(CERTVAR, pairs.names[i]),
		              var_value(KEYVAR, pairs.names[i]));
		str_free(&what);
	}
}

void
sni_check(struct tls *srv)
{
	size_t i;
	for (i = 0; i < pairs.n; i++) {
		struct str v = STR_INIT, why = STR_INIT;
		if (!try_name(srv, pairs.names[i], &why))
			die_x(EXIT_TEMP, "serve", var_name(&v, CERTVAR, pairs.names[i]),
			      why.len && str_0(&why) == 0 ? why.s :
			      "its certificate does not cover the name (a client asking for it would get another one)");
	}
}

void
sni_keys_private(void)
{
	size_t i;
	for (i = 0; i < pairs.n; i++)
		key_private(var_value(KEYVAR, pairs.names[i]));
}

void
sni_unsetenv(void)
{
	size_t i;
	for (i = 0; i < pairs.n; i++) {
		struct str v = STR_INIT;
		if (unsetenv(var_name(&v, CERTVAR, pairs.names[i])) < 0 ||
		    unsetenv(var_name(&v, KEYVAR, pairs.names[i])) < 0)
			die_sys(EXIT_TEMP, "unset", v.s);
		str_free(&v);
	}
}

const char *
sni_client(struct tls *conn, char buf[SNI_NAME_MAX + 1])
{
	const char *s = tls_conn_servername(conn);
	size_t len, i;
	if (!s)
		return NULL;
	len = strnlen(s, SNI_NAME_MAX + 1);
	if (!host_ok(s, len, 0))
		return NULL;
	for (i = 0; i < len; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[len] = '\0';
	return buf;
}
