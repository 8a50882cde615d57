"""The repository's conftest: pins BLAS to one thread per process before anything imports numpy.

The suite's own hooks, profiles and example database are in ``checks/conftest.py`` and
:mod:`theory.testing.profiles`, so that they travel with the checks when the package is
installed. This file is loaded first (pytest reads the rootdir's conftest before those
of the test folders), which is what the BLAS pin needs: OpenBLAS reads its thread
count when numpy is first imported.
"""

from theory.testing.profiles import pin_blas_threads

pin_blas_threads()
