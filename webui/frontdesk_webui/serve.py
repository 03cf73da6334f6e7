"""``frontdesk serve``: the desk on a production WSGI server (waitress)."""

from __future__ import annotations

import logging
import threading

import click

from frontdesk import migrate
from frontdesk.cli import CliState
from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.serve")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Request threads.")
@click.pass_obj
def serve(state: CliState, host: str, port: int, threads: int) -> None:
    """Serve the desk over HTTP with waitress (put a TLS proxy in front for the internet)."""
    import waitress

    from frontdesk_webui.app import create_app

    desk = state.desk
    outdated = [lineage.name for lineage in migrate.lineages(desk) if not migrate.is_current(desk, lineage)]
    if outdated:
        raise click.ClickException(f"the database schema is not current ({', '.join(outdated)}): run `frontdesk init`")
    app = create_app(desk)
    retries = EventRetrier(desk)
    retries.start()
    click.echo(f"Frontdesk is serving on http://{host}:{port} (Ctrl+C stops it).")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="frontdesk")
    finally:
        retries.stop()


class EventRetrier(threading.Thread):
    """Delivers events left pending (a crash before delivery, plugin retries that came due) every minute."""

    def __init__(self, desk: Desk, interval: float = 60.0) -> None:
        super().__init__(name="frontdesk-event-retries", daemon=True)
        self.desk = desk
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.desk.dispatcher.dispatch_pending()
            except Exception:
                log.exception("delivering pending events failed; trying again later")
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()
