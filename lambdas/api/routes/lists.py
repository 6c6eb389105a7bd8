"""Lists: their versions, entries (search, paging), additions (JSON or a CSV upload up to
1 MiB) and removals; an addition to a list an active suppress rule reads waits for a
rule-admin (lambdas/api/rulebook.py)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from ..models import (
    NAME,
    Change,
    EntriesRemoval,
    EntriesUpload,
    EntryOut,
    EntryPage,
    ListPage,
    ListSummary,
    NewList,
)
from ..rulebook import entry_json
from .errors import CHANGES, NOT_FOUND, UNAUTHORISED, VALIDATION, created, ok
from .rules import principal, rulebook

router = Router()  # type: ignore[no-untyped-call]

ListName = Annotated[str, Path(pattern=NAME, description="The list's name")]


@router.get(
    "/lists",
    summary="Every list: kind, current version, entries, whether it silences alerts",
    responses={**ok("The lists.", ListPage), **UNAUTHORISED, **NOT_FOUND},
    tags=["lists"],
)
def get_lists() -> ListPage:
    items = [
        ListSummary(
            name=info.name,
            kind=info.kind,  # type: ignore[arg-type]
            version=info.version,
            entries=info.entries,
            suppressing=suppressing,
        )
        for info, suppressing in rulebook().lists()
    ]
    return ListPage(items=items)


@router.post(
    "/lists",
    summary="Create a list (an empty first version)",
    responses={**created("The list.", ListSummary), **CHANGES},
    tags=["lists"],
)
def create_list(body: Annotated[NewList, Body()]) -> Response[str]:
    info = rulebook().create_list(body.name, body.kind, principal())
    summary = ListSummary(
        name=info.name, kind=body.kind, version=info.version, entries=0, suppressing=False
    )
    return Response(
        status_code=201, content_type=content_types.APPLICATION_JSON, body=summary.model_dump_json()
    )


@router.get(
    "/lists/<name>/entries",
    summary="A list's entries in value order; `q` a prefix of the value",
    responses={**ok("A page of entries.", EntryPage), **UNAUTHORISED, **NOT_FOUND, **VALIDATION},
    tags=["lists"],
)
def get_entries(
    name: ListName,
    q: Annotated[str, Query(max_length=128)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="cursor")] = None,
) -> EntryPage:
    entries, next_cursor, total = rulebook().entries(name, q, limit, cursor)
    items = [EntryOut.model_validate(entry_json(entry)) for entry in entries]
    return EntryPage(items=items, cursor=next_cursor, total=total)


@router.post(
    "/lists/<name>/entries",
    summary="Add entries (JSON, or a CSV upload up to 1 MiB): applied, or pending approval "
    "when an active suppress rule reads the list",
    responses={**created("The change.", Change), **CHANGES},
    tags=["lists"],
)
def add_entries(name: ListName, body: Annotated[EntriesUpload, Body()]) -> Response[str]:
    rows = (
        [(e.value, e.reason, e.expires_at or "") for e in body.entries]
        if body.entries is not None
        else None
    )
    change = rulebook().add_entries(name, rows, body.csv, body.reason, principal())
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=Change.model_validate(change).model_dump_json(),
    )


@router.delete(
    "/lists/<name>/entries",
    summary="Remove entries (never needs approval)",
    responses={**ok("The change, applied.", Change), **CHANGES},
    tags=["lists"],
)
def remove_entries(name: ListName, body: Annotated[EntriesRemoval, Body()]) -> Change:
    change = rulebook().remove_entries(name, body.values, body.reason, principal())
    return Change.model_validate(change)
