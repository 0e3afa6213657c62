"""Request dependencies: the database session, the clock, and the bearer token with its role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from hotline.storage import staff
from hotline.storage.db import Database
from hotline.storage.models import ApiToken

bearer = HTTPBearer(auto_error=False)


def get_database(request: Request) -> Database:
    """Return the app's database."""
    return request.app.state.database  # type: ignore[no-any-return]


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """Open a session for one request."""
    with database.session() as session:
        yield session


def get_clock(request: Request) -> Callable[[], datetime]:
    """Return the app's clock."""
    return request.app.state.clock  # type: ignore[no-any-return]


DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]


def current_token(
    database: DatabaseDep, clock: ClockDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> ApiToken:
    """Authenticate the bearer token and note its use in a transaction of its own (kept even if the request fails)."""
    with database.session() as session:
        token = staff.find_token(session, token=credentials.credentials) if credentials else None
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "invalid or missing token", {"WWW-Authenticate": "Bearer"}
            )
        token.last_used_at = clock()
        session.add(token)
    return token


CurrentToken = Annotated[ApiToken, Depends(current_token)]


def require_coordinator(token: CurrentToken) -> ApiToken:
    """Allow coordinators only."""
    if token.role != "coordinator":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "coordinators only")
    return token


Coordinator = Annotated[ApiToken, Depends(require_coordinator)]
