/* pop-serve: a POP3 server (RFC 1939, 2449, 2595, 5034) for one
 * connection on fds 0/1, under tcpserver and tls-serve. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "scan.h"
#include "session.h"

#define USAGE "pop-serve [-PLn] [-t secs] [-c cmds] [-e errors] [-f failures] [-m maildir | [-w secs] -k checkpassword subprogram ...]"

int
main(int argc, char **argv)
{
	struct popopt o = {
		.mark_seen = 1, .timeout_ms = 600 * 1000, .maxcmds = 100000, .maxbad = 20, .maxfail = 3,
	};
	unsigned long long v;
	int c;
	die_init("pop-serve");
	while ((c = getopt(argc, argv, "+PLnt:w:c:e:f:m:k")) != -1) {
		switch (c) {
		case 'P': o.plain_ok = 1; break;
		case 'L': o.plain_loopback = 1; break;
		case 'n': o.mark_seen = 0; break;
		case 't':
			if (scan_ulongz(optarg, 86400, &v) < 0 || v == 0)
				die_usage(USAGE);
			o.timeout_ms = (int)v * 1000;
			break;
		case 'w':
			if (scan_ulongz(optarg, 86400, &v) < 0 || v == 0)
				die_usage(USAGE);
			o.checkpw_ms = (int)v * 1000;
			break;
		case 'c':
			if (scan_ulongz(optarg, 100000000, &v) < 0 || v == 0)
				die_usage(USAGE);
			o.maxcmds = (unsigned long)v;
			break;
		case 'e':
			if (scan_ulongz(optarg, 1000000, &v) < 0 || v == 0)
				die_usage(USAGE);
			o.maxbad = (unsigned long)v;
			break;
		case 'f':
			if (scan_ulongz(optarg, 1000, &v) < 0 || v == 0)
				die_usage(USAGE);
			o.maxfail = (unsigned int)v;
			break;
		case 'm': o.maildir = optarg; break;
		case 'k': o.checkpw = argv; break;   /* set properly below */
		default: die_usage(USAGE);
		}
	}
	if (o.checkpw) {
		/* -k takes the rest: checkpassword subprogram [args...] */
		if (o.maildir || argc - optind < 2)
			die_usage(USAGE);
		o.checkpw = argv + optind;
	} else if (optind != argc || o.checkpw_ms) {
		die_usage(USAGE);
	}
	return session_run(&o);
}
