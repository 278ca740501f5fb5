/* One POP3 session on a pair of fds: AUTHORIZATION, TRANSACTION, UPDATE. */
#ifndef SESSION_H
#define SESSION_H

struct popopt {
	int plain_ok;            /* -P: USER/PASS and AUTH PLAIN without TLS */
	int plain_loopback;      /* -L: the same, from a loopback address only */
	int mark_seen;           /* retrieved -> cur/ with S (default on; -n off) */
	int timeout_ms;          /* -t: idle timeout */
	int checkpw_ms;          /* -w: the limit on checkpassword starting the subprogram, 0 none */
	unsigned long maxcmds;   /* -c: commands per session */
	unsigned long maxbad;    /* -e: bad commands before the session ends */
	unsigned int maxfail;    /* -f: failed logins before the session ends */
	char **checkpw;          /* -k: checkpassword argv (program, then the subprogram), or NULL */
	const char *maildir;     /* -m: already authenticated, serve this Maildir */
};

/* Runs the session to its end; returns the exit code for main. */
int session_run(const struct popopt *);

#endif
