/* Exit codes shared by every command: qmail's delivery convention, and
 * qmail-queue(8)'s codes where that protocol applies. */
#ifndef EXITCODE_H
#define EXITCODE_H

enum {
	EXIT_OK = 0,          /* success */
	EXIT_PERM = 100,      /* permanent failure: do not retry */
	EXIT_TEMP = 111       /* temporary failure: retry later */
};

/* qmail-queue(8) */
enum {
	QQ_OK = 0,
	QQ_PERM_REFUSED = 31, /* mail server permanently refuses to send the message */
	QQ_PERM_ADDR = 11,    /* address too long */
	QQ_PERM_ENV = 91,     /* envelope format error */
	QQ_TEMP_NOMEM = 51,   /* out of memory */
	QQ_TEMP_TIMEOUT = 52, /* timeout */
	QQ_TEMP_WRITE = 53,   /* write error; e.g. disk full */
	QQ_TEMP_READ = 54,    /* unable to read the message or envelope */
	QQ_TEMP_CONF = 55,    /* unable to read a configuration file */
	QQ_TEMP_NET = 56,     /* network problem */
	QQ_TEMP_QUEUE = 61,   /* problem with the queue directory */
	QQ_TEMP_TRIGGER = 62, /* problem with the queue directory (files) */
	QQ_TEMP_SPAWN = 71,   /* temporary refusal */
	QQ_TEMP_BUG = 81      /* internal bug */
};

/* qmail-queue: 11..40 permanent, everything else non-zero temporary. */
#define QQ_IS_PERM(c) ((c) >= 11 && (c) <= 40)

#endif
