/* deliver-maildir: one message on stdin into one Maildir (or Maildir++
 * folder), qmail-local style. Exit 0 only once the message is on stable
 * storage; 100 permanent; 111 temporary. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "deliver.h"
#include "die.h"
#include "exitcode.h"
#include "log.h"
#include "login.h"
#include "maildir.h"
#include "scan.h"
#include "str.h"

#define USAGE "deliver-maildir [-c] [-f folder] [-q quota] [-Q] [-u user|uid:gid] maildir"

enum { MODE_DIR = 0700 };

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

/* -c with a folder: Maildir++ marks a folder with a maildirfolder file */
static void
make_folder(const char *dir)
{
	struct str p = STR_INIT;
	int fd;
	if (maildir_make(dir, MODE_DIR) < 0)
		die_sys(EXIT_TEMP, "create folder", dir);
	if (str_copys(&p, dir) < 0 || str_cats(&p, "/maildirfolder") < 0)
		die_nomem(EXIT_TEMP);
	if ((fd = open(p.s, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		die_sys(EXIT_TEMP, "create", p.s);
	close(fd);
	str_free(&p);
}

int
main(int argc, char **argv)
{
	const char *user = NULL, *folder = NULL, *quota = NULL, *maildir, *dir;
	int create = 0, hardquota = 0, opt, r;
	struct str top = STR_INIT, dt = STR_INIT, folderpath = STR_INIT, name = STR_INIT;
	struct maildir_quota q;
	struct maildir_tmp t;
	struct copy_result cr;
	struct logline l;

	die_init("deliver-maildir");
	umask(077);
	signal(SIGXFSZ, SIG_IGN);   /* past a file size limit: EFBIG and 111, not a dead process */
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

	if (envelope_lines(&top, &dt) < 0)
		die_nomem(EXIT_TEMP);
	dir = maildir;
	if (folder) {
		if (maildir_folder_path(&folderpath, maildir, folder) < 0) {
			if (errno == EINVAL)
				die_x(EXIT_PERM, "deliver to folder", folder, "invalid folder name");
			die_nomem(EXIT_TEMP);
		}
		dir = folderpath.s;
	}
	if (create) {
		if (maildir_make(maildir, MODE_DIR) < 0)
			die_sys(EXIT_TEMP, "create maildir", maildir);
		if (folder)
			make_folder(dir);
	}

	/* quota: a cache that must never cost a message, so a read error only warns */
	if (maildir_quota_get(maildir, quota, &q) < 0) {
		if (errno != ENOENT)
			warn_sys("read quota of", maildir);
		memset(&q, 0, sizeof q);
	}
	if (maildir_quota_over(&q, 0, 1))
		die_x(hardquota ? EXIT_PERM : EXIT_TEMP, "deliver to", maildir, "mailbox is over quota");

	if (maildir_tmp_open(&t, dir) < 0)
		die_sys(EXIT_TEMP, "create a file in the tmp directory of", dir);
	r = copy_message(0, t.fd, &top, &dt, &cr);
	if (r != COPY_OK) {
		maildir_tmp_abort(&t);
		if (r == COPY_LOOP)
			die_x(EXIT_PERM, "deliver to", dir, "mail loop: the header already has this Delivered-To line");
		if (r == COPY_READ)
			die_sys(EXIT_TEMP, "read", "the message");
		die_sys(EXIT_TEMP, "write to the tmp directory of", dir);
	}
	if (maildir_quota_over(&q, cr.size, 1)) {
		maildir_tmp_abort(&t);
		die_x(hardquota ? EXIT_PERM : EXIT_TEMP, "deliver to", maildir, "mailbox is over quota");
	}
	if (maildir_tmp_commit(&t, "new", NULL, (size_t)cr.vsize, &name) < 0)
		die_sys(EXIT_TEMP, "deliver into the new directory of", dir);

	/* on stable storage now: what follows must not change the exit code */
	if (maildir_quota_add(maildir, (long long)cr.size, 1) < 0)
		warn_sys("update quota of", maildir);
	log_begin(&l, "delivered");
	log_kv(&l, "maildir", maildir);
	log_kv(&l, "folder", folder);
	log_kv(&l, "file", name.s);
	log_kvu(&l, "size", cr.size);
	log_end(&l);
	return EXIT_OK;
}
