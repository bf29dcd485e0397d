/* One source, many test extension modules; each -D switch gives one defect:
 *   MODNAME=x       the module name (PyInit_x), unless NO_PYINIT
 *   NO_PYINIT       export no PyInit_ function                       -> NO_PYINIT
 *   USE_TLS         an initial-exec thread-local (DF_STATIC_TLS)     -> STATIC_TLS
 *   NEED_MISSING    call into libwgabsent.so.1 (linked, not shipped)  -> MISSING_LIBRARY
 *   NEED_UNDEF      call a function no library defines               -> UNDEFINED_SYMBOL
 *   NEED_GLIBC_229  call posix_spawn_file_actions_addchdir_np (GLIBC_2.29) -> SYMBOL_VERSION
 *                   on a glibc 2.28 target
 *   NEED_WGA        call into libwga.so.1 (loader search-order tests)
 *   NEED_GLIBC_ONLY call gnu_get_libc_version, which only glibc defines (LIBC_MISMATCH
 *                   that really fails on musl)
 *   WITH_MAIN       add main(): linked as an executable (-pie or -no-pie) the module is one
 *                   glibc refuses to dlopen (CORRUPT_ELF); musl loads it
 * Built with -z execstack it gives EXEC_STACK; linked to a libpython stub, LIBPYTHON; with
 * -z nodlopen, a library glibc refuses to dlopen. */
#include <stddef.h>
#include "minipy.h"

extern size_t strlen(const char *);

#ifdef USE_TLS
__thread int wg_tls_counter;
#endif
#ifdef NEED_MISSING
extern int wg_absent(void);
#endif
#ifdef NEED_UNDEF
extern int wg_nowhere(void);
#endif
#ifdef NEED_GLIBC_229
extern int posix_spawn_file_actions_addchdir_np(void *, const char *);
#endif
#ifdef NEED_WGA
extern int wg_a(void);
#endif
#ifdef NEED_GLIBC_ONLY
extern const char *gnu_get_libc_version(void);
#endif

__attribute__((visibility("default"))) int wg_work(const char *s) {
    int n = (int)strlen(s);
#ifdef USE_TLS
    n += ++wg_tls_counter;
#endif
#ifdef NEED_MISSING
    n += wg_absent();
#endif
#ifdef NEED_UNDEF
    n += wg_nowhere();
#endif
#ifdef NEED_GLIBC_229
    n += posix_spawn_file_actions_addchdir_np(NULL, s);
#endif
#ifdef NEED_WGA
    n += wg_a();
#endif
#ifdef NEED_GLIBC_ONLY
    n += (int)strlen(gnu_get_libc_version());
#endif
    return n;
}

#ifndef NO_PYINIT
MP_MODULE(MODNAME)
#endif

#ifdef WITH_MAIN
int main(void) { return wg_work("") ; }
#endif
