"""Agents and roles: who may act on this desk, and as what."""

from __future__ import annotations

import re
from typing import Any

from supportdesk.desk.context import DeskContext
from supportdesk.errors import NotFoundError, SupportDeskError
from supportdesk.store import agents, claims
from supportdesk.store.agents import AgentRecord
from supportdesk.store.events import add_event
from supportdesk.templating.files import check_language

AGENT_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def unknown_agent(login: str) -> str:
    """The one line for a login that is not an agent of this desk, and what to do."""
    return (
        f"unknown agent {login!r}: an admin adds it with "
        f"`supportdesk agents add {login} --name NAME`, or choose another with --agent"
    )


def known_agent(conn: Any, login: str | None) -> None:
    """NotFoundError (with what to do) unless `login` is None or an agent of this desk."""
    if login is not None and agents.get_agent(conn, login) is None:
        raise NotFoundError(unknown_agent(login))


MAX_LINE = 9
"""Lines go 1 (first line) … 9, as a rule's line does."""


def _check_line(line: int) -> None:
    if not 1 <= line <= MAX_LINE:
        raise SupportDeskError(f"invalid line {line}: lines are 1 (first line) to {MAX_LINE}")


class AgentService:
    """Adding, enabling and listing agents; the agent a command or console acts as."""

    def __init__(self, ctx: DeskContext) -> None:
        self.ctx = ctx

    def ensure_agent(
        self, login: str, name: str = "", email: str = "", role: str = "agent"
    ) -> bool:
        """Create the agent if missing; True when created."""
        with self.ctx.db.write() as conn:
            if agents.get_agent(conn, login) is not None:
                return False
            return agents.add_agent(conn, login, name or login, email, role, self.ctx.now())

    def first_admin(self, login: str, name: str = "") -> bool:
        """`supportdesk init`'s bootstrap: on a desk with no agents yet, `login` becomes the
        first agent, an admin. True when created; False when the desk has agents (then only
        an admin adds more)."""
        with self.ctx.db.write() as conn:
            if agents.list_agents(conn):
                return False
            return agents.add_agent(conn, login, name or login, "", "admin", self.ctx.now())

    def add_agent(
        self,
        login: str,
        name: str = "",
        email: str = "",
        role: str = "agent",
        languages: list[str] | None = None,
        line: int = 1,
    ) -> AgentRecord:
        """A new agent; refused when the login exists or a value is not valid."""
        _check_line(line)
        login = login.strip()
        if not AGENT_LOGIN.fullmatch(login):
            raise SupportDeskError(
                f"invalid login {login!r}: letters, digits, '.', '_' or '-', up to 64"
            )
        if role not in agents.ROLES:
            raise SupportDeskError(f"unknown role {role!r}: use one of {', '.join(agents.ROLES)}")
        checked = [check_language(x.strip()) for x in languages or [] if x.strip()]
        if email and not EMAIL.fullmatch(email):
            raise SupportDeskError(f"invalid email address {email!r}")
        with self.ctx.db.write() as conn:
            now = self.ctx.now()
            if not agents.add_agent(conn, login, name or login, email, role, now, checked, line):
                raise SupportDeskError(f"agent {login!r} exists")
            found = agents.get_agent(conn, login)
            assert found is not None
            return found

    def set_agent_active(self, login: str, active: bool) -> int:
        """Enable or disable an agent; disabling drops their claims so others can take the
        requests, and gives the requests assigned to them (not closed) back to the line.
        Returns how many claims were dropped."""
        from supportdesk.desk.owners import OwnerService

        now = self.ctx.now()
        with self.ctx.db.write() as conn:
            if not agents.set_active(conn, login, active):
                raise NotFoundError(f"no agent {login!r}")
            dropped = 0
            if not active:
                for number in sorted(claims.held_by(conn, login, now)):
                    dropped += claims.release(conn, number, login)
                    add_event(conn, number, now, "release", actor=login, reason="disabled")
                OwnerService.give_back(conn, login, now)
            return dropped

    def set_agent_line(self, login: str, line: int) -> AgentRecord:
        """The line an agent works (their stack in the console, what `n` takes)."""
        _check_line(line)
        with self.ctx.db.write() as conn:
            if not agents.set_line(conn, login, line):
                raise NotFoundError(f"no agent {login!r}")
            found = agents.get_agent(conn, login)
            assert found is not None
            return found

    def set_details(
        self,
        login: str,
        *,
        name: str | None = None,
        email: str | None = None,
        signature: str | None = None,
        language: str = "",
    ) -> AgentRecord:
        """Change an agent's display name (replies' From name, {{ agent.name }}), own address,
        and/or signature for `language` ("" = any; {{ agent.signature }})."""
        from supportdesk.store import signatures

        if name is not None and not name.strip():
            raise SupportDeskError("the name is empty")
        if email is not None and email and not EMAIL.fullmatch(email.strip()):
            raise SupportDeskError(f"invalid email address {email!r}")
        language = check_language(language.strip()) if language.strip() else ""
        with self.ctx.db.write() as conn:
            if not agents.set_identity(
                conn,
                login,
                name.strip() if name is not None else None,
                email.strip() if email is not None else None,
            ):
                raise NotFoundError(f"no agent {login!r}")
            if signature is not None:
                text = signature.replace("\r\n", "\n").strip("\n")
                signatures.set_signature(conn, login, language, text, self.ctx.now())
            found = agents.get_agent(conn, login)
            assert found is not None
            return found

    def signatures(self, login: str) -> dict[str, str]:
        """`login`'s signatures by language ("" = any)."""
        from supportdesk.store import signatures

        with self.ctx.db.read() as conn:
            if agents.get_agent(conn, login) is None:
                raise NotFoundError(f"no agent {login!r}")
            return signatures.signatures(conn, login)

    def set_training(self, login: str, trainee: bool, mentor: str | None = None) -> AgentRecord:
        """Make `login` a trainee whose answers wait for `mentor` (None: any admin), or
        graduate them (`trainee` False: the mentor is forgotten). The mentor must be an
        enabled agent who is not a trainee, and not the trainee."""
        with self.ctx.db.write() as conn:
            if agents.get_agent(conn, login) is None:
                raise NotFoundError(f"no agent {login!r}")
            if trainee and mentor is not None:
                found = agents.get_agent(conn, mentor)
                if found is None:
                    raise NotFoundError(unknown_agent(mentor))
                if mentor == login or found.trainee or not found.active:
                    raise SupportDeskError(
                        f"{mentor!r} cannot mentor {login!r}: a mentor is another enabled "
                        "agent who is not a trainee"
                    )
            agents.set_training(conn, login, trainee, mentor if trainee else None)
            changed = agents.get_agent(conn, login)
            assert changed is not None
            return changed

    def agent_line(self, login: str) -> int:
        """The agent's line; 1 for a login that is not in the agents table."""
        with self.ctx.db.read() as conn:
            found = agents.get_agent(conn, login)
        return found.line if found else 1

    def acting_agent(self, login: str, *, admin: str | None = None) -> AgentRecord:
        """The agent a command acts as: one that exists and is enabled, else a one-line error
        saying what to do. With `admin` (what is being done, e.g. "agents add"), it must also
        be an admin. The identity itself is the operating system's user (`desk.agent`,
        `--agent` or $USER): this guards against mistakes and ghosts, not against a user who
        can edit config.toml or the database (see the README on PostgreSQL roles)."""
        with self.ctx.db.read() as conn:
            found = agents.get_agent(conn, login)
        if found is None:
            raise NotFoundError(unknown_agent(login))
        if not found.active:
            raise SupportDeskError(
                f"agent {login!r} is disabled (an admin enables it again with "
                f"`supportdesk agents enable {login}`)"
            )
        if admin is not None and found.role != "admin":
            raise SupportDeskError(
                f"{admin} needs an admin, and {login!r} is not one "
                "(an admin runs it, e.g. with --agent ADMIN)"
            )
        return found

    def template_manager(self, login: str, owner: str | None, action: str) -> AgentRecord:
        """The agent `login` adding, importing or removing templates: their own personal ones
        as any agent; the team's (`owner` None) or another agent's only as an admin."""
        if owner is None:
            return self.acting_agent(login, admin=f"{action} team templates")
        if owner != login:
            found = self.acting_agent(login, admin=f"{action} another agent's templates")
            with self.ctx.db.read() as conn:
                known_agent(conn, owner)
            return found
        return self.acting_agent(login)

    def console_agent(self, login: str) -> AgentRecord:
        """The agent a console opens for; a clear error when unknown or disabled."""
        return self.acting_agent(login)

    def agents(self) -> list[AgentRecord]:
        with self.ctx.db.read() as conn:
            return agents.list_agents(conn)
