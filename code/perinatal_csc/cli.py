"""The ``perinatal-csc`` command line: every make target is a thin wrapper over one of these."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import __version__
from .config import Config, load_config
from .errors import UserError

_config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                              default=None, help="Project configuration (default: config/project.yml).")
_data_option = click.option("--data", "data", type=click.Path(path_type=Path), default=None,
                            help="Data file (or folder) for this run; overrides the configuration.")
_mapping_option = click.option("--mapping", "mapping", type=click.Path(dir_okay=False, path_type=Path),
                               default=None, help="Mapping file from the export's columns to the codebook.")


def _progress(msg: str) -> None:
    click.echo(f"[{time.strftime('%H:%M:%S')}] {msg}", err=True)


def _config(config_path: Path | None, data: Path | None = None, mapping: Path | None = None) -> Config:
    """The run's configuration, its data labelled by what the file is (a copy of a synthetic cohort is
    SYNTHETIC wherever it is loaded from)."""
    from .pipeline import labelled

    return labelled(load_config(config_path, data=data, mapping=mapping))


def _shown(p: Path, root: Path) -> str:
    """A path relative to the project when it is inside it, else absolute."""
    p = p.resolve()
    return str(p.relative_to(root.resolve())) if p.is_relative_to(root.resolve()) else str(p)


def cohort_text(cfg: Config) -> str:
    """Which cohort a run uses, in words: the synthetic one with its size and seed, or the real export."""
    if cfg.is_synthetic:
        how = "recognised from the file: the generator reproduces it exactly" if cfg.recognised_from else "as configured"
        return (f"the SYNTHETIC cohort {_shown(cfg.data_path, cfg.root)} (n={cfg.synthetic_n}, "
                f"seed={cfg.synthetic_seed}, {how})")
    text = f"the REAL export {_shown(cfg.data_path, cfg.root)}"
    return text + (f" through the mapping {_shown(cfg.mapping_path, cfg.root)}" if cfg.mapping_path else "")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100,
                            "terminal_width": 100})
@click.version_option(__version__, prog_name="perinatal-csc")
def cli() -> None:
    """Acute perinatal psychiatric care and children's social care: from data to manuscript.

    Runs on the SYNTHETIC cohort unless config/project.yml (or --data) points at a real export.
    Each command has its own --help with an example.

    \b
    Examples:
      perinatal-csc report                          # everything, on the configured cohort
      perinatal-csc validate data/real/export.sav   # check an export
      perinatal-csc validate --mapping data/real/mapping.yml
      perinatal-csc synth --help                    # each command's options
    """


@cli.command(short_help="Write the SYNTHETIC cohort (another --n or --seed only to --out).")
@click.option("--n", "n", type=click.IntRange(min=10), default=None,
              help="Number of dyads (default: the configuration's, 278). Another value needs --out.")
@click.option("--seed", type=int, default=None,
              help="Random seed (default: the configuration's). Another value needs --out.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output CSV (default: the configuration's synthetic path, only for its own n and seed).")
@_config_option
def synth(n: int | None, seed: int | None, out: Path | None, config_path: Path | None) -> None:
    """Write a SYNTHETIC dyad-level cohort that conforms to the codebook.

    With no options it (re)writes the configured cohort, which every other command reads. A cohort
    with another --n or --seed is written only to --out: it never replaces the configured one.

    \b
    Examples:
      perinatal-csc synth
      perinatal-csc synth --n 500 --seed 7 --out data/synthetic/n500.csv
      perinatal-csc validate data/synthetic/n500.csv
    """
    from .data.synth import generate, write_cohort

    cfg = load_config(config_path, source="synthetic")
    custom = [f"--{k} {v}" for k, v, default in (("n", n, cfg.synthetic_n), ("seed", seed, cfg.synthetic_seed))
              if v is not None and v != default]
    if custom and (out is None or out.resolve() == cfg.data_path.resolve()):
        raise click.UsageError(
            f"{' and '.join(custom)} {'differ' if len(custom) > 1 else 'differs'} from the configuration (n={cfg.synthetic_n}, seed={cfg.synthetic_seed}), "
            f"so this cohort must go to its own file: add --out PATH (e.g. --out data/synthetic/custom.csv). "
            f"The configured cohort {_shown(cfg.data_path, cfg.root)} is what report and analyse use and is never "
            "replaced; to change it, edit data.synthetic in config/project.yml.")
    n = cfg.synthetic_n if n is None else n
    seed = cfg.synthetic_seed if seed is None else seed
    out = out or cfg.data_path
    _progress(f"generating SYNTHETIC cohort n={n} seed={seed}")
    write_cohort(generate(n, seed, cfg.synthetic_parameters_path), out)
    click.echo(f"wrote {out} (SYNTHETIC, n={n}, seed={seed})")


@cli.command(short_help="Check an export against the codebook and list every problem.")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@_mapping_option
@_config_option
def validate(path: Path | None, mapping: Path | None, config_path: Path | None) -> None:
    """Load PATH (CSV, Parquet, Excel, SPSS .sav, Stata .dta) through the mapping and check it against the codebook.

    Prints every problem at once and exits 1, or prints a short summary (dyads, warnings,
    completeness of every variable) and exits 0. With no PATH it checks the configured cohort.

    \b
    Examples:
      perinatal-csc validate
      perinatal-csc validate data/real/export.sav
      perinatal-csc validate --mapping data/real/mapping.yml
    """
    from .data.load import load_cohort
    from .pipeline import ensure_synthetic

    if path is not None and mapping is None and path.suffix.lower() in (".yml", ".yaml"):
        path, mapping = None, path
    cfg = load_config(config_path, data=path, mapping=mapping,
                      source="real" if (path is not None or mapping is not None) else None)
    if path is None and mapping is None:
        ensure_synthetic(cfg, _progress)
    loaded = load_cohort(cfg.data_path, cfg.mapping_path, codebook_path=cfg.codebook_path,
                         analysis_plan_path=cfg.analysis_plan_path)
    click.echo(loaded.summary_text())


@cli.command(short_help="Run every analysis; write each result table as CSV to _results/.")
@_data_option
@_mapping_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the result CSVs (default: _results/<source>/).")
@click.option("--force", is_flag=True, help="Analyse even if the results are up to date with their inputs.")
@_config_option
def analyse(data: Path | None, mapping: Path | None, out: Path | None, force: bool, config_path: Path | None) -> None:
    """Run every analysis; write each result table as a tidy CSV (internal) and the disclosure-checked
    release beside it (release/: tables, disclosure_audit.json, output_request.csv).

    \b
    Skipped when the results and release were written from exactly the current data, configuration,
    codebook, analysis plan and code (--force runs it anyway).

    \b
    Examples:
      perinatal-csc analyse
      perinatal-csc analyse --data data/real/export.sav --out /secure/results
    """
    from .pipeline import analyse as run

    cfg = _config(config_path, data, mapping)
    done = run(cfg, out, force=force, progress=_progress)
    folder, released = done.folder, done.released
    if released is None:
        click.echo(f"results up to date: {len(done.paths)} result tables and their release in {folder} were written "
                   "from the current data, configuration, codebook, plan and code (--force to re-run)")
        return done.paths
    for w in done.warnings:
        click.echo(f"WARNING (differencing with an earlier release): {w}", err=True)
    click.echo(f"wrote {len(done.paths)} result tables to {folder} (internal, {cfg.data_label})")
    click.echo(f"wrote {len(done.release_paths)} released tables to {folder / 'release'} (policy {released.policy.name}; "
               f"{sum(d.kind == 'primary' for d in released.decisions)} protected values)")
    if not released.policy.checked:
        click.echo("WARNING: disclosure policy 'none': the release was NOT checked and must not leave the "
                   "secure environment", err=True)
    return done.paths


@cli.command(short_help="Render the manuscript to HTML, Word and PDF in _output/.")
@_data_option
@_mapping_option
@click.option("--to", "formats", default="html,docx,pdf", show_default=True,
              help="Comma-separated output formats.")
@click.option("--no-cache", is_flag=True, help="Execute every cell even if nothing changed.")
@click.option("--review", is_flag=True, help="Submission layout: line numbers and double spacing in Word and PDF.")
@click.option("--blind", is_flag=True, help="For blind peer review: no authors, affiliations or acknowledgements.")
@_config_option
def render(data: Path | None, mapping: Path | None, formats: str, no_cache: bool, review: bool, blind: bool,
           config_path: Path | None) -> None:
    """Render the manuscript (HTML, Word, PDF) with Quarto if installed, else the built-in path.

    \b
    Examples:
      perinatal-csc render
      perinatal-csc render --to html --no-cache
      perinatal-csc render --review --blind      (for submission to peer review)
    """
    from .render.driver import render as do_render

    cfg = _config(config_path, data, mapping)
    paths = do_render(cfg, [f.strip() for f in formats.split(",") if f.strip()], use_cache=not no_cache,
                      progress=_progress, review=review, blind=blind)
    for p in paths:
        click.echo(f"wrote {p}")
    return paths


@cli.command(short_help="Everything: cohort, validation, analysis, rendering, with results.")
@_data_option
@_mapping_option
@click.option("--review", is_flag=True, help="Submission layout: line numbers and double spacing in Word and PDF.")
@click.option("--blind", is_flag=True, help="For blind peer review: no authors, affiliations or acknowledgements.")
@_config_option
@click.pass_context
def report(ctx: click.Context, data: Path | None, mapping: Path | None, review: bool, blind: bool,
           config_path: Path | None) -> None:
    """Everything: build the synthetic cohort if needed, validate, analyse, render.

    Names the cohort it uses, then prints each stage with its result and time.

    \b
    Examples:
      perinatal-csc report
      perinatal-csc report --data data/real/export.sav --mapping data/real/mapping.yml
    """
    from .data.load import analysed, load_cohort
    from .pipeline import ensure_synthetic

    cfg = _config(config_path, data, mapping)
    click.echo(f"report on {cohort_text(cfg)}")
    t0 = time.perf_counter()
    ensure_synthetic(cfg, _progress)
    loaded = load_cohort(cfg.data_path, cfg.mapping_path, codebook_path=cfg.codebook_path,
                         analysis_plan_path=cfg.analysis_plan_path)
    k = len(loaded.warnings)
    n_analysed = int(analysed(loaded.data).sum())
    click.echo(f"1/3 validated {len(loaded.data)} dyads ({n_analysed} analysed), {k} warning{'s' if k != 1 else ''} "
               f"({time.perf_counter() - t0:.1f} s)" + "".join(f"\n    warning: {w}" for w in loaded.warnings))
    t0 = time.perf_counter()
    tables = ctx.invoke(analyse, data=data, mapping=mapping, out=None, force=False, config_path=config_path)
    click.echo(f"2/3 analysed: {len(tables)} result tables in {_shown(cfg.results_dir, cfg.root)}/ "
               f"({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    files = ctx.invoke(render, data=data, mapping=mapping, formats="html,docx,pdf", no_cache=False, review=review,
                       blind=blind, config_path=config_path)
    click.echo(f"3/3 rendered {', '.join(_shown(p, cfg.root) for p in files)} ({time.perf_counter() - t0:.1f} s)")


@cli.group(short_help="Co-authors' Word drafts: comments, edits, changes since a draft.")
def review() -> None:
    """Co-authors' Word drafts: comments and tracked changes back to the sources; what changed between drafts.

    \b
    Examples:
      perinatal-csc review import drafts/index-reviewed-AB.docx
      perinatal-csc review import drafts/index-reviewed-AB.docx --apply
      perinatal-csc review changes drafts/index-2026-11-01.docx
    """


@review.command("import")
@click.argument("reviewed", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--apply", "apply_", is_flag=True,
              help="Apply tracked changes to prose in the .qmd sources (never to computed text); review with git diff.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for review.md and review.html (default: _output/review/).")
@_config_option
def review_import(reviewed: Path, apply_: bool, out: Path | None, config_path: Path | None) -> None:
    """Report every comment and tracked change of REVIEWED.docx by source file and line.

    \b
    Examples:
      perinatal-csc review import drafts/index-reviewed-AB.docx
      perinatal-csc review import drafts/index-reviewed-AB.docx --apply
    """
    from .review.importer import apply_edits, import_review, write_report

    cfg = load_config(config_path)
    result = import_review(reviewed, cfg.root, data_label="SYNTHETIC" if cfg.is_synthetic else "REAL")
    if apply_:
        applied = apply_edits(result)
        click.echo(f"applied {len(applied)} prose changes to the sources: review them with `git diff`")
    paths = write_report(result, cfg.root, out or cfg.output_dir / "review")
    flagged = sum(i.kind == "change" and i.flag is not None for i in result.items)
    click.echo(f"{len(result.draft.comments)} comments, {sum(i.kind == 'change' for i in result.items)} tracked "
               f"changes ({flagged} flagged, not applied); report: {paths[1]}")


@review.command("changes")
@click.argument("previous", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--current", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The newer draft (default: the rendered _output/index.docx).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the marked-up draft (default: _output/review/changes.docx).")
@_config_option
def review_changes(previous: Path, current: Path | None, out: Path | None, config_path: Path | None) -> None:
    """Write the current draft with its differences from PREVIOUS.docx as Word tracked changes.

    \b
    Examples:
      perinatal-csc review changes drafts/index-2026-11-01.docx
    """
    from .review.changes import compare

    cfg = load_config(config_path)
    current = current or cfg.output_dir / "index.docx"
    out = out or cfg.output_dir / "review" / "changes.docx"
    n = compare(previous, current, out)
    click.echo(f"wrote {out}: {n} changes marked since {previous.name}")


@cli.command("check-disclosure", short_help="Scan released files for counts the disclosure policy protects.")
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.option("--preset", type=click.Choice(["cohort", "tre", "nhs"]), default=None,
              help="Policy to check against (default: the configuration's disclosure policy).")
@_config_option
def check_disclosure(folder: Path, preset: str | None, config_path: Path | None) -> None:
    """Scan released HTML, Word, PDF and CSV files in FOLDER for counts the disclosure policy protects.

    Lists file, table, row and column (or paragraph) of each, lists raster images for a manual check,
    and exits 1 if any protected count is found.

    \b
    Examples:
      perinatal-csc check-disclosure _output/
      perinatal-csc check-disclosure _results/real/release --preset tre
    """
    from .disclose.check import scan
    from .disclose.policy import PRESETS, policy_for

    cfg = load_config(config_path)
    policy = PRESETS[preset] if preset else policy_for(cfg)
    if not policy.checked:
        policy = PRESETS["cohort"]
    found, breaches, manual = scan(folder, policy)
    for f in breaches:
        click.echo(f.line())
    for m in manual:
        click.echo(f"{m}: raster image: check by hand")
    click.echo(f"{len(found)} counts found; {len(breaches)} below the threshold of policy {policy.name} "
               f"({policy.threshold}); {len(manual)} images to check by hand", err=True)
    if breaches:
        sys.exit(1)


@cli.command("codebook", short_help="List the codebook's variables, or export them as CSV (--out).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the codebook as CSV here (default: print a summary).")
@_config_option
def codebook_cmd(out: Path | None, config_path: Path | None) -> None:
    """Show or export the codebook: every variable's name, type, timepoint and label.

    \b
    Examples:
      perinatal-csc codebook
      perinatal-csc codebook --out codebook.csv
    """
    from .data.codebook import load_codebook

    cfg = load_config(config_path)
    frame = load_codebook(cfg.codebook_path).to_frame()
    if out:
        frame.to_csv(out, index=False)
        click.echo(f"wrote {out} ({len(frame)} variables)")
    else:
        click.echo(frame[["name", "type", "timepoint", "label"]].to_string(index=False))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors print one clear message and exit non-zero, without a traceback."""
    try:
        cli.main(args=argv, prog_name="perinatal-csc", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
