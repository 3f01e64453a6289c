#include <mpi.h>

// Open MPI spells its handles and MPI_IN_PLACE as macros over global objects
// (`&ompi_mpi_comm_world`, ...), which Swift does not import: these functions return them.
// MPICH's integer handles work the same way through them.
static inline MPI_Comm grpo_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype grpo_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype grpo_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype grpo_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op grpo_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op grpo_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op grpo_mpi_min(void) { return MPI_MIN; }
static inline void *grpo_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler grpo_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int grpo_mpi_success(void) { return MPI_SUCCESS; }
static inline int grpo_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
