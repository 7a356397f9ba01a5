"""The `mentor` command: thin typer wrappers around the pipeline's stage functions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline import __version__
from pipeline.exit_codes import EXIT_CODES_HELP, ExitCode

app = typer.Typer(
    name="mentor",
    help=(
        "Find the pupils who would benefit from a learning mentor, from a school's or trust's MIS exports.\n\n"
        f"Exit codes:\n\n{EXIT_CODES_HELP.replace(chr(10), chr(10) * 2)}"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mentor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the trust's exports: one sub-folder per school (URN).")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 20241,
    schools: Annotated[int, typer.Option(min=1, help="Number of schools; they alternate primary, secondary.")] = 2,
    pupils_per_school: Annotated[
        int, typer.Option(min=20, help="Pupils on roll per school (leavers and joiners come on top).")
    ] = 600,
    years: Annotated[
        int, typer.Option(min=1, max=10, help="Academic years of history; the last runs to --end-date.")
    ] = 2,
    end_date: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day the exports cover (the extract date).")
    ] = dt.datetime(2025, 11, 7),
    truth_out: Annotated[
        Path | None,
        typer.Option(help="Folder for the simulation truth (outcomes); default: OUT followed by '-truth'."),
    ] = None,
) -> None:
    """Write synthetic MIS exports for a trust of schools, plus the simulation truth kept apart.

    The exports follow shared/contracts/exports.md; every name and UPN is made up. The truth folder holds what
    each pupil goes on to do after the extract date: it is for evaluating models and is never read by the
    pipeline.
    """
    from pipeline.sample import SampleSpec, generate_trust
    from pipeline.sample.generator import SchoolSummary

    spec = SampleSpec(
        seed=seed,
        schools=schools,
        pupils_per_school=pupils_per_school,
        years=years,
        end_date=end_date.date(),
    )
    truth_dir = truth_out if truth_out is not None else out.with_name(out.name + "-truth")

    def report(school: SchoolSummary) -> None:
        err.print(
            f"school {school.urn} ({school.phase}): {school.pupils:,} pupils, "
            f"{school.attendance_rows:,} attendance marks"
        )

    generate_trust(spec, out, truth_dir, progress=report)
    err.print(f"exports written to {out}; simulation truth to {truth_dir}")


def main() -> None:
    """Entry point of the `mentor` console script."""
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(ExitCode.FAILED) from None
