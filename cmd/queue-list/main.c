/* queue-list: show the queue (mailq), or ask for an action on messages:
 * retry now, delete, bounce now. With queue-run listening, the action goes
 * to it through the trigger FIFO (one atomic line, "R ID\n" etc.), since it
 * owns the state of the messages it holds; without it, the state file is
 * changed directly and the next queue-run acts on it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "exitcode.h"
#include "queue.h"
#include "termsafe.h"
#include "str.h"

#define USAGE "queue-list [-c] | queue-list retry|delete|bounce ID... | queue-list retry all"

static char outspace[BUF_SIZE];
static struct buf out;

/* Ids are SECONDS.USEC.PID[.N], the numbers not zero-padded: compared
 * field by field as numbers (a shorter run of digits is the smaller), so
 * that the listing is in arrival order; byte order put .103000 before
 * .95000 within a second. */
static int
cmp_ids(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	while (*x && *y) {
		size_t lx = strcspn(x, "."), ly = strcspn(y, ".");
		int c;
		if (lx != ly)
			return lx < ly ? -1 : 1;
		if ((c = memcmp(x, y, lx)) != 0)
			return c;
		x += lx + (x[lx] == '.');
		y += ly + (y[ly] == '.');
	}
	return *x ? 1 : *y ? -1 : 0;
}

static void
put_age(unsigned long long s)
{
	if (s >= 86400) {
		buf_putu(&out, s / 86400);
		buf_puts(&out, "d");
		s %= 86400;
	}
	if (s >= 3600) {
		buf_putu(&out, s / 3600);
		buf_puts(&out, "h");
		s %= 3600;
	}
	buf_putu(&out, s / 60);
	buf_puts(&out, "m");
}

/* s as text a terminal shows: what termsafe passes as it is, any other
 * byte as \xHH */
static void
put_text(const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	while (i < n) {
		if (!(k = termsafe_char(p + i, n - i))) {
			char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
			buf_put(&out, e, sizeof e);
			i++;
			continue;
		}
		buf_put(&out, s + i, k);
		i += k;
	}
}

static const char *
status_word(char s)
{
	switch (s) {
	case QS_DONE: case QS_DELIVERED_NOTIFY: case QS_RELAYED_NOTIFY: case QS_EXPANDED_NOTIFY: return "delivered";
	case QS_FAILED: return "failed";
	case QS_REPORTED: return "bounced";
	default: return "pending";
	}
}

/* the queue's ids, sorted (ids begin with the arrival time) */
static char **
ids(size_t *n)
{
	struct str p = STR_INIT;
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	if (queue_path(&p, "mess", NULL) < 0)
		die_nomem(EXIT_TEMP);
	if (!(d = queue_opendir("mess"))) {
		/* a queue not written to yet has no mess/; a queue that is not
		 * there at all is a wrong path, not an empty queue */
		if (errno == ENOENT && access(queue_dir(), F_OK) == 0)
			return NULL;
		die_sys(EXIT_TEMP, "open", p.s);
	}
	while ((e = readdir(d))) {
		if (!queue_id_ok(e->d_name))
			continue;
		if (*n == cap) {
			char **nv;
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof *v)))
				die_nomem(EXIT_TEMP);
			v = nv;
		}
		if (!(v[(*n)++] = strdup(e->d_name)))
			die_nomem(EXIT_TEMP);
	}
	closedir(d);
	str_free(&p);
	if (*n)
		qsort(v, *n, sizeof *v, cmp_ids);
	return v;
}

/* Root reads the queue only through its directories held open (as its
 * actions write): a state/ its owner swapped for a link had root read and
 * print a file only root may read (test 186). 1 a queue not written to
 * yet (no mess/: nothing to list), else 0 pinned or not root. */
static int
pin_to_read(void)
{
	struct str p = STR_INIT;
	struct stat st;
	int fresh, e;
	if (geteuid() != 0 || queue_pin() == 0)
		return 0;
	e = errno;
	fresh = e == ENOENT && queue_path(&p, "mess", NULL) == 0 && lstat(p.s, &st) < 0 && errno == ENOENT &&
	    lstat(queue_dir(), &st) == 0;
	str_free(&p);
	errno = e;
	if (!fresh)
		die_sys(EXIT_TEMP, "open", "the queue's directories");
	return 1;
}

static int
list(int count_only)
{
	size_t n, i, k, msgs = 0, rcpts = 0;
	char **v = pin_to_read() ? (n = 0, NULL) : ids(&n);
	unsigned long long now = (unsigned long long)time(NULL);
	for (i = 0; i < n; i++) {
		struct queue_msg m;
		struct queue_state st = QUEUE_STATE_INIT;
		struct stat sb;
		/* header and envelope only: a CRC here read every queued byte
		 * to print a line a message. A damaged text is queue-run's to
		 * find, when it delivers (it sets the file aside in bad/) */
		if (queue_msg_open_id_env(&m, v[i]) <= 0)
			continue;   /* being written, just delivered, or not mail */
		if (queue_state_load(v[i], &st, m.env.nrcpt) < 0)
			die_sys(EXIT_TEMP, "read state of", v[i]);
		/* finished since it was opened: queue-run removes mess/ID, then
		 * the state, and the state read may be the last one saved or
		 * none (all pending); the message is gone, not pending */
		if (queue_stat_in("mess", v[i], &sb) < 0) {
			if (errno != ENOENT)
				die_sys(EXIT_TEMP, "look up", v[i]);
			queue_state_free(&st);
			queue_msg_close(&m);
			continue;
		}
		msgs++;
		for (k = 0; k < st.n; k++)
			rcpts += st.r[k].status == QS_PENDING;
		if (count_only) {
			queue_state_free(&st);
			queue_msg_close(&m);
			continue;
		}
		buf_puts(&out, v[i]);
		buf_puts(&out, "  age ");
		put_age(now > m.env.arrival ? now - m.env.arrival : 0);
		buf_puts(&out, "  size ");
		buf_putu(&out, m.hdr.msglen);
		buf_puts(&out, "  from <");
		put_text(m.env.sender, strlen(m.env.sender));
		buf_puts(&out, ">\n");
		for (k = 0; k < m.env.nrcpt; k++) {
			const struct queue_rstate *r = &st.r[k];
			buf_puts(&out, "  ");
			buf_puts(&out, status_word(r->status));
			buf_puts(&out, " <");
			put_text(m.env.rcpt[k], strlen(m.env.rcpt[k]));
			buf_puts(&out, ">");
			if (r->attempts) {
				buf_puts(&out, " attempts ");
				buf_putu(&out, r->attempts);
			}
			if (r->status == QS_PENDING) {
				buf_puts(&out, " next ");
				if (r->next > now)
					put_age(r->next - now), buf_puts(&out, "");
				else
					buf_puts(&out, "now");
			}
			if (r->text.len) {
				buf_puts(&out, " last: ");
				if (strcmp(r->dsn, "-")) {
					buf_puts(&out, r->dsn);
					buf_puts(&out, " ");
				}
				put_text(r->text.s, r->text.len);
			}
			buf_puts(&out, "\n");
		}
		queue_state_free(&st);
		queue_msg_close(&m);
	}
	buf_putu(&out, msgs);
	buf_puts(&out, msgs == 1 ? " message, " : " messages, ");
	buf_putu(&out, rcpts);
	buf_puts(&out, rcpts == 1 ? " pending recipient\n" : " pending recipients\n");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (buf_flush(&out) < 0)
		die_sys(EXIT_TEMP, "write", "output");
	return EXIT_OK;
}

/* queue-run not running: change the files; it acts on them when it starts.
 * Not under a delivery child of a queue-run that was killed (it holds the
 * file locked, and its results wait in state/ID.done for the next
 * queue-run): a bounce or delete then could undo or race what it did.
 * 0 done, -1 no such message, -2 busy or unreadable (try again), 1 queue-run listens
 * now (*fifo: the trigger, open): the request is for it. */
static int
offline_held(char act, const char *id, int *fifo)
{
	struct str p = STR_INIT;
	struct queue_msg m;
	struct queue_state st = QUEUE_STATE_INIT;
	struct stat dst;
	size_t k;
	int r;
	r = queue_msg_open_id_env(&m, id);   /* the CRC: below, for a bounce only */
	if (r < 0 && errno != ENOENT) {
		/* not "no such message" (100): a user outside the queue's
		 * group, told so, took the message for gone */
		warn_sys("open", id);
		str_free(&p);
		return -2;
	}
	if (r <= 0) {
		warn_x("find", id, "no such message in the queue");
		str_free(&p);
		return -1;
	}
	/* a bounce report quotes the message, which queue-run refuses to
	 * read when its CRC fails: the bounce would never go, and the
	 * sender never hear. A retry or delete needs no text. */
	if (act == 'B' && (r = queue_msg_crc_ok(&m)) <= 0) {
		if (r < 0)
			warn_sys("read", id);
		else
			warn_x("bounce", id, "its text is damaged (CRC): queue-run sets it aside in bad/; delete it instead");
		queue_msg_close(&m);
		str_free(&p);
		return r < 0 ? -2 : -1;
	}
	if (act != 'R') {
		const char *busy = NULL;
		if (flock(m.fd, LOCK_EX | LOCK_NB) < 0)
			busy = errno == EWOULDBLOCK ? "a delivery still runs: try again when it ends" : "unable to lock it";
		else if (str_copys(&p, id) == 0 && str_cats(&p, ".done") == 0 && queue_stat_in("state", p.s, &dst) == 0)
			busy = "results of an interrupted delivery are not yet recorded: start queue-run";
		if (busy) {
			warn_x("change", id, busy);
			queue_msg_close(&m);
			str_free(&p);
			return -2;
		}
	} else if (flock(m.fd, LOCK_EX | LOCK_NB) < 0) {
		/* a retry may go on beside a delivery that still runs */
	}
	/* A queue-run that started since we looked may have read the message
	 * before our lock, and would never see our change: it gets the
	 * request instead. One that starts from now on finds the message
	 * locked (busy) until we are done, and then reads what we wrote. */
	if ((*fifo = queue_trigger_open(O_WRONLY)) >= 0) {
		queue_msg_close(&m);
		str_free(&p);
		return 1;
	}
	if (act == 'D') {
		queue_unlink_in("mess", id);
		queue_state_remove(id);   /* as queue-run's remove_files */
	} else {
		if (queue_state_load(id, &st, m.env.nrcpt) < 0)
			die_sys(EXIT_TEMP, "read state of", id);
		for (k = 0; k < st.n; k++) {
			struct queue_rstate *q = &st.r[k];
			if (q->status != QS_PENDING)
				continue;
			q->next = 0;
			if (act == 'B') {
				q->status = QS_FAILED;
				queue_rstate_set(q, "5.0.0", q->host.s, "bounced by the administrator", 28);
			}
		}
		if (queue_state_save(id, &st) < 0)
			die_sys(EXIT_TEMP, "save state of", id);
		queue_state_free(&st);
	}
	queue_msg_close(&m);
	str_free(&p);
	return 0;
}

/* offline_held, one queue-list at a time: a retry goes on beside
 * whoever holds the message's lock (a delivery, another admin), and its
 * read, change and write of state/ID undid a bounce made meanwhile, which
 * had said 0 (test 316). The lock is on state/ itself, which only
 * queue-list locks, for as long as one message's change takes. */
static int
offline(char act, const char *id, int *fifo)
{
	int d = queue_open_dir("state"), r;
	if (d < 0 || flock(d, LOCK_EX) < 0) {
		warn_sys("lock", "the queue's state directory");
		if (d >= 0)
			close(d);
		return -2;
	}
	r = offline_held(act, id, fifo);
	close(d);
	return r;
}

/* mess/ID exists: queue-run is told only about messages there are */
static int
queued(const char *id)
{
	struct stat st;
	int r = queue_stat_in("mess", id, &st);
	if (r < 0 && errno != ENOENT)
		die_sys(EXIT_TEMP, "look up", id);
	return r == 0;
}

/* one request line to queue-run; one write under PIPE_BUF is atomic,
 * so the line never mixes with others */
static void
request(int fd, char a, const char *id, struct str *line, const char *trigger)
{
	str_trunc(line, 0);
	if (str_catc(line, a) < 0 || str_catc(line, ' ') < 0 || str_cats(line, id) < 0 || str_catc(line, '\n') < 0)
		die_nomem(EXIT_TEMP);
	if (buf_writeall(fd, line->s, line->len, 5000, 0) < 0)
		die_sys(EXIT_TEMP, "write", trigger);
}

static int
act(char a, int argc, char **argv)
{
	struct str p = STR_INIT, line = STR_INIT;
	int fd, i, bad = 0, busy = 0, r;
	if (argc < 1)
		die_usage(USAGE);
	/* root changing the queue offline writes only into its directories,
	 * never through one its owner swapped for a link (queue_pin); one
	 * the owner removed would leave the others unpinned: refused too */
	if (geteuid() == 0 && queue_pin() < 0)
		die_sys(EXIT_TEMP, "open", "the queue's directories");
	if (queue_path(&p, "trigger", NULL) < 0)
		die_nomem(EXIT_TEMP);
	fd = queue_trigger_open(O_WRONLY);   /* a FIFO only: we may be root */
	for (i = 0; i < argc; i++) {
		const char *id = argv[i];
		if (a == 'R' && strcmp(id, "all") == 0)
			id = "*";
		else if (!queue_id_ok(id)) {
			warn_x("use", id, "not a queue id");
			bad = 1;
			continue;
		}
		if (fd >= 0 && *id != '*' && !queued(id)) {
			warn_x("find", id, "no such message in the queue");
			bad = 1;
		} else if (fd >= 0)
			request(fd, a, id, &line, p.s);
		else if (*id == '*') {
			size_t n, k;
			char **v = ids(&n);
			for (k = 0; k < n; k++) {
				if (fd < 0 && (r = offline(a, v[k], &fd)) == 1)
					request(fd, a, "*", &line, p.s);   /* queue-run does the rest */
				else if (fd < 0 && r == -2)
					busy = 1;   /* one gone meanwhile (-1) is no error here */
				free(v[k]);
			}
			free(v);
		} else if ((r = offline(a, id, &fd)) == 1)
			request(fd, a, id, &line, p.s);
		else if (r == -2)
			busy = 1;
		else if (r < 0)
			bad = 1;
	}
	if (fd >= 0)
		close(fd);
	str_free(&p);
	str_free(&line);
	return bad ? EXIT_PERM : busy ? EXIT_TEMP : EXIT_OK;
}

int
main(int argc, char **argv)
{
	die_init(argv[0] ? argv[0] : "queue-list");
	buf_init(&out, 1, outspace, sizeof outspace);
	if (argc == 1)
		return list(0);
	if (argc == 2 && strcmp(argv[1], "-c") == 0)
		return list(1);
	if (strcmp(argv[1], "retry") == 0)
		return act('R', argc - 2, argv + 2);
	if (strcmp(argv[1], "delete") == 0)
		return act('D', argc - 2, argv + 2);
	if (strcmp(argv[1], "bounce") == 0)
		return act('B', argc - 2, argv + 2);
	die_usage(USAGE);
}
