/* The compiled content fingerprints (sopfin/close/digests.py has their Python twins, which give
 * the same bytes): the canonical record of each cell of a tab, the per-cell digest tokens
 * (32 bits of SHA-256 over a salt and a record), and an input sheet's canonical text with a
 * CRC-32 of each non-empty row. Cells of a kind this module does not write itself (anything
 * but floats and ASCII text) are handed to a Python function, so the two paths cannot part. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* --- a growing byte buffer -------------------------------------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (data == NULL) { PyErr_NoMemory(); return -1; }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buf_add(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* v in decimal at out (room for 21 characters); returns the length. */
static int decimal(long long v, char *out) {
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    int k = 0;
    if (v < 0) out[k++] = '-';
    while (n) out[k++] = tmp[--n];
    return k;
}

static int buf_int(Buf *b, long long v) {
    if (buf_reserve(b, 24) < 0) return -1;
    b->len += decimal(v, b->data + b->len);
    return 0;
}

/* --- SHA-256 (FIPS 180-4) ---------------------------------------------------------------- */

typedef struct {
    uint32_t h[8];
    uint64_t bits;
    unsigned char block[64];
    size_t used;
} Sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(Sha256 *s, const unsigned char *p) {
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

/* The same compression with the x86 SHA extensions, where the processor has them: a
 * tab's hundreds of thousands of one-block digests cost a tenth of the portable rounds. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI_PATH 1

__attribute__((target("sha,sse4.1,ssse3")))
static void sha_block_ni(Sha256 *s, const unsigned char *p) {
    const __m128i order = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s->h[0]), 0xB1);
    __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s->h[4]), 0x1B);
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);   /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);          /* CDGH */
    const __m128i abef = state0, cdgh = state1;
    __m128i w[4];
    for (int g = 0; g < 16; g++) {
        __m128i next;
        if (g < 4) {
            next = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), order);
        } else {  /* w[t] from w[t-16..t-13], w[t-15..t-12], w[t-7..t-4] and w[t-2], w[t-1] */
            next = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
            next = _mm_add_epi32(next, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
            next = _mm_sha256msg2_epu32(next, w[(g + 3) % 4]);
        }
        w[g % 4] = next;
        __m128i msg = _mm_add_epi32(next, _mm_loadu_si128((const __m128i *)&K[4 * g]));
        state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
        state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(msg, 0x0E));
    }
    state0 = _mm_add_epi32(state0, abef);
    state1 = _mm_add_epi32(state1, cdgh);
    tmp = _mm_shuffle_epi32(state0, 0x1B);                /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);             /* DCHG */
    _mm_storeu_si128((__m128i *)&s->h[0], _mm_blend_epi16(tmp, state1, 0xF0));  /* DCBA */
    _mm_storeu_si128((__m128i *)&s->h[4], _mm_alignr_epi8(state1, tmp, 8));     /* HGFE */
}

static int cpu_has_sha_ni(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 29) & 1;
}
#endif

static int sha_ni = 0;  /* whether sha_block uses the extensions */

static void sha_compress(Sha256 *s, const unsigned char *p) {
#ifdef HAVE_SHA_NI_PATH
    if (sha_ni) { sha_block_ni(s, p); return; }
#endif
    sha_block(s, p);
}

static void sha_init(Sha256 *s) {
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, H0, sizeof H0);
    s->bits = 0;
    s->used = 0;
}

static void sha_update(Sha256 *s, const unsigned char *p, size_t n) {
    s->bits += (uint64_t)n * 8;
    while (n) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, p, take);
        s->used += take; p += take; n -= take;
        if (s->used == 64) { sha_compress(s, s->block); s->used = 0; }
    }
}

/* The first word of the digest: the 32 bits a token shows. */
static uint32_t sha_first_word(Sha256 *s) {
    uint64_t bits = s->bits;
    unsigned char pad[72] = {0x80};
    size_t n = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, pad, n + 8);
    return s->h[0];
}

/* --- CRC-32 (zlib's: reflected, polynomial 0xEDB88320) ------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(uint32_t seed, const unsigned char *p, size_t n) {
    uint32_t c = ~seed;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

/* --- helpers ----------------------------------------------------------------------------- */

static int column_letters(long long col, char *out) {  /* 1 -> "A"; returns the length */
    char tmp[8];
    int n = 0;
    while (col > 0 && n < 7) {
        long long r = (col - 1) % 26;
        tmp[n++] = (char)('A' + r);
        col = (col - 1) / 26;
    }
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* A contiguous array of n items: 8-byte signed integers (kind 'q') or booleans ('?'). */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *format, Py_ssize_t n,
                      const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = view->format ? view->format : "B";
    if (*f == '=' || *f == '<' || *f == '@') f++;
    int fits = format[0] == '?' ? strcmp(f, "?") == 0 && view->itemsize == 1
                                : (strcmp(f, "q") == 0 || strcmp(f, "l") == 0) && view->itemsize == 8;
    if (!fits || view->len != n * view->itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items of format '%s' expected", what, n, format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* --- records(rows, cols, values, cents, has_cents, general) ------------------------------ */

static PyObject *records(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *rows_obj, *cols_obj, *values, *cents_obj, *has_obj, *general;
    if (!PyArg_ParseTuple(args, "OOO!OOO", &rows_obj, &cols_obj, &PyList_Type, &values,
                          &cents_obj, &has_obj, &general))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(values);
    Py_buffer rows_v, cols_v, cents_v, has_v;
    if (get_buffer(rows_obj, &rows_v, "q", n, "rows") < 0) return NULL;
    if (get_buffer(cols_obj, &cols_v, "q", n, "cols") < 0) goto fail_rows;
    if (get_buffer(cents_obj, &cents_v, "q", n, "cents") < 0) goto fail_cols;
    if (get_buffer(has_obj, &has_v, "?", n, "has_cents") < 0) goto fail_cents;
    const long long *rows = rows_v.buf, *cols = cols_v.buf, *cents = cents_v.buf;
    const unsigned char *has = has_v.buf;
    PyObject *out = PyList_New(n);
    if (out == NULL) goto fail;
    Buf typed = {0}, rec = {0};
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        typed.len = 0;
        if (has[i]) {
            char digits[32];
            int k = decimal(cents[i], digits);
            if (buf_add(&typed, "1:n,", 4) < 0 || buf_int(&typed, k) < 0 ||
                buf_add(&typed, ":", 1) < 0 || buf_add(&typed, digits, k) < 0 ||
                buf_add(&typed, ",", 1) < 0)
                goto fail_out;
        } else if (PyUnicode_CheckExact(value) && PyUnicode_IS_ASCII(value) &&
                   PyUnicode_GET_LENGTH(value) > 0) {
            Py_ssize_t k = PyUnicode_GET_LENGTH(value);
            if (buf_add(&typed, "1:s,", 4) < 0 || buf_int(&typed, k) < 0 ||
                buf_add(&typed, ":", 1) < 0 ||
                buf_add(&typed, (const char *)PyUnicode_1BYTE_DATA(value), k) < 0 ||
                buf_add(&typed, ",", 1) < 0)
                goto fail_out;
        } else {
            PyObject *got = PyObject_CallOneArg(general, value);
            if (got == NULL) goto fail_out;
            if (got == Py_None) {
                Py_DECREF(got);
                Py_INCREF(Py_None);
                PyList_SET_ITEM(out, i, Py_None);
                continue;
            }
            if (!PyBytes_Check(got)) {
                Py_DECREF(got);
                PyErr_SetString(PyExc_TypeError, "general() must give bytes or None");
                goto fail_out;
            }
            int ok = buf_add(&typed, PyBytes_AS_STRING(got), PyBytes_GET_SIZE(got));
            Py_DECREF(got);
            if (ok < 0) goto fail_out;
        }
        char ref[48];
        int letters = column_letters(cols[i], ref);
        int reflen = letters + decimal(rows[i], ref + letters);
        char head[32];
        int headlen = decimal(reflen, head);
        head[headlen++] = ':';
        rec.len = 0;
        if (buf_int(&rec, headlen + reflen + 1 + typed.len) < 0 || buf_add(&rec, ":", 1) < 0 ||
            buf_add(&rec, head, headlen) < 0 || buf_add(&rec, ref, reflen) < 0 ||
            buf_add(&rec, ",", 1) < 0 || buf_add(&rec, typed.data, typed.len) < 0 ||
            buf_add(&rec, ",", 1) < 0)
            goto fail_out;
        PyObject *item = PyBytes_FromStringAndSize(rec.data, rec.len);
        if (item == NULL) goto fail_out;
        PyList_SET_ITEM(out, i, item);
    }
    PyMem_Free(typed.data);
    PyMem_Free(rec.data);
    PyBuffer_Release(&has_v);
    PyBuffer_Release(&cents_v);
    PyBuffer_Release(&cols_v);
    PyBuffer_Release(&rows_v);
    return out;
fail_out:
    PyMem_Free(typed.data);
    PyMem_Free(rec.data);
    Py_DECREF(out);
fail:
    PyBuffer_Release(&has_v);
fail_cents:
    PyBuffer_Release(&cents_v);
fail_cols:
    PyBuffer_Release(&cols_v);
fail_rows:
    PyBuffer_Release(&rows_v);
    return NULL;
}

/* --- tokens(records, formulas, salt) ----------------------------------------------------- */

static PyObject *tokens(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *recs, *formulas_obj;
    Py_buffer salt;
    if (!PyArg_ParseTuple(args, "O!Oy*", &PyList_Type, &recs, &formulas_obj, &salt))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(recs);
    Py_buffer formulas_v;
    if (get_buffer(formulas_obj, &formulas_v, "?", n, "formulas") < 0) {
        PyBuffer_Release(&salt);
        return NULL;
    }
    const unsigned char *formula = formulas_v.buf;
    Sha256 salted;
    sha_init(&salted);
    sha_update(&salted, salt.buf, (size_t)salt.len);
    PyObject *out = PyList_New(n);
    if (out == NULL) goto done;
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *rec = PyList_GET_ITEM(recs, i);
        if (!PyBytes_Check(rec)) {
            PyErr_SetString(PyExc_TypeError, "records must be bytes");
            Py_CLEAR(out);
            goto done;
        }
        Sha256 s = salted;
        sha_update(&s, (const unsigned char *)PyBytes_AS_STRING(rec), (size_t)PyBytes_GET_SIZE(rec));
        uint32_t word = sha_first_word(&s);
        char text[9];
        text[0] = formula[i] ? 'f' : 'v';
        for (int k = 0; k < 8; k++) text[1 + k] = hex[(word >> (28 - 4 * k)) & 0xf];
        PyObject *item = PyUnicode_FromStringAndSize(text, 9);
        if (item == NULL) { Py_CLEAR(out); goto done; }
        PyList_SET_ITEM(out, i, item);
    }
done:
    PyBuffer_Release(&formulas_v);
    PyBuffer_Release(&salt);
    return out;
}

/* --- digest_texts(rows, cols, tokens, head) ---------------------------------------------- */

static PyObject *digest_texts(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *rows_obj, *cols_obj, *toks;
    const char *head;
    Py_ssize_t head_len;
    if (!PyArg_ParseTuple(args, "OOO!s#", &rows_obj, &cols_obj, &PyList_Type, &toks, &head,
                          &head_len))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(toks);
    Py_buffer rows_v, cols_v;
    if (get_buffer(rows_obj, &rows_v, "q", n, "rows") < 0) return NULL;
    if (get_buffer(cols_obj, &cols_v, "q", n, "cols") < 0) {
        PyBuffer_Release(&rows_v);
        return NULL;
    }
    const long long *rows = rows_v.buf, *cols = cols_v.buf;
    PyObject *out = PyDict_New();
    Buf line = {0};
    for (Py_ssize_t i = 0; out != NULL && i < n;) {
        line.len = 0;
        if (buf_add(&line, head, head_len) < 0) { Py_CLEAR(out); break; }
        Py_ssize_t j = i;
        for (; j < n && rows[j] == rows[i]; j++) {
            PyObject *tok = PyList_GET_ITEM(toks, j);
            Py_ssize_t size;
            const char *text = PyUnicode_Check(tok) ? PyUnicode_AsUTF8AndSize(tok, &size) : NULL;
            char letters[8];
            int k = column_letters(cols[j], letters);
            if (text == NULL || (j > i && buf_add(&line, " ", 1) < 0) ||
                buf_add(&line, letters, k) < 0 || buf_add(&line, "=", 1) < 0 ||
                buf_add(&line, text, size) < 0) {
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "tokens must be str");
                Py_CLEAR(out);
                break;
            }
        }
        if (out == NULL) break;
        PyObject *key = PyLong_FromLongLong(rows[i]);
        PyObject *value = PyUnicode_DecodeUTF8(line.data, line.len, NULL);
        if (key == NULL || value == NULL || PyDict_SetItem(out, key, value) < 0) Py_CLEAR(out);
        Py_XDECREF(key);
        Py_XDECREF(value);
        i = j;
    }
    PyMem_Free(line.data);
    PyBuffer_Release(&cols_v);
    PyBuffer_Release(&rows_v);
    return out;
}

/* --- sheet_text(rows, seed, general) ------------------------------------------------------ */

/* The repr of the non-integral floats met, remembered by their bits: a plan's input grids
 * repeat the same few thousand numbers across millions of cells, and a repr costs more than a
 * look-up. Direct-mapped: a clash only costs the repr again. */
#define REPR_SLOTS 65536
typedef struct {
    uint64_t bits;
    int len;            /* 0: empty slot */
    char text[27];
} ReprSlot;

static int float_repr(Buf *b, double x, ReprSlot *slots) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t h = bits * 0x9E3779B97F4A7C15ULL;
    ReprSlot *slot = &slots[h >> 48];
    if (slot->len > 0 && slot->bits == bits) return buf_add(b, slot->text, slot->len);
    char *text = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) return -1;
    size_t n = strlen(text);
    int ok = buf_add(b, text, (Py_ssize_t)n);
    if (n < sizeof slot->text) {
        slot->bits = bits;
        slot->len = (int)n;
        memcpy(slot->text, text, n);
    }
    PyMem_Free(text);
    return ok;
}

/* One input cell's text after its column label; 0 written for an empty cell, 1 for a cell,
 * -1 on error. */
static int input_cell(Buf *b, PyObject *value, PyObject *general, ReprSlot *slots) {
    if (value == Py_None) return 0;
    if (PyFloat_CheckExact(value)) {
        double x = PyFloat_AS_DOUBLE(value);
        if (x != x) return 0;
        if (buf_add(b, "n", 1) < 0) return -1;
        if (isfinite(x) && x == floor(x) && fabs(x) < 9223372036854775808.0) {
            if (buf_int(b, (long long)x) < 0) return -1;
        } else {
            if (float_repr(b, x, slots) < 0) return -1;
        }
        return buf_add(b, ";", 1) < 0 ? -1 : 1;
    }
    if (PyUnicode_CheckExact(value) && PyUnicode_IS_ASCII(value)) {
        Py_ssize_t k = PyUnicode_GET_LENGTH(value);
        if (k == 0) return 0;
        if (buf_add(b, "s", 1) < 0 || buf_int(b, k) < 0 || buf_add(b, ":", 1) < 0 ||
            buf_add(b, (const char *)PyUnicode_1BYTE_DATA(value), k) < 0)
            return -1;
        return 1;
    }
    PyObject *got = PyObject_CallOneArg(general, value);
    if (got == NULL) return -1;
    if (got == Py_None) { Py_DECREF(got); return 0; }
    Py_ssize_t size;
    const char *utf8 = PyUnicode_Check(got) ? PyUnicode_AsUTF8AndSize(got, &size) : NULL;
    if (utf8 == NULL) {
        Py_DECREF(got);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "general() must give str or None");
        return -1;
    }
    int ok = buf_add(b, utf8, size);
    Py_DECREF(got);
    return ok < 0 ? -1 : 1;
}

static PyObject *sheet_text(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *rows, *general;
    unsigned long seed;
    if (!PyArg_ParseTuple(args, "OkO", &rows, &seed, &general)) return NULL;
    PyObject *fast_rows = PySequence_Fast(rows, "rows must be a sequence");
    if (fast_rows == NULL) return NULL;
    PyObject *digests = PyDict_New();
    Buf text = {0}, line = {0};
    ReprSlot *slots = PyMem_Calloc(REPR_SLOTS, sizeof(ReprSlot));
    if (slots == NULL) PyErr_NoMemory();
    PyObject *result = NULL;
    if (digests == NULL || slots == NULL) goto done;
    Py_ssize_t nrows = PySequence_Fast_GET_SIZE(fast_rows);
    for (Py_ssize_t i = 0; i < nrows; i++) {
        PyObject *row = PySequence_Fast(PySequence_Fast_GET_ITEM(fast_rows, i),
                                        "a row must be a sequence");
        if (row == NULL) goto done;
        Py_ssize_t ncols = PySequence_Fast_GET_SIZE(row);
        line.len = 0;
        for (Py_ssize_t j = 0; j < ncols; j++) {
            Py_ssize_t mark = line.len;
            if ((line.len > 0 && buf_add(&line, "|", 1) < 0) || buf_int(&line, j + 1) < 0 ||
                buf_add(&line, "=", 1) < 0) {
                Py_DECREF(row);
                goto done;
            }
            int got = input_cell(&line, PySequence_Fast_GET_ITEM(row, j), general, slots);
            if (got < 0) { Py_DECREF(row); goto done; }
            if (got == 0) line.len = mark;
        }
        Py_DECREF(row);
        if (line.len == 0) continue;
        if (buf_add(&text, "R", 1) < 0 || buf_int(&text, i + 1) < 0 || buf_add(&text, "|", 1) < 0 ||
            buf_add(&text, line.data, line.len) < 0 || buf_add(&text, "\n", 1) < 0)
            goto done;
        static const char hex[] = "0123456789abcdef";
        uint32_t crc = crc32_of((uint32_t)seed, (const unsigned char *)line.data, (size_t)line.len);
        char hexed[8];
        for (int k = 0; k < 8; k++) hexed[k] = hex[(crc >> (28 - 4 * k)) & 0xf];
        PyObject *key = PyLong_FromSsize_t(i + 1);
        PyObject *value = PyUnicode_FromStringAndSize(hexed, 8);
        int ok = key && value ? PyDict_SetItem(digests, key, value) : -1;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (ok < 0) goto done;
    }
    {
        PyObject *bytes = PyBytes_FromStringAndSize(text.data ? text.data : "", text.len);
        if (bytes != NULL) {
            result = PyTuple_Pack(2, bytes, digests);
            Py_DECREF(bytes);
        }
    }
done:
    PyMem_Free(slots);
    PyMem_Free(text.data);
    PyMem_Free(line.data);
    Py_XDECREF(digests);
    Py_DECREF(fast_rows);
    return result;
}

/* Tests run both compressions: the portable one is what runs where the extensions are not. */
static PyObject *use_sha_extensions(PyObject *Py_UNUSED(self), PyObject *arg) {
    int want = PyObject_IsTrue(arg);
    if (want < 0) return NULL;
    int was = sha_ni;
#ifdef HAVE_SHA_NI_PATH
    sha_ni = want && cpu_has_sha_ni();
#endif
    return PyBool_FromLong(was);
}

static PyMethodDef methods[] = {
    {"use_sha_extensions", use_sha_extensions, METH_O,
     "use_sha_extensions(flag): hash with the x86 SHA extensions when there are some; "
     "returns the previous setting."},
    {"records", records, METH_VARARGS,
     "records(rows, cols, values, cents, has_cents, general): each cell's canonical record "
     "(bytes), or None where general(value) gives None."},
    {"tokens", tokens, METH_VARARGS,
     "tokens(records, formulas, salt): 'f' or 'v' and 8 hex digits of SHA-256(salt + record)."},
    {"digest_texts", digest_texts, METH_VARARGS,
     "digest_texts(rows, cols, tokens, head): {row: head + 'B=v... C=v...'} for cells in "
     "row order."},
    {"sheet_text", sheet_text, METH_VARARGS,
     "sheet_text(rows, seed, general): an input sheet's canonical text and a CRC-32 per row."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_digests", NULL, -1, methods};

PyMODINIT_FUNC PyInit__digests(void) {
    crc_init();
#ifdef HAVE_SHA_NI_PATH
    sha_ni = cpu_has_sha_ni();
#endif
    return PyModule_Create(&module);
}
