/* Dead destinations, as Postfix's "delivery temporarily suspended": a
 * domain none of whose hosts could be reached (smtp-send: every
 * recipient 4.4.1 "unable to connect") is not handed to smtp-send again
 * until its time is up; then one batch goes first, a probe, and the rest
 * wait for its answer. Without it every queued message for a silent peer
 * ran its own connection attempts and timeouts each retry round. Kept in
 * memory only: a restart forgets it and probes again. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "log.h"
#include "queue-run.h"

/* a bounded table, the oldest entry dropped; an hour at most, so that a
 * peer back up is noticed within one (before the retry_max of a message) */
enum { DEAD_TABLE_MAX = 1000, DEAD_HOLD_MAX = 3600 };

struct dead {
	struct dead *next;            /* newest first */
	struct dead *hnext;           /* in its hash bucket */
	unsigned long long until, hold;
	int probing;                  /* the probe's job is out */
	struct str text, host;        /* what the recipients are deferred with */
	char name[];
};

/* hashed: every remote recipient of every message looked at is checked
 * against the table, and those waiting for a probe each second */
enum { DEAD_BUCKETS = 1024 };
static struct dead *table, *bucket[DEAD_BUCKETS];
static unsigned int n_dead;
static const char suspended[] = "delivery temporarily suspended: ";

/* FNV-1a over the name in lower case: names match case-insensitively */
static struct dead **
bucket_of(const char *domain)
{
	unsigned int h = 2166136261u;
	const unsigned char *p;
	for (p = (const unsigned char *)domain; *p; p++)
		h = (h ^ (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p)) * 16777619u;
	return &bucket[h % DEAD_BUCKETS];
}

static struct dead *
find(const char *domain)
{
	struct dead *d;
	for (d = *bucket_of(domain); d; d = d->hnext)
		if (strcasecmp(d->name, domain) == 0)
			return d;
	return NULL;
}

static void
drop(struct dead *d)
{
	struct dead **pp;
	for (pp = &table; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	for (pp = bucket_of(d->name); *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	str_free(&d->text);
	str_free(&d->host);
	free(d);
	n_dead--;
}

static struct dead *
add(const char *domain)
{
	size_t l = strlen(domain);
	struct dead *d, *last;
	if (n_dead >= DEAD_TABLE_MAX) {
		for (last = table; last->next; last = last->next)
			;
		drop(last);
	}
	if (!(d = calloc(1, sizeof *d + l + 1)))
		return NULL;
	memcpy(d->name, domain, l + 1);
	d->next = table;
	table = d;
	d->hnext = *bucket_of(domain);
	*bucket_of(domain) = d;
	n_dead++;
	return d;
}

int
dead_check(const char *domain, unsigned long long t, unsigned long long *until,
    const struct str **text, const struct str **host)
{
	struct dead *d = find(domain);
	if (!d)
		return DEAD_NO;
	/* the wall clock stepped back: no longer than a hold from now */
	if (d->until > t + d->hold)
		d->until = t + d->hold;
	/* a probe that never told (its job's domain lost to a failed
	 * allocation) is given up after an hour: another one goes */
	if (t >= d->until)
		return d->probing && t < d->until + DEAD_HOLD_MAX ? DEAD_WAIT : DEAD_PROBE;
	*until = d->until;
	*text = &d->text;
	*host = &d->host;
	return DEAD_SUSPENDED;
}

void
dead_probe(const char *domain)
{
	struct dead *d = find(domain);
	if (d)
		d->probing = 1;
}

int
dead_unreached(const struct queue_result *res)
{
	return res->status == 't' && strcmp(res->dsn, "4.4.1") == 0 && res->text.s &&
	    strncmp(res->text.s, QUEUE_TEXT_NOCONNECT, sizeof QUEUE_TEXT_NOCONNECT - 1) == 0;
}

void
dead_result(const char *domain, int unreached, int probe, const struct str *text, const char *host,
    unsigned long long t, const struct cfg *cfg)
{
	struct dead *d = find(domain);
	unsigned long long max = cfg->retry_max < DEAD_HOLD_MAX ? cfg->retry_max : DEAD_HOLD_MAX;
	struct logline l;
	if (!unreached) {
		if (d) {
			log_begin(&l, "resume");
			log_kv(&l, "domain", d->name);
			log_end(&l);
			drop(d);
		}
		return;
	}
	/* a job begun before the suspension tells nothing new */
	if (d && !probe)
		return;
	if (!d) {
		if (!(d = add(domain)))
			return;   /* no memory: delivered as before, unsuspended */
		d->hold = cfg->retry_base;
	} else
		d->hold = d->hold > max / 2 ? max : d->hold * 2;
	if (d->hold > max)
		d->hold = max;
	if (!d->hold)
		d->hold = 1;
	d->until = t + d->hold;
	d->probing = 0;
	if (str_copys(&d->text, suspended) < 0 ||
	    (text->len && str_catb(&d->text, text->s, text->len < QUEUE_TEXT_MAX ? text->len : QUEUE_TEXT_MAX) < 0) ||
	    str_copys(&d->host, host && *host ? host : "-") < 0) {
		drop(d);
		return;
	}
	log_begin(&l, "suspend");
	log_kv(&l, "domain", d->name);
	log_kvu(&l, "until", d->until);
	log_kvu(&l, "for", d->hold);
	log_kvb(&l, "text", text->s, text->len);
	log_end(&l);
}

void
dead_retry(const char *domain, unsigned long long t)
{
	struct dead *d = domain ? find(domain) : NULL;
	if (d && d->until > t)
		d->until = t;   /* the admin's retry goes now, as the probe */
	while (!domain && table)
		drop(table);
}
