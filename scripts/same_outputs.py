"""Check that a refactor changed no result: CSVs byte for byte, manuscript text paragraph by paragraph.

Builds the outputs twice, from a git reference (default ``HEAD``, checked out into a temporary
worktree) and from the working tree, with the same interpreter, and compares them:

- every CSV that ``perinatal-csc analyse`` writes, for the default SYNTHETIC cohort and for each
  ``--cohort N:SEED`` (default ``600:4242``), must be byte-identical;
- with ``--docx``, the paragraphs and table cells of the rendered Word manuscript must have the same
  text, apart from the provenance lines (commit, render time, renderer).

    python scripts/same_outputs.py --ref <commit-before-the-change> [--docx]

Exit 0 when everything matches; 1 with the differences listed otherwise.
"""
from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROVENANCE_WORDS = ("commit", "rendered", "renderer", "render time", "package version", "sha-256")


def run(tree: Path, *args: str, env_extra: dict[str, str] | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree / "code"), "PERINATAL_CSC_ROOT": str(tree),
           "PERINATAL_CSC_BUILTIN_RENDER": "1", **(env_extra or {})}
    cmd = [sys.executable, "-c", "from perinatal_csc.cli import main; main()", *args]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {tree}:\n{done.stdout}\n{done.stderr}")


def build(tree: Path, out: Path, cohorts: list[tuple[int, int]], docx: bool) -> None:
    run(tree, "analyse", "--out", str(out / "default"))
    for n, seed in cohorts:
        data = out / f"synth-{n}-{seed}.csv"
        run(tree, "synth", "--n", str(n), "--seed", str(seed), "--out", str(data))
        run(tree, "analyse", "--data", str(data), "--out", str(out / f"n{n}-seed{seed}"))
    if docx:
        run(tree, "render", "--to", "docx", "--no-cache")
        (out / "index.docx").write_bytes((tree / "_output" / "index.docx").read_bytes())


def docx_text(path: Path) -> list[str]:
    import docx

    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(c.text for c in row.cells))
    return lines


def compare_csvs(before: Path, after: Path) -> list[str]:
    problems = []
    for folder in sorted(p for p in before.iterdir() if p.is_dir()):
        other = after / folder.name
        names = sorted(p.name for p in folder.glob("*.csv"))
        other_names = sorted(p.name for p in other.glob("*.csv"))
        if names != other_names:
            problems.append(f"{folder.name}: CSV sets differ: {sorted(set(names) ^ set(other_names))}")
        same, differ, errors = filecmp.cmpfiles(folder, other, names, shallow=False)
        problems += [f"{folder.name}/{name}: bytes differ" for name in differ + errors]
        print(f"{folder.name}: {len(same)} of {len(names)} CSVs byte-identical")
    return problems


def compare_docx(before: Path, after: Path) -> list[str]:
    a, b = docx_text(before), docx_text(after)
    diff = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    unexplained = [line for line in diff if not any(w in line.lower() for w in PROVENANCE_WORDS)]
    print(f"Word text: {len(a)} paragraphs and table rows before, {len(b)} after; "
          f"{len(diff)} changed lines, {len(unexplained)} outside the provenance")
    for line in diff:
        print("   ", line[:160])
    return [f"Word text differs: {line[:160]}" for line in unexplained]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="git reference to compare against (default HEAD)")
    parser.add_argument("--cohort", action="append", default=None, metavar="N:SEED",
                        help="extra synthetic cohort (repeatable; default 600:4242)")
    parser.add_argument("--docx", action="store_true", help="also render and compare the Word manuscript")
    args = parser.parse_args()
    cohorts = [tuple(int(x) for x in c.split(":")) for c in (args.cohort or ["600:4242"])]
    with tempfile.TemporaryDirectory(prefix="same-outputs-") as tmp:
        tmp = Path(tmp)
        ref_tree = tmp / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(ref_tree), args.ref],
                       check=True, capture_output=True)
        try:
            print(f"before: {args.ref} ({subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', args.ref], capture_output=True, text=True).stdout.strip()}); after: working tree")
            build(ref_tree, tmp / "before", cohorts, args.docx)
            build(ROOT, tmp / "after", cohorts, args.docx)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref_tree)],
                           capture_output=True)
        problems = compare_csvs(tmp / "before", tmp / "after")
        if args.docx:
            problems += compare_docx(tmp / "before" / "index.docx", tmp / "after" / "index.docx")
    for p in problems:
        print("DIFFERS:", p)
    print("same outputs" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
