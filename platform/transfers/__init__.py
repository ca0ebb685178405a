"""Transfers: leaving, the unassigned-students pool, claiming (docs/transfers.md).

The models are imported with the package so that ``PublicModel.metadata`` (the pool and the
transfer log) and ``SchoolModel.metadata`` (carried records) are complete wherever the app is.
"""

from transfers import models as models
