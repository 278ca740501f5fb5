/* deliver-maildir's pieces: the envelope header lines and the streaming
 * copy (the privilege drop is login_drop from lib/login.h). */
#ifndef DELIVER_H
#define DELIVER_H

#include <stddef.h>
#include "str.h"

/* top = the Return-Path and Delivered-To lines from SENDER, RECIPIENT and
 * DTLINE (qmail-local's variables; DTLINE wins over RECIPIENT). Control
 * bytes in the values, CR and LF among them, become '_' as qmail-local
 * does with '\n', so an envelope can never add a header line. A variable
 * that is unset gives no line. dt receives the Delivered-To line alone
 * (empty if none), for the loop check. */
int envelope_lines(struct str *top, struct str *dt);

enum {
	COPY_OK = 0,
	COPY_LOOP = 1,      /* the header already holds our Delivered-To line */
	COPY_READ = -1,     /* reading stdin failed, errno set */
	COPY_WRITE = -2     /* writing the file failed, errno set */
};

struct copy_result {
	unsigned long long size;    /* bytes written */
	unsigned long long vsize;   /* size with CRLF line ends */
};

/* Write top, then copy in to out with CRLF turned into LF (every other
 * byte kept), in constant memory; stop at a header line equal to dt
 * (field name and value compared case-insensitively, blanks trimmed). */
int copy_message(int in, int out, const struct str *top, const struct str *dt, struct copy_result *r);

#endif
