/* Local delivery into a Maildir, qmail-local style: the envelope header
 * lines, the streaming copy, the quota check and the commit through
 * lib/maildir. The one routine behind deliver-maildir(8) and queue-run's
 * in-process local delivery; the caller has already become the mailbox
 * owner. */
#ifndef MAILDELIVER_H
#define MAILDELIVER_H

#include <stddef.h>
#include "str.h"

/* top = the Return-Path and Delivered-To lines from SENDER, RECIPIENT and
 * DTLINE (qmail-local's variables; DTLINE wins over RECIPIENT). Control
 * bytes in the values, CR and LF among them, become '_' as qmail-local
 * does with '\n', so an envelope can never add a header line. A variable
 * that is unset gives no line. dt receives the Delivered-To line alone
 * (empty if none), for the loop check. */
int maildeliver_envelope(struct str *top, struct str *dt, const char *sender,
    const char *recipient, const char *dtline);

enum {
	COPY_OK = 0,
	COPY_LOOP = 1,      /* the header already holds our Delivered-To line */
	COPY_READ = -1,     /* reading stdin failed, errno set */
	COPY_WRITE = -2     /* writing the file failed, errno set */
};

struct copy_result {
	unsigned long long size;    /* bytes written */
	unsigned long long vsize;   /* with CRLF line ends: what POP3 RETR sends */
};

/* Write top, then copy in to out with CRLF turned into LF (every other
 * byte kept; a last line without LF gets one, a final CR becoming it),
 * in constant memory; stop at a header field equal to dt
 * (unfolded; field name and value compared case-insensitively, blanks
 * trimmed). */
int maildeliver_copy(int in, int out, const struct str *top, const struct str *dt, struct copy_result *r);

/* One delivery: the message read from in to its end, Return-Path and
 * Delivered-To on top, into maildir (or its Maildir++ folder), with the
 * quota (spec, or the maildirsize file) checked before and after the copy.
 * create: make the Maildir (and the folder, with its maildirfolder file)
 * when missing. Returns EXIT_OK only once the file is on stable storage,
 * else EXIT_PERM (loop, bad folder, hard quota) or EXIT_TEMP, with err
 * set to "unable to VERB OBJ: reason". name receives the file name in
 * new/, size the bytes written (either may be NULL). */
struct maildeliver {
	const char *maildir;
	const char *folder;        /* or NULL */
	const char *quota;         /* the admin's quota spec, or NULL */
	int create, hardquota;
	const char *sender, *recipient, *dtline;   /* qmail-local's variables; NULL: unset */
};
int maildeliver(const struct maildeliver *, int in, struct str *err, struct str *name,
    unsigned long long *size);

#endif
