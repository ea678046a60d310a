/* iceberg/deletes.h - row-level deletes at read time (spec "Scan
 * Planning", "Position Delete Files", "Equality Delete Files"): which
 * delete files apply to a data file (sequence numbers, partition scope,
 * global equality deletes), their contents loaded once per scan, and the
 * rows of a batch they delete. Internal. */
#ifndef FLOE_ICEBERG_DELETES_H
#define FLOE_ICEBERG_DELETES_H

#include <stdbool.h>
#include <stdint.h>

#include "floe/batch.h"
#include "iceberg/manifest.h"
#include "iceberg/table_int.h"

/* Field ids of the position delete file columns (spec, reserved ids). */
#define ICE_FIELD_DELETE_FILE_PATH 2147483546
#define ICE_FIELD_DELETE_POS 2147483545

typedef struct ice_deletes ice_deletes;

/* The delete files that apply to one data file, from ice_deletes_for_file
 * (valid while the index lives). */
typedef struct ice_file_deletes {
	const int64_t *pos;        /* deleted positions, sorted, distinct */
	int64_t npos;
	int neq;
	struct ice_eq_set **eq;    /* equality delete sets that apply (a key in
	                              one deletes when its sequence number there
	                              is above seq) */
	int64_t seq;               /* the data file's data sequence number */
} ice_file_deletes;

/* An empty index over table `t` (used for paths and errors). */
int ice_deletes_new(ice_deletes **out, const floe_table *t, floe_error *err);
void ice_deletes_free(ice_deletes *d);

/* Add a live delete entry (content 1 or 2) of `spec`; the entry must
 * outlive the index. Deletion vectors (Puffin) are FLOE_EUNSUPPORTED. */
int ice_deletes_add(ice_deletes *d, const ice_manifest_entry *e, const ice_partition_spec *spec,
                    floe_error *err);

/* Number of delete files added. */
int ice_deletes_count(const ice_deletes *d);

/* Whether delete file `idx` (in the order added) may apply to data file
 * `f` of data sequence number `seq` by the scope rules, without reading
 * it; and its entry. */
bool ice_deletes_may_apply(const ice_deletes *d, int idx, const ice_data_file *f, int64_t seq);
const ice_manifest_entry *ice_deletes_entry(const ice_deletes *d, int idx);

/* Data file `f` (data sequence number `seq`) is one the index will be
 * asked about: equality delete files that may apply to it will load only
 * the keys inside the union of the bounds of the files planned so
 * (integer, date, timestamp, string and binary key columns; a file without
 * bounds turns that off). Call it for every file to be read before the
 * first ice_deletes_for_file; a file asked about later whose bounds lie
 * outside has the keys loaded again, all of them. */
void ice_deletes_plan(ice_deletes *d, const ice_data_file *f, int64_t seq);

/* Keys the loaded equality delete files hold in memory (a set shared by
 * global files counted once). */
int64_t ice_deletes_keys(const ice_deletes *d);

/* Every equality field id of the added files, distinct, into ids[0..cap);
 * returns the count (may exceed cap). */
int ice_deletes_equality_ids(const ice_deletes *d, int32_t *ids, int cap);

/* The deletes that apply to data file `f` (data sequence number `seq`, of
 * `spec`), loading delete files on first use. Equality values are compared
 * as `schema`'s types of their field ids (the scan's columns, widened). */
int ice_deletes_for_file(ice_deletes *d, const ice_data_file *f, int64_t seq,
                         const ice_partition_spec *spec, const floe_schema *schema,
                         ice_file_deletes *out, floe_error *err);

/* Clear keep[r] for each row r of `b` (whose columns are described by
 * b->schema, with field ids) that `fd` deletes; rows are at positions
 * first_pos.. of their file (ignored when fd has no positions). Adds the
 * number of rows newly cleared to *ndeleted. */
int ice_deletes_apply(const ice_file_deletes *fd, const floe_batch *b, int64_t first_pos,
                      uint8_t *keep, int64_t *ndeleted, floe_error *err);

/* Serialized key of row `r` over columns cols[0..n) (into k, cleared
 * first): per column a null flag, then the fixed-width bytes, or a 4-byte
 * length and the bytes. Equal keys <=> equal values of equal types. */
int ice_key_of(floe_buf *k, const floe_column *const *cols, int n, int64_t r);

/* The keys (ice_key_of's form) of rows [r0, r1) over cols[0..n), appended
 * to out: key i at koff[i]..koff[i + 1] (koff has r1 - r0 + 1 entries),
 * its hash (the same for equal keys, whatever their rows) at hs[i]. */
int ice_keys_of(floe_buf *out, size_t *koff, uint64_t *hs, const floe_column *const *cols,
                int n, int64_t r0, int64_t r1);

/* A Bloom filter over key hashes (ice_keys_of's) for lookups that mostly
 * miss: two bits of one 64-bit word per key, 8 to 16 bits a key. A row
 * whose key a set of 100,000 lacks is then mostly turned away by one load
 * from 100-200 KiB, which the caches hold, instead of a probe of the
 * set's slots, which they do not. */
typedef struct ice_keyfilter {
	uint64_t *w;             /* NULL: every key may be there */
	uint64_t mask;           /* words - 1 */
} ice_keyfilter;

/* Room for nkeys keys, none added yet; FLOE_ENOMEM. */
int ice_keyfilter_init(ice_keyfilter *f, size_t nkeys);
void ice_keyfilter_free(ice_keyfilter *f);

static inline uint64_t ice_keyfilter_bits(uint64_t h)
{
	return (uint64_t)1 << ((h >> 20) & 63) | (uint64_t)1 << ((h >> 26) & 63);
}

static inline void ice_keyfilter_add(ice_keyfilter *f, uint64_t h)
{
	if (f->w)
		f->w[(h >> 32) & f->mask] |= ice_keyfilter_bits(h);
}

/* False only when no key of hash h was added. */
static inline bool ice_keyfilter_maybe(const ice_keyfilter *f, uint64_t h)
{
	if (!f->w)
		return true;
	uint64_t b = ice_keyfilter_bits(h);
	return (f->w[(h >> 32) & f->mask] & b) == b;
}

/* True when the two partition tuples are equal (spec note 3: floats by
 * bits). */
bool ice_partition_equal(const ice_datum *a, int na, const ice_datum *b, int nb);

#endif
