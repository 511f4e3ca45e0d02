"""``occupancy api``: tokens of the JSON API, and serving it alone."""

from __future__ import annotations

import logging

import click

from occupancy.clictx import CliContext, pass_ctx

logger = logging.getLogger(__name__)

__all__ = ["COMMANDS"]


@click.group("api")
def api() -> None:
    """The JSON API at /api/v1 (served with the dashboard): tokens, serving.

    \b
    The OpenAPI document is at /api/v1/openapi.json; see docs/api.md.
    """


@api.group("token")
def token() -> None:
    """Create, list and revoke API tokens (stored hashed)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read:live", "read:reports"]),
    default=("read:live", "read:reports"),
    show_default=True,
    help="Scope of the token (repeat for several).",
)
@pass_ctx
def token_create(cli: CliContext, name: str, scopes: tuple[str, ...]) -> None:
    """Create a token called NAME and print it (once: only its hash is stored).

    \b
    Examples:
      occupancy api token create kiosk --scope read:live
      occupancy api token create planon --scope read:reports
    """
    from api.tokens import TokenError, create_token

    conn = cli.connect()
    try:
        tok, secret = create_token(conn, name, scopes)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(
        f"token {tok.token_id} {tok.name!r} ({', '.join(tok.scopes)}); "
        "copy it now, it is not shown again:",
        err=True,
    )
    click.echo(secret)


@token.command("list")
@pass_ctx
def token_list(cli: CliContext) -> None:
    """List tokens: id, name, prefix, scopes, created, last used, revoked."""
    from api.tokens import list_tokens

    conn = cli.connect()
    try:
        rows = list_tokens(conn)
    finally:
        conn.close()
    click.echo("id\tname\tprefix\tscopes\tcreated\tlast_used\trevoked")
    for t in rows:
        click.echo(
            f"{t.token_id}\t{t.name}\t{t.prefix}\t{','.join(t.scopes)}\t"
            f"{t.created_at:%Y-%m-%d %H:%M}\t"
            f"{t.last_used_at or '-'}\t{t.revoked_at or '-'}"
        )


@token.command("revoke")
@click.argument("ref")
@pass_ctx
def token_revoke(cli: CliContext, ref: str) -> None:
    """Revoke the token with id, prefix or name REF (at once, for every request)."""
    from api.tokens import revoke_token

    conn = cli.connect()
    try:
        n = revoke_token(conn, ref)
    finally:
        conn.close()
    if n == 0:
        raise click.ClickException(f"no active token with id, prefix or name {ref!r}")
    click.echo(f"revoked {n} token(s)")


@api.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8060, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@pass_ctx
def serve(cli: CliContext, host: str, port: int, threads: int) -> None:
    """Serve only the API (without the dashboard) at http://HOST:PORT/api/v1."""
    import flask
    from waitress import serve as wserve

    from api.app import register

    root = flask.Flask("occupancy_api_root")
    register(root, cli.settings)
    click.echo(f"API on http://{host}:{port}/api/v1 (Ctrl-C stops)", err=True)
    wserve(root, host=host, port=port, threads=threads, ident="occupancy-api")


COMMANDS = [api]
