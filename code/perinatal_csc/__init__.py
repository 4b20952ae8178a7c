"""perinatal-csc: acute perinatal psychiatric care and children's social care involvement.

Stages, each importing only earlier ones:
codebook -> load + validate -> derive -> describe / compare / models -> disclose -> present -> render.
"""
__version__ = "0.1.0"
