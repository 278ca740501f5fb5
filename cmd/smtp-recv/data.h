/* The DATA / BDAT byte stream as a state machine: dot-unstuffing, the
 * CRLF.CRLF terminator (and nothing else), bare CR / bare LF detection,
 * line-length, size and hop counting, CRLF turned into the queue's LF.
 * Pure: no I/O, so the fuzz target drives it directly. */
#ifndef SMTP_DATA_H
#define SMTP_DATA_H

#include <stddef.h>

enum {
	SMTPDATA_LINE_MAX = 1000,  /* RFC 5321 4.5.3.1.6, CRLF included */
	SMTPDATA_HOPS_MAX = 100    /* Received: + Delivered-To: lines that mean a loop */
};

/* error bits */
enum {
	SMTPDATA_BARE = 1,      /* a CR or LF not part of a CRLF pair */
	SMTPDATA_LONGLINE = 2,  /* a line over SMTPDATA_LINE_MAX */
	SMTPDATA_TOOBIG = 4,    /* more than max bytes */
	SMTPDATA_HOPS = 8       /* SMTPDATA_HOPS_MAX or more trace lines */
};

struct smtpdata {
	int state;
	int dotted;                 /* DATA: dot-stuffing and the terminator; BDAT: raw */
	int done;                   /* DATA: CRLF.CRLF consumed */
	unsigned errors;            /* SMTPDATA_* bits; output stops at the first */
	size_t linelen;             /* input bytes on the current line */
	unsigned long long size;    /* bytes output */
	unsigned long long lines;   /* LFs output: each was CR LF in the message */
	unsigned long long max;     /* size limit, in RFC 1870 octets: size + lines */
	int inheader;
	unsigned hops;
	size_t hdrlen;              /* bytes of the current output line kept in hdr */
	char hdr[16];
};

void smtpdata_init(struct smtpdata *, int dotted, unsigned long long max);

/* Consume in[0..n) up to and including the end of data (DATA) or all of
 * it (BDAT); append at most n + 1 output bytes to out (caller provides
 * room) and add their count to *outlen. Returns the bytes consumed. */
size_t smtpdata_feed(struct smtpdata *, const char *in, size_t n, char *out, size_t *outlen);

/* BDAT LAST: the message must not end inside a CRLF pair. */
void smtpdata_finish(struct smtpdata *);

#endif
