"""`classmood run | agent | dashboard`: capturing a class and showing it."""

from __future__ import annotations

from pathlib import Path

import click

from classmood.options import (
    access_mode,
    address,
    check_interval,
    class_options,
    db_url_option,
    parse_rules,
    rule_option,
    signals_option,
    timezone_option,
)


@click.command()
@db_url_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Listen address (beyond loopback only with accounts)."
)
@click.option("--port", default=8050, show_default=True, help="Port to listen on.")
@rule_option
@timezone_option
@signals_option
def dashboard(db_url, host, port, rules, timezone, signals) -> None:
    """Serve the live dashboard and the session reports (to signed-in users, or to whoever
    has the printed address while no account exists)."""
    from dashboard.app import check_port_free, create_app, serve
    from db.engine import default_url, missing_sqlite_file, printable, upgrade

    url = db_url or default_url()
    accounts, token = access_mode(url, host)  # beyond loopback without accounts: said first
    check_port_free(host, port)
    if not missing_sqlite_file(url):
        upgrade(url)  # a database from an older ClassMood gains the new columns (a missing one stays missing)
    app = create_app(url, parse_rules(rules), token, accounts, port, timezone, signals)
    click.echo(f"ClassMood dashboard on {address(host, port, token)}  (database: {printable(url)}; Ctrl-C stops)")
    serve(app, host, port)


@click.command()
@click.option("--window", default=None, help="Capture the window whose title contains this text.")
@click.option("--monitor", type=int, default=None, help="Capture monitor N (default: the primary one).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between captures.")
@click.option(
    "--session", "session_name", default=None, help="Name of this class session (default: the date and time)."
)
@db_url_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Dashboard's listen address (beyond loopback only with accounts).",
)
@click.option("--port", default=8050, show_default=True, help="Dashboard's port.")
@class_options
@click.option("--no-browser", is_flag=True, help="Do not open the dashboard in a browser.")
@rule_option
@timezone_option
def run(
    window,
    monitor,
    interval,
    session_name,
    db_url,
    host,
    port,
    pseudonymize,
    name_langs,
    model,
    meeting_expert,
    alone,
    retention_days,
    teacher,
    roster,
    signals,
    no_browser,
    rules,
    timezone,
) -> None:
    """The main job: capture agent and dashboard together; Ctrl-C stops both."""
    import threading

    from agent.cli import run_agent
    from dashboard.app import check_port_free, create_app, serve
    from db.engine import upgrade

    check_interval(interval)
    check_port_free(host, port)
    url = upgrade(db_url)
    accounts, token = access_mode(url, host)
    if accounts and not teacher:
        raise click.UsageError("this database has accounts: say whose class this is with --teacher NAME")
    app = create_app(url, parse_rules(rules), token, accounts, port, timezone, signals)
    server = threading.Thread(target=serve, args=(app, host, port), daemon=True, name="dashboard")
    server.start()
    click.echo(f"dashboard: {address(host, port, token)}")
    if not no_browser:
        import webbrowser

        webbrowser.open(address(host, port, token))
    run_agent(
        window=window,
        monitor=monitor,
        region=None,
        video=None,
        images=None,
        interval=interval,
        db_url=url,
        session_name=session_name,
        keep_frames=None,
        pseudonymize=pseudonymize,
        model=model,
        meeting_expert=meeting_expert,
        alone=alone,
        name_langs=name_langs,
        retention_days=retention_days,
        teacher=teacher,
        roster=roster,
        signals=signals,
    )
    click.echo("agent stopped; dashboard stopped")


@click.group(invoke_without_command=True)
@click.option("--window", default=None, help="Capture the window whose title contains this text.")
@click.option("--monitor", type=int, default=None, help="Capture monitor N (1 = primary; default).")
@click.option("--region", default=None, help="Capture the screen region X,Y,W,H.")
@click.option("--video", type=click.Path(path_type=Path), default=None, help="Process a recording, then exit.")
@click.option("--images", type=click.Path(path_type=Path), default=None, help="Process a folder of screenshots.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between captures.")
@db_url_option
@click.option("--session", "session_name", default=None, help="Name of this class session.")
@click.option("--keep-frames", type=click.Path(path_type=Path), default=None, help="Also save each frame here.")
@click.option("--no-ocr", is_flag=True, help="Do not read name tags; track tiles by position.")
@class_options
@click.pass_context
def agent(ctx, no_ocr: bool, **options) -> None:
    """Capture the meeting on a schedule and write per-student emotion rows (Ctrl-C stops)."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.cli import run_agent

    check_interval(options["interval"])
    run_agent(**options, ocr=not no_ocr)


@agent.command("stop")
def agent_stop() -> None:
    """Stop the running agent; it closes its session cleanly."""
    from agent.cli import stop_agent

    click.echo(stop_agent())
