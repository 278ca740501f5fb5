/* sendmail: the sendmail-compatible injector. Options as sendmail(8) and
 * Postfix's sendmail(1) know them; the message goes to $QMAILQUEUE or
 * queue-add by the qmail-queue protocol. Exit codes from sysexits.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "dsn.h"
#include "addrlist.h"
#include "exitcode.h"
#include "log.h"
#include "sendmail.h"
#include "smtpaddr.h"

#define USAGE "sendmail [-t] [-i] [-oi] [-f SENDER | -r SENDER] [-F NAME] [-N DSN] [-R RET] [-V ENVID] [-v] [-bs | -bm | -bp | -q] [--] [RCPT...]"

struct opts {
	int t, i, v, bs, bp;
	int q;   /* -q: 1 run the queue now, 2 an interval (ignored) */
	const char *from;     /* -f, or NULL */
	const char *name;     /* -F, or NULL */
	const char *notify, *ret, *envid;   /* -N, -R, -V (DSN), or NULL */
};

_Noreturn static void
usage(void)
{
	warn_msg("usage: " USAGE);
	_exit(EX_USAGE);
}

/* sendmail's options: clustered flags, values attached or in the next word */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int k;
	for (k = 1; k < argc; k++) {
		char *a = argv[k];
		if (a[0] != '-' || a[1] == 0)
			break;
		if (strcmp(a, "--") == 0)
			return k + 1;
		for (a++; *a; a++) {
			char c = *a;
			const char *val = NULL;
			/* take a value: as sendmail's getopt string (and Postfix's,
			 * which has A: and e: too), else the word after -A, -e or
			 * -d would be taken for a recipient */
			if (strchr("fFoBNRVXLCOhrpAed", c)) {
				if (a[1])
					val = a + 1;
				else if (k + 1 < argc)
					val = argv[++k];
				else
					usage();
			}
			switch (c) {
			case 't': o->t = 1; break;
			case 'i': o->i = 1; break;
			case 'v': o->v = 1; break;
			case 'f': case 'r': o->from = val; break;
			case 'F': o->name = val; break;
			case 'N': o->notify = val; break;
			case 'R': o->ret = val; break;
			case 'V': o->envid = val; break;
			case 'o':
				if (val[0] == 'i' && val[1] == 0)
					o->i = 1;
				break;   /* other -o options are ignored */
			case 'b':
				if (strcmp(a, "bs") == 0)
					o->bs = 1;
				else if (strcmp(a, "bp") == 0)
					o->bp = 1;
				else if (strcmp(a, "bm") != 0)
					usage();
				a = "b"; /* the rest of the word was the mode */
				break;
			case 'B': case 'X': case 'L': case 'C':
			case 'O': case 'h': case 'p': case 'A': case 'e': case 'd':
				break;   /* accepted and ignored */
			case 'q':
				/* -q: deliver what waits now (queue-list retry all), as
				 * Postfix's sendmail runs postqueue -f; -q15m: an
				 * interval for a queue daemon, which queue-run is on its
				 * own, so nothing to do; -qR, -qS, -qI: not offered */
				if (a[1] == 0)
					o->q = 1;
				else if (a[1] >= '0' && a[1] <= '9')
					o->q = 2;
				else
					usage();
				a = "q";   /* the rest of the word was the interval */
				break;
			case 'U': case 'm': case 'n': case 'G':
				break;
			default:
				usage();
			}
			if (val)
				break;
		}
	}
	return k;
}

/* A closed 0, 1 or 2 gets /dev/null, as Postfix's sendmail does: else
 * pipe(2) hands out that number and moving the pipes into place in the
 * queue program closed its envelope. 1 when fd 0 was closed. */
static int
open_std_fds(void)
{
	int fd, closed0 = 0;
	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		closed0 |= fd == 0;
		if (open("/dev/null", O_RDWR) != fd)
			_exit(EX_OSERR);
	}
	return closed0;
}

/* name in our own directory (the installed pair finds each other, also
 * through a link such as mailq, and under cron's short PATH) into sib:
 * 0, or -1 when our directory is unknown */
static int
sibling(const char *argv0, const char *name, struct str *sib)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	const char *dir = argv0, *slash;
	if (n > 0) {
		self[n] = 0;
		dir = self;
	}
	slash = dir ? strrchr(dir, '/') : NULL;
	return slash && str_copyb(sib, dir, (size_t)(slash - dir + 1)) == 0 &&
	    str_cats(sib, name) == 0 && str_0(sib) == 0 ? 0 : -1;
}

/* run av[0] from our own directory, else from PATH; code if neither */
_Noreturn static void
exec_sibling_av(const char *argv0, char **av, int code)
{
	struct str sib = STR_INIT;
	if (sibling(argv0, av[0], &sib) == 0)
		execv(sib.s, av);
	execvp(av[0], av);
	warn_sys("run", av[0]);
	_exit(code);
}

_Noreturn static void
exec_sibling(const char *argv0, char *name, int code)
{
	char *av[2] = { name, NULL };
	exec_sibling_av(argv0, av, code);
}

/* -bs: one SMTP session on stdin/stdout by smtp-recv, trusted like a local
 * submission (relaying allowed). */
_Noreturn static void
exec_smtp_recv(const char *argv0)
{
	if (setenv("RELAYCLIENT", "", 1) < 0 || setenv("TCPREMOTEIP", "127.0.0.1", 1) < 0 ||
	    setenv("TCPREMOTEHOST", "localhost", 1) < 0 || setenv("TCPLOCALIP", "127.0.0.1", 1) < 0 ||
	    setenv("PROTO", "TCP", 1) < 0)
		_exit(EX_TEMPFAIL);
	unsetenv("SSLCTLFD");
	unsetenv("SSLREADFD");
	unsetenv("SSLWRITEFD");
	unsetenv("UCSPITLS");
	unsetenv("SSL_PROTOCOL");   /* a pipe, not TLS: smtp-recv takes these for implicit TLS */
	unsetenv("SSL_CIPHER");
	unsetenv("SMTPROLE");
	/* smtp-recv's own queue writing needs the queue's rights, which a
	 * user lacks; queue-add beside us may be setgid to the queue's group */
	if (!getenv("QMAILQUEUE") || !*getenv("QMAILQUEUE")) {
		struct str qa = STR_INIT;
		if (sibling(argv0, "queue-add", &qa) == 0 && access(qa.s, X_OK) == 0 && setenv("QMAILQUEUE", qa.s, 1) < 0)
			_exit(EX_TEMPFAIL);
		str_free(&qa);
	}
	exec_sibling(argv0, "smtp-recv", EX_UNAVAILABLE);
}

/* an envelope address: bounded, no controls, blanks only inside a quoted
 * local part; '@me' added when bare (an '@' inside quotes is no domain).
 * What is appended must be an RFC 5321 Mailbox, as smtp-recv takes: "a@"
 * or "a@x..y" was queued, then bounced by every peer. A Mailbox also
 * passes the check smtp-send makes before it sends (smtpaddr_field_ok). */
static int
address(struct str *out, const char *a, size_t n, const struct str *me)
{
	size_t i, start = out->len;
	int inq = 0, domain = 0;
	if (n == 0 || n > SM_ADDR_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < ' ' || c == 0x7f || c == '<' || c == '>')
			return -1;
		if (inq) {
			if (c == '\\' && i + 1 < n && (unsigned char)a[i + 1] >= ' ' && a[i + 1] != 0x7f)
				i++;
			else if (c == '"')
				inq = 0;
		} else if (c == ' ') {
			return -1;
		} else if (c == '"') {
			inq = 1;
		} else if (c == '@') {
			domain = 1;
		}
	}
	if (inq)
		return -1;   /* an unclosed quote */
	/* 8-bit is SMTPUTF8's UTF-8 only (RFC 6531), as smtp-recv takes it:
	 * a Latin-1 "jörg" would be queued, then refused by every peer */
	if (!smtpaddr_utf8_ok(a, n))
		return -1;
	if (str_catb(out, a, n) < 0)
		return -2;
	if (!domain && (str_catc(out, '@') < 0 || str_catb(out, me->s, me->len) < 0))
		return -2;
	if (!smtpaddr_mailbox_ok(out->s + start, out->len - start)) {
		out->len = start;
		return -1;
	}
	return 0;
}

static int
header_date(struct str *out)
{
	char b[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	if (!localtime_r(&now, &tm))
		return -1;
	n = strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (n == 0)
		return -1;
	return str_catb(out, b, n);
}

/* the display name, quoted when it holds anything beyond atext and spaces */
static int
display_name(struct str *out, const char *name)
{
	size_t i, n = strlen(name);
	if (n > SM_NAME_MAX) {
		/* cut before a character, not inside a UTF-8 one */
		for (n = SM_NAME_MAX; n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80; n--)
			;
	}
	if (str_catc(out, '"') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if ((unsigned char)c < ' ' || c == 0x7f)
			continue;
		if ((c == '"' || c == '\\') && str_catc(out, '\\') < 0)
			return -1;
		if (str_catc(out, c) < 0)
			return -1;
	}
	return str_cats(out, "\" ");
}

/* the GECOS field's full name: up to its first comma, each '&' the login
 * name with its first letter capitalised (as BSD sendmail and Postfix
 * read it: "& Smith" of login "john" is "John Smith"). Copied only while
 * display_name may keep it, so many '&' cost no more. 0, or -1 ENOMEM. */
static int
gecos_name(struct str *out, const char *gecos, const char *login)
{
	size_t i;
	for (i = 0; gecos[i] && gecos[i] != ',' && out->len <= SM_NAME_MAX; i++) {
		char c = gecos[i];
		if (c != '&') {
			if (str_catc(out, c) < 0)
				return -1;
		} else if (*login) {
			c = login[0] >= 'a' && login[0] <= 'z' ? (char)(login[0] - 'a' + 'A') : login[0];
			if (str_catc(out, c) < 0 || str_cats(out, login + 1) < 0)
				return -1;
		}
	}
	return str_0(out);
}

static int
received(struct str *out)
{
	int e = 0;
	e |= str_cats(out, "Received: (pipemail sendmail invoked by uid ") |
	    str_catu(out, (unsigned long long)getuid()) | str_cats(out, ");\n\t") |
	    header_date(out) | str_catc(out, '\n');
	return e ? -1 : 0;
}

/* from: the envelope sender, or, when that is null (-f '<>'), the
 * calling user's address: `From: <>` is no header at all. A message
 * being resent gets the Resent- forms instead (RFC 5322 3.6.6: each
 * resent block has a Resent-Date and a Resent-From), as Postfix's
 * cleanup adds them. */
static int
added_headers(struct str *out, const struct headers *h, const struct opts *o,
    const char *from, const struct str *me, const char *gecos)
{
	const char *pfx = h->is_resent ? "Resent-" : "";
	int e = 0;
	if (!(h->is_resent ? h->has_rfrom : h->has_from)) {
		const char *name = o->name ? o->name : gecos;
		e |= str_cats(out, pfx) | str_cats(out, "From: ");
		if (name && *name)
			e |= display_name(out, name) | str_catc(out, '<') | str_cats(out, from) |
			    str_catc(out, '>');
		else
			e |= str_cats(out, from);
		e |= str_catc(out, '\n');
	}
	if (!(h->is_resent ? h->has_rdate : h->has_date))
		e |= str_cats(out, pfx) | str_cats(out, "Date: ") | header_date(out) | str_catc(out, '\n');
	if (!(h->is_resent ? h->has_rmsgid : h->has_msgid)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		e |= str_cats(out, pfx) | str_cats(out, "Message-ID: <") | str_catu(out, (unsigned long long)ts.tv_sec) |
		    str_catc(out, '.') | str_catu(out, (unsigned long long)ts.tv_nsec) |
		    str_catc(out, '.') | str_catu(out, (unsigned long long)getpid()) |
		    str_catc(out, '.') | str_catu(out, arc4random()) | str_catc(out, '@') |
		    str_catb(out, me->s, me->len) | str_cats(out, ">\n");
	}
	return e ? -1 : 0;
}

/* T lines for a list of NUL-terminated addresses; dies on an unusable one */
static int
add_rcpts(struct str *env, const struct str *list, const struct str *me, const char *why)
{
	size_t i;
	for (i = 0; i < list->len; i += strlen(list->s + i) + 1) {
		const char *a = list->s + i;
		int r;
		if (str_catc(env, 'T') < 0)
			return -1;
		if ((r = address(env, a, strlen(a), me)) < 0) {
			if (r == -2)
				return -1;
			die_x(EX_NOUSER, "use", a, why);
		}
		if (str_catc(env, 0) < 0)
			return -1;
	}
	return 0;
}

static size_t
count0(const struct str *list)
{
	size_t i, n = 0;
	for (i = 0; i < list->len; i++)
		n += list->s[i] == 0;
	return n;
}

/* -N's list ("never", or success, delay, failure, comma-separated,
 * blanks allowed) as a NOTIFY= value, checked as smtp-recv checks
 * RCPT's; -1 when malformed */
static int
dsn_notify(struct str *out, const char *list)
{
	struct str v = STR_INIT;
	unsigned bits;
	int r = -2;
	for (; *list; list++)
		if (*list != ' ' && *list != '\t' && str_catc(&v, *list) < 0)
			goto out;
	if (smtpaddr_notify(v.s ? v.s : "", v.len, &bits) != SMTPADDR_OK)
		r = -1;
	else if (smtpaddr_notify_fmt(out, bits) == 0)
		r = 0;
out:
	str_free(&v);
	return r;
}

/* PIPEMAIL_DSN from -R, -V and -N, as smtp-recv passes RET, ENVID and
 * NOTIFY on: a first line, then one line per recipient. Dies on a bad
 * value: a request the user made must not be dropped. */
static void
dsn_env(const struct opts *o, size_t nrcpt, struct str *out)
{
	struct str line = STR_INIT;
	size_t i;
	int e = 0;
	if (!o->notify && !o->ret && !o->envid)
		return;
	if (o->ret) {
		if (strcasecmp(o->ret, "full") && strcasecmp(o->ret, "hdrs"))
			die_msg(EX_USAGE, "-R takes full or hdrs");
		e |= str_cats(out, "RET=") | str_cats(out, strcasecmp(o->ret, "full") ? "HDRS" : "FULL");
	}
	if (o->envid) {
		const unsigned char *p = (const unsigned char *)o->envid;
		size_t start;
		if (!*p)
			die_msg(EX_USAGE, "-V takes an envelope id");
		e |= (out->len ? str_catc(out, ' ') : 0) | str_cats(out, "ENVID=");
		start = out->len;
		/* RFC 3461 4.4: printable US-ASCII, written as xtext */
		for (; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				die_msg(EX_USAGE, "-V: the envelope id must be printable ASCII");
		e |= dsn_xtext_encode(out, o->envid, strlen(o->envid));
		if (out->len - start > SM_ENVID_MAX)
			die_msg(EX_USAGE, "-V: the envelope id is too long");
	}
	e |= str_catc(out, '\n');
	if (o->notify) {
		int r = dsn_notify(&line, o->notify);
		if (r == -1)
			die_msg(EX_USAGE, "-N takes never, or success, delay and failure separated by commas");
		e |= r == -2 ? -1 : 0;
	}
	for (i = 0; i < nrcpt; i++)
		e |= str_catb(out, line.s ? line.s : "", line.len) | str_catc(out, '\n');
	if (e || str_0(out) < 0)
		die_nomem(EX_TEMPFAIL);
	str_free(&line);
}

/* qmail-queue's exit code as a sysexits code */
static int
queue_status(int status)
{
	int c;
	if (!WIFEXITED(status))
		return EX_TEMPFAIL;
	c = WEXITSTATUS(status);
	if (c == QQ_OK)
		return EX_OK;
	if (QQ_IS_PERM(c))
		return EX_UNAVAILABLE;
	if (c == QQ_TEMP_BUG)
		return EX_SOFTWARE;
	return EX_TEMPFAIL;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct headers h;
	struct str me = STR_INIT, sender = STR_INIT, env = STR_INIT, top = STR_INIT, trace = STR_INIT;
	struct str user = STR_INIT;   /* the calling user's address, login@me */
	struct str args = STR_INIT, dsn = STR_INIT, gname = STR_INIT;
	struct passwd *pw;
	const char *gecos = NULL, *prog;
	char inspace[BUF_SIZE], outspace[BUF_SIZE];
	struct buf in, out;
	int k, r, m[2], e[2], status, nrcpt = 0, stdin_closed, queueprog;
	pid_t pid;
	memset(&h, 0, sizeof h);

	/* no message on a closed stdin: an I/O error, never an empty message */
	stdin_closed = open_std_fds();
	die_init("sendmail");
	k = parse_opts(argc, argv, &o);
	/* -bp, or called as mailq: the queue listing, as every MTA's sendmail gives it */
	prog = !argv[0] ? "sendmail" : strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (o.bp || strcmp(prog, "mailq") == 0)
		exec_sibling(argv[0], "queue-list", EX_UNAVAILABLE);
	if (o.bs)
		exec_smtp_recv(argv[0]);
	if (o.q == 2)
		return EX_OK;
	if (o.q == 1) {
		char *av[4] = { "queue-list", "retry", "all", NULL };
		exec_sibling_av(argv[0], av, EX_UNAVAILABLE);
	}
	if (conf_me(&me) < 0)
		die_sys(EX_TEMPFAIL, "read", "control file me");

	/* the envelope sender */
	pw = getpwuid(getuid());
	if (pw && pw->pw_gecos && *pw->pw_gecos) {
		if (gecos_name(&gname, pw->pw_gecos, pw->pw_name ? pw->pw_name : "") < 0)
			die_nomem(EX_TEMPFAIL);
		gecos = gname.s;
	}
	/* the full name: -F, else NAME (as Postfix's sendmail and
	 * qmail-inject read it), else the GECOS field */
	{
		const char *env_name = getenv("NAME");
		if (env_name && *env_name)
			gecos = env_name;
	}
	{
		const char *login = pw ? pw->pw_name : getenv("LOGNAME");
		if (login && address(&user, login, strlen(login), &me) < 0)
			user.len = 0;
		/* no user to name (an unknown uid, no LOGNAME): who sends bounces */
		if (!user.len && (str_cats(&user, "MAILER-DAEMON@") < 0 || str_catb(&user, me.s, me.len) < 0))
			die_nomem(EX_TEMPFAIL);
		if (str_0(&user) < 0)
			die_nomem(EX_TEMPFAIL);
	}
	if (o.from) {
		size_t n = strlen(o.from);
		const char *f = o.from;
		if (n >= 2 && f[0] == '<' && f[n - 1] == '>') {
			f++;
			n -= 2;
		}
		struct str uq = STR_INIT;
		/* "john"@x is john@x, as for recipients: bounces find the user */
		if (str_copyb(&uq, f, n) < 0)
			die_nomem(EX_TEMPFAIL);
		addrlist_unquote(&uq);
		if (n && (r = address(&sender, uq.s, uq.len, &me)) < 0)
			die_x(r == -1 ? EX_NOUSER : EX_TEMPFAIL, "use", "the sender address", "unusable address");
		str_free(&uq);
	} else {
		const char *login = pw ? pw->pw_name : getenv("LOGNAME");
		if (!login || address(&sender, login, strlen(login), &me) < 0)
			die_x(EX_NOUSER, "find", "a sender address", "unknown user; use -f");
	}
	if (str_0(&sender) < 0)
		die_nomem(EX_TEMPFAIL);

	if (stdin_closed) {
		errno = EBADF;
		die_sys(EX_IOERR, "read", "the message");
	}
	buf_init(&in, 0, inspace, sizeof inspace);
	r = headers_read(&in, o.t, o.i, &h);
	if (r == EX_DATAERR)
		die_x(EX_DATAERR, "read", "the message header", "too long or too many addresses");
	if (r)
		die_sys(r, "read", "the message");

	/* the envelope: F sender, T recipients (arguments, then with -t the headers) */
	if (str_catc(&env, 'F') < 0 || str_cats(&env, sender.s) < 0 || str_catc(&env, 0) < 0)
		die_nomem(EX_TEMPFAIL);
	/* arguments are address lists too ("Name <a@b>, c@d"), as Postfix takes them */
	for (; k < argc; k++) {
		size_t before = args.len, n = 0;
		if (addrlist_parse(argv[k], strlen(argv[k]), &args, &n) < 0)
			die_x(errno == E2BIG ? EX_DATAERR : EX_TEMPFAIL, "use", argv[k], "too many addresses");
		if (n == 0 || args.len == before)
			die_x(EX_NOUSER, "use", argv[k], "unusable address");
	}
	if (add_rcpts(&env, &args, &me, "unusable address") < 0 ||
	    add_rcpts(&env, &h.rcpts, &me, "unusable address in the header") < 0)
		die_nomem(EX_TEMPFAIL);
	nrcpt = (int)(args.len ? count0(&args) : 0) + (int)(h.rcpts.len ? count0(&h.rcpts) : 0);
	if (nrcpt == 0)
		die_msg(EX_USAGE, o.t ? "no recipients found in the message header" : "no recipients given");
	if (str_catc(&env, 0) < 0)
		die_nomem(EX_TEMPFAIL);
	if (received(&trace) < 0 || added_headers(&top, &h, &o, sender.len ? sender.s : user.s, &me, gecos) < 0)
		die_nomem(EX_TEMPFAIL);

	/* the queue program: message on its fd 0, envelope on its fd 1 */
	prog = getenv("QMAILQUEUE");
	queueprog = prog && *prog;
	if (!queueprog)
		prog = "queue-add";
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the queue program for us */
	/* the DSN requests of -N, -R and -V, else none: an inherited
	 * PIPEMAIL_DSN is not this message's */
	dsn_env(&o, (size_t)nrcpt, &dsn);
	if (dsn.len ? setenv("PIPEMAIL_DSN", dsn.s, 1) < 0 : unsetenv("PIPEMAIL_DSN") < 0)
		die_nomem(EX_TEMPFAIL);
	if (pipe(m) < 0 || pipe(e) < 0)
		die_sys(EX_TEMPFAIL, "create", "a pipe");
	pid = fork();
	if (pid < 0)
		die_sys(EX_TEMPFAIL, "fork", prog);
	if (pid == 0) {
		char *av[2] = { (char *)prog, NULL };
		if (dup2(m[0], 0) < 0 || dup2(e[0], 1) < 0)
			_exit(QQ_TEMP_SPAWN);
		close(m[0]); close(m[1]); close(e[0]); close(e[1]);
		signal(SIGPIPE, SIG_DFL);
		if (!queueprog)
			exec_sibling(argv[0], (char *)prog, QQ_TEMP_SPAWN);
		execvp(prog, av);
		warn_sys("run", prog);
		_exit(QQ_TEMP_SPAWN);
	}
	close(m[0]);
	close(e[0]);
	buf_init(&out, m[1], outspace, sizeof outspace);
	/* a failed write is -2, as body_copy's: the queue program's status says why */
	r = (buf_put(&out, trace.s, trace.len) | buf_put(&out, h.out.s ? h.out.s : "", h.out.len) |
	    buf_put(&out, top.s ? top.s : "", top.len) |
	    buf_put(&out, "\n", 1) | buf_put(&out, h.first.s ? h.first.s : "", h.first.len)) < 0 ? -2 : 0;
	if (r == 0 && !h.ended)
		r = body_copy(&in, &out, o.i, h.first_open);
	if (r == -1) {
		kill(pid, SIGTERM);   /* no half message: the queue program sees no envelope */
		die_sys(EX_IOERR, "read", "the message");
	}
	if (r == 0)
		r = buf_flush(&out);
	close(m[1]);
	if (r == 0) {
		/* Once the envelope's last byte is written the message may be
		 * queued: killed by a signal then, we would report a failure
		 * the caller retries, queueing it twice. Held off to the end:
		 * the queue program's status is the answer (queue-add's own
		 * timeout bounds the wait). Before, a signal leaves the
		 * envelope unfinished and nothing queued. */
		sigset_t hold;
		sigemptyset(&hold);
		sigaddset(&hold, SIGHUP);
		sigaddset(&hold, SIGINT);
		sigaddset(&hold, SIGQUIT);
		sigaddset(&hold, SIGTERM);
		sigaddset(&hold, SIGALRM);
		sigprocmask(SIG_BLOCK, &hold, NULL);
		r = buf_writeall(e[1], env.s, env.len, 0, 0);
	}
	close(e[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_sys(EX_TEMPFAIL, "wait for", prog);
	r = queue_status(status) != EX_OK ? queue_status(status) : r != 0 ? EX_TEMPFAIL : EX_OK;
	if (r != EX_OK) {
		struct logline l;
		log_begin(&l, "refused");
		log_kv(&l, "queue", prog);
		log_kvu(&l, "status", WIFEXITED(status) ? (unsigned long long)WEXITSTATUS(status) : 255);
		log_end(&l);
		return r;
	}
	if (o.v) {
		struct logline l;
		log_begin(&l, "queued");
		log_kv(&l, "sender", sender.s);
		log_kvu(&l, "rcpts", (unsigned long long)nrcpt);
		log_end(&l);
	}
	return EX_OK;
}
