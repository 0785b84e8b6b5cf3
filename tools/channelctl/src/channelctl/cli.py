"""The channelctl entry point: global options, the command groups, one-line errors."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import alerts, keys, kpis, partners, rebates, webhooks
from .client import DEFAULT_URL, KEY_ENV, URL_ENV, CliError
from .context import Options, State
from .demo import demo_command

__all__ = ["app", "main"]


class _Commands(TyperGroup):
    """The top-level group: a CliError from any command becomes `error: …` and an exit code."""

    # `ctx` is typer's vendored click Context, which typer does not export under a public name.
    def invoke(self, ctx: Any) -> Any:
        """Run the command; turn a CliError into one line on stderr."""
        try:
            return super().invoke(ctx)
        except CliError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Commands,
    help="Channel Suite command line: partners, KPI imports, rebates, alerts — via the gateway.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(partners.app, name="partners")
app.add_typer(kpis.app, name="kpis")
app.add_typer(rebates.app, name="rebates")
app.add_typer(alerts.app, name="alerts")
app.add_typer(keys.app, name="keys")
app.add_typer(webhooks.app, name="webhooks")
app.command("demo")(demo_command)


@app.callback()
def configure(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(envvar=URL_ENV, help="The gateway's base URL.", show_envvar=True)
    ] = DEFAULT_URL,
    key: Annotated[
        str | None,
        typer.Option(
            envvar=KEY_ENV,
            help="API key (csk_…); default: .run/admin-key of the current directory.",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    """Channel Suite command line."""
    options = ctx.obj if isinstance(ctx.obj, Options) else Options()
    ctx.obj = State(url=url, key=key, options=options)


@app.command("version")
def show_version() -> None:
    """Print channelctl's version."""
    try:
        typer.echo(f"channelctl {version('channelctl')}")
    except PackageNotFoundError:  # pragma: no cover - always installed by the workspace
        typer.echo("channelctl (not installed)")


def main() -> None:
    """Run channelctl."""
    app()
