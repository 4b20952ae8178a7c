"""perinatal-csc: acute perinatal psychiatric care and children's social care involvement.

Stages, each importing only earlier ones, one subpackage each:
codebook -> load + validate -> derive (data/) -> describe / compare / models (stats/) -> disclose
-> present (present/) -> render (render/); pipeline.py runs data and stats, cli.py runs everything.
"""
__version__ = "0.1.0"
