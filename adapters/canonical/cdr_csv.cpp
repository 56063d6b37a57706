// Implemented by the read-API work of issue 4 (export); see cdr_csv.h.
#include "adapters/canonical/cdr_csv.h"
