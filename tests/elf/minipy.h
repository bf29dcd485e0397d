/* The few CPython C-API declarations a test extension module needs, written out so that
 * one source builds with gcc, musl-gcc and a cross gcc without any Python headers.
 * Layouts are those of CPython 3.x's PyObject and PyModuleDef (Include/moduleobject.h),
 * unchanged since 3.5; 1013 is PYTHON_API_VERSION. */
#ifndef MINIPY_H
#define MINIPY_H

typedef struct { long ob_refcnt; void *ob_type; } mp_object;
typedef struct { mp_object ob_base; void *(*m_init)(void); long m_index; void *m_copy; }
    mp_moduledef_base;
typedef struct {
    mp_moduledef_base m_base;
    const char *m_name;
    const char *m_doc;
    long m_size;
    void *m_methods, *m_slots, *m_traverse, *m_clear, *m_free;
} mp_moduledef;

extern void *PyModule_Create2(mp_moduledef *def, int apiver);

#define MP_CAT(a, b) a##b
#define MP_XCAT(a, b) MP_CAT(a, b)
#define MP_STR(a) #a
#define MP_XSTR(a) MP_STR(a)

/* Defines PyInit_<name>, returning a new empty module named <name>. */
#define MP_MODULE(name)                                                               \
    static mp_moduledef mp_def = {{{1, 0}, 0, 0, 0}, MP_XSTR(name), 0, -1, 0, 0, 0, 0, 0}; \
    __attribute__((visibility("default"))) void *MP_XCAT(PyInit_, name)(void) {       \
        return PyModule_Create2(&mp_def, 1013);                                       \
    }

#endif
