/* ingest/source_file.c - the file source: NDJSON lines or CSV rows from a
 * batch of files, a directory (its files in name order; watched for new
 * ones), or stdin. The position is a cursor: the absolute path of the file
 * being read and the byte offset after the last record handed out; files
 * sorting before it are done. Reads go through one buffer (records up to
 * ING_MAX_RECORD bytes; longer lines are handed out truncated and flagged).
 * A file's last line without a newline counts as a record once the file is
 * known to be complete: always for given files, and in a watched directory
 * when a later file exists (writers should write under a dot-name or a
 * ".tmp" suffix and rename it when complete). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest/source.h"

#define READ_CHUNK (4u << 20)

typedef struct fsrc {
	ing_source base;
	bool csv, is_stdin, is_dir, watch;
	char *dir;
	char **files; /* known files, sorted (absolute paths) */
	int nfiles, cap;
	int cur;      /* index of the open file, or -1 */
	int fd;
	uint8_t *buf;
	size_t bcap, beg, end;
	int64_t buf_off; /* file offset of buf[0] */
	bool need_header;
	int64_t resume_off; /* after the header: where to go on (resume) */
	ing_pos from, pos;
	bool bounded;
	char *bound_file;   /* last file included, and its size then */
	int64_t bound_size;
	int64_t last_scan_ms;
} fsrc;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(fsrc *s, const char *path)
{
	for (int i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i], path) == 0)
			return 0;
	if (s->nfiles == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		char **n = realloc(s->files, (size_t)cap * sizeof *n);
		if (!n)
			return FLOE_ENOMEM;
		s->files = n;
		s->cap = cap;
	}
	if (!(s->files[s->nfiles] = strdup(path)))
		return FLOE_ENOMEM;
	s->nfiles++;
	return 0;
}

static bool skip_name(const char *n)
{
	size_t l = strlen(n);
	return n[0] == '.' || (l > 4 && strcmp(n + l - 4, ".tmp") == 0) ||
	       (l > 5 && strcmp(n + l - 5, ".part") == 0) || n[l - 1] == '~';
}

/* List the directory again: new files sorting after the open one join. */
static int scan_dir(fsrc *s, floe_error *err)
{
	DIR *d = opendir(s->dir);
	if (!d)
		return floe_error_set(err, FLOE_EIO, "%s: cannot list the directory: %s", s->dir,
		                      strerror(errno));
	const char *cur = s->cur >= 0 ? s->files[s->cur] : NULL;
	char *keep = cur ? strdup(cur) : NULL;
	if (cur && !keep) {
		closedir(d);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	struct dirent *e;
	int rc = 0;
	char path[PATH_MAX];
	while (!rc && (e = readdir(d))) {
		if (skip_name(e->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name) >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		rc = add_file(s, path);
	}
	closedir(d);
	if (s->nfiles > 1) /* an empty folder has no array to sort (NULL) */
		qsort(s->files, (size_t)s->nfiles, sizeof *s->files, cmp_str);
	if (keep) {
		for (int i = 0; i < s->nfiles; i++)
			if (strcmp(s->files[i], keep) == 0)
				s->cur = i;
		free(keep);
	}
	s->last_scan_ms = now_ms();
	return rc ? floe_error_set(err, rc, "out of memory") : 0;
}

static void close_cur(fsrc *s)
{
	if (s->fd >= 0 && !s->is_stdin)
		close(s->fd);
	s->fd = -1;
	s->beg = s->end = 0;
	s->buf_off = 0;
}

/* Open files[i] at `off` (CSV: after handing out its header). */
static int open_at(fsrc *s, int i, int64_t off, floe_error *err)
{
	close_cur(s);
	s->cur = i;
	int fd = open(s->files[i], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return floe_error_set(err, FLOE_EIO, "%s: cannot open: %s", s->files[i], strerror(errno));
	s->fd = fd;
	s->need_header = s->csv;
	s->resume_off = off;
	int64_t at = s->csv ? 0 : off;
	if (at > 0 && lseek(fd, at, SEEK_SET) < 0)
		return floe_error_set(err, FLOE_EIO, "%s: cannot seek to byte %lld: %s", s->files[i],
		                      (long long)at, strerror(errno));
	s->buf_off = at;
	int rc = ing_pos_set_cursor(&s->pos, s->files[i], off);
	return rc ? floe_error_set(err, rc, "out of memory") : 0;
}

/* Index of the first file sorting after `after` (NULL: 0). */
static int first_after(const fsrc *s, const char *after)
{
	int i = 0;
	while (after && i < s->nfiles && strcmp(s->files[i], after) <= 0)
		i++;
	return i;
}

/* Open the file after the current one (or after the saved cursor): 1 when
 * one was opened, 0 when there is none (yet), <0 on error. */
static int advance(fsrc *s, floe_error *err)
{
	if (s->is_dir && !s->bounded) {
		int rc = scan_dir(s, err);
		if (rc)
			return rc;
	}
	const char *after = s->cur >= 0 ? s->files[s->cur]
	                    : s->from.kind == ING_POS_CURSOR ? s->from.file : NULL;
	int i = first_after(s, after);
	if (i >= s->nfiles)
		return 0;
	if (s->bounded && (!s->bound_file || strcmp(s->files[i], s->bound_file) > 0))
		return 0;
	int rc = open_at(s, i, 0, err);
	return rc ? rc : 1;
}

static int fs_start(ing_source *base, const ing_pos *from, floe_error *err)
{
	fsrc *s = (fsrc *)base;
	if (s->is_stdin) {
		s->fd = 0;
		s->cur = 0;
		s->need_header = s->csv;
		return 0;
	}
	if (s->is_dir) {
		int rc = scan_dir(s, err);
		if (rc)
			return rc;
	}
	if (from && from->kind == ING_POS_CURSOR) {
		int rc = ing_pos_copy(&s->from, from);
		if (!rc)
			rc = ing_pos_copy(&s->pos, from);
		if (rc)
			return floe_error_set(err, rc, "out of memory");
		for (int i = 0; i < s->nfiles; i++)
			if (strcmp(s->files[i], from->file) == 0)
				return open_at(s, i, from->off, err);
	}
	return 0; /* poll opens the first file */
}

/* Read more of the current file into the buffer; returns bytes read
 * (0 at the end for now) or <0. */
static ssize_t fill(fsrc *s, floe_error *err)
{
	if (s->beg > 0 && (s->beg == s->end || s->end + READ_CHUNK > s->bcap)) {
		memmove(s->buf, s->buf + s->beg, s->end - s->beg);
		s->buf_off += (int64_t)s->beg;
		s->end -= s->beg;
		s->beg = 0;
	}
	if (s->end + READ_CHUNK > s->bcap) {
		size_t cap = s->bcap ? s->bcap * 2 : 2 * READ_CHUNK;
		uint8_t *n = realloc(s->buf, cap);
		if (!n)
			return floe_error_set(err, FLOE_ENOMEM, "out of memory");
		s->buf = n;
		s->bcap = cap;
	}
	size_t want = READ_CHUNK;
	if (s->bounded && s->bound_file && s->cur >= 0 && s->cur < s->nfiles &&
	    strcmp(s->files[s->cur], s->bound_file) == 0) {
		int64_t left = s->bound_size - (s->buf_off + (int64_t)s->end);
		if (left <= 0)
			return 0;
		if ((int64_t)want > left)
			want = (size_t)left;
	}
	ssize_t n;
	do
		n = read(s->fd, s->buf + s->end, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return floe_error_set(err, FLOE_EIO, "%s: read failed at byte %lld: %s",
		                      s->is_stdin ? "stdin" : s->files[s->cur],
		                      (long long)(s->buf_off + (int64_t)s->end), strerror(errno));
	s->end += (size_t)n;
	return n;
}

/* End of the record starting at buf[beg]: index of its newline, or end. */
static size_t find_end(const fsrc *s, bool *found)
{
	const uint8_t *p = s->buf + s->beg, *e = s->buf + s->end;
	if (!s->csv) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
		*found = nl != NULL;
		return nl ? (size_t)(nl - s->buf) : s->end;
	}
	bool q = false;
	for (; p < e; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == '\n' && !q) {
			*found = true;
			return (size_t)(p - s->buf);
		}
	}
	*found = false;
	return s->end;
}

static bool blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Is the open file complete (no more bytes will come)? In a watched
 * directory: once a later file exists. */
static bool cur_complete(fsrc *s, floe_error *err)
{
	if (s->is_stdin || !s->is_dir || !s->watch || s->bounded)
		return true;
	if (s->cur + 1 < s->nfiles)
		return true;
	if (now_ms() - s->last_scan_ms >= 200 && scan_dir(s, err) == 0)
		return s->cur + 1 < s->nfiles;
	return false;
}

static int hand_out(fsrc *s, ing_record *out, size_t end, size_t next, bool truncated)
{
	size_t len = end - s->beg;
	if (len > ING_MAX_RECORD) {
		len = ING_MAX_RECORD;
		truncated = true;
	}
	memset(out, 0, sizeof *out);
	out->data = (const char *)s->buf + s->beg;
	out->len = len;
	if (!s->csv && len && out->data[len - 1] == '\r')
		out->len--;
	out->partition = -1;
	out->offset = s->buf_off + (int64_t)s->beg;
	out->file = s->is_stdin ? "-" : s->files[s->cur];
	out->timestamp_ms = -1;
	out->truncated = truncated;
	s->beg = next;
	if (s->need_header) {
		out->header = true;
		s->need_header = false;
		if (s->resume_off > s->buf_off + (int64_t)s->beg) {
			/* resuming inside the file: skip to the saved offset */
			if (lseek(s->fd, s->resume_off, SEEK_SET) < 0)
				return FLOE_EIO;
			s->buf_off = s->resume_off;
			s->beg = s->end = 0;
			s->pos.off = s->resume_off;
			return ING_POLL_RECORD;
		}
	}
	s->pos.off = s->buf_off + (int64_t)s->beg;
	return ING_POLL_RECORD;
}

/* A line longer than ING_MAX_RECORD: hand out its start, then skip the
 * rest of it. */
static int skip_long(fsrc *s, ing_record *out, floe_error *err)
{
	static const size_t keep = ING_MAX_RECORD;
	int64_t start = s->buf_off + (int64_t)s->beg;
	/* copy the start aside: the buffer is reused while skipping */
	uint8_t *head = malloc(keep);
	if (!head)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	memcpy(head, s->buf + s->beg, keep);
	for (;;) {
		bool found;
		size_t e = find_end(s, &found);
		if (found) {
			s->beg = e + 1;
			break;
		}
		s->beg = s->end;
		ssize_t n = fill(s, err);
		if (n < 0) {
			free(head);
			return (int)n;
		}
		if (n == 0)
			break;
	}
	/* hand the kept start out from the (now free) front of the buffer */
	size_t rest = s->end - s->beg;
	if (s->bcap < keep + rest) {
		free(head);
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	}
	memmove(s->buf + keep, s->buf + s->beg, rest);
	memcpy(s->buf, head, keep);
	free(head);
	s->buf_off += (int64_t)s->beg - (int64_t)keep;
	s->end = keep + rest;
	s->beg = keep;
	memset(out, 0, sizeof *out);
	out->data = (const char *)s->buf;
	out->len = keep;
	out->partition = -1;
	out->offset = start;
	out->file = s->is_stdin ? "-" : s->files[s->cur];
	out->timestamp_ms = -1;
	out->truncated = true;
	s->pos.off = s->buf_off + (int64_t)s->beg;
	return ING_POLL_RECORD;
}

/* Wait up to ms for stdin to have bytes: 1 ready, 0 not yet. */
static int stdin_ready(int ms)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	int n = poll(&p, 1, ms < 0 ? 0 : ms);
	return n != 0;
}

static int fs_poll(ing_source *base, ing_record *out, int timeout_ms, floe_error *err)
{
	fsrc *s = (fsrc *)base;
	int64_t deadline = -1; /* set when first needed: most polls find a record at once */
	for (;;) {
		if (s->fd >= 0) {
			while (s->beg < s->end) {
				bool found;
				size_t e = find_end(s, &found);
				if (!found)
					break;
				if (!s->need_header && blank(s->buf + s->beg, e - s->beg)) {
					s->beg = e + 1;
					s->pos.off = s->buf_off + (int64_t)s->beg;
					continue;
				}
				int rc = hand_out(s, out, e, e + 1, false);
				if (rc < 0)
					return floe_error_set(err, rc, "%s: cannot seek", s->files[s->cur]);
				return rc;
			}
			if (s->end - s->beg >= ING_MAX_RECORD)
				return skip_long(s, out, err);
			if (s->is_stdin) {
				if (deadline < 0)
					deadline = now_ms() + timeout_ms;
				if (!stdin_ready((int)(deadline - now_ms())))
					return ING_POLL_IDLE;
			}
			ssize_t n = fill(s, err);
			if (n < 0)
				return (int)n;
			if (n > 0)
				continue;
			/* the end of the file, for now */
			bool complete = cur_complete(s, err);
			if (complete && s->beg < s->end) {
				if (s->need_header || !blank(s->buf + s->beg, s->end - s->beg)) {
					int rc = hand_out(s, out, s->end, s->end, false);
					if (rc < 0)
						return floe_error_set(err, rc, "cannot seek");
					return rc;
				}
				s->beg = s->end;
				s->pos.off = s->buf_off + (int64_t)s->beg;
			}
			if (s->is_stdin)
				return ING_POLL_END;
			if (complete) {
				int rc = advance(s, err);
				if (rc < 0)
					return rc;
				if (rc > 0)
					continue;
			}
		} else {
			int rc = advance(s, err);
			if (rc < 0)
				return rc;
			if (rc > 0)
				continue;
		}
		if (!s->watch || s->bounded)
			return ING_POLL_END;
		if (deadline < 0)
			deadline = now_ms() + timeout_ms;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return ING_POLL_IDLE;
		struct timespec ts = { 0, (left < 20 ? left : 20) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int fs_position(ing_source *base, ing_pos *out, floe_error *err)
{
	fsrc *s = (fsrc *)base;
	int rc = ing_pos_copy(out, &s->pos);
	return rc ? floe_error_set(err, rc, "out of memory") : 0;
}

static int fs_bound(ing_source *base, floe_error *err)
{
	fsrc *s = (fsrc *)base;
	s->bounded = true;
	if (s->is_stdin)
		return 0;
	if (s->is_dir) {
		int rc = scan_dir(s, err);
		if (rc)
			return rc;
	}
	if (s->nfiles == 0)
		return 0;
	const char *last = s->files[s->nfiles - 1];
	struct stat st;
	if (stat(last, &st))
		return floe_error_set(err, FLOE_EIO, "%s: %s", last, strerror(errno));
	free(s->bound_file);
	if (!(s->bound_file = strdup(last)))
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->bound_size = st.st_size;
	return 0;
}

static int64_t fs_lag(ing_source *base)
{
	fsrc *s = (fsrc *)base;
	if (s->is_stdin)
		return -1;
	int64_t lag = 0;
	for (int i = s->cur < 0 ? 0 : s->cur; i < s->nfiles; i++) {
		struct stat st;
		if (stat(s->files[i], &st))
			continue;
		lag += st.st_size;
		if (i == s->cur)
			lag -= s->buf_off + (int64_t)s->beg;
	}
	return lag < 0 ? 0 : lag;
}

static void fs_close(ing_source *base)
{
	fsrc *s = (fsrc *)base;
	if (!s)
		return;
	close_cur(s);
	for (int i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->dir);
	free(s->buf);
	free(s->bound_file);
	ing_pos_free(&s->from);
	ing_pos_free(&s->pos);
	free(s);
}

static const ing_source_ops file_ops = {
	.start = fs_start,
	.poll = fs_poll,
	.position = fs_position,
	.committed = NULL,
	.bound = fs_bound,
	.lag = fs_lag,
	.close = fs_close,
};

int ing_source_files(ing_source **out, const char *const *paths, int npaths, bool watch,
                     bool csv, floe_error *err)
{
	if (npaths < 1)
		return floe_error_set(err, FLOE_EINVALID, "no input: give files, a directory or -");
	fsrc *s = calloc(1, sizeof *s);
	if (!s)
		return floe_error_set(err, FLOE_ENOMEM, "out of memory");
	s->base.ops = &file_ops;
	s->fd = -1;
	s->cur = -1;
	s->csv = csv;
	ing_pos_init(&s->from);
	ing_pos_init(&s->pos);
	int rc = 0;
	if (npaths == 1 && strcmp(paths[0], "-") == 0) {
		s->is_stdin = true;
		snprintf(s->base.id, sizeof s->base.id, "stdin");
		snprintf(s->base.label, sizeof s->base.label, "-");
		if ((rc = add_file(s, "-")) || (rc = ing_pos_set_cursor(&s->pos, "-", 0)))
			goto fail_mem;
		*out = &s->base;
		return 0;
	}
	snprintf(s->base.id, sizeof s->base.id, "files");
	for (int i = 0; i < npaths; i++) {
		char abs[PATH_MAX];
		struct stat st;
		if (stat(paths[i], &st) || !realpath(paths[i], abs)) {
			rc = floe_error_set(err, FLOE_ENOTFOUND, "%s: %s", paths[i], strerror(errno));
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			if (npaths != 1) {
				rc = floe_error_set(err, FLOE_EINVALID, "%s is a directory: give one "
				                    "directory alone, or files", paths[i]);
				goto fail;
			}
			s->is_dir = true;
			s->watch = watch;
			if (!(s->dir = strdup(abs)))
				goto fail_mem;
			snprintf(s->base.label, sizeof s->base.label, "%.500s", abs);
		} else if ((rc = add_file(s, abs))) {
			goto fail_mem;
		}
	}
	if (!s->is_dir) {
		qsort(s->files, (size_t)s->nfiles, sizeof *s->files, cmp_str);
		snprintf(s->base.label, sizeof s->base.label, "%.500s%s", s->files[0],
		         s->nfiles > 1 ? " ..." : "");
	}
	*out = &s->base;
	return 0;
fail_mem:
	rc = floe_error_set(err, FLOE_ENOMEM, "out of memory");
fail:
	fs_close(&s->base);
	return rc;
}
