"""Backend commands on Flask's CLI (``app.cli``), so ``nrm``/``flask`` run them with the app loaded.

``db upgrade`` migrates the app's own database; ``user add|token|tokens|revoke-tokens|password|
deactivate|role`` and ``responder add|remove`` administer people (revoke-tokens, password and
deactivate end the user's sessions and tokens at once); ``demo`` seeds the fixed demo logins
(development only, idempotent). Every administrative change is audited (``backend.access_audit``):
who ran it (the server account), what, when; ids and roles only, never emails or phone numbers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import db
from backend.access_audit import administration, user_actor
from backend.auth import (create_user, deactivate, end_access, generate_password, issue_token,
                          normalise_email, set_password)
from backend.models import ROLES, ApiToken, Responder, User

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
ORGANISATIONS_LIST = "first-responder-organisations"

REFERRING_ROLES = ("responder", "operator")

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = (
    ("caseworker@example.org", "caseworker", None),
    ("panel@example.org", "panel", None),
    ("analyst@example.org", "analyst", None),
    ("admin@example.org", "admin", None),
    ("operator@example.org", "operator", "Unseen"),
)
"""Fixed demo accounts (password ``DEMO_PASSWORD``); seeded only when NRM_ENV=development."""
DEMO_RESPONDER = ("+447700900123", "The Salvation Army", "Demo Responder")

db_cli = AppGroup("db", help="Database schema.")
user_cli = AppGroup("user", help="Staff and operator accounts.")
responder_cli = AppGroup("responder", help="Registered first-responder SMS numbers.")
keys_cli = AppGroup("keys", help="Field encryption keys (FIELD_ENCRYPTION_KEY).")


# --- helpers shared with other code ---------------------------------------------------------

def alembic_config(url: str | None = None):  # -> alembic.config.Config
    """An Alembic config for the migrations shipped inside the backend package."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def upgrade_database(app: Flask, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` on the app's database (its own engine)."""
    from alembic import command

    engine = db.get_db(app).engine
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def organisations() -> tuple[str, ...]:
    """The designated first-responder organisations (flows' reference list)."""
    try:
        from flows.lookups import entries
    except ImportError:
        entries = None
    if entries is not None:
        return entries(ORGANISATIONS_LIST)
    path = Path(__file__).resolve().parent.parent / "flows" / "data" / f"{ORGANISATIONS_LIST}.txt"
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


def find_organisation(name: str) -> str | None:
    """The list entry matching ``name`` exactly (ignoring case and spacing), else None."""
    wanted = " ".join(name.split()).casefold()
    for entry in organisations():
        if " ".join(entry.split()).casefold() == wanted:
            return entry
    return None


def canonical_organisation(name: str) -> str:
    """The list entry matching ``name`` exactly (ignoring case and surrounding spaces)."""
    entry = find_organisation(name)
    if entry is not None:
        return entry
    raise click.BadParameter(
        f"{name!r} is not a designated first-responder organisation "
        f"(see flows/data/{ORGANISATIONS_LIST}.txt)", param_hint="--org")


FICTIONAL_GB_MOBILES = range(447700900000, 447700901000)
"""Ofcom's drama range 07700 900000-900999: never a real line, so phonenumbers calls it invalid."""


def normalise_phone(text: str, allow_fictional: bool = False) -> str:
    """E.164 for a valid number (GB when no country code); ValueError otherwise."""
    import phonenumbers  # imported by the commands that need it, not at every start

    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {text!r}") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        return e164
    if allow_fictional and int(e164[1:]) in FICTIONAL_GB_MOBILES:
        return e164
    raise ValueError(f"not a valid phone number: {text!r}")


# --- commands -----------------------------------------------------------------------------------

@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
def db_upgrade(revision: str) -> None:
    """Migrate the database (DATABASE_URL) to the latest schema."""
    upgrade_database(current_app, revision)
    click.echo(f"database upgraded to {revision}")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt all personal data under the first FIELD_ENCRYPTION_KEY (then drop old keys)."""
    from backend.crypto import rotate_all

    with db.get_db().transaction() as db_session:
        count = rotate_all(db_session)
        administration(db_session, "keys.rotated", values=count)
    click.echo(f"re-encrypted {count} stored value(s) under the current key")


@user_cli.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--organisation", default=None,
              help="Required for responders; for responders and operators it must be on the list.")
def user_add(email: str, role: str, organisation: str | None) -> None:
    """Create a user; prints the generated password and an API token (shown once)."""
    if role == "responder" and organisation is None:
        raise click.BadParameter("a responder needs --organisation", param_hint="--organisation")
    if organisation is not None and role in REFERRING_ROLES:
        organisation = canonical_organisation(organisation)  # it prefills user-organisation
    password = generate_password()
    with db.get_db().transaction() as db_session:
        try:
            user = create_user(db_session, email, role, password, organisation)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        token, row = issue_token(db_session, user)
        administration(db_session, "user.added", user=user_actor(user), role=role)
        administration(db_session, "token.issued", user=user_actor(user))
    click.echo(f"user: {normalise_email(email)} ({role})")
    click.echo(f"password: {password}")
    _echo_token(token, row)


def _echo_token(secret: str, row: ApiToken) -> None:
    click.echo(f"token: {secret}")
    click.echo(f"expires: {_when(row.expires_at)}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "never"


def _user(db_session: Session, email: str) -> User:
    user = db_session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no user {normalise_email(email)}")
    return user


@user_cli.command("token")
@click.argument("email")
def user_token(email: str) -> None:
    """Issue another API token for a user (prints it once, and its expiry; earlier tokens keep
    working until they expire)."""
    with db.get_db().transaction() as db_session:
        user = _user(db_session, email)
        token, row = issue_token(db_session, user)
        administration(db_session, "token.issued", user=user_actor(user))
    _echo_token(token, row)


@user_cli.command("tokens")
@click.argument("email")
def user_tokens(email: str) -> None:
    """List a user's API tokens: issued, expires, last used, revoked (never the secrets)."""
    with db.get_db().transaction(readonly=True) as db_session:
        rows = db_session.scalars(select(ApiToken).where(ApiToken.user_id == _user(db_session, email).id)
                                  .order_by(ApiToken.id)).all()
        lines = [f"{row.id:>6}  {_when(row.created_at):<20}  {_when(row.expires_at):<20}  "
                 f"{_when(row.last_used_at):<20}  {_when(row.revoked_at) if row.revoked_at else '-'}"
                 for row in rows]
    if not lines:
        click.echo(f"no tokens for {normalise_email(email)}")
        return
    click.echo(f"{'id':>6}  {'issued':<20}  {'expires':<20}  {'last used':<20}  revoked")
    for line in lines:
        click.echo(line)


@user_cli.command("revoke-tokens")
@click.argument("email")
def user_revoke_tokens(email: str) -> None:
    """Revoke every API token of a user and end every session at once (a lost phone or laptop,
    someone leaving)."""
    with db.get_db().transaction() as db_session:
        user = _user(db_session, email)
        tokens, sessions = end_access(db_session, user)
        administration(db_session, "tokens.revoked", user=user_actor(user), count=tokens, sessions_ended=sessions)
    click.echo(f"revoked {tokens} token(s) and ended {sessions} session(s) of {normalise_email(email)}")


@user_cli.command("password")
@click.argument("email")
def user_password(email: str) -> None:
    """Give a user a new generated password (printed once); ends their sessions and tokens."""
    password = generate_password()
    with db.get_db().transaction() as db_session:
        user = _user(db_session, email)
        set_password(db_session, user, password)
        administration(db_session, "user.password_reset", user=user_actor(user))
    click.echo(f"password: {password}")
    click.echo("every session and API token of this user has ended")


@user_cli.command("deactivate")
@click.argument("email")
def user_deactivate(email: str) -> None:
    """Stop a user signing in or using the API; ends their sessions and tokens now."""
    with db.get_db().transaction() as db_session:
        user = _user(db_session, email)
        tokens, sessions = deactivate(db_session, user)
        administration(db_session, "user.deactivated", user=user_actor(user), tokens_revoked=tokens,
                       sessions_ended=sessions)
    click.echo(f"deactivated {normalise_email(email)}: revoked {tokens} token(s), "
               f"ended {sessions} session(s)")


@user_cli.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def user_role(email: str, role: str) -> None:
    """Give a user another role (roles are exclusive: the old one is gone)."""
    with db.get_db().transaction() as db_session:
        user = _user(db_session, email)
        previous, user.role = user.role, role
        administration(db_session, "user.role_changed", user=user_actor(user), previous=previous, role=role)
    click.echo(f"{normalise_email(email)}: {previous} -> {role}")


def _phone_argument(phone: str) -> str:
    """The PHONE argument in E.164 (Ofcom's drama numbers allowed outside production)."""
    try:
        return normalise_phone(phone, allow_fictional=current_app.config.get("NRM_ENV") != "production")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from None


@responder_cli.command("add")
@click.argument("phone")
@click.option("--org", "organisation", required=True, help="Designated first-responder organisation.")
@click.option("--name", default=None)
@click.option("--email", default=None)
def responder_add(phone: str, organisation: str, name: str | None, email: str | None) -> None:
    """Register a first responder's SMS number (so texts from it may make referrals)."""
    phone_e164 = _phone_argument(phone)
    organisation = canonical_organisation(organisation)
    if email is not None:
        from email_validator import EmailNotValidError, validate_email

        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise click.BadParameter(str(exc), param_hint="--email") from None
    with db.get_db().transaction() as db_session:
        if db_session.scalar(select(Responder.id).where(Responder.phone_e164 == phone_e164)):
            raise click.ClickException(f"{phone_e164} is already registered")
        responder = Responder(phone_e164=phone_e164, organisation=organisation,
                              name=(name or "").strip() or None, email=email)
        db_session.add(responder)
        db_session.flush()
        administration(db_session, "responder.added", responder=f"responder:{responder.id}",
                       organisation=organisation)
    click.echo(f"responder: {phone_e164} ({organisation})")


@responder_cli.command("remove")
@click.argument("phone")
def responder_remove(phone: str) -> None:
    """Unregister a first responder's SMS number (texts from it no longer make referrals)."""
    phone_e164 = _phone_argument(phone)
    with db.get_db().transaction() as db_session:
        responder = db_session.scalar(select(Responder).where(Responder.phone_e164 == phone_e164))
        if responder is None:
            raise click.ClickException(f"{phone_e164} is not registered")
        administration(db_session, "responder.removed", responder=f"responder:{responder.id}",
                       organisation=responder.organisation)
        db_session.delete(responder)
    click.echo(f"removed responder {phone_e164}")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Seed the demo users and responder (development only; safe to run again)."""
    if current_app.config.get("NRM_ENV") != "development":
        raise click.ClickException("demo data is only seeded when NRM_ENV=development")
    with db.get_db().transaction() as db_session:
        for email, role, organisation in DEMO_USERS:
            if db_session.scalar(select(User.id).where(User.email == email)) is None:
                create_user(db_session, email, role, DEMO_PASSWORD, organisation)
        phone, organisation, name = DEMO_RESPONDER
        if db_session.scalar(select(Responder.id).where(Responder.phone_e164 == phone)) is None:
            db_session.add(Responder(phone_e164=phone, organisation=organisation, name=name))
    click.echo(f"demo logins (password: {DEMO_PASSWORD}):")
    for email, role, _organisation in DEMO_USERS:
        click.echo(f"  {role:<10} {email}")
    click.echo(f"demo responder SMS number: {DEMO_RESPONDER[0]} ({DEMO_RESPONDER[1]})")


def register(app: Flask) -> None:
    """Add the backend commands to ``app.cli`` (idempotent)."""
    for command in (db_cli, user_cli, responder_cli, keys_cli, demo):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
