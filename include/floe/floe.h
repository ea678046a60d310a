/* floe/floe.h - umbrella header: everything libfloe exports. */
#ifndef FLOE_FLOE_H
#define FLOE_FLOE_H

#define FLOE_VERSION "0.1.0"

#include "floe/error.h"
#include "floe/arena.h"
#include "floe/schema.h"
#include "floe/batch.h"
#include "floe/parquet.h"
#include "floe/avro.h"
#include "floe/catalog.h"
#include "floe/table.h"
#include "floe/ingest.h"
#include "floe/simulate.h"
#include "floe/expr.h"
#include "floe/window.h"
#include "floe/pipeline.h"
#include "floe/meta.h"
#include "floe/sql.h"

#endif
