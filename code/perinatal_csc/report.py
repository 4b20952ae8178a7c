"""What the manuscript's chapters see: the configuration, codebook, disclosure policy and the released
result tables, never the cohort frame or the full (unchecked) results.

Computed once per rendering kernel, from the data in the configuration, so every number in the
manuscript comes from the run that renders it, and passes through the same disclosure control as
``perinatal-csc analyse``'s release. The renderer passes per-run overrides through the
environment (PERINATAL_CSC_CONFIG, PERINATAL_CSC_DATA, PERINATAL_CSC_MAPPING).
"""
from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from .data.codebook import Codebook, load_codebook
from .config import Config, load_config
from .errors import UserError
from .files import read_stamp
from .paths import CROSSREF_FILE, FIGURE_EXPORT_DPI, QUARTO_FIGURE_EXPORTS, figure_export_key
from .disclose.policy import Policy, policy_for
from .pipeline import (RELEASE_STAMP, cohort, disclose, ensure_synthetic, inputs_fingerprint, read_release,
                       run_analysis)


@dataclass(frozen=True)
class ReportContext:
    """``results`` are the released tables only (suppressed values hold the disclosure marker)."""

    config: Config
    codebook: Codebook
    policy: Policy
    results: dict[str, pd.DataFrame]
    origin: str = ""             # where the released tables came from (the release folder, or this kernel)

    @property
    def is_synthetic(self) -> bool:
        return self.config.is_synthetic


def config_from_environment() -> Config:
    """The run's configuration, including the renderer's per-run overrides."""
    env = os.environ
    return load_config(env.get("PERINATAL_CSC_CONFIG") or None, data=env.get("PERINATAL_CSC_DATA") or None,
                       mapping=env.get("PERINATAL_CSC_MAPPING") or None,
                       source=env.get("PERINATAL_CSC_SOURCE") or None)


#: What an inline result that is empty text becomes under Quarto (which keeps an empty result's code).
EMPTY_INLINE = "<!-- -->"


def _kernel_shell():
    """The IPython shell this code runs in (a rendering kernel), or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def prose_as_markdown() -> bool:
    """In an IPython kernel, show every text result as markdown, as the built-in path reads inline
    results: Quarto prints a text result's plain form with markdown escaped (``\\*``, ``\\[@ref]``) and
    leaves the code itself where the text is empty. True when the kernel's formatter was set."""
    shell = _kernel_shell()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/markdown"].for_type(str, lambda s: s if s.strip() else EMPTY_INLINE)
    return True


def export_figures_in_kernel(folder: Path) -> bool:
    """Under Quarto, keep each cell's figure as a vector PDF and a high-resolution PNG in ``folder``,
    named by the cell's code (``paths.figure_export_key``: Quarto does not send the label); the post-render
    step numbers those of the ``fig-`` cells into ``_output/figures/`` (the built-in path's kernel does this
    through its own display formatters). True when the kernel's hooks were set."""
    shell = _kernel_shell()
    if shell is None:
        return False
    current = {"code": ""}

    def before(info) -> None:
        current["code"] = getattr(info, "raw_cell", "") or ""

    def after(result) -> None:
        fig = getattr(result, "result", None)
        if hasattr(fig, "savefig") and current["code"].strip():
            folder.mkdir(parents=True, exist_ok=True)
            name = figure_export_key(current["code"])
            fig.savefig(folder / f"{name}.pdf", format="pdf", bbox_inches="tight")
            fig.savefig(folder / f"{name}.png", format="png", dpi=FIGURE_EXPORT_DPI, bbox_inches="tight")

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
    return True


@lru_cache(maxsize=1)
def context() -> ReportContext:
    """The release every chapter shares: read from ``_results/<source>/release/`` when ``perinatal-csc
    analyse`` wrote it from exactly these inputs (data, configuration, codebook, plan, code; its
    ``RELEASE.json`` fingerprint), so that the analysis runs once per report; otherwise loaded,
    analysed and disclosed here, once per kernel."""
    prose_as_markdown()
    if os.environ.get("QUARTO_DOCUMENT_PATH"):        # a kernel Quarto started
        export_figures_in_kernel(Path.cwd() / QUARTO_FIGURE_EXPORTS)
    cfg = config_from_environment()
    policy = policy_for(cfg)
    codebook = load_codebook(cfg.codebook_path)
    ensure_synthetic(cfg)
    if release_is_current(cfg, policy):
        return ReportContext(config=cfg, codebook=codebook, policy=policy, results=read_release(cfg.release_dir),
                             origin=str(cfg.release_dir))
    released = disclose(run_analysis(cohort(cfg), cfg), cfg)
    return ReportContext(config=cfg, codebook=codebook, policy=released.policy, results=released.tables,
                         origin="computed in the rendering kernel")


def release_is_current(config: Config, policy: Policy) -> bool:
    """True when the release folder was written by ``analyse`` from the current inputs under ``policy``."""
    written = read_stamp(config.release_dir / RELEASE_STAMP)
    return (written is not None and written.get("inputs") == inputs_fingerprint(config)
            and written.get("policy") == policy.name)


def xref(label: str, root: Path | None = None, *, within: str | None = None) -> str:
    """What a label of another document of the project is called ("Supplementary Table 3",
    "Supplementary material, Missing data"), from the label map the pre-render step of both renderers
    writes (``_crossref.yml``): Quarto has no references between documents. ``within`` names the
    document that cites it: the manuscript's labels then read "Main text, Methods: Bias"."""
    import yaml

    path = Path(root or Path.cwd()) / CROSSREF_FILE
    if not path.exists():
        raise UserError(f"{path} not found: the pre-render step writes it (perinatal-csc render does)")
    labels = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if label not in labels:
        raise UserError(f"cross-document reference to '{label}': no document of the project has this label "
                        f"(known: {', '.join(sorted(labels)) or 'none'})")
    entry = labels[label]
    text = str(entry["text"])
    if within and entry.get("document") == "index" and within != "index":
        return f"Main text, {text}"
    return text


def supplement_tables(root: Path | None = None) -> str:
    """The supplementary material's tables as a Markdown list, 'Supplementary Table N: caption', from the
    label map the pre-render step writes (the funder's report points to them by number)."""
    import yaml

    path = Path(root or Path.cwd()) / CROSSREF_FILE
    if not path.exists():
        raise UserError(f"{path} not found: the pre-render step writes it (perinatal-csc render does)")
    labels = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = sorted((int(e["number"]), str(e["text"]), str(e.get("title") or "").rstrip("."))
                  for e in labels.values() if e.get("document") == "supplement" and e.get("kind") == "tbl")
    return "\n".join(f"- {text}: {title}" for _, text, title in rows) + "\n"
