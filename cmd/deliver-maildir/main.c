/* deliver-maildir: one message on stdin into one Maildir (or Maildir++
 * folder), qmail-local style. Exit 0 only once the message is on stable
 * storage; 100 permanent; 111 temporary. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "login.h"
#include "maildeliver.h"
#include "maildir.h"
#include "scan.h"
#include "str.h"

#define USAGE "deliver-maildir [-c] [-f folder] [-q quota] [-Q] [-u user|uid:gid] maildir"

/* -u USER or -u UID:GID */
static void
become(const char *who)
{
	const char *colon = strchr(who, ':');
	uid_t uid;
	gid_t gid;
	if (colon) {
		struct str u = STR_INIT;
		unsigned int n, g;
		if (str_copyb(&u, who, (size_t)(colon - who)) < 0)
			die_nomem(EXIT_TEMP);
		if (scan_uint(u.s, (unsigned int)-2, &n) < 0 || scan_uint(colon + 1, (unsigned int)-2, &g) < 0)
			die_usage(USAGE);
		str_free(&u);
		uid = n;
		gid = g;
	} else {
		struct passwd *pw;
		errno = 0;
		if (!(pw = getpwnam(who))) {
			if (errno)
				die_sys(EXIT_TEMP, "look up user", who);
			die_x(EXIT_TEMP, "look up user", who, "no such user");
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (uid == 0)
		die_x(EXIT_TEMP, "become", who, "refusing to deliver as root");
	if (login_drop(uid, gid) < 0)
		die_sys(EXIT_TEMP, "become", who);
}

/* The message is on fd 0: closed, the tmp/ file made next took its
 * number and was read as the message, and an empty one was delivered
 * (test 227). A closed 1 or 2 gets /dev/null, so no file of ours is
 * written to by a log line. */
static void
std_fds(void)
{
	int fd;
	if (fcntl(0, F_GETFD) < 0 && errno == EBADF)
		die_sys(EXIT_TEMP, "read", "the message on standard input");
	for (fd = 1; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_TEMP);
}

int
main(int argc, char **argv)
{
	const char *user = NULL, *folder = NULL, *quota = NULL, *maildir;
	int create = 0, hardquota = 0, opt;
	struct str name = STR_INIT;
	struct maildir_quota q;
	unsigned long long size = 0;
	struct logline l;

	die_init("deliver-maildir");
	std_fds();
	umask(077);
	signal(SIGXFSZ, SIG_IGN);   /* past a file size limit: EFBIG and 111, not a dead process */
	/* a caller that stopped reading stderr must still get our exit code:
	 * dead of SIGPIPE at the log line after the commit, the message was
	 * delivered yet reported failed, and sent again (test 195) */
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "+cf:q:Qu:")) != -1) {
		switch (opt) {
		case 'c': create = 1; break;
		case 'f': folder = optarg; break;
		case 'q': quota = optarg; break;
		case 'Q': hardquota = 1; break;
		case 'u': user = optarg; break;
		default: die_usage(USAGE);
		}
	}
	if (argc - optind != 1 || !argv[optind][0])
		die_usage(USAGE);
	maildir = argv[optind];
	if (quota && maildir_quota_parse(quota, &q) < 0)
		die_usage(USAGE);

	/* privileges: root only long enough to become the mailbox owner */
	if (user)
		become(user);
	else if (geteuid() == 0)
		die_msg(EXIT_TEMP, "refusing to run as root: name the mailbox owner with -u user or -u uid:gid");

	{
		struct maildeliver d = { maildir, folder, quota, create, hardquota,
		    getenv("SENDER"), getenv("RECIPIENT"), getenv("DTLINE") };
		struct str err = STR_INIT;
		int code = maildeliver(&d, 0, &err, &name, &size);
		if (code != EXIT_OK)
			die_msg(code, err.len ? err.s : "unable to deliver: out of memory");
	}
	log_begin(&l, "delivered");
	log_kv(&l, "maildir", maildir);
	log_kv(&l, "folder", folder);
	log_kv(&l, "file", name.s);
	log_kvu(&l, "size", size);
	log_end(&l);
	return EXIT_OK;
}
