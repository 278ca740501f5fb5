/* smtp-recv: an ESMTP server for one connection on fds 0/1, run by
 * tcpserver (optionally under tls-serve). Options, then the session. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "scan.h"
#include "smtp.h"

#define USAGE "smtp-recv [-PF] [-r mx|submission] [-h host] [-s bytes] [-n rcpts] [-e errors] " \
	"[-a authfails] [-j commands] [-t secs] [-d secs] [-D secs] [-T secs]"

static unsigned
num(const char *s, unsigned max)
{
	unsigned int v;
	if (scan_uint(s, max, &v) < 0 || v == 0)
		die_usage(USAGE);
	return v;
}

static struct session s;   /* large buffers: keep them off the stack */

int
main(int argc, char **argv)
{
	int c;
	unsigned int v;
	die_init("smtp-recv");
	s.o.role = ROLE_MX;
	s.o.maxsize = 26214400;
	s.o.maxrcpt = 100;
	s.o.maxerrors = 20;
	s.o.maxauthfail = 3;
	s.o.maxjunk = 100;
	s.o.cmd_timeout = 300;
	s.o.data_timeout = 180;
	s.o.data_deadline = 3600;
	s.o.session_limit = 3600;
	while ((c = getopt(argc, argv, "PFr:h:s:n:e:a:j:t:d:D:T:")) != -1) {
		switch (c) {
		case 'P': s.o.plainauth = 1; break;
		case 'F': s.o.anysender = 1; break;
		case 'r':
			if (strcmp(optarg, "mx") == 0)
				s.o.role = ROLE_MX;
			else if (strcmp(optarg, "submission") == 0)
				s.o.role = ROLE_SUBMISSION;
			else
				die_usage(USAGE);
			break;
		case 'h': s.o.hostname = optarg; break;
		case 's':
			if (scan_ulongz(optarg, ~0ULL >> 2, &s.o.maxsize) < 0 || s.o.maxsize == 0)
				die_usage(USAGE);
			break;
		case 'n': s.o.maxrcpt = num(optarg, 100000); break;
		case 'e': s.o.maxerrors = num(optarg, 100000); break;
		case 'a': s.o.maxauthfail = num(optarg, 1000); break;
		case 'j': s.o.maxjunk = num(optarg, 100000); break;
		case 't': s.o.cmd_timeout = (int)num(optarg, 86400); break;
		case 'd': s.o.data_timeout = (int)num(optarg, 86400); break;
		case 'D': s.o.data_deadline = (int)num(optarg, 86400); break;
		case 'T':   /* 0: no limit */
			if (scan_uint(optarg, 86400, &v) < 0)
				die_usage(USAGE);
			s.o.session_limit = (int)v;
			break;
		default: die_usage(USAGE);
		}
	}
	if (optind != argc)
		die_usage(USAGE);
	signal(SIGPIPE, SIG_IGN);   /* a dead queue program is an error code, not a signal */
	signal(SIGXFSZ, SIG_IGN);   /* a file size limit is EFBIG from the queue write: 452 */
	signal(SIGCHLD, SIG_DFL);   /* an inherited SIG_IGN would reap the queue program for us */
	session_init(&s);
	s.q.pid = -1;
	if (buf_puts(&s.out, "220 ") < 0 || buf_puts(&s.out, s.me.s) < 0)
		session_exit(&s, "write");
	reply(&s, " ESMTP pipemail");
	cmd_loop(&s);
}
