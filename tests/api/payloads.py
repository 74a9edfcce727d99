"""Request bodies in the contract's shape."""

from __future__ import annotations

from typing import Any


def comment(comment_id: str = "c-1", text: str = "Good reporting, thanks.",
            tags: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": comment_id,
        "article": {"id": "roadworks-2026", "title": "Roadworks on the high street",
                    "url": "https://news.example/roadworks", "tags": tags or []},
        "author": {"id": "u-77", "name": "Sue1964"},
        "text": text,
        "parent_id": None,
        "created_at": "2026-11-24T18:03:00Z",
    }
    body.update(overrides)
    return body
