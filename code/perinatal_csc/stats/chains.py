"""Worker process of the large-cohort imputation: ``python -m perinatal_csc.stats.chains JOB OUT CHAINS``.

Reads the pickled job (columns, iterations, first-round estimates, random streams) from JOB, runs the
comma-separated chains with :func:`imputation.run_chains` and pickles their imputed values to OUT.
"""
from __future__ import annotations

import pickle
import sys

from .imputation import run_chains


def main(argv: list[str]) -> None:
    job_path, out_path, chains = argv
    with open(job_path, "rb") as fh:
        job = pickle.load(fh)
    out = run_chains(*job, [int(k) for k in chains.split(",")])
    with open(out_path, "wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main(sys.argv[1:])
