"""Render times of the two renderers side by side, cold and warm, on one copy of the project.

    .venv/bin/python benchmarks/render_time_bench.py [--quarto /path/to/bin/quarto]

On a fresh copy (git ls-files of the working tree, its own commit): the built-in path cold (no
cache) and warm (nothing changed); `perinatal-csc render` with Quarto on PATH cold and warm (its
reuse of unchanged outputs); plain `quarto render` (QUARTO_PYTHON only, which always executes every
document in every format). Prints seconds and ratios to the built-in cold render.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_project(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=target, check=True)
    return target


def env_for(root: Path, quarto_bin: str | None) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin
            and not (Path(p) / "quarto").exists()]
    if quarto_bin:
        path.insert(0, quarto_bin)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERINATAL_CSC_", "QUARTO_"))}
    env.update({"PATH": os.pathsep.join(path), "QUARTO_PYTHON": sys.executable, "PERINATAL_CSC_ROOT": str(root)})
    return env


def timed(cmd: list[str], root: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    run = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr[-3000:]}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarto", default=os.environ.get("QUARTO") or shutil.which("quarto"))
    args = parser.parse_args()
    if not args.quarto:
        raise SystemExit("no Quarto: pass --quarto /path/to/bin/quarto")
    quarto_bin = str(Path(args.quarto).parent)
    cli = str(Path(sys.executable).parent / "perinatal-csc")
    version = subprocess.run([args.quarto, "--version"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, tempfile.TemporaryDirectory() as c:
        builtin, driven, plain = copy_project(Path(a)), copy_project(Path(b)), copy_project(Path(c))
        subprocess.run([cli, "analyse"], cwd=builtin, env=env_for(builtin, None), check=True, capture_output=True)
        subprocess.run([cli, "analyse"], cwd=driven, env=env_for(driven, None), check=True, capture_output=True)
        rows = [
            ("built-in, cold", timed([cli, "render", "--no-cache"], builtin, env_for(builtin, None))),
            ("built-in, warm (unchanged)", timed([cli, "render"], builtin, env_for(builtin, None))),
            (f"perinatal-csc render with Quarto {version}, cold", timed([cli, "render", "--no-cache"], driven,
                                                                        env_for(driven, quarto_bin))),
            (f"perinatal-csc render with Quarto {version}, warm (unchanged)", timed([cli, "render"], driven,
                                                                                    env_for(driven, quarto_bin))),
            (f"plain quarto render {version} (fresh copy, analyses first)", timed([args.quarto, "render"], plain,
                                                                                  env_for(plain, None))),
        ]
    base = rows[0][1]
    print(f"{'render':70s} {'seconds':>8s} {'x built-in cold':>16s}")
    for name, seconds in rows:
        print(f"{name:70s} {seconds:8.1f} {seconds / base:16.2f}")


if __name__ == "__main__":
    main()
