"""``frontdesk serve``: the desk on a production WSGI server (waitress), with its job workers inside."""

from __future__ import annotations

import click

from frontdesk import migrate
from frontdesk.cli import CliState


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Request threads.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Job worker threads in this process (0 when `frontdesk worker` processes run the jobs).",
)
@click.pass_obj
def serve(state: CliState, host: str, port: int, threads: int, workers: int) -> None:
    """Serve the desk over HTTP with waitress (put a TLS proxy in front for the internet).

    Background jobs (event delivery, automation, mail) run in worker threads of this process unless
    --workers 0 is given and `frontdesk worker` processes consume the queue instead.
    """
    import waitress

    from frontdesk_webui.app import create_app

    desk = state.desk
    outdated = [lineage.name for lineage in migrate.lineages(desk) if not migrate.is_current(desk, lineage)]
    if outdated:
        raise click.ClickException(f"the database schema is not current ({', '.join(outdated)}): run `frontdesk init`")
    app = create_app(desk)
    consumer = desk.jobs.start_embedded(workers) if workers else None
    click.echo(f"Frontdesk is serving on http://{host}:{port} (Ctrl+C stops it).")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="frontdesk")
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
