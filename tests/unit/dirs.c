/* Unit tests for the control and queue directory lookups: the
 * environment overrides the built-in directories, except in a set-id
 * process. tests/101-queue-add-setgid.t runs a setgid copy of this
 * program as nobody; run plainly it checks the ordinary case. */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "conf.h"
#include "queue.h"
#include "tap.h"

int
main(void)
{
	const char *dconf, *dqueue;

	if (getauxval(AT_SECURE) && getuid() == 0) {
		/* root, who may write anywhere anyway (queue-run queues bounces
		 * through a setgid queue-add): the overrides count */
		const char *ec = getenv("PIPEMAIL_CONF"), *eq = getenv("PIPEMAIL_QUEUE");
		ok(ec && *ec && eq && *eq, "set-id by root: PIPEMAIL_CONF and PIPEMAIL_QUEUE are set");
		ok(ec && !strcmp(conf_dir(), ec), "set-id by root: PIPEMAIL_CONF counts");
		ok(eq && !strcmp(queue_dir(), eq), "set-id by root: PIPEMAIL_QUEUE counts");
		return done();
	}
	if (getauxval(AT_SECURE)) {
		const char *ec = getenv("PIPEMAIL_CONF"), *eq = getenv("PIPEMAIL_QUEUE");
		ok(ec && *ec && eq && *eq, "set-id: PIPEMAIL_CONF and PIPEMAIL_QUEUE are set");
		ok(conf_dir()[0] == '/' && (!ec || strcmp(conf_dir(), ec) != 0),
		   "set-id: PIPEMAIL_CONF ignored, the built-in control directory");
		ok(queue_dir()[0] == '/' && (!eq || strcmp(queue_dir(), eq) != 0),
		   "set-id: PIPEMAIL_QUEUE ignored, the built-in queue directory");
		return done();
	}

	unsetenv("PIPEMAIL_CONF");
	unsetenv("PIPEMAIL_QUEUE");
	dconf = conf_dir();
	dqueue = queue_dir();
	ok(dconf[0] == '/', "unset: the built-in control directory is absolute");
	ok(dqueue[0] == '/', "unset: the built-in queue directory is absolute");

	setenv("PIPEMAIL_CONF", "/x/conf", 1);
	setenv("PIPEMAIL_QUEUE", "/x/queue", 1);
	is_str(conf_dir(), "/x/conf", "PIPEMAIL_CONF overrides");
	is_str(queue_dir(), "/x/queue", "PIPEMAIL_QUEUE overrides");

	setenv("PIPEMAIL_CONF", "", 1);
	setenv("PIPEMAIL_QUEUE", "", 1);
	is_str(conf_dir(), dconf, "empty PIPEMAIL_CONF: the built-in one");
	is_str(queue_dir(), dqueue, "empty PIPEMAIL_QUEUE: the built-in one");
	return done();
}
