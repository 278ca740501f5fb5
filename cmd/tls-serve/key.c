/* tls-serve reads the private key itself, so that the mode it checks is
 * the mode of the file it loads (the path followed, symlinks included).
 * Like OpenSSH with host keys it refuses a key that other users may read
 * or write, or that its group may write; group-readable stays allowed
 * (Debian's ssl-cert group: /etc/ssl/private is 0640 root:ssl-cert). Its
 * owner must be root or the user tls-serve runs as: any other could
 * replace the key. The pairs for SNI (sni.c) are read here the same way,
 * their certificates without the mode rule. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "die.h"
#include "exitcode.h"
#include "tls-serve.h"

enum { FILE_MAX = 1024 * 1024 };   /* a PEM key or chain is a few KB; a bound on the read */

static _Noreturn void
refuse(const char *path, mode_t mode, const char *who)
{
	char why[160];
	int n = snprintf(why, sizeof why, "mode %04o lets %s; make it 0600 or 0640",
	                 (unsigned int)(mode & 07777), who);
	die_x(EXIT_TEMP, "load", path, n > 0 && (size_t)n < sizeof why ? why : "unsafe mode");
}

/* The bytes of path, read to EOF and bounded; with key set, refused when
 * its mode or owner lets anyone but root or us change or read it. */
static uint8_t *
file_read(const char *path, int key, size_t *lenp)
{
	struct stat st;
	uint8_t *mem;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die_sys(EXIT_TEMP, "load", path);
	if (fstat(fd, &st) < 0)
		die_sys(EXIT_TEMP, "load", path);
	if (!S_ISREG(st.st_mode))
		die_x(EXIT_TEMP, "load", path, "not a regular file");
	if (key && (st.st_mode & (S_IROTH | S_IWOTH)))
		refuse(path, st.st_mode, "other users read or write the key");
	if (key && (st.st_mode & S_IWGRP))
		refuse(path, st.st_mode, "its group write the key");
	if (key && st.st_uid != 0 && st.st_uid != geteuid()) {
		char why[96];
		int n = snprintf(why, sizeof why, "owned by uid %lu: make root its owner",
		                 (unsigned long)st.st_uid);
		die_x(EXIT_TEMP, "load", path, n > 0 && (size_t)n < sizeof why ? why : "owned by another user");
	}
	if (st.st_size > FILE_MAX)
		die_x(EXIT_TEMP, "load", path, "larger than 1 MB");
	if (!(mem = malloc((size_t)st.st_size + 1)))
		die_nomem(EXIT_TEMP);
	/* the size may change under us: read to EOF, never past the buffer */
	while (len <= (size_t)st.st_size) {
		ssize_t r = read(fd, mem + len, (size_t)st.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_sys(EXIT_TEMP, "load", path);
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > (size_t)st.st_size)
		die_x(EXIT_TEMP, "load", path, "the file grew while it was read");
	*lenp = len;
	return mem;
}

static void
key_free(uint8_t *mem, size_t len)
{
	explicit_bzero(mem, len);
	free(mem);
}

void
key_load(struct tls_config *cfg, const char *path)
{
	size_t len;
	uint8_t *mem = file_read(path, 1, &len);
	if (tls_config_set_key_mem(cfg, mem, len) < 0)
		die_x(EXIT_TEMP, "load", path, tls_config_error(cfg));
	key_free(mem, len);
}

void
key_private(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	char why[96];
	int n;
	if (fd < 0)
		return;
	close(fd);
	n = snprintf(why, sizeof why, "readable by gid %lu, as prog runs: give it another group",
	             (unsigned long)getgid());
	die_x(EXIT_TEMP, "load", path, n > 0 && (size_t)n < sizeof why ? why : "prog can read the key");
}

struct pair {
	uint8_t *cert, *key;
	size_t certlen, keylen;
};

static void
pair_read(struct pair *p, const char *cert, const char *key)
{
	p->cert = file_read(cert, 0, &p->certlen);
	p->key = file_read(key, 1, &p->keylen);
}

static void
pair_free(struct pair *p)
{
	key_free(p->key, p->keylen);
	free(p->cert);
}

void
keypair_add(struct tls_config *cfg, const char *what, const char *cert, const char *key)
{
	struct pair p;
	pair_read(&p, cert, key);
	if (tls_config_add_keypair_mem(cfg, p.cert, p.certlen, p.key, p.keylen) < 0)
		die_x(EXIT_TEMP, "load", what, tls_config_error(cfg));
	pair_free(&p);
}

void
keypair_probe(const char *what, const char *cert, const char *key)
{
	struct tls_config *alone = tls_config_new();
	struct tls *probe = tls_server();
	struct pair p;
	if (!alone || !probe)
		die_nomem(EXIT_TEMP);
	pair_read(&p, cert, key);
	if (tls_config_set_keypair_mem(alone, p.cert, p.certlen, p.key, p.keylen) < 0)
		die_x(EXIT_TEMP, "load", what, tls_config_error(alone));
	if (tls_configure(probe, alone) < 0)
		die_x(EXIT_TEMP, "load", what, tls_error(probe));
	tls_free(probe);
	tls_config_clear_keys(alone);
	tls_config_free(alone);
	pair_free(&p);
}
