/* Local delivery for one recipient, in a delivery child: aliases and
 * user+detail through the control directory, then the user's delivery
 * file or deliver-maildir, each agent run as the user. */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "dotqmail.h"
#include "dsn.h"
#include "exitcode.h"
#include "maildeliver.h"
#include "maildir.h"
#include "queue-run.h"
#include "scan.h"
#include "smtpaddr.h"

static void
say(struct str *res, size_t idx, const char *status, const char *dsn, const char *text)
{
	result_line(res, idx, status, dsn, "-", text, strlen(text));
}

/* Does the message already carry "Delivered-To: addr"? (a forwarding loop) */
static int
has_dtline(const struct queue_msg *m, const char *addr)
{
	char b[65536];
	ssize_t n = pread(m->fd, b, sizeof b - 1, (off_t)m->hdr.msgoff);
	size_t i = 0, al = strlen(addr);
	if (n <= 0)
		return 0;
	b[n] = 0;
	while (i < (size_t)n) {
		char *l = b + i, *nl = memchr(l, '\n', (size_t)n - i);
		size_t len = nl ? (size_t)(nl - l) : (size_t)n - i;
		if (len == 0 || (len == 1 && l[0] == '\r'))
			break;
		if (len >= 13 && strncasecmp(l, "Delivered-To:", 13) == 0) {
			char *v = l + 13;
			size_t vl = len - 13;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl == al && strncasecmp(v, addr, al) == 0)
				return 1;
		}
		i += len + 1;
	}
	return 0;
}

/* has_dtline, said in err: the message came back to rcpt (a loop) */
static int
looped(const struct queue_msg *m, const char *rcpt, struct str *err)
{
	if (!has_dtline(m, rcpt))
		return 0;
	str_copys(err, "mail loop: already delivered to ");
	str_cats(err, rcpt);
	return 1;
}

/* what became of a local recipient that went well */
enum { HOW_DELIVERED, HOW_FORWARDED, HOW_EXPANDED };

/* Queue a copy for to[0..n-1], with the DSN parameters of recipient idx
 * (RFC 3461 6.2.7, dsn_params_forward). pass: rcpt forwards to that one
 * address and nowhere else, so all of them go on (an alias is a hop, not
 * a delivery): the next hop answers a NOTIFY=SUCCESS, and *how becomes
 * HOW_FORWARDED, no success report is ours. Otherwise SUCCESS stays
 * here; to several addresses at once *how becomes HOW_EXPANDED. */
static int
forward(const struct jobspec *j, const struct queue_msg *m, const char *rcpt,
    const char *const *to, size_t n, int pass, size_t idx, int *how, struct str *err)
{
	struct str pre = STR_INIT, dsn = STR_INIT;
	int code;
	if (looped(m, rcpt, err))
		return EXIT_PERM;
	if (str_copys(&pre, "Delivered-To: ") < 0 || str_cats(&pre, rcpt) < 0 || str_catc(&pre, '\n') < 0)
		return EXIT_TEMP;
	if (dsn_params_forward(j->env->dsn, idx, j->env->rcpt[idx], n, pass, &dsn) < 0) {
		str_free(&pre);
		str_free(&dsn);
		return EXIT_TEMP;
	}
	code = inject(j, m, j->env->sender, to, n, pre.s, dsn.s, err);
	if (code == 0 && (pass || n > 1))
		*how = pass ? HOW_FORWARDED : HOW_EXPANDED;
	str_free(&pre);
	str_free(&dsn);
	return code;
}

static int
run_one(const struct jobspec *j, const struct queue_msg *m, const struct conf_user *u,
    const char *rcpt, const char *dtline, char *const *argv, const char *cwd, struct str *err)
{
	int in = msg_stdin(m, 1), code;   /* the agent runs as the user */
	struct agent a = { argv, agent_sender(j->env->sender), rcpt, dtline, in, 1, u->uid, u->gid, cwd, err, NULL,
		j->cfg->time_limit };
	/* a hand-edited users line must not get a program run as root */
	if (geteuid() == 0 && (u->uid == 0 || u->gid == 0)) {
		if (in >= 0)
			close(in);
		str_copys(err, "refusing to deliver as root");
		return EXIT_TEMP;
	}
	if (in < 0) {
		str_copys(err, "unable to read queue file");
		return EXIT_TEMP;
	}
	str_trunc(err, 0);
	code = agent_run(&a);
	close(in);
	return code;
}

/* deliver-maildir's work without its exec or a fork: this delivery child
 * takes the user's filesystem identity (fsuid, fsgid, groups: what every
 * file access is checked against and what new files are owned by), runs
 * the same lib/maildeliver routine, and takes root's back for its report.
 * No code but ours runs meanwhile, and the user cannot signal or trace a
 * process whose real uid is root. The exec, its dynamic loading and the
 * copy-on-write faults of another fork were most of a local delivery. */
static int
become_fs(uid_t uid, gid_t gid)
{
	gid_t g = gid;
	if (geteuid() != 0)
		return 0;   /* not root: deliveries run as whoever we are */
	if (setgroups(1, &g) < 0)
		return -1;
	setfsgid(gid);
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid ? 0 : -1;
}

static int
restore_fs(void)
{
	if (geteuid() != 0)
		return 0;
	setfsuid(0);
	setfsgid(0);
	/* a child that cannot be root again must not report: it exits */
	if (setfsuid((uid_t)-1) != 0 || setfsgid((gid_t)-1) != 0 || setgroups(0, NULL) < 0)
		_exit(EXIT_TEMP);
	return 0;
}

static int
run_inproc(const struct jobspec *j, const struct queue_msg *m, const struct conf_user *u,
    const char *rcpt, const char *dtline, const char *maildir, const char *folder, const char *quota, int create,
    struct str *err)
{
	struct maildeliver d = { maildir, folder, quota, create, 0, agent_sender(j->env->sender), rcpt, dtline };
	int in, code;
	mode_t um;
	str_trunc(err, 0);
	if (geteuid() == 0 && (u->uid == 0 || u->gid == 0)) {
		str_copys(err, "refusing to deliver as root");
		return EXIT_TEMP;
	}
	if ((in = msg_stdin(m, 0)) < 0) {
		str_copys(err, "unable to read queue file");
		return EXIT_TEMP;
	}
	if (become_fs(u->uid, u->gid) < 0) {
		restore_fs();
		close(in);
		str_copys(err, "unable to take the user's identity");
		return EXIT_TEMP;
	}
	um = umask(077);
	code = maildeliver(&d, in, err, NULL, NULL);
	umask(um);
	restore_fs();
	close(in);
	return code;
}

/* the user's delivery file: 1 with entries read, 0 none, -1 error (err set) */
static int
delivery_file(const struct conf_user *u, char **buf, struct dotqmail_entry *e, int *n, struct str *err)
{
	struct str p = STR_INIT;
	struct stat st;
	ssize_t got;
	size_t line;
	int fd, oe;
	if (str_copyb(&p, u->maildir.s, u->maildir.len) < 0 || str_cats(&p, "/.qmail") < 0)
		return -1;
	/* opened with the user's rights: the path is the user's to change (a
	 * symlinked Maildir), so root must not read through it for them */
	if (become_fs(u->uid, u->gid) < 0) {
		restore_fs();
		str_free(&p);
		str_copys(err, "unable to take the user's identity");
		return -1;
	}
	fd = open(p.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	oe = errno;
	restore_fs();
	errno = oe;
	str_free(&p);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : (str_copys(err, "unable to open delivery file"), -1);
	/* a directory there is a Maildir++ folder named "qmail" (another IMAP
	 * server made it), not instructions: deferring every message for it
	 * would stop the user's mail until it bounced */
	if (fstat(fd, &st) < 0) {
		close(fd);
		str_copys(err, "unable to open delivery file");
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return 0;
	}
	/* a file someone else could have written is not the user's wish */
	if (!S_ISREG(st.st_mode) || (st.st_uid != u->uid && st.st_uid != 0) ||
	    (st.st_mode & 022) || st.st_size > DOTQMAIL_FILE_MAX) {
		close(fd);
		str_copys(err, "delivery file is unsafe (owner, mode or size)");
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -1;
	}
	got = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		str_copys(err, "unable to read delivery file");
		return -1;
	}
	/* the line named, since every message waits until its owner fixes it */
	if ((*n = dotqmail_parse_at(*buf, (size_t)got, e, DOTQMAIL_ENTRIES_MAX, &line)) < 0) {
		str_copys(err, "delivery file is malformed");
		if (line) {
			str_cats(err, " at line ");
			str_catu(err, line);
		}
		return -1;
	}
	return 1;
}

/* The delivery file's lines already carried out for a recipient, kept
 * across retries in state/ID.qmail as "IDX\tMAILDIR\tLINE\n" records, so
 * that neither a later line's temporary failure nor a crash part-way
 * repeats them. Each is written, synced, as soon as its line is carried
 * out, before the next line starts (one sync per line but the last,
 * whose end the recipient's state records); it goes with the message's
 * state (remove_files). */
static int
progress_key(size_t idx, const struct conf_user *u, struct str *key)
{
	return str_copyb(key, "", 0) < 0 || str_catu(key, idx) < 0 || str_catc(key, '\t') < 0 ||
	    str_catb(key, u->maildir.s, u->maildir.len) < 0 || str_catc(key, '\t') < 0 ? -1 : 0;
}

/* done: this recipient's records (without the key), each ending in '\n' */
static void
progress_read(const struct jobspec *j, const struct str *key, struct str *done)
{
	struct str b = STR_INIT;
	size_t i = 0;
	str_trunc(done, 0);
	state_file_read(j->id, ".qmail", &b);
	while (i < b.len) {
		char *nl = memchr(b.s + i, '\n', b.len - i);
		size_t l;
		if (!nl)
			break;
		l = (size_t)(nl - (b.s + i));
		if (l >= key->len && memcmp(b.s + i, key->s, key->len) == 0)
			str_catb(done, b.s + i + key->len, l - key->len + 1);
		i += l + 1;
	}
	str_free(&b);
}

/* state/ID.qmail for appending (flags O_WRONLY or O_RDWR), made if
 * missing: the delivery-file progress and the alias records below */
static int
qmail_file_open(const struct jobspec *j, int flags)
{
	struct str p = STR_INIT;
	int fd = -1;
	if (str_copys(&p, j->id) == 0 && str_cats(&p, ".qmail") == 0)
		fd = queue_open_in("state", p.s, flags | O_APPEND | O_CREAT, 0640);
	str_free(&p);
	return fd;
}

/* Append records to state/ID.qmail (fd) durably: the data synced, and
 * state/ as well when the file held nothing yet (just made: its name is
 * not on disk before that). A failure is only a record lost: a line
 * carried out, or a copy made, again. 0 / -1. */
static int
record_append(int fd, const char *b, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || buf_writeall(fd, b, n, 0, 0) < 0 || fdatasync(fd) < 0)
		return -1;
	return st.st_size > 0 ? 0 : queue_sync_in("state");
}

/* best effort: a record lost is a line carried out again */
static void
progress_save(const struct jobspec *j, const struct str *recs)
{
	int fd = qmail_file_open(j, O_WRONLY);
	if (fd >= 0) {
		(void)record_append(fd, recs->s, recs->len);
		close(fd);
	}
}

/* Was entry e carried out already? Each record in done counts once: it
 * is used up (its first byte zeroed), so a line written twice in the
 * file is carried out twice; a line moved is still known, a new one not. */
static int
progress_skip(const struct dotqmail_entry *e, struct str *done)
{
	size_t al = strlen(e->arg), i = 0;
	while (i < done->len) {
		char *nl = memchr(done->s + i, '\n', done->len - i);
		size_t l = (size_t)(nl - (done->s + i));
		if (l == al + 1 && done->s[i] == e->type && memcmp(done->s + i + 1, e->arg, al) == 0) {
			done->s[i] = 0;
			return 1;
		}
		i += l + 1;
	}
	return 0;
}

/* Is a delivery file's Maildir line ("./", "./.Junk/", relative to the
 * user's Maildir) the user's own Maildir (1, *folder NULL) or one of its
 * Maildir++ folders (1, *folder pointing at its name, copied into name)?
 * 0 for any other path; -1 no memory. */
static int
own_maildir(const char *arg, const char **folder, struct str *name)
{
	const char *p = arg;
	size_t l;
	*folder = NULL;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (!*p)
		return 1;
	l = strlen(p);
	if (p[0] != '.' || l < 3 || p[l - 1] != '/' || memchr(p + 1, '/', l - 2) || !strcmp(p, "../"))
		return 0;
	if (str_copyb(name, p + 1, l - 2) < 0 || str_0(name) < 0)
		return -1;
	/* a name deliver-maildir -f would refuse (or take for INBOX) stays
	 * the plain path it always was */
	{
		struct str probe = STR_INIT;
		int r = maildir_folder_path(&probe, "m", name->s);
		str_free(&probe);
		if (r != 0)
			return r < 0 && errno != EINVAL ? -1 : 0;
	}
	*folder = name->s;
	return 1;
}

static int
deliver_user(const struct jobspec *j, const struct queue_msg *m, const struct conf_user *u,
    const char *rcpt, size_t idx, int *how, struct str *err)
{
	struct str key = STR_INIT, done = STR_INIT, recs = STR_INIT;
	struct dotqmail_entry e[DOTQMAIL_ENTRIES_MAX];
	struct str dt = STR_INIT, path = STR_INIT;
	char *buf = NULL;
	char *argv[9];
	struct str quota = STR_INIT;
	int n = 0, i, r, code = 0, k;
	/* the user's quota from the users table travels as deliver-maildir -q */
	if (u->quota && str_catu(&quota, u->quota) < 0)
		return EXIT_TEMP;
	if (str_copys(&dt, "Delivered-To: ") < 0 || str_cats(&dt, rcpt) < 0 || str_catc(&dt, '\n') < 0)
		return EXIT_TEMP;
	r = delivery_file(u, &buf, e, &n, err);
	if (r < 0) {
		free(buf);
		return EXIT_TEMP;
	}
	/* no file, or one without a delivery line (empty, comments only): the
	 * default delivery, as qmail-local does for an empty one; carrying
	 * out nothing would report the message delivered and lose it */
	if (r == 0 || n == 0) {
		k = 0;
		argv[k++] = (char *)j->cfg->deliver;
		if (quota.len) {
			argv[k++] = (char *)"-q";
			argv[k++] = quota.s;
		}
		argv[k++] = u->maildir.s;
		argv[k] = NULL;
		if (j->cfg->inproc)
			code = run_inproc(j, m, u, rcpt, dt.s, u->maildir.s, NULL, quota.len ? quota.s : NULL, 0, err);
		else
			code = run_one(j, m, u, rcpt, dt.s, argv, NULL, err);
		goto out;
	}
	/* our Delivered-To already in the message: it came back through a
	 * forward (a to b, b to a). Checked before any line, as qmail-local
	 * does: forward lines and deliver-maildir check it, but a '|' line
	 * before them would run again for each looping copy */
	if (looped(m, rcpt, err)) {
		code = EXIT_PERM;
		goto out;
	}
	if (progress_key(idx, u, &key) < 0)
		goto nomem;
	progress_read(j, &key, &done);
	for (i = 0; i < n && code == 0; i++) {
		if (progress_skip(&e[i], &done))
			continue;
		switch (e[i].type) {
		case DQ_MAILDIR: {
			const char *folder = NULL;
			int own = own_maildir(e[i].arg, &folder, &path);
			if (own < 0)
				goto nomem;
			if (!own) {
				str_trunc(&path, 0);
				if (e[i].arg[0] != '/' && (str_copyb(&path, u->maildir.s, u->maildir.len) < 0 ||
				    str_catc(&path, '/') < 0))
					goto nomem;
				if (str_cats(&path, e[i].arg) < 0)
					goto nomem;
			}
			/* -c: a folder named in the file is made on first use. The
			 * user's own Maildir and its folders count against the
			 * user's quota (Maildir++: the Maildir's maildirsize) */
			k = 0;
			argv[k++] = (char *)j->cfg->deliver;
			argv[k++] = (char *)"-c";
			if (own && quota.len) {
				argv[k++] = (char *)"-q";
				argv[k++] = quota.s;
			}
			if (folder) {
				argv[k++] = (char *)"-f";
				argv[k++] = path.s;
			}
			argv[k++] = own ? u->maildir.s : path.s;
			argv[k] = NULL;
			if (j->cfg->inproc)
				code = run_inproc(j, m, u, rcpt, dt.s, own ? u->maildir.s : path.s, folder ? path.s : NULL,
				    own && quota.len ? quota.s : NULL, 1, err);
			else
				code = run_one(j, m, u, rcpt, dt.s, argv, NULL, err);
			break;
		}
		case DQ_PROGRAM:
			argv[0] = (char *)"/bin/sh";
			argv[1] = (char *)"-c";
			argv[2] = (char *)e[i].arg;
			argv[3] = NULL;
			code = run_one(j, m, u, rcpt, dt.s, argv, u->maildir.s, err);
			if (code == 99)
				goto out0;
			/* qmail-command(8): these are hard errors too */
			if (code == 64 || code == 65 || code == 70 || code == 76 || code == 77 || code == 78 ||
			    code == 112)
				code = EXIT_PERM;
			if (code != 0 && code != EXIT_PERM)
				code = EXIT_TEMP;
			break;
		default: {
			const char *to[1] = { e[i].arg };
			/* a file that only forwards, to one address, is an alias */
			code = forward(j, m, rcpt, to, 1, n == 1, idx, how, err);
		}
		}
		if (code != 0 || i == n - 1)
			continue;
		str_trunc(&recs, 0);
		if (str_catb(&recs, key.s, key.len) < 0 || str_catc(&recs, e[i].type) < 0 ||
		    str_cats(&recs, e[i].arg) < 0 || str_catc(&recs, '\n') < 0)
			goto nomem;
		progress_save(j, &recs);
	}
	/* a file that only forwards, to several addresses: an expansion */
	for (i = 0; code == 0 && i < n && e[i].type == DQ_FORWARD; i++)
		;
	if (code == 0 && n > 1 && i == n)
		*how = HOW_EXPANDED;
	goto out;
nomem:
	code = EXIT_TEMP;
	goto out;
out0:
	code = 0;
out:
	str_free(&key);
	str_free(&done);
	str_free(&recs);
	free(buf);
	str_free(&quota);
	str_free(&dt);
	str_free(&path);
	return code;
}

/* An alias's target list (conf_alias_get: comma-separated) split in
 * place into its non-empty, blank-trimmed targets. 0 ok, -1 no memory. */
static int
split_targets(char *list, const char ***to, size_t *n)
{
	size_t cap = 0;
	char *t;
	*to = NULL;
	*n = 0;
	while ((t = strsep(&list, ","))) {
		size_t l;
		while (*t == ' ' || *t == '\t')
			t++;
		for (l = strlen(t); l && (t[l - 1] == ' ' || t[l - 1] == '\t'); l--)
			t[l - 1] = 0;
		if (!*t)
			continue;
		if (*n == cap) {
			const char **nt;
			cap = cap ? cap * 2 : 8;
			if (!(nt = realloc(*to, cap * sizeof *nt)))
				return -1;
			*to = nt;
		}
		(*to)[(*n)++] = t;
	}
	return 0;
}

/* Do a and b name one mailbox? r is local when local_r > 0: then the
 * local part matches in any case, as our lookups do. */
static int
same_mailbox(const char *r, int local_r, const char *t)
{
	return strcasecmp(r, t) == 0 && (local_r > 0 || smtpaddr_cmp(r, t) == 0);
}

/* What recipient k of this message is: 'u' a local user, 'a' a local
 * alias (its targets in *targets), 'r' remote, 0 unknown or unreadable. */
static int
rcpt_kind(const char *r, struct str *targets)
{
	const char *at = strrchr(r, '@');
	struct str canon = STR_INIT;
	struct conf_user u = CONF_USER_INIT;
	int local, kind = 0;
	if (!at || (local = conf_domain_local(at + 1)) < 0)
		return 0;
	if (local == 0)
		return 'r';
	if (conf_rcpt_local(r, &canon) > 0) {
		int ru = conf_user_get(canon.s, &u);
		if (ru > 0)
			kind = 'u';
		else if (ru == 0 && targets && conf_alias_get(canon.s, targets) > 0 && str_0(targets) == 0)
			kind = 'a';
	}
	conf_user_free(&u);
	str_free(&canon);
	return kind;
}

/* Is target also a recipient of this message (not idx) that is
 * delivered without alias expansion, a local user or a remote address?
 * Then that recipient's own delivery reaches it, and a copy from this
 * alias would be a second one. Aliases are not counted: two aliases
 * naming each other would each leave the copy to the other, and none
 * would be made (aliases count through their records, below).
 * This one rests on the recipient, not on a record, even while it is
 * still pending: if its own delivery then fails for good, the sender's
 * bounce names that very address, and our copy would have gone to the
 * same mailbox through the same delivery (the user's Maildir or
 * delivery file, the same remote peer) and met the same end: the
 * sender is told, nothing is dropped silently. Waiting for it instead
 * would tie every alias to every direct recipient's delivery. */
static int
named_directly(const struct jobspec *j, size_t idx, const char *target)
{
	size_t k;
	for (k = 0; k < j->env->nrcpt; k++) {
		const char *r = j->env->rcpt[k];
		int kind;
		if (k == idx || strcasecmp(r, target) != 0)
			continue;
		kind = rcpt_kind(r, NULL);
		if ((kind == 'u' || kind == 'r') && same_mailbox(r, kind == 'u', target))
			return 1;
	}
	return 0;
}

/* Alias dedupe between aliases rests on facts, not hopes. Once an alias
 * has handed its targets on (forwarded them in a new queue entry, or
 * delivered to its one local target), each is recorded in state/ID.qmail
 * as "@K\tTARGET\n" (K the recipient; the delivery file's progress
 * records there begin with a digit). Another alias of the message, or
 * the same one on a retry, leaves a target out only if a record says its
 * copy was made. A copy merely expected from an alias still pending (it
 * may yet be changed, expire, loop) never counts: at worst a copy is made
 * twice, never none. Two aliases sharing a member, resolved at once by
 * two local workers, would each find no record: so a recipient's aliases
 * are resolved under an exclusive lock of that file, from the first
 * alias met to the end of the recipient. Only messages of several
 * recipients take part, and only their first ALIAS_DEDUPE_MAX
 * recipients record (past them: a duplicate, never a loss).
 * A record is synced before the alias's delivery is reported: a crash
 * after queue-run recorded that recipient done cannot keep the state yet
 * lose the record, which let another alias of the message make the copy
 * a second time (a crash between a copy and its record still can; never
 * a copy lost). */
struct dedupe {
	int fd;            /* state/ID.qmail, locked; -1 */
	int on;            /* 0 not decided, 1 taking part, -1 not */
	int write;         /* records what it hands on */
	struct str recs;   /* the records read and written */
};
#define DEDUPE_INIT { -1, 0, 0, STR_INIT }
/* A holder of the lock runs deliveries, each bounded by the command
 * time limit; waiting longer than this is a temporary failure. */
enum { DEDUPE_WAIT_MS = 600000 };

static int
dedupe_lock(int fd)
{
	long long end = buf_now_ms() + DEDUPE_WAIT_MS;
	pid_t parent = getppid();
	struct timespec ts = { 0, 1000000 };
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		/* queue-run gone: start nothing more for it */
		if (buf_now_ms() >= end || getppid() != parent)
			return -1;
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 64000000)
			ts.tv_nsec *= 2;
	}
	return 0;
}

/* Take part if the message allows: lock and read the records. 0 ok (or
 * not taking part), -1 the lock not had (a temporary failure). Every
 * alias reads; only the first ALIAS_DEDUPE_MAX recipients write, which
 * bounds what each one reads. */
static int
dedupe_begin(const struct jobspec *j, size_t idx, struct dedupe *d)
{
	char b[65536];
	ssize_t n = 0;
	struct stat st;
	char *nl;
	if (d->on)
		return 0;
	d->on = -1;
	if (j->env->nrcpt < 2)
		return 0;
	/* no file to lock: no records either; every target gets its copy */
	if ((d->fd = qmail_file_open(j, O_RDWR)) < 0)
		return 0;
	if (dedupe_lock(d->fd) < 0) {
		close(d->fd);
		d->fd = -1;
		return -1;
	}
	d->on = 1;
	d->write = idx < ALIAS_DEDUPE_MAX;
	while (d->recs.len < JOB_OUT_MAX && (n = read(d->fd, b, sizeof b)) > 0)
		if (str_catb(&d->recs, b, (size_t)n) < 0)
			break;
	/* a record torn by a crash is no record, and must not swallow the
	 * next one: it is ended on disk with a tab, so that no later reader
	 * takes its prefix for a whole target (no address holds a tab), and
	 * dropped here (so is what the cap cut) */
	if (n == 0 && d->write && d->recs.len && d->recs.s[d->recs.len - 1] != '\n' && fstat(d->fd, &st) == 0 &&
	    (size_t)st.st_size == d->recs.len)
		(void)buf_writeall(d->fd, "\t\n", 2, 0, 0);
	nl = d->recs.len ? memrchr(d->recs.s, '\n', d->recs.len) : NULL;
	str_trunc(&d->recs, nl ? (size_t)(nl - d->recs.s) + 1 : 0);
	return 0;
}

/* Was target's copy made, by any alias of this message? */
static int
dedupe_done(const struct dedupe *d, const char *target)
{
	size_t off = 0, tl = strlen(target);
	const char *at = strrchr(target, '@');
	char r[1024];
	if (d->on != 1 || !at || tl >= sizeof r)
		return 0;
	/* recs ends with a whole line (dedupe_begin) */
	while (off < d->recs.len) {
		const char *l = d->recs.s + off, *nl = memchr(l, '\n', d->recs.len - off), *t;
		size_t len;
		if (!nl)
			break;
		len = (size_t)(nl - l);
		off += len + 1;
		if (l[0] != '@' || !(t = memchr(l, '\t', len)) || len - (size_t)(++t - l) != tl ||
		    strncasecmp(t, target, tl) != 0)
			continue;
		memcpy(r, t, tl);
		r[tl] = 0;
		if (same_mailbox(r, conf_domain_local(at + 1), target))
			return 1;
	}
	return 0;
}

/* to[0..n-1] have their copies from recipient idx: recorded, synced
 * before the delivery is reported (best effort) */
static void
dedupe_note(struct dedupe *d, size_t idx, const char *const *to, size_t n)
{
	size_t i, start = d->recs.len;
	if (d->on != 1 || !d->write)
		return;
	for (i = 0; i < n; i++)
		if (!strchr(to[i], '\n') && (str_catc(&d->recs, '@') < 0 || str_catu(&d->recs, idx) < 0 ||
		    str_catc(&d->recs, '\t') < 0 || str_cats(&d->recs, to[i]) < 0 || str_catc(&d->recs, '\n') < 0)) {
			str_trunc(&d->recs, start);   /* no half record */
			return;
		}
	if (d->recs.len > start)
		(void)record_append(d->fd, d->recs.s + start, d->recs.len - start);
}

static void
dedupe_end(struct dedupe *d)
{
	if (d->fd >= 0)
		close(d->fd);   /* and so unlocked */
	str_free(&d->recs);
}

static int
resolve(const struct jobspec *j, const struct queue_msg *m, const char *rcpt, size_t idx, unsigned depth,
    struct dedupe *dd, int *how, struct str *err)
{
	struct str canon = STR_INIT, targets = STR_INIT;
	struct conf_user u = { STR_INIT, STR_INIT, 0, 0, STR_INIT, 0 };
	const char **to = NULL, **all = NULL, *dup = NULL;
	size_t n = 0, nall = 0, i;
	int r, code = EXIT_TEMP;
	r = conf_rcpt_local(rcpt, &canon);
	if (r < 0) {
		str_copys(err, "unable to read the user database");
		goto out;
	}
	if (r == 0) {
		str_copys(err, "no such user here");
		code = EXIT_PERM;
		goto out;
	}
	r = conf_user_get(canon.s, &u);
	if (r > 0) {
		code = deliver_user(j, m, &u, rcpt, idx, how, err);
		goto out;
	}
	if (r == 0)
		r = conf_alias_get(canon.s, &targets);
	if (r <= 0 || str_0(&targets) < 0) {
		str_copys(err, r < 0 ? "unable to read the alias database" : "no such user here");
		code = r < 0 ? EXIT_TEMP : EXIT_PERM;
		goto out;
	}
	if (split_targets(targets.s, &all, &nall) < 0)
		goto out;
	if (dedupe_begin(j, idx, dd) < 0) {
		str_copys(err, "another alias of this message is being delivered");
		goto out;
	}
	for (i = 0; i < nall; i++) {
		if (named_directly(j, idx, all[i]) || dedupe_done(dd, all[i]))
			dup = all[i];
		else
			all[n++] = all[i];
	}
	to = all;
	if (n == 0 && dup) {
		str_copys(err, "delivered once, as ");
		str_cats(err, dup);
		code = 0;
	} else if (n == 0) {
		str_copys(err, "alias has no targets");
		code = EXIT_PERM;
	} else if (n == 1 && depth < ALIAS_DEPTH_MAX && strchr(to[0], '@') &&
	    conf_domain_local(strrchr(to[0], '@') + 1) > 0) {
		/* one local target: deliver straight to it, no second queue entry */
		code = resolve(j, m, to[0], idx, depth + 1, dd, how, err);
	} else {
		code = forward(j, m, rcpt, to, n, n == 1, idx, how, err);
	}
	if (code == 0)
		dedupe_note(dd, idx, to, n);
out:
	free(all);
	conf_user_free(&u);
	str_free(&canon);
	str_free(&targets);
	return code;
}

void
local_deliver(const struct jobspec *j, const struct queue_msg *m, size_t idx, struct str *res)
{
	struct str err = STR_INIT;
	struct dedupe dd = DEDUPE_INIT;
	int how = HOW_DELIVERED, code = resolve(j, m, j->env->rcpt[idx], idx, 0, &dd, &how, &err);
	dedupe_end(&dd);
	if (code == EXIT_PERM && err.len && strcmp(err.s, "no such user here") == 0)
		say(res, idx, "perm", "5.1.1", err.s);
	else if (code == 0 && how == HOW_EXPANDED)
		say(res, idx, "expanded", "2.0.0", "forwarded to several addresses");
	else if (code == 0 && how == HOW_FORWARDED)
		say(res, idx, "forwarded", "2.0.0", "forwarded with its DSN parameters");
	else
		job_result_from_exit(res, idx, code == 0 ? 0 : code == EXIT_PERM ? EXIT_PERM : EXIT_TEMP, &err,
		    code == 0 ? "delivered" : "delivery failed");
	str_free(&err);
}
