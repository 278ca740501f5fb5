/* mailuser: the admin's tool for virtual users, local domains and aliases
 * in the control directory. Every change takes the control directory's
 * lock, rewrites the text file atomically and recompiles its cdb, so a
 * running server sees either the old or the new table, never half of one.
 * Bad input: 100 and nothing changed. System trouble: 111. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "mkmaildir.h"
#include "passwd.h"
#include "scan.h"
#include "table.h"

#define USAGE "mailuser add [-u UID] [-g GID] [-d MAILDIR] [-q QUOTA] ADDRESS\n" \
	"       mailuser passwd ADDRESS | del ADDRESS | list\n" \
	"       mailuser domain add|del DOMAIN | domain list\n" \
	"       mailuser alias add ALIAS TARGET... | alias del ALIAS | alias list\n" \
	"       mailuser rebuild | check ADDRESS"

enum { LOCK_WAIT_MS = 30000, SHOW_MAX = 80 };

static char outspace[BUF_SIZE];
static struct buf out;

/* Refuse input, quoting it with unprintable bytes made visible. */
static _Noreturn void
refuse(const char *what, const char *arg, const char *why)
{
	struct str m = STR_INIT;
	size_t i;
	if (str_copys(&m, what) < 0 || str_cats(&m, " '") < 0)
		die_nomem(EXIT_TEMP);
	for (i = 0; arg[i] && i < SHOW_MAX; i++)
		if (str_catc(&m, arg[i] > ' ' && arg[i] < 0x7f ? arg[i] : '?') < 0)
			die_nomem(EXIT_TEMP);
	if ((arg[i] && str_cats(&m, "...") < 0) || str_cats(&m, "': ") < 0 ||
	    str_cats(&m, why) < 0 || str_0(&m) < 0)
		die_nomem(EXIT_TEMP);
	die_msg(EXIT_PERM, m.s);
}

static _Noreturn void
syntax(const char *name, unsigned long line)
{
	struct str m = STR_INIT;
	if (str_copys(&m, "syntax error in ") < 0 || str_cats(&m, conf_dir()) < 0 ||
	    str_catc(&m, '/') < 0 || str_cats(&m, name) < 0 || str_cats(&m, " line ") < 0 ||
	    str_catu(&m, line) < 0 || str_cats(&m, "; fix it, then run mailuser rebuild") < 0 ||
	    str_0(&m) < 0)
		die_nomem(EXIT_TEMP);
	die_msg(EXIT_PERM, m.s);
}

/* The control directory could not be synced after NAME (the database
 * when suffix is ".cdb", else the edited text) went into place: 111 as
 * for any I/O failure (0 means done for good), saying what holds then
 * (rest) and what makes it last; "unable to update" alone had the admin
 * repeat an add, refused as a duplicate. */
static _Noreturn void
sync_failed(const char *name, const char *suffix, const char *rest)
{
	struct str m = STR_INIT;
	const char *why = strerror(errno);
	if (str_copys(&m, "unable to sync ") < 0 || str_cats(&m, conf_dir()) < 0 || str_cats(&m, " after ") < 0 ||
	    str_cats(&m, name) < 0 || str_cats(&m, suffix) < 0 || str_cats(&m, " went into place: ") < 0 ||
	    str_cats(&m, why) < 0 || str_cats(&m, "; ") < 0 || str_cats(&m, rest) < 0 || str_0(&m) < 0)
		die_nomem(EXIT_TEMP);
	die_msg(EXIT_TEMP, m.s);
}

/* the new database is in place and in use; a rebuild renames and syncs again */
static _Noreturn void
unsynced(const char *name)
{
	sync_failed(name, ".cdb", "the change is made and in use, but a crash may undo it: run mailuser rebuild");
}

/* the text is in place, its database left as it was (the servers do not
 * see the change); a rebuild compiles the text */
static _Noreturn void
text_ahead(const char *name)
{
	sync_failed(name, "", "the text holds the change but the servers do not see it yet: run mailuser rebuild");
}

static int
lock(void)
{
	int fd = conf_lock(LOCK_WAIT_MS);
	if (fd < 0) {
		if (errno == ETIMEDOUT)
			die_msg(EXIT_TEMP, "another mailuser holds the control directory's lock; try again");
		die_sys(EXIT_TEMP, "lock", conf_dir());
	}
	return fd;
}

/* A text file gone while its database still holds entries is an accident
 * (an rm, a restore that missed it): compiling it as empty would drop
 * every user or alias at once, and mail to them would bounce. An empty
 * cdb is its 2048-byte table of hash pointers and nothing more. */
static void
orphan_check(const char *name)
{
	struct str text = STR_INIT, db = STR_INIT, msg = STR_INIT;
	struct stat st;
	if (conf_path(&text, name) < 0 || str_copyb(&db, text.s, text.len) < 0 || str_cats(&db, ".cdb") < 0 || str_0(&db) < 0)
		die_nomem(EXIT_TEMP);
	if (lstat(text.s, &st) == 0 || errno != ENOENT || stat(db.s, &st) < 0 || st.st_size <= 2048) {
		str_free(&text);
		str_free(&db);
		return;
	}
	if (str_copys(&msg, text.s) < 0 || str_cats(&msg, " is missing while ") < 0 || str_cats(&msg, db.s) < 0 ||
	    str_cats(&msg, " holds entries: restore it, or remove the .cdb to start empty") < 0 || str_0(&msg) < 0)
		die_nomem(EXIT_TEMP);
	die_msg(EXIT_PERM, msg.s);
}

static void
load(struct table *t, const char *name)
{
	orphan_check(name);
	if (table_load(t, name) < 0)
		die_sys(EXIT_TEMP, "read", name);
}

/* 1 found, 0 not; syntax errors in the file stop here */
static int
find(struct table *t, const char *key, size_t *off, size_t *len)
{
	int r = table_find(t, key, off, len);
	if (r < 0) {
		if (errno == EINVAL)
			syntax(t->name, t->badline);
		die_sys(EXIT_TEMP, "read", t->name);
	}
	return r;
}

static void
commit(struct table *t)
{
	unsigned long line;
	int r = table_commit(t, &line);
	if (r == CONF_UNSYNCED)
		unsynced(t->name);
	if (r == CONF_TEXT_AHEAD)
		text_ahead(t->name);
	if (r < 0) {
		if (errno == EINVAL)
			syntax(t->name, line);
		die_sys(EXIT_TEMP, "update", t->name);
	}
}

/* lower-cased, checked address (catchall: "@domain" allowed) */
static void
address(struct str *a, const char *arg, int catchall)
{
	size_t n = strlen(arg);
	if (!strchr(arg, '@'))
		refuse("address", arg, "no domain (use user@domain)");
	if (n > CONF_ADDR_MAX)
		refuse("address", arg, "too long");
	if (!conf_valid_addr(arg, n, catchall))
		refuse("address", arg, "malformed or forbidden character");
	if (str_copys(a, arg) < 0 || str_0(a) < 0)
		die_nomem(EXIT_TEMP);
	str_lower(a);
}

static void
must_be_local(const char *domain)
{
	int r = conf_domain_local(domain);
	if (r < 0)
		die_sys(EXIT_TEMP, "look up domain in", "domains.cdb");
	if (r == 0)
		refuse("domain", domain, "not a local domain (add it: mailuser domain add)");
}

/* The terminal as it was before echo went off, and with echo off, for
 * the signal handlers; tty_quiet: echo is off now; tty_prompt: the
 * prompt is out, a password being read (echo off wanted). */
static struct termios tty_saved, tty_noecho;
static volatile sig_atomic_t tty_quiet, tty_prompt;
static const int tty_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
/* job control: ^Z, and a read or a tcsetattr from the background */
static const int tty_stops[] = { SIGTSTP, SIGTTIN, SIGTTOU };

/* A signal at the password prompt: echo back on, then die of the signal
 * (SA_RESETHAND: the default action this time), as passwd(1) does;
 * otherwise the admin's shell is left without echo. */
static void
tty_restore(int sig)
{
	tcsetattr(0, TCSAFLUSH, &tty_saved);
	raise(sig);
}

/* A stop at the password prompt: echo back on for the shell, then stop
 * for real (the default action, the signal unblocked); once continued,
 * and only in the foreground (in the background the read stops us
 * again, SIGTTIN), echo off again and the prompt again, the half-typed
 * line discarded (TCSAFLUSH). Without this ^Z left the shell without
 * echo (test 299). A stop before the prompt (SIGTTOU: echo turned off
 * from the background) only stops: that tcsetattr is made again. */
static void
tty_stop(int sig)
{
	struct sigaction dfl, mine;
	sigset_t one;
	int e = errno;
	if (tty_quiet) {
		tcsetattr(0, TCSAFLUSH, &tty_saved);
		tty_quiet = 0;
	}
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, &mine);
	sigemptyset(&one);
	sigaddset(&one, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);   /* stopped here until SIGCONT */
	sigprocmask(SIG_BLOCK, &one, NULL);
	sigaction(sig, &mine, NULL);
	if (tty_prompt && tcgetpgrp(0) == getpgrp()) {
		struct termios now;
		/* as read_password: refused rather than read with echo on; die_msg
		 * is not for a signal handler, so one write(2) and _exit */
		if (tcsetattr(0, TCSAFLUSH, &tty_noecho) < 0 || tcgetattr(0, &now) < 0 || (now.c_lflag & ECHO)) {
			static const char msg[] = ": fatal: cannot turn off echo on the terminal: password not read\n";
			char line[256];
			size_t n = strlen(die_prog());
			tcsetattr(0, TCSAFLUSH, &tty_saved);
			if (n > sizeof line - sizeof msg)
				n = sizeof line - sizeof msg;
			memcpy(line, die_prog(), n);
			memcpy(line + n, msg, sizeof msg - 1);
			(void)!write(2, line, n + sizeof msg - 1);
			_exit(EXIT_TEMP);
		}
		tty_quiet = 1;
		(void)!write(2, "Password: ", 10);
	}
	errno = e;
}

static void
read_password(struct str *pw)
{
	char space[PASSWD_MAX + 64];
	struct termios quiet;
	struct sigaction sa, oldsa[sizeof tty_signals / sizeof tty_signals[0]];
	struct sigaction oldstop[sizeof tty_stops / sizeof tty_stops[0]];
	struct buf in;
	size_t i;
	int tty = isatty(0), r;

	/* refused rather than read with echo on, onto the screen */
	if (tty && tcgetattr(0, &tty_saved) < 0)
		tty = -1;
	if (tty > 0) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = tty_restore;
		sa.sa_flags = SA_RESETHAND | SA_NODEFER;
		sigfillset(&sa.sa_mask);
		for (i = 0; i < sizeof tty_signals / sizeof tty_signals[0]; i++)
			sigaction(tty_signals[i], &sa, &oldsa[i]);
		sa.sa_handler = tty_stop;
		sa.sa_flags = SA_RESTART;
		for (i = 0; i < sizeof tty_stops / sizeof tty_stops[0]; i++)
			sigaction(tty_stops[i], &sa, &oldstop[i]);
		tty_noecho = tty_saved;
		tty_noecho.c_lflag &= ~(tcflag_t)ECHO;
		/* tcsetattr succeeds when any change took: read it back */
		if (tcsetattr(0, TCSAFLUSH, &tty_noecho) < 0 || tcgetattr(0, &quiet) < 0 || (quiet.c_lflag & ECHO)) {
			tcsetattr(0, TCSAFLUSH, &tty_saved);
			tty = -1;
		} else
			tty_quiet = tty_prompt = 1;
	}
	if (tty < 0)
		die_msg(EXIT_TEMP, "cannot turn off echo on the terminal: password not read");
	if (tty)
		buf_writeall(2, "Password: ", 10, 0, 0);
	buf_init(&in, 0, space, sizeof space);
	r = buf_getline(&in, pw, PASSWD_MAX, '\n');
	if (tty) {
		int e = errno;   /* the read's, for the message below */
		sigset_t all, was;
		/* no stop between the restore and the handlers' removal, whose
		 * SIGCONT would turn echo off again for good */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &was);
		tcsetattr(0, TCSAFLUSH, &tty_saved);
		tty_quiet = tty_prompt = 0;
		for (i = 0; i < sizeof tty_signals / sizeof tty_signals[0]; i++)
			sigaction(tty_signals[i], &oldsa[i], NULL);
		for (i = 0; i < sizeof tty_stops / sizeof tty_stops[0]; i++)
			sigaction(tty_stops[i], &oldstop[i], NULL);
		sigprocmask(SIG_SETMASK, &was, NULL);
		buf_writeall(2, "\n", 1, 0, 0);
		errno = e;
	}
	explicit_bzero(space, sizeof space);
	if (r == BUF_ERR)
		die_sys(EXIT_TEMP, "read password from", "stdin");
	if (r == BUF_EOF)
		die_msg(EXIT_PERM, "no password on stdin");
	if (r == BUF_TOOLONG)
		die_msg(EXIT_PERM, "password too long");
	if (pw->len && pw->s[pw->len - 1] == '\r')
		str_trunc(pw, pw->len - 1);
	if (pw->len == 0)
		die_msg(EXIT_PERM, "empty password");
	if (memchr(pw->s, 0, pw->len))
		die_msg(EXIT_PERM, "password contains a NUL byte");
	/* the servers refuse a CR inside a password (PASS, SASL): it could
	 * never log in */
	if (memchr(pw->s, '\r', pw->len))
		die_msg(EXIT_PERM, "password contains a CR byte");
	if (str_0(pw) < 0)
		die_nomem(EXIT_TEMP);
}

static void
hash_password(struct str *hash)
{
	struct str pw = STR_INIT;
	read_password(&pw);
	if (passwd_hash(pw.s, hash) < 0)
		die_sys(EXIT_TEMP, "hash", "password");
	explicit_bzero(pw.s, pw.cap);
	str_free(&pw);
}

/* NAME or number; *defgid gets a named user's primary group */
static uid_t
user_id(const char *arg, gid_t *defgid, int *havegid)
{
	unsigned int v;
	struct passwd *pw;
	if (scan_uint(arg, (uid_t)-2, &v) == 0) {
		pw = getpwuid(v);
		if (pw) {
			*defgid = pw->pw_gid;
			*havegid = 1;
		}
		return v;
	}
	pw = getpwnam(arg);
	if (!pw)
		refuse("user", arg, "no such user");
	*defgid = pw->pw_gid;
	*havegid = 1;
	return pw->pw_uid;
}

static gid_t
group_id(const char *arg)
{
	unsigned int v;
	struct group *gr;
	if (scan_uint(arg, (gid_t)-2, &v) == 0)
		return v;
	gr = getgrnam(arg);
	if (!gr)
		refuse("group", arg, "no such group");
	return gr->gr_gid;
}

/* bytes, with an optional K, M, G or T suffix (powers of 1024) */
static unsigned long long
quota(const char *arg)
{
	static const char units[] = "KMGT";
	size_t n = strlen(arg);
	const char *u;
	unsigned long long v, mul = 1;
	if (n && (u = strchr(units, arg[n - 1] & ~0x20)) && *u) {
		size_t k = (size_t)(u - units) + 1;   /* K is 1024^1 */
		while (k--)
			mul *= 1024;
		n--;
	}
	if (scan_ulong(arg, n, ~0ULL / mul, &v) < 0)
		refuse("quota", arg, "not a size in bytes (K, M, G, T suffixes allowed)");
	return v * mul;
}

static void
add(int argc, char **argv)
{
	struct conf_user u = CONF_USER_INIT;
	struct table users = { 0 }, aliases = { 0 };
	struct str line = STR_INIT;
	const char *uarg = NULL, *garg = NULL, *darg = NULL, *at;
	gid_t defgid = 0;
	int havegid = 0, opt;
	size_t off, len;

	optind = 1;
	while ((opt = getopt(argc, argv, "+u:g:d:q:")) != -1) {
		switch (opt) {
		case 'u': uarg = optarg; break;
		case 'g': garg = optarg; break;
		case 'd': darg = optarg; break;
		case 'q': u.quota = quota(optarg); break;
		default: die_usage(USAGE);
		}
	}
	if (argc - optind != 1)
		die_usage(USAGE);
	address(&u.addr, argv[optind], 0);
	at = strchr(u.addr.s, '@');

	if (uarg) {
		u.uid = user_id(uarg, &defgid, &havegid);
	} else {
		struct passwd *pw = getpwnam("vmail");
		if (!pw)
			die_msg(EXIT_PERM, "no vmail user: create one or give -u and -g");
		u.uid = pw->pw_uid;
		defgid = pw->pw_gid;
		havegid = 1;
	}
	if (garg)
		u.gid = group_id(garg);
	else if (havegid)
		u.gid = defgid;
	else
		die_msg(EXIT_PERM, "no group for that uid: give -g");
	if (u.uid == 0 || u.gid == 0)
		die_msg(EXIT_PERM, "refusing to give a mailbox to root (uid or gid 0)");

	if (darg) {
		if (str_copys(&u.maildir, darg) < 0)
			die_nomem(EXIT_TEMP);
	} else {
		const char *root = getenv("PIPEMAIL_MAILROOT");
		if (!root || !*root)
			root = "/var/mail/vhosts";
		if (str_copys(&u.maildir, root) < 0 || str_catc(&u.maildir, '/') < 0 ||
		    str_cats(&u.maildir, at + 1) < 0 || str_catc(&u.maildir, '/') < 0 ||
		    str_catb(&u.maildir, u.addr.s, (size_t)(at - u.addr.s)) < 0 ||
		    str_cats(&u.maildir, "/Maildir") < 0)
			die_nomem(EXIT_TEMP);
	}
	if (str_0(&u.maildir) < 0)
		die_nomem(EXIT_TEMP);
	if (!conf_valid_maildir(u.maildir.s, u.maildir.len))
		refuse("maildir", u.maildir.s, "not an absolute path of printable bytes without ':' or '..'");

	hash_password(&u.hash);
	lock();
	must_be_local(at + 1);
	load(&users, "users");
	if (find(&users, u.addr.s, &off, &len))
		refuse("user", u.addr.s, "already exists");
	load(&aliases, "aliases");
	if (find(&aliases, u.addr.s, &off, &len))
		refuse("user", u.addr.s, "an alias with that address exists");
	if (conf_user_line(&u, &line) < 0 || table_append(&users, line.s) < 0)
		die_nomem(EXIT_TEMP);
	if (mkmaildir(u.maildir.s, u.uid, u.gid) < 0)
		die_sys(EXIT_TEMP, "create maildir", u.maildir.s);
	commit(&users);
}

static void
change_password(const char *arg)
{
	struct conf_user u = CONF_USER_INIT;
	struct table users = { 0 };
	struct str a = STR_INIT, hash = STR_INIT, line = STR_INIT;
	size_t off, len;

	address(&a, arg, 0);
	hash_password(&hash);
	lock();
	load(&users, "users");
	if (!find(&users, a.s, &off, &len))
		refuse("user", a.s, "no such user");
	/* len covers the line's '\n' */
	if (conf_parse_user(users.text.s + off, len - (users.text.s[off + len - 1] == '\n'), &u) <= 0)
		die_msg(EXIT_TEMP, "users changed under the lock");
	str_free(&u.hash);
	u.hash = hash;
	if (conf_user_line(&u, &line) < 0 || table_splice(&users, off, len, line.s) < 0)
		die_nomem(EXIT_TEMP);
	commit(&users);
}

static void
delete(const char *name, const char *arg, int catchall, const char *what)
{
	struct table t = { 0 };
	struct str a = STR_INIT;
	size_t off, len;

	if (catchall < 0) {
		if (!conf_valid_domain(arg, strlen(arg)))
			refuse("domain", arg, "malformed");
		if (str_copys(&a, arg) < 0 || str_0(&a) < 0)
			die_nomem(EXIT_TEMP);
		str_lower(&a);
	} else {
		address(&a, arg, catchall);
	}
	lock();
	load(&t, name);
	if (!find(&t, a.s, &off, &len))
		refuse(what, a.s, "not found");
	if (table_splice(&t, off, len, NULL) < 0)
		die_nomem(EXIT_TEMP);
	commit(&t);
}

static int
print_user(void *ctx, const struct str *key, const char *line, size_t len, size_t off)
{
	struct conf_user u = CONF_USER_INIT;
	(void)ctx; (void)key; (void)off;
	if (conf_parse_user(line, len, &u) <= 0)
		return -1;
	if (buf_put(&out, u.addr.s, u.addr.len) < 0 || buf_puts(&out, " ") < 0 ||
	    buf_putu(&out, u.uid) < 0 || buf_puts(&out, " ") < 0 ||
	    buf_putu(&out, u.gid) < 0 || buf_puts(&out, " ") < 0 ||
	    buf_putu(&out, u.quota) < 0 || buf_puts(&out, " ") < 0 ||
	    buf_put(&out, u.maildir.s, u.maildir.len) < 0 || buf_puts(&out, "\n") < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	conf_user_free(&u);
	return 0;
}

static int
print_key(void *ctx, const struct str *key, const char *line, size_t len, size_t off)
{
	struct str k = STR_INIT, targets = STR_INIT;
	(void)ctx; (void)off;
	if (buf_put(&out, key->s, key->len) < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	if (conf_parse_alias(line, len, &k, &targets) > 0) {
		if (buf_puts(&out, ": ") < 0 || buf_put(&out, targets.s, targets.len) < 0)
			die_sys(EXIT_TEMP, "write", "stdout");
	}
	if (buf_puts(&out, "\n") < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	str_free(&k);
	str_free(&targets);
	return 0;
}

static void
list(const char *name, table_fn *fn)
{
	struct table t = { 0 };
	load(&t, name);
	if (table_each(&t, fn, NULL) < 0) {
		if (errno == EINVAL)
			syntax(name, t.badline);
		die_sys(EXIT_TEMP, "read", name);
	}
	if (buf_flush(&out) < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
}

static int
in_domain(void *ctx, const struct str *key, const char *line, size_t len, size_t off)
{
	const char *at = strrchr(key->s, '@');
	(void)line; (void)len; (void)off;
	return at && !strcmp(at + 1, ctx);
}

static void
domain(int argc, char **argv)
{
	struct table t = { 0 }, other = { 0 };
	struct str d = STR_INIT;
	size_t off, len;
	static const char *const users_aliases[] = { "users", "aliases" };

	if (argc == 2 && !strcmp(argv[1], "list")) {
		list("domains", print_key);
		return;
	}
	if (argc != 3)
		die_usage(USAGE);
	if (!conf_valid_domain(argv[2], strlen(argv[2])))
		refuse("domain", argv[2], "malformed (letters, digits, '-', dot-separated labels)");
	if (str_copys(&d, argv[2]) < 0 || str_0(&d) < 0)
		die_nomem(EXIT_TEMP);
	str_lower(&d);
	if (!strcmp(argv[1], "add")) {
		lock();
		load(&t, "domains");
		if (find(&t, d.s, &off, &len))
			refuse("domain", d.s, "already local");
		if (table_append(&t, d.s) < 0)
			die_nomem(EXIT_TEMP);
		commit(&t);
	} else if (!strcmp(argv[1], "del")) {
		size_t i;
		lock();
		load(&t, "domains");
		if (!find(&t, d.s, &off, &len))
			refuse("domain", d.s, "not a local domain");
		for (i = 0; i < 2; i++) {
			int r;
			load(&other, users_aliases[i]);
			r = table_each(&other, in_domain, d.s);
			if (r < 0) {
				if (errno == EINVAL)
					syntax(users_aliases[i], other.badline);
				die_sys(EXIT_TEMP, "read", users_aliases[i]);
			}
			if (r > 0)
				refuse("domain", d.s, i ? "still has aliases; delete them first"
				    : "still has users; delete them first");
		}
		if (table_splice(&t, off, len, NULL) < 0)
			die_nomem(EXIT_TEMP);
		commit(&t);
	} else {
		die_usage(USAGE);
	}
}

static void
alias(int argc, char **argv)
{
	struct table t = { 0 }, users = { 0 };
	struct str a = STR_INIT, line = STR_INIT;
	size_t off, len;
	int i;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		list("aliases", print_key);
		return;
	}
	if (argc == 3 && !strcmp(argv[1], "del")) {
		delete("aliases", argv[2], 1, "alias");
		return;
	}
	if (argc < 4 || strcmp(argv[1], "add"))
		die_usage(USAGE);
	address(&a, argv[2], 1);
	if (str_copyb(&line, a.s, a.len) < 0 || str_cats(&line, ":") < 0)
		die_nomem(EXIT_TEMP);
	for (i = 3; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (!strchr(argv[i], '@'))
			refuse("target", argv[i], "no domain (use user@domain)");
		if (!conf_valid_addr(argv[i], n, 0))
			refuse("target", argv[i], "malformed or forbidden character");
		if (str_cats(&line, i > 3 ? ", " : " ") < 0 || str_catb(&line, argv[i], n) < 0)
			die_nomem(EXIT_TEMP);
	}
	if (str_0(&line) < 0)
		die_nomem(EXIT_TEMP);
	if (line.len > CONF_LINE_MAX)
		refuse("alias", a.s, "too many targets for one line");
	lock();
	must_be_local(strchr(a.s, '@') + 1);
	load(&t, "aliases");
	if (find(&t, a.s, &off, &len))
		refuse("alias", a.s, "already exists (delete it first)");
	load(&users, "users");
	if (find(&users, a.s, &off, &len))
		refuse("alias", a.s, "a user with that address exists");
	if (table_append(&t, line.s) < 0)
		die_nomem(EXIT_TEMP);
	commit(&t);
}

/* table_each: say which imported hashes are of an old scheme: the DES
 * family no login matches (passwd_locked, though not marked '*' or '!'),
 * the weak ones (passwd_weak) work but are cheap to crack */
static int
warn_legacy(void *ctx, const struct str *key, const char *line, size_t len, size_t off)
{
	struct conf_user u = CONF_USER_INIT;
	struct str m = STR_INIT;
	const char *why = NULL;
	(void)ctx;
	(void)key;
	(void)off;
	if (conf_parse_user(line, len, &u) > 0 && u.hash.s[0] != '*' && u.hash.s[0] != '!') {
		if (passwd_locked(u.hash.s))
			why = ": a password hash of the DES family, which reads only part of a password: "
			    "no login matches it; set a new password";
		else if (passwd_weak(u.hash.s))
			why = ": a password hash of a weak scheme (logins work): set a new password to replace it";
	}
	if (why) {
		if (str_copys(&m, "user ") < 0 || str_catb(&m, u.addr.s, u.addr.len) < 0 || str_cats(&m, why) < 0 ||
		    str_0(&m) < 0)
			die_nomem(EXIT_TEMP);
		warn_msg(m.s);
	}
	str_free(&m);
	conf_user_free(&u);
	return 0;
}

/* All three tables are built before any goes into place, so an error in
 * one (a hand edit's typo) changes none: domains new and users old would
 * refuse the new domain's users for good. Domains go last, so a new
 * domain is accepted only once its users and aliases are there. */
static void
rebuild(void)
{
	static const char *const names[] = { "users", "aliases", "domains" };
	enum { N = sizeof names / sizeof names[0] };
	const char *late = NULL;
	struct table users = { 0 };
	unsigned long line;
	size_t i, j;
	int late_errno = 0;
	lock();
	for (i = 0; i < N; i++)
		orphan_check(names[i]);   /* before any table changes */
	for (i = 0; i < N; i++)
		if (conf_stage(names[i], &line) < 0) {
			int e = errno;
			for (j = 0; j < i; j++)
				conf_unstage(names[j]);
			errno = e;
			if (errno == EINVAL)
				syntax(names[i], line);
			die_sys(EXIT_TEMP, "compile", names[i]);
		}
	for (i = 0; i < N; i++) {
		int r = conf_install(names[i]);
		if (r == CONF_UNSYNCED && !late) {
			late = names[i];   /* in place: the others go in too */
			late_errno = errno;
		} else if (r < 0 && r != CONF_UNSYNCED) {
			int e = errno;
			for (j = i + 1; j < N; j++)
				conf_unstage(names[j]);
			errno = e;
			die_sys(EXIT_TEMP, "install", names[i]);
		}
	}
	if (late) {
		errno = late_errno;
		unsynced(late);
	}
	/* the users file just compiled: its syntax is known good */
	if (table_load(&users, "users") == 0)
		(void)table_each(&users, warn_legacy, NULL);
	table_free(&users);
}

/* What a server sees: the recipient lookup through the cdb files. */
static void
check(const char *arg)
{
	struct conf_user u = CONF_USER_INIT;
	struct str canon = STR_INIT, targets = STR_INIT;
	int r = conf_rcpt_local(arg, &canon);

	if (r < 0)
		die_sys(EXIT_TEMP, "look up", arg);
	if (r == 0)
		refuse("address", arg, "not a local recipient");
	r = conf_user_get(canon.s, &u);
	if (r < 0)
		die_sys(EXIT_TEMP, "look up", canon.s);
	if (r > 0) {
		if (buf_puts(&out, "user ") < 0 || buf_put(&out, u.addr.s, u.addr.len) < 0 ||
		    buf_puts(&out, " ") < 0 || buf_putu(&out, u.uid) < 0 ||
		    buf_puts(&out, " ") < 0 || buf_putu(&out, u.gid) < 0 ||
		    buf_puts(&out, " ") < 0 || buf_putu(&out, u.quota) < 0 ||
		    buf_puts(&out, " ") < 0 || buf_put(&out, u.maildir.s, u.maildir.len) < 0)
			die_sys(EXIT_TEMP, "write", "stdout");
	} else {
		r = conf_alias_get(canon.s, &targets);
		if (r < 0)
			die_sys(EXIT_TEMP, "look up", canon.s);
		if (buf_puts(&out, "alias ") < 0 || buf_put(&out, canon.s, canon.len) < 0 ||
		    buf_puts(&out, ": ") < 0 || buf_put(&out, targets.s, targets.len) < 0)
			die_sys(EXIT_TEMP, "write", "stdout");
	}
	if (buf_puts(&out, "\n") < 0 || buf_flush(&out) < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	conf_user_free(&u);
}

int
main(int argc, char **argv)
{
	const char *cmd;

	die_init("mailuser");
	umask(022);
	buf_init(&out, 1, outspace, sizeof outspace);
	if (argc < 2)
		die_usage(USAGE);
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "add"))
		add(argc, argv);
	else if (!strcmp(cmd, "passwd") && argc == 2)
		change_password(argv[1]);
	else if (!strcmp(cmd, "del") && argc == 2)
		delete("users", argv[1], 0, "user");
	else if (!strcmp(cmd, "list") && argc == 1)
		list("users", print_user);
	else if (!strcmp(cmd, "domain") && argc >= 2)
		domain(argc, argv);
	else if (!strcmp(cmd, "alias") && argc >= 2)
		alias(argc, argv);
	else if (!strcmp(cmd, "rebuild") && argc == 1)
		rebuild();
	else if (!strcmp(cmd, "check") && argc == 2)
		check(argv[1]);
	else
		die_usage(USAGE);
	return EXIT_OK;
}
