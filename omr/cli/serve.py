"""``omr serve``: the review desk in the browser, over one session's output folder."""

from __future__ import annotations

from pathlib import Path

import click

from omr.cli.base import cli, out_argument, session_option


@cli.command()
@out_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--password",
    default=None,
    envvar="OMR_DESK_PASSWORD",
    help="Password every request must carry (needed beyond loopback). Other users see a "
    "command line: prefer --password-file or OMR_DESK_PASSWORD.",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the password from the first line of this file.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TLS certificate (PEM): serve over https (with --keyfile).",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The private key (PEM) of --certfile.",
)
@click.option(
    "--lang", type=click.Choice(["tr", "en"]), default="tr", show_default=True, help="Language."
)
@session_option
def serve(out, host, port, password, password_file, certfile, keyfile, lang, session_root) -> None:
    """Start the review desk: the queue, sheets, candidates, objections and keys in a browser.

    It listens on 127.0.0.1 only unless --host says otherwise, and then it
    needs a password (and, so that it does not cross the network in clear,
    --certfile and --keyfile). Every act goes through the same functions as
    the omr commands (audit log, rescoring). Stop it with Ctrl-C.

    \b
    Example:
        omr serve samples/demo/out
        omr serve S/out --host 0.0.0.0 --port 8080 --password-file desk.pw --lang en
    """
    import uvicorn

    from omr.errors import BadArgument
    from omr.web.app import create_app
    from omr.web.security import check_bind, check_free, is_loopback, read_password

    password = read_password(password, password_file)
    check_bind(host, password)
    if (certfile is None) != (keyfile is None):
        raise BadArgument("--certfile and --keyfile go together")
    check_free(host, port)
    tls = certfile is not None
    app = create_app(
        out,
        session_root=session_root,
        password=password,
        loopback=is_loopback(host),
        lang=lang,
        secure=tls,
    )
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"
    click.echo(f"review desk for {out} on {scheme}://{shown}:{port}/ (Ctrl-C stops it)")
    if not tls and not is_loopback(host):
        click.echo(
            "warning: without --certfile/--keyfile the password and the pages cross the "
            "network unencrypted",
            err=True,
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ssl_certfile=str(certfile) if tls else None,
        ssl_keyfile=str(keyfile) if tls else None,
    )
