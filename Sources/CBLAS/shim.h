#include <cblas.h>
// OpenBLAS extensions: let the engine decide who owns the cores in each phase.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
