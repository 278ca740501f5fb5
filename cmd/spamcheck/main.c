/* spamcheck: a trainable spam filter for the mail pipeline.
 *   filter:        spamcheck [opts] < msg > msg-with-headers
 *   queue filter:  spamcheck [opts] -q queue-add     (qmail-queue protocol)
 *   delivery:      spamcheck [opts] -p prog [arg...] (verdict in the env)
 *   training:      spamcheck [opts] -s|-n|-S|-N [path...]
 *                  spamcheck [opts] -L spampath hampath  (counts and regression)
 *   listing:       spamcheck [opts] -l path...
 *   evaluation:    spamcheck [opts] -x K spampath hampath
 *                  spamcheck [opts] -X trainspam trainham testspam testham
 *   tokens:        spamcheck -k < msg */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "scan.h"
#include "spamcheck.h"
#include "str.h"

#define USAGE "spamcheck [-e] [-v] [-k] [-d db] [-u userdb] [-m bytes] [-H hamcut] [-C spamcut] [-R rejectcut]" \
	" [-T name=value] [-q prog... | -p prog... | -s|-n|-S|-N [path...] | -L spam ham | -l path... | -x k spam ham | -X trainspam trainham testspam testham]"

static struct str defdb = STR_INIT;

static const char *
default_db(void)
{
	const char *e = getenv("SPAMCHECK_DB"), *conf;
	if (e && *e)
		return e;
	conf = getenv("PIPEMAIL_CONF");
	if (str_copys(&defdb, conf && *conf ? conf : "/etc/pipemail") < 0 || str_cats(&defdb, "/spamcheck.db") < 0
	    || str_0(&defdb) < 0)
		die_nomem(EXIT_TEMP);
	return defdb.s;
}

/* a cutoff or parameter in [0,1] (or above for s), written as a decimal */
static double
number(const char *s, double max)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= 0) || v > max)
		die_usage(USAGE);
	return v;
}

static void
tune(struct model *m, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t nl = eq ? (size_t)(eq - kv) : 0;
	unsigned int u;
	if (!eq)
		die_usage(USAGE);
	if (nl == 1 && kv[0] == 's')
		m->s = number(eq + 1, 100);
	else if (nl == 1 && kv[0] == 'x')
		m->x = number(eq + 1, 1);
	else if (nl == 5 && !memcmp(kv, "scale", 5) && number(eq + 1, 1000) > 0)
		m->scale = number(eq + 1, 1000);
	else if (nl == 6 && !memcmp(kv, "mindev", 6))
		m->mindev = number(eq + 1, 0.5);
	else if (nl == 4 && !memcmp(kv, "comb", 4) && scan_uint(eq + 1, 1, &u) == 0)
		m->comb = u;
	else if (nl == 6 && !memcmp(kv, "maxtok", 6) && scan_uint(eq + 1, TOK_MAX, &u) == 0 && u)
		m->maxtok = u;
	else if (nl == 5 && !memcmp(kv, "prior", 5) && scan_uint(eq + 1, 1, &u) == 0)
		m->prior = u;
	else if (nl == 7 && !memcmp(kv, "minspam", 7) && scan_uint(eq + 1, TOK_MAX, &u) == 0)
		m->minspam = u;
	else if (nl == 6 && !memcmp(kv, "epochs", 6) && scan_uint(eq + 1, 1000, &u) == 0)
		m->epochs = u;
	else if (nl == 4 && !memcmp(kv, "seed", 4) && scan_uint(eq + 1, 1000000, &u) == 0)
		m->seed = u;
	else if (nl == 3 && !memcmp(kv, "eta", 3))
		m->eta = number(eq + 1, 100);
	else if (nl == 2 && !memcmp(kv, "l2", 2))
		m->l2 = number(eq + 1, 1);
	else if (nl == 6 && !memcmp(kv, "fclamp", 6))
		m->fclamp = number(eq + 1, 1000);
	else if (nl == 3 && !memcmp(kv, "lrw", 3))
		m->lrw = number(eq + 1, 100);
	else
		die_usage(USAGE);
}

int
main(int argc, char **argv)
{
	struct opts o;
	int c, mode = 0, dspam = 0, dham = 0, train = 0;
	unsigned int k = 0;
	unsigned long long n;
	die_init("spamcheck");
	memset(&o, 0, sizeof o);
	model_defaults(&o.m);
	o.prefix = MSG_PREFIX_DEFAULT;
	while ((c = getopt(argc, argv, "+evkd:u:m:H:C:R:T:qpsnSNlLXx:")) != -1) {
		switch (c) {
		case 'e': o.exitcode = 1; break;
		case 'v': o.verbose = 1; break;
		/* an empty path (an unset variable in a wrapper: -d "$DB")
		 * would read as a missing database, so every message unsure
		 * and none refused, with nothing said */
		case 'd': case 'u':
			if (!*optarg)
				die_usage(USAGE);
			*(c == 'd' ? &o.dbpath : &o.userdb) = optarg;
			break;
		case 'm':
			if (scan_ulongz(optarg, 1ULL << 30, &n) < 0 || n < 4096)
				die_usage(USAGE);
			o.prefix = (size_t)n;
			break;
		case 'H': o.m.ham_cut = number(optarg, 1); break;
		case 'C': o.m.spam_cut = number(optarg, 1); o.m.cutset = 1; break;
		case 'R': o.m.reject_cut = number(optarg, 1); o.m.cutset = 1; break;
		case 'T': tune(&o.m, optarg); break;
		case 'q': case 'p': case 'l': case 'k': case 'L': case 'X':
			if (mode)
				die_usage(USAGE);
			mode = c;
			break;
		/* training is a mode of its own: with another one, in either
		 * order, it is a usage error (checked after the loop) */
		case 's': dspam++; train = 1; break;
		case 'n': dham++; train = 1; break;
		case 'S': dspam--; train = 1; break;
		case 'N': dham--; train = 1; break;
		case 'x':
			if (mode || scan_uint(optarg, 100, &k) < 0 || k < 2)
				die_usage(USAGE);
			mode = 'x';
			break;
		default: die_usage(USAGE);
		}
	}
	argv += optind;
	argc -= optind;
	if (train) {
		if (mode)
			die_usage(USAGE);
		mode = 't';
	}
	if (o.m.ham_cut > o.m.spam_cut)
		die_usage(USAGE);
	if (!o.dbpath)
		o.dbpath = default_db();
	switch (mode) {
	case 0:
		if (argc)
			die_usage(USAGE);
		return run_filter(&o);
	case 'q': case 'p':
		if (!argc)
			die_usage(USAGE);
		return run_pipe(&o, argv, mode == 'q');
	case 't':
		if (dspam < -1 || dspam > 1 || dham < -1 || dham > 1 || (!dspam && !dham) || dspam + dham > 1
		    || dspam + dham < -1 || (dspam && dham && dspam + dham != 0))
			die_usage(USAGE);
		return run_train(&o, dspam, dham, argv);
	case 'l':
		if (!argc)
			die_usage(USAGE);
		return run_list(&o, argv);
	case 'k':
		if (argc)
			die_usage(USAGE);
		return run_tokens(&o);
	case 'x':
		if (argc != 2)
			die_usage(USAGE);
		return run_cv(&o, k, argv[0], argv[1]);
	case 'X':
		if (argc != 4)
			die_usage(USAGE);
		return run_split(&o, argv);
	case 'L':
		if (argc != 2)
			die_usage(USAGE);
		return run_learn(&o, argv[0], argv[1]);
	}
	die_usage(USAGE);
}
