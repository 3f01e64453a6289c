// Process-level helpers Swift 6 cannot call safely itself (stdout is a mutable C global).
#include "CKernels.h"
#include <stdio.h>

void ck_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
