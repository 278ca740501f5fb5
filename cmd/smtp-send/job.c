/* smtp-send's job: the envelope (addresses, DSN parameters), the message
 * (in place or spooled), and the result lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "die.h"
#include "dns.h"
#include "dotstuff.h"
#include "exitcode.h"
#include "queue.h"
#include "smtpaddr.h"
#include "smtp-send.h"

void
job_settle_one(struct rcpt *rc, int status, const char *enh, const char *text, const char *host)
{
	rc->status = status;
	snprintf(rc->enh, sizeof rc->enh, "%s", enh);
	if (str_copys(&rc->text, text) < 0 || str_0(&rc->text) < 0)
		rc->text.len = 0;
	snprintf(rc->host, sizeof rc->host, "%s", host ? host : "");
}

void
job_settle(struct job *j, int status, const char *enh, const char *text, const char *host)
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].status == ST_PENDING)
			job_settle_one(&j->rcpt[i], status, enh, text, host);
}

/* An envelope address we are willing to put on the wire and on a result
 * line as it is: no controls, no angle brackets, blanks and quotes only
 * inside a quoted local part (I8); "" the null sender. 1 ok. */
static int
addr_ok(const char *a, int *utf8)
{
	size_t n = strlen(a);
	if (n > ADDR_MAX || (n && !smtpaddr_field_ok(a, n)))
		return 0;
	*utf8 = str_8bit(a, n);
	return 1;
}

/* A recipient (addr_ok already) is also one RFC 5321 Mailbox, as
 * sendmail and smtp-recv take it: "a@@x" or "a@x..y" from queue-add's
 * other callers fails 5.1.3 here, not at the peer. A domain that is the
 * job's own is left to the route, which fails a malformed one 5.1.2 (and
 * takes a trailing root dot): the local part is checked with a stand-in. */
static int
rcpt_mailbox_ok(const struct job *j, const char *a)
{
	char t[ADDR_MAX + 2];
	size_t n = strlen(a), dl = strlen(j->domain);
	if (n > dl && a[n - dl - 1] == '@' && strcasecmp(a + n - dl, j->domain) == 0) {
		memcpy(t, a, n - dl);   /* n <= ADDR_MAX: the local part and its '@' */
		t[n - dl] = 'x';
		return smtpaddr_mailbox_ok(t, n - dl + 1);
	}
	return smtpaddr_mailbox_ok(a, n);
}

/* A DSN parameter list "KEY=value KEY=value" with only the given keys and
 * xtext-safe values (UTF-8 too in an "ORCPT=utf-8;" one, RFC 6533's
 * utf-8-addr-unitext, as smtp-recv takes it under SMTPUTF8); appended to
 * out with a leading space each. */
static int
dsn_params(const char *line, size_t len, const char *const *keys, struct str *out)
{
	size_t i = 0;
	out->len = 0;
	while (i < len) {
		size_t j, k, ok = 0, u8 = 0;
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		for (j = i; j < len && line[j] != ' '; j++) {
			unsigned char c = (unsigned char)line[j];
			if (c < 0x21 || c == 0x7f)
				return -1;
			u8 |= c > 0x7f;
		}
		if (u8 && (j - i < 12 || strncasecmp(line + i, "ORCPT=utf-8;", 12) != 0 ||
		    !smtpaddr_utf8_ok(line + i, j - i)))
			return -1;
		for (k = 0; keys[k]; k++) {
			size_t kl = strlen(keys[k]);
			if (j - i > kl + 1 && strncasecmp(line + i, keys[k], kl) == 0 && line[i + kl] == '=')
				ok = 1;
		}
		if (!ok)
			return -1;
		if (str_catc(out, ' ') < 0 || str_catb(out, line + i, j - i) < 0)
			return -1;
		i = j;
	}
	return str_0(out);
}

/* PIPEMAIL_DSN's lines (sep '\n'), or a batch job's DSN line's fields
 * (sep '\t'): the MAIL parameters, then each recipient's */
void
read_dsn(struct job *j, const char *p, char sep)
{
	static const char *const mailkeys[] = { "RET", "ENVID", NULL };
	static const char *const rcptkeys[] = { "NOTIFY", "ORCPT", NULL };
	size_t n = 0;
	if (!p)
		return;
	while (*p) {
		const char *nl = strchr(p, sep);
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct str *out = n == 0 ? &j->dsnmail : n - 1 < j->nrcpt ? &j->rcpt[n - 1].dsn : NULL;
		if (!out)
			break;
		if (len > DSN_LINE_MAX || dsn_params(p, len, n == 0 ? mailkeys : rcptkeys, out) < 0) {
			warn_x("use", sep == '\n' ? "PIPEMAIL_DSN" : "a batch DSN line", "malformed line ignored");
			out->len = 0;
		}
		n++;
		p += len + (nl != NULL);
	}
}

/* The header section's end, across reads: 8-bit bytes before it are
 * UTF-8 header fields (RFC 6532), which want SMTPUTF8 where the peer
 * has it. */
enum { HS_BOL, HS_MID, HS_CR, HS_DONE };

static void
header_scan(struct job *j, const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n && j->hstate != HS_DONE; i++) {
		unsigned char c = (unsigned char)b[i];
		j->hdr8 |= c >= 0x80;
		if (c == '\n')
			j->hstate = j->hstate == HS_MID ? HS_BOL : HS_DONE;
		else
			j->hstate = c == '\r' && j->hstate == HS_BOL ? HS_CR : HS_MID;
	}
}

/* What the scan learns from each block: 8-bit bytes, UTF-8 in the
 * header, and the size on the wire, as the data will go (dotstuff). The
 * encoding goes into j->wire while the message is small enough to keep
 * (session.c sends it from there), else into out, one block at a time. */
struct scan {
	struct dotstuff d;
	struct str out;
	unsigned long long raw;   /* bytes scanned */
	int keep;                 /* encoding into j->wire */
};

static void
scan_start(struct job *j, struct scan *sc)
{
	j->eightbit = j->hdr8 = 0;
	j->hstate = HS_BOL;
	j->wiresize = 0;
	j->wire.len = 0;
	j->wireok = 0;   /* until the scan ends well */
	conv_free(j);
	dotstuff_init(&sc->d);
	sc->out = (struct str)STR_INIT;
	sc->raw = 0;
	sc->keep = 1;
}

static int
scan_block(struct job *j, struct scan *sc, const char *b, size_t n)
{
	struct str *to = &sc->out;
	size_t was;
	j->eightbit = j->eightbit || str_8bit(b, n);
	header_scan(j, b, n);
	sc->raw += n;
	if (sc->keep && sc->raw > WIRE_KEEP) {
		sc->keep = 0;
		j->wire.len = 0;
	}
	if (sc->keep)
		to = &j->wire;
	else
		sc->out.len = 0;
	was = to->len;
	if (dotstuff_put(&sc->d, b, n, to) < 0)
		return -1;
	j->wiresize += to->len - was;
	return 0;
}

/* the dots stuffed and the final ".\r\n" are not counted (RFC 1870 3) */
static int
scan_end(struct job *j, struct scan *sc)
{
	struct str *to = sc->keep ? &j->wire : &sc->out;
	size_t was;
	int r;
	if (!sc->keep)
		sc->out.len = 0;
	was = to->len;
	r = dotstuff_end(&sc->d, to);
	if (r == 0)
		j->wiresize += to->len - was - 3 - sc->d.stuffed;
	j->wireok = r == 0 && sc->keep;
	str_free(&sc->out);
	return r;
}

/* The message must be readable more than once (another MX after a
 * failure): a regular file is used in place, anything else is spooled
 * to an unlinked temporary file. Constant memory either way. */
void
message_open(struct job *j)
{
	struct stat st;
	char *buf = malloc(READ_BUF_SIZE);
	const char *tmpdir = getenv("TMPDIR");
	int fd = 0, spool;
	unsigned long long size = 0;
	struct scan sc;
	if (!buf)
		die_nomem(EXIT_TEMP);
	scan_start(j, &sc);
	if (fstat(0, &st) < 0)
		die_sys(EXIT_TEMP, "stat", "stdin");
	spool = !S_ISREG(st.st_mode);
	j->msgoff = 0;
	if (spool) {
		struct str path = STR_INIT;
		if (str_copys(&path, tmpdir && *tmpdir ? tmpdir : "/tmp") < 0 ||
		    str_cats(&path, "/smtp-send.XXXXXX") < 0 || str_0(&path) < 0)
			die_nomem(EXIT_TEMP);
		fd = mkstemp(path.s);
		if (fd < 0)
			die_sys(EXIT_TEMP, "create", path.s);
		unlink(path.s);
		str_free(&path);
	} else {
		j->msgoff = lseek(0, 0, SEEK_CUR);
		if (j->msgoff < 0)
			die_sys(EXIT_TEMP, "seek", "stdin");
	}
	for (;;) {
		ssize_t r = read(0, buf, READ_BUF_SIZE);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_sys(EXIT_TEMP, "read", "the message");
		if (r == 0)
			break;
		if (scan_block(j, &sc, buf, (size_t)r) < 0)
			die_nomem(EXIT_TEMP);
		size += (unsigned long long)r;
		if (spool && buf_writeall(fd, buf, (size_t)r, 0, 0) < 0)
			die_sys(EXIT_TEMP, "write", "the spool file");
	}
	free(buf);
	if (scan_end(j, &sc) < 0)
		die_nomem(EXIT_TEMP);
	j->msgfd = fd;
	j->size = size;
}

/* A file in the queue's mess/ (queue-run's batch lines name them so):
 * 1 and its name in mess/ into p, to be opened through mess/ as this
 * process first opened it (queue_pin, queue_open_in), for root, whom the
 * queue's owner could otherwise point at any file through a swapped
 * mess/ and have it sent to the owner's recipient. 0 another file (p =
 * path), -1 a queue file that may not be read (errno). */
static int
message_path(const char *path, struct str *p)
{
	static int pinned = -1;   /* not yet: tried again at each queue file */
	int pin_errno = 0;
	struct str mess = STR_INIT;
	const char *name;
	int inqueue;
	if (queue_path(&mess, "mess", NULL) < 0)
		return -1;
	inqueue = strncmp(path, mess.s, mess.len) == 0 && path[mess.len] == '/' && !strchr(path + mess.len + 1, '/');
	name = path + mess.len + 1;
	str_free(&mess);
	if (!inqueue)
		return str_copys(p, path) < 0 ? -1 : 0;
	if (pinned < 0) {
		pinned = geteuid() == 0 ? queue_pin() : 0;
		pin_errno = errno;
	}
	if (pinned < 0) {
		errno = pin_errno;   /* a queue directory that is a link: never through it */
		return -1;
	}
	return str_copys(p, name) < 0 ? -1 : 1;
}

/* A queue file is one whose header announces this very part: the name
 * may be a hard link the queue's owner made to a file of root's (a
 * kernel without fs.protected_hardlinks lets it), which root would
 * otherwise send to the owner's recipient (test 186). */
static int
queue_part(int fd, unsigned long long off, unsigned long long len, int haslen)
{
	char h[QUEUE_HDR_LEN];
	struct queue_hdr hd;
	if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || queue_hdr_parse(h, sizeof h, &hd) < 0 ||
	    hd.msgoff != off || (haslen && hd.msglen != len)) {
		errno = ESTALE;
		return -1;
	}
	return 0;
}

/* Batch mode: the message is LENGTH bytes of FILE at OFFSET (or the file
 * from OFFSET to its end). 0 ok, -1 unreadable (errno), out of range
 * (EINVAL) or replaced by another file meanwhile (ESTALE). A queue file
 * is never read through a link (queue_open). */
int
message_file(struct job *j, const char *path, unsigned long long off, unsigned long long len, int haslen)
{
	struct stat st;
	char *buf;
	unsigned long long left;
	struct stat now;
	struct scan sc;
	struct str use = STR_INIT;
	int q = message_path(path, &use), locked, e;
	j->msgfd = q < 0 ? -1 : q ? queue_open_in("mess", use.s, O_RDONLY, 0) : open(use.s, O_RDONLY | O_CLOEXEC);
	scan_start(j, &sc);
	if (j->msgfd < 0) {
		str_free(&use);
		return -1;
	}
	/* a queue file (queue-run's workers): held share-locked while it is
	 * read, as queue-run's own delivery children do, so that a queue-run
	 * started after ours was killed finds it busy and no writer refills
	 * it from the pool under us; and still the file the name points to */
	while ((locked = flock(j->msgfd, LOCK_SH)) < 0 && errno == EINTR)
		;
	if (locked == 0 && (fstat(j->msgfd, &st) < 0 || (q ? queue_stat_in("mess", use.s, &now) : stat(use.s, &now)) < 0))
		locked = -1;
	e = errno;
	str_free(&use);
	errno = e;
	if (locked < 0)
		return -1;
	if (now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		errno = ESTALE;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || off > (unsigned long long)st.st_size ||
	    (haslen && len > (unsigned long long)st.st_size - off)) {
		errno = EINVAL;
		return -1;
	}
	if (q && queue_part(j->msgfd, off, len, haslen) < 0)
		return -1;
	j->msgoff = (off_t)off;
	j->size = haslen ? len : (unsigned long long)st.st_size - off;
	buf = malloc(READ_BUF_SIZE);
	if (!buf)
		return -1;
	for (left = j->size; left;) {
		ssize_t r = pread(j->msgfd, buf, left < READ_BUF_SIZE ? (size_t)left : READ_BUF_SIZE, (off_t)off);
		if (r <= 0 || scan_block(j, &sc, buf, (size_t)r) < 0) {
			if (r == 0)
				errno = EINVAL;   /* shorter than it said */
			free(buf);
			str_free(&sc.out);
			return -1;
		}
		off += (unsigned long long)r;
		left -= (unsigned long long)r;
	}
	free(buf);
	return scan_end(j, &sc);
}

ssize_t
message_read(const struct job *j, char *buf, size_t cap, off_t *off, unsigned long long *left)
{
	ssize_t r;
	if (!*left)
		return 0;
	do
		r = pread(j->msgfd, buf, *left < cap ? (size_t)*left : cap, *off);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = EINVAL;
	if (r <= 0)
		return -1;
	*off += r;
	*left -= (unsigned long long)r;
	return r;
}

/* TLS configurations are made on first use: starting libtls (and the
 * crypto library under it) costs more than a whole plaintext delivery. */
struct tls_config *
job_tlsconfig(struct job *j, int verify, struct str *err)
{
	struct tls_config **c = verify ? &j->tlsverify : &j->tlscfg;
	if (*c)
		return *c;
	*c = tls_config_new();
	if (!*c) {
		str_copys(err, "unable to set up TLS");
		return NULL;
	}
	if (!verify) {
		/* opportunistic TLS beats plaintext even with an unverifiable peer */
		tls_config_insecure_noverifycert(*c);
		tls_config_insecure_noverifyname(*c);
	} else if (j->cafile && tls_config_set_ca_file(*c, j->cafile) < 0) {
		str_copys(err, "unable to load the CA file: ");
		str_cats(err, tls_config_error(*c));
		tls_config_free(*c);
		*c = NULL;
		return NULL;
	}
	return *c;
}

int
print_results(const struct job *j)
{
	struct str o = STR_INIT;
	int r = job_results(j, &o);
	if (buf_writeall(1, o.s ? o.s : "", o.len, 0, 0) < 0)
		die_sys(EXIT_TEMP, "write", "stdout");
	str_free(&o);
	return r;
}

int
job_results(const struct job *j, struct str *o)
{
	size_t i, n[4] = { 0, 0, 0, 0 };
	static const char *const word[] = { "temp", "ok", "temp", "perm" };
	for (i = 0; i < j->nrcpt; i++) {
		const struct rcpt *rc = &j->rcpt[i];
		size_t k;
		n[rc->status & 3]++;
		if (str_cats(o, (rc->status & 3) == ST_OK && rc->relayed ? "relayed" : word[rc->status & 3]) < 0 ||
		    str_catc(o, ' ') < 0)
			die_nomem(EXIT_TEMP);
		/* one field, as queue-run splits it (a quoted local part may hold blanks) */
		if (smtpaddr_field_put(o, rc->addr, strlen(rc->addr)) < 0)
			die_nomem(EXIT_TEMP);
		if (str_catc(o, ' ') < 0 || str_cats(o, rc->enh[0] ? rc->enh : "4.0.0") < 0)
			die_nomem(EXIT_TEMP);
		/* a temporary verdict from a 2xx/5xx reply (a 554 greeting, a
		 * 250 to DATA, a 535 from the smarthost): the class says 4, as
		 * RFC 3463 and a "delayed" report want; the detail stays */
		if ((rc->status & 3) != ST_OK && (rc->status & 3) != ST_PERM && rc->enh[0] && rc->enh[0] != '4')
			o->s[o->len - strlen(rc->enh)] = '4';
		if (str_catc(o, ' ') < 0 || str_cats(o, rc->host[0] ? rc->host : "-") < 0 ||
		    str_catc(o, ' ') < 0)
			die_nomem(EXIT_TEMP);
		k = o->len;
		if (str_catb(o, rc->text.s ? rc->text.s : "", rc->text.len) < 0)
			die_nomem(EXIT_TEMP);
		for (; k < o->len; k++)
			if ((unsigned char)o->s[k] < ' ' || o->s[k] == 0x7f)
				o->s[k] = ' ';
		if (str_catc(o, '\n') < 0)
			die_nomem(EXIT_TEMP);
	}
	if (n[ST_OK] == j->nrcpt)
		return EXIT_OK;
	if (n[ST_PERM] == j->nrcpt)
		return EXIT_PERM;
	return EXIT_TEMP;
}

/* A UTF-8 address as a peer without SMTPUTF8 takes it (RFC 6531 3.2):
 * an ASCII local part and the domain's A-labels (RFC 5891), the same
 * mailbox. NULL when the local part is not ASCII or the domain no name. */
static char *
ascii_form(const char *addr)
{
	const char *at = strrchr(addr, '@'), *p;
	char dom[DNS_NAME_MAX + 1], *out;
	size_t l;
	if (!at || at[1] == '[')
		return NULL;
	for (p = addr; p < at; p++)
		if ((unsigned char)*p >= 0x80)
			return NULL;
	if (dns_idna(at + 1, dom, sizeof dom) < 0)
		return NULL;
	l = (size_t)(at - addr) + 1;
	if (!(out = malloc(l + strlen(dom) + 1)))
		die_nomem(EXIT_TEMP);
	memcpy(out, addr, l);
	memcpy(out + l, dom, strlen(dom) + 1);
	return out;
}

/* The envelope of one job; unusable recipients are settled at once. */
void
job_envelope(struct job *j, char **rcpts, size_t n)
{
	size_t i;
	j->utf8 = j->sender_utf8 = 0;
	j->sender_ascii = NULL;
	j->nrcpt = n;
	j->rcpt = calloc(n, sizeof *j->rcpt);
	if (!j->rcpt)
		die_nomem(EXIT_TEMP);
	if (!addr_ok(j->sender, &j->sender_utf8))
		job_settle(j, ST_PERM, "5.1.7", "unusable sender address", "-");
	else if (j->sender_utf8)
		j->sender_ascii = ascii_form(j->sender);
	j->utf8 = j->sender_utf8;
	for (i = 0; i < n; i++) {
		struct rcpt *rc = &j->rcpt[i];
		rc->addr = rcpts[i];
		if (rc->status == ST_PENDING && (!addr_ok(rc->addr, &rc->utf8) || !rcpt_mailbox_ok(j, rc->addr))) {
			rc->status = ST_PERM;
			memcpy(rc->enh, "5.1.3", 6);
			if (str_copys(&rc->text, "unusable recipient address") < 0 || str_0(&rc->text) < 0)
				die_nomem(EXIT_TEMP);
		} else if (rc->utf8)
			rc->ascii = ascii_form(rc->addr);
		j->utf8 |= rc->utf8;
	}
}

void
job_free(struct job *j)
{
	size_t i;
	for (i = 0; i < j->nrcpt; i++) {
		str_free(&j->rcpt[i].text);
		str_free(&j->rcpt[i].dsn);
		free(j->rcpt[i].ascii);
	}
	free(j->sender_ascii);
	j->sender_ascii = NULL;
	conv_free(j);
	free(j->rcpt);
	j->rcpt = NULL;
	j->nrcpt = 0;
	j->dsnmail.len = 0;
}
