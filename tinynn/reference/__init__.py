"""Readable NumPy references for the hot ops: the formulas a lecture shows.

``tinynn.reference.conv``, ``.pool`` and ``.batchnorm`` have the same function
names and signatures as the fast kernels in ``tinynn.kernels``; the tests hold
the two equal and ``tinynn.backend.use_kernels("reference")`` runs a whole
network on these instead.
"""
