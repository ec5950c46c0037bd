/* Row fingerprints, compiled: the texts sopfin.guard.row_prints makes for a band of rows,
 * each row's text built and hashed in one pass without a Python string per row.
 *
 * band(head, n, grids, others, labels) -> list of n (str or None), or None
 *
 *   head     the fingerprint's text before its digest, the same for every row of the band
 *            (ASCII: 'sopfin-row/1 ' and the column runs).
 *   n        the band's rows.
 *   grids    one (items, args, i0, explicit) per formula grid, in block order: items spell
 *            the grid's row joined (FormulaGrid.joined_row), each a bytes literal (UTF-8) or
 *            an int, the row's entry of args[int] as '%s' spells it; args a tuple of lists
 *            (or tuples) indexed by grid row; i0 the grid row of the band's first row;
 *            explicit None or a dict {grid row: sequence of formula str} for rows not from
 *            the template, joined by NUL.
 *   others   one (rows, i0, width) per block of formulas given cell by cell, in block order:
 *            rows a list of row sequences, each of width formula str.
 *   labels   one (rows, i0, width) per block of labels, in block order.
 *
 * A row's digest hashes its formulas (the grids' rows, then every other formula, joined by
 * NUL, spaces removed), a 0x1F, and its labels joined by 0x1F: BLAKE2b with a 9-byte digest
 * over the text's UTF-8 (lone surrogates as 'surrogatepass' writes them), in URL-safe base64
 * (12 characters). A row this cannot take as a whole is None, left to the Python path: a
 * grid's row with an empty formula (its join empty, or starting, ending or doubling NUL), an
 * explicit row or a formula cell that is not str or is empty, a label that is not str, empty
 * or holds a carriage return. The whole result is None when the blocks are not what this
 * takes (a row of the wrong width, arguments shorter than the band).
 *
 * The rows are hashed four at a time, one in each lane of the vector unit (digest_lanes).
 *
 * digest(data: bytes) -> str    the 12 characters for one text (tests compare with hashlib).
 * digests(texts: list of bytes) -> list of str    the same, hashed four at a time.
 * kernels() -> list of str      the lane kernels this CPU runs, the one in use first.
 * use_kernel(name) -> str       hash with that kernel from now on; the one it replaces.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ---- BLAKE2b (RFC 7693), unkeyed, 9-byte digest ---- */

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

#define DIGEST_BYTES 9
#define DIGEST_CHARS 12

/* a right rotation of a 64-bit word, or of each lane of a vector of them (digest_lanes) */
#define ROTR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

static inline uint64_t load64(const unsigned char *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16)
           | ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40)
           | ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

#define G(r, i, a, b, c, d)                      \
    do {                                         \
        a = a + b + m[SIGMA[r][2 * (i)]];        \
        d = ROTR64(d ^ a, 32);                   \
        c = c + d;                               \
        b = ROTR64(b ^ c, 24);                   \
        a = a + b + m[SIGMA[r][2 * (i) + 1]];    \
        d = ROTR64(d ^ a, 16);                   \
        c = c + d;                               \
        b = ROTR64(b ^ c, 63);                   \
    } while (0)

#define ROUND(r)                                 \
    do {                                         \
        G(r, 0, v[0], v[4], v[8], v[12]);        \
        G(r, 1, v[1], v[5], v[9], v[13]);        \
        G(r, 2, v[2], v[6], v[10], v[14]);       \
        G(r, 3, v[3], v[7], v[11], v[15]);       \
        G(r, 4, v[0], v[5], v[10], v[15]);       \
        G(r, 5, v[1], v[6], v[11], v[12]);       \
        G(r, 6, v[2], v[7], v[8], v[13]);        \
        G(r, 7, v[3], v[4], v[9], v[14]);        \
    } while (0)

static void compress(uint64_t h[8], const unsigned char *block, uint64_t t, int last)
{
    uint64_t m[16], v[16];
    int k;
    for (k = 0; k < 16; k++)
        m[k] = load64(block + 8 * k);
    for (k = 0; k < 8; k++) {
        v[k] = h[k];
        v[k + 8] = IV[k];
    }
    v[12] ^= t; /* the byte counter's high word stays 0: texts are far below 2^64 bytes */
    if (last)
        v[14] = ~v[14];
    ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5);
    ROUND(6); ROUND(7); ROUND(8); ROUND(9); ROUND(10); ROUND(11);
    for (k = 0; k < 8; k++)
        h[k] ^= v[k] ^ v[k + 8];
}

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 12 characters of blake2b(data, digest_size=9) in URL-safe base64, into out. */
static void digest_chars(const unsigned char *data, size_t len, char *out)
{
    uint64_t h[8];
    unsigned char last[128], raw[DIGEST_BYTES];
    size_t done = 0;
    int k;
    memcpy(h, IV, sizeof h);
    h[0] ^= 0x01010000ULL ^ DIGEST_BYTES;
    while (len - done > 128) {
        compress(h, data + done, (uint64_t)(done + 128), 0);
        done += 128;
    }
    memset(last, 0, sizeof last);
    memcpy(last, data + done, len - done);
    compress(h, last, (uint64_t)len, 1);
    for (k = 0; k < DIGEST_BYTES; k++)
        raw[k] = (unsigned char)(h[k / 8] >> (8 * (k % 8)));
    for (k = 0; k < DIGEST_BYTES / 3; k++) {
        unsigned w = ((unsigned)raw[3 * k] << 16) | ((unsigned)raw[3 * k + 1] << 8)
                     | raw[3 * k + 2];
        out[4 * k] = B64URL[(w >> 18) & 63];
        out[4 * k + 1] = B64URL[(w >> 12) & 63];
        out[4 * k + 2] = B64URL[(w >> 6) & 63];
        out[4 * k + 3] = B64URL[w & 63];
    }
}

/* ---- four texts at once: BLAKE2b on 4 lanes ----
 *
 * A band's rows are hashed four at a time, each row in a 64-bit lane of the same vector
 * operations (GCC's vector extension): a lane's blocks are those digest_chars compresses, a
 * lane out of blocks is carried along and its state kept as it was. The digests are those of
 * digest_chars, lane for lane (tests compare both with hashlib). */

#define LANES 4

#if defined(__GNUC__)
typedef uint64_t lanes_t __attribute__((vector_size(8 * LANES)));

/* One block of each lane; tlk holds each lane's byte counter, last-block flag (all ones on
 * its last block) and keep mask: h is updated where the mask is all ones, kept where 0. */
#define COMPRESS_LANES_BODY                                                   \
    {                                                                         \
        lanes_t m[16], v[16];                                                 \
        int k, j;                                                             \
        for (k = 0; k < 16; k++)                                              \
            for (j = 0; j < LANES; j++)                                       \
                m[k][j] = load64(blocks[j] + 8 * k);                          \
        for (k = 0; k < 8; k++) {                                             \
            v[k] = h[k];                                                      \
            v[k + 8] = (lanes_t){IV[k], IV[k], IV[k], IV[k]};                 \
        }                                                                     \
        v[12] ^= tlk[0];                                                      \
        v[14] ^= tlk[1];                                                      \
        ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5);           \
        ROUND(6); ROUND(7); ROUND(8); ROUND(9); ROUND(10); ROUND(11);         \
        for (k = 0; k < 8; k++)                                               \
            h[k] ^= (v[k] ^ v[k + 8]) & tlk[2];                               \
    }

/* Built for the vector units x86-64 may have, picked when the module loads (choose_lanes):
 * AVX-512VL rotates a lane in one instruction, AVX2 holds the four lanes in one register. */
#if defined(__x86_64__) && defined(__GLIBC__)
__attribute__((target("avx512f,avx512vl"))) static void
compress_lanes_avx512(lanes_t h[8], const unsigned char *const blocks[LANES],
                      const lanes_t tlk[3])
COMPRESS_LANES_BODY

__attribute__((target("avx2"))) static void
compress_lanes_avx2(lanes_t h[8], const unsigned char *const blocks[LANES],
                    const lanes_t tlk[3])
COMPRESS_LANES_BODY
#define HAVE_X86_LANES 1
#endif

static void compress_lanes_plain(lanes_t h[8], const unsigned char *const blocks[LANES],
                                 const lanes_t tlk[3])
COMPRESS_LANES_BODY

typedef void (*compress_lanes_fn)(lanes_t *, const unsigned char *const *, const lanes_t *);

typedef struct {
    const char *name;
    compress_lanes_fn fn;
    int supported;
} Kernel;

static Kernel kernels[] = {
#ifdef HAVE_X86_LANES
    {"avx512", compress_lanes_avx512, 0},
    {"avx2", compress_lanes_avx2, 0},
#endif
    {"plain", compress_lanes_plain, 1},
};

#define NKERNELS ((int)(sizeof kernels / sizeof kernels[0]))

static int kernel = NKERNELS - 1; /* the one in use: the first the CPU supports */

static void choose_lanes(void)
{
    int k;
#ifdef HAVE_X86_LANES
    __builtin_cpu_init();
    kernels[0].supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    kernels[1].supported = __builtin_cpu_supports("avx2");
#endif
    for (k = NKERNELS - 1; k >= 0; k--)
        if (kernels[k].supported)
            kernel = k;
}

/* The 12 characters of each of the first count texts, as digest_chars makes them, into
 * out[j]. */
static void digest_lanes(const unsigned char *const data[LANES], const size_t len[LANES],
                         int count, char out[LANES][DIGEST_CHARS])
{
    lanes_t h[8];
    static const unsigned char zero[128];
    unsigned char tail[LANES][128];
    size_t blocks[LANES], most = 0, b;
    int k, j;
    for (k = 0; k < 8; k++)
        h[k] = (lanes_t){IV[k], IV[k], IV[k], IV[k]};
    h[0] ^= 0x01010000ULL ^ DIGEST_BYTES;
    for (j = 0; j < LANES; j++) {
        blocks[j] = j < count && len[j] > 128 ? (len[j] + 127) / 128 : 1;
        if (j < count && blocks[j] > most)
            most = blocks[j];
        if (j < count) {
            size_t done = 128 * (blocks[j] - 1);
            memset(tail[j], 0, 128);
            memcpy(tail[j], data[j] + done, len[j] - done);
        }
    }
    for (b = 0; b < most; b++) {
        const unsigned char *at[LANES];
        lanes_t tlk[3];
        for (j = 0; j < LANES; j++) {
            int live = j < count && b < blocks[j], final = live && b + 1 == blocks[j];
            at[j] = !live ? zero : final ? tail[j] : data[j] + 128 * b;
            tlk[0][j] = final ? (uint64_t)len[j] : (uint64_t)(128 * (b + 1));
            tlk[1][j] = final ? ~0ULL : 0;
            tlk[2][j] = live ? ~0ULL : 0;
        }
        kernels[kernel].fn(h, at, tlk);
    }
    for (j = 0; j < count; j++) {
        unsigned char raw[DIGEST_BYTES];
        for (k = 0; k < DIGEST_BYTES; k++)
            raw[k] = (unsigned char)(h[k / 8][j] >> (8 * (k % 8)));
        for (k = 0; k < DIGEST_BYTES / 3; k++) {
            unsigned w = ((unsigned)raw[3 * k] << 16) | ((unsigned)raw[3 * k + 1] << 8)
                         | raw[3 * k + 2];
            out[j][4 * k] = B64URL[(w >> 18) & 63];
            out[j][4 * k + 1] = B64URL[(w >> 12) & 63];
            out[j][4 * k + 2] = B64URL[(w >> 6) & 63];
            out[j][4 * k + 3] = B64URL[w & 63];
        }
    }
}
#else
typedef struct {
    const char *name;
    int supported;
} Kernel;

static Kernel kernels[] = {{"plain", 1}};

#define NKERNELS 1

static int kernel = 0;

static void choose_lanes(void)
{
}

static void digest_lanes(const unsigned char *const data[LANES], const size_t len[LANES],
                         int count, char out[LANES][DIGEST_CHARS])
{
    int j;
    for (j = 0; j < count; j++)
        digest_chars(data[j], len[j], out[j]);
}
#endif

/* ---- a growing byte buffer ---- */

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
} Buf;

static int reserve(Buf *b, Py_ssize_t more)
{
    Py_ssize_t cap;
    unsigned char *p;
    if (b->len + more <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 1 << 12;
    while (cap < b->len + more)
        cap *= 2;
    p = PyMem_Realloc(b->data, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline int put(Buf *b, const void *s, Py_ssize_t n)
{
    unsigned char *d;
    const unsigned char *p = s;
    if (reserve(b, n) < 0)
        return -1;
    d = b->data + b->len;
    b->len += n;
    if (n >= 16) {
        memcpy(d, p, (size_t)n);
        return 0;
    }
    /* most pieces are a few bytes: fixed-size copies the compiler inlines, no call */
    if (n & 8) {
        memcpy(d, p, 8);
        d += 8;
        p += 8;
    }
    if (n & 4) {
        memcpy(d, p, 4);
        d += 4;
        p += 4;
    }
    if (n & 2) {
        memcpy(d, p, 2);
        d += 2;
        p += 2;
    }
    if (n & 1)
        *d = *p;
    return 0;
}

static inline int put_byte(Buf *b, unsigned char c)
{
    if (reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

/* A str's text as UTF-8 with lone surrogates passed ('surrogatepass'), appended to b. */
static int put_str(Buf *b, PyObject *s)
{
    PyObject *bytes;
    int rc;
    if (PyUnicode_IS_ASCII(s))
        return put(b, PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s));
    bytes = PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass");
    if (bytes == NULL)
        return -1;
    rc = put(b, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return rc;
}

/* A whole number in decimal, appended to b. */
static int put_int(Buf *b, long long x)
{
    char tmp[24];
    int n = 0;
    unsigned long long v = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (x < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    return put(b, tmp + sizeof tmp - n, n);
}

/* A formula argument as '%s' spells it (str(value)), appended to b. */
static int put_arg(Buf *b, PyObject *value)
{
    PyObject *text;
    int rc;
    if (PyUnicode_CheckExact(value))
        return put_str(b, value);
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow && !(x == -1 && PyErr_Occurred()))
            return put_int(b, x);
        PyErr_Clear();
    }
    text = PyObject_Str(value);
    if (text == NULL)
        return -1;
    rc = put_str(b, text);
    Py_DECREF(text);
    return rc;
}

/* ---- the band ---- */

typedef struct {
    const char *text; /* a literal's bytes, or NULL for an argument slot */
    Py_ssize_t len;   /* the literal's length, or the slot's argument */
} Item;

typedef struct {
    Item *items;
    Py_ssize_t nitems;
    PyObject ***args; /* the items of each argument list */
    Py_ssize_t nargs, i0;
    PyObject *explicit; /* dict or NULL */
    /* the arguments of one row spelled once, however many slots take them: row cached_row's
     * argument a is text.data[span[2a] : span[2a] + span[2a+1]] where span[2a+1] >= 0; an
     * argument no slot takes is not spelled (span[2a+1] stays -1) */
    Buf text;
    Py_ssize_t *span, cached_row;
} Grid;

typedef struct {
    PyObject **rows;
    Py_ssize_t i0, width;
} Cells;

enum { TAKEN = 0, LEFT = 1, FAILED = -1 };

/* Row i's arguments that a slot takes, each spelled once into g->text; 0, or -1 with an
 * error set. */
static int spell_args(Grid *g, Py_ssize_t i)
{
    Py_ssize_t a;
    g->text.len = 0;
    g->cached_row = -1;
    for (a = 0; a < g->nargs; a++) {
        if (g->span[2 * a + 1] < 0)
            continue;
        g->span[2 * a] = g->text.len;
        if (put_arg(&g->text, g->args[a][i]) < 0)
            return -1;
        g->span[2 * a + 1] = g->text.len - g->span[2 * a];
    }
    g->cached_row = i;
    return 0;
}

/* A grid's row i joined, appended to b: TAKEN, LEFT (an explicit row the join cannot take)
 * or FAILED (an error set). */
static int put_grid_row(Buf *b, Grid *g, Py_ssize_t i)
{
    Py_ssize_t k, count;
    if (g->explicit != NULL) {
        PyObject *key = PyLong_FromSsize_t(i), *row;
        if (key == NULL)
            return FAILED;
        row = PyDict_GetItemWithError(g->explicit, key);
        Py_DECREF(key);
        if (row == NULL && PyErr_Occurred())
            return FAILED;
        if (row != NULL) {
            PyObject *fast = PySequence_Fast(row, "an explicit row is a sequence");
            PyObject **cells;
            if (fast == NULL)
                return FAILED;
            count = PySequence_Fast_GET_SIZE(fast);
            cells = PySequence_Fast_ITEMS(fast);
            for (k = 0; k < count; k++) {
                if (!PyUnicode_CheckExact(cells[k])) {
                    Py_DECREF(fast);
                    return LEFT;
                }
                if ((k && put_byte(b, 0) < 0) || put_str(b, cells[k]) < 0) {
                    Py_DECREF(fast);
                    return FAILED;
                }
            }
            Py_DECREF(fast);
            return TAKEN;
        }
    }
    if (g->cached_row != i && spell_args(g, i) < 0)
        return FAILED;
    for (k = 0; k < g->nitems; k++) {
        const Item *item = &g->items[k];
        const Py_ssize_t *at = &g->span[2 * (item->text != NULL ? 0 : item->len)];
        if (item->text != NULL) {
            if (put(b, item->text, item->len) < 0)
                return FAILED;
        } else if (put(b, g->text.data + at[0], at[1]) < 0)
            return FAILED;
    }
    return TAKEN;
}

/* A row of a block given cell by cell: its items, or NULL when it is not a sequence of
 * width cells (the whole band is then left to Python). */
static PyObject **row_cells(const Cells *c, Py_ssize_t k)
{
    PyObject *row = c->rows[c->i0 + k];
    if ((!PyList_CheckExact(row) && !PyTuple_CheckExact(row))
        || PySequence_Fast_GET_SIZE(row) != c->width)
        return NULL;
    return PySequence_Fast_ITEMS(row);
}

/* Row k's text into b: TAKEN, LEFT or FAILED; *shape set when a row is not of its block's
 * width. */
static int row_text(Buf *b, Grid *grids, Py_ssize_t ngrids, const Cells *others,
                    Py_ssize_t nothers, const Cells *labels, Py_ssize_t nlabels,
                    Py_ssize_t k, int *shape)
{
    Py_ssize_t g, j, at, end, w;
    unsigned char *p;
    b->len = 0;
    for (g = 0; g < ngrids; g++) {
        int rc;
        if (g && put_byte(b, 0) < 0)
            return FAILED;
        rc = put_grid_row(b, &grids[g], grids[g].i0 + k);
        if (rc != TAKEN)
            return rc;
    }
    if (ngrids) { /* an empty formula in a grid: the Python path reads the row cell by cell */
        const unsigned char *z = b->data, *stop = b->data + b->len;
        if (b->len == 0 || z[0] == 0 || stop[-1] == 0)
            return LEFT;
        while ((z = memchr(z + 1, 0, (size_t)(stop - z - 1))) != NULL)
            if (z[-1] == 0)
                return LEFT;
    }
    for (g = 0; g < nothers; g++) {
        PyObject **cells = row_cells(&others[g], k);
        if (cells == NULL) {
            *shape = 1;
            return LEFT;
        }
        for (j = 0; j < others[g].width; j++) {
            if (!PyUnicode_CheckExact(cells[j]) || PyUnicode_GET_LENGTH(cells[j]) == 0)
                return LEFT;
            if ((b->len && put_byte(b, 0) < 0) || put_str(b, cells[j]) < 0)
                return FAILED;
        }
    }
    p = memchr(b->data, ' ', (size_t)b->len); /* spaces removed from the formulas */
    if (p != NULL) {
        for (at = p - b->data, end = at; at < b->len; at++)
            if (b->data[at] != ' ')
                b->data[end++] = b->data[at];
        b->len = end;
    }
    if (put_byte(b, 0x1f) < 0)
        return FAILED;
    w = 0;
    for (g = 0; g < nlabels; g++) {
        PyObject **cells = row_cells(&labels[g], k);
        if (cells == NULL) {
            *shape = 1;
            return LEFT;
        }
        for (j = 0; j < labels[g].width; j++) {
            PyObject *v = cells[j];
            if (!PyUnicode_CheckExact(v) || PyUnicode_GET_LENGTH(v) == 0
                || PyUnicode_FindChar(v, '\r', 0, PyUnicode_GET_LENGTH(v), 1) != -1)
                return LEFT;
            if ((w++ && put_byte(b, 0x1f) < 0) || put_str(b, v) < 0)
                return FAILED;
        }
    }
    return TAKEN;
}

/* The (rows, i0, width) blocks: their rows' items into out; 0, or -1 with an error set, or
 * 1 when a block cannot be taken (rows not a list long enough). */
static int read_cells(PyObject *blocks, Py_ssize_t n, Cells *out)
{
    Py_ssize_t g, count = PyTuple_GET_SIZE(blocks);
    for (g = 0; g < count; g++) {
        PyObject *rows;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(blocks, g), "Onn", &rows, &out[g].i0,
                              &out[g].width))
            return -1;
        if (!PyList_CheckExact(rows) || out[g].i0 < 0
            || PyList_GET_SIZE(rows) < out[g].i0 + n)
            return 1;
        out[g].rows = PySequence_Fast_ITEMS(rows);
    }
    return 0;
}

/* The (items, args, i0, explicit) grids into out (their arrays kept in *mem to be freed);
 * 0, -1 on error, 1 when one cannot be taken (an argument list that is not a list or tuple
 * covering the band, an item that is not bytes or a slot in range). */
static int read_grids(PyObject *grids, Py_ssize_t n, Grid *out, void **mem)
{
    Py_ssize_t g, a, k, count = PyTuple_GET_SIZE(grids);
    for (g = 0; g < count; g++) {
        PyObject *items, *args, *explicit;
        Grid *grid = &out[g];
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(grids, g), "O!O!nO", &PyTuple_Type, &items,
                              &PyTuple_Type, &args, &grid->i0, &explicit))
            return -1;
        grid->nargs = PyTuple_GET_SIZE(args);
        grid->nitems = PyTuple_GET_SIZE(items);
        grid->explicit = explicit == Py_None ? NULL : explicit;
        if (grid->explicit != NULL && !PyDict_Check(explicit))
            return 1;
        mem[3 * g] = grid->args = PyMem_Calloc((size_t)grid->nargs + 1, sizeof(PyObject **));
        mem[3 * g + 1] = grid->items = PyMem_Calloc((size_t)grid->nitems + 1, sizeof(Item));
        mem[3 * g + 2] = grid->span = PyMem_Calloc(2 * (size_t)grid->nargs + 1,
                                                   sizeof(Py_ssize_t));
        grid->cached_row = -1;
        if (grid->args == NULL || grid->items == NULL || grid->span == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (a = 0; a < grid->nargs; a++)
            grid->span[2 * a + 1] = -1; /* until a slot takes it */
        for (a = 0; a < grid->nargs; a++) {
            PyObject *list = PyTuple_GET_ITEM(args, a);
            if ((!PyList_CheckExact(list) && !PyTuple_CheckExact(list)) || grid->i0 < 0
                || PySequence_Fast_GET_SIZE(list) < grid->i0 + n)
                return 1;
            grid->args[a] = PySequence_Fast_ITEMS(list);
        }
        for (k = 0; k < grid->nitems; k++) {
            PyObject *item = PyTuple_GET_ITEM(items, k);
            if (PyBytes_CheckExact(item)) {
                grid->items[k].text = PyBytes_AS_STRING(item);
                grid->items[k].len = PyBytes_GET_SIZE(item);
                continue;
            }
            if (!PyLong_CheckExact(item))
                return 1;
            a = PyLong_AsSsize_t(item);
            if (a == -1 && PyErr_Occurred())
                return -1;
            if (a < 0 || a >= grid->nargs)
                return 1;
            grid->items[k].text = NULL;
            grid->items[k].len = a;
            grid->span[2 * a + 1] = 1; /* a slot takes it: spelled with each row */
        }
    }
    return 0;
}

/* The texts in b[0..count-1] hashed, each row's fingerprint (head and digest) put at
 * out[at[j]]; 0, or -1 with an error set. */
static int put_texts(PyObject *out, PyObject *head, const Buf *b, const Py_ssize_t *at,
                     int count)
{
    const unsigned char *data[LANES] = {NULL};
    size_t len[LANES] = {0};
    char chars[LANES][DIGEST_CHARS];
    Py_ssize_t hlen = PyUnicode_GET_LENGTH(head);
    int j;
    for (j = 0; j < count; j++) {
        data[j] = b[j].data;
        len[j] = (size_t)b[j].len;
    }
    digest_lanes(data, len, count, chars);
    for (j = 0; j < count; j++) {
        PyObject *text = PyUnicode_New(hlen + DIGEST_CHARS, 127);
        if (text == NULL)
            return -1;
        memcpy(PyUnicode_DATA(text), PyUnicode_DATA(head), (size_t)hlen);
        memcpy((char *)PyUnicode_DATA(text) + hlen, chars[j], DIGEST_CHARS);
        PyList_SET_ITEM(out, at[j], text);
    }
    return 0;
}

static PyObject *band(PyObject *Py_UNUSED(self), PyObject *args)
{
    PyObject *head, *grids, *others, *labels, *out = NULL;
    Py_ssize_t n, k, ngrids, nothers, nlabels, g;
    Grid *gv = NULL;
    Cells *ov = NULL, *lv = NULL;
    void **mem = NULL;
    Buf b[LANES] = {{NULL, 0, 0}};
    Py_ssize_t at[LANES]; /* the rows whose texts are in b, waiting to be hashed */
    int rc, j, waiting = 0, shape = 0;
    if (!PyArg_ParseTuple(args, "UnO!O!O!", &head, &n, &PyTuple_Type, &grids, &PyTuple_Type,
                          &others, &PyTuple_Type, &labels))
        return NULL;
    if (!PyUnicode_IS_ASCII(head) || n < 0) {
        PyErr_SetString(PyExc_ValueError, "head must be ASCII and n not negative");
        return NULL;
    }
    ngrids = PyTuple_GET_SIZE(grids);
    nothers = PyTuple_GET_SIZE(others);
    nlabels = PyTuple_GET_SIZE(labels);
    gv = PyMem_Calloc((size_t)ngrids + 1, sizeof(Grid));
    mem = PyMem_Calloc(3 * (size_t)ngrids + 1, sizeof(void *));
    ov = PyMem_Calloc((size_t)nothers + 1, sizeof(Cells));
    lv = PyMem_Calloc((size_t)nlabels + 1, sizeof(Cells));
    if (gv == NULL || mem == NULL || ov == NULL || lv == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    rc = read_grids(grids, n, gv, mem);
    if (rc == 0)
        rc = read_cells(others, n, ov);
    if (rc == 0)
        rc = read_cells(labels, n, lv);
    if (rc < 0)
        goto done;
    if (rc > 0) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    out = PyList_New(n);
    if (out == NULL)
        goto done;
    for (k = 0; k < n; k++) {
        rc = row_text(&b[waiting], gv, ngrids, ov, nothers, lv, nlabels, k, &shape);
        if (rc == FAILED) {
            Py_CLEAR(out);
            goto done;
        }
        if (shape) {
            Py_SETREF(out, Py_NewRef(Py_None));
            goto done;
        }
        if (rc == LEFT) {
            PyList_SET_ITEM(out, k, Py_NewRef(Py_None));
            continue;
        }
        at[waiting++] = k;
        if (waiting == LANES) {
            waiting = 0;
            if (put_texts(out, head, b, at, LANES) < 0) {
                Py_CLEAR(out);
                goto done;
            }
        }
    }
    if (waiting && put_texts(out, head, b, at, waiting) < 0)
        Py_CLEAR(out);
done:
    if (mem != NULL)
        for (g = 0; g < 3 * ngrids; g++)
            PyMem_Free(mem[g]);
    PyMem_Free(mem);
    if (gv != NULL)
        for (g = 0; g < ngrids; g++)
            PyMem_Free(gv[g].text.data);
    PyMem_Free(gv);
    PyMem_Free(ov);
    PyMem_Free(lv);
    for (j = 0; j < LANES; j++)
        PyMem_Free(b[j].data);
    return out;
}

static PyObject *digest(PyObject *Py_UNUSED(self), PyObject *arg)
{
    char chars[DIGEST_CHARS];
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "digest takes bytes");
        return NULL;
    }
    digest_chars((const unsigned char *)PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg),
                 chars);
    return PyUnicode_FromStringAndSize(chars, DIGEST_CHARS);
}

/* digests(texts: list of bytes) -> list of str: each text's 12 characters, hashed LANES at a
 * time as band hashes its rows (tests compare them with hashlib's). */
static PyObject *digests(PyObject *Py_UNUSED(self), PyObject *arg)
{
    PyObject *out;
    Py_ssize_t n, k;
    if (!PyList_CheckExact(arg)) {
        PyErr_SetString(PyExc_TypeError, "digests takes a list of bytes");
        return NULL;
    }
    n = PyList_GET_SIZE(arg);
    for (k = 0; k < n; k++)
        if (!PyBytes_Check(PyList_GET_ITEM(arg, k))) {
            PyErr_SetString(PyExc_TypeError, "digests takes a list of bytes");
            return NULL;
        }
    out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (k = 0; k < n; k += LANES) {
        const unsigned char *data[LANES] = {NULL};
        size_t len[LANES] = {0};
        char chars[LANES][DIGEST_CHARS];
        int j, count = n - k < LANES ? (int)(n - k) : LANES;
        for (j = 0; j < count; j++) {
            PyObject *text = PyList_GET_ITEM(arg, k + j);
            data[j] = (const unsigned char *)PyBytes_AS_STRING(text);
            len[j] = (size_t)PyBytes_GET_SIZE(text);
        }
        digest_lanes(data, len, count, chars);
        for (j = 0; j < count; j++) {
            PyObject *text = PyUnicode_FromStringAndSize(chars[j], DIGEST_CHARS);
            if (text == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            PyList_SET_ITEM(out, k + j, text);
        }
    }
    return out;
}

/* kernels() -> list of str: the lane kernels this CPU runs, the one in use first.
 * use_kernel(name) -> str: hash with that kernel from now on (tests run each); returns the
 * one it replaces. */
static PyObject *kernel_names(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(arg))
{
    PyObject *out = PyList_New(0), *name;
    int k;
    if (out == NULL)
        return NULL;
    for (k = -1; k < NKERNELS; k++) {
        if (k >= 0 && (k == kernel || !kernels[k].supported))
            continue;
        name = PyUnicode_FromString(kernels[k < 0 ? kernel : k].name);
        if (name == NULL || PyList_Append(out, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(name);
    }
    return out;
}

static PyObject *use_kernel(PyObject *Py_UNUSED(self), PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg), *was = kernels[kernel].name;
    int k;
    if (name == NULL)
        return NULL;
    for (k = 0; k < NKERNELS; k++)
        if (kernels[k].supported && strcmp(kernels[k].name, name) == 0) {
            kernel = k;
            return PyUnicode_FromString(was);
        }
    PyErr_Format(PyExc_ValueError, "no kernel %R on this CPU", arg);
    return NULL;
}

static PyMethodDef methods[] = {
    {"band", band, METH_VARARGS, "The fingerprint texts of a band of rows (None: left)."},
    {"digest", digest, METH_O, "A text's 12-character digest: BLAKE2b-72, URL-safe base64."},
    {"digests", digests, METH_O, "Each text's digest, hashed four at a time as band does."},
    {"kernels", kernel_names, METH_NOARGS, "The lane kernels this CPU runs, the one in use first."},
    {"use_kernel", use_kernel, METH_O, "Hash with the named kernel; returns the one it replaces."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rowprints", "Row fingerprints, compiled.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rowprints(void)
{
    choose_lanes();
    return PyModule_Create(&module);
}
