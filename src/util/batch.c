/* util/batch.c - floe_batch_builder: builds Arrow-layout batches value by
 * value (floe/batch.h). Used by text loaders, generators and tests. */
#include <stdlib.h>
#include <string.h>

#include "floe/batch.h"
#include "util/buf.h"

typedef struct bld_col {
	floe_buf values;   /* fixed-width values */
	floe_buf offsets;  /* int64 offsets, count + 1 of them (variable) */
	floe_buf data;     /* variable-width bytes */
	floe_buf validity; /* empty until the first NULL */
	int64_t count;     /* values appended to this column */
	int64_t nulls;
	int width;         /* floe_type_value_width */
	bool variable;
} bld_col;

struct floe_batch_builder {
	const floe_schema *schema;
	bld_col *cols;
	floe_column *view_cols;
	floe_batch view;
};

static int put_first_offset(bld_col *c)
{
	floe_buf_clear(&c->offsets);
	return floe_buf_append(&c->offsets, &(int64_t){ 0 }, sizeof(int64_t));
}

int floe_batch_builder_new(floe_batch_builder **out, const floe_schema *schema,
                           floe_error *err)
{
	*out = NULL;
	if (!schema || schema->nfields < 0)
		return floe_error_set(err, FLOE_EINVALID, "batch builder: missing schema");
	floe_batch_builder *bld = calloc(1, sizeof *bld);
	size_t n = schema->nfields > 0 ? (size_t)schema->nfields : 1;
	if (!bld)
		goto nomem;
	bld->schema = schema;
	bld->cols = calloc(n, sizeof *bld->cols);
	bld->view_cols = calloc(n, sizeof *bld->view_cols);
	if (!bld->cols || !bld->view_cols)
		goto nomem;
	for (int i = 0; i < schema->nfields; i++) {
		bld_col *c = &bld->cols[i];
		c->variable = floe_type_is_variable(&schema->fields[i].type);
		c->width = floe_type_value_width(&schema->fields[i].type);
		if (!c->variable && c->width <= 0) {
			floe_batch_builder_free(bld);
			return floe_error_set(err, FLOE_EINVALID,
			                      "batch builder: column '%s' has no storage width",
			                      schema->fields[i].name ? schema->fields[i].name : "?");
		}
		if (c->variable && put_first_offset(c) != 0)
			goto nomem;
	}
	*out = bld;
	return 0;
nomem:
	floe_batch_builder_free(bld);
	return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
}

void floe_batch_builder_free(floe_batch_builder *bld)
{
	if (!bld)
		return;
	if (bld->cols) {
		for (int i = 0; i < bld->schema->nfields; i++) {
			floe_buf_free(&bld->cols[i].values);
			floe_buf_free(&bld->cols[i].offsets);
			floe_buf_free(&bld->cols[i].data);
			floe_buf_free(&bld->cols[i].validity);
		}
	}
	free(bld->cols);
	free(bld->view_cols);
	free(bld);
}

/* Column `col` checked: its index is in range. */
static int check_col(floe_batch_builder *bld, int col, floe_error *err)
{
	if (!bld || col < 0 || col >= bld->schema->nfields)
		return floe_error_set(err, FLOE_EINVALID, "batch builder: no column %d", col);
	return 0;
}

static int wrong_kind(floe_batch_builder *bld, int col, const char *kind, floe_error *err)
{
	char tb[48];
	const floe_field *f = &bld->schema->fields[col];
	return floe_error_set(err, FLOE_EINVALID,
	                      "batch builder: column '%s' of type %s does not take %s values",
	                      f->name ? f->name : "?", floe_type_format(&f->type, tb, sizeof tb),
	                      kind);
}

/* Record validity `valid` for the value about to be appended at c->count. */
static int set_valid(bld_col *c, bool valid)
{
	size_t need = (size_t)(c->count / 8) + 1;
	if (c->validity.data == NULL && valid)
		return 0; /* no NULL yet: the bitmap stays absent */
	if (c->validity.len < need) {
		size_t add = need - c->validity.len;
		/* bytes before the first NULL are all valid; later bytes start 0 */
		bool fresh = c->validity.data == NULL;
		if (floe_buf_reserve(&c->validity, add) != 0)
			return FLOE_ENOMEM;
		uint8_t *p = floe_buf_extend(&c->validity, add);
		memset(p, fresh ? 0xff : 0x00, add);
		if (fresh) {
			/* bits from count on are set as values arrive */
			uint8_t *last = &c->validity.data[c->validity.len - 1];
			int keep = (int)(c->count & 7);
			if ((size_t)(c->count / 8) == c->validity.len - 1)
				*last = (uint8_t)((1u << keep) - 1);
		}
	}
	floe_bitmap_set(c->validity.data, c->count, valid);
	return 0;
}

static int push_fixed(floe_batch_builder *bld, int col, const void *p, size_t n,
                      floe_error *err)
{
	bld_col *c = &bld->cols[col];
	if (set_valid(c, true) != 0 || floe_buf_append(&c->values, p, n) != 0)
		return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
	c->count++;
	return 0;
}

int floe_batch_builder_null(floe_batch_builder *bld, int col, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	const floe_field *f = &bld->schema->fields[col];
	if (f->required)
		return floe_error_set(err, FLOE_EINVALID,
		                      "batch builder: NULL in required column '%s'",
		                      f->name ? f->name : "?");
	bld_col *c = &bld->cols[col];
	if (set_valid(c, false) != 0)
		goto nomem;
	if (c->variable) {
		int64_t off = (int64_t)c->data.len;
		if (floe_buf_append(&c->offsets, &off, sizeof off) != 0)
			goto nomem;
	} else {
		if (floe_buf_reserve(&c->values, (size_t)c->width) != 0)
			goto nomem;
		memset(floe_buf_extend(&c->values, (size_t)c->width), 0, (size_t)c->width);
	}
	c->count++;
	c->nulls++;
	return 0;
nomem:
	return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
}

int floe_batch_builder_bool(floe_batch_builder *bld, int col, bool v, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	if (bld->schema->fields[col].type.id != FLOE_TYPE_BOOLEAN)
		return wrong_kind(bld, col, "boolean", err);
	uint8_t b = v ? 1 : 0;
	return push_fixed(bld, col, &b, 1, err);
}

int floe_batch_builder_i32(floe_batch_builder *bld, int col, int32_t v, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	floe_type_id id = bld->schema->fields[col].type.id;
	if (id != FLOE_TYPE_INT && id != FLOE_TYPE_DATE)
		return wrong_kind(bld, col, "int32", err);
	return push_fixed(bld, col, &v, sizeof v, err);
}

int floe_batch_builder_i64(floe_batch_builder *bld, int col, int64_t v, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	const floe_type *t = &bld->schema->fields[col].type;
	switch (t->id) {
	case FLOE_TYPE_LONG:
	case FLOE_TYPE_TIME:
	case FLOE_TYPE_TIMESTAMP:
	case FLOE_TYPE_TIMESTAMPTZ:
	case FLOE_TYPE_TIMESTAMP_NS:
	case FLOE_TYPE_TIMESTAMPTZ_NS:
		break;
	case FLOE_TYPE_DECIMAL:
		if (t->precision <= 18)
			break;
		return wrong_kind(bld, col, "int64", err);
	default:
		return wrong_kind(bld, col, "int64", err);
	}
	return push_fixed(bld, col, &v, sizeof v, err);
}

int floe_batch_builder_f32(floe_batch_builder *bld, int col, float v, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	if (bld->schema->fields[col].type.id != FLOE_TYPE_FLOAT)
		return wrong_kind(bld, col, "float", err);
	return push_fixed(bld, col, &v, sizeof v, err);
}

int floe_batch_builder_f64(floe_batch_builder *bld, int col, double v, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	if (bld->schema->fields[col].type.id != FLOE_TYPE_DOUBLE)
		return wrong_kind(bld, col, "double", err);
	return push_fixed(bld, col, &v, sizeof v, err);
}

int floe_batch_builder_bytes(floe_batch_builder *bld, int col, const void *p,
                             int64_t n, floe_error *err)
{
	int rc = check_col(bld, col, err);
	if (rc)
		return rc;
	if (n < 0 || (n > 0 && !p))
		return floe_error_set(err, FLOE_EINVALID, "batch builder: bad byte length %lld",
		                      (long long)n);
	bld_col *c = &bld->cols[col];
	if (!c->variable) {
		const floe_type *t = &bld->schema->fields[col].type;
		bool fixed_bytes = t->id == FLOE_TYPE_UUID || t->id == FLOE_TYPE_FIXED ||
		                   (t->id == FLOE_TYPE_DECIMAL && t->precision > 18);
		if (!fixed_bytes)
			return wrong_kind(bld, col, "byte", err);
		if (n != c->width)
			return floe_error_set(err, FLOE_EINVALID,
			                      "batch builder: column '%s' takes %d-byte values, got %lld",
			                      bld->schema->fields[col].name, c->width, (long long)n);
		return push_fixed(bld, col, p, (size_t)n, err);
	}
	if ((uint64_t)n > SIZE_MAX - c->data.len)
		return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
	if (set_valid(c, true) != 0 || floe_buf_append(&c->data, p, (size_t)n) != 0)
		return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
	int64_t off = (int64_t)c->data.len;
	if (floe_buf_append(&c->offsets, &off, sizeof off) != 0) {
		c->data.len -= (size_t)n;
		return floe_error_set(err, FLOE_ENOMEM, "batch builder: out of memory");
	}
	c->count++;
	return 0;
}

int64_t floe_batch_builder_rows(const floe_batch_builder *bld)
{
	if (!bld || bld->schema->nfields == 0)
		return 0;
	int64_t rows = bld->cols[0].count;
	for (int i = 1; i < bld->schema->nfields; i++)
		if (bld->cols[i].count < rows)
			rows = bld->cols[i].count;
	return rows;
}

int64_t floe_batch_builder_bytes_used(const floe_batch_builder *bld)
{
	int64_t total = 0;
	if (!bld)
		return 0;
	for (int i = 0; i < bld->schema->nfields; i++) {
		const bld_col *c = &bld->cols[i];
		total += (int64_t)(c->values.len + c->offsets.len + c->data.len + c->validity.len);
	}
	return total;
}

const floe_batch *floe_batch_builder_view(floe_batch_builder *bld)
{
	int64_t rows = floe_batch_builder_rows(bld);
	for (int i = 0; i < bld->schema->nfields; i++) {
		bld_col *c = &bld->cols[i];
		floe_column *vc = &bld->view_cols[i];
		memset(vc, 0, sizeof *vc);
		vc->type = bld->schema->fields[i].type;
		vc->validity = c->validity.data;
		if (c->validity.data) {
			/* count NULLs among the complete rows only */
			int64_t nulls = 0;
			for (int64_t r = 0; r < rows; r++)
				if (!((c->validity.data[r >> 3] >> (r & 7)) & 1))
					nulls++;
			vc->null_count = nulls;
		}
		if (c->variable) {
			vc->offsets = (int64_t *)(void *)c->offsets.data;
			vc->data = c->data.data ? c->data.data : (uint8_t *)"";
		} else {
			vc->values = c->values.data;
		}
	}
	bld->view.nrows = rows;
	bld->view.ncols = bld->schema->nfields;
	bld->view.cols = bld->view_cols;
	bld->view.schema = bld->schema;
	return &bld->view;
}

void floe_batch_builder_clear(floe_batch_builder *bld)
{
	if (!bld)
		return;
	for (int i = 0; i < bld->schema->nfields; i++) {
		bld_col *c = &bld->cols[i];
		floe_buf_clear(&c->values);
		floe_buf_clear(&c->data);
		/* the bitmap goes back to absent: free it so the next NULL
		 * recreates it (keeps "NULL validity = all valid") */
		floe_buf_free(&c->validity);
		if (c->variable)
			put_first_offset(c); /* cannot fail: capacity kept */
		c->count = 0;
		c->nulls = 0;
	}
}
