"""The channelctl entry point."""

import typer

app = typer.Typer(help="Channel Suite command line: talks to the gateway.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print channelctl's version."""
    typer.echo("channelctl 0.1.0")


def main() -> None:
    app()
