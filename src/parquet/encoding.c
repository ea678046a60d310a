/* parquet/encoding.c - Parquet value and level encodings (parquet/encoding.h),
 * following apache/parquet-format Encodings.md. Used by the page reader and
 * the page writer. Every decoder treats its source as hostile. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "parquet/encoding.h"

/* Cap on the bytes DELTA_BYTE_ARRAY may reconstruct for one page: prefixes
 * cost almost nothing to encode, so without a cap a tiny page could ask for
 * terabytes. */
#define PQ_DBA_MAX_OUTPUT ((size_t)1 << 30)

int pq_bit_width(uint64_t max)
{
	return max ? 64 - __builtin_clzll(max) : 0;
}

static inline uint64_t mask64(int w)
{
	return w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
}

/* ULEB128 varint (Encodings.md "ULEB128"): 7 bits a byte, low group first,
 * high bit = more. At most 10 bytes; the 10th may only hold bit 63. */
static int read_uvarint(uint64_t *out, const uint8_t *src, size_t n, size_t *pos)
{
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		if (*pos >= n)
			return -1;
		uint8_t b = src[(*pos)++];
		if (i == 9 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* ---- LSB-first bit unpacking (the hot loops) ----------------------------
 *
 * Value i of width w occupies bits [i*w, i*w + w) of the little-endian bit
 * stream src[0..avail). The caller guarantees that every requested value
 * lies inside avail. Where 8 bytes (9 for widths above 56) can be loaded
 * the value comes from one unaligned 64-bit load; the tail is read byte by
 * byte so nothing past src + avail is touched. */

static inline uint64_t read_bits_slow(const uint8_t *src, uint64_t bit, int w)
{
	size_t byte = (size_t)(bit >> 3);
	int sh = (int)(bit & 7);
	uint64_t v = 0;
	int got = 0;
	while (got < w) {
		v |= (uint64_t)(src[byte++] >> sh) << got;
		got += 8 - sh;
		sh = 0;
	}
	return v & mask64(w);
}

/* Unpack values first..first+count of width w (1..32) into out. */
static void unpack32(uint32_t *restrict out, size_t count, const uint8_t *restrict src, size_t avail,
                     size_t first, int w)
{
	const uint64_t m = mask64(w);
	uint64_t bit = (uint64_t)first * (uint64_t)w;
	size_t i = 0;
	/* fast path: 8 values per step, each from one 64-bit load; the last
	 * value of the step starts at bit + 7w and needs 8 bytes from there */
	while (i + 8 <= count) {
		uint64_t last = bit + 7 * (uint64_t)w;
		if ((last >> 3) + 8 > avail)
			break;
		const uint8_t *p = src;
		for (int k = 0; k < 8; k++) {
			uint64_t b = bit + (uint64_t)k * (uint64_t)w;
			out[i + (size_t)k] = (uint32_t)((floe_load_u64le(p + (b >> 3)) >> (b & 7)) & m);
		}
		i += 8;
		bit += 8 * (uint64_t)w;
	}
	for (; i < count; i++, bit += (uint64_t)w) {
		if ((bit >> 3) + 8 <= avail)
			out[i] = (uint32_t)((floe_load_u64le(src + (bit >> 3)) >> (bit & 7)) & m);
		else
			out[i] = (uint32_t)read_bits_slow(src, bit, w);
	}
}

/* Same for widths 1..64 into 64-bit output. */
static void unpack64(uint64_t *restrict out, size_t count, const uint8_t *restrict src, size_t avail,
                     size_t first, int w)
{
	const uint64_t m = mask64(w);
	uint64_t bit = (uint64_t)first * (uint64_t)w;
	size_t i = 0;
	if (w <= 56) {
		while (i + 8 <= count) {
			uint64_t last = bit + 7 * (uint64_t)w;
			if ((last >> 3) + 8 > avail)
				break;
			for (int k = 0; k < 8; k++) {
				uint64_t b = bit + (uint64_t)k * (uint64_t)w;
				out[i + (size_t)k] = (floe_load_u64le(src + (b >> 3)) >> (b & 7)) & m;
			}
			i += 8;
			bit += 8 * (uint64_t)w;
		}
		for (; i < count; i++, bit += (uint64_t)w) {
			if ((bit >> 3) + 8 <= avail)
				out[i] = (floe_load_u64le(src + (bit >> 3)) >> (bit & 7)) & m;
			else
				out[i] = read_bits_slow(src, bit, w);
		}
		return;
	}
	/* widths 57..64 may straddle nine bytes */
	for (; i < count; i++, bit += (uint64_t)w) {
		size_t byte = (size_t)(bit >> 3);
		int sh = (int)(bit & 7);
		if (byte + 9 <= avail) {
			uint64_t v = floe_load_u64le(src + byte) >> sh;
			if (sh)
				v |= (uint64_t)src[byte + 8] << (64 - sh);
			out[i] = v & m;
		} else {
			out[i] = read_bits_slow(src, bit, w);
		}
	}
}

/* Pack count values (already < 2^w) LSB first into dst, zero padded to
 * the byte holding the last bit. */
static int pack_lsb(floe_buf *dst, const uint64_t *vals, size_t count, int w)
{
	size_t bytes = (size_t)(((uint64_t)count * (uint64_t)w + 7) / 8);
	if (bytes == 0)
		return 0;
	uint8_t *out = floe_buf_extend(dst, bytes);
	if (!out)
		return FLOE_ENOMEM;
	if (w <= 32) {
		/* a 64-bit accumulator, written out 4 bytes at a time as it fills */
		uint64_t acc = 0, m = mask64(w);
		int nbits = 0;
		size_t k = 0;
		for (size_t i = 0; i < count; i++) {
			acc |= (vals[i] & m) << nbits;
			nbits += w;
			if (nbits >= 32) {
				uint32_t word = (uint32_t)acc; /* little-endian hosts only */
				memcpy(out + k, &word, 4);
				k += 4;
				acc >>= 32;
				nbits -= 32;
			}
		}
		for (; nbits > 0; nbits -= 8, acc >>= 8)
			out[k++] = (uint8_t)acc;
		return 0;
	}
	memset(out, 0, bytes);
	uint64_t bit = 0;
	for (size_t i = 0; i < count; i++, bit += (uint64_t)w) {
		uint64_t v = vals[i] & mask64(w);
		size_t byte = (size_t)(bit >> 3);
		int sh = (int)(bit & 7);
		out[byte] |= (uint8_t)(v << sh);
		for (int done = 8 - sh; done < w; done += 8)
			out[++byte] |= (uint8_t)(v >> done);
	}
	return 0;
}

/* ---- RLE / bit-packed hybrid (Encodings.md "Run Length Encoding / Bit-Packing Hybrid")
 *
 *   run := header:uleb128 body
 *   header & 1 == 0: RLE run of (header >> 1) copies of one value stored in
 *                    ceil(bit_width / 8) little-endian bytes
 *   header & 1 == 1: (header >> 1) groups of 8 values, bit-packed LSB first,
 *                    (header >> 1) * bit_width bytes; the last group may be
 *                    cut short at the end of the data
 */
int pq_rle_decode(uint32_t *out, size_t count, const uint8_t *src, size_t n,
                  int bit_width, floe_error *err)
{
	if (bit_width < 0 || bit_width > 32)
		return floe_error_set(err, FLOE_ECORRUPT, "RLE bit width %d is out of range 0..32",
		                      bit_width);
	if (bit_width == 0) {
		/* every value is 0 */
		memset(out, 0, count * sizeof *out);
		return 0;
	}
	size_t pos = 0, done = 0;
	const size_t vbytes = (size_t)(bit_width + 7) / 8;
	while (done < count) {
		uint64_t header;
		size_t at = pos;
		if (read_uvarint(&header, src, n, &pos))
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "RLE run header at byte %zu is truncated or too long (%zu of %zu values)",
			                      at, done, count);
		size_t want = count - done;
		if (header & 1) {
			uint64_t groups = header >> 1;
			size_t avail = n - pos;
			/* values in this run, capped by what we still need */
			size_t take = groups > want / 8 + 1 ? want : (size_t)groups * 8;
			if (take > want)
				take = want;
			uint64_t need_bits = (uint64_t)take * (uint64_t)bit_width;
			if ((need_bits + 7) / 8 > avail)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "bit-packed run at byte %zu needs %llu bytes, %zu left",
				                      at, (unsigned long long)((need_bits + 7) / 8), avail);
			unpack32(out + done, take, src + pos, avail, 0, bit_width);
			done += take;
			/* a run that was used whole fits (need_bits == groups * 8 * w);
			 * a run cut short ends the decode, so pos no longer matters */
			if (done < count)
				pos += (size_t)(groups * (uint64_t)bit_width);
		} else {
			uint64_t run = header >> 1;
			if (vbytes > n - pos)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "RLE run value at byte %zu is truncated", pos);
			uint32_t v = 0;
			for (size_t k = 0; k < vbytes; k++)
				v |= (uint32_t)src[pos + k] << (8 * k);
			pos += vbytes;
			if (bit_width < 32 && (v >> bit_width) != 0)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "RLE run value %u does not fit bit width %d", v,
				                      bit_width);
			size_t take = run < want ? (size_t)run : want;
			for (size_t k = 0; k < take; k++)
				out[done + k] = v;
			done += take;
		}
	}
	return 0;
}

static int rle_put_literals(floe_buf *dst, const uint32_t *vals, size_t count, int bit_width)
{
	/* count is a multiple of 8 except at the very end, where the last group
	 * is padded with zeros */
	uint64_t tmp[504];
	size_t groups = (count + 7) / 8;
	if (floe_buf_put_uvarint(dst, ((uint64_t)groups << 1) | 1))
		return FLOE_ENOMEM;
	for (size_t i = 0; i < groups * 8; i++)
		tmp[i] = i < count ? vals[i] : 0;
	return pack_lsb(dst, tmp, groups * 8, bit_width);
}

static int rle_put_run(floe_buf *dst, uint32_t v, size_t run, int bit_width)
{
	const size_t vbytes = (size_t)(bit_width + 7) / 8;
	while (run > 0) {
		/* headers are read as 32-bit values by some readers */
		size_t part = run > 0x7fffffff ? 0x7fffffff : run;
		if (floe_buf_put_uvarint(dst, (uint64_t)part << 1))
			return FLOE_ENOMEM;
		for (size_t k = 0; k < vbytes; k++)
			if (floe_buf_putc(dst, (uint8_t)(v >> (8 * k))))
				return FLOE_ENOMEM;
		run -= part;
	}
	return 0;
}

/* Do vals[0..8) all hold the same value? (no branch per value) */
static inline bool rle_group_same(const uint32_t *v)
{
	uint32_t d = 0;
	for (int k = 1; k < 8; k++)
		d |= v[k] ^ v[0];
	return d == 0;
}

int pq_rle_encode(floe_buf *dst, const uint32_t *vals, size_t count, int bit_width)
{
	/* Like parquet-mr and arrow: a repeat becomes an RLE run once it covers
	 * a whole group of 8 after the pending literals (the values before it
	 * fill their last group); everything else goes into bit-packed runs of
	 * at most 63 groups. Walked a group at a time: a run can only start
	 * on a group's first value, so most groups cost one test. */
	size_t lit_start = 0, i = 0;
	int rc;
	while (count - i >= 8) {
		if (!rle_group_same(vals + i)) {
			i += 8;
			if (i - lit_start == 504) {
				if ((rc = rle_put_literals(dst, vals + lit_start, 504, bit_width)))
					return rc;
				lit_start = i;
			}
			continue;
		}
		size_t r = 8;
		while (i + r < count && vals[i + r] == vals[i])
			r++;
		if (i > lit_start && (rc = rle_put_literals(dst, vals + lit_start, i - lit_start, bit_width)))
			return rc;
		if ((rc = rle_put_run(dst, vals[i], r, bit_width)))
			return rc;
		i += r;
		lit_start = i;
	}
	if (count > lit_start && (rc = rle_put_literals(dst, vals + lit_start, count - lit_start, bit_width)))
		return rc;
	return 0;
}

int pq_rle_encode_repeat(floe_buf *dst, uint32_t v, size_t count, int bit_width)
{
	if (count >= 8)
		return rle_put_run(dst, v, count, bit_width);
	uint32_t tmp[8];
	for (size_t i = 0; i < count; i++)
		tmp[i] = v;
	return count ? rle_put_literals(dst, tmp, count, bit_width) : 0;
}

/* Legacy BIT_PACKED (Encodings.md "Bit-packed (Deprecated)"): values packed
 * from the most significant bit of the first byte, no header. */
int pq_bitpacked_msb_decode(uint32_t *out, size_t count, const uint8_t *src, size_t n,
                            int bit_width, floe_error *err)
{
	if (bit_width < 0 || bit_width > 32)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "BIT_PACKED bit width %d is out of range 0..32", bit_width);
	uint64_t bits;
	if (__builtin_mul_overflow((uint64_t)count, (uint64_t)bit_width, &bits) ||
	    (bits + 7) / 8 > n)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "BIT_PACKED data holds %zu bytes, %zu values of %d bits need more",
		                      n, count, bit_width);
	uint64_t bit = 0;
	for (size_t i = 0; i < count; i++) {
		uint32_t v = 0;
		for (int k = 0; k < bit_width; k++, bit++)
			v = (v << 1) | ((src[bit >> 3] >> (7 - (bit & 7))) & 1);
		out[i] = v;
	}
	return 0;
}

/* ---- PLAIN (Encodings.md "Plain") */

int pq_plain_decode_fixed(void *out, size_t count, size_t width, const uint8_t *src,
                          size_t n, size_t *consumed, floe_error *err)
{
	size_t need;
	if (floe_mul_overflow(count, width, &need) || need > n)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "PLAIN data holds %zu bytes, %zu values of %zu bytes need more",
		                      n, count, width);
	if (need)
		memcpy(out, src, need);
	if (consumed)
		*consumed = need;
	return 0;
}

int pq_plain_decode_bool(uint8_t *out, size_t count, const uint8_t *src, size_t n,
                         size_t *consumed, floe_error *err)
{
	size_t need = count / 8 + (count % 8 != 0);
	if (need > n)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "PLAIN booleans: %zu values need %zu bytes, %zu left", count,
		                      need, n);
	for (size_t i = 0; i < count; i++)
		out[i] = (src[i >> 3] >> (i & 7)) & 1;
	if (consumed)
		*consumed = need;
	return 0;
}

/*   value := length:u32le bytes[length] */
int pq_plain_decode_byte_array(pq_bytes *out, size_t count, const uint8_t *src,
                               size_t n, size_t *consumed, floe_error *err)
{
	size_t pos = 0;
	for (size_t i = 0; i < count; i++) {
		if (n - pos < 4)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "PLAIN BYTE_ARRAY value %zu: length at byte %zu is truncated",
			                      i, pos);
		uint32_t len = floe_load_u32le(src + pos);
		pos += 4;
		if (len > n - pos)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "PLAIN BYTE_ARRAY value %zu: length %u at byte %zu runs past the end (%zu left)",
			                      i, len, pos - 4, n - pos);
		out[i].ptr = src + pos;
		out[i].len = len;
		pos += len;
	}
	if (consumed)
		*consumed = pos;
	return 0;
}

int pq_plain_encode_bool(floe_buf *dst, const uint8_t *vals, size_t count)
{
	size_t bytes = count / 8 + (count % 8 != 0);
	if (bytes == 0)
		return 0;
	uint8_t *out = floe_buf_extend(dst, bytes);
	if (!out)
		return FLOE_ENOMEM;
	memset(out, 0, bytes);
	for (size_t i = 0; i < count; i++)
		if (vals[i])
			out[i >> 3] |= (uint8_t)(1u << (i & 7));
	return 0;
}

int pq_plain_encode_byte_array(floe_buf *dst, const int64_t *offsets, const uint8_t *data,
                               size_t count)
{
	size_t total = 0;
	for (size_t i = 0; i < count; i++) {
		int64_t len = offsets[i + 1] - offsets[i];
		if (len < 0 || len > (int64_t)UINT32_MAX)
			return FLOE_EINVALID;
		if (floe_add_overflow(total, (size_t)len + 4, &total))
			return FLOE_ENOMEM;
	}
	if (floe_buf_reserve(dst, total))
		return FLOE_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		uint32_t len = (uint32_t)(offsets[i + 1] - offsets[i]);
		floe_buf_put_u32le(dst, len);
		floe_buf_append(dst, data + offsets[i], len);
	}
	return 0;
}

/* ---- DELTA_BINARY_PACKED (Encodings.md "Delta Encoding")
 *
 *   header := block_size:uleb  miniblocks_per_block:uleb  total_count:uleb
 *             first_value:zigzag-uleb
 *   block  := min_delta:zigzag-uleb  bit_width[miniblocks_per_block]:u8
 *             miniblock*   (each values_per_miniblock * bit_width / 8 bytes)
 *
 * block_size is a multiple of 128, values_per_miniblock a multiple of 32.
 * In the last block the widths of unneeded miniblocks are present but may
 * hold anything and their bodies are absent; the last needed miniblock is
 * padded to full size (we accept it cut short at the end of the data). */

#define DELTA_CHUNK 256

static int delta_decode(void *outp, bool is32, size_t count, const uint8_t *src, size_t n,
                        size_t *consumed, floe_error *err)
{
	uint64_t block_size, nmini, total, first_z;
	size_t pos = 0;
	if (count == 0 && n == 0) {
		/* an empty section: nothing to decode */
		if (consumed)
			*consumed = 0;
		return 0;
	}
	if (read_uvarint(&block_size, src, n, &pos) || read_uvarint(&nmini, src, n, &pos) ||
	    read_uvarint(&total, src, n, &pos) || read_uvarint(&first_z, src, n, &pos))
		return floe_error_set(err, FLOE_ECORRUPT, "DELTA_BINARY_PACKED header is truncated");
	if (block_size == 0 || block_size % 128 != 0 || block_size > ((uint64_t)1 << 31))
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "DELTA_BINARY_PACKED block size %llu is not a positive multiple of 128",
		                      (unsigned long long)block_size);
	if (nmini == 0 || nmini > block_size / 32 || block_size % nmini != 0 ||
	    (block_size / nmini) % 32 != 0)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "DELTA_BINARY_PACKED %llu miniblocks do not split a block of %llu into multiples of 32",
		                      (unsigned long long)nmini, (unsigned long long)block_size);
	if (total < count)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "DELTA_BINARY_PACKED header holds %llu values, the page needs %zu",
		                      (unsigned long long)total, count);
	const size_t vpm = (size_t)(block_size / nmini);
	const int maxw = is32 ? 32 : 64;
	int32_t *o32 = outp;
	int64_t *o64 = outp;
	uint64_t prev = (uint64_t)unzigzag(first_z);
	if (count > 0) {
		if (is32)
			o32[0] = (int32_t)(uint32_t)prev;
		else
			o64[0] = (int64_t)prev;
	}
	size_t done = count > 0 ? 1 : 0;
	uint64_t tmp[DELTA_CHUNK];
	while (done < count) {
		uint64_t mz;
		if (read_uvarint(&mz, src, n, &pos))
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "DELTA_BINARY_PACKED block min delta at byte %zu is truncated",
			                      pos);
		uint64_t min_delta = (uint64_t)unzigzag(mz);
		if (nmini > n - pos)
			return floe_error_set(err, FLOE_ECORRUPT,
			                      "DELTA_BINARY_PACKED miniblock bit widths at byte %zu are truncated",
			                      pos);
		const uint8_t *widths = src + pos;
		pos += (size_t)nmini;
		for (size_t m = 0; m < nmini && done < count; m++) {
			int w = widths[m];
			if (w > maxw)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "DELTA_BINARY_PACKED miniblock bit width %d exceeds %d",
				                      w, maxw);
			size_t mb_bytes = vpm / 8 * (size_t)w;
			size_t take = count - done < vpm ? count - done : vpm;
			size_t avail = n - pos;
			size_t need = (size_t)(((uint64_t)take * (uint64_t)w + 7) / 8);
			if (need > avail)
				return floe_error_set(err, FLOE_ECORRUPT,
				                      "DELTA_BINARY_PACKED miniblock at byte %zu needs %zu bytes, %zu left",
				                      pos, need, avail);
			const uint8_t *s = src + pos;
			if (w > 0 && w <= 56 && ((uint64_t)(take - 1) * (uint64_t)w >> 3) + 8 <= avail) {
				/* hot path: every value from one 64-bit load, summed in place */
				const uint64_t vm = mask64(w);
				if (is32) {
					uint32_t p = (uint32_t)prev, md = (uint32_t)min_delta;
					int32_t *o = o32 + done;
					for (size_t j = 0; j < take; j++) {
						uint64_t b = (uint64_t)j * (uint64_t)w;
						p += md + (uint32_t)((floe_load_u64le(s + (b >> 3)) >> (b & 7)) & vm);
						o[j] = (int32_t)p;
					}
					prev = p;
				} else {
					uint64_t p = prev;
					int64_t *o = o64 + done;
					for (size_t j = 0; j < take; j++) {
						uint64_t b = (uint64_t)j * (uint64_t)w;
						p += min_delta + ((floe_load_u64le(s + (b >> 3)) >> (b & 7)) & vm);
						o[j] = (int64_t)p;
					}
					prev = p;
				}
				done += take;
				pos += mb_bytes <= avail ? mb_bytes : avail;
				continue;
			}
			for (size_t c = 0; c < take; c += DELTA_CHUNK) {
				size_t k = take - c < DELTA_CHUNK ? take - c : DELTA_CHUNK;
				if (w)
					unpack64(tmp, k, src + pos, avail, c, w);
				else
					memset(tmp, 0, k * sizeof tmp[0]);
				if (is32) {
					uint32_t p = (uint32_t)prev, md = (uint32_t)min_delta;
					for (size_t j = 0; j < k; j++) {
						p += md + (uint32_t)tmp[j];
						o32[done + c + j] = (int32_t)p;
					}
					prev = p;
				} else {
					uint64_t p = prev;
					for (size_t j = 0; j < k; j++) {
						p += min_delta + tmp[j];
						o64[done + c + j] = (int64_t)p;
					}
					prev = p;
				}
			}
			done += take;
			pos += mb_bytes <= avail ? mb_bytes : avail;
		}
	}
	if (consumed)
		*consumed = pos;
	return 0;
}

int pq_delta_decode_i64(int64_t *out, size_t count, const uint8_t *src, size_t n,
                        size_t *consumed, floe_error *err)
{
	return delta_decode(out, false, count, src, n, consumed, err);
}

int pq_delta_decode_i32(int32_t *out, size_t count, const uint8_t *src, size_t n,
                        size_t *consumed, floe_error *err)
{
	return delta_decode(out, true, count, src, n, consumed, err);
}

/* Writer: block 128, 4 miniblocks of 32 values, one min delta per block,
 * the exact bit width per miniblock. Deltas wrap modulo 2^64 (2^32). */
static int delta_encode(floe_buf *dst, const void *valsp, bool is32, size_t count)
{
	const int32_t *v32 = valsp;
	const int64_t *v64 = valsp;
#define VAL(i) (is32 ? (int64_t)v32[i] : v64[i])
	if (floe_buf_put_uvarint(dst, 128) || floe_buf_put_uvarint(dst, 4) ||
	    floe_buf_put_uvarint(dst, count) ||
	    floe_buf_put_uvarint(dst, zigzag(count ? VAL(0) : 0)))
		return FLOE_ENOMEM;
	uint64_t adj[128];
	for (size_t start = 1; start < count; start += 128) {
		size_t k = count - start < 128 ? count - start : 128;
		int64_t d[128];
		int64_t min = 0;
		for (size_t j = 0; j < k; j++) {
			size_t i = start + j;
			if (is32)
				d[j] = (int32_t)((uint32_t)v32[i] - (uint32_t)v32[i - 1]);
			else
				d[j] = (int64_t)((uint64_t)v64[i] - (uint64_t)v64[i - 1]);
			if (j == 0 || d[j] < min)
				min = d[j];
		}
		for (size_t j = 0; j < 128; j++) {
			if (j >= k)
				adj[j] = 0;
			else if (is32)
				adj[j] = (uint32_t)((uint32_t)d[j] - (uint32_t)min);
			else
				adj[j] = (uint64_t)d[j] - (uint64_t)min;
		}
		if (floe_buf_put_uvarint(dst, zigzag(min)))
			return FLOE_ENOMEM;
		size_t used = (k + 31) / 32;
		uint8_t widths[4] = { 0, 0, 0, 0 };
		for (size_t m = 0; m < used; m++) {
			uint64_t or = 0;
			for (size_t j = 0; j < 32; j++)
				or |= adj[m * 32 + j];
			widths[m] = (uint8_t)pq_bit_width(or);
		}
		if (floe_buf_append(dst, widths, 4))
			return FLOE_ENOMEM;
		for (size_t m = 0; m < used; m++)
			if (pack_lsb(dst, adj + m * 32, 32, widths[m]))
				return FLOE_ENOMEM;
	}
#undef VAL
	return 0;
}

int pq_delta_encode_i64(floe_buf *dst, const int64_t *vals, size_t count)
{
	return delta_encode(dst, vals, false, count);
}

int pq_delta_encode_i32(floe_buf *dst, const int32_t *vals, size_t count)
{
	return delta_encode(dst, vals, true, count);
}

/* ---- DELTA_LENGTH_BYTE_ARRAY (Encodings.md "Delta-length byte array")
 *
 *   lengths:DELTA_BINARY_PACKED(INT32)  data:concatenated bytes
 */
static int dlba_decode(pq_bytes *out, size_t count, const uint8_t *src, size_t n,
                       size_t *consumed, floe_error *err)
{
	int32_t *lens = NULL;
	size_t pos = 0, bytes;
	int rc = 0;
	if (floe_mul_overflow(count ? count : 1, sizeof *lens, &bytes) ||
	    !(lens = malloc(bytes))) {
		rc = floe_error_set(err, FLOE_ENOMEM, "DELTA_LENGTH_BYTE_ARRAY: out of memory");
		goto done;
	}
	if ((rc = pq_delta_decode_i32(lens, count, src, n, &pos, err)))
		goto done;
	for (size_t i = 0; i < count; i++) {
		if (lens[i] < 0 || (size_t)lens[i] > n - pos) {
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "DELTA_LENGTH_BYTE_ARRAY value %zu: length %d at data byte %zu runs past the end (%zu left)",
			                    i, lens[i], pos, n - pos);
			goto done;
		}
		out[i].ptr = src + pos;
		out[i].len = (uint32_t)lens[i];
		pos += (size_t)lens[i];
	}
	if (consumed)
		*consumed = pos;
done:
	free(lens);
	return rc;
}

int pq_delta_length_decode(pq_bytes *out, size_t count, const uint8_t *src, size_t n,
                           floe_error *err)
{
	return dlba_decode(out, count, src, n, NULL, err);
}

/* ---- DELTA_BYTE_ARRAY (Encodings.md "Delta Strings")
 *
 *   prefix_lengths:DELTA_BINARY_PACKED(INT32)  suffixes:DELTA_LENGTH_BYTE_ARRAY
 *
 * value[i] = value[i-1][0..prefix[i]) + suffix[i]; a prefix longer than the
 * previous value is corrupt. */
int pq_delta_byte_array_decode(pq_bytes *out, size_t count, const uint8_t *src, size_t n,
                               floe_arena *arena, floe_error *err)
{
	int32_t *prefix = NULL;
	size_t pos = 0, bytes, total = 0;
	int rc = 0;
	if (floe_mul_overflow(count ? count : 1, sizeof *prefix, &bytes) ||
	    !(prefix = malloc(bytes))) {
		rc = floe_error_set(err, FLOE_ENOMEM, "DELTA_BYTE_ARRAY: out of memory");
		goto done;
	}
	if ((rc = pq_delta_decode_i32(prefix, count, src, n, &pos, err)))
		goto done;
	if ((rc = dlba_decode(out, count, src + pos, n - pos, NULL, err)))
		goto done;
	/* first pass: validate prefixes and size the reconstruction */
	size_t prev_len = 0;
	for (size_t i = 0; i < count; i++) {
		if (prefix[i] < 0 || (size_t)prefix[i] > prev_len) {
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "DELTA_BYTE_ARRAY value %zu: prefix length %d exceeds the previous value's %zu bytes",
			                    i, prefix[i], prev_len);
			goto done;
		}
		size_t len = (size_t)prefix[i] + out[i].len;
		if (len > UINT32_MAX) {
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "DELTA_BYTE_ARRAY value %zu is longer than 4 GiB", i);
			goto done;
		}
		if (prefix[i] > 0)
			total += len; /* each len < 2^32 and total stays <= the cap */
		if (total > PQ_DBA_MAX_OUTPUT) {
			rc = floe_error_set(err, FLOE_ECORRUPT,
			                    "DELTA_BYTE_ARRAY values expand past %zu bytes",
			                    PQ_DBA_MAX_OUTPUT);
			goto done;
		}
		prev_len = len;
	}
	uint8_t *mem = floe_arena_alloc(arena, total);
	if (!mem) {
		rc = floe_error_set(err, FLOE_ENOMEM, "DELTA_BYTE_ARRAY: out of memory");
		goto done;
	}
	/* second pass: values with no prefix stay views into src */
	const uint8_t *prev = NULL;
	for (size_t i = 0; i < count; i++) {
		if (prefix[i] > 0) {
			size_t p = (size_t)prefix[i];
			memcpy(mem, prev, p);
			if (out[i].len)
				memcpy(mem + p, out[i].ptr, out[i].len);
			out[i].ptr = mem;
			out[i].len += (uint32_t)p;
			mem += out[i].len;
		}
		prev = out[i].ptr;
	}
done:
	free(prefix);
	return rc;
}

/* ---- BYTE_STREAM_SPLIT (Encodings.md "Byte Stream Split"): byte k of
 * value i sits at src[k * count + i]. */
int pq_bss_decode(void *out, size_t count, size_t width, const uint8_t *src, size_t n,
                  floe_error *err)
{
	size_t need;
	if (width == 0 || floe_mul_overflow(count, width, &need) || need != n)
		return floe_error_set(err, FLOE_ECORRUPT,
		                      "BYTE_STREAM_SPLIT data holds %zu bytes, %zu values of %zu bytes need exactly %zu",
		                      n, count, width, count * width);
	uint8_t *o = out;
	for (size_t k = 0; k < width; k++) {
		const uint8_t *s = src + k * count;
		for (size_t i = 0; i < count; i++)
			o[i * width + k] = s[i];
	}
	return 0;
}

uint32_t pq_crc32(const uint8_t *p, size_t n)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	while (n > 0) {
		uInt part = n > 0x40000000u ? 0x40000000u : (uInt)n;
		crc = crc32(crc, p, part);
		p += part;
		n -= part;
	}
	return (uint32_t)crc;
}
