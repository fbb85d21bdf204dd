"""输入上限 — the most any caller may send, in one place.

Every text a person types is bounded here before it reaches Temporal, so a case's state, each
update and the ``view`` query stay far below Temporal's limits (2 MB per payload, 4 MB per gRPC
message) whatever a caller sends. Control characters (NUL included, which PostgreSQL cannot
store) are refused; line breaks and tabs are kept.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

NOTE_MAX = 1000  # 备注、理由、核查意见、评价留言
RESULT_MAX = 4000  # 办理结果、诉求内容
PROGRESS_MAX = 2000  # 进展说明
NAME_MAX = 40
ADDRESS_MAX = 200
CODE_MAX = 40  # unit, grid, category and case codes
PHOTO_REF_MAX = 500  # a reference (URL or stored file key), never the photo itself
PHOTOS_MAX = 9
CO_UNITS_MAX = 10
PAGE_MAX = 10_000  # list pages: deeper than this is a search, not paging
TIMELINE_VIEW_MAX = 200  # entries the live view returns; the projection keeps every one

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"


def printable(text: str) -> str:
    """The text itself, or ValueError if it holds a control character."""
    if _CONTROL.search(text):
        raise ValueError("不能包含控制字符")
    return text


def text(max_length: int, min_length: int = 0) -> type[str]:
    """A string of at most ``max_length`` characters without control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(printable)]  # type: ignore[return-value]


Note = text(NOTE_MAX)
Reason = text(NOTE_MAX, min_length=2)
Code = Annotated[str, Field(min_length=1, max_length=CODE_MAX, pattern=CODE_PATTERN)]


def reference(ref: str) -> str:
    """A photo reference, refused when it is the photo itself (a ``data:`` URI)."""
    if ref.strip().lower().startswith("data:"):
        raise ValueError("照片须先上传，这里只填引用（URL 或存储键），不能内嵌图片数据")
    return printable(ref)


PhotoRef = Annotated[str, Field(min_length=1, max_length=PHOTO_REF_MAX), AfterValidator(reference)]
Photos = Annotated[list[PhotoRef], Field(max_length=PHOTOS_MAX)]
CoUnits = Annotated[list[Code], Field(max_length=CO_UNITS_MAX)]
