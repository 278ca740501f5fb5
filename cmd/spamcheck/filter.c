/* Filter, delivery-pipe and queue-filter modes: classify a bounded prefix
 * of the message, write our header lines on top, then the message's own
 * bytes unchanged, streaming whatever lies past the prefix. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "spamcheck.h"

enum {
	REASON_TEXT_MAX = 40,
	HEADER_MAX = 1024,
	EXIT_VERDICT_HAM = 0, EXIT_VERDICT_SPAM = 1, EXIT_VERDICT_UNSURE = 2
};

const char *
verdict_name(enum verdict v)
{
	return v == V_SPAM ? "spam" : v == V_HAM ? "ham" : "unsure";
}

int
read_prefix(int fd, struct str *s, size_t max, int *eof)
{
	*eof = 0;
	s->len = 0;
	if (str_ready(s, max < 65536 ? max : 65536) < 0)
		return -1;
	while (s->len < max) {
		ssize_t r;
		size_t want = max - s->len;
		if (s->cap - 1 - s->len < 16384 && str_readyplus(s, want < 262144 ? want : 262144) < 0)
			return -1;
		if (want > s->cap - 1 - s->len)
			want = s->cap - 1 - s->len;
		r = read(fd, s->s + s->len, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			*eof = 1;
			break;
		}
		s->len += (size_t)r;
	}
	return 0;
}

int
classifier_open(struct classifier *c, const struct opts *o)
{
	memset(c, 0, sizeof *c);
	toks_init(&c->t);
	if (db_open(&c->global, o->dbpath) < 0)
		return -1;
	if (o->userdb) {
		if (db_open(&c->user, o->userdb) < 0) {
			db_close(&c->global);
			return -1;
		}
		c->has_user = 1;
	}
	return 0;
}

void
classifier_close(struct classifier *c)
{
	db_close(&c->global);
	db_close(&c->user);
	toks_free(&c->t);
}

int
classify(struct classifier *c, const struct opts *o, const char *msg, size_t len, struct result *r)
{
	if (tokenize(&c->t, msg, len) < 0)
		return -1;
	score(&o->m, &c->t, &c->global, c->has_user ? &c->user : NULL, r);
	return 0;
}

static void
put_score(struct str *h, double s)
{
	unsigned long v;
	char d[7];
	if (!(s >= 0))
		s = 0;   /* NaN: converting it to an integer is undefined */
	if (s > 1)
		s = 1;
	v = (unsigned long)(s * 10000 + 0.5);
	d[0] = (char)('0' + v / 10000);
	d[1] = '.';
	d[2] = (char)('0' + v / 1000 % 10);
	d[3] = (char)('0' + v / 100 % 10);
	d[4] = (char)('0' + v / 10 % 10);
	d[5] = (char)('0' + v % 10);
	d[6] = 0;
	str_cats(h, d);
}

/* The header lines we add; eol is "\n" or "\r\n" as the message uses.
 * They fit in HEADER_MAX (5 reasons of REASON_TEXT_MAX plus ~150 bytes),
 * so after the one allocation below no append can fail halfway. */
static int
make_headers(struct str *h, const struct toks *t, const struct result *r, const char *eol)
{
	unsigned i;
	h->len = 0;
	if (str_ready(h, HEADER_MAX) < 0)
		return -1;
	if (r->v == V_SPAM) {
		str_cats(h, "X-Spam-Flag: YES");
		str_cats(h, eol);
	}
	str_cats(h, "X-Spam-Score: ");
	put_score(h, r->score);
	str_cats(h, eol);
	str_cats(h, "X-Spam-Status: ");
	str_cats(h, r->v == V_SPAM ? "Yes" : r->v == V_HAM ? "No" : "Unsure");
	str_cats(h, ", score=");
	put_score(h, r->score);
	str_cats(h, " tokens=");
	str_catu(h, r->used);
	if (r->gtube)
		str_cats(h, " reasons=GTUBE");
	else if (r->nreason) {
		str_cats(h, eol);
		str_cats(h, "\treasons=");
		for (i = 0; i < r->nreason; i++) {
			const struct tok *k = &t->v[r->reason[i]];
			size_t j, n = k->len < REASON_TEXT_MAX ? k->len : REASON_TEXT_MAX;
			/* message-derived text: printable ASCII only, never a quote or line end */
			str_cats(h, i ? " \"" : "\"");
			for (j = 0; j < n; j++) {
				unsigned char ch = (unsigned char)t->text.s[k->off + j];
				str_catc(h, ch >= 32 && ch < 127 && ch != '"' && ch != '\\' ? (char)ch : '?');
			}
			str_cats(h, "\"/");
			put_score(h, r->reason_f[i]);
		}
	}
	str_cats(h, eol);
	return str_0(h);
}

static void
log_result(const struct result *r, size_t bytes, int eof, const char *action)
{
	struct logline l;
	struct str sc = STR_INIT;
	put_score(&sc, r->score);
	log_begin(&l, "classify");
	log_kv(&l, "verdict", verdict_name(r->v));
	log_kv(&l, "score", sc.s);
	log_kvu(&l, "tokens", r->used);
	log_kvu(&l, "bytes", bytes);
	log_kv(&l, "truncated", eof ? "no" : "yes");
	log_kv(&l, "action", action);
	log_end(&l);
	str_free(&sc);
}

/* headers + prefix + the rest of fd 0, to fd out. 0 ok, -1 write error,
 * -2 read error. */
static int
emit(int out, const struct str *hdr, const struct str *msg, int eof)
{
	char space[65536];
	const char *nl = msg->len >= 5 && !memcmp(msg->s, "From ", 5) ? memchr(msg->s, '\n', msg->len) : NULL;
	size_t from = nl ? (size_t)(nl - msg->s) + 1 : 0;   /* an mbox From line stays first */
	if (buf_writeall(out, msg->s, from, 0, 0) < 0 || buf_writeall(out, hdr->s, hdr->len, 0, 0) < 0
	    || buf_writeall(out, msg->s + from, msg->len - from, 0, 0) < 0)
		return -1;
	while (!eof) {
		ssize_t r = read(0, space, sizeof space);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -2;
		if (r == 0)
			break;
		if (buf_writeall(out, space, (size_t)r, 0, 0) < 0)
			return -1;
	}
	return 0;
}

static const char *
eol_of(const struct str *m)
{
	const char *nl = memchr(m->s ? m->s : "", '\n', m->len);
	return nl && nl > m->s && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* prefix read, classified; headers made. Exits with code on failure. */
static void
prepare(const struct opts *o, struct str *msg, int *eof, struct str *hdr, struct result *r,
    int code_read, int code_conf, int code_mem)
{
	struct classifier c;
	if (read_prefix(0, msg, o->prefix, eof) < 0)
		die_sys(code_read, "read", "message");
	if (classifier_open(&c, o) < 0)
		die_sys(code_conf, "open", o->dbpath);
	if (classify(&c, o, msg->s ? msg->s : "", msg->len, r) < 0 || make_headers(hdr, &c.t, r, eol_of(msg)) < 0)
		die_nomem(code_mem);
	classifier_close(&c);
}

static int
verdict_exit(const struct opts *o, enum verdict v)
{
	if (!o->exitcode)
		return EXIT_OK;
	return v == V_SPAM ? EXIT_VERDICT_SPAM : v == V_HAM ? EXIT_VERDICT_HAM : EXIT_VERDICT_UNSURE;
}

int
run_filter(const struct opts *o)
{
	struct str msg = STR_INIT, hdr = STR_INIT;
	struct result r;
	int eof, e;
	/* a reader gone is a write error like any other: the documented 111,
	 * not death by SIGPIPE, which a delivery or a -e script cannot tell
	 * from a crash */
	signal(SIGPIPE, SIG_IGN);
	prepare(o, &msg, &eof, &hdr, &r, EXIT_TEMP, EXIT_TEMP, EXIT_TEMP);
	log_result(&r, msg.len, eof, "filter");
	e = emit(1, &hdr, &msg, eof);
	if (e == -1)
		die_sys(EXIT_TEMP, "write", "output");
	if (e == -2)
		die_sys(EXIT_TEMP, "read", "message");
	return verdict_exit(o, r.v);
}

static void
drain(int fd)
{
	char space[16384];
	ssize_t r;
	while ((r = read(fd, space, sizeof space)) != 0)
		if (r < 0 && errno != EINTR)
			break;
}

/* The next program's guard: the leader of a process group of its own in
 * which it runs the program. When spamcheck dies (smtp-recv SIGKILLs it
 * past its data timeout), the kernel signals the guard (parent-death
 * signal), which kills the whole group: the program and whatever it
 * started (-p sh -c '... deliver-maildir ...'), which would otherwise see
 * end of input and commit the truncated message. The guard holds a copy
 * of the write end of the program's input (wfd) until spamcheck tells it
 * (SIGUSR1) that the message is whole: however slow the guard is to act,
 * the program cannot see end of input before it is killed. The program's
 * own parent-death signal reaches only itself, and the kernel clears it
 * at the exec of a setgid program (queue-add may be one); the guard never
 * execs. Its exit is the program's: the same code, or death by the same
 * signal. orig: the signal mask the program gets. Never returns. */
static void
guard(char **argv, int in, int wfd, pid_t parent, int tspawn, const sigset_t *orig)
{
	sigset_t set;
	siginfo_t si;
	pid_t pid, self = getpid();
	int status, sig;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);   /* blocked since before the fork (run_pipe) */
	/* blocked before the parent-death signal is armed: a death from
	 * here on waits for sigwaitinfo below */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(tspawn);
	signal(SIGPIPE, SIG_DFL);
	pid = fork();
	if (pid < 0)
		die_sys(tspawn, "fork", argv[0]);
	if (pid == 0) {
		/* the program gets the message on fd 0; fd 1 (the envelope in
		 * the queue chain) is ours, passed as is; it dies with the guard */
		if (sigprocmask(SIG_SETMASK, orig, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self)
			_exit(tspawn);
		close(wfd);   /* else its input would never end */
		if (dup2(in, 0) < 0)
			_exit(tspawn);
		close(in);
		execvp(argv[0], argv);
		die_sys(tspawn, "run", argv[0]);
	}
	/* the message and the envelope are the program's alone */
	close(in);
	close(0);
	close(1);
	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig == SIGUSR1) {
			if (si.si_pid == parent && wfd >= 0) {
				close(wfd);   /* the message is whole: its end may show */
				wfd = -1;
			}
			continue;
		}
		if (sig != SIGCHLD)
			break;   /* spamcheck died, the group was told to stop, or we cannot wait */
		if (waitpid(pid, &status, WNOHANG) != pid)
			continue;
		if (WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		if (WIFSIGNALED(status)) {
			struct rlimit nocore = { 0, 0 };
			setrlimit(RLIMIT_CORE, &nocore);
			sig = WTERMSIG(status);
			signal(sig, SIG_DFL);
			sigemptyset(&set);
			sigaddset(&set, sig);
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			raise(sig);
		}
		_exit(tspawn);
	}
	kill(-self, SIGKILL);   /* the group: the program, what it started, and the guard */
	_exit(tspawn);
}

/* the next program's whole process group (the guard leads it), before
 * its input ends: it never takes a truncated message for a whole one */
static void
kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
}

int
run_pipe(const struct opts *o, char **argv, int queue)
{
	struct str msg = STR_INIT, hdr = STR_INIT;
	struct result r;
	int eof, p[2], status, e;
	pid_t pid, parent;
	sigset_t usr1, orig;
	/* qmail-queue codes in the queue chain, qmail's 111 elsewhere */
	int tread = queue ? QQ_TEMP_READ : EXIT_TEMP, tconf = queue ? QQ_TEMP_CONF : EXIT_TEMP;
	int tmem = queue ? QQ_TEMP_NOMEM : EXIT_TEMP, tspawn = queue ? QQ_TEMP_SPAWN : EXIT_TEMP;
	int tbug = queue ? QQ_TEMP_BUG : EXIT_TEMP, twrite = queue ? QQ_TEMP_WRITE : EXIT_TEMP;
	prepare(o, &msg, &eof, &hdr, &r, tread, tconf, tmem);
	if (queue && r.reject) {
		/* refuse: read what the sender still writes so it sees our exit code, not EPIPE */
		log_result(&r, msg.len, eof, "reject");
		if (!eof)
			drain(0);
		drain(1);
		return QQ_PERM_REFUSED;
	}
	log_result(&r, msg.len, eof, queue ? "queue" : "deliver");
	if (!queue) {
		struct str sc = STR_INIT;
		put_score(&sc, r.score);
		if (!sc.s || setenv("SPAMCHECK_VERDICT", verdict_name(r.v), 1) < 0 || setenv("SPAMCHECK_SCORE", sc.s, 1) < 0)
			die_nomem(tmem);
		str_free(&sc);
	}
	if (pipe(p) < 0)
		die_sys(tspawn, "create", "pipe");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the child before we learn its code */
	parent = getpid();
	/* SIGUSR1 ("the message is whole") waits in the guard until it asks */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, &orig) < 0)
		die_sys(tspawn, "block", "SIGUSR1");
	pid = fork();
	if (pid < 0)
		die_sys(tspawn, "fork", argv[0]);
	if (pid == 0) {
		if (setpgid(0, 0) < 0)
			_exit(tspawn);
		guard(argv, p[0], p[1], parent, tspawn, &orig);
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	/* here too, so that the group exists before any kill_group below */
	setpgid(pid, pid);
	close(p[0]);
	if (queue)
		close(1);   /* the envelope belongs to the child now */
	e = emit(p[1], &hdr, &msg, eof);
	if (e == -2 || (e == -1 && errno != EPIPE)) {
		/* our read or write failed: killed before it sees end of
		 * input, at which it would take the truncated message as whole
		 * and commit it */
		int err = errno;
		kill_group(pid);
		close(p[1]);
		waitpid(pid, &status, 0);
		errno = err;
		if (e == -2)
			die_sys(tread, "read", "message");
		die_sys(twrite, "write to", argv[0]);
	}
	/* whole, or as much as the program took (EPIPE): the guard lets go
	 * of its copy of the write end, so the program sees the end */
	kill(pid, SIGUSR1);
	close(p[1]);
	if (e == -1 && !eof)
		drain(0);   /* the child stopped reading (EPIPE); its exit code tells why */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die_sys(tbug, "wait for", argv[0]);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);   /* the next program's verdict is ours, bit for bit */
	die_x(tbug, "run", argv[0], "killed by a signal");
}
