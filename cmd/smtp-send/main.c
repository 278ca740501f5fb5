/* smtp-send: deliver one message (stdin) for one domain's recipients by
 * SMTP, to the domain's route or MX hosts; one result line per recipient
 * on stdout. Called by queue-run; usable from scripts. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "conf.h"
#include "die.h"
#include "exitcode.h"
#include "scan.h"
#include "smtpaddr.h"
#include "smtp-send.h"

#define USAGE "smtp-send [-B] [-f SENDER] [-h HELO] [-p PORT] [-r ROUTES | -R] [-T no|try|must|verify] " \
	"[-C CAFILE] [-4 | -6] [-w SECONDS] DOMAIN RCPT..."

static int
tlsmode_of(const char *s)
{
	if (strcmp(s, "no") == 0)
		return TLS_MODE_NO;
	if (strcmp(s, "try") == 0)
		return TLS_MODE_TRY;
	if (strcmp(s, "must") == 0)
		return TLS_MODE_MUST;
	if (strcmp(s, "verify") == 0)
		return TLS_MODE_VERIFY;
	die_usage(USAGE);
}

static void
helo_name(struct str *out)
{
	if (conf_me(out) < 0 || str_0(out) < 0)
		die_sys(EXIT_TEMP, "find", "this host's name");
}

/* Batch mode (-B): one job a line on stdin,
 *   FILE[:OFFSET:LENGTH] DOMAIN SENDER RCPT...     (SENDER "<>" for none)
 * each answered by its result lines and a line ".". Fields are split at
 * blanks, but an address with a quoted local part ("a b"@x) runs to its
 * closing quote first (smtpaddr_field). A line
 *   DSN<TAB>MAIL-PARAMS<TAB>RCPT-PARAMS...         (PIPEMAIL_DSN's lines)
 * gives the DSN parameters of the job on the next line. Connections stay
 * open between jobs for the same destination. */
static int
batch(struct job *j, const struct opts *o, struct plan *p)
{
	char inspace[BUF_SIZE], outspace[BUF_SIZE];
	struct buf in, out;   /* out: one write a job, stdout's kind found once */
	struct str line = STR_INIT, dsn = STR_INIT, reason = STR_INIT, res = STR_INIT;
	struct cache c = { NULL, STR_INIT };
	char **f = calloc(RCPT_MAX + 3, sizeof *f);
	int g;
	unsigned long long jobs = 0, okjobs = 0, permjobs = 0;

	if (!f)
		die_nomem(EXIT_TEMP);
	buf_init(&in, 0, inspace, sizeof inspace);
	buf_init(&out, 1, outspace, sizeof outspace);
	while ((g = buf_getline(&in, &line, BATCH_LINE_MAX, '\n')) == BUF_LINE) {
		size_t nf = 0, k;
		char *q = line.s, *colon, *c2;
		unsigned long long off = 0, len = 0;
		int haslen = 0, r, nul;
		/* "DSN" alone: no parameters (it is no job line, which would
		 * put one answer too many out of step with the jobs) */
		if ((line.len >= 4 && memcmp(line.s, "DSN\t", 4) == 0) || (line.len == 3 && memcmp(line.s, "DSN", 3) == 0)) {
			if (str_copys(&dsn, line.len > 4 ? line.s + 4 : "") < 0 || str_0(&dsn) < 0)
				die_nomem(EXIT_TEMP);
			continue;
		}
		/* a NUL would end the line early, for fewer recipients than sent */
		nul = memchr(line.s, 0, line.len) != NULL;
		while (!nul && *q && nf < RCPT_MAX + 3) {
			while (*q == ' ')
				*q++ = 0;
			if (!*q)
				break;
			f[nf++] = q;
			/* SENDER and RCPT: a quoted local part may hold blanks */
			q += nf > 2 ? smtpaddr_field(q, (size_t)(line.s + line.len - q)) : strcspn(q, " ");
		}
		while (*q == ' ')
			q++;
		if (nul || nf < 4 || *q) {   /* too few fields, or more recipients than RCPT_MAX */
			warn_x("parse", "a batch line", "want FILE DOMAIN SENDER RCPT...");
			dsn.len = 0;
			if (buf_put(&out, ".\n", 2) < 0 || buf_flush(&out) < 0)
				die_sys(EXIT_TEMP, "write", "stdout");
			continue;
		}
		/* OFFSET:LENGTH are the last two fields: the path (a queue
		 * directory's name) may hold a ':' itself */
		if ((c2 = strrchr(f[0], ':'))) {
			*c2 = 0;
			colon = strrchr(f[0], ':');
			*c2 = ':';
			if (colon && scan_ulong(colon + 1, (size_t)(c2 - colon - 1), ~0ULL >> 1, &off) == 0 &&
			    scan_ulongz(c2 + 1, ~0ULL >> 1, &len) == 0) {
				*colon = 0;
				haslen = 1;
			}
		}
		j->domain = f[1];
		j->sender = strcmp(f[2], "<>") == 0 ? "" : f[2];
		job_envelope(j, f + 3, nf - 3);
		if (dsn.len)
			read_dsn(j, dsn.s, '\t');
		dsn.len = 0;
		r = message_file(j, f[0], off, len, haslen);
		if (r < 0) {
			/* the reason, as the queue shows it, and our log */
			const char *why = errno == EINVAL ? "not a file of that size" :
			    errno == ESTALE ? "replaced while being opened" : strerror(errno);
			warn_x("read", f[0], why);
			if (str_copys(&reason, "unable to read the message file ") < 0 || str_cats(&reason, f[0]) < 0 ||
			    str_cats(&reason, ": ") < 0 || str_cats(&reason, why) < 0 || str_0(&reason) < 0)
				die_nomem(EXIT_TEMP);
			job_settle(j, ST_TEMP, "4.3.0", reason.s, "-");
		}
		run_job(j, o, p, &c);
		res.len = 0;
		r = job_results(j, &res);
		if (str_catb(&res, ".\n", 2) < 0)
			die_nomem(EXIT_TEMP);
		if (buf_put(&out, res.s, res.len) < 0 || buf_flush(&out) < 0)
			die_sys(EXIT_TEMP, "write", "stdout");
		jobs++;
		okjobs += r == EXIT_OK;
		permjobs += r == EXIT_PERM;
		if (j->msgfd >= 0)
			close(j->msgfd);
		for (k = 0; k < nf; k++)
			f[k] = NULL;
		job_free(j);
	}
	if (c.s)
		session_close(c.s);
	str_free(&c.key);
	str_free(&line);
	str_free(&dsn);
	str_free(&reason);
	str_free(&res);
	str_free(&j->wire);
	free(f);
	if (g == BUF_ERR)
		die_sys(EXIT_TEMP, "read", "stdin");
	/* input that ends inside a line is a writer cut short: its last
	 * recipient may be cut too (bob@example.co for bob@example.com),
	 * so that job is not run. A line too long for us is refused and
	 * said so; what followed it is not read */
	if (g == BUF_PARTIAL) {
		warn_x("run", "the last batch line", "it has no newline: input ended inside it");
		return EXIT_TEMP;
	}
	if (g == BUF_TOOLONG)
		die_x(EXIT_TEMP, "parse", "a batch line", "longer than 65536 bytes");
	return okjobs == jobs ? EXIT_OK : permjobs == jobs ? EXIT_PERM : EXIT_TEMP;
}

int
main(int argc, char **argv)
{
	struct job j = { 0 };
	struct plan *p;
	struct opts o = { 25, DNS_WANT_V4 | DNS_WANT_V6, TLS_MODE_TRY, 0, NULL };
	struct str helo = STR_INIT, routes = STR_INIT;
	unsigned long long port = 25, wsec = 0;
	int opt, batchmode = 0;

	die_init("smtp-send");
	/* a peer that closes early is an error to report, not a reason to die */
	signal(SIGPIPE, SIG_IGN);
	j.sender = getenv("SENDER");
	j.msgfd = -1;
	while ((opt = getopt(argc, argv, "Bf:h:p:r:RT:C:46w:")) != -1) {
		switch (opt) {
		case 'B': batchmode = 1; break;
		case 'f': j.sender = optarg; break;
		case 'h': j.helo = optarg; break;
		case 'p':
			if (scan_ulongz(optarg, 65535, &port) < 0 || port == 0)
				die_usage(USAGE);
			o.port = (unsigned)port;
			break;
		case 'r': o.routesfile = optarg; break;
		case 'R': o.noroutes = 1; break;
		case 'T': o.tlsmode = tlsmode_of(optarg); break;
		case 'C': j.cafile = optarg; break;
		case '4': o.want = DNS_WANT_V4; break;
		case '6': o.want = DNS_WANT_V6; break;
		case 'w':
			if (scan_ulongz(optarg, 86400, &wsec) < 0 || wsec == 0)
				die_usage(USAGE);
			break;
		default: die_usage(USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (batchmode ? argc != 0 : argc < 2)
		die_usage(USAGE);
	if ((size_t)argc > RCPT_MAX + 1)
		die_msg(EXIT_PERM, "too many recipients");
	j.tcap = (int)wsec * 1000;
	if (!j.helo) {
		helo_name(&helo);
		j.helo = helo.s;
	}
	for (const char *c = j.helo; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			die_x(EXIT_TEMP, "use", "the HELO name", "not a plain host name");   /* I5, I8 */
	if (!*j.helo)
		die_x(EXIT_TEMP, "use", "the HELO name", "empty");
	if (!o.noroutes && !o.routesfile) {
		if (conf_path(&routes, "routes") < 0 || str_0(&routes) < 0)
			die_nomem(EXIT_TEMP);
		o.routesfile = routes.s;
	}
	if (dns_init() < 0)
		die_sys(EXIT_TEMP, "initialize", "the resolver");
	p = calloc(1, sizeof *p);
	if (!p)
		die_nomem(EXIT_TEMP);
	route_init(&p->route);
	if (batchmode)
		return batch(&j, &o, p);
	if (!j.sender)
		j.sender = "";
	j.domain = argv[0];
	job_envelope(&j, argv + 1, (size_t)(argc - 1));
	read_dsn(&j, getenv("PIPEMAIL_DSN"), '\n');
	message_open(&j);
	run_job(&j, &o, p, NULL);
	batchmode = print_results(&j);   /* the exit code */
	str_free(&j.wire);
	return batchmode;
}
