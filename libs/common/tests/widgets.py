"""A tiny service built on channel_common, used to test the infrastructure end to end."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from channel_common import (
    BaseServiceSettings,
    ConflictError,
    NotFoundError,
    Page,
    PageParams,
    Principal,
    ReceivedEvent,
    ServiceRoute,
    SessionDep,
    SQLModelSession,
    Subscription,
    add_event,
    check_if_match,
    create_service_app,
    cursor_str,
    decode_keyset,
    etag_for,
    keyset_page,
    problem_responses,
    require_scopes,
)
from fastapi import APIRouter, Depends, FastAPI, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel, select

SOURCE = "urn:channel-suite:widgets-test"
WIDGET_CREATED = "partner.widget.created.v1"
WIDGET_ECHOED = "partner.widget.echoed.v1"


class Widget(SQLModel, table=True):
    __tablename__ = "test_widgets"

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    name: str = SQLField(max_length=100, unique=True)
    version: int = 1


class Tally(SQLModel, table=True):
    """What the test consumer applied: one row per widget name seen."""

    __tablename__ = "test_tally"

    name: str = SQLField(primary_key=True)
    count: int = 0


class WidgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class WidgetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class WidgetRead(BaseModel):
    id: uuid.UUID
    name: str
    version: int


router = APIRouter(prefix="/api/v1/widgets", tags=["widgets"], route_class=ServiceRoute)
Reader = Annotated[Principal, Depends(require_scopes("partners:read"))]
Writer = Annotated[Principal, Depends(require_scopes("partners:write"))]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(409))
async def create_widget(data: WidgetCreate, session: SessionDep, _: Writer) -> WidgetRead:
    """Create a widget and announce it."""
    if (await session.exec(select(Widget).where(Widget.name == data.name))).first():
        raise ConflictError(f"A widget named {data.name!r} exists.")
    widget = Widget(name=data.name)
    session.add(widget)
    add_event(
        session,
        event_type=WIDGET_CREATED,
        source=SOURCE,
        data={"id": str(widget.id), "name": widget.name},
    )
    if data.name == "explode-after-event":
        raise RuntimeError("boom after the event was written")
    await session.flush()
    return WidgetRead.model_validate(widget, from_attributes=True)


@router.get("", responses=problem_responses(422))
async def list_widgets(
    session: SessionDep, _: Reader, page: Annotated[PageParams, Depends()]
) -> Page[WidgetRead]:
    """List widgets by name."""
    query = select(Widget).order_by(Widget.name).limit(page.fetch_limit)
    keyset = decode_keyset(page.cursor, cursor_str)
    if keyset is not None:
        query = query.where(Widget.name > keyset[0])
    rows = list((await session.exec(query)).all())
    return keyset_page(
        rows,
        limit=page.limit,
        key=lambda row: [row.name],
        item=lambda row: WidgetRead.model_validate(row, from_attributes=True),
    )


@router.get("/{widget_id}", responses=problem_responses(404))
async def get_widget(
    widget_id: uuid.UUID, session: SessionDep, _: Reader, response: Response
) -> WidgetRead:
    """One widget."""
    widget = await session.get(Widget, widget_id)
    if widget is None:
        raise NotFoundError("Widget not found.")
    response.headers["ETag"] = etag_for(widget.version)
    return WidgetRead.model_validate(widget, from_attributes=True)


@router.patch("/{widget_id}", responses=problem_responses(404, 412))
async def rename_widget(
    widget_id: uuid.UUID,
    data: WidgetUpdate,
    session: SessionDep,
    _: Writer,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> WidgetRead:
    """Rename a widget (honours If-Match)."""
    widget = await session.get(Widget, widget_id)
    if widget is None:
        raise NotFoundError("Widget not found.")
    check_if_match(if_match, version=widget.version)
    widget.name, widget.version = data.name, widget.version + 1
    response.headers["ETag"] = etag_for(widget.version)
    return WidgetRead.model_validate(widget, from_attributes=True)


SLOW_STARTED: list[str] = []  # names of 'slow…' events whose handling has begun


async def count_widget(session: SQLModelSession, event: ReceivedEvent) -> None:
    """Consumer: count each widget name seen; 'poison' always fails; 'slow…' takes a second;
    'echo…' writes an event of its own."""
    name = event.data["name"]
    if name == "poison":
        raise ValueError("poison event")
    if name.startswith("echo") and event.type == WIDGET_CREATED:
        add_event(session, event_type=WIDGET_ECHOED, source=SOURCE, data={"name": name})
    if name.startswith("slow"):
        SLOW_STARTED.append(name)
        await asyncio.sleep(1.0)
    tally = await session.get(Tally, name) or Tally(name=name)
    tally.count += 1
    session.add(tally)


class WidgetSettings(BaseServiceSettings):
    service_name: str = "widgets-test"


def create_widgets_app(settings: WidgetSettings) -> FastAPI:
    """The widgets app with a consumer of its own events."""
    return create_service_app(
        settings,
        title="widgets",
        description="test app",
        routers=[router],
        subscriptions=[
            Subscription(
                durable="widgets-tally",
                stream="PARTNER",
                subjects=("partner.widget.>",),
                handler=count_widget,
            )
        ],
    )
