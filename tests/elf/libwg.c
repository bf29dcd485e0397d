/* Small shared libraries for the loader tests:
 *   -DWG_B       libwgb.so.1: defines wg_b
 *   -DWG_A       libwga.so.1: defines wg_a, calls wg_b (DT_NEEDED libwgb.so.1, no path)
 *   -DWG_ABSENT  libwgabsent.so.1: defines wg_absent (linked against, never shipped)
 *   -DWG_PYTHON  a library whose only purpose is its SONAME (libpythonX.Y.so.1.0) */
#ifdef WG_B
__attribute__((visibility("default"))) int wg_b(void) { return 2; }
#endif
#ifdef WG_A
extern int wg_b(void);
__attribute__((visibility("default"))) int wg_a(void) { return 1 + wg_b(); }
#endif
#ifdef WG_ABSENT
__attribute__((visibility("default"))) int wg_absent(void) { return 3; }
#endif
#ifdef WG_PYTHON
__attribute__((visibility("default"))) int wg_python_stub(void) { return 4; }
#endif
