/* ingest/pos.c - source positions: per-partition next offsets (Kafka) or a
 * file cursor, their text form in snapshot summaries, and the test of
 * whether a record lies before a saved position. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/source.h"

void ing_pos_init(ing_pos *p)
{
	memset(p, 0, sizeof *p);
}

void ing_pos_free(ing_pos *p)
{
	free(p->parts);
	free(p->file);
	ing_pos_init(p);
}

int ing_pos_copy(ing_pos *dst, const ing_pos *src)
{
	ing_pos t;
	ing_pos_init(&t);
	t.kind = src->kind;
	t.off = src->off;
	if (src->nparts) {
		t.parts = malloc((size_t)src->nparts * sizeof *t.parts);
		if (!t.parts)
			return FLOE_ENOMEM;
		memcpy(t.parts, src->parts, (size_t)src->nparts * sizeof *t.parts);
		t.nparts = t.cap = src->nparts;
	}
	if (src->file && !(t.file = strdup(src->file))) {
		free(t.parts);
		return FLOE_ENOMEM;
	}
	ing_pos_free(dst);
	*dst = t;
	return 0;
}

static int part_find(const ing_pos *p, int32_t partition, int *at)
{
	int lo = 0, hi = p->nparts;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (p->parts[mid].partition < partition)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < p->nparts && p->parts[lo].partition == partition;
}

int ing_pos_set_part(ing_pos *p, int32_t partition, int64_t next)
{
	int at;
	if (p->kind == ING_POS_CURSOR)
		return FLOE_EINVALID;
	p->kind = ING_POS_PARTS;
	if (part_find(p, partition, &at)) {
		p->parts[at].next = next;
		return 0;
	}
	if (p->nparts == p->cap) {
		int cap = p->cap ? p->cap * 2 : 8;
		ing_part_off *n = realloc(p->parts, (size_t)cap * sizeof *n);
		if (!n)
			return FLOE_ENOMEM;
		p->parts = n;
		p->cap = cap;
	}
	memmove(p->parts + at + 1, p->parts + at, (size_t)(p->nparts - at) * sizeof *p->parts);
	p->parts[at] = (ing_part_off){ partition, next };
	p->nparts++;
	return 0;
}

int64_t ing_pos_part(const ing_pos *p, int32_t partition)
{
	int at;
	if (p->kind != ING_POS_PARTS || !part_find(p, partition, &at))
		return -1;
	return p->parts[at].next;
}

int ing_pos_set_cursor(ing_pos *p, const char *file, int64_t off)
{
	if (p->kind == ING_POS_PARTS)
		return FLOE_EINVALID;
	if (!p->file || strcmp(p->file, file) != 0) {
		char *f = strdup(file);
		if (!f)
			return FLOE_ENOMEM;
		free(p->file);
		p->file = f;
	}
	p->kind = ING_POS_CURSOR;
	p->off = off;
	return 0;
}

int ing_pos_max(ing_pos *p, const ing_pos *other)
{
	if (other->kind == ING_POS_NONE)
		return 0;
	if (p->kind == ING_POS_NONE)
		return ing_pos_copy(p, other);
	if (p->kind != other->kind)
		return FLOE_EINVALID;
	if (p->kind == ING_POS_CURSOR) {
		int c = strcmp(other->file, p->file);
		if (c > 0 || (c == 0 && other->off > p->off))
			return ing_pos_set_cursor(p, other->file, other->off);
		return 0;
	}
	for (int i = 0; i < other->nparts; i++) {
		const ing_part_off *o = &other->parts[i];
		if (o->next > ing_pos_part(p, o->partition)) {
			int rc = ing_pos_set_part(p, o->partition, o->next);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int ing_pos_format(const ing_pos *p, floe_buf *out)
{
	json_t *o = json_object();
	if (!o)
		return FLOE_ENOMEM;
	int rc = 0;
	if (p->kind == ING_POS_PARTS) {
		for (int i = 0; i < p->nparts && !rc; i++) {
			char k[16];
			snprintf(k, sizeof k, "%d", (int)p->parts[i].partition);
			rc = json_object_set_new(o, k, json_integer(p->parts[i].next));
		}
	} else if (p->kind == ING_POS_CURSOR) {
		rc = json_object_set_new(o, "file", json_string(p->file ? p->file : ""));
		if (!rc)
			rc = json_object_set_new(o, "offset", json_integer(p->off));
	}
	char *s = rc ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return FLOE_ENOMEM;
	floe_buf_clear(out);
	rc = floe_buf_append(out, s, strlen(s) + 1);
	if (!rc)
		out->len--; /* keep the terminating NUL out of the length */
	free(s);
	return rc;
}

int ing_pos_parse(ing_pos *p, const char *text, floe_error *err)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	ing_pos t;
	ing_pos_init(&t);
	int rc = 0;
	if (!o || !json_is_object(o)) {
		rc = floe_error_set(err, FLOE_ECORRUPT, "source position '%.80s' is not a JSON object",
		                    text);
		goto out;
	}
	json_t *file = json_object_get(o, "file");
	if (file) {
		json_t *off = json_object_get(o, "offset");
		if (!json_is_string(file) || !json_is_integer(off) || json_integer_value(off) < 0) {
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "source position '%.80s': want {\"file\":PATH,\"offset\":N}",
			                    text);
			goto out;
		}
		rc = ing_pos_set_cursor(&t, json_string_value(file), json_integer_value(off));
	} else {
		const char *k;
		json_t *v;
		t.kind = ING_POS_PARTS;
		json_object_foreach(o, k, v) {
			char *end;
			errno = 0;
			long part = strtol(k, &end, 10);
			if (!*k || *end || errno || part < 0 || part > INT32_MAX || !json_is_integer(v) ||
			    json_integer_value(v) < 0) {
				rc = floe_error_set(err, FLOE_ECORRUPT,
				                    "source position '%.80s': entry '%s' is not "
				                    "PARTITION: OFFSET", text, k);
				goto out;
			}
			if ((rc = ing_pos_set_part(&t, (int32_t)part, json_integer_value(v))))
				goto out;
		}
	}
out:
	json_decref(o);
	if (rc) {
		ing_pos_free(&t);
		return rc;
	}
	ing_pos_free(p);
	*p = t;
	return 0;
}

bool ing_pos_covers(const ing_pos *p, int32_t partition, const char *file, int64_t offset)
{
	if (p->kind == ING_POS_PARTS)
		return offset < ing_pos_part(p, partition);
	if (p->kind == ING_POS_CURSOR && file) {
		int c = strcmp(file, p->file);
		return c < 0 || (c == 0 && offset < p->off);
	}
	return false;
}
