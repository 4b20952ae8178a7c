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
    return load_config(config_path, data=data, mapping=mapping)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perinatal-csc")
def cli() -> None:
    """Acute perinatal psychiatric care and children's social care: data to manuscript.

    Runs on the synthetic cohort unless the configuration (or --data) points at a real export.
    """


@cli.command()
@click.option("--n", "n", type=click.IntRange(min=10), default=None, help="Number of dyads (default: configuration, 278).")
@click.option("--seed", type=int, default=None, help="Random seed (default: configuration).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output CSV (default: the configuration's synthetic path).")
@_config_option
def synth(n: int | None, seed: int | None, out: Path | None, config_path: Path | None) -> None:
    """Write a SYNTHETIC dyad-level cohort that conforms to the codebook."""
    from .data.synth import generate, write_cohort

    cfg = load_config(config_path, source="synthetic")
    n = cfg.synthetic_n if n is None else n
    seed = cfg.synthetic_seed if seed is None else seed
    out = out or cfg.data_path
    _progress(f"generating SYNTHETIC cohort n={n} seed={seed}")
    write_cohort(generate(n, seed, cfg.synthetic_parameters_path), out)
    click.echo(f"wrote {out} (SYNTHETIC, n={n}, seed={seed})")


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@_mapping_option
@_config_option
def validate(path: Path | None, mapping: Path | None, config_path: Path | None) -> None:
    """Load PATH (CSV, Excel, SPSS .sav, Stata .dta) through the mapping and check it against the codebook.

    Prints every problem at once and exits 1, or prints a short summary and exits 0.
    """
    from .data.load import load_cohort
    from .pipeline import ensure_synthetic

    if path is not None and mapping is None and path.suffix.lower() in (".yml", ".yaml"):
        path, mapping = None, path
    cfg = load_config(config_path, data=path, mapping=mapping,
                      source="real" if (path is not None or mapping is not None) else None)
    if path is None and mapping is None:
        ensure_synthetic(cfg, _progress)
    loaded = load_cohort(cfg.data_path, cfg.mapping_path, codebook_path=cfg.codebook_path)
    click.echo(loaded.summary_text())


@cli.command()
@_data_option
@_mapping_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the result CSVs (default: _results/<source>/).")
@_config_option
def analyse(data: Path | None, mapping: Path | None, out: Path | None, config_path: Path | None) -> None:
    """Run every analysis; write each result table as a tidy CSV (internal) and the disclosure-checked
    release beside it (release/: tables, disclosure_audit.json, output_request.csv)."""
    from .disclose.policy import policy_for
    from .pipeline import cohort, disclose, inputs_fingerprint, run_analysis, write_release, write_results

    cfg = _config(config_path, data, mapping)
    policy_for(cfg)
    df = cohort(cfg, _progress)
    results = run_analysis(df, cfg, _progress)
    folder = out or cfg.results_dir
    paths = write_results(results, folder)
    _progress(f"disclosure control: {policy_for(cfg).name}")
    released = disclose(results, cfg)
    inputs = inputs_fingerprint(cfg)
    rel_paths = write_release(released, folder / "release", inputs=inputs)
    if not cfg.is_synthetic and released.policy.checked:
        from .disclose.register import differencing_warnings, record

        register = folder / "release_register.json"
        for w in differencing_warnings(register, released, released.policy):
            click.echo(f"WARNING (differencing with an earlier release): {w}", err=True)
        record(register, released, inputs)
    click.echo(f"wrote {len(paths)} result tables to {folder} (internal, {cfg.data_label})")
    click.echo(f"wrote {len(rel_paths)} released tables to {folder / 'release'} (policy {released.policy.name}; "
               f"{sum(d.kind == 'primary' for d in released.decisions)} protected values)")
    if not released.policy.checked:
        click.echo("WARNING: disclosure policy 'none': the release was NOT checked and must not leave the "
                   "secure environment", err=True)


@cli.command()
@_data_option
@_mapping_option
@click.option("--to", "formats", default="html,docx,pdf", show_default=True,
              help="Comma-separated output formats.")
@click.option("--no-cache", is_flag=True, help="Execute every cell even if nothing changed.")
@_config_option
def render(data: Path | None, mapping: Path | None, formats: str, no_cache: bool, config_path: Path | None) -> None:
    """Render the manuscript (HTML, Word, PDF) with Quarto if installed, else the built-in path."""
    from .render.driver import render as do_render

    cfg = _config(config_path, data, mapping)
    paths = do_render(cfg, [f.strip() for f in formats.split(",") if f.strip()], use_cache=not no_cache,
                      progress=_progress)
    for p in paths:
        click.echo(f"wrote {p}")


@cli.command()
@_data_option
@_mapping_option
@_config_option
@click.pass_context
def report(ctx: click.Context, data: Path | None, mapping: Path | None, config_path: Path | None) -> None:
    """Everything: build the synthetic cohort if needed, validate, analyse, render."""
    ctx.invoke(analyse, data=data, mapping=mapping, out=None, config_path=config_path)
    ctx.invoke(render, data=data, mapping=mapping, formats="html,docx,pdf", no_cache=False, config_path=config_path)


@cli.command("check-disclosure")
@click.argument("folder", type=click.Path(exists=True, path_type=Path))
@click.option("--preset", type=click.Choice(["cohort", "tre", "nhs"]), default=None,
              help="Policy to check against (default: the configuration's disclosure policy).")
@_config_option
def check_disclosure(folder: Path, preset: str | None, config_path: Path | None) -> None:
    """Scan released HTML, Word, PDF and CSV files in FOLDER for counts the disclosure policy protects.

    Lists file, table, row and column (or paragraph) of each, lists raster images for a manual check,
    and exits 1 if any protected count is found.
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


@cli.command("codebook")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the codebook as CSV here (default: print a summary).")
@_config_option
def codebook_cmd(out: Path | None, config_path: Path | None) -> None:
    """Show or export the codebook."""
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
