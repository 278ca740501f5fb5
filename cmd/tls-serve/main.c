/* tls-serve: TLS for a protocol server under tcpserver, UCSPI-TLS style.
 *
 *   root:   load certificate and key (libtls keeps them in this process)
 *   drop:   setgroups, setresgid, setresuid to -u or $UID/$GID; not dumpable
 *   -i:     handshake on fds 0/1, then run prog on cleartext pipes
 *   else:   run prog on the plain network fds with SSLCTLFD/SSLREADFD/
 *           SSLWRITEFD; on "Y" handshake and relay to those fds
 *
 * prog never holds the key; the key never leaves this process. Before
 * STARTTLS this process does not read the network at all, so bytes a
 * client pipelines after STARTTLS either sit in prog's buffer (prog
 * discards them) or reach libtls as handshake garbage: never cleartext. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "scan.h"
#include "str.h"
#include "tls-serve.h"

/* What LibreSSL's "secure" means (TLS 1.2: ECDHE and AEAD only), spelled so
 * that OpenSSL reads it too: libretls takes "secure" as OpenSSL's default
 * list, with static RSA and CBC-SHA1. "TLSv1.3" leads as in LibreSSL's
 * own list; OpenSSL skips it (it sets those suites apart). */
#define TLS12_CIPHERS "TLSv1.3:ECDHE+AESGCM:ECDHE+CHACHA20"

#define USAGE "tls-serve [-i] [-r] [-c cert] [-k key] [-u uid:gid|user] [-t handshake[:idle]] prog... | tls-serve -C [-c cert] [-k key]"

enum {
	HANDSHAKE_S = 30,
	IDLE_S = 3600,         /* above IMAP's 30-minute autologout; servers time out first */
	TIMEOUT_MAX_S = 86400
};

struct opts {
	int implicit, required, check;   /* check: -C, check the setup and exit */
	const char *cert, *key, *user;
	int handshake_ms, idle_ms;
};

static int sigchld_pipe[2] = { -1, -1 };

static void
on_sigchld(int sig)
{
	int e = errno;
	(void)sig;
	if (write(sigchld_pipe[1], "", 1) < 0) {
		/* full pipe: a wakeup is already pending */
	}
	errno = e;
}

static const char *
tls_path(struct str *s, const char *file)
{
	if (str_copys(s, conf_dir()) < 0 || str_cats(s, "/tls/") < 0 || str_cats(s, file) < 0 || str_0(s) < 0)
		die_nomem(EXIT_TEMP);
	return s->s;
}

static void
parse_timeouts(struct opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	unsigned long long hs, idle;
	size_t hlen = colon ? (size_t)(colon - arg) : strlen(arg);
	if (scan_ulong(arg, hlen, TIMEOUT_MAX_S, &hs) < 0 || hs == 0)
		die_usage(USAGE);
	o->handshake_ms = (int)hs * 1000;
	if (colon) {
		if (scan_ulongz(colon + 1, TIMEOUT_MAX_S, &idle) < 0 || idle == 0)
			die_usage(USAGE);
		o->idle_ms = (int)idle * 1000;
	}
}

static struct tls *
server_new(const struct opts *o)
{
	struct tls_config *cfg;
	struct tls *srv;
	if (tls_init() < 0)
		die_msg(EXIT_TEMP, "unable to initialise libtls");
	if (!(cfg = tls_config_new()) || !(srv = tls_server()))
		die_nomem(EXIT_TEMP);
	if (tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0 ||
	    tls_config_set_ciphers(cfg, TLS12_CIPHERS) < 0)
		die_x(EXIT_TEMP, "configure", "TLS", tls_config_error(cfg));
	if (tls_config_set_cert_file(cfg, o->cert) < 0)
		die_x(EXIT_TEMP, "load", o->cert, tls_config_error(cfg));
	key_load(cfg, o->key);
	sni_load(cfg);
	if (tls_configure(srv, cfg) < 0) {
		sni_blame();
		die_x(EXIT_TEMP, "configure", "TLS", tls_error(srv));
	}
	/* whether each SNI certificate covers its name costs a handshake per
	 * name; asked for by -C (after a change), not paid per connection */
	if (o->check)
		sni_check(srv);
	tls_config_clear_keys(cfg);
	tls_config_free(cfg);
	return srv;
}

static void
setenv_or_die(const char *k, const char *v)
{
	if (setenv(k, v, 1) < 0)
		die_nomem(EXIT_TEMP);
}

static void
setenv_fd(const char *k, int fd)
{
	struct str s = STR_INIT;
	if (str_catu(&s, (unsigned long long)fd) < 0 || str_0(&s) < 0)
		die_nomem(EXIT_TEMP);
	setenv_or_die(k, s.s);
	str_free(&s);
}

static void
cloexec(int fd)
{
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		die_sys(EXIT_TEMP, "set", "close-on-exec");
}

static void
pipe_or_die(int p[2])
{
	if (pipe(p) < 0)
		die_sys(EXIT_TEMP, "create", "pipe");
}

/* Child: fds are in place; exec prog. */
static pid_t
spawn(char **argv, int in, int out)
{
	pid_t pid = fork();
	if (pid < 0)
		die_sys(EXIT_TEMP, "fork", NULL);
	if (pid > 0)
		return pid;
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (in >= 0) {
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
			die_sys(EXIT_TEMP, "set up", "prog fds");
		close(in);
		close(out);
	}
	execvp(argv[0], argv);
	die_sys(EXIT_TEMP, "run", argv[0]);
}

static int
wait_prog(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			*status = 0;
			return EXIT_TEMP;
		}
	}
	if (WIFEXITED(*status))
		return WEXITSTATUS(*status);
	return EXIT_TEMP;
}

static void
log_conn(const struct conn *c, const char *mode, int status, int code)
{
	struct logline l;
	log_begin(&l, "conn");
	log_kv(&l, "ip", getenv("TCPREMOTEIP"));
	log_kv(&l, "mode", mode);
	if (c->handshaken) {
		char sni[SNI_NAME_MAX + 1];
		log_kv(&l, "tls", tls_conn_version(c->tls));
		log_kv(&l, "cipher", tls_conn_cipher(c->tls));
		log_kv(&l, "sni", sni_client(c->tls, sni));
	}
	log_kvu(&l, "in", c->bytes_in);
	log_kvu(&l, "out", c->bytes_out);
	log_kv(&l, "result", c->result);
	if (c->reason[0])
		log_kv(&l, "reason", c->reason);
	if (status >= 0) {
		if (WIFSIGNALED(status))
			log_kvu(&l, "signal", (unsigned long long)WTERMSIG(status));
		else
			log_kvu(&l, "status", (unsigned long long)code);
	}
	log_end(&l);
}

/* Facts for the server's logs and Received: line, before any cleartext. */
static void
send_facts(int ctl, struct tls *t)
{
	struct str s = STR_INIT;
	char buf[SNI_NAME_MAX + 1];
	const char *v = tls_conn_version(t), *ci = tls_conn_cipher(t), *sni = sni_client(t, buf);
	if (str_cats(&s, "SSL_PROTOCOL=") < 0 || str_cats(&s, v ? v : "") < 0 || str_catc(&s, '\0') < 0 ||
	    str_cats(&s, "SSL_CIPHER=") < 0 || str_cats(&s, ci ? ci : "") < 0 || str_catc(&s, '\0') < 0)
		die_nomem(EXIT_TEMP);
	/* s6-ucspitlsd's name; absent when the client sent none */
	if (sni && (str_cats(&s, "SSL_TLS_SNI_SERVERNAME=") < 0 || str_cats(&s, sni) < 0 || str_catc(&s, '\0') < 0))
		die_nomem(EXIT_TEMP);
	if (str_catc(&s, '\0') < 0)
		die_nomem(EXIT_TEMP);
	if (buf_writeall(ctl, s.s, s.len, CLOSE_MS, 0) < 0)
		warn_sys("send", "TLS facts");
	str_free(&s);
}

static int
run_implicit(const struct opts *o, struct tls *srv, char **argv)
{
	struct conn c = { .netr = 0, .netw = 1, .result = "ok" };
	int in[2], out[2], status = -1, code;
	char sni[SNI_NAME_MAX + 1];
	const char *name;
	pid_t pid;
	if (conn_accept(&c, srv, o->handshake_ms) < 0) {
		conn_close(&c);
		log_conn(&c, "implicit", -1, 0);
		return EXIT_TEMP;
	}
	unsetenv("UCSPITLS");
	unsetenv("SSLCTLFD");
	unsetenv("SSLREADFD");
	unsetenv("SSLWRITEFD");
	setenv_or_die("SSL_PROTOCOL", tls_conn_version(c.tls));
	setenv_or_die("SSL_CIPHER", tls_conn_cipher(c.tls));
	if ((name = sni_client(c.tls, sni)))
		setenv_or_die("SSL_TLS_SNI_SERVERNAME", name);
	else
		unsetenv("SSL_TLS_SNI_SERVERNAME");
	pipe_or_die(in);
	pipe_or_die(out);
	cloexec(in[1]);
	cloexec(out[0]);
	pid = spawn(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	c.to_prog = in[1];
	c.from_prog = out[0];
	conn_relay(&c, o->idle_ms, o->handshake_ms);
	conn_close(&c);
	if (c.to_prog >= 0)
		close(c.to_prog);
	close(c.from_prog);
	code = wait_prog(pid, &status);
	log_conn(&c, "implicit", status, code);
	return code;
}

/* Before STARTTLS: wait for "Y" from prog, or for prog to end. 1 on "Y"
 * (send the facts), 2 on "y" (s6-ucspitlsd's "no facts, please"), 0 when
 * prog ended without TLS. */
static int
await_start(int ctl, pid_t pid, int *status, int *code)
{
	struct pollfd p[2] = { { .fd = ctl, .events = POLLIN }, { .fd = sigchld_pipe[0], .events = POLLIN } };
	for (;;) {
		char ch;
		ssize_t n;
		pid_t w;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die_sys(EXIT_TEMP, "poll", NULL);
		if (p[0].revents) {
			n = read(ctl, &ch, 1);
			if (n == 1 && (ch == 'Y' || ch == 'y'))
				return ch == 'Y' ? 1 : 2;
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				p[0].fd = -1;     /* prog closed it; wait for its exit */
		}
		if (p[1].revents) {
			char drain[64];
			if (read(sigchld_pipe[0], drain, sizeof drain) < 0) {
				/* nonblocking: nothing left */
			}
		}
		w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			*code = WIFEXITED(*status) ? WEXITSTATUS(*status) : EXIT_TEMP;
			return 0;
		}
	}
}

static int
run_starttls(const struct opts *o, struct tls *srv, char **argv)
{
	struct conn c = { .netr = 0, .netw = 1, .result = "ok" };
	int ctl[2], in[2], out[2], status = -1, code = 0, start;
	pid_t pid;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) < 0)
		die_sys(EXIT_TEMP, "create", "control socket");
	pipe_or_die(in);
	pipe_or_die(out);
	pipe_or_die(sigchld_pipe);
	cloexec(ctl[0]);
	cloexec(in[1]);
	cloexec(out[0]);
	cloexec(sigchld_pipe[0]);
	cloexec(sigchld_pipe[1]);
	(void)fcntl(sigchld_pipe[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(sigchld_pipe[1], F_SETFL, O_NONBLOCK);
	signal(SIGCHLD, on_sigchld);
	setenv_fd("SSLCTLFD", ctl[1]);
	setenv_fd("SSLREADFD", in[0]);
	setenv_fd("SSLWRITEFD", out[1]);
	setenv_or_die("UCSPITLS", o->required ? "!" : "");
	unsetenv("SSL_PROTOCOL");
	unsetenv("SSL_CIPHER");
	unsetenv("SSL_TLS_SNI_SERVERNAME");
	pid = spawn(argv, -1, -1);
	close(ctl[1]);
	close(in[0]);
	close(out[1]);
	c.to_prog = in[1];
	c.from_prog = out[0];
	start = await_start(ctl[0], pid, &status, &code);
	if (!start) {
		c.result = "plain";
		log_conn(&c, "starttls", status, code);
		return code;
	}
	if (conn_accept(&c, srv, o->handshake_ms) == 0) {
		if (start == 1)
			send_facts(ctl[0], c.tls);
		conn_relay(&c, o->idle_ms, o->handshake_ms);
	}
	conn_close(&c);
	if (c.to_prog >= 0)
		close(c.to_prog);
	close(c.from_prog);
	close(ctl[0]);
	code = wait_prog(pid, &status);
	log_conn(&c, "starttls", status, code);
	return code;
}

/* CERTFILE and KEYFILE, as s6-tlsd and sslserver name the default pair,
 * when no flag names either: a service moved from those keeps its run
 * script. Both or neither, so that no half comes from elsewhere; removed
 * from prog's environment as the named pairs are. */
static void
default_pair_env(struct opts *o)
{
	const char *c = getenv("CERTFILE"), *k = getenv("KEYFILE");
	int hc = c && *c, hk = k && *k;
	if (hc != hk)
		die_x(EXIT_TEMP, "use", hc ? "CERTFILE" : "KEYFILE", hc ? "no KEYFILE beside it" : "no CERTFILE beside it");
	if (hc) {
		o->cert = c;
		o->key = k;
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { .handshake_ms = HANDSHAKE_S * 1000, .idle_ms = IDLE_S * 1000 };
	struct str cert = STR_INIT, key = STR_INIT;
	struct tls *srv;
	int opt;

	die_init("tls-serve");
	while ((opt = getopt(argc, argv, "+Circ:k:u:t:")) != -1) {
		switch (opt) {
		case 'C': o.check = 1; break;
		case 'i': o.implicit = 1; break;
		case 'r': o.required = 1; break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'u': o.user = optarg; break;
		case 't': parse_timeouts(&o, optarg); break;
		default: die_usage(USAGE);
		}
	}
	argv += optind;
	if ((*argv != NULL) == (o.check != 0))   /* -C runs no prog */
		die_usage(USAGE);
	if (!o.cert && !o.key)
		default_pair_env(&o);
	if (!o.cert)
		o.cert = tls_path(&cert, "cert.pem");
	if (!o.key)
		o.key = tls_path(&key, "key.pem");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap prog and lose its status */

	srv = server_new(&o);          /* as root: the key is read here, once */
	if (o.check)
		return 0;
	/* the key must stay ours alone: prog gets the ids we drop to */
	if (drop_privileges(o.user)) {
		key_private(o.key);
		sni_keys_private();
	}
	sni_unsetenv();
	if (unsetenv("CERTFILE") < 0 || unsetenv("KEYFILE") < 0)
		die_sys(EXIT_TEMP, "unset", "CERTFILE");

	return o.implicit ? run_implicit(&o, srv, argv) : run_starttls(&o, srv, argv);
}
