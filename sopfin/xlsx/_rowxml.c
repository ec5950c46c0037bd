/* The XML of worksheet rows, compiled: the same text sopfin.xlsx.cellxml builds in Python.
 *
 * rows(columns, style, args, values, first_row, i0, explicit) -> list[str]
 *
 *   columns    one (open, pieces, slots) per column: open is '<c r="' plus the column's
 *              letters; pieces (str, XML-escaped) and slots (int) spell the column's formula,
 *              pieces[0] slot[0] pieces[1] ... pieces[-1], a slot being an index into args;
 *              pieces None for a column without formulas.
 *   style      '"' plus the block's ' s="N"' attribute (or '"' alone).
 *   args       one list of str (XML-escaped) per formula argument, indexed by block row.
 *   values     2-D C-contiguous float64 array: the cached values of the rows written.
 *   first_row  the sheet row number of values' first row; i0 its block row.
 *   explicit   None, or a dict {block row: sequence of formula str} for rows whose formulas
 *              are given cell by cell (a leading '=' dropped and '&', '<', '>' escaped here).
 *
 * A value is written as repr(float) with a trailing ".0" dropped; a NaN value is a blank
 * cached string for a formula cell and no cell at all for a plain one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int reserve(Buf *b, Py_ssize_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1 << 14;
    while (cap < b->len + more)
        cap *= 2;
    char *p = PyMem_Realloc(b->data, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline int put(Buf *b, const char *s, Py_ssize_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, s) put((b), (s), (Py_ssize_t)sizeof(s) - 1)

static int put_uint(char *out, uint64_t v)
{
    char tmp[24];
    int n = 0, k;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (k = 0; k < n; k++)
        out[k] = tmp[n - 1 - k];
    return n;
}

typedef struct {
    const char *at, *end; /* the rest of a window's values spelled by orjson, or NULL */
} Spelled;

/* The next value's spelling from orjson ('[1.0,2.5,null]'), its length in *len; NULL when
 * there is none. */
static const char *next_spelled(Spelled *sp, Py_ssize_t *len)
{
    const char *p = sp->at, *q;
    if (p == NULL || p >= sp->end)
        return NULL;
    if (*p == '[' || *p == ',')
        p++;
    for (q = p; q < sp->end && *q != ',' && *q != ']'; q++)
        ;
    sp->at = q;
    *len = q - p;
    return p;
}

/* orjson's spelling of a value, as repr spells it (it differs below 1e-4, where it is not
 * used), a trailing ".0" dropped; -1 when it cannot be used. */
static Py_ssize_t from_spelled(const char *tok, Py_ssize_t len, char *out)
{
    Py_ssize_t k;
    if (tok == NULL || len < 1 || len > 31)
        return -1;
    for (k = 0; k < len; k++)
        if (!((tok[k] >= '0' && tok[k] <= '9') || tok[k] == '.' || tok[k] == '-'
              || tok[k] == 'e' || tok[k] == '+'))
            return -1;
    if (len > 2 && tok[len - 2] == '.' && tok[len - 1] == '0')
        len -= 2;
    memcpy(out, tok, (size_t)len);
    return len;
}

/* repr(x) with a trailing ".0" dropped, into out (32 bytes); its length, or -1 on error.
 * Whole numbers below 1e16 and values on the cents grid below 1e12 are written directly
 * (repr's shortest digits are then exactly these); other values from 1e-4 up take orjson's
 * spelling when the window has one (``tok``: its shortest round-trip digits are repr's);
 * anything else is spelled by Python's own repr. */
static Py_ssize_t format_double(double x, char *out, const char *tok, Py_ssize_t tok_len)
{
    char *p = out;
    double ax = fabs(x);
    if (x == 0.0) {
        if (signbit(x))
            *p++ = '-';
        *p++ = '0';
        return p - out;
    }
    if (ax < 1e16 && x == trunc(x)) {
        if (x < 0)
            *p++ = '-';
        p += put_uint(p, (uint64_t)ax);
        return p - out;
    }
    if (ax < 1e12) {
        volatile double scaled = x * 100.0; /* no fused multiply-add: as numpy computes it */
        double cents = rint(scaled);
        if (cents / 100.0 == x) {
            uint64_t c = (uint64_t)fabs(cents);
            unsigned frac = (unsigned)(c % 100);
            if (x < 0)
                *p++ = '-';
            p += put_uint(p, c / 100);
            *p++ = '.';
            *p++ = (char)('0' + frac / 10);
            if (frac % 10)
                *p++ = (char)('0' + frac % 10);
            return p - out;
        }
    }
    if (tok != NULL && ax >= 1e-4 && isfinite(x)) {
        Py_ssize_t n = from_spelled(tok, tok_len, out);
        if (n > 0)
            return n;
    }
    char *s = PyOS_double_to_string(x, 'r', 0, 0, NULL);
    if (s == NULL)
        return -1;
    size_t n = strlen(s);
    if (n > 31)
        n = 31;
    memcpy(out, s, n);
    PyMem_Free(s);
    return (Py_ssize_t)n;
}

typedef struct {
    const char *open;
    Py_ssize_t open_len;
    Py_ssize_t n_pieces; /* 0: no formula */
    const char **pieces;
    Py_ssize_t *piece_lens;
    Py_ssize_t *slots;
} Column;

/* str -> its UTF-8 bytes (cached by the str); *ascii cleared for a non-ASCII str. */
static const char *utf8_of(PyObject *s, Py_ssize_t *len, int *ascii)
{
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "rows: expected str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(s))
        *ascii = 0;
    return PyUnicode_AsUTF8AndSize(s, len);
}

/* A formula given as text: a leading '=' dropped, '&', '<' and '>' escaped. */
static int put_escaped(Buf *b, const char *s, Py_ssize_t n)
{
    Py_ssize_t i, start = 0;
    for (i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        default: continue;
        }
        if (put(b, s + start, i - start) < 0 || put(b, rep, (Py_ssize_t)strlen(rep)) < 0)
            return -1;
        start = i + 1;
    }
    return put(b, s + start, n - start);
}

typedef struct {
    Column *cols;
    Py_ssize_t n_cols;
    const char *style;
    Py_ssize_t style_len;
    PyObject **arg_lists; /* borrowed list objects */
    Py_ssize_t n_args;
    int ascii;
} Plan;

/* The template formula of column c in block row i. */
static int put_template(Buf *b, const Plan *plan, const Column *c, Py_ssize_t i, int *ascii)
{
    Py_ssize_t k;
    for (k = 0; k < c->n_pieces; k++) {
        if (put(b, c->pieces[k], c->piece_lens[k]) < 0)
            return -1;
        if (k == c->n_pieces - 1)
            break;
        PyObject *list = plan->arg_lists[c->slots[k]];
        if (i >= PyList_GET_SIZE(list)) {
            PyErr_SetString(PyExc_IndexError, "rows: argument list too short");
            return -1;
        }
        Py_ssize_t n;
        const char *s = utf8_of(PyList_GET_ITEM(list, i), &n, ascii);
        if (s == NULL || put(b, s, n) < 0)
            return -1;
    }
    return 0;
}

/* One cell: the formula from the template (formula == NULL, column with pieces), from
 * ``formula`` (explicit rows), or none. */
static int put_cell(Buf *b, const Plan *plan, const Column *c, const char *row, int row_len,
                    double v, Spelled *sp, Py_ssize_t i, PyObject *formula, int *ascii)
{
    Py_ssize_t tok_len = 0;
    const char *tok = next_spelled(sp, &tok_len);
    const char *ftext = NULL;
    Py_ssize_t flen = 0;
    int has_formula;
    if (formula != NULL) {
        has_formula = 0;
        if (PyUnicode_Check(formula)) {
            ftext = utf8_of(formula, &flen, ascii);
            if (ftext == NULL)
                return -1;
            if (flen && ftext[0] == '=') {
                ftext++;
                flen--;
            }
            has_formula = flen > 0;
        }
    }
    else
        has_formula = c->n_pieces > 0;
    int blank = isnan(v);
    if (blank && !has_formula)
        return 0;
    if (put(b, c->open, c->open_len) < 0 || put(b, row, row_len) < 0
        || put(b, plan->style, plan->style_len) < 0)
        return -1;
    if (has_formula) {
        if ((blank ? PUT_LITERAL(b, " t=\"str\"><f>") : PUT_LITERAL(b, "><f>")) < 0)
            return -1;
        if (ftext != NULL ? put_escaped(b, ftext, flen) : put_template(b, plan, c, i, ascii))
            return -1;
        if (blank)
            return PUT_LITERAL(b, "</f><v></v></c>");
        if (PUT_LITERAL(b, "</f><v>") < 0)
            return -1;
    }
    else if (PUT_LITERAL(b, "><v>") < 0)
        return -1;
    char num[32];
    Py_ssize_t n = format_double(v, num, tok, tok_len);
    if (n < 0 || put(b, num, n) < 0)
        return -1;
    return PUT_LITERAL(b, "</v></c>");
}

static PyObject *row_text(const Buf *b, int ascii)
{
    if (!ascii)
        return PyUnicode_DecodeUTF8(b->data, b->len, "strict");
    PyObject *s = PyUnicode_New(b->len, 127);
    if (s != NULL)
        memcpy(PyUnicode_DATA(s), b->data, (size_t)b->len);
    return s;
}

static void free_plan(Plan *plan)
{
    Py_ssize_t j;
    if (plan->cols != NULL) {
        for (j = 0; j < plan->n_cols; j++) {
            PyMem_Free(plan->cols[j].pieces);
            PyMem_Free(plan->cols[j].piece_lens);
            PyMem_Free(plan->cols[j].slots);
        }
    }
    PyMem_Free(plan->cols);
    PyMem_Free(plan->arg_lists);
}

static int read_column(Plan *plan, Column *c, PyObject *spec)
{
    PyObject *open, *pieces, *slots;
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 3) {
        PyErr_SetString(PyExc_TypeError, "rows: a column is (open, pieces, slots)");
        return -1;
    }
    open = PyTuple_GET_ITEM(spec, 0);
    pieces = PyTuple_GET_ITEM(spec, 1);
    slots = PyTuple_GET_ITEM(spec, 2);
    c->open = utf8_of(open, &c->open_len, &plan->ascii);
    if (c->open == NULL)
        return -1;
    if (pieces == Py_None)
        return 0;
    if (!PyTuple_Check(pieces) || !PyTuple_Check(slots)
        || PyTuple_GET_SIZE(pieces) != PyTuple_GET_SIZE(slots) + 1) {
        PyErr_SetString(PyExc_TypeError, "rows: pieces must be one longer than slots");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(pieces), k;
    c->pieces = PyMem_Calloc((size_t)n, sizeof(char *));
    c->piece_lens = PyMem_Calloc((size_t)n, sizeof(Py_ssize_t));
    c->slots = PyMem_Calloc((size_t)n, sizeof(Py_ssize_t));
    if (c->pieces == NULL || c->piece_lens == NULL || c->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->n_pieces = n;
    for (k = 0; k < n; k++) {
        c->pieces[k] = utf8_of(PyTuple_GET_ITEM(pieces, k), &c->piece_lens[k], &plan->ascii);
        if (c->pieces[k] == NULL)
            return -1;
        if (k < n - 1) {
            c->slots[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(slots, k));
            if (c->slots[k] == -1 && PyErr_Occurred())
                return -1;
            if (c->slots[k] < 0 || c->slots[k] >= plan->n_args) {
                PyErr_SetString(PyExc_IndexError, "rows: slot out of range");
                return -1;
            }
        }
    }
    return 0;
}

static int read_plan(Plan *plan, PyObject *columns, PyObject *style, PyObject *args)
{
    Py_ssize_t j;
    if (!PyTuple_Check(columns) || !PyTuple_Check(args)) {
        PyErr_SetString(PyExc_TypeError, "rows: columns and args must be tuples");
        return -1;
    }
    plan->ascii = 1;
    plan->style = utf8_of(style, &plan->style_len, &plan->ascii);
    if (plan->style == NULL)
        return -1;
    plan->n_args = PyTuple_GET_SIZE(args);
    plan->arg_lists = PyMem_Calloc((size_t)plan->n_args + 1, sizeof(PyObject *));
    plan->n_cols = PyTuple_GET_SIZE(columns);
    plan->cols = PyMem_Calloc((size_t)plan->n_cols + 1, sizeof(Column));
    if (plan->arg_lists == NULL || plan->cols == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (j = 0; j < plan->n_args; j++) {
        plan->arg_lists[j] = PyTuple_GET_ITEM(args, j);
        if (!PyList_Check(plan->arg_lists[j])) {
            PyErr_SetString(PyExc_TypeError, "rows: each argument column must be a list");
            return -1;
        }
    }
    for (j = 0; j < plan->n_cols; j++)
        if (read_column(plan, &plan->cols[j], PyTuple_GET_ITEM(columns, j)) < 0)
            return -1;
    return 0;
}

/* One row's XML into b (emptied first). */
static int format_row(Buf *b, const Plan *plan, const double *v, Spelled *sp,
                      Py_ssize_t sheet_row, Py_ssize_t i, PyObject *formulas, int *ascii)
{
    char row[24];
    int row_len = put_uint(row, (uint64_t)sheet_row);
    Py_ssize_t j;
    b->len = 0;
    *ascii = plan->ascii;
    if (formulas != NULL && PySequence_Fast_GET_SIZE(formulas) != plan->n_cols) {
        PyErr_SetString(PyExc_ValueError, "rows: an explicit row has the wrong width");
        return -1;
    }
    for (j = 0; j < plan->n_cols; j++) {
        PyObject *f = formulas != NULL ? PySequence_Fast_GET_ITEM(formulas, j) : NULL;
        if (put_cell(b, plan, &plan->cols[j], row, row_len, v[j], sp, i, f, ascii) < 0)
            return -1;
    }
    return 0;
}

static PyObject *explicit_row(PyObject *explicit, Py_ssize_t i)
{
    PyObject *key = PyLong_FromSsize_t(i);
    if (key == NULL)
        return NULL;
    PyObject *row = PyDict_GetItemWithError(explicit, key);
    Py_DECREF(key);
    if (row == NULL)
        return NULL;
    return PySequence_Fast(row, "rows: an explicit row must be a sequence");
}

static PyObject *rows(PyObject *self, PyObject *a)
{
    PyObject *columns, *style, *args, *values, *explicit, *spelling = Py_None, *out = NULL;
    Py_ssize_t first_row, i0, k;
    Py_buffer view;
    Plan plan = {0};
    Buf b = {0};
    Spelled spelled = {NULL, NULL};
    (void)self;
    if (!PyArg_ParseTuple(a, "OOOOnnO|O", &columns, &style, &args, &values, &first_row, &i0,
                          &explicit, &spelling))
        return NULL;
    if (spelling != Py_None) {
        if (!PyBytes_Check(spelling)) {
            PyErr_SetString(PyExc_TypeError, "rows: spelling must be bytes or None");
            return NULL;
        }
        spelled.at = PyBytes_AS_STRING(spelling);
        spelled.end = spelled.at + PyBytes_GET_SIZE(spelling);
    }
    if (explicit != Py_None && !PyDict_Check(explicit)) {
        PyErr_SetString(PyExc_TypeError, "rows: explicit must be a dict or None");
        return NULL;
    }
    if (PyObject_GetBuffer(values, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (read_plan(&plan, columns, style, args) < 0)
        goto done;
    if (view.ndim != 2 || view.format == NULL || strcmp(view.format, "d") != 0
        || view.shape[1] != plan.n_cols) {
        PyErr_SetString(PyExc_ValueError, "rows: values must be float64, one column per column");
        goto done;
    }
    out = PyList_New(view.shape[0]);
    if (out == NULL)
        goto done;
    for (k = 0; k < view.shape[0]; k++) {
        const double *v = (const double *)view.buf + k * plan.n_cols;
        PyObject *formulas = NULL, *text;
        int ascii;
        if (explicit != Py_None && PyDict_GET_SIZE(explicit)) {
            formulas = explicit_row(explicit, i0 + k);
            if (formulas == NULL && PyErr_Occurred())
                goto fail;
        }
        int failed = format_row(&b, &plan, v, &spelled, first_row + k, i0 + k, formulas,
                                &ascii) < 0;
        Py_XDECREF(formulas);
        if (failed || (text = row_text(&b, ascii)) == NULL)
            goto fail;
        PyList_SET_ITEM(out, k, text);
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    free_plan(&plan);
    PyMem_Free(b.data);
    PyBuffer_Release(&view);
    return out;
}

static PyObject *value_text(PyObject *self, PyObject *arg)
{
    char num[32];
    double x = PyFloat_AsDouble(arg);
    (void)self;
    if (x == -1.0 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = format_double(x, num, NULL, 0);
    return n < 0 ? NULL : PyUnicode_FromStringAndSize(num, n);
}

/* Row k of the list out: b's text. */
static int set_row(PyObject *out, Py_ssize_t k, const Buf *b, int ascii)
{
    PyObject *text = row_text(b, ascii);
    if (text == NULL)
        return -1;
    PyList_SET_ITEM(out, k, text);
    return 0;
}

/* out, or NULL (out released) when failed; b's memory freed either way. */
static PyObject *rows_done(PyObject *out, Buf *b, int failed)
{
    PyMem_Free(b->data);
    if (failed) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

#define MAX_STRING 32767 /* Excel's limit on the characters of one cell */

/* One label escaped, or NULL when it needs the Python path (non-ASCII, a control
 * character, longer than a cell holds); a new reference. */
static PyObject *escaped_ascii(PyObject *s, Buf *b)
{
    if (!PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s) || PyUnicode_GET_LENGTH(s) > MAX_STRING)
        return NULL;
    const unsigned char *p = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), i;
    int plain = 1;
    for (i = 0; i < n; i++) {
        if (p[i] < 0x20)
            return NULL;
        if (p[i] == '&' || p[i] == '<' || p[i] == '>')
            plain = 0;
    }
    if (plain) {
        Py_INCREF(s);
        return s;
    }
    b->len = 0;
    if (put_escaped(b, (const char *)p, n) < 0)
        return NULL;
    return row_text(b, 1);
}

/* escape_labels(labels, fallback) -> list[str]: each label as a cell writes it, by
 * ``fallback`` (a Python function) when it is not plain ASCII text. */
static PyObject *escape_labels(PyObject *self, PyObject *a)
{
    PyObject *labels, *fallback, *out;
    Buf b = {0};
    Py_ssize_t k, n;
    (void)self;
    if (!PyArg_ParseTuple(a, "O!O", &PyList_Type, &labels, &fallback))
        return NULL;
    n = PyList_GET_SIZE(labels);
    out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (k = 0; k < n; k++) {
        PyObject *label = PyList_GET_ITEM(labels, k);
        PyObject *text = escaped_ascii(label, &b);
        if (text == NULL && !PyErr_Occurred())
            text = PyObject_CallOneArg(fallback, label);
        if (text == NULL) {
            Py_DECREF(out);
            PyMem_Free(b.data);
            return NULL;
        }
        PyList_SET_ITEM(out, k, text);
    }
    PyMem_Free(b.data);
    return out;
}

/* label_rows(opens, tail, rows, first_row, texts) -> list[str]: rows (lists of str) of a
 * block of labels, each written as texts[label] between the column's opening plus the row
 * number plus ``tail`` and the closing tags of an inline string. */
static PyObject *label_rows(PyObject *self, PyObject *a)
{
    PyObject *opens, *tail, *rows_list, *texts, *out;
    Py_ssize_t first_row, k, j;
    Buf b = {0};
    (void)self;
    if (!PyArg_ParseTuple(a, "O!UO!nO!", &PyTuple_Type, &opens, &tail, &PyList_Type,
                          &rows_list, &first_row, &PyDict_Type, &texts))
        return NULL;
    Py_ssize_t n_cols = PyTuple_GET_SIZE(opens), tail_len;
    int tail_ascii = 1;
    const char *tail_text = utf8_of(tail, &tail_len, &tail_ascii);
    if (tail_text == NULL)
        return NULL;
    out = PyList_New(PyList_GET_SIZE(rows_list));
    if (out == NULL)
        return NULL;
    for (k = 0; k < PyList_GET_SIZE(rows_list); k++) {
        PyObject *row = PyList_GET_ITEM(rows_list, k);
        char number[24];
        int number_len = put_uint(number, (uint64_t)(first_row + k)), ascii = tail_ascii;
        if (!PyList_Check(row) || PyList_GET_SIZE(row) != n_cols) {
            PyErr_SetString(PyExc_ValueError, "label_rows: a row has the wrong width");
            goto fail;
        }
        b.len = 0;
        for (j = 0; j < n_cols; j++) {
            Py_ssize_t open_len, label_len;
            const char *open = utf8_of(PyTuple_GET_ITEM(opens, j), &open_len, &ascii);
            PyObject *label = PyDict_GetItemWithError(texts, PyList_GET_ITEM(row, j));
            if (label == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_KeyError, "label_rows: a label missing from texts");
                goto fail;
            }
            const char *label_text = utf8_of(label, &label_len, &ascii);
            if (open == NULL || label_text == NULL || put(&b, open, open_len) < 0
                || put(&b, number, number_len) < 0 || put(&b, tail_text, tail_len) < 0
                || put(&b, label_text, label_len) < 0 || PUT_LITERAL(&b, "</t></is></c>") < 0)
                goto fail;
        }
        if (set_row(out, k, &b, ascii) < 0)
            goto fail;
    }
    return rows_done(out, &b, 0);
fail:
    return rows_done(out, &b, 1);
}

/* window_xml(spans, first_row, n) -> bytes: the <row> elements of n sheet rows from
 * first_row, UTF-8; spans holds (offset, list of str) per block, the list's first str being
 * the block's cells in row first_row + offset; a row without cells is left out. */
static PyObject *window_xml(PyObject *self, PyObject *a)
{
    PyObject *spans, *out = NULL;
    Py_ssize_t first_row, n, k, j, n_spans;
    Py_ssize_t *offsets = NULL;
    PyObject **lists = NULL;
    Buf b = {0};
    (void)self;
    if (!PyArg_ParseTuple(a, "O!nn", &PyList_Type, &spans, &first_row, &n))
        return NULL;
    n_spans = PyList_GET_SIZE(spans);
    offsets = PyMem_Calloc((size_t)n_spans + 1, sizeof(Py_ssize_t));
    lists = PyMem_Calloc((size_t)n_spans + 1, sizeof(PyObject *));
    if (offsets == NULL || lists == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (j = 0; j < n_spans; j++) {
        PyObject *span = PyList_GET_ITEM(spans, j);
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 2
            || !PyList_Check(PyTuple_GET_ITEM(span, 1))) {
            PyErr_SetString(PyExc_TypeError, "window_xml: a span is (offset, list of str)");
            goto done;
        }
        offsets[j] = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        if (offsets[j] == -1 && PyErr_Occurred())
            goto done;
        lists[j] = PyTuple_GET_ITEM(span, 1);
    }
    for (k = 0; k < n; k++) {
        char number[24];
        int number_len = put_uint(number, (uint64_t)(first_row + k));
        Py_ssize_t mark = b.len, body;
        if (PUT_LITERAL(&b, "<row r=\"") < 0 || put(&b, number, number_len) < 0
            || PUT_LITERAL(&b, "\">") < 0)
            goto done;
        body = b.len;
        for (j = 0; j < n_spans; j++) {
            Py_ssize_t i = k - offsets[j], len;
            int ascii = 1;
            if (i < 0 || i >= PyList_GET_SIZE(lists[j]))
                continue;
            const char *text = utf8_of(PyList_GET_ITEM(lists[j], i), &len, &ascii);
            if (text == NULL || put(&b, text, len) < 0)
                goto done;
        }
        if (b.len == body)
            b.len = mark;
        else if (PUT_LITERAL(&b, "</row>") < 0)
            goto done;
    }
    out = PyBytes_FromStringAndSize(b.data, b.len);
done:
    PyMem_Free(offsets);
    PyMem_Free(lists);
    PyMem_Free(b.data);
    return out;
}

/* One plain cell as cellxml._cell writes it: None, bool, float, int and str here, anything
 * else (numpy scalars other than float64, error values, subclasses) by ``fallback``. */
static int put_plain_cell(Buf *b, const char *ref, Py_ssize_t ref_len, PyObject *style,
                          PyObject *v, PyObject *fallback, int *ascii)
{
    Py_ssize_t style_len, len;
    const char *s = utf8_of(style, &style_len, ascii), *text;
    char num[32];
    if (s == NULL)
        return -1;
    if (v == Py_None)
        return 0;
    if (PyBool_Check(v)) {
        return (put(b, ref, ref_len) < 0 || put(b, s, style_len) < 0
                || PUT_LITERAL(b, " t=\"b\"><v>") < 0 || put(b, v == Py_True ? "1" : "0", 1) < 0
                || PUT_LITERAL(b, "</v></c>") < 0) ? -1 : 0;
    }
    if (PyFloat_Check(v)) {
        double x = PyFloat_AS_DOUBLE(v);
        if (isnan(x))
            return 0;
        if (put(b, ref, ref_len) < 0 || put(b, s, style_len) < 0)
            return -1;
        if (isinf(x))
            return PUT_LITERAL(b, " t=\"e\"><v>#NUM!</v></c>");
        len = format_double(x, num, NULL, 0);
        return (len < 0 || PUT_LITERAL(b, "><v>") < 0 || put(b, num, len) < 0
                || PUT_LITERAL(b, "</v></c>") < 0) ? -1 : 0;
    }
    if (PyLong_CheckExact(v)) {
        PyObject *digits = PyObject_Str(v);
        if (digits == NULL)
            return -1;
        text = PyUnicode_AsUTF8AndSize(digits, &len);
        int failed = text == NULL || put(b, ref, ref_len) < 0 || put(b, s, style_len) < 0
                     || PUT_LITERAL(b, "><v>") < 0 || put(b, text, len) < 0
                     || PUT_LITERAL(b, "</v></c>") < 0;
        Py_DECREF(digits);
        return failed ? -1 : 0;
    }
    if (PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) == 0)
        return style_len > 0 ? ((put(b, ref, ref_len) < 0 || put(b, s, style_len) < 0
                                 || PUT_LITERAL(b, "/>") < 0) ? -1 : 0) : 0;
    if (PyUnicode_CheckExact(v) && PyUnicode_IS_ASCII(v) && PyUnicode_GET_LENGTH(v) <= MAX_STRING) {
        const unsigned char *p = PyUnicode_DATA(v);
        Py_ssize_t n = PyUnicode_GET_LENGTH(v), i;
        for (i = 0; i < n && p[i] >= 0x20; i++)
            ;
        if (i == n)
            return (put(b, ref, ref_len) < 0 || put(b, s, style_len) < 0
                    || PUT_LITERAL(b, " t=\"inlineStr\"><is><t xml:space=\"preserve\">") < 0
                    || put_escaped(b, (const char *)p, n) < 0
                    || PUT_LITERAL(b, "</t></is></c>") < 0) ? -1 : 0;
    }
    /* the Python path: _cell(ref without '<c r="', style, value) */
    PyObject *ref_text = PyUnicode_DecodeUTF8(ref + 6, ref_len - 7, "strict");
    if (ref_text == NULL)
        return -1;
    PyObject *xml = PyObject_CallFunctionObjArgs(fallback, ref_text, style, v, NULL);
    Py_DECREF(ref_text);
    if (xml == NULL)
        return -1;
    text = utf8_of(xml, &len, ascii);
    int failed = text == NULL || put(b, text, len) < 0;
    Py_DECREF(xml);
    return failed ? -1 : 0;
}

/* mixed_rows(letters, rows, styles, first_row, fallback) -> list[str]: rows (lists of
 * values) of a block without formulas, each cell in its own style (' s="N"' or ''). */
static PyObject *mixed_rows(PyObject *self, PyObject *a)
{
    PyObject *letters, *rows_list, *styles, *fallback, *out;
    Py_ssize_t first_row, k, j;
    Buf b = {0};
    (void)self;
    if (!PyArg_ParseTuple(a, "O!O!O!nO", &PyTuple_Type, &letters, &PyList_Type, &rows_list,
                          &PyList_Type, &styles, &first_row, &fallback))
        return NULL;
    Py_ssize_t n_cols = PyTuple_GET_SIZE(letters), n_rows = PyList_GET_SIZE(rows_list);
    if (PyList_GET_SIZE(styles) != n_rows) {
        PyErr_SetString(PyExc_ValueError, "mixed_rows: one row of styles per row");
        return NULL;
    }
    out = PyList_New(n_rows);
    if (out == NULL)
        return NULL;
    for (k = 0; k < n_rows; k++) {
        PyObject *row = PyList_GET_ITEM(rows_list, k), *srow = PyList_GET_ITEM(styles, k);
        int ascii = 1;
        if (!PyList_Check(row) || !PyList_Check(srow) || PyList_GET_SIZE(row) != n_cols
            || PyList_GET_SIZE(srow) != n_cols) {
            PyErr_SetString(PyExc_ValueError, "mixed_rows: a row has the wrong width");
            goto fail;
        }
        b.len = 0;
        for (j = 0; j < n_cols; j++) {
            char ref[48];
            Py_ssize_t letters_len;
            int ref_ascii = 1;
            const char *col = utf8_of(PyTuple_GET_ITEM(letters, j), &letters_len, &ref_ascii);
            if (col == NULL || letters_len > 8 || !ref_ascii) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "mixed_rows: a column's letters");
                goto fail;
            }
            memcpy(ref, "<c r=\"", 6);
            memcpy(ref + 6, col, (size_t)letters_len);
            Py_ssize_t ref_len = 6 + letters_len;
            ref_len += put_uint(ref + ref_len, (uint64_t)(first_row + k));
            ref[ref_len++] = '"';
            if (put_plain_cell(&b, ref, ref_len, PyList_GET_ITEM(srow, j),
                               PyList_GET_ITEM(row, j), fallback, &ascii) < 0)
                goto fail;
        }
        if (set_row(out, k, &b, ascii) < 0)
            goto fail;
    }
    return rows_done(out, &b, 0);
fail:
    return rows_done(out, &b, 1);
}

static PyMethodDef methods[] = {
    {"mixed_rows", mixed_rows, METH_VARARGS, "The XML of rows of plain cells, one per row."},
    {"window_xml", window_xml, METH_VARARGS, "The <row> elements of a window, UTF-8."},
    {"escape_labels", escape_labels, METH_VARARGS, "Labels escaped as cells write them."},
    {"label_rows", label_rows, METH_VARARGS, "The XML of a block of labels, one str per row."},
    {"rows", rows, METH_VARARGS, "The XML of a block's rows, one str per row."},
    {"value_text", value_text, METH_O, "A cached value's cell text: repr without '.0'."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rowxml", "The XML of worksheet rows, compiled.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rowxml(void)
{
    return PyModule_Create(&module);
}
