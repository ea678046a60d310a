/* util/fs.c - local file IO helpers (util/fs.h): atomic replace, durable
 * mkdir -p, capped reads, lexical containment, tree removal and walks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "floe/error.h"
#include "util/fs.h"

#define FS_MAX_DEPTH 64

static int io_error(floe_error *err, const char *what, const char *path)
{
	int e = errno;
	return floe_error_set(err, e == ENOENT ? FLOE_ENOTFOUND : FLOE_EIO, "%s: %s: %s",
	                      path, what, strerror(e));
}

static void random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* no entropy source: fall back to time and pid mixing */
			uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)p;
			for (; n > 0; n--) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				*p++ = (uint8_t)x;
			}
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

void floe_uuid4(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	random_bytes(b, sizeof b);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
}

int64_t floe_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Split `path` into its directory (into dir, "." when none) and return a
 * pointer to the last component inside `path`. */
static int split_dir(char *dir, size_t size, const char **base, const char *path, floe_error *err)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t slash = n;
	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	*base = path + slash;
	if (slash == n)
		return floe_error_set(err, FLOE_EINVALID, "%s: path names no file", path);
	if (slash == 0) {
		snprintf(dir, size, ".");
		return 0;
	}
	size_t dlen = slash > 1 ? slash - 1 : 1; /* keep "/" for files in root */
	if (dlen >= size)
		return floe_error_set(err, FLOE_EINVALID, "%s: path too long", path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	return 0;
}

int floe_fs_fsync_dir(const char *dir, floe_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "cannot open directory", dir);
	int rc = 0;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = io_error(err, "fsync", dir);
	close(fd);
	return rc;
}

int floe_fs_fsync_file(const char *path, floe_error *err)
{
	/* a descriptor opened after the writes still reports their write-back
	 * errors (Linux keeps an error no descriptor has seen yet for the next
	 * fsync) */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "cannot open", path);
	int rc = 0;
	if (fsync(fd) != 0)
		rc = io_error(err, "fsync", path);
	close(fd);
	return rc;
}

static int write_full(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int floe_fs_write_atomic(const char *path, const void *data, size_t len, floe_error *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	int rc, fd = -1;
	bool made = false;

	if ((rc = split_dir(dir, sizeof dir, &base, path, err)))
		return rc;
	for (int attempt = 0; attempt < 8 && fd < 0; attempt++) {
		char id[37];
		floe_uuid4(id);
		int n = strcmp(dir, ".") == 0
			? snprintf(tmp, sizeof tmp, ".%s.tmp-%.8s", base, id)
			: snprintf(tmp, sizeof tmp, "%s%s.%s.tmp-%.8s", dir,
			           strcmp(dir, "/") == 0 ? "" : "/", base, id);
		if (n < 0 || (size_t)n >= sizeof tmp)
			return floe_error_set(err, FLOE_EINVALID, "%s: path too long", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = io_error(err, "cannot create temporary file", tmp);
		goto done;
	}
	made = true;
	if (write_full(fd, data, len) != 0) {
		rc = io_error(err, "write", tmp);
		goto done;
	}
	if (fsync(fd) != 0) {
		rc = io_error(err, "fsync", tmp);
		goto done;
	}
	int c = close(fd);
	fd = -1;
	if (c != 0) {
		rc = io_error(err, "close", tmp);
		goto done;
	}
	if (rename(tmp, path) != 0) {
		rc = io_error(err, "rename", path);
		goto done;
	}
	made = false;
	rc = floe_fs_fsync_dir(dir, err);
done:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	return rc;
}

int floe_fs_mkdirs(const char *path, floe_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0)
		return floe_error_set(err, FLOE_EINVALID, "empty directory path");
	if (n >= sizeof buf)
		return floe_error_set(err, FLOE_EINVALID, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	/* each prefix ending before a '/' and then the whole path */
	for (size_t i = 1; i <= n; i++) {
		if (i < n && buf[i] != '/')
			continue;
		if (i < n && buf[i - 1] == '/')
			continue; /* "//" */
		char saved = buf[i];
		buf[i] = '\0';
		struct stat st;
		if (stat(buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				floe_error_set(err, FLOE_EINVALID, "%s: not a directory", buf);
				return FLOE_EINVALID;
			}
		} else if (mkdir(buf, 0755) == 0) {
			/* make the new entry durable in its parent */
			char parent[PATH_MAX];
			const char *base;
			int rc = split_dir(parent, sizeof parent, &base, buf, err);
			if (rc == 0)
				rc = floe_fs_fsync_dir(parent, err);
			if (rc)
				return rc;
		} else if (errno != EEXIST) {
			return io_error(err, "cannot create directory", buf);
		}
		buf[i] = saved;
	}
	return 0;
}

int floe_fs_read_all(uint8_t **out, size_t *len, const char *path, size_t max, floe_error *err)
{
	uint8_t *data = NULL;
	size_t have = 0, cap = 0;
	int rc = 0;
	*out = NULL;
	*len = 0;
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4; /* keeps the growth arithmetic below in range */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "cannot open", path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		rc = io_error(err, "stat", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = floe_error_set(err, FLOE_EINVALID, "%s: not a regular file", path);
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		rc = floe_error_set(err, FLOE_EINVALID, "%s: file is %lld bytes, over the limit of %zu",
		                    path, (long long)st.st_size, max);
		goto done;
	}
	/* the size may change under us: read until EOF, never past max */
	cap = (size_t)st.st_size + 1;
	data = malloc(cap);
	if (!data) {
		rc = floe_error_set(err, FLOE_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	for (;;) {
		if (have == cap - 1) {
			if (have >= max) {
				uint8_t probe;
				ssize_t r = read(fd, &probe, 1);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0) {
					rc = io_error(err, "read", path);
					goto done;
				}
				if (r > 0) {
					rc = floe_error_set(err, FLOE_EINVALID,
					                    "%s: file grew over the limit of %zu bytes",
					                    path, max);
					goto done;
				}
				break;
			}
			size_t ncap = cap <= (max - have) ? cap * 2 : max + 1;
			if (ncap > max + 1 || ncap < cap)
				ncap = max + 1;
			uint8_t *p = realloc(data, ncap);
			if (!p) {
				rc = floe_error_set(err, FLOE_ENOMEM, "%s: out of memory", path);
				goto done;
			}
			data = p;
			cap = ncap;
		}
		ssize_t r = read(fd, data + have, cap - 1 - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = io_error(err, "read", path);
			goto done;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	data[have] = '\0';
	*out = data;
	*len = have;
	data = NULL;
done:
	free(data);
	close(fd);
	return rc;
}

bool floe_fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int floe_fs_normalize(char *out, size_t size, const char *path, floe_error *err)
{
	char src[PATH_MAX * 2];
	if (!path || !*path)
		return floe_error_set(err, FLOE_EINVALID, "empty path");
	if (path[0] == '/') {
		if (strlen(path) >= sizeof src)
			return floe_error_set(err, FLOE_EINVALID, "path too long");
		strcpy(src, path);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return io_error(err, "getcwd", ".");
		int n = snprintf(src, sizeof src, "%s/%s", cwd, path);
		if (n < 0 || (size_t)n >= sizeof src)
			return floe_error_set(err, FLOE_EINVALID, "%s: path too long", path);
	}
	if (size < 2)
		return floe_error_set(err, FLOE_EINVALID, "path buffer too small");
	/* out always starts with "/"; o is its length */
	size_t o = 1;
	out[0] = '/';
	const char *p = src;
	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			/* pop one component; ".." of "/" is "/" */
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		size_t need = o + (o > 1) + n + 1;
		if (need > size)
			return floe_error_set(err, FLOE_EINVALID, "%s: path too long", path);
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int floe_fs_within(const char *root, const char *path)
{
	char r[PATH_MAX], p[PATH_MAX];
	if (floe_fs_normalize(r, sizeof r, root, NULL) || floe_fs_normalize(p, sizeof p, path, NULL))
		return 0;
	size_t n = strlen(r);
	if (n == 1)
		return 1; /* everything is inside "/" */
	return strncmp(r, p, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Remove the contents of the directory open as `fd` (taken over). */
static int remove_contents(int fd, const char *shown, int depth, floe_error *err)
{
	if (depth > FS_MAX_DEPTH) {
		close(fd);
		return floe_error_set(err, FLOE_EINVALID, "%s: nested deeper than %d levels",
		                      shown, FS_MAX_DEPTH);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int rc = io_error(err, "cannot read directory", shown);
		close(fd);
		return rc;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			rc = io_error(err, "stat", e->d_name);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = io_error(err, "cannot open directory", e->d_name);
				break;
			}
			rc = remove_contents(sub, e->d_name, depth + 1, err);
			if (rc == 0 && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 &&
			    errno != ENOENT)
				rc = io_error(err, "cannot remove directory", e->d_name);
		} else if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
			rc = io_error(err, "cannot remove", e->d_name);
		}
	}
	if (rc == 0 && errno != 0)
		rc = io_error(err, "cannot read directory", shown);
	closedir(d);
	return rc;
}

int floe_fs_remove_tree(const char *root, const char *dir, floe_error *err)
{
	char r[PATH_MAX], d[PATH_MAX];
	int rc;
	if ((rc = floe_fs_normalize(r, sizeof r, root, err)) ||
	    (rc = floe_fs_normalize(d, sizeof d, dir, err)))
		return rc;
	if (strcmp(d, "/") == 0)
		return floe_error_set(err, FLOE_EINVALID, "refusing to remove \"/\"");
	if (!floe_fs_within(r, d) || strcmp(r, d) == 0)
		return floe_error_set(err, FLOE_EINVALID, "refusing to remove %s: not inside %s", dir,
		                      root);
	struct stat st;
	if (lstat(d, &st) != 0)
		return errno == ENOENT ? 0 : io_error(err, "stat", dir);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(d) != 0 && errno != ENOENT)
			return io_error(err, "cannot remove", dir);
		return 0;
	}
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "cannot open directory", dir);
	if ((rc = remove_contents(fd, dir, 0, err)))
		return rc;
	if (rmdir(d) != 0 && errno != ENOENT)
		return io_error(err, "cannot remove directory", dir);
	return 0;
}

static int walk(char *path, size_t len, size_t size, int depth, floe_fs_walk_fn fn, void *ud,
                floe_error *err)
{
	if (depth > FS_MAX_DEPTH)
		return floe_error_set(err, FLOE_EINVALID, "%s: nested deeper than %d levels", path,
		                      FS_MAX_DEPTH);
	DIR *d = opendir(path);
	if (!d)
		return io_error(err, "cannot read directory", path);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(e->d_name);
		if (len + 1 + n + 1 > size) {
			rc = floe_error_set(err, FLOE_EINVALID, "%s/%s: path too long", path, e->d_name);
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		struct stat st;
		if (lstat(path, &st) != 0) {
			if (errno != ENOENT)
				rc = io_error(err, "stat", path);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(path, len + 1 + n, size, depth + 1, fn, ud, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = fn(ud, path, &st);
		}
		path[len] = '\0';
	}
	if (rc == 0 && errno != 0)
		rc = io_error(err, "cannot read directory", path);
	closedir(d);
	return rc;
}

int floe_fs_walk(const char *dir, floe_fs_walk_fn fn, void *ud, floe_error *err)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof path)
		return floe_error_set(err, FLOE_EINVALID, "%s: bad directory path", dir);
	memcpy(path, dir, n);
	path[n] = '\0';
	return walk(path, n, sizeof path, 0, fn, ud, err);
}
