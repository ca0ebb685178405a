"""``dienynas accounts …``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from accounts import services
from dienynas.clitools import committing
from dienynas.extensions import db
from tenants.services import get_school

accounts_cli = click.Group("accounts", help="Accounts and the roles they hold in schools.")


@accounts_cli.command("create")
@click.option("--login", required=True)
@click.option("--name", required=True)
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--locale", default=None, help="Preferred language: lt, ru, pl, en.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_account(
    login: str,
    name: str,
    email: str | None,
    phone: str | None,
    locale: str | None,
    password_stdin: bool,
) -> None:
    """Create an account. Without --password-stdin a one-time password is printed once."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with committing():
        account, one_time = services.create_account(
            db.session,
            login=login,
            name=name,
            email=email,
            phone=phone,
            locale=locale,
            password=password,
        )
    click.echo(f"created {account.login}")
    if one_time:
        click.echo(f"one-time password (shown once, must be changed at first login): {one_time}")


@accounts_cli.command("reset-password")
@click.option("--login", required=True)
@with_appcontext
def reset_password(login: str) -> None:
    """Give the account a new one-time password (printed once; changed at the next login).
    For accounts a school may not reset: operators and people with roles in several schools."""
    with committing():
        one_time = services.issue_one_time_password(services.get_account(db.session, login))
    click.echo(f"one-time password (shown once, must be changed at first login): {one_time}")


@accounts_cli.command("grant")
@click.option("--login", required=True)
@click.option("--school", "slug", required=True)
@click.option("--role", required=True)
@with_appcontext
def grant(login: str, slug: str, role: str) -> None:
    """Grant a role in a school."""
    with committing():
        parsed = services.parse_role(role)
        account = services.get_account(db.session, login)
        school = get_school(db.session, slug)
        services.grant_role(db.session, account, school, parsed)
    click.echo(f"{login}: {role} in {slug}")


@accounts_cli.command("grant-operator")
@click.option("--login", required=True)
@with_appcontext
def grant_operator(login: str) -> None:
    """Make the account a municipality operator."""
    with committing():
        services.grant_operator(db.session, services.get_account(db.session, login))
    click.echo(f"{login}: municipality operator")
