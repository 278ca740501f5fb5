/* queue-run: the queue manager. One process under s6 that schedules every
 * delivery: local recipients through deliver-maildir (or the user's
 * delivery file), remote ones through smtp-send, one run per domain;
 * retries on a quadratic schedule; bounces after the queue lifetime.
 * Per-recipient state lives in state/ID, replaced by rename; finished
 * messages are unlinked. Children do the work (job.c); this file is the
 * event loop and the bookkeeping. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "die.h"
#include "buf.h"
#include "dsn.h"
#include "exitcode.h"
#include "groupsync.h"
#include "log.h"
#include "maildir.h"
#include "queue-run.h"
#include "scan.h"

#define USAGE "queue-run [-S] [-l local] [-r remote] [-d perdomain] [-L lifetime] [-b base] [-m max] [-w warn] [-t wait] [-c limit]"

enum { HASH_SIZE = 4096, POLL_MAX_MS = 60000, INCOMPLETE_AGE = 86400, WORKER_IDLE = 60 };
/* a -t wait in ms must not overflow: over 68 years is for ever */
#define TERM_WAIT_MAX (1ULL << 31)

struct msg {
	struct msg *next, *prev;      /* active or deferred list */
	struct msg *hnext;            /* hash chain */
	struct msg *snext;            /* just loaded, not yet settled */
	int list;                     /* 0 none, 1 active, 2 deferred */
	char id[QUEUE_ID_MAX + 1];
	struct queue_env env;
	unsigned long long msgoff, msglen;
	struct queue_state st;
	unsigned char *busy;          /* per recipient: a job has it */
	unsigned char *where;         /* per recipient: 0 unknown, 1 local, 2 remote */
	unsigned int jobs;            /* running jobs (bounce included) */
	int dirty, bouncing, gone, settle;
	char after;                   /* a request (D, B) that waits for jobs to end */
	int recovered;                /* results from state/ID.done not yet saved */
	unsigned long long wake, report_next;
	int report_pm;                /* the sender refused its failure report: the postmaster's now */
	long long report_since;       /* monotonic ms of the report's first failure to be queued, 0 none */
};

struct job {
	struct job *next;
	pid_t pid;
	int fd;
	int kind;
	struct msg *m;
	size_t *idx;
	size_t n;
	char *domain;
	const char *action;
	char *report_to;              /* a report's recipient (for the log) */
	int report_dbl;               /* a report to the postmaster from "#@[]": a double bounce */
	struct str out;
	int eof;
	struct worker *w;             /* a remote job fed to this worker, fd its stdout */
	int complete;                 /* the worker's "." came */
	char tail[3];                 /* its last bytes ("\n" before the first) */
	int empty;                    /* its local worker empties the pooled file */
	int probe;                    /* the first batch to a dead domain once its time is up (dead.c) */
};

/* A persistent "smtp-send -B": its connection to the last destination
 * stays open for the next message there. At most remote_max of them;
 * one job child uses one at a time; idle ones end after WORKER_IDLE s.
 * A local worker (job.c's local_worker, a child of ours, at most
 * local_max) does local jobs one after another: no fork per message. */
struct worker {
	struct worker *next;
	int local;
	pid_t pid;
	int in, out;                  /* its stdin (jobs), its stdout (results) */
	int err;                      /* its stderr (smtp-send -B), relayed to ours */
	struct str epart, efatal;     /* a line begun; its last "fatal" line this job */
	int busy, stale;
	char *domain;                 /* its last destination */
	long long idle_since;         /* monotonic ms: a wall clock step neither keeps nor ends it */
};

struct domcount {
	struct domcount *next;
	unsigned int n;
	char name[];
};

/* 20 local deliveries at once, as Postfix's virtual(8) (qmail's 10 dates
 * from spinning disks): on a fast disk they wait on syncs, and more of
 * them at once share more syncs of a Maildir's new/ (lib/groupsync.h) */
static struct cfg cfg = { 20, 20, 5, 5 * 86400ULL, 400, 4 * 3600, 0, 60, "deliver-maildir", "smtp-send", "queue-add", 1,
	1000 };   /* Postfix's command_time_limit */
static struct cfg cfg_opt;            /* which options were given (non-zero fields) */
static struct cfg cfg_def;            /* the defaults, for a control file removed */
static struct msg *hash[HASH_SIZE];
static struct msg *to_settle;        /* loaded since the last settle_all */
static struct msg active = { .next = &active, .prev = &active };
static struct msg deferred = { .next = &deferred, .prev = &deferred };
static unsigned long long min_wake;
static struct job *jobs;
static unsigned int n_local, n_remote, n_jobs;
static struct domcount *domains;
static struct worker *workers;
static unsigned int n_workers, n_lworkers;
static int no_batch;                  /* -S: one smtp-send per delivery */
static struct str me = STR_INIT;
static struct str dbl = STR_INIT;    /* doublebounceto as last read; empty: postmaster@me */
static int sigpipe_[2] = { -1, -1 };
static volatile sig_atomic_t got_term, got_hup, got_alrm;
static int trigger_fd = -1, trigger_keep = -1;
static int state_written;
static struct groupsync *group;        /* the local workers' shared syncs of new/ */

static unsigned long long
now_s(void)
{
	return (unsigned long long)time(NULL);
}

static void
on_signal(int sig)
{
	int e = errno;
	if (sig == SIGTERM)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGALRM)
		got_alrm = 1;
	if (write(sigpipe_[1], "", 1) < 0) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = e;
}

/* --- lists and the id table --- */

static void
list_del(struct msg *m)
{
	if (!m->list)
		return;
	m->prev->next = m->next;
	m->next->prev = m->prev;
	m->list = 0;
}

static void
list_add(struct msg *head, struct msg *m, int which)
{
	list_del(m);
	m->prev = head->prev;
	m->next = head;
	head->prev->next = m;
	head->prev = m;
	m->list = which;
}

static unsigned int
hash_id(const char *id)
{
	unsigned int h = 2166136261u;
	while (*id)
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % HASH_SIZE;
}

static struct msg *
lookup(const char *id)
{
	struct msg *m;
	for (m = hash[hash_id(id)]; m; m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static void
msg_free(struct msg *m)
{
	struct msg **pp = &hash[hash_id(m->id)];
	while (*pp && *pp != m)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = m->hnext;
	for (pp = &to_settle; *pp; pp = &(*pp)->snext)
		if (*pp == m) {
			*pp = m->snext;
			break;
		}
	list_del(m);
	queue_env_free(&m->env);
	queue_state_free(&m->st);
	free(m->busy);
	free(m->where);
	free(m);
}

/* --- configuration --- */

/* a control file there but unreadable (a mode, EIO, a control byte) keeps
 * the value in force, the default at start: say so, or the admin sees
 * another concurrency or lifetime than the file's with no word why */
static void
conf_warn(const char *name)
{
	struct str p = STR_INIT;
	int e = errno;
	int ok = conf_path(&p, name) == 0 && str_0(&p) == 0;
	errno = e;
	warn_sys("read", ok ? p.s : name);
	str_free(&p);
}

/* a file absent or empty is the default again, also at a SIGHUP (the
 * admin removed it to get the default back) */
static void
conf_num(const char *name, unsigned long long *v, unsigned long long given, unsigned long long def)
{
	struct str s = STR_INIT;
	unsigned long long x;
	int r;
	if (given)
		return;
	if ((r = conf_line(name, &s)) > 0) {
		if (scan_ulongz(s.s, (unsigned long long)1 << 40, &x) == 0)
			*v = x;
		else
			warn_x("parse", name, "not a number");
	} else if (r < 0)
		conf_warn(name);
	else
		*v = def;
	str_free(&s);
}

static void
load_config(void)
{
	unsigned long long l = cfg.local_max, r = cfg.remote_max, d = cfg.domain_max;
	const char *e;
	conf_num("queuelifetime", &cfg.lifetime, cfg_opt.lifetime, cfg_def.lifetime);
	conf_num("concurrencylocal", &l, cfg_opt.local_max, cfg_def.local_max);
	conf_num("concurrencyremote", &r, cfg_opt.remote_max, cfg_def.remote_max);
	conf_num("concurrencydomain", &d, cfg_opt.domain_max, cfg_def.domain_max);
	conf_num("retrybase", &cfg.retry_base, cfg_opt.retry_base, cfg_def.retry_base);
	conf_num("retrymax", &cfg.retry_max, cfg_opt.retry_max, cfg_def.retry_max);
	conf_num("delaywarning", &cfg.warn_after, cfg_opt.warn_after, cfg_def.warn_after);
	conf_num("commandtimelimit", &cfg.time_limit, cfg_opt.time_limit, cfg_def.time_limit);
	cfg.local_max = l ? (unsigned int)(l > 1000 ? 1000 : l) : 1;
	cfg.remote_max = r ? (unsigned int)(r > 1000 ? 1000 : r) : 1;
	cfg.domain_max = d ? (unsigned int)(d > 1000 ? 1000 : d) : 1;
	cfg.inproc = 1;
	if ((e = getenv("PIPEMAIL_DELIVER")) && *e) {
		cfg.deliver = e;
		cfg.inproc = 0;   /* someone else's agent: run it */
	}
	if ((e = getenv("PIPEMAIL_SMTPSEND")) && *e)
		cfg.smtpsend = e;
	if ((e = getenv("PIPEMAIL_QUEUEADD")) && *e)
		cfg.queueadd = e;
	{
		struct str s = STR_INIT;
		int got = conf_line("doublebounceto", &s);
		/* read here, not at each report: a bad file is said once a load,
		 * and what was read before stays (str_copyb keeps it if it fails) */
		if (got < 0)
			conf_warn("doublebounceto");
		else if (str_copyb(&dbl, s.s, got > 0 ? s.len : 0) < 0)
			warn_x("read", "doublebounceto", "out of memory");
		if (conf_me(&s) < 0 || str_copyb(&me, s.s, s.len) < 0) {
			conf_warn("me");
			if (!me.len)
				str_copys(&me, "localhost");
		}
		str_free(&s);
	}
}

/* qmail-like quadratic backoff: base * n^2 seconds after the n-th failure, at most max */
static unsigned long long
backoff(unsigned int n)
{
	unsigned long long d = cfg.retry_base * (unsigned long long)n * n;
	return d > cfg.retry_max || (n && d / n / n != cfg.retry_base) ? cfg.retry_max : d;
}

/* --- per-message scheduling --- */

/* m's retries (and a report's) no later than lim */
static void
clamp_next(struct msg *m, unsigned long long lim)
{
	size_t i;
	for (i = 0; i < m->env.nrcpt; i++)
		if (m->st.r[i].status == QS_PENDING && m->st.r[i].next > lim)
			m->st.r[i].next = lim;
	if (m->report_next > lim)
		m->report_next = lim;
	if (m->list == 2 && m->wake > lim)
		m->wake = lim;
}

/* The wall clock stepped back (a correction): retry times set before it
 * lie further ahead than any retry of ours (retry_max), and nothing would
 * be tried again until the clock caught up. Brought back to that limit. */
static void
clock_back(unsigned long long t)
{
	struct msg *m;
	size_t h;
	for (h = 0; h < HASH_SIZE; h++)
		for (m = hash[h]; m; m = m->hnext)
			clamp_next(m, t + cfg.retry_max);
	min_wake = 0;
	for (m = deferred.next; m != &deferred; m = m->next)
		if (!min_wake || m->wake < min_wake)
			min_wake = m->wake;
}

static const char *
rcpt_domain(const char *r)
{
	const char *at = strrchr(r, '@');
	return at ? at + 1 : "";
}

static int
is_bounce_sender(const char *s)
{
	return !*s || strcmp(s, "#@[]") == 0;
}

/* put m on the list its next work calls for */
static void
reschedule(struct msg *m)
{
	size_t i;
	unsigned long long w = 0;
	int any = 0;
	if (m->gone)
		return;
	for (i = 0; i < m->env.nrcpt; i++) {
		if (m->st.r[i].status != QS_PENDING || m->busy[i])
			continue;
		if (!any || m->st.r[i].next < w)
			w = m->st.r[i].next;
		any = 1;
	}
	if (m->report_next && !m->bouncing && (!any || m->report_next < w)) {
		w = m->report_next;   /* a report that could not be queued waits too */
		any = 1;
	}
	if (!any) {
		list_del(m);
		return;
	}
	m->wake = w;
	if (w <= now_s())
		list_add(&active, m, 1);
	else {
		list_add(&deferred, m, 2);
		if (!min_wake || w < min_wake)
			min_wake = w;
	}
}

static struct domcount *
domain_get(const char *d)
{
	struct domcount *c;
	size_t l = strlen(d);
	for (c = domains; c; c = c->next)
		if (strcasecmp(c->name, d) == 0)
			return c;
	c = malloc(sizeof *c + l + 1);
	if (!c)
		return NULL;
	memcpy(c->name, d, l + 1);
	c->n = 0;
	c->next = domains;
	domains = c;
	return c;
}

static unsigned int
domain_count(const char *d)
{
	struct domcount *c;
	for (c = domains; c; c = c->next)
		if (strcasecmp(c->name, d) == 0)
			return c->n;
	return 0;
}

static void
domain_put(const char *d)
{
	struct domcount **pp, *c;
	for (pp = &domains; (c = *pp); pp = &c->next)
		if (strcasecmp(c->name, d) == 0) {
			if (--c->n == 0) {
				*pp = c->next;
				free(c);
			}
			return;
		}
}

/* --- smtp-send -B workers --- */

static void close_all_inherited(struct worker *keep);

/* What a smtp-send -B worker says on stderr goes on to ours (it is log),
 * a whole line per write(2) as lib/log writes its lines, so that ours
 * never land inside one of its; its last "fatal" line is kept: when it
 * dies with a job, that line is why, as a smtp-send run of its own tells
 * in its stderr (remote()). */
enum { WORKER_LINE_MAX = 4096 };

static void
worker_err_line(struct worker *w, const char *s, size_t len)
{
	if (buf_writeall(2, s, len, 0, 0) < 0) {
		/* our log is gone: nothing to do about it here */
	}
	if (memmem(s, len, ": fatal: ", 9))
		str_copyb(&w->efatal, s, len && s[len - 1] == '\n' ? len - 1 : len);
}

static void
worker_err_read(struct worker *w)
{
	char b[4096];
	ssize_t r;
	while (w->err >= 0) {
		size_t i = 0;
		char *nl;
		r = read(w->err, b, sizeof b);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			/* its last line, should it lack the newline */
			if (w->epart.len && str_catc(&w->epart, '\n') == 0)
				worker_err_line(w, w->epart.s, w->epart.len);
			w->epart.len = 0;
			close(w->err);
			w->err = -1;
			return;
		}
		if (str_catb(&w->epart, b, (size_t)r) < 0) {
			worker_err_line(w, b, (size_t)r);   /* no memory: passed on as it came */
			continue;
		}
		while ((nl = memchr(w->epart.s + i, '\n', w->epart.len - i))) {
			size_t len = (size_t)(nl - (w->epart.s + i)) + 1;
			worker_err_line(w, w->epart.s + i, len);
			i += len;
		}
		memmove(w->epart.s, w->epart.s + i, w->epart.len - i);
		w->epart.len -= i;
		if (w->epart.len >= WORKER_LINE_MAX && str_catc(&w->epart, '\n') == 0) {
			worker_err_line(w, w->epart.s, w->epart.len);   /* no line that long: cut */
			w->epart.len = 0;
		}
		if ((size_t)r < sizeof b)
			return;   /* the pipe is empty: poll tells when there is more */
	}
}

/* a new worker: a persistent smtp-send -B, or (local) a local worker */
static struct worker *
worker_start(int local)
{
	int in[2], out[2], err[2] = { -1, -1 };
	pid_t pid;
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->err = -1;
	/* a local worker's jobs are packets that carry their queue files */
	if (local ? socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, in) < 0 : pipe2(in, O_CLOEXEC) < 0) {
		free(w);
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		free(w);
		return NULL;
	}
	if (!local && pipe2(err, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		free(w);
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		if (!local) {
			close(err[0]);
			close(err[1]);
		}
		free(w);
		return NULL;
	}
	if (pid == 0 && local) {
		close(in[1]);
		close(out[0]);
		close_all_inherited(NULL);
		local_worker(me.s, &cfg, in[0], out[1]);
	}
	if (pid == 0) {
		char *argv[3];
		close_all_inherited(NULL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(EXIT_TEMP);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		unsetenv("PIPEMAIL_DSN");
		argv[0] = (char *)cfg.smtpsend;
		argv[1] = (char *)"-B";
		argv[2] = NULL;
		execvp(argv[0], argv);
		warn_sys("run", argv[0]);
		_exit(EXIT_TEMP);
	}
	close(in[0]);
	close(out[1]);
	if (!local) {
		close(err[1]);
		w->err = err[0];
		fcntl(w->err, F_SETFL, O_NONBLOCK);
	}
	w->local = local;
	w->pid = pid;
	w->in = in[1];
	w->out = out[0];
	w->idle_since = buf_now_ms();
	w->next = workers;
	workers = w;
	if (local)
		n_lworkers++;
	else
		n_workers++;
	return w;
}

/* an idle local worker, else a new one, else NULL (a job child then) */
static struct worker *
lworker_get(void)
{
	struct worker *w;
	for (w = workers; w; w = w->next)
		if (w->local && !w->busy && !w->stale && w->pid > 0)
			return w;
	return n_lworkers < cfg.local_max ? worker_start(1) : NULL;
}

/* end of input: the worker says QUIT to its peer and exits */
static void
worker_close(struct worker *w)
{
	if (w->in >= 0)
		close(w->in);
	if (w->out >= 0)
		close(w->out);
	w->in = w->out = -1;
}

static void
worker_free(struct worker *w)
{
	struct worker **pp;
	for (pp = &workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	worker_close(w);
	worker_err_read(w);   /* its last words, if it left any */
	if (w->err >= 0)
		close(w->err);
	str_free(&w->epart);
	str_free(&w->efatal);
	free(w->domain);
	if (w->local)
		n_lworkers--;
	else
		n_workers--;
	free(w);
}

/* a worker for domain: the one last there, else a new one, else the
 * longest idle (whose smtp-send then closes its old connection) */
static struct worker *
worker_get(const char *domain)
{
	struct worker *w, *best = NULL;
	for (w = workers; w; w = w->next) {
		if (w->local || w->busy || w->stale || w->pid <= 0)
			continue;
		if (w->domain && strcasecmp(w->domain, domain) == 0)
			return w;
		if (!best || w->idle_since < best->idle_since)
			best = w;
	}
	if (n_workers < cfg.remote_max && (w = worker_start(0)))
		return w;
	return best;
}

/* idle ones past WORKER_IDLE, and stale ones (SIGHUP, a broken job) */
static void
workers_trim(int all)
{
	struct worker *w, *next;
	long long t = buf_now_ms();
	for (w = workers; w; w = next) {
		next = w->next;
		if (w->busy)
			continue;
		if (all || w->stale || w->pid <= 0 || w->idle_since + WORKER_IDLE * 1000LL <= t) {
			if (w->pid > 0) {
				worker_close(w);
				w->stale = 1;   /* reaped later: freed then */
				continue;
			}
			worker_free(w);
		}
	}
}

/* a child ended: if it was a worker, forget it */
static void
worker_reaped(pid_t pid)
{
	struct worker *w;
	for (w = workers; w; w = w->next)
		if (w->pid == pid) {
			w->pid = 0;
			if (!w->busy)
				worker_free(w);
			return;
		}
}

/* The queue file ID, opened and share-locked for a child, or -1 (the
 * child then answers "unable to open"). Taken here, before the child
 * exists or hears of the job, so that a run that follows a kill of ours
 * finds the file busy from the first moment the job is out of our hands
 * (load): a child that had not yet locked it would deliver beside that
 * run. The lock goes with the open file, to the child by fork, to a
 * local worker in the job's packet (send_job). */
static int
lock_for_child(const char *id)
{
	int fd = queue_open_in("mess", id, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	/* a writer or queue-list holds it exclusively only for a moment */
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/* a local worker's job: one packet, "ID IDX...", with ID's queue file
 * locked (lock_for_child); 0, or -1 the worker is gone */
static int
send_job(int sock, const char *s, size_t len, const char *id)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { (void *)s, len };
	struct msghdr mh;
	ssize_t r;
	int fd = lock_for_child(id);
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		mh.msg_control = u.space;
		mh.msg_controllen = sizeof u.space;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (fd >= 0)
		close(fd);   /* the copy in flight, then the worker's, holds the lock */
	return r == (ssize_t)len ? 0 : -1;
}

static int
job_start(struct msg *m, int kind, size_t *idx, size_t n, const char *domain,
    const char *report_to, const char *report_from, const char *action)
{
	int sv[2], msgfd;
	pid_t pid;
	struct job *j = calloc(1, sizeof *j);
	struct jobspec js;
	if (!j)
		return -1;
	js.kind = kind;
	js.id = m->id;
	js.env = &m->env;
	js.st = &m->st;
	js.idx = idx;
	js.n = n;
	js.domain = domain;
	js.report_to = report_to;
	js.report_from = report_from;
	js.action = action;
	js.me = me.s;
	js.cfg = &cfg;
	/* remote mail goes to a persistent smtp-send -B directly: no child
	 * of ours in between, so a kill of queue-run loses those results and
	 * the recipients in flight are tried again (see queue-run(8)) */
	if (kind == JOB_REMOTE && !no_batch) {
		static struct str line = STR_INIT;
		struct worker *w;
		if (batch_line(&js, m->msgoff, m->msglen, &line) == 0 && (w = worker_get(domain))) {
			if (buf_writeall(w->in, line.s, line.len, 0, 0) == 0) {
				j->w = w;
				j->tail[2] = '\n';   /* as if after a line: a bare "." ends an empty answer */
				j->fd = w->out;
				j->pid = 0;
				goto started;
			}
			w->stale = 1;   /* it is gone or broken: another one next time */
			worker_close(w);
			free(j);
			return -1;
		}
	}
	if (kind == JOB_LOCAL && !no_batch) {
		static struct str line = STR_INIT;
		struct worker *w;
		size_t k;
		int made = str_copys(&line, m->id) == 0;
		for (k = 0; made && k < n; k++)
			made = str_catc(&line, ' ') == 0 && str_catu(&line, idx[k]) == 0;
		if (made && (w = lworker_get())) {
			if (send_job(w->in, line.s, line.len, m->id) == 0) {
				j->w = w;
				j->tail[2] = '\n';
				j->fd = w->out;
				j->pid = 0;
				goto started;
			}
			w->stale = 1;
			worker_close(w);
		}
		/* no worker to be had: a job child, as with -S */
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(j);
		return -1;
	}
	msgfd = lock_for_child(m->id);
	pid = fork();
	if (pid < 0) {
		if (msgfd >= 0)
			close(msgfd);
		close(sv[0]);
		close(sv[1]);
		free(j);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close_all_inherited(NULL);
		job_run(&js, msgfd, sv[1]);
	}
	if (msgfd >= 0)
		close(msgfd);   /* the child's copy holds the lock */
	close(sv[1]);
	j->pid = pid;
	j->fd = sv[0];
started:
	j->kind = kind;
	j->m = m;
	j->idx = idx;
	j->n = n;
	j->action = action;
	j->domain = domain ? strdup(domain) : NULL;
	j->report_to = report_to ? strdup(report_to) : NULL;
	j->report_dbl = report_from && strcmp(report_from, "#@[]") == 0;
	if (j->w) {
		j->w->busy = 1;
		str_trunc(&j->w->efatal, 0);
		free(j->w->domain);
		j->w->domain = domain ? strdup(domain) : NULL;
	}
	j->next = jobs;
	jobs = j;
	n_jobs++;
	m->jobs++;
	if (kind == JOB_LOCAL)
		n_local++;
	else if (kind == JOB_REMOTE) {
		struct domcount *c = domain_get(domain);
		n_remote++;
		if (c)
			c->n++;
	} else
		m->bouncing = 1;
	if (kind != JOB_BOUNCE)
		for (size_t i = 0; i < n; i++)
			m->busy[idx[i]] = 1;
	return 0;
}

static int check_msg(struct msg *);
static void apply_result(struct msg *, const struct queue_result *, const char *, int);

/* m's due recipients for domain d from i on, while d is dead: deferred to
 * until without a try, or failed once past the queue lifetime, as a try
 * that found d dead would */
static void
suspend(struct msg *m, size_t i, const char *d, unsigned long long until, const struct str *text,
    const struct str *host, unsigned long long t)
{
	struct queue_result res = { 0, 't', "4.4.1", STR_INIT, STR_INIT };
	for (; i < m->env.nrcpt; i++) {
		struct queue_rstate *r = &m->st.r[i];
		if (r->status != QS_PENDING || m->busy[i] || r->next > t ||
		    strcasecmp(rcpt_domain(m->env.rcpt[i]), d) != 0)
			continue;
		if (t >= m->env.arrival + cfg.lifetime) {
			res.idx = i;
			if (str_copyb(&res.host, host->s, host->len) == 0 && str_copyb(&res.text, text->s, text->len) == 0)
				apply_result(m, &res, "remote", 1);
			else
				r->next = t + 5;   /* no memory: soon again */
			continue;
		}
		queue_rstate_set(r, "4.4.1", host->s, text->s, text->len);
		r->next = until;
		m->dirty = 1;
	}
	str_free(&res.host);
	str_free(&res.text);
}

/* start what m's due recipients allow; 1 if anything was left for later,
 * -1 m is finished and freed */
static int
start_msg(struct msg *m)
{
	unsigned long long t = now_s(), until = 0;
	const struct str *dtext, *dhost;
	size_t i, k, n;
	int blocked = 0, dead;
	if (m->report_next && m->report_next <= t && !m->bouncing && m->jobs == 0) {
		m->report_next = 0;
		if (check_msg(m))
			return -1;
	}
	for (i = 0; i < m->env.nrcpt; i++) {
		const char *d;
		struct queue_rstate *r = &m->st.r[i];
		int loc;
		size_t *idx;
		if (r->status != QS_PENDING || m->busy[i] || r->next > t)
			continue;
		d = rcpt_domain(m->env.rcpt[i]);
		/* looked up once per recipient: a backlog is walked often */
		loc = m->where[i] ? m->where[i] == 1 : !*d ? 1 : conf_domain_local(d);
		if (loc >= 0)
			m->where[i] = loc ? 1 : 2;
		if (loc < 0) {
			blocked = 1;   /* the control directory is unreadable: try again soon */
			r->next = t + 5;
			continue;
		}
		if (loc) {
			if (n_local >= cfg.local_max) {
				blocked = 1;
				continue;
			}
			if (!(idx = malloc(sizeof *idx)))
				return 1;
			idx[0] = i;
			if (job_start(m, JOB_LOCAL, idx, 1, NULL, NULL, NULL, NULL) < 0) {
				free(idx);
				return 1;
			}
			continue;
		}
		/* remote: every due recipient of this domain in one smtp-send run */
		dead = dead_check(d, t, &until, &dtext, &dhost);
		if (dead == DEAD_SUSPENDED) {
			suspend(m, i, d, until, dtext, dhost, t);
			continue;
		}
		if (dead == DEAD_WAIT) {
			blocked = 1;   /* the probe's answer first */
			continue;
		}
		if (n_remote >= cfg.remote_max || domain_count(d) >= cfg.domain_max) {
			blocked = 1;
			continue;
		}
		if (!(idx = malloc(JOB_RCPT_MAX * sizeof *idx)))
			return 1;
		for (k = i, n = 0; k < m->env.nrcpt && n < JOB_RCPT_MAX; k++) {
			struct queue_rstate *q = &m->st.r[k];
			if (q->status == QS_PENDING && !m->busy[k] && q->next <= t &&
			    strcasecmp(rcpt_domain(m->env.rcpt[k]), d) == 0)
				idx[n++] = k;
		}
		if (job_start(m, JOB_REMOTE, idx, n, d, NULL, NULL, NULL) < 0) {
			free(idx);
			return 1;
		}
		if (dead == DEAD_PROBE) {
			jobs->probe = 1;   /* job_start put it first */
			dead_probe(d);
		}
	}
	/* suspended recipients: saved, and a report if they expired */
	if (m->dirty && check_msg(m))
		return -1;
	return blocked;
}

static void
start_jobs(void)
{
	struct msg *m, *next;
	unsigned long long t = now_s();
	if (got_term)
		return;
	if (min_wake && min_wake <= t) {
		min_wake = 0;
		for (m = deferred.next; m != &deferred; m = next) {
			next = m->next;
			if (m->wake <= t)
				list_add(&active, m, 1);
			else if (!min_wake || m->wake < min_wake)
				min_wake = m->wake;
		}
	}
	for (m = active.next; m != &active; m = next) {
		next = m->next;
		if (n_local >= cfg.local_max && n_remote >= cfg.remote_max)
			break;
		if (start_msg(m) == 0)
			reschedule(m);
	}
}

/* --- loading --- */

/* NOTIFY=SUCCESS asked for by a real sender, and the request ends with
 * us: a local delivery, or a relay to a peer without DSN ("relayed"
 * results); a remote peer that speaks DSN gets it from smtp-send instead */
static int
wants_success(const struct msg *m, size_t i)
{
	struct dsn_params p = DSN_PARAMS_INIT;
	int r;
	if (!*m->env.dsn || is_bounce_sender(m->env.sender))
		return 0;
	if (dsn_params_parse(&p, m->env.dsn, m->env.nrcpt) < 0)
		return 0;
	r = i < p.n && (p.r[i].notify & DSN_NOTIFY_SUCCESS) && !(p.r[i].notify & DSN_NOTIFY_NEVER);
	dsn_params_free(&p);
	return r;
}

/* Was recipient i's "ok" a delivery here? A result recovered from
 * state/ID.done names no channel: the domain tells, as in start_msg (an
 * unreadable control directory: no report rather than a wrong one). */
static int
delivered_here(struct msg *m, size_t i, const char *channel)
{
	const char *d;
	if (strcmp(channel, "recovered") != 0)
		return strcmp(channel, "local") == 0;
	d = rcpt_domain(m->env.rcpt[i]);
	return m->where[i] ? m->where[i] == 1 : !*d || conf_domain_local(d) > 0;
}

static void
apply_result(struct msg *m, const struct queue_result *res, const char *channel, int logit)
{
	struct queue_rstate *r;
	struct logline l;
	unsigned long long t = now_s();
	if (res->idx >= m->env.nrcpt)
		return;
	r = &m->st.r[res->idx];
	if (r->status != QS_PENDING)
		return;
	r->attempts++;
	r->last = t;
	queue_rstate_set(r, res->dsn, res->host.s, res->text.s, res->text.len);
	if (res->status == 'o')
		r->status = delivered_here(m, res->idx, channel) && wants_success(m, res->idx) ? QS_DELIVERED_NOTIFY : QS_DONE;
	else if (res->status == 'r')
		r->status = wants_success(m, res->idx) ? QS_RELAYED_NOTIFY : QS_DONE;
	else if (res->status == 'F')
		r->status = QS_DONE;   /* forwarded with its NOTIFY: the next hop reports */
	else if (res->status == 'e')
		r->status = wants_success(m, res->idx) ? QS_EXPANDED_NOTIFY : QS_DONE;
	else if (res->status == 'p')
		r->status = QS_FAILED;
	else if (t >= m->env.arrival + cfg.lifetime) {
		r->status = QS_FAILED;   /* too long in the queue: give up with the last reply */
		strcpy(r->dsn, "4.4.7");
	} else
		r->next = t + backoff(r->attempts);
	m->dirty = 1;
	if (!logit)
		return;
	log_begin(&l, "delivery");
	log_kv(&l, "id", m->id);
	log_kv(&l, "rcpt", m->env.rcpt[res->idx]);
	log_kv(&l, "channel", channel);
	log_kv(&l, "status", res->status == 'o' ? "ok" : res->status == 'r' ? "relayed" : res->status == 'F' ? "forwarded" :
	    res->status == 'e' ? "expanded" : res->status == 'p' ? "perm" :
	    r->status == QS_FAILED ? "expired" : "temp");
	log_kv(&l, "dsn", r->dsn);
	log_kvb(&l, "host", r->host.s, r->host.len);
	log_kvu(&l, "attempt", r->attempts);
	log_kvu(&l, "delay", t > m->env.arrival ? t - m->env.arrival : 0);
	if (res->status == 't' && r->status == QS_PENDING)
		log_kvu(&l, "retry_in", r->next - t);
	log_kvb(&l, "text", r->text.s, r->text.len);
	log_end(&l);
}

static void
done_unlink(struct msg *m)
{
	struct str n = STR_INIT;
	if (str_copys(&n, m->id) == 0 && str_cats(&n, ".done") == 0)
		queue_unlink_in("state", n.s);
	str_free(&n);
	m->recovered = 0;
}

/* m's state to disk (its .done file then goes); the directory sync is
 * complete_jobs', for all saved at once */
static void
state_save(struct msg *m)
{
	if (queue_state_save(m->id, &m->st) < 0)
		warn_sys("save state of", m->id);
	else {
		state_written = 1;
		if (m->recovered)
			done_unlink(m);
	}
	m->dirty = 0;
}

/* results left by children whose queue-run died */
static void
apply_done_file(struct msg *m)
{
	struct str b = STR_INIT;
	struct queue_result res = { 0, 0, "", STR_INIT, STR_INIT };
	size_t i = 0;
	if (state_file_read(m->id, ".done", &b) < 0)
		goto out;
	while (i < b.len) {
		char *nl = memchr(b.s + i, '\n', b.len - i);
		if (!nl)
			break;
		if (queue_result_parse(&res, b.s + i, (size_t)(nl - (b.s + i))) == 0)
			apply_result(m, &res, "recovered", 1);
		i = (size_t)(nl - b.s) + 1;
	}
	/* the .done file goes once its results are saved, not before: a
	 * kill meanwhile would lose them (and repeat those deliveries) */
	m->recovered = 1;
	if (m->dirty)
		state_save(m);
	else
		done_unlink(m);
out:
	str_free(&res.host);
	str_free(&res.text);
	str_free(&b);
}

/* A report's failures outlive a restart in state/ID.rep, one line
 * "ID PM SINCE": PM 1 once the sender's failure report goes to the
 * postmaster, SINCE the unix second of the first failure to queue it (0
 * none). Without it a restart sent a refused bounce to its sender again
 * and began its lifetime anew: a report that is never queued was tried
 * for ever. The state files' format is left as it is (older runs would
 * take new words for corruption); a file missing or malformed is no
 * failure yet. Written synced, the directory by complete_jobs' sync. */
static void
report_state_save(struct msg *m)
{
	struct str n = STR_INIT, b = STR_INIT;
	unsigned long long t = now_s(), ago = 0;
	long long ms = buf_now_ms();
	if (m->report_since && ms > m->report_since)
		ago = (unsigned long long)(ms - m->report_since) / 1000;
	if (str_copys(&n, m->id) < 0 || str_cats(&n, ".rep") < 0)
		warn_x("save report state of", m->id, "out of memory");
	else if (!m->report_pm && !m->report_since) {
		if (queue_unlink_in("state", n.s) < 0 && errno != ENOENT)
			warn_sys("remove report state of", m->id);
	} else if (str_copys(&b, m->id) < 0 || str_catc(&b, ' ') < 0 || str_catu(&b, (unsigned)m->report_pm) < 0 ||
	    str_catc(&b, ' ') < 0 || str_catu(&b, !m->report_since ? 0 : t > ago ? t - ago : 1) < 0 ||
	    str_catc(&b, '\n') < 0 || queue_state_put(n.s, b.s, b.len, 1) < 0)
		warn_sys("save report state of", m->id);
	else
		state_written = 1;
	str_free(&n);
	str_free(&b);
}

/* state/ID.rep into m, as report_state_save wrote it */
static void
report_state_load(struct msg *m)
{
	struct str b = STR_INIT;
	unsigned long long pm, since, t = now_s(), ago;
	size_t il = strlen(m->id), i;
	const char *sp;
	if (state_file_read(m->id, ".rep", &b) < 0 || b.len < il + 5 || memcmp(b.s, m->id, il) != 0 ||
	    b.s[il] != ' ' || b.s[b.len - 1] != '\n' || !(sp = memchr(b.s + il + 1, ' ', b.len - il - 2)))
		goto out;
	i = (size_t)(sp - b.s) + 1;
	if (scan_ulong(b.s + il + 1, (size_t)(sp - (b.s + il + 1)), 1, &pm) < 0 ||
	    scan_ulong(b.s + i, b.len - 1 - i, (unsigned long long)1 << 62, &since) < 0)
		goto out;
	m->report_pm = (int)pm;
	if (since) {
		/* as long ago on the monotonic clock; no more than makes it late */
		ago = t > since ? t - since : 0;
		if (ago > cfg.lifetime + 1)
			ago = cfg.lifetime + 1;
		m->report_since = buf_now_ms() - (long long)ago * 1000;
		if (m->report_since == 0)
			m->report_since = -1;   /* 0 is "none" */
	}
out:
	str_free(&b);
}

/* Did queue-add finish this file? Its header (written last) parses, or
 * the new/ notice or a state file exists (both come after the header). */
static int
finished(const struct stat *st, const char *id)
{
	char h[QUEUE_HDR_LEN];
	struct queue_hdr hd;
	struct stat sst;
	int fd, yes = st->st_nlink > 1;
	if (!yes && (fd = queue_open_in("mess", id, O_RDONLY, 0)) >= 0) {
		yes = pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && queue_hdr_parse(h, sizeof h, &hd) == 0;
		close(fd);
	}
	if (!yes && queue_stat_in("state", id, &sst) == 0)
		yes = 1;
	return yes;
}

/* bad/ID: out of the scheduler's way, for the admin to look at */
static void
set_aside(const char *id)
{
	struct str d = STR_INIT, to = STR_INIT, from = STR_INIT;
	struct logline l;
	const char *fn;
	int dfd = -1, tries, ffd, made = 0;
	/* into the queue's own bad/, through no link: the queue's owner may
	 * put one there, which would take our rename (root's) anywhere; any
	 * such thing in its place is replaced by a directory */
	for (tries = 0; dfd < 0 && tries < 2 && queue_path(&d, "bad", NULL) == 0; tries++) {
		if (mkdir(d.s, 0750) == 0)
			made = 1;
		else if (errno != EEXIST)
			break;
		dfd = open(d.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 && (errno == ELOOP || errno == ENOTDIR))
			unlink(d.s);
	}
	if (dfd >= 0 && (ffd = queue_at("mess", id, &from, &fn)) != -1 && queue_path(&to, "bad", id) == 0 &&
	    renameat(ffd, fn, dfd, id) == 0) {
		/* the move made durable: bad/'s new entry, mess/'s loss of
		 * it (else it may come back after a power loss and be set
		 * aside again), and bad/'s own name when it was made now */
		if (fsync(dfd) < 0 || queue_sync_in("mess") < 0 || (made && queue_sync_in(NULL) < 0))
			warn_sys("sync", to.s);
		log_begin(&l, "corrupt");
		log_kv(&l, "id", id);
		log_kv(&l, "moved", to.s);
		log_end(&l);
	} else {
		int e = errno;
		if (queue_path(&d, "mess", id) < 0)
			str_copys(&d, id);
		errno = e;
		warn_sys("set aside unreadable queue file", d.s);
	}
	if (dfd >= 0)
		close(dfd);
	str_free(&d);
	str_free(&to);
	str_free(&from);
}

/* how load looks at a file: LOAD_BUSY, as every message that may be held
 * by an earlier run's children (all but new/ notices): refuse it while
 * they hold it, then apply what they left in state/ID.done; LOAD_STARTUP
 * also removes (or sets aside) old files queue-add never finished */
enum { LOAD_BUSY = 1, LOAD_STARTUP = 3 };

/* 1 loaded, 0 not mail (yet), 2 busy with an earlier run's children, -1 error */
static int
load(const char *id, int how)
{
	int startup = how == LOAD_STARTUP;
	struct queue_msg qm;
	struct msg *m;
	unsigned int h;
	int r;
	if (!queue_id_ok(id) || lookup(id))
		return 0;
	r = queue_msg_open_id(&qm, id);
	if (r < 0 && errno == ENOENT)
		return 0;   /* gone: finished since its notice, or never whole */
	if (r == 0) {
		struct stat st;
		/* an unfinished write (queue-add died) is removed once old; a
		 * file queue-add finished but that no longer parses is mail we
		 * cannot read: it is set aside, never deleted */
		if (startup && queue_stat_in("mess", id, &st) == 0 && st.st_mtime + INCOMPLETE_AGE < time(NULL)) {
			if (finished(&st, id))
				set_aside(id);
			else
				queue_unlink_in("mess", id);
		}
	}
	if (r <= 0)
		return r;
	if ((how & LOAD_BUSY) && flock(qm.fd, LOCK_EX | LOCK_NB) < 0) {
		queue_msg_close(&qm);
		return 2;
	}
	m = calloc(1, sizeof *m);
	if (!m || !(m->busy = calloc(qm.env.nrcpt, 1)) || !(m->where = calloc(qm.env.nrcpt, 1))) {
		if (m)
			free(m->busy);
		free(m);
		queue_msg_close(&qm);
		return -1;
	}
	memcpy(m->id, id, strlen(id) + 1);
	m->env = qm.env;
	qm.env = (struct queue_env)QUEUE_ENV_INIT;
	m->msgoff = qm.hdr.msgoff;
	m->msglen = qm.hdr.msglen;
	queue_msg_close(&qm);   /* also drops the lock */
	if (queue_state_load(id, &m->st, m->env.nrcpt) < 0) {
		free(m->busy);
		free(m->where);
		queue_env_free(&m->env);
		free(m);
		return -1;
	}
	/* no retry of ours is further away than retry_max: a later one is
	 * damage, and would keep the message past its lifetime untried */
	clamp_next(m, now_s() + cfg.retry_max);
	report_state_load(m);
	h = hash_id(id);
	m->hnext = hash[h];
	hash[h] = m;
	if (how & LOAD_BUSY)
		apply_done_file(m);
	m->settle = 1;   /* check_msg decides: it may have nothing left to do */
	m->snext = to_settle;
	to_settle = m;
	return 1;
}

/* messages children of an earlier run still hold: looked at again each second */
static struct str busy_ids = STR_INIT;   /* NUL-separated */

static int
busy_has(const char *id)
{
	size_t i = 0;
	while (i < busy_ids.len) {
		if (strcmp(busy_ids.s + i, id) == 0)
			return 1;
		i += strlen(busy_ids.s + i) + 1;
	}
	return 0;
}

static void
busy_add(const char *id)
{
	struct logline l;
	if (busy_has(id))
		return;
	log_begin(&l, "busy");
	log_kv(&l, "id", id);
	log_end(&l);
	if (str_cats(&busy_ids, id) < 0 || str_catc(&busy_ids, 0) < 0)
		warn_x("remember", id, "out of memory");
}

/* admin commands ("A ID", NUL-separated) for busy messages: carried out
 * once the message is loaded */
static struct str admin_later = STR_INIT;
static void admin(char, struct msg *);
static int admin_apply(char, struct msg *);

static void
admin_pending(const char *id)
{
	struct str old = admin_later;
	size_t i = 0;
	admin_later = (struct str)STR_INIT;
	while (i < old.len) {
		const char *c = old.s + i;
		struct msg *m;
		i += strlen(c) + 1;
		if (strcmp(c + 2, id) != 0) {
			if (str_cats(&admin_later, c) < 0 || str_catc(&admin_later, 0) < 0)
				warn_x("remember", c + 2, "out of memory");
		} else if ((m = lookup(id)))
			admin(c[0], m);   /* may finish and free m: looked up each time */
	}
	str_free(&old);
}

static void
busy_retry(void)
{
	struct str old = busy_ids;
	size_t i = 0;
	busy_ids = (struct str)STR_INIT;
	while (i < old.len) {
		const char *id = old.s + i;
		int r = load(id, LOAD_STARTUP);
		i += strlen(id) + 1;
		if (r == 2 && (str_cats(&busy_ids, id) < 0 || str_catc(&busy_ids, 0) < 0))
			warn_x("remember", id, "out of memory");
		if (r != 2 && admin_later.len)
			admin_pending(id);
	}
	str_free(&old);
}

static void
scan_dir(const char *sub, int startup)
{
	DIR *d;
	struct dirent *e;
	if (!(d = queue_opendir(sub))) {
		warn_sys("open", sub);
		return;
	}
	while ((e = readdir(d))) {
		int r;
		if (e->d_name[0] == '.')
			continue;
		r = load(e->d_name, startup ? LOAD_STARTUP : 0);
		/* the notice has served its purpose once we read the file; one
		 * we could not read (no descriptor, no memory) stays for the
		 * next look, or nothing would try its message before a restart */
		if (r >= 0 && (!startup || strcmp(sub, "new") == 0))
			queue_unlink_in("new", e->d_name);
		if (r == 2)
			busy_add(e->d_name);
		else if (r < 0)
			warn_sys("load", e->d_name);
	}
	closedir(d);
}

/* state files whose message is gone (finished while a child's result
 * was on its way): remove them, once everything was loaded at startup */
static void
sweep_state(void)
{
	struct str id = STR_INIT;
	struct stat st;
	DIR *d;
	struct dirent *e;
	if (!(d = queue_opendir("state")))
		return;
	while ((e = readdir(d))) {
		const char *dot = strstr(e->d_name, ".done");
		if (!dot)
			dot = strstr(e->d_name, ".qmail");
		if (!dot)
			dot = strstr(e->d_name, ".rep");
		if (e->d_name[0] == '.')
			continue;
		if (str_copyb(&id, e->d_name, dot ? (size_t)(dot - e->d_name) : strlen(e->d_name)) < 0 ||
		    str_0(&id) < 0 || !queue_id_ok(id.s) || lookup(id.s))
			continue;
		if (queue_stat_in("mess", id.s, &st) < 0 && errno == ENOENT)
			queue_unlink_in("state", e->d_name);
	}
	closedir(d);
	str_free(&id);
}

/* --- bounces, completion, persistence --- */

static void
postmaster(struct str *out)
{
	if (dbl.len && str_copyb(out, dbl.s, dbl.len) == 0)
		return;
	str_copys(out, "postmaster@");
	str_catb(out, me.s, me.len);
}

/* a report's action as its kind in the log */
static const char *
report_kind(const char *action)
{
	return strcmp(action, "failed") == 0 ? "failure" : strcmp(action, "delayed") == 0 ? "delay" : "success";
}

static void report_failed(struct msg *, const struct job *, int, const char *);

static void
start_report(struct msg *m, const char *action, unsigned int kind)
{
	static struct str pm = STR_INIT;
	struct dsn_params p = DSN_PARAMS_INIT;
	size_t i, n = 0, *idx;
	const char *to, *from;
	char want = kind == DSN_NOTIFY_DELAY ? QS_PENDING : kind == DSN_NOTIFY_SUCCESS ? QS_DELIVERED_NOTIFY : QS_FAILED;
	if (!(idx = malloc((m->env.nrcpt ? m->env.nrcpt : 1) * sizeof *idx)))
		return;
	if (dsn_params_parse(&p, m->env.dsn, m->env.nrcpt) < 0) {
		free(idx);
		return;
	}
	for (i = 0; i < m->env.nrcpt; i++) {
		/* a success report tells of deliveries, relays and expansions alike */
		if (m->st.r[i].status != want && !(want == QS_DELIVERED_NOTIFY && queue_success_due(m->st.r[i].status)))
			continue;
		/* a bounce's failure goes to the postmaster whatever it asked for;
		 * a success report only to a real sender who asked (RFC 3461
		 * 5.2.2, 6.2): an "s" without that (a hand-edited or corrupt
		 * state) is delivered, or nothing would ever finish the message */
		if (want == QS_DELIVERED_NOTIFY ? !is_bounce_sender(m->env.sender) && dsn_wants(&p, i, kind) :
		    is_bounce_sender(m->env.sender) || dsn_wants(&p, i, kind))
			idx[n++] = i;
		else if (want != QS_PENDING) {
			m->st.r[i].status = want == QS_FAILED ? QS_REPORTED : QS_DONE;
			m->dirty = 1;
		}
	}
	dsn_params_free(&p);
	if (n == 0 || strcmp(m->env.sender, "#@[]") == 0 || (kind == DSN_NOTIFY_DELAY && !*m->env.sender)) {
		if (n && want == QS_FAILED) {
			struct logline l;
			log_begin(&l, "discard");
			log_kv(&l, "id", m->id);
			log_kv(&l, "reason", "double bounce failed");
			log_end(&l);
		}
		for (i = 0; i < n && want == QS_FAILED; i++)
			m->st.r[idx[i]].status = QS_REPORTED;
		if (kind == DSN_NOTIFY_DELAY)
			m->st.flags |= QS_WARNED;
		m->dirty = 1;
		free(idx);
		return;
	}
	if (*m->env.sender && !(m->report_pm && want == QS_FAILED)) {
		to = m->env.sender;
		from = "";
	} else {
		postmaster(&pm);
		to = pm.s;
		from = "#@[]";
	}
	if (job_start(m, JOB_BOUNCE, idx, n, NULL, to, from, action) < 0) {
		/* no child to be had (fork, descriptors): a failure as when
		 * queue-add fails it, so within the queue lifetime like those;
		 * before, a fork that kept failing kept the message for ever */
		struct job j = { .idx = idx, .n = n, .action = action, .report_to = (char *)to,
			.report_dbl = strcmp(from, "#@[]") == 0 };
		report_failed(m, &j, 0, "no report process to be had");
		/* given to the postmaster: its turn at once, as after a job */
		if (!m->report_next)
			m->report_next = now_s();
		free(idx);
	}
}

/* The queue file of a finished message goes to the pool (lib/queue.h)
 * while the pool is not full; writers take from it without telling us, so
 * a full count is checked again, at most once a second. */
static int pool_n = -1;
static unsigned long long pool_counted;
uid_t queue_owner;
gid_t queue_group;
/* The finished local worker job whose message check_msg may finish now:
 * that worker, still holding the file open and locked, empties it once
 * told ("K"). Emptying frees its blocks, which on a file system mounted
 * with discard waits for the disk; this loop has better things to do. */
static struct job *emptier;

static void
remove_files(const char *id)
{
	unsigned long long t = now_s();
	int how;
	if ((pool_n < 0 || pool_n >= QUEUE_POOL_MAX) && pool_counted != t) {
		pool_n = queue_pool_count();
		pool_counted = t;
	}
	how = pool_n >= 0 && pool_n < QUEUE_POOL_MAX ? QUEUE_POOL : QUEUE_UNLINK;
	if (how == QUEUE_POOL && emptier)
		how = QUEUE_POOL_FULL;
	if (queue_recycle(id, how, queue_owner) == 1) {
		pool_n++;
		if (how == QUEUE_POOL_FULL)
			emptier->empty = 1;
	}
	queue_state_remove(id);
}

/* a recipient of m waits to be tried now */
static int
due_now(const struct msg *m, unsigned long long t)
{
	size_t i;
	for (i = 0; i < m->env.nrcpt; i++)
		if (m->st.r[i].status == QS_PENDING && !m->busy[i] && m->st.r[i].next <= t)
			return 1;
	return 0;
}

/* After results: report, finish or persist. 1 when m is finished and freed. */
static int
check_msg(struct msg *m)
{
	size_t i;
	int pending = 0, failed = 0, success = 0;
	unsigned long long t = now_s();
	for (i = 0; i < m->env.nrcpt; i++) {
		pending += m->st.r[i].status == QS_PENDING;
		failed += m->st.r[i].status == QS_FAILED;
		success += queue_success_due(m->st.r[i].status);
	}
	/* reports wait for the attempts in progress: a delay warning too,
	 * or it would name a recipient whose first try is still running;
	 * and for those due now that a limit holds back, or a message to
	 * many would get a report for each batch of them */
	if (!m->bouncing && !got_term && !m->report_next && m->jobs == 0 && !due_now(m, t)) {
		if (failed)
			start_report(m, "failed", DSN_NOTIFY_FAILURE);
		else if (success)
			start_report(m, "delivered", DSN_NOTIFY_SUCCESS);
		else if (pending && cfg.warn_after && !(m->st.flags & QS_WARNED) &&
		    t >= m->env.arrival + cfg.warn_after)
			start_report(m, "delayed", DSN_NOTIFY_DELAY);
	}
	if (m->jobs == 0 && !m->bouncing) {
		pending = failed = 0;
		for (i = 0; i < m->env.nrcpt; i++) {
			pending += m->st.r[i].status == QS_PENDING;
			failed += m->st.r[i].status == QS_FAILED || queue_success_due(m->st.r[i].status);
		}
		if (!pending && !failed) {
			struct logline l;
			remove_files(m->id);
			log_begin(&l, "done");
			log_kv(&l, "id", m->id);
			log_end(&l);
			m->gone = 1;
			msg_free(m);
			return 1;
		}
	}
	if (m->dirty)
		state_save(m);
	reschedule(m);
	return 0;
}

/* the job's worker is free again (a local one after its "k") */
static void
worker_done(struct job *j)
{
	j->w->busy = 0;
	j->w->idle_since = buf_now_ms();
	if (j->w->pid <= 0)
		worker_free(j->w);
	else if (j->w->stale)
		worker_close(j->w);
	j->w = NULL;
}

/* the report j told of is queued, or given up: its recipients are done with */
static void
report_settle(struct msg *m, const struct job *j)
{
	size_t k;
	int had = m->report_pm || m->report_since;
	for (k = 0; k < j->n; k++) {
		struct queue_rstate *q = &m->st.r[j->idx[k]];
		if (strcmp(j->action, "failed") == 0 && q->status == QS_FAILED)
			q->status = QS_REPORTED;
		else if (strcmp(j->action, "delivered") == 0 && queue_success_due(q->status))
			q->status = QS_DONE;
	}
	if (strcmp(j->action, "delayed") == 0)
		m->st.flags |= QS_WARNED;
	m->report_pm = 0;
	m->report_since = 0;
	if (had)
		report_state_save(m);
	m->dirty = 1;
}

/* a log line about the report j of m begun: what became of it (result) */
static void
report_log(struct logline *l, const char *event, const struct msg *m, const struct job *j, const char *result)
{
	log_begin(l, event);
	log_kv(l, "id", m->id);
	log_kv(l, "kind", report_kind(j->action));
	log_kv(l, "to", j->report_to);
	log_kv(l, "result", result);
}

/* The report j could not be queued. Refused for good (queue-add's
 * permanent codes: a bad address, doublebounceto one) or still failing a
 * queue lifetime after its first failure, it is given up as qmail-send
 * gives up a bounce: a failure report to the sender goes to the
 * postmaster instead, a double bounce (and a delay or success report) is
 * logged and dropped. Otherwise it is tried again later. */
static void
report_failed(struct msg *m, const struct job *j, int perm, const char *why)
{
	struct logline l;
	long long t = buf_now_ms();
	int late, first = !m->report_since;
	warn_x("queue report for", m->id, why);
	if (first)
		m->report_since = t > 0 ? t : 1;
	late = t >= m->report_since && (unsigned long long)(t - m->report_since) / 1000 >= cfg.lifetime;
	if (!perm && !late) {
		m->report_next = now_s() + (cfg.retry_base ? cfg.retry_base : 1);
		if (first)
			report_state_save(m);
		return;
	}
	report_log(&l, j->report_dbl || strcmp(j->action, "failed") ? "discard" : "report", m, j,
	    perm ? "refused" : "expired");
	log_kv(&l, "reason", why);
	if (!j->report_dbl && strcmp(j->action, "failed") == 0) {
		/* as when a bounce's delivery fails: a double bounce, at once */
		log_kv(&l, "next", "postmaster");
		log_end(&l);
		m->report_pm = 1;
		m->report_since = 0;
		report_state_save(m);
		m->dirty = 1;
		return;
	}
	log_end(&l);
	report_settle(m, j);
}

static void
job_done(struct job *j)
{
	struct msg *m = j->m;
	struct queue_result res = { 0, 0, "", STR_INIT, STR_INIT };
	size_t i = 0, k;
	unsigned char *seen = calloc(j->n ? j->n : 1, 1);
	int answered = 0;   /* a report's result line came */
	size_t unreached = 0;   /* recipients no host of the domain answered for */
	struct str why = STR_INIT, whyhost = STR_INIT;
	if (j->w && j->w->local) {
		/* result lines as a job child writes them, then "." */
		if (j->complete && j->out.len >= 2)
			j->out.len -= 2;
		else
			j->w->stale = 1;   /* it died mid-job */
	} else if (j->w) {
		/* smtp-send's lines into result lines, as a job child would */
		struct jobspec js;
		struct str o = j->out, e = STR_INIT;
		/* its last words, written before it died, are in the pipe now;
		 * a job that ended well costs no read here (poll brings them) */
		if (!j->complete)
			worker_err_read(j->w);
		if (!j->complete && j->w->efatal.len)
			str_copyb(&e, j->w->efatal.s, j->w->efatal.len);
		memset(&js, 0, sizeof js);
		js.env = &m->env;
		js.idx = j->idx;
		js.n = j->n;
		j->out = (struct str)STR_INIT;
		if (o.len >= 2 && o.s[o.len - 2] == '.' && o.s[o.len - 1] == '\n')
			o.len -= 2;   /* the closing "." */
		remote_results(&js, &o, EXIT_TEMP, &e, j->complete ? "smtp-send gave no result" :
		    "smtp-send -B ended without a result", &j->out);
		str_free(&o);
		str_free(&e);
		if (!j->complete)
			j->w->stale = 1;   /* its output may be out of step now */
	}
	while (i < j->out.len) {
		char *nl = memchr(j->out.s + i, '\n', j->out.len - i);
		if (!nl)
			break;
		if (queue_result_parse(&res, j->out.s + i, (size_t)(nl - (j->out.s + i))) == 0) {
			if (j->kind == JOB_BOUNCE) {
				if (res.status == 'o') {
					/* queue-add names no queue ID (qmail-queue's
					 * protocol): the report's Message-ID ties it to
					 * the report as delivered */
					struct logline l;
					report_log(&l, "report", m, j, "queued");
					log_kv(&l, "msgid", res.text.s);
					log_end(&l);
					report_settle(m, j);
				} else
					report_failed(m, j, res.status == 'p', res.text.s ? res.text.s : "failed");
				answered = 1;
			} else {
				for (k = 0; k < j->n; k++)
					if (j->idx[k] == res.idx && seen && !seen[k]) {
						seen[k] = 1;
						if (j->kind == JOB_REMOTE && dead_unreached(&res) && unreached++ == 0) {
							str_copyb(&why, res.text.s, res.text.len);
							str_copys(&whyhost, res.host.s ? res.host.s : "-");
						}
						apply_result(m, &res, j->kind == JOB_LOCAL ? "local" : "remote", 1);
						break;
					}
			}
		}
		i = (size_t)(nl - j->out.s) + 1;
	}
	if (j->kind == JOB_BOUNCE && !answered) {
		/* its child died without a word (killed, out of memory, the
		 * queue file unreadable): later, as when queue-add failed it,
		 * or check_msg would start the next one at once, and again */
		report_failed(m, j, 0, "report process died");
	}
	if (j->w && !j->w->local)
		worker_done(j);
	if (j->kind != JOB_BOUNCE)
		for (k = 0; k < j->n; k++) {
			m->busy[j->idx[k]] = 0;
			if (seen && !seen[k]) {
				struct queue_result t = { j->idx[k], 't', "4.3.0", STR_INIT, STR_INIT };
				str_copys(&t.text, "delivery process died");
				apply_result(m, &t, j->kind == JOB_LOCAL ? "local" : "remote", 1);
				str_free(&t.text);
			}
		}
	if (j->kind == JOB_REMOTE && j->domain)
		dead_result(j->domain, unreached && unreached == j->n, j->probe, &why, whyhost.s, now_s(), &cfg);
	str_free(&why);
	str_free(&whyhost);
	/* a delete or bounce asked for while these recipients were out */
	if (m->after && !admin_apply(m->after, m))
		m->after = 0;
	free(seen);
	str_free(&res.host);
	str_free(&res.text);
	m->jobs--;
	n_jobs--;
	if (j->kind == JOB_LOCAL)
		n_local--;
	else if (j->kind == JOB_REMOTE) {
		n_remote--;
		domain_put(j->domain);
	} else
		m->bouncing = 0;
	m->dirty = 1;
}

/* --- the loop --- */

static void
reap(void)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		worker_reaped(pid);
}

/* a child keeps only its own descriptors: others' would delay the end
 * of file that tells a job or a worker it is done */
static void
close_all_inherited(struct worker *keep)
{
	close(sigpipe_[0]);
	close(sigpipe_[1]);
	if (trigger_fd >= 0)
		close(trigger_fd);
	if (trigger_keep >= 0)
		close(trigger_keep);
	for (struct job *o = jobs; o; o = o->next)
		close(o->fd);
	for (struct worker *w = workers; w; w = w->next) {
		if (w != keep)
			worker_close(w);
		if (w->err >= 0)
			close(w->err);
	}
}

static void
read_jobs(struct pollfd *pf, size_t npf, size_t first)
{
	struct job *j;
	size_t i;
	char b[8192];
	for (i = first; i < npf; i++) {
		if (!pf[i].revents)
			continue;
		for (j = jobs; j && j->fd != pf[i].fd; j = j->next)
			;
		if (!j)
			continue;
		for (;;) {
			ssize_t r = read(j->fd, b, sizeof b);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r <= 0) {
				j->eof = 1;
				break;
			}
			if (j->out.len < JOB_OUT_MAX)
				str_catb(&j->out, b, (size_t)r);
			/* a worker's job ends with a line "." (it writes nothing more
			 * until the next job); the last bytes are kept apart, so the
			 * end is seen even past the output cap */
			if (j->w) {
				ssize_t k;
				for (k = 0; k < r; k++) {
					memmove(j->tail, j->tail + 1, 2);
					j->tail[2] = b[k];
				}
				if (memcmp(j->tail, "\n.\n", 3) == 0)
					j->eof = j->complete = 1;
			}
			break;
		}
	}
}

/* group commit: one directory sync covers every state file renamed since
 * the last (by jobs, and by a report that failed without one: no fork) */
static void
state_sync(void)
{
	if (state_written) {
		if (queue_sync_in("state") < 0)
			warn_sys("sync", "state directory");
		state_written = 0;
	}
}

/* finish every job that said all it had: record, persist, then acknowledge */
static void
complete_jobs(void)
{
	struct job **pp, *j, *done = NULL;
	for (pp = &jobs; (j = *pp);) {
		if (!j->eof) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		job_done(j);
		j->next = done;
		done = j;
	}
	if (!done) {
		state_sync();
		return;
	}
	/* persist every message touched, once */
	for (j = done; j; j = j->next) {
		struct job *k;
		int first = 1;
		for (k = done; k != j; k = k->next)
			if (k->m == j->m)
				first = 0;
		if (!first)
			continue;
		emptier = j->w && j->w->local && j->complete && j->w->in >= 0 ? j : NULL;
		check_msg(j->m);
		emptier = NULL;
	}
	state_sync();   /* every state file renamed above, before the acknowledgements */
	while ((j = done)) {
		done = j->next;
		if (j->pid > 0) {
			if (write(j->fd, "k", 1) < 0) {
				/* the child is gone; it already wrote nothing we lack */
			}
			close(j->fd);
		} else if (j->w) {
			/* a local worker: recorded, so it may let go and go on */
			if (j->complete && j->w->in >= 0 && write(j->w->in, j->empty ? "K" : "k", 1) != 1)
				j->w->stale = 1;
			worker_done(j);
		}
		str_free(&j->out);
		free(j->idx);
		free(j->domain);
		free(j->report_to);
		free(j);
	}
}

static int
opt_num(const char *s, unsigned long long *v)
{
	if (scan_ulongz(s, (unsigned long long)1 << 40, v) < 0)
		die_usage(USAGE);
	return 1;
}

static void
trigger_open(void)
{
	struct str p = STR_INIT;
	if (queue_path(&p, "trigger", NULL) < 0)
		die_nomem(EXIT_TEMP);
	trigger_fd = queue_trigger_open(O_RDONLY);
	if (trigger_fd < 0)
		die_sys(EXIT_TEMP, "open", p.s);
	/* our own writer keeps the FIFO from reporting end of file forever */
	trigger_keep = queue_trigger_open(O_WRONLY);
	str_free(&p);
}

static void
all_now(void)
{
	struct msg *m, *next;
	size_t i;
	for (m = deferred.next; m != &deferred; m = next) {
		next = m->next;
		for (i = 0; i < m->env.nrcpt; i++)
			if (m->st.r[i].status == QS_PENDING)
				m->st.r[i].next = 0;
		list_add(&active, m, 1);
	}
	for (m = active.next; m != &active; m = m->next)
		for (i = 0; i < m->env.nrcpt; i++)
			if (m->st.r[i].status == QS_PENDING)
				m->st.r[i].next = 0;
	min_wake = 0;
	dead_retry(NULL, 0);   /* as Postfix's flush: dead domains are tried again too */
}

/* messages loaded at startup go through check_msg once */
static void
settle_all(void)
{
	struct msg *m;
	while ((m = to_settle)) {
		to_settle = m->snext;
		m->settle = 0;
		if (!m->list && !m->jobs)
			check_msg(m);
	}
}

/* --- admin requests from queue-list: "R ID\n" retry, "D ID\n" delete, "B ID\n" bounce --- */

/* Whole request lines read since the last fifo_commands, then the line
 * begun (from fifo_line on). Requests pile up while we are busy: each
 * is kept, however many came; a line too long to be one is garbage,
 * dropped up to its newline, so that it takes no request after it along. */
enum { FIFO_LINE_MAX = 2 + QUEUE_ID_MAX + 1, FIFO_READS = 256 };
static struct str fifo_buf = STR_INIT;
static size_t fifo_line;
static int fifo_skip;

static void
fifo_input(const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (fifo_skip) {
			fifo_skip = b[i] != '\n';
			continue;
		}
		/* queue-add's wakeup byte comes between lines (one write each) */
		if (b[i] == 0 && fifo_buf.len == fifo_line)
			continue;
		if (fifo_buf.len - fifo_line >= FIFO_LINE_MAX || str_catc(&fifo_buf, b[i]) < 0) {
			fifo_buf.len = fifo_line;
			fifo_skip = b[i] != '\n';
			continue;
		}
		if (b[i] == '\n')
			fifo_line = fifo_buf.len;
	}
}

/* Carry out request a on m's recipients. One a job has is left to it:
 * the request waits for its result (m->after, job_done), or a temporary
 * failure would put it back on the schedule, neither deleted nor bounced.
 * 1 if any was left. */
static int
admin_apply(char a, struct msg *m)
{
	size_t i;
	int left = 0;
	for (i = 0; i < m->env.nrcpt; i++) {
		struct queue_rstate *r = &m->st.r[i];
		if (a == 'D' && queue_success_due(r->status)) {
			r->status = QS_DONE;   /* deleted: no one is told, as offline */
			continue;
		}
		if (r->status != QS_PENDING && !(a == 'D' && r->status == QS_FAILED))
			continue;
		r->next = 0;
		if (a == 'R' && m->where[i] == 2)
			dead_retry(rcpt_domain(m->env.rcpt[i]), now_s());   /* this message goes as the probe */
		if (a != 'R' && m->busy[i])
			left = 1;
		else if (a == 'D')
			r->status = QS_REPORTED;   /* dropped without a report */
		else if (a == 'B') {
			r->status = QS_FAILED;
			queue_rstate_set(r, "5.0.0", r->host.s, "bounced by the administrator", 28);
		}
	}
	m->dirty = 1;
	return left;
}

static void
admin(char a, struct msg *m)
{
	struct logline l;
	log_begin(&l, "admin");
	log_kv(&l, "id", m->id);
	log_kv(&l, "action", a == 'R' ? "retry" : a == 'D' ? "delete" : "bounce");
	log_end(&l);
	if (admin_apply(a, m) && m->after != 'D')
		m->after = a;   /* D or B (a retry leaves nothing); a delete outranks a bounce */
	m->report_next = 0;
	if (!m->jobs)
		check_msg(m);
}

/* An admin's request for a file that does not load as mail: gone since
 * (delivered), or whole from queue-add with its envelope intact but its
 * text damaged (the CRC), which queue-list lists. A delete removes it, as
 * queue-list does with no queue-run; a retry or bounce can neither deliver
 * nor quote it: logged, so the request is not lost without a word. */
static void
admin_unloaded(char a, const char *id)
{
	struct queue_msg qm;
	struct logline l;
	const char *result = "not-queued";
	if (queue_msg_open_id_env(&qm, id) > 0) {
		queue_msg_close(&qm);
		if (a == 'D') {
			queue_unlink_in("mess", id);
			queue_state_remove(id);
			result = "deleted";
		} else {
			result = "refused-damaged";
		}
	}
	log_begin(&l, "admin");
	log_kv(&l, "id", id);
	log_kv(&l, "action", a == 'R' ? "retry" : a == 'D' ? "delete" : "bounce");
	log_kv(&l, "result", result);
	log_end(&l);
}

static void
fifo_commands(void)
{
	size_t i = 0;
	while (i < fifo_buf.len) {
		char *l = fifo_buf.s + i, *nl = memchr(l, '\n', fifo_buf.len - i);
		if (!nl)
			break;
		*nl = 0;
		i = (size_t)(nl - fifo_buf.s) + 1;
		if (nl - l < 3 || l[1] != ' ' || (l[0] != 'R' && l[0] != 'D' && l[0] != 'B'))
			continue;
		if (strcmp(l + 2, "*") == 0 && l[0] == 'R') {
			all_now();
			continue;
		}
		if (queue_id_ok(l + 2)) {
			/* not loaded: maybe held by an earlier run's child, whose
			 * results (.done) come first; the command waits for it */
			struct msg *m = lookup(l + 2);
			int r = m ? 1 : load(l + 2, LOAD_BUSY);
			if (r == 1 && (m = lookup(l + 2)))
				admin(l[0], m);
			else if (r == 0)
				admin_unloaded(l[0], l + 2);
			else if (r == 2) {
				busy_add(l + 2);
				if (str_cats(&admin_later, l) < 0 || str_catc(&admin_later, 0) < 0)
					warn_x("remember", l + 2, "out of memory");
			}
		}
	}
	if (i) {
		memmove(fifo_buf.s, fifo_buf.s + i, fifo_buf.len - i);
		fifo_buf.len -= i;
		fifo_line -= i;
	}
}

/* the settings in force, at start and after SIGHUP */
static void
log_settings(const char *event)
{
	struct logline l;
	log_begin(&l, event);
	log_kv(&l, "queue", queue_dir());
	log_kvu(&l, "local", cfg.local_max);
	log_kvu(&l, "remote", cfg.remote_max);
	log_kvu(&l, "lifetime", cfg.lifetime);
	log_end(&l);
}

int
main(int argc, char **argv)
{
	unsigned long long v, last_t = 0;
	long long term_deadline = 0;   /* monotonic ms: the wait after SIGTERM is term_wait, whatever the wall clock does */
	long long scanned;
	struct stat qst;
	int c;
	/* s6-svc -h or -a while we start must not kill us (their default
	 * action): until the handlers below are in place there is nothing to
	 * reread or rerun, since the configuration and the whole queue are
	 * read after them anyway */
	signal(SIGHUP, SIG_IGN);
	signal(SIGALRM, SIG_IGN);
	die_init(argv[0] ? argv[0] : "queue-run");
	/* no fastbins: a delivery child's first large malloc would otherwise
	 * consolidate them, touching (and so copying) the scheduler's heap */
	mallopt(M_MXFAST, 0);
	cfg_def = cfg;
	while ((c = getopt(argc, argv, "Sl:r:d:L:b:m:w:t:c:")) != -1) {
		switch (c) {
		case 'S': no_batch = 1; break;
		case 'l': opt_num(optarg, &v); cfg.local_max = cfg_opt.local_max = v ? (unsigned)(v > 1000 ? 1000 : v) : 1; break;
		case 'r': opt_num(optarg, &v); cfg.remote_max = cfg_opt.remote_max = v ? (unsigned)(v > 1000 ? 1000 : v) : 1; break;
		case 'd': opt_num(optarg, &v); cfg.domain_max = cfg_opt.domain_max = v ? (unsigned)(v > 1000 ? 1000 : v) : 1; break;
		case 'L': opt_num(optarg, &cfg.lifetime); cfg_opt.lifetime = 1; break;
		case 'b': opt_num(optarg, &cfg.retry_base); cfg_opt.retry_base = 1; break;
		case 'm': opt_num(optarg, &cfg.retry_max); cfg_opt.retry_max = 1; break;
		case 'w': opt_num(optarg, &cfg.warn_after); cfg_opt.warn_after = 1; break;
		case 't': opt_num(optarg, &cfg.term_wait); break;
		case 'c': opt_num(optarg, &cfg.time_limit); cfg_opt.time_limit = 1; break;
		default: die_usage(USAGE);
		}
	}
	if (optind != argc)
		die_usage(USAGE);
	load_config();
	if (queue_init() < 0 || stat(queue_dir(), &qst) < 0)
		die_sys(EXIT_TEMP, "create", queue_dir());
	queue_owner = qst.st_uid;   /* the writers' user: pool files must be theirs */
	queue_group = qst.st_gid;
	if (queue_pin() < 0)
		die_sys(EXIT_TEMP, "open", "the queue's directories");
	/* local deliveries into one Maildir at once share their syncs of new/
	 * (without the shared table each syncs its own: as correct, slower) */
	maildir_sync_group(group = groupsync_new());
	if (pipe2(sigpipe_, O_NONBLOCK | O_CLOEXEC) < 0)
		die_sys(EXIT_TEMP, "create", "signal pipe");
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	trigger_open();
	log_settings("start");
	scan_dir("mess", 1);
	scan_dir("new", 1);
	sweep_state();
	settle_all();
	scanned = buf_now_ms();
	for (;;) {
		struct pollfd *pf;
		struct job *j;
		size_t npf = 0, nj, i;
		long long timeout = POLL_MAX_MS;
		unsigned long long t;
		char b[512];
		int ready;
		if (got_hup) {
			size_t h;
			struct msg *m;
			got_hup = 0;
			load_config();
			log_settings("reload");   /* so that the admin sees it took */
			/* local domains may have changed */
			for (h = 0; h < HASH_SIZE; h++)
				for (m = hash[h]; m; m = m->hnext)
					memset(m->where, 0, m->env.nrcpt);
			/* so may routes: workers start afresh, dead domains are tried again */
			for (struct worker *w = workers; w; w = w->next)
				w->stale = 1;
			dead_retry(NULL, 0);
		}
		if (got_alrm) {
			got_alrm = 0;
			all_now();
		}
		if ((t = now_s()) < last_t)
			clock_back(t);
		last_t = t;
		if (got_term && !term_deadline)
			term_deadline = buf_now_ms() + (long long)(cfg.term_wait < TERM_WAIT_MAX ? cfg.term_wait : TERM_WAIT_MAX) * 1000;
		if (got_term && (n_jobs == 0 || buf_now_ms() >= term_deadline))
			break;
		start_jobs();
		t = now_s();
		if (!got_term && active.next != &active && (n_local < cfg.local_max || n_remote < cfg.remote_max))
			timeout = 1000;   /* something waits on a limit or the control directory */
		if (!got_term && min_wake) {
			/* in seconds first: a far wake time must not overflow */
			unsigned long long s = min_wake > t ? min_wake - t : 0;
			if (s < (unsigned long long)timeout / 1000)
				timeout = (long long)s * 1000;
		}
		if (got_term || busy_ids.len)
			timeout = 1000;
		workers_trim(0);
		if (workers && timeout > 5000)
			timeout = 5000;   /* idle workers end after WORKER_IDLE */
		pf = calloc(n_jobs + n_workers + 2, sizeof *pf);
		if (!pf)
			die_nomem(EXIT_TEMP);
		pf[npf].fd = sigpipe_[0];
		pf[npf++].events = POLLIN;
		pf[npf].fd = got_term ? -1 : trigger_fd;
		pf[npf++].events = POLLIN;
		for (j = jobs; j; j = j->next) {
			pf[npf].fd = j->fd;
			pf[npf++].events = POLLIN;
		}
		nj = npf;
		for (struct worker *w = workers; w && npf < n_jobs + n_workers + 2; w = w->next)
			if (w->err >= 0) {
				pf[npf].fd = w->err;
				pf[npf++].events = POLLIN;
			}
		if ((ready = poll(pf, (nfds_t)npf, (int)timeout)) < 0 && errno != EINTR)
			die_sys(EXIT_TEMP, "poll", "descriptors");
		if (pf[0].revents)
			while (read(sigpipe_[0], b, sizeof b) > 0)
				;
		reap();
		if (pf[1].revents) {
			ssize_t r;
			int k = 0;
			/* bounded: writers that never stop do not hold up the loop */
			while (k++ < FIFO_READS && (r = read(trigger_fd, b, sizeof b)) > 0)
				fifo_input(b, (size_t)r);
			scan_dir("new", 0);
			scanned = buf_now_ms();
			settle_all();
			fifo_commands();
		} else if (!got_term && (ready == 0 || buf_now_ms() - scanned >= POLL_MAX_MS)) {
			/* a notice whose wakeup never came (its writer killed
			 * between the two, the FIFO removed or replaced under us)
			 * waits no longer than a quiet moment, or a minute */
			scan_dir("new", 0);
			scanned = buf_now_ms();
			settle_all();
		}
		if (busy_ids.len) {
			busy_retry();
			settle_all();
		}
		/* stderr first: a dying worker's last line is then at hand */
		for (i = nj; i < npf; i++)
			if (pf[i].revents)
				for (struct worker *w = workers; w; w = w->next)
					if (w->err == pf[i].fd) {
						worker_err_read(w);
						break;
					}
		read_jobs(pf, nj, 2);
		free(pf);
		complete_jobs();
	}
	/* idle workers say QUIT to their peers; wait for that, bounded */
	workers_trim(1);
	for (long long end = buf_now_ms() + 2000; buf_now_ms() < end;) {
		struct worker *w;
		for (w = workers; w; w = w->next)
			worker_err_read(w);   /* their last log lines */
		reap();
		for (w = workers; w && (w->busy || w->pid <= 0); w = w->next)
			;
		if (!w)
			break;
		poll(NULL, 0, 10);
	}
	{
		struct logline l;
		unsigned long long calls, syncs;
		groupsync_counts(group, &calls, &syncs);
		log_begin(&l, "stop");
		log_kvu(&l, "running", n_jobs);
		log_kvu(&l, "dirsyncs", syncs);    /* of new/, for */
		log_kvu(&l, "commits", calls);     /* local deliveries */
		log_end(&l);
	}
	return 0;
}
