/* pipeline/spec.c - a pipeline file (docs/pipelines.md) into pl_spec structs.
 * libyaml's events are composed into a small node tree (anchors shared,
 * merge keys resolved, nesting and alias expansion capped), which is then
 * read key by key; every mistake is FLOE_EINVALID "FILE:LINE:COL: ...".
 * Also the step order (pl_spec_order) and durations (pl_duration_parse).
 * Used by the runner (run.c, step.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "floe/catalog.h"
#include "pipeline/spec.h"

/* Limits on what a file may make us build: a pipeline is a few hundred
 * nodes; these stop "billion laughs" files (aliases of aliases) and deep
 * nesting long before memory or the stack is at risk. */
#define Y_MAX_NODES 100000              /* nodes, counted with aliases expanded */
#define Y_MAX_BYTES (16u << 20)         /* text, counted with aliases expanded */
#define Y_MAX_DEPTH 64                  /* nested sequences and mappings */
#define Y_MAX_FILE (16u << 20)          /* size of a pipeline file */
#define PL_WHERE 256                    /* "step X, op 2, derive:" for messages */

/* ---- small tools ------------------------------------------------------------ */

/* String -> pointer hash map in an arena (open addressing, FNV-1a). Values
 * are never NULL, so NULL from strmap_get means absent. */
typedef struct strmap {
	const char **keys;
	void **vals;
	size_t cap, n;
} strmap;

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void *strmap_get(const strmap *m, const char *k)
{
	if (!m->cap)
		return NULL;
	for (size_t i = str_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return NULL;
		if (strcmp(m->keys[i], k) == 0)
			return m->vals[i];
	}
}

static void strmap_insert(strmap *m, const char *k, void *v)
{
	size_t i = str_hash(k) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	if (!m->keys[i])
		m->n++;
	m->keys[i] = k;
	m->vals[i] = v;
}

/* Set k -> v (replacing). The key is not copied. -1 when out of memory. */
static int strmap_put(strmap *m, floe_arena *a, const char *k, void *v)
{
	if ((m->n + 1) * 2 > m->cap) {
		strmap g = { NULL, NULL, m->cap ? m->cap * 2 : 16, 0 };
		g.keys = floe_arena_calloc(a, g.cap, sizeof *g.keys);
		g.vals = floe_arena_calloc(a, g.cap, sizeof *g.vals);
		if (!g.keys || !g.vals)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				strmap_insert(&g, m->keys[i], m->vals[i]);
		*m = g;
	}
	strmap_insert(m, k, v);
	return 0;
}

/* ---- the node tree ------------------------------------------------------------
 * Scalars keep their text (copied into the caller's arena once, so aliases
 * share it). An alias becomes a shallow copy of the node it names, placed
 * where the alias is (errors point there); children stay shared. Mappings
 * hold their pairs after merge keys are resolved. */

typedef enum ykind { Y_SCALAR = 1, Y_SEQ, Y_MAP } ykind;

typedef struct ynode ynode;
typedef struct ypair {
	ynode *key, *value;
} ypair;

struct ynode {
	ykind kind;
	bool plain;              /* scalar: plain style without a tag */
	bool done;               /* complete: an alias may name it */
	int line, col;           /* 1-based */
	const char *text;        /* scalar, NUL-terminated (no NUL inside) */
	size_t len;
	ynode **items;           /* sequence */
	ypair *pairs;            /* mapping */
	int n;                   /* items or pairs */
	uint64_t wnodes, wbytes; /* size with aliases expanded (saturated) */
};

typedef struct yframe {
	ynode *node;
	ynode *key;              /* mapping: a key waiting for its value */
	void *v;                 /* ynode * or ypair elements being collected */
	int n, cap;
} yframe;

/* Positions of a step's or source's references, for the checks across
 * sections. */
typedef struct refpos {
	const ynode *name, *from, *to, *quarantine, *table;
} refpos;

typedef struct ld {
	const char *origin;      /* names the file in errors */
	const char *dir;         /* relative paths resolve here */
	floe_arena *out;         /* the caller's: everything pl_spec holds */
	floe_arena *tmp;         /* the tree; freed after loading */
	floe_error *err;         /* never NULL */
	yframe stack[Y_MAX_DEPTH];
	int depth;
	strmap anchors;
	uint64_t nodes;
	int ndocs;
	ynode *root;
} ld;

__attribute__((format(printf, 4, 5)))
static int fail(ld *L, int line, int col, const char *fmt, ...)
{
	char msg[FLOE_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return floe_error_set(L->err, FLOE_EINVALID, "%s:%d:%d: %s", L->origin, line, col, msg);
}

#define AT(node) (node)->line, (node)->col

static int oom(ld *L)
{
	return floe_error_set(L->err, FLOE_ENOMEM, "%s: out of memory loading the pipeline",
	                      L->origin);
}

static const char *kind_name(const ynode *n)
{
	return n->kind == Y_SCALAR ? "text" : n->kind == Y_SEQ ? "a list" : "a mapping";
}

/* A plain empty, ~ or null scalar: "no value". */
static bool is_null(const ynode *n)
{
	if (n->kind != Y_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	       strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

static uint64_t wadd(uint64_t a, uint64_t b, uint64_t cap)
{
	return a + b > cap ? cap + 1 : a + b; /* both <= cap + 1: no overflow */
}

/* Append one element of `size` bytes to a vector in the tmp arena. */
static int vpush(ld *L, yframe *f, const void *elem, size_t size)
{
	if (f->n == f->cap) {
		int nc = f->cap ? f->cap * 2 : 4;
		void *nv = floe_arena_alloc(L->tmp, (size_t)nc * size);
		if (!nv)
			return oom(L);
		if (f->n)
			memcpy(nv, f->v, (size_t)f->n * size);
		f->v = nv;
		f->cap = nc;
	}
	memcpy((char *)f->v + (size_t)f->n * size, elem, size);
	f->n++;
	return 0;
}

static int new_node(ld *L, ynode **out, ykind kind, int line, int col)
{
	if (++L->nodes > Y_MAX_NODES)
		return fail(L, line, col, "more than %d YAML nodes (a pipeline needs far fewer; is "
		            "this the right file?)", Y_MAX_NODES);
	ynode *n = floe_arena_calloc(L->tmp, 1, sizeof *n);
	if (!n)
		return oom(L);
	n->kind = kind;
	n->line = line;
	n->col = col;
	n->wnodes = 1;
	*out = n;
	return 0;
}

static int check_weight(ld *L, const ynode *n)
{
	if (n->wnodes > Y_MAX_NODES || n->wbytes > Y_MAX_BYTES)
		return fail(L, AT(n), "this expands to more than %d nodes or %u MiB of text once its "
		            "aliases are followed; write it out with fewer nested aliases",
		            Y_MAX_NODES, Y_MAX_BYTES >> 20);
	return 0;
}

static int register_anchor(ld *L, const yaml_char_t *anchor, ynode *n)
{
	if (!anchor)
		return 0;
	char *name = floe_arena_strdup(L->tmp, (const char *)anchor);
	if (!name || strmap_put(&L->anchors, L->tmp, name, n))
		return oom(L);
	return 0;
}

/* A complete node into its parent (or as the document's root). */
static int attach(ld *L, ynode *n)
{
	int rc = check_weight(L, n);
	if (rc)
		return rc;
	if (L->depth == 0) {
		L->root = n;
		return 0;
	}
	yframe *f = &L->stack[L->depth - 1];
	if (f->node->kind == Y_SEQ)
		return vpush(L, f, &n, sizeof n);
	if (!f->key) {
		f->key = n;
		return 0;
	}
	ypair p = { f->key, n };
	f->key = NULL;
	return vpush(L, f, &p, sizeof p);
}

static int on_scalar(ld *L, const yaml_event_t *ev, int line, int col)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(v, 0, len))
		return fail(L, line, col, "the text holds a NUL character (\\0); remove it");
	ynode *n;
	int rc = new_node(L, &n, Y_SCALAR, line, col);
	if (rc)
		return rc;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	           ev->data.scalar.plain_implicit;
	n->text = floe_arena_strndup(L->out, v, len);
	if (!n->text)
		return oom(L);
	n->len = len;
	n->wbytes = len;
	n->done = true;
	if ((rc = register_anchor(L, ev->data.scalar.anchor, n)))
		return rc;
	return attach(L, n);
}

static int on_alias(ld *L, const yaml_event_t *ev, int line, int col)
{
	const char *name = (const char *)ev->data.alias.anchor;
	ynode *target = strmap_get(&L->anchors, name);
	if (!target)
		return fail(L, line, col, "unknown alias *%.64s (define &%.64s before it is used)",
		            name, name);
	if (!target->done)
		return fail(L, line, col, "alias *%.64s is used inside the node it names (a node "
		            "cannot contain itself)", name);
	ynode *n;
	int rc = new_node(L, &n, target->kind, line, col);
	if (rc)
		return rc;
	*n = *target;
	n->line = line;
	n->col = col;
	return attach(L, n);
}

static int on_start(ld *L, ykind kind, const yaml_char_t *anchor, int line, int col)
{
	if (L->depth >= Y_MAX_DEPTH)
		return fail(L, line, col, "nesting deeper than %d levels; a pipeline needs a few",
		            Y_MAX_DEPTH);
	ynode *n;
	int rc = new_node(L, &n, kind, line, col);
	if (rc || (rc = register_anchor(L, anchor, n)))
		return rc;
	yframe *f = &L->stack[L->depth++];
	memset(f, 0, sizeof *f);
	f->node = n;
	return 0;
}

/* The pairs of a mapping with its merge keys (`<<: *a`, `<<: [*a, *b]`,
 * YAML 1.1 merge type) resolved: keys come in the order of first
 * appearance (the merged mappings in the order listed, then the local
 * keys); a local value overrides a merged one, an earlier merged mapping a
 * later one. Keys are text and unique among the local ones. */
static int finish_map(ld *L, yframe *f)
{
	ynode *m = f->node;
	ypair *lp = f->v;
	int ln = f->n;
	const ynode *merge = NULL;
	strmap seen = { 0 };
	for (int i = 0; i < ln; i++) {
		const ynode *k = lp[i].key;
		if (k->kind != Y_SCALAR)
			return fail(L, AT(k), "a key must be text, not %s", kind_name(k));
		if (k->len == 0)
			return fail(L, AT(k), "empty key (give it a name)");
		bool is_merge = k->plain && strcmp(k->text, "<<") == 0;
		if (is_merge && merge)
			return fail(L, AT(k), "a second merge key << (list the mappings in one: "
			            "<<: [*a, *b])");
		if (is_merge) {
			merge = lp[i].value;
			continue;
		}
		const ynode *first = strmap_get(&seen, k->text);
		if (first)
			return fail(L, AT(k), "duplicate key '%.64s' (first at line %d); keep one",
			            k->text, first->line);
		if (strmap_put(&seen, L->tmp, k->text, (void *)k))
			return oom(L);
	}
	ypair *pairs = lp;
	int np = 0;
	if (!merge) {
		np = ln;
	} else {
		const ynode *const *srcs = (const ynode *const *)&merge;
		int nsrc = 1;
		if (merge->kind == Y_SEQ) {
			srcs = (const ynode *const *)merge->items;
			nsrc = merge->n;
		}
		for (int s = 0; s < nsrc; s++)
			if (srcs[s]->kind != Y_MAP)
				return fail(L, AT(srcs[s]), "<< merges a mapping or a list of mappings "
				            "(<<: *a or <<: [*a, *b]), not %s", kind_name(srcs[s]));
		size_t cap = (size_t)ln;
		for (int s = 0; s < nsrc; s++)
			cap += (size_t)srcs[s]->n;
		pairs = floe_arena_calloc(L->tmp, cap + 1, sizeof *pairs);
		if (!pairs)
			return oom(L);
		strmap pos = { 0 }; /* key -> index + 1 in pairs */
		for (int s = 0; s < nsrc; s++)
			for (int i = 0; i < srcs[s]->n; i++) {
				const ypair *p = &srcs[s]->pairs[i];
				if (strmap_get(&pos, p->key->text))
					continue;
				pairs[np++] = *p;
				if (strmap_put(&pos, L->tmp, p->key->text, (void *)(intptr_t)np))
					return oom(L);
			}
		for (int i = 0; i < ln; i++) {
			if (lp[i].key->plain && strcmp(lp[i].key->text, "<<") == 0)
				continue;
			intptr_t at = (intptr_t)strmap_get(&pos, lp[i].key->text);
			if (at)
				pairs[at - 1] = lp[i];
			else
				pairs[np++] = lp[i];
		}
	}
	m->pairs = pairs;
	m->n = np;
	for (int i = 0; i < np; i++) {
		m->wnodes = wadd(m->wnodes, pairs[i].key->wnodes, Y_MAX_NODES);
		m->wnodes = wadd(m->wnodes, pairs[i].value->wnodes, Y_MAX_NODES);
		m->wbytes = wadd(m->wbytes, pairs[i].key->wbytes, Y_MAX_BYTES);
		m->wbytes = wadd(m->wbytes, pairs[i].value->wbytes, Y_MAX_BYTES);
	}
	return 0;
}

static int on_end(ld *L)
{
	yframe *f = &L->stack[L->depth - 1];
	ynode *n = f->node;
	int rc = 0;
	if (n->kind == Y_SEQ) {
		n->items = f->v;
		n->n = f->n;
		for (int i = 0; i < n->n; i++) {
			n->wnodes = wadd(n->wnodes, n->items[i]->wnodes, Y_MAX_NODES);
			n->wbytes = wadd(n->wbytes, n->items[i]->wbytes, Y_MAX_BYTES);
		}
	} else {
		rc = finish_map(L, f);
	}
	n->done = true;
	L->depth--;
	return rc ? rc : attach(L, n);
}

/* 1-based line and column of a byte offset (for libyaml's reader errors,
 * which give an offset only). */
static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			++*line;
			*col = 1;
		} else if (text[i] != '\r') {
			++*col;
		}
	}
}

static int yaml_fail(ld *L, const yaml_parser_t *p, const char *text, size_t len)
{
	if (p->error == YAML_MEMORY_ERROR)
		return oom(L);
	const char *what = p->problem ? p->problem : "malformed YAML";
	int line, col;
	if (p->error == YAML_READER_ERROR) {
		offset_pos(text, len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return fail(L, line, col, "not valid YAML text: %s (byte 0x%02x); save the file "
			            "as UTF-8", what, (unsigned)p->problem_value & 0xffu);
		return fail(L, line, col, "not valid YAML text: %s; save the file as UTF-8", what);
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		return fail(L, line, col, "invalid YAML: %s (%s at line %d:%d)", what, p->context,
		            (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	return fail(L, line, col, "invalid YAML: %s", what);
}

/* The text's events into L->root (NULL for an empty stream). */
static int compose(ld *L, const char *text, size_t len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return oom(L);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int rc = 0;
	bool end = false;
	while (!end && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_fail(L, &p, text, len);
			break;
		}
		int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++L->ndocs > 1)
				rc = fail(L, line, col, "a second YAML document starts here (a pipeline "
				          "file holds one: remove this ---)");
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(L, &ev, line, col);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(L, &ev, line, col);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(L, Y_SEQ, ev.data.sequence_start.anchor, line, col);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(L, Y_MAP, ev.data.mapping_start.anchor, line, col);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(L);
			break;
		case YAML_STREAM_END_EVENT:
			end = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- reading the tree -------------------------------------------------------- */

static const ypair *find(const ynode *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->pairs[i].key->text, key) == 0)
			return &m->pairs[i];
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static void join_list(const char *const *list, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; list[i]; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", list[i]);
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
}

/* Every key of mapping m is in `allowed`. */
static int check_keys(ld *L, const ynode *m, const char *const *allowed, const char *where)
{
	for (int i = 0; i < m->n; i++) {
		const ynode *k = m->pairs[i].key;
		if (!in_list(allowed, k->text)) {
			char list[256];
			join_list(allowed, list, sizeof list);
			return fail(L, AT(k), "unknown key '%.64s' in %s (allowed: %s)", k->text, where,
			            list);
		}
	}
	return 0;
}

/* The text of `key` in m: NULL when absent or null. `need` (a hint of what
 * it is) makes it required and non-empty; `at` is where a missing one is
 * reported. */
static int get_text(ld *L, const ynode *m, const char *key, const char *where, const ynode *at,
                    const char *need, const char **out, const ynode **node)
{
	const ypair *p = find(m, key);
	*out = NULL;
	if (node)
		*node = p ? p->value : NULL;
	if (p && p->value->kind != Y_SCALAR)
		return fail(L, AT(p->value), "%s: expected text for %s:, got %s", where, key,
		            kind_name(p->value));
	if (p && !is_null(p->value))
		*out = p->value->text;
	if (need && (!*out || !**out)) {
		if (p)
			return fail(L, AT(p->value), "%s: %s: needs a value (%s)", where, key, need);
		return fail(L, AT(at), "%s needs %s: (%s)", where, key, need);
	}
	return 0;
}

/* A value that is present and not null. */
static const ynode *get_node(const ynode *m, const char *key)
{
	const ypair *p = find(m, key);
	return p && !is_null(p->value) ? p->value : NULL;
}

static int check_name(ld *L, const ynode *k, const char *what)
{
	for (const char *c = k->text; *c; c++)
		if (!(*c == '_' || *c == '-' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z')))
			return fail(L, AT(k), "%s name '%.64s' may hold only letters, digits, _ and - "
			            "(rename it)", what, k->text);
	return 0;
}

static int check_table_name(ld *L, const ynode *at, const char *name, const char *where)
{
	floe_ident id;
	floe_error e;
	if (floe_ident_parse(&id, name, &e))
		return fail(L, AT(at), "%s: %s (write namespace.table, e.g. silver.trades)", where,
		            e.msg);
	return 0;
}

enum { KV_TEXT, KV_EXPR, KV_LIST };

/* A mapping of key: value into pl_kv in file order. KV_EXPR: values are
 * expressions (non-empty text, at least one entry); KV_TEXT: text as
 * written; KV_LIST: text or a list of text joined with ",". */
static int read_kv(ld *L, const ynode *n, const char *where, int mode, pl_kv **out, int *nout)
{
	*out = NULL;
	*nout = 0;
	if (n->kind != Y_MAP)
		return fail(L, AT(n), "%s: expected a mapping of %s, got %s", where,
		            mode == KV_EXPR ? "column: expression" : "key: value", kind_name(n));
	if (mode == KV_EXPR && n->n == 0)
		return fail(L, AT(n), "%s: needs at least one column: expression", where);
	pl_kv *kv = floe_arena_calloc(L->out, (size_t)n->n + 1, sizeof *kv);
	if (!kv)
		return oom(L);
	for (int i = 0; i < n->n; i++) {
		const ynode *k = n->pairs[i].key, *v = n->pairs[i].value;
		kv[i].key = k->text;
		kv[i].line = k->line;
		if (v->kind == Y_SCALAR) {
			if (mode == KV_EXPR && (is_null(v) || v->len == 0))
				return fail(L, AT(k), "%s: column %.64s has no expression (write "
				            "%.64s: EXPRESSION)", where, k->text, k->text);
			kv[i].value = v->text;
			continue;
		}
		if (mode != KV_LIST || v->kind != Y_SEQ) {
			if (mode == KV_EXPR)
				return fail(L, AT(v), "%s: expected a mapping of column: expression, but "
				            "%.64s holds %s", where, k->text, kind_name(v));
			return fail(L, AT(v), "%s: %.64s: expected text%s, got %s", where, k->text,
			            mode == KV_LIST ? " or a list of text" : "", kind_name(v));
		}
		size_t len = 1;
		for (int j = 0; j < v->n; j++) {
			if (v->items[j]->kind != Y_SCALAR)
				return fail(L, AT(v->items[j]), "%s: %.64s: expected a list of text, but an "
				            "item is %s", where, k->text, kind_name(v->items[j]));
			len += v->items[j]->len + 1;
		}
		char *s = floe_arena_alloc(L->out, len);
		if (!s)
			return oom(L);
		size_t at = 0;
		for (int j = 0; j < v->n; j++) {
			if (j)
				s[at++] = ',';
			memcpy(s + at, v->items[j]->text, v->items[j]->len);
			at += v->items[j]->len;
		}
		s[at] = '\0';
		kv[i].value = s;
	}
	*out = kv;
	*nout = n->n;
	return 0;
}

/* Column names: a list ([a, b]) or text split at commas ("a, b"). */
static int read_names(ld *L, const ynode *n, const char *where, const char ***out, int *nout)
{
	*out = NULL;
	*nout = 0;
	if (n->kind == Y_MAP)
		return fail(L, AT(n), "%s: expected a list of column names ([a, b] or \"a, b\"), got "
		            "a mapping", where);
	int cap = 1;
	if (n->kind == Y_SEQ)
		cap = n->n;
	else
		for (const char *c = n->text; *c; c++)
			cap += *c == ',';
	const char **v = floe_arena_calloc(L->out, (size_t)cap + 1, sizeof *v);
	if (!v)
		return oom(L);
	int k = 0;
	if (n->kind == Y_SEQ) {
		for (int i = 0; i < n->n; i++) {
			const ynode *it = n->items[i];
			if (it->kind != Y_SCALAR || is_null(it) || it->len == 0)
				return fail(L, AT(it), "%s: expected a list of column names, but an item is "
				            "%s", where, it->kind == Y_SCALAR ? "empty" : kind_name(it));
			v[k++] = it->text;
		}
	} else {
		const char *p = n->text;
		for (;;) {
			const char *e = strchr(p, ',');
			const char *end = e ? e : p + strlen(p);
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			const char *q = end;
			while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
				q--;
			if (q == p)
				return fail(L, AT(n), "%s: empty column name in '%.64s' (write a, b or "
				            "[a, b])", where, n->text);
			if (!(v[k++] = floe_arena_strndup(L->out, p, (size_t)(q - p))))
				return oom(L);
			if (!e)
				break;
			p = e + 1;
		}
	}
	*out = v;
	*nout = k;
	return 0;
}

/* Optional names of `key` in m. */
static int get_names(ld *L, const ynode *m, const char *key, const char *where,
                     const char ***out, int *nout)
{
	const ynode *v = get_node(m, key);
	*out = NULL;
	*nout = 0;
	if (!v)
		return 0;
	char w[PL_WHERE];
	snprintf(w, sizeof w, "%.200s, %s:", where, key);
	return read_names(L, v, w, out, nout);
}

/* Optional duration of `key` in m (0 when absent); `positive` rejects 0. */
static int get_duration(ld *L, const ynode *m, const char *key, const char *where,
                        bool positive, int64_t *us)
{
	const char *t;
	const ynode *v;
	*us = 0;
	int rc = get_text(L, m, key, where, NULL, NULL, &t, &v);
	if (rc || !t)
		return rc;
	if (pl_duration_parse(us, t))
		return fail(L, AT(v), "%s: %s: '%.64s' is not a duration (write a number and a unit: "
		            "250ms, 10s, 1m, 5 minutes, 1h, 1d)", where, key, t);
	if (positive && *us <= 0)
		return fail(L, AT(v), "%s: %s: must be longer than 0", where, key);
	return 0;
}

/* dir/path for a relative path; the path itself when absolute or the
 * folder is ".". */
static const char *resolve(ld *L, const char *path)
{
	if (path[0] == '/' || strcmp(L->dir, ".") == 0)
		return path;
	size_t dn = strlen(L->dir), pn = strlen(path);
	bool slash = dn && L->dir[dn - 1] == '/';
	char *s = floe_arena_alloc(L->out, dn + pn + 2);
	if (!s)
		return NULL;
	memcpy(s, L->dir, dn);
	if (!slash)
		s[dn++] = '/';
	memcpy(s + dn, path, pn + 1);
	return s;
}

/* ---- sources ------------------------------------------------------------------ */

static const char *const source_keys[] = { "table", "spec", "path", "kafka", "format",
	"properties", NULL };

/* The optional `properties:` mapping of a table or a source. */
static int read_props(ld *L, const ynode *m, const char *where, pl_kv **out, int *n)
{
	const ynode *props = get_node(m, "properties");
	if (!props)
		return 0;
	char pw[PL_WHERE];
	snprintf(pw, sizeof pw, "%.200s, properties:", where);
	return read_kv(L, props, pw, KV_TEXT, out, n);
}
static const char *const kafka_keys[] = { "brokers", "topic", "group", "conf", NULL };

static int read_source(ld *L, const ypair *pp, pl_source *s, refpos *rp)
{
	const ynode *k = pp->key, *m = pp->value;
	char where[PL_WHERE];
	snprintf(where, sizeof where, "source %.64s", k->text);
	s->name = k->text;
	s->line = k->line;
	rp->name = k;
	int rc = check_name(L, k, "source");
	if (rc)
		return rc;
	if (m->kind != Y_MAP)
		return fail(L, AT(m), "%s: expected a mapping {table, spec, path or kafka}, got %s",
		            where, kind_name(m));
	if ((rc = check_keys(L, m, source_keys, where)) ||
	    (rc = get_text(L, m, "table", where, k, "the Bronze table it feeds, namespace.table",
	                   &s->table, &rp->table)) ||
	    (rc = check_table_name(L, rp->table, s->table, where)) ||
	    (rc = get_text(L, m, "spec", where, k, "a built-in record spec such as trades, or a "
	                   "JSON spec file", &s->spec, NULL)) ||
	    (rc = get_text(L, m, "path", where, k, NULL, &s->path, NULL)) ||
	    (rc = get_text(L, m, "format", where, k, NULL, &s->format, NULL)))
		return rc;
	const ypair *kp = find(m, "kafka");
	if (s->path && kp)
		return fail(L, AT(kp->key), "%s has both path: and kafka: (keep one: files or a "
		            "Kafka topic)", where);
	if (!s->path && !kp)
		return fail(L, AT(k), "%s needs path: (a file or a folder of records) or kafka: "
		            "{brokers, topic}", where);
	if ((rc = read_props(L, m, where, &s->properties, &s->nproperties)))
		return rc;
	if (!s->format)
		s->format = "ndjson";
	else if (strcmp(s->format, "ndjson") != 0 && strcmp(s->format, "csv") != 0)
		return fail(L, AT(find(m, "format")->value), "%s: unknown format '%.64s' (ndjson or "
		            "csv)", where, s->format);
	size_t sl = strlen(s->spec);
	if (strchr(s->spec, '/') || (sl >= 5 && strcmp(s->spec + sl - 5, ".json") == 0))
		if (!(s->spec = resolve(L, s->spec)))
			return oom(L);
	if (s->path) {
		s->kind = PL_SRC_FILES;
		return (s->path = resolve(L, s->path)) ? 0 : oom(L);
	}
	s->kind = PL_SRC_KAFKA;
	const ynode *km = kp->value;
	char kw[PL_WHERE];
	snprintf(kw, sizeof kw, "kafka: of %.200s", where);
	if (km->kind != Y_MAP)
		return fail(L, AT(km), "%s: expected a mapping {brokers, topic, group, conf}, got %s",
		            kw, kind_name(km));
	if ((rc = check_keys(L, km, kafka_keys, kw)) ||
	    (rc = get_text(L, km, "brokers", kw, kp->key, "HOST:PORT[,HOST:PORT]", &s->brokers,
	                   NULL)) ||
	    (rc = get_text(L, km, "topic", kw, kp->key, "the topic to read", &s->topic, NULL)) ||
	    (rc = get_text(L, km, "group", kw, kp->key, NULL, &s->group, NULL)))
		return rc;
	const ynode *conf = get_node(km, "conf");
	if (conf) {
		char cw[PL_WHERE];
		snprintf(cw, sizeof cw, "%.200s, conf:", kw);
		rc = read_kv(L, conf, cw, KV_TEXT, &s->conf, &s->nconf);
	}
	return rc;
}

/* ---- tables ------------------------------------------------------------------- */

static const char *const table_keys[] = { "schema", "partition", "sort", "identifier",
	"properties", NULL };

static int read_table(ld *L, const ypair *pp, pl_table *t)
{
	const ynode *k = pp->key, *m = pp->value;
	char where[PL_WHERE];
	snprintf(where, sizeof where, "table %.64s", k->text);
	t->name = k->text;
	t->line = k->line;
	int rc = check_table_name(L, k, k->text, "tables:");
	if (rc)
		return rc;
	if (m->kind != Y_MAP)
		return fail(L, AT(m), "%s: expected a mapping {schema, partition, identifier, "
		            "properties}, got %s", where, kind_name(m));
	if ((rc = check_keys(L, m, table_keys, where)) ||
	    (rc = get_text(L, m, "schema", where, k, "its columns: \"id string not null, "
	                   "price double, ...\"", &t->schema, NULL)) ||
	    (rc = get_text(L, m, "partition", where, k, NULL, &t->partition, NULL)) ||
	    (rc = get_text(L, m, "sort", where, k, NULL, &t->sort, NULL)) ||
	    (rc = get_names(L, m, "identifier", where, &t->identifier, &t->nidentifier)))
		return rc;
	return read_props(L, m, where, &t->properties, &t->nproperties);
}

/* ---- steps -------------------------------------------------------------------- */

static const char *const transform_keys[] = { "from", "to", "quarantine", "ops", "dedup",
	"event_time", "late_horizon", NULL };
static const char *const aggregate_keys[] = { "from", "to", "window", "outputs", NULL };
static const char *const rolling_keys[] = { "from", "to", "rolling", "outputs", NULL };
static const char *const any_step_keys[] = { "from", "to", "quarantine", "ops", "dedup",
	"event_time", "late_horizon", "window", "rolling", "outputs", NULL };
static const char *const op_keys[] = { "filter", "derive", "select", "validate", NULL };
static const char *const rule_keys[] = { "rule", "reason", NULL };
static const char *const dedup_keys[] = { "key", "order", NULL };
static const char *const window_keys[] = { "time", "size", "slide", "keys", "order",
	"lateness", NULL };
static const char *const rolling_spec_keys[] = { "time", "keys", "order", NULL };

static int read_validate(ld *L, const ynode *v, const char *where, pl_op *op)
{
	if (v->kind != Y_SEQ)
		return fail(L, AT(v), "%s: validate: expected a list of {rule: EXPRESSION, reason: "
		            "TEXT}, got %s", where, kind_name(v));
	if (v->n == 0)
		return fail(L, AT(v), "%s: validate: needs at least one rule", where);
	op->rules = floe_arena_calloc(L->out, (size_t)v->n, sizeof *op->rules);
	if (!op->rules)
		return oom(L);
	op->nrules = v->n;
	char rw[PL_WHERE];
	snprintf(rw, sizeof rw, "%.200s, validate:", where);
	for (int i = 0; i < v->n; i++) {
		const ynode *r = v->items[i];
		pl_rule *ru = &op->rules[i];
		int rc;
		if (r->kind != Y_MAP)
			return fail(L, AT(r), "%s: expected {rule: EXPRESSION, reason: TEXT}, got %s", rw,
			            kind_name(r));
		if ((rc = check_keys(L, r, rule_keys, rw)) ||
		    (rc = get_text(L, r, "rule", rw, r, "a condition every good row meets",
		                   &ru->rule, NULL)) ||
		    (rc = get_text(L, r, "reason", rw, r, NULL, &ru->reason, NULL)))
			return rc;
		if (!ru->reason)
			ru->reason = ru->rule;
		ru->line = find(r, "rule")->key->line;
	}
	return 0;
}

static int read_ops(ld *L, const ynode *ops, const char *where, pl_step *s)
{
	if (ops->kind != Y_SEQ)
		return fail(L, AT(ops), "%s: ops: expected a list (- filter: ..., - derive: {...}, "
		            "- select: {...}, - validate: [...]), got %s", where, kind_name(ops));
	s->ops = floe_arena_calloc(L->out, (size_t)ops->n + 1, sizeof *s->ops);
	if (!s->ops)
		return oom(L);
	s->nops = ops->n;
	for (int i = 0; i < ops->n; i++) {
		const ynode *o = ops->items[i];
		pl_op *op = &s->ops[i];
		char ow[PL_WHERE];
		snprintf(ow, sizeof ow, "%.200s, op %d", where, i + 1);
		if (o->kind != Y_MAP || o->n != 1)
			return fail(L, AT(o), "%s: an op is a mapping with one key: filter, derive, "
			            "select or validate", ow);
		int rc = check_keys(L, o, op_keys, ow);
		if (rc)
			return rc;
		const ynode *k = o->pairs[0].key, *v = o->pairs[0].value;
		op->line = k->line;
		if (strcmp(k->text, "filter") == 0) {
			op->kind = PL_OP_FILTER;
			if (v->kind != Y_SCALAR)
				return fail(L, AT(v), "%s: filter: expected a condition (text), got %s", ow,
				            kind_name(v));
			if (is_null(v) || v->len == 0)
				return fail(L, AT(k), "%s: filter: needs a condition (filter: price > 0)", ow);
			op->expr = v->text;
		} else if (strcmp(k->text, "derive") == 0 || strcmp(k->text, "select") == 0) {
			op->kind = k->text[0] == 'd' ? PL_OP_DERIVE : PL_OP_SELECT;
			char dw[PL_WHERE];
			snprintf(dw, sizeof dw, "%.200s, %s:", ow, k->text);
			if ((rc = read_kv(L, v, dw, KV_EXPR, &op->cols, &op->ncols)))
				return rc;
		} else {
			op->kind = PL_OP_VALIDATE;
			if ((rc = read_validate(L, v, ow, op)))
				return rc;
		}
	}
	return 0;
}

static int read_transform(ld *L, const ynode *m, const char *where, pl_step *s, refpos *rp)
{
	int rc;
	if ((rc = get_text(L, m, "quarantine", where, NULL, NULL, &s->quarantine,
	                   &rp->quarantine)) ||
	    (s->quarantine && (rc = check_table_name(L, rp->quarantine, s->quarantine, where))) ||
	    (rc = get_text(L, m, "event_time", where, NULL, NULL, &s->event_time, NULL)) ||
	    (rc = get_duration(L, m, "late_horizon", where, false, &s->late_horizon_us)))
		return rc;
	if (s->late_horizon_us > 0 && !s->event_time)
		return fail(L, AT(find(m, "late_horizon")->key), "%s: late_horizon: needs "
		            "event_time: (the column the horizon is measured on)", where);
	const ynode *ops = get_node(m, "ops");
	if (ops && (rc = read_ops(L, ops, where, s)))
		return rc;
	const ynode *d = get_node(m, "dedup");
	if (!d)
		return 0;
	char dw[PL_WHERE];
	snprintf(dw, sizeof dw, "dedup: of %.200s", where);
	if (d->kind != Y_MAP)
		return fail(L, AT(d), "%s: expected a mapping {key: [columns], order: column}, got %s",
		            dw, kind_name(d));
	const ynode *key = get_node(d, "key");
	if ((rc = check_keys(L, d, dedup_keys, dw)))
		return rc;
	if (!key)
		return fail(L, AT(d), "%s needs key: (the columns that identify a row)", dw);
	if ((rc = read_names(L, key, dw, &s->dedup_key, &s->ndedup_key)))
		return rc;
	if (s->ndedup_key == 0)
		return fail(L, AT(key), "%s: key: needs at least one column", dw);
	return get_text(L, d, "order", dw, d, "the column whose greatest value wins among rows "
	                "with one key, e.g. event_time", &s->dedup_order, NULL);
}

/* window: or rolling: of an aggregate or rolling step, and its outputs. */
static int read_windowed(ld *L, const ynode *m, const char *where, pl_step *s)
{
	bool agg = s->kind == PL_STEP_AGGREGATE;
	const char *key = agg ? "window" : "rolling";
	const ynode *w = find(m, key)->value;
	char ww[PL_WHERE];
	snprintf(ww, sizeof ww, "%s: of %.200s", key, where);
	int rc;
	if (w->kind != Y_MAP)
		return fail(L, AT(w), "%s: expected a mapping {time, %skeys, order}, got %s", ww,
		            agg ? "size, slide, lateness, " : "", kind_name(w));
	if ((rc = check_keys(L, w, agg ? window_keys : rolling_spec_keys, ww)) ||
	    (rc = get_text(L, w, "time", ww, w, "the event-time column of the rows it reads",
	                   &s->time, NULL)) ||
	    (rc = get_names(L, w, "keys", ww, &s->keys, &s->nkeys)) ||
	    (rc = get_names(L, w, "order", ww, &s->order, &s->norder)))
		return rc;
	if (agg) {
		if ((rc = get_duration(L, w, "size", ww, true, &s->size_us)) ||
		    (rc = get_duration(L, w, "slide", ww, true, &s->slide_us)) ||
		    (rc = get_duration(L, w, "lateness", ww, false, &s->lateness_us)))
			return rc;
		if (!s->size_us)
			return fail(L, AT(w), "%s needs size: (the window's length: 1m, 5m, 1h, ...)", ww);
		if (s->slide_us && (s->slide_us > s->size_us || s->size_us % s->slide_us != 0))
			return fail(L, AT(find(w, "slide")->value), "%s: slide: must divide size: "
			            "(size a whole multiple of the slide, e.g. size: 5m, slide: 1m)", ww);
	}
	const ypair *op = find(m, "outputs");
	if (!op || is_null(op->value))
		return fail(L, AT(op ? op->key : find(m, key)->key), "%s needs outputs: (column: "
		            "expression for every output column)", where);
	char ow[PL_WHERE];
	snprintf(ow, sizeof ow, "%.200s, outputs:", where);
	return read_kv(L, op->value, ow, KV_EXPR, &s->outputs, &s->noutputs);
}

static int read_step(ld *L, const ypair *pp, pl_step *s, refpos *rp)
{
	const ynode *k = pp->key, *m = pp->value;
	char where[PL_WHERE];
	snprintf(where, sizeof where, "step %.64s", k->text);
	s->name = k->text;
	s->line = k->line;
	rp->name = k;
	int rc = check_name(L, k, "step");
	if (rc)
		return rc;
	if (m->kind != Y_MAP)
		return fail(L, AT(m), "%s: expected a mapping {from, to, ...}, got %s", where,
		            kind_name(m));
	const ypair *wp = find(m, "window"), *rl = find(m, "rolling");
	if (wp && rl)
		return fail(L, AT(rl->key), "%s has both window: and rolling: (an aggregate step has "
		            "window:, a rolling step rolling:; keep one)", where);
	s->kind = wp ? PL_STEP_AGGREGATE : rl ? PL_STEP_ROLLING : PL_STEP_TRANSFORM;
	const char *const *allowed = wp ? aggregate_keys : rl ? rolling_keys : transform_keys;
	for (int i = 0; i < m->n; i++) {
		const ynode *key = m->pairs[i].key;
		if (in_list(allowed, key->text))
			continue;
		char list[256];
		if (in_list(any_step_keys, key->text)) {
			join_list(allowed, list, sizeof list);
			return fail(L, AT(key), "%s: %s: does not belong in %s step (allowed: %s)", where,
			            key->text, wp ? "an aggregate (window:)" : rl ? "a rolling (rolling:)" :
			            "a transform", list);
		}
		join_list(any_step_keys, list, sizeof list);
		return fail(L, AT(key), "unknown key '%.64s' in %s (allowed: %s)", key->text, where,
		            list);
	}
	if ((rc = get_text(L, m, "from", where, k, "the table it reads", &s->from, &rp->from)) ||
	    (rc = check_table_name(L, rp->from, s->from, where)) ||
	    (rc = get_text(L, m, "to", where, k, "the table it writes, declared under tables:",
	                   &s->to, &rp->to)) ||
	    (rc = check_table_name(L, rp->to, s->to, where)))
		return rc;
	if (s->kind == PL_STEP_TRANSFORM)
		return read_transform(L, m, where, s, rp);
	return read_windowed(L, m, where, s);
}

/* ---- the file ----------------------------------------------------------------- */

static const char *const top_keys[] = { "name", "simulator", "sources", "tables", "steps",
	"upkeep", NULL };

static const char *const upkeep_keys[] = { "every", "compact", NULL };

/* upkeep: {every: DURATION, compact: true|false} */
static int read_upkeep(ld *L, const ynode *u, pl_spec *s)
{
	if (u->kind != Y_MAP)
		return fail(L, AT(u), "upkeep: expected a mapping {every: 10m, compact: true}, got %s",
		            kind_name(u));
	int rc = check_keys(L, u, upkeep_keys, "upkeep:");
	const char *c;
	const ynode *cn;
	if (rc || (rc = get_duration(L, u, "every", "upkeep", true, &s->upkeep_every_us)) ||
	    (rc = get_text(L, u, "compact", "upkeep", NULL, NULL, &c, &cn)))
		return rc;
	if (!s->upkeep_every_us)
		return fail(L, AT(u), "upkeep: needs every: (how often, e.g. every: 10m)");
	if (c && strcmp(c, "true") != 0 && strcmp(c, "false") != 0)
		return fail(L, AT(cn), "upkeep: compact: '%.64s' is not true or false", c);
	s->upkeep_compact = !c ? -1 : strcmp(c, "true") == 0;
	return 0;
}

/* A section (sources:, tables:, steps:): a mapping of NAME: {...}. */
static int section(ld *L, const ynode *root, const char *key, const char *what,
                   const ynode **out)
{
	*out = get_node(root, key);
	if (*out && (*out)->kind != Y_MAP)
		return fail(L, AT(*out), "%s: expected a mapping of %s, got %s", key, what,
		            kind_name(*out));
	return 0;
}

/* References between sections: sources feed distinct tables, steps write
 * declared tables (one writer each, never a source's table) and read a
 * declared table or a source's. */
static int link_refs(ld *L, pl_spec *s, const refpos *srp, const refpos *trp)
{
	strmap tables = { 0 }, fed = { 0 }, written = { 0 };
	for (int i = 0; i < s->ntables; i++)
		if (strmap_put(&tables, L->tmp, s->tables[i].name, &s->tables[i]))
			return oom(L);
	for (int i = 0; i < s->nsources; i++) {
		const pl_source *other = strmap_get(&fed, s->sources[i].table);
		if (other)
			return fail(L, AT(srp[i].table), "sources %.64s and %.64s both feed %.64s (one "
			            "source per Bronze table)", other->name, s->sources[i].name,
			            s->sources[i].table);
		if (strmap_put(&fed, L->tmp, s->sources[i].table, &s->sources[i]))
			return oom(L);
		const pl_table *t = strmap_get(&tables, s->sources[i].table);
		if (t)
			return fail(L, AT(srp[i].table), "source %s feeds %.64s, which is also declared "
			            "under tables: (a Bronze table takes its columns from the source's "
			            "spec: remove it from tables:)", s->sources[i].name, t->name);
	}
	for (int i = 0; i < s->nsteps; i++) {
		const pl_step *st = &s->steps[i];
		const refpos *rp = &trp[i];
		const pl_source *src = strmap_get(&fed, st->to);
		if (src)
			return fail(L, AT(rp->to), "step %s writes %s, which source %s feeds (a step "
			            "writes a table of its own, declared under tables:)", st->name,
			            st->to, src->name);
		if (!strmap_get(&tables, st->to))
			return fail(L, AT(rp->to), "step %s writes %.64s, which is not declared under "
			            "tables: (declare it with its schema)", st->name, st->to);
		const pl_step *other = strmap_get(&written, st->to);
		if (other)
			return fail(L, AT(rp->to), "steps %s and %s both write %.64s (one step per "
			            "target table)", other->name, st->name, st->to);
		if (strmap_put(&written, L->tmp, st->to, (void *)st))
			return oom(L);
		if (strcmp(st->from, st->to) == 0)
			return fail(L, AT(rp->from), "step %s reads the table it writes (%.64s); read "
			            "another table", st->name, st->from);
		if (!strmap_get(&tables, st->from) && !strmap_get(&fed, st->from))
			return fail(L, AT(rp->from), "step %s reads %.64s, which is neither declared "
			            "under tables: nor fed by a source", st->name, st->from);
		if (st->quarantine && (strcmp(st->quarantine, st->to) == 0 ||
		                       strcmp(st->quarantine, st->from) == 0))
			return fail(L, AT(rp->quarantine), "step %s: quarantine: must be a table of its "
			            "own, not the one it reads or writes", st->name);
	}
	/* A transform's quarantine (TO_rejected unless named) has one writer. */
	for (int i = 0; i < s->nsteps; i++) {
		const pl_step *st = &s->steps[i];
		if (st->kind != PL_STEP_TRANSFORM)
			continue;
		char def[640]; /* namespace.table (each part < 256) + "_rejected" */
		const char *q = st->quarantine;
		if (!q) {
			snprintf(def, sizeof def, "%s_rejected", st->to);
			q = def;
		}
		const ynode *at = st->quarantine ? trp[i].quarantine : trp[i].to;
		const pl_step *other = strmap_get(&written, q);
		const pl_source *src = strmap_get(&fed, q);
		if (other || src)
			return fail(L, AT(at), "step %s quarantines rejected rows in %.64s, which %s %s "
			            "%s%s (name another table with quarantine:)", st->name, q,
			            other ? "step" : "source", other ? other->name : src->name,
			            other ? "writes" : "feeds", st->quarantine ? "" : " (the default, TO_rejected)");
	}
	return 0;
}

static const char *base_name(ld *L, const char *origin)
{
	const char *b = strrchr(origin, '/');
	b = b ? b + 1 : origin;
	const char *dot = strrchr(b, '.');
	size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	return floe_arena_strndup(L->out, b, n);
}

static int read_spec(ld *L, pl_spec *s)
{
	const ynode *root = L->root;
	if (!root || is_null(root))
		return fail(L, 1, 1, "the file is empty (a pipeline is a mapping with sources:, "
		            "tables: and steps:; see docs/pipelines.md)");
	if (root->kind != Y_MAP)
		return fail(L, AT(root), "expected a mapping at the top (name:, simulator:, sources:, "
		            "tables:, steps:, upkeep:), got %s", kind_name(root));
	int rc = check_keys(L, root, top_keys, "the pipeline");
	if (rc || (rc = get_text(L, root, "name", "the pipeline", root, NULL, &s->name, NULL)))
		return rc;
	if (!s->name && !(s->name = base_name(L, L->origin)))
		return oom(L);
	const ynode *sim = get_node(root, "simulator"), *sources, *tables, *steps;
	if (sim && (rc = read_kv(L, sim, "simulator:", KV_LIST, &s->simulator, &s->nsimulator)))
		return rc;
	const ynode *upkeep = get_node(root, "upkeep");
	if (upkeep && (rc = read_upkeep(L, upkeep, s)))
		return rc;
	if ((rc = section(L, root, "sources", "source name: {table, spec, path or kafka}",
	                  &sources)) ||
	    (rc = section(L, root, "tables", "namespace.table: {schema, partition, identifier, "
	                  "properties}", &tables)) ||
	    (rc = section(L, root, "steps", "step name: {from, to, ...}", &steps)))
		return rc;
	refpos *srp = NULL, *trp = NULL;
	if (sources) {
		s->sources = floe_arena_calloc(L->out, (size_t)sources->n + 1, sizeof *s->sources);
		srp = floe_arena_calloc(L->tmp, (size_t)sources->n + 1, sizeof *srp);
		if (!s->sources || !srp)
			return oom(L);
		for (int i = 0; i < sources->n; i++, s->nsources++)
			if ((rc = read_source(L, &sources->pairs[i], &s->sources[i], &srp[i])))
				return rc;
	}
	if (tables) {
		s->tables = floe_arena_calloc(L->out, (size_t)tables->n + 1, sizeof *s->tables);
		if (!s->tables)
			return oom(L);
		for (int i = 0; i < tables->n; i++, s->ntables++)
			if ((rc = read_table(L, &tables->pairs[i], &s->tables[i])))
				return rc;
	}
	if (steps) {
		s->steps = floe_arena_calloc(L->out, (size_t)steps->n + 1, sizeof *s->steps);
		trp = floe_arena_calloc(L->tmp, (size_t)steps->n + 1, sizeof *trp);
		if (!s->steps || !trp)
			return oom(L);
		for (int i = 0; i < steps->n; i++, s->nsteps++)
			if ((rc = read_step(L, &steps->pairs[i], &s->steps[i], &trp[i])))
				return rc;
	}
	if (!s->nsources && !s->nsteps)
		return fail(L, AT(root), "the pipeline has no sources: and no steps: (nothing to run; "
		            "see docs/pipelines.md)");
	return link_refs(L, s, srp, trp);
}

int pl_spec_parse(pl_spec **out, const char *text, size_t len, const char *origin,
                  const char *dir, floe_arena *arena, floe_error *err)
{
	floe_error e = { 0 };
	ld L;
	memset(&L, 0, sizeof L);
	L.err = &e;
	L.out = arena;
	L.origin = origin ? origin : "<pipeline>";
	L.dir = dir && *dir ? dir : ".";
	*out = NULL;
	int rc;
	pl_spec *s = NULL;
	if (!(L.tmp = floe_arena_new(0)) || !(s = floe_arena_calloc(arena, 1, sizeof *s)) ||
	    !(s->path = floe_arena_strdup(arena, L.origin)) ||
	    !(s->dir = floe_arena_strdup(arena, L.dir))) {
		rc = oom(&L);
		goto done;
	}
	L.origin = s->path;
	L.dir = s->dir;
	s->upkeep_compact = -1;
	if (len > Y_MAX_FILE) {
		rc = fail(&L, 1, 1, "the file is larger than %u MiB; a pipeline is far smaller",
		          Y_MAX_FILE >> 20);
		goto done;
	}
	if ((rc = compose(&L, text, len)) || (rc = read_spec(&L, s)))
		goto done;
	*out = s;
done:
	floe_arena_free(L.tmp);
	if (rc && err)
		*err = e;
	return rc;
}

int pl_spec_load(pl_spec **out, const char *path, floe_arena *arena, floe_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return floe_error_set(err, FLOE_EIO, "cannot read pipeline file %s: %s (check the "
		                      "path)", path, strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *text = malloc(cap);
	int rc = 0;
	while (text) {
		size_t n = fread(text + len, 1, cap - len, f);
		len += n;
		if (len < cap)
			break;
		if (cap > Y_MAX_FILE) /* more than the limit: parse reports it */
			break;
		char *t = realloc(text, cap * 2);
		if (!t) {
			free(text);
			text = NULL;
			break;
		}
		text = t;
		cap *= 2;
	}
	if (!text)
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory reading %s", path);
	else if (ferror(f))
		rc = floe_error_set(err, FLOE_EIO, "cannot read pipeline file %s: %s (check the "
		                    "path)", path, strerror(errno));
	fclose(f);
	if (rc == 0) {
		char dir[4096];
		const char *slash = strrchr(path, '/');
		if (!slash)
			snprintf(dir, sizeof dir, ".");
		else if (slash == path)
			snprintf(dir, sizeof dir, "/");
		else
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		rc = pl_spec_parse(out, text, len, path, dir, arena, err);
	}
	free(text);
	return rc;
}

/* ---- durations ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int64_t us;
} units[] = {
	{ "us", 1 }, { "usec", 1 }, { "\xc2\xb5s", 1 }, { "microsecond", 1 },
	{ "microseconds", 1 },
	{ "ms", 1000 }, { "msec", 1000 }, { "millisecond", 1000 }, { "milliseconds", 1000 },
	{ "s", 1000000 }, { "sec", 1000000 }, { "secs", 1000000 }, { "second", 1000000 },
	{ "seconds", 1000000 },
	{ "m", 60000000 }, { "min", 60000000 }, { "mins", 60000000 }, { "minute", 60000000 },
	{ "minutes", 60000000 },
	{ "h", 3600000000 }, { "hr", 3600000000 }, { "hrs", 3600000000 },
	{ "hour", 3600000000 }, { "hours", 3600000000 },
	{ "d", 86400000000 }, { "day", 86400000000 }, { "days", 86400000000 },
};

/* "250ms", "10s", "1m", "5 minutes", "1.5h", "1h30m" (parts add up) and a
 * bare "0". Fractions must come out as whole microseconds. */
int pl_duration_parse(int64_t *us, const char *text)
{
	const char *p = text;
	int64_t total = 0;
	int parts = 0;
	*us = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p) {
		if (*p < '0' || *p > '9')
			return FLOE_EINVALID;
		int64_t ip = 0, fp = 0, scale = 1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (ip > (INT64_MAX - 9) / 10)
				return FLOE_EINVALID;
			ip = ip * 10 + (*p - '0');
		}
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return FLOE_EINVALID;
			for (; *p >= '0' && *p <= '9'; p++) {
				if (scale == 1000000)
					return FLOE_EINVALID; /* more than 6 decimals */
				fp = fp * 10 + (*p - '0');
				scale *= 10;
			}
		}
		while (*p == ' ' || *p == '\t')
			p++;
		const char *u = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80)
			p++;
		size_t un = (size_t)(p - u);
		int64_t mul = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == un && strncasecmp(units[i].name, u, un) == 0)
				mul = units[i].us;
		if (un == 0 && ip == 0 && fp == 0 && parts == 0 && !*p)
			return 0; /* a bare 0 */
		if (!mul)
			return FLOE_EINVALID;
		if ((fp * mul) % scale != 0)
			return FLOE_EINVALID; /* finer than a microsecond */
		int64_t frac = fp * mul / scale;
		if (ip > (INT64_MAX - frac) / mul || ip * mul + frac > INT64_MAX - total)
			return FLOE_EINVALID;
		total += ip * mul + frac;
		parts++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (!parts)
		return FLOE_EINVALID;
	*us = total;
	return 0;
}

/* ---- order and lookups ---------------------------------------------------------- */

/* Kahn's algorithm with the ready steps in a min-heap of file positions,
 * so independent steps keep the file's order. A step waits for every step
 * that writes the table it reads. */
static void heap_push(int *h, int *n, int v)
{
	int i = (*n)++;
	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static int heap_pop(int *h, int *n)
{
	int top = h[0], v = h[--*n], i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
	return top;
}

int pl_spec_order(const pl_spec *s, int *order, floe_error *err)
{
	int n = s->nsteps, rc = 0;
	floe_arena *a = floe_arena_new(0);
	/* writers[t] and readers[t]: steps as chains through next_w / next_r */
	strmap writers = { 0 }, readers = { 0 };
	int *next_w = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	int *next_r = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	int *indeg = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	int *heap = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	int *seen = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	int *via = a ? floe_arena_calloc(a, (size_t)n + 1, sizeof(int)) : NULL;
	if (!next_w || !next_r || !indeg || !heap || !seen || !via) {
		rc = floe_error_set(err, FLOE_ENOMEM, "out of memory ordering the pipeline's steps");
		goto done;
	}
	/* chains hold index + 1; built back to front so they run in file order */
	for (int i = n - 1; i >= 0; i--) {
		next_w[i] = (int)(intptr_t)strmap_get(&writers, s->steps[i].to);
		next_r[i] = (int)(intptr_t)strmap_get(&readers, s->steps[i].from);
		if (strmap_put(&writers, a, s->steps[i].to, (void *)(intptr_t)(i + 1)) ||
		    strmap_put(&readers, a, s->steps[i].from, (void *)(intptr_t)(i + 1))) {
			rc = floe_error_set(err, FLOE_ENOMEM, "out of memory ordering the pipeline's "
			                    "steps");
			goto done;
		}
	}
	int nh = 0, no = 0;
	for (int j = 0; j < n; j++) {
		for (int w = (int)(intptr_t)strmap_get(&writers, s->steps[j].from); w; w = next_w[w - 1])
			indeg[j]++;
		if (!indeg[j])
			heap_push(heap, &nh, j);
	}
	while (nh) {
		int i = heap_pop(heap, &nh);
		order[no++] = i;
		for (int r = (int)(intptr_t)strmap_get(&readers, s->steps[i].to); r; r = next_r[r - 1])
			if (--indeg[r - 1] == 0)
				heap_push(heap, &nh, r - 1);
	}
	if (no == n)
		goto done;
	/* A cycle: from a step left over, follow a left-over writer of the
	 * table each step reads (via[]) until a step repeats; that step is on
	 * the cycle. */
	int x = 0;
	while (!indeg[x])
		x++;
	while (!seen[x]) {
		seen[x] = 1;
		int w = (int)(intptr_t)strmap_get(&writers, s->steps[x].from);
		while (!indeg[w - 1])
			w = next_w[w - 1];
		via[x] = w - 1;
		x = w - 1;
	}
	int cyc[16], nc = 0; /* x, its writer, that one's writer, ... */
	for (int y = x; nc < 16; ) {
		cyc[nc++] = y;
		if ((y = via[y]) == x)
			break;
	}
	char names[320];
	size_t at = 0;
	names[0] = '\0';
	for (int i = nc; i >= 0 && at < sizeof names; i--) {
		int w = snprintf(names + at, sizeof names - at, "%s%s", i == nc ? "" : " -> ",
		                 s->steps[cyc[i == nc ? 0 : i]].name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	rc = floe_error_set(err, FLOE_EINVALID, "%s:%d:1: steps form a cycle: %s (each reads the "
	                    "table the one before it writes); a pipeline must flow one way",
	                    s->path ? s->path : "<pipeline>", s->steps[x].line, names);
done:
	floe_arena_free(a);
	return rc;
}

const pl_table *pl_spec_table(const pl_spec *s, const char *name)
{
	for (int i = 0; s && name && i < s->ntables; i++)
		if (strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	return NULL;
}

const pl_source *pl_spec_source_for(const pl_spec *s, const char *table)
{
	for (int i = 0; s && table && i < s->nsources; i++)
		if (strcmp(s->sources[i].table, table) == 0)
			return &s->sources[i];
	return NULL;
}
