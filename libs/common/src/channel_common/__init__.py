"""Channel Suite infrastructure shared by every service: no business concept lives here."""

from ._app import BackgroundTask, Subscription, create_service_app
from ._auth import (
    SCOPES,
    JWTVerifier,
    Principal,
    bound_partner_filter,
    ensure_partner_visible,
    issue_token,
    require_scopes,
)
from ._bus import STREAMS, ConsumerSpec, EventBus
from ._clock import CLOCK_ENV, pinned_clock, today
from ._concurrency import check_if_match, content_etag, etag_for
from ._consumer import EventHandler, claim_event
from ._db import (
    SQLModelSession,
    UTCDateTime,
    create_engine,
    create_sessionmaker,
    database_unavailable,
    utcnow,
)
from ._errors import (
    PROBLEM_CONTENT_TYPE,
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    Problem,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    ValidationFailedError,
    install_error_handlers,
    problem_response,
    problem_responses,
)
from ._events import ReceivedEvent, build_headers, encode_data
from ._housekeeping import Retention, prune
from ._idempotency import (
    IdempotencyClaim,
    claim_key,
    complete_claim,
    release_claim,
    request_hash,
)
from ._logging import parse_traceparent
from ._outbox import OutboxRelay, add_event, mark_outbox_pending
from ._pagination import MAX_PAGE_SIZE, Page, PageParams, decode_cursor, encode_cursor
from ._routing import (
    IDEMPOTENCY_HEADER,
    ServiceRoute,
    SessionDep,
    check_key_length,
    current_session,
    principal_key,
)
from ._settings import BaseServiceSettings
from ._tables import DeadLetter, IdempotencyRecord, InboxEntry, OutboxMessage
from ._types import ExactBool, ExactInt, InputModel, IsoDate, IsoDateTime

__all__ = [
    "CLOCK_ENV",
    "IDEMPOTENCY_HEADER",
    "MAX_PAGE_SIZE",
    "PROBLEM_CONTENT_TYPE",
    "SCOPES",
    "STREAMS",
    "BackgroundTask",
    "BaseServiceSettings",
    "ConflictError",
    "ConsumerSpec",
    "DeadLetter",
    "DomainError",
    "EventBus",
    "EventHandler",
    "ExactBool",
    "ExactInt",
    "ForbiddenError",
    "IdempotencyClaim",
    "IdempotencyRecord",
    "InboxEntry",
    "InputModel",
    "IsoDate",
    "IsoDateTime",
    "JWTVerifier",
    "NotFoundError",
    "OutboxMessage",
    "OutboxRelay",
    "Page",
    "PageParams",
    "PreconditionFailedError",
    "Principal",
    "Problem",
    "RateLimitedError",
    "ReceivedEvent",
    "Retention",
    "SQLModelSession",
    "ServiceRoute",
    "ServiceUnavailableError",
    "SessionDep",
    "Subscription",
    "UTCDateTime",
    "UnauthorizedError",
    "ValidationFailedError",
    "add_event",
    "bound_partner_filter",
    "build_headers",
    "check_if_match",
    "check_key_length",
    "claim_event",
    "claim_key",
    "complete_claim",
    "content_etag",
    "create_engine",
    "create_service_app",
    "create_sessionmaker",
    "current_session",
    "database_unavailable",
    "decode_cursor",
    "encode_cursor",
    "encode_data",
    "ensure_partner_visible",
    "etag_for",
    "install_error_handlers",
    "issue_token",
    "mark_outbox_pending",
    "parse_traceparent",
    "pinned_clock",
    "principal_key",
    "problem_response",
    "problem_responses",
    "prune",
    "release_claim",
    "request_hash",
    "require_scopes",
    "today",
    "utcnow",
]
