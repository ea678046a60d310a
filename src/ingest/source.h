/* ingest/source.h - what the ingest runner reads from: a source hands out raw
 * records one at a time, each with the position it came from, and can start
 * again from a position the runner saved in a table's snapshot summary.
 * Implementations: files, directories and stdin (source_file.c), Kafka
 * (kafka.c). Internal to libfloe. */
#ifndef FLOE_INGEST_SOURCE_H
#define FLOE_INGEST_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/error.h"
#include "util/buf.h"

/* A position: where to go on from. Two shapes:
 *  - partitions (Kafka): next offset per partition number; a partition
 *    absent from the list starts at the source's default (earliest);
 *  - cursor (files): the next byte offset `off` of file `file`; every file
 *    that sorts before `file` (byte order of the absolute path) is done. */
typedef enum ing_pos_kind { ING_POS_NONE = 0, ING_POS_PARTS, ING_POS_CURSOR } ing_pos_kind;

typedef struct ing_part_off {
	int32_t partition;
	int64_t next; /* next offset to read */
} ing_part_off;

typedef struct ing_pos {
	ing_pos_kind kind;
	int nparts, cap;
	ing_part_off *parts; /* sorted by partition */
	char *file;          /* cursor: absolute path, malloc'ed */
	int64_t off;
} ing_pos;

void ing_pos_init(ing_pos *p);
void ing_pos_free(ing_pos *p);
int ing_pos_copy(ing_pos *dst, const ing_pos *src);
/* Partitions: set the next offset of `partition` (inserts it). */
int ing_pos_set_part(ing_pos *p, int32_t partition, int64_t next);
/* Next offset of `partition`, or -1 when the position does not name it. */
int64_t ing_pos_part(const ing_pos *p, int32_t partition);
/* Raise `p` to `other` wherever `other` is further on: per partition, or the
 * later cursor. Mixed kinds are FLOE_EINVALID. */
int ing_pos_max(ing_pos *p, const ing_pos *other);
/* Cursor: set file and offset. */
int ing_pos_set_cursor(ing_pos *p, const char *file, int64_t off);
/* Text form kept in snapshot summaries: partitions as a JSON object
 * {"0":123,"1":45}, a cursor as {"file":"/abs/path","offset":123}. */
int ing_pos_format(const ing_pos *p, floe_buf *out);
int ing_pos_parse(ing_pos *p, const char *text, floe_error *err);
/* True when the record at (partition, offset) or (file, offset) is before
 * the position, i.e. already consumed by whoever saved it. */
bool ing_pos_covers(const ing_pos *p, int32_t partition, const char *file, int64_t offset);

/* One record. Pointers are valid until the next poll or close. */
typedef struct ing_record {
	const char *data; /* payload bytes (a line without its newline, a message value) */
	size_t len;
	const char *key;  /* Kafka message key, or NULL */
	size_t key_len;
	int32_t partition; /* Kafka partition, -1 for files */
	int64_t offset;    /* Kafka offset, or byte offset of the record's first byte */
	const char *file;  /* files: absolute path (stable until close), NULL for Kafka */
	int64_t timestamp_ms; /* Kafka message timestamp, -1 if none */
	bool header;      /* files, CSV: the file's header row (not a record) */
	bool truncated;   /* files: the line exceeded the record size limit and
	                     `data` holds its start only (the runner rejects it) */
} ing_record;

enum {
	ING_POLL_RECORD = 1, /* *out holds a record */
	ING_POLL_IDLE = 0,   /* nothing arrived within the timeout; poll again */
	ING_POLL_END = 2     /* a bounded source reached its end (see bound) */
};

/* Longest record a file source hands out whole (16 MiB). */
#define ING_MAX_RECORD (16 << 20)

typedef struct ing_source ing_source;

typedef struct ing_source_ops {
	/* Start reading after `from` (NULL or ING_POS_NONE = from the beginning). */
	int (*start)(ing_source *s, const ing_pos *from, floe_error *err);
	/* Next record, waiting at most timeout_ms (0 = do not wait): returns
	 * ING_POLL_* or a negative FLOE_E* code. */
	int (*poll)(ing_source *s, ing_record *out, int timeout_ms, floe_error *err);
	/* The position after the last record polled (merged with `from`). */
	int (*position)(ing_source *s, ing_pos *out, floe_error *err);
	/* Called after a table commit that saved `pos` (Kafka: commit the group's
	 * offsets so lag tools see them). May be NULL. */
	int (*committed)(ing_source *s, const ing_pos *pos, floe_error *err);
	/* From now on end at what exists now (trigger once / available-now):
	 * poll returns ING_POLL_END once it is consumed. */
	int (*bound)(ing_source *s, floe_error *err);
	/* Records (Kafka) or bytes (files) not yet read, or -1 if unknown. */
	int64_t (*lag)(ing_source *s);
	void (*close)(ing_source *s);
} ing_source_ops;

struct ing_source {
	const ing_source_ops *ops;
	char id[256];    /* key of this source's position in snapshot summaries:
	                    "kafka:TOPIC", "files", "stdin" */
	char label[512]; /* for ingest metadata and messages: "kafka://host:port/topic", a dir, "-" */
};

/* Files: `paths` (files, or one directory: its files in name order, and
 * with `watch` the files that appear later), or stdin when npaths == 1 and
 * paths[0] is "-". Records are lines (NDJSON) or CSV rows (`csv`: quoted
 * newlines stay inside a row; every file's first row is handed out as its
 * header). Blank lines are skipped. Source id "files" (positions are
 * cursors over absolute paths) or "stdin" (positions count bytes of this
 * run's input; it cannot resume). */
int ing_source_files(ing_source **out, const char *const *paths, int npaths, bool watch,
                     bool csv, floe_error *err);

#endif
